//! The drop-folder sweep: which folders to sweep on a host, and how its
//! answers join the files asked for by name.
//!
//! Pass two asks about the files that autostarts, tasks, services, WMI
//! consumers and processes name. A loader's files named by nothing (a
//! first stage in the profile root, a live Qakbot's empty folder, an
//! IcedID `license.dat`, a copy at `C:\`, a legacy `.job`) show only to a
//! sweep of the folders loaders drop into: every profile's root,
//! `%APPDATA%`, `%APPDATA%\Microsoft`, `%LOCALAPPDATA%` (with their
//! first-level subfolders), `C:\ProgramData` (and its first level), `C:\`,
//! `C:\Windows\Tasks`, SYSTEM's `%APPDATA%` and `%LOCALAPPDATA%` under
//! `System32\config\systemprofile` and its SysWOW64 view (with their
//! first level), and, filtered to recently written executables,
//! `System32` and `SysWOW64` with their first level and `C:\Windows`
//! itself (where copies through `ADMIN$` land). Bounded per root
//! (count, depth), hashes only for executables and scripts under a size
//! bound; every cut is reported by the runtime. Pure: no I/O.

use std::collections::HashSet;

use super::ops::{Bounds, Query, SweepRoot};
use super::snapshot::{FileFacts, Snapshot, UserProfile};
use crate::detect::link::wow64_variants;
use crate::detect::paths;

/// Extensions of the swept files that are hashed and whose signature is
/// read: executables and scripts (a `.job` is a task's program).
pub const HASHED_EXTENSIONS: &[&str] = &[
    "exe", "dll", "ocx", "cpl", "scr", "sys", "com", "drv", "bat", "cmd", "vbs", "vbe", "js",
    "jse", "wsf", "wsh", "ps1", "hta", "job",
];

/// Entries reported per root at most.
pub const MAX_ENTRIES_PER_ROOT: u32 = 2000;

/// Swept files larger than this are not hashed.
pub const MAX_HASH_BYTES: u64 = 32 * 1024 * 1024;

/// System32 and SysWOW64 are swept for EXE/DLL files written within this
/// many days only (the rest is Windows' own).
pub const SYSTEM_RECENT_DAYS: u32 = 90;

fn root(path: &str, depth: u32) -> SweepRoot {
    SweepRoot {
        path: path.to_string(),
        depth,
        extensions: Vec::new(),
        recent_days: 0,
    }
}

