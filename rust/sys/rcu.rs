// SPDX-License-Identifier: GPL-2.0

//! Objects handed to other contexts (sysfs callbacks, kprobe handlers, the
//! watchdog thread) under RCU: a reader borrows the object inside an RCU
//! read-side critical section, and taking the object back waits for a
//! grace period, so no reader still holds it when it is dropped.

use super::bindings as b;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;

/// An owned, heap-allocated `T` that any context may borrow while it is
/// published.
///
/// # Invariants
///
/// `ptr` is null or was returned by `KBox::into_raw` and is owned by `self`.
/// A pointer taken out of `ptr` is freed only after a grace period, so a
/// reader that loaded it inside `rcu_read_lock()` may use it until its
/// `rcu_read_unlock()`.
pub(crate) struct Published<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> Published<T> {
    /// Nothing published.
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Publishes `obj`; gives it back if an object is published already.
    pub(crate) fn publish(&self, obj: KBox<T>) -> core::result::Result<(), KBox<T>> {
        let p = KBox::into_raw(obj);
        match self.ptr.compare_exchange(
            core::ptr::null_mut(),
            p,
            // Release: a reader that sees `p` sees the object initialised.
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            // INVARIANT: `p` comes from `KBox::into_raw`, now owned by `self`.
            Ok(_) => Ok(()),
            // SAFETY: `p` was returned by `KBox::into_raw` just above and
            // was not published.
            Err(_) => Err(unsafe { KBox::from_raw(p) }),
        }
    }

    /// Calls `f` with the published object, if any. `f` runs inside an RCU
    /// read-side critical section: it must not sleep. Any context.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: no precondition; paired with the unlock below.
        unsafe { b::nfw_rcu_read_lock() };
        // Acquire: pairs with the Release of `publish`.
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: by the type invariant a non-null `p` is a live `T` that is
        // freed only after a grace period that began after it was taken out,
        // which cannot end before this read-side critical section does;
        // `T: Sync` allows sharing it with this context.
        let r = (!p.is_null()).then(|| f(unsafe { &*p }));
        // SAFETY: paired with the lock above.
        unsafe { b::nfw_rcu_read_unlock() };
        r
    }

    /// Unpublishes the object and returns it once no reader can still hold
    /// it. Waits for a grace period: process context, no spinlock held.
    pub(crate) fn take(&self) -> Option<KBox<T>> {
        let p = self.ptr.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return None;
        }
        // SAFETY: process context (the caller's contract); waits until every
        // reader that may have loaded `p` has left its critical section.
        unsafe { b::synchronize_rcu() };
        // SAFETY: `p` came from `KBox::into_raw` (type invariant) and is no
        // longer reachable by any reader.
        Some(unsafe { KBox::from_raw(p) })
    }
}
