// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/nofail_watchdog/`: one file per knob (0644, root writes),
//! and the read-only `stats`, `histogram` (0444), `stalls`, `recent` and
//! `events` (0400: they name other users' tasks; `events` can be polled,
//! see `events.rs`).

use crate::config;
use crate::logic::fmtbuf::{self, FmtBuf};
use crate::logic::gfp::Gfp;
use crate::logic::hist;
use crate::logic::knobs::{self, Knob};
use crate::logic::stall;
use crate::sys::{self, Kthread, Published, SysfsDir, SysfsFiles};
use crate::track::{self, STATS};
use crate::watchdog;
use core::ffi::CStr;
use core::fmt::Write;
use core::sync::atomic::Ordering;
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

const INFOS: [(Info, &CStr, u16); 5] = [
    (Info::Stats, c"stats", 0o444),
    (Info::Histogram, c"histogram", 0o444),
    (Info::Stalls, c"stalls", 0o400),
    (Info::Recent, c"recent", 0o400),
    (Info::Events, c"events", 0o400),
];

/// The watchdog thread, woken when a knob changes.
pub(crate) static THREAD: Published<Kthread> = Published::new();

/// The files of `/sys/kernel/nofail_watchdog/`: the knobs, then [`INFOS`].
struct Files;

impl SysfsFiles for Files {
    const COUNT: usize = knobs::COUNT + INFOS.len();

    fn file(i: usize) -> (&'static CStr, u16) {
        if i < knobs::COUNT {
            (config::CNAMES[i], 0o644)
        } else {
            let (_, name, mode) = INFOS[i - knobs::COUNT];
            (name, mode)
        }
    }

    fn show(i: usize, w: &mut FmtBuf<'_>) {
        let room = w.capacity();
        let _ = if i < knobs::COUNT {
            config::format(knobs::ALL[i], w).and_then(|()| w.write_char('\n'))
        } else {
            match INFOS[i - knobs::COUNT].0 {
                Info::Stats => show_stats(w),
                Info::Histogram => show_histogram(w),
                Info::Stalls => show_stalls(w),
                Info::Recent => crate::recent::show(w, room),
                Info::Events => crate::events::show(w, room),
            }
        };
        // `stalls` shows what fits of a larger table; an entry rewritten
        // between the size and the write passes of `recent`/`events` may also
        // overflow: readers get whole lines only.
        w.trim_partial_line();
    }

    fn store(i: usize, input: &[u8]) -> Result {
        let k = knobs::ALL.get(i).copied().ok_or(EINVAL)?;
        config::set(k, input).map_err(|_| EINVAL)?;
        knob_changed(k);
        Ok(())
    }
}

/// Creates `/sys/kernel/nofail_watchdog/`.
pub(crate) fn create() -> Result<SysfsDir> {
    SysfsDir::create::<Files>(c"nofail_watchdog")
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
    THREAD.with(|t| t.wake());
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
