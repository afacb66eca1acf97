//! Classifying Windows paths: where a file lives (a user's AppData, Temp,
//! ProgramData, a new folder at the drive root, System32, Program Files),
//! for which user, and the components below that place.
//!
//! Paths come from a hostile host, in any case, with `/` or `\`, quoted,
//! with 8.3 short names, `\\?\` prefixes, unexpanded variables or through
//! an admin share (`\\host\C$\...`). Everything here is pure.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::runtime::snapshot::UserProfile;

/// Normalise a path for display and comparison: [`normalize_separators`],
/// then `.` and `..` segments resolved as Windows resolves them
/// ([`resolve_dots`]), so a path is judged by where it really points
/// (`C:\Users\x\AppData\..\..\..\Windows\System32\y.dll` is in System32).
pub fn normalize(p: &str) -> String {
    resolve_dots(&normalize_separators(p))
}

/// Whether a path names its file through `.` or `..` segments (or trailing
/// periods or spaces Windows drops): its text is not where it points.
pub fn has_relative_segments(p: &str) -> bool {
    let n = normalize_separators(p);
    resolve_dots(&n) != n
}

/// `n` (separators normalised) with `.` and `..` resolved lexically as
/// `GetFullPath` does: `.` dropped, `..` drops the segment before it and
/// never climbs above the root (`C:\..\x` is `C:\x`; a UNC root is
/// `\\server\share`); a segment ending in one period loses it, and the last
/// segment loses its trailing periods and spaces (a segment of three or
/// more periods is a name). A relative path keeps its leading `..`.
pub fn resolve_dots(n: &str) -> String {
    let (root, rest) = split_root(n);
    let parts: Vec<&str> = rest.split('\\').filter(|s| !s.is_empty()).collect();
    let last = parts.len().saturating_sub(1);
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "." => {}
            ".." if out.last().is_some_and(|s| s != "..") => {
                out.pop();
            }
            ".." if !root.is_empty() => {}
            ".." => out.push("..".into()),
            s if s.chars().all(|c| c == '.') => out.push(s.into()),
            s if i == last => {
                let t = s.trim_end_matches(['.', ' ']);
                if !t.is_empty() {
                    out.push(t.into());
                }
            }
            s => out.push(s.strip_suffix('.').filter(|t| !t.ends_with('.')).unwrap_or(s).into()),
        }
    }
    let body = out.join("\\");
    if root.is_empty() || root.ends_with('\\') || body.is_empty() {
        format!("{root}{body}")
    } else {
        format!("{root}\\{body}")
    }
}

/// The root of a normalised path (`C:\`, `\\server\share`, `\`) and the
/// rest; a path without one (relative, or drive-relative `C:x`) has "".
fn split_root(n: &str) -> (&str, &str) {
    let b = n.as_bytes();
    if b.len() >= 3 && b[1] == b':' && b[2] == b'\\' && b[0].is_ascii_alphabetic() {
        return (&n[..3], &n[3..]);
    }
    if let Some(rest) = n.strip_prefix("\\\\") {
        let mut it = rest.splitn(3, '\\');
        let server = it.next().unwrap_or("");
        let share = it.next();
        let len = 2 + server.len() + share.map_or(0, |s| 1 + s.len());
        return (&n[..len], &n[len..]);
    }
    if n.starts_with('\\') {
        return (&n[..1], &n[1..]);
    }
    ("", n)
}

