// SPDX-License-Identifier: GPL-2.0

//! The table of allocations in flight in the page allocator slow path.
//!
//! A fixed array of slots, keyed by task, written lock-free from the hooks
//! (atomic context) and read by the watchdog thread and sysfs. Each slot
//! carries a sequence count so that readers never mix two occupants.
//!
//! Memory is bounded: [`CAPACITY`] slots, allocated statically. Allocations
//! that find the table full are counted in [`Stats::overflow`] and not tracked.
//!
//! A slot is claimed when an allocation enters the slow path (its mask is not
//! known yet: a compiler clone of the slow path need not receive it where
//! the C prototype says) and classified by its first direct-reclaim round,
//! whose tracepoint reports the mask after `current_gfp_context()` and the
//! order. An allocation in the slow path when the module loaded has no
//! slot; its first reclaim round adopts it ([`adopt`]), and since its return
//! is not followed, the watchdog closes it once its rounds stop
//! ([`adopted_quiet`]).
//!
//! A stall is per task, not per allocation, but only while the kernel makes
//! no progress: an allocation that took at least [`LINGER_MIN_NS`] and
//! was fruitless at some point (one of its reclaim rounds reclaimed
//! nothing, or the kernel called the OOM killer for it) keeps its slot for
//! [`LINGER_NS`] after it returns, and a slow-path allocation of the same
//! task within that gap continues the same stall (start time, reports,
//! back-off level). That is the crawl of a `__GFP_NOFAIL` task fed one page
//! at a time from the reserves after fruitless rounds. An allocation that
//! succeeded after reclaim made progress, without the kernel giving up on
//! reclaim, ends its stall, however slow it was.

use crate::logic::gfp::Kind;
use crate::logic::hist;
use crate::logic::seqcount::SeqCount;
use crate::logic::stall;
use crate::sys::Comm;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Number of allocations that can be tracked at once.
pub(crate) const CAPACITY: usize = 1024;

/// `owner` of a free slot.
const FREE: usize = 0;
/// `owner` of a slot being filled in.
const BUSY: usize = 1;
/// An allocation at least this slow keeps the stall open after it returns.
pub(crate) const LINGER_MIN_NS: u64 = 50_000_000;
/// How long a stall stays open between two allocations of its task.
pub(crate) const LINGER_NS: u64 = 1_000_000_000;
/// `ended_ns` of a lingering slot being freed.
const FREEING: u64 = u64::MAX;
/// `class` of a slot whose allocation has not reached direct reclaim yet.
const CLASS_PENDING: u32 = 3;
/// `class` of an allocation outside the scope.
const CLASS_OUT: u32 = 4;

