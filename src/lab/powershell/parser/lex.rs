//! Character-level scanning for the parser: PowerShell's character classes
//! (Unicode dashes and quotes count as `-`, `'` and `"`), trivia (blanks,
//! comments, backtick line continuations), numbers and words. The parser
//! decides the mode (expression or argument); this file only reads
//! characters.

/// A position in the source and the characters around it.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'s> {
    pub src: &'s str,
    pub pos: usize,
}

pub fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

pub fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{000B}' | '\u{000C}' | '\u{00A0}' | '\u{0085}' | '\u{FEFF}')
        || (c > '\u{7f}' && c.is_whitespace() && !matches!(c, '\u{2028}' | '\u{2029}'))
}

pub fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// Characters of a variable name (`$name`).
pub fn is_var_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters of a member name after `.` / `::`.
pub fn is_member_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that end a bare word in argument mode.
pub fn ends_word(c: char) -> bool {
    is_blank(c) || is_newline(c) || matches!(c, '{' | '}' | '(' | ')' | ';' | ',' | '|' | '&')
}

impl<'s> Cursor<'s> {
    pub fn new(src: &'s str) -> Self {
        Cursor { src, pos: 0 }
    }

    pub fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// The character `n` characters ahead.
    pub fn peek_n(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    /// Skip blanks, comments and line continuations; newlines too when
    /// `newlines`. Returns whether anything was skipped. An unterminated
    /// block comment runs to the end.
    pub fn skip_trivia(&mut self, newlines: bool) -> bool {
        let start = self.pos;
        loop {
            let Some(c) = self.peek() else { break };
            if is_blank(c) {
                self.bump();
            } else if newlines && is_newline(c) {
                self.bump();
            } else if c == '`' && matches!(self.peek_n(1), Some('\n') | Some('\r')) {
                self.bump();
                if self.eat('\r') {
                    self.eat('\n');
                } else {
                    self.bump();
                }
            } else if c == '<' && self.peek_n(1) == Some('#') {
                match self.rest()[2..].find("#>") {
                    Some(i) => self.pos += 2 + i + 2,
                    None => self.pos = self.src.len(),
                }
            } else if c == '#' {
                let end = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
                self.pos += end;
            } else {
                break;
            }
        }
        self.pos != start
    }

    /// A run of characters for which `f` holds.
    pub fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'s str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// The bare word at the cursor (not consumed): letters, digits, `-`,
    /// `_` and other characters up to a blank or a metacharacter.
    pub fn word_ahead(&self) -> &'s str {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|&(_, c)| ends_word(c) || is_single_quote(c) || is_double_quote(c) || matches!(c, '$' | '[' | '=' | ':' | '.'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Whether a keyword is at the cursor (case-insensitive, followed by a
    /// character that cannot continue a bare word).
    pub fn at_keyword(&self, kw: &str) -> bool {
        let rest = self.rest();
        if rest.len() < kw.len() || !rest.is_char_boundary(kw.len()) || !rest[..kw.len()].eq_ignore_ascii_case(kw) {
            return false;
        }
        match rest[kw.len()..].chars().next() {
            None => true,
            Some(c) => ends_word(c) || c == '$' || is_single_quote(c) || is_double_quote(c),
        }
    }
}

/// A number literal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i32),
    Long(i64),
    Double(f64),
}

/// Read a number literal at the start of `text` as PowerShell's tokenizer
/// does: decimal, `0x` hex, a fraction or exponent, the `l`/`d` type
/// suffixes and the `kb`..`pb` multipliers. Returns the number and the
/// length read, `None` when the text does not start with one. The caller
/// checks what follows (a number must end at a token boundary).
pub fn number(text: &str) -> Option<(Number, usize)> {
    let b = text.as_bytes();
    let mut i = 0;
    if b.len() >= 3 && b[0] == b'0' && (b[1] | 0x20) == b'x' && b[2].is_ascii_hexdigit() {
        i = 2;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let digits = &text[2..i];
        let long_suffix = i < b.len() && (b[i] | 0x20) == b'l';
        if long_suffix {
            i += 1;
        }
        let v = u64::from_str_radix(digits, 16).ok()?;
        let (n, mlen) = multiplier(&text[i..]);
        i += mlen;
        let num = if !long_suffix && v <= u64::from(u32::MAX) {
            // 0xFFFFFFFF is Int32 -1, as in PowerShell.
            Number::Int(v as u32 as i32)
        } else {
            Number::Long(v as i64)
        };
        return Some((scale(num, n)?, i));
    }
    let start_digits = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut is_real = false;
    if i < b.len() && b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
        is_real = true;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    } else if i < b.len() && b[i] == b'.' && i > start_digits && !(i + 1 < b.len() && b[i + 1] == b'.') {
        // `1.` is 1.0 (but `1..2` is a range).
        let next = b.get(i + 1).copied();
        if next.is_none_or(|n| !n.is_ascii_alphabetic()) {
            is_real = true;
            i += 1;
        }
    }
    if i == start_digits {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            is_real = true;
            i = j;
        }
    }
    let body = &text[..i];
    let mut suffix = None;
    if i < b.len() && matches!(b[i] | 0x20, b'l' | b'd') {
        // `1kb` has no suffix; `1l`, `1d` do (`1d` is decimal: held as double).
        let next = b.get(i + 1).map(|c| c | 0x20);
        if !matches!(next, Some(b'b')) {
            suffix = Some(b[i] | 0x20);
            i += 1;
        }
    }
    let (m, mlen) = multiplier(&text[i..]);
    i += mlen;
    let num = match suffix {
        Some(b'l') => {
            if is_real {
                Number::Long(round_half_even(body.parse::<f64>().ok()?) as i64)
            } else {
                Number::Long(body.parse::<i64>().ok()?)
            }
        }
        Some(_) => Number::Double(body.parse::<f64>().ok()?),
        None if is_real => Number::Double(body.parse::<f64>().ok()?),
        None => match body.parse::<i32>() {
            Ok(v) => Number::Int(v),
            Err(_) => match body.parse::<i64>() {
                Ok(v) => Number::Long(v),
                Err(_) => Number::Double(body.parse::<f64>().ok()?),
            },
        },
    };
    Some((scale(num, m)?, i))
}

