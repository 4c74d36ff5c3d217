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
