// SPDX-License-Identifier: GPL-2.0

//! nofail-watchdog: finds page allocations that cannot fail stuck in the
//! allocator slow path, reports them like the kernel's own watchdogs, slows
//! them down like `memalloc_retry_wait()` and, for the stalls the OOM killer
//! skips (no `__GFP_FS`), lets the kernel's OOM killer act.

use core::sync::atomic::Ordering;
use kernel::prelude::*;

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
    author: "nofail-watchdog developers",
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

static PROBE: core::sync::atomic::AtomicPtr<sys::Kretprobe> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// Instances for the kretprobe: every trackable allocation plus slack for
/// those that return while the table is full.
const MAXACTIVE: i32 = track::CAPACITY as i32 + 64;

/// The loaded module. Fields are torn down in `Drop` in a fixed order.
struct NofailWatchdog {
    sysfs: Option<sysfs::SysfsDir>,
    probe: Option<KBox<sys::Kretprobe>>,
    reclaim: Option<sys::FtraceRedirect>,
    thread: Option<sys::Kthread>,
    oom: Option<KBox<oom::OomKiller>>,
}

impl kernel::Module for NofailWatchdog {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mut m = NofailWatchdog {
            sysfs: None,
            probe: None,
            reclaim: None,
            thread: None,
            oom: None,
        };
        // Every step is undone by `Drop` if a later one fails.
        let ks = sys::Kallsyms::new()?;
        let reclaim = ks.lookup(c"try_to_free_pages")?;
        sys::check_callable(c"try_to_free_pages", reclaim)?;
        let oom = KBox::new(oom::OomKiller::new(&ks)?, GFP_KERNEL)?;
        watchdog::OOM.store(&*oom as *const _ as *mut _, Ordering::Release);
        m.oom = Some(oom);

        let thread = sys::Kthread::spawn::<watchdog::Watchdog>(c"nofail_watchdog")?;
        thread.set_fifo_low();
        sysfs::WAKE.store(thread.task(), Ordering::Release);
        m.thread = Some(thread);

        hooks::RECLAIM_ORIG.store(reclaim, Ordering::Relaxed);
        hooks::UNLOADING.store(false, Ordering::Relaxed);
        m.reclaim = Some(sys::FtraceRedirect::register::<hooks::Reclaim>(
            c"try_to_free_pages",
            reclaim,
        )?);

        let probe = KBox::new(
            sys::Kretprobe::register::<hooks::SlowPath>(c"__alloc_pages_slowpath", MAXACTIVE)?,
            GFP_KERNEL,
        )?;
        PROBE.store(&*probe as *const _ as *mut _, Ordering::Release);
        m.probe = Some(probe);

        let dir = sysfs::SysfsDir::create()?;
        events::attach(dir.kobj(), module.as_ptr().cast());
        m.sysfs = Some(dir);
        pr_info!(
            "watching {} allocations stuck in the page allocator slow path (stall_warn_ms={} oom_after_ms={})\n",
            config::scope().as_str(),
            config::get(logic::knobs::Knob::StallWarnMs),
            config::get(logic::knobs::Knob::OomAfterMs)
        );
        Ok(m)
    }
}

impl Drop for NofailWatchdog {
    fn drop(&mut self) {
        // 1. No more user writes that could wake the thread or read the probe.
        let was_loaded = self.sysfs.take().is_some();
        PROBE.store(core::ptr::null_mut(), Ordering::Release);
        // 2. No new back-off sleeps; no new redirects into module code.
        hooks::UNLOADING.store(true, Ordering::Relaxed);
        if self.reclaim.take().is_some() {
            // 3. Tasks redirected before the unregister may not have reached
            // `reclaim_backoff` yet, others may be sleeping in it: wait for
            // all of them to leave, then for the last instructions.
            sys::synchronize_tasks();
            while hooks::IN_BACKOFF.load(Ordering::SeqCst) != 0 {
                sys::msleep(10);
            }
            sys::synchronize_tasks();
        }
        // 4. Stop following slow-path calls; calls in flight return through
        // the kernel's trampoline.
        self.probe.take();
        // 5. Stop the thread (waits for an OOM invocation in progress).
        sysfs::WAKE.store(core::ptr::null_mut(), Ordering::Release);
        self.thread.take();
        // 6. No more events to deliver (the thread was their only source).
        events::detach();
        watchdog::OOM.store(core::ptr::null_mut(), Ordering::Release);
        if self.oom.take().is_some() && was_loaded {
            pr_info!("unloaded\n");
        }
    }
}
