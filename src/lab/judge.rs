//! Judging an operation by the lab's ground truth alone: what each host
//! carried before ([`Before::take`]: loaders running, every file's hash,
//! the files and folders loaders placed, boots) and what it carries after
//! ([`after`]: clean, infected again, contained, benign files removed or
//! changed). Read through the lab's library, never through WinRM and never
//! from the tool's journal: `cauterize demo` puts the tool's view beside
//! it, the acceptance tests assert it.

use std::collections::BTreeMap;

use super::world::LabTime;
use super::{Lab, malware, network};

/// The lab's ground truth before an operation.
#[derive(Debug, Clone)]
pub struct Before {
    /// Loader families running on each host, sorted (empty: none).
    pub infected: BTreeMap<String, Vec<String>>,
    /// Every file of each host: lower-case path → SHA-256.
    pub files: BTreeMap<String, BTreeMap<String, String>>,
    /// What loaders placed on each host (lower case; a path ending in `\`
    /// is a folder: anything under it is theirs).
    pub loader_files: BTreeMap<String, Vec<String>>,
    /// Lab time it was taken.
    pub at: LabTime,
}

impl Before {
    /// The lab's ground truth now. Loaders' files get real bytes first
    /// ([`Lab::give_loader_files_bytes`]: the lab keeps only the size and
    /// hash of its stand-ins, which no evidence copy can be made of; a
    /// real host's files can be read).
    pub fn take(lab: &Lab) -> Before {
        let mut infected = BTreeMap::new();
        let mut loader_files = BTreeMap::new();
        for host in &lab.spec().hosts {
            let files = lab.give_loader_files_bytes(&host.name);
            let truth = lab.truth(&host.name);
            let mut families: Vec<String> = truth.live_families.iter().map(|f| format!("{f:?}")).collect();
            families.sort();
            infected.insert(host.name.clone(), families);
            loader_files.insert(host.name.clone(), loader_paths(&truth, &files));
        }
        Before {
            infected,
            files: lab.file_hashes(),
            loader_files,
            at: lab.now(),
        }
    }

    /// Hosts running a loader when this was taken.
    pub fn infected_hosts(&self) -> Vec<&str> {
        self.infected.iter().filter(|(_, f)| !f.is_empty()).map(|(h, _)| h.as_str()).collect()
    }
}

/// One host after the operation, as the lab says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub host: String,
    /// Loader families running at the start, sorted; empty: clean.
    pub infected_at_start: Vec<String>,
    /// No loader process, persistence entry or payload file now.
    pub clean_at_end: bool,
    /// Infections the lab recorded after [`Before::at`], with their lab
    /// time.
    pub infected_since: Vec<LabTime>,
    /// SMB blocked by the host's firewall now.
    pub contained_at_end: bool,
    /// Files there before and now gone or changed, that no loader placed:
    /// benign software removed.
    pub benign_removed: Vec<String>,
}

/// Every host of the lab now, against `before`.
pub fn after(lab: &Lab, before: &Before) -> Vec<After> {
    let now = lab.file_hashes();
    lab.spec()
        .hosts
        .iter()
        .map(|host| {
            let truth = lab.truth(&host.name);
            let placed = &before.loader_files[&host.name];
            let benign_removed = before.files[&host.name]
                .iter()
                .filter(|(path, sha)| now[&host.name].get(*path) != Some(*sha) && !placed_by_loader(path, placed))
                .map(|(path, _)| path.clone())
                .collect();
            After {
                host: host.name.clone(),
                infected_at_start: before.infected[&host.name].clone(),
                clean_at_end: truth.presence.is_neutralised(),
                infected_since: truth.infections.iter().filter(|r| r.at > before.at).map(|r| r.at).collect(),
                contained_at_end: truth.smb_blocked,
                benign_removed,
            }
        })
        .collect()
}

/// What the loaders placed on a host as the lab says (lower case): their
/// payloads and residue (`files`), the files of their persistence (a
/// Startup .lnk) and their folders (a path ending in `\`: anything under
/// it is theirs).
fn loader_paths(truth: &network::HostTruth, files: &[String]) -> Vec<String> {
    let placed = truth.presence.families.values().flat_map(|p| p.persistence.iter().chain(&p.other));
    let mut paths: Vec<String> = files.to_vec();
    for a in placed {
        match &a.what {
            malware::Artifact::File { path } => paths.push(path.clone()),
            malware::Artifact::Dir { path } => paths.push(format!("{}\\", path.trim_end_matches('\\'))),
            _ => {}
        }
    }
    paths.iter().map(|p| p.to_lowercase()).collect()
}

/// Whether `path` (lower case) is one the loaders placed.
fn placed_by_loader(path: &str, loader: &[String]) -> bool {
    loader.iter().any(|l| if l.ends_with('\\') { path.starts_with(l.as_str()) } else { path == l })
}

#[cfg(test)]
mod tests {
    use super::placed_by_loader;

    #[test]
    fn a_loader_folder_covers_what_is_under_it_and_a_file_only_itself() {
        let placed = vec![r"c:\users\a\appdata\roaming\microsoft\qkb\".to_string(), r"c:\programdata\x.dll".to_string()];
        assert!(placed_by_loader(r"c:\users\a\appdata\roaming\microsoft\qkb\y.dll", &placed));
        assert!(placed_by_loader(r"c:\programdata\x.dll", &placed));
        assert!(!placed_by_loader(r"c:\programdata\x.dll.bak", &placed));
        assert!(!placed_by_loader(r"c:\program files\zoom\zoom.exe", &placed));
    }
}