/// One tracked allocation.
///
/// # Invariants
///
/// - `owner` is [`FREE`], [`BUSY`] or the address of the task that owns the
///   slot; only the owner task writes the allocation fields. The claim
///   writes them all under `seq` (odd meanwhile), whose even value is then
///   the occupant's generation; `seq` is even whenever `owner` is a task
///   address.
/// - `last_report_ns` and `first_report_ns` are written by the watchdog
///   thread only (and zeroed by the claim).
/// - `ended_ns` is 0 while the owner is in the allocator, the time it left
///   while the stall lingers, [`FREEING`] while the slot is being freed.
///   Leaving a lingering state is decided by a compare-exchange on it.
pub(crate) struct Slot {
    owner: AtomicUsize,
    seq: SeqCount,
    pid: AtomicI32,
    gfp: AtomicU32,
    order: AtomicU32,
    /// `Kind as u32` in scope, [`CLASS_PENDING`] or [`CLASS_OUT`].
    class: AtomicU32,
    /// The class of the stall's previous allocation, while an allocation
    /// that resumed a lingering stall is not classified in scope
    /// ([`CLASS_PENDING`]: none).
    prev_class: AtomicU32,
    start_ns: AtomicU64,
    alloc_ns: AtomicU64,
    ended_ns: AtomicU64,
    comm: [AtomicU64; 2],
    rounds: AtomicU32,
    sleeps: AtomicU32,
    pending_sleep_ms: AtomicU32,
    /// Latest direct-reclaim round (begin or end) or back-off sleep.
    last_round_ns: AtomicU64,
    /// The current allocation was fruitless at some point: one of its
    /// reclaim rounds reclaimed nothing, or the kernel called the OOM
    /// killer for it.
    no_progress: AtomicBool,
    /// Calls of `out_of_memory()` in this stall.
    oom_calls: AtomicU32,
    /// Found in the slow path after the module loaded; its return is not followed.
    adopted: AtomicBool,
    first_report_ns: AtomicU64,
    last_report_ns: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Self {
            owner: AtomicUsize::new(FREE),
            seq: SeqCount::new(),
            pid: AtomicI32::new(0),
            gfp: AtomicU32::new(0),
            order: AtomicU32::new(0),
            class: AtomicU32::new(0),
            prev_class: AtomicU32::new(CLASS_PENDING),
            start_ns: AtomicU64::new(0),
            alloc_ns: AtomicU64::new(0),
            ended_ns: AtomicU64::new(0),
            comm: [AtomicU64::new(0), AtomicU64::new(0)],
            rounds: AtomicU32::new(0),
            sleeps: AtomicU32::new(0),
            pending_sleep_ms: AtomicU32::new(0),
            last_round_ns: AtomicU64::new(0),
            no_progress: AtomicBool::new(false),
            oom_calls: AtomicU32::new(0),
            adopted: AtomicBool::new(false),
            first_report_ns: AtomicU64::new(0),
            last_report_ns: AtomicU64::new(0),
        }
    }
}

static SLOTS: [Slot; CAPACITY] = [const { Slot::new() }; CAPACITY];
/// Since when every slow-path entry is followed (the load, or the latest
/// `enabled=1`).
static FOLLOWED_SINCE: AtomicU64 = AtomicU64::new(0);
/// The latest slow-path entry not followed because the table was full.
static LAST_OVERFLOW_NS: AtomicU64 = AtomicU64::new(0);

/// Every slow-path entry is followed from `now` on.
pub(crate) fn followed_from(now: u64) {
    FOLLOWED_SINCE.store(now, Ordering::Relaxed);
}

/// The latest time at which an allocation that a reclaim round finds
/// without a slot can have entered the slow path unfollowed: it entered
/// before the module followed entries, or at a moment the table was full.
/// An adopted stall is taken to start there (its real start is earlier or
/// the same: never a premature report or kill).
pub(crate) fn unfollowed_until(now: u64) -> u64 {
    FOLLOWED_SINCE
        .load(Ordering::Relaxed)
        .max(LAST_OVERFLOW_NS.load(Ordering::Relaxed))
        .min(now)
}

/// Longest probe distance ever used; lookups never need to go further.
static MAX_PROBE: AtomicUsize = AtomicUsize::new(0);

/// Global counters, shown in the `stats` file.
pub(crate) struct Stats {
    /// Allocations entering the slow path that matched the scope.
    pub(crate) tracked: AtomicU64,
    /// Allocations not tracked because the table was full.
    pub(crate) overflow: AtomicU64,
    /// Tracked allocations in the allocator now.
    pub(crate) in_flight: AtomicU32,
    /// Slots in use (in the allocator or lingering).
    pub(crate) occupied: AtomicU32,
    /// Allocations reported as stalled (first report of each).
    pub(crate) stalls: AtomicU64,
    /// Stalls reported that have since ended.
    pub(crate) stalls_ended: AtomicU64,
    /// Reports printed.
    pub(crate) reports: AtomicU64,
    /// Reports not printed because the budget was used up.
    pub(crate) suppressed: AtomicU64,
    /// Longest time a tracked allocation spent in the slow path (ms).
    pub(crate) longest_ms: AtomicU64,
    /// Retry rounds (direct reclaim calls) of tracked allocations.
    pub(crate) rounds: AtomicU64,
    /// Back-off sleeps done.
    pub(crate) sleeps: AtomicU64,
    /// Milliseconds slept in back-off.
    pub(crate) slept_ms: AtomicU64,
    /// Calls of `out_of_memory()` by tracked stalls.
    pub(crate) oom_calls: AtomicU64,
    /// Of those, calls that were shown `__GFP_FS` (the stall was armed).
    pub(crate) oom_triggers: AtomicU64,
    /// Triggers after which the kernel killed a task.
    pub(crate) oom_kills: AtomicU64,
    /// Triggers for which the kernel waited for an earlier victim instead.
    pub(crate) oom_deferred: AtomicU64,
    /// Stalls found in the slow path after the module loaded.
    pub(crate) adopted: AtomicU64,
    /// Slow-path durations of tracked allocations, log2 microsecond buckets.
    pub(crate) hist: [AtomicU64; hist::BUCKETS],
}

