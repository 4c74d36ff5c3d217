// SPDX-License-Identifier: GPL-2.0

//! nofail-watchdog: finds page allocations that cannot fail stuck in the
//! allocator slow path, reports them like the kernel's own watchdogs, slows
//! them down like `memalloc_retry_wait()` and, for the stalls the OOM killer
//! skips (no `__GFP_FS`), lets the kernel's OOM killer act.

use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use sys::compat;

mod bindings;
mod config;
mod events;
mod hooks;
mod logic;
mod oom;
mod params;
mod recent;
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

// The logic's GFP layout must be the running kernel's.
const _: () = {
    use bindings as b;
    use logic::gfp;
    assert!(gfp::FS == b::NFW_GFP_FS);
    assert!(gfp::IO == b::NFW_GFP_IO);
    assert!(gfp::DIRECT_RECLAIM == b::NFW_GFP_DIRECT_RECLAIM);
    assert!(gfp::NOFAIL == b::NFW_GFP_NOFAIL);
    assert!(gfp::NORETRY == b::NFW_GFP_NORETRY);
    assert!(gfp::RETRY_MAYFAIL == b::NFW_GFP_RETRY_MAYFAIL);
    assert!(gfp::COMP == b::NFW_GFP_COMP);
    assert!(gfp::ZERO == b::NFW_GFP_ZERO);
    assert!(gfp::ZEROTAGS == b::NFW_GFP_ZEROTAGS);
    assert!(gfp::GFP_KERNEL == b::NFW_GFP_KERNEL);
    assert!(b::NFW_TASK_COMM_LEN == 16);
};

/// Slow-path calls the kretprobe could not follow (all instances busy).
pub(crate) fn probe_missed() -> u64 {
    let p = PROBE.load(Ordering::Acquire);
    if p.is_null() {
        return 0;
    }
    // SAFETY: `PROBE` is set while the module owns the probe and cleared
    // (with the sysfs files, our only reader, already gone) before it is dropped.
    unsafe { (*p).missed() }
}

static PROBE: AtomicPtr<sys::Kretprobe> = AtomicPtr::new(core::ptr::null_mut());

/// Instances for the slow-path kretprobe: every trackable allocation plus
/// slack for those that return while the table is full.
const MAXACTIVE: i32 = track::CAPACITY as i32 + 64;
/// Instances for the `out_of_memory()` kretprobe (calls run one at a time,
/// under `oom_lock`; memcg OOMs may add a few).
const OOM_MAXACTIVE: i32 = 16;

/// The loaded module. Fields are torn down in `Drop` in a fixed order.
struct NofailWatchdog {
    sysfs: Option<sysfs::SysfsDir>,
    oom: Option<sys::Kretprobe>,
    shrinker: Option<sys::Shrinker>,
    reclaim_begin: Option<sys::TracepointProbe>,
    reclaim_end: Option<sys::TracepointProbe>,
    probe: Option<KBox<sys::Kretprobe>>,
    thread: Option<sys::Kthread>,
}

impl kernel::Module for NofailWatchdog {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mut m = NofailWatchdog {
            sysfs: None,
            oom: None,
            shrinker: None,
            reclaim_begin: None,
            reclaim_end: None,
            probe: None,
            thread: None,
        };
        // Every step is undone by `Drop` if a later one fails.
        hooks::UNLOADING.store(false, Ordering::Relaxed);
        let thread = sys::Kthread::spawn::<watchdog::Watchdog>(c"nofail_watchdog")?;
        thread.set_fifo_low();
        sysfs::WAKE.store(thread.task(), Ordering::Release);
        m.thread = Some(thread);

        track::followed_from(sys::now_ns());
        let probe = KBox::new(
            sys::Kretprobe::register::<hooks::SlowPath>(&compat::SLOWPATH_SYMBOLS, MAXACTIVE)?,
            GFP_KERNEL,
        )?;
        PROBE.store(core::ptr::from_ref(&*probe).cast_mut(), Ordering::Release);
        let slowpath = probe.symbol();
        m.probe = Some(probe);

        let (begin, end) = compat::attach_reclaim_rounds::<hooks::Rounds>()?;
        m.reclaim_begin = Some(begin);
        m.reclaim_end = Some(end);
        m.shrinker = Some(sys::Shrinker::register::<hooks::Backoff>(
            c"nofail_watchdog",
        )?);
        m.oom = Some(sys::Kretprobe::register::<hooks::OutOfMemory>(
            &[compat::OUT_OF_MEMORY],
            OOM_MAXACTIVE,
        )?);

        let dir = sysfs::SysfsDir::create()?;
        events::attach(dir.kobj(), module.as_ptr().cast());
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
        PROBE.store(core::ptr::null_mut(), Ordering::Release);
        // 2. No new back-off sleep or OOM trigger; end the sleeps under way.
        hooks::UNLOADING.store(true, Ordering::SeqCst);
        sys::backoff_wake_all();
        // 3. No more triggers (a call in flight keeps its copy of the
        // control block in its probe instance until it returns).
        self.oom.take();
        // 4. Waits for shrinker callbacks in progress: the woken sleepers.
        self.shrinker.take();
        // 5. Stop following rounds and slow-path calls; calls in flight
        // return through the kernel's trampoline.
        self.reclaim_begin.take();
        self.reclaim_end.take();
        self.probe.take();
        // 6. Stop the thread.
        sysfs::WAKE.store(core::ptr::null_mut(), Ordering::Release);
        self.thread.take();
        // 7. No more events to deliver (the thread was their only source).
        events::detach();
        if was_loaded {
            pr_info!("unloaded\n");
        }
    }
}
