// SPDX-License-Identifier: GPL-2.0

//! Kretprobes on kernel functions, registered by name.

use super::bindings as b;
use super::{cstr_ptr, name_str, KernelCell};
use core::ffi::CStr;
use kernel::bindings as kb;
use kernel::prelude::*;

/// The registers of a probed call (x86_64 `struct pt_regs`).
pub(crate) type Regs = b::pt_regs;

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

    /// Unregisters every probe of `probes` in one `unregister_kretprobes()`
    /// call, which waits for the kernel's grace period once for all of them
    /// instead of once each; the same guarantee as dropping each.
    pub(crate) fn unregister_all<const N: usize>(probes: [Option<Self>; N]) {
        let probes = probes.map(|p| p.map(core::mem::ManuallyDrop::new));
        let mut rps = [core::ptr::null_mut::<b::kretprobe>(); N];
        let mut n = 0;
        for p in probes.iter().flatten() {
            rps[n] = p.probe.get();
            n += 1;
        }
        if n == 0 {
            return;
        }
        // SAFETY: `rps[..n]` are registered kretprobes (type invariant), each
        // passed once; they are unregistered here and never again (their
        // `Kretprobe`s are not dropped, only their boxes freed below).
        unsafe { b::unregister_kretprobes(rps.as_mut_ptr(), n as i32) };
        for p in probes.into_iter().flatten() {
            // SAFETY: `p` is never used or dropped again, so its box is
            // read out (and freed) exactly once; the kernel no longer uses
            // the probe after `unregister_kretprobes()` returned.
            drop(unsafe { core::ptr::read(&p.probe) });
        }
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
