// SPDX-License-Identifier: GPL-2.0

//! Events for userspace: the pollable `events` file and `KOBJ_CHANGE`
//! uevents on `/sys/module/nofail_watchdog`.
//!
//! Only the watchdog thread records events (into [`RING`]); in the hooks
//! nothing here runs. After each scan it wakes the pollers of `events` once
//! (`kernfs_notify()`, what `sysfs_notify()` does after its lookup: no
//! allocation, no sleeping) and, if a recorded event is to be announced by a
//! uevent, queues [`UEVENT`]: `kobject_uevent_env()` allocates, and a
//! watchdog that waits for memory while memory is exhausted would be no
//! watchdog. The work item allocates as any uevent sender does
//! (`GFP_KERNEL`, in a kworker): never from the memory reserves, which a
//! stall's no-fail fallback and OOM victims need (and from which a
//! `pfmemalloc` skb could be dropped on its way to a listener while counted
//! as sent). A uevent the kernel refuses is counted in `uevents_failed`.
//!
//! Uevents are held back while memory is exhausted, as the kernel's own
//! verdicts (its global `out_of_memory()` calls) show it
//! ([`ev::holds_uevents`], [`ev::verdict_holds`]):
//!
//! - while a stall in the scope that had a verdict is in the allocator;
//! - for [`ev::PRESSURE_NS`] after any task's verdict, while any stall in
//!   the scope is in the allocator (memory found exhausted stays short
//!   while reclaim crawls and verdicts come far apart);
//! - until [`ev::VERDICT_HOLD_NS`] after any task's verdict (after a kill,
//!   the stalled tasks may eat what it freed and be stuck again before
//!   their next verdict).
//!
//! A `GFP_KERNEL` allocation then would meet exhausted memory, and with
//! `__GFP_FS` the kernel's OOM killer would act for the module's
//! announcement, before `oom_after_ms` or with `oom_after_ms=0`. The
//! watchdog queues the work only when memory is no longer exhausted, and
//! the work looks again before each uevent; the `events` file is not held.
//!
//! Before the first verdict there is nothing to go by: reclaim may crawl
//! until the uevent's own allocation is the first to get one (seen on the
//! debug kernel's btrfs scenario, 1.4 s after the first stall reports).
//! So before each uevent the work asks the allocator itself
//! ([`ModuleKobj::memory_for_uevent`]: the same allocation, but one that
//! fails where it would call `out_of_memory()`). A failure holds uevents
//! as a verdict does.
//!
//! What is held longer than the ring keeps is counted in `uevents_dropped`;
//! each hold in `uevent_holds`.
//!
//! Rate limits: see [`crate::logic::events`]. The ring keeps the last
//! [`LEN`] events.

use crate::logic::events::{self as ev, Event, EventKind, RateLimit};
use crate::logic::fmtbuf::{newest_that_fit, Count, FmtBuf};
use crate::logic::seqcount::{RingSlot, SeqRing};
use crate::logic::stall::{self, Policy};
use crate::sys::uevent::ModuleKobj;
use crate::sys::workqueue::{Work, WorkItem};
use crate::sys::{Comm, FileNode, Published, SysfsDir};
use crate::track::{self, Snapshot};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;

/// Events kept for readers of `events` and for the uevent work.
const LEN: usize = 32;

/// The fields of one recorded event in the ring (its number is the ring's).
///
/// # Invariants
///
/// Written by the watchdog thread only ([`SeqRing::push_single_writer`]).
struct Entry {
    time_ns: AtomicU64,
    kind: AtomicU32,
    pid: AtomicU32,
    comm: [AtomicU64; 2],
    gfp: AtomicU32,
    order: AtomicU32,
    ms: AtomicU64,
    /// Whether a uevent announces it.
    uevent: AtomicBool,
    /// Uevents dropped by the rate limit before this one.
    dropped: AtomicU32,
}

impl Entry {
    const fn new() -> Self {
        Self {
            time_ns: AtomicU64::new(0),
            kind: AtomicU32::new(0),
            pid: AtomicU32::new(0),
            comm: [AtomicU64::new(0), AtomicU64::new(0)],
            gfp: AtomicU32::new(0),
            order: AtomicU32::new(0),
            ms: AtomicU64::new(0),
            uevent: AtomicBool::new(false),
            dropped: AtomicU32::new(0),
        }
    }
}

