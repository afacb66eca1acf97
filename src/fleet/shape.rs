//! Shapes: what stays the same when a loader installs itself on many hosts
//! under names it draws at random. A random folder `Gmkdfrtoqz` and a file
//! `ohwqpx.kzt` on one host, `Vbnrtqas\jzkq.pfe` on the next, have the same
//! shape: `%LOCALAPPDATA%\Aa\a.?3`. Well-known folder and product names
//! stay literal (`%APPDATA%\microsoft\Aa\a.dll`), so the shape keeps what
//! is real and abstracts what is drawn. Also the place-independent form of
//! a path (`%LOCALAPPDATA%\...` instead of one user's folder) that stacking
//! counts across hosts. Pure.

use crate::detect::names;
use crate::detect::paths::{self, Area, Place};

/// Folder names Windows itself uses at every level, kept literal.
const STANDARD_FOLDERS: &[&str] = &[
    "microsoft", "windows", "programs", "temp", "tasks", "system32", "syswow64", "startup",
    "start menu", "appdata", "local", "roaming", "locallow", "common files", "public",
    "downloads", "desktop", "documents", "music", "pictures", "videos", "inetcache",
    "temporary internet files", "content.outlook", "packages", "crypto", "protect",
    "credentials", "spool", "drivers", "wbem", "windowspowershell", "help", "fonts",
];

/// The shape of one name (a folder, a task or value name, a file stem):
/// `{guid}` for a GUID, the lower-case name itself when it is a standard
/// Windows folder or a known product, otherwise its character classes with
/// runs collapsed: upper `A`, lower `a`, digit `9`, other characters as
/// they are (`Gmkdfrtoqz` -> `Aa`, `ohwqpx` -> `a`, `WS-041` -> `A-9`).
pub fn name(n: &str) -> String {
    let t = n.trim();
    if names::is_guid(t) {
        return "{guid}".into();
    }
    let lower = t.to_lowercase();
    if STANDARD_FOLDERS.contains(&lower.as_str())
        || names::known_product(t)
        || names::known_ms_roaming_folder(t)
        || names::known_system_subdir(t)
    {
        return lower;
    }
    let mut out = String::new();
    for c in t.chars() {
        let class = if c.is_uppercase() {
            'A'
        } else if c.is_lowercase() {
            'a'
        } else if c.is_ascii_digit() {
            '9'
        } else {
            c
        };
        if !out.ends_with(class) || !matches!(class, 'A' | 'a' | '9') {
            out.push(class);
        }
    }
    out
}

/// Extensions kept literal in a shape; any other becomes `?N` (its length),
/// so the fake extensions a loader draws (`.kzt`, `.czi`) share one shape.
const COMMON_EXTENSIONS: &[&str] = &[
    "exe", "dll", "sys", "ocx", "cpl", "scr", "com", "bat", "cmd", "ps1", "vbs", "vbe", "js",
    "jse", "wsf", "hta", "lnk", "dat", "tmp", "bin", "txt", "cfg", "ini", "xml", "log", "msi",
];

/// The shape of an extension (without the dot): literal when common,
/// `?N` otherwise, empty when there is none.
pub fn extension(ext: &str) -> String {
    let l = ext.to_ascii_lowercase();
    if l.is_empty() || COMMON_EXTENSIONS.contains(&l.as_str()) {
        l
    } else {
        format!("?{}", l.chars().count())
    }
}

/// The shape of a file name: stem shape, then the extension's.
pub fn file_name(n: &str) -> String {
    let ext = paths::extension(n);
    let stem = paths::stem(n);
    if ext.is_empty() {
        name(stem)
    } else {
        format!("{}.{}", name(stem), extension(&ext))
    }
}

/// A Run key's hive without its user: `HKLM`, or `HKU` for any user's.
pub fn hive(hive: &str) -> &'static str {
    if hive.eq_ignore_ascii_case("HKLM") { "HKLM" } else { "HKU" }
}

/// How an area reads in a shape or a stack key.
pub fn area_label(area: Area) -> &'static str {
    match area {
        Area::LocalAppData => "%LOCALAPPDATA%",
        Area::RoamingAppData => "%APPDATA%",
        Area::UserTemp => "%TEMP%",
        Area::UserProfile => "%USERPROFILE%",
        Area::Public => "%PUBLIC%",
        Area::ProgramData => "%PROGRAMDATA%",
        Area::DriveRoot | Area::RootFolder => "C:",
        Area::WindowsTemp => "%WINDIR%\\Temp",
        Area::System => "%SYSTEM32%",
        Area::Windows => "%WINDIR%",
        Area::ProgramFiles => "%PROGRAMFILES%",
        Area::Other => "",
    }
}

