// SPDX-License-Identifier: GPL-2.0

//! Invoking the kernel's own OOM killer for a stall it will not act on.
//!
//! `out_of_memory()` returns without choosing a victim for allocations
//! without `__GFP_FS`. The watchdog thread calls it itself, the way the
//! sysrq-f handler does (`GFP_KERNEL`, `order = -1`, under `oom_lock`), so
//! the kernel chooses the victim (honouring `oom_score_adj` and memcg
//! `oom.group`), prints its usual report and lets the OOM reaper work; with
//! `order = -1` it never panics when nothing is eligible. With `order = -1`
//! the kernel does not wait for a victim that is still exiting either, so
//! the watchdog does that itself ([`OomKiller::pending_victims`] and
//! `logic::stall::oom_gate`).

use crate::bindings as b;
use crate::sys::{self, Kallsyms};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::prelude::*;

type OutOfMemoryFn = unsafe extern "C" fn(*mut b::oom_control) -> bool;

/// What an OOM invocation did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A victim was chosen and killed.
    Killed,
    /// No task was eligible.
    NoneEligible,
}

/// The kernel's OOM killer entry point.
///
/// # Invariants
///
/// `out_of_memory` is the address of the kernel's `out_of_memory()` and can
/// be called indirectly; `oom_lock` is the address of the kernel's `oom_lock`;
/// `oom_victims` is the address of the kernel's `atomic_t oom_victims`.
pub(crate) struct OomKiller {
    out_of_memory: OutOfMemoryFn,
    oom_lock: *mut b::mutex,
    oom_victims: *const AtomicI32,
}

// SAFETY: the pointers refer to kernel text and a kernel global mutex,
// valid for the kernel's lifetime and usable from any thread.
unsafe impl Send for OomKiller {}
// SAFETY: as above; `invoke` takes the kernel's lock.
unsafe impl Sync for OomKiller {}

impl OomKiller {
    /// Looks the OOM killer up.
    pub(crate) fn new(ks: &Kallsyms) -> Result<Self> {
        let oom = ks.lookup(c"out_of_memory")?;
        sys::check_callable(c"out_of_memory", oom)?;
        let lock = ks.lookup(c"oom_lock")?;
        let victims = ks.lookup(c"oom_victims")?;
        // SAFETY: `oom` is the entry of `bool out_of_memory(struct oom_control *)`
        // and is indirectly callable (checked above).
        let out_of_memory = unsafe { core::mem::transmute::<usize, OutOfMemoryFn>(oom) };
        // INVARIANT: all three looked up by name just above.
        Ok(Self {
            out_of_memory,
            oom_lock: lock as *mut b::mutex,
            oom_victims: victims as *const AtomicI32,
        })
    }

    /// OOM victims that have not exited yet (the kernel's `oom_victims`:
    /// raised by `mark_oom_victim()`, lowered by `exit_oom_victim()`).
    pub(crate) fn pending_victims(&self) -> i32 {
        // SAFETY: `oom_victims` is the kernel's `atomic_t` (type invariant), an
        // aligned `int` only ever changed atomically; `AtomicI32` has its size
        // and alignment, and a relaxed load is what `atomic_read()` does.
        unsafe { (*self.oom_victims).load(Ordering::Relaxed) }
    }

    /// Runs the kernel's OOM killer once, as sysrq-f does. Process context only;
    /// may sleep on `oom_lock`. Prints nothing itself while holding it.
    pub(crate) fn invoke(&self) -> Outcome {
        let mut oc = b::oom_control {
            zonelist: core::ptr::null_mut(),
            nodemask: core::ptr::null_mut(),
            memcg: core::ptr::null_mut(),
            gfp_mask: b::NFW_GFP_KERNEL,
            order: -1,
            ..Default::default()
        };
        // SAFETY: `oom_lock` is the kernel's global OOM mutex (type
        // invariant); we are in sleepable process context and hold no lock.
        unsafe { b::nfw_mutex_lock(self.oom_lock) };
        // SAFETY: `oc` is a valid control block for a global OOM (no memcg,
        // no nodemask, like sysrq-f); `oom_lock` is held as required.
        unsafe { (self.out_of_memory)(&mut oc) };
        // SAFETY: we took the lock above.
        unsafe { b::mutex_unlock(self.oom_lock) };
        // `chosen` is NULL when nothing was eligible (with `order = -1` the
        // kernel never aborts for a pending victim, so it is never -1); the
        // victim's reference was dropped by the kernel, so only the value
        // is looked at.
        if oc.chosen.is_null() {
            Outcome::NoneEligible
        } else {
            Outcome::Killed
        }
    }
}
