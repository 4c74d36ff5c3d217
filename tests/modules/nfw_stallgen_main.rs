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
//!   each succeeds about `S` ms after it started, after a reclaim round
//!   that reclaimed pages. After the reserve, the controller fills a cache
//!   of `K` KiB of order-0 pages (`GFP_KERNEL`) and registers a shrinker
//!   for it, which counts one object for a direct reclaimer (not for
//!   kswapd: the progress is the allocating task's own) while the cache has
//!   a page, with `seeks` such that the shrinker core scans it once per
//!   reclaim round, at the last priority level. Its scan sleeps `S` ms
//!   (killable), frees pages of the cache (below) and, with
//!   `slow_progress=1`, counts them as reclaimed by the round
//!   (`mm_account_reclaimed_pages()`: the round's `nr_reclaimed`, which the
//!   `mm_vmscan_direct_reclaim_end` tracepoint reports); with
//!   `slow_progress=0` the round reclaims nothing (the same load, without
//!   progress). The `served` count of the summary is the pages the
//!   shrinker freed, `scans` its scans; the cache is freed when the run
//!   ends.
//!
//!   `slow_mode=crawl`: a `__GFP_NOFAIL` allocation fed from the reserves
//!   after each round. A scan frees one page. Every 10 ms while the memory
//!   is exhausted (a `GFP_NOWAIT` allocation fails), the controller moves
//!   free pages into the cache (from the reserves: `__GFP_MEMALLOC`) until
//!   at most 64 are left, so that the pages reclaim frees never lift a
//!   zone above half its min watermark: then `should_reclaim_retry()` gives
//!   up after every round (with nothing reclaimable on the LRU, this kernel
//!   counts a zone's free pages as reclaimable), and a worker's allocation
//!   calls `out_of_memory()` (no kill for `GFP_NOFS`) and gets its page
//!   from the reserves (`__GFP_NOFAIL`), progress or not: the kernel found
//!   reclaim futile. After its first look, the controller moves at most 64
//!   pages a time: enough for what reclaim frees, too few for what an OOM
//!   kill frees, which lifts the memory above the min watermarks (not
//!   exhausted any more: the controller takes nothing).
//!
//!   `slow_mode=thrash`: a writer whose allocations each succeed slowly
//!   under thrash, as reclaim waits for I/O and what it frees is eaten by
//!   others at once; the kernel never finds reclaim futile and never calls
//!   `out_of_memory()`. The controller takes nothing; the workers eat the
//!   memory down to the min watermark of the zone that `GFP_KERNEL`
//!   allocations try first, where their allocations start to need reclaim.
//!   A scan frees what lifts that zone's free pages (those on the per-CPU
//!   lists, which a failed attempt after the round drains, included) to
//!   `D` + 1 above its min watermark, at least one page, where `D` is how
//!   far the free-page counter that the watermark checks read can lag
//!   (the sum of the per-CPU thresholds below which counter deltas stay
//!   unfolded: up to the low watermark's distance from the min one while
//!   kswapd is awake): the allocation succeeds right after that round.
//!   From the first scan on, each worker, after each of its allocations,
//!   moves free pages into the cache (from the reserves) until the zone is
//!   `D` + 1 below its min watermark, so that its next allocation fails
//!   the watermark and needs a round of its own again. That level is above
//!   half the min watermark (in a 512 MiB guest: 510 free pages for a min
//!   watermark of 679): with nothing reclaimable on the LRU this kernel
//!   counts the zone's free pages as reclaimable too, so an allocation
//!   whose page another worker took after its round is told to retry
//!   (`should_reclaim_retry()`) rather than sent to `out_of_memory()`.
//!   A worker takes back at most 4096 pages after one allocation; what an
//!   OOM kill frees goes into the cache too, within a few allocations.
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

// `Shared`'s initializer (`try_pin_init!`) expands past the default limit.
#![recursion_limit = "256"]

use core::fmt::{self, Write};
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use kernel::bindings as b;
use kernel::ffi::{c_char, c_int, c_long, c_ulong, c_void};
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::{c_str, new_mutex};

#[path = "common/chain.rs"]
mod chain;
#[path = "common/sysfs_dir.rs"]
mod sysfs_dir;
use chain::{cond_resched, Chain, Kind};
use sysfs_dir::{Dir, File, Group};

module! {
    type: StallGen,
    name: "nfw_stallgen",
    description: "nofail-watchdog test: livelocks __GFP_NOFAIL allocations on demand",
    license: "GPL",
}

/// Raw gfp masks, as the C allocator functions take them.
mod gfp {
    use kernel::bindings as b;

    /// `__GFP_FS`: the allocation may call into filesystems (and so the OOM
    /// killer may act).
    pub(crate) const FS: b::gfp_t = 1 << b::___GFP_FS_BIT;
    /// `__GFP_NOFAIL`: the allocation must not fail; the allocator retries forever.
    pub(crate) const NOFAIL: b::gfp_t = 1 << b::___GFP_NOFAIL_BIT;
    /// `__GFP_DMA`: only from ZONE_DMA (the first 16 MiB).
    pub(crate) const DMA: b::gfp_t = 1 << b::___GFP_DMA_BIT;
    /// `__GFP_MEMALLOC`: may use all of the memory reserves.
    pub(crate) const MEMALLOC: b::gfp_t = 1 << b::___GFP_MEMALLOC_BIT;
    /// `GFP_KERNEL`.
    pub(crate) const KERNEL: b::gfp_t = b::GFP_KERNEL;
    /// `GFP_NOFS`: `GFP_KERNEL` without `__GFP_FS` (`include/linux/gfp_types.h`).
    pub(crate) const NOFS: b::gfp_t = KERNEL & !FS;

    // The values of `include/linux/gfp_types.h` in 6.12.
    const _: () = assert!(KERNEL == 0xcc0);
    const _: () = assert!(NOFS == 0xc40);
    const _: () = assert!(NOFAIL == 0x8000);
}

/// Most workers one run may have (enough to overflow the watchdog's
/// 1024-slot table).
const MAX_WORKERS: usize = 2048;
/// Most records kept per run.
const MAX_RECORDS: usize = 4096;
/// Bytes kept free at the end of a `records` page for the summary line.
const SUMMARY_ROOM: usize = 352;
/// Longest sleep of the controller between checks of its stop conditions.
const POLL_MS: u64 = 100;
/// Allocation size of `mode=kmalloc`.
const KMALLOC_SIZE: usize = 2048;
/// Allocation size of `mode=kvmalloc` and `mode=scoped`.
const KVMALLOC_SIZE: usize = 65536;

/// An allocation at least this slow continues a stall (as in the watchdog).
const SLOW_NS: u64 = 50 * NSEC_PER_MSEC;

/// Largest reserve with `zone=dma`.
const DMA_RESERVE_MAX_KB: u32 = 1024;

/// Largest reserve with `zone=dma` and `churn_ms` (which uses it up a page
/// at a time).
const DMA_CHURN_RESERVE_MAX_KB: u32 = 8192;

/// Idle kworkers each per-CPU pool gets before a run (see `run()`).
const PREWARM_KWORKERS: u32 = 4;

