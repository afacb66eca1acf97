//! A Windows file path from a plan (hostile data: it came from an infected
//! host), checked and split into what SMB needs: the drive letter (whose
//! admin share is `C$`) and the components below it. Pure.
//!
//! Accepted: `C:\Users\bob\a.dll`, `C:/Users/bob/a.dll`, `\\?\C:\...` and
//! `\\.\C:\...`; doubled separators collapse. Refused, each with a reason:
//! relative and UNC paths, `.` and `..`, characters Windows forbids in names
//! (`<>:"|?*`, control characters), a trailing dot or space (Win32 strips
//! them, so the name on disk differs), over-long names. A `:` inside a name
//! is an alternate data stream, which the SMB client cannot open.

use std::fmt;

/// Longest component NTFS stores (UTF-16 units; checked in chars here).
const MAX_COMPONENT: usize = 255;
/// Longest path Windows accepts with the `\\?\` prefix.
const MAX_PATH_CHARS: usize = 32_767;

/// A checked absolute path on a Windows drive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemotePath {
    drive: char,
    components: Vec<String>,
}

/// Why a path is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path {path:?} is not usable: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

impl RemotePath {
    /// Check and split `path`.
    pub fn parse(path: &str) -> Result<RemotePath, PathError> {
        let fail = |reason: &str| PathError {
            path: path.chars().take(300).collect(),
            reason: reason.to_string(),
        };
        if path.chars().count() > MAX_PATH_CHARS {
            return Err(fail("longer than 32767 characters"));
        }
        let unified = path.replace('/', "\\");
        let rest = unified
            .strip_prefix(r"\\?\")
            .or_else(|| unified.strip_prefix(r"\\.\"))
            .unwrap_or(&unified);
        if rest.starts_with('\\') || rest.to_ascii_uppercase().starts_with(r"UNC\") {
            return Err(fail(
                "a network (UNC) path, not a path on the host's own drive",
            ));
        }
        let mut chars = rest.chars();
        let (Some(letter), Some(':')) = (chars.next(), chars.next()) else {
            return Err(fail("not an absolute path with a drive letter (C:\\...)"));
        };
        if !letter.is_ascii_alphabetic() {
            return Err(fail("the drive is not a letter"));
        }
        let tail = chars.as_str();
        if !tail.is_empty() && !tail.starts_with('\\') {
            return Err(fail("drive-relative path (C:name); write C:\\name"));
        }
        let mut components = Vec::new();
        for comp in tail.split('\\').filter(|c| !c.is_empty()) {
            check_component(comp).map_err(|r| fail(&r))?;
            components.push(comp.to_string());
        }
        if components.is_empty() {
            return Err(fail("names a drive, not a file"));
        }
        Ok(RemotePath {
            drive: letter.to_ascii_uppercase(),
            components,
        })
    }

    /// The upper-case drive letter.
    pub fn drive(&self) -> char {
        self.drive
    }

    /// The names below the drive, in order.
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The path inside the drive's share, `/`-separated as the SMB client
    /// wants it: `Users/bob/a.dll`.
    pub fn share_relative(&self) -> String {
        self.components.join("/")
    }

    /// The components below `prefix` when this path is inside it
    /// (case-insensitive, as NTFS is).
    pub fn strip_prefix(&self, prefix: &RemotePath) -> Option<&[String]> {
        if self.drive != prefix.drive || self.components.len() <= prefix.components.len() {
            return None;
        }
        let same = self
            .components
            .iter()
            .zip(&prefix.components)
            .all(|(a, b)| a.to_lowercase() == b.to_lowercase());
        same.then(|| &self.components[prefix.components.len()..])
    }

    /// A case-insensitive key: two paths with equal keys are one file.
    pub fn key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:\\{}", self.drive, self.components.join("\\"))
    }
}

fn check_component(comp: &str) -> Result<(), String> {
    if comp == "." || comp == ".." {
        return Err("contains `.` or `..`".into());
    }
    if comp.chars().count() > MAX_COMPONENT {
        return Err("a name is longer than 255 characters".into());
    }
    if comp.contains(':') {
        return Err(
            "a name contains `:` (an alternate data stream), which SMB cannot open here".into(),
        );
    }
    if let Some(c) = comp
        .chars()
        .find(|c| c.is_control() || "<>\"|?*".contains(*c))
    {
        return Err(format!(
            "a name contains {c:?}, which Windows forbids in file names"
        ));
    }
    if comp.ends_with('.') || comp.ends_with(' ') {
        return Err(
            "a name ends with a dot or space (Windows strips those, so it names another file)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_drive_and_components() {
        let p = RemotePath::parse(r"c:\Users\bob\AppData\Local\Xyzabc\abc.dll").unwrap();
        assert_eq!(p.drive(), 'C');
        assert_eq!(p.share_relative(), "Users/bob/AppData/Local/Xyzabc/abc.dll");
        assert_eq!(p.to_string(), r"C:\Users\bob\AppData\Local\Xyzabc\abc.dll");
        for same in [
            r"\\?\C:\Users\bob\AppData\Local\Xyzabc\abc.dll",
            "C:/Users//bob/AppData/Local/Xyzabc/abc.dll",
        ] {
            assert_eq!(
                RemotePath::parse(same).unwrap().share_relative(),
                p.share_relative(),
                "{same}"
            );
        }
    }

    #[test]
    fn keeps_non_ascii_names() {
        let p = RemotePath::parse(r"D:\Пользователи\José\😀.exe").unwrap();
        assert_eq!(p.drive(), 'D');
        assert_eq!(p.components(), ["Пользователи", "José", "😀.exe"]);
    }

    #[test]
    fn refuses_hostile_or_unusable_paths() {
        for bad in [
            "",
            r"Users\bob\a.dll",
            r"\Users\a.dll",
            r"\\server\share\a.dll",
            r"\\?\UNC\server\share\a.dll",
            r"C:",
            r"C:\",
            r"C:a.dll",
            r"C:\Users\..\Windows\a.dll",
            r"C:\Users\.\a.dll",
            r"C:\a.dll:hidden",
            "C:\\a\u{0}b.dll",
            r"C:\a?.dll",
            r"C:\a.dll.",
            r"C:\a.dll ",
            r"1:\a.dll",
        ] {
            assert!(RemotePath::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!(r"C:\{}", "a".repeat(256));
        assert!(RemotePath::parse(&long).is_err());
    }

    #[test]
    fn prefix_is_case_insensitive() {
        let root = RemotePath::parse(r"C:\Windows").unwrap();
        let p = RemotePath::parse(r"c:\WINDOWS\System32\evil.dll").unwrap();
        assert_eq!(p.strip_prefix(&root).unwrap(), ["System32", "evil.dll"]);
        assert!(root.strip_prefix(&root).is_none());
        assert!(
            RemotePath::parse(r"D:\Windows\x")
                .unwrap()
                .strip_prefix(&root)
                .is_none()
        );
        assert_eq!(p.key(), r"c:\windows\system32\evil.dll");
    }
}
