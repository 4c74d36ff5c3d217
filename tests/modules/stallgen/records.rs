// SPDX-License-Identifier: GPL-2.0

//! The ground truth of a run: the records of its slow allocations, its
//! counters, and the `records` file that shows them.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bindings as b;
use kernel::prelude::*;

use crate::comm::Comm;
use crate::fmtbuf::{Count, FmtBuf};
use crate::params::Mode;
use crate::util::NSEC_PER_MSEC;
use crate::Shared;

/// Most records kept per run.
pub(crate) const MAX_RECORDS: usize = 4096;
/// Bytes kept free at the end of a `records` page for the summary line.
const SUMMARY_ROOM: usize = 352;

/// Why a run ended (or that it did not yet).
#[derive(Clone, Copy)]
pub(crate) enum StopReason {
    /// No run since the module was loaded.
    None,
    /// A run is in progress.
    Running,
    /// The window elapsed.
    Window,
    /// With `until=stall`: every worker saw a stall and exited.
    Stall,
    /// The controller got a fatal signal (SIGKILL).
    Signal,
    /// The run could not start (reserve or kthread creation failed).
    Error,
}

impl StopReason {
    /// The word shown in the summary line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            StopReason::None => "none",
            StopReason::Running => "running",
            StopReason::Window => "window",
            StopReason::Stall => "stall",
            StopReason::Signal => "signal",
            StopReason::Error => "error",
        }
    }
}

/// One slow allocation, as shown by `records`.
#[derive(Clone, Copy)]
pub(crate) struct Record {
    /// Pid of the allocating task.
    pub(crate) pid: i32,
    /// Its command name.
    pub(crate) comm: Comm,
    /// The worker's mode.
    pub(crate) mode: Mode,
    /// The page order passed (0 for non-page modes).
    pub(crate) order: u32,
    /// The gfp mask passed.
    pub(crate) gfp: b::gfp_t,
    /// When the allocation call started (`ktime_get_mono_fast_ns()`).
    pub(crate) start_ns: u64,
    /// When it returned.
    pub(crate) end_ns: u64,
    /// Which allocation of its worker it was (1 = the first).
    pub(crate) seq: u64,
}

impl Record {
    /// Filler for the preallocated record table.
    const EMPTY: Record = Record {
        pid: 0,
        comm: Comm::EMPTY,
        mode: Mode::Page,
        order: 0,
        gfp: 0,
        start_ns: 0,
        end_ns: 0,
        seq: 0,
    };
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pid={} comm={} mode={} order={} gfp={:#x} start_ns={} end_ns={} ms={} seq={}",
            self.pid,
            self.comm,
            self.mode.name(),
            self.order,
            self.gfp,
            self.start_ns,
            self.end_ns,
            self.end_ns.saturating_sub(self.start_ns) / NSEC_PER_MSEC,
            self.seq
        )
    }
}

/// Records of the last run and what `records` shows.
pub(crate) struct Log {
    /// Record table, allocated at module load: `MAX_RECORDS` entries, the
    /// first `count` valid.
    recs: KVVec<Record>,
    /// Number of valid records.
    count: usize,
    /// Records that did not fit.
    dropped: u64,
    /// First record `records` shows.
    offset: usize,
    /// State of the last run.
    stopped_by: StopReason,
    /// Workers of the last run.
    workers: u32,
}

impl Log {
    /// An empty log, with its record table (allocated now, at module load).
    pub(crate) fn new() -> Result<Self> {
        Ok(Log {
            recs: KVVec::from_elem(Record::EMPTY, MAX_RECORDS, GFP_KERNEL)?,
            count: 0,
            dropped: 0,
            offset: 0,
            stopped_by: StopReason::None,
            workers: 0,
        })
    }
}

