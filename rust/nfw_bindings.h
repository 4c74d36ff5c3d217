/* SPDX-License-Identifier: GPL-2.0 */
/* Input of bindgen: the kernel interfaces the module uses beyond the kernel crate. */
#include <linux/gfp.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <trace/events/vmscan.h>
#include "helpers.h"

/* Constants bindgen cannot evaluate from macros (as rust/bindings_helper.h does). */
const gfp_t NFW_GFP_FS = __GFP_FS;
const gfp_t NFW_GFP_IO = __GFP_IO;
const gfp_t NFW_GFP_DIRECT_RECLAIM = __GFP_DIRECT_RECLAIM;
const gfp_t NFW_GFP_NOFAIL = __GFP_NOFAIL;
const gfp_t NFW_GFP_NORETRY = __GFP_NORETRY;
const gfp_t NFW_GFP_RETRY_MAYFAIL = __GFP_RETRY_MAYFAIL;
const gfp_t NFW_GFP_COMP = __GFP_COMP;
const gfp_t NFW_GFP_ZERO = __GFP_ZERO;
const gfp_t NFW_GFP_ZEROTAGS = __GFP_ZEROTAGS;
const gfp_t NFW_GFP_KERNEL = GFP_KERNEL;
const gfp_t NFW_GFP_NOWARN = __GFP_NOWARN;
const unsigned long NFW_HZ = HZ;
const int NFW_PIDTYPE_PID = PIDTYPE_PID;
const int NFW_TASK_COMM_LEN = TASK_COMM_LEN;
const unsigned long NFW_SHRINK_STOP = SHRINK_STOP;
/* What kobject_uevent_env() allocates first, and largest (GFP_KERNEL). */
const size_t NFW_UEVENT_ENV_SIZE = sizeof(struct kobj_uevent_env);

/*
 * Tracepoint prototypes, read off the register_trace_<name>() functions the
 * tracepoint header declares for this very tree (so the probe the module
 * attaches is the one the tree calls, whatever its version says):
 * mm_vmscan_direct_reclaim_begin is (int order, gfp_t gfp_flags) in 6.12 and
 * (gfp_t gfp_flags, int order, struct mem_cgroup *memcg) in 7.3. 0: neither.
 */
#define NFW_TP_IS(name, ...) \
	__builtin_types_compatible_p(typeof(register_trace_##name), \
				     int(void (*)(void *, ##__VA_ARGS__), void *))
const int NFW_RECLAIM_BEGIN_PROTO =
	NFW_TP_IS(mm_vmscan_direct_reclaim_begin, int, gfp_t) ? 1 :
	NFW_TP_IS(mm_vmscan_direct_reclaim_begin, gfp_t, int, struct mem_cgroup *) ? 2 : 0;
/*
 * mm_vmscan_direct_reclaim_end is (unsigned long nr_reclaimed) in 6.12 and
 * (unsigned long nr_reclaimed, struct mem_cgroup *memcg) in 7.3.
 */
const int NFW_RECLAIM_END_PROTO =
	NFW_TP_IS(mm_vmscan_direct_reclaim_end, unsigned long) ? 1 :
	NFW_TP_IS(mm_vmscan_direct_reclaim_end, unsigned long, struct mem_cgroup *) ? 2 : 0;
