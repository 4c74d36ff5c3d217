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
//! A stall is per task, not per allocation: an allocation that took at least
//! [`LINGER_MIN_NS`] keeps its slot for [`LINGER_NS`] after it returns, and
//! a slow-path allocation of the same task within that gap continues the
//! same stall (start time, reports, back-off level). Without this, a task
//! whose `__GFP_NOFAIL` allocations each succeed after a second from the
//! memory reserves (`__alloc_pages_may_oom()` gives them `ALLOC_NO_WATERMARKS`
//! after 16 fruitless rounds) would crawl forever without ever being one
//! long stall.

use crate::logic::gfp::Kind;
use crate::logic::hist;
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

/// One tracked allocation.
///
/// # Invariants
///
/// - `owner` is [`FREE`], [`BUSY`] or the address of the task that owns the
///   slot; only the owner task writes the allocation fields, and only while
///   `seq` is odd (claim). `seq` is even whenever `owner` is a task address.
/// - `last_report_ns` and `first_report_ns` are written by the watchdog
///   thread only (and zeroed by the claim).
/// - `ended_ns` is 0 while the owner is in the allocator, the time it left
///   while the stall lingers, [`FREEING`] while the slot is being freed.
///   Leaving a lingering state is decided by a compare-exchange on it.
pub(crate) struct Slot {
    owner: AtomicUsize,
    seq: AtomicU32,
    pid: AtomicI32,
    gfp: AtomicU32,
    order: AtomicU32,
    kind: AtomicU32,
    start_ns: AtomicU64,
    alloc_ns: AtomicU64,
    ended_ns: AtomicU64,
    comm: [AtomicU64; 2],
    rounds: AtomicU32,
    sleeps: AtomicU32,
    pending_sleep_ms: AtomicU32,
    in_wrapper: AtomicBool,
    first_report_ns: AtomicU64,
    last_report_ns: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Self {
            owner: AtomicUsize::new(FREE),
            seq: AtomicU32::new(0),
            pid: AtomicI32::new(0),
            gfp: AtomicU32::new(0),
            order: AtomicU32::new(0),
            kind: AtomicU32::new(0),
            start_ns: AtomicU64::new(0),
            alloc_ns: AtomicU64::new(0),
            ended_ns: AtomicU64::new(0),
            comm: [AtomicU64::new(0), AtomicU64::new(0)],
            rounds: AtomicU32::new(0),
            sleeps: AtomicU32::new(0),
            pending_sleep_ms: AtomicU32::new(0),
            in_wrapper: AtomicBool::new(false),
            first_report_ns: AtomicU64::new(0),
            last_report_ns: AtomicU64::new(0),
        }
    }
}

static SLOTS: [Slot; CAPACITY] = [const { Slot::new() }; CAPACITY];
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
    /// OOM killer invocations triggered.
    pub(crate) oom_triggers: AtomicU64,
    /// Triggered invocations that found no eligible task.
    pub(crate) oom_no_victim: AtomicU64,
    /// Due OOM invocations postponed while an earlier victim was exiting.
    pub(crate) oom_deferred: AtomicU64,
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
    oom_triggers: AtomicU64::new(0),
    oom_no_victim: AtomicU64::new(0),
    oom_deferred: AtomicU64::new(0),
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

