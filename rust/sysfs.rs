// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/nofail_watchdog/`: one file per knob (0644, root writes),
//! and the read-only `stats`, `histogram` (0444), `stalls`, `recent` and
//! `events` (0400: they name other users' tasks; `events` can be polled,
//! see `events.rs`).

use crate::bindings as b;
use crate::config;
use crate::logic::fmtbuf::{self, FmtBuf};
use crate::logic::gfp::Gfp;
use crate::logic::hist;
use crate::logic::knobs::{self, Knob};
use crate::logic::stall;
use crate::sys::{self, KernelCell};
use crate::track::{self, STATS};
use crate::watchdog;
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings as kb;
use kernel::prelude::*;

/// Read-only files after the knobs, in attribute order.
#[derive(Clone, Copy)]
enum Info {
    Stats,
    Histogram,
    Stalls,
    Recent,
    Events,
}

const INFOS: [(Info, &core::ffi::CStr, u16); 5] = [
    (Info::Stats, c"stats", 0o444),
    (Info::Histogram, c"histogram", 0o444),
    (Info::Stalls, c"stalls", 0o400),
    (Info::Recent, c"recent", 0o400),
    (Info::Events, c"events", 0o400),
];

const N: usize = knobs::COUNT + INFOS.len();

static ATTRS: KernelCell<[b::kobj_attribute; N]> = KernelCell::new(
    // SAFETY: all-zero is a valid value for this plain C struct (null
    // pointers, `None` callbacks).
    unsafe { core::mem::zeroed() },
);
static ATTR_PTRS: KernelCell<[*mut b::attribute; N + 1]> =
    KernelCell::new([core::ptr::null_mut(); N + 1]);
static GROUP: KernelCell<b::attribute_group> = KernelCell::new(
    // SAFETY: as above.
    unsafe { core::mem::zeroed() },
);

/// The watchdog thread to wake when a knob changes.
pub(crate) static WAKE: AtomicPtr<kb::task_struct> = AtomicPtr::new(core::ptr::null_mut());

/// The sysfs directory.
///
/// # Invariants
///
/// `kobj` is a live kobject under `/sys/kernel` with [`GROUP`] created on it.
pub(crate) struct SysfsDir {
    kobj: *mut b::kobject,
}

// SAFETY: the kobject is only used to remove the directory, from any thread.
unsafe impl Send for SysfsDir {}
// SAFETY: no method takes `&self` in a way that mutates.
unsafe impl Sync for SysfsDir {}

impl SysfsDir {
    /// Creates `/sys/kernel/nofail_watchdog/`.
    ///
    /// Must be called once at a time (module init).
    pub(crate) fn create() -> Result<Self> {
        // SAFETY: module init runs once; nothing else uses the statics until
        // the group is created below, and they are not changed afterwards.
        unsafe {
            let attrs = &mut *ATTRS.get();
            let ptrs = &mut *ATTR_PTRS.get();
            for (i, a) in attrs.iter_mut().enumerate() {
                let (name, mode): (&core::ffi::CStr, u16) = if i < knobs::COUNT {
                    (config::CNAMES[i], 0o644)
                } else {
                    let (_, n, m) = INFOS[i - knobs::COUNT];
                    (n, m)
                };
                a.attr.name = sys::cstr_ptr(name);
                a.attr.mode = mode;
                b::nfw_kobj_attr_set_ops(
                    a,
                    Some(show),
                    if i < knobs::COUNT { Some(store) } else { None },
                );
                ptrs[i] = &mut a.attr;
            }
            ptrs[N] = core::ptr::null_mut();
            b::nfw_attr_group_set_attrs(GROUP.get(), ptrs.as_mut_ptr());
        }
        // SAFETY: `kernel_kobj` is the kernel's /sys/kernel kobject.
        let kobj =
            unsafe { b::kobject_create_and_add(sys::cstr_ptr(c"nofail_watchdog"), b::kernel_kobj) };
        if kobj.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `kobj` is live; the group and its attributes are static.
        let ret = unsafe { b::sysfs_create_group(kobj, GROUP.get()) };
        if ret < 0 {
            // SAFETY: drop the reference from `kobject_create_and_add`.
            unsafe { b::kobject_put(kobj) };
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: created above.
        Ok(Self { kobj })
    }
}

impl SysfsDir {
    /// The directory's kobject (live while `self` is).
    pub(crate) fn kobj(&self) -> *mut b::kobject {
        self.kobj
    }
}

impl Drop for SysfsDir {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; removal waits for readers and
        // writers of the files to finish.
        unsafe {
            b::sysfs_remove_group(self.kobj, GROUP.get());
            b::kobject_put(self.kobj);
        }
    }
}