/// Most pages the controller moves into the slow cache in its first look
/// at exhausted memory (see `Shared::slow_level()`).
const SLOW_LEVEL_MAX: u64 = 65536;

/// Most pages the controller moves into the slow cache in each later look:
/// enough for what reclaim frees, too few to eat what an OOM kill frees.
const SLOW_TRICKLE_MAX: u64 = 64;

/// How often the controller levels the free memory with a slow cache.
const SLOW_LEVEL_MS: u64 = 10;

/// Free pages the controller leaves while the memory is exhausted, with a
/// slow cache (in buddy lists; a few dozen more may be on per-CPU lists).
const SLOW_FREE_PAGES: u64 = 64;

/// Most pages a worker takes back into the slow cache after one allocation
/// (`slow_mode=thrash`): far more than what a scan frees (twice the drift
/// of the free-page counter, a few hundred pages, plus what is on the
/// per-CPU lists).
const SLOW_TAKE_MAX: u64 = 4096;

/// `seeks` of the slow cache's shrinker, which counts 1 object: the
/// shrinker core then asks it to scan (one object) only at reclaim
/// priority 0, the last level of a reclaim round (`(1 >> priority) * 4 /
/// seeks` in `do_shrink_slab()`), so a round makes one slow scan.
const SLOW_SEEKS: c_int = 4;

/// Nanoseconds per millisecond.
const NSEC_PER_MSEC: u64 = 1_000_000;

/// What a worker allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `alloc_pages(GFP_NOFS | __GFP_NOFAIL, order)`.
    Page,
    /// `krealloc(NULL, 2048, GFP_NOFS | __GFP_NOFAIL)`.
    Kmalloc,
    /// `kvrealloc(NULL, 65536, GFP_NOFS | __GFP_NOFAIL)`.
    Kvmalloc,
    /// `kvrealloc(NULL, 65536, GFP_KERNEL | __GFP_NOFAIL)` in a NOFS scope.
    Scoped,
    /// `alloc_pages(GFP_NOFS, 0)`: "too small to fail".
    Implicit,
}

impl Mode {
    /// Every mode, for parsing.
    const ALL: [Mode; 5] = [
        Mode::Page,
        Mode::Kmalloc,
        Mode::Kvmalloc,
        Mode::Scoped,
        Mode::Implicit,
    ];

    /// The name used in `run` arguments and in `records`.
    fn name(self) -> &'static str {
        match self {
            Mode::Page => "page",
            Mode::Kmalloc => "kmalloc",
            Mode::Kvmalloc => "kvmalloc",
            Mode::Scoped => "scoped",
            Mode::Implicit => "implicit",
        }
    }

    /// The gfp mask the worker passes to the allocator.
    fn gfp(self) -> b::gfp_t {
        match self {
            Mode::Page | Mode::Kmalloc | Mode::Kvmalloc => gfp::NOFS | gfp::NOFAIL,
            Mode::Scoped => gfp::KERNEL | gfp::NOFAIL,
            Mode::Implicit => gfp::NOFS,
        }
    }

    /// How the worker's allocations are made and freed.
    fn kind(self, order: u32) -> Kind {
        match self {
            Mode::Page => Kind::Pages(order),
            Mode::Implicit => Kind::Pages(0),
            Mode::Kmalloc => Kind::Kmalloc(KMALLOC_SIZE),
            Mode::Kvmalloc | Mode::Scoped => Kind::Kvmalloc(KVMALLOC_SIZE),
        }
    }
}

/// Why a run ended (or that it did not yet).
#[derive(Clone, Copy)]
enum StopReason {
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
    fn name(self) -> &'static str {
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

/// The parameters of one run, parsed from what was written to `run`.
#[derive(Clone, Copy)]
struct Params {
    /// Number of worker kthreads.
    workers: u32,
    /// What the workers allocate.
    mode: Mode,
    /// Page order (`mode=page`).
    order: u32,
    /// How long the controller lets the workers run.
    window_ms: u32,
    /// Size of the reserve freed at STOP, in KiB.
    reserve_kb: u32,
    /// Allocate from ZONE_DMA only (`zone=dma`).
    dma: bool,
    /// Whether a worker stops after its first allocation that took `stall_ms`.
    until_stall: bool,
    /// An allocation that took at least this long is a stall.
    stall_ms: u32,
    /// An allocation that took at least this long is recorded.
    record_ms: u32,
    /// Free a reserve page this often (0 = off).
    churn_ms: u32,
    /// Nice value of the workers.
    nice: u32,
    /// `GFP_KERNEL` instead of `GFP_NOFS` (`mode=page`).
    fs: bool,
    /// Size of the slow cache, in KiB (0 = none).
    slowcache_kb: u32,
    /// How long the slow cache's shrinker sleeps per reclaim round.
    slow_ms: u32,
    /// Whether the slow cache's pages count as the round's progress.
    slow_progress: bool,
    /// `slow_mode=thrash`: each scan lifts the zone above its min
    /// watermark and the workers take it back down after each allocation,
    /// instead of the controller keeping it far below.
    slow_thrash: bool,
}

impl Params {
    /// The parameters of an empty argument.
    const DEFAULT: Params = Params {
        workers: 1,
        mode: Mode::Page,
        order: 0,
        window_ms: 20_000,
        reserve_kb: 16_384,
        dma: false,
        until_stall: false,
        stall_ms: 500,
        record_ms: 100,
        churn_ms: 0,
        nice: 0,
        fs: false,
        slowcache_kb: 0,
        slow_ms: 100,
        slow_progress: true,
        slow_thrash: false,
    };

