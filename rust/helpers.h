/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel static inline functions and macros the Rust code needs.
 * Each helper is a one-line forwarder; all logic lives in Rust.
 */
#ifndef NFW_HELPERS_H
#define NFW_HELPERS_H

#include <linux/types.h>

struct task_struct;
struct kobject;
struct kernfs_node;
struct module;
struct work_struct;
struct tracepoint;
struct kobj_attribute;
struct attribute;
struct attribute_group;

/*
 * current->pid and current->comm. Not read from Rust: bindgen (0.73 with
 * this kernel) drops the 64-byte alignment of the empty struct
 * sched_statistics, so the generated task_struct has every later field,
 * pid and comm included, at a wrong offset.
 */
int nfw_current_pid(void);
void nfw_current_comm(char comm[16]);
/*
 * Whether the code a kprobe handler interrupted runs in task context (not
 * in an interrupt handler, softirq or NMI). A breakpoint kprobe's handler
 * runs inside the int3 exception, which enters NMI context itself
 * (irqentry_nmi_enter(): NMI_OFFSET + HARDIRQ_OFFSET); an optimized or
 * ftrace-based probe's handler does not: in_task() alone is right for only
 * one of them.
 */
bool nfw_probed_in_task(void);
/* current->flags & PF_MEMALLOC: the task is in reclaim (nested allocations). */
bool nfw_current_in_reclaim(void);
/* fatal_signal_pending(current) || tsk_is_oom_victim(current). */
bool nfw_current_dying(void);
/* get_task_struct()/put_task_struct(). */
void nfw_get_task_struct(struct task_struct *t);
void nfw_put_task_struct(struct task_struct *t);

/*
 * Back-off sleep, as memalloc_retry_wait() sleeps but killable and on the
 * module's wait queue (DECLARE_WAIT_QUEUE_HEAD and wake_up_all() are
 * macros), so that unloading can end every sleep at once: it sets *stop,
 * then wakes the queue; a sleeper checks *stop once it is on the queue.
 */
long nfw_backoff_sleep(long timeout, const bool *stop);
void nfw_backoff_wake_all(void);

/* rcu_read_lock()/rcu_read_unlock() (static inline). */
void nfw_rcu_read_lock(void);
void nfw_rcu_read_unlock(void);
/* cond_synchronize_rcu() (static inline with TINY_RCU). */
void nfw_cond_synchronize_rcu(unsigned long cookie);

/* tp->name, and tracepoint_synchronize_unregister() (static inline). */
const char *nfw_tracepoint_name(struct tracepoint *tp);
void nfw_tracepoint_sync(void);

/* kmalloc() is a macro (an allocation-tagging wrapper since 6.10). */
void *nfw_kmalloc(size_t size, gfp_t flags);

/* &mod->mkobj.kobj: /sys/module/<name>, the kobject uevents are sent on. */
struct kobject *nfw_module_kobj(struct module *mod);
/* sysfs_get_dirent(kobj->sd, name): a referenced kernfs node (kernfs_put() it). */
struct kernfs_node *nfw_sysfs_get_attr(struct kobject *kobj, const char *name);
/* INIT_WORK() is a macro; schedule_work() a static inline. */
void nfw_init_work(struct work_struct *work, void (*fn)(struct work_struct *));
bool nfw_schedule_work(struct work_struct *work);

/*
 * Members C names the same on every kernel but Rust cannot: 6.12 has
 * kobj_attribute.show/.store and attribute_group.attrs as plain members;
 * 7.3 puts each in an anonymous union (or, with CONFIG_CFI, an anonymous
 * struct) beside a const-taking variant (__SYSFS_FUNCTION_ALTERNATIVE).
 */
typedef ssize_t (*nfw_kobj_show_t)(struct kobject *, struct kobj_attribute *, char *);
typedef ssize_t (*nfw_kobj_store_t)(struct kobject *, struct kobj_attribute *,
				    const char *, size_t);
void nfw_kobj_attr_set_ops(struct kobj_attribute *a, nfw_kobj_show_t show,
			   nfw_kobj_store_t store);
void nfw_attr_group_set_attrs(struct attribute_group *g, struct attribute **attrs);
/*
 * sysfs_attr_init() (a macro): an attribute not in static storage needs a
 * static lockdep key (CONFIG_DEBUG_LOCK_ALLOC), or lockdep warns when the
 * file is created.
 */
void nfw_sysfs_attr_init(struct attribute *attr);

/*
 * The module's trace events (nfw_trace.h, instantiated in trace.c). The
 * Rust side asks nfw_trace_on(event) first, which is the event's own static
 * branch (off: a call that returns false), and only then gathers the fields
 * and calls nfw_trace(event, stall, arg); arg is stall_begin's adopted and
 * backoff_sleep's sleep_ms, unused by the others.
 */
#define NFW_TRACE_STALL_BEGIN 0
#define NFW_TRACE_STALL_REPORT 1
#define NFW_TRACE_BACKOFF_SLEEP 2
#define NFW_TRACE_OOM_TRIGGER 3
#define NFW_TRACE_STALL_END 4
#define NFW_TRACE_UEVENT 5
/* The kind field (rust/logic/gfp.rs, Kind). */
#define NFW_TRACE_KIND_NOFAIL 0
#define NFW_TRACE_KIND_IMPLICIT 1
#define NFW_TRACE_KIND_OTHER 2
struct nfw_trace_stall {
	int pid;
	char comm[16];
	unsigned int gfp;
	unsigned int order;
	unsigned int kind;
	unsigned int retries;
	unsigned int sleeps;
	u64 duration_ms;
};
bool nfw_trace_on(unsigned int event);
void nfw_trace(unsigned int event, const struct nfw_trace_stall *s, unsigned int arg);
/* uevent: the uevent work is about to send event seq (kind: the event's). */
void nfw_trace_uevent(u64 seq, unsigned int kind, int pid);

#endif