/// Event number `seq` is the ring's push number `seq - 1`.
static RING: SeqRing<Entry, LEN> = SeqRing::new([const { RingSlot::new(Entry::new()) }; LEN]);
/// Sequence number of the newest event (0: none yet): the ring's count of
/// pushes, which it advances once an event is complete.
static HEAD: &AtomicU64 = RING.head_counter();
/// Newest event the uevent work has dealt with.
static UEVENT_DONE: AtomicU64 = AtomicU64::new(0);
/// Uevents sent, dropped by the rate limit (or lost), failed.
static UEVENTS_SENT: AtomicU64 = AtomicU64::new(0);
static UEVENTS_DROPPED: AtomicU64 = AtomicU64::new(0);
static UEVENTS_FAILED: AtomicU64 = AtomicU64::new(0);
/// Times delivery was held back because memory was exhausted.
static UEVENT_HOLDS: AtomicU64 = AtomicU64::new(0);
/// When the uevent work last found that memory could not serve a uevent
/// without the OOM killer ([`ModuleKobj::memory_for_uevent`]; 0 = never):
/// held as the kernel's own verdicts are ([`exhausted`]).
static PROBE_FAILED_NS: AtomicU64 = AtomicU64::new(0);
/// Per tracking slot: generation + 1 of the occupant whose first back-off
/// sleep has been announced (watchdog thread only).
static BACKOFF_SEEN: [AtomicU32; track::CAPACITY] = [const { AtomicU32::new(0) }; track::CAPACITY];

/// The `events` file's node, to wake its pollers.
static NODE: Published<FileNode> = Published::new();
/// The uevent work, on `/sys/module/nofail_watchdog`.
static UEVENT: Published<Work<Uevents>> = Published::new();

/// Starts delivering events: `dir` is `/sys/kernel/nofail_watchdog` (with
/// the `events` file), `module` this module.
///
/// Called once, from module init, before [`detach`].
pub(crate) fn attach(dir: &SysfsDir, module: &'static ThisModule) -> Result {
    UEVENT_DONE.store(HEAD.load(Ordering::Relaxed), Ordering::Relaxed);
    let work = Work::new(Uevents {
        kobj: ModuleKobj::of(module),
    })?;
    // Nothing is published before `attach`, and `detach` empties both.
    let _ = UEVENT.publish(work);
    if let Some(node) = dir.node(c"events") {
        let _ = NODE.publish(node);
    }
    Ok(())
}

/// Stops delivering events. Called at unload, after the watchdog thread
/// (the only caller of [`Emitter::flush`]) has stopped; waits for the
/// uevent work to finish.
pub(crate) fn detach() {
    // Both unpublished before either is freed: one grace period for both.
    let work = UEVENT.retire();
    let node = NODE.retire();
    drop(work);
    drop(node);
}

/// Reads event `seq` back, if it is still in the ring.
fn read(seq: u64) -> Option<(Event<Comm>, bool, u32)> {
    // Relaxed loads: the ring's sequence count validates them.
    RING.read(seq.checked_sub(1)?, |e| {
        let event = Event {
            seq,
            time_ns: e.time_ns.load(Ordering::Relaxed),
            kind: EventKind::from_u32(e.kind.load(Ordering::Relaxed))?,
            pid: e.pid.load(Ordering::Relaxed) as i32,
            comm: Comm::unpack([
                e.comm[0].load(Ordering::Relaxed),
                e.comm[1].load(Ordering::Relaxed),
            ]),
            gfp: e.gfp.load(Ordering::Relaxed),
            order: e.order.load(Ordering::Relaxed),
            ms: e.ms.load(Ordering::Relaxed),
        };
        let uevent = e.uevent.load(Ordering::Relaxed);
        let dropped = e.dropped.load(Ordering::Relaxed);
        Some((event, uevent, dropped))
    })
    .flatten()
}

/// The watchdog thread's side: records events and delivers them.
pub(crate) struct Emitter {
    limit: RateLimit,
    /// Uevents dropped by the rate limit since the last one allowed.
    dropped: u32,
    notify: bool,
    /// Sequence number of the newest event to be announced by a uevent.
    newest_uevent: u64,
    /// Whether uevents are being held back (memory exhausted).
    holding: bool,
    /// Next entry of the ring of ended stalls to look at, and how many
    /// scans it has been unreadable (being written by a hook).
    ended_next: u64,
    ended_tries: u32,
}

