// SPDX-License-Identifier: GPL-2.0

//! Stall generator: makes allocations that cannot fail loop in the page
//! allocator slow path, on demand and deterministically (test-only module).
//!
//! Interface, in `/sys/kernel/nfw_stallgen/` (root only):
//!
//! - `run` (0200): writing starts a run; the writing process is the
//!   controller and its `write()` returns only when the run is over. The
//!   argument is space separated `key=value` words, all optional:
//!   `workers=N` (1..2048, default 1), `mode=page|kmalloc|kvmalloc|scoped|implicit`
//!   (default `page`), `order=0|1` (default 0, `mode=page` only),
//!   `zone=normal|dma` (default `normal`; `dma` adds `__GFP_DMA` to
//!   `mode=page` and its reserve, capped at 1024 KiB: the stall exhausts only
//!   the 16 MiB ZONE_DMA and the rest of the system keeps working, which
//!   lets tests look around during a stall),
//!   `window_ms=W` (1..600000, default 20000), `reserve_kb=R` (1024..1048576,
//!   default 16384), `until=stop|stall` (default `stop`), `stall_ms=S`
//!   (1..600000, default 500), `record_ms=M` (0..600000, default 100),
//!   `churn_ms=C` (0..60000, default 0 = off; `zone=dma` only, see below),
//!   `nice=N` (0..19, default 0: the workers' nice value),
//!   `fs=0|1` (default 0; `mode=page` only: 1 allocates with `GFP_KERNEL`
//!   instead of `GFP_NOFS`, a no-fail allocation the OOM killer acts on
//!   itself, unless `zone=dma` keeps it from the OOM killer altogether),
//!   `slowcache_kb=K` (0..1048576, default 0 = none; not with `zone=dma`),
//!   `slow_ms=S` (1..60000, default 100), `slow_progress=0|1` (default 1)
//!   and `slow_mode=crawl|thrash` (default `crawl`; these three only with
//!   `slowcache_kb`): a slow cache, see below.
//!   Bad input: `-EINVAL`, nothing started. A run in progress: `-EBUSY`.
//!
//!   The controller (0) makes sure each per-CPU pool of `system_wq` and
//!   `system_highpri_wq` has 4 idle kworkers (a pool whose last idle kworker
//!   gets busy forks a new one, and once memory is exhausted that
//!   `GFP_KERNEL` allocation lets the OOM killer end the livelock: seen under
//!   TCG), (1) allocates and holds a reserve of `R` KiB of order-0 pages with
//!   `GFP_KERNEL`, (2) creates `N` worker kthreads `nfw_stall/<i>`, all before
//!   any of them runs (creating a thread allocates too), (3) wakes them and
//!   sleeps for the window without allocating, (4) sets STOP, frees the
//!   reserve (every stuck allocation can then succeed), waits for the workers
//!   to exit and returns. The window ends early when the controller gets a
//!   fatal signal (SIGKILL: `stopped_by=signal`; other signals, e.g. SIGCHLD
//!   when the OOM killer kills the writer's child, are ignored: the write is
//!   only killable) or, with `until=stall`, when every worker has exited
//!   (`stopped_by=stall`).
//!
//!   Each worker allocates in a loop and holds what it gets (the allocations
//!   are chained through their own first 8 bytes, so holding costs nothing),
//!   until STOP or, with `until=stall`, until the run recovered from a
//!   stall: a worker's fast (< 50 ms) allocation while some worker (itself
//!   or another) has been stuck for at least `stall_ms`, in one allocation
//!   or a run of slow ones (a task stuck in allocations that each succeed
//!   slowly from the reserves is stuck all the same); that worker sets STOP
//!   for all, so that memory freed by an OOM kill is not eaten by the
//!   others (whichever worker gets it first: often not the one stuck
//!   longest). A worker frees everything it holds and exits. Modes:
//!   `page`: `alloc_pages(GFP_NOFS | __GFP_NOFAIL, order)`;
//!   `kmalloc`: `krealloc(NULL, 2048, GFP_NOFS | __GFP_NOFAIL)`;
//!   `kvmalloc`: `kvrealloc(NULL, 65536, GFP_NOFS | __GFP_NOFAIL)`;
//!   `scoped`: `kvrealloc(NULL, 65536, GFP_KERNEL | __GFP_NOFAIL)` with
//!   `PF_MEMALLOC_NOFS` set (as `memalloc_nofs_save()` does);
//!   `implicit`: `alloc_pages(GFP_NOFS, 0)` (no `__GFP_NOFAIL`: "too small to
//!   fail").
//!
//!   `churn_ms=C` keeps the stall going but makes one stuck task enter the
//!   slow path afresh every `C` ms (a stuck allocation loops in one
//!   slow-path call, which a watchdog loaded after it never sees): the
//!   controller frees one page of its reserve every `C` ms (first taking one
//!   back with `GFP_NOWAIT` if it can; the `zone=dma` reserve may then be up
//!   to 8 MiB, 2048 pages); a stuck worker gets it, returns and is stuck
//!   again in its next allocation.
//!
//!   `nice=19` keeps the rest of the guest responsive while workers that no
//!   watchdog backs off burn the CPUs in reclaim.
//!
//!   `slowcache_kb=K` makes the stuck allocations crawl instead of loop:
//!   each succeeds about `S` ms (`slow_ms`) after it started, after a
//!   reclaim round in which a shrinker over a cache of `K` KiB sleeps `S` ms
//!   and frees pages (the round's progress with `slow_progress=1`);
//!   `slow_mode` picks how the free memory is kept low. How it works, and
//!   the `served` and `scans` counts of the summary: `stallgen/slow.rs`.
//!
//! - `records` (0400): the ground truth of the last (or current) run. Every
//!   allocation that took at least `record_ms` is recorded (up to 4096
//!   records, in memory allocated at module load) as one line
//!   `pid=<pid> comm=<comm> mode=<mode> order=<o> gfp=0x<hex> start_ns=<n> end_ns=<n> ms=<n> seq=<n>`
//!   (times from `ktime_get_mono_fast_ns()`; `order` is the page order for
//!   `page`/`implicit`, 0 otherwise; `gfp` as passed; `seq` is which
//!   allocation of its worker it was, 1 for the first: two records of a
//!   worker with consecutive `seq` had no allocation in between). The last
//!   line is always
//!   `summary workers=<n> allocations=<n> stalls=<n> max_ms=<n> stopped_by=<reason> records=<n> dropped=<n> failed=<n> first=<i> shown=<n> start_ns=<n> stop_ns=<n> served=<n> scans=<n>`
//!   where `stalls` counts allocations that took at least `stall_ms`,
//!   `stopped_by` is `window`, `stall`, `signal`, `error`, `running` (run in
//!   progress) or `none` (no run yet), `records` is the number of records
//!   kept, `dropped` those that did not fit, `failed` allocations that
//!   returned NULL (only possible without `__GFP_NOFAIL`), and `first`/`shown`
//!   the records on this page: a read shows as many records as fit in a page
//!   (30 to 40), starting at `records_offset`; `start_ns` is when the workers
//!   were started, `stop_ns` when STOP was set (0 while running),
//!   `served` the pages the slow cache's shrinker freed and `scans` its
//!   scans (both 0 without one).
//! - `alloc` (0200): the writing process itself allocates, in its own
//!   context: `alloc_pages(GFP_NOFS | __GFP_NOFAIL | __GFP_DMA, 0)` in a
//!   loop, holding the pages, until it has a fatal signal pending when an
//!   allocation returns; then it frees them and the write fails with
//!   `EINTR` (with `ENOMEM`, and an error logged, if a no-fail allocation
//!   ever returned NULL). The argument is `zone=dma` (the rest of the system
//!   keeps working; the kernel never OOM-kills for a lowmem allocation) or
//!   `zone=normal` (no `__GFP_DMA`: the kernel's rules let the OOM killer
//!   act for it, given `__GFP_FS`). This is a userspace task stuck in a
//!   no-fail allocation: it can be SIGKILLed, chosen by the OOM killer, or
//!   moved between CPUs while it is stuck (a NOFAIL allocation ignores the
//!   signal until it gets memory, e.g. when a run's reserve is freed).
//!   Independent of `run`; any number of writers.
//! - `records_offset` (0600): index of the first record `records` shows
//!   (default 0; reset to 0 by each run). Page through with
//!   `first + shown < records`.
//!
//! `rmmod` during a run waits for the run to end: the sysfs removal waits for
//! the active write, and a run always ends by itself within `window_ms` plus
//! the time the stuck allocations need to complete once the reserve is freed.

