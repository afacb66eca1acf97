//! How bytes reach a host. Nothing above this layer knows about SOAP, NTLM
//! or SMB.
//!
//! - [`pool::prepare`] builds one winrm-rs client per distinct connection
//!   settings and credential (per host for LAPS), asking a
//!   [`secrets::PasswordSource`] for each password once, and refuses unsafe
//!   settings per host ([`settings`]: Basic over plain HTTP, Kerberos without
//!   the `kerberos` feature; CredSSP is never offered).
//! - [`session::run_script`] / [`session::HostSession`] run PowerShell on a
//!   host through the stdin bootstrap and always close the shell.
//! - [`runner::run_all`] runs a job per host, `forks` at a time, with Ctrl-C
//!   handling ([`interrupt::watch_ctrl_c`]).
//! - [`gate`] protects domain accounts from lock-out: few logons until one
//!   host accepts the credential, none after a few rejections.
//! - [`tcp::probe_port`] is a plain TCP reachability check.
//! - Every failure is a [`TransportError`] with a [`ErrorKind`].

pub mod classify;
pub mod error;
pub mod gate;
pub mod interrupt;
pub mod output;
pub mod pool;
pub mod retry;
pub mod runner;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod smb;
pub mod tcp;

pub use error::{ErrorKind, Phase, TransportError};
pub use output::ScriptOutput;
pub use pool::{HostTarget, Prepared, Refusal, host_of, prepare};
pub use secrets::PasswordSource;
pub use session::{HostSession, run_script};

#[cfg(test)]
mod lab_tests;