/// The shape of a file's path: its area, then the shape of every folder
/// below it, then the file's (`%APPDATA%\microsoft\Aa\a.dll`).
pub fn path(place: &Place) -> String {
    let mut out = String::from(area_label(place.area));
    if place.area == Area::Other {
        out.push_str("(other)");
    }
    let last = place.rel.len().saturating_sub(1);
    for (i, c) in place.rel.iter().enumerate() {
        out.push('\\');
        out.push_str(&if i == last { file_name(c) } else { name(c) });
    }
    out
}

/// A path written without the user or the machine it is on, lower case:
/// `%LOCALAPPDATA%\microsoft\onedrive\onedrive.exe` for every user of
/// every host, so stacking counts the same thing once per host.
pub fn portable(place: &Place, original: &str) -> String {
    let tail = place.rel.join("\\");
    let text = match place.area {
        Area::Other | Area::System | Area::Windows | Area::ProgramFiles | Area::DriveRoot
        | Area::RootFolder => paths::normalize(original),
        area if tail.is_empty() => area_label(area).to_string(),
        area => format!("{}\\{tail}", area_label(area)),
    };
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::snapshot::UserProfile;

    fn users() -> Vec<UserProfile> {
        ["bob", "alice"]
            .iter()
            .map(|n| UserProfile {
                name: (*n).into(),
                sid: format!("S-1-5-21-1-{n}"),
                profile_path: format!(r"C:\Users\{n}"),
                appdata: format!(r"C:\Users\{n}\AppData\Roaming"),
                local_appdata: format!(r"C:\Users\{n}\AppData\Local"),
                temp: format!(r"C:\Users\{n}\AppData\Local\Temp"),
                logged_on: true,
            })
            .collect()
    }

    #[test]
    fn drawn_names_share_a_shape_and_real_ones_stay() {
        assert_eq!(name("Gmkdfrtoqz"), "Aa");
        assert_eq!(name("Vbnrtqas"), "Aa");
        assert_eq!(name("ohwqpx"), "a");
        assert_eq!(name("WS-041"), "A-9");
        assert_eq!(name("{0F5A2B44-1C3D-4E5F-8A9B-0C1D2E3F4A5B}"), "{guid}");
        assert_eq!(name("Microsoft"), "microsoft");
        assert_eq!(file_name("ohwqpx.kzt"), file_name("jzkq.pfe"));
        assert_eq!(file_name("jzkq.pfe"), "a.?3");
        assert_eq!(file_name("helper.dll"), "a.dll");
        assert_ne!(file_name("helper.dll"), file_name("helper.exe"));
    }

    #[test]
    fn path_shapes_hold_across_users_and_hosts() {
        let u = users();
        let a = paths::classify(r"C:\Users\bob\AppData\Local\Gmkdfrtoqz\ohwqpx.kzt", &u);
        let b = paths::classify(r"C:\Users\alice\AppData\Local\Vbnrtqas\jzkq.pfe", &u);
        assert_eq!(path(&a), r"%LOCALAPPDATA%\Aa\a.?3");
        assert_eq!(path(&a), path(&b));
        let q = paths::classify(r"C:\Users\bob\AppData\Roaming\Microsoft\Vuhys\vuhys.dll", &u);
        assert_eq!(path(&q), r"%APPDATA%\microsoft\Aa\a.dll");
        let one = paths::classify(r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe", &u);
        let two = paths::classify(r"C:\Users\alice\AppData\Local\Microsoft\OneDrive\OneDrive.exe", &u);
        assert_eq!(
            portable(&one, r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe"),
            r"%localappdata%\microsoft\onedrive\onedrive.exe"
        );
        assert_eq!(
            portable(&one, "x"),
            portable(&two, "y"),
            "the same product for two users is one entry"
        );
        let sys = paths::classify(r"C:\Windows\System32\svchost.exe", &u);
        assert_eq!(portable(&sys, r"C:\Windows\System32\svchost.exe"), r"c:\windows\system32\svchost.exe");
    }
}
