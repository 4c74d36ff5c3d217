// SPDX-License-Identifier: GPL-2.0

//! A directory under `/sys/kernel` holding a group of attribute files, and
//! the kernfs node of one of them, to wake its pollers.

use super::bindings as b;
use super::{cstr_ptr, KernelCell};
use crate::logic::fmtbuf::FmtBuf;
use core::ffi::CStr;
use kernel::bindings as kb;
use kernel::prelude::*;

/// Most files in one directory.
const MAX_FILES: usize = 32;

/// The files of a [`SysfsDir`]. The callbacks run in the reading or
/// writing task's context and may sleep.
pub(crate) trait SysfsFiles: 'static {
    /// How many files (at most 32).
    const COUNT: usize;
    /// Name and mode of file `i` (`i < COUNT`); it is writable if the mode
    /// has the owner's write bit.
    fn file(i: usize) -> (&'static CStr, u16);
    /// Writes the contents of file `i` into `w`, a page.
    fn show(i: usize, w: &mut FmtBuf<'_>);
    /// Takes a write of `input` to file `i`.
    fn store(i: usize, input: &[u8]) -> Result;
}

/// A `kobj_attribute` with its file number.
#[repr(C)]
struct Attr {
    kattr: b::kobj_attribute,
    index: usize,
}

/// What the kernel reads of the group while it is registered.
#[repr(C)]
struct Group {
    attrs: [Attr; MAX_FILES],
    ptrs: [*mut b::attribute; MAX_FILES + 1],
    group: b::attribute_group,
}

/// A directory `/sys/kernel/<name>/` with the files of `F`.
///
/// # Invariants
///
/// `kobj` is a live kobject under `/sys/kernel` with `group` created on
/// it; `group` stays at its heap address until both are removed in `drop`.
pub(crate) struct SysfsDir {
    kobj: *mut b::kobject,
    group: KBox<KernelCell<Group>>,
}

// SAFETY: the kobject is only used to remove the directory, from any thread.
unsafe impl Send for SysfsDir {}
// SAFETY: `&self` methods only take a new reference on a file's node.
unsafe impl Sync for SysfsDir {}

impl SysfsDir {
    /// Creates `/sys/kernel/<name>/` with the files of `F`.
    pub(crate) fn create<F: SysfsFiles>(name: &'static CStr) -> Result<Self> {
        const { assert!(F::COUNT <= MAX_FILES) };
        let group = KBox::new(
            // SAFETY: all-zero is a valid value of these plain C structs
            // (null pointers, `None` callbacks).
            KernelCell::new(unsafe { core::mem::zeroed::<Group>() }),
            GFP_KERNEL,
        )?;
        // SAFETY: the group was just allocated and nothing else sees it yet.
        let g = unsafe { &mut *group.get() };
        for i in 0..F::COUNT {
            let (file, mode) = F::file(i);
            let a = &mut g.attrs[i];
            a.index = i;
            // SAFETY: an attribute not yet registered; heap allocated, so
            // it needs the static lockdep key this sets.
            unsafe { b::nfw_sysfs_attr_init(&mut a.kattr.attr) };
            a.kattr.attr.name = cstr_ptr(file);
            a.kattr.attr.mode = mode;
            let store: b::nfw_kobj_store_t = if mode & 0o200 != 0 {
                Some(store_trampoline::<F>)
            } else {
                None
            };
            // SAFETY: sets two function pointers of an attribute not yet
            // registered.
            unsafe { b::nfw_kobj_attr_set_ops(&mut a.kattr, Some(show_trampoline::<F>), store) };
            g.ptrs[i] = &mut a.kattr.attr;
        }
        // SAFETY: `ptrs` is NULL-terminated (zeroed past COUNT) and lives
        // with the group.
        unsafe { b::nfw_attr_group_set_attrs(&mut g.group, g.ptrs.as_mut_ptr()) };
        // SAFETY: `kernel_kobj` is the kernel's /sys/kernel kobject.
        let kobj = unsafe { b::kobject_create_and_add(cstr_ptr(name), b::kernel_kobj) };
        if kobj.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `kobj` is live; the group is heap allocated and kept
        // until `drop` removes it.
        let ret = unsafe { b::sysfs_create_group(kobj, &g.group) };
        if ret < 0 {
            // SAFETY: drops the reference from `kobject_create_and_add`.
            unsafe { b::kobject_put(kobj) };
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: created above.
        Ok(Self { kobj, group })
    }

    /// The node of file `name`, to wake its pollers.
    pub(crate) fn node(&self, name: &'static CStr) -> Option<KBox<FileNode>> {
        // SAFETY: `kobj` is live (type invariant); the helper returns a
        // referenced node or null.
        let node = unsafe { b::nfw_sysfs_get_attr(self.kobj, cstr_ptr(name)) };
        if node.is_null() {
            return None;
        }
        // INVARIANT: referenced just above. On allocation failure the box
        // is not made and the reference is dropped with the value.
        KBox::new(FileNode { node }, GFP_KERNEL).ok()
    }
}

impl Drop for SysfsDir {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; removal waits for readers and
        // writers of the files to finish, after which the group is unused.
        unsafe {
            b::sysfs_remove_group(self.kobj, &(*self.group.get()).group);
            b::kobject_put(self.kobj);
        }
    }
}

/// A referenced kernfs node of one attribute file.
///
/// # Invariants
///
/// `node` holds a reference, dropped with the value.
pub(crate) struct FileNode {
    node: *mut b::kernfs_node,
}

// SAFETY: kernfs nodes are reference counted and may be notified and
// released from any thread.
unsafe impl Send for FileNode {}
// SAFETY: `notify` may run concurrently on several threads.
unsafe impl Sync for FileNode {}

impl FileNode {
    /// Wakes the file's pollers (`sysfs_notify()` without its lookup: no
    /// allocation, no sleeping; the kernel's fsnotify work does the rest).
    pub(crate) fn notify(&self) {
        // SAFETY: `node` is referenced (type invariant).
        unsafe { b::kernfs_notify(self.node) };
    }
}

impl Drop for FileNode {
    fn drop(&mut self) {
        // SAFETY: drops the reference of the type invariant.
        unsafe { b::kernfs_put(self.node) };
    }
}

/// The file number of `attr`, one of a [`SysfsDir`]'s attributes.
///
/// # Safety
///
/// `attr` is the `kattr` of a live [`Attr`].
unsafe fn index_of(attr: *const b::kobj_attribute) -> usize {
    // SAFETY: `Attr` is `repr(C)` with `kattr` first.
    unsafe { (*attr.cast::<Attr>()).index }
}

/// sysfs `show` of every file.
///
/// # Safety
///
/// Called by sysfs with one of the attributes of a `SysfsDir` of `F` and a
/// PAGE_SIZE buffer.
unsafe extern "C" fn show_trampoline<F: SysfsFiles>(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *mut u8,
) -> isize {
    // SAFETY: `attr` is one of our attributes.
    let i = unsafe { index_of(attr) };
    // SAFETY: sysfs passes a zeroed, writable buffer of PAGE_SIZE bytes;
    // we use all but the last (sysfs complains about a show() that
    // returns PAGE_SIZE: it keeps room for a terminating NUL).
    let page = unsafe { core::slice::from_raw_parts_mut(buf, kb::PAGE_SIZE - 1) };
    let mut w = FmtBuf::new(page);
    F::show(i, &mut w);
    w.len() as isize
}

/// sysfs `store` of the writable files.
///
/// # Safety
///
/// Called by sysfs with one of the attributes of a `SysfsDir` of `F` and
/// `count` readable bytes at `buf`.
unsafe extern "C" fn store_trampoline<F: SysfsFiles>(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *const u8,
    count: usize,
) -> isize {
    // SAFETY: `attr` is one of our attributes.
    let i = unsafe { index_of(attr) };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf, count) };
    match F::store(i, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
