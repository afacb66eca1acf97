//! A loader's folder, once its files are gone: removed after the reboot
//! (Emotet reuses its folder for later payloads; Qakbot's is the folder it
//! writes into at shutdown, denied writes until then), only when the scan
//! saw it empty or holding nothing but files this plan deletes; never a
//! folder that held anything else, and never a folder Windows or a user
//! profile is built from ([`guard::never_remove_folder`]). Pure.

use std::collections::HashMap;

use super::derive::file_facts;
use super::guard;
use crate::detect::paths;
use crate::runtime::ops::{HeldFile, Op};
use crate::runtime::snapshot::Snapshot;

/// The `remove_folder` op of `folder`, given the host's active file
/// deletions (`deleted`: path key → SHA-256), or why the folder stays.
/// It runs in the purge, after the deletes of its files, unless
/// `after_reboot` (a folder the purge denies writes to) or one of its
/// files goes only at boot (`at_boot`: path keys queued for boot).
pub fn decide(
    s: &Snapshot,
    folder: &str,
    deleted: &HashMap<String, String>,
    at_boot: &std::collections::HashSet<String>,
    after_reboot: bool,
) -> Result<Op, String> {
    let Some(f) = file_facts(s, folder) else {
        return Err("the scan has no listing of this folder: it stays".into());
    };
    if !f.exists {
        return Err("the folder did not exist when the scan ran".into());
    }
    if !f.is_dir {
        return Err("the scan saw a file, not a folder, at this path".into());
    }
    if let Some(why) = guard::never_remove_folder(folder, s) {
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
    let mut waits_for_boot = false;
    for name in &f.listing {
        let full = format!("{base}\\{name}");
        waits_for_boot |= at_boot.contains(&paths::key(&full));
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
    Ok(Op::RemoveFolder {
        path: base.into(),
        may_hold,
        after_reboot: after_reboot || waits_for_boot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use std::collections::HashSet;

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
        let files = [format!("{DIR}\\qzvxbnm.dll"), format!("{DIR}\\X.CFG")];
        let step = decide(&s, DIR, &deleted(&[&files[0], &files[1]]), &HashSet::new(), false).unwrap();
        let Op::RemoveFolder { path, may_hold, after_reboot } = step else { panic!() };
        assert_eq!(path.as_str(), DIR);
        assert_eq!(may_hold.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["qzvxbnm.dll", "x.cfg"]);
        assert!(!after_reboot, "its files are deleted in the purge: so is the folder");
        // One of its files goes only at boot: so does the folder.
        let at_boot: HashSet<String> = [paths::key(&files[1])].into();
        let Ok(Op::RemoveFolder { after_reboot, .. }) = decide(&s, DIR, &deleted(&[&files[0], &files[1]]), &at_boot, false) else { panic!() };
        assert!(after_reboot);
        // An empty folder (Qakbot's, while it runs), denied writes: after the reboot.
        let s = SnapshotBuilder::new("H").user("bob").dir(DIR, &[]).build();
        assert_eq!(
            decide(&s, DIR, &HashMap::new(), &HashSet::new(), true),
            Ok(Op::RemoveFolder { path: DIR.into(), may_hold: vec![], after_reboot: true })
        );
    }

    #[test]
    fn a_folder_that_held_anything_else_stays() {
        let s = SnapshotBuilder::new("H")
            .user("bob")
            .dir(DIR, &["qzvxbnm.dll", "report.docx"])
            .build();
        let none = HashSet::new();
        let e = decide(&s, DIR, &deleted(&[&format!("{DIR}\\qzvxbnm.dll")]), &none, false).unwrap_err();
        assert!(e.contains("report.docx") && e.contains("stays"), "{e}");
        // Listed only in part.
        let s = SnapshotBuilder::new("H")
            .user("bob")
            .dir(DIR, &["a.dll"])
            .with_file(DIR, |f| f.entries = 3000)
            .build();
        assert!(decide(&s, DIR, &deleted(&[&format!("{DIR}\\a.dll")]), &none, false).unwrap_err().contains("listed 1 of its 3000"));
        // Not in the snapshot.
        assert!(decide(&s, r"C:\Users\bob\AppData\Local\Other", &HashMap::new(), &none, false).is_err());
        // A protected folder, through the plan guard.
        let s = SnapshotBuilder::new("H").user("bob").dir(r"C:\Users\bob\AppData\Local", &[]).build();
        assert!(decide(&s, r"C:\Users\bob\AppData\Local", &HashMap::new(), &none, false).unwrap_err().contains("never removed"));
    }
}
