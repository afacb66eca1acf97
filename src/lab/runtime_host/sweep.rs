//! The drop-folder sweep on the lab host, as `Invoke-CzSweep` in
//! `runtime.ps1`: for each root that is a folder, its entries by name
//! (ordinal, case ignored), folders reported (unless the root is
//! filtered) and entered while above the root's depth, files reported
//! when they pass the root's extension and recent-days filters; at most
//! `max_entries` per root (the cut reported once), paths in `skip` left
//! out (folders still entered); files hashed and their
//! signature read only when their extension is a hashed one.

use std::collections::HashSet;

use super::Run;
use super::files::entry_fact;
use crate::lab::world::LabTime;
use crate::runtime::ops::{Bounds, SweepRoot};

/// One root's sweep state.
struct Root<'a> {
    spec: &'a SweepRoot,
    hash_ext: &'a [String],
    /// Lower-cased paths not to report.
    skip: &'a HashSet<String>,
    max_hash: u64,
    max: u32,
    left: u32,
    stopped: bool,
    /// Files older than this (both times) are left out.
    since: Option<LabTime>,
}

impl Root<'_> {
    /// One more entry, or the cut reported (once) and `false`.
    fn room(&mut self, run: &mut Run<'_>) -> bool {
        if self.left == 0 {
            if !self.stopped {
                run.trunc(
                    &format!("sweep of {}", self.spec.path),
                    &format!("{} entries", self.max),
                );
            }
            self.stopped = true;
            return false;
        }
        self.left -= 1;
        true
    }
}

/// `.NET`'s `Path.Combine` for a folder and an entry name.
fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('\\') || dir.ends_with(':') {
        format!("{dir}{name}")
    } else {
        format!(r"{dir}\{name}")
    }
}

fn extension(name: &str) -> String {
    match name.rfind('.') {
        Some(i) => name[i + 1..].to_lowercase(),
        None => String::new(),
    }
}

fn sweep_dir(run: &mut Run<'_>, root: &mut Root<'_>, dir: &str, level: u32, b: &Bounds) {
    if root.stopped {
        return;
    }
    let Ok(list) = run.host.files.list(dir) else {
        run.trunc(&format!("sweep of {dir}: not readable"), "unreadable");
        return;
    };
    let mut entries: Vec<(String, bool, LabTime, LabTime)> = list
        .iter()
        .map(|(p, e)| {
            let name = p.rsplit('\\').next().unwrap_or(p).to_string();
            (name, e.is_dir(), e.times.created, e.times.modified)
        })
        .collect();
    entries.sort_by_key(|e| e.0.to_uppercase());
    let filtered = root.spec.filtered();
    for (name, is_dir, created, modified) in entries {
        let path = join(dir, &name);
        let skipped = root.skip.contains(&path.to_lowercase());
        if is_dir {
            if !filtered && !skipped {
                if !root.room(run) {
                    return;
                }
                entry_fact(run, &path, false, false, 0, b);
            }
            if level < root.spec.depth {
                sweep_dir(run, root, &path, level + 1, b);
            }
            if root.stopped {
                return;
            }
            continue;
        }
        let ext = extension(&name);
        if !root.spec.extensions.is_empty()
            && !root
                .spec
                .extensions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&ext))
        {
            continue;
        }
        if skipped || root.since.is_some_and(|s| modified < s && created < s) {
            continue;
        }
        if !root.room(run) {
            return;
        }
        let deep = root.hash_ext.contains(&ext);
        entry_fact(run, &path, false, deep, root.max_hash, b);
    }
}

/// The sweep item.
pub fn sweep(
    run: &mut Run<'_>,
    roots: &[SweepRoot],
    skip: &[String],
    hash_extensions: &[String],
    max_entries: u32,
    max_hash_bytes: u64,
    b: &Bounds,
) {
    let hash_ext: Vec<String> = hash_extensions.iter().map(|e| e.to_lowercase()).collect();
    let skip: HashSet<String> = skip.iter().map(|p| p.to_lowercase()).collect();
    for spec in roots {
        if !run.host.files.is_dir(&spec.path) {
            continue;
        }
        let mut root = Root {
            spec,
            hash_ext: &hash_ext,
            skip: &skip,
            max_hash: max_hash_bytes,
            max: max_entries,
            left: max_entries,
            stopped: false,
            since: (spec.recent_days > 0).then(|| run.now.plus_days(-i64::from(spec.recent_days))),
        };
        sweep_dir(run, &mut root, &spec.path, 0, b);
    }
}
