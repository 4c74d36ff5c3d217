// SPDX-License-Identifier: GPL-2.0
/* Forwarders to static inline functions and macros; see helpers.h. */
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/tracepoint.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include "helpers.h"

int nfw_current_pid(void)
{
	return current->pid;
}

void nfw_current_comm(char comm[16])
{
	BUILD_BUG_ON(TASK_COMM_LEN != 16);
	/* Racy against prctl(PR_SET_NAME) like every comm reader; fine for reports. */
	memcpy(comm, current->comm, TASK_COMM_LEN);
}

bool nfw_probed_in_task(void)
{
	unsigned long pc = preempt_count();

	if (pc & NMI_MASK)
		pc -= NMI_OFFSET + HARDIRQ_OFFSET;
	return !(pc & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET));
}

bool nfw_current_in_reclaim(void)
{
	return current->flags & PF_MEMALLOC;
}

bool nfw_current_dying(void)
{
	return fatal_signal_pending(current) || tsk_is_oom_victim(current);
}

void nfw_get_task_struct(struct task_struct *t)
{
	get_task_struct(t);
}

void nfw_put_task_struct(struct task_struct *t)
{
	put_task_struct(t);
}

static DECLARE_WAIT_QUEUE_HEAD(nfw_backoff_wq);

long nfw_backoff_sleep(long timeout, const bool *stop)
{
	DEFINE_WAIT(wait);
	long left = timeout;

	prepare_to_wait(&nfw_backoff_wq, &wait, TASK_KILLABLE);
	if (!READ_ONCE(*stop))
		left = io_schedule_timeout(timeout);
	finish_wait(&nfw_backoff_wq, &wait);
	return left;
}

void nfw_backoff_wake_all(void)
{
	wake_up_all(&nfw_backoff_wq);
}

void nfw_rcu_read_lock(void)
{
	rcu_read_lock();
}

void nfw_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void nfw_cond_synchronize_rcu(unsigned long cookie)
{
	cond_synchronize_rcu(cookie);
}

const char *nfw_tracepoint_name(struct tracepoint *tp)
{
	return tp->name;
}

void nfw_tracepoint_sync(void)
{
	tracepoint_synchronize_unregister();
}

void *nfw_kmalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags);
}

struct kobject *nfw_module_kobj(struct module *mod)
{
	return &mod->mkobj.kobj;
}

struct kernfs_node *nfw_sysfs_get_attr(struct kobject *kobj, const char *name)
{
	return sysfs_get_dirent(kobj->sd, name);
}

void nfw_init_work(struct work_struct *work, void (*fn)(struct work_struct *))
{
	INIT_WORK(work, fn);
}

bool nfw_schedule_work(struct work_struct *work)
{
	return schedule_work(work);
}

void nfw_kobj_attr_set_ops(struct kobj_attribute *a, nfw_kobj_show_t show,
			   nfw_kobj_store_t store)
{
	a->show = show;
	a->store = store;
}

void nfw_attr_group_set_attrs(struct attribute_group *g, struct attribute **attrs)
{
	g->attrs = attrs;
}

void nfw_sysfs_attr_init(struct attribute *attr)
{
	sysfs_attr_init(attr);
}
