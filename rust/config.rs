// SPDX-License-Identifier: GPL-2.0

//! The current knob values, shared lock-free by the hooks, the watchdog
//! thread, sysfs and the module parameters.

use crate::logic::gfp::Scope;
use crate::logic::knobs::{self, Knob, KnobKind, ParseError};
use crate::logic::stall::Policy;
use core::ffi::CStr;
use core::sync::atomic::{AtomicU32, Ordering};

/// Knob names as C strings (sysfs files, module parameters), NUL terminated, in `Knob` order.
pub(crate) const CNAMES: [&CStr; knobs::COUNT] = [
    c"enabled",
    c"stall_warn_ms",
    c"warn_interval_ms",
    c"max_warnings",
    c"scope",
    c"panic_on_stall",
    c"backoff_after_ms",
    c"backoff",
    c"backoff_min_ms",
    c"backoff_max_ms",
    c"oom_after_ms",
    c"oom_interval_ms",
];

// The C names must be the knob names of the logic.
const _: () = {
    let mut i = 0;
    while i < knobs::COUNT {
        let a = CNAMES[i].to_bytes();
        let b = knobs::ALL[i].desc().name.as_bytes();
        assert!(a.len() == b.len());
        let mut j = 0;
        while j < a.len() {
            assert!(a[j] == b[j]);
            j += 1;
        }
        i += 1;
    }
};

const fn defaults() -> [AtomicU32; knobs::COUNT] {
    let mut v = [const { AtomicU32::new(0) }; knobs::COUNT];
    let mut i = 0;
    while i < knobs::COUNT {
        v[i] = AtomicU32::new(knobs::ALL[i].desc().default);
        i += 1;
    }
    v
}

/// Knob values, indexed by `Knob as usize`; always valid for their knob.
static VALUES: [AtomicU32; knobs::COUNT] = defaults();

/// The value of knob `k`.
pub(crate) fn get(k: Knob) -> u32 {
    VALUES[k as usize].load(Ordering::Relaxed)
}

/// Parses `input` for knob `k` and stores it; on error nothing changes.
pub(crate) fn set(k: Knob, input: &[u8]) -> Result<u32, ParseError> {
    let v = knobs::parse(&k.desc().kind, input)?;
    VALUES[k as usize].store(v, Ordering::Relaxed);
    Ok(v)
}

/// All values at once (each read atomically; knobs are independent).
pub(crate) fn values() -> [u32; knobs::COUNT] {
    knobs::ALL.map(get)
}

/// The decision policy for the current values.
pub(crate) fn policy() -> Policy {
    Policy::from_values(&values())
}

/// Whether tracking is enabled.
pub(crate) fn enabled() -> bool {
    get(Knob::Enabled) != 0
}

/// What is tracked.
pub(crate) fn scope() -> Scope {
    Scope::from_index(get(Knob::Scope)).unwrap_or(Scope::NoFs)
}

/// Formats knob `k`'s value.
pub(crate) fn format(k: Knob, w: &mut impl core::fmt::Write) -> core::fmt::Result {
    knobs::format(&k.desc().kind, get(k), w)
}

/// The kind of module parameter to declare for `k` (`modinfo` type).
pub(crate) const fn param_type(k: Knob) -> &'static str {
    match k.desc().kind {
        KnobKind::Bool => "bool",
        KnobKind::Number { .. } => "uint",
        KnobKind::Words(_) => "charp",
    }
}
