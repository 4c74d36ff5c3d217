// SPDX-License-Identifier: GPL-2.0

//! C strings and the cell for kernel-owned objects, shared by the other
//! `sys` files.

use core::cell::UnsafeCell;
use core::ffi::CStr;

/// A C string as the kernel's `const char *`. `c_char` is `u8` in the
/// kernel (6.12, 7.3), so its bytes go as they are; 7.3's clippy forbids
/// `CStr::as_ptr`, whose `c_char` is signed on other targets.
pub(crate) const fn cstr_ptr(s: &CStr) -> *const kernel::ffi::c_char {
    s.to_bytes_with_nul().as_ptr()
}

/// The C string at `p`.
///
/// # Safety
///
/// `p` points to a NUL-terminated string that stays valid and unchanged
/// for `'a`.
// 7.3's clippy asks for `CStrExt::from_char_ptr`, which 6.12 lacks; the
// sign mismatch it guards against cannot happen here (`c_char` is `u8`).
#[allow(clippy::disallowed_methods)]
pub(crate) unsafe fn cstr_from_ptr<'a>(p: *const kernel::ffi::c_char) -> &'a CStr {
    // SAFETY: by the caller's contract.
    unsafe { CStr::from_ptr(p.cast()) }
}

/// A symbol name for messages.
pub(crate) fn name_str(name: &CStr) -> &str {
    name.to_str().unwrap_or("?")
}

/// A cell for kernel objects that the kernel mutates behind our back
/// (registration structs), shared with C through raw pointers.
#[repr(transparent)]
pub(crate) struct KernelCell<T>(UnsafeCell<T>);

// SAFETY: the contents are only touched by the kernel (under its own locks) or
// by this module before registration / after unregistration, never
// concurrently through Rust references.
unsafe impl<T> Sync for KernelCell<T> {}

// SAFETY: as above; ownership moves with the module, the kernel does not care
// which thread unregisters.
unsafe impl<T> Send for KernelCell<T> {}

impl<T> KernelCell<T> {
    /// Wraps a value.
    pub(crate) const fn new(v: T) -> Self {
        Self(UnsafeCell::new(v))
    }

    /// Raw pointer for the C side.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}
