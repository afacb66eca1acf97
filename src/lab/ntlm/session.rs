//! NTLM message sealing with extended session security (MS-NLMP 3.4.4.2,
//! 3.4.6): one RC4 stream and sequence counter per direction, kept for the
//! life of the security context.

use super::NtlmError;
use super::crypto::{Direction, Rc4Stream, ct_eq, hmac_md5, rc4_stream, seal_key, sign_key};
use super::flags;
use rc4::StreamCipher;

/// One direction's sealing state.
pub struct Stream {
    sign_key: [u8; 16],
    rc4: Rc4Stream,
    seq: u32,
    /// With KEY_EXCH the checksum is RC4-encrypted too.
    key_exch: bool,
}

impl Stream {
    pub fn new(exported_key: &[u8; 16], negotiated: u32, dir: Direction) -> Self {
        Self {
            sign_key: sign_key(exported_key, dir),
            rc4: rc4_stream(&seal_key(exported_key, negotiated, dir)),
            seq: 0,
            key_exch: negotiated & flags::KEY_EXCH != 0,
        }
    }

    /// The next sequence number this stream will use or expect.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Checksum of `plaintext` at the current sequence number, advancing
    /// the RC4 stream when KEY_EXCH is on.
    fn checksum(&mut self, plaintext: &[u8]) -> [u8; 8] {
        let mac = hmac_md5(&self.sign_key, &[&self.seq.to_le_bytes(), plaintext]);
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&mac[..8]);
        if self.key_exch {
            self.rc4.apply_keystream(&mut sum);
        }
        sum
    }

    /// Encrypts the message, then its checksum, with the same RC4 stream.
    pub fn seal(&mut self, plaintext: &[u8]) -> ([u8; 16], Vec<u8>) {
        let mut data = plaintext.to_vec();
        self.rc4.apply_keystream(&mut data);
        let sum = self.checksum(plaintext);
        let sig = signature(&sum, self.seq);
        self.seq = self.seq.wrapping_add(1);
        (sig, data)
    }

    /// Decrypts, then checks version, checksum and sequence number. The
    /// RC4 stream advances even on failure (as on Windows, the context is
    /// then unusable).
    pub fn unseal(&mut self, sig: &[u8; 16], ciphertext: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let mut data = ciphertext.to_vec();
        self.rc4.apply_keystream(&mut data);
        let expected = signature(&self.checksum(&data), self.seq);
        if !ct_eq(&expected, sig) {
            return Err(NtlmError::BadSignature);
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(data)
    }
}

/// NTLMSSP_MESSAGE_SIGNATURE: version 1 | checksum | sequence number.
fn signature(checksum: &[u8; 8], seq: u32) -> [u8; 16] {
    let mut sig = [0u8; 16];
    sig[..4].copy_from_slice(&1u32.to_le_bytes());
    sig[4..12].copy_from_slice(checksum);
    sig[12..].copy_from_slice(&seq.to_le_bytes());
    sig
}

/// An established NTLM security context: who authenticated, and the sealing
/// state (RC4 streams and sequence numbers in each direction).
pub struct Session {
    pub user: String,
    pub domain: String,
    workstation: String,
    negotiated: u32,
    outbound: Stream,
    inbound: Stream,
}

impl Session {
    pub(crate) fn new(
        user: String,
        domain: String,
        workstation: String,
        exported_key: &[u8; 16],
        negotiated: u32,
    ) -> Self {
        Self {
            user,
            domain,
            workstation,
            negotiated,
            outbound: Stream::new(exported_key, negotiated, Direction::ServerToClient),
            inbound: Stream::new(exported_key, negotiated, Direction::ClientToServer),
        }
    }

    /// The workstation name the client sent (may be empty).
    pub fn workstation(&self) -> &str {
        &self.workstation
    }

    /// The flags in force after the handshake (CHALLENGE ∩ AUTHENTICATE).
    pub fn negotiated_flags(&self) -> u32 {
        self.negotiated
    }

    /// Sequence numbers next used: (server-to-client, client-to-server).
    pub fn sequence_numbers(&self) -> (u32, u32) {
        (self.outbound.seq(), self.inbound.seq())
    }

    /// Seal a server-to-client message: (16-byte signature, ciphertext).
    pub fn seal(&mut self, plaintext: &[u8]) -> ([u8; 16], Vec<u8>) {
        self.outbound.seal(plaintext)
    }

    /// Unseal a client-to-server message and verify its signature.
    pub fn unseal(
        &mut self,
        signature: &[u8; 16],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, NtlmError> {
        self.inbound.unseal(signature, ciphertext)
    }
}
