//! Files a purge was to delete and left in place: the delete skipped
//! because no evidence copy of the file could be secured, or failed on
//! the host. A verifying scan cannot vouch for such a host: it sees files
//! only through what starts them, and a loader's DLL whose persistence is
//! gone is still on disk. Kept per host from the journal's earlier runs
//! and from this run's outcomes; a later delete of the same path (another
//! round, a resumed run) takes it off. Pure bookkeeping, no I/O.

use std::collections::{BTreeMap, HashMap};

use super::event::Outcome;
use super::resume::Prior;
use crate::runtime::ops::Op;

/// By lower-case host: each file left (lower-case path) and why.
#[derive(Debug, Default)]
pub struct LeftInPlace(HashMap<String, BTreeMap<String, String>>);

impl LeftInPlace {
    /// What the journal's earlier runs left: the latest attempt of each
    /// purge operation on a file, skipped or failed, unless another
    /// operation on the same path ended deleted, queued or already gone.
    pub fn from_prior(prior: &Prior) -> LeftInPlace {
        let mut left = LeftInPlace::default();
        let mut gone = Vec::new();
        for ((host, key), attempts) in &prior.actions {
            let Some(last) = attempts.last() else { continue };
            if !key.starts_with("purge/") {
                continue;
            }
            let Some(path) = serde_json::from_str::<Op>(&last.what).ok().as_ref().and_then(file_of).map(str::to_string) else {
                continue;
            };
            match last.outcome {
                Some(o) if leaves(o) => left.note(host, &path, &last.detail),
                Some(o) if removes(o) => gone.push((host.clone(), path)),
                _ => {}
            }
        }
        for (host, path) in gone {
            left.clear(&host, &path);
        }
        left
    }

    /// Record what `op` ended as on `host`.
    pub fn record(&mut self, host: &str, op: &Op, outcome: Outcome, detail: &str) {
        let Some(path) = file_of(op) else { return };
        if leaves(outcome) {
            self.note(host, path, detail);
        } else if removes(outcome) {
            self.clear(host, path);
        }
    }

    fn note(&mut self, host: &str, path: &str, why: &str) {
        self.0.entry(host.to_lowercase()).or_default().insert(path.to_lowercase(), why.to_string());
    }

    fn clear(&mut self, host: &str, path: &str) {
        if let Some(files) = self.0.get_mut(&host.to_lowercase()) {
            files.remove(&path.to_lowercase());
        }
    }

    /// The files left on `host`, each with why.
    pub fn of(&self, host: &str) -> Vec<(String, String)> {
        self.0
            .get(&host.to_lowercase())
            .map(|f| f.iter().map(|(p, w)| (p.clone(), w.clone())).collect())
            .unwrap_or_default()
    }
}

/// The file a purge operation deletes, if it deletes one.
fn file_of(op: &Op) -> Option<&str> {
    match op {
        Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => Some(path.as_str()),
        _ => None,
    }
}

/// The file stays: not sent (no evidence copy) or refused by the host.
fn leaves(o: Outcome) -> bool {
    matches!(o, Outcome::Skipped | Outcome::Failed)
}

/// The file is gone or goes at the next boot.
fn removes(o: Outcome) -> bool {
    matches!(o, Outcome::Done | Outcome::AlreadyAbsent | Outcome::Queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::resume::PriorAction;

    fn delete(path: &str) -> Op {
        Op::DeleteFile {
            path: path.into(),
            expected_sha256: "ab".repeat(32),
            queue_if_locked: true,
        }
    }

    fn attempt(host: &str, key: &str, op: &Op, outcome: Outcome) -> PriorAction {
        PriorAction {
            host: host.into(),
            key: key.into(),
            what: serde_json::to_string(op).unwrap(),
            outcome: Some(outcome),
            detail: format!("{} of it", outcome.as_str()),
        }
    }

    #[test]
    fn a_skipped_delete_stays_until_a_later_round_removes_the_file() {
        let dll = delete(r"C:\ProgramData\25051.dll");
        let other = delete(r"C:\Users\bob\x.exe");
        let prior = Prior::new(
            Vec::new(),
            vec![
                attempt("WS-1", "purge/r0/op/1", &dll, Outcome::Skipped),
                attempt("WS-1", "purge/r0/op/2", &other, Outcome::Done),
                attempt("WS-2", "purge/r0/op/3", &dll, Outcome::Skipped),
                attempt("WS-2", "purge/r1/op/9", &dll, Outcome::AlreadyAbsent),
            ],
        );
        let mut left = LeftInPlace::from_prior(&prior);
        assert_eq!(left.of("ws-1"), vec![(r"c:\programdata\25051.dll".to_string(), "skipped of it".to_string())]);
        assert!(left.of("WS-2").is_empty());
        left.record("WS-1", &dll, Outcome::Queued, "in use");
        assert!(left.of("WS-1").is_empty());
        left.record("WS-3", &other, Outcome::Failed, "access denied");
        assert_eq!(left.of("WS-3").len(), 1);
        // Only file operations count.
        let kill = Op::KillProcess {
            pid: 8,
            expected_image: "x.exe".into(),
            expected_started: String::new(),
        };
        left.record("WS-4", &kill, Outcome::Failed, "no such process");
        assert!(left.of("WS-4").is_empty());
    }
}
