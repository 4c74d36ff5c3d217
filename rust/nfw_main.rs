// SPDX-License-Identifier: GPL-2.0

//! nofail-watchdog: finds page allocations that cannot fail stuck in the
//! allocator slow path, reports them like the kernel's own watchdogs, slows
//! them down like `memalloc_retry_wait()` and, for the stalls the OOM killer
//! skips (no `__GFP_FS`), lets the kernel's OOM killer act.

// All raw kernel access is in `sys`; the rest of the module is safe Rust.
#![deny(unsafe_code)]

use core::sync::atomic::Ordering;
use kernel::prelude::*;
use sys::compat;

mod config;
mod events;
mod hooks;
mod logic;
mod oom;
mod params;
mod recent;
#[allow(unsafe_code)]
mod sys;
mod sysfs;
mod track;
mod watchdog;

module! {
    type: NofailWatchdog,
    name: "nofail_watchdog",
    description: "Watchdog for __GFP_NOFAIL allocations stuck in the page allocator slow path",
    license: "GPL",
}

/// Slow-path calls the kretprobe could not follow (all instances busy).
pub(crate) fn probe_missed() -> u64 {
    PROBE.with(|p| p.missed()).unwrap_or(0)
}

/// The slow-path kretprobe, published for `probe_missed` (the `stats` file).
static PROBE: sys::Published<sys::Kretprobe> = sys::Published::new();

/// Instances for the slow-path kretprobe: every trackable allocation plus
/// slack for those that return while the table is full.
const MAXACTIVE: i32 = track::CAPACITY as i32 + 64;
/// Instances for the `out_of_memory()` kretprobe (calls run one at a time,
/// under `oom_lock`; memcg OOMs may add a few).
const OOM_MAXACTIVE: i32 = 16;

/// The loaded module. What it registered is torn down in `Drop` in a
/// fixed order (the slow-path probe and the thread are published in
/// statics, `PROBE` and `sysfs::THREAD`).
struct NofailWatchdog {
    sysfs: Option<sys::SysfsDir>,
    oom: Option<sys::Kretprobe>,
    shrinker: Option<sys::Shrinker>,
    reclaim_begin: Option<sys::TracepointProbe>,
    reclaim_end: Option<sys::TracepointProbe>,
}

impl kernel::Module for NofailWatchdog {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mut m = NofailWatchdog {
            sysfs: None,
            oom: None,
            shrinker: None,
            reclaim_begin: None,
            reclaim_end: None,
        };
        // Every step is undone by `Drop` if a later one fails.
        hooks::UNLOADING.store(false, Ordering::Relaxed);
        let thread = sys::Kthread::spawn::<watchdog::Watchdog>(c"nofail_watchdog")?;
        thread.set_fifo_low();
        if sysfs::THREAD
            .publish(KBox::new(thread, GFP_KERNEL)?)
            .is_err()
        {
            return Err(EBUSY);
        }

        track::followed_from(sys::now_ns());
        let probe = KBox::new(
            sys::Kretprobe::register::<hooks::SlowPath>(&compat::SLOWPATH_SYMBOLS, MAXACTIVE)?,
            GFP_KERNEL,
        )?;
        let slowpath = probe.symbol();
        if PROBE.publish(probe).is_err() {
            return Err(EBUSY);
        }

        let (begin, end) = compat::attach_reclaim_rounds::<hooks::Rounds>()?;
        m.reclaim_begin = Some(begin);
        m.reclaim_end = Some(end);
        m.shrinker = Some(sys::Shrinker::register::<hooks::Backoff>(
            c"nofail_watchdog",
        )?);
        m.oom = Some(sys::Kretprobe::register::<oom::OutOfMemory>(
            &[compat::OUT_OF_MEMORY],
            OOM_MAXACTIVE,
        )?);

        let dir = sysfs::create()?;
        events::attach(&dir, module)?;
        m.sysfs = Some(dir);
        pr_info!(
            "watching {} allocations stuck in the page allocator slow path (stall_warn_ms={} oom_after_ms={}); hooks: {}, {}, {}, shrinker, {}\n",
            config::scope().as_str(),
            config::get(logic::knobs::Knob::StallWarnMs),
            config::get(logic::knobs::Knob::OomAfterMs),
            sys::name_str(slowpath),
            sys::name_str(compat::RECLAIM_BEGIN),
            sys::name_str(compat::RECLAIM_END),
            sys::name_str(compat::OUT_OF_MEMORY),
        );
        Ok(m)
    }
}

impl Drop for NofailWatchdog {
    fn drop(&mut self) {
        // 1. No more user writes that could wake the thread or read the probe.
        let was_loaded = self.sysfs.take().is_some();
        // 2. No new back-off sleep or OOM trigger; end the sleeps under way.
        hooks::UNLOADING.store(true, Ordering::SeqCst);
        sys::backoff_wake_all();
        // 3. No more triggers: with `UNLOADING` set the OOM probe leaves
        // the calls it sees alone; it is unregistered in step 5.
        // 4. Waits for shrinker callbacks in progress: the woken sleepers.
        self.shrinker.take();
        // 5. Stop following rounds, slow-path and `out_of_memory()` calls;
        // calls in flight return through the kernel's trampoline. The
        // slow-path probe and the thread are unpublished first (their
        // readers were the sysfs files, gone): the grace period the
        // tracepoints' unregistration waits for covers them too. Each group
        // of hooks is unregistered together: one wait for the group.
        let probe = PROBE.retire();
        let thread = sysfs::THREAD.retire();
        sys::TracepointProbe::unregister_all([self.reclaim_begin.take(), self.reclaim_end.take()]);
        sys::Kretprobe::unregister_all([
            probe.map(|p| KBox::into_inner(p.into_inner())),
            self.oom.take(),
        ]);
        // 6. Stop the thread.
        drop(thread);
        // 7. No more events to deliver (the thread was their only source).
        events::detach();
        if was_loaded {
            pr_info!("unloaded\n");
        }
    }
}
