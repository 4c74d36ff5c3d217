/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel static inline functions and macros the Rust code needs.
 * Each helper is a one-line forwarder; all logic lives in Rust.
 */
#ifndef NFW_HELPERS_H
#define NFW_HELPERS_H

#include <linux/types.h>

struct task_struct;
struct ftrace_regs;
struct pt_regs;
struct mutex;
struct kobject;
struct kernfs_node;
struct module;
struct work_struct;

/*
 * current->pid and current->comm. Not read from Rust: bindgen (0.73 with
 * this kernel) drops the 64-byte alignment of the empty struct
 * sched_statistics, so the generated task_struct has every later field,
 * pid and comm included, at a wrong offset.
 */
int nfw_current_pid(void);
void nfw_current_comm(char comm[16]);
/* ftrace_get_regs(): the saved registers of an FTRACE_OPS_FL_SAVE_REGS callback. */
struct pt_regs *nfw_ftrace_get_regs(struct ftrace_regs *fregs);
/* get_task_struct()/put_task_struct(). */
void nfw_get_task_struct(struct task_struct *t);
void nfw_put_task_struct(struct task_struct *t);
/* mutex_lock() is a macro under lockdep. */
void nfw_mutex_lock(struct mutex *lock);
/* synchronize_rcu_tasks() is a macro for synchronize_rcu() without TASKS_RCU. */
void nfw_synchronize_rcu_tasks(void);
/* memalloc_retry_wait()'s sleep: TASK_UNINTERRUPTIBLE + io_schedule_timeout(). */
long nfw_retry_wait(long timeout);
/* The CPU enforces Indirect Branch Tracking (cpu_feature_enabled(X86_FEATURE_IBT)). */
bool nfw_ibt_enforced(void);
/* is_endbr() on the first instruction at addr (read with get_kernel_nofault). */
bool nfw_starts_with_endbr(const void *addr);

/* &mod->mkobj.kobj: /sys/module/<name>, the kobject uevents are sent on. */
struct kobject *nfw_module_kobj(struct module *mod);
/* sysfs_get_dirent(kobj->sd, name): a referenced kernfs node (kernfs_put() it). */
struct kernfs_node *nfw_sysfs_get_attr(struct kobject *kobj, const char *name);
/* INIT_WORK() is a macro; schedule_work() a static inline. */
void nfw_init_work(struct work_struct *work, void (*fn)(struct work_struct *));
bool nfw_schedule_work(struct work_struct *work);
/* memalloc_noreclaim_save()/restore(): allocations of this task neither reclaim nor OOM-kill. */
unsigned int nfw_memalloc_noreclaim_save(void);
void nfw_memalloc_noreclaim_restore(unsigned int flags);

#endif
