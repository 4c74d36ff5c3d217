// SPDX-License-Identifier: GPL-2.0

//! The slow cache of a run (the `run` options `slowcache_kb`, `slow_ms`,
//! `slow_progress` and `slow_mode`).
//!
//! `slowcache_kb=K` makes the stuck allocations crawl instead of loop:
//! each succeeds about `S` ms after it started, after a reclaim round
//! that reclaimed pages. After the reserve, the controller fills a cache
//! of `K` KiB of order-0 pages (`GFP_KERNEL`) and registers a shrinker
//! for it, which counts one object for a direct reclaimer (not for
//! kswapd: the progress is the allocating task's own) while the cache has
//! a page, with `seeks` such that the shrinker core scans it once per
//! reclaim round, at the last priority level. Its scan sleeps `S` ms
//! (killable), frees pages of the cache (below) and, with
//! `slow_progress=1`, counts them as reclaimed by the round
//! (`mm_account_reclaimed_pages()`: the round's `nr_reclaimed`, which the
//! `mm_vmscan_direct_reclaim_end` tracepoint reports); with
//! `slow_progress=0` the round reclaims nothing (the same load, without
//! progress). The `served` count of the summary is the pages the
//! shrinker freed, `scans` its scans; the cache is freed when the run
//! ends.
//!
//! `slow_mode=crawl`: a `__GFP_NOFAIL` allocation fed from the reserves
//! after each round. A scan frees one page. Every 10 ms while the memory
//! is exhausted (a `GFP_NOWAIT` allocation fails), the controller moves
//! free pages into the cache (from the reserves: `__GFP_MEMALLOC`) until
//! at most 64 are left, so that the pages reclaim frees never lift a
//! zone above half its min watermark: then `should_reclaim_retry()` gives
//! up after every round (with nothing reclaimable on the LRU, this kernel
//! counts a zone's free pages as reclaimable), and a worker's allocation
//! calls `out_of_memory()` (no kill for `GFP_NOFS`) and gets its page
//! from the reserves (`__GFP_NOFAIL`), progress or not: the kernel found
//! reclaim futile. After its first look, the controller moves at most 64
//! pages a time: enough for what reclaim frees, too few for what an OOM
//! kill frees, which lifts the memory above the min watermarks (not
//! exhausted any more: the controller takes nothing).
//!
//! `slow_mode=thrash`: a writer whose allocations each succeed slowly
//! under thrash, as reclaim waits for I/O and what it frees is eaten by
//! others at once; the kernel never finds reclaim futile and never calls
//! `out_of_memory()`. The controller takes nothing; the workers eat the
//! memory down to the min watermark of the zone that `GFP_KERNEL`
//! allocations try first, where their allocations start to need reclaim.
//! A scan frees what lifts that zone's free pages (those on the per-CPU
//! lists, which a failed attempt after the round drains, included) to
//! `D` + 1 above its min watermark, at least one page, where `D` is how
//! far the free-page counter that the watermark checks read can lag
//! (the sum of the per-CPU thresholds below which counter deltas stay
//! unfolded: up to the low watermark's distance from the min one while
//! kswapd is awake): the allocation succeeds right after that round.
//! From the first scan on, each worker, after each of its allocations,
//! moves free pages into the cache (from the reserves) until the zone is
//! `D` + 1 below its min watermark, so that its next allocation fails
//! the watermark and needs a round of its own again. That level is above
//! half the min watermark (in a 512 MiB guest: 510 free pages for a min
//! watermark of 679): with nothing reclaimable on the LRU this kernel
//! counts the zone's free pages as reclaimable too, so an allocation
//! whose page another worker took after its round is told to retry
//! (`should_reclaim_retry()`) rather than sent to `out_of_memory()`.
//! A worker takes back at most 4096 pages after one allocation; what an
//! OOM kill frees goes into the cache too, within a few allocations.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::bindings as b;
use kernel::ffi::{c_int, c_ulong};
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::{c_str, new_mutex};

