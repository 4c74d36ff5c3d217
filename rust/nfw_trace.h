/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's trace events, /sys/kernel/tracing/events/nofail_watchdog/.
 * Defined in C because TRACE_EVENT() is a macro Rust cannot reach (the 6.12
 * kernel crate has no tracepoint support); rust/trace.c instantiates them and
 * the Rust side calls them through nfw_trace_on()/nfw_trace() (helpers.h).
 *
 * Every event describes one stall: the stuck task (pid, comm, which need not
 * be the task that emits the event: the watchdog thread emits reports and
 * the ends of lingering stalls), the allocation (gfp, order, kind), how long
 * the stall has lasted (duration_ms, since its task entered the slow path, or
 * since the module began following it for an adopted one), and its retry
 * rounds and back-off sleeps so far.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nofail_watchdog

#if !defined(_NFW_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _NFW_TRACE_H

#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>
#include "helpers.h"

/* The fields every event has, and how they are filled and printed. */
#define NFW_STALL_FIELDS						\
	__field(int, pid)						\
	__array(char, comm, 16)						\
	__field(unsigned long, gfp)					\
	__field(unsigned int, order)					\
	__field(unsigned int, kind)					\
	__field(u64, duration_ms)					\
	__field(unsigned int, retries)					\
	__field(unsigned int, sleeps)

#define NFW_STALL_ASSIGN						\
	__entry->pid = s->pid;						\
	memcpy(__entry->comm, s->comm, 16);				\
	__entry->comm[15] = 0;						\
	__entry->gfp = s->gfp;						\
	__entry->order = s->order;					\
	__entry->kind = s->kind;					\
	__entry->duration_ms = s->duration_ms;				\
	__entry->retries = s->retries;					\
	__entry->sleeps = s->sleeps;

#define NFW_STALL_FMT \
	"pid=%d comm=%s gfp=%s order=%u kind=%s duration_ms=%llu retries=%u sleeps=%u"

#define NFW_STALL_ARGS							\
	__entry->pid, __entry->comm, show_gfp_flags(__entry->gfp),	\
	__entry->order,							\
	__print_symbolic(__entry->kind,					\
			 { NFW_TRACE_KIND_NOFAIL, "nofail" },		\
			 { NFW_TRACE_KIND_IMPLICIT, "implicit" },	\
			 { NFW_TRACE_KIND_OTHER, "other" }),		\
	__entry->duration_ms, __entry->retries, __entry->sleeps

/*
 * stall_begin: the module starts following a stall: a slow-path allocation
 * in scope at its first direct-reclaim round (where its mask becomes known),
 * or an allocation found already looping (adopted=1).
 */
TRACE_EVENT(stall_begin,
	TP_PROTO(const struct nfw_trace_stall *s, unsigned int adopted),
	TP_ARGS(s, adopted),
	TP_STRUCT__entry(NFW_STALL_FIELDS __field(unsigned int, adopted)),
	TP_fast_assign(NFW_STALL_ASSIGN __entry->adopted = adopted;),
	TP_printk(NFW_STALL_FMT " adopted=%u", NFW_STALL_ARGS, __entry->adopted)
);

/* backoff_sleep: the task is about to sleep sleep_ms in the back-off shrinker. */
TRACE_EVENT(backoff_sleep,
	TP_PROTO(const struct nfw_trace_stall *s, unsigned int sleep_ms),
	TP_ARGS(s, sleep_ms),
	TP_STRUCT__entry(NFW_STALL_FIELDS __field(unsigned int, sleep_ms)),
	TP_fast_assign(NFW_STALL_ASSIGN __entry->sleep_ms = sleep_ms;),
	TP_printk(NFW_STALL_FMT " sleep_ms=%u", NFW_STALL_ARGS, __entry->sleep_ms)
);

DECLARE_EVENT_CLASS(nfw_stall,
	TP_PROTO(const struct nfw_trace_stall *s),
	TP_ARGS(s),
	TP_STRUCT__entry(NFW_STALL_FIELDS),
	TP_fast_assign(NFW_STALL_ASSIGN),
	TP_printk(NFW_STALL_FMT, NFW_STALL_ARGS)
);

/* stall_report: the watchdog printed a report of the stall. */
DEFINE_EVENT(nfw_stall, stall_report,
	TP_PROTO(const struct nfw_trace_stall *s),
	TP_ARGS(s));

/* oom_trigger: the stall's out_of_memory() call is handed __GFP_FS. */
DEFINE_EVENT(nfw_stall, oom_trigger,
	TP_PROTO(const struct nfw_trace_stall *s),
	TP_ARGS(s));

/*
 * stall_end: the stall is over; duration_ms is up to its last slow-path
 * return (for a stall that lingered, emitted when the module closes it).
 */
DEFINE_EVENT(nfw_stall, stall_end,
	TP_PROTO(const struct nfw_trace_stall *s),
	TP_ARGS(s));

/*
 * uevent: the uevent work is about to send the KOBJ_CHANGE uevent announcing
 * event seq (the events file's number) of kind event about task pid. Held
 * back while memory is exhausted, so this can follow the event by seconds.
 */
TRACE_EVENT(uevent,
	TP_PROTO(u64 seq, unsigned int event, int pid),
	TP_ARGS(seq, event, pid),
	TP_STRUCT__entry(__field(u64, seq) __field(unsigned int, event) __field(int, pid)),
	TP_fast_assign(__entry->seq = seq; __entry->event = event; __entry->pid = pid;),
	TP_printk("seq=%llu event=%s pid=%d", __entry->seq,
		  __print_symbolic(__entry->event, { 0, "stall" }, { 1, "backoff" },
				   { 2, "oom" }, { 3, "end" }),
		  __entry->pid)
);

#endif /* _NFW_TRACE_H */

/* Out of tree: the header is found through -I (Kbuild), not in include/trace/events. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nfw_trace
#include <trace/define_trace.h>
