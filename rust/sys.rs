// SPDX-License-Identifier: GPL-2.0

//! Small safe wrappers around the raw kernel interfaces the module needs and
//! the 6.12 `kernel` crate does not abstract: time, the current task, symbol
//! lookup, kretprobes, an ftrace IP-modifying hook, kthreads and sleeping.

use crate::bindings as b;
use core::cell::UnsafeCell;
use core::ffi::CStr;
use kernel::bindings as kb;
use kernel::prelude::*;

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

/// Resolves kernel symbols that are not exported to modules.
///
/// `kallsyms_lookup_name()` is not exported since 5.7; a kprobe on it reports
/// its address, as the kprobe API resolves names itself.
pub(crate) struct Kallsyms {
    lookup: unsafe extern "C" fn(*const u8) -> usize,
}

impl Kallsyms {
    /// Finds `kallsyms_lookup_name`.
    pub(crate) fn new() -> Result<Self> {
        let addr = probe_address(c"kallsyms_lookup_name")?;
        check_callable(c"kallsyms_lookup_name", addr)?;
        // SAFETY: `addr` is the entry of `kallsyms_lookup_name`, whose C
        // signature is `unsigned long (const char *)`, and it is indirectly
        // callable (checked above).
        let lookup = unsafe {
            core::mem::transmute::<usize, unsafe extern "C" fn(*const u8) -> usize>(addr)
        };
        Ok(Self { lookup })
    }

    /// The address of `name`, or `ENOENT` with a message naming it.
    pub(crate) fn lookup(&self, name: &CStr) -> Result<usize> {
        // SAFETY: `name` is NUL terminated; the lookup takes no locks that
        // we could hold and may be called from process context.
        let addr = unsafe { (self.lookup)(name.as_ptr().cast()) };
        if addr == 0 {
            pr_err!(
                "kernel symbol {} not found on this kernel\n",
                name_str(name)
            );
            return Err(ENOENT);
        }
        Ok(addr)
    }
}

/// A symbol name for messages.
pub(crate) fn name_str(name: &CStr) -> &str {
    name.to_str().unwrap_or("?")
}

/// Resolves the address of a probe-able function through a transient kprobe.
fn probe_address(name: &CStr) -> Result<usize> {
    let mut kp = b::kprobe {
        symbol_name: name.as_ptr().cast(),
        ..Default::default()
    };
    // SAFETY: `kp` is a zero-initialised kprobe with a symbol name and no
    // handlers, so it does nothing when hit; it is unregistered before it
    // goes out of scope.
    let ret = unsafe { b::register_kprobe(&mut kp) };
    if ret < 0 {
        pr_err!(
            "cannot resolve kernel symbol {}: error {}\n",
            name_str(name),
            ret
        );
        return Err(Error::from_errno(ret));
    }
    let addr = kp.addr as usize;
    // SAFETY: `kp` was registered successfully just above.
    unsafe { b::unregister_kprobe(&mut kp) };
    Ok(addr)
}

