// SPDX-License-Identifier: GPL-2.0

//! Benchmark helper for `make bench` (test-only module): times page and slab
//! allocations from inside the kernel and makes many tasks stall at once.
//!
//! Interface, in `/sys/kernel/nfw_bench/` (root only):
//!
//! - `run` (0200): writing runs one command in the writer's context and
//!   returns when it is done; its result goes to `result`. Commands (space
//!   separated words; bad input is `EINVAL`, a command in progress `EBUSY`):
//!   - `fast pages ORDER BATCH BATCHES`: `BATCHES` times, allocate `BATCH`
//!     (1..=64) blocks with `alloc_pages(GFP_KERNEL, ORDER)` (ORDER 0..=3),
//!     then free them with `__free_pages()`, timing each batch;
//!   - `fast kmalloc SIZE BATCH BATCHES`: the same with
//!     `kmalloc(SIZE, GFP_KERNEL)` (SIZE 8..=65536, not a compile-time
//!     constant, as most callers: `__kmalloc_noprof()`) and `kfree()`.
//!
//!     Result: `median_ps=<p> mean_ps=<p> min_ps=<p> batches=<n>`, the
//!     time of one allocation plus its free in picoseconds, from the median,
//!     mean and fastest batch (the median is what the benchmark uses: a
//!     batch hit by an interrupt or a host preemption is an outlier).
//!   - `hold KB NOFS`: allocate `KB` KiB as order-0 pages one by one, with
//!     `GFP_NOFS` if `NOFS` is 1 (no `__GFP_FS`: tracked by the watchdog's
//!     default scope) or `GFP_KERNEL` if 0, holding all of them, then free
//!     them. Result: `total_ns=<n> pages=<n> max_ns=<n> slow=<n>` (`slow`:
//!     allocations that took 1 ms or more).
//!   - `stall N`: start `N` (1..=`MAX_STALLERS`) kthreads `nfw_bstall/<i>`
//!     that allocate `GFP_NOFS | __GFP_NOFAIL | __GFP_DMA` order-0 pages in
//!     a loop and hold them: ZONE_DMA (16 MiB) runs out and they all loop in
//!     the allocator slow path, while the rest of the system is fine. A 1 MiB
//!     ZONE_DMA reserve is taken first. Returns once the threads run.
//!     Result: `stallers=<n>`.
//!   - `unstall`: free the reserve (the stuck allocations succeed), stop the
//!     threads, wait for them to free everything and exit. Result:
//!     `stallers=0`.
//! - `result` (0400): the result line of the last command.
//!
//! Unloading stops stallers that are still running.

use core::cell::UnsafeCell;
use core::fmt::Write;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings as b;
use kernel::c_str;
use kernel::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

// Shared with nfw_stallgen, which uses all of them.
#[allow(dead_code)]
#[path = "common/chain.rs"]
mod chain;
// The module's own (pure, host-tested) formatting helper.
#[path = "../../rust/logic/fmtbuf.rs"]
#[allow(dead_code, unreachable_pub)]
mod fmtbuf;
#[allow(dead_code)]
#[path = "common/gfp.rs"]
mod gfp;
#[allow(dead_code)]
#[path = "common/sysfs_dir.rs"]
mod sysfs_dir;
#[allow(dead_code)]
#[path = "common/util.rs"]
mod util;
use chain::{cond_resched, Chain, Kind};
use fmtbuf::FmtBuf;
use sysfs_dir::{Dir, File, Group};
use util::{now_ns, number, words};

module! {
    type: Bench,
    name: "nfw_bench",
    description: "nofail-watchdog test: allocation micro-benchmarks and mass stalls",
    license: "GPL",
}

/// Most blocks per timed batch.
const MAX_BATCH: usize = 64;
/// Most timed batches per command.
const MAX_BATCHES: usize = 100_000;
/// Most staller threads (more than the watchdog's 1024 slots).
const MAX_STALLERS: usize = 2048;
/// ZONE_DMA reserve of the stallers, in pages (1 MiB).
const STALL_RESERVE_PAGES: usize = 256;
/// An allocation this slow counts as `slow` in `hold`.
const SLOW_NS: u64 = 1_000_000;

