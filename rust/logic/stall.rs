//! Per-stall decisions: when to report, how long to back off, when the OOM
//! killer may be shown a stuck allocation.
//!
//! All times are `u64` nanoseconds of a monotonic clock and all durations
//! are computed as `now.saturating_sub(start)`, so a clock that appears to go
//! backwards yields an elapsed time of 0 instead of a huge value. Absolute
//! deadlines are computed with saturating additions.

use super::knobs::{self, Knob};

/// Nanoseconds per millisecond.
pub const NSEC_PER_MSEC: u64 = 1_000_000;

/// Back-off strategy for a stalled allocation (the `backoff` knob).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backoff {
    /// Never sleep.
    Off = 0,
    /// Always sleep `backoff_min_ms`.
    Fixed = 1,
    /// Sleep `backoff_min_ms`, doubling after every sleep, up to `backoff_max_ms`.
    Exp = 2,
}

impl Backoff {
    /// Converts the stored knob index (0, 1, 2) into a strategy, `None` if out of range.
    pub fn from_index(index: u32) -> Option<Backoff> {
        match index {
            0 => Some(Backoff::Off),
            1 => Some(Backoff::Fixed),
            2 => Some(Backoff::Exp),
            _ => None,
        }
    }

    /// Returns the knob word of this strategy (`off`, `fixed`, `exp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Backoff::Off => "off",
            Backoff::Fixed => "fixed",
            Backoff::Exp => "exp",
        }
    }
}

/// Snapshot of the knobs that drive the per-stall decisions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Policy {
    /// Report a stall once it has lasted this long (ms).
    pub stall_warn_ms: u32,
    /// Repeat the report of an ongoing stall this often (ms).
    pub warn_interval_ms: u32,
    /// Back-off strategy.
    pub backoff: Backoff,
    /// Start backing off once the stall has lasted this long (ms).
    pub backoff_after_ms: u32,
    /// First (or fixed) back-off sleep (ms).
    pub backoff_min_ms: u32,
    /// Longest back-off sleep (ms).
    pub backoff_max_ms: u32,
    /// Invoke the OOM killer once the stall has lasted this long (ms), 0 = never.
    pub oom_after_ms: u32,
    /// Minimum time between two OOM killer invocations, across all stalls (ms).
    pub oom_interval_ms: u32,
}

/// Returns the stored value of knob `k` (its default if, impossibly, out of bounds).
fn value(v: &[u32; knobs::COUNT], k: Knob) -> u32 {
    v.get(k as usize).copied().unwrap_or(k.desc().default)
}

