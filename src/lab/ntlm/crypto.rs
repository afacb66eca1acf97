//! NTLMv2 cryptography (MS-NLMP 3.3.2, 3.4.5): NT hash, NTOWFv2, NTProofStr,
//! session keys, signing/sealing key derivation, RC4 and HMAC-MD5.

use super::flags;
use super::wire::utf16le;
use hmac::{Hmac, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};

/// An RC4 stream keyed with 16 bytes (every NTLMv2 sealing key is an MD5).
pub type Rc4Stream = Rc4<U16>;

pub fn rc4_stream(key: &[u8; 16]) -> Rc4Stream {
    Rc4Stream::new(key.into())
}

/// NT hash of a password: MD4 of its UTF-16LE bytes.
pub fn nt_hash(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// RC4K(key, data): one-shot RC4 with a fresh key schedule.
pub fn rc4k(key: &[u8; 16], data: &[u8; 16]) -> [u8; 16] {
    let mut out = *data;
    rc4_stream(key).apply_keystream(&mut out);
    out
}

/// Upper-cases as Windows does (one-to-one per character): a character
/// whose upper case is several characters, such as `ß`, stays as it is.
pub fn windows_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// NTOWFv2 = HMAC_MD5(NT hash, UTF16LE(UPPER(user) + domain)).
pub fn ntowfv2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let identity = utf16le(&(windows_upper(user) + domain));
    hmac_md5(nt_hash, &[&identity])
}

/// NTProofStr = HMAC_MD5(NTOWFv2, server challenge || client blob).
pub fn nt_proof(ntowfv2: &[u8; 16], server_challenge: &[u8; 8], blob: &[u8]) -> [u8; 16] {
    hmac_md5(ntowfv2, &[server_challenge, blob])
}

/// SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr); for NTLMv2 it is also
/// the KeyExchangeKey.
pub fn session_base_key(ntowfv2: &[u8; 16], nt_proof: &[u8; 16]) -> [u8; 16] {
    hmac_md5(ntowfv2, &[nt_proof])
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    fn name(self) -> &'static [u8] {
        match self {
            Direction::ClientToServer => b"client-to-server",
            Direction::ServerToClient => b"server-to-client",
        }
    }
}

/// SIGNKEY with extended session security.
pub fn sign_key(exported: &[u8; 16], dir: Direction) -> [u8; 16] {
    md5(&[
        exported,
        b"session key to ",
        dir.name(),
        b" signing key magic constant\0",
    ])
}

/// SEALKEY with extended session security: the exported key cut to 128,
/// 56 or 40 bits per the negotiated flags, then MD5'd with the magic.
pub fn seal_key(exported: &[u8; 16], negotiated: u32, dir: Direction) -> [u8; 16] {
    let cut = if negotiated & flags::KEY_128 != 0 {
        16
    } else if negotiated & flags::KEY_56 != 0 {
        7
    } else {
        5
    };
    md5(&[
        &exported[..cut],
        b"session key to ",
        dir.name(),
        b" sealing key magic constant\0",
    ])
}

/// Constant-time equality for MACs and proofs.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