/// The module's counters.
pub(crate) static STATS: Stats = Stats {
    tracked: AtomicU64::new(0),
    overflow: AtomicU64::new(0),
    in_flight: AtomicU32::new(0),
    occupied: AtomicU32::new(0),
    stalls: AtomicU64::new(0),
    stalls_ended: AtomicU64::new(0),
    reports: AtomicU64::new(0),
    suppressed: AtomicU64::new(0),
    longest_ms: AtomicU64::new(0),
    rounds: AtomicU64::new(0),
    sleeps: AtomicU64::new(0),
    slept_ms: AtomicU64::new(0),
    oom_calls: AtomicU64::new(0),
    oom_triggers: AtomicU64::new(0),
    oom_kills: AtomicU64::new(0),
    oom_deferred: AtomicU64::new(0),
    adopted: AtomicU64::new(0),
    hist: [const { AtomicU64::new(0) }; hist::BUCKETS],
};

fn home(task: usize) -> usize {
    // Fibonacci hashing of the task address; CAPACITY is a power of two.
    const _: () = assert!(CAPACITY.is_power_of_two());
    let h = (task as u64 >> 6).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - CAPACITY.trailing_zeros())) as usize
}

fn slot_at(home: usize, probe: usize) -> (usize, &'static Slot) {
    let idx = (home + probe) & (CAPACITY - 1);
    (idx, &SLOTS[idx])
}

/// The slot owned by `task`, if any. Cheap when nothing is tracked.
pub(crate) fn find(task: usize) -> Option<usize> {
    if STATS.occupied.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let h = home(task);
    let max = MAX_PROBE.load(Ordering::Relaxed);
    (0..=max)
        .map(|p| slot_at(h, p))
        .find(|(_, s)| s.owner.load(Ordering::Relaxed) == task)
        .map(|(i, _)| i)
}

/// A claimed slot: index plus the generation that identifies this occupant.
#[derive(Clone, Copy)]
pub(crate) struct Token {
    idx: u32,
    gen: u32,
}

impl Token {
    /// Packs the token for a kretprobe instance.
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.gen) << 32) | u64::from(self.idx)
    }

    /// Unpacks a token packed by [`Token::to_u64`].
    pub(crate) fn from_u64(v: u64) -> Self {
        Self {
            idx: v as u32,
            gen: (v >> 32) as u32,
        }
    }
}

/// Starts tracking an allocation of the current task that enters the slow
/// path (its mask and order come with its first reclaim round).
///
/// Returns `None` if the task is already in a tracked allocation (a nested
/// allocation, from reclaim: the outer one is what loops) or if the table
/// is full.
pub(crate) fn claim(task: &crate::sys::CurrentTask, now: u64) -> Option<Token> {
    if let Some(idx) = find(task.addr) {
        let s = &SLOTS[idx];
        let ended = s.ended_ns.load(Ordering::Acquire);
        if ended == 0 {
            if !s.adopted.load(Ordering::Relaxed) || crate::sys::current_in_reclaim() {
                // Nested allocation (e.g. from reclaim): the outer one is what loops.
                return None;
            }
            // The adopted allocation is over: its task enters the slow path
            // anew, from outside reclaim.
            close_adopted(idx, now);
        } else if ended != FREEING
            && s.pid.load(Ordering::Relaxed) == task.pid
            && now.saturating_sub(ended) <= LINGER_NS
            && s.ended_ns
                .compare_exchange(ended, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // The same stall goes on with this allocation.
            s.prev_class
                .store(s.class.load(Ordering::Relaxed), Ordering::Relaxed);
            s.class.store(CLASS_PENDING, Ordering::Relaxed);
            s.alloc_ns.store(now, Ordering::Relaxed);
            s.no_progress.store(false, Ordering::Relaxed);
            STATS.in_flight.fetch_add(1, Ordering::Relaxed);
            return Some(Token {
                idx: idx as u32,
                gen: s.seq.generation(),
            });
        } else {
            // A previous stall of this task (or of a task that reused its
            // address) is over: close it and start afresh.
            expire(idx, ended);
        }
    }
    fill(task, 0, 0, CLASS_PENDING, now, false)
}

