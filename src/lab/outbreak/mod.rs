//! The network dynamics of an outbreak: hosts with power and reboots
//! (`host`), lateral movement over SMB that both hosts' firewalls decide
//! (`lateral`), the seeded engine that advances everything through lab
//! time (`engine`), the events it reports (`event`) and SMB firewall
//! set-ups (`smb`). Pure and deterministic from the seed; no I/O, no wall
//! clock.

pub mod engine;
pub mod event;
pub mod host;
pub mod lateral;
pub mod smb;

#[cfg(test)]
mod tests;

pub use engine::{Engine, OutbreakConfig, RebootError};
pub use event::{Event, EventKind, Side};
pub use host::{NetHost, Power};
