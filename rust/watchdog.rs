// SPDX-License-Identifier: GPL-2.0

//! The watchdog thread, modelled on khungtaskd: it scans the tracked
//! allocations, reports those stuck longer than `stall_warn_ms` (then every
//! `warn_interval_ms`, within the `max_warnings` budget), and reports the
//! OOM kills the kernel made for armed stalls (the kill itself happens in
//! the stuck task's own `out_of_memory()` call, see `oom`).
//!
//! Everything that prints or takes locks happens here, in process context,
//! never in the hooks. It sleeps until the next thing can become due.

use crate::config;
use crate::events::Emitter;
use crate::logic::gfp::{self, Gfp};
use crate::logic::knobs::Knob;
use crate::logic::stall::{self, Budget, BudgetDecision, Policy};
use crate::oom;
use crate::sys::{self, ThreadBody};
use crate::track::{self, Snapshot, STATS};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

/// Set by a write of `max_warnings`: start a fresh budget.
pub(crate) static RESET_BUDGET: AtomicBool = AtomicBool::new(false);
/// Reports collected in one scan and printed after it, at most.
const BATCH: usize = 16;
/// Polling period while a stall whose report is overdue lingers between
/// two allocations of its task.
const LINGER_POLL_NS: u64 = 20_000_000;

/// The watchdog thread's body.
pub(crate) struct Watchdog;

impl ThreadBody for Watchdog {
    fn run() {
        let mut state = State::new();
        while !sys::should_stop() {
            let next = state.pass();
            sleep_until(next);
        }
    }
}

/// What the watchdog thread keeps from one pass to the next.
struct State {
    /// Reports left to print (`max_warnings`).
    budget: Budget,
    /// Events for userspace.
    events: Emitter,
    /// The latest OOM trigger reported.
    kills_seen: u32,
    /// Allocations not tracked because the table was full, at the last pass.
    overflow_seen: u64,
    /// Whether the table being full was said in this episode (until the
    /// table is empty again).
    overflow_said: bool,
}

/// One pass over the table: the knobs and time it runs with, what it
/// found due, and when the next pass must run.
struct Scan {
    policy: Policy,
    now: u64,
    /// When to wake for the next pass.
    next: u64,
    /// Reports to print after the scan (and the stall's age in ms), so
    /// that printing (slow on a serial console) does not delay detecting
    /// the others.
    due: [Option<(Snapshot, u64)>; BATCH],
    n_due: usize,
}

impl Scan {
    fn new(policy: Policy, now: u64) -> Self {
        Self {
            next: now.saturating_add(stall::ms_to_ns(policy.stall_warn_ms)),
            policy,
            now,
            due: [None; BATCH],
            n_due: 0,
        }
    }

    /// Wake for the next pass at `t` at the latest.
    fn wake_by(&mut self, t: u64) {
        self.next = self.next.min(t);
    }

    /// `t`, or a poll [`LINGER_POLL_NS`] from now if that is later.
    fn polled(&self, t: u64) -> u64 {
        t.max(self.now.saturating_add(LINGER_POLL_NS))
    }
}

impl State {
    fn new() -> Self {
        Self {
            budget: Budget::new(config::get(Knob::MaxWarnings)),
            events: Emitter::new(),
            kills_seen: 0,
            overflow_seen: STATS.overflow.load(Ordering::Relaxed),
            overflow_said: false,
        }
    }

    /// One pass, as khungtaskd's: scan the table and decide for each
    /// stall, then act (events, reports, the table-full warning, OOM
    /// kills). Returns when the next pass is due.
    fn pass(&mut self) -> u64 {
        if RESET_BUDGET.swap(false, Ordering::Relaxed) {
            self.budget.reset(config::get(Knob::MaxWarnings));
        }
        let mut scan = Scan::new(config::policy(), sys::now_ns());
        self.scan(&mut scan);
        // Userspace first: printing to a serial console is slow.
        self.events.collect_ended();
        self.events.flush();
        if self.events.holding() {
            scan.wake_by(scan.now.saturating_add(crate::logic::events::END_POLL_NS));
        }
        for (s, ms) in scan.due.iter().flatten() {
            report(s, *ms, &mut self.budget);
        }
        self.warn_overflow();
        self.report_kill();
        if STATS.occupied.load(Ordering::Relaxed) == 0 {
            self.overflow_said = false;
        }
        scan.next
    }

