// SPDX-License-Identifier: GPL-2.0

//! Small safe wrappers around the raw kernel interfaces the module needs and
//! the 6.12 `kernel` crate does not abstract: time, the current task,
//! kretprobes registered by name, tracepoint probes, a shrinker, kthreads and
//! sleeping. Only interfaces the kernel exports to modules are used: no
//! symbol lookup, no call through a pointer into the kernel, no private
//! variable.

pub(crate) mod compat;

use crate::bindings as b;
use core::cell::UnsafeCell;
use core::ffi::CStr;
use kernel::bindings as kb;
use kernel::prelude::*;

/// A C string as the kernel's `const char *`. `c_char` is `u8` in the
/// kernel (6.12, 7.3), so its bytes go as they are; 7.3's clippy forbids
/// `CStr::as_ptr`, whose `c_char` is signed on other targets.
pub(crate) const fn cstr_ptr(s: &CStr) -> *const kernel::ffi::c_char {
    s.to_bytes_with_nul().as_ptr()
}

/// The C string at `p`.
///
/// # Safety
///
/// `p` points to a NUL-terminated string that stays valid and unchanged
/// for `'a`.
// 7.3's clippy asks for `CStrExt::from_char_ptr`, which 6.12 lacks; the
// sign mismatch it guards against cannot happen here (`c_char` is `u8`).
#[allow(clippy::disallowed_methods)]
pub(crate) unsafe fn cstr_from_ptr<'a>(p: *const kernel::ffi::c_char) -> &'a CStr {
    // SAFETY: by the caller's contract.
    unsafe { CStr::from_ptr(p.cast()) }
}

/// Monotonic time in nanoseconds; safe in any context, including NMI.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns` has no preconditions and is NMI-safe.
    unsafe { b::ktime_get_mono_fast_ns() }
}

/// Converts milliseconds to jiffies, rounding up, at least one jiffy.
pub(crate) fn ms_to_jiffies(ms: u32) -> i64 {
    let hz = b::NFW_HZ as u64;
    let j = (u64::from(ms) * hz).div_ceil(1000);
    j.clamp(1, i64::MAX as u64) as i64
}

/// A task's command name as the kernel stores it (`TASK_COMM_LEN` bytes, NUL padded).
#[derive(Clone, Copy, Default)]
pub(crate) struct Comm(pub(crate) [u8; 16]);

impl Comm {
    /// Packs the name into two words, to store it in atomics.
    pub(crate) fn pack(&self) -> [u64; 2] {
        let mut w = [0u64; 2];
        for (i, &c) in self.0.iter().enumerate() {
            w[i / 8] |= u64::from(c) << ((i % 8) * 8);
        }
        w
    }

    /// Inverse of [`Comm::pack`].
    pub(crate) fn unpack(w: [u64; 2]) -> Self {
        Comm(core::array::from_fn(|i| (w[i / 8] >> ((i % 8) * 8)) as u8))
    }
}

impl core::fmt::Display for Comm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        for &c in self.0.iter().take_while(|&&c| c != 0) {
            // Printable ASCII as is, anything else escaped: a comm is user
            // controlled and ends up in logs and sysfs.
            if (0x21..0x7f).contains(&c) {
                f.write_char(c as char)?;
            } else {
                write!(f, "\\x{:02x}", c)?;
            }
        }
        Ok(())
    }
}

/// The identity of the current task, read without locks (fine for reports).
pub(crate) struct CurrentTask {
    /// Address of the `task_struct`; an identity only, never dereferenced by us.
    pub(crate) addr: usize,
    /// Global pid.
    pub(crate) pid: i32,
    /// Command name.
    pub(crate) comm: Comm,
}

/// Reads the current task's identity.
pub(crate) fn current_task() -> CurrentTask {
    let mut comm = [0u8; 16];
    // SAFETY: the helpers read fields of the running task into `comm`, a
    // 16-byte buffer (TASK_COMM_LEN, checked at build time in C).
    let pid = unsafe {
        b::nfw_current_comm(comm.as_mut_ptr());
        b::nfw_current_pid()
    };
    CurrentTask {
        addr: current_addr(),
        pid,
        comm: Comm(comm),
    }
}

