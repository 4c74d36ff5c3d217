// SPDX-License-Identifier: GPL-2.0

//! The OOM killer's control block, `struct oom_control`, as the
//! `out_of_memory()` probe sees it.

use super::bindings as b;

/// A copy of an `out_of_memory()` call's control block.
#[derive(Clone, Copy)]
pub(crate) struct OomControl(b::oom_control);

impl OomControl {
    /// Copies the control block at `oc`, if not null.
    ///
    /// # Safety
    ///
    /// `oc` is null or points to a live `struct oom_control`.
    pub(super) unsafe fn read(oc: *const b::oom_control) -> Option<Self> {
        // SAFETY: by the function's contract; it is plain data, copied as it is.
        (!oc.is_null()).then(|| Self(unsafe { *oc }))
    }

    /// Whether the OOM is a memory cgroup's (the kernel handles it itself).
    pub(crate) fn is_memcg(&self) -> bool {
        !self.0.memcg.is_null()
    }

    /// The allocation's order (-1 for a sysrq-triggered OOM).
    pub(crate) fn order(&self) -> i32 {
        self.0.order
    }

    /// The allocation's mask.
    pub(crate) fn gfp_mask(&self) -> u32 {
        self.0.gfp_mask
    }

    /// Adds `flags` to the mask the OOM killer sees.
    pub(crate) fn add_gfp(&mut self, flags: u32) {
        self.0.gfp_mask |= flags;
    }

    /// Clears the victim, for the kernel to choose one.
    pub(crate) fn clear_chosen(&mut self) {
        self.0.chosen = core::ptr::null_mut();
    }

    /// The victim the kernel chose (its `task_struct` address; 0: none, -1
    /// as an address: it is waiting for an earlier victim). An identity only.
    pub(crate) fn chosen(&self) -> usize {
        self.0.chosen as usize
    }
}