/// Index of `attr` in [`ATTRS`].
fn index_of(attr: *const b::kobj_attribute) -> Option<usize> {
    let base = ATTRS.get() as usize;
    let off = (attr as usize).checked_sub(base)?;
    let i = off / core::mem::size_of::<b::kobj_attribute>();
    (i < N).then_some(i)
}

/// sysfs `show` of every file.
///
/// # Safety
///
/// Called by sysfs with one of [`ATTRS`] and a PAGE_SIZE buffer.
unsafe extern "C" fn show(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *mut u8,
) -> isize {
    let Some(i) = index_of(attr) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: sysfs passes a zeroed, writable buffer of PAGE_SIZE bytes;
    // we use all but the last (sysfs complains about a show() that
    // returns PAGE_SIZE: it keeps room for a terminating NUL).
    let page = unsafe { core::slice::from_raw_parts_mut(buf, kb::PAGE_SIZE - 1) };
    let mut w = FmtBuf::new(page);
    let _ = if i < knobs::COUNT {
        config::format(knobs::ALL[i], &mut w).and_then(|()| w.write_char('\n'))
    } else {
        match INFOS[i - knobs::COUNT].0 {
            Info::Stats => show_stats(&mut w),
            Info::Histogram => show_histogram(&mut w),
            Info::Stalls => show_stalls(&mut w),
            Info::Recent => crate::recent::show(&mut w, kb::PAGE_SIZE - 1),
            Info::Events => crate::events::show(&mut w, kb::PAGE_SIZE - 1),
        }
    };
    // `stalls` shows what fits of a larger table; an entry rewritten
    // between the size and the write passes of `recent`/`events` may also
    // overflow: readers get whole lines only.
    w.trim_partial_line();
    w.len() as isize
}

/// sysfs `store` of the knob files.
///
/// # Safety
///
/// Called by sysfs with one of [`ATTRS`] and `count` readable bytes at `buf`.
unsafe extern "C" fn store(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *const u8,
    count: usize,
) -> isize {
    let Some(k) = index_of(attr).and_then(|i| knobs::ALL.get(i).copied()) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf, count) };
    match config::set(k, input) {
        Ok(_) => {
            knob_changed(k);
            count as isize
        }
        Err(_) => EINVAL.to_errno() as isize,
    }
}

/// Applies the side effects of a knob change and wakes the watchdog, like
/// hung_task's knobs do.
pub(crate) fn knob_changed(k: Knob) {
    if k == Knob::MaxWarnings {
        watchdog::RESET_BUDGET.store(true, Ordering::Relaxed);
    }
    if k == Knob::Enabled && config::enabled() {
        crate::track::followed_from(sys::now_ns());
    }
    wake_watchdog();
}

/// Wakes the watchdog thread, if it runs. Any context.
pub(crate) fn wake_watchdog() {
    let t = WAKE.load(Ordering::Acquire);
    if !t.is_null() {
        // SAFETY: `WAKE` holds a referenced kthread; it is cleared before
        // the thread is stopped, and our callers (the sysfs files and the
        // OOM probe) are removed before that, so `t` is live here.
        unsafe { kb::wake_up_process(t) };
    }
}