/// Starts tracking an allocation of the current task.
///
/// Returns `None` if the task is already tracked (a nested allocation: the
/// outer one is what loops) or if the table is full.
pub(crate) fn claim(
    task: &crate::sys::CurrentTask,
    gfp: u32,
    order: u32,
    kind: Kind,
    now: u64,
) -> Option<Token> {
    if let Some(idx) = find(task.addr) {
        let s = &SLOTS[idx];
        let ended = s.ended_ns.load(Ordering::Acquire);
        if ended == 0 {
            // Nested allocation (e.g. from reclaim): the outer one is what loops.
            return None;
        }
        if ended != FREEING
            && s.pid.load(Ordering::Relaxed) == task.pid
            && now.saturating_sub(ended) <= LINGER_NS
            && s.ended_ns
                .compare_exchange(ended, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // The same stall goes on with this allocation.
            s.gfp.store(gfp, Ordering::Relaxed);
            s.order.store(order, Ordering::Relaxed);
            s.kind.store(kind as u32, Ordering::Relaxed);
            s.alloc_ns.store(now, Ordering::Relaxed);
            STATS.in_flight.fetch_add(1, Ordering::Relaxed);
            return Some(Token {
                idx: idx as u32,
                gen: s.seq.load(Ordering::Acquire),
            });
        }
        // A previous stall of this task (or of a task that reused its
        // address) is over: close it and start afresh.
        expire(idx, ended);
    }
    let h = home(task.addr);
    for p in 0..CAPACITY {
        let (idx, s) = slot_at(h, p);
        if s.owner
            .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        // Odd: readers skip the slot while we fill it in.
        let gen = s.seq.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        core::sync::atomic::fence(Ordering::Release);
        s.pid.store(task.pid, Ordering::Relaxed);
        s.gfp.store(gfp, Ordering::Relaxed);
        s.order.store(order, Ordering::Relaxed);
        s.kind.store(kind as u32, Ordering::Relaxed);
        s.start_ns.store(now, Ordering::Relaxed);
        s.alloc_ns.store(now, Ordering::Relaxed);
        s.ended_ns.store(0, Ordering::Relaxed);
        let c = task.comm.pack();
        s.comm[0].store(c[0], Ordering::Relaxed);
        s.comm[1].store(c[1], Ordering::Relaxed);
        s.rounds.store(0, Ordering::Relaxed);
        s.sleeps.store(0, Ordering::Relaxed);
        s.pending_sleep_ms.store(0, Ordering::Relaxed);
        s.in_wrapper.store(false, Ordering::Relaxed);
        s.first_report_ns.store(0, Ordering::Relaxed);
        s.last_report_ns.store(0, Ordering::Relaxed);
        let gen = gen.wrapping_add(1);
        s.seq.store(gen, Ordering::Release);
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
    None
}

/// The allocation of `token` left the slow path at `now`.
///
/// A slow allocation keeps the stall open for [`LINGER_NS`]; a fast one
/// ends it.
pub(crate) fn release(token: Token, now: u64) {
    let Some(s) = SLOTS.get(token.idx as usize) else {
        return;
    };
    if s.seq.load(Ordering::Acquire) != token.gen {
        return;
    }
    let alloc_ns = now.saturating_sub(s.alloc_ns.load(Ordering::Relaxed));
    if let Some(b) = STATS.hist.get(hist::bucket(alloc_ns / 1_000)) {
        b.fetch_add(1, Ordering::Relaxed);
    }
    let stall_ns = now.saturating_sub(s.start_ns.load(Ordering::Relaxed));
    STATS
        .longest_ms
        .fetch_max(stall_ns / 1_000_000, Ordering::Relaxed);
    STATS.in_flight.fetch_sub(1, Ordering::Relaxed);
    if alloc_ns >= LINGER_MIN_NS {
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
    close(s, s.seq.load(Ordering::Acquire), ended);
}

/// Ends the stall in `s` at `end` and frees the slot.
fn close(s: &Slot, gen: u32, end: u64) {
    let first = s.first_report_ns.load(Ordering::Relaxed);
    if first != 0 {
        STATS.stalls_ended.fetch_add(1, Ordering::Relaxed);
        crate::recent::push(&snapshot_fields(s, gen), first, end);
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
    /// Entry into the slow path (monotonic ns).
    pub(crate) start_ns: u64,
    /// Retry rounds so far.
    pub(crate) rounds: u32,
    /// Back-off sleeps so far.
    pub(crate) sleeps: u32,
    /// First report (0 = not reported).
    pub(crate) first_report_ns: u64,
    /// Latest report (0 = not reported).
    pub(crate) last_report_ns: u64,
    /// When the task left the allocator (0 = it is in it).
    pub(crate) ended_ns: u64,
}

impl Snapshot {
    /// Whether the task is in the allocator now (not between allocations).
    pub(crate) fn in_allocator(&self) -> bool {
        self.ended_ns == 0
    }
}

/// Decodes a stored [`Kind`].
pub(crate) fn kind_from(v: u32) -> Kind {
    match v {
        0 => Kind::NoFail,
        1 => Kind::Implicit,
        _ => Kind::Other,
    }
}

fn snapshot_fields(s: &Slot, gen: u32) -> Snapshot {
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
        kind: kind_from(s.kind.load(Ordering::Relaxed)),
        start_ns: s.start_ns.load(Ordering::Relaxed),
        rounds: s.rounds.load(Ordering::Relaxed),
        sleeps: s.sleeps.load(Ordering::Relaxed),
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
        let gen = s.seq.load(Ordering::Acquire);
        if gen & 1 != 0 {
            continue;
        }
        let mut snap = snapshot_fields(s, gen);
        snap.idx = idx;
        core::sync::atomic::fence(Ordering::Acquire);
        if s.seq.load(Ordering::Relaxed) == gen && snap.task > BUSY {
            return Some(snap);
        }
    }
    None
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
    core::sync::atomic::fence(Ordering::SeqCst);
    if s.seq.load(Ordering::Acquire) != snap.gen {
        s.first_report_ns.store(0, Ordering::Relaxed);
        s.last_report_ns.store(0, Ordering::Relaxed);
    }
}

/// Access to the slot of the current task from the reclaim hook.
pub(crate) struct Own(&'static Slot);

impl Own {
    /// The slot at `idx`, which the current task owns (from [`find`]).
    pub(crate) fn new(idx: usize) -> Option<Self> {
        SLOTS.get(idx).map(Own)
    }

    /// Counts one retry round; returns (start_ns, sleeps done).
    pub(crate) fn round(&self) -> (u64, u32) {
        self.0.rounds.fetch_add(1, Ordering::Relaxed);
        STATS.rounds.fetch_add(1, Ordering::Relaxed);
        (
            self.0.start_ns.load(Ordering::Relaxed),
            self.0.sleeps.load(Ordering::Relaxed),
        )
    }

    /// Whether the task is in a tracked allocation now (not lingering
    /// between two, when an untracked allocation of it may reclaim).
    pub(crate) fn in_allocator(&self) -> bool {
        self.0.ended_ns.load(Ordering::Relaxed) == 0
    }

    /// Whether the task is inside the replacement, calling the original.
    pub(crate) fn in_wrapper(&self) -> bool {
        self.0.in_wrapper.load(Ordering::Relaxed)
    }

    /// Marks entry into / exit from the original function.
    pub(crate) fn set_in_wrapper(&self, v: bool) {
        self.0.in_wrapper.store(v, Ordering::Relaxed);
    }

    /// Requests a back-off sleep of `ms` before this round.
    pub(crate) fn set_pending_sleep(&self, ms: u32) {
        self.0.pending_sleep_ms.store(ms, Ordering::Relaxed);
    }

    /// Takes the requested back-off sleep.
    pub(crate) fn take_pending_sleep(&self) -> u32 {
        self.0.pending_sleep_ms.swap(0, Ordering::Relaxed)
    }

    /// Counts a back-off sleep of `ms`.
    pub(crate) fn slept(&self, ms: u32) {
        self.0.sleeps.fetch_add(1, Ordering::Relaxed);
        STATS.sleeps.fetch_add(1, Ordering::Relaxed);
        STATS.slept_ms.fetch_add(u64::from(ms), Ordering::Relaxed);
    }
}
