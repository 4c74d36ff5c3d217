// SPDX-License-Identifier: GPL-2.0

//! The current task, other tasks' stacks, and panic.

use super::bindings as b;
use super::cstr_ptr;
use kernel::bindings as kb;

pub(crate) use crate::logic::comm::Comm;

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

/// Panics the kernel with `msg` (NUL terminated), for `panic_on_stall`.
pub(crate) fn panic(msg: &[u8]) -> ! {
    let msg = match msg.iter().position(|&c| c == 0) {
        Some(_) => msg.as_ptr(),
        None => cstr_ptr(c"nofail_watchdog: stall"),
    };
    // SAFETY: a "%s" format with a NUL terminated string.
    unsafe { b::panic(cstr_ptr(c"%s"), msg) }
}
