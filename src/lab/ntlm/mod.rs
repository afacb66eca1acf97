//! The lab's NTLM server side (MS-NLMP): challenge, NTLMv2 verification
//! against the named account, and message sealing. Written independently of
//! winrm-rs's client so that each checks the other.
//!
//! STUB: signatures fixed, bodies being written (see the ntlm helper).

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

/// NT hash of a password: MD4 of its UTF-16LE bytes.
pub fn nt_hash(password: &str) -> [u8; 16] {
    let _ = password;
    unimplemented!("ntlm helper")
}

/// One authentication in progress on one TCP connection.
pub struct Acceptor {
    _private: (),
}

impl Acceptor {
    /// `computer` is the NetBIOS computer name, `domain` the NetBIOS domain;
    /// both go into the challenge's target info.
    pub fn new(computer: &str, domain: &str) -> Self {
        let _ = (computer, domain);
        unimplemented!("ntlm helper")
    }

    /// NEGOTIATE (type 1) in, CHALLENGE (type 2) out.
    pub fn challenge(&mut self, negotiate: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let _ = negotiate;
        unimplemented!("ntlm helper")
    }

    /// AUTHENTICATE (type 3) in. `lookup(domain, user)` gives the NT hash of
    /// the account the client names, or `None` if there is no such account.
    /// The NTLMv2 proof (and the MIC, when present) is verified.
    pub fn authenticate(
        self,
        authenticate: &[u8],
        lookup: &dyn Fn(&str, &str) -> Option<[u8; 16]>,
    ) -> Result<Session, NtlmError> {
        let _ = (authenticate, lookup);
        unimplemented!("ntlm helper")
    }
}

/// An established NTLM security context: who authenticated, and the sealing
/// state (RC4 streams and sequence numbers in each direction).
pub struct Session {
    pub user: String,
    pub domain: String,
}

impl Session {
    /// Seal a server-to-client message: (16-byte signature, ciphertext).
    pub fn seal(&mut self, plaintext: &[u8]) -> ([u8; 16], Vec<u8>) {
        let _ = plaintext;
        unimplemented!("ntlm helper")
    }

    /// Unseal a client-to-server message and verify its signature.
    pub fn unseal(&mut self, signature: &[u8; 16], ciphertext: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let _ = (signature, ciphertext);
        unimplemented!("ntlm helper")
    }
}
