// SPDX-License-Identifier: GPL-2.0

//! The two hook points, both off the allocation fast path:
//!
//! - a kretprobe on `__alloc_pages_slowpath()` follows every allocation in
//!   scope from slow-path entry to return (entered only when the fast path
//!   failed);
//! - an ftrace hook on `try_to_free_pages()` (direct reclaim, once per retry
//!   round) counts rounds of tracked tasks and, once back-off is due,
//!   redirects that one call to [`reclaim_backoff`], which sleeps in the
//!   task's own context like `memalloc_retry_wait()` and then reclaims.

use crate::bindings as b;
use crate::config;
use crate::logic::gfp;
use crate::logic::stall;
use crate::sys::{self, KretprobeHandler, RedirectCallback};
use crate::track::{self, Own, Token};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kernel::ffi::{c_int, c_ulong, c_void};

/// The slow-path probe.
pub(crate) struct SlowPath;

impl KretprobeHandler for SlowPath {
    fn entry(regs: &b::pt_regs) -> Option<u64> {
        if !config::enabled() {
            return None;
        }
        // __alloc_pages_slowpath(gfp_t gfp_mask, unsigned int order, struct alloc_context *ac):
        // the mask already went through current_gfp_context().
        let gfp_mask = regs.di as u32;
        let order = regs.si as u32;
        let kind = gfp::tracked(config::scope(), gfp_mask, order)?;
        track::STATS.tracked.fetch_add(1, Ordering::Relaxed);
        let task = sys::current_task();
        track::claim(&task, gfp_mask, order, kind, sys::now_ns()).map(Token::to_u64)
    }

    fn ret(data: u64) {
        track::release(Token::from_u64(data), sys::now_ns());
    }
}

/// Address of the original `try_to_free_pages()`.
pub(crate) static RECLAIM_ORIG: AtomicUsize = AtomicUsize::new(0);
/// Tasks executing [`reclaim_backoff`] right now.
pub(crate) static IN_BACKOFF: AtomicUsize = AtomicUsize::new(0);
/// Set at unload: no new sleeps.
pub(crate) static UNLOADING: AtomicBool = AtomicBool::new(false);

/// The reclaim hook's decision.
pub(crate) struct Reclaim;

impl RedirectCallback for Reclaim {
    fn redirect() -> Option<usize> {
        let own = Own::new(track::find(sys::current_addr())?)?;
        if !own.in_allocator() || own.in_wrapper() {
            // Our own call of the original from `reclaim_backoff`.
            return None;
        }
        let (start, sleeps) = own.round();
        if UNLOADING.load(Ordering::Relaxed) {
            return None;
        }
        let ms = stall::backoff_sleep_ms(&config::policy(), sys::now_ns(), start, sleeps);
        if ms == 0 {
            return None;
        }
        own.set_pending_sleep(ms);
        Some(reclaim_backoff as *const () as usize)
    }
}

type ReclaimFn = unsafe extern "C" fn(*mut c_void, c_int, u32, *mut c_void) -> c_ulong;

/// Replacement of `try_to_free_pages()` for a stuck task whose back-off is due.
///
/// `unsigned long try_to_free_pages(struct zonelist *, int order, gfp_t, nodemask_t *)`.
/// Runs in the task's own context, where the original may sleep too, and
/// holds no lock of ours while sleeping.
///
/// # Safety
///
/// Only entered through the ftrace redirect of `try_to_free_pages()`, with
/// that function's arguments.
unsafe extern "C" fn reclaim_backoff(
    zonelist: *mut c_void,
    order: c_int,
    gfp_mask: u32,
    nodemask: *mut c_void,
) -> c_ulong {
    IN_BACKOFF.fetch_add(1, Ordering::SeqCst);
    let own = track::find(sys::current_addr()).and_then(Own::new);
    if let Some(own) = &own {
        let ms = own.take_pending_sleep();
        if ms > 0 && !UNLOADING.load(Ordering::Relaxed) {
            sys::retry_wait(ms);
            own.slept(ms);
        }
        own.set_in_wrapper(true);
    }
    // SAFETY: `RECLAIM_ORIG` holds the address of `try_to_free_pages()`,
    // checked callable at init, with exactly this signature.
    let orig =
        unsafe { core::mem::transmute::<usize, ReclaimFn>(RECLAIM_ORIG.load(Ordering::Relaxed)) };
    // SAFETY: forwarding the caller's own arguments to the original. The
    // ftrace callback sees `in_wrapper` and lets this call through. This is
    // not a tail call: we clean up after it.
    let ret = unsafe { orig(zonelist, order, gfp_mask, nodemask) };
    if let Some(own) = &own {
        own.set_in_wrapper(false);
    }
    IN_BACKOFF.fetch_sub(1, Ordering::SeqCst);
    ret
}
