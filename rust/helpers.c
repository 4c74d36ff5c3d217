// SPDX-License-Identifier: GPL-2.0
/* Forwarders to static inline functions and macros; see helpers.h. */
#include <linux/ftrace.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/ibt.h>
#include <linux/rcupdate_wait.h>
#include <linux/sched/task.h>
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

struct pt_regs *nfw_ftrace_get_regs(struct ftrace_regs *fregs)
{
	return ftrace_get_regs(fregs);
}

void nfw_get_task_struct(struct task_struct *t)
{
	get_task_struct(t);
}

void nfw_put_task_struct(struct task_struct *t)
{
	put_task_struct(t);
}

void nfw_mutex_lock(struct mutex *lock)
{
	mutex_lock(lock);
}

void nfw_synchronize_rcu_tasks(void)
{
	synchronize_rcu_tasks();
}

long nfw_retry_wait(long timeout)
{
	__set_current_state(TASK_UNINTERRUPTIBLE);
	return io_schedule_timeout(timeout);
}

bool nfw_ibt_enforced(void)
{
#ifdef CONFIG_X86_KERNEL_IBT
	return cpu_feature_enabled(X86_FEATURE_IBT);
#else
	return false;
#endif
}

bool nfw_starts_with_endbr(const void *addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u32 insn;

	if (get_kernel_nofault(insn, addr))
		return false;
	return is_endbr(insn);
#else
	return true;
#endif
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

unsigned int nfw_memalloc_noreclaim_save(void)
{
	return memalloc_noreclaim_save();
}

void nfw_memalloc_noreclaim_restore(unsigned int flags)
{
	memalloc_noreclaim_restore(flags);
}
