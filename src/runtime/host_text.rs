//! Text from a Windows host, kept exactly: names there are UTF-16 and NTFS
//! and the registry accept any code units, unpaired surrogates included,
//! which no Rust `String` (and no UTF-8) can hold. A loader that names its
//! file or value with one must still be matched and deleted, so such names
//! are never turned into U+FFFD on the way.
//!
//! Two forms, both total and lossless over every sequence of UTF-16 code
//! units:
//!
//! - **The held form** ([`from_units`], [`units`]): a Rust `String` in which
//!   every unpaired surrogate `S` is the one private-use character
//!   `U+100000 + S` (`U+10D800`..`U+10DFFF`), and a real character of that
//!   range, or [`ESCAPE`] (`U+10FFFD`) itself, is written with `ESCAPE`
//!   before it. Any text without those plane-16 characters (all real text)
//!   is itself. Every host text in the snapshot, the findings and the
//!   journal is in this form, so path and command-line code works on it
//!   unchanged (an unpaired surrogate is one opaque character, never a
//!   backslash, quote or space) and two names that differ only in their
//!   surrogates stay different.
//! - **The shown form** ([`shown`], [`HostName`]'s `Display` and serde
//!   form): what people read and what the plan file carries. An unpaired
//!   surrogate is `\u{D800}` (hex, upper-case, four digits) and a real
//!   backslash that is followed by `u{` is `\u{5C}`; every other character
//!   is itself. So `C:\Users\x` reads as itself, and `\u{D800}` can never be
//!   mistaken for a real backslash sequence. [`parse_shown`] reads it back.
//!
//! [`HostName`] is a name that flows into an operation (a path, a registry
//! key or value name, a task path, a service or WMI name): it holds the
//! held form, dereferences to it for matching, and gives the exact code
//! units to the job encoder.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Held-form character written before a real character of the reserved
/// range (or before itself).
pub const ESCAPE: char = '\u{10FFFD}';
const BASE: u32 = 0x10_0000;

fn placeholder(unit: u16) -> char {
    char::from_u32(BASE + u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The unpaired surrogate a held-form character stands for, if it is a
/// placeholder.
fn surrogate_of(c: char) -> Option<u16> {
    let v = c as u32;
    (BASE + 0xD800..=BASE + 0xDFFF)
        .contains(&v)
        .then(|| (v - BASE) as u16)
}

fn reserved(c: char) -> bool {
    c == ESCAPE || surrogate_of(c).is_some()
}

/// The held form of these code units.
pub fn from_units(units: &[u16]) -> String {
    let mut out = String::with_capacity(units.len());
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(c) => {
                if reserved(c) {
                    out.push(ESCAPE);
                }
                out.push(c);
            }
            Err(e) => out.push(placeholder(e.unpaired_surrogate())),
        }
    }
    out
}

/// The held form of real text (no unpaired surrogates).
pub fn from_text(text: &str) -> String {
    if !text.chars().any(reserved) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if reserved(c) {
            out.push(ESCAPE);
        }
        out.push(c);
    }
    out
}

/// The exact code units of held-form text (an `ESCAPE` at the very end
/// stands for itself).
pub fn units(held: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(held.len());
    let mut chars = held.chars();
    while let Some(c) = chars.next() {
        let c = if c == ESCAPE {
            chars.next().unwrap_or(ESCAPE)
        } else if let Some(s) = surrogate_of(c) {
            out.push(s);
            continue;
        } else {
            c
        };
        let mut b = [0u16; 2];
        out.extend_from_slice(c.encode_utf16(&mut b));
    }
    out
}

/// Whether held-form text is plain text (no placeholder, no escape): then
/// it is exactly what the host has.
pub fn is_plain(held: &str) -> bool {
    !held.chars().any(reserved)
}

/// The shown form of held-form text (see the module documentation).
pub fn shown(held: &str) -> String {
    if is_plain(held) && !held.contains("\\u{") {
        return held.to_string();
    }
    shown_units(&units(held))
}

fn shown_units(units: &[u16]) -> String {
    let decoded: Vec<Result<char, u16>> = char::decode_utf16(units.iter().copied())
        .map(|r| r.map_err(|e| e.unpaired_surrogate()))
        .collect();
    let mut out = String::with_capacity(units.len() + 8);
    for (i, r) in decoded.iter().enumerate() {
        match r {
            Ok('\\')
                if decoded.get(i + 1) == Some(&Ok('u'))
                    && decoded.get(i + 2) == Some(&Ok('{')) =>
            {
                out.push_str("\\u{5C}")
            }
            Ok(c) => out.push(*c),
            Err(s) => out.push_str(&format!("\\u{{{s:04X}}}")),
        }
    }
    out
}

/// Why shown-form text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`\\u{{` at character {at} is not followed by 1 to 4 hex digits and `}}`")]
pub struct ShownError {
    pub at: usize,
}

