//! The system calls more than one guest tool makes (the rest of this
//! crate is pure logic).

use std::io;

/// An anonymous private read-write mapping, unmapped on drop.
///
/// # Invariants
///
/// `addr..addr + len` is a mapping this value made and owns.
pub struct AnonMap {
    addr: *mut u8,
    len: usize,
}

impl AnonMap {
    /// Maps `len` bytes (not yet populated).
    pub fn new(len: usize) -> io::Result<Self> {
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choice: no existing memory is affected.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // INVARIANT: mmap succeeded: we own `addr..addr + len`.
        Ok(Self {
            addr: addr.cast(),
            len,
        })
    }

    /// Locks the whole mapping in memory (faulting it all in).
    pub fn lock(&self) -> io::Result<()> {
        // SAFETY: `addr..addr + len` is our mapping (type invariant).
        if unsafe { libc::mlock(self.addr.cast(), self.len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Writes one byte into every page (`page` bytes apart).
    pub fn touch(&self, page: usize) {
        for off in (0..self.len).step_by(page.max(1)) {
            // SAFETY: `off` < `len`: inside our writable mapping (type
            // invariant); volatile, so the write is not optimised away.
            unsafe { self.addr.add(off).write_volatile(1) };
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: mmap refuses length 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for AnonMap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping this value owns; it is not
        // used afterwards.
        unsafe { libc::munmap(self.addr.cast(), self.len) };
    }
}

/// The page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}
