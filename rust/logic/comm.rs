//! A task's command name as the kernel stores it, and how it is shown.
//!
//! Pure: the bytes are read from the task elsewhere (the module's raw layer,
//! the stall generator's C helper); this file only holds and prints them.
//! Shared by the module and the test modules (`tests/modules/`, which
//! include it with `#[path]`), so a comm reads the same in both.

use core::fmt;

/// `TASK_COMM_LEN`: bytes of a task's command name, NUL padded.
pub const COMM_LEN: usize = 16;

/// A task's command name (`TASK_COMM_LEN` bytes, NUL padded).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Comm(pub [u8; COMM_LEN]);

impl Comm {
    /// The empty name (all NUL).
    pub const EMPTY: Comm = Comm([0; COMM_LEN]);

    /// Packs the name into two words, to store it in atomics.
    pub fn pack(&self) -> [u64; 2] {
        let mut w = [0u64; 2];
        for (i, &c) in self.0.iter().enumerate() {
            if let Some(word) = w.get_mut(i / 8) {
                *word |= u64::from(c) << ((i % 8) * 8);
            }
        }
        w
    }

    /// Inverse of [`Comm::pack`].
    pub fn unpack(w: [u64; 2]) -> Self {
        Comm(core::array::from_fn(|i| {
            (w.get(i / 8).copied().unwrap_or(0) >> ((i % 8) * 8)) as u8
        }))
    }
}

/// Printable ASCII other than space as is, anything else escaped as
/// `\xNN`: a comm is user controlled and ends up in logs and sysfs, one
/// word per field. The name ends at its first NUL.
impl fmt::Display for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use core::fmt::Write;
        for &c in self.0.iter().take_while(|&&c| c != 0) {
            if c.is_ascii_graphic() {
                f.write_char(c as char)?;
            } else {
                write!(f, "\\x{:02x}", c)?;
            }
        }
        Ok(())
    }
}
