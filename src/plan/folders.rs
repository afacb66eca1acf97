//! A loader's folder, once its files are gone: removed after the reboot
//! (Emotet reuses its folder for later payloads; Qakbot's is the folder it
//! writes into at shutdown, denied writes until then), only when the scan
//! saw it empty or holding nothing but files this plan deletes; never a
//! folder that held anything else, and never a folder Windows or a user
//! profile is built from. Pure.

use std::collections::HashMap;

use super::derive::file_facts;
use super::step::{HeldFile, Step};
use crate::detect::paths::{self, Area};
use crate::runtime::snapshot::Snapshot;

/// Folder names that are part of Windows or of every profile: never
/// removed, whatever a finding says.
const NEVER_REMOVED: &[&str] = &[
    "microsoft",
    "windows",
    "temp",
    "start menu",
    "programs",
    "startup",
    "packages",
    "appdata",
    "local",
    "locallow",
    "roaming",
    "desktop",
    "documents",
    "downloads",
    "public",
    "programdata",
    "program files",
    "program files (x86)",
    "users",
    "system32",
    "syswow64",
    "sysnative",
    "config",
    "systemprofile",
    "drivers",
    "spool",
    "wbem",
    "tasks",
    "catroot",
    "catroot2",
    "logfiles",
    "winevt",
    "grouppolicy",
    "windowspowershell",
    "sru",
    "spp",
    "en-us",
];

/// Why a folder must never be removed by a plan, if so.
pub fn never_remove(folder: &str, s: &Snapshot) -> Option<String> {
    let place = paths::classify(folder, &s.users);
    let name = paths::file_name(folder).to_ascii_lowercase();
    if place.rel.is_empty() {
        return Some(format!("{folder} is {} itself, never removed", place.root));
    }
    if matches!(place.area, Area::Windows | Area::ProgramFiles | Area::Other) {
        return Some(format!(
            "{folder} is under the Windows or Program Files folder (or not a local path): a plan never removes such a folder; remove it by hand after review"
        ));
    }
    if NEVER_REMOVED.contains(&name.as_str()) {
        return Some(format!("{name} is a folder Windows or every profile has: never removed"));
    }
    None
}

/// The `remove_folder` step of `folder`, given the host's active file
/// deletions (`deleted`: path key → SHA-256), or why the folder stays.
pub fn decide(s: &Snapshot, folder: &str, deleted: &HashMap<String, String>) -> Result<Step, String> {
    let Some(f) = file_facts(s, folder) else {
        return Err("the scan has no listing of this folder: it stays".into());
    };
    if !f.exists {
        return Err("the folder did not exist when the scan ran".into());
    }
    if !f.is_dir {
        return Err("the scan saw a file, not a folder, at this path".into());
    }
    if let Some(why) = never_remove(folder, s) {
        return Err(why);
    }
    if f.entries as usize > f.listing.len() {
        return Err(format!(
            "the scan listed {} of its {} entries, so what else it holds is not known: the folder stays",
            f.listing.len(),
            f.entries
        ));
    }
    let base = paths::normalize(if f.long_path.is_empty() { &f.path } else { &f.long_path });
    let mut may_hold = Vec::new();
    let mut other = Vec::new();
    for name in &f.listing {
        let full = format!("{base}\\{name}");
        match deleted.get(&paths::key(&full)) {
            Some(sha) => may_hold.push(HeldFile {
                name: name.clone(),
                sha256: sha.clone(),
            }),
            None => other.push(name.as_str()),
        }
    }
    if !other.is_empty() {
        let shown: Vec<&str> = other.iter().take(5).copied().collect();
        let more = if other.len() > shown.len() {
            format!(" and {} more", other.len() - shown.len())
        } else {
            String::new()
        };
        return Err(format!(
            "it also holds {}{more}, which the plan does not delete: the folder stays",
            shown.join(", ")
        ));
    }
    Ok(Step::RemoveFolder {
        path: base,
        may_hold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;

    const DIR: &str = r"C:\Users\bob\AppData\Local\Qzvxbnm";

    fn deleted(paths: &[&str]) -> HashMap<String, String> {
        paths.iter().map(|p| (paths::key(p), "a".repeat(64))).collect()
    }

    #[test]
    fn an_emptied_folder_is_removed_with_what_the_plan_deletes() {
        let s = SnapshotBuilder::new("H")
            .user("bob")
            .dir(DIR, &["qzvxbnm.dll", "x.cfg"])
            .build();
        let step = decide(&s, DIR, &deleted(&[&format!("{DIR}\\qzvxbnm.dll"), &format!("{DIR}\\X.CFG")])).unwrap();
        let Step::RemoveFolder { path, may_hold } = step else { panic!() };
        assert_eq!(path, DIR);
        assert_eq!(may_hold.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["qzvxbnm.dll", "x.cfg"]);
        // An empty folder (Qakbot's, while it runs).
        let s = SnapshotBuilder::new("H").user("bob").dir(DIR, &[]).build();
        assert_eq!(decide(&s, DIR, &HashMap::new()), Ok(Step::RemoveFolder { path: DIR.into(), may_hold: vec![] }));
    }

    #[test]
    fn a_folder_that_held_anything_else_stays() {
        let s = SnapshotBuilder::new("H")
            .user("bob")
            .dir(DIR, &["qzvxbnm.dll", "report.docx"])
            .build();
        let e = decide(&s, DIR, &deleted(&[&format!("{DIR}\\qzvxbnm.dll")])).unwrap_err();
        assert!(e.contains("report.docx") && e.contains("stays"), "{e}");
        // Listed only in part.
        let s = SnapshotBuilder::new("H")
            .user("bob")
            .dir(DIR, &["a.dll"])
            .with_file(DIR, |f| f.entries = 3000)
            .build();
        assert!(decide(&s, DIR, &deleted(&[&format!("{DIR}\\a.dll")])).unwrap_err().contains("listed 1 of its 3000"));
        // Not in the snapshot.
        assert!(decide(&s, r"C:\Users\bob\AppData\Local\Other", &HashMap::new()).is_err());
    }

    #[test]
    fn windows_and_profile_folders_are_never_removed() {
        let s = SnapshotBuilder::new("H").user("bob").build();
        for f in [
            r"C:\Users\bob\AppData\Local",
            r"C:\Users\bob\AppData\Roaming\Microsoft",
            r"C:\Windows\System32\drivers",
            r"C:\Windows\Fonts",
            r"C:\Program Files\Contoso",
            r"C:\ProgramData",
            r"C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
        ] {
            assert!(never_remove(f, &s).is_some(), "{f}");
        }
        for f in [
            r"C:\Users\bob\AppData\Local\Qzvxbnm",
            r"C:\Users\bob\AppData\Roaming\Microsoft\Xyzabcd",
            r"C:\Windows\SysWOW64\Ttbjoah",
            r"C:\ProgramData\Rjkwqzt",
            r"C:\Datop",
        ] {
            assert_eq!(never_remove(f, &s), None, "{f}");
        }
    }
}