/// Address of the current task, the key of the tracking table.
pub(crate) fn current_addr() -> usize {
    // SAFETY: `get_current()` always returns the valid running task.
    unsafe { kb::get_current() as usize }
}

/// A symbol name for messages.
pub(crate) fn name_str(name: &CStr) -> &str {
    name.to_str().unwrap_or("?")
}

/// A cell for kernel objects that the kernel mutates behind our back
/// (registration structs), shared with C through raw pointers.
pub(crate) struct KernelCell<T>(UnsafeCell<T>);

// SAFETY: the contents are only touched by the kernel (under its own locks) or
// by this module before registration / after unregistration, never
// concurrently through Rust references.
unsafe impl<T> Sync for KernelCell<T> {}

// SAFETY: as above; ownership moves with the module, the kernel does not care
// which thread unregisters.
unsafe impl<T> Send for KernelCell<T> {}

impl<T> KernelCell<T> {
    /// Wraps a value.
    pub(crate) const fn new(v: T) -> Self {
        Self(UnsafeCell::new(v))
    }

    /// Raw pointer for the C side.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// Entry and return handlers of a [`Kretprobe`].
///
/// Both run in the probed task's context with preemption disabled (for a
/// breakpoint probe, in an NMI-like context): they must not sleep, allocate
/// or print.
pub(crate) trait KretprobeHandler {
    /// What the entry handler keeps for the return handler, in the
    /// kprobe instance (plain data, no destructor).
    type Data: Copy;
    /// Called on function entry with the argument registers (which it may
    /// change); returns `Some(data)` to follow this call to its return,
    /// `None` to ignore it. `slot` is the instance's storage for `data`,
    /// valid until the function returns: the handler may hand its address to
    /// the probed function (then it must return `Some` with the value it
    /// stored there).
    fn entry(regs: &mut b::pt_regs, slot: *mut Self::Data) -> Option<Self::Data>;
    /// Called when a followed call returns, with the `data` of [`Self::entry`].
    fn ret(regs: &b::pt_regs, data: &Self::Data);
}

/// A registered kretprobe on a kernel function, found by name.
///
/// # Invariants
///
/// `probe` is registered with the kernel for the lifetime of the value and
/// stays at the same address (it is heap allocated); `symbol` is the name it
/// was registered on.
pub(crate) struct Kretprobe {
    probe: KBox<KernelCell<b::kretprobe>>,
    symbol: &'static CStr,
}

impl Kretprobe {
    /// Registers a kretprobe with the handlers of `H` on the first of
    /// `symbols` that this kernel has: a function's plain name first, then
    /// the names of compiler clones (GCC emits `name.constprop.0`,
    /// `name.isra.0`, ... when it specialises a static function).
    ///
    /// `maxactive` bounds the calls followed at once; more are counted as
    /// missed. On failure the message names every symbol tried.
    pub(crate) fn register<H: KretprobeHandler>(
        symbols: &[&'static CStr],
        maxactive: i32,
    ) -> Result<Self> {
        let mut last = -(kb::ENOENT as i32);
        for &symbol in symbols {
            match Self::register_one::<H>(symbol, maxactive) {
                Ok(p) => return Ok(p),
                // Not on this kernel under this name: try the next one.
                Err(e)
                    if e.to_errno() == -(kb::ENOENT as i32)
                        || e.to_errno() == -(kb::EINVAL as i32) =>
                {
                    last = e.to_errno();
                }
                Err(e) => {
                    pr_err!("cannot hook {}: error {}\n", name_str(symbol), e.to_errno());
                    return Err(e);
                }
            }
        }
        let first = symbols.first().map_or("?", |s| name_str(s));
        if symbols.len() > 1 {
            pr_err!(
                "hook point {} not found on this kernel (nor {} compiler clones of it): error {}\n",
                first,
                symbols.len() - 1,
                last
            );
        } else {
            pr_err!(
                "hook point {} not found on this kernel: error {}\n",
                first,
                last
            );
        }
        Err(Error::from_errno(last))
    }

    fn register_one<H: KretprobeHandler>(symbol: &'static CStr, maxactive: i32) -> Result<Self> {
        let rp = b::kretprobe {
            kp: b::kprobe {
                symbol_name: cstr_ptr(symbol),
                ..Default::default()
            },
            entry_handler: Some(entry_trampoline::<H>),
            handler: Some(return_trampoline::<H>),
            maxactive,
            data_size: core::mem::size_of::<H::Data>(),
            ..Default::default()
        };
        let probe = KBox::new(KernelCell::new(rp), GFP_KERNEL)?;
        // SAFETY: `probe` is a fully initialised kretprobe at a stable heap
        // address that outlives the registration (unregistered in `drop`).
        let ret = unsafe { b::register_kretprobe(probe.get()) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: registered just above, and `probe` is boxed.
        Ok(Self { probe, symbol })
    }

    /// The symbol the probe sits on.
    pub(crate) fn symbol(&self) -> &'static CStr {
        self.symbol
    }

    /// Calls that were not followed because all instances were in use, or
    /// because the probe hit while another probe handler ran.
    pub(crate) fn missed(&self) -> u64 {
        // SAFETY: reading `int`s the kernel updates; a racy read is fine
        // for a statistic.
        let (a, b) = unsafe {
            let p = self.probe.get();
            (
                core::ptr::read_volatile(&(*p).nmissed),
                core::ptr::read_volatile(&(*p).kp.nmissed),
            )
        };
        (a.max(0) as u64).saturating_add(b as u64)
    }
}

impl Drop for Kretprobe {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the probe is registered. After this
        // returns no handler runs any more: calls in flight return through
        // the kernel's trampoline, which skips unregistered handlers, and
        // their instances (with the data of `KretprobeHandler::entry`) stay
        // valid until then.
        unsafe { b::unregister_kretprobe(self.probe.get()) };
    }
}

/// `kretprobe::entry_handler`.
///
/// # Safety
///
/// Called by the kprobe core with a valid instance and registers.
unsafe extern "C" fn entry_trampoline<H: KretprobeHandler>(
    ri: *mut b::kretprobe_instance,
    regs: *mut b::pt_regs,
) -> i32 {
    // SAFETY: the instance carries `data_size` bytes after its header, as
    // registered; the kernel allocates instances with kmalloc-style
    // alignment, checked here before the storage is used as `H::Data`.
    let slot = unsafe { (*ri).data.as_mut_ptr() }.cast::<H::Data>();
    if slot as usize % core::mem::align_of::<H::Data>() != 0 {
        return 1;
    }
    // SAFETY: the kprobe core passes the valid, writable registers of the
    // probed call; changes to them are restored into the CPU on return.
    match H::entry(unsafe { &mut *regs }, slot) {
        Some(data) => {
            // SAFETY: `slot` is this instance's aligned storage for `H::Data`.
            unsafe { slot.write(data) };
            0
        }
        None => 1,
    }
}

/// `kretprobe::handler`.
///
/// # Safety
///
/// Called by the kprobe core for an instance armed by [`entry_trampoline`].
unsafe extern "C" fn return_trampoline<H: KretprobeHandler>(
    ri: *mut b::kretprobe_instance,
    regs: *mut b::pt_regs,
) -> i32 {
    // SAFETY: the entry handler wrote this instance's data (it returned 0)
    // and checked its alignment; the registers are valid for this call.
    unsafe { H::ret(&*regs, &*(*ri).data.as_ptr().cast::<H::Data>()) };
    0
}

/// A probe attached to one of the kernel's tracepoints, found by name with
/// `for_each_kernel_tracepoint()` (core tracepoints need not be exported).
///
/// # Invariants
///
/// `probe` is registered on `tp` with a NULL data pointer for the lifetime
/// of the value.
pub(crate) struct TracepointProbe {
    tp: *mut b::tracepoint,
    probe: *mut kernel::ffi::c_void,
}

// SAFETY: the handle only names a kernel object and a function; the kernel
// serialises registration changes itself.
unsafe impl Send for TracepointProbe {}
// SAFETY: as above; `&self` offers nothing.
unsafe impl Sync for TracepointProbe {}

/// The search of [`TracepointProbe::register`].
struct TracepointSearch {
    name: &'static CStr,
    found: *mut b::tracepoint,
}

/// `for_each_kernel_tracepoint()` callback.
///
/// # Safety
///
/// `priv_` is the `TracepointSearch` passed by [`TracepointProbe::register`].
unsafe extern "C" fn tracepoint_match(tp: *mut b::tracepoint, priv_: *mut kernel::ffi::c_void) {
    // SAFETY: see the function's safety section; the walk is synchronous.
    let search = unsafe { &mut *priv_.cast::<TracepointSearch>() };
    if !search.found.is_null() {
        return;
    }
    // SAFETY: `tp` is a valid kernel tracepoint; its name is a static string.
    let name = unsafe { b::nfw_tracepoint_name(tp) };
    if name.is_null() {
        return;
    }
    // SAFETY: as above, NUL terminated.
    if unsafe { cstr_from_ptr(name.cast()) } == search.name {
        search.found = tp;
    }
}

impl TracepointProbe {
    /// Attaches `probe` to the kernel tracepoint `name`.
    ///
    /// # Safety
    ///
    /// `probe` must be an `extern "C"` function whose parameters are a
    /// `*mut c_void` (the NULL data pointer) followed by the tracepoint's
    /// `TP_PROTO` arguments on this kernel, safe to call in any context the
    /// tracepoint fires in.
    pub(crate) unsafe fn register(
        name: &'static CStr,
        probe: *mut kernel::ffi::c_void,
    ) -> Result<Self> {
        let mut search = TracepointSearch {
            name,
            found: core::ptr::null_mut(),
        };
        // SAFETY: the callback only reads the tracepoints and writes
        // `search`, which lives across this synchronous walk.
        unsafe {
            b::for_each_kernel_tracepoint(
                Some(tracepoint_match),
                core::ptr::from_mut(&mut search).cast(),
            )
        };
        if search.found.is_null() {
            pr_err!(
                "hook point: tracepoint {} not found on this kernel\n",
                name_str(name)
            );
            return Err(ENOENT);
        }
        // SAFETY: `found` is a kernel tracepoint and `probe` has its
        // prototype (the caller's obligation).
        let ret =
            unsafe { b::tracepoint_probe_register(search.found, probe, core::ptr::null_mut()) };
        if ret < 0 {
            pr_err!(
                "cannot attach to tracepoint {}: error {}\n",
                name_str(name),
                ret
            );
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: registered just above.
        Ok(Self {
            tp: search.found,
            probe,
        })
    }
}

impl Drop for TracepointProbe {
    fn drop(&mut self) {
        // SAFETY: registered by the type invariant. The wait makes sure no
        // CPU still runs the probe when this returns.
        unsafe {
            b::tracepoint_probe_unregister(self.tp, self.probe, core::ptr::null_mut());
            b::nfw_tracepoint_sync();
        }
    }
}

/// The callbacks of a [`Shrinker`]. They run in the reclaiming task's own
/// context, where sleeping is allowed.
pub(crate) trait ShrinkerCallbacks {
    /// Objects the shrinker could free now (0: do not call `scan`).
    fn count() -> u64;
    /// Frees objects; returns how many, or [`SHRINK_STOP`].
    fn scan() -> u64;
}

/// "Stop scanning this shrinker in this round" (`SHRINK_STOP`).
pub(crate) const SHRINK_STOP: u64 = b::NFW_SHRINK_STOP as u64;

/// A registered shrinker.
///
/// # Invariants
///
/// `s` was returned by `shrinker_alloc()` and registered; it is freed (which
/// waits for callbacks in progress) when the value is dropped.
pub(crate) struct Shrinker {
    s: *mut b::shrinker,
}

// SAFETY: the kernel's shrinker object may be unregistered from any thread.
unsafe impl Send for Shrinker {}
// SAFETY: `&self` offers nothing.
unsafe impl Sync for Shrinker {}

/// `shrinker::count_objects`.
///
/// # Safety
///
/// Called by the shrinker core.
unsafe extern "C" fn shrinker_count<C: ShrinkerCallbacks>(
    _s: *mut b::shrinker,
    _sc: *mut b::shrink_control,
) -> kernel::ffi::c_ulong {
    C::count() as kernel::ffi::c_ulong
}

/// `shrinker::scan_objects`.
///
/// # Safety
///
/// Called by the shrinker core.
unsafe extern "C" fn shrinker_scan<C: ShrinkerCallbacks>(
    _s: *mut b::shrinker,
    _sc: *mut b::shrink_control,
) -> kernel::ffi::c_ulong {
    C::scan() as kernel::ffi::c_ulong
}

impl Shrinker {
    /// Registers a shrinker named `name` (`seeks = 0`: its count is taken
    /// as it is, not scaled by reclaim priority).
    pub(crate) fn register<C: ShrinkerCallbacks>(name: &'static CStr) -> Result<Self> {
        // SAFETY: a "%s" format with a NUL terminated argument.
        let s = unsafe { b::shrinker_alloc(0, cstr_ptr(c"%s"), cstr_ptr(name)) };
        if s.is_null() {
            pr_err!("cannot allocate shrinker {}\n", name_str(name));
            return Err(ENOMEM);
        }
        // SAFETY: `s` is a freshly allocated, not yet registered shrinker
        // that only we reference.
        unsafe {
            (*s).count_objects = Some(shrinker_count::<C>);
            (*s).scan_objects = Some(shrinker_scan::<C>);
            (*s).seeks = 0;
            (*s).batch = 0;
            b::shrinker_register(s);
        }
        // INVARIANT: allocated and registered above.
        Ok(Self { s })
    }
}

impl Drop for Shrinker {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; `shrinker_free()` unregisters, waits
        // until no callback runs and frees the object after a grace period.
        unsafe { b::shrinker_free(self.s) };
    }
}

/// Sleeps like `memalloc_retry_wait()` (accounted as I/O wait), but
/// killable and on the module's wait queue: a fatal signal or
/// [`backoff_wake_all`] ends the sleep early.
/// `stop` is checked once the task is on the queue, so a [`backoff_wake_all`]
/// after setting it cannot be missed.
pub(crate) fn backoff_sleep(ms: u32, stop: &'static core::sync::atomic::AtomicBool) {
    // SAFETY: only called from a sleepable context (a shrinker's scan, in
    // the reclaiming task) holding none of our locks; `stop` is a static
    // `AtomicBool`, which has the layout of a C `bool`.
    unsafe { b::nfw_backoff_sleep(ms_to_jiffies(ms) as kernel::ffi::c_long, stop.as_ptr()) };
}

/// Ends every [`backoff_sleep`] in progress.
pub(crate) fn backoff_wake_all() {
    // SAFETY: wakes the module's wait queue; any context.
    unsafe { b::nfw_backoff_wake_all() };
}

/// Whether the current task has a fatal signal pending or is an OOM victim:
/// the kernel's own reclaim throttling exempts such tasks, and so does
/// back-off (they must exit, and release their locks, quickly).
pub(crate) fn current_dying() -> bool {
    // SAFETY: reads the running task's own signal state.
    unsafe { b::nfw_current_dying() }
}

/// From a kprobe handler: whether the probed code runs in task context (not
/// in an interrupt, softirq or NMI, where `current` is whoever was
/// interrupted).
pub(crate) fn probed_in_task() -> bool {
    // SAFETY: reads the CPU's preemption count.
    unsafe { b::nfw_probed_in_task() }
}

/// Whether the current task runs reclaim itself (`PF_MEMALLOC`): an
/// allocation entering the slow path then is nested in an outer one.
pub(crate) fn current_in_reclaim() -> bool {
    // SAFETY: reads the running task's own flags.
    unsafe { b::nfw_current_in_reclaim() }
}

/// Prints the stack of task `pid` if it is still the task at `addr`.
pub(crate) fn show_task_stack(pid: i32, addr: usize) {
    // SAFETY: `find_get_pid` takes a reference on the pid (or returns NULL).
    let p = unsafe { b::find_get_pid(pid) };
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is a referenced pid; `get_pid_task` returns a referenced task or NULL.
    let t = unsafe { b::get_pid_task(p, b::NFW_PIDTYPE_PID as b::pid_type) };
    // SAFETY: drop the pid reference taken above.
    unsafe { b::put_pid(p) };
    if t.is_null() {
        return;
    }
    if t as usize == addr {
        // SAFETY: `t` is referenced, so it stays valid while we print it.
        unsafe { b::sched_show_task(t) };
    }
    // SAFETY: drop the task reference taken by `get_pid_task`.
    unsafe { b::nfw_put_task_struct(t) };
}

/// A kernel thread running `F::run` until stopped.
///
/// # Invariants
///
/// `task` is a referenced, started kthread that has not been stopped yet.
pub(crate) struct Kthread {
    task: *mut kb::task_struct,
}

// SAFETY: a kthread handle may be used (woken, stopped) from any thread.
unsafe impl Send for Kthread {}
// SAFETY: `wake` takes `&self` and `wake_up_process` is thread-safe.
unsafe impl Sync for Kthread {}

/// The body of a [`Kthread`].
pub(crate) trait ThreadBody {
    /// Runs until [`should_stop`] says so.
    fn run();
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: only called from the module's own kthread.
    unsafe { kb::kthread_should_stop() }
}

/// Sleeps interruptibly for up to `jiffies` (woken early by [`Kthread::wake`] or a stop).
pub(crate) fn sleep_interruptible(jiffies: i64) {
    // SAFETY: process context, no locks held.
    unsafe { kb::schedule_timeout_interruptible(jiffies as kernel::ffi::c_long) };
}

/// The thread function of [`Kthread`].
///
/// # Safety
///
/// Called by the kthread core in the new thread.
unsafe extern "C" fn kthread_trampoline<T: ThreadBody>(
    _data: *mut kernel::ffi::c_void,
) -> kernel::ffi::c_int {
    T::run();
    0
}

impl Kthread {
    /// Creates and starts a kthread named `name`.
    pub(crate) fn spawn<T: ThreadBody>(name: &'static CStr) -> Result<Self> {
        // SAFETY: the format is a plain "%s" with a NUL terminated argument;
        // the function runs until `kthread_should_stop()`.
        let task = unsafe {
            kb::kthread_create_on_node(
                Some(kthread_trampoline::<T>),
                core::ptr::null_mut(),
                kb::NUMA_NO_NODE,
                cstr_ptr(c"%s"),
                cstr_ptr(name),
            )
        };
        // SAFETY: `IS_ERR`/`PTR_ERR` only look at the pointer value.
        if unsafe { kb::IS_ERR(task as *const _) } {
            // SAFETY: as above.
            return Err(Error::from_errno(
                unsafe { kb::PTR_ERR(task as *const _) } as i32
            ));
        }
        // SAFETY: hold a reference so `kthread_stop` is safe even if the
        // thread function returned early.
        unsafe { b::nfw_get_task_struct(task.cast()) };
        // SAFETY: `task` is a newly created, valid kthread.
        unsafe { kb::wake_up_process(task) };
        // INVARIANT: created, referenced and started above.
        Ok(Self { task })
    }