/// Fails unless a kernel function can be called through a pointer.
///
/// With Indirect Branch Tracking enforced by the CPU, the kernel seals the
/// `ENDBR` of functions whose address is never taken, and an indirect call to
/// them faults. Refuse rather than crash.
pub(crate) fn check_callable(name: &CStr, addr: usize) -> Result {
    // SAFETY: the helpers only read the CPU features and, with a fault-safe
    // accessor, four bytes at `addr`.
    let ok = unsafe { !b::nfw_ibt_enforced() || b::nfw_starts_with_endbr(addr as *const _) };
    if !ok {
        pr_err!(
            "{} cannot be called indirectly: the CPU enforces IBT and the kernel sealed it (boot with ibt=off)\n",
            name_str(name)
        );
        return Err(Error::from_errno(-(kb::EOPNOTSUPP as i32)));
    }
    Ok(())
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
pub(crate) trait KretprobeHandler {
    /// Called on function entry with the argument registers; return `Some(data)`
    /// to follow this call to its return, `None` to ignore it.
    fn entry(regs: &b::pt_regs) -> Option<u64>;
    /// Called when a followed call returns, with the `data` from [`Self::entry`].
    fn ret(data: u64);
}

/// A registered kretprobe on a kernel function.
///
/// # Invariants
///
/// `probe` is registered with the kernel for the lifetime of the value and
/// stays at the same address (it is heap allocated).
pub(crate) struct Kretprobe {
    probe: KBox<KernelCell<b::kretprobe>>,
}

impl Kretprobe {
    /// Registers a kretprobe on `symbol` with the handlers of `H`.
    ///
    /// `maxactive` bounds the calls followed at once; more are counted as missed.
    pub(crate) fn register<H: KretprobeHandler>(
        symbol: &'static CStr,
        maxactive: i32,
    ) -> Result<Self> {
        let rp = b::kretprobe {
            kp: b::kprobe {
                symbol_name: symbol.as_ptr().cast(),
                ..Default::default()
            },
            entry_handler: Some(entry_trampoline::<H>),
            handler: Some(return_trampoline::<H>),
            maxactive,
            data_size: core::mem::size_of::<u64>(),
            ..Default::default()
        };
        let probe = KBox::new(KernelCell::new(rp), GFP_KERNEL)?;
        // SAFETY: `probe` is a fully initialised kretprobe at a stable heap
        // address that outlives the registration (unregistered in `drop`).
        let ret = unsafe { b::register_kretprobe(probe.get()) };
        if ret < 0 {
            pr_err!(
                "cannot hook {} (not present, inlined or renamed on this kernel?): error {}\n",
                name_str(symbol),
                ret
            );
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: registered just above, and `probe` is boxed.
        Ok(Self { probe })
    }

    /// Calls that were not followed because all instances were in use.
    pub(crate) fn missed(&self) -> u64 {
        // SAFETY: reading an `int` the kernel updates; a racy read is fine
        // for a statistic.
        let n = unsafe { core::ptr::read_volatile(&(*self.probe.get()).nmissed) };
        n.max(0) as u64
    }
}

impl Drop for Kretprobe {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the probe is registered. After this
        // returns no handler runs any more: calls in flight return through
        // the kernel's trampoline, which skips unregistered handlers.
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
    // SAFETY: the kprobe core passes valid registers of the probed call.
    match H::entry(unsafe { &*regs }) {
        Some(data) => {
            // SAFETY: the instance has `data_size` (8) bytes of data, suitably
            // aligned by the kernel's allocator for any scalar.
            unsafe { (*ri).data.as_mut_ptr().cast::<u64>().write_unaligned(data) };
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
    _regs: *mut b::pt_regs,
) -> i32 {
    // SAFETY: the entry handler wrote the 8 data bytes of this instance.
    H::ret(unsafe { (*ri).data.as_ptr().cast::<u64>().read_unaligned() });
    0
}

/// A registered ftrace hook that may redirect calls of one function.
///
/// The callback runs at the function's entry with preemption disabled (ftrace
/// protects it against recursion); it may set the saved instruction pointer
/// to a replacement with the same signature, which then runs in the caller's
/// context instead of the function.
///
/// # Invariants
///
/// `ops` is registered with ftrace for the lifetime of the value, at a stable
/// heap address.
pub(crate) struct FtraceRedirect {
    ops: KBox<KernelCell<b::ftrace_ops>>,
}

impl FtraceRedirect {
    /// Hooks the function at `addr` (named `name` for messages).
    pub(crate) fn register<F: RedirectCallback>(name: &CStr, addr: usize) -> Result<Self> {
        let ops = b::ftrace_ops {
            func: Some(ftrace_trampoline::<F>),
            flags: b::NFW_FTRACE_OPS_FL_SAVE_REGS | b::NFW_FTRACE_OPS_FL_IPMODIFY,
            ..Default::default()
        };
        let ops = KBox::new(KernelCell::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is a valid, not yet registered ftrace_ops.
        let ret = unsafe { b::ftrace_set_filter_ip(ops.get(), addr as _, 0, 0) };
        if ret < 0 {
            pr_err!("cannot trace {}: error {}\n", name_str(name), ret);
            // Free the filter hash allocated so far, if any.
            // SAFETY: `ops` is valid and not registered.
            unsafe { b::ftrace_free_filter(ops.get()) };
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `ops` is valid, filtered to one function, at a stable address.
        let ret = unsafe { b::register_ftrace_function(ops.get()) };
        if ret < 0 {
            pr_err!(
                "cannot hook {} (another IPMODIFY user, e.g. livepatch?): error {}\n",
                name_str(name),
                ret
            );
            // SAFETY: `ops` is valid and not registered.
            unsafe { b::ftrace_free_filter(ops.get()) };
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: registered just above, and `ops` is boxed.
        Ok(Self { ops })
    }
}

impl Drop for FtraceRedirect {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ops` is registered. Unregistering
        // waits until no CPU runs the callback any more.
        unsafe {
            b::unregister_ftrace_function(self.ops.get());
            b::ftrace_free_filter(self.ops.get());
        }
    }
}

/// Decides, at the entry of a hooked function, where the call goes.
pub(crate) trait RedirectCallback {
    /// Returns the replacement's address, or `None` to run the function.
    fn redirect() -> Option<usize>;
}

/// `ftrace_ops::func`.
///
/// # Safety
///
/// Called by ftrace with the registers of the traced call.
unsafe extern "C" fn ftrace_trampoline<F: RedirectCallback>(
    _ip: kernel::ffi::c_ulong,
    _parent_ip: kernel::ffi::c_ulong,
    _op: *mut b::ftrace_ops,
    fregs: *mut b::ftrace_regs,
) {
    if let Some(target) = F::redirect() {
        // SAFETY: the ops has FTRACE_OPS_FL_SAVE_REGS, so `fregs` carries a
        // full `pt_regs` that ftrace restores, instruction pointer included.
        let regs = unsafe { b::nfw_ftrace_get_regs(fregs) };
        if !regs.is_null() {
            // SAFETY: `regs` is valid for this callback (checked non-null).
            unsafe { (*regs).ip = target as _ };
        }
    }
}

/// Sleeps like `memalloc_retry_wait()`: uninterruptible, accounted as I/O wait.
pub(crate) fn retry_wait(ms: u32) {
    // SAFETY: only called from a sleepable context (the replacement of a
    // function that itself sleeps in reclaim), holding none of our locks.
    unsafe { b::nfw_retry_wait(ms_to_jiffies(ms) as _) };
}

/// Waits for tasks that may still run in module code after a hook is gone
/// (preempted in a trampoline or in the last instructions of a replacement).
pub(crate) fn synchronize_tasks() {
    // SAFETY: called from process context (module exit) without locks held.
    unsafe { b::nfw_synchronize_rcu_tasks() };
}

/// Sleeps for `ms` milliseconds (process context).
pub(crate) fn msleep(ms: u32) {
    // SAFETY: called from sleepable process context only.
    unsafe { kb::msleep(ms) };
}

/// Prints the stack of task `pid` if it is still the task at `addr`.
pub(crate) fn show_task_stack(pid: i32, addr: usize) {
    // SAFETY: `find_get_pid` takes a reference on the pid (or returns NULL).
    let p = unsafe { b::find_get_pid(pid) };
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is a referenced pid; `get_pid_task` returns a referenced task or NULL.
    let t = unsafe { b::get_pid_task(p, b::NFW_PIDTYPE_PID as _) };
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
    unsafe { kb::schedule_timeout_interruptible(jiffies as _) };
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
                c"%s".as_ptr().cast::<kernel::ffi::c_char>(),
                name.as_ptr().cast::<kernel::ffi::c_char>(),
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
        None => c"nofail_watchdog: stall".as_ptr().cast(),
    };
    // SAFETY: a "%s" format with a NUL terminated string.
    unsafe { b::panic(c"%s".as_ptr().cast(), msg) }
}