/// Trims quotes and blanks, turns `/` into `\`, drops `\\?\` and `\??\`,
/// collapses repeated `\` (keeping a UNC `\\` start), and drops a trailing
/// `\`. Segments are left as they are.
pub fn normalize_separators(p: &str) -> String {
    let mut s = p.trim().trim_matches('"').trim().replace('/', "\\");
    for pre in ["\\\\?\\UNC\\", "\\??\\UNC\\"] {
        if s.len() >= pre.len() && s[..pre.len()].eq_ignore_ascii_case(pre) {
            s = format!("\\\\{}", &s[pre.len()..]);
        }
    }
    for pre in ["\\\\?\\", "\\??\\"] {
        if let Some(rest) = s.strip_prefix(pre) {
            s = rest.to_string();
        }
    }
    let unc = s.starts_with("\\\\");
    let mut out = String::with_capacity(s.len());
    let mut prev_bs = false;
    for c in s.chars() {
        if c == '\\' {
            if prev_bs {
                continue;
            }
            prev_bs = true;
        } else {
            prev_bs = false;
        }
        out.push(c);
    }
    if unc {
        out.insert(0, '\\');
    }
    while out.len() > 3 && out.ends_with('\\') {
        out.pop();
    }
    out
}

/// A comparison key: normalised, lower-case, with the WOW64 views of the
/// system folder (`SysWOW64`, `Sysnative`) folded onto `System32` and an
/// admin share (`\\host\c$\x`) folded onto the local drive (`c:\x`).
pub fn key(p: &str) -> String {
    key_memo(p).to_string()
}

/// [`key`], remembered per thread: judging one host compares the same few
/// paths (its profile folders, its autorun targets) thousands of times,
/// and a key costs a normalisation and a lower-casing each time. A pure
/// function's memo: bounded, cleared when full.
fn key_memo(p: &str) -> Rc<str> {
    thread_local! {
        static MEMO: RefCell<HashMap<Box<str>, Rc<str>>> = RefCell::new(HashMap::new());
    }
    MEMO.with(|memo| {
        if let Some(k) = memo.borrow().get(p) {
            return k.clone();
        }
        let k: Rc<str> = Rc::from(key_uncached(p));
        let mut memo = memo.borrow_mut();
        if memo.len() >= 4096 {
            memo.clear();
        }
        memo.insert(p.into(), k.clone());
        k
    })
}

fn key_uncached(p: &str) -> String {
    let n = normalize(p).to_lowercase();
    let n = unc_admin_share_to_local(&n).unwrap_or(n);
    let parts: Vec<&str> = n.split('\\').collect();
    if parts.len() >= 3
        && parts[1] == "windows"
        && (parts[2] == "syswow64" || parts[2] == "sysnative")
    {
        let mut v: Vec<&str> = parts.clone();
        v[2] = "system32";
        return v.join("\\");
    }
    n
}

/// `\\host\c$\rest` -> `c:\rest` (the form Qakbot's lateral services use).
pub fn unc_admin_share_to_local(p: &str) -> Option<String> {
    let rest = p.strip_prefix("\\\\")?;
    let mut it = rest.splitn(3, '\\');
    let _host = it.next()?;
    let share = it.next()?;
    let b = share.as_bytes();
    if b.len() == 2 && b[1] == b'$' && b[0].is_ascii_alphabetic() {
        let tail = it.next().unwrap_or("");
        return Some(format!("{}:\\{}", b[0] as char, tail));
    }
    None
}