/// What a fast-path batch allocates.
#[derive(Clone, Copy)]
enum Fast {
    /// `alloc_pages(GFP_KERNEL, order)`.
    Pages(u32),
    /// `kmalloc(size, GFP_KERNEL)`.
    Kmalloc(usize),
}

/// Allocates `n` blocks into `slots`, then frees them; false if an
/// allocation failed (what was allocated is freed).
fn one_batch(what: Fast, slots: &mut [*mut c_void; MAX_BATCH], n: usize) -> bool {
    let mut got = 0;
    for slot in slots.iter_mut().take(n) {
        let p = match what {
            // SAFETY: a valid mask and order; process context.
            Fast::Pages(order) => unsafe { b::alloc_pages(gfp::KERNEL, order) }.cast::<c_void>(),
            // SAFETY: a plain allocation; process context.
            Fast::Kmalloc(size) => unsafe { b::__kmalloc_noprof(size, gfp::KERNEL) },
        };
        if p.is_null() {
            break;
        }
        *slot = p;
        got += 1;
    }
    for &p in slots.iter().take(got) {
        match what {
            // SAFETY: `p` is a block of `order` allocated above, freed once.
            Fast::Pages(order) => unsafe { b::__free_pages(p.cast::<b::page>(), order) },
            // SAFETY: `p` came from `kmalloc()` above, freed once.
            Fast::Kmalloc(_) => unsafe { b::kfree(p) },
        }
    }
    got == n
}

