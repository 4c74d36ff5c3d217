//! Events for userspace: what happened to a stall, the rate limit of the
//! uevents announcing it, and the text of the `events` file and of a uevent.
//!
//! The module records four kinds of event, each at most once per stall
//! (except [`EventKind::Oom`], once per OOM killer invocation):
//!
//! - [`EventKind::Stall`]: the stall's first report;
//! - [`EventKind::Backoff`]: its first back-off sleep;
//! - [`EventKind::Oom`]: the watchdog invokes the OOM killer for it;
//! - [`EventKind::End`]: a reported stall is over.
//!
//! Every event goes into the `events` file and wakes its pollers (one
//! wake-up per watchdog scan, however many events the scan found). Uevents
//! are rate-limited by a token bucket ([`RateLimit`]: [`UEVENT_BURST`] at
//! once, then one per [`UEVENT_REFILL_NS`]); `oom` events bypass it, as
//! `oom_interval_ms` limits them already.

use super::gfp::Gfp;
use super::stall::{self, Backoff, Policy};
use core::fmt;

/// Uevents that may be sent at once before the rate limit applies.
pub const UEVENT_BURST: u32 = 10;
/// One more uevent may be sent per this much time (ns) once the burst is used up.
pub const UEVENT_REFILL_NS: u64 = 500_000_000;
/// While a stall older than `backoff_after_ms` has not slept yet, the
/// watchdog looks for its first back-off sleep this often (ns)...
pub const BACKOFF_POLL_NS: u64 = 100_000_000;
/// ...for at most this long (ns) after `backoff_after_ms`.
pub const BACKOFF_POLL_FOR_NS: u64 = 10_000_000_000;
/// While a reported stall is in the allocator, the watchdog looks for its
/// end this often (ns): a stall whose last allocation was quick ends in
/// the allocator hook, which must not wake anybody.
pub const END_POLL_NS: u64 = 100_000_000;

/// What happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum EventKind {
    /// A stall was reported for the first time.
    Stall = 0,
    /// A stalled task slept in back-off for the first time.
    Backoff = 1,
    /// The watchdog invoked the OOM killer for a stall.
    Oom = 2,
    /// A reported stall ended.
    End = 3,
}

impl EventKind {
    /// All kinds, indexed by their value.
    pub const ALL: [EventKind; 4] = [
        EventKind::Stall,
        EventKind::Backoff,
        EventKind::Oom,
        EventKind::End,
    ];

    /// The name used in the `events` file and in `NOFAIL_EVENT=`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Stall => "stall",
            EventKind::Backoff => "backoff",
            EventKind::Oom => "oom",
            EventKind::End => "end",
        }
    }

    /// Decodes a stored kind.
    pub fn from_u32(v: u32) -> Option<EventKind> {
        usize::try_from(v)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .copied()
    }
}

/// One event, as shown in the `events` file and sent as a uevent.
#[derive(Clone, Copy, Debug)]
pub struct Event<C> {
    /// Sequence number, from 1, without gaps.
    pub seq: u64,
    /// When it happened (monotonic ns: `CLOCK_MONOTONIC`).
    pub time_ns: u64,
    /// What happened.
    pub kind: EventKind,
    /// Global pid of the stalled task.
    pub pid: i32,
    /// Its command name.
    pub comm: C,
    /// The allocation's gfp mask.
    pub gfp: u32,
    /// The allocation's order.
    pub order: u32,
    /// How long the task had been stuck (ms); for `end`, the whole stall.
    pub ms: u64,
}

/// Column names of the `events` file, after its `seq N` line.
pub const HEADER: &str = "seq time_ns event pid comm order ms gfp";

impl<C: fmt::Display> Event<C> {
    /// Writes the event as one line of the `events` file (with newline).
    pub fn write_line(&self, w: &mut impl fmt::Write) -> fmt::Result {
        writeln!(
            w,
            "{} {} {} {} {} {} {} {}",
            self.seq,
            self.time_ns,
            self.kind.as_str(),
            self.pid,
            self.comm,
            self.order,
            self.ms,
            Gfp(self.gfp)
        )
    }

    /// Writes the uevent variables, each terminated by a NUL byte:
    /// `NOFAIL_EVENT`, `NOFAIL_SEQ`, `PID`, `COMM`, `GFP`, `ORDER`, `MS` and,
    /// if uevents were dropped by the rate limit since the last one sent,
    /// `NOFAIL_DROPPED`.
    pub fn write_env(&self, dropped: u32, w: &mut impl fmt::Write) -> fmt::Result {
        write!(w, "NOFAIL_EVENT={}\0", self.kind.as_str())?;
        write!(w, "NOFAIL_SEQ={}\0", self.seq)?;
        write!(w, "PID={}\0", self.pid)?;
        write!(w, "COMM={}\0", self.comm)?;
        write!(w, "GFP={}\0", Gfp(self.gfp))?;
        write!(w, "ORDER={}\0", self.order)?;
        write!(w, "MS={}\0", self.ms)?;
        if dropped != 0 {
            write!(w, "NOFAIL_DROPPED={}\0", dropped)?;
        }
        Ok(())
    }
}

