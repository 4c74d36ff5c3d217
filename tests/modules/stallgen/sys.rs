// SPDX-License-Identifier: GPL-2.0

//! What the stall generator reaches in the kernel beyond the shared files:
//! the current task, sleeping, the zone counters, a NOFS scope, and what
//! `nfw_stallgen_helper.c` does in C.

use core::marker::PhantomData;
use kernel::bindings as b;
use kernel::ffi::{c_char, c_int, c_long, c_ulong};
use kernel::prelude::*;

use crate::comm::{Comm, COMM_LEN};

/// Converts milliseconds to a jiffies timeout, at least one jiffy.
fn ms_to_jiffies(ms: u64) -> isize {
    let ms = ms.clamp(1, u64::from(u32::MAX)) as u32;
    // SAFETY: `__msecs_to_jiffies()` is a pure computation.
    let jiffies = unsafe { b::__msecs_to_jiffies(ms) };
    jiffies.clamp(1, isize::MAX as usize) as isize
}

/// Sleeps interruptibly for about `ms` milliseconds (a worker kthread).
pub(crate) fn sleep_ms(ms: u64) {
    // SAFETY: we are in process context and hold no spinlock.
    unsafe { b::schedule_timeout_interruptible(ms_to_jiffies(ms)) };
}

/// Sleeps for about `ms` milliseconds or until a fatal signal (the
/// controller): other signals, e.g. SIGCHLD when the OOM killer kills the
/// writer's child, neither wake it nor end the run.  (A killable sleep is not
/// reported by the hung-task detector.)
pub(crate) fn sleep_ms_killable(ms: u64) {
    // SAFETY: we are in process context and hold no spinlock.
    unsafe { b::schedule_timeout_killable(ms_to_jiffies(ms)) };
}

/// Whether the current task has a fatal signal (SIGKILL) pending.
pub(crate) fn fatal_signal_pending() -> bool {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_fatal_signal_pending() }
}

/// The current task's command name.
pub(crate) fn current_comm() -> Comm {
    let mut buf = [0u8; COMM_LEN];
    // SAFETY: `buf` is writable for its 16 bytes (TASK_COMM_LEN);
    // `nfw_stallgen_current_comm()` copies the running task's name into it,
    // NUL padded.
    unsafe { nfw_stallgen_current_comm(buf.as_mut_ptr().cast::<c_char>()) };
    Comm(buf)
}

extern "C" {
    /// `memalloc_nofs_save()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_nofs_save() -> u32;
    /// `memalloc_nofs_restore()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_nofs_restore(flags: u32);
    /// `task_pid_nr(current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_pid() -> i32;
    /// `fatal_signal_pending(current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_fatal_signal_pending() -> bool;
    /// Gives every per-CPU pool of `system_wq` and `system_highpri_wq` at
    /// least `per_pool` idle kworkers (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_prewarm_kworkers(per_pool: u32) -> c_int;
    /// `get_task_comm(comm, current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_comm(comm: *mut c_char);
    /// `current_is_kswapd()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_is_kswapd() -> bool;
    /// `mm_account_reclaimed_pages(pages)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_account_reclaimed(pages: c_ulong);
    /// `global_zone_page_state(NR_FREE_PAGES)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_free_pages() -> c_ulong;
    /// Free, per-CPU list and min watermark pages of the first zone of
    /// `GFP_KERNEL` allocations, and how far its free-page counter can
    /// drift (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_zone_state(
        free: *mut c_long,
        pcp: *mut c_long,
        min: *mut c_long,
        drift: *mut c_long,
    );
}

/// Pid of the current task.
pub(crate) fn current_pid() -> i32 {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_current_pid() }
}

/// Whether the current task is kswapd.
pub(crate) fn current_is_kswapd() -> bool {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_current_is_kswapd() }
}

/// Free pages in the buddy allocator (not counting the per-CPU lists).
pub(crate) fn free_pages() -> u64 {
    // SAFETY: a C function without preconditions.
    (unsafe { nfw_stallgen_free_pages() }) as u64
}

/// The zone that `GFP_KERNEL` allocations try first, for `slow_mode=thrash`.
#[derive(Clone, Copy)]
pub(crate) struct ZoneState {
    /// Its free pages, exactly.
    pub(crate) free: i64,
    /// Free pages on its per-CPU lists (not in `free`).
    pub(crate) pcp: i64,
    /// Its min watermark.
    pub(crate) min: i64,
    /// How far the free-page counter that the allocator's watermark checks
    /// read can be from `free` (per-CPU deltas not folded in yet).
    pub(crate) drift: i64,
}

impl ZoneState {
    /// Reads the zone's state now.
    pub(crate) fn now() -> Self {
        let mut v: [c_long; 4] = [0; 4];
        let [free, pcp, min, drift] = &mut v;
        // SAFETY: the four pointers are to distinct live locals.
        unsafe { nfw_stallgen_zone_state(free, pcp, min, drift) };
        let [free, pcp, min, drift] = v.map(|x| x as i64);
        ZoneState {
            free,
            pcp,
            min,
            drift,
        }
    }

    /// Free pages, those on the per-CPU lists included (a failed attempt
    /// after a reclaim round drains the lists).
    pub(crate) fn have(&self) -> i64 {
        self.free + self.pcp
    }

    /// What a scan lifts the zone to: an order-0 allocation passes the min
    /// watermark, whatever the drift of the counter it reads.
    pub(crate) fn top(&self) -> i64 {
        self.min + 1 + self.drift
    }

    /// What the workers take the zone back down to: an allocation fails
    /// the min watermark (and needs a reclaim round), whatever the drift.
    pub(crate) fn bottom(&self) -> i64 {
        self.min - 1 - self.drift
    }
}

/// Counts `pages` as reclaimed by the current task's reclaim round (a
/// shrinker's scan, which runs in that task; no effect outside reclaim).
pub(crate) fn account_reclaimed(pages: u64) {
    // SAFETY: `mm_account_reclaimed_pages()` only adds to the current
    // task's own `reclaim_state`, if it has one.
    unsafe { nfw_stallgen_account_reclaimed(pages as c_ulong) };
}

/// A `memalloc_nofs_save()` scope: sets `PF_MEMALLOC_NOFS` on the current
/// task until dropped.
///
/// Not `Send`: it belongs to the task that entered it.
pub(crate) struct NofsScope {
    /// What `memalloc_nofs_save()` returned.
    saved: u32,
    /// Ties the scope to the current task.
    _not_send: PhantomData<*mut ()>,
}

impl NofsScope {
    /// Enters the scope.
    pub(crate) fn enter() -> Self {
        NofsScope {
            // SAFETY: a C function without preconditions; its result is
            // passed back to `memalloc_nofs_restore()` on the same task.
            saved: unsafe { nfw_stallgen_nofs_save() },
            _not_send: PhantomData,
        }
    }
}

impl Drop for NofsScope {
    fn drop(&mut self) {
        // SAFETY: `saved` came from `memalloc_nofs_save()` on this task (the
        // scope is not `Send`), and scopes are dropped in reverse order.
        unsafe { nfw_stallgen_nofs_restore(self.saved) };
    }
}

/// Gives every per-CPU pool of `system_wq` and `system_highpri_wq` at least
/// `per_pool` idle kworkers (see `Shared::run()`).
pub(crate) fn prewarm_kworkers(per_pool: u32) -> Result {
    // SAFETY: a C function without preconditions; it sleeps, as we may.
    let ret = unsafe { nfw_stallgen_prewarm_kworkers(per_pool) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}