    /// Parses space separated `key=value` words; any error is `EINVAL`.
    fn parse(input: &[u8]) -> Result<Params> {
        let mut p = Params::DEFAULT;
        // `slow_ms` or `slow_progress` given (they need `slowcache_kb`).
        let mut slow_option = false;
        for word in words(input) {
            let eq = word.iter().position(|&c| c == b'=').ok_or(EINVAL)?;
            let (key, value) = (&word[..eq], &word[eq + 1..]);
            match key {
                b"workers" => p.workers = number(value, 1, MAX_WORKERS as u32)?,
                b"mode" => {
                    p.mode = *Mode::ALL
                        .iter()
                        .find(|m| m.name().as_bytes() == value)
                        .ok_or(EINVAL)?
                }
                b"order" => p.order = number(value, 0, 1)?,
                b"window_ms" => p.window_ms = number(value, 1, 600_000)?,
                b"reserve_kb" => p.reserve_kb = number(value, 1024, 1 << 20)?,
                b"zone" => {
                    p.dma = match value {
                        b"normal" => false,
                        b"dma" => true,
                        _ => return Err(EINVAL),
                    }
                }
                b"until" => {
                    p.until_stall = match value {
                        b"stop" => false,
                        b"stall" => true,
                        _ => return Err(EINVAL),
                    }
                }
                b"stall_ms" => p.stall_ms = number(value, 1, 600_000)?,
                b"record_ms" => p.record_ms = number(value, 0, 600_000)?,
                b"churn_ms" => p.churn_ms = number(value, 0, 60_000)?,
                b"nice" => p.nice = number(value, 0, 19)?,
                b"fs" => p.fs = number(value, 0, 1)? == 1,
                b"slowcache_kb" => p.slowcache_kb = number(value, 0, 1 << 20)?,
                b"slow_ms" => {
                    p.slow_ms = number(value, 1, 60_000)?;
                    slow_option = true;
                }
                b"slow_progress" => {
                    p.slow_progress = number(value, 0, 1)? == 1;
                    slow_option = true;
                }
                b"slow_mode" => {
                    p.slow_thrash = match value {
                        b"crawl" => false,
                        b"thrash" => true,
                        _ => return Err(EINVAL),
                    };
                    slow_option = true;
                }
                _ => return Err(EINVAL),
            }
        }
        if p.order != 0 && p.mode != Mode::Page {
            return Err(EINVAL);
        }
        if (p.dma || p.fs) && p.mode != Mode::Page {
            return Err(EINVAL);
        }
        if p.churn_ms != 0 && !p.dma {
            return Err(EINVAL);
        }
        if (p.slowcache_kb != 0 && p.dma) || (slow_option && p.slowcache_kb == 0) {
            // The cache's pages are not from ZONE_DMA; the other two
            // options only tune the cache.
            return Err(EINVAL);
        }
        let dma_max = if p.churn_ms != 0 {
            DMA_CHURN_RESERVE_MAX_KB
        } else {
            DMA_RESERVE_MAX_KB
        };
        if p.dma && p.reserve_kb > dma_max {
            // The reserve comes from ZONE_DMA too (so that freeing it ends
            // the stall); the zone is only 16 MiB.
            p.reserve_kb = dma_max;
        }
        Ok(p)
    }
}

/// The words of a sysfs write: split at white space (and NUL).
fn words(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|c| c.is_ascii_whitespace() || *c == 0)
        .filter(|w| !w.is_empty())
}

/// Parses a decimal number in `min..=max`; anything else is `EINVAL`.
fn number(s: &[u8], min: u32, max: u32) -> Result<u32> {
    if s.is_empty() || s.len() > 10 {
        return Err(EINVAL);
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(EINVAL);
        }
        v = v * 10 + u64::from(c - b'0');
    }
    if v < u64::from(min) || v > u64::from(max) {
        return Err(EINVAL);
    }
    Ok(v as u32)
}

/// Monotonic time in nanoseconds, the clock nofail-watchdog uses too.
fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns()` has no preconditions (it is even NMI safe).
    unsafe { b::ktime_get_mono_fast_ns() }
}

/// Converts milliseconds to a jiffies timeout, at least one jiffy.
fn ms_to_jiffies(ms: u64) -> isize {
    let ms = ms.clamp(1, u64::from(u32::MAX)) as u32;
    // SAFETY: `__msecs_to_jiffies()` is a pure computation.
    let jiffies = unsafe { b::__msecs_to_jiffies(ms) };
    jiffies.clamp(1, isize::MAX as usize) as isize
}

/// Sleeps interruptibly for about `ms` milliseconds (a worker kthread).
fn sleep_ms(ms: u64) {
    // SAFETY: we are in process context and hold no spinlock.
    unsafe { b::schedule_timeout_interruptible(ms_to_jiffies(ms)) };
}

/// Sleeps for about `ms` milliseconds or until a fatal signal (the
/// controller): other signals, e.g. SIGCHLD when the OOM killer kills the
/// writer's child, neither wake it nor end the run.  (A killable sleep is not
/// reported by the hung-task detector.)
fn sleep_ms_killable(ms: u64) {
    // SAFETY: we are in process context and hold no spinlock.
    unsafe { b::schedule_timeout_killable(ms_to_jiffies(ms)) };
}

/// Whether the current task has a fatal signal (SIGKILL) pending.
fn fatal_signal_pending() -> bool {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_fatal_signal_pending() }
}

/// A task's command name (`TASK_COMM_LEN` bytes, NUL padded).
#[derive(Clone, Copy)]
struct Comm([u8; 16]);

impl Comm {
    /// The current task's command name.
    fn current() -> Comm {
        let mut buf = [0u8; 16];
        // SAFETY: `buf` is writable for its 16 bytes (TASK_COMM_LEN);
        // `get_task_comm()` copies the running task's name into it,
        // NUL-terminated.
        unsafe { nfw_stallgen_current_comm(buf.as_mut_ptr().cast::<c_char>()) };
        Comm(buf)
    }
}

impl fmt::Display for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.0.iter().take_while(|&&c| c != 0) {
            // One word per field: anything but printable non-space ASCII is '?'.
            f.write_char(if c.is_ascii_graphic() { c as char } else { '?' })?;
        }
        Ok(())
    }
}

extern "C" {
    /// `memalloc_nofs_save()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_nofs_save() -> u32;
    /// `memalloc_nofs_restore()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_nofs_restore(flags: u32);
    /// `task_pid_nr(current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_pid() -> i32;
    /// `fatal_signal_pending(current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_fatal_signal_pending() -> bool;
    /// Gives every per-CPU pool of `system_wq` and `system_highpri_wq` at
    /// least `per_pool` idle kworkers (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_prewarm_kworkers(per_pool: u32) -> c_int;
    /// `get_task_comm(comm, current)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_comm(comm: *mut c_char);
    /// `current_is_kswapd()` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_current_is_kswapd() -> bool;
    /// `mm_account_reclaimed_pages(pages)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_account_reclaimed(pages: c_ulong);
    /// `global_zone_page_state(NR_FREE_PAGES)` (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_free_pages() -> c_ulong;
    /// Free, per-CPU list and min watermark pages of the first zone of
    /// `GFP_KERNEL` allocations, and how far its free-page counter can
    /// drift (`nfw_stallgen_helper.c`).
    fn nfw_stallgen_zone_state(
        free: *mut c_long,
        pcp: *mut c_long,
        min: *mut c_long,
        drift: *mut c_long,
    );
}

/// Pid of the current task.
fn current_pid() -> i32 {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_current_pid() }
}

/// Whether the current task is kswapd.
fn current_is_kswapd() -> bool {
    // SAFETY: a C function without preconditions.
    unsafe { nfw_stallgen_current_is_kswapd() }
}

/// Free pages in the buddy allocator (not counting the per-CPU lists).
fn free_pages() -> u64 {
    // SAFETY: a C function without preconditions.
    (unsafe { nfw_stallgen_free_pages() }) as u64
}

/// The zone that `GFP_KERNEL` allocations try first, for `slow_mode=thrash`.
#[derive(Clone, Copy)]
struct ZoneState {
    /// Its free pages, exactly.
    free: i64,
    /// Free pages on its per-CPU lists (not in `free`).
    pcp: i64,
    /// Its min watermark.
    min: i64,
    /// How far the free-page counter that the allocator's watermark checks
    /// read can be from `free` (per-CPU deltas not folded in yet).
    drift: i64,
}

