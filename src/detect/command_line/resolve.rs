//! Where a path written in a command lands, as Windows resolves it:
//! GetFullPathName's rules against the working folder (drive-relative
//! `C:dir\file`, rooted `\dir\file`, relative `dir\file`, `.` and `..`
//! segments), the search a bare program name goes through, the DLL search
//! of rundll32 and regsvr32, and the places a data file given to a payload
//! can be.

use super::super::paths;
use super::{ParseCtx, SYSTEM_BINARIES};

const SYSTEM32: &str = r"C:\Windows\System32";

/// `.` and `..` segments collapsed (never above the root), as
/// GetFullPathName does before anything touches the disk.
fn collapse_dots(p: &str) -> String {
    let unc = p.starts_with(r"\\");
    let body = if unc { &p[2..] } else { p };
    let mut parts: Vec<&str> = Vec::new();
    let mut floor = 0;
    for (i, c) in body.split('\\').enumerate() {
        // the root: `C:` or, for UNC, `server\share`
        if i == 0 || (unc && i == 1) {
            parts.push(c);
            floor = parts.len();
            continue;
        }
        match c {
            "" | "." => {}
            ".." => {
                if parts.len() > floor {
                    parts.pop();
                }
            }
            _ => parts.push(c),
        }
    }
    let mut out = parts.join("\\");
    if !unc && parts.len() == 1 && out.ends_with(':') {
        out.push('\\');
    }
    if unc { format!(r"\\{out}") } else { out }
}

/// Is `p` an absolute path (`X:\...`) or a UNC path (`\\server\share`)?
pub(super) fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with(r"\\")
        || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\')
}

/// Join `rel` to `base` and collapse dot segments.
fn join(base: &str, rel: &str) -> String {
    collapse_dots(&paths::normalize(&format!("{base}\\{rel}")))
}

/// The full path of `p` against the working folder `cwd`, with
/// GetFullPathName's rules. A relative path without a working folder to
/// resolve it against is returned as written.
pub fn full_path(p: &str, cwd: Option<&str>) -> String {
    let n = paths::normalize(p);
    if n.is_empty() || n.starts_with(r"\\") || n.contains("://") {
        return n;
    }
    let b = n.as_bytes();
    let cwd = cwd.map(paths::normalize).filter(|c| is_absolute(c));
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        if b.get(2) == Some(&b'\\') {
            return collapse_dots(&n);
        }
        // `C:dir\file`: relative to that drive's current folder, which is
        // the working folder when that is on the same drive, else its root.
        let rest = &n[2..];
        return match cwd.as_deref() {
            Some(c) if c[..1].eq_ignore_ascii_case(&n[..1]) => join(c, rest),
            _ => join(&format!("{}:", &n[..1]), rest),
        };
    }
    if let Some(rest) = n.strip_prefix('\\') {
        // `\dir\file`: the root of the working folder's drive.
        let drive = cwd
            .as_deref()
            .filter(|c| !c.starts_with(r"\\"))
            .map(|c| c[..2].to_string())
            .unwrap_or_else(|| "C:".to_string());
        return join(&drive, rest);
    }
    match cwd {
        Some(c) => join(&c, &n),
        None => n,
    }
}

/// The program a command names, resolved: a path against the working
/// folder; a bare name of a Windows program into System32 (or
/// `C:\Windows` for explorer); another bare name through CreateProcess's
/// search (working folder, System32, Windows; `.exe` appended when it has
/// no extension), the first the snapshot shows existing, else the working
/// folder's, else as written.
pub(super) fn program(p: &str, ctx: &ParseCtx) -> String {
    let n = paths::normalize(p);
    if n.contains('\\') || n.contains(':') {
        return full_path(&n, ctx.cwd);
    }
    if n.is_empty() {
        return n;
    }
    let lower = n.to_ascii_lowercase();
    let base = lower.strip_suffix(".exe").unwrap_or(&lower);
    if SYSTEM_BINARIES.contains(&base) {
        return format!(r"{SYSTEM32}\{base}.exe");
    }
    if base == "explorer" {
        return r"C:\Windows\explorer.exe".to_string();
    }
    let file = if paths::extension(&n).is_empty() {
        format!("{n}.exe")
    } else {
        n.clone()
    };
    let cwd = ctx
        .cwd
        .map(|c| full_path(c, None))
        .filter(|c| is_absolute(c));
    let mut dirs: Vec<String> = cwd.iter().cloned().collect();
    dirs.push(SYSTEM32.to_string());
    dirs.push(r"C:\Windows".to_string());
    for d in &dirs {
        let cand = join(d, &file);
        if (ctx.exists)(&cand) {
            return cand;
        }
    }
    match cwd {
        Some(c) => join(&c, &n),
        None => n,
    }
}

/// A DLL given to rundll32 or regsvr32: a path against the working
/// folder; a bare name as LoadLibrary's safe search finds it (the
/// launcher's own folder, System32, before the working folder): the first
/// the snapshot shows existing, else System32 (`true`: found by search).
pub(super) fn dll(p: &str, ctx: &ParseCtx) -> (String, bool) {
    let n = paths::normalize(p);
    if n.is_empty() {
        return (n, false);
    }
    if n.contains('\\') || n.contains(':') {
        return (full_path(&n, ctx.cwd), false);
    }
    let in_system = join(SYSTEM32, &n);
    if !(ctx.exists)(&in_system)
        && let Some(c) = ctx
            .cwd
            .map(|c| full_path(c, None))
            .filter(|c| is_absolute(c))
    {
        let here = join(&c, &n);
        if (ctx.exists)(&here) {
            return (here, false);
        }
    }
    (in_system, true)
}

/// A file a launcher opens (a script, a package, an `.hta`): relative to
/// the working folder.
pub(super) fn file(p: &str, ctx: &ParseCtx) -> String {
    full_path(p, ctx.cwd)
}

/// Does an argument look like a path to a file (absolute, UNC, or a
/// relative path with a folder and an extension)?
pub(super) fn path_like(a: &str) -> bool {
    let a = a.trim().trim_matches('"');
    if a.is_empty() || a.contains("://") || a.len() > 1024 {
        return false;
    }
    is_absolute(a)
        || (a.contains('\\')
            && !a.starts_with('-')
            && !a.starts_with('/')
            && !paths::extension(a).is_empty())
}

/// The places a data file named by a relative `written` path can be, in
/// the order a payload looks: under the account's `%APPDATA%` (IcedID's
/// DLL resolves its `/i:` file there) and under the working folder. An
/// absolute path is itself.
pub(super) fn data_candidates(written: &str, ctx: &ParseCtx) -> Vec<String> {
    let w = paths::normalize(written);
    if is_absolute(&w) || w.starts_with('\\') || w.as_bytes().get(1) == Some(&b':') {
        return vec![full_path(&w, ctx.cwd)];
    }
    let mut out = Vec::new();
    if let Some(a) = ctx.env.get("APPDATA") {
        out.push(join(a, &w));
    }
    if let Some(c) = ctx
        .cwd
        .map(|c| full_path(c, None))
        .filter(|c| is_absolute(c))
    {
        let j = join(&c, &w);
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&j)) {
            out.push(j);
        }
    }
    out
}
