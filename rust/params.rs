// SPDX-License-Identifier: GPL-2.0

//! Module parameters: every knob can be given at `insmod` time
//! (`insmod nofail_watchdog.ko stall_warn_ms=1000 scope=all`), validated by
//! the same parser as the sysfs files; a bad value makes `insmod` fail with
//! `-EINVAL`. `modinfo` lists each one with its description and default.
//!
//! The 6.12 `module!` macro has no parameters (7.3 has, with other keys), so the `__param` and
//! `.modinfo` entries are laid out here as `module_param_cb()` and
//! `MODULE_PARM_DESC()` would (permissions 0: the run-time interface is
//! `/sys/kernel/nofail_watchdog/`, not `parameters/`).

use crate::bindings as b;
use crate::config;
use crate::logic::fmtbuf::FmtBuf;
use crate::logic::knobs::{self, Knob};
use kernel::ffi::{c_char, c_int, c_void};

/// A `struct kernel_param` in the `__param` section.
#[repr(transparent)]
struct Param(b::kernel_param);

// SAFETY: the kernel only reads the entries (and only during load).
unsafe impl Sync for Param {}

#[repr(transparent)]
struct Ops(b::kernel_param_ops);

// SAFETY: read-only function table.
unsafe impl Sync for Ops {}

static OPS: Ops = Ops(b::kernel_param_ops {
    flags: 0,
    set: Some(param_set),
    get: Some(param_get),
    free: None,
});

/// The knob a parameter stands for (stored in its `arg`).
fn knob_of(kp: *const b::kernel_param) -> Option<Knob> {
    // SAFETY: `kp` is one of our `__param` entries, whose `arg` holds the
    // knob index (set below in `param!`).
    let i = unsafe { (*kp).__bindgen_anon_1.arg } as usize;
    knobs::ALL.get(i).copied()
}

/// `kernel_param_ops::set` of every knob parameter.
///
/// # Safety
///
/// Called by the module loader with one of our `__param` entries.
unsafe extern "C" fn param_set(val: *const c_char, kp: *const b::kernel_param) -> c_int {
    let Some(k) = knob_of(kp) else {
        return -(kernel::bindings::EINVAL as c_int);
    };
    if val.is_null() {
        return -(kernel::bindings::EINVAL as c_int);
    }
    // SAFETY: the kernel passes a NUL terminated value string.
    let input = unsafe { crate::sys::cstr_from_ptr(val.cast()) }.to_bytes();
    match config::set(k, input) {
        Ok(_) => 0,
        Err(_) => {
            kernel::pr_err!("invalid value for parameter {}\n", k.name());
            -(kernel::bindings::EINVAL as c_int)
        }
    }
}

/// `kernel_param_ops::get` of every knob parameter.
///
/// # Safety
///
/// Called by the kernel with one of our `__param` entries and a PAGE_SIZE buffer.
unsafe extern "C" fn param_get(buffer: *mut c_char, kp: *const b::kernel_param) -> c_int {
    let Some(k) = knob_of(kp) else {
        return -(kernel::bindings::EINVAL as c_int);
    };
    // SAFETY: the kernel passes a PAGE_SIZE buffer.
    let page = unsafe { core::slice::from_raw_parts_mut(buffer, kernel::bindings::PAGE_SIZE) };
    let mut w = FmtBuf::new(page);
    let _ = config::format(k, &mut w);
    let _ = core::fmt::Write::write_char(&mut w, '\n');
    w.len() as c_int
}

/// Concatenates `parts` into a NUL-terminated byte array at compile time.
const fn concat<const LEN: usize>(parts: &[&str]) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let s = parts[p].as_bytes();
        let mut i = 0;
        while i < s.len() {
            out[n] = s[i];
            n += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(n + 1 == LEN);
    out
}

const fn total_len(parts: &[&str]) -> usize {
    let mut n = 1;
    let mut p = 0;
    while p < parts.len() {
        n += parts[p].len();
        p += 1;
    }
    n
}

macro_rules! param {
    ($knob:ident) => {
        const _: () = {
            const K: Knob = Knob::$knob;
            const D: &knobs::KnobDesc = K.desc();
            const DESC: &[&str] = &["parm=", D.name, ":", D.help];
            const TYPE: &[&str] = &["parmtype=", D.name, ":", config::param_type(K)];
            // `used(compiler)`, as the kernel's `module!` marks its own
            // `.modinfo` strings: a plain `#[used]` also sets
            // SHF_GNU_RETAIN, and GNU ld (GCC-built kernels) then keeps a
            // second `.modinfo` section, of which modpost reads only one.
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; total_len(DESC)] = concat(DESC);
            // `used(compiler)`, as the kernel's `module!` marks its own
            // `.modinfo` strings: a plain `#[used]` also sets
            // SHF_GNU_RETAIN, and GNU ld (GCC-built kernels) then keeps a
            // second `.modinfo` section, of which modpost reads only one.
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; total_len(TYPE)] = concat(TYPE);
            #[link_section = "__param"]
            #[used(compiler)]
            static P: Param = Param(b::kernel_param {
                name: crate::sys::cstr_ptr(config::CNAMES[K as usize]),
                mod_: core::ptr::null_mut(),
                ops: &OPS.0,
                perm: 0,
                level: -1,
                flags: 0,
                __bindgen_anon_1: b::kernel_param__bindgen_ty_1 {
                    arg: K as usize as *mut c_void,
                },
            });
        };
    };
}

param!(Enabled);
param!(StallWarnMs);
param!(WarnIntervalMs);
param!(MaxWarnings);
param!(Scope);
param!(PanicOnStall);
param!(BackoffAfterMs);
param!(Backoff);
param!(BackoffMinMs);
param!(BackoffMaxMs);
param!(OomAfterMs);
param!(OomIntervalMs);

/// The module's `author` modinfo, laid out as `MODULE_AUTHOR()` would: the
/// `module!` macro's key for it differs between kernels (see `sys::compat`).
const AUTHOR: &[&str] = &["author=", "nofail-watchdog developers"];
// `used(compiler)`: as the parameters' `.modinfo` strings above.
#[link_section = ".modinfo"]
#[used(compiler)]
static AUTHOR_INFO: [u8; total_len(AUTHOR)] = concat(AUTHOR);
