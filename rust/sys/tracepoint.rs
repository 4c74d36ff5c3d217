// SPDX-License-Identifier: GPL-2.0

//! Probes on the kernel's tracepoints, found by name.

use super::bindings as b;
use super::{cstr_from_ptr, name_str};
use core::ffi::CStr;
use kernel::prelude::*;

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

    /// Unregisters every probe of `probes`, then waits once until no CPU
    /// runs any of them (instead of once each, as dropping them would).
    pub(crate) fn unregister_all<const N: usize>(probes: [Option<Self>; N]) {
        let probes = probes.map(|p| p.map(core::mem::ManuallyDrop::new));
        let mut any = false;
        for p in probes.iter().flatten() {
            // SAFETY: registered by the type invariant, unregistered once:
            // the `TracepointProbe` is never dropped. The wait below makes
            // sure no CPU still runs the probe when this returns.
            unsafe { b::tracepoint_probe_unregister(p.tp, p.probe, core::ptr::null_mut()) };
            any = true;
        }
        if any {
            // SAFETY: no precondition; process context (module unload).
            unsafe { b::nfw_tracepoint_sync() };
        }
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
