// SPDX-License-Identifier: GPL-2.0
/*
 * The few things nfw_stallgen's Rust code reaches through C: static inline
 * functions, and task_struct fields.  (The kernel crate's generated
 * task_struct layout is wrong in this kernel: bindgen drops the 64-byte
 * alignment of the empty `struct sched_statistics`, so every field after
 * `stats` -- pid, comm, ... -- is at a wrong offset on the Rust side.)
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/mmzone.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include "common/helpers.c"

unsigned int nfw_stallgen_nofs_save(void);
void nfw_stallgen_nofs_restore(unsigned int flags);
int nfw_stallgen_current_pid(void);
bool nfw_stallgen_fatal_signal_pending(void);
int nfw_stallgen_prewarm_kworkers(unsigned int per_pool);
bool nfw_stallgen_current_is_kswapd(void);
void nfw_stallgen_account_reclaimed(unsigned long pages);
unsigned long nfw_stallgen_free_pages(void);
void nfw_stallgen_zone_state(long *free, long *pcp, long *min, long *drift);
void nfw_stallgen_current_comm(char *comm);

unsigned int nfw_stallgen_nofs_save(void)
{
	return memalloc_nofs_save();
}

void nfw_stallgen_nofs_restore(unsigned int flags)
{
	memalloc_nofs_restore(flags);
}

int nfw_stallgen_current_pid(void)
{
	return task_pid_nr(current);
}

bool nfw_stallgen_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

bool nfw_stallgen_current_is_kswapd(void)
{
	return current_is_kswapd();
}

/*
 * From a shrinker's scan: counts @pages freed outside of LRU reclaim as
 * reclaimed by the current reclaim round (its nr_reclaimed, which the
 * mm_vmscan_direct_reclaim_end tracepoint reports), as slab does.
 */
void nfw_stallgen_account_reclaimed(unsigned long pages)
{
	mm_account_reclaimed_pages(pages);
}

unsigned long nfw_stallgen_free_pages(void)
{
	return global_zone_page_state(NR_FREE_PAGES);
}

/*
 * The zone that this node's GFP_KERNEL allocations try first (the highest
 * populated zone up to ZONE_NORMAL): @free, its free pages (exact: the
 * per-CPU counter deltas included); @pcp, the free pages on its per-CPU
 * lists, which the watermark checks do not count (a failed attempt after a
 * reclaim round drains them); @min, its min watermark; @drift, how far the
 * free-page counter the allocator's watermark checks read can be from
 * @free (the sum of the per-CPU thresholds up to which deltas are not
 * folded into it).  All 0 without such a zone.
 */
void nfw_stallgen_zone_state(long *free, long *pcp, long *min, long *drift)
{
	pg_data_t *pgdat = NODE_DATA(numa_node_id());
	struct zone *zone = NULL;
	int i, cpu;

	*free = *pcp = *min = *drift = 0;
	for (i = gfp_zone(GFP_KERNEL); i >= 0; i--) {
		if (managed_zone(&pgdat->node_zones[i])) {
			zone = &pgdat->node_zones[i];
			break;
		}
	}
	if (!zone)
		return;
	*free = zone_page_state_snapshot(zone, NR_FREE_PAGES);
	for_each_online_cpu(cpu) {
		*pcp += READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset, cpu)->count);
		*drift += READ_ONCE(per_cpu_ptr(zone->per_cpu_zonestats, cpu)->stat_threshold);
	}
	*min = min_wmark_pages(zone);
}

static void nfw_stallgen_prewarm_fn(struct work_struct *work)
{
	msleep(20);
}

/*
 * Makes every per-CPU worker pool of system_wq and system_highpri_wq hold at
 * least @per_pool idle kworkers, by queueing @per_pool sleeping work items on
 * each and waiting for them (a sleeping work item makes its pool wake, and if
 * need be create, another kworker).  Idle kworkers stay around for minutes.
 *
 * Why: once memory is exhausted, a pool that needs a new kworker (its last
 * idle one was woken) forks one with GFP_KERNEL, and the OOM killer then
 * ends the livelock.  for_each_online_cpu() and INIT_WORK() are macros,
 * hence C.
 */
int nfw_stallgen_prewarm_kworkers(unsigned int per_pool)
{
	struct workqueue_struct *wqs[] = { system_wq, system_highpri_wq };
	struct work_struct *works;
	unsigned int n = 0, i, w;
	int cpu;

	cpus_read_lock();
	works = kcalloc(num_online_cpus() * ARRAY_SIZE(wqs) * per_pool,
			sizeof(*works), GFP_KERNEL);
	if (!works) {
		cpus_read_unlock();
		return -ENOMEM;
	}
	for_each_online_cpu(cpu) {
		for (w = 0; w < ARRAY_SIZE(wqs); w++) {
			for (i = 0; i < per_pool; i++) {
				INIT_WORK(&works[n], nfw_stallgen_prewarm_fn);
				queue_work_on(cpu, wqs[w], &works[n]);
				n++;
			}
		}
	}
	cpus_read_unlock();
	for (i = 0; i < n; i++)
		flush_work(&works[i]);
	kfree(works);
	return 0;
}

/*
 * get_task_comm() is a macro; the kernel crate's bindings have what it
 * expands to in 6.12 (__get_task_comm) but not in 7.3.
 * comm: TASK_COMM_LEN bytes, filled NUL-padded, as get_task_comm() does. */
void nfw_stallgen_current_comm(char *comm)
{
	strscpy_pad(comm, current->comm, TASK_COMM_LEN);
}
