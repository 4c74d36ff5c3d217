// SPDX-License-Identifier: GPL-2.0

//! Letting the kernel's own OOM killer act for a stall it skips.
//!
//! `out_of_memory()` returns before choosing a victim for a global OOM
//! without `__GFP_FS`: the allocation loops with no OOM kill, ever. The
//! `out_of_memory()` probe (see `hooks`) sees each such call a looping
//! allocation makes, only after `__alloc_pages_may_oom()` has applied the
//! kernel's rules; for a stall armed past `oom_after_ms` it hands the
//! kernel a copy of the control block with `__GFP_FS`, in the stuck task's
//! own call. Everything else is the kernel's: OOM notifiers, a dying
//! `current`, cpuset/mempolicy constraints, `vm.panic_on_oom`, the wait for
//! a victim that is still exiting, `oom_score_adj`, the OOM reaper, and
//! `panic("System is deadlocked on memory")` when no task is eligible,
//! exactly as for the same allocation with `__GFP_FS`.
//!
//! This file has the probe ([`OutOfMemory`]; when a stall is due is
//! `logic::stall::oom_due`'s decision) and the record of the latest
//! trigger, written by the probe (under the kernel's `oom_lock`, which
//! serialises all OOM calls) and read by the watchdog thread, which
//! reports it.

use crate::config;
use crate::hooks::UNLOADING;
use crate::logic::gfp::{self, Kind};
use crate::logic::stall;
use crate::sys::compat;
use crate::sys::oom::OomControl;
use crate::sys::{self, Comm, KretprobeHandler, Regs};
use crate::track::{Own, Snapshot, STATS};
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

/// Whether the OOM trigger applies to a stall of `kind` with mask `gfp`:
/// it cannot fail and cannot reach the OOM killer itself (no `__GFP_FS`).
pub(crate) fn applies(kind: Kind, gfp: u32) -> bool {
    kind != Kind::Other && gfp::is_nofs(gfp)
}

/// Time of the latest kill after a trigger (0 = none): `oom_interval_ms`
/// runs from it.
static LAST_KILL_NS: AtomicU64 = AtomicU64::new(0);

/// The latest kill, if any.
pub(crate) fn last_kill() -> Option<u64> {
    match LAST_KILL_NS.load(Ordering::Relaxed) {
        0 => None,
        t => Some(t),
    }
}

/// Time of the kernel's latest global (not memcg, not sysrq)
/// `out_of_memory()` call, for any task (0 = none): its verdict that
/// memory is exhausted, which holds uevents back for a while
/// (`logic::events::verdict_holds`).
static LAST_VERDICT_NS: AtomicU64 = AtomicU64::new(0);

/// The kernel's latest verdict that memory is exhausted, if any.
pub(crate) fn last_verdict() -> Option<u64> {
    match LAST_VERDICT_NS.load(Ordering::Relaxed) {
        0 => None,
        t => Some(t),
    }
}

/// What the kernel did with a triggered call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It killed a task.
    Killed,
    /// It waited for an earlier victim that is still exiting.
    Deferred,
    /// It returned before choosing (an OOM notifier freed memory, or the
    /// stuck task itself is dying).
    NoKill,
}

/// The record of the latest trigger: a sequence count (odd while being
/// written) and the stall it was for.
///
/// Not a `logic::seqcount::SeqCount`: its write is open across the whole
/// `out_of_memory()` call (odd from [`armed`] at the entry to [`outcome`]
/// at the return), which a closure-scoped write cannot express.
///
/// # Invariants
///
/// Written only by [`armed`] and [`outcome`], which the kernel's `oom_lock`
/// serialises (`out_of_memory()` runs under it, and the probe runs at its
/// entry and return).
struct Record {
    seq: AtomicU32,
    pid: AtomicI32,
    comm: [AtomicU64; 2],
    gfp: AtomicU32,
    order: AtomicU32,
    kind: AtomicU32,
    start_ns: AtomicU64,
    at_ns: AtomicU64,
    killed: AtomicU32,
}

static REC: Record = Record {
    seq: AtomicU32::new(0),
    pid: AtomicI32::new(0),
    comm: [AtomicU64::new(0), AtomicU64::new(0)],
    gfp: AtomicU32::new(0),
    order: AtomicU32::new(0),
    kind: AtomicU32::new(0),
    start_ns: AtomicU64::new(0),
    at_ns: AtomicU64::new(0),
    killed: AtomicU32::new(0),
};

/// The stall of `own` is armed and its task's `out_of_memory()` call is
/// about to run with `__GFP_FS`.
pub(crate) fn armed(own: &Own) {
    let s = own.snapshot();
    let at_ns = crate::sys::now_ns();
    crate::sys::trace::oom_trigger(|| {
        s.trace(stall::elapsed(at_ns, s.start_ns) / stall::NSEC_PER_MSEC)
    });
    STATS.oom_triggers.fetch_add(1, Ordering::Relaxed);
    REC.seq.fetch_add(1, Ordering::AcqRel);
    core::sync::atomic::fence(Ordering::Release);
    REC.pid.store(s.pid, Ordering::Relaxed);
    let c = s.comm.pack();
    REC.comm[0].store(c[0], Ordering::Relaxed);
    REC.comm[1].store(c[1], Ordering::Relaxed);
    REC.gfp.store(s.gfp, Ordering::Relaxed);
    REC.order.store(s.order, Ordering::Relaxed);
    REC.kind.store(s.kind as u32, Ordering::Relaxed);
    REC.start_ns.store(s.start_ns, Ordering::Relaxed);
    REC.at_ns.store(at_ns, Ordering::Relaxed);
    REC.killed.store(0, Ordering::Relaxed);
}

