//! How Windows turns a command line into a process: split the image from
//! its arguments (quoted, or unquoted with spaces tried left to right as
//! CreateProcess does), find a bare name on the search path (System32,
//! Windows), and, for the signed launchers rundll32.exe and regsvr32.exe,
//! which DLL the process will load (and so lock). Pure functions over a
//! `FileSystem`.

use super::ci::{eq_ci, starts_with_ci};
use super::files::{FileSystem, normalize};
use super::paths;
use super::shortname;

/// Split `cmd` into (image as written, arguments), resolving the image
/// against `fs` the way CreateProcess does for unquoted paths with spaces.
pub fn split_command(cmd: &str, fs: &FileSystem) -> (String, String) {
    let cmd = cmd.trim_start();
    if let Some(rest) = cmd.strip_prefix('"') {
        return match rest.find('"') {
            Some(i) => (
                rest[..i].to_string(),
                rest[i + 1..].trim_start().to_string(),
            ),
            None => (rest.to_string(), String::new()),
        };
    }
    // unquoted: try each space as the end of the image
    let spaces: Vec<usize> = cmd.match_indices(' ').map(|(i, _)| i).collect();
    for &i in &spaces {
        if resolve_image(&cmd[..i], fs).is_some() {
            return (cmd[..i].to_string(), cmd[i + 1..].trim_start().to_string());
        }
    }
    match spaces.first() {
        Some(&i) if resolve_image(cmd, fs).is_none() => {
            (cmd[..i].to_string(), cmd[i + 1..].trim_start().to_string())
        }
        _ => (cmd.to_string(), String::new()),
    }
}

/// The file an image name refers to: absolute paths as they are (with
/// `.exe` appended when there is no extension), bare names searched in
/// the folders of the system Path (System32, the Windows folder, Wbem,
/// Windows PowerShell's).
pub fn resolve_image(image: &str, fs: &FileSystem) -> Option<String> {
    let with_ext = |p: &str| -> Vec<String> {
        let name = p.rsplit('\\').next().unwrap_or(p);
        if name.contains('.') {
            vec![p.to_string()]
        } else {
            vec![p.to_string(), format!("{p}.exe")]
        }
    };
    let candidates: Vec<String> = if image.contains('\\') || image.contains(':') {
        with_ext(image)
    } else {
        // The system Path of a Windows install, in its order.
        [paths::SYSTEM32, paths::WINDOWS, r"C:\Windows\System32\Wbem", r"C:\Windows\System32\WindowsPowerShell\v1.0"]
            .iter()
            .flat_map(|d| with_ext(&format!(r"{d}\{image}")))
            .collect()
    };
    candidates
        .into_iter()
        .filter_map(|c| normalize(&c).ok())
        .find_map(|c| on_disk(fs, &c))
}

/// The stored file a path names (8.3 short components resolved).
fn on_disk(fs: &FileSystem, path: &str) -> Option<String> {
    if fs.is_file(path) {
        return Some(path.to_string());
    }
    if !path.contains('~') {
        return None;
    }
    shortname::long_path(fs, path).filter(|p| fs.is_file(p))
}

/// The DLL a rundll32/regsvr32 command line loads (unresolved text).
pub fn launcher_dll(image: &str, args: &str) -> Option<String> {
    let name = image.rsplit('\\').next().unwrap_or(image);
    let name = name
        .strip_suffix(".exe")
        .or_else(|| name.strip_suffix(".EXE"))
        .unwrap_or(name);
    if eq_ci(name, "rundll32") {
        let a = args.trim();
        let dll = if let Some(rest) = a.strip_prefix('"') {
            rest.split('"').next().unwrap_or("")
        } else {
            a.split(',').next().unwrap_or("").trim()
        };
        return (!dll.is_empty()).then(|| dll.to_string());
    }
    if eq_ci(name, "regsvr32") {
        let mut rest = args.trim();
        while !rest.is_empty() {
            let (tok, after) = if let Some(r) = rest.strip_prefix('"') {
                match r.find('"') {
                    Some(i) => (&r[..i], &r[i + 1..]),
                    None => (r, ""),
                }
            } else {
                match rest.find(' ') {
                    Some(i) => (&rest[..i], &rest[i + 1..]),
                    None => (rest, ""),
                }
            };
            let is_flag = (tok.starts_with('/') || tok.starts_with('-')) && !tok.contains('\\');
            if !is_flag && !tok.is_empty() {
                return Some(tok.to_string());
            }
            rest = after.trim_start();
        }
    }
    None
}

/// Resolve a DLL named on a command line: absolute, or a bare name in
/// System32 (rundll32 searches the system folders).
pub fn resolve_dll(dll: &str, fs: &FileSystem) -> Option<String> {
    if dll.contains('\\') {
        return normalize(dll).ok().and_then(|p| on_disk(fs, &p));
    }
    [paths::SYSTEM32, paths::WINDOWS]
        .iter()
        .filter_map(|d| normalize(&format!(r"{d}\{dll}")).ok())
        .find(|p| fs.is_file(p))
}

/// True if `path` is under `dir` (both normalised).
pub fn is_under(path: &str, dir: &str) -> bool {
    starts_with_ci(path, dir) && path[dir.len()..].starts_with('\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::files::Content;
    use crate::lab::world::time::LabTime;

    #[test]
    fn command_lines_resolve_like_createprocess() {
        let t = LabTime::EPOCH;
        let mut fs = FileSystem::new(t);
        fs.plant_file(
            r"C:\Windows\System32\rundll32.exe",
            Content::text("mz"),
            None,
            t,
        )
        .unwrap();
        fs.plant_file(
            r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe",
            Content::text("mz"),
            None,
            t,
        )
        .unwrap();
        assert_eq!(
            split_command(
                r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#,
                &fs
            ),
            (
                r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe".into(),
                "/svc".into()
            )
        );
        assert_eq!(
            split_command(
                r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe /c",
                &fs
            ),
            (
                r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe".into(),
                "/c".into()
            )
        );
        let (img, args) = split_command(
            r"rundll32.exe C:\Users\a\AppData\Local\Xy\z.ljk,RunDLL",
            &fs,
        );
        assert_eq!(
            resolve_image(&img, &fs).unwrap(),
            r"C:\Windows\System32\rundll32.exe"
        );
        assert_eq!(
            launcher_dll(&img, &args).unwrap(),
            r"C:\Users\a\AppData\Local\Xy\z.ljk"
        );
        assert_eq!(
            resolve_image("rundll32", &fs).unwrap(),
            r"C:\Windows\System32\rundll32.exe"
        );
        assert_eq!(
            launcher_dll("regsvr32.exe", r#"-s "C:\Users\a b\x.dll""#).unwrap(),
            r"C:\Users\a b\x.dll"
        );
        assert_eq!(
            launcher_dll(r"C:\Windows\SysWOW64\regsvr32.exe", r"/s /i:x C:\P\q.dll").unwrap(),
            r"C:\P\q.dll"
        );
        assert_eq!(
            launcher_dll("rundll32.exe", r#""C:\a b\c.dll",Wind"#).unwrap(),
            r"C:\a b\c.dll"
        );
        assert_eq!(launcher_dll("cmd.exe", "/c x"), None);
        assert!(
            is_under(r"C:\Windows\System32\x", r"C:\WINDOWS")
                && !is_under(r"C:\Windowsx\a", r"C:\Windows")
        );
    }
}