impl Policy {
    /// Builds a policy from the stored knob values, indexed by `Knob as usize`.
    ///
    /// Values are taken as they are (the module validates them with
    /// [`knobs::parse`]); an out-of-range `backoff` index falls back to
    /// [`Backoff::Off`].
    pub fn from_values(v: &[u32; knobs::COUNT]) -> Policy {
        Policy {
            stall_warn_ms: value(v, Knob::StallWarnMs),
            warn_interval_ms: value(v, Knob::WarnIntervalMs),
            backoff: Backoff::from_index(value(v, Knob::Backoff)).unwrap_or(Backoff::Off),
            backoff_after_ms: value(v, Knob::BackoffAfterMs),
            backoff_min_ms: value(v, Knob::BackoffMinMs),
            backoff_max_ms: value(v, Knob::BackoffMaxMs),
            oom_after_ms: value(v, Knob::OomAfterMs),
            oom_interval_ms: value(v, Knob::OomIntervalMs),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_values(&knobs::defaults())
    }
}

/// Converts milliseconds to nanoseconds (cannot overflow: `u32::MAX` ms fits in `u64` ns).
pub fn ms_to_ns(ms: u32) -> u64 {
    u64::from(ms).saturating_mul(NSEC_PER_MSEC)
}

/// Returns `now - since` in nanoseconds, or 0 if the clock went backwards.
pub fn elapsed(now: u64, since: u64) -> u64 {
    now.saturating_sub(since)
}

/// Returns whether a stall that began at `start` should be reported at `now`.
///
/// The first report is due once the stall has lasted `stall_warn_ms`; after
/// a report at `last_report`, the next one is due `warn_interval_ms` later.
pub fn report_due(p: &Policy, now: u64, start: u64, last_report: Option<u64>) -> bool {
    match last_report {
        None => elapsed(now, start) >= ms_to_ns(p.stall_warn_ms),
        Some(last) => elapsed(now, last) >= ms_to_ns(p.warn_interval_ms),
    }
}

/// Returns how long (ms) a stalled allocation should sleep before its next retry, 0 for none.
///
/// No sleep if the strategy is [`Backoff::Off`] or the stall is younger than
/// `backoff_after_ms`. [`Backoff::Fixed`] sleeps `backoff_min_ms`;
/// [`Backoff::Exp`] sleeps `backoff_min_ms` doubled `sleeps_done` times.
/// The result is always capped at `backoff_max_ms` (the cap wins if
/// `backoff_min_ms > backoff_max_ms`) and is at least 1 when sleeping, even
/// if a knob holds 0.
pub fn backoff_sleep_ms(p: &Policy, now: u64, start: u64, sleeps_done: u32) -> u32 {
    if p.backoff == Backoff::Off || elapsed(now, start) < ms_to_ns(p.backoff_after_ms) {
        return 0;
    }
    let cap = p.backoff_max_ms.max(1);
    let base = p.backoff_min_ms.max(1).min(cap);
    match p.backoff {
        Backoff::Off => 0,
        Backoff::Fixed => base,
        Backoff::Exp => {
            let factor = 1u64.checked_shl(sleeps_done).unwrap_or(u64::MAX);
            let ms = u64::from(base).saturating_mul(factor);
            u32::try_from(ms).unwrap_or(u32::MAX).min(cap)
        }
    }
}

/// Returns whether a stall that began at `start` is armed: its task's next
/// call of `out_of_memory()` may be shown `__GFP_FS`.
///
/// Never if `oom_after_ms` is 0; otherwise once the stall has lasted
/// `oom_after_ms` and at least `oom_interval_ms` have passed since the last
/// kill `last_trigger` (which is global, across all stalls).
pub fn oom_due(p: &Policy, now: u64, start: u64, last_trigger: Option<u64>) -> bool {
    if p.oom_after_ms == 0 || elapsed(now, start) < ms_to_ns(p.oom_after_ms) {
        return false;
    }
    match last_trigger {
        None => true,
        Some(last) => elapsed(now, last) >= ms_to_ns(p.oom_interval_ms),
    }
}

/// Returns the back-off sleep (ms) of a stall's reclaim round, capped so
/// that the round after the sleep can reach the OOM killer by its deadline.
///
/// `oom_deadline` is [`oom_deadline`] for a stall whose allocation has
/// reached `out_of_memory()` before (the kernel's rules let it get there),
/// `None` otherwise: a lowmem or costly-order stall never reaches it, and
/// its sleeps are not capped. Past the deadline the sleep is at most 1 ms.
pub fn backoff_sleep_capped(
    p: &Policy,
    now: u64,
    start: u64,
    sleeps_done: u32,
    oom_deadline: Option<u64>,
) -> u32 {
    let ms = backoff_sleep_ms(p, now, start, sleeps_done);
    match oom_deadline {
        Some(d) if ms > 0 => {
            let left = d.saturating_sub(now).div_ceil(NSEC_PER_MSEC);
            ms.min(u32::try_from(left).unwrap_or(u32::MAX).max(1))
        }
        _ => ms,
    }
}

/// How long after an OOM kill back-off sleeps stay short (ns).
pub const AFTER_KILL_NS: u64 = 1_000 * NSEC_PER_MSEC;

/// Caps a back-off sleep of `ms` right after an OOM kill at `last_kill`:
/// the victim's memory is on its way, and the kernel's own allocator
/// retries at once after a kill; for [`AFTER_KILL_NS`] a stuck task sleeps
/// at most `backoff_min_ms` (at least 1 ms) per round.
pub fn after_kill_cap(p: &Policy, now: u64, last_kill: Option<u64>, ms: u32) -> u32 {
    match last_kill {
        Some(k) if ms > 0 && now >= k && elapsed(now, k) < AFTER_KILL_NS => {
            ms.min(p.backoff_min_ms.max(1))
        }
        _ => ms,
    }
}

/// Whether a stall continues across the allocation that just returned
/// (then the task's next slow-path allocation within the linger time
/// continues it): only if that allocation was slow (`alloc_ns` of at least
/// `linger_min_ns`) and fruitless at some point: a reclaim round of it
/// reclaimed nothing, or the kernel called the OOM killer for it (it found
/// reclaim futile), as for a `__GFP_NOFAIL` allocation fed from the
/// reserves. An allocation that succeeded after reclaim made progress
/// ends the stall, however slow it was.
pub fn lingers(alloc_ns: u64, linger_min_ns: u64, fruitless: bool) -> bool {
    alloc_ns >= linger_min_ns && fruitless
}

/// Returns the earliest time at which [`oom_due`] can become true for a stall that began at `start`.
///
/// `None` if `oom_after_ms` is 0. Unlike [`next_deadline`] this accounts for
/// the global rate limit, and it may be in the past (then an invocation is
/// due now).
pub fn oom_deadline(p: &Policy, start: u64, last_trigger: Option<u64>) -> Option<u64> {
    if p.oom_after_ms == 0 {
        return None;
    }
    let threshold = start.saturating_add(ms_to_ns(p.oom_after_ms));
    Some(match last_trigger {
        None => threshold,
        Some(last) => threshold.max(last.saturating_add(ms_to_ns(p.oom_interval_ms))),
    })
}

/// Returns the earliest absolute time (ns, never before `now`) at which this stall needs attention.
///
/// That is the time at which [`report_due`] becomes true or, if
/// `oom_enabled_and_pending` is set and `oom_after_ms` is not 0, at which the
/// stall reaches `oom_after_ms`. If one of them is already due, `now` is
/// returned, so the caller must clear `oom_enabled_and_pending` once the OOM
/// threshold has been handled (otherwise it would be woken immediately
/// forever); [`oom_deadline`] gives the rate-limited OOM time instead.
pub fn next_deadline(
    p: &Policy,
    now: u64,
    start: u64,
    last_report: Option<u64>,
    oom_enabled_and_pending: bool,
) -> u64 {
    let report = match last_report {
        None => start.saturating_add(ms_to_ns(p.stall_warn_ms)),
        Some(last) => last.saturating_add(ms_to_ns(p.warn_interval_ms)),
    };
    let deadline = if oom_enabled_and_pending && p.oom_after_ms != 0 {
        report.min(start.saturating_add(ms_to_ns(p.oom_after_ms)))
    } else {
        report
    };
    deadline.max(now)
}

/// What to do with the next report, as decided by a [`Budget`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BudgetDecision {
    /// Print the report.
    Print,
    /// The budget is exhausted: print a one-time "further reports suppressed" line.
    AnnounceSuppressed,
    /// The budget is exhausted and was announced: print nothing.
    Silent,
}

