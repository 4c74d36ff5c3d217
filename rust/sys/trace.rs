// SPDX-License-Identifier: GPL-2.0

//! The module's own trace events, `nofail_watchdog:*` in tracefs, perf and
//! BPF. They are defined in C (`rust/nfw_trace.h`, `rust/trace.c`: the
//! 6.12 kernel crate has no tracepoint support) and reached through tiny
//! helpers: `nfw_trace_on()`, the event's own static branch, and
//! `nfw_trace()` (the stall events) or `nfw_trace_uevent()`, which record it.
//!
//! Each function here takes a closure that gathers the event's fields, run
//! only when the event is enabled: an event that is off (the default) costs
//! one call that returns at a patched-out branch, and nothing is read.
//! They are safe in every context the module runs in, kprobe handlers and
//! tracepoint probes included (trace events are written lock-free and
//! never sleep).

use super::bindings as b;
use super::Comm;
use crate::logic::gfp::Kind;

/// The fields every event has: one stall as it stands.
pub(crate) struct Stall {
    /// The stuck task (not necessarily the task that emits the event).
    pub(crate) pid: i32,
    /// Its command name.
    pub(crate) comm: Comm,
    /// The allocation's mask.
    pub(crate) gfp: u32,
    /// The allocation's order.
    pub(crate) order: u32,
    /// Why it cannot fail.
    pub(crate) kind: Kind,
    /// Since the stall began.
    pub(crate) duration_ms: u64,
    /// Direct-reclaim rounds so far.
    pub(crate) retries: u32,
    /// Back-off sleeps so far.
    pub(crate) sleeps: u32,
}

fn emit(event: u32, fields: impl FnOnce() -> (Stall, u32)) {
    // SAFETY: reads the event's static key; any context.
    if !unsafe { b::nfw_trace_on(event) } {
        return;
    }
    let (s, arg) = fields();
    let kind = match s.kind {
        Kind::NoFail => b::NFW_TRACE_KIND_NOFAIL,
        Kind::Implicit => b::NFW_TRACE_KIND_IMPLICIT,
        Kind::Other => b::NFW_TRACE_KIND_OTHER,
    };
    let raw = b::nfw_trace_stall {
        pid: s.pid,
        comm: s.comm.0,
        gfp: s.gfp,
        order: s.order,
        kind,
        retries: s.retries,
        sleeps: s.sleeps,
        duration_ms: s.duration_ms,
    };
    // SAFETY: `raw` is a valid, initialised struct that outlives the call;
    // the event copies it into the trace buffer. Any context.
    unsafe { b::nfw_trace(event, &raw, arg) };
}

/// `stall_begin`: the module starts following a stall (`adopted`: one
/// found already looping).
pub(crate) fn stall_begin(fields: impl FnOnce() -> (Stall, bool)) {
    emit(b::NFW_TRACE_STALL_BEGIN, || {
        let (s, adopted) = fields();
        (s, u32::from(adopted))
    });
}

/// `stall_report`: the watchdog printed a report of the stall.
pub(crate) fn stall_report(fields: impl FnOnce() -> Stall) {
    emit(b::NFW_TRACE_STALL_REPORT, || (fields(), 0));
}

/// `backoff_sleep`: the stuck task is about to sleep this many ms.
pub(crate) fn backoff_sleep(fields: impl FnOnce() -> (Stall, u32)) {
    emit(b::NFW_TRACE_BACKOFF_SLEEP, fields);
}

/// `oom_trigger`: the stall's `out_of_memory()` call is handed `__GFP_FS`.
pub(crate) fn oom_trigger(fields: impl FnOnce() -> Stall) {
    emit(b::NFW_TRACE_OOM_TRIGGER, || (fields(), 0));
}

/// `stall_end`: the stall is over.
pub(crate) fn stall_end(fields: impl FnOnce() -> Stall) {
    emit(b::NFW_TRACE_STALL_END, || (fields(), 0));
}

/// `uevent`: the uevent work is about to send the uevent announcing event
/// `seq` (its kind `event`, as `EventKind`'s number) about task `pid`.
pub(crate) fn uevent(seq: u64, event: u32, pid: i32) {
    // SAFETY: reads the event's static key; any context.
    if unsafe { b::nfw_trace_on(b::NFW_TRACE_UEVENT) } {
        // SAFETY: plain values; records the event. Any context.
        unsafe { b::nfw_trace_uevent(seq, event, pid) };
    }
}
