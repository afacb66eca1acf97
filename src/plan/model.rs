//! What a plan is: per host, an ordered list of operations, each active or
//! listed inactive with why, and the findings no operation can address.

use serde::{Deserialize, Serialize};

use crate::journal::SnapshotId;
use crate::runtime::ops::Op;

/// One operation of a host's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    pub op: Op,
    /// Carried out by `apply` (true) or only listed (false).
    pub active: bool,
    /// Rule ids of the findings that call for it.
    pub rules: Vec<String>,
    /// For an active op: the findings' rule, family, confidence and
    /// reasons. For an inactive one: why it is not done.
    pub why: String,
    /// For a file: the PID (and image) of a process that has it in use at
    /// scan time.
    pub in_use_by: Option<(u32, String)>,
}

/// A finding for which no operation exists (a folder, a whole registry
/// key, an artifact the snapshot does not show, a file that was not
/// hashed), listed so the reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotPlanned {
    pub what: String,
    pub why: String,
}

/// One host's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPlan {
    pub host: String,
    pub snapshot_id: SnapshotId,
    /// On the host's clock.
    pub collected_at: String,
    /// In execution order: kills, registry values, tasks, services, WMI
    /// subscriptions, files, queued files.
    pub items: Vec<PlanItem>,
    pub not_planned: Vec<NotPlanned>,
    /// Bounds the collection hit (the plan may be incomplete).
    pub truncated: Vec<String>,
}

/// The effective settings a plan was made with (playbook and operator
/// flags). Written into the plan file; not editable there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub playbook: String,
    pub playbook_sha256: String,
    /// `high` or `medium`.
    pub activate: String,
    pub families: Vec<String>,
    pub kill_processes: bool,
    pub queue_locked_files: bool,
    pub quarantine: bool,
    pub exclude_hosts: Vec<String>,
    pub exclude_paths: Vec<String>,
}

/// A host with no snapshot to plan from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unscanned {
    pub host: String,
    pub why: String,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub settings: Settings,
    pub hosts: Vec<HostPlan>,
    pub unscanned: Vec<Unscanned>,
}

/// Counts of one host's plan, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub kills: usize,
    /// Registry values, tasks, services, subscriptions, files.
    pub deletions: usize,
    /// Of the file deletions: files in use at scan time (queued for boot
    /// if still locked).
    pub in_use: usize,
    /// Files queued for deletion at boot.
    pub queued: usize,
    pub inactive: usize,
    pub not_planned: usize,
}

impl HostPlan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            not_planned: self.not_planned.len(),
            ..Counts::default()
        };
        for i in &self.items {
            if !i.active {
                c.inactive += 1;
                continue;
            }
            match &i.op {
                Op::KillProcess { .. } => c.kills += 1,
                Op::QueueDeleteOnReboot { .. } => c.queued += 1,
                Op::DeleteFile { .. } => {
                    c.deletions += 1;
                    if i.in_use_by.is_some() {
                        c.in_use += 1;
                    }
                }
                _ => c.deletions += 1,
            }
        }
        c
    }
}

impl Counts {
    /// `2 kills, 5 deletions (1 in use), 1 queued, 3 inactive, 1 not plannable`.
    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = format!(
            "{}, {}",
            plural(self.kills, "kill", "kills"),
            plural(self.deletions, "deletion", "deletions")
        );
        if self.in_use > 0 {
            s.push_str(&format!(
                " ({} in use: queued at boot if still locked)",
                self.in_use
            ));
        }
        s.push_str(&format!(
            ", {} queued for boot, {} inactive",
            self.queued, self.inactive
        ));
        if self.not_planned > 0 {
            s.push_str(&format!(", {} not plannable", self.not_planned));
        }
        s
    }

    pub fn add(&mut self, o: &Counts) {
        self.kills += o.kills;
        self.deletions += o.deletions;
        self.in_use += o.in_use;
        self.queued += o.queued;
        self.inactive += o.inactive;
        self.not_planned += o.not_planned;
    }
}

/// Execution rank of an operation kind: kills first, files last.
pub fn rank(op: &Op) -> u8 {
    match op {
        Op::KillProcess { .. } => 0,
        Op::DeleteRegistryValue { .. } | Op::DeleteRegistryKey { .. } => 1,
        Op::DeleteTask { .. } => 2,
        Op::DeleteService { .. } => 3,
        Op::DeleteWmiSubscription { .. } => 4,
        Op::DeleteFile { .. } => 5,
        Op::QueueDeleteOnReboot { .. } => 6,
    }
}
