// SPDX-License-Identifier: GPL-2.0

//! The one layer that reaches the kernel: small safe types over the raw
//! interfaces the module needs and the `kernel` crate does not abstract,
//! one file per kernel facility. Every `unsafe` of the module is in here;
//! the rest of `rust/` denies `unsafe_code` (`nfw_main.rs`) and a host test
//! (`tests/host/tests/layering.rs`) fails on any `unsafe` outside it.
//!
//! Only interfaces the kernel exports to modules are used: no symbol
//! lookup, no call through a pointer into the kernel, no private variable.
//! What differs between supported kernels is in `compat`.

pub(crate) mod bindings;
pub(crate) mod compat;
mod ffi;
pub(crate) mod kprobe;
pub(crate) mod kthread;
pub(crate) mod oom;
pub(crate) mod params;
pub(crate) mod rcu;
pub(crate) mod shrinker;
pub(crate) mod sysfs;
pub(crate) mod task;
mod time;
pub(crate) mod trace;
pub(crate) mod tracepoint;
pub(crate) mod uevent;
pub(crate) mod workqueue;

pub(crate) use ffi::{cstr_from_ptr, cstr_ptr, name_str, KernelCell};
pub(crate) use kprobe::{Kretprobe, KretprobeHandler, Regs};
pub(crate) use kthread::{should_stop, sleep_interruptible, Kthread, ThreadBody};
pub(crate) use rcu::Published;
pub(crate) use shrinker::{
    backoff_sleep, backoff_wake_all, Shrinker, ShrinkerCallbacks, SHRINK_STOP,
};
pub(crate) use sysfs::{FileNode, SysfsDir, SysfsFiles};
pub(crate) use task::{
    current_addr, current_dying, current_in_reclaim, current_task, panic, probed_in_task,
    show_task_stack, Comm, CurrentTask,
};
pub(crate) use time::{ms_to_jiffies, now_ns};
pub(crate) use tracepoint::TracepointProbe;

// The logic's GFP layout and comm length must be the running kernel's.
const _: () = {
    use crate::logic::gfp;
    use bindings as b;
    assert!(gfp::FS == b::NFW_GFP_FS);
    assert!(gfp::IO == b::NFW_GFP_IO);
    assert!(gfp::DIRECT_RECLAIM == b::NFW_GFP_DIRECT_RECLAIM);
    assert!(gfp::NOFAIL == b::NFW_GFP_NOFAIL);
    assert!(gfp::NORETRY == b::NFW_GFP_NORETRY);
    assert!(gfp::RETRY_MAYFAIL == b::NFW_GFP_RETRY_MAYFAIL);
    assert!(gfp::COMP == b::NFW_GFP_COMP);
    assert!(gfp::ZERO == b::NFW_GFP_ZERO);
    assert!(gfp::ZEROTAGS == b::NFW_GFP_ZEROTAGS);
    assert!(gfp::GFP_KERNEL == b::NFW_GFP_KERNEL);
    assert!(b::NFW_TASK_COMM_LEN as usize == crate::logic::comm::COMM_LEN);
};
