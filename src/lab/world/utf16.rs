//! Windows names are UTF-16, and NTFS and the registry accept any sequence
//! of 16-bit units, unpaired surrogates included. The lab stores names as
//! Rust `String`s, which cannot hold an unpaired surrogate, so it maps each
//! one to a character of its own:
//!
//! unpaired surrogate `U+D800 + k` (k in 0..2048) <-> `U+10F800 + k`
//!
//! (the last 2,048 code points of plane 16, private use). The mapping is
//! lossless for every name a lab host can hold; the price is that those
//! 2,048 private-use characters themselves cannot appear in a lab host's
//! names (a real name holding one reads back as an unpaired surrogate).
//! The PowerShell engine (`lab::powershell`) uses the same mapping for its
//! strings, so a name passes between the engine and the host model without
//! conversion, and `.Length`, `Substring` and `IndexOf` count UTF-16 units
//! as .NET does ([`len`], [`units`], [`from_units`]).

/// First character that stands for an unpaired surrogate.
pub const LONE_BASE: u32 = 0x10_F800;

/// The unpaired surrogate a character stands for, if it is one of the
/// mapped characters.
pub fn lone_surrogate(c: char) -> Option<u16> {
    let v = c as u32;
    (v >= LONE_BASE).then(|| (0xD800 + (v - LONE_BASE)) as u16)
}

/// The character that stands for an unpaired surrogate unit.
pub fn lone_char(unit: u16) -> char {
    debug_assert!((0xD800..0xE000).contains(&unit));
    char::from_u32(LONE_BASE + u32::from(unit - 0xD800)).unwrap_or('\u{FFFD}')
}

/// UTF-16 units of a character (one or two).
pub fn char_units(c: char) -> ([u16; 2], usize) {
    if let Some(u) = lone_surrogate(c) {
        return ([u, 0], 1);
    }
    let mut buf = [0u16; 2];
    let n = c.encode_utf16(&mut buf).len();
    (buf, n)
}

/// Number of UTF-16 units of a character.
pub fn char_len(c: char) -> usize {
    if (c as u32) < 0x1_0000 || lone_surrogate(c).is_some() { 1 } else { 2 }
}

/// Length in UTF-16 units (.NET's `String.Length`).
pub fn len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char_len).sum()
}

/// The UTF-16 units of a lab string.
pub fn units(s: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let (u, n) = char_units(c);
        out.extend_from_slice(&u[..n]);
    }
    out
}

/// A lab string from UTF-16 units: pairs become characters, unpaired
/// surrogates their mapped characters.
pub fn from_units(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or_else(|e| lone_char(e.unpaired_surrogate())))
        .collect()
}

/// Byte offset in `s` of UTF-16 index `idx` (`None` past the end or inside
/// a surrogate pair).
pub fn byte_offset(s: &str, idx: usize) -> Option<usize> {
    if s.is_ascii() {
        return (idx <= s.len()).then_some(idx);
    }
    let mut n = 0;
    for (b, c) in s.char_indices() {
        if n == idx {
            return Some(b);
        }
        n += char_len(c);
        if n > idx {
            return None;
        }
    }
    (n == idx).then_some(s.len())
}

/// UTF-16 index of byte offset `b` of `s`.
pub fn index_of_byte(s: &str, b: usize) -> usize {
    len(&s[..b])
}

/// UTF-8 as .NET's `Encoding.UTF8` writes it: an unpaired surrogate
/// becomes U+FFFD (EF BF BD), as Windows' encoder replaces it.
pub fn to_utf8_lossy(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| lone_surrogate(c).is_some()) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.chars().map(|c| if lone_surrogate(c).is_some() { '\u{FFFD}' } else { c }).collect())
}

/// Whether a string holds an unpaired surrogate.
pub fn has_lone_surrogate(s: &str) -> bool {
    !s.is_ascii() && s.chars().any(|c| lone_surrogate(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_round_trip_and_count_one_unit() {
        let raw: Vec<u16> = vec![b'a' as u16, 0xD800, b'b' as u16, 0xDFFF, 0xD83E, 0xDD80];
        let s = from_units(&raw);
        assert_eq!(units(&s), raw);
        assert_eq!(len(&s), 6);
        assert_eq!(s.chars().count(), 5, "the pair is one character, each lone unit one");
        assert!(has_lone_surrogate(&s));
        assert_eq!(to_utf8_lossy(&s), "a\u{FFFD}b\u{FFFD}🦀");
    }

    #[test]
    fn offsets_follow_utf16_units() {
        let s = "é🦀x";
        assert_eq!(len(s), 4);
        assert_eq!(byte_offset(s, 0), Some(0));
        assert_eq!(byte_offset(s, 1), Some(2));
        assert_eq!(byte_offset(s, 2), None, "inside the pair");
        assert_eq!(byte_offset(s, 3), Some(6));
        assert_eq!(byte_offset(s, 4), Some(7));
        assert_eq!(byte_offset(s, 5), None);
        assert_eq!(index_of_byte(s, 6), 3);
    }
}
