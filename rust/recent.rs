// SPDX-License-Identifier: GPL-2.0

//! A small ring of recently ended stalls (those that were reported), with
//! their timestamps, for the `recent` sysfs file.
//!
//! Written lock-free from the slow-path return hook; each entry has a
//! sequence count so readers skip entries that are being rewritten.

use crate::logic::fmtbuf::{newest_that_fit, Count};
use crate::logic::gfp::Gfp;
use crate::track::Snapshot;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Number of ended stalls remembered.
const LEN: usize = 64;

/// One ended stall.
///
/// # Invariants
///
/// `seq` is odd while a writer fills the entry in.
struct Entry {
    seq: AtomicU32,
    /// Which push this is (its `HEAD` number).
    num: AtomicU64,
    pid: AtomicU32,
    comm: [AtomicU64; 2],
    gfp: AtomicU32,
    order_kind: AtomicU32,
    start_ns: AtomicU64,
    first_report_ns: AtomicU64,
    end_ns: AtomicU64,
    rounds: AtomicU32,
    sleeps: AtomicU32,
}

impl Entry {
    const fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            num: AtomicU64::new(0),
            pid: AtomicU32::new(0),
            comm: [AtomicU64::new(0), AtomicU64::new(0)],
            gfp: AtomicU32::new(0),
            order_kind: AtomicU32::new(0),
            start_ns: AtomicU64::new(0),
            first_report_ns: AtomicU64::new(0),
            end_ns: AtomicU64::new(0),
            rounds: AtomicU32::new(0),
            sleeps: AtomicU32::new(0),
        }
    }
}

static RING: [Entry; LEN] = [const { Entry::new() }; LEN];
static HEAD: AtomicU64 = AtomicU64::new(0);

/// Records an ended stall (called from the slow-path return hook).
pub(crate) fn push(s: &Snapshot, first_report_ns: u64, end_ns: u64) {
    let n = HEAD.fetch_add(1, Ordering::Relaxed);
    let e = &RING[(n % LEN as u64) as usize];
    // INVARIANT: odd while we write.
    let seq = e.seq.fetch_add(1, Ordering::AcqRel);
    if seq & 1 != 0 {
        // Another writer lapped the ring onto this entry; let it finish.
        e.seq.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    core::sync::atomic::fence(Ordering::Release);
    e.num.store(n, Ordering::Relaxed);
    e.pid.store(s.pid as u32, Ordering::Relaxed);
    let c = s.comm.pack();
    e.comm[0].store(c[0], Ordering::Relaxed);
    e.comm[1].store(c[1], Ordering::Relaxed);
    e.gfp.store(s.gfp, Ordering::Relaxed);
    e.order_kind
        .store((s.order << 8) | s.kind as u32, Ordering::Relaxed);
    e.start_ns.store(s.start_ns, Ordering::Relaxed);
    e.first_report_ns.store(first_report_ns, Ordering::Relaxed);
    e.end_ns.store(end_ns, Ordering::Relaxed);
    e.rounds.store(s.rounds, Ordering::Relaxed);
    e.sleeps.store(s.sleeps, Ordering::Relaxed);
    e.seq.store(seq.wrapping_add(2), Ordering::Release);
}

/// One ended stall, as read back from the ring.
#[derive(Clone, Copy)]
pub(crate) struct Ended {
    pub(crate) pid: u32,
    pub(crate) comm: crate::sys::Comm,
    pub(crate) gfp: u32,
    pub(crate) order: u32,
    pub(crate) kind: u32,
    pub(crate) start_ns: u64,
    pub(crate) first_report_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) rounds: u32,
    pub(crate) sleeps: u32,
}

/// Number of stalls pushed so far (the next push is number `head()`).
pub(crate) fn head() -> u64 {
    HEAD.load(Ordering::Acquire)
}

/// Entry number `n`, if it is still in the ring and not being rewritten.
pub(crate) fn read(n: u64) -> Option<Ended> {
    let e = &RING[(n % LEN as u64) as usize];
    let seq = e.seq.load(Ordering::Acquire);
    if seq & 1 != 0 || seq == 0 || n.saturating_add(LEN as u64) < head() {
        return None;
    }
    let num = e.num.load(Ordering::Relaxed);
    let ok = e.order_kind.load(Ordering::Relaxed);
    let ended = Ended {
        pid: e.pid.load(Ordering::Relaxed),
        comm: crate::sys::Comm::unpack([
            e.comm[0].load(Ordering::Relaxed),
            e.comm[1].load(Ordering::Relaxed),
        ]),
        gfp: e.gfp.load(Ordering::Relaxed),
        order: ok >> 8,
        kind: ok & 0xff,
        start_ns: e.start_ns.load(Ordering::Relaxed),
        first_report_ns: e.first_report_ns.load(Ordering::Relaxed),
        end_ns: e.end_ns.load(Ordering::Relaxed),
        rounds: e.rounds.load(Ordering::Relaxed),
        sleeps: e.sleeps.load(Ordering::Relaxed),
    };
    core::sync::atomic::fence(Ordering::Acquire);
    (e.seq.load(Ordering::Relaxed) == seq && num == n).then_some(ended)
}

impl Ended {
    /// Writes this stall as one line of the `recent` file.
    fn write_line(&self, w: &mut impl Write) -> core::fmt::Result {
        writeln!(
            w,
            "{} {} {} {} {} {} {} {} {} {} {}",
            self.pid,
            self.comm,
            crate::track::kind_from(self.kind).as_str(),
            self.order,
            Gfp(self.gfp),
            self.start_ns,
            self.first_report_ns,
            self.end_ns,
            self.end_ns.saturating_sub(self.start_ns) / 1_000_000,
            self.rounds,
            self.sleeps
        )
    }
}

/// Header line of the `recent` file.
const HEADER: &str = "pid comm kind order gfp start_ns first_report_ns end_ns ms retries sleeps";

/// Writes the ring, one line per ended stall: as many of the newest as fit
/// in `room` bytes (the ring holds more than a page shows), oldest first.
pub(crate) fn show(w: &mut impl Write, room: usize) -> core::fmt::Result {
    writeln!(w, "{HEADER}")?;
    let head = head();
    let Some(newest) = head.checked_sub(1) else {
        return Ok(());
    };
    let room = room.saturating_sub(HEADER.len().saturating_add(1));
    let first = newest_that_fit(head.saturating_sub(LEN as u64), newest, room, |n| {
        let mut c = Count(0);
        read(n)?.write_line(&mut c).ok()?;
        Some(c.0)
    });
    for e in (first..head).filter_map(read) {
        e.write_line(w)?;
    }
    Ok(())
}
