//! One value on the wire between the Rust side and `runtime.ps1`: a single
//! token that is never empty and never holds a space, a quote or a line
//! break, so no value can forge a field, a line or the end of a
//! here-string.
//!
//! ```text
//! token = "-"                ; the empty value
//!       | BASE64             ; the UTF-8 of a non-empty text
//!       | "u16:" BASE64      ; the UTF-16LE code units of a non-empty text,
//!                            ; exactly (unpaired surrogates included)
//! ```
//!
//! `BASE64` is standard base64 with padding (RFC 4648 §4), canonical: it
//! is exactly what encoding its bytes gives (readers re-encode and
//! compare), and decodes to at least one byte. A `u16:` value has an even
//! number of bytes. A writer uses the UTF-8 form whenever the text is valid
//! Unicode and the `u16:` form only when it is not (a name with an unpaired
//! surrogate, which NTFS and the registry accept); a reader accepts both.
//! The UTF-8 form must be valid UTF-8 (no encoded surrogates, no overlong
//! forms).
//!
//! Raw bytes (a file chunk) are `-` or the base64 of the bytes.
//!
//! Both directions use these tokens: the job's fields (see `job`) and the
//! results' values (see `results`). `runtime.ps1` implements the same rules
//! (`ConvertFrom-CzToken`, `ConvertTo-CzToken`); the job's test vectors
//! (`tests/data/job-vectors.txt`) hold both readers to them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::host_text;

/// The token of the empty value.
pub const EMPTY: &str = "-";
/// Prefix of the UTF-16LE form.
pub const WIDE: &str = "u16:";

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a value is empty (the empty value is written `-`)")]
    Empty,
    #[error("a value is not canonical base64")]
    Base64,
    #[error("a u16: value has an odd number of bytes")]
    OddLength,
    #[error("a value is not valid UTF-8")]
    Utf8,
    #[error("a value holds an unpaired UTF-16 surrogate")]
    Unpaired,
}

/// The token of a text.
pub fn encode_text(text: &str) -> String {
    if text.is_empty() {
        EMPTY.to_string()
    } else {
        STANDARD.encode(text.as_bytes())
    }
}

/// The token of a text given as UTF-16 code units (any, unpaired
/// surrogates included).
pub fn encode_units(units: &[u16]) -> String {
    if units.is_empty() {
        return EMPTY.to_string();
    }
    match String::from_utf16(units) {
        Ok(text) => encode_text(&text),
        Err(_) => {
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            format!("{WIDE}{}", STANDARD.encode(bytes))
        }
    }
}

/// The bytes of canonical, non-empty base64.
fn canonical(b64: &str) -> Result<Vec<u8>, TokenError> {
    let bytes = STANDARD.decode(b64).map_err(|_| TokenError::Base64)?;
    if bytes.is_empty() || STANDARD.encode(&bytes) != b64 {
        return Err(TokenError::Base64);
    }
    Ok(bytes)
}

/// The bytes of a token of raw bytes (see [`encode_bytes`]).
pub fn decode_bytes(token: &str) -> Result<Vec<u8>, TokenError> {
    match token {
        "" => Err(TokenError::Empty),
        EMPTY => Ok(Vec::new()),
        t => canonical(t),
    }
}

/// A token's text as UTF-16 code units, exactly.
pub fn decode_units(token: &str) -> Result<Vec<u16>, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token == EMPTY {
        return Ok(Vec::new());
    }
    if let Some(b64) = token.strip_prefix(WIDE) {
        let bytes = canonical(b64)?;
        if bytes.len() % 2 != 0 {
            return Err(TokenError::OddLength);
        }
        return Ok(bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect());
    }
    let bytes = canonical(token)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::Utf8)?;
    Ok(text.encode_utf16().collect())
}

/// A token's text; a text with an unpaired surrogate is refused.
pub fn decode_text(token: &str) -> Result<String, TokenError> {
    String::from_utf16(&decode_units(token)?).map_err(|_| TokenError::Unpaired)
}

/// A token's text in the held form of [`super::host_text`] (exact).
pub fn decode_held(token: &str) -> Result<String, TokenError> {
    if token != EMPTY && !token.starts_with(WIDE) {
        // The UTF-8 form: real text, no detour through UTF-16.
        let bytes = canonical(token)?;
        let text = String::from_utf8(bytes).map_err(|_| TokenError::Utf8)?;
        return Ok(host_text::from_text(&text));
    }
    Ok(host_text::from_units(&decode_units(token)?))
}

/// The token of held-form text (exact: unpaired surrogates as `u16:`).
pub fn encode_held(held: &str) -> String {
    if host_text::is_plain(held) {
        encode_text(held)
    } else {
        encode_units(&host_text::units(held))
    }
}

/// The token of raw bytes (`-` when there are none): base64 of the bytes
/// themselves, which carry no text encoding (a file chunk).
pub fn encode_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        EMPTY.to_string()
    } else {
        STANDARD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips() {
        for text in ["", "x", "Пётр 🦀", "a b\r\n'@"] {
            let t = encode_text(text);
            assert!(!t.is_empty() && !t.contains([' ', '\n', '\r', '\'']));
            assert_eq!(decode_text(&t).as_deref(), Ok(text));
        }
        let lone = [0x43, 0xD800, 0x78];
        let t = encode_units(&lone);
        assert!(t.starts_with(WIDE), "{t}");
        assert_eq!(decode_units(&t), Ok(lone.to_vec()));
        assert_eq!(decode_text(&t), Err(TokenError::Unpaired));
        // Valid UTF-16 is written as UTF-8.
        let crab: Vec<u16> = "🦀".encode_utf16().collect();
        assert_eq!(encode_units(&crab), encode_text("🦀"));
        // The held form goes out exactly and comes back the same.
        let held = host_text::from_units(&lone);
        assert_eq!(encode_held(&held), t);
        assert_eq!(decode_held(&t).as_deref(), Ok(held.as_str()));
        assert_eq!(decode_held(&encode_text("x")).as_deref(), Ok("x"));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert_eq!(decode_text(""), Err(TokenError::Empty));
        assert_eq!(decode_text("!!"), Err(TokenError::Base64));
        assert_eq!(decode_text("QR=="), Err(TokenError::Base64), "non-canonical");
        assert_eq!(decode_text("QQ"), Err(TokenError::Base64), "no padding");
        assert_eq!(decode_text("u16:"), Err(TokenError::Base64));
        assert_eq!(decode_text("u16:QQ=="), Err(TokenError::OddLength));
        assert_eq!(decode_text("7aCA"), Err(TokenError::Utf8), "encoded surrogate");
        assert_eq!(decode_text("wIA="), Err(TokenError::Utf8), "overlong");
    }
}
