//! What a purge was to do and left undone that a verifying scan cannot
//! vouch for. Files it was to delete and left in place (the delete
//! skipped because no evidence copy of the file could be secured, or
//! failed on the host): a scan sees files only through what starts them,
//! and a loader's DLL whose persistence is gone is still on disk. Folders
//! whose reviewed write deny was not placed (failed, drift, or refused):
//! a loader that rewrites its persistence at shutdown and removes it at
//! start-up (Qakbot) shows nothing to a scan while it runs. Kept per host
//! from the journal's earlier runs and from this run's outcomes; a later
//! delete of the same path, or a later deny of the same folder (another
//! round, a resumed run), takes it off. Pure bookkeeping, no I/O.

use std::collections::{BTreeMap, HashMap};

use super::event::Outcome;
use super::resume::Prior;
use crate::runtime::ops::Op;
use crate::runtime::purge_steps::PurgeStepOp;

/// What one purge action was about, if it is kept here.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A file to delete or queue.
    File(String),
    /// A folder to deny writes to.
    Deny(String),
}

impl Item {
    fn of_op(op: &Op) -> Option<Item> {
        file_of(op).map(|p| Item::File(p.to_string()))
    }

    fn of_step(step: &PurgeStepOp) -> Option<Item> {
        match step {
            PurgeStepOp::DenyWrites { folder, .. } => Some(Item::Deny(folder.clone())),
            _ => None,
        }
    }

    /// From the journal's record of what was sent: a runtime op (its JSON)
    /// or a purge step (`{"op": "DenyWrites", "fields": {"folder": ..}}`).
    fn of_sent(what: &str) -> Option<Item> {
        if let Ok(op) = serde_json::from_str::<Op>(what) {
            return Item::of_op(&op);
        }
        let v: serde_json::Value = serde_json::from_str(what).ok()?;
        match (v["op"].as_str(), v["fields"]["folder"].as_str()) {
            (Some("DenyWrites"), Some(folder)) => Some(Item::Deny(folder.to_string())),
            _ => None,
        }
    }
}

/// Per lower-case host, per lower-case path: why it was left.
type ByHost = HashMap<String, BTreeMap<String, String>>;

/// The files left and the folders without their deny, by host.
#[derive(Debug, Default)]
pub struct LeftInPlace {
    files: ByHost,
    denies: ByHost,
}

impl LeftInPlace {
    /// What the journal's earlier runs left: the latest attempt of each
    /// purge action on a file or deny, skipped or failed (or drift, for a
    /// deny), unless another action on the same path ended done, queued
    /// or already gone.
    pub fn from_prior(prior: &Prior) -> LeftInPlace {
        let mut left = LeftInPlace::default();
        let mut gone = Vec::new();
        for ((host, key), attempts) in &prior.actions {
            let Some(last) = attempts.last() else { continue };
            if !key.starts_with("purge/") {
                continue;
            }
            let Some(item) = Item::of_sent(&last.what) else { continue };
            match last.outcome {
                Some(o) if leaves(&item, o) => left.note(host, &item, &last.detail),
                Some(o) if removes(o) => gone.push((host.clone(), item)),
                _ => {}
            }
        }
        for (host, item) in gone {
            left.clear(&host, &item);
        }
        left
    }

    /// Record what `op` ended as on `host`.
    pub fn record(&mut self, host: &str, op: &Op, outcome: Outcome, detail: &str) {
        if let Some(item) = Item::of_op(op) {
            self.settle(host, &item, outcome, detail);
        }
    }

    /// Record what a purge step ended as on `host`.
    pub fn record_step(&mut self, host: &str, step: &PurgeStepOp, outcome: Outcome, detail: &str) {
        if let Some(item) = Item::of_step(step) {
            self.settle(host, &item, outcome, detail);
        }
    }

    fn settle(&mut self, host: &str, item: &Item, outcome: Outcome, detail: &str) {
        if leaves(item, outcome) {
            self.note(host, item, detail);
        } else if removes(outcome) {
            self.clear(host, item);
        }
    }