impl ZoneState {
    /// Reads the zone's state now.
    fn now() -> Self {
        let mut v: [c_long; 4] = [0; 4];
        let [free, pcp, min, drift] = &mut v;
        // SAFETY: the four pointers are to distinct live locals.
        unsafe { nfw_stallgen_zone_state(free, pcp, min, drift) };
        let [free, pcp, min, drift] = v.map(|x| x as i64);
        ZoneState {
            free,
            pcp,
            min,
            drift,
        }
    }

    /// Free pages, those on the per-CPU lists included (a failed attempt
    /// after a reclaim round drains the lists).
    fn have(&self) -> i64 {
        self.free + self.pcp
    }

    /// What a scan lifts the zone to: an order-0 allocation passes the min
    /// watermark, whatever the drift of the counter it reads.
    fn top(&self) -> i64 {
        self.min + 1 + self.drift
    }

    /// What the workers take the zone back down to: an allocation fails
    /// the min watermark (and needs a reclaim round), whatever the drift.
    fn bottom(&self) -> i64 {
        self.min - 1 - self.drift
    }
}

/// Counts `pages` as reclaimed by the current task's reclaim round (a
/// shrinker's scan, which runs in that task; no effect outside reclaim).
fn account_reclaimed(pages: u64) {
    // SAFETY: `mm_account_reclaimed_pages()` only adds to the current
    // task's own `reclaim_state`, if it has one.
    unsafe { nfw_stallgen_account_reclaimed(pages as c_ulong) };
}

/// A `memalloc_nofs_save()` scope: sets `PF_MEMALLOC_NOFS` on the current
/// task until dropped.
///
/// Not `Send`: it belongs to the task that entered it.
struct NofsScope {
    /// What `memalloc_nofs_save()` returned.
    saved: u32,
    /// Ties the scope to the current task.
    _not_send: PhantomData<*mut ()>,
}

impl NofsScope {
    /// Enters the scope.
    fn enter() -> Self {
        NofsScope {
            // SAFETY: a C function without preconditions; its result is
            // passed back to `memalloc_nofs_restore()` on the same task.
            saved: unsafe { nfw_stallgen_nofs_save() },
            _not_send: PhantomData,
        }
    }
}

impl Drop for NofsScope {
    fn drop(&mut self) {
        // SAFETY: `saved` came from `memalloc_nofs_save()` on this task (the
        // scope is not `Send`), and scopes are dropped in reverse order.
        unsafe { nfw_stallgen_nofs_restore(self.saved) };
    }
}

/// One slow allocation, as shown by `records`.
#[derive(Clone, Copy)]
struct Record {
    /// Pid of the allocating task.
    pid: i32,
    /// Its command name.
    comm: Comm,
    /// The worker's mode.
    mode: Mode,
    /// The page order passed (0 for non-page modes).
    order: u32,
    /// The gfp mask passed.
    gfp: b::gfp_t,
    /// When the allocation call started (`ktime_get_mono_fast_ns()`).
    start_ns: u64,
    /// When it returned.
    end_ns: u64,
    /// Which allocation of its worker it was (1 = the first).
    seq: u64,
}

