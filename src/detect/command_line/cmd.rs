//! `cmd [/q /d /s /v:on ...] /c|/k|/r <body>`, read as cmd reads it
//! (`cmd /?`): quotes around the body are kept only when there is no `/s`,
//! exactly two quotes, no special character (`&<>()@^|`) and a blank
//! between them, and the quoted text names an existing program; otherwise
//! the first quote and the last one are removed. The body is split at its
//! unquoted `&`, `&&`, `|`, `||`; each command (after `call`, `start
//! ["title"] [/min /b /d dir ...]`, carets and redirections) is parsed in
//! turn.

use super::argv::{find_unquoted, split_cmd_chain, strip_carets};
use super::{ParseCtx, Parsed, adopt, resolve};

/// The body of a `cmd` command line, and whether `/s` was given.
fn body(rest: &str) -> Option<(&str, bool)> {
    let mut r = rest.trim_start();
    let mut s_flag = false;
    while let Some(after) = r.strip_prefix('/') {
        let lt = after.to_ascii_lowercase();
        if lt.starts_with('c') || lt.starts_with('k') || lt.starts_with('r') {
            return Some((after[1..].trim_start(), s_flag));
        }
        s_flag |= lt.starts_with('s') && !lt.starts_with("s:");
        let end = after.find([' ', '\t', '"', '/']).unwrap_or(after.len());
        r = after[end..].trim_start();
    }
    None
}

/// cmd's rule for the quotes around its body.
fn unquote<'b>(body: &'b str, s_flag: bool, ctx: &ParseCtx) -> std::borrow::Cow<'b, str> {
    if !body.starts_with('"') {
        return body.into();
    }
    let quotes: Vec<usize> = body.match_indices('"').map(|(i, _)| i).collect();
    if !s_flag && quotes.len() == 2 {
        let inner = &body[1..quotes[1]];
        let special = inner.contains(['&', '<', '>', '(', ')', '@', '^', '|']);
        let blank = inner.contains([' ', '\t']);
        let prog = resolve::full_path(inner, ctx.cwd);
        let exe = (ctx.exists)(&prog) || (ctx.exists)(&format!("{prog}.exe"));
        if !special && blank && exe {
            return body.into();
        }
    }
    let last = *quotes.last().expect("starts with a quote");
    if last == 0 {
        return body[1..].into();
    }
    format!("{}{}", &body[1..last], &body[last + 1..]).into()
}

/// `start ["title"] [/b /min /d dir ...] command` -> `command`.
fn strip_start(s: &str) -> &str {
    let mut r = s.trim_start();
    if r.starts_with('"')
        && let Some(j) = r[1..].find('"')
    {
        r = r[j + 2..].trim_start();
    }
    while r.starts_with('/') {
        let tok_end = r.find([' ', '\t']).unwrap_or(r.len());
        let tok = r[..tok_end].to_ascii_lowercase();
        r = r[tok_end..].trim_start();
        if tok == "/d" {
            let e = r.find([' ', '\t']).unwrap_or(r.len());
            r = r[e..].trim_start();
        }
    }
    r
}

pub(super) fn parse(p: &mut Parsed, rest: &str, ctx: &ParseCtx, depth: usize) {
    let Some((body, s_flag)) = body(rest) else {
        return;
    };
    let body = unquote(body, s_flag, ctx);
    for seg in split_cmd_chain(&body) {
        let seg = strip_carets(&seg);
        let mut s = seg
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        if let Some(i) = find_unquoted(s, &['>', '<']) {
            s = s[..i].trim();
        }
        if s.starts_with('@') {
            s = s[1..].trim_start();
        }
        let ls = s.to_ascii_lowercase();
        if ls.starts_with("call ") {
            s = s[5..].trim_start();
        } else if ls == "start" || ls.starts_with("start ") {
            s = strip_start(&s[5..]);
        }
        if !s.is_empty() {
            adopt(p, s, ctx, depth);
        }
    }
}
