//! Shared harness for integration tests (each test crate does `mod common;`).

pub mod harness;
pub mod peers;
pub mod samba;
pub mod socks;
pub mod splitter;
pub mod targets;
