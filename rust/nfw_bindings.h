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
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/shrinker.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
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
const unsigned long NFW_HZ = HZ;
const int NFW_PIDTYPE_PID = PIDTYPE_PID;
const int NFW_TASK_COMM_LEN = TASK_COMM_LEN;
const unsigned long NFW_SHRINK_STOP = SHRINK_STOP;