//!
//! Source layout (one crate: the crate name comes from this file's name,
//! see `Kbuild`): this file holds the module and its state; by concern,
//! `stallgen/params.rs` (the `run` argument, the modes), `stallgen/run.rs`
//! (controller and workers), `stallgen/slow.rs` (the slow cache),
//! `stallgen/records.rs` (records and counters, the `records` file),
//! `stallgen/sysfs.rs` (the files), `stallgen/sys.rs` (kernel access, with
//! `nfw_stallgen_helper.c`). Shared with `nfw_bench`: `common/`; with the
//! module: `rust/logic/fmtbuf.rs` and `rust/logic/comm.rs`.

use core::sync::atomic::AtomicBool;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::Mutex;

#[path = "common/chain.rs"]
mod chain;
// The module's own pure helpers (rust/logic/, host-tested).
#[path = "../../rust/logic/comm.rs"]
#[allow(dead_code, unreachable_pub)]
mod comm;
#[path = "../../rust/logic/fmtbuf.rs"]
#[allow(dead_code, unreachable_pub)]
mod fmtbuf;
#[path = "common/gfp.rs"]
mod gfp;
#[path = "stallgen/params.rs"]
mod params;
#[path = "stallgen/records.rs"]
mod records;
#[path = "stallgen/run.rs"]
mod run;
#[path = "stallgen/slow.rs"]
mod slow;
#[path = "stallgen/sys.rs"]
mod sys;
#[path = "stallgen/sysfs.rs"]
mod sysfs;
#[path = "common/sysfs_dir.rs"]
mod sysfs_dir;
#[path = "common/util.rs"]
mod util;

