// SPDX-License-Identifier: GPL-2.0

//! Harness self-test: leaks one kmalloc'ed object at load.
//!
//! On the debug kernel, the kmemleak scan that `qemu/init` runs after the
//! command must find it (the report's backtrace names this module) and
//! `qemu/run` must exit 125.

use kernel::prelude::*;

module! {
    type: TestLeak,
    name: "nfw_test_leak",
    author: "nofail-watchdog developers",
    description: "nofail-watchdog test: leaks one object at load, for kmemleak",
    license: "GPL",
}

/// The module: nothing to hold (the leaked object is forgotten on purpose).
struct TestLeak;

impl kernel::Module for TestLeak {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let b = KBox::new([0x5au8; 512], GFP_KERNEL)?;
        // Forget the only pointer: nothing refers to the object any more.
        let _ = KBox::into_raw(b);
        pr_info!("leaked one 512-byte object\n");
        Ok(TestLeak)
    }
}
