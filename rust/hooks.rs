// SPDX-License-Identifier: GPL-2.0

//! The hook points, all off the allocation fast path and all reached
//! through interfaces the kernel exports to modules:
//!
//! - a kretprobe on `__alloc_pages_slowpath()` (or its compiler clone)
//!   follows every allocation from slow-path entry to return; it reads no
//!   argument, so a clone's calling convention does not matter;
//! - the `mm_vmscan_direct_reclaim_begin`/`_end` tracepoints, once per
//!   direct-reclaim round, give the allocation's mask (after
//!   `current_gfp_context()`) and order, count rounds, note whether reclaim
//!   made progress, decide the round's back-off sleep, and adopt an
//!   allocation already looping when the module loaded;
//! - a shrinker, which direct reclaim runs in the reclaiming task's own
//!   context, takes that back-off sleep (once per round), as
//!   `memalloc_retry_wait()` would;
//! - a kretprobe on `out_of_memory()` (in `oom`) sees every OOM call of a looping
//!   allocation after `__alloc_pages_may_oom()` has applied the kernel's
//!   rules (costly order, `__GFP_THISNODE`, lowmem, `__GFP_RETRY_MAYFAIL`);
//!   for a stall armed past `oom_after_ms` it passes the kernel a copy of
//!   the `oom_control` that has `__GFP_FS`, so that the kernel's own OOM
//!   killer decides the rest (notifiers, a dying `current`, constraints,
//!   `panic_on_oom`, the wait for an exiting victim, the victim itself).
//!
//! Handlers run in the allocating task's context, atomically: they do not
//! sleep, allocate or print (the shrinker's scan is the one place that
//! sleeps, by design).

use crate::config;
use crate::logic::gfp;
use crate::logic::stall;
use crate::oom;
use crate::sys::compat::{self, ReclaimRounds};
use crate::sys::{self, KretprobeHandler, Regs, ShrinkerCallbacks};
use crate::track::{self, Own, Token};
use core::sync::atomic::{AtomicBool, Ordering};

/// Set at unload: no new sleeps, no new OOM triggers.
pub(crate) static UNLOADING: AtomicBool = AtomicBool::new(false);

/// The slow-path probe.
pub(crate) struct SlowPath;

impl KretprobeHandler for SlowPath {
    type Data = u64;

    fn entry(_regs: &mut Regs, _slot: *mut u64) -> Option<u64> {
        // An allocation from an interrupt cannot block (nor loop) and is
        // not the interrupted task's: it must not touch that task's stall.
        if !config::enabled() || !sys::probed_in_task() {
            return None;
        }
        let task = sys::current_task();
        let token = track::claim(&task, sys::now_ns())?;
        track::STATS.tracked.fetch_add(1, Ordering::Relaxed);
        Some(token.to_u64())
    }

    fn ret(regs: &Regs, data: &u64) {
        let failed = compat::return_value(regs) == 0;
        track::release(Token::from_u64(*data), sys::now_ns(), failed);
    }
}

/// The reclaim-round tracepoints.
pub(crate) struct Rounds;

impl ReclaimRounds for Rounds {
    fn begin(gfp: u32, order: i32) {
        reclaim_begin(gfp, order);
    }

    fn end(nr_reclaimed: u64) {
        reclaim_end(nr_reclaimed);
    }
}

/// `mm_vmscan_direct_reclaim_begin`: a reclaim round of an allocation.
fn reclaim_begin(gfp_mask: u32, order: i32) {
    let order = order.max(0) as u32;
    let now = sys::now_ns();
    let mut adopted = false;
    let own = match Own::current() {
        Some(own) => own,
        None => {
            // Not followed from its slow-path entry: it entered before the
            // module loaded or was enabled, or while the table was full.
            // Adopt it if it is in scope.
            if !config::enabled() || track::find(sys::current_addr()).is_some() {
                return;
            }
            let kind = gfp::tracked(config::scope(), gfp_mask, order);
            if kind.is_none() {
                return;
            }
            let task = sys::current_task();
            let start = track::unfollowed_until(now);
            if track::adopt(&task, gfp_mask, order, kind, start).is_none() {
                return;
            }
            adopted = true;
            match Own::current() {
                Some(own) => own,
                None => return,
            }
        }
    };
    let kind = gfp::tracked(config::scope(), gfp_mask, order);
    let round = own.round_begin(gfp_mask, order, kind, now);
    if round.began || adopted {
        sys::trace::stall_begin(|| {
            let s = own.snapshot();
            (
                s.trace(stall::elapsed(now, s.start_ns) / stall::NSEC_PER_MSEC),
                adopted,
            )
        });
    }
    let Some(kind) = round.kind else {
        return;
    };
    let policy = config::policy();
    // Sleep so that the round after it reaches the OOM killer by the
    // stall's OOM deadline, if the kernel lets this allocation get there.
    let oom_deadline = if round.oom_calls > 0 && oom::applies(kind, round.gfp) {
        stall::oom_deadline(&policy, round.start_ns, oom::last_kill())
    } else {
        None
    };
    let ms = stall::backoff_sleep_capped(&policy, now, round.start_ns, round.sleeps, oom_deadline);
    let ms = stall::after_kill_cap(&policy, now, oom::last_kill(), ms);
    // Never delay a task that is dying (it must exit and release its locks).
    let ms = if ms > 0 && (UNLOADING.load(Ordering::Relaxed) || sys::current_dying()) {
        0
    } else {
        ms
    };
    own.set_pending_sleep(ms);
}

/// `mm_vmscan_direct_reclaim_end`: the round reclaimed `nr_reclaimed` pages.
fn reclaim_end(nr_reclaimed: u64) {
    if let Some(own) = Own::current() {
        own.round_end(nr_reclaimed, sys::now_ns());
    }
}

/// The back-off shrinker: answers only for a tracked task whose back-off
/// sleep is due in this reclaim round, and sleeps in its scan.
pub(crate) struct Backoff;

/// What the shrinker claims it could free for a task due to sleep: enough
/// for the shrinker core to call `scan` once (with `seeks = 0`).
const BACKOFF_COUNT: u64 = 1024;

impl ShrinkerCallbacks for Backoff {
    fn count() -> u64 {
        match Own::current() {
            Some(own) if own.sleep_pending() => BACKOFF_COUNT,
            _ => 0,
        }
    }

    fn scan() -> u64 {
        let Some(own) = Own::current() else {
            return sys::SHRINK_STOP;
        };
        // Taken once per round: the other shrinker calls of this round
        // (one per priority level and node) see nothing pending.
        let ms = own.take_pending_sleep();
        if ms > 0 && !UNLOADING.load(Ordering::Relaxed) && !sys::current_dying() {
            sys::trace::backoff_sleep(|| {
                let s = own.snapshot();
                let since = stall::elapsed(sys::now_ns(), s.start_ns);
                (s.trace(since / stall::NSEC_PER_MSEC), ms)
            });
            sys::backoff_sleep(ms, &UNLOADING);
            own.slept(ms, sys::now_ns());
        }
        sys::SHRINK_STOP
    }
}
