//! Shared harness for integration tests (each test crate does `mod common;`).

pub mod outbreak_run;
pub mod peers;
pub mod playbooks;
pub mod cases_lab;
pub mod harness;
pub mod job_vectors;
pub mod socks;
pub mod samba;
pub mod splitter;
pub mod targets;
pub mod variant;
pub mod winrm_retry;