use crate::chain::{Chain, Kind};
use crate::gfp;
use crate::params::Params;
use crate::sys::{account_reclaimed, current_is_kswapd, free_pages, sleep_ms_killable, ZoneState};
use crate::sysfs::shared;
use crate::util::{now_ns, NSEC_PER_MSEC};
use crate::Shared;

/// Most pages the controller moves into the slow cache in its first look
/// at exhausted memory (see `Shared::slow_level()`).
const SLOW_LEVEL_MAX: u64 = 65536;

/// Most pages the controller moves into the slow cache in each later look:
/// enough for what reclaim frees, too few to eat what an OOM kill frees.
const SLOW_TRICKLE_MAX: u64 = 64;

/// How often the controller levels the free memory with a slow cache.
pub(crate) const SLOW_LEVEL_MS: u64 = 10;

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

/// The pages of the slow cache.
struct SlowPages(Chain);

// SAFETY: the pages of a `Chain` belong to no task or CPU; any thread may
// free them.
unsafe impl Send for SlowPages {}

/// The slow cache's state, part of [`Shared`] (the shrinker's callbacks
/// reach it there); its counters are in [`crate::records::Stats`].
#[pin_data]
pub(crate) struct SlowState {
    /// The slow cache's pages (`slowcache_kb`).
    #[pin]
    pages: Mutex<SlowPages>,
    /// Pages in the slow cache (0 outside a run with one).
    avail: AtomicU64,
    /// The run's `slow_ms`.
    ms: AtomicU32,
    /// The run's `slow_progress`.
    progress: AtomicBool,
    /// The run's `slow_mode=thrash`.
    thrash: AtomicBool,
}

impl SlowState {
    /// An empty slow cache.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(SlowState {
            pages <- new_mutex!(SlowPages(Chain::new(Kind::Pages(0))), "nfw_stallgen_slow"),
            avail: AtomicU64::new(0),
            ms: AtomicU32::new(0),
            progress: AtomicBool::new(false),
            thrash: AtomicBool::new(false),
        })
    }
}

impl Shared {
    /// The slow cache's scan, in the reclaiming task: sleeps `slow_ms` (as
    /// reclaim waiting for I/O), then frees one page (`slow_mode=crawl`) or
    /// what lifts the zone to [`ZoneState::top`], at least one page
    /// (`slow_mode=thrash`); they count as reclaimed by this round with
    /// `slow_progress=1`.
    fn slow_scan(&self) -> u64 {
        if self.slow.avail.load(Ordering::Acquire) == 0 {
            return 0;
        }
        sleep_ms_killable(u64::from(self.slow.ms.load(Ordering::Relaxed)));
        let z = ZoneState::now();
        if self.stats.slow_scans.fetch_add(1, Ordering::Relaxed) == 0 {
            pr_info!(
                "slow cache: first scan {} ms into the run (zone: {} free pages, {} on per-CPU lists, min watermark {}, counter drift up to {})\n",
                now_ns().saturating_sub(self.stats.gate_ns.load(Ordering::Relaxed)) / NSEC_PER_MSEC,
                z.free,
                z.pcp,
                z.min,
                z.drift
            );
        }
        let want = if self.slow.thrash.load(Ordering::Relaxed) {
            (z.top() - z.have()).max(1) as u64
        } else {
            1
        };
        let mut n = 0;
        {
            let mut pages = self.slow.pages.lock();
            while n < want && self.slow.avail.load(Ordering::Acquire) != 0 {
                pages.0.shrink();
                self.slow.avail.fetch_sub(1, Ordering::Release);
                n += 1;
            }
        }
        if n == 0 {
            return 0;
        }
        self.stats.slow_served.fetch_add(n, Ordering::Relaxed);
        if self.slow.progress.load(Ordering::Relaxed) {
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
        let mut pages = self.slow.pages.lock();
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
        self.slow.avail.fetch_add(n, Ordering::Release);
        Some(n)
    }

    /// `slow_mode=thrash`, in a worker after each of its allocations once
    /// the slow cache was scanned: moves free pages into the cache, from
    /// the reserves, until the zone is back at [`ZoneState::bottom`] (at
    /// most [`SLOW_TAKE_MAX`]). What else frees memory, an OOM kill
    /// included, is eaten too: the workers stay slow.
    pub(crate) fn slow_take_back(&self) {
        if self.stats.slow_scans.load(Ordering::Relaxed) == 0 {
            return;
        }
        let reserves = b::GFP_ATOMIC | gfp::MEMALLOC | b::__GFP_NOWARN;
        let mut pages = self.slow.pages.lock();
        let mut n = 0;
        while n < SLOW_TAKE_MAX {
            let z = ZoneState::now();
            if z.have() <= z.bottom() || !pages.0.grow(reserves) {
                break;
            }
            n += 1;
        }
        self.slow.avail.fetch_add(n, Ordering::Release);
        self.stats.slow_leveled.fetch_add(n, Ordering::Relaxed);
    }
}

/// The controller's looks at the free memory with `slow_mode=crawl` (see
/// `Shared::slow_level()`), one every [`SLOW_LEVEL_MS`] of the window.
pub(crate) struct Leveler {
    /// Whether the last look found the memory exhausted.
    exhausted: bool,
    /// Until the memory was first exhausted.
    first: bool,
}

impl Leveler {
    /// Before the first look.
    pub(crate) fn new() -> Self {
        Leveler {
            exhausted: false,
            first: true,
        }
    }