    fn map(&mut self, item: &Item) -> (&mut ByHost, String) {
        match item {
            Item::File(p) => (&mut self.files, p.to_lowercase()),
            Item::Deny(p) => (&mut self.denies, p.to_lowercase()),
        }
    }

    fn note(&mut self, host: &str, item: &Item, why: &str) {
        let (map, path) = self.map(item);
        map.entry(host.to_lowercase()).or_default().insert(path, why.to_string());
    }

    fn clear(&mut self, host: &str, item: &Item) {
        let (map, path) = self.map(item);
        if let Some(paths) = map.get_mut(&host.to_lowercase()) {
            paths.remove(&path);
        }
    }

    /// The files left on `host`, each with why.
    pub fn of(&self, host: &str) -> Vec<(String, String)> {
        listed(&self.files, host)
    }

    /// The folders on `host` whose reviewed deny was not placed, each
    /// with why.
    pub fn denies_of(&self, host: &str) -> Vec<(String, String)> {
        listed(&self.denies, host)
    }
}

fn listed(map: &ByHost, host: &str) -> Vec<(String, String)> {
    map.get(&host.to_lowercase())
        .map(|f| f.iter().map(|(p, w)| (p.clone(), w.clone())).collect())
        .unwrap_or_default()
}

/// The file a purge operation deletes, if it deletes one.
fn file_of(op: &Op) -> Option<&str> {
    match op {
        Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => Some(path.as_str()),
        _ => None,
    }
}

/// The file stays (not sent for want of an evidence copy, or refused by
/// the host), or the deny is not there (refused, or the folder is
/// something else now: a link, a file).
fn leaves(item: &Item, o: Outcome) -> bool {
    match item {
        Item::File(_) => matches!(o, Outcome::Skipped | Outcome::Failed),
        Item::Deny(_) => matches!(o, Outcome::Skipped | Outcome::Failed | Outcome::Drift),
    }
}

/// The file is gone or goes at the next boot; the deny is in place.
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
            lateral_service: Default::default(),
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

    fn deny_sent(folder: &str) -> String {
        serde_json::json!({"op": "DenyWrites", "fields": {"folder": folder, "sid": "S-1-1-0"}}).to_string()
    }

    #[test]
    fn a_deny_not_placed_stays_until_a_later_deny_of_the_folder_is_done() {
        let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Qzxvbn";
        let row = |host: &str, key: &str, outcome| PriorAction {
            host: host.into(),
            key: key.into(),
            what: deny_sent(folder),
            outcome: Some(outcome),
            detail: format!("{} of it", outcome.as_str()),
        };
        let prior = Prior::new(
            Vec::new(),
            vec![
                row("WS-1", "purge/r0/op/4", Outcome::Failed),
                row("WS-2", "purge/r0/op/4", Outcome::Drift),
                row("WS-2", "purge/r1/op/9", Outcome::Done),
                // A lift at release is not the purge's.
                row("WS-3", "release/deny/4", Outcome::Failed),
            ],
        );
        let mut left = LeftInPlace::from_prior(&prior);
        assert_eq!(left.denies_of("ws-1"), vec![(folder.to_lowercase(), "failed of it".to_string())]);
        assert!(left.of("WS-1").is_empty(), "a deny is not a file");
        assert!(left.denies_of("WS-2").is_empty() && left.denies_of("WS-3").is_empty());
        left.record_step("WS-1", &PurgeStepOp::deny(folder), Outcome::Done, "");
        assert!(left.denies_of("WS-1").is_empty());
        left.record_step("WS-4", &PurgeStepOp::deny(folder), Outcome::Drift, "no folder there");
        assert_eq!(left.denies_of("WS-4").len(), 1);
        // Only denies count among the steps.
        left.record_step("WS-5", &PurgeStepOp::lift(folder), Outcome::Failed, "access denied");
        assert!(left.denies_of("WS-5").is_empty());
    }
}
