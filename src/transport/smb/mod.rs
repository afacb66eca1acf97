//! Files out of a host over SMB (evidence before deletion), through the
//! `smb2` crate. Nothing above this module knows about SMB.
//!
//! - [`RemotePath`]: a plan's Windows path, checked (it is hostile data) and
//!   split into drive and components.
//! - [`SmbSession`]: connect to `address:port` (445 by default), log on
//!   once with NTLM, open files read-only through the admin shares (`C$`,
//!   `ADMIN$`) and stream them in chunks ([`SmbFile`]).
//! - [`SmbError`]: every failure, classed by what to do next
//!   ([`SmbErrorKind::is_transport_down`]: use another transport;
//!   [`SmbErrorKind::AuthFailed`]: never retry).

mod client;
mod error;
mod path;

pub use client::{Protection, SmbCredential, SmbFile, SmbOptions, SmbSession, socket_address};
pub use error::{SmbError, SmbErrorKind};
pub use path::{PathError, RemotePath};