/// Sorts in place. (Not `sort_unstable()`: objtool does not know that
/// core's sort helpers never return from their panic paths.)
fn heapsort(v: &mut [u64]) {
    fn sift_down(v: &mut [u64], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child] < v[child + 1] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift_down(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// Times `batches` batches of `batch` allocations; writes the result line.
fn run_fast(what: Fast, batch: usize, batches: usize, out: &mut impl Write) -> Result {
    let mut times = KVVec::<u64>::with_capacity(batches, GFP_KERNEL)?;
    let mut slots = [ptr::null_mut::<c_void>(); MAX_BATCH];
    // One untimed batch warms the per-CPU lists and caches.
    if !one_batch(what, &mut slots, batch) {
        return Err(ENOMEM);
    }
    for _ in 0..batches {
        let t0 = now_ns();
        let ok = one_batch(what, &mut slots, batch);
        let t1 = now_ns();
        if !ok {
            return Err(ENOMEM);
        }
        times.push(t1.saturating_sub(t0), GFP_KERNEL)?;
        cond_resched();
    }
    heapsort(&mut times);
    // No panicking arithmetic or indexing here (objtool, see `heapsort`).
    let per = |ns: u64| {
        ns.saturating_mul(1000)
            .checked_div(batch as u64)
            .unwrap_or(0)
    };
    let at = |i: usize| times.get(i).copied().unwrap_or(0);
    let n = times.len() as u64;
    let sum = times.iter().fold(0u64, |a, &t| a.saturating_add(t));
    let median = per(at(times.len() / 2));
    let mean = per(sum.checked_div(n).unwrap_or(0));
    let min = per(at(0));
    writeln!(
        out,
        "median_ps={median} mean_ps={mean} min_ps={min} batches={n}"
    )
    .map_err(|_| EINVAL)
}

/// Allocates and holds `kb` KiB of order-0 pages, then frees them.
fn run_hold(kb: usize, nofs: bool, out: &mut impl Write) -> Result {
    let gfp_mask = if nofs { gfp::NOFS } else { gfp::KERNEL };
    let pages = kb.div_ceil(4);
    let mut held = Chain::new(Kind::Pages(0));
    let (mut max_ns, mut slow) = (0u64, 0u64);
    let t0 = now_ns();
    for _ in 0..pages {
        let a = now_ns();
        if !held.grow(gfp_mask) {
            return Err(ENOMEM);
        }
        let took = now_ns().saturating_sub(a);
        max_ns = max_ns.max(took);
        if took >= SLOW_NS {
            slow += 1;
        }
    }
    let total = now_ns().saturating_sub(t0);
    held.release();
    writeln!(
        out,
        "total_ns={total} pages={pages} max_ns={max_ns} slow={slow}"
    )
    .map_err(|_| EINVAL)
}

/// The running stallers.
struct Stallers {
    /// The threads, each with a task reference we own.
    tasks: KVVec<*mut b::task_struct>,
    /// The ZONE_DMA reserve, freed first at `unstall`.
    reserve: Chain,
}

/// Set by `unstall`: the stallers stop allocating.
static STOP: AtomicBool = AtomicBool::new(false);

/// Body of a staller kthread.
///
/// # Safety
///
/// Only passed to `kthread_create_on_node()` by [`start_stallers`].
unsafe extern "C" fn staller_main(_data: *mut c_void) -> c_int {
    let mut held = Chain::new(Kind::Pages(0));
    // SAFETY: called from our own kthread.
    while !STOP.load(Ordering::Acquire) && !unsafe { b::kthread_should_stop() } {
        held.grow(gfp::NOFS | gfp::NOFAIL | gfp::DMA);
        cond_resched();
    }
    held.release();
    // Wait for kthread_stop() (it holds a reference to us, so exiting early
    // would be fine too, but this keeps the accounting simple).
    // SAFETY: called from our own kthread.
    while !unsafe { b::kthread_should_stop() } {
        // SAFETY: process context, no locks held.
        unsafe { b::schedule_timeout_interruptible(1) };
    }
    0
}

/// Starts `n` stallers after taking the ZONE_DMA reserve.
fn start_stallers(n: usize) -> Result<Stallers> {
    STOP.store(false, Ordering::Release);
    let mut reserve = Chain::new(Kind::Pages(0));
    for _ in 0..STALL_RESERVE_PAGES {
        if !reserve.grow(gfp::KERNEL | gfp::DMA) {
            return Err(ENOMEM);
        }
    }
    let mut s = Stallers {
        tasks: KVVec::with_capacity(n, GFP_KERNEL)?,
        reserve,
    };
    for i in 0..n {
        // SAFETY: `staller_main` has the kthread signature and ignores its
        // data; the name format has one `%u` matched by a `c_uint`.
        let t = unsafe {
            b::kthread_create_on_node(
                Some(staller_main),
                ptr::null_mut(),
                b::NUMA_NO_NODE,
                c_str!("nfw_bstall/%u").as_char_ptr(),
                i as u32,
            )
        };
        // SAFETY: `IS_ERR()` only looks at the pointer value.
        if unsafe { b::IS_ERR(t.cast::<c_void>()) } {
            stop_stallers(s);
            // SAFETY: `t` is an error pointer.
            return Err(Error::from_errno(
                unsafe { b::PTR_ERR(t.cast::<c_void>()) } as c_int
            ));
        }
        // SAFETY: `t` is a live task; the reference keeps it for
        // `kthread_stop_put()`.
        unsafe { b::get_task_struct(t) };
        if let Err(e) = s.tasks.push(t, GFP_KERNEL) {
            // SAFETY: never woken, `kthread_stop_put()` makes it exit without
            // running `staller_main` and drops our reference.
            unsafe { b::kthread_stop_put(t) };
            stop_stallers(s);
            return Err(e.into());
        }
    }
    for &t in s.tasks.iter() {
        // SAFETY: a live task we hold a reference to.
        unsafe { b::wake_up_process(t) };
    }
    Ok(s)
}

/// Frees the reserve, stops every staller and waits for their exit.
fn stop_stallers(mut s: Stallers) {
    STOP.store(true, Ordering::Release);
    s.reserve.release();
    for &t in s.tasks.iter() {
        // SAFETY: a kthread with our reference (see `start_stallers`);
        // `kthread_stop_put()` waits for its exit and drops the reference.
        unsafe { b::kthread_stop_put(t) };
    }
}

/// State behind the command lock.
struct State {
    /// The last result line.
    result: [u8; 256],
    /// Its length.
    len: usize,
    /// Stallers, while running.
    stallers: Option<Stallers>,
}

/// [`State`] with a try-lock: commands run one at a time.
struct Locked {
    /// Held while a command runs or `result` is read.
    busy: AtomicBool,
    /// The state.
    state: UnsafeCell<State>,
}

// SAFETY: `state` is only accessed while `busy` is held (see `with`); the
// raw task pointers in it are only used by the holder.
unsafe impl Sync for Locked {}

static STATE: Locked = Locked {
    busy: AtomicBool::new(false),
    state: UnsafeCell::new(State {
        result: [0; 256],
        len: 0,
        stallers: None,
    }),
};

impl Locked {
    /// Runs `f` with the state, or fails with `EBUSY` if a command runs.
    fn with<R>(&self, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
        if self.busy.swap(true, Ordering::Acquire) {
            return Err(EBUSY);
        }
        // SAFETY: `busy` was false and is now ours: no other reference to
        // the state exists until we release it below.
        let r = f(unsafe { &mut *self.state.get() });
        self.busy.store(false, Ordering::Release);
        r
    }
}

/// The argument `word` of a command: a decimal number in `min..=max`.
fn arg(word: Option<&[u8]>, min: usize, max: usize) -> Result<usize> {
    let v = number(word.ok_or(EINVAL)?, min as u32, max as u32)?;
    Ok(v as usize)
}

/// Runs one command.
fn command(st: &mut State, input: &[u8]) -> Result {
    let mut w = words(input);
    let cmd = w.next().ok_or(EINVAL)?;
    let mut out = FmtBuf::new(&mut st.result);
    match cmd {
        b"fast" => {
            let what = match w.next() {
                Some(b"pages") => Fast::Pages(arg(w.next(), 0, 3)? as u32),
                Some(b"kmalloc") => Fast::Kmalloc(arg(w.next(), 8, 65536)?),
                _ => return Err(EINVAL),
            };
            let batch = arg(w.next(), 1, MAX_BATCH)?;
            let batches = arg(w.next(), 1, MAX_BATCHES)?;
            run_fast(what, batch, batches, &mut out)?;
        }
        b"hold" => {
            let kb = arg(w.next(), 4, 4 << 20)?;
            let nofs = arg(w.next(), 0, 1)? == 1;
            run_hold(kb, nofs, &mut out)?;
        }
        b"stall" => {
            let n = arg(w.next(), 1, MAX_STALLERS)?;
            if st.stallers.is_some() {
                return Err(EBUSY);
            }
            st.stallers = Some(start_stallers(n)?);
            writeln!(out, "stallers={n}").map_err(|_| EINVAL)?;
        }
        b"unstall" => {
            if let Some(s) = st.stallers.take() {
                stop_stallers(s);
            }
            writeln!(out, "stallers=0").map_err(|_| EINVAL)?;
        }
        _ => return Err(EINVAL),
    }
    // A result line that did not fit (none is that long).
    if out.truncated() {
        return Err(EINVAL);
    }
    if w.next().is_some() {
        return Err(EINVAL);
    }
    st.len = out.len();
    Ok(())
}

/// `run` store.
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
    match STATE.with(|st| command(st, input)) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `result` show.
///
/// # Safety
///
/// Called by sysfs only, with a writable `PAGE_SIZE` buffer at `buf`.
unsafe extern "C" fn result_show(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    let r = STATE.with(|st| {
        let n = st.len.min(st.result.len());
        // SAFETY: sysfs passes a `PAGE_SIZE` buffer; `n` <= 256.
        unsafe { ptr::copy_nonoverlapping(st.result.as_ptr(), buf.cast::<u8>(), n) };
        Ok(n)
    });
    match r {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// The sysfs tables of the two files.
static GROUP: Group<2, 3> = Group::new();

/// The module: `/sys/kernel/nfw_bench`.
struct Bench {
    /// The directory; `None` once removed.
    dir: Option<Dir>,
}

impl kernel::Module for Bench {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let files = [
            File::write_only(c_str!("run"), run_store),
            File::read_only(c_str!("result"), result_show),
        ];
        let dir = Dir::create(c_str!("nfw_bench"), &GROUP, files)?;
        Ok(Bench { dir: Some(dir) })
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        // Removing the files waits for running callbacks.
        drop(self.dir.take());
        // No callback runs any more: stop leftover stallers.
        let _ = STATE.with(|st| {
            if let Some(s) = st.stallers.take() {
                stop_stallers(s);
            }
            Ok(())
        });
    }
}
