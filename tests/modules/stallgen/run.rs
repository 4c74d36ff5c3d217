// SPDX-License-Identifier: GPL-2.0

//! A run: the controller (the task that wrote to `run`) and its worker
//! kthreads, which allocate until STOP.

use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::bindings as b;
use kernel::c_str;
use kernel::ffi::{c_int, c_long, c_void};
use kernel::prelude::*;

use crate::chain::{cond_resched, Chain, Kind};
use crate::gfp;
use crate::params::{Mode, Params, MAX_WORKERS};
use crate::records::{Record, StopReason};
use crate::slow::{Leveler, SlowCache, SLOW_LEVEL_MS};
use crate::sys::{
    current_comm, current_pid, fatal_signal_pending, prewarm_kworkers, sleep_ms, sleep_ms_killable,
    NofsScope,
};
use crate::util::{now_ns, NSEC_PER_MSEC};
use crate::Shared;

/// Longest sleep of the controller between checks of its stop conditions.
const POLL_MS: u64 = 100;

/// An allocation at least this slow continues a stall (as in the watchdog).
const SLOW_NS: u64 = 50 * NSEC_PER_MSEC;

/// Idle kworkers each per-CPU pool gets before a run (see `Shared::run()`).
const PREWARM_KWORKERS: u32 = 4;

impl Shared {
    /// Handles a write to `run`: parses it and does the run.
    pub(crate) fn start(&self, input: &[u8]) -> Result {
        let p = Params::parse(input)?;
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(EBUSY);
        }
        self.begin_run(p.workers);
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
        self.end_run(reason);
        pr_info!(
            "run over: stopped_by={} allocations={} stalls={} max_ms={}\n",
            reason.name(),
            self.stats.allocations.load(Ordering::Relaxed),
            self.stats.stalls.load(Ordering::Relaxed),
            self.stats.max_ns.load(Ordering::Relaxed) / NSEC_PER_MSEC
        );
        if p.slowcache_kb != 0 {
            pr_info!(
                "slow cache: its shrinker freed {} pages in {} scans; {} taken back once the memory was exhausted\n",
                self.stats.slow_served.load(Ordering::Relaxed),
                self.stats.slow_scans.load(Ordering::Relaxed),
                self.stats.slow_leveled.load(Ordering::Relaxed)
            );
        }
        self.busy.store(false, Ordering::Release);
        result.map(|_| ())
    }

    /// The controller: reserve, workers, window, STOP.
    fn run(&self, p: Params) -> Result<StopReason> {
        prewarm_kworkers(PREWARM_KWORKERS)?;
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
        self.stats.gate_ns.store(now_ns(), Ordering::Relaxed);
        workers.start();
        let reason = run.wait_window(&mut reserve);
        run.stop.store(true, Ordering::SeqCst);
        self.stats.stop_ns.store(now_ns(), Ordering::Relaxed);
        // Now every stuck allocation can succeed, and its worker sees STOP.
        drop(reserve);
        // Waits for every worker to exit.
        drop(workers);
        // Unregisters the shrinker and frees the slow cache.
        drop(slow);
        Ok(reason)
    }
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
        let mut leveler = Leveler::new();
        loop {
            if slow {
                leveler.look(self.shared);
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
        let stats = &self.shared.stats;
        let gfp = p.mode.gfp() | if p.dma { gfp::DMA } else { 0 } | if p.fs { gfp::FS } else { 0 };
        let record_ns = u64::from(p.record_ms) * NSEC_PER_MSEC;
        let stall_ns = u64::from(p.stall_ms) * NSEC_PER_MSEC;
        let pid = current_pid();
        let comm = current_comm();
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
                stats.failed.fetch_add(1, Ordering::Relaxed);
                sleep_ms(1);
                continue;
            }
            let took = end_ns.saturating_sub(start_ns);
            stats.allocations.fetch_add(1, Ordering::Relaxed);
            stats.max_ns.fetch_max(took, Ordering::Relaxed);
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
                stats.stalls.fetch_add(1, Ordering::Relaxed);
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
