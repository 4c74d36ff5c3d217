// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/nfw_stallgen/`: its four files and the module state their
//! callbacks reach.

use core::fmt::Write;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings as b;
use kernel::c_str;
use kernel::ffi::c_char;
use kernel::prelude::*;

use crate::chain::{cond_resched, Chain, Kind};
use crate::fmtbuf::FmtBuf;
use crate::gfp;
use crate::records::MAX_RECORDS;
use crate::sys::fatal_signal_pending;
use crate::sysfs_dir::{Dir, File, Group};
use crate::util::{number, words};
use crate::Shared;

/// The module's state, for the sysfs callbacks; null when not loaded.
///
/// Set in `init` before the sysfs files exist, cleared in `drop` after they
/// were removed (which waits for running callbacks).
static SHARED: AtomicPtr<Shared> = AtomicPtr::new(ptr::null_mut());

/// The module's state, if it is loaded.
pub(crate) fn shared() -> Result<&'static Shared> {
    let p = SHARED.load(Ordering::Acquire);
    // SAFETY: a non-null `SHARED` points to the pinned `Shared` of the loaded
    // module, which outlives every sysfs callback (see `SHARED`).
    unsafe { p.as_ref() }.ok_or(ENODEV)
}

/// The sysfs tables of the four files.
static GROUP: Group<4, 5> = Group::new();

/// Converts a result to what a sysfs callback returns.
fn sysfs_ret(r: Result<usize>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `run` store: a whole run.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn run_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    sysfs_ret(shared().and_then(|s| s.start(input)).map(|()| count))
}

/// `alloc` store: allocate in the writer's own context until a fatal signal.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn alloc_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    let mut w = words(input);
    let zone = match w.next() {
        Some(b"zone=dma") => gfp::DMA,
        Some(b"zone=normal") => 0,
        _ => return EINVAL.to_errno() as isize,
    };
    if w.next().is_some() {
        return EINVAL.to_errno() as isize;
    }
    let mut held = Chain::new(Kind::Pages(0));
    let mut failed = 0u64;
    loop {
        // A no-fail allocation returns only with a page; count the contract
        // broken, so that a test sees it (an OOM victim that exits at once
        // must have got its page, from the OOM reserves).
        if !held.grow(gfp::NOFS | gfp::NOFAIL | zone) {
            failed += 1;
        }
        if fatal_signal_pending() {
            break;
        }
        cond_resched();
    }
    held.release();
    if failed != 0 {
        pr_err!("alloc: {failed} __GFP_NOFAIL allocations returned NULL\n");
        return ENOMEM.to_errno() as isize;
    }
    EINTR.to_errno() as isize
}

/// `records` show.
///
/// # Safety
///
/// Called by sysfs only, with a writable `PAGE_SIZE` buffer at `buf`.
unsafe extern "C" fn records_show(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a writable buffer of `PAGE_SIZE` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), b::PAGE_SIZE) };
    sysfs_ret(shared().map(|s| s.show_records(out)))
}

/// `records_offset` show.
///
/// # Safety
///
/// Called by sysfs only, with a writable `PAGE_SIZE` buffer at `buf`.
unsafe extern "C" fn offset_show(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a writable buffer of `PAGE_SIZE` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), b::PAGE_SIZE) };
    sysfs_ret(shared().and_then(|s| {
        let mut w = FmtBuf::new(out);
        let _ = writeln!(w, "{}", s.offset());
        if w.truncated() {
            return Err(EINVAL);
        }
        Ok(w.len())
    }))
}

/// `records_offset` store.
///
/// # Safety
///
/// Called by sysfs only, with `count` readable bytes at `buf`.
unsafe extern "C" fn offset_store(
    _kobj: *mut b::kobject,
    _attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    sysfs_ret(shared().and_then(|s| {
        let mut words = words(input);
        let value = words.next().ok_or(EINVAL)?;
        if words.next().is_some() {
            return Err(EINVAL);
        }
        s.set_offset(number(value, 0, MAX_RECORDS as u32)? as usize);
        Ok(count)
    }))
}

/// Publishes `shared` to the callbacks and creates the files.
pub(crate) fn create(shared: &Shared) -> Result<Dir> {
    SHARED.store(ptr::from_ref(shared).cast_mut(), Ordering::Release);
    let files = [
        File::write_only(c_str!("run"), run_store),
        File::read_only(c_str!("records"), records_show),
        File::read_write(c_str!("records_offset"), offset_show, offset_store),
        File::write_only(c_str!("alloc"), alloc_store),
    ];
    let dir = Dir::create(c_str!("nfw_stallgen"), &GROUP, files);
    if dir.is_err() {
        SHARED.store(ptr::null_mut(), Ordering::Release);
    }
    dir
}

/// Removes the files (which waits for a run in progress to end) and
/// unpublishes the state.
pub(crate) fn remove(dir: Dir) {
    drop(dir);
    SHARED.store(ptr::null_mut(), Ordering::Release);
}
