// SPDX-License-Identifier: GPL-2.0

//! Module parameters, laid out as `module_param_cb()` and
//! `MODULE_PARM_DESC()` would: the 6.12 `module!` macro has no parameters
//! (7.3 has, with other keys), so the `__param` entries and `.modinfo`
//! strings are emitted here (permissions 0: the run-time interface is the
//! module's sysfs directory, not `parameters/`). What the parameters are,
//! and what setting one does, is `crate::params`'s.

use super::bindings as b;
use super::cstr_ptr;
use crate::logic::fmtbuf::FmtBuf;
use core::ffi::CStr;
use kernel::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

/// What setting and reading the parameters does.
pub(crate) trait ParamHandler {
    /// Sets parameter `i` from its value string (at load).
    fn set(i: usize, val: &[u8]) -> Result;
    /// Writes parameter `i`'s value (with a newline) into `w`.
    fn get(i: usize, w: &mut FmtBuf<'_>);
}

/// One parameter: its name, and its `parm=` and `parmtype=` modinfo
/// strings, each the concatenation of its parts.
pub(crate) struct ParamSpec {
    pub(crate) name: &'static CStr,
    pub(crate) desc: [&'static str; 4],
    pub(crate) ty: [&'static str; 4],
}

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
    set: Some(param_set::<crate::params::Params>),
    get: Some(param_get::<crate::params::Params>),
    free: None,
});

/// The number of a parameter (stored in its `arg`).
///
/// # Safety
///
/// `kp` is one of our `__param` entries.
unsafe fn index_of(kp: *const b::kernel_param) -> usize {
    // SAFETY: by the function's contract; `arg` holds the index (set below
    // in `param!`).
    unsafe { (*kp).__bindgen_anon_1.arg as usize }
}

/// `kernel_param_ops::set` of every parameter.
///
/// # Safety
///
/// Called by the module loader with one of our `__param` entries.
unsafe extern "C" fn param_set<H: ParamHandler>(
    val: *const c_char,
    kp: *const b::kernel_param,
) -> c_int {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: `kp` is one of our entries.
    let i = unsafe { index_of(kp) };
    // SAFETY: the kernel passes a NUL terminated value string.
    let input = unsafe { super::cstr_from_ptr(val.cast()) }.to_bytes();
    match H::set(i, input) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `kernel_param_ops::get` of every parameter.
///
/// # Safety
///
/// Called by the kernel with one of our `__param` entries and a PAGE_SIZE buffer.
unsafe extern "C" fn param_get<H: ParamHandler>(
    buffer: *mut c_char,
    kp: *const b::kernel_param,
) -> c_int {
    // SAFETY: `kp` is one of our entries.
    let i = unsafe { index_of(kp) };
    // SAFETY: the kernel passes a PAGE_SIZE buffer.
    let page = unsafe { core::slice::from_raw_parts_mut(buffer, kernel::bindings::PAGE_SIZE) };
    let mut w = FmtBuf::new(page);
    H::get(i, &mut w);
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

/// The `__param` entry and `.modinfo` strings of `crate::params::SPECS[$i]`.
macro_rules! param {
    ($i:literal) => {
        const _: () = {
            const S: &ParamSpec = &crate::params::SPECS[$i];
            // `used(compiler)`, as the kernel's `module!` marks its own
            // `.modinfo` strings: a plain `#[used]` also sets
            // SHF_GNU_RETAIN, and GNU ld (GCC-built kernels) then keeps a
            // second `.modinfo` section, of which modpost reads only one.
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; total_len(&S.desc)] = concat(&S.desc);
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; total_len(&S.ty)] = concat(&S.ty);
            #[link_section = "__param"]
            #[used(compiler)]
            static P: Param = Param(b::kernel_param {
                name: cstr_ptr(S.name),
                mod_: core::ptr::null_mut(),
                ops: &OPS.0,
                perm: 0,
                level: -1,
                flags: 0,
                __bindgen_anon_1: b::kernel_param__bindgen_ty_1 {
                    arg: $i as usize as *mut c_void,
                },
            });
        };
    };
}

/// Every parameter of `crate::params::SPECS`.
macro_rules! params {
    ($($i:literal)*) => {
        $(param!($i);)*
        const _: () = assert!([$($i),*].len() == crate::params::SPECS.len());
    };
}

params!(0 1 2 3 4 5 6 7 8 9 10 11);

/// The module's `author` modinfo, laid out as `MODULE_AUTHOR()` would: the
/// `module!` macro's key for it differs between kernels (see `compat`).
const AUTHOR: [&str; 2] = ["author=", crate::params::AUTHOR];
// `used(compiler)`: as the parameters' `.modinfo` strings above.
#[link_section = ".modinfo"]
#[used(compiler)]
static AUTHOR_INFO: [u8; total_len(&AUTHOR)] = concat(&AUTHOR);
