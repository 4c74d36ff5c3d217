// SPDX-License-Identifier: GPL-2.0

//! Harness self-test: leaks kmalloc'ed objects at load.
//!
//! On the debug kernel, the kmemleak scan that `qemu/init` runs after the
//! command must find it (the report's backtrace names this module) and
//! `qemu/run` must exit 125.

use kernel::prelude::*;

module! {
    type: TestLeak,
    name: "nfw_test_leak",
    description: "nofail-watchdog test: leaks objects at load, for kmemleak",
    license: "GPL",
}

/// Objects leaked at load.
const LEAKS: usize = 32;

/// The module: nothing to hold (the leaked objects are forgotten on purpose).
struct TestLeak;

impl kernel::Module for TestLeak {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Forget the only pointers: nothing refers to the objects any more.
        // (Many of them: kmemleak is conservative, and a stale copy of a
        // pointer on some stack can hide one object from a scan.)
        for _ in 0..LEAKS {
            let b = KBox::new([0x5au8; 512], GFP_KERNEL)?;
            let _ = KBox::into_raw(b);
        }
        pr_info!("leaked {} 512-byte objects\n", LEAKS);
        Ok(TestLeak)
    }
}
