//! One snapshot's file facts by path, for detection and the fleet alike:
//! WOW64 views (`SysWOW64`, `Sysnative`) and 8.3 long forms folded onto
//! one key, and of the facts under one key the file that exists preferred
//! over a missing twin (collection asks for both views of a system path,
//! and only one holds the file: the missing twin must never stand for a
//! signed program). Pure.

use std::collections::HashMap;

use super::paths;
use crate::runtime::snapshot::{FileFacts, Snapshot};

/// File facts by folded path.
#[derive(Debug, Default)]
pub struct Files<'a> {
    by_key: HashMap<String, &'a FileFacts>,
}

impl<'a> Files<'a> {
    pub fn of(snap: &'a Snapshot) -> Files<'a> {
        let mut by_key: HashMap<String, &'a FileFacts> = HashMap::new();
        for f in &snap.files {
            for p in [&f.path, &f.long_path] {
                if p.is_empty() {
                    continue;
                }
                by_key
                    .entry(paths::key(p))
                    .and_modify(|old| {
                        if f.exists && !old.exists {
                            *old = f;
                        }
                    })
                    .or_insert(f);
            }
        }
        Files { by_key }
    }

    /// The facts of the file at `path` (the existing one of its views).
    pub fn get(&self, path: &str) -> Option<&'a FileFacts> {
        self.by_key.get(&paths::key(path)).copied()
    }

    /// Every folded key with its facts.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &&'a FileFacts)> + '_ {
        self.by_key.iter()
    }

    /// The file exists (not a folder).
    pub fn existing(&self, path: &str) -> Option<&'a FileFacts> {
        self.get(path).filter(|f| f.exists && !f.is_dir)
    }

    /// The file exists and its signature is valid.
    pub fn signed(&self, path: &str) -> bool {
        self.existing(path).is_some_and(|f| f.signature.eq_ignore_ascii_case("valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;

    #[test]
    fn the_existing_view_of_a_system_file_wins_over_its_missing_twin() {
        let s = SnapshotBuilder::new("WS-001")
            .file_full(FileFacts { path: r"C:\Windows\SysWOW64\csrss.exe".into(), ..FileFacts::default() })
            .signed_file(r"C:\Windows\System32\csrss.exe", "Microsoft Windows")
            .build();
        let files = Files::of(&s);
        assert!(files.signed(r"C:\Windows\system32\csrss.exe"));
        assert!(files.signed(r"C:\Windows\SysWOW64\csrss.exe"), "one key for both views");
        assert!(!files.signed(r"C:\Windows\System32\nothere.exe"));
    }
}
