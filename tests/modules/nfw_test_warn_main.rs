// SPDX-License-Identifier: GPL-2.0

//! Harness self-test: triggers one real kernel `WARN()` at load, then loads fine.
//!
//! A guest test that loads this module must make `qemu/run` report a kernel
//! splat (exit status 125).

use kernel::prelude::*;

module! {
    type: TestWarn,
    name: "nfw_test_warn",
    description: "nofail-watchdog test: triggers one WARN() at load",
    license: "GPL",
}

extern "C" {
    /// `WARN(1, ...)` once (`nfw_test_warn_helper.c`).
    fn nfw_test_warn_trigger();
}

/// The module: nothing to hold.
struct TestWarn;

impl kernel::Module for TestWarn {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("triggering a deliberate WARN()\n");
        // SAFETY: a C function without arguments or preconditions; `WARN()` is
        // allowed in process context (module init).
        unsafe { nfw_test_warn_trigger() };
        Ok(TestWarn)
    }
}
