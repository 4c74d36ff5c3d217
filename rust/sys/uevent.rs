// SPDX-License-Identifier: GPL-2.0

//! `KOBJ_CHANGE` uevents on `/sys/module/<this module>`.

use super::bindings as b;
use kernel::ffi::c_char;
use kernel::ThisModule;

/// Most `KEY=value` strings one uevent carries.
pub(crate) const MAX_ENV: usize = 11;

/// This module's kobject (`/sys/module/<name>`).
///
/// # Invariants
///
/// `kobj` is this module's own kobject, which lives until after the
/// module's exit function has returned.
pub(crate) struct ModuleKobj {
    kobj: *mut b::kobject,
}

// SAFETY: the kobject is only passed to `kobject_uevent_env()`, which may be
// called from any thread.
unsafe impl Send for ModuleKobj {}
// SAFETY: as above.
unsafe impl Sync for ModuleKobj {}

impl ModuleKobj {
    /// The kobject of `module`, this module.
    pub(crate) fn of(module: &'static ThisModule) -> Self {
        // SAFETY: `module` is this module, live while its code runs.
        let kobj = unsafe { b::nfw_module_kobj(module.as_ptr().cast()) };
        // INVARIANT: this module's kobject.
        Self { kobj }
    }

    /// Whether memory can serve a uevent without the OOM killer: an
    /// allocation of the size of `kobject_uevent_env()`'s first and largest
    /// one (its environment buffer), with `GFP_KERNEL` as it does, but with
    /// `__GFP_RETRY_MAYFAIL`: it reclaims and retries as `GFP_KERNEL` does
    /// and, where that would call `out_of_memory()`, fails instead (and
    /// quietly, `__GFP_NOWARN`). The object is freed at once: the slab
    /// keeps it on this CPU, where the uevent's own allocation, next, finds
    /// it. Process context; may sleep in reclaim.
    pub(crate) fn memory_for_uevent() -> bool {
        let flags = b::NFW_GFP_KERNEL | b::NFW_GFP_RETRY_MAYFAIL | b::NFW_GFP_NOWARN;
        // SAFETY: a plain allocation in process context (the caller's).
        let p = unsafe { b::nfw_kmalloc(b::NFW_UEVENT_ENV_SIZE, flags) };
        if p.is_null() {
            return false;
        }
        // SAFETY: `p` was returned by `kmalloc()` above and is not used again.
        unsafe { b::kfree(p) };
        true
    }

    /// Sends a `KOBJ_CHANGE` uevent with the environment in `env`:
    /// NUL-terminated `KEY=value` strings one after the other (at most
    /// [`MAX_ENV`] of them; the rest are not sent). Allocates and may
    /// sleep: process context. Returns the kernel's error, if any.
    pub(crate) fn change(&self, env: &mut [u8]) -> core::result::Result<(), i32> {
        // NUL-terminated strings in `env`, pointed to by a NULL-terminated array.
        let mut envp: [*mut c_char; MAX_ENV + 1] = [core::ptr::null_mut(); MAX_ENV + 1];
        let mut n = 0;
        let mut start = 0;
        for i in 0..env.len() {
            if env[i] == 0 {
                if n < MAX_ENV {
                    envp[n] = env[start..].as_mut_ptr().cast();
                    n += 1;
                }
                start = i + 1;
            }
        }
        // SAFETY: `kobj` is live (type invariant); `envp` is a
        // NULL-terminated array of NUL-terminated strings in `env`, which
        // outlive the call.
        let ret = unsafe {
            b::kobject_uevent_env(self.kobj, b::kobject_action_KOBJ_CHANGE, envp.as_mut_ptr())
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(ret)
        }
    }
}
