// SPDX-License-Identifier: GPL-2.0
/* WARN() is a macro: the Rust part of nfw_test_warn calls it through here. */
#include <linux/bug.h>

void nfw_test_warn_trigger(void);

void nfw_test_warn_trigger(void)
{
	WARN(1, "nfw_test_warn: deliberate warning (harness self-test)\n");
}
