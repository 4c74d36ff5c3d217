// SPDX-License-Identifier: GPL-2.0

//! Everything that differs between the kernels the module supports, in one
//! place (part of the raw layer, `sys`). Each item names the kernel
//! versions on each side. Nothing here is chosen by a version number: what
//! differs is read off the tree the module is built against (tracepoint
//! prototypes: `nfw_bindings.h`), or avoided by a form every supported
//! kernel accepts. Elsewhere only `helpers.c` has a part in it: it sets the
//! sysfs members 7.3 moved into anonymous unions (`kobj_attribute.show`,
//! `.store`, `attribute_group.attrs`), which C names the same on both.
//! `docs/kernels.md` lists every difference.

use super::bindings as b;
use super::oom::OomControl;
use super::TracepointProbe;
use kernel::ffi::{c_int, c_uint, c_ulong, c_void};
use kernel::prelude::*;

// Printing. 6.12's `pr_*!` format with `core::fmt::Display`; 7.3's wrap
// every argument in `kernel::fmt::Adapter`, which needs the kernel's own
// `kernel::fmt::Display` (implemented for primitives, `str` and
// `core::fmt::Arguments`, not for our types). The module's own types are
// therefore printed as `format_args!("{}", x)`, which both accept.
//
// `module!`. 6.12 takes `author: "..."`, 7.3 only `authors: [...]`; the
// module states neither and emits its `author` modinfo itself (params.rs).

/// The slow path under its plain name, then the names GCC gives its clones
/// (`.constprop.N` when it specialises constant arguments, `.isra.N` when it
/// changes how arguments are passed, `.part.N` for a split function). Every
/// kernel since 2.6: static in `mm/page_alloc.c`; clang 19 keeps the plain
/// name (6.12, 7.3), GCC 12-14 emits `__alloc_pages_slowpath.constprop.0`.
pub(crate) const SLOWPATH_SYMBOLS: [&core::ffi::CStr; 7] = [
    c"__alloc_pages_slowpath",
    c"__alloc_pages_slowpath.constprop.0",
    c"__alloc_pages_slowpath.constprop.1",
    c"__alloc_pages_slowpath.isra.0",
    c"__alloc_pages_slowpath.isra.1",
    c"__alloc_pages_slowpath.part.0",
    c"__alloc_pages_slowpath.constprop.0.isra.0",
];

/// `bool out_of_memory(struct oom_control *)`: a global function with the
/// same prototype in 6.12 and 7.3, called with the C calling convention.
#[cfg(not(nfw_test_absent_hook))]
pub(crate) const OUT_OF_MEMORY: &core::ffi::CStr = c"out_of_memory";
/// A test build (`NFW_TEST_ABSENT_HOOK=1`, `tests/guest/11-absent-hook.sh`)
/// names a function no kernel has: the last hook registered is missing, so
/// insmod must fail naming it and undo every earlier registration.
#[cfg(nfw_test_absent_hook)]
pub(crate) const OUT_OF_MEMORY: &core::ffi::CStr = c"nfw_absent_out_of_memory";

/// The first integer argument of a call, at a probe on the function's
/// entry (x86_64 SysV: `rdi`).
pub(crate) fn first_arg(regs: &b::pt_regs) -> usize {
    regs.di
}

/// The return value of a call, at a return probe (x86_64 SysV: `rax`). A
/// compiler clone keeps its function's return value where its callers use
/// it (`__alloc_pages_slowpath()` returns the page, NULL on failure).
pub(crate) fn return_value(regs: &b::pt_regs) -> usize {
    regs.ax
}

/// Replaces the first integer argument of a call at its entry.
pub(crate) fn set_first_arg(regs: &mut b::pt_regs, v: usize) {
    regs.di = v as c_ulong;
}

/// `mm_vmscan_direct_reclaim_begin`, fired by `try_to_free_pages()` with
/// the mask after `current_gfp_context()`.
pub(crate) const RECLAIM_BEGIN: &core::ffi::CStr = c"mm_vmscan_direct_reclaim_begin";
/// `mm_vmscan_direct_reclaim_end`: the pages a round reclaimed.
pub(crate) const RECLAIM_END: &core::ffi::CStr = c"mm_vmscan_direct_reclaim_end";

/// What runs at each direct-reclaim round: in the reclaiming task, with
/// preemption disabled (a tracepoint probe).
pub(crate) trait ReclaimRounds {
    /// A round begins for an allocation of `order` with mask `gfp`.
    fn begin(gfp: u32, order: i32);
    /// The round reclaimed `nr_reclaimed` pages.
    fn end(nr_reclaimed: u64);
}

