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
/// Reports collected in one scan and printed after it, so that printing
/// (slow on a serial console) does not delay detecting the others.
const BATCH: usize = 16;
/// Polling period while a stall whose report is overdue lingers between
/// two allocations of its task.
const LINGER_POLL_NS: u64 = 20_000_000;

/// The watchdog thread's body.
pub(crate) struct Watchdog;

impl ThreadBody for Watchdog {
    fn run() {
        let mut budget = Budget::new(config::get(Knob::MaxWarnings));
        let mut events = Emitter::new();
        // The latest OOM trigger reported.
        let mut kills_seen = 0u32;
        // Allocations not tracked because the table was full: said once
        // per episode (until the table is empty again).
        let mut overflow_seen = STATS.overflow.load(Ordering::Relaxed);
        let mut overflow_said = false;
        while !sys::should_stop() {
            if RESET_BUDGET.swap(false, Ordering::Relaxed) {
                budget.reset(config::get(Knob::MaxWarnings));
            }
            let policy = config::policy();
            let now = sys::now_ns();
            let mut next = now.saturating_add(stall::ms_to_ns(policy.stall_warn_ms));
            let mut due: [Option<(Snapshot, u64)>; BATCH] = [None; BATCH];
            let mut n_due = 0;
            if STATS.occupied.load(Ordering::Relaxed) > 0 {
                for idx in 0..track::CAPACITY {
                    let Some(s) = track::snapshot(idx) else {
                        continue;
                    };
                    if s.adopted_quiet(now, policy.backoff_max_ms) {
                        // Its rounds stopped: the adopted allocation is over.
                        track::close_adopted(idx, s.last_round_ns);
                        continue;
                    }
                    if s.adopted && s.in_allocator() {
                        // Look again when it would count as quiet.
                        next = next.min(
                            s.last_round_ns
                                .saturating_add(track::ADOPTED_QUIET_NS)
                                .saturating_add(stall::ms_to_ns(policy.backoff_max_ms))
                                .max(now.saturating_add(LINGER_POLL_NS)),
                        );
                    }
                    if !s.in_scope {
                        if !s.in_allocator() {
                            track::expire(idx, s.ended_ns);
                        } else if s.pending {
                            // Not classified yet (no reclaim round so far):
                            // look again when it could be due, if it has
                            // been classified in scope by then.
                            let due = s
                                .start_ns
                                .saturating_add(stall::ms_to_ns(policy.stall_warn_ms));
                            next = next.min(due.max(now.saturating_add(LINGER_POLL_NS)));
                        }
                        continue;
                    }
                    // Also between two allocations: a crawling stall (each
                    // allocation quick, from the reserves) is there often.
                    if let Some(t) = events.watch(&s, &policy, now) {
                        next = next.min(t.max(now));
                    }
                    if !s.in_allocator() {
                        // Between two allocations of a stall: close it once
                        // the task has stayed away long enough.
                        let close_at = s.ended_ns.saturating_add(track::LINGER_NS);
                        if now >= close_at {
                            track::expire(idx, s.ended_ns);
                        } else {
                            // The task may come back any moment with its
                            // old start: wake for its report deadline too,
                            // polling (for at most the linger time) when
                            // that deadline has passed already.
                            let last = (s.last_report_ns != 0).then_some(s.last_report_ns);
                            let report_at =
                                stall::next_deadline(&policy, now, s.start_ns, last, false);
                            next = next
                                .min(close_at)
                                .min(report_at.max(now.saturating_add(LINGER_POLL_NS)));
                        }
                        continue;
                    }
                    if n_due < BATCH {
                        if let Some(ms) = detect(&s, &policy, now) {
                            if s.first_report_ns == 0 {
                                events.stall(&s, now);
                            }
                            due[n_due] = Some((s, ms));
                            n_due += 1;
                        }
                    } else {
                        // More due than one batch: scan again right away.
                        next = now;
                    }
                    let last_report = (s.last_report_ns != 0).then_some(s.last_report_ns);
                    next = next.min(stall::next_deadline(
                        &policy,
                        now,
                        s.start_ns,
                        last_report,
                        false,
                    ));
                }
            }
            // Userspace first: printing to a serial console is slow.
            events.collect_ended();
            events.flush();
            for (s, ms) in due.iter().flatten() {
                report(s, *ms, &mut budget);
            }
            let overflow = STATS.overflow.load(Ordering::Relaxed);
            if overflow != overflow_seen && !overflow_said {
                overflow_said = true;
                pr_warn!(
                    "tracking table full ({} allocations): further slow-path allocations are only counted (stats: overflow)\n",
                    track::CAPACITY
                );
            }
            overflow_seen = overflow;
            if let Some(kill) = oom::new_kill(&mut kills_seen) {
                report_kill(&kill);
                events.oom(&kill.stall, kill.at_ns);
                events.flush();
            }
            if STATS.occupied.load(Ordering::Relaxed) == 0 {
                overflow_said = false;
            }
            let wait_ns = next.saturating_sub(sys::now_ns());
            let ms = wait_ns.div_ceil(1_000_000).clamp(1, u64::from(u32::MAX)) as u32;
            sys::sleep_interruptible(sys::ms_to_jiffies(ms));
        }
    }
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
