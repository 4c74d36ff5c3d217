// SPDX-License-Identifier: GPL-2.0
/* The module's trace events (nfw_trace.h) and the helpers Rust calls them through. */
#include <linux/string.h>
#include "helpers.h"

#define CREATE_TRACE_POINTS
#include "nfw_trace.h"

bool nfw_trace_on(unsigned int event)
{
	switch (event) {
	case NFW_TRACE_STALL_BEGIN:
		return trace_stall_begin_enabled();
	case NFW_TRACE_STALL_REPORT:
		return trace_stall_report_enabled();
	case NFW_TRACE_BACKOFF_SLEEP:
		return trace_backoff_sleep_enabled();
	case NFW_TRACE_OOM_TRIGGER:
		return trace_oom_trigger_enabled();
	case NFW_TRACE_STALL_END:
		return trace_stall_end_enabled();
	case NFW_TRACE_UEVENT:
		return trace_uevent_enabled();
	}
	return false;
}

void nfw_trace(unsigned int event, const struct nfw_trace_stall *s, unsigned int arg)
{
	switch (event) {
	case NFW_TRACE_STALL_BEGIN:
		trace_stall_begin(s, arg);
		break;
	case NFW_TRACE_STALL_REPORT:
		trace_stall_report(s);
		break;
	case NFW_TRACE_BACKOFF_SLEEP:
		trace_backoff_sleep(s, arg);
		break;
	case NFW_TRACE_OOM_TRIGGER:
		trace_oom_trigger(s);
		break;
	case NFW_TRACE_STALL_END:
		trace_stall_end(s);
		break;
	}
}

void nfw_trace_uevent(u64 seq, unsigned int kind, int pid)
{
	trace_uevent(seq, kind, pid);
}