// The tracepoint prototypes this tree declares (read off its header by
// `nfw_bindings.h`) are ones the probes below are written for.
const _: () = assert!(
    b::NFW_RECLAIM_BEGIN_PROTO == 1 || b::NFW_RECLAIM_BEGIN_PROTO == 2,
    "mm_vmscan_direct_reclaim_begin has a prototype this module does not know"
);
const _: () = assert!(
    b::NFW_RECLAIM_END_PROTO == 1 || b::NFW_RECLAIM_END_PROTO == 2,
    "mm_vmscan_direct_reclaim_end has a prototype this module does not know"
);

/// Probe of `mm_vmscan_direct_reclaim_begin` up to 6.12: `TP_PROTO(int
/// order, gfp_t gfp_flags)` (`NFW_RECLAIM_BEGIN_PROTO == 1`).
///
/// # Safety
///
/// Called by the tracepoint with its arguments.
unsafe extern "C" fn reclaim_begin_probe_order_gfp<R: ReclaimRounds>(
    _data: *mut c_void,
    order: c_int,
    gfp: c_uint,
) {
    R::begin(gfp, order);
}

/// Probe of `mm_vmscan_direct_reclaim_begin` in 7.3: `TP_PROTO(gfp_t
/// gfp_flags, int order, struct mem_cgroup *memcg)`
/// (`NFW_RECLAIM_BEGIN_PROTO == 2`).
///
/// # Safety
///
/// Called by the tracepoint with its arguments.
unsafe extern "C" fn reclaim_begin_probe_gfp_order_memcg<R: ReclaimRounds>(
    _data: *mut c_void,
    gfp: c_uint,
    order: c_int,
    _memcg: *mut c_void,
) {
    R::begin(gfp, order);
}

/// Probe of `mm_vmscan_direct_reclaim_end` up to 6.12: `TP_PROTO(unsigned
/// long nr_reclaimed)` (`NFW_RECLAIM_END_PROTO == 1`).
///
/// # Safety
///
/// Called by the tracepoint with its arguments.
unsafe extern "C" fn reclaim_end_probe_nr<R: ReclaimRounds>(
    _data: *mut c_void,
    nr_reclaimed: c_ulong,
) {
    R::end(nr_reclaimed as u64);
}

/// Probe of `mm_vmscan_direct_reclaim_end` in 7.3: `TP_PROTO(unsigned long
/// nr_reclaimed, struct mem_cgroup *memcg)` (`NFW_RECLAIM_END_PROTO == 2`).
///
/// # Safety
///
/// Called by the tracepoint with its arguments.
unsafe extern "C" fn reclaim_end_probe_nr_memcg<R: ReclaimRounds>(
    _data: *mut c_void,
    nr_reclaimed: c_ulong,
    _memcg: *mut c_void,
) {
    R::end(nr_reclaimed as u64);
}

/// Attaches `R` to the reclaim-round tracepoints: (begin, end).
pub(crate) fn attach_reclaim_rounds<R: ReclaimRounds>() -> Result<(TracepointProbe, TracepointProbe)>
{
    let begin_probe = if b::NFW_RECLAIM_BEGIN_PROTO == 1 {
        reclaim_begin_probe_order_gfp::<R> as *mut c_void
    } else {
        reclaim_begin_probe_gfp_order_memcg::<R> as *mut c_void
    };
    let end_probe = if b::NFW_RECLAIM_END_PROTO == 1 {
        reclaim_end_probe_nr::<R> as *mut c_void
    } else {
        reclaim_end_probe_nr_memcg::<R> as *mut c_void
    };
    // SAFETY: the probes have these tracepoints' prototypes on this tree
    // (read off its header, checked above) and `R` runs in any context
    // they fire in (its contract).
    let end = unsafe { TracepointProbe::register(RECLAIM_END, end_probe) }?;
    // SAFETY: as above.
    let begin = unsafe { TracepointProbe::register(RECLAIM_BEGIN, begin_probe) }?;
    Ok((begin, end))
}

/// At the entry of `out_of_memory()`: a copy of its control block, if the
/// call passed one.
pub(crate) fn oom_control_arg(regs: &b::pt_regs) -> Option<OomControl> {
    // SAFETY: at the entry of `bool out_of_memory(struct oom_control *oc)`
    // (a probe on it is the only caller), the first argument is null or the
    // caller's live control block, valid for the whole call.
    unsafe { OomControl::read(first_arg(regs) as *const b::oom_control) }
}