/// Tracks an allocation already in the slow path, found by its reclaim
/// round (it entered before the module was loaded or while the table was
/// full). Its stall is taken to start at `start`.
pub(crate) fn adopt(
    task: &crate::sys::CurrentTask,
    gfp: u32,
    order: u32,
    kind: Option<Kind>,
    start: u64,
) -> Option<usize> {
    let class = kind.map_or(CLASS_OUT, |k| k as u32);
    let t = fill(task, gfp, order, class, start, true)?;
    STATS.adopted.fetch_add(1, Ordering::Relaxed);
    Some(t.idx as usize)
}

fn fill(
    task: &crate::sys::CurrentTask,
    gfp: u32,
    order: u32,
    class: u32,
    now: u64,
    adopted: bool,
) -> Option<Token> {
    let h = home(task.addr);
    for p in 0..CAPACITY {
        let (idx, s) = slot_at(h, p);
        if s.owner
            .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        // Readers skip the slot while we fill it in (`seq` odd); the new
        // even count is the occupant's generation.
        let written = s.seq.write(|| {
            s.pid.store(task.pid, Ordering::Relaxed);
            s.gfp.store(gfp, Ordering::Relaxed);
            s.order.store(order, Ordering::Relaxed);
            s.class.store(class, Ordering::Relaxed);
            s.prev_class.store(CLASS_PENDING, Ordering::Relaxed);
            s.start_ns.store(now, Ordering::Relaxed);
            s.alloc_ns.store(now, Ordering::Relaxed);
            s.ended_ns.store(0, Ordering::Relaxed);
            let c = task.comm.pack();
            s.comm[0].store(c[0], Ordering::Relaxed);
            s.comm[1].store(c[1], Ordering::Relaxed);
            s.rounds.store(0, Ordering::Relaxed);
            s.sleeps.store(0, Ordering::Relaxed);
            s.pending_sleep_ms.store(0, Ordering::Relaxed);
            s.last_round_ns.store(now, Ordering::Relaxed);
            s.no_progress.store(false, Ordering::Relaxed);
            s.oom_calls.store(0, Ordering::Relaxed);
            s.adopted.store(adopted, Ordering::Relaxed);
            s.first_report_ns.store(0, Ordering::Relaxed);
            s.last_report_ns.store(0, Ordering::Relaxed);
        });
        let Some(gen) = written else {
            // Cannot happen: BUSY keeps every other writer out of the slot.
            s.owner.store(FREE, Ordering::Release);
            continue;
        };
        MAX_PROBE.fetch_max(p, Ordering::Relaxed);
        STATS.occupied.fetch_add(1, Ordering::Relaxed);
        STATS.in_flight.fetch_add(1, Ordering::Relaxed);
        // INVARIANT: fields written while `seq` was odd; now even and owned.
        s.owner.store(task.addr, Ordering::Release);
        return Some(Token {
            idx: idx as u32,
            gen,
        });
    }
    STATS.overflow.fetch_add(1, Ordering::Relaxed);
    LAST_OVERFLOW_NS.fetch_max(now, Ordering::Relaxed);
    None
}