/// `kb`, `mb`, `gb`, `tb`, `pb` at the start of `text`: (factor, length).
fn multiplier(text: &str) -> (u64, usize) {
    let b = text.as_bytes();
    if b.len() >= 2 && (b[1] | 0x20) == b'b' {
        let f = match b[0] | 0x20 {
            b'k' => 1u64 << 10,
            b'm' => 1 << 20,
            b'g' => 1 << 30,
            b't' => 1 << 40,
            b'p' => 1 << 50,
            _ => return (1, 0),
        };
        return (f, 2);
    }
    (1, 0)
}

fn scale(n: Number, factor: u64) -> Option<Number> {
    if factor == 1 {
        return Some(n);
    }
    Some(match n {
        Number::Int(v) => {
            let w = i64::from(v).checked_mul(factor as i64)?;
            match i32::try_from(w) {
                Ok(x) => Number::Int(x),
                Err(_) => Number::Long(w),
            }
        }
        Number::Long(v) => Number::Long(v.checked_mul(factor as i64)?),
        Number::Double(d) => Number::Double(d * factor as f64),
    })
}

/// Round half to even, as .NET's Math.Round and PowerShell's integer
/// conversions do.
pub fn round_half_even(d: f64) -> f64 {
    let r = d.round();
    if (d - d.trunc()).abs() == 0.5 { 2.0 * (d / 2.0).round() } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_powershell_reads_them() {
        assert_eq!(number("42"), Some((Number::Int(42), 2)));
        assert_eq!(number("3000000000"), Some((Number::Long(3_000_000_000), 10)));
        assert_eq!(number("0x10"), Some((Number::Int(16), 4)));
        assert_eq!(number("0xFFFFFFFF"), Some((Number::Int(-1), 10)));
        assert_eq!(number("1.5"), Some((Number::Double(1.5), 3)));
        assert_eq!(number("1e3"), Some((Number::Double(1000.0), 3)));
        assert_eq!(number("1kb"), Some((Number::Int(1024), 3)));
        assert_eq!(number("2gb"), Some((Number::Long(2 << 30), 3)));
        assert_eq!(number("5l"), Some((Number::Long(5), 2)));
        assert_eq!(number("1..5"), Some((Number::Int(1), 1)));
        assert_eq!(number("x"), None);
    }

    #[test]
    fn banker_rounding() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-2.5), -2.0);
        assert_eq!(round_half_even(2.6), 3.0);
    }

    #[test]
    fn trivia_skips_comments_and_continuations() {
        let mut c = Cursor::new("  # c\n <# b\n #> `\n x");
        c.skip_trivia(true);
        assert_eq!(c.peek(), Some('x'));
        let mut c = Cursor::new("  # c\nx");
        c.skip_trivia(false);
        assert_eq!(c.peek(), Some('\n'));
    }
}