impl Record {
    /// Filler for the preallocated record table.
    const EMPTY: Record = Record {
        pid: 0,
        comm: Comm([0; 16]),
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
struct Log {
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

/// Module-wide state, shared by the sysfs callbacks and the workers.
#[pin_data]
struct Shared {
    /// Records of the last run.
    #[pin]
    log: Mutex<Log>,
    /// A run is in progress (one at a time).
    busy: AtomicBool,
    /// Successful allocations of the last run.
    allocations: AtomicU64,
    /// Allocations of the last run that took at least `stall_ms`.
    stalls: AtomicU64,
    /// Allocations of the last run that returned NULL.
    failed: AtomicU64,
    /// Longest allocation of the last run, in nanoseconds.
    max_ns: AtomicU64,
    /// When the last run's workers were started (the gate opened).
    gate_ns: AtomicU64,
    /// When the last run's STOP was set (0 before).
    stop_ns: AtomicU64,
    /// The slow cache's pages (`slowcache_kb`).
    #[pin]
    slow: Mutex<SlowPages>,
    /// Pages in the slow cache (0 outside a run with one).
    slow_avail: AtomicU64,
    /// Pages the slow cache's shrinker freed in the last run.
    slow_served: AtomicU64,
    /// Pages the controller (`slow_mode=crawl`) or the workers
    /// (`slow_mode=thrash`) moved into the slow cache in the last run once
    /// the memory was exhausted.
    slow_leveled: AtomicU64,
    /// The run's `slow_ms`.
    slow_ms: AtomicU32,
    /// The run's `slow_progress`.
    slow_progress: AtomicBool,
    /// The run's `slow_mode=thrash`.
    slow_thrash: AtomicBool,
    /// Scans of the slow cache's shrinker (each slept `slow_ms`) in the last
    /// run.
    slow_scans: AtomicU64,
}

/// The pages of the slow cache.
struct SlowPages(Chain);

// SAFETY: the pages of a `Chain` belong to no task or CPU; any thread may
// free them.
unsafe impl Send for SlowPages {}

impl Shared {
    /// Allocates the state, including the record table.
    fn new() -> Result<impl PinInit<Self, Error>> {
        let recs = KVVec::from_elem(Record::EMPTY, MAX_RECORDS, GFP_KERNEL)?;
        let log = Log {
            recs,
            count: 0,
            dropped: 0,
            offset: 0,
            stopped_by: StopReason::None,
            workers: 0,
        };
        Ok(try_pin_init!(Shared {
            log <- new_mutex!(log, "nfw_stallgen_log"),
            busy: AtomicBool::new(false),
            allocations: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            gate_ns: AtomicU64::new(0),
            stop_ns: AtomicU64::new(0),
            slow <- new_mutex!(SlowPages(Chain::new(Kind::Pages(0))), "nfw_stallgen_slow"),
            slow_avail: AtomicU64::new(0),
            slow_served: AtomicU64::new(0),
            slow_leveled: AtomicU64::new(0),
            slow_ms: AtomicU32::new(0),
            slow_progress: AtomicBool::new(false),
            slow_thrash: AtomicBool::new(false),
            slow_scans: AtomicU64::new(0),
        }? Error))
    }

    /// Handles a write to `run`: parses it and does the run.
    fn start(&self, input: &[u8]) -> Result {
        let p = Params::parse(input)?;
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(EBUSY);
        }
        {
            let mut log = self.log.lock();
            log.count = 0;
            log.dropped = 0;
            log.offset = 0;
            log.stopped_by = StopReason::Running;
            log.workers = p.workers;
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
        pr_info!(
            "run: workers={} mode={} order={} window_ms={} reserve_kb={} until={} stall_ms={} record_ms={} slowcache_kb={} slow_ms={} slow_progress={} slow_mode={}\n",
            p.workers,
            p.mode.name(),
            p.order,
            p.window_ms,
            p.reserve_kb,
            if p.until_stall { "stall" } else { "stop" },
            p.stall_ms,
            p.record_ms,
            p.slowcache_kb,
            p.slow_ms,
            u8::from(p.slow_progress),
            if p.slow_thrash { "thrash" } else { "crawl" }
        );
        let result = self.run(p);
        let reason = *result.as_ref().unwrap_or(&StopReason::Error);
        self.log.lock().stopped_by = reason;
        pr_info!(
            "run over: stopped_by={} allocations={} stalls={} max_ms={}\n",
            reason.name(),
            self.allocations.load(Ordering::Relaxed),
            self.stalls.load(Ordering::Relaxed),
            self.max_ns.load(Ordering::Relaxed) / NSEC_PER_MSEC
        );
        if p.slowcache_kb != 0 {
            pr_info!(
                "slow cache: its shrinker freed {} pages in {} scans; {} taken back once the memory was exhausted\n",
                self.slow_served.load(Ordering::Relaxed),
                self.slow_scans.load(Ordering::Relaxed),
                self.slow_leveled.load(Ordering::Relaxed)
            );
        }
        self.busy.store(false, Ordering::Release);
        result.map(|_| ())
    }

    /// The controller: reserve, workers, window, STOP.
    fn run(&self, p: Params) -> Result<StopReason> {
        // SAFETY: a C function without preconditions; it sleeps, as we may.
        let ret = unsafe { nfw_stallgen_prewarm_kworkers(PREWARM_KWORKERS) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let mut reserve = Chain::new(Kind::Pages(0));
        for _ in 0..p.reserve_kb / 4 {
            if !reserve.grow(gfp::KERNEL | if p.dma { gfp::DMA } else { 0 }) {
                return Err(ENOMEM);
            }
        }
        // The slow cache too is filled before the workers eat the memory.
        let slow = if p.slowcache_kb != 0 {
            Some(SlowCache::start(self, &p)?)
        } else {
            None
        };
        let mut stuck_since = KVec::with_capacity(p.workers as usize, GFP_KERNEL)?;
        for _ in 0..p.workers {
            stuck_since.push(AtomicU64::new(0), GFP_KERNEL)?;
        }
        let run = Run {
            params: p,
            shared: self,
            stop: AtomicBool::new(false),
            alive: AtomicU32::new(p.workers),
            next_worker: AtomicU32::new(0),
            stuck_since,
        };
        // Every thread exists before any of them allocates: the start gate.
        let workers = Workers::create(&run)?;
        self.gate_ns.store(now_ns(), Ordering::Relaxed);
        workers.start();
        let reason = run.wait_window(&mut reserve);
        run.stop.store(true, Ordering::SeqCst);
        self.stop_ns.store(now_ns(), Ordering::Relaxed);
        // Now every stuck allocation can succeed, and its worker sees STOP.
        drop(reserve);
        // Waits for every worker to exit.
        drop(workers);
        // Unregisters the shrinker and frees the slow cache.
        drop(slow);
        Ok(reason)
    }

    /// Adds a record, or counts it as dropped if the table is full.
    fn record(&self, rec: Record) {
        let mut log = self.log.lock();
        let i = log.count;
        if let Some(slot) = log.recs.get_mut(i) {
            *slot = rec;
            log.count = i + 1;
        } else {
            log.dropped += 1;
        }
    }

    /// The slow cache's scan, in the reclaiming task: sleeps `slow_ms` (as
    /// reclaim waiting for I/O), then frees one page (`slow_mode=crawl`) or
    /// what lifts the zone to [`ZoneState::top`], at least one page
    /// (`slow_mode=thrash`); they count as reclaimed by this round with
    /// `slow_progress=1`.
    fn slow_scan(&self) -> u64 {
        if self.slow_avail.load(Ordering::Acquire) == 0 {
            return 0;
        }
        sleep_ms_killable(u64::from(self.slow_ms.load(Ordering::Relaxed)));
        let z = ZoneState::now();
        if self.slow_scans.fetch_add(1, Ordering::Relaxed) == 0 {
            pr_info!(
                "slow cache: first scan {} ms into the run (zone: {} free pages, {} on per-CPU lists, min watermark {}, counter drift up to {})\n",
                now_ns().saturating_sub(self.gate_ns.load(Ordering::Relaxed)) / NSEC_PER_MSEC,
                z.free,
                z.pcp,
                z.min,
                z.drift
            );
        }
        let want = if self.slow_thrash.load(Ordering::Relaxed) {
            (z.top() - z.have()).max(1) as u64
        } else {
            1
        };
        let mut n = 0;
        {
            let mut pages = self.slow.lock();
            while n < want && self.slow_avail.load(Ordering::Acquire) != 0 {
                pages.0.shrink();
                self.slow_avail.fetch_sub(1, Ordering::Release);
                n += 1;
            }
        }
        if n == 0 {
            return 0;
        }
        self.slow_served.fetch_add(n, Ordering::Relaxed);
        if self.slow_progress.load(Ordering::Relaxed) {
            account_reclaimed(n);
        }
        n
    }

    /// The controller, every `SLOW_LEVEL_MS` while the workers run: while
    /// the memory is exhausted (a `GFP_NOWAIT` allocation fails: no zone is
    /// above its min watermark), moves free pages from the reserves into
    /// the slow cache until at most `SLOW_FREE_PAGES` are left, or `max`
    /// pages were moved; returns how many pages it moved, `None` if the
    /// memory is not exhausted (e.g. after an OOM kill: the victim's pages
    /// come back faster than `max` per look, and are left to the workers).
    ///
    /// So the free memory stays far below half the min watermarks, whatever
    /// reclaim frees (the page of each of the shrinker's scans, any page
    /// cache) and the per-CPU lists give back: no zone passes
    /// `should_reclaim_retry()`'s check (which, with nothing reclaimable on
    /// the LRU, counts a zone's free pages twice), and an allocation that
    /// finds no free page after a reclaim round goes on to
    /// `__alloc_pages_may_oom()`, made progress or not, and gets its page
    /// from what is left (`__GFP_NOFAIL`).
    fn slow_level(&self, max: u64) -> Option<u64> {
        let mut pages = self.slow.lock();
        // No reclaim: the slow cache's own shrinker is not called with the
        // lock held.
        if pages.0.grow(b::GFP_NOWAIT | b::__GFP_NOWARN) {
            pages.0.shrink();
            return None;
        }
        // Any page (`ALLOC_NO_WATERMARKS`), without waiting.
        let reserves = b::GFP_ATOMIC | gfp::MEMALLOC | b::__GFP_NOWARN;
        let mut n = 0;
        while n < max && free_pages() > SLOW_FREE_PAGES && pages.0.grow(reserves) {
            n += 1;
        }
        self.slow_avail.fetch_add(n, Ordering::Release);
        Some(n)
    }

    /// `slow_mode=thrash`, in a worker after each of its allocations once
    /// the slow cache was scanned: moves free pages into the cache, from
    /// the reserves, until the zone is back at [`ZoneState::bottom`] (at
    /// most [`SLOW_TAKE_MAX`]). What else frees memory, an OOM kill
    /// included, is eaten too: the workers stay slow.
    fn slow_take_back(&self) {
        if self.slow_scans.load(Ordering::Relaxed) == 0 {
            return;
        }
        let reserves = b::GFP_ATOMIC | gfp::MEMALLOC | b::__GFP_NOWARN;
        let mut pages = self.slow.lock();
        let mut n = 0;
        while n < SLOW_TAKE_MAX {
            let z = ZoneState::now();
            if z.have() <= z.bottom() || !pages.0.grow(reserves) {
                break;
            }
            n += 1;
        }
        self.slow_avail.fetch_add(n, Ordering::Release);
        self.slow_leveled.fetch_add(n, Ordering::Relaxed);
    }

    /// Formats `records` into `out` (a sysfs page); returns the length.
    fn show_records(&self, out: &mut [u8]) -> usize {
        let log = self.log.lock();
        let limit = out.len().saturating_sub(SUMMARY_ROOM);
        let mut w = SliceWriter { buf: out, len: 0 };
        let first = log.offset.min(log.count);
        let mut shown = 0;
        for rec in &log.recs[first..log.count] {
            let mark = w.len;
            if write!(w, "{}", rec).is_err() || w.len > limit {
                w.len = mark;
                break;
            }
            shown += 1;
        }
        // SUMMARY_ROOM is enough for the longest summary line.
        let _ = writeln!(
            w,
            "summary workers={} allocations={} stalls={} max_ms={} stopped_by={} records={} dropped={} failed={} first={} shown={} start_ns={} stop_ns={} served={} scans={}",
            log.workers,
            self.allocations.load(Ordering::Relaxed),
            self.stalls.load(Ordering::Relaxed),
            self.max_ns.load(Ordering::Relaxed) / NSEC_PER_MSEC,
            log.stopped_by.name(),
            log.count,
            log.dropped,
            self.failed.load(Ordering::Relaxed),
            first,
            shown,
            self.gate_ns.load(Ordering::Relaxed),
            self.stop_ns.load(Ordering::Relaxed),
            self.slow_served.load(Ordering::Relaxed),
            self.slow_scans.load(Ordering::Relaxed)
        );
        w.len
    }
}

/// A `fmt::Write` into a byte slice that fails instead of overflowing.
struct SliceWriter<'a> {
    /// The output buffer.
    buf: &'a mut [u8],
    /// Bytes written so far.
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The slow cache of a run (`slowcache_kb`): filled and its shrinker
/// registered by [`SlowCache::start`]; dropping it unregisters the
/// shrinker and frees every page.
struct SlowCache<'a> {
    /// Where the pages and counters are.
    shared: &'a Shared,
    /// The shrinker (taken by `drop`).
    shrinker: Option<SlowShrinker>,
}

impl<'a> SlowCache<'a> {
    /// Fills the cache with `slowcache_kb` KiB of order-0 pages
    /// (`GFP_KERNEL`) and registers its shrinker.
    fn start(shared: &'a Shared, p: &Params) -> Result<Self> {
        let n = p.slowcache_kb / 4;
        let mut pages = Chain::new(Kind::Pages(0));
        for _ in 0..n {
            if !pages.grow(gfp::KERNEL) {
                return Err(ENOMEM);
            }
        }
        shared.slow.lock().0 = pages;
        shared.slow_ms.store(p.slow_ms, Ordering::Relaxed);
        shared
            .slow_progress
            .store(p.slow_progress, Ordering::Relaxed);
        shared.slow_thrash.store(p.slow_thrash, Ordering::Relaxed);
        shared.slow_avail.store(u64::from(n), Ordering::Release);
        // From here on `drop` empties the cache.
        let mut cache = SlowCache {
            shared,
            shrinker: None,
        };
        cache.shrinker = Some(SlowShrinker::register()?);
        Ok(cache)
    }
}

impl Drop for SlowCache<'_> {
    fn drop(&mut self) {
        // Waits for scans in progress; no callback runs after it.
        drop(self.shrinker.take());
        self.shared.slow_avail.store(0, Ordering::Release);
        self.shared.slow.lock().0.release();
    }
}

/// The slow cache's shrinker.
///
/// # Invariants
///
/// `s` was returned by `shrinker_alloc()` and registered; dropping the
/// value frees it.
struct SlowShrinker {
    /// The kernel's shrinker object.
    s: *mut b::shrinker,
}

impl SlowShrinker {
    /// Allocates and registers the shrinker.
    fn register() -> Result<Self> {
        // SAFETY: a "%s" format with a NUL-terminated argument.
        let s = unsafe {
            b::shrinker_alloc(
                0,
                c_str!("%s").as_char_ptr(),
                c_str!("nfw_stallgen_slow").as_char_ptr(),
            )
        };
        if s.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `s` is a freshly allocated, not yet registered shrinker
        // that only we reference; the callbacks have the C signatures.
        unsafe {
            (*s).count_objects = Some(slow_count);
            (*s).scan_objects = Some(slow_scan);
            (*s).seeks = SLOW_SEEKS;
            (*s).batch = 1;
            b::shrinker_register(s);
        }
        // INVARIANT: allocated and registered above.
        Ok(SlowShrinker { s })
    }
}

impl Drop for SlowShrinker {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; `shrinker_free()` unregisters the
        // shrinker, waits until no callback runs and frees it after a grace
        // period.
        unsafe { b::shrinker_free(self.s) };
    }
}

/// `count_objects` of the slow cache's shrinker: one object for a direct
/// reclaimer (not kswapd: the progress is the allocating task's own) while
/// the cache has a page to hand out.
///
/// # Safety
///
/// Called by the shrinker core only.
unsafe extern "C" fn slow_count(_s: *mut b::shrinker, _sc: *mut b::shrink_control) -> c_ulong {
    match shared() {
        Ok(s) if !current_is_kswapd() && s.slow_avail.load(Ordering::Acquire) != 0 => 1,
        _ => 0,
    }
}

/// `scan_objects` of the slow cache's shrinker: see [`Shared::slow_scan`].
///
/// # Safety
///
/// Called by the shrinker core only, in the reclaiming task.
unsafe extern "C" fn slow_scan(_s: *mut b::shrinker, _sc: *mut b::shrink_control) -> c_ulong {
    shared().map_or(0, |s| s.slow_scan() as c_ulong)
}

/// One run: what the controller and its workers share.
struct Run<'a> {
    /// Parameters of the run.
    params: Params,
    /// Where records and counters go.
    shared: &'a Shared,
    /// STOP: set by the controller at the end of the window, or by the first
    /// worker that recovered from a stall (`until=stall`).
    stop: AtomicBool,
    /// Workers that have not finished yet.
    alive: AtomicU32,
    /// Hands out the indices of `stuck_since`.
    next_worker: AtomicU32,
    /// Per worker: since when it has been stuck if its current allocation
    /// turns out slow (the start of its run of slow allocations, else of its
    /// current allocation); 0 before its first. Lets a worker that gets
    /// memory see that another one has been stuck (`until=stall`).
    stuck_since: KVec<AtomicU64>,
}

