// SPDX-License-Identifier: GPL-2.0

//! A directory of sysfs files under `/sys/kernel/` for the test modules
//! (each includes this file with `#[path]`; the module proper has its own, in
//! `rust/sysfs.rs`).

use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings as b;
use kernel::ffi::c_char;
use kernel::prelude::*;

/// A sysfs `show` callback.
pub(crate) type ShowFn =
    unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *mut c_char) -> isize;
/// A sysfs `store` callback.
pub(crate) type StoreFn =
    unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *const c_char, usize) -> isize;

extern "C" {
    /// `a->show = show; a->store = store` (`common/helpers.c`).
    fn nfw_common_kobj_attr_set_ops(
        a: *mut b::kobj_attribute,
        show: Option<ShowFn>,
        store: Option<StoreFn>,
    );
    /// `g->attrs = attrs` (`common/helpers.c`).
    fn nfw_common_attr_group_set_attrs(g: *mut b::attribute_group, attrs: *mut *mut b::attribute);
}

/// One file of a [`Dir`].
pub(crate) struct File {
    /// Its name.
    name: &'static CStr,
    /// Its permissions.
    mode: b::umode_t,
    /// Called on read; `None` for a write-only file.
    show: Option<ShowFn>,
    /// Called on write; `None` for a read-only file.
    store: Option<StoreFn>,
}

impl File {
    /// A file only root can read (0400).
    pub(crate) const fn read_only(name: &'static CStr, show: ShowFn) -> Self {
        File {
            name,
            mode: 0o400,
            show: Some(show),
            store: None,
        }
    }

    /// A file only root can write (0200).
    pub(crate) const fn write_only(name: &'static CStr, store: StoreFn) -> Self {
        File {
            name,
            mode: 0o200,
            show: None,
            store: Some(store),
        }
    }

    /// A file only root can read and write (0600).
    pub(crate) const fn read_write(name: &'static CStr, show: ShowFn, store: StoreFn) -> Self {
        File {
            name,
            mode: 0o600,
            show: Some(show),
            store: Some(store),
        }
    }
}

/// The attributes of `N` files, their NULL-terminated list (`M` = `N + 1`
/// entries) and their group.
struct Tables<const N: usize, const M: usize> {
    attrs: [b::kobj_attribute; N],
    list: [*mut b::attribute; M],
    group: b::attribute_group,
}

/// Storage for the sysfs tables of `N` files (`M` = `N + 1`), to be put in a
/// `static`: with lockdep, attribute keys must be in static storage.
///
/// # Invariants
///
/// `tables` is written only by the one [`Dir::create`] call that sets `taken`
/// (before the group is registered); afterwards only sysfs reads it.
pub(crate) struct Group<const N: usize, const M: usize> {
    taken: AtomicBool,
    tables: UnsafeCell<Tables<N, M>>,
}

// SAFETY: by the type invariant, the tables are written once, by the one
// caller that won `taken`, before sysfs can see them; shared access after that
// is read-only.
unsafe impl<const N: usize, const M: usize> Sync for Group<N, M> {}

impl<const N: usize, const M: usize> Group<N, M> {
    /// Empty tables.
    pub(crate) const fn new() -> Self {
        const { assert!(M == N + 1, "the attribute list needs N + 1 entries") };
        // INVARIANT: not taken, nothing written.
        Group {
            taken: AtomicBool::new(false),
            // SAFETY: all-zero is a valid value of these C structs (null
            // pointers, `None` callbacks, zero modes) and of null pointers.
            tables: UnsafeCell::new(unsafe { core::mem::zeroed() }),
        }
    }
}

/// `/sys/kernel/<name>/` with the files of a [`Group`].
///
/// # Invariants
///
/// `kobj` is a kobject we hold a reference to, with `group` registered on it;
/// `group` points into a `static` [`Group`].
pub(crate) struct Dir {
    kobj: NonNull<b::kobject>,
    group: *const b::attribute_group,
}

// SAFETY: the kobject and the group are only used through thread-safe kernel
// functions; the pointers can be moved and shared between threads.
unsafe impl Send for Dir {}
// SAFETY: see `Send`; `Dir` has no `&self` methods.
unsafe impl Sync for Dir {}

impl Dir {
    /// Fills in `group` with `files` and creates `/sys/kernel/<name>/` with
    /// them. A [`Group`] serves one directory: a second call with the same
    /// one fails with `EBUSY`.
    pub(crate) fn create<const N: usize, const M: usize>(
        name: &'static CStr,
        group: &'static Group<N, M>,
        files: [File; N],
    ) -> Result<Self> {
        if group.taken.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let t = group.tables.get();
        // SAFETY: we won `taken`, so by the type invariant of `Group` nothing
        // else accesses the tables, and sysfs does not know them yet; the
        // names are static C strings; the list pointers point into the same
        // static and the last entry stays NULL (`M` = `N + 1`).
        let g = unsafe {
            for (i, f) in files.into_iter().enumerate() {
                let a = &mut (*t).attrs[i];
                a.attr.name = f.name.as_char_ptr();
                a.attr.mode = f.mode;
                nfw_common_kobj_attr_set_ops(a, f.show, f.store);
                (*t).list[i] = ptr::addr_of_mut!(a.attr);
            }
            nfw_common_attr_group_set_attrs(
                ptr::addr_of_mut!((*t).group),
                ptr::addr_of_mut!((*t).list).cast(),
            );
            ptr::addr_of!((*t).group)
        };
        // SAFETY: `kernel_kobj` is set up at boot and never changes; the name
        // is a static C string.
        let kobj = unsafe {
            b::kobject_create_and_add(name.as_char_ptr(), ptr::addr_of!(b::kernel_kobj).read())
        };
        let kobj = NonNull::new(kobj).ok_or(ENOMEM)?;
        // SAFETY: `kobj` is live; `g` is a complete group in static storage.
        let ret = unsafe { b::sysfs_create_group(kobj.as_ptr(), g) };
        if ret != 0 {
            // SAFETY: drops the reference `kobject_create_and_add()` gave us.
            unsafe { b::kobject_put(kobj.as_ptr()) };
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: both registered above; `g` points into `group`.
        Ok(Dir { kobj, group: g })
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: by the type invariant; `sysfs_remove_group()` waits for
        // running callbacks to finish, after which none starts.
        unsafe {
            b::sysfs_remove_group(self.kobj.as_ptr(), self.group);
            b::kobject_put(self.kobj.as_ptr());
        }
    }
}