/// The triggered `out_of_memory()` call returned with `chosen` in its
/// control block (NULL: no victim chosen; -1: an earlier victim is still
/// exiting; otherwise the victim, killed; only the value is looked at).
pub(crate) fn outcome(chosen: usize) {
    let o = match chosen {
        0 => Outcome::NoKill,
        usize::MAX => Outcome::Deferred,
        _ => Outcome::Killed,
    };
    match o {
        Outcome::Killed => {
            STATS.oom_kills.fetch_add(1, Ordering::Relaxed);
            LAST_KILL_NS.store(crate::sys::now_ns().max(1), Ordering::Relaxed);
            REC.killed.store(1, Ordering::Relaxed);
        }
        Outcome::Deferred => {
            STATS.oom_deferred.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::NoKill => {}
    }
    // Even: complete. The watchdog reports kills only.
    REC.seq.fetch_add(1, Ordering::Release);
    if o == Outcome::Killed {
        crate::sysfs::wake_watchdog();
    }
}

/// A kill after a trigger, for the watchdog's report.
pub(crate) struct Kill {
    /// The stall it was for (as it was at the trigger).
    pub(crate) stall: Snapshot,
    /// When the trigger happened.
    pub(crate) at_ns: u64,
}

/// The latest completed trigger if it is newer than `seen` and ended in a
/// kill; updates `seen`.
pub(crate) fn new_kill(seen: &mut u32) -> Option<Kill> {
    for _ in 0..4 {
        let seq = REC.seq.load(Ordering::Acquire);
        if seq & 1 != 0 {
            return None;
        }
        if seq == *seen {
            return None;
        }
        let stall = Snapshot {
            idx: 0,
            gen: 0,
            task: 0,
            pid: REC.pid.load(Ordering::Relaxed),
            comm: Comm::unpack([
                REC.comm[0].load(Ordering::Relaxed),
                REC.comm[1].load(Ordering::Relaxed),
            ]),
            gfp: REC.gfp.load(Ordering::Relaxed),
            order: REC.order.load(Ordering::Relaxed),
            kind: crate::track::kind_from(REC.kind.load(Ordering::Relaxed)),
            in_scope: true,
            pending: false,
            adopted: false,
            last_round_ns: 0,
            start_ns: REC.start_ns.load(Ordering::Relaxed),
            rounds: 0,
            sleeps: 0,
            // The trigger was one of its out_of_memory() calls.
            oom_calls: 1,
            first_report_ns: 0,
            last_report_ns: 0,
            ended_ns: 0,
        };
        let at_ns = REC.at_ns.load(Ordering::Relaxed);
        let killed = REC.killed.load(Ordering::Relaxed) != 0;
        core::sync::atomic::fence(Ordering::Acquire);
        if REC.seq.load(Ordering::Relaxed) != seq {
            continue;
        }
        *seen = seq;
        return killed.then_some(Kill { stall, at_ns });
    }
    None
}

/// What the OOM probe keeps while `out_of_memory()` runs: the copy of the
/// control block it passed in, with `__GFP_FS`.
#[derive(Clone, Copy)]
pub(crate) struct OomCall {
    oc: OomControl,
}

/// The `out_of_memory()` probe.
pub(crate) struct OutOfMemory;

impl KretprobeHandler for OutOfMemory {
    type Data = OomCall;

    fn entry(regs: &mut Regs, slot: *mut OomCall) -> Option<OomCall> {
        if !config::enabled() || UNLOADING.load(Ordering::Relaxed) {
            return None;
        }
        let orig = compat::oom_control_arg(regs)?;
        let now = sys::now_ns();
        if !orig.is_memcg() && orig.order() >= 0 {
            LAST_VERDICT_NS.store(now.max(1), Ordering::Relaxed);
        }
        let own = Own::current()?;
        let round = own.oom_call();
        STATS.oom_calls.fetch_add(1, Ordering::Relaxed);
        let kind = round.kind?;
        // A memcg OOM, sysrq's (order -1) or a `__GFP_FS` one: the kernel
        // acts on them itself.
        if orig.is_memcg() || orig.order() < 0 || !applies(kind, orig.gfp_mask()) {
            return None;
        }
        let policy = config::policy();
        if !stall::oom_due(&policy, now, round.start_ns, last_kill()) {
            return None;
        }
        let mut call = OomCall { oc: orig };
        call.oc.add_gfp(gfp::FS);
        call.oc.clear_chosen();
        armed(&own);
        // The kernel now works on the copy, which stays in the probe
        // instance until `out_of_memory()` returns (written there by the
        // caller of this handler before the function runs).
        compat::set_first_arg(regs, slot as usize);
        Some(call)
    }

    fn ret(_regs: &Regs, call: &OomCall) {
        outcome(call.oc.chosen());
    }
}
