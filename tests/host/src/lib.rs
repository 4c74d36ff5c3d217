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
