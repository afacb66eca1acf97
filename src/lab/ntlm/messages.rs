//! NTLM messages on the wire (MS-NLMP 2.2.1): NEGOTIATE parsed, CHALLENGE
//! built, AUTHENTICATE parsed strictly (every offset and length checked).

use super::NtlmError;
use super::wire::{
    SIGNATURE, check_header, decode_text, field_range, malformed, push_field, u32_at,
};
use std::ops::Range;

/// Windows Server 2022 (10.0 build 20348), NTLM revision 15.
pub const SERVER_VERSION: [u8; 8] = [10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F];

/// The part of a NEGOTIATE the server needs.
#[derive(Debug, Clone, Copy)]
pub struct Negotiate {
    pub flags: u32,
}

pub fn parse_negotiate(msg: &[u8]) -> Result<Negotiate, NtlmError> {
    check_header(msg, 1, 16)?;
    let flags = u32_at(msg, 12).ok_or_else(|| malformed("NEGOTIATE flags truncated"))?;
    Ok(Negotiate { flags })
}

/// What goes into a CHALLENGE.
pub struct Challenge<'a> {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    /// Already encoded (UTF-16LE or OEM, per `flags`).
    pub target_name: &'a [u8],
    pub target_info: &'a [u8],
}

/// Header (56 bytes, Version always laid out) then TargetName, TargetInfo.
pub fn build_challenge(c: &Challenge<'_>) -> Vec<u8> {
    const HEADER: usize = 56;
    let mut out = Vec::with_capacity(HEADER + c.target_name.len() + c.target_info.len());
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&2u32.to_le_bytes());
    push_field(&mut out, c.target_name.len(), HEADER);
    out.extend_from_slice(&c.flags.to_le_bytes());
    out.extend_from_slice(&c.server_challenge);
    out.extend_from_slice(&[0; 8]);
    push_field(&mut out, c.target_info.len(), HEADER + c.target_name.len());
    out.extend_from_slice(&SERVER_VERSION);
    out.extend_from_slice(c.target_name);
    out.extend_from_slice(c.target_info);
    out
}

/// Offset of the MIC in an AUTHENTICATE (after the 8-byte Version).
pub const MIC_OFFSET: usize = 72;
const MIC_END: usize = MIC_OFFSET + 16;

/// A parsed AUTHENTICATE; byte fields borrow the message.
#[derive(Debug)]
pub struct Authenticate<'a> {
    pub raw: &'a [u8],
    pub flags: u32,
    pub nt_response: &'a [u8],
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub encrypted_session_key: &'a [u8],
    /// Lowest offset of any non-empty payload field (end of the header).
    payload_start: usize,
}

impl<'a> Authenticate<'a> {
    /// The MIC field, if the header is long enough to hold one without
    /// overlapping a payload field.
    pub fn mic(&self) -> Option<&'a [u8]> {
        if self.payload_start < MIC_END {
            return None;
        }
        self.raw.get(MIC_OFFSET..MIC_END)
    }

    /// The message with its MIC field zeroed, as the MIC is computed.
    pub fn with_zeroed_mic(&self) -> Vec<u8> {
        let mut copy = self.raw.to_vec();
        if let Some(mic) = copy.get_mut(MIC_OFFSET..MIC_END) {
            mic.fill(0);
        }
        copy
    }
}

pub fn parse_authenticate(msg: &[u8]) -> Result<Authenticate<'_>, NtlmError> {
    check_header(msg, 3, 64)?;
    let flags = u32_at(msg, 60).ok_or_else(|| malformed("AUTHENTICATE flags truncated"))?;
    // LmChallengeResponse is range-checked but unused: NTLMv2 needs only the NT response.
    let ranges: [(usize, &str); 6] = [
        (12, "LmChallengeResponse"),
        (20, "NtChallengeResponse"),
        (28, "DomainName"),
        (36, "UserName"),
        (44, "Workstation"),
        (52, "EncryptedRandomSessionKey"),
    ];
    let mut got: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for (off, name) in ranges {
        let r = field_range(msg, off, name)?;
        if !r.is_empty() && r.start < 64 {
            return Err(malformed(format!("{name} overlaps the message header")));
        }
        got.push(r);
    }
    let payload_start = got
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.start)
        .min()
        .unwrap_or(msg.len());
    let unicode = flags & super::flags::UNICODE != 0;
    let text = |i: usize, name: &str| decode_text(&msg[got[i].clone()], unicode, name);
    Ok(Authenticate {
        raw: msg,
        flags,
        nt_response: &msg[got[1].clone()],
        domain: text(2, "DomainName")?,
        user: text(3, "UserName")?,
        workstation: text(4, "Workstation")?,
        encrypted_session_key: &msg[got[5].clone()],
        payload_start,
    })
}