    /// Runs the thread as SCHED_FIFO priority 1 (`sched_set_fifo_low()`).
    ///
    /// The tasks it watches may be burning every CPU in the allocator; a
    /// normal-priority watchdog that just printed a few stacks then waits
    /// behind them for hundreds of milliseconds (measured under TCG).
    pub(crate) fn set_fifo_low(&self) {
        // SAFETY: by the type invariant `task` is a valid, referenced task.
        unsafe { kb::sched_set_fifo_low(self.task) };
    }

    /// The task, to be woken with `wake_up_process()` while `self` lives.
    pub(crate) fn task(&self) -> *mut kb::task_struct {
        self.task
    }
}

impl Drop for Kthread {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `task` is a referenced kthread that
        // was not stopped; `kthread_stop` waits for it to exit.
        unsafe {
            kb::kthread_stop(self.task);
            b::nfw_put_task_struct(self.task.cast());
        }
    }
}

/// Panics the kernel with `msg` (NUL terminated), for `panic_on_stall`.
pub(crate) fn panic(msg: &[u8]) -> ! {
    let msg = match msg.iter().position(|&c| c == 0) {
        Some(_) => msg.as_ptr(),
        None => cstr_ptr(c"nofail_watchdog: stall"),
    };
    // SAFETY: a "%s" format with a NUL terminated string.
    unsafe { b::panic(cstr_ptr(c"%s"), msg) }
}