    /// Looks at every tracked allocation.
    fn scan(&mut self, scan: &mut Scan) {
        if STATS.occupied.load(Ordering::Relaxed) == 0 {
            return;
        }
        for idx in 0..track::CAPACITY {
            if let Some(s) = track::snapshot(idx) {
                self.decide(scan, idx, s);
            }
        }
    }

    /// Decides for the allocation `s` in slot `idx`: closes it if it is
    /// over, collects its report if one is due, and says when to look at
    /// it again.
    fn decide(&mut self, scan: &mut Scan, idx: usize, s: Snapshot) {
        let now = scan.now;
        let backoff_max_ns = stall::ms_to_ns(scan.policy.backoff_max_ms);
        if s.adopted_quiet(now, scan.policy.backoff_max_ms) {
            // Its rounds stopped: the adopted allocation is over.
            track::close_adopted(idx, s.last_round_ns);
            return;
        }
        if s.adopted && s.in_allocator() {
            // Look again when it would count as quiet.
            let quiet_at = s
                .last_round_ns
                .saturating_add(track::ADOPTED_QUIET_NS)
                .saturating_add(backoff_max_ns);
            scan.wake_by(scan.polled(quiet_at));
        }
        if !s.in_scope {
            if !s.in_allocator() {
                track::expire(idx, s.ended_ns);
            } else if s.pending {
                // Not classified yet (no reclaim round so far): look again
                // when it could be due, if it has been classified in scope
                // by then.
                let due = s
                    .start_ns
                    .saturating_add(stall::ms_to_ns(scan.policy.stall_warn_ms));
                scan.wake_by(scan.polled(due));
            }
            return;
        }
        // Also between two allocations: a crawling stall (each allocation
        // quick, from the reserves) is there often.
        if let Some(t) = self.events.watch(&s, &scan.policy, now) {
            scan.wake_by(t.max(now));
        }
        if !s.in_allocator() {
            lingering(scan, idx, &s);
            return;
        }
        if scan.n_due < BATCH {
            if let Some(ms) = detect(&s, &scan.policy, now) {
                if s.first_report_ns == 0 {
                    self.events.stall(&s, now);
                }
                scan.due[scan.n_due] = Some((s, ms));
                scan.n_due += 1;
            }
        } else {
            // More due than one batch: scan again right away.
            scan.next = now;
        }
        let last_report = (s.last_report_ns != 0).then_some(s.last_report_ns);
        scan.wake_by(stall::next_deadline(
            &scan.policy,
            now,
            s.start_ns,
            last_report,
            false,
        ));
    }

    /// Says, once per episode, that the table is full.
    fn warn_overflow(&mut self) {
        let overflow = STATS.overflow.load(Ordering::Relaxed);
        if overflow != self.overflow_seen && !self.overflow_said {
            self.overflow_said = true;
            pr_warn!(
                "tracking table full ({} allocations): further slow-path allocations are only counted (stats: overflow)\n",
                track::CAPACITY
            );
        }
        self.overflow_seen = overflow;
    }

    /// Reports the kernel's OOM kill for a stall, if a new one happened.
    fn report_kill(&mut self) {
        if let Some(kill) = oom::new_kill(&mut self.kills_seen) {
            report_kill(&kill);
            self.events.oom(&kill.stall, kill.at_ns);
            self.events.flush();
        }
    }
}

/// A stall between two allocations of its task (in slot `idx`): closes it
/// once the task has stayed away long enough.
fn lingering(scan: &mut Scan, idx: usize, s: &Snapshot) {
    let close_at = s.ended_ns.saturating_add(track::LINGER_NS);
    if scan.now >= close_at {
        track::expire(idx, s.ended_ns);
    } else {
        // The task may come back any moment with its old start: wake for
        // its report deadline too, polling (for at most the linger time)
        // when that deadline has passed already.
        let last = (s.last_report_ns != 0).then_some(s.last_report_ns);
        let report_at = stall::next_deadline(&scan.policy, scan.now, s.start_ns, last, false);
        scan.wake_by(close_at.min(scan.polled(report_at)));
    }
}

