//! The host side: the PowerShell that cauterize sends, and how it is framed.
//!
//! This module is the contract between the Rust side, the PowerShell that
//! runs on a Windows host, and the lab that stands in for Windows in tests.
//! Everything is delivered the same way: a short `-EncodedCommand`
//! bootstrap on the command line (see [`bootstrap`]) and the real payload on
//! stdin, base64 of UTF-8.

pub mod bootstrap;
pub mod probe;
pub mod snapshot;
