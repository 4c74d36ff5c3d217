//! Pure decision logic of nofail-watchdog.
//!
//! Everything below this module is plain `core`-only Rust: no kernel
//! bindings, no allocation, no floating point and no `unsafe`. All
//! arithmetic is saturating or checked so that nothing here can panic
//! (the kernel builds with overflow checks on). The same files are compiled
//! into the kernel module and unit-tested on the host by the
//! `tests/host` crate (`cargo test`).
//!
//! - [`gfp`]: GFP flag layout of Linux 6.12, `%pGg`-style decoding and the
//!   classification of allocations that cannot fail.
//! - [`knobs`]: the module parameters / sysfs tunables, strict parsing and
//!   formatting.
//! - [`stall`]: per-stall decisions (when to report, how long to back off,
//!   when to invoke the OOM killer, when to wake up next).
//! - [`hist`]: a log2 stall-duration histogram rendered like bcc's tools.
//! - [`events`]: events for userspace (the `events` file, uevents) and
//!   their rate limit.
//! - [`fmtbuf`]: a truncating [`core::fmt::Write`] sink over a byte buffer.
//! - [`comm`]: a task's command name, packed for atomics and shown escaped.
//! - [`seqcount`]: sequence-counted records and rings, written lock-free
//!   from the hooks and read whole (or not at all) by the watchdog and
//!   sysfs (atomics only).

// Not every item is used by every build of the module, and the items are
// `pub` so that the host test crate can reach them.
#![allow(dead_code)]
#![allow(unreachable_pub)]

pub mod comm;
pub mod events;
pub mod fmtbuf;
pub mod gfp;
pub mod hist;
pub mod knobs;
pub mod seqcount;
pub mod stall;
