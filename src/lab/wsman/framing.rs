//! The MS-WSMV 2.2.9.1 framing of a sealed (NTLM-encrypted) SOAP body:
//! `multipart/encrypted`, a first part announcing the plaintext `Length`, an
//! octet-stream part holding `u32 LE 16`, the 16-byte NTLM signature and the
//! ciphertext, then `--Encrypted Boundary--` right after the ciphertext.
//!
//! Parsing is strict, as HTTP.sys is: the payload is cut by the announced
//! `Length`, never by searching for the boundary (the ciphertext can hold any
//! bytes), and anything else (a CRLF before the closing boundary, a short
//! payload, a second message) is a framing error, which Windows answers with
//! HTTP 400. Nothing is allocated from a length the peer claims.

/// `Content-Type` of a sealed request or response.
pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";

/// The protocol string of NTLM (and Kerberos) sealing under `Negotiate`.
const PROTOCOL: &str = "application/HTTP-SPNEGO-session-encrypted";
const BOUNDARY: &str = "--Encrypted Boundary";
/// The first line of the octet-stream part.
const OCTET_PART: &str = "--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n";
/// Length of an NTLM message signature (MS-NLMP 2.2.2.9.1).
const SIGNATURE_LEN: usize = 16;

/// Why a sealed body cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("missing opening boundary")]
    NoOpening,
    #[error("missing octet-stream part")]
    NoOctetPart,
    #[error("first part does not declare {PROTOCOL}")]
    WrongProtocol,
    #[error("missing or invalid OriginalContent Length")]
    NoLength,
    #[error("signature length is not 16")]
    BadSignatureLength,
    #[error("payload shorter than its OriginalContent Length")]
    Truncated,
    #[error("closing boundary does not follow the payload")]
    NoClosing,
    #[error("data after the closing boundary")]
    Trailing,
}

/// A parsed sealed body: the NTLM signature and the ciphertext (exactly
/// `Length` bytes), borrowed from the request body.
#[derive(Debug, PartialEq, Eq)]
pub struct Sealed<'a> {
    pub signature: [u8; SIGNATURE_LEN],
    pub ciphertext: &'a [u8],
}

/// Whether a `Content-Type` header announces a sealed body (any multipart
/// encrypted type: the body is then parsed strictly and refused if it is not
/// exactly what Windows accepts).
pub fn is_sealed(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..19)
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/encrypted"))
}

/// Parse a sealed body (see the module documentation).
pub fn parse(body: &[u8]) -> Result<Sealed<'_>, FrameError> {
    let rest = body
        .strip_prefix(BOUNDARY.as_bytes())
        .and_then(|r| r.strip_prefix(b"\r\n"))
        .ok_or(FrameError::NoOpening)?;
    let part_at = find(rest, OCTET_PART.as_bytes()).ok_or(FrameError::NoOctetPart)?;
    let (header, rest) = rest.split_at(part_at);
    let header = std::str::from_utf8(header).map_err(|_| FrameError::WrongProtocol)?;
    let mut protocol_ok = false;
    let mut length = None;
    for line in header
        .split("\r\n")
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if let Some(value) = strip_prefix_ci(line, "Content-Type:") {
            protocol_ok = value.trim().eq_ignore_ascii_case(PROTOCOL);
        } else if let Some(value) = strip_prefix_ci(line, "OriginalContent:") {
            length = original_length(value);
        }
    }
    if !protocol_ok {
        return Err(FrameError::WrongProtocol);
    }
    let length = length.ok_or(FrameError::NoLength)?;
    let payload = &rest[OCTET_PART.len()..];
    let (sig_len, payload) = payload
        .split_first_chunk::<4>()
        .ok_or(FrameError::Truncated)?;
    if u32::from_le_bytes(*sig_len) as usize != SIGNATURE_LEN {
        return Err(FrameError::BadSignatureLength);
    }
    let (signature, payload) = payload
        .split_first_chunk::<SIGNATURE_LEN>()
        .ok_or(FrameError::Truncated)?;
    let ciphertext = payload.get(..length).ok_or(FrameError::Truncated)?;
    let trailer = &payload[length..];
    let after = trailer
        .strip_prefix(BOUNDARY.as_bytes())
        .and_then(|t| t.strip_prefix(b"--"))
        .ok_or(FrameError::NoClosing)?;
    if !(after.is_empty() || after == b"\r\n") {
        return Err(FrameError::Trailing);
    }
    Ok(Sealed {
        signature: *signature,
        ciphertext,
    })
}

