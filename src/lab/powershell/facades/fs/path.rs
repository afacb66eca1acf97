//! `System.IO.Path` and the path rules behind every file API: how Windows
//! normalises a path before it reaches the file system (GetFullPathName:
//! the current directory applied, `.` and `..` evaluated without eating
//! the root, a segment's single trailing period removed, the last
//! segment's trailing periods and spaces trimmed; `\\?\` paths taken as
//! they are), and what .NET refuses first ("Illegal characters in path.",
//! "The given path's format is not supported.", too-long paths on .NET
//! Framework). Pure text: no host state.

use crate::lab::powershell::object::{NetError, NetResult};
use crate::lab::powershell::version::PsVersion;

/// Characters .NET Framework refuses anywhere in a path.
fn is_invalid(c: char) -> bool {
    (c as u32) < 32 || matches!(c, '"' | '<' | '>' | '|')
}

pub fn illegal() -> NetError {
    NetError::argument("Illegal characters in path.")
}

fn not_legal_form() -> NetError {
    NetError::argument("The path is not of a legal form.")
}

/// .NET Framework's MAX_PATH check (PowerShell 2.0 and Windows PowerShell
/// 5.1 are not long-path aware; PowerShell 7's .NET is).
fn too_long() -> NetError {
    NetError::exception(
        "System.IO.PathTooLongException",
        "The specified path, file name, or both are too long. The fully qualified file name must be less than 260 characters, and the directory name must be less than 248 characters.",
    )
}

/// `\\?\` (and `\??\`): the path goes to the file system as written.
pub fn is_extended(p: &str) -> bool {
    p.starts_with(r"\\?\") || p.starts_with(r"\??\")
}

/// The checks .NET makes before any file API touches a path.
pub fn check(p: &str, version: &PsVersion) -> NetResult<()> {
    if p.chars().any(is_invalid) {
        return Err(illegal());
    }
    // `\\?\` paths need .NET Framework 4.6.2 (Windows PowerShell 5.1);
    // before it, the `?` is an illegal character.
    if is_extended(p) && version.major < 5 {
        return Err(illegal());
    }
    if p.trim().is_empty() {
        return Err(not_legal_form());
    }
    Ok(())
}

/// `Path.GetFullPath`: the full path Windows would open, for a current
/// directory `cwd` (a full path such as `C:\Users\bob`).
pub fn full_path(p: &str, cwd: &str, version: &PsVersion) -> NetResult<String> {
    check(p, version)?;
    if is_extended(p) {
        return Ok(p.to_string());
    }
    let p = p.replace('/', "\\");
    if p.starts_with(r"\\") {
        return Err(NetError::exception("System.NotSupportedException", "The lab's hosts have no network shares: UNC paths are not supported here."));
    }
    let colon = p.find(':');
    if colon.is_some_and(|i| i != 1) || p.get(2..).is_some_and(|r| r.contains(':')) {
        return Err(NetError::exception("System.NotSupportedException", "The given path's format is not supported."));
    }
    let (root, rest) = if colon == Some(1) {
        let drive = p[..1].to_ascii_uppercase();
        let after = &p[2..];
        if after.starts_with('\\') {
            (format!("{drive}:"), after.to_string())
        } else if cwd[..1].eq_ignore_ascii_case(&drive) {
            // `C:foo`: relative to that drive's current directory.
            let rest = if after.is_empty() { cwd[2..].to_string() } else { format!(r"{}\{after}", &cwd[2..]) };
            (cwd[..2].to_string(), rest)
        } else {
            (format!("{drive}:"), format!(r"\{after}"))
        }
    } else if p.starts_with('\\') {
        (cwd[..2].to_string(), p.clone())
    } else {
        (cwd[..2].to_string(), format!(r"{}\{p}", &cwd[2..]))
    };
    let ends_with_sep = rest.ends_with('\\');
    let mut segs: Vec<String> = Vec::new();
    for s in rest.split('\\') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            _ => {
                let s = if s.ends_with('.') && !s.ends_with("..") { &s[..s.len() - 1] } else { s };
                segs.push(s.to_string());
            }
        }
    }
    if !ends_with_sep && let Some(last) = segs.last_mut() {
        let t = last.trim_end_matches(['.', ' ']).to_string();
        *last = t;
        if last.is_empty() {
            segs.pop();
        }
    }
    let mut out = root;
    for s in &segs {
        out.push('\\');
        out.push_str(s);
    }
    if segs.is_empty() || ends_with_sep {
        out.push('\\');
    }
    if !version.dotnet_core() && out.len() >= 260 {
        return Err(too_long());
    }
    Ok(out)
}

