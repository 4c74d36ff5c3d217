// SPDX-License-Identifier: GPL-2.0
/*
 * What the shared Rust files of the test modules (chain.rs, sysfs_dir.rs)
 * reach through C, because the kernel crate names it differently from one
 * kernel to the next while C names it the same: kmalloc()/kvmalloc() (6.12:
 * the crate's krealloc/kvrealloc helpers; 7.3: krealloc_node_align and
 * friends), cond_resched() (6.12: __cond_resched; 7.3: not in the crate), kobj_attribute.show/.store and attribute_group.attrs (plain
 * members in 6.12; anonymous unions in 7.3, __SYSFS_FUNCTION_ALTERNATIVE).
 * Included by each test module's C helper (nfw_stallgen_helper.c,
 * nfw_bench_helper.c): a Kbuild object belongs to one module.
 */
#include <linux/kobject.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

void *nfw_common_kmalloc(size_t size, gfp_t gfp);
void nfw_common_cond_resched(void);
void *nfw_common_kvmalloc(size_t size, gfp_t gfp);
void nfw_common_kobj_attr_set_ops(struct kobj_attribute *a,
				  ssize_t (*show)(struct kobject *, struct kobj_attribute *, char *),
				  ssize_t (*store)(struct kobject *, struct kobj_attribute *,
						   const char *, size_t));
void nfw_common_attr_group_set_attrs(struct attribute_group *g, struct attribute **attrs);

void *nfw_common_kmalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp);
}

void *nfw_common_kvmalloc(size_t size, gfp_t gfp)
{
	return kvmalloc(size, gfp);
}

void nfw_common_cond_resched(void)
{
	cond_resched();
}

void nfw_common_kobj_attr_set_ops(struct kobj_attribute *a,
				  ssize_t (*show)(struct kobject *, struct kobj_attribute *, char *),
				  ssize_t (*store)(struct kobject *, struct kobj_attribute *,
						   const char *, size_t))
{
	a->show = show;
	a->store = store;
}

void nfw_common_attr_group_set_attrs(struct attribute_group *g, struct attribute **attrs)
{
	g->attrs = attrs;
}
