// SPDX-License-Identifier: GPL-2.0

//! Time and input parsing for the test modules (each includes this file
//! with `#[path]`).

use kernel::bindings as b;
use kernel::prelude::*;

/// Nanoseconds per millisecond.
pub(crate) const NSEC_PER_MSEC: u64 = 1_000_000;

/// Monotonic time in nanoseconds, the clock nofail-watchdog uses too.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns()` has no preconditions (it is even NMI safe).
    unsafe { b::ktime_get_mono_fast_ns() }
}

/// The words of a sysfs write: split at white space (and NUL).
pub(crate) fn words(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|c| c.is_ascii_whitespace() || *c == 0)
        .filter(|w| !w.is_empty())
}

/// Parses a decimal number of at most 10 digits in `min..=max`; anything
/// else is `EINVAL`.
pub(crate) fn number(s: &[u8], min: u32, max: u32) -> Result<u32> {
    if s.is_empty() || s.len() > 10 {
        return Err(EINVAL);
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(EINVAL);
        }
        v = v * 10 + u64::from(c - b'0');
    }
    if v < u64::from(min) || v > u64::from(max) {
        return Err(EINVAL);
    }
    Ok(v as u32)
}