/// `Path.GetFileName`: after the last `\`, `/` or `:`.
pub fn file_name(p: &str) -> &str {
    match p.rfind(['\\', '/', ':']) {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// `Path.GetExtension`: from the last `.` of the name (`""` when none or
/// when the name ends with it).
pub fn extension(p: &str) -> &str {
    let name = file_name(p);
    match name.rfind('.') {
        Some(i) if i + 1 < name.len() => &name[i..],
        _ => "",
    }
}

/// `Path.GetFileNameWithoutExtension`.
pub fn stem(p: &str) -> &str {
    let name = file_name(p);
    match name.rfind('.') {
        Some(i) => &name[..i],
        None => name,
    }
}

/// The root of a path: `C:\`, `C:`, `\`, `\\?\C:\` or `""`.
pub fn root(p: &str) -> &str {
    let b = p.as_bytes();
    if is_extended(p) {
        let rest = &p[4..];
        if rest.len() >= 3 && rest.as_bytes()[1] == b':' && rest.as_bytes()[2] == b'\\' {
            return &p[..7];
        }
        return &p[..4];
    }
    if b.len() >= 2 && b[1] == b':' {
        return if b.len() >= 3 && (b[2] == b'\\' || b[2] == b'/') { &p[..3] } else { &p[..2] };
    }
    if b.first().is_some_and(|c| *c == b'\\' || *c == b'/') {
        return &p[..1];
    }
    ""
}

/// `Path.GetDirectoryName`: the path up to its last separator (`None` for
/// a root or a bare name's empty parent).
pub fn directory_name(p: &str) -> Option<String> {
    let r = root(p);
    if p.len() <= r.len() {
        return None;
    }
    let i = p.rfind(['\\', '/'])?;
    if i < r.len() {
        return Some(r.to_string());
    }
    let d = p[..i].trim_end_matches(['\\', '/']);
    Some(if d.len() < r.len() { r.to_string() } else { d.to_string() })
}

/// `Path.IsPathRooted`.
pub fn is_rooted(p: &str) -> bool {
    !root(p).is_empty()
}

/// `Path.Combine(a, b)`: `b` when it is rooted; one separator between.
pub fn combine(a: &str, b: &str) -> String {
    if b.is_empty() {
        return a.to_string();
    }
    if a.is_empty() || is_rooted(b) {
        return b.to_string();
    }
    if a.ends_with(['\\', '/', ':']) { format!("{a}{b}") } else { format!(r"{a}\{b}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v5() -> PsVersion {
        PsVersion::parse("5.1.19041.1")
    }

    /// Windows (GetFullPathName; .NET's Path.GetFullPath on Windows
    /// PowerShell 5.1): `..` never climbs above the root; a segment's one
    /// trailing period goes; the last segment's trailing periods and
    /// spaces go; relative paths take the current directory.
    #[test]
    fn full_paths_as_windows_normalises_them() {
        let cwd = r"C:\Users\bob";
        let f = |p: &str| full_path(p, cwd, &v5()).unwrap_or_else(|e| format!("{e:?}"));
        assert_eq!(f(r"C:\Users\x\AppData\Local\..\..\..\..\Windows\System32\y.dll"), r"C:\Windows\System32\y.dll");
        assert_eq!(f(r"C:\..\..\a"), r"C:\a");
        assert_eq!(f(r"C:\a\b. \c.txt. . "), r"C:\a\b. \c.txt");
        assert_eq!(f(r"C:\a\b.\c"), r"C:\a\b\c");
        assert_eq!(f(r"C:\a\...\c"), r"C:\a\...\c");
        assert_eq!(f("x.txt"), r"C:\Users\bob\x.txt");
        assert_eq!(f(r"\Windows"), r"C:\Windows");
        assert_eq!(f("C:/a//b/"), r"C:\a\b\");
        assert_eq!(f("C:"), r"C:\Users\bob");
        assert_eq!(f(r"\\?\C:\a\..\b."), r"\\?\C:\a\..\b.");
        assert!(f("C:\\a|b").contains("Illegal characters in path."));
        assert!(f("C:\\a:b").contains("The given path's format is not supported."));
        let long = format!(r"C:\{}", "a".repeat(300));
        assert!(f(&long).contains("PathTooLongException"));
        assert_eq!(full_path(&long, cwd, &PsVersion::parse("7.4.1")).ok(), Some(long.clone()));
        // .NET 2.0 has no \\?\ paths.
        assert!(full_path(r"\\?\C:\a", cwd, &PsVersion::parse("2.0")).is_err());
    }

    /// .NET's Path.GetFileName / GetExtension / GetDirectoryName / Combine.
    #[test]
    fn names_and_parents_as_dotnet_splits_them() {
        assert_eq!(file_name(r"C:\a\b.txt"), "b.txt");
        assert_eq!(file_name(r"C:\a\"), "");
        assert_eq!(extension(r"C:\a\b.tar.gz"), ".gz");
        assert_eq!(extension(r"C:\a.b\c"), "");
        assert_eq!(extension("x."), "");
        assert_eq!(stem("b.tar.gz"), "b.tar");
        assert_eq!(directory_name(r"C:\a\b").as_deref(), Some(r"C:\a"));
        assert_eq!(directory_name(r"C:\a").as_deref(), Some(r"C:\"));
        assert_eq!(directory_name(r"C:\"), None);
        assert_eq!(directory_name("b"), None);
        assert_eq!(combine(r"C:\a", "b"), r"C:\a\b");
        assert_eq!(combine(r"C:\a\", "b"), r"C:\a\b");
        assert_eq!(combine(r"C:\a", r"D:\b"), r"D:\b");
        assert_eq!(combine("", "b"), "b");
    }
}