/// The allocation of `token` left the slow path at `now`.
///
/// A slow, fruitless allocation (one of its reclaim rounds reclaimed
/// nothing, or the kernel called the OOM killer for it) keeps the stall
/// open for [`LINGER_NS`]; so does a failed allocation outside the scope
/// made between two of the stall's (`failed`: it returned NULL, which a
/// no-fail allocation never does); any other ends it.
pub(crate) fn release(token: Token, now: u64, failed: bool) {
    let Some(s) = SLOTS.get(token.idx as usize) else {
        return;
    };
    if s.seq.generation() != token.gen {
        return;
    }
    STATS.in_flight.fetch_sub(1, Ordering::Relaxed);
    let class = s.class.load(Ordering::Relaxed);
    let prev = s.prev_class.load(Ordering::Relaxed);
    if class >= CLASS_PENDING && failed && prev < CLASS_PENDING {
        // An attempt outside the scope that failed (e.g. slab's
        // opportunistic high-order `__GFP_NORETRY` try before its no-fail
        // one) between two allocations of a stall: the stall lingers on.
        s.class.store(prev, Ordering::Relaxed);
        // INVARIANT: from 0 (in the allocator) to the time it left.
        s.ended_ns.store(now.max(1), Ordering::Release);
        return;
    }
    let alloc_ns = now.saturating_sub(s.alloc_ns.load(Ordering::Relaxed));
    if class < CLASS_PENDING {
        if let Some(b) = STATS.hist.get(hist::bucket(alloc_ns / 1_000)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let stall_ns = now.saturating_sub(s.start_ns.load(Ordering::Relaxed));
        STATS
            .longest_ms
            .fetch_max(stall_ns / 1_000_000, Ordering::Relaxed);
    }
    if class < CLASS_PENDING
        && stall::lingers(
            alloc_ns,
            LINGER_MIN_NS,
            s.no_progress.load(Ordering::Relaxed),
        )
    {
        // INVARIANT: from 0 (in the allocator) to the time it left.
        s.ended_ns.store(now.max(1), Ordering::Release);
    } else {
        close(s, token.gen, now);
    }
}

/// Closes the stall of a lingering slot whose task did not come back in
/// time (called by the watchdog thread, or by a new claim of the task).
pub(crate) fn expire(idx: usize, ended: u64) {
    let Some(s) = SLOTS.get(idx) else {
        return;
    };
    if ended == 0
        || ended == FREEING
        || s.ended_ns
            .compare_exchange(ended, FREEING, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    close(s, s.seq.generation(), ended);
}

/// Closes an adopted stall whose allocation is over (its return is not
/// followed): called by its task entering the slow path again, or by the
/// watchdog once its rounds stopped.
pub(crate) fn close_adopted(idx: usize, end: u64) {
    let Some(s) = SLOTS.get(idx) else {
        return;
    };
    if !s.adopted.load(Ordering::Relaxed)
        || s.ended_ns
            .compare_exchange(0, FREEING, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    STATS.in_flight.fetch_sub(1, Ordering::Relaxed);
    close(s, s.seq.generation(), end);
}

/// Ends the stall in `s` at `end` and frees the slot.
fn close(s: &Slot, gen: u32, end: u64) {
    // A stall whose last allocation was not classified in scope (it came
    // back and returned without a reclaim round, or was outside the
    // scope) is still the stall of its earlier allocations.
    let class = s.class.load(Ordering::Relaxed);
    let class = if class < CLASS_PENDING {
        class
    } else {
        s.prev_class.load(Ordering::Relaxed)
    };
    // Copied only for what needs it: this runs at every tracked
    // allocation's slow-path return.
    let snap = || {
        let mut snap = snapshot_fields(s, gen);
        if class < CLASS_PENDING {
            snap.kind = kind_from(class);
            snap.in_scope = true;
        }
        snap
    };
    if class < CLASS_PENDING {
        crate::sys::trace::stall_end(|| {
            let snap = snap();
            snap.trace(end.saturating_sub(snap.start_ns) / stall::NSEC_PER_MSEC)
        });
    }
    let first = s.first_report_ns.load(Ordering::Relaxed);
    if first != 0 {
        STATS.stalls_ended.fetch_add(1, Ordering::Relaxed);
        let snap = snap();
        crate::recent::push(&crate::recent::Ended {
            pid: snap.pid as u32,
            comm: snap.comm,
            gfp: snap.gfp,
            order: snap.order,
            kind: snap.kind,
            start_ns: snap.start_ns,
            first_report_ns: first,
            end_ns: end,
            rounds: snap.rounds,
            sleeps: snap.sleeps,
        });
    }
    STATS.occupied.fetch_sub(1, Ordering::Relaxed);
    s.owner.store(FREE, Ordering::Release);
}

/// A consistent copy of one tracked allocation.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot {
    /// Slot index.
    pub(crate) idx: usize,
    /// Generation of the occupant.
    pub(crate) gen: u32,
    /// Task address (identity only).
    pub(crate) task: usize,
    /// Global pid.
    pub(crate) pid: i32,
    /// Task name.
    pub(crate) comm: Comm,
    /// Allocation mask as the allocator sees it.
    pub(crate) gfp: u32,
    /// Allocation order.
    pub(crate) order: u32,
    /// Why it cannot fail.
    pub(crate) kind: Kind,
    /// Classified and in the scope (only these are reported and acted on).
    pub(crate) in_scope: bool,
    /// Not classified yet: no reclaim round so far.
    pub(crate) pending: bool,
    /// Found in the slow path after the module loaded.
    pub(crate) adopted: bool,
    /// Latest reclaim round or back-off sleep.
    pub(crate) last_round_ns: u64,
    /// Entry into the slow path (monotonic ns).
    pub(crate) start_ns: u64,
    /// Retry rounds so far.
    pub(crate) rounds: u32,
    /// Back-off sleeps so far.
    pub(crate) sleeps: u32,
    /// Calls of `out_of_memory()` in this stall so far.
    pub(crate) oom_calls: u32,
    /// First report (0 = not reported).
    pub(crate) first_report_ns: u64,
    /// Latest report (0 = not reported).
    pub(crate) last_report_ns: u64,
    /// When the task left the allocator (0 = it is in it).
    pub(crate) ended_ns: u64,
}

impl Snapshot {
    /// The stall as a trace event's fields, `duration_ms` after it began.
    pub(crate) fn trace(&self, duration_ms: u64) -> crate::sys::trace::Stall {
        crate::sys::trace::Stall {
            pid: self.pid,
            comm: self.comm,
            gfp: self.gfp,
            order: self.order,
            kind: self.kind,
            duration_ms,
            retries: self.rounds,
            sleeps: self.sleeps,
        }
    }

    /// Whether the task is in the allocator now (not between allocations).
    pub(crate) fn in_allocator(&self) -> bool {
        self.ended_ns == 0
    }

    /// Whether this is an adopted stall whose rounds stopped at `now`
    /// (its allocation is over, or it blocks elsewhere: either way it no
    /// longer loops).
    pub(crate) fn adopted_quiet(&self, now: u64, backoff_max_ms: u32) -> bool {
        self.adopted
            && self.in_allocator()
            && stall::elapsed(now, self.last_round_ns)
                >= ADOPTED_QUIET_NS.saturating_add(stall::ms_to_ns(backoff_max_ms))
    }
}

/// An adopted stall without a reclaim round for this long (plus the longest
/// back-off sleep) is over.
pub(crate) const ADOPTED_QUIET_NS: u64 = 1_000_000_000;

/// Decodes a stored [`Kind`].
pub(crate) fn kind_from(v: u32) -> Kind {
    Kind::from_u32(v)
}

fn snapshot_fields(s: &Slot, gen: u32) -> Snapshot {
    let class = s.class.load(Ordering::Relaxed);
    Snapshot {
        idx: 0,
        gen,
        task: s.owner.load(Ordering::Relaxed),
        pid: s.pid.load(Ordering::Relaxed),
        comm: Comm::unpack([
            s.comm[0].load(Ordering::Relaxed),
            s.comm[1].load(Ordering::Relaxed),
        ]),
        gfp: s.gfp.load(Ordering::Relaxed),
        order: s.order.load(Ordering::Relaxed),
        kind: kind_from(class),
        in_scope: class < CLASS_PENDING,
        pending: class == CLASS_PENDING,
        adopted: s.adopted.load(Ordering::Relaxed),
        last_round_ns: s.last_round_ns.load(Ordering::Relaxed),
        start_ns: s.start_ns.load(Ordering::Relaxed),
        rounds: s.rounds.load(Ordering::Relaxed),
        sleeps: s.sleeps.load(Ordering::Relaxed),
        oom_calls: s.oom_calls.load(Ordering::Relaxed),
        first_report_ns: s.first_report_ns.load(Ordering::Relaxed),
        last_report_ns: s.last_report_ns.load(Ordering::Relaxed),
        ended_ns: s.ended_ns.load(Ordering::Relaxed),
    }
}

/// A consistent copy of slot `idx`, or `None` if it is free or changing.
pub(crate) fn snapshot(idx: usize) -> Option<Snapshot> {
    let s = SLOTS.get(idx)?;
    for _ in 0..4 {
        if s.owner.load(Ordering::Acquire) <= BUSY {
            return None;
        }
        // Fails if a claim is filling the slot in, or filled it in anew.
        let Some(mut snap) = s.seq.read(|gen| snapshot_fields(s, gen)) else {
            continue;
        };
        if snap.task > BUSY {
            snap.idx = idx;
            return Some(snap);
        }
    }
    None
}

/// Whether the snapshot of some tracked allocation satisfies `f`. Cheap
/// when nothing is tracked.
pub(crate) fn any(mut f: impl FnMut(&Snapshot) -> bool) -> bool {
    STATS.occupied.load(Ordering::Relaxed) != 0
        && (0..CAPACITY).any(|idx| snapshot(idx).is_some_and(|s| f(&s)))
}

/// Records, from the watchdog thread, that the stall in `snap` was reported at `now`.
pub(crate) fn mark_reported(snap: &Snapshot, now: u64) {
    let Some(s) = SLOTS.get(snap.idx) else {
        return;
    };
    if snap.first_report_ns == 0 {
        s.first_report_ns.store(now, Ordering::Relaxed);
    }
    s.last_report_ns.store(now, Ordering::Relaxed);
    // The slot may have been reused since the snapshot; we are the only
    // writer of these two fields, so undo what we wrote for the newcomer.
    if !s.seq.still(snap.gen) {
        s.first_report_ns.store(0, Ordering::Relaxed);
        s.last_report_ns.store(0, Ordering::Relaxed);
    }
}

/// Access to the slot of the current task from the hooks, which run in
/// that task's context.
///
/// Only the owner task writes through it; the watchdog may close an adopted
/// or lingering slot meanwhile (the worst a write then does to the slot's
/// next owner, whose claim resets these fields, is a counter off by one).
pub(crate) struct Own(&'static Slot, usize);

impl Own {
    /// The slot of the current task, if it is in a tracked allocation now
    /// (not lingering between two, when an untracked allocation of it may
    /// reclaim).
    pub(crate) fn current() -> Option<Self> {
        let idx = find(crate::sys::current_addr())?;
        let s = SLOTS.get(idx)?;
        (s.ended_ns.load(Ordering::Relaxed) == 0).then_some(Own(s, idx))
    }

    /// Records the mask and order of the allocation (first round: its
    /// class, `kind` if in scope), counts one reclaim round; returns the
    /// stall's start, back-off sleeps done and kind if in scope.
    pub(crate) fn round_begin(&self, gfp: u32, order: u32, kind: Option<Kind>, now: u64) -> Round {
        let s = self.0;
        let mut class = s.class.load(Ordering::Relaxed);
        let mut began = false;
        if class == CLASS_PENDING {
            class = kind.map_or(CLASS_OUT, |k| k as u32);
            let fresh = s.prev_class.load(Ordering::Relaxed) >= CLASS_PENDING;
            // An allocation outside the scope within a stall keeps the
            // stall's mask and order for its reports.
            if kind.is_some() || fresh {
                s.gfp.store(gfp, Ordering::Relaxed);
                s.order.store(order, Ordering::Relaxed);
            }
            s.class.store(class, Ordering::Relaxed);
            began = fresh && kind.is_some();
        }
        s.rounds.fetch_add(1, Ordering::Relaxed);
        s.last_round_ns.store(now, Ordering::Relaxed);
        let in_scope = class < CLASS_PENDING;
        if in_scope {
            STATS.rounds.fetch_add(1, Ordering::Relaxed);
        }
        Round {
            start_ns: s.start_ns.load(Ordering::Relaxed),
            sleeps: s.sleeps.load(Ordering::Relaxed),
            kind: in_scope.then(|| kind_from(class)),
            gfp: s.gfp.load(Ordering::Relaxed),
            oom_calls: s.oom_calls.load(Ordering::Relaxed),
            began,
        }
    }

    /// The round ended having reclaimed `nr_reclaimed` pages.
    pub(crate) fn round_end(&self, nr_reclaimed: u64, now: u64) {
        if nr_reclaimed == 0 {
            self.0.no_progress.store(true, Ordering::Relaxed);
        }
        self.0.last_round_ns.store(now, Ordering::Relaxed);
    }

    /// Counts a call of `out_of_memory()`: the kernel found reclaim futile
    /// for this allocation (no progress for 16 rounds, or not enough
    /// reclaimable memory left to meet the min watermark), which makes the
    /// allocation fruitless like a round that reclaimed nothing. Returns
    /// the stall as it stands.
    pub(crate) fn oom_call(&self) -> Round {
        let s = self.0;
        s.no_progress.store(true, Ordering::Relaxed);
        let calls = s
            .oom_calls
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let class = s.class.load(Ordering::Relaxed);
        Round {
            start_ns: s.start_ns.load(Ordering::Relaxed),
            sleeps: s.sleeps.load(Ordering::Relaxed),
            kind: (class < CLASS_PENDING).then(|| kind_from(class)),
            gfp: s.gfp.load(Ordering::Relaxed),
            oom_calls: calls,
            began: false,
        }
    }

    /// A copy of the slot, for the record of an OOM trigger.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut snap = snapshot_fields(self.0, self.0.seq.generation());
        snap.idx = self.1;
        snap
    }

    /// Requests a back-off sleep of `ms` in this round.
    pub(crate) fn set_pending_sleep(&self, ms: u32) {
        self.0.pending_sleep_ms.store(ms, Ordering::Relaxed);
    }

    /// Whether a back-off sleep is requested.
    pub(crate) fn sleep_pending(&self) -> bool {
        self.0.pending_sleep_ms.load(Ordering::Relaxed) != 0
    }

    /// Takes the requested back-off sleep.
    pub(crate) fn take_pending_sleep(&self) -> u32 {
        self.0.pending_sleep_ms.swap(0, Ordering::Relaxed)
    }

    /// Counts a back-off sleep of `ms`, which ended at `now`.
    pub(crate) fn slept(&self, ms: u32, now: u64) {
        self.0.sleeps.fetch_add(1, Ordering::Relaxed);
        self.0.last_round_ns.store(now, Ordering::Relaxed);
        STATS.sleeps.fetch_add(1, Ordering::Relaxed);
        STATS.slept_ms.fetch_add(u64::from(ms), Ordering::Relaxed);
    }
}

/// A stall as seen from its task's reclaim round or OOM call.
pub(crate) struct Round {
    /// Start of the stall.
    pub(crate) start_ns: u64,
    /// Back-off sleeps so far.
    pub(crate) sleeps: u32,
    /// Its kind, if it is in scope.
    pub(crate) kind: Option<Kind>,
    /// Its mask (0 until its first reclaim round).
    pub(crate) gfp: u32,
    /// Calls of `out_of_memory()` so far.
    pub(crate) oom_calls: u32,
    /// This round classified a new stall in scope: the module follows it
    /// from now on (a stall resumed by a later allocation of its task is
    /// not new).
    pub(crate) began: bool,
}
