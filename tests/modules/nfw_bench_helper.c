// SPDX-License-Identifier: GPL-2.0
/* nfw_bench's C: only the helpers shared with nfw_stallgen. */
#include "common/helpers.c"