impl Run<'_> {
    /// Sleeps for the window (churning `reserve` with `churn_ms`, digging
    /// the slow cache's pages from below the min watermarks with
    /// `slowcache_kb` and `slow_mode=crawl`); returns why it ended.
    fn wait_window(&self, reserve: &mut Chain) -> StopReason {
        let end = now_ns().saturating_add(u64::from(self.params.window_ms) * NSEC_PER_MSEC);
        let churn_ns = u64::from(self.params.churn_ms) * NSEC_PER_MSEC;
        let mut next_churn = now_ns().saturating_add(churn_ns);
        // The controller levels the free memory for `slow_mode=crawl` only.
        let slow = self.params.slowcache_kb != 0 && !self.params.slow_thrash;
        let mut exhausted = false;
        // Until the memory was first exhausted.
        let mut first = true;
        loop {
            if slow {
                let free = free_pages();
                let level = self.shared.slow_level(if first {
                    SLOW_LEVEL_MAX
                } else {
                    SLOW_TRICKLE_MAX
                });
                first &= level.is_none();
                if let Some(n) = level {
                    self.shared.slow_leveled.fetch_add(n, Ordering::Relaxed);
                }
                if level.is_some() != exhausted {
                    exhausted = level.is_some();
                    pr_info!(
                        "slow cache: memory {} {} ms into the run (free pages: {free}, {} after taking {})\n",
                        if exhausted { "exhausted" } else { "available again" },
                        now_ns().saturating_sub(self.shared.gate_ns.load(Ordering::Relaxed)) / NSEC_PER_MSEC,
                        free_pages(),
                        level.unwrap_or(0)
                    );
                }
            }
            if churn_ns != 0 && now_ns() >= next_churn {
                next_churn = now_ns().saturating_add(churn_ns);
                // Take a page back if one is free (never waits, never
                // reclaims), then give one to the stuck workers.
                reserve.grow(gfp::DMA | b::GFP_NOWAIT | b::__GFP_NOWARN);
                reserve.shrink();
            }
            if self.params.until_stall && self.alive.load(Ordering::Acquire) == 0 {
                return StopReason::Stall;
            }
            let now = now_ns();
            if now >= end {
                return StopReason::Window;
            }
            if fatal_signal_pending() {
                return StopReason::Signal;
            }
            let mut poll_ms = POLL_MS;
            if churn_ns != 0 {
                poll_ms = next_churn
                    .saturating_sub(now)
                    .div_ceil(NSEC_PER_MSEC)
                    .clamp(1, POLL_MS);
            }
            if slow {
                poll_ms = poll_ms.min(SLOW_LEVEL_MS);
            }
            sleep_ms_killable((end - now).div_ceil(NSEC_PER_MSEC).min(poll_ms));
        }
    }

    /// Whether the worker should stop allocating.
    fn should_stop(&self) -> bool {
        // SAFETY: called from one of our kthreads.
        self.stop.load(Ordering::Acquire) || unsafe { b::kthread_should_stop() }
    }

    /// Whether a worker has been stuck since `t` or earlier (one look at
    /// every worker: `until=stall` is for a few workers).
    fn any_stuck_since(&self, t: u64) -> bool {
        self.stuck_since.iter().any(|s| {
            let since = s.load(Ordering::Acquire);
            since != 0 && since <= t
        })
    }

    /// The body of a worker kthread.
    fn worker(&self) {
        let p = &self.params;
        let gfp = p.mode.gfp() | if p.dma { gfp::DMA } else { 0 } | if p.fs { gfp::FS } else { 0 };
        let record_ns = u64::from(p.record_ms) * NSEC_PER_MSEC;
        let stall_ns = u64::from(p.stall_ms) * NSEC_PER_MSEC;
        let pid = current_pid();
        let comm = Comm::current();
        let mut held = Chain::new(p.mode.kind(p.order));
        // Start of the current run of slow allocations: a stuck task whose
        // allocations each succeed slowly from the memory reserves is still
        // stuck, and the watchdog sees it as one stall too.
        let mut slow_since: Option<u64> = None;
        let me = self.next_worker.fetch_add(1, Ordering::Relaxed) as usize;
        let my_since = self.stuck_since.get(me);
        let mut seq = 0u64;
        while !self.should_stop() {
            seq += 1;
            let start_ns = now_ns();
            if let Some(m) = my_since {
                m.store(slow_since.unwrap_or(start_ns), Ordering::Release);
            }
            let ok = if p.mode == Mode::Scoped {
                let _scope = NofsScope::enter();
                held.grow(gfp)
            } else {
                held.grow(gfp)
            };
            let end_ns = now_ns();
            if !ok {
                self.shared.failed.fetch_add(1, Ordering::Relaxed);
                sleep_ms(1);
                continue;
            }
            let took = end_ns.saturating_sub(start_ns);
            self.shared.allocations.fetch_add(1, Ordering::Relaxed);
            self.shared.max_ns.fetch_max(took, Ordering::Relaxed);
            if took >= record_ns {
                self.shared.record(Record {
                    pid,
                    comm,
                    mode: p.mode,
                    order: if let Kind::Pages(o) = p.mode.kind(p.order) {
                        o
                    } else {
                        0
                    },
                    gfp,
                    start_ns,
                    end_ns,
                    seq,
                });
            }
            if took >= stall_ns {
                self.shared.stalls.fetch_add(1, Ordering::Relaxed);
            }
            if p.slow_thrash {
                self.shared.slow_take_back();
            }
            if took >= SLOW_NS {
                slow_since.get_or_insert(start_ns);
            } else {
                slow_since = None;
                // A fast allocation: memory is there again. With
                // `until=stall`, stop if any worker (this one included) had
                // been stuck long enough when it started: memory freed by
                // an OOM kill may all go to a worker that was not stuck as
                // long while the one that was stays stuck. The others stop
                // too, so that they do not eat that memory.
                if p.until_stall && self.any_stuck_since(start_ns.saturating_sub(stall_ns)) {
                    self.stop.store(true, Ordering::Release);
                    break;
                }
            }
            cond_resched();
        }
        held.release();
        self.alive.fetch_sub(1, Ordering::Release);
    }
}

