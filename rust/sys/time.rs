// SPDX-License-Identifier: GPL-2.0

//! The module's clock and the kernel's tick.

use super::bindings as b;

/// Monotonic time in nanoseconds; safe in any context, including NMI.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns` has no preconditions and is NMI-safe.
    unsafe { b::ktime_get_mono_fast_ns() }
}

/// Converts milliseconds to jiffies, rounding up, at least one jiffy.
pub(crate) fn ms_to_jiffies(ms: u32) -> i64 {
    let hz = b::NFW_HZ as u64;
    let j = (u64::from(ms) * hz).div_ceil(1000);
    j.clamp(1, i64::MAX as u64) as i64
}