fn show_stats(w: &mut impl Write) -> core::fmt::Result {
    let l = |a: &core::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let policy = config::policy();
    let now = sys::now_ns();
    let stalled_now = (0..track::CAPACITY)
        .filter_map(track::snapshot)
        .filter(|s| s.in_allocator() && s.in_scope)
        .filter(|s| stall::elapsed(now, s.start_ns) >= stall::ms_to_ns(policy.stall_warn_ms))
        .count();
    writeln!(w, "stalls_detected {}", l(&STATS.stalls))?;
    writeln!(w, "stalls_active {}", stalled_now)?;
    writeln!(w, "stalls_ended {}", l(&STATS.stalls_ended))?;
    writeln!(w, "longest_stall_ms {}", l(&STATS.longest_ms))?;
    writeln!(w, "reports {}", l(&STATS.reports))?;
    writeln!(w, "reports_suppressed {}", l(&STATS.suppressed))?;
    writeln!(w, "tracked {}", l(&STATS.tracked))?;
    writeln!(w, "in_flight {}", STATS.in_flight.load(Ordering::Relaxed))?;
    writeln!(w, "slots_in_use {}", STATS.occupied.load(Ordering::Relaxed))?;
    writeln!(w, "overflow {}", l(&STATS.overflow))?;
    writeln!(w, "retries {}", l(&STATS.rounds))?;
    writeln!(w, "backoff_sleeps {}", l(&STATS.sleeps))?;
    writeln!(w, "backoff_slept_ms {}", l(&STATS.slept_ms))?;
    writeln!(w, "oom_calls {}", l(&STATS.oom_calls))?;
    writeln!(w, "oom_triggers {}", l(&STATS.oom_triggers))?;
    writeln!(w, "oom_kills {}", l(&STATS.oom_kills))?;
    writeln!(w, "oom_deferred {}", l(&STATS.oom_deferred))?;
    writeln!(w, "adopted {}", l(&STATS.adopted))?;
    writeln!(w, "probe_missed {}", crate::probe_missed())?;
    crate::events::show_stats(w)
}

fn show_histogram(w: &mut impl Write) -> core::fmt::Result {
    let counts: [u64; hist::BUCKETS] =
        core::array::from_fn(|i| STATS.hist[i].load(Ordering::Relaxed));
    hist::render(&counts, w)
}

/// The tracked allocations, longest stuck first, as many as fit (about 40
/// of up to `track::CAPACITY`): one pass over the table per line, so that
/// nothing is allocated or sorted here, ordered by (start, slot).
fn show_stalls(w: &mut FmtBuf<'_>) -> core::fmt::Result {
    let now = sys::now_ns();
    writeln!(
        w,
        "pid comm kind nofs order ms retries sleeps start_ns first_report_ns gfp"
    )?;
    let in_allocator = |i| track::snapshot(i).filter(|s| s.in_allocator() && s.in_scope);
    let mut prev = None;
    while !w.truncated() {
        let keys = (0..track::CAPACITY).filter_map(|i| in_allocator(i).map(|s| (s.start_ns, i)));
        let Some(key) = fmtbuf::next_after(keys, prev) else {
            break;
        };
        prev = Some(key);
        // The slot may have been freed or reused since the pass.
        let Some(s) = in_allocator(key.1).filter(|s| s.start_ns == key.0) else {
            continue;
        };
        writeln!(
            w,
            "{} {} {} {} {} {} {} {} {} {} {}",
            s.pid,
            s.comm,
            s.kind.as_str(),
            u8::from(crate::logic::gfp::is_nofs(s.gfp)),
            s.order,
            stall::elapsed(now, s.start_ns) / stall::NSEC_PER_MSEC,
            s.rounds,
            s.sleeps,
            s.start_ns,
            s.first_report_ns,
            Gfp(s.gfp)
        )?;
    }
    Ok(())
}