use records::{Log, Stats};
use slow::SlowState;
use sysfs_dir::Dir;

module! {
    type: StallGen,
    name: "nfw_stallgen",
    description: "nofail-watchdog test: livelocks __GFP_NOFAIL allocations on demand",
    license: "GPL",
}

/// Module-wide state, shared by the sysfs callbacks, the controller and the
/// workers (and the slow cache's shrinker).
#[pin_data]
struct Shared {
    /// Records of the last run.
    #[pin]
    log: Mutex<Log>,
    /// A run is in progress (one at a time).
    busy: AtomicBool,
    /// Counters of the last run.
    stats: Stats,
    /// The slow cache of the run, if it has one.
    #[pin]
    slow: SlowState,
}

impl Shared {
    /// Allocates the state, including the record table.
    fn new() -> Result<impl PinInit<Self, Error>> {
        let log = Log::new()?;
        Ok(try_pin_init!(Shared {
            log <- new_mutex!(log, "nfw_stallgen_log"),
            busy: AtomicBool::new(false),
            stats: Stats::new(),
            slow <- SlowState::new(),
        }? Error))
    }
}

/// The module.
struct StallGen {
    /// `/sys/kernel/nfw_stallgen`; `None` once removed.
    dir: Option<Dir>,
    /// The state the sysfs callbacks reach.
    _shared: Pin<KBox<Shared>>,
}

impl kernel::Module for StallGen {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let shared = KBox::pin_init(Shared::new()?, GFP_KERNEL)?;
        let dir = sysfs::create(&shared)?;
        Ok(StallGen {
            dir: Some(dir),
            _shared: shared,
        })
    }
}

impl Drop for StallGen {
    fn drop(&mut self) {
        // Removing the files waits for a run in progress to end.
        if let Some(dir) = self.dir.take() {
            sysfs::remove(dir);
        }
    }
}
