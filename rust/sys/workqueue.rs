// SPDX-License-Identifier: GPL-2.0

//! A work item on the kernel's system workqueue.

use super::bindings as b;
use super::KernelCell;
use kernel::prelude::*;

/// What a [`Work`] runs, in a kworker (process context, may sleep and
/// allocate).
pub(crate) trait WorkItem: Send + Sync + 'static {
    /// Runs the work once.
    fn run(&self);
}

/// A heap-allocated work item carrying its data.
///
/// # Invariants
///
/// `work` was initialised with `INIT_WORK()` for [`work_trampoline`] at this
/// address, which never changes (the value only lives in a `KBox`); it is
/// not queued or running once the value is dropped.
#[repr(C)]
pub(crate) struct Work<T: WorkItem> {
    work: KernelCell<b::work_struct>,
    data: T,
}

impl<T: WorkItem> Work<T> {
    /// Allocates and initialises a work item that runs `data.run()`.
    pub(crate) fn new(data: T) -> Result<KBox<Self>> {
        let w = KBox::new(
            Self {
                // SAFETY: all-zero is a valid, not yet initialised
                // work_struct; it is initialised just below.
                work: KernelCell::new(unsafe { core::mem::zeroed() }),
                data,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `w.work` is at its final heap address and not yet in use.
        unsafe { b::nfw_init_work(w.work.get(), Some(work_trampoline::<T>)) };
        // INVARIANT: initialised above, at the address the box keeps.
        Ok(w)
    }

    /// Queues the work on the system workqueue (no-op if already queued).
    /// Any context.
    pub(crate) fn schedule(&self) {
        // SAFETY: initialised (type invariant); `drop` cancels it before
        // the memory goes away.
        unsafe { b::nfw_schedule_work(self.work.get()) };
    }
}

impl<T: WorkItem> Drop for Work<T> {
    fn drop(&mut self) {
        // SAFETY: initialised (type invariant); waits for a running
        // instance and removes a queued one. Nothing can queue it again:
        // `&mut self` means no one else holds it.
        unsafe { b::cancel_work_sync(self.work.get()) };
    }
}

/// `work_struct::func` of a [`Work<T>`].
///
/// # Safety
///
/// Called by the workqueue with the `work` field of a live `Work<T>`.
unsafe extern "C" fn work_trampoline<T: WorkItem>(w: *mut b::work_struct) {
    // SAFETY: `Work<T>` is `repr(C)` with `work` (a transparent cell of the
    // `work_struct`) first, so `w` is the address of the `Work<T>`, which
    // lives until its `drop` has waited for this call to return.
    let this = unsafe { &*w.cast::<Work<T>>() };
    this.data.run();
}