/// The held form of shown-form text.
pub fn parse_shown(text: &str) -> Result<String, ShownError> {
    if !text.contains("\\u{") {
        return Ok(from_text(text));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<u16> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'u') && chars.get(i + 2) == Some(&'{') {
            let hex: String = chars[i + 3..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            let close = i + 3 + hex.len();
            if hex.is_empty() || hex.len() > 4 || chars.get(close) != Some(&'}') {
                return Err(ShownError { at: i });
            }
            out.push(u16::from_str_radix(&hex, 16).map_err(|_| ShownError { at: i })?);
            i = close + 1;
            continue;
        }
        let mut b = [0u16; 2];
        out.extend_from_slice(chars[i].encode_utf16(&mut b));
        i += 1;
    }
    Ok(from_units(&out))
}

/// A name from a host that an operation acts on, exact (see the module
/// documentation): it dereferences to its held form, shows and serialises
/// as its shown form, and [`HostName::units`] are what the host has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostName(String);

impl HostName {
    /// From real text (a reserved character is escaped, see the module
    /// documentation).
    pub fn from_text(text: &str) -> HostName {
        HostName(from_text(text))
    }
    pub fn from_units(units: &[u16]) -> HostName {
        HostName(from_units(units))
    }
    /// The exact UTF-16 code units.
    pub fn units(&self) -> Vec<u16> {
        units(&self.0)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether it is plain text (no unpaired surrogate).
    pub fn is_plain(&self) -> bool {
        is_plain(&self.0)
    }
}

impl std::ops::Deref for HostName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for HostName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Held-form text (which every text without plane-16 private-use
/// characters is); never read as the shown form.
impl From<&str> for HostName {
    fn from(held: &str) -> HostName {
        HostName(held.to_string())
    }
}

/// Held-form text, as [`From<&str>`].
impl From<String> for HostName {
    fn from(held: String) -> HostName {
        HostName(held)
    }
}

impl PartialEq<str> for HostName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for HostName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for HostName {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shown(&self.0))
    }
}

impl Serialize for HostName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&shown(&self.0))
    }
}

impl<'de> Deserialize<'de> for HostName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HostName, D::Error> {
        let text = String::deserialize(d)?;
        parse_shown(&text)
            .map(HostName)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn every_unit_sequence_round_trips_through_both_forms() {
        let mut cases: Vec<Vec<u16>> = vec![
            u(r"C:\Users\bob\AppData\Roaming\x.dll"),
            u("Пётр 🦀"),
            vec![],
            vec![0xD800],
            vec![0xDC00, 0x41, 0xD83E],
            [u(r"C:\x\evil"), vec![0xDBFF], u(".exe")].concat(),
            u(r"\u{D800} is text"),
            u(r"a\u{"),
            u("\u{10D800}\u{10FFFD}\u{10DFFF}x\u{10FFFD}"),
        ];
        // A surrogate pair split by a lone one, and the reverse order.
        cases.push(vec![0xD83E, 0xD83E, 0xDD80, 0xDD80]);
        for c in cases {
            let held = from_units(&c);
            assert_eq!(units(&held), c, "{held:?}");
            let shown = shown(&held);
            assert_eq!(parse_shown(&shown).map(|h| units(&h)), Ok(c.clone()), "{shown}");
            let name = HostName::from_units(&c);
            let json = serde_json::to_string(&name).expect("serialises");
            let back: HostName = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, name);
            assert_eq!(back.units(), c);
        }
    }

    #[test]
    fn shown_form_is_readable_and_never_ambiguous() {
        let lone = HostName::from_units(&[u(r"C:\x\evil"), vec![0xD800], u(".exe")].concat());
        assert_eq!(lone.to_string(), r"C:\x\evil\u{D800}.exe");
        // The same characters as real text show differently.
        let text = HostName::from_text(r"C:\x\evil\u{D800}.exe");
        assert_eq!(text.to_string(), r"C:\x\evil\u{5C}u{D800}.exe");
        assert_ne!(lone, text);
        // Plain paths are shown as they are.
        assert_eq!(HostName::from_text(r"C:\Users\x").to_string(), r"C:\Users\x");
        // Path code sees one opaque character, never a separator.
        assert_eq!(lone.rsplit('\\').next().map(|s| s.chars().count()), Some(9));
        assert!(!lone.is_plain() && text.is_plain());
        // Two lone surrogates stay two names.
        assert_ne!(HostName::from_units(&[0xD800]), HostName::from_units(&[0xD801]));
    }

    #[test]
    fn malformed_shown_text_is_refused() {
        for bad in [r"\u{}", r"\u{12345}", r"\u{D800", r"x\u{zz}"] {
            assert!(parse_shown(bad).is_err(), "{bad}");
        }
    }
}