/// The counters of the last run, shown in the summary line of `records`.
pub(crate) struct Stats {
    /// Successful allocations.
    pub(crate) allocations: AtomicU64,
    /// Allocations that took at least `stall_ms`.
    pub(crate) stalls: AtomicU64,
    /// Allocations that returned NULL.
    pub(crate) failed: AtomicU64,
    /// Longest allocation, in nanoseconds.
    pub(crate) max_ns: AtomicU64,
    /// When the workers were started (the gate opened).
    pub(crate) gate_ns: AtomicU64,
    /// When STOP was set (0 before).
    pub(crate) stop_ns: AtomicU64,
    /// Pages the slow cache's shrinker freed.
    pub(crate) slow_served: AtomicU64,
    /// Pages the controller (`slow_mode=crawl`) or the workers
    /// (`slow_mode=thrash`) moved into the slow cache once the memory was
    /// exhausted.
    pub(crate) slow_leveled: AtomicU64,
    /// Scans of the slow cache's shrinker (each slept `slow_ms`).
    pub(crate) slow_scans: AtomicU64,
}

impl Stats {
    /// All zero.
    pub(crate) const fn new() -> Self {
        Stats {
            allocations: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            gate_ns: AtomicU64::new(0),
            stop_ns: AtomicU64::new(0),
            slow_served: AtomicU64::new(0),
            slow_leveled: AtomicU64::new(0),
            slow_scans: AtomicU64::new(0),
        }
    }

    /// Sets every counter to zero.
    fn reset(&self) {
        for c in [
            &self.allocations,
            &self.stalls,
            &self.failed,
            &self.max_ns,
            &self.gate_ns,
            &self.stop_ns,
            &self.slow_served,
            &self.slow_leveled,
            &self.slow_scans,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

impl Shared {
    /// Forgets the last run's records and counters: a run of `workers`
    /// workers starts.
    pub(crate) fn begin_run(&self, workers: u32) {
        let mut log = self.log.lock();
        log.count = 0;
        log.dropped = 0;
        log.offset = 0;
        log.stopped_by = StopReason::Running;
        log.workers = workers;
        self.stats.reset();
    }

    /// The run is over, for `reason`.
    pub(crate) fn end_run(&self, reason: StopReason) {
        self.log.lock().stopped_by = reason;
    }

    /// Adds a record, or counts it as dropped if the table is full.
    pub(crate) fn record(&self, rec: Record) {
        let mut log = self.log.lock();
        let i = log.count;
        if let Some(slot) = log.recs.get_mut(i) {
            *slot = rec;
            log.count = i + 1;
        } else {
            log.dropped += 1;
        }
    }

    /// The first record `records` shows (`records_offset`).
    pub(crate) fn offset(&self) -> usize {
        self.log.lock().offset
    }

    /// Sets the first record `records` shows (`records_offset`).
    pub(crate) fn set_offset(&self, offset: usize) {
        self.log.lock().offset = offset;
    }

    /// Formats `records` into `out` (a sysfs page); returns the length.
    pub(crate) fn show_records(&self, out: &mut [u8]) -> usize {
        let log = self.log.lock();
        let limit = out.len().saturating_sub(SUMMARY_ROOM);
        let mut w = FmtBuf::new(out);
        let first = log.offset.min(log.count);
        let mut shown = 0;
        for rec in &log.recs[first..log.count] {
            // Only whole records, and only while the summary still fits.
            let mut len = Count::default();
            let _ = write!(len, "{}", rec);
            if w.len().saturating_add(len.0) > limit {
                break;
            }
            let _ = write!(w, "{}", rec);
            shown += 1;
        }
        let s = &self.stats;
        // SUMMARY_ROOM is enough for the longest summary line.
        let _ = writeln!(
            w,
            "summary workers={} allocations={} stalls={} max_ms={} stopped_by={} records={} dropped={} failed={} first={} shown={} start_ns={} stop_ns={} served={} scans={}",
            log.workers,
            s.allocations.load(Ordering::Relaxed),
            s.stalls.load(Ordering::Relaxed),
            s.max_ns.load(Ordering::Relaxed) / NSEC_PER_MSEC,
            log.stopped_by.name(),
            log.count,
            log.dropped,
            s.failed.load(Ordering::Relaxed),
            first,
            shown,
            s.gate_ns.load(Ordering::Relaxed),
            s.stop_ns.load(Ordering::Relaxed),
            s.slow_served.load(Ordering::Relaxed),
            s.slow_scans.load(Ordering::Relaxed)
        );
        w.len()
    }
}
