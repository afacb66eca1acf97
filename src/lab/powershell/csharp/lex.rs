//! C# tokens: identifiers and keywords, integer literals (decimal, hex,
//! `u`/`l` suffixes), string literals (regular with escapes, verbatim
//! `@"..."`), character literals, and operators. Comments are skipped.
//! Errors name the line, as the C# compiler does (`(3): error ...`).

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A number and whether it is unsigned (`u` suffix or a hex literal
    /// beyond `int`), long (`l` suffix or beyond `uint`).
    Int { value: u64, unsigned: bool, long: bool },
    Str(String),
    Char(u16),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

/// Operators, longest first.
const PUNCT: &[&str] = &[
    "<<=", ">>=", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "=>", "::", "{", "}", "(", ")", "[", "]", ";",
    ",", ".", ":", "?", "=", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!",
];

pub fn lex(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut line = 1u32;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '#' {
            return Err(format!("({line}): the cauterize lab's C# compiler does not take preprocessor directives"));
        }
        let at = line;
        if c.is_alphabetic() || c == '_' || (c == '@' && chars.get(i + 1).is_some_and(|n| n.is_alphabetic() || *n == '_')) {
            if c == '@' {
                i += 1;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), line: at });
            continue;
        }
        if c.is_ascii_digit() {
            let (value, hex) = if c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
                i += 2;
                let start = i;
                while i < chars.len() && chars[i].is_ascii_hexdigit() {
                    i += 1;
                }
                let t: String = chars[start..i].iter().collect();
                (u64::from_str_radix(&t, 16).map_err(|_| format!("({at}): integral constant is too large"))?, true)
            } else {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let t: String = chars[start..i].iter().collect();
                (t.parse::<u64>().map_err(|_| format!("({at}): integral constant is too large"))?, false)
            };
            let (mut unsigned, mut long) = (false, false);
            while i < chars.len() && matches!(chars[i], 'u' | 'U' | 'l' | 'L') {
                if matches!(chars[i], 'u' | 'U') {
                    unsigned = true;
                } else {
                    long = true;
                }
                i += 1;
            }
            // The literal's type: int, uint, long, ulong, the first that
            // holds it (hex literals may be uint; decimal ones skip uint).
            if !long && value > i32::MAX as u64 {
                if (hex || unsigned) && value <= u64::from(u32::MAX) {
                    unsigned = true;
                } else {
                    long = true;
                }
            }
            out.push(Token { tok: Tok::Int { value, unsigned, long }, line: at });
            continue;
        }
        if c == '@' && chars.get(i + 1) == Some(&'"') {
            i += 2;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(format!("({at}): newline in constant")),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        s.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        if *ch == '\n' {
                            line += 1;
                        }
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Token { tok: Tok::Str(s), line: at });
            continue;
        }
        if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            let mut units: Vec<u16> = Vec::new();
            loop {
                let Some(&ch) = chars.get(i) else { return Err(format!("({at}): newline in constant")) };
                if ch == '\n' {
                    return Err(format!("({at}): newline in constant"));
                }
                i += 1;
                if ch == quote {
                    break;
                }
                if ch != '\\' {
                    let mut b = [0u16; 2];
                    units.extend_from_slice(ch.encode_utf16(&mut b));
                    continue;
                }
                let e = chars.get(i).copied().unwrap_or(' ');
                i += 1;
                let unit = match e {
                    'n' => 10,
                    'r' => 13,
                    't' => 9,
                    '0' => 0,
                    'a' => 7,
                    'b' => 8,
                    'f' => 12,
                    'v' => 11,
                    '\\' => 92,
                    '\'' => 39,
                    '"' => 34,
                    'u' | 'x' => {
                        let start = i;
                        while i < chars.len() && i - start < 4 && chars[i].is_ascii_hexdigit() {
                            i += 1;
                        }
                        let t: String = chars[start..i].iter().collect();
                        u16::from_str_radix(&t, 16).map_err(|_| format!("({at}): unrecognized escape sequence"))?
                    }
                    _ => return Err(format!("({at}): unrecognized escape sequence")),
                };
                units.push(unit);
            }
            if quote == '\'' {
                let [u] = units.as_slice() else { return Err(format!("({at}): too many characters in character literal")) };
                out.push(Token { tok: Tok::Char(*u), line: at });
            } else {
                out.push(Token { tok: Tok::Str(crate::lab::world::utf16::from_units(&units)), line: at });
            }
            continue;
        }
        let rest: String = chars[i..(i + 3).min(chars.len())].iter().collect();
        match PUNCT.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Token { tok: Tok::Punct(p), line: at });
                i += p.len();
            }
            None => return Err(format!("({at}): unexpected character '{c}'")),
        }
    }
    out.push(Token { tok: Tok::Eof, line });
    Ok(out)
}
