// SPDX-License-Identifier: GPL-2.0

//! What a write to `run` asks for: the parameters of a run and the modes
//! the workers allocate in.

use kernel::bindings as b;
use kernel::prelude::*;

use crate::chain::Kind;
use crate::gfp;
use crate::util::{number, words};

/// Most workers one run may have (enough to overflow the watchdog's
/// 1024-slot table).
pub(crate) const MAX_WORKERS: usize = 2048;
/// Allocation size of `mode=kmalloc`.
const KMALLOC_SIZE: usize = 2048;
/// Allocation size of `mode=kvmalloc` and `mode=scoped`.
const KVMALLOC_SIZE: usize = 65536;

/// Largest reserve with `zone=dma`.
const DMA_RESERVE_MAX_KB: u32 = 1024;

/// Largest reserve with `zone=dma` and `churn_ms` (which uses it up a page
/// at a time).
const DMA_CHURN_RESERVE_MAX_KB: u32 = 8192;

/// What a worker allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
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
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Page => "page",
            Mode::Kmalloc => "kmalloc",
            Mode::Kvmalloc => "kvmalloc",
            Mode::Scoped => "scoped",
            Mode::Implicit => "implicit",
        }
    }

    /// The gfp mask the worker passes to the allocator.
    pub(crate) fn gfp(self) -> b::gfp_t {
        match self {
            Mode::Page | Mode::Kmalloc | Mode::Kvmalloc => gfp::NOFS | gfp::NOFAIL,
            Mode::Scoped => gfp::KERNEL | gfp::NOFAIL,
            Mode::Implicit => gfp::NOFS,
        }
    }

    /// How the worker's allocations are made and freed.
    pub(crate) fn kind(self, order: u32) -> Kind {
        match self {
            Mode::Page => Kind::Pages(order),
            Mode::Implicit => Kind::Pages(0),
            Mode::Kmalloc => Kind::Kmalloc(KMALLOC_SIZE),
            Mode::Kvmalloc | Mode::Scoped => Kind::Kvmalloc(KVMALLOC_SIZE),
        }
    }
}

/// The parameters of one run, parsed from what was written to `run`.
#[derive(Clone, Copy)]
pub(crate) struct Params {
    /// Number of worker kthreads.
    pub(crate) workers: u32,
    /// What the workers allocate.
    pub(crate) mode: Mode,
    /// Page order (`mode=page`).
    pub(crate) order: u32,
    /// How long the controller lets the workers run.
    pub(crate) window_ms: u32,
    /// Size of the reserve freed at STOP, in KiB.
    pub(crate) reserve_kb: u32,
    /// Allocate from ZONE_DMA only (`zone=dma`).
    pub(crate) dma: bool,
    /// Whether a worker stops after its first allocation that took `stall_ms`.
    pub(crate) until_stall: bool,
    /// An allocation that took at least this long is a stall.
    pub(crate) stall_ms: u32,
    /// An allocation that took at least this long is recorded.
    pub(crate) record_ms: u32,
    /// Free a reserve page this often (0 = off).
    pub(crate) churn_ms: u32,
    /// Nice value of the workers.
    pub(crate) nice: u32,
    /// `GFP_KERNEL` instead of `GFP_NOFS` (`mode=page`).
    pub(crate) fs: bool,
    /// Size of the slow cache, in KiB (0 = none).
    pub(crate) slowcache_kb: u32,
    /// How long the slow cache's shrinker sleeps per reclaim round.
    pub(crate) slow_ms: u32,
    /// Whether the slow cache's pages count as the round's progress.
    pub(crate) slow_progress: bool,
    /// `slow_mode=thrash`: each scan lifts the zone above its min
    /// watermark and the workers take it back down after each allocation,
    /// instead of the controller keeping it far below.
    pub(crate) slow_thrash: bool,
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
    pub(crate) fn parse(input: &[u8]) -> Result<Params> {
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
