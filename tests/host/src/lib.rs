//! Host build of nofail-watchdog's pure decision logic, for `cargo test`.
//!
//! The files under `rust/logic/` are compiled here exactly as in the kernel
//! module: as a `core`-only module of a `#![no_std]` crate.

#![no_std]
#![deny(unsafe_code)]

#[cfg(test)]
extern crate std;

#[path = "../../../rust/logic/mod.rs"]
pub mod logic;

// `rust/logic/comm.rs` is shared with the stall generator
// (`tests/modules/`) but not yet listed in `rust/logic/mod.rs`: compiled
// here on its own until it is (then it is `logic::comm` and this goes).
#[path = "../../../rust/logic/comm.rs"]
pub mod comm;