/// Entry point of a worker kthread; `data` is the controller's [`Run`].
///
/// # Safety
///
/// `data` points to a `Run` that stays alive and in place until the thread
/// has exited (passed by `Workers::create()` only).
unsafe extern "C" fn worker_main(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Run` passed by `Workers::create()`; the controller
    // keeps it alive (and in place) until `kthread_stop()` of this thread has
    // returned, which is after this function returned.
    let run = unsafe { &*data.cast::<Run<'_>>() };
    run.worker();
    0
}

/// The worker kthreads of one run; dropping it stops them and waits for
/// their exit.
///
/// # Invariants
///
/// `tasks[..n]` are kthreads created with `worker_main` on the `Run` that
/// `'a` borrows, each with a task reference we own.
struct Workers<'a> {
    /// The threads (heap: up to `MAX_WORKERS` pointers do not fit a
    /// kernel stack frame).
    tasks: KVec<*mut b::task_struct>,
    /// How many there are.
    n: usize,
    /// The run the threads use.
    _run: PhantomData<&'a Run<'a>>,
}

impl<'a> Workers<'a> {
    /// Creates the threads of `run` without starting them.
    fn create(run: &'a Run<'a>) -> Result<Self> {
        // INVARIANT: no threads yet.
        let mut w = Workers {
            tasks: KVec::with_capacity(run.params.workers as usize, GFP_KERNEL)?,
            n: 0,
            _run: PhantomData,
        };
        let data = ptr::from_ref(run).cast_mut().cast::<c_void>();
        for i in 0..run.params.workers.min(MAX_WORKERS as u32) {
            // SAFETY: `worker_main` has the kthread signature; `data` outlives
            // the thread (see the invariant and `Drop`); the name format is a
            // NUL-terminated string with one `%u` matched by a `c_uint`.
            let t = unsafe {
                b::kthread_create_on_node(
                    Some(worker_main),
                    data,
                    b::NUMA_NO_NODE,
                    c_str!("nfw_stall/%u").as_char_ptr(),
                    i,
                )
            };
            // SAFETY: `IS_ERR()` only looks at the pointer value.
            if unsafe { b::IS_ERR(t.cast::<c_void>()) } {
                // SAFETY: `t` is an error pointer, `PTR_ERR()` decodes it.
                let err = unsafe { b::PTR_ERR(t.cast::<c_void>()) };
                return Err(Error::from_errno(err as c_int));
            }
            // SAFETY: `t` is a live, never woken kthread.
            unsafe { b::set_user_nice(t, run.params.nice as c_long) };
            // SAFETY: `t` is a live task; the reference keeps its `task_struct`
            // (and the kthread data `kthread_stop()` uses) alive even if the
            // thread exits on its own (`until=stall`).
            unsafe { b::get_task_struct(t) };
            // INVARIANT: a kthread of `worker_main` with our reference.
            // (Capacity was reserved above, so the push does not allocate.)
            if let Err(e) = w.tasks.push(t, GFP_KERNEL) {
                // SAFETY: `t` is a never woken kthread with our reference.
                unsafe { b::kthread_stop_put(t) };
                return Err(e.into());
            }
            w.n += 1;
        }
        Ok(w)
    }