/// A token bucket: [`UEVENT_BURST`] tokens, one more per [`UEVENT_REFILL_NS`].
///
/// # Invariants
///
/// `tokens <= UEVENT_BURST`.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    tokens: u32,
    /// Time up to which refills have been credited (None: never used).
    refilled_ns: Option<u64>,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimit {
    /// A full bucket.
    pub const fn new() -> Self {
        RateLimit {
            tokens: UEVENT_BURST,
            refilled_ns: None,
        }
    }

    /// Takes a token at `now` if there is one.
    pub fn take(&mut self, now: u64) -> bool {
        let last = *self.refilled_ns.get_or_insert(now);
        let gained = now.saturating_sub(last) / UEVENT_REFILL_NS;
        if gained > 0 {
            let credited = gained.saturating_mul(UEVENT_REFILL_NS);
            self.refilled_ns = Some(last.saturating_add(credited));
            let room = UEVENT_BURST.saturating_sub(self.tokens);
            // INVARIANT: at most `room` tokens are added.
            self.tokens = self
                .tokens
                .saturating_add(u32::try_from(gained).unwrap_or(u32::MAX).min(room));
        }
        if self.tokens == UEVENT_BURST {
            // A full bucket does not bank time.
            self.refilled_ns = Some(now);
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens = self.tokens.saturating_sub(1);
        true
    }
}

/// Whether an event of `kind` at `now` gets a uevent.
pub fn uevent_allowed(kind: EventKind, limit: &mut RateLimit, now: u64) -> bool {
    kind == EventKind::Oom || limit.take(now)
}

/// When the watchdog should next look for the first back-off sleep of a
/// stall that began at `start` and has not slept yet; `None` when it need
/// not (back-off off, or the first sleep is overdue by more than
/// [`BACKOFF_POLL_FOR_NS`]: that stall is not backing off).
///
/// The first sleep happens at the stall's first retry round after
/// `backoff_after_ms`, so the watchdog looks then and, while it is late,
/// every [`BACKOFF_POLL_NS`].
pub fn backoff_check_at(p: &Policy, now: u64, start: u64) -> Option<u64> {
    if p.backoff == Backoff::Off {
        return None;
    }
    let due = start.saturating_add(stall::ms_to_ns(p.backoff_after_ms));
    if now < due {
        return Some(due);
    }
    if stall::elapsed(now, due) > BACKOFF_POLL_FOR_NS {
        return None;
    }
    Some(now.saturating_add(BACKOFF_POLL_NS))
}

/// How long uevents stay held back after the kernel last called
/// `out_of_memory()` (ns): see [`verdict_holds`].
pub const VERDICT_HOLD_NS: u64 = 10_000_000_000;

/// Whether the kernel's latest verdict that memory is exhausted, a global
/// `out_of_memory()` call for any task at `last` (`None`: none yet), still
/// holds uevents back at `now`.
///
/// [`holds_uevents`] alone ends the hold with the stall that the verdict
/// was for. But a kill ends every stall at once, and when the stalled
/// tasks eat the memory it freed (the workload that stalled goes on) they
/// stall again at once, with no verdict for the new stalls until their
/// reclaim has failed again: in that gap a uevent's allocation meets
/// exhausted memory first and the kernel's OOM killer acts for it (seen on
/// the debug kernel: four kills for the uevent work 1.7-4.4 s after a
/// triggered kill; and in the XFS scenario, where the kernel itself kills
/// for tasks out of the scope, one 6.8 s after the last of its kills).
/// While memory stays exhausted, verdicts keep coming (every allocation
/// that may not fail gets one every `MAX_RECLAIM_RETRIES` fruitless
/// rounds), so the hold ends only [`VERDICT_HOLD_NS`] after the last one:
/// once memory has stayed back that long. A time, not a proof: a longer
/// gap between verdicts can still let a uevent meet exhausted memory.
pub fn verdict_holds(now: u64, last: Option<u64>) -> bool {
    last.is_some_and(|t| stall::elapsed(now, t) < VERDICT_HOLD_NS)
}

/// How long after the kernel's latest verdict (see [`verdict_holds`]) a
/// stall in the allocator holds uevents back without a verdict of its own
/// (ns): see [`holds_uevents`].
pub const PRESSURE_NS: u64 = 60_000_000_000;
// It extends the hold after a verdict, so it is the longer of the two.
const _: () = assert!(PRESSURE_NS > VERDICT_HOLD_NS);

/// Whether the kernel found memory exhausted less than [`PRESSURE_NS`]
/// before `now` (`last` as in [`verdict_holds`]).
pub fn under_pressure(now: u64, last: Option<u64>) -> bool {
    last.is_some_and(|t| stall::elapsed(now, t) < PRESSURE_NS)
}

/// Whether a stall shows memory exhausted, so that uevents are held back:
/// it is in the scope, in the allocator now, and the kernel has called
/// `out_of_memory()` for it (`oom_calls`), or for any task in the last
/// [`PRESSURE_NS`] (`pressure`, [`under_pressure`]).
///
/// The second case: memory found exhausted may stay short with reclaim
/// crawling on what it finds, so that verdicts come far apart (16 s in
/// the debug kernel's XFS scenario, where the uevent work's own allocation
/// got the next one and the kernel killed for it). A stall in the
/// allocator then shows that memory is still short.
///
/// A uevent allocates (`GFP_KERNEL`, in a kworker). While the kernel's own
/// allocator has found reclaim futile for a no-fail allocation, that
/// allocation would meet the same verdict, with `__GFP_FS`: the kernel's
/// OOM killer would act for the module's announcement, before
/// `oom_after_ms` or with `oom_after_ms=0`. The kernel calls
/// `out_of_memory()` only where its rules let it kill (not for a lowmem or
/// costly-order request), so a stall that never got there (a `ZONE_DMA`
/// stall, one that crawls on what reclaim finds) holds nothing back.
pub fn holds_uevents(in_scope: bool, in_allocator: bool, oom_calls: u32, pressure: bool) -> bool {
    in_scope && in_allocator && (oom_calls > 0 || pressure)
}
