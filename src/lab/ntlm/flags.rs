//! NTLM negotiate flags (MS-NLMP 2.2.2.5) and the set this acceptor offers.

pub const UNICODE: u32 = 0x0000_0001;
pub const OEM: u32 = 0x0000_0002;
pub const REQUEST_TARGET: u32 = 0x0000_0004;
pub const SIGN: u32 = 0x0000_0010;
pub const SEAL: u32 = 0x0000_0020;
pub const LM_KEY: u32 = 0x0000_0080;
pub const NTLM: u32 = 0x0000_0200;
pub const ALWAYS_SIGN: u32 = 0x0000_8000;
pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
pub const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
pub const TARGET_INFO: u32 = 0x0080_0000;
pub const VERSION: u32 = 0x0200_0000;
pub const KEY_128: u32 = 0x2000_0000;
pub const KEY_EXCH: u32 = 0x4000_0000;
pub const KEY_56: u32 = 0x8000_0000;

/// Flags echoed back only when the client asked for them.
pub const ECHOED: u32 =
    SIGN | SEAL | EXTENDED_SESSION_SECURITY | VERSION | KEY_128 | KEY_EXCH | KEY_56;

/// Flags the CHALLENGE always carries (besides the text encoding and target type).
pub const ALWAYS: u32 = REQUEST_TARGET | NTLM | ALWAYS_SIGN | TARGET_INFO;

/// The CHALLENGE flags for a client NEGOTIATE's flags, as Windows and
/// pyspnego answer: the client's security options echoed, plus the fixed
/// set. `target_is_domain` picks TARGET_TYPE_DOMAIN over _SERVER. `None` if
/// the client named no text encoding.
///
/// A pyspnego/requests-ntlm NEGOTIATE gives `0xE28A8235` for a server
/// target (`0xE2898235` for a domain target).
pub fn challenge_flags(client: u32, target_is_domain: bool) -> Option<u32> {
    let encoding = if client & UNICODE != 0 {
        UNICODE
    } else if client & OEM != 0 {
        OEM
    } else {
        return None;
    };
    let target = if target_is_domain {
        TARGET_TYPE_DOMAIN
    } else {
        TARGET_TYPE_SERVER
    };
    Some(encoding | ALWAYS | target | (client & ECHOED))
}
