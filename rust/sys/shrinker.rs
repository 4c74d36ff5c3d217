// SPDX-License-Identifier: GPL-2.0

//! A shrinker, and the back-off sleep taken in its scan.

use super::bindings as b;
use super::{cstr_ptr, ms_to_jiffies, name_str};
use core::ffi::CStr;
use kernel::prelude::*;

/// The callbacks of a [`Shrinker`]. They run in the reclaiming task's own
/// context, where sleeping is allowed.
pub(crate) trait ShrinkerCallbacks {
    /// Objects the shrinker could free now (0: do not call `scan`).
    fn count() -> u64;
    /// Frees objects; returns how many, or [`SHRINK_STOP`].
    fn scan() -> u64;
}

/// "Stop scanning this shrinker in this round" (`SHRINK_STOP`).
pub(crate) const SHRINK_STOP: u64 = b::NFW_SHRINK_STOP as u64;

/// A registered shrinker.
///
/// # Invariants
///
/// `s` was returned by `shrinker_alloc()` and registered; it is freed (which
/// waits for callbacks in progress) when the value is dropped.
pub(crate) struct Shrinker {
    s: *mut b::shrinker,
}

// SAFETY: the kernel's shrinker object may be unregistered from any thread.
unsafe impl Send for Shrinker {}
// SAFETY: `&self` offers nothing.
unsafe impl Sync for Shrinker {}

/// `shrinker::count_objects`.
///
/// # Safety
///
/// Called by the shrinker core.
unsafe extern "C" fn shrinker_count<C: ShrinkerCallbacks>(
    _s: *mut b::shrinker,
    _sc: *mut b::shrink_control,
) -> kernel::ffi::c_ulong {
    C::count() as kernel::ffi::c_ulong
}

/// `shrinker::scan_objects`.
///
/// # Safety
///
/// Called by the shrinker core.
unsafe extern "C" fn shrinker_scan<C: ShrinkerCallbacks>(
    _s: *mut b::shrinker,
    _sc: *mut b::shrink_control,
) -> kernel::ffi::c_ulong {
    C::scan() as kernel::ffi::c_ulong
}

impl Shrinker {
    /// Registers a shrinker named `name` (`seeks = 0`: its count is taken
    /// as it is, not scaled by reclaim priority).
    pub(crate) fn register<C: ShrinkerCallbacks>(name: &'static CStr) -> Result<Self> {
        // SAFETY: a "%s" format with a NUL terminated argument.
        let s = unsafe { b::shrinker_alloc(0, cstr_ptr(c"%s"), cstr_ptr(name)) };
        if s.is_null() {
            pr_err!("cannot allocate shrinker {}\n", name_str(name));
            return Err(ENOMEM);
        }
        // SAFETY: `s` is a freshly allocated, not yet registered shrinker
        // that only we reference.
        unsafe {
            (*s).count_objects = Some(shrinker_count::<C>);
            (*s).scan_objects = Some(shrinker_scan::<C>);
            (*s).seeks = 0;
            (*s).batch = 0;
            b::shrinker_register(s);
        }
        // INVARIANT: allocated and registered above.
        Ok(Self { s })
    }
}

impl Drop for Shrinker {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; `shrinker_free()` unregisters, waits
        // until no callback runs and frees the object after a grace period.
        unsafe { b::shrinker_free(self.s) };
    }
}

/// Sleeps like `memalloc_retry_wait()` (accounted as I/O wait), but
/// killable and on the module's wait queue: a fatal signal or
/// [`backoff_wake_all`] ends the sleep early.
/// `stop` is checked once the task is on the queue, so a [`backoff_wake_all`]
/// after setting it cannot be missed.
pub(crate) fn backoff_sleep(ms: u32, stop: &'static core::sync::atomic::AtomicBool) {
    // SAFETY: only called from a sleepable context (a shrinker's scan, in
    // the reclaiming task) holding none of our locks; `stop` is a static
    // `AtomicBool`, which has the layout of a C `bool`.
    unsafe { b::nfw_backoff_sleep(ms_to_jiffies(ms) as kernel::ffi::c_long, stop.as_ptr()) };
}

/// Ends every [`backoff_sleep`] in progress.
pub(crate) fn backoff_wake_all() {
    // SAFETY: wakes the module's wait queue; any context.
    unsafe { b::nfw_backoff_wake_all() };
}
