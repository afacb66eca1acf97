//! The server half of one NTLM handshake: NEGOTIATE -> CHALLENGE, then
//! AUTHENTICATE verified (NTLMv2 proof, MIC) into a sealing [`Session`].

use super::NtlmError;
use super::avpairs::{TargetNames, build_target_info};
use super::crypto::{ct_eq, hmac_md5, nt_proof, ntowfv2, rc4k, session_base_key};
use super::flags;
use super::messages::{Challenge, build_challenge, parse_authenticate, parse_negotiate};
use super::response::{NTLMV1_LEN, parse_v2};
use super::session::Session;
use super::wire::{malformed, utf16le};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds from 1601-01-01 (FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// Now as a FILETIME (100 ns ticks since 1601).
pub fn filetime_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs() + FILETIME_UNIX_OFFSET) * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

/// What the CHALLENGE committed to, kept for the AUTHENTICATE.
struct Issued {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    flags: u32,
}

/// One authentication in progress on one TCP connection.
pub struct Acceptor {
    names: TargetNames,
    issued: Option<Issued>,
    /// Over TLS: the channel binding of this connection's certificate.
    channel_binding: Option<[u8; 16]>,
}

impl Acceptor {
    /// `computer` is the NetBIOS computer name, `domain` the NetBIOS domain;
    /// both go into the challenge's target info. DNS names default to
    /// `computer.domain` in lower case (just `computer` for a workgroup
    /// host, whose domain equals its computer name).
    pub fn new(computer: &str, domain: &str) -> Self {
        let (c, d) = (computer.to_ascii_lowercase(), domain.to_ascii_lowercase());
        let (dns_computer, dns_domain) = if c == d || d.is_empty() {
            (c.clone(), c)
        } else {
            (format!("{c}.{d}"), d)
        };
        Self::with_names(TargetNames {
            nb_computer: computer.to_string(),
            nb_domain: domain.to_string(),
            dns_computer,
            dns_domain,
        })
    }

    /// Like [`Acceptor::new`] with every target-info name given.
    pub fn with_names(names: TargetNames) -> Self {
        Self {
            names,
            issued: None,
            channel_binding: None,
        }
    }

    /// Check the client's channel binding against `expected` (the
    /// connection's TLS certificate), as Windows' default extended
    /// protection (`CbtHardeningLevel` Relaxed) does: a client that sends
    /// one must send this one; a client that sends none is let in.
    pub fn bound_to_channel(mut self, expected: [u8; 16]) -> Self {
        self.channel_binding = Some(expected);
        self
    }

    /// NEGOTIATE (type 1) in, CHALLENGE (type 2) out.
    pub fn challenge(&mut self, negotiate: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let mut server_challenge = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut server_challenge);
        self.challenge_with(negotiate, server_challenge, filetime_now())
    }

    /// [`Acceptor::challenge`] with a chosen nonce and timestamp (tests).
    pub(crate) fn challenge_with(
        &mut self,
        negotiate: &[u8],
        server_challenge: [u8; 8],
        filetime: u64,
    ) -> Result<Vec<u8>, NtlmError> {
        let neg = parse_negotiate(negotiate)?;
        let is_domain = !self
            .names
            .nb_domain
            .eq_ignore_ascii_case(&self.names.nb_computer);
        let flags = flags::challenge_flags(neg.flags, is_domain)
            .ok_or_else(|| malformed("NEGOTIATE names neither UNICODE nor OEM"))?;
        if flags & flags::EXTENDED_SESSION_SECURITY == 0 {
            return Err(malformed("client did not offer extended session security"));
        }
        let target_name = if flags & flags::UNICODE != 0 {
            utf16le(&self.names.nb_domain)
        } else {
            self.names.nb_domain.bytes().collect()
        };
        let target_info = build_target_info(&self.names, filetime);
        let challenge = build_challenge(&Challenge {
            flags,
            server_challenge,
            target_name: &target_name,
            target_info: &target_info,
        });
        self.issued = Some(Issued {
            negotiate: negotiate.to_vec(),
            challenge: challenge.clone(),
            server_challenge,
            flags,
        });
        Ok(challenge)
    }

    /// AUTHENTICATE (type 3) in. `lookup(domain, user)` gives the NT hash of
    /// the account the client names, or `None` if there is no such account.
    /// The NTLMv2 proof (and the MIC, when present) is verified.
    pub fn authenticate(
        self,
        authenticate: &[u8],
        lookup: &dyn Fn(&str, &str) -> Option<[u8; 16]>,
    ) -> Result<Session, NtlmError> {
        let issued = self
            .issued
            .ok_or_else(|| malformed("AUTHENTICATE before any CHALLENGE"))?;
        let auth = parse_authenticate(authenticate)?;
        let negotiated = auth.flags & issued.flags;
        let (user, domain) = (auth.user.clone(), auth.domain.clone());
        let refused = || NtlmError::BadProof {
            domain: domain.clone(),
            user: user.clone(),
        };

        let hash = lookup(&domain, &user).ok_or_else(|| NtlmError::UnknownAccount {
            domain: domain.clone(),
            user: user.clone(),
        })?;
        // NTLMv1 (24 bytes) and LM-only/anonymous (empty) responses: refused.
        if auth.nt_response.len() <= NTLMV1_LEN {
            return Err(refused());
        }
        let v2 = parse_v2(auth.nt_response)?;
        let response_key = ntowfv2(&hash, &user, &domain);
        if !ct_eq(
            &nt_proof(&response_key, &issued.server_challenge, v2.blob),
            &v2.proof,
        ) {
            return Err(refused());
        }
        if negotiated & flags::EXTENDED_SESSION_SECURITY == 0 {
            return Err(malformed("AUTHENTICATE dropped extended session security"));
        }
        if let (Some(expected), Some(sent)) = (self.channel_binding, v2.channel_bindings)
            && !ct_eq(&expected, &sent)
        {
            // A relayed authentication: bound to another TLS channel.
            return Err(refused());
        }

        let key_exchange_key = session_base_key(&response_key, &v2.proof);
        let exported =
            if negotiated & flags::KEY_EXCH != 0 && negotiated & (flags::SIGN | flags::SEAL) != 0 {
                let enc: &[u8; 16] = auth
                    .encrypted_session_key
                    .try_into()
                    .map_err(|_| malformed("EncryptedRandomSessionKey is not 16 bytes"))?;
                rc4k(&key_exchange_key, enc)
            } else {
                key_exchange_key
            };

        if v2.mic_present {
            let mic = auth
                .mic()
                .ok_or_else(|| malformed("MsvAvFlags promises a MIC the message lacks"))?;
            let zeroed = auth.with_zeroed_mic();
            let expected = hmac_md5(&exported, &[&issued.negotiate, &issued.challenge, &zeroed]);
            if !ct_eq(&expected, mic) {
                return Err(refused());
            }
        }
        Ok(Session::new(
            user,
            domain,
            auth.workstation.clone(),
            &exported,
            negotiated,
        ))
    }
}
