// SPDX-License-Identifier: GPL-2.0

//! A small ring of recently ended stalls (those that were reported), with
//! their timestamps, for the `recent` sysfs file.
//!
//! Written lock-free from the slow-path return hook (any CPU): a
//! [`SeqRing`], whose sequence counts let readers skip entries that are
//! being rewritten.

use crate::logic::fmtbuf::{newest_that_fit, Count};
use crate::logic::gfp::{Gfp, Kind};
use crate::logic::seqcount::{RingSlot, SeqRing};
use crate::sys::Comm;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Number of ended stalls remembered.
const LEN: usize = 64;

/// The fields of one ended stall in the ring (see [`Ended`]).
struct Entry {
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

static RING: SeqRing<Entry, LEN> = SeqRing::new([const { RingSlot::new(Entry::new()) }; LEN]);

/// Records an ended stall (called from the slow-path return hook, and from
/// whoever closes a stall). Lost if a stall pushed [`LEN`] earlier is still
/// being written into the same entry.
pub(crate) fn push(s: &Ended) {
    // Relaxed stores: the ring's sequence count orders them.
    RING.push(|_, e| {
        e.pid.store(s.pid, Ordering::Relaxed);
        let c = s.comm.pack();
        e.comm[0].store(c[0], Ordering::Relaxed);
        e.comm[1].store(c[1], Ordering::Relaxed);
        e.gfp.store(s.gfp, Ordering::Relaxed);
        e.order_kind
            .store((s.order << 8) | s.kind as u32, Ordering::Relaxed);
        e.start_ns.store(s.start_ns, Ordering::Relaxed);
        e.first_report_ns
            .store(s.first_report_ns, Ordering::Relaxed);
        e.end_ns.store(s.end_ns, Ordering::Relaxed);
        e.rounds.store(s.rounds, Ordering::Relaxed);
        e.sleeps.store(s.sleeps, Ordering::Relaxed);
    });
}

/// One ended stall, as pushed into and read back from the ring.
#[derive(Clone, Copy)]
pub(crate) struct Ended {
    pub(crate) pid: u32,
    pub(crate) comm: Comm,
    pub(crate) gfp: u32,
    pub(crate) order: u32,
    pub(crate) kind: Kind,
    pub(crate) start_ns: u64,
    pub(crate) first_report_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) rounds: u32,
    pub(crate) sleeps: u32,
}

/// Number of stalls pushed so far (the next push is number `head()`).
pub(crate) fn head() -> u64 {
    RING.head()
}

/// Entry number `n`, if it is still in the ring and not being rewritten.
pub(crate) fn read(n: u64) -> Option<Ended> {
    // Relaxed loads: the ring's sequence count validates them.
    RING.read(n, |e| {
        let ok = e.order_kind.load(Ordering::Relaxed);
        Ended {
            pid: e.pid.load(Ordering::Relaxed),
            comm: Comm::unpack([
                e.comm[0].load(Ordering::Relaxed),
                e.comm[1].load(Ordering::Relaxed),
            ]),
            gfp: e.gfp.load(Ordering::Relaxed),
            order: ok >> 8,
            kind: Kind::from_u32(ok & 0xff),
            start_ns: e.start_ns.load(Ordering::Relaxed),
            first_report_ns: e.first_report_ns.load(Ordering::Relaxed),
            end_ns: e.end_ns.load(Ordering::Relaxed),
            rounds: e.rounds.load(Ordering::Relaxed),
            sleeps: e.sleeps.load(Ordering::Relaxed),
        }
    })
}

impl Ended {
    /// Writes this stall as one line of the `recent` file.
    fn write_line(&self, w: &mut impl Write) -> core::fmt::Result {
        writeln!(
            w,
            "{} {} {} {} {} {} {} {} {} {} {}",
            self.pid,
            self.comm,
            self.kind.as_str(),
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
