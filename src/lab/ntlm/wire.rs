//! Bounds-checked little-endian reads and NTLM payload fields
//! (`len u16 | maxlen u16 | offset u32`) over untrusted bytes.

use super::NtlmError;
use std::ops::Range;

pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

pub fn malformed(why: impl Into<String>) -> NtlmError {
    NtlmError::Malformed(why.into())
}

pub fn u16_at(buf: &[u8], off: usize) -> Option<u16> {
    let b = buf.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

pub fn u32_at(buf: &[u8], off: usize) -> Option<u32> {
    let b = buf.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Checks the `NTLMSSP\0` signature and the message type.
pub fn check_header(msg: &[u8], msg_type: u32, min_len: usize) -> Result<(), NtlmError> {
    if msg.len() < min_len {
        return Err(malformed(format!(
            "type {msg_type} message too short ({} bytes)",
            msg.len()
        )));
    }
    if &msg[..8] != SIGNATURE {
        return Err(malformed("missing NTLMSSP signature"));
    }
    match u32_at(msg, 8) {
        Some(t) if t == msg_type => Ok(()),
        Some(t) => Err(malformed(format!(
            "expected message type {msg_type}, got {t}"
        ))),
        None => Err(malformed("truncated message type")),
    }
}

/// The byte range a payload field at `header_off` points to, validated
/// against the message length. An empty field is `0..0` whatever its offset.
pub fn field_range(msg: &[u8], header_off: usize, name: &str) -> Result<Range<usize>, NtlmError> {
    let truncated = || malformed(format!("{name} field header truncated"));
    let len = usize::from(u16_at(msg, header_off).ok_or_else(truncated)?);
    let off = u32_at(msg, header_off + 4).ok_or_else(truncated)?;
    if len == 0 {
        return Ok(0..0);
    }
    let start =
        usize::try_from(off).map_err(|_| malformed(format!("{name} offset out of range")))?;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= msg.len())
        .ok_or_else(|| {
            malformed(format!(
                "{name} ({len} bytes at {start}) runs past the message"
            ))
        })?;
    Ok(start..end)
}

/// Decodes a text field: UTF-16LE when UNICODE was negotiated, else OEM
/// (taken as Latin-1, which is exact for ASCII).
pub fn decode_text(bytes: &[u8], unicode: bool, name: &str) -> Result<String, NtlmError> {
    if !unicode {
        return Ok(bytes.iter().map(|&b| char::from(b)).collect());
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(malformed(format!("{name} has an odd UTF-16 length")));
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| malformed(format!("{name} is not valid UTF-16")))
}

pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Appends a payload field header pointing at `offset`.
pub fn push_field(out: &mut Vec<u8>, len: usize, offset: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    let offset = u32::try_from(offset).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
}
