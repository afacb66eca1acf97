//! AV_PAIR lists (MS-NLMP 2.2.2.1): the target info the CHALLENGE carries,
//! and reading the list a client echoes in its NTLMv2 blob.

use super::NtlmError;
use super::wire::{malformed, u16_at, u32_at, utf16le};

pub const EOL: u16 = 0;
pub const NB_COMPUTER_NAME: u16 = 1;
pub const NB_DOMAIN_NAME: u16 = 2;
pub const DNS_COMPUTER_NAME: u16 = 3;
pub const DNS_DOMAIN_NAME: u16 = 4;
pub const FLAGS: u16 = 6;
pub const TIMESTAMP: u16 = 7;
pub const CHANNEL_BINDINGS: u16 = 10;

/// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
pub const FLAG_MIC_PRESENT: u32 = 0x0000_0002;

/// Names a host puts in its CHALLENGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetNames {
    pub nb_computer: String,
    pub nb_domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
}

fn push(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(value);
}

/// Target info in Windows' order: NbDomain, NbComputer, DnsDomain,
/// DnsComputer, Timestamp (FILETIME), EOL.
pub fn build_target_info(names: &TargetNames, filetime: u64) -> Vec<u8> {
    let mut out = Vec::new();
    push(&mut out, NB_DOMAIN_NAME, &utf16le(&names.nb_domain));
    push(&mut out, NB_COMPUTER_NAME, &utf16le(&names.nb_computer));
    push(&mut out, DNS_DOMAIN_NAME, &utf16le(&names.dns_domain));
    push(&mut out, DNS_COMPUTER_NAME, &utf16le(&names.dns_computer));
    push(&mut out, TIMESTAMP, &filetime.to_le_bytes());
    push(&mut out, EOL, &[]);
    out
}

/// Parsed AV pairs: (id, value) in wire order, up to (not including) EOL.
#[derive(Debug, Default)]
pub struct AvPairs<'a> {
    pub pairs: Vec<(u16, &'a [u8])>,
}

impl<'a> AvPairs<'a> {
    /// Parses a list that must end with MsvAvEOL inside `buf` (trailing
    /// bytes after EOL, such as the blob's Z(4), are ignored).
    pub fn parse(buf: &'a [u8]) -> Result<Self, NtlmError> {
        let mut pairs = Vec::new();
        let mut at = 0usize;
        loop {
            let id = u16_at(buf, at).ok_or_else(|| malformed("AV pair list has no EOL"))?;
            let len = usize::from(
                u16_at(buf, at + 2).ok_or_else(|| malformed("AV pair header truncated"))?,
            );
            let start = at + 4;
            let value = buf
                .get(start..start + len)
                .ok_or_else(|| malformed(format!("AV pair {id} runs past its buffer")))?;
            if id == EOL {
                return Ok(Self { pairs });
            }
            pairs.push((id, value));
            at = start + len;
        }
    }

    pub fn get(&self, id: u16) -> Option<&'a [u8]> {
        self.pairs.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
    }

    /// MsvAvFlags, 0 when absent; a wrongly sized value is malformed.
    pub fn flags(&self) -> Result<u32, NtlmError> {
        match self.get(FLAGS) {
            None => Ok(0),
            Some(v) if v.len() == 4 => {
                u32_at(v, 0).ok_or_else(|| malformed("MsvAvFlags truncated"))
            }
            Some(v) => Err(malformed(format!(
                "MsvAvFlags has {} bytes, not 4",
                v.len()
            ))),
        }
    }
}
