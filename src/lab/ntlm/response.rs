//! The NTLMv2 response (MS-NLMP 2.2.2.8): NTProofStr followed by the
//! client's blob, whose AV pairs say whether a MIC was sent.

use super::NtlmError;
use super::avpairs::{AvPairs, CHANNEL_BINDINGS, FLAG_MIC_PRESENT};
use super::wire::malformed;

/// Length of an NTLMv1 NtChallengeResponse; NTLMv2 ones are longer.
pub const NTLMV1_LEN: usize = 24;
/// RespType, HiRespType, Z(6), TimeStamp, ChallengeFromClient, Z(4).
const BLOB_FIXED: usize = 28;

#[derive(Debug)]
pub struct NtV2Response<'a> {
    pub proof: [u8; 16],
    /// Everything after NTProofStr, exactly as the client sent it.
    pub blob: &'a [u8],
    pub mic_present: bool,
    /// MsvAvChannelBindings (absent, or all zero: the client binds to no
    /// channel); a value that is not 16 bytes is malformed.
    pub channel_bindings: Option<[u8; 16]>,
}

/// Parses an NtChallengeResponse known to be longer than NTLMv1's.
pub fn parse_v2(nt: &[u8]) -> Result<NtV2Response<'_>, NtlmError> {
    if nt.len() < 16 + BLOB_FIXED + 4 {
        return Err(malformed(format!(
            "NTLMv2 response too short ({} bytes)",
            nt.len()
        )));
    }
    let (proof, blob) = nt.split_at(16);
    if blob[0] != 1 || blob[1] != 1 {
        return Err(malformed(format!(
            "NTLMv2 blob version {}.{}, expected 1.1",
            blob[0], blob[1]
        )));
    }
    let pairs = AvPairs::parse(&blob[BLOB_FIXED..])?;
    let mut p = [0u8; 16];
    p.copy_from_slice(proof);
    let channel_bindings = match pairs.get(CHANNEL_BINDINGS) {
        None => None,
        Some(v) => {
            let cbt: [u8; 16] = v
                .try_into()
                .map_err(|_| malformed(format!("MsvAvChannelBindings has {} bytes, not 16", v.len())))?;
            (cbt != [0u8; 16]).then_some(cbt)
        }
    };
    Ok(NtV2Response {
        proof: p,
        blob,
        mic_present: pairs.flags()? & FLAG_MIC_PRESENT != 0,
        channel_bindings,
    })
}
