// SPDX-License-Identifier: GPL-2.0

//! Objects handed to other contexts (sysfs callbacks, kprobe handlers, the
//! watchdog thread) under RCU: a reader borrows the object inside an RCU
//! read-side critical section; an object taken back ([`Retired`]) is
//! freed only after a grace period, so no reader still holds it then.
//! Several objects retired together share one grace period.

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

    /// Unpublishes the object without waiting. Readers that loaded it
    /// before may still use it until a grace period has passed; the
    /// [`Retired`] waits for that when it is turned back into the object
    /// or dropped. Retiring several objects before dropping any of them
    /// costs one grace period for all of them instead of one each.
    pub(crate) fn retire(&self) -> Option<Retired<T>> {
        let p = self.ptr.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return None;
        }
        // SAFETY: no precondition. Called after the pointer left `ptr`: a
        // grace period that completes the returned state began after no
        // new reader could load `p`.
        let cookie = unsafe { b::get_state_synchronize_rcu() };
        // INVARIANT: `p` came from `KBox::into_raw` (type invariant of
        // `Published`) and is now unreachable for new readers; `cookie` was
        // taken after that.
        Some(Retired { ptr: p, cookie })
    }
}

/// An object taken out of its [`Published`] that readers which loaded it
/// before may still be using.
///
/// # Invariants
///
/// `ptr` was returned by `KBox::into_raw`, is owned by `self` and no longer
/// published; `cookie` is an RCU grace-period state taken after it stopped
/// being published: once a grace period completing that state has passed,
/// no reader holds `ptr`.
pub(crate) struct Retired<T> {
    ptr: *mut T,
    cookie: kernel::ffi::c_ulong,
}

impl<T> Retired<T> {
    /// Waits until no reader can hold the object (at once if a grace period
    /// has passed since it was retired, as another [`Retired`]'s wait or any
    /// `synchronize_rcu()` makes it) and returns it. Process context, no
    /// spinlock held.
    pub(crate) fn into_inner(self) -> KBox<T> {
        self.wait();
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr` came from `KBox::into_raw` and is owned by `this`,
        // which is never dropped; after the wait no reader can reach it.
        unsafe { KBox::from_raw(this.ptr) }
    }

    /// Returns once a grace period has passed since the object was retired.
    fn wait(&self) {
        // SAFETY: process context (the contract of `into_inner` and of
        // dropping a `Retired`); returns once a full grace period has
        // elapsed since `cookie` was taken.
        unsafe { b::nfw_cond_synchronize_rcu(self.cookie) };
    }
}

impl<T> Drop for Retired<T> {
    /// Frees the object once no reader can hold it: process context.
    fn drop(&mut self) {
        self.wait();
        // SAFETY: `ptr` came from `KBox::into_raw` and is owned by `self`,
        // which is going away; after the wait no reader can reach it.
        drop(unsafe { KBox::from_raw(self.ptr) });
    }
}
