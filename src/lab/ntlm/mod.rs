//! The lab's NTLM server side (MS-NLMP): challenge, NTLMv2 verification
//! against the named account, and message sealing. Written independently of
//! winrm-rs's client so that each checks the other.
//!
//! Files: `wire` (bounds-checked reads), `flags`, `avpairs`, `messages`
//! (NEGOTIATE/CHALLENGE/AUTHENTICATE), `response` (NTLMv2 response),
//! `crypto` (hashes and keys), `acceptor` (the handshake), `session`
//! (sealing).

mod acceptor;
pub mod avpairs;
mod crypto;
pub mod flags;
mod messages;
mod response;
mod session;
mod wire;

#[cfg(test)]
mod cbt_tests;
#[cfg(test)]
mod kat;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;

pub use acceptor::Acceptor;
pub use avpairs::TargetNames;
pub use crypto::nt_hash;
pub use messages::SERVER_VERSION;
pub use session::Session;

/// Why an NTLM exchange failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NtlmError {
    #[error("malformed NTLM message: {0}")]
    Malformed(String),
    #[error("unknown account {domain}\\{user}")]
    UnknownAccount { domain: String, user: String },
    #[error("wrong password for {domain}\\{user}")]
    BadProof { domain: String, user: String },
    #[error("message signature does not verify")]
    BadSignature,
}
