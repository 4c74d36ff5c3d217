// SPDX-License-Identifier: GPL-2.0

//! The watchdog's kernel thread.

use super::bindings as b;
use super::cstr_ptr;
use core::ffi::CStr;
use kernel::bindings as kb;
use kernel::prelude::*;

/// A kernel thread running `T::run` until stopped.
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
    unsafe { kb::schedule_timeout_interruptible(jiffies as kernel::ffi::c_long) };
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
                cstr_ptr(c"%s"),
                cstr_ptr(name),
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

    /// Wakes the thread from [`sleep_interruptible`]. Any context.
    pub(crate) fn wake(&self) {
        // SAFETY: by the type invariant `task` is a valid, referenced task;
        // `wake_up_process` may be called from any context.
        unsafe { kb::wake_up_process(self.task) };
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