/// Frame a sealed message. NTLM's RC4 keeps lengths, so the announced
/// plaintext `Length` is the ciphertext's.
pub fn build(signature: &[u8; SIGNATURE_LEN], ciphertext: &[u8]) -> Vec<u8> {
    let head = format!(
        "{BOUNDARY}\r\n\tContent-Type: {PROTOCOL}\r\n\
         \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={}\r\n\
         {OCTET_PART}",
        ciphertext.len()
    );
    let mut body = Vec::with_capacity(head.len() + 4 + SIGNATURE_LEN + ciphertext.len() + 24);
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(&(SIGNATURE_LEN as u32).to_le_bytes());
    body.extend_from_slice(signature);
    body.extend_from_slice(ciphertext);
    body.extend_from_slice(BOUNDARY.as_bytes());
    body.extend_from_slice(b"--\r\n");
    body
}

/// The `Length=N` of `type=application/soap+xml;charset=UTF-8;Length=N`
/// (at most 10 digits, nothing after them).
fn original_length(value: &str) -> Option<usize> {
    let at = value.find("Length=")?;
    let digits = value[at + "Length=".len()..].trim();
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse_round_trips() {
        let sig = [7u8; 16];
        // Ciphertext that contains the boundary itself: parsing by Length
        // must not be fooled by it.
        let ct = b"abc--Encrypted Boundary--\r\nxyz".to_vec();
        let body = build(&sig, &ct);
        let parsed = parse(&body).unwrap();
        assert_eq!(parsed.signature, sig);
        assert_eq!(parsed.ciphertext, &ct[..]);
    }

    #[test]
    fn the_frame_is_what_pywinrm_sends() {
        let body = build(&[0u8; 16], b"xy");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(
            "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\
             \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=2\r\n\
             --Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\0\0\0"
        ));
        assert!(text.ends_with("xy--Encrypted Boundary--\r\n"));
    }

    #[test]
    fn a_crlf_before_the_closing_boundary_is_refused() {
        let mut body = build(&[1u8; 16], b"hello");
        let close = body.len() - "--Encrypted Boundary--\r\n".len();
        body.splice(close..close, b"\r\n".iter().copied());
        assert_eq!(parse(&body), Err(FrameError::NoClosing));
    }

    #[test]
    fn a_length_that_does_not_match_is_refused() {
        let body = build(&[1u8; 16], b"hello");
        let text = String::from_utf8_lossy(&body).into_owned();
        let longer = text.replace("Length=5", "Length=6").into_bytes();
        assert_eq!(parse(&longer), Err(FrameError::NoClosing));
        let huge = text.replace("Length=5", "Length=4000000000").into_bytes();
        assert_eq!(parse(&huge), Err(FrameError::Truncated));
        let none = text.replace("Length=5", "Length=").into_bytes();
        assert_eq!(parse(&none), Err(FrameError::NoLength));
    }

    #[test]
    fn hostile_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"--Encrypted Boundary\r\n",
            b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\
              \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3\r\n\
              --Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\0",
            b"garbage",
        ] {
            assert!(parse(body).is_err());
        }
        let mut wrong = build(&[1u8; 16], b"hi");
        wrong[22 + 15] = b'X'; // inside the protocol name
        assert_eq!(parse(&wrong), Err(FrameError::WrongProtocol));
    }

    #[test]
    fn sealed_content_types_are_recognised() {
        assert!(is_sealed(CONTENT_TYPE));
        assert!(is_sealed("Multipart/Encrypted;boundary=x"));
        assert!(!is_sealed("application/soap+xml;charset=UTF-8"));
        assert!(!is_sealed(""));
    }
}