/// A report budget like `hung_task_warnings`: `max` reports, then one suppression notice.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Budget {
    /// Number of reports allowed.
    pub max: u32,
    /// Number of reports printed so far.
    pub printed: u32,
    /// Whether the suppression notice has been printed.
    pub suppressed_announced: bool,
}

impl Budget {
    /// Returns a fresh budget of `max` reports.
    pub const fn new(max: u32) -> Budget {
        Budget {
            max,
            printed: 0,
            suppressed_announced: false,
        }
    }

    /// Consumes one report from the budget and returns what to print.
    ///
    /// [`BudgetDecision::Print`] while fewer than `max` reports were printed,
    /// then [`BudgetDecision::AnnounceSuppressed`] exactly once, then
    /// [`BudgetDecision::Silent`]. With `max == 0` there is no report at all,
    /// only the announcement.
    pub fn take(&mut self) -> BudgetDecision {
        if self.printed < self.max {
            self.printed = self.printed.saturating_add(1);
            BudgetDecision::Print
        } else if !self.suppressed_announced {
            self.suppressed_announced = true;
            BudgetDecision::AnnounceSuppressed
        } else {
            BudgetDecision::Silent
        }
    }

    /// Restarts the budget with `max` reports (done when `max_warnings` is written).
    pub fn reset(&mut self, max: u32) {
        *self = Budget::new(max);
    }
}