impl Emitter {
    /// Called once, when the watchdog thread starts.
    pub(crate) fn new() -> Self {
        Self {
            limit: RateLimit::new(),
            dropped: 0,
            notify: false,
            newest_uevent: 0,
            holding: false,
            ended_next: crate::recent::head(),
            ended_tries: 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: EventKind,
        time_ns: u64,
        pid: i32,
        comm: Comm,
        gfp: u32,
        order: u32,
        ms: u64,
    ) {
        let uevent = ev::uevent_allowed(kind, &mut self.limit, crate::sys::now_ns());
        let dropped = if uevent {
            core::mem::take(&mut self.dropped)
        } else {
            self.dropped = self.dropped.saturating_add(1);
            UEVENTS_DROPPED.fetch_add(1, Ordering::Relaxed);
            0
        };
        // INVARIANT: we are the only writer. Relaxed stores: the entry's
        // sequence count orders them; the head counts the event (Release)
        // once it is complete.
        RING.push_single_writer(|_, e| {
            e.time_ns.store(time_ns, Ordering::Relaxed);
            e.kind.store(kind as u32, Ordering::Relaxed);
            e.pid.store(pid as u32, Ordering::Relaxed);
            let c = comm.pack();
            e.comm[0].store(c[0], Ordering::Relaxed);
            e.comm[1].store(c[1], Ordering::Relaxed);
            e.gfp.store(gfp, Ordering::Relaxed);
            e.order.store(order, Ordering::Relaxed);
            e.ms.store(ms, Ordering::Relaxed);
            e.uevent.store(uevent, Ordering::Relaxed);
            e.dropped.store(dropped, Ordering::Relaxed);
        });
        self.notify = true;
        if uevent {
            self.newest_uevent = HEAD.load(Ordering::Relaxed);
        }
    }

    fn push_stall(&mut self, kind: EventKind, s: &Snapshot, now: u64) {
        let ms = stall::elapsed(now, s.start_ns) / stall::NSEC_PER_MSEC;
        self.push(kind, now, s.pid, s.comm, s.gfp, s.order, ms);
    }

    /// The first report of `s`, at `now`.
    pub(crate) fn stall(&mut self, s: &Snapshot, now: u64) {
        self.push_stall(EventKind::Stall, s, now);
    }

    /// The OOM killer is about to be invoked for `s`.
    pub(crate) fn oom(&mut self, s: &Snapshot, now: u64) {
        self.push_stall(EventKind::Oom, s, now);
    }

    /// Looks at a stall (in the allocator or between two allocations):
    /// announces its first back-off sleep; returns when to look again, if
    /// the watchdog must wake for it.
    pub(crate) fn watch(&mut self, s: &Snapshot, policy: &Policy, now: u64) -> Option<u64> {
        let mut next = None;
        if let Some(seen) = BACKOFF_SEEN.get(s.idx) {
            let mark = s.gen.wrapping_add(1);
            if seen.load(Ordering::Relaxed) != mark {
                if s.sleeps > 0 {
                    seen.store(mark, Ordering::Relaxed);
                    self.push_stall(EventKind::Backoff, s, now);
                } else {
                    next = ev::backoff_check_at(policy, now, s.start_ns);
                }
            }
        }
        if s.first_report_ns != 0 && s.in_allocator() {
            // Its end may come from a hook, which wakes nobody (a lingering
            // stall is closed by the watchdog itself).
            let poll = now.saturating_add(ev::END_POLL_NS);
            next = Some(next.map_or(poll, |n: u64| n.min(poll)));
        }
        next
    }

    /// Records the reported stalls that ended since the last call.
    pub(crate) fn collect_ended(&mut self) {
        let head = crate::recent::head();
        while self.ended_next < head {
            match crate::recent::read(self.ended_next) {
                Some(e) => {
                    let ms = e.end_ns.saturating_sub(e.start_ns) / stall::NSEC_PER_MSEC;
                    self.push(
                        EventKind::End,
                        e.end_ns,
                        e.pid as i32,
                        e.comm,
                        e.gfp,
                        e.order,
                        ms,
                    );
                }
                // Being written by a hook right now: look again next scan
                // (a few times; then it was lost to a lapping writer).
                None if self.ended_tries < 3 => {
                    self.ended_tries += 1;
                    return;
                }
                None => {}
            }
            self.ended_tries = 0;
            self.ended_next += 1;
        }
    }

    /// Delivers what was recorded since the last call: one poll wake-up,
    /// and the uevent work if an event is still to be announced, unless
    /// memory is exhausted ([`exhausted`]): then the uevents wait.
    pub(crate) fn flush(&mut self) {
        if core::mem::take(&mut self.notify) {
            NODE.with(|n| n.notify());
        }
        // Also when the work stopped early, held back by [`exhausted`].
        if UEVENT_DONE.load(Ordering::Relaxed) >= self.newest_uevent {
            self.holding = false;
            return;
        }
        if exhausted() {
            if !self.holding {
                self.holding = true;
                UEVENT_HOLDS.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        self.holding = false;
        UEVENT.with(|w| w.schedule());
    }

    /// Whether uevents are held back: the watchdog must then look again
    /// soon, for the end of the stalls that hold them (which may come from
    /// a hook, which wakes nobody).
    pub(crate) fn holding(&self) -> bool {
        self.holding
    }
}

/// Whether memory is exhausted, as the kernel judged it for a stall still
/// in the allocator or for any task in the last [`ev::PRESSURE_NS`] while a
/// stall is in the allocator ([`ev::holds_uevents`]), or for any task less
/// than [`ev::VERDICT_HOLD_NS`] ago ([`ev::verdict_holds`]).
fn exhausted() -> bool {
    let probe = match PROBE_FAILED_NS.load(Ordering::Relaxed) {
        0 => None,
        t => Some(t),
    };
    let (now, last) = (crate::sys::now_ns(), crate::oom::last_verdict().max(probe));
    let pressure = ev::under_pressure(now, last);
    ev::verdict_holds(now, last)
        || track::any(|s| ev::holds_uevents(s.in_scope, s.in_allocator(), s.oom_calls, pressure))
}

/// The uevent work: announces the events recorded since it last ran.
struct Uevents {
    kobj: ModuleKobj,
}

impl WorkItem for Uevents {
    fn run(&self) {
        let head = HEAD.load(Ordering::Acquire);
        let mut seq = UEVENT_DONE.load(Ordering::Relaxed);
        if head.saturating_sub(seq) > LEN as u64 {
            // Overwritten before we got to them.
            let lost = head.saturating_sub(seq).saturating_sub(LEN as u64);
            UEVENTS_DROPPED.fetch_add(lost, Ordering::Relaxed);
            seq = head.saturating_sub(LEN as u64);
        }
        while seq < head {
            let Some((event, true, dropped)) = read(seq + 1) else {
                seq += 1;
                continue;
            };
            if exhausted() {
                // Memory ran out since the watchdog queued us: it queues
                // us again once memory is back.
                break;
            }
            if !ModuleKobj::memory_for_uevent() {
                // The allocator found memory exhausted before the kernel
                // called `out_of_memory()` for anyone: our allocation would
                // have been first. A verdict of its own, held as one.
                PROBE_FAILED_NS.store(crate::sys::now_ns().max(1), Ordering::Relaxed);
                break;
            }
            seq += 1;
            let mut buf = [0u8; 512];
            let mut w = FmtBuf::new(&mut buf[..511]);
            if event.write_env(dropped, &mut w).is_err() || w.truncated() {
                UEVENTS_FAILED.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let len = w.len();
            crate::sys::trace::uevent(event.seq, event.kind as u32, event.pid);
            match self.kobj.change(&mut buf[..len]) {
                Ok(()) => UEVENTS_SENT.fetch_add(1, Ordering::Relaxed),
                Err(_) => UEVENTS_FAILED.fetch_add(1, Ordering::Relaxed),
            };
        }
        UEVENT_DONE.store(seq, Ordering::Relaxed);
    }
}

/// The `events` file: `seq N` (the newest event's number: a poller reads it
/// to see what is new), a header, then as many of the newest events as fit
/// in `room` bytes, oldest first.
pub(crate) fn show(w: &mut impl Write, room: usize) -> core::fmt::Result {
    let head = HEAD.load(Ordering::Acquire);
    let mut used = Count(0);
    writeln!(used, "seq {}\n{}", head, ev::HEADER)?;
    writeln!(w, "seq {}\n{}", head, ev::HEADER)?;
    let oldest = head.saturating_sub(LEN as u64 - 1).max(1);
    let first = newest_that_fit(oldest, head, room.saturating_sub(used.0), |seq| {
        let (e, _, _) = read(seq)?;
        let mut c = Count(0);
        e.write_line(&mut c).ok()?;
        Some(c.0)
    });
    for seq in first..=head {
        if let Some((e, _, _)) = read(seq) {
            e.write_line(w)?;
        }
    }
    Ok(())
}

/// Lines for the `stats` file.
pub(crate) fn show_stats(w: &mut impl Write) -> core::fmt::Result {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    writeln!(w, "events {}", l(HEAD))?;
    writeln!(w, "uevents_sent {}", l(&UEVENTS_SENT))?;
    writeln!(w, "uevents_dropped {}", l(&UEVENTS_DROPPED))?;
    writeln!(w, "uevents_failed {}", l(&UEVENTS_FAILED))?;
    writeln!(w, "uevent_holds {}", l(&UEVENT_HOLDS))
}
