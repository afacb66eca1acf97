//! The lab's WinRM endpoint: HTTP, authentication, sealing, SOAP and the
//! shell resource, reproducing what a Windows host's default HTTP listener
//! does (see `/work/shared/research/peers-and-fixtures.md`).
//!
//! - [`server`]: one listener per host, one task per connection.
//! - [`http`]: a connection's authentication and sealing state machine.
//! - [`framing`]: the `multipart/encrypted` frame of sealed bodies.
//! - [`auth`]: account lookup, Basic, who may log on.
//! - [`soap`]: parsing requests; [`envelope`], [`fault`]: writing answers.
//! - [`dispatch`]: a SOAP request to its answer; [`shells`]: the shells.
//! - [`duration`]: `xs:duration`; [`stats`]: lab-wide counters.

pub mod auth;
pub mod dispatch;
pub mod duration;
pub mod envelope;
pub mod fault;
pub mod framing;
pub mod http;
pub mod server;
pub mod shells;
pub mod soap;
pub mod stats;

pub use stats::LabStats;
