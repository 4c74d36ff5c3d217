//! Pure logic of the guest tools (argument and `/proc` parsing), kept apart
//! from the system calls so that `cargo test` can check it on the host;
//! [`sys`] holds the few system calls that several tools share.

pub mod bench;
pub mod fsload;
pub mod fuzz;
pub mod hog;
pub mod sys;
