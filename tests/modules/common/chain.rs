// SPDX-License-Identifier: GPL-2.0

//! Memory held by the test modules (each includes this file with `#[path]`).

use core::ptr;
use kernel::bindings as b;
use kernel::ffi::c_void;

extern "C" {
    /// `kmalloc()` (`common/helpers.c`).
    fn nfw_common_kmalloc(size: usize, gfp: b::gfp_t) -> *mut c_void;
    /// `kvmalloc()` (`common/helpers.c`).
    fn nfw_common_kvmalloc(size: usize, gfp: b::gfp_t) -> *mut c_void;
    /// `cond_resched()` (`common/helpers.c`).
    fn nfw_common_cond_resched();
}

/// Gives the CPU away if another task should run.
pub(crate) fn cond_resched() {
    // SAFETY: called from process context without spinlocks held (as every
    // caller in the test modules is).
    unsafe { nfw_common_cond_resched() };
}

/// How the allocations of a [`Chain`] are made and freed.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `alloc_pages(gfp, order)` / `__free_pages()`.
    Pages(u32),
    /// `kmalloc(size, gfp)` / `kfree()`.
    Kmalloc(usize),
    /// `kvmalloc(size, gfp)` / `kvfree()`.
    Kvmalloc(usize),
}

/// Memory held without any bookkeeping allocation: a singly linked list
/// threaded through the allocations themselves.
///
/// # Invariants
///
/// `head` is null or an allocation of `kind` that we own (a `struct page` of
/// order `n` for `Kind::Pages(n)`, else the pointer `kmalloc()`/`kvmalloc()`
/// returned), whose first 8 bytes hold the previous allocation, in the same
/// form, or null.
pub(crate) struct Chain {
    /// How the allocations are made.
    kind: Kind,
    /// The newest allocation.
    head: *mut c_void,
}

impl Chain {
    /// An empty chain.
    pub(crate) fn new(kind: Kind) -> Self {
        // INVARIANT: an empty chain.
        Chain {
            kind,
            head: ptr::null_mut(),
        }
    }

    /// Makes one allocation with `gfp` and adds it; false if it returned NULL.
    pub(crate) fn grow(&mut self, gfp: b::gfp_t) -> bool {
        match self.kind {
            Kind::Pages(order) => {
                // SAFETY: any gfp mask and order are valid arguments; we are in
                // process context, so a blocking mask is fine.
                let page = unsafe { b::alloc_pages(gfp, order) };
                if page.is_null() {
                    return false;
                }
                // SAFETY: `page` is a page we own; `kmap_local_page()` maps it
                // (a page is at least 8 bytes and page aligned) and the mapping
                // is released right after the write.
                unsafe {
                    let addr = b::kmap_local_page(page);
                    addr.cast::<*mut c_void>().write(self.head);
                    b::kunmap_local(addr);
                }
                // INVARIANT: `page` is ours, of `order`, linked to the old head.
                self.head = page.cast();
            }
            Kind::Kmalloc(size) | Kind::Kvmalloc(size) => {
                let p = if let Kind::Kmalloc(_) = self.kind {
                    // SAFETY: a plain allocation, with no precondition.
                    unsafe { nfw_common_kmalloc(size, gfp) }
                } else {
                    // SAFETY: as above.
                    unsafe { nfw_common_kvmalloc(size, gfp) }
                };
                if p.is_null() {
                    return false;
                }
                // SAFETY: `p` is a fresh allocation of `size` >= 8 bytes, aligned
                // for a pointer (kmalloc and vmalloc align to at least 8).
                unsafe { p.cast::<*mut c_void>().write(self.head) };
                // INVARIANT: `p` is ours, linked to the old head.
                self.head = p;
            }
        }
        true
    }

    /// Frees the newest allocation of a `Kind::Pages` chain, if any.
    pub(crate) fn shrink(&mut self) {
        let Kind::Pages(order) = self.kind else {
            return;
        };
        if self.head.is_null() {
            return;
        }
        let page = self.head.cast::<b::page>();
        // SAFETY: by the type invariant `head` is a page of `order` that we
        // own whose first 8 bytes link to the rest; we read the link, then
        // free the page once and never touch it again.
        let next = unsafe {
            let addr = b::kmap_local_page(page);
            let next = addr.cast::<*mut c_void>().read();
            b::kunmap_local(addr);
            b::__free_pages(page, order);
            next
        };
        // INVARIANT: `next` is the rest of the chain.
        self.head = next;
    }

    /// Frees every allocation of the chain.
    pub(crate) fn release(&mut self) {
        while !self.head.is_null() {
            let cur = self.head;
            // SAFETY: by the type invariant `cur` is an allocation of `kind` that
            // we own and whose first 8 bytes link to the next one; we read the
            // link, then free `cur` exactly once and never touch it again.
            let next = unsafe {
                match self.kind {
                    Kind::Pages(order) => {
                        let page = cur.cast::<b::page>();
                        let addr = b::kmap_local_page(page);
                        let next = addr.cast::<*mut c_void>().read();
                        b::kunmap_local(addr);
                        b::__free_pages(page, order);
                        next
                    }
                    Kind::Kmalloc(_) => {
                        let next = cur.cast::<*mut c_void>().read();
                        b::kfree(cur);
                        next
                    }
                    Kind::Kvmalloc(_) => {
                        let next = cur.cast::<*mut c_void>().read();
                        b::kvfree(cur);
                        next
                    }
                }
            };
            // INVARIANT: `next` is the rest of the chain.
            self.head = next;
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.release();
    }
}