    /// Starts every thread: opens the start gate.
    fn start(&self) {
        for &t in &self.tasks[..self.n] {
            // SAFETY: `t` is a live task (we hold a reference).
            unsafe { b::wake_up_process(t) };
        }
    }
}

impl Drop for Workers<'_> {
    fn drop(&mut self) {
        for &t in &self.tasks[..self.n] {
            // SAFETY: `t` is a kthread with a reference we own (type invariant);
            // `kthread_stop_put()` waits for it to exit (a thread never woken
            // exits without running `worker_main`) and drops the reference.
            unsafe { b::kthread_stop_put(t) };
        }
    }
}

/// The module's state, for the sysfs callbacks; null when not loaded.
///
/// Set in `init` before the sysfs files exist, cleared in `drop` after they
/// were removed (which waits for running callbacks).
static SHARED: AtomicPtr<Shared> = AtomicPtr::new(ptr::null_mut());

/// The module's state, if it is loaded.
fn shared() -> Result<&'static Shared> {
    let p = SHARED.load(Ordering::Acquire);
    // SAFETY: a non-null `SHARED` points to the pinned `Shared` of the loaded
    // module, which outlives every sysfs callback (see `SHARED`).
    unsafe { p.as_ref() }.ok_or(ENODEV)
}

/// The sysfs tables of the four files.
static GROUP: Group<4, 5> = Group::new();

/// Converts a result to what a sysfs callback returns.
fn sysfs_ret(r: Result<usize>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `run` store: a whole run.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn run_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    sysfs_ret(shared().and_then(|s| s.start(input)).map(|()| count))
}

/// `alloc` store: allocate in the writer's own context until a fatal signal.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn alloc_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    let mut w = words(input);
    let zone = match w.next() {
        Some(b"zone=dma") => gfp::DMA,
        Some(b"zone=normal") => 0,
        _ => return EINVAL.to_errno() as isize,
    };
    if w.next().is_some() {
        return EINVAL.to_errno() as isize;
    }
    let mut held = Chain::new(Kind::Pages(0));
    let mut failed = 0u64;
    loop {
        // A no-fail allocation returns only with a page; count the contract
        // broken, so that a test sees it (an OOM victim that exits at once
        // must have got its page, from the OOM reserves).
        if !held.grow(gfp::NOFS | gfp::NOFAIL | zone) {
            failed += 1;
        }
        if fatal_signal_pending() {
            break;
        }
        cond_resched();
    }
    held.release();
    if failed != 0 {
        pr_err!("alloc: {failed} __GFP_NOFAIL allocations returned NULL\n");
        return ENOMEM.to_errno() as isize;
    }
    EINTR.to_errno() as isize
}

/// `records` show.
///
/// # Safety
///
/// Called by sysfs only, with a writable `PAGE_SIZE` buffer at `buf`.
unsafe extern "C" fn records_show(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a writable buffer of `PAGE_SIZE` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), b::PAGE_SIZE) };
    sysfs_ret(shared().map(|s| s.show_records(out)))
}

/// `records_offset` show.
///
/// # Safety
///
/// Called by sysfs only, with a writable `PAGE_SIZE` buffer at `buf`.
unsafe extern "C" fn offset_show(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a writable buffer of `PAGE_SIZE` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), b::PAGE_SIZE) };
    sysfs_ret(shared().and_then(|s| {
        let mut w = SliceWriter { buf: out, len: 0 };
        writeln!(w, "{}", s.log.lock().offset).map_err(|_| EINVAL)?;
        Ok(w.len)
    }))
}

/// `records_offset` store.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn offset_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    sysfs_ret(shared().and_then(|s| {
        let mut words = words(input);
        let value = words.next().ok_or(EINVAL)?;
        if words.next().is_some() {
            return Err(EINVAL);
        }
        s.log.lock().offset = number(value, 0, MAX_RECORDS as u32)? as usize;
        Ok(count)
    }))
}

/// The module.
struct StallGen {
    /// `/sys/kernel/nfw_stallgen`; `None` once removed.
    dir: Option<Dir>,
    /// The state `SHARED` points to.
    _shared: Pin<KBox<Shared>>,
}

impl kernel::Module for StallGen {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let shared = KBox::pin_init(Shared::new()?, GFP_KERNEL)?;
        SHARED.store(ptr::from_ref(&*shared).cast_mut(), Ordering::Release);
        let files = [
            File::write_only(c_str!("run"), run_store),
            File::read_only(c_str!("records"), records_show),
            File::read_write(c_str!("records_offset"), offset_show, offset_store),
            File::write_only(c_str!("alloc"), alloc_store),
        ];
        match Dir::create(c_str!("nfw_stallgen"), &GROUP, files) {
            Ok(dir) => Ok(StallGen {
                dir: Some(dir),
                _shared: shared,
            }),
            Err(e) => {
                SHARED.store(ptr::null_mut(), Ordering::Release);
                Err(e)
            }
        }
    }
}

impl Drop for StallGen {
    fn drop(&mut self) {
        // Removing the files waits for a run in progress to end.
        drop(self.dir.take());
        SHARED.store(ptr::null_mut(), Ordering::Release);
    }
}
