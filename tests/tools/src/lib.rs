//! Pure logic of the guest tools (argument and `/proc` parsing), kept apart
//! from the system calls so that `cargo test` can check it on the host.

pub mod bench;
pub mod fsload;
pub mod fuzz;
pub mod hog;