/// The folders to sweep on a host whose first pass is `snap`.
pub fn roots(snap: &Snapshot) -> Vec<SweepRoot> {
    let mut out = Vec::new();
    for u in &snap.users {
        out.push(root(&u.profile_path, 0));
        out.push(root(&u.appdata, 1));
        out.push(root(&format!(r"{}\Microsoft", u.appdata), 1));
        out.push(root(&u.local_appdata, 1));
    }
    // SYSTEM's own profile, in both WOW64 views (a 32-bit loader running
    // as SYSTEM writes under SysWOW64\config\systemprofile).
    let system = UserProfile::service_account("S-1-5-18").expect("SYSTEM");
    for dir in [&system.appdata, &system.local_appdata] {
        for view in wow64_variants(dir) {
            out.push(root(&view, 1));
        }
    }
    out.push(root(r"C:\ProgramData", 1));
    out.push(root(r"C:\", 0));
    out.push(root(r"C:\Windows\Tasks", 0));
    for sys in [r"C:\Windows\System32", r"C:\Windows\SysWOW64"] {
        out.push(SweepRoot {
            path: sys.to_string(),
            depth: 1,
            extensions: vec!["exe".into(), "dll".into()],
            recent_days: SYSTEM_RECENT_DAYS,
        });
    }
    // Directly in C:\Windows (ADMIN$): where lateral copies land.
    out.push(SweepRoot {
        path: r"C:\Windows".to_string(),
        depth: 0,
        extensions: ["exe", "dll", "scr", "com"].map(String::from).to_vec(),
        recent_days: SYSTEM_RECENT_DAYS,
    });
    // Exact spelling, case folded: `paths::key` folds SysWOW64 into
    // System32, and both are swept.
    let mut seen = HashSet::new();
    out.retain(|r| !r.path.is_empty() && seen.insert(ident(&r.path)));
    out
}

/// The sweep query for a host; `asked` are the paths pass two asks for
/// by name (not swept again).
pub fn query(snap: &Snapshot, asked: &[String], bounds: &Bounds) -> Query {
    Query::Sweep {
        roots: roots(snap),
        skip: asked.to_vec(),
        hash_extensions: HASHED_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
        max_entries: MAX_ENTRIES_PER_ROOT,
        max_hash_bytes: MAX_HASH_BYTES.min(bounds.max_hash_bytes),
        bounds: bounds.clone(),
    }
}

/// A path's identity for [`merge`]: its exact spelling, case folded (a
/// System32 file and its SysWOW64 twin are two files).
fn ident(p: &str) -> String {
    paths::normalize(p).to_lowercase()
}

/// The files asked for by name, then each swept entry not among them
/// (marked `swept`). A path reached by two roots is kept once.
pub fn merge(named: Vec<FileFacts>, swept: Vec<FileFacts>) -> Vec<FileFacts> {
    let mut seen: HashSet<String> = HashSet::new();
    for f in &named {
        seen.insert(ident(&f.path));
        if !f.long_path.is_empty() {
            seen.insert(ident(&f.long_path));
        }
    }
    let mut out = named;
    for mut f in swept {
        if seen.insert(ident(&f.path)) {
            f.swept = true;
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::snapshot::UserProfile;

    fn user(name: &str) -> UserProfile {
        let base = format!(r"C:\Users\{name}");
        UserProfile {
            name: name.into(),
            sid: format!("S-1-5-21-1-2-3-{}", name.len()),
            appdata: format!(r"{base}\AppData\Roaming"),
            local_appdata: format!(r"{base}\AppData\Local"),
            temp: format!(r"{base}\AppData\Local\Temp"),
            profile_path: base,
            logged_on: false,
        }
    }

    #[test]
    fn every_profile_and_the_machine_drop_folders_once() {
        let snap = Snapshot {
            users: vec![user("ann"), user("Пётр"), user("ann")],
            ..Snapshot::default()
        };
        let r = roots(&snap);
        let find = |p: &str| r.iter().find(|x| x.path == p);
        for u in ["ann", "Пётр"] {
            assert_eq!(find(&format!(r"C:\Users\{u}")).map(|x| x.depth), Some(0));
            assert_eq!(
                find(&format!(r"C:\Users\{u}\AppData\Roaming\Microsoft")).map(|x| x.depth),
                Some(1)
            );
            assert_eq!(
                find(&format!(r"C:\Users\{u}\AppData\Local")).map(|x| x.depth),
                Some(1)
            );
        }
        assert_eq!(r.iter().filter(|x| x.path == r"C:\Users\ann").count(), 1);
        assert!(find(r"C:\").is_some_and(|x| !x.filtered()));
        assert!(find(r"C:\Windows\Tasks").is_some());
        let sys = find(r"C:\Windows\SysWOW64").expect("SysWOW64 swept");
        assert!(sys.filtered() && sys.recent_days == SYSTEM_RECENT_DAYS);
        assert_eq!(sys.extensions, vec!["exe", "dll"]);
        let win = find(r"C:\Windows").expect("C:\\Windows swept");
        assert!(win.filtered() && win.depth == 0 && win.extensions.contains(&"exe".to_string()));
        for view in ["System32", "SysWOW64"] {
            assert_eq!(
                find(&format!(
                    r"C:\Windows\{view}\config\systemprofile\AppData\Roaming"
                ))
                .map(|x| x.depth),
                Some(1),
                "{view}"
            );
        }
    }

    #[test]
    fn named_facts_win_and_swept_ones_are_marked() {
        let f = |p: &str, size| FileFacts {
            path: p.into(),
            exists: true,
            size,
            ..FileFacts::default()
        };
        let named = vec![
            f(r"C:\Users\ann\a.exe", 1),
            FileFacts {
                long_path: r"C:\Users\ann\AppData\Local\Long Name\b.dll".into(),
                ..f(r"C:\Users\ann\AppData\Local\LONGNA~1\b.dll", 2)
            },
        ];
        let swept = vec![
            f(r"c:\users\ANN\a.exe", 9),
            f(r"C:\Users\ann\AppData\Local\Long Name\b.dll", 9),
            f(r"C:\1234.exe", 3),
            f(r"C:\1234.exe", 3),
            f(r"C:\Windows\SysWOW64\x\y.exe", 4),
            f(r"C:\Windows\System32\x\y.exe", 4),
        ];
        let m = merge(named, swept);
        assert_eq!(m.len(), 5, "WOW64 twins are two files: {m:#?}");
        assert_eq!((m[0].size, m[0].swept), (1, false));
        assert_eq!((m[2].path.as_str(), m[2].swept), (r"C:\1234.exe", true));
    }
}
