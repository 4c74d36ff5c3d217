//! A [`core::fmt::Write`] sink over a fixed byte buffer that truncates instead of failing.
//!
//! Used to fill sysfs `show` buffers (`PAGE_SIZE` bytes) and log lines
//! without allocation.

use core::fmt;

/// A truncating [`fmt::Write`] over `&mut [u8]`.
///
/// Writes never fail: whatever does not fit is dropped and
/// [`FmtBuf::truncated`] becomes true. Truncation happens at a UTF-8
/// character boundary, so [`FmtBuf::as_bytes`] is always valid UTF-8, and
/// once a write has been truncated every later write is dropped too (the
/// contents stay a prefix of what was written).
#[derive(Debug)]
pub struct FmtBuf<'a> {
    /// The destination; its length is the capacity.
    buf: &'a mut [u8],
    /// Number of bytes of `buf` written so far.
    len: usize,
    /// Whether some output was dropped.
    truncated: bool,
}

impl<'a> FmtBuf<'a> {
    /// Creates an empty writer over `buf` (whose whole length is the capacity).
    pub fn new(buf: &'a mut [u8]) -> Self {
        FmtBuf {
            buf,
            len: 0,
            truncated: false,
        }
    }

    /// Returns the number of bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the capacity (length of the underlying buffer).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Returns whether some output was dropped because the buffer was full.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Returns the bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Returns the text written so far.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// If output was dropped, drops the partial last line too, so that a
    /// reader of a line-oriented file only ever sees whole lines.
    ///
    /// Does nothing when nothing was truncated.
    pub fn trim_partial_line(&mut self) {
        if !self.truncated {
            return;
        }
        let keep = self
            .as_bytes()
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i.saturating_add(1));
        self.len = keep;
    }
}

/// A [`fmt::Write`] sink that only counts the bytes written to it.
#[derive(Debug, Default)]
pub struct Count(pub usize);

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        Ok(())
    }
}

/// Returns the first of the items `oldest..=newest` from which on the
/// newest items fit in `room` bytes, walking back from `newest`.
///
/// `len_of(n)` is the length of item `n`, or `None` if it is gone (being
/// rewritten in a lock-free ring: it takes no room, and the writer skips
/// it too). The result is `newest + 1` when not even `newest` fits: then
/// nothing is shown. For files that show "as many of the newest entries as
/// fit, oldest first" from a ring.
pub fn newest_that_fit(
    oldest: u64,
    newest: u64,
    room: usize,
    mut len_of: impl FnMut(u64) -> Option<usize>,
) -> u64 {
    let mut used = 0usize;
    let mut first = newest.saturating_add(1);
    for n in (oldest..=newest).rev() {
        match used.checked_add(len_of(n).unwrap_or(0)) {
            Some(u) if u <= room => used = u,
            _ => break,
        }
        first = n;
    }
    first
}

/// Returns the smallest of `keys` greater than `after` (the smallest of all
/// when `after` is `None`), or `None` if there is none.
///
/// Lists a table whose entries change while it is read in key order without
/// sorting it, and so without a buffer: one pass over the table per line.
/// Every line's key is greater than the one before, so no entry is listed
/// twice and the listing ends, whatever changes between the passes.
pub fn next_after<K: Ord + Copy>(keys: impl IntoIterator<Item = K>, after: Option<K>) -> Option<K> {
    keys.into_iter()
        .filter(|k| match after {
            None => true,
            Some(a) => *k > a,
        })
        .min()
}

impl fmt::Write for FmtBuf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Ok(());
        }
        let room = self.buf.len().saturating_sub(self.len);
        let mut take = s.len();
        if take > room {
            self.truncated = true;
            take = room;
            while take > 0 && !s.is_char_boundary(take) {
                take = take.saturating_sub(1);
            }
        }
        let end = self.len.saturating_add(take);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..end), s.as_bytes().get(..take))
        {
            // Not `copy_from_slice`: its length-mismatch panic path is a
            // function the kernel's objtool of 6.12 does not know as noreturn.
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
            self.len = end;
        }
        Ok(())
    }
}