    /// One look: levels the free memory if it is exhausted, and logs when
    /// it becomes exhausted or available again.
    pub(crate) fn look(&mut self, shared: &Shared) {
        let free = free_pages();
        let level = shared.slow_level(if self.first {
            SLOW_LEVEL_MAX
        } else {
            SLOW_TRICKLE_MAX
        });
        self.first &= level.is_none();
        if let Some(n) = level {
            shared.stats.slow_leveled.fetch_add(n, Ordering::Relaxed);
        }
        if level.is_some() != self.exhausted {
            self.exhausted = level.is_some();
            pr_info!(
                "slow cache: memory {} {} ms into the run (free pages: {free}, {} after taking {})\n",
                if self.exhausted { "exhausted" } else { "available again" },
                now_ns().saturating_sub(shared.stats.gate_ns.load(Ordering::Relaxed)) / NSEC_PER_MSEC,
                free_pages(),
                level.unwrap_or(0)
            );
        }
    }
}

/// The slow cache of a run (`slowcache_kb`): filled and its shrinker
/// registered by [`SlowCache::start`]; dropping it unregisters the
/// shrinker and frees every page.
pub(crate) struct SlowCache<'a> {
    /// Where the pages and counters are.
    shared: &'a Shared,
    /// The shrinker (taken by `drop`).
    shrinker: Option<SlowShrinker>,
}

impl<'a> SlowCache<'a> {
    /// Fills the cache with `slowcache_kb` KiB of order-0 pages
    /// (`GFP_KERNEL`) and registers its shrinker.
    pub(crate) fn start(shared: &'a Shared, p: &Params) -> Result<Self> {
        let n = p.slowcache_kb / 4;
        let mut pages = Chain::new(Kind::Pages(0));
        for _ in 0..n {
            if !pages.grow(gfp::KERNEL) {
                return Err(ENOMEM);
            }
        }
        let slow = &shared.slow;
        slow.pages.lock().0 = pages;
        slow.ms.store(p.slow_ms, Ordering::Relaxed);
        slow.progress.store(p.slow_progress, Ordering::Relaxed);
        slow.thrash.store(p.slow_thrash, Ordering::Relaxed);
        slow.avail.store(u64::from(n), Ordering::Release);
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
        self.shared.slow.avail.store(0, Ordering::Release);
        self.shared.slow.pages.lock().0.release();
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
        Ok(s) if !current_is_kswapd() && s.slow.avail.load(Ordering::Acquire) != 0 => 1,
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