/// The last component (file or folder name).
pub fn file_name(p: &str) -> &str {
    let p = p.trim_end_matches('\\');
    match p.rfind(['\\', '/']) {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Everything before the last component, without the trailing `\`.
pub fn parent(p: &str) -> &str {
    let p = p.trim_end_matches('\\');
    match p.rfind(['\\', '/']) {
        Some(i) if i == 2 && p.as_bytes().get(1) == Some(&b':') => &p[..3],
        Some(i) => &p[..i],
        None => "",
    }
}

/// Lower-case extension without the dot ("" when none).
pub fn extension(p: &str) -> String {
    let n = file_name(p);
    match n.rfind('.') {
        Some(i) if i > 0 => n[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The file name without its last extension.
pub fn stem(p: &str) -> &str {
    let n = file_name(p);
    match n.rfind('.') {
        Some(i) if i > 0 => &n[..i],
        _ => n,
    }
}

/// Do two path components name the same entry? Case-insensitive, and an
/// 8.3 short name (`MICROS~1`, `DEVICE~1.EXE`) matches the long name it
/// can stand for (first six significant characters, first three of the
/// extension).
pub fn component_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || short_name_matches(a, b) || short_name_matches(b, a)
}

/// Is `short` a plausible 8.3 alias of `long`?
pub fn short_name_matches(short: &str, long: &str) -> bool {
    let (s_base, s_ext) = match short.rfind('.') {
        Some(i) => (&short[..i], &short[i + 1..]),
        None => (short, ""),
    };
    let Some(tilde) = s_base.find('~') else {
        return false;
    };
    let prefix = &s_base[..tilde];
    let digits = &s_base[tilde + 1..];
    if prefix.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (l_base, l_ext) = match long.rfind('.') {
        Some(i) if i > 0 => (&long[..i], &long[i + 1..]),
        _ => (long, ""),
    };
    // Windows drops spaces and dots and maps other invalid characters to '_'.
    let sig: String = l_base
        .chars()
        .filter(|c| *c != ' ' && *c != '.')
        .map(|c| if "+,;=[]".contains(c) { '_' } else { c })
        .collect();
    if sig.len() < prefix.len() || !sig[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return false;
    }
    let l_ext3: String = l_ext.chars().filter(|c| *c != ' ').take(3).collect();
    s_ext.eq_ignore_ascii_case(&l_ext3)
}

/// Does `path` lie under `dir` (or equal it)? Component-wise, with short
/// names allowed on either side and WOW64 folding.
pub fn is_under(path: &str, dir: &str) -> bool {
    let p = key_memo(path);
    let d = key_memo(dir);
    if d.is_empty() {
        return false;
    }
    let pc = || p.split('\\').filter(|c| !c.is_empty());
    let dc = || d.split('\\').filter(|c| !c.is_empty());
    if dc().count() > pc().count() {
        return false;
    }
    dc().zip(pc()).all(|(a, b)| component_eq(a, b))
}

/// Components of `path` below `dir` (original case), if it is under it.
pub fn rel_components(path: &str, dir: &str) -> Option<Vec<String>> {
    if !is_under(path, dir) {
        return None;
    }
    let n = normalize(path);
    let n = unc_admin_share_to_local(&n).unwrap_or(n);
    let depth = normalize(dir).split('\\').filter(|c| !c.is_empty()).count();
    Some(
        n.split('\\')
            .filter(|c| !c.is_empty())
            .skip(depth)
            .map(str::to_string)
            .collect(),
    )
}

/// The broad kind of place a path is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `%LOCALAPPDATA%` (not its Temp).
    LocalAppData,
    /// `%APPDATA%` (Roaming).
    RoamingAppData,
    /// A user's `%TEMP%`.
    UserTemp,
    /// Elsewhere in a user profile (Desktop, Downloads, the profile root).
    UserProfile,
    /// `C:\Users\Public`.
    Public,
    /// `C:\ProgramData`.
    ProgramData,
    /// A file directly at a drive root (`C:\x.dll`).
    DriveRoot,
    /// A non-standard folder at a drive root (`C:\Datop\...`).
    RootFolder,
    /// `C:\Windows\Temp`.
    WindowsTemp,
    /// `C:\Windows\System32` or its WOW64 views.
    System,
    /// Elsewhere under `C:\Windows`.
    Windows,
    /// `C:\Program Files` or `C:\Program Files (x86)`.
    ProgramFiles,
    /// A network path or something not understood.
    Other,
}

impl Area {
    /// Can an unprivileged user (or a loader running as one) write here?
    pub fn user_writable(self) -> bool {
        matches!(
            self,
            Area::LocalAppData
                | Area::RoamingAppData
                | Area::UserTemp
                | Area::UserProfile
                | Area::Public
                | Area::ProgramData
                | Area::DriveRoot
                | Area::RootFolder
                | Area::WindowsTemp
        )
    }
}

/// Where a path is: the area, the user it belongs to (profile folder name
/// or the matching snapshot user), and the components below the area root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub area: Area,
    /// Profile folder name (`bob`, `systemprofile`), when per-user.
    pub user: Option<String>,
    /// The area's root as written in the path (e.g. `C:\Users\bob\AppData\Local`).
    pub root: String,
    /// Components below the root, original case.
    pub rel: Vec<String>,
    /// Reached through an admin share (`\\host\C$\...`).
    pub via_admin_share: bool,
}

impl Place {
    pub fn user_writable(&self) -> bool {
        self.area.user_writable()
    }
    /// The first folder below the area root, if the path goes deeper.
    pub fn top_folder(&self) -> Option<&str> {
        if self.rel.len() >= 2 {
            Some(&self.rel[0])
        } else {
            None
        }
    }
    /// Path of the first folder below the root.
    pub fn top_folder_path(&self) -> Option<String> {
        self.top_folder().map(|f| format!("{}\\{}", self.root, f))
    }
}

fn place(area: Area, user: Option<String>, root: String, rel: Vec<String>) -> Place {
    Place {
        area,
        user,
        root,
        rel,
        via_admin_share: false,
    }
}

const PROFILE_SYSTEM_PREFIXES: &[&str] = &[
    "c:\\windows\\system32\\config\\systemprofile",
    "c:\\windows\\syswow64\\config\\systemprofile",
    "c:\\windows\\serviceprofiles\\localservice",
    "c:\\windows\\serviceprofiles\\networkservice",
];

/// Classify a path (already expanded where the user is known; leftover
/// `%APPDATA%`-style variables are understood too).
pub fn classify(path: &str, users: &[UserProfile]) -> Place {
    let mut n = normalize(path);
    let mut via_share = false;
    if let Some(local) = unc_admin_share_to_local(&n.to_lowercase()) {
        // keep original case of the tail
        let tail_start = n.len() - (local.len() - 3);
        n = format!("{}{}", &local[..3].to_ascii_uppercase(), &n[tail_start..]);
        via_share = true;
    }
    let mut p = classify_local(&n, users);
    p.via_admin_share = via_share;
    p
}

fn split_rel(n: &str, depth: usize) -> Vec<String> {
    n.split('\\')
        .filter(|c| !c.is_empty())
        .skip(depth)
        .map(str::to_string)
        .collect()
}

fn root_of(n: &str, depth: usize) -> String {
    n.split('\\')
        .filter(|c| !c.is_empty())
        .take(depth)
        .collect::<Vec<_>>()
        .join("\\")
}

fn classify_local(n: &str, users: &[UserProfile]) -> Place {
    let lower = n.to_lowercase();
    // Unexpanded variables.
    let vars: &[(&str, Area)] = &[
        ("%localappdata%", Area::LocalAppData),
        ("%appdata%", Area::RoamingAppData),
        ("%temp%", Area::UserTemp),
        ("%tmp%", Area::UserTemp),
        ("%userprofile%", Area::UserProfile),
        ("%programdata%", Area::ProgramData),
        ("%allusersprofile%", Area::ProgramData),
        ("%public%", Area::Public),
    ];
    for (v, area) in vars {
        if lower.starts_with(v) {
            let root = n[..v.len()].to_string();
            let rel = split_rel(n, 1);
            let area = if *area == Area::LocalAppData
                && rel.first().is_some_and(|c| c.eq_ignore_ascii_case("temp"))
            {
                return place(
                    Area::UserTemp,
                    None,
                    format!("{root}\\{}", rel[0]),
                    rel[1..].to_vec(),
                );
            } else {
                *area
            };
            return place(area, None, root, rel);
        }
    }
    // Snapshot users, most specific folder first.
    for u in users {
        for (dir, area) in [
            (&u.temp, Area::UserTemp),
            (&u.local_appdata, Area::LocalAppData),
            (&u.appdata, Area::RoamingAppData),
        ] {
            if !dir.is_empty() && is_under(n, dir) {
                let depth = normalize(dir).split('\\').filter(|c| !c.is_empty()).count();
                return place(
                    area,
                    Some(u.name.clone()),
                    root_of(n, depth),
                    split_rel(n, depth),
                );
            }
        }
    }
    let comps: Vec<&str> = n.split('\\').filter(|c| !c.is_empty()).collect();
    let lc: Vec<String> = comps.iter().map(|c| c.to_lowercase()).collect();
    let is_drive = lc.first().is_some_and(|d| d.len() == 2 && d.ends_with(':'));
    if !is_drive {
        return place(
            Area::Other,
            None,
            String::new(),
            comps.iter().map(|c| c.to_string()).collect(),
        );
    }
    // System and service profiles.
    for pre in PROFILE_SYSTEM_PREFIXES {
        let d = pre.split('\\').count();
        if lc.len() > d && lc[..d].join("\\").ends_with(&pre[2..]) {
            let who = lc[d - 1].clone();
            return profile_tail(n, &lc, d, who);
        }
    }
    // Generic profile layouts.
    if lc.len() >= 3 && (lc[1] == "users" || lc[1] == "documents and settings") {
        if lc[2] == "public" {
            return place(Area::Public, None, root_of(n, 3), split_rel(n, 3));
        }
        if lc[2] == "all users" {
            return place(Area::ProgramData, None, root_of(n, 3), split_rel(n, 3));
        }
        if let Some(u) = users
            .iter()
            .find(|u| !u.profile_path.is_empty() && is_under(n, &u.profile_path))
        {
            let depth = normalize(&u.profile_path)
                .split('\\')
                .filter(|c| !c.is_empty())
                .count();
            return profile_tail_user(n, &lc, depth, u.name.clone());
        }
        return profile_tail(n, &lc, 3, comps[2].to_string());
    }
    if lc.len() >= 2 && lc[1] == "programdata" {
        return place(Area::ProgramData, None, root_of(n, 2), split_rel(n, 2));
    }
    if lc.len() >= 2 && lc[1] == "windows" {
        if lc.len() >= 3 && (lc[2] == "system32" || lc[2] == "syswow64" || lc[2] == "sysnative") {
            return place(Area::System, None, root_of(n, 3), split_rel(n, 3));
        }
        if lc.len() >= 3 && lc[2] == "temp" {
            return place(Area::WindowsTemp, None, root_of(n, 3), split_rel(n, 3));
        }
        return place(Area::Windows, None, root_of(n, 2), split_rel(n, 2));
    }
    if lc.len() >= 2
        && (lc[1] == "program files"
            || lc[1] == "program files (x86)"
            || lc[1].starts_with("progra~"))
    {
        return place(Area::ProgramFiles, None, root_of(n, 2), split_rel(n, 2));
    }
    if lc.len() == 2 {
        return place(Area::DriveRoot, None, root_of(n, 1), split_rel(n, 1));
    }
    if lc.len() > 2 {
        // Well-known non-user folders at the root are not "new".
        let known_root = [
            "$recycle.bin",
            "system volume information",
            "recovery",
            "boot",
            "perflogs",
            "intel",
            "nvidia",
            "amd",
            "drivers",
            "inetpub",
            "msocache",
            "windows.old",
            "$windows.~bt",
            "$windows.~ws",
            "onedrivetemp",
        ];
        if known_root.contains(&lc[1].as_str()) {
            return place(Area::Other, None, root_of(n, 2), split_rel(n, 2));
        }
        return place(Area::RootFolder, None, root_of(n, 1), split_rel(n, 1));
    }
    place(Area::Other, None, n.to_string(), Vec::new())
}

fn profile_tail_user(n: &str, lc: &[String], depth: usize, who: String) -> Place {
    profile_tail(n, lc, depth, who)
}

/// Below a profile folder at `depth` components: AppData\Local(\Temp),
/// AppData\Roaming, the XP layout, or elsewhere in the profile.
fn profile_tail(n: &str, lc: &[String], depth: usize, who: String) -> Place {
    let rest: Vec<&str> = lc[depth..].iter().map(String::as_str).collect();
    let ce = |i: usize, s: &str| rest.get(i).is_some_and(|c| component_eq(c, s));
    let user = Some(who);
    if ce(0, "appdata") && ce(1, "local") {
        if ce(2, "temp") {
            return place(
                Area::UserTemp,
                user,
                root_of(n, depth + 3),
                split_rel(n, depth + 3),
            );
        }
        return place(
            Area::LocalAppData,
            user,
            root_of(n, depth + 2),
            split_rel(n, depth + 2),
        );
    }
    if ce(0, "appdata") && ce(1, "roaming") {
        return place(
            Area::RoamingAppData,
            user,
            root_of(n, depth + 2),
            split_rel(n, depth + 2),
        );
    }
    if ce(0, "local settings") && ce(1, "application data") {
        return place(
            Area::LocalAppData,
            user,
            root_of(n, depth + 2),
            split_rel(n, depth + 2),
        );
    }
    if ce(0, "local settings") && ce(1, "temp") {
        return place(
            Area::UserTemp,
            user,
            root_of(n, depth + 2),
            split_rel(n, depth + 2),
        );
    }
    if ce(0, "application data") {
        return place(
            Area::RoamingAppData,
            user,
            root_of(n, depth + 1),
            split_rel(n, depth + 1),
        );
    }
    // A path that skips "AppData" (as some reports print it) is still the profile.
    place(
        Area::UserProfile,
        user,
        root_of(n, depth),
        split_rel(n, depth),
    )
}

/// Is this path in the system folder (or its WOW64 view), directly or below?
pub fn is_system_dir(path: &str) -> bool {
    let k = key(path);
    k.len() > 3 && k[1..].starts_with(":\\windows\\system32\\")
}

/// Is this path directly in `C:\Windows` or the system folder (not a subfolder)?
pub fn is_directly_in_system(path: &str) -> bool {
    let k = key(path);
    let parent = parent(&k);
    parent.len() > 3 && (parent[1..] == *":\\windows\\system32" || parent[1..] == *":\\windows")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bob() -> UserProfile {
        UserProfile {
            name: "bob".into(),
            sid: "S-1-5-21-1-2-3-1001".into(),
            profile_path: "C:\\Users\\bob".into(),
            appdata: "C:\\Users\\bob\\AppData\\Roaming".into(),
            local_appdata: "C:\\Users\\bob\\AppData\\Local".into(),
            temp: "C:\\Users\\bob\\AppData\\Local\\Temp".into(),
            logged_on: true,
        }
    }

    #[test]
    fn dot_segments_resolve_where_windows_resolves_them() {
        let cases = [
            (r"C:\Users\x\AppData\Local\..\..\..\..\Windows\System32\y.dll", r"C:\Windows\System32\y.dll"),
            (r"C:\..\..\Windows\.\y.dll", r"C:\Windows\y.dll"),
            (r"C:/Users/x/./AppData/../z.exe", r"C:\Users\x\z.exe"),
            (r"C:\Windows\System32.\y.dll", r"C:\Windows\System32\y.dll"),
            (r"C:\Windows\System32\y.dll. . ", r"C:\Windows\System32\y.dll"),
            (r"C:\x\...\y", r"C:\x\...\y"),
            (r"\\host\c$\Users\..\Windows\y.dll", r"\\host\c$\Windows\y.dll"),
            (r"\\host\c$\..\..\y.dll", r"\\host\c$\y.dll"),
            (r"\\?\C:\Users\..\Windows\y.dll", r"C:\Windows\y.dll"),
            (r"..\x\..\y", r"..\y"),
            (r"C:\Users\bob\a.dll", r"C:\Users\bob\a.dll"),
        ];
        for (p, want) in cases {
            assert_eq!(normalize(p), want, "{p}");
        }
        assert!(has_relative_segments(r"C:\Users\x\..\y.dll"));
        assert!(has_relative_segments(r"C:\Windows\System32.\y.dll"));
        assert!(!has_relative_segments(r"C:\Users\x\...\y.dll"));
        assert!(!has_relative_segments(r"C:\Users\x\y.dll\"));
        // Judged by where they point.
        assert!(is_directly_in_system(r"C:\Users\x\AppData\Local\..\..\..\..\Windows\System32\y.dll"));
        assert!(is_directly_in_system(r"C:\Users\x\..\..\Windows\SysWOW64\.\y.dll"));
    }

    #[test]
    fn classify_user_areas() {
        let u = [bob()];
        let p = classify("C:\\Users\\bob\\AppData\\Local\\Ckninfw\\ialkq.czi", &u);
        assert_eq!(p.area, Area::LocalAppData);
        assert_eq!(p.user.as_deref(), Some("bob"));
        assert_eq!(p.rel, vec!["Ckninfw", "ialkq.czi"]);
        assert_eq!(
            p.top_folder_path().unwrap(),
            "C:\\Users\\bob\\AppData\\Local\\Ckninfw"
        );
        assert_eq!(
            classify("c:/users/BOB/appdata/local/temp/x.exe", &u).area,
            Area::UserTemp
        );
        assert_eq!(
            classify("C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Vuhys", &u).area,
            Area::RoamingAppData
        );
        assert_eq!(
            classify("C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Vuhys", &u)
                .user
                .as_deref(),
            Some("alice")
        );
        assert_eq!(
            classify("%APPDATA%\\Spotify\\Spotify.exe", &u).area,
            Area::RoamingAppData
        );
        assert_eq!(classify("C:\\Users\\Public\\x.dll", &u).area, Area::Public);
        assert_eq!(
            classify("C:\\ProgramData\\12842.jpg", &u).area,
            Area::ProgramData
        );
        assert_eq!(classify("C:\\Datop\\good.good", &u).area, Area::RootFolder);
        assert_eq!(classify("C:\\enu.ocx", &u).area, Area::DriveRoot);
        assert_eq!(
            classify("C:\\Windows\\SysWOW64\\rundll32.exe", &u).area,
            Area::System
        );
        assert_eq!(
            classify(
                "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
                &u
            )
            .area,
            Area::ProgramFiles
        );
        assert_eq!(
            classify(
                "C:\\Windows\\System32\\config\\systemprofile\\AppData\\Roaming\\Microsoft\\Xyz",
                &u
            )
            .area,
            Area::RoamingAppData
        );
        let s = classify("\\\\10.0.0.5\\C$\\Users\\bob\\AppData\\Local\\x\\y.dll", &u);
        assert!(s.via_admin_share);
        assert_eq!(s.area, Area::LocalAppData);
        let short = classify(
            "C:\\Users\\user1\\AppData\\Roaming\\MICROS~1\\INTERN~1\\QUICKL~1\\USERPI~1\\TaskBar\\8BZQKU~1\\DEVICE~1.EXE",
            &u,
        );
        assert_eq!(short.area, Area::RoamingAppData);
        assert_eq!(short.user.as_deref(), Some("user1"));
    }

    #[test]
    fn short_names_and_wow64() {
        assert!(short_name_matches("MICROS~1", "Microsoft"));
        assert!(short_name_matches("DEVICE~1.EXE", "DeviceEnroller.exe"));
        assert!(short_name_matches("8BZQKU~1", "8BZQKUfNh"));
        assert!(short_name_matches("QUICKL~1", "Quick Launch"));
        assert!(!short_name_matches("MICROS~1", "Mozilla"));
        assert!(!short_name_matches("DEVICE~1.EXE", "DeviceEnroller.dll"));
        assert_eq!(
            key("C:\\Windows\\SysWOW64\\Abc\\x.dll"),
            key("c:\\windows\\system32\\abc\\X.DLL")
        );
        assert!(is_under(
            "C:\\Users\\ADMINI~1\\AppData\\x",
            "C:\\Users\\Administrator"
        ));
        assert_eq!(parent("C:\\x.dll"), "C:\\");
        assert_eq!(extension("a\\b.CZI"), "czi");
        assert_eq!(stem("a\\b.c.dll"), "b.c");
    }
}
