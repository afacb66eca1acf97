//! The host side: the PowerShell that cauterize sends, and how it is framed.
//!
//! This module is the contract between the Rust side, the PowerShell that
//! runs on a Windows host, and the lab that stands in for Windows in tests.
//! Everything is delivered the same way: a short `-EncodedCommand`
//! bootstrap on the command line (see [`bootstrap`]) and the real payload on
//! stdin, base64 of UTF-8.

pub mod assemble;
pub mod bootstrap;
pub mod client;
pub mod contain;
pub mod file_targets;
pub mod host_text;
pub mod job;
pub mod ops;
pub mod probe;
pub mod purge_steps;
pub mod registry_targets;
pub mod results;
pub mod snapshot;
pub mod sweep;
pub mod wire;

#[cfg(test)]
mod on_lab;

pub use client::{RuntimeError, apply_ops, collect, file_facts, read_file};
pub use ops::{Bounds, FileChunk, Op, OpOutcome, Query, SweepRoot};
