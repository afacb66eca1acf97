//! The rows the journal stores and gives back, as Rust types.

use serde::{Deserialize, Serialize};

use crate::detect::{ArtifactRef, Confidence, Evidence, Family, Finding};
use crate::runtime::snapshot::Snapshot;

pub type RunId = i64;
pub type HostId = i64;
pub type ScanId = i64;
pub type SnapshotId = i64;
pub type PlanId = i64;
pub type PlanOpId = i64;
pub type ActionId = i64;

/// A finding as stored: [`Finding`] with an owned rule id, so it can be
/// read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub host: String,
    pub artifact: ArtifactRef,
    pub family: Family,
    pub rule_id: String,
    pub confidence: Confidence,
    /// The typed evidence the confidence was computed from (empty in
    /// journals written before findings carried it).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    pub certain: bool,
    pub reasons: Vec<String>,
    pub target_files: Vec<String>,
    pub related: Vec<ArtifactRef>,
    pub allowlisted: Option<String>,
}

impl From<&Finding> for StoredFinding {
    fn from(f: &Finding) -> Self {
        StoredFinding {
            host: f.host.clone(),
            artifact: f.artifact.clone(),
            family: f.family,
            rule_id: f.rule_id.to_string(),
            confidence: f.confidence(),
            evidence: f.grounds().evidence.clone(),
            certain: f.certain,
            reasons: f.reasons.clone(),
            target_files: f.target_files.clone(),
            related: f.related.clone(),
            allowlisted: f.allowlisted.clone(),
        }
    }
}

/// What one collection attempt on a host gave.
#[derive(Debug, Clone, Copy)]
pub enum ScanResult<'a> {
    Collected {
        snapshot: &'a Snapshot,
        findings: &'a [Finding],
    },
    Failed {
        /// Machine-readable kind (`unreachable`, `auth_failed`, ...).
        kind: &'a str,
        /// Human message (never a secret: transport errors are scrubbed).
        error: &'a str,
    },
}

/// Ids of what [`super::Journal::record_scan`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanIds {
    pub host_id: HostId,
    pub scan_id: ScanId,
    pub snapshot_id: Option<SnapshotId>,
}

/// The latest successful collection of a host, with its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestScan {
    pub host: String,
    pub address: String,
    pub host_id: HostId,
    pub run_id: RunId,
    pub scan_id: ScanId,
    pub snapshot_id: SnapshotId,
    /// When the scan was recorded (operator's clock, UTC).
    pub scanned_at: String,
    pub snapshot: Snapshot,
    pub findings: Vec<StoredFinding>,
}

/// The last collection attempt of a host when it failed (so `plan` can say
/// why a host has no snapshot, or only an old one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedScan {
    pub host: String,
    pub run_id: RunId,
    pub at: String,
    pub kind: String,
    pub error: String,
}

/// One operation of a plan being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOpRow {
    pub active: bool,
    /// JSON of the step (`plan::Step`: a runtime op, or a step of the
    /// plan's own: contain, deny_writes, ..., reboot, remove_folder).
    pub op: String,
    pub rules: Vec<String>,
    /// The comment: the finding's reason, or why the op is inactive.
    pub why: String,
}

/// One host of a plan being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanHostRow {
    pub host: String,
    pub snapshot_id: SnapshotId,
    /// In order of execution.
    pub ops: Vec<PlanOpRow>,
}

/// A plan being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub run_id: RunId,
    /// Where the file is written.
    pub path: String,
    pub playbook_sha256: String,
    /// JSON of what the plan keeps besides its steps: the effective
    /// settings (playbook and operator flags) and containment as planned
    /// (`plan::PlanHead`).
    pub settings: String,
    pub hosts: Vec<PlanHostRow>,
}

/// A plan as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlan {
    pub plan_id: PlanId,
    pub run_id: RunId,
    pub created_at: String,
    pub path: String,
    pub sha256: String,
    pub playbook_sha256: String,
    pub settings: String,
    pub hosts: Vec<StoredPlanHost>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlanHost {
    pub host: String,
    pub host_id: HostId,
    pub snapshot_id: SnapshotId,
    pub ops: Vec<StoredPlanOp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlanOp {
    pub id: PlanOpId,
    pub seq: u32,
    pub active: bool,
    pub op: String,
    pub rules: Vec<String>,
    pub why: String,
}

/// A run as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    pub command: String,
    pub argv: Vec<String>,
    pub operator: String,
    pub version: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub exit_code: Option<i32>,
    /// The operation it worked on (apply, run, contain, release, a resume).
    pub operation_id: Option<i64>,
}

/// `(outcome, detail)` of an action; the outcome is `None` while it runs.
pub type ActionState = (Option<String>, Option<String>);

/// How an action ended (the runtime's outcome set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOutcome {
    Done,
    AlreadyAbsent,
    Drift,
    Queued,
    Failed,
}

impl ActionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionOutcome::Done => "done",
            ActionOutcome::AlreadyAbsent => "already_absent",
            ActionOutcome::Drift => "drift",
            ActionOutcome::Queued => "queued",
            ActionOutcome::Failed => "failed",
        }
    }
}

/// Severity of an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}