/// Sleeps (interruptibly: a knob write wakes the thread) until `next`, at
/// least 1 ms.
fn sleep_until(next: u64) {
    let wait_ns = next.saturating_sub(sys::now_ns());
    let ms = wait_ns.div_ceil(1_000_000).clamp(1, u64::from(u32::MAX)) as u32;
    sys::sleep_interruptible(sys::ms_to_jiffies(ms));
}

/// Whether a report of `s` is due; if so, records it (detection time
/// `now`, stall counters, `panic_on_stall`) and returns the stall's age in ms.
fn detect(s: &Snapshot, policy: &Policy, now: u64) -> Option<u64> {
    let elapsed_ms = stall::elapsed(now, s.start_ns) / stall::NSEC_PER_MSEC;
    STATS.longest_ms.fetch_max(elapsed_ms, Ordering::Relaxed);
    let last_report = (s.last_report_ns != 0).then_some(s.last_report_ns);
    if !stall::report_due(policy, now, s.start_ns, last_report) {
        return None;
    }
    track::mark_reported(s, now);
    if s.first_report_ns == 0 {
        STATS.stalls.fetch_add(1, Ordering::Relaxed);
        if config::get(Knob::PanicOnStall) != 0 {
            panic_on_stall(s, elapsed_ms);
        }
    }
    Some(elapsed_ms)
}

/// Prints the report of `s`, stuck `elapsed_ms`, within the budget.
fn report(s: &Snapshot, elapsed_ms: u64, budget: &mut Budget) {
    match budget.take() {
        BudgetDecision::Print => {
            STATS.reports.fetch_add(1, Ordering::Relaxed);
            pr_err!(
                "INFO: task {}:{} stuck in page allocation for more than {} ms (kind={} order={} gfp={} retries={})\n",
                format_args!("{}", s.comm),
                s.pid,
                elapsed_ms,
                s.kind.as_str(),
                s.order,
                format_args!("{}", Gfp(s.gfp)),
                s.rounds
            );
            sys::trace::stall_report(|| s.trace(elapsed_ms));
            if s.adopted {
                pr_err!(
                    "      this allocation was already in the slow path when nofail_watchdog began following it: stuck at least this long\n"
                );
            }
            if gfp::is_nofs(s.gfp) {
                pr_err!(
                    "      this allocation has no __GFP_FS: the kernel's OOM killer will not act on it\n"
                );
            }
            sys::show_task_stack(s.pid, s.task);
        }
        BudgetDecision::AnnounceSuppressed => {
            STATS.suppressed.fetch_add(1, Ordering::Relaxed);
            pr_err!(
                "further stall reports suppressed (max_warnings={}); see /sys/kernel/nofail_watchdog/stats\n",
                budget.max
            );
        }
        BudgetDecision::Silent => {
            STATS.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn panic_on_stall(s: &Snapshot, ms: u64) -> ! {
    let mut buf = [0u8; 160];
    let mut w = crate::logic::fmtbuf::FmtBuf::new(&mut buf[..159]);
    let _ = core::fmt::write(
        &mut w,
        format_args!(
            "nofail_watchdog: task {}:{} stuck in page allocation for {} ms (gfp={})",
            s.comm,
            s.pid,
            ms,
            Gfp(s.gfp)
        ),
    );
    sys::panic(&buf)
}

/// Says that the kernel's OOM killer killed a task for the stall in `kill`
/// (its own report, printed by the stuck task, comes just before).
fn report_kill(kill: &oom::Kill) {
    let s = &kill.stall;
    pr_err!(
        "triggered OOM kill for task {}:{} stuck {} ms in {} allocation: its out_of_memory() call was shown __GFP_FS\n",
        format_args!("{}", s.comm),
        s.pid,
        stall::elapsed(kill.at_ns, s.start_ns) / stall::NSEC_PER_MSEC,
        format_args!("{}", Gfp(s.gfp))
    );
}
