//! Text from hosts is hostile: a crafted value could carry terminal escape
//! sequences. Everything shown on a terminal goes through [`terminal_safe`].
//! Pure.

/// `text` with control characters (C0, DEL, C1, and the bidi overrides)
/// shown as `\u{..}` escapes; newlines and tabs are kept, CR dropped before
/// LF. A host text's unpaired surrogate is shown as `\u{D800}` (and a real
/// `\u{` as `\u{5C}u{`, see `runtime::host_text`). JSON output needs none
/// of this: serde escapes it (and keeps the held form).
pub fn terminal_safe(text: &str) -> String {
    let text = crate::runtime::host_text::shown(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}') =>
            {
                out.extend(c.escape_unicode())
            }
            c => out.push(c),
        }
    }
    out
}

/// One line: like [`terminal_safe`], with line breaks turned into spaces.
pub fn one_line(text: &str) -> String {
    let joined: Vec<&str> = text
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    terminal_safe(&joined.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(terminal_safe("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal_safe("l1\r\nl2\tx"), "l1\nl2\tx");
        assert_eq!(terminal_safe("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(terminal_safe("Пётр 🦀"), "Пётр 🦀");
        let lone = crate::runtime::host_text::from_units(&[0x78, 0xD800]);
        assert_eq!(terminal_safe(&lone), "x\\u{D800}");
    }

    #[test]
    fn one_line_joins() {
        assert_eq!(one_line("a\r\n\r\n  b  \n"), "a b");
    }
}
