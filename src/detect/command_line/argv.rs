//! Splitting a command line the way Windows does: the program the way
//! CreateProcess finds it (an unquoted path with spaces is tried prefix by
//! prefix, `.exe` appended to a prefix without an extension, the first
//! that exists wins), the arguments with the CommandLineToArgvW rules,
//! and a `cmd` body at its unquoted `&`, `&&`, `|`, `||`.

use super::super::paths;
use super::ParseCtx;

/// Extensions a program (or what a shell association runs) has.
pub(super) const EXEC_EXTS: &[&str] = &[
    "exe", "com", "bat", "cmd", "pif", "scr", "vbs", "vbe", "js", "jse", "wsf", "ps1", "hta",
    "lnk", "msi", "cpl",
];

/// Split arguments with the CommandLineToArgvW rules.
pub fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let n = chars.len();
    loop {
        while i < n && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut cur = String::new();
        let mut in_q = false;
        while i < n {
            let c = chars[i];
            if !in_q && (c == ' ' || c == '\t') {
                break;
            }
            if c == '\\' {
                let mut k = i;
                while k < n && chars[k] == '\\' {
                    k += 1;
                }
                let count = k - i;
                if k < n && chars[k] == '"' {
                    for _ in 0..count / 2 {
                        cur.push('\\');
                    }
                    if count % 2 == 1 {
                        cur.push('"');
                        i = k + 1;
                    } else {
                        i = k;
                    }
                } else {
                    for _ in 0..count {
                        cur.push('\\');
                    }
                    i = k;
                }
                continue;
            }
            if c == '"' {
                if in_q && i + 1 < n && chars[i + 1] == '"' {
                    cur.push('"');
                    i += 2;
                    continue;
                }
                in_q = !in_q;
                i += 1;
                continue;
            }
            cur.push(c);
            i += 1;
        }
        args.push(cur);
    }
    args
}

/// Byte offsets of the unquoted blanks (space, tab) of `s`.
pub(super) fn blanks(s: &str) -> Vec<usize> {
    s.char_indices()
        .filter(|(_, c)| *c == ' ' || *c == '\t')
        .map(|(i, _)| i)
        .collect()
}

/// Split the program from the rest of a command line, as CreateProcess
/// does with a null application name. Returns the program (unquoted; with
/// `.exe` when that is the form that exists) and the remaining text.
///
/// Quoted: up to the closing quote. Unquoted: each prefix ending at a
/// blank, then the whole line, is tried in turn; a prefix without an
/// extension is tried with `.exe` appended; the first the snapshot shows
/// existing wins (`C:\Program Files\App\a.exe` runs `C:\Program.exe` when
/// that exists). When the snapshot knows none of them, the first prefix
/// that looks like a path and ends in an executable extension is taken,
/// else the first word.
///
/// `alternatives` receives the other absolute forms Windows would try
/// (collection asks about each, so a second parse with the host's facts
/// finds the one that exists).
pub(super) fn split_program<'s>(
    s: &'s str,
    ctx: &ParseCtx,
    alternatives: &mut Vec<String>,
) -> (String, &'s str) {
    let s = s.trim_start();
    if let Some(inner) = s.strip_prefix('"') {
        return match inner.find('"') {
            Some(j) => (inner[..j].to_string(), &inner[j + 1..]),
            None => (inner.to_string(), ""),
        };
    }
    if ends_of(s).len() > 1 {
        for &e in &ends_of(s) {
            let cand = s[..e].trim_end();
            if !super::resolve::is_absolute(cand) || cand.contains(['"', '&', '|', '<', '>']) {
                continue;
            }
            if paths::extension(cand).is_empty() {
                alternatives.push(format!("{cand}.exe"));
            } else {
                alternatives.push(cand.to_string());
            }
        }
    }
    let ends = ends_of(s);
    let first = ends[0];
    let first_tok = &s[..first];
    let path_like = first_tok.contains('\\') || first_tok.contains(':');
    let mut by_ext: Option<usize> = None;
    for &e in &ends {
        let cand = s[..e].trim_end();
        if cand.is_empty() {
            continue;
        }
        if (ctx.exists)(cand) {
            return (cand.to_string(), &s[e..]);
        }
        if paths::extension(cand).is_empty() && (ctx.exists)(&format!("{cand}.exe")) {
            return (format!("{cand}.exe"), &s[e..]);
        }
        let plausible = path_like
            && !cand.contains(['&', '|', '<', '>', '"', ','])
            && !cand
                .split_whitespace()
                .skip(1)
                .any(|t| t.starts_with('/') || t.starts_with('-'));
        if by_ext.is_none() && plausible && EXEC_EXTS.contains(&paths::extension(cand).as_str()) {
            by_ext = Some(e);
        }
    }
    let e = by_ext.unwrap_or(first);
    (s[..e].trim_end().to_string(), &s[e..])
}

/// Where each candidate program of an unquoted line ends: at each blank,
/// then at the end.
fn ends_of(s: &str) -> Vec<usize> {
    let mut ends = blanks(s);
    ends.push(s.len());
    ends.dedup();
    ends
}

/// The first unquoted occurrence of one of `chars`.
pub(super) fn find_unquoted(s: &str, chars: &[char]) -> Option<usize> {
    let mut in_q = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_q = !in_q;
        } else if !in_q && chars.contains(&c) {
            return Some(i);
        }
    }
    None
}

/// Split a cmd body on unquoted `&`, `&&`, `|`, `||` (a `^` escapes the
/// next character outside quotes).
pub fn split_cmd_chain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut prev_caret = false;
    for c in s.chars() {
        if c == '"' {
            in_q = !in_q;
            cur.push(c);
        } else if !in_q && !prev_caret && (c == '&' || c == '|') {
            if !cur.trim().is_empty() {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.clear();
            }
        } else {
            cur.push(c);
        }
        prev_caret = c == '^' && !in_q && !prev_caret;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// cmd's escape character removed outside quotes (`p^owershell` is
/// `powershell`; `^^` is one `^`).
pub(super) fn strip_carets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_q = false;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            out.push(c);
            esc = false;
            continue;
        }
        match c {
            '"' => {
                in_q = !in_q;
                out.push(c);
            }
            '^' if !in_q => esc = true,
            _ => out.push(c),
        }
    }
    out
}
