//! A new plan from a verifying scan (or a re-check): the scan is recorded
//! in the journal, detection runs (its findings tied to what was confirmed
//! on the host earlier in the operation: the snapshots its plans were made
//! from, `detect::earlier`), the planner plans this one host with
//! the operation's playbook, and the plan is recorded (every operation,
//! its file written under `<engagement>/plans/` for review) with its
//! active operations attached to the operation's round. Nothing found
//! later is ever purged silently: `status` and the journal show the plan.

use std::path::PathBuf;
use std::sync::Arc;

use super::operation::{Replan, Replanned};
use super::plan_input::PlannedOp;
use crate::detect::{DetectContext, Earlier, EarlierFinding, detect_again};
use crate::journal::operation::OperationId;
use crate::journal::{JournalHandle, RunId, ScanResult, StoredFinding};
use crate::plan::{self, Flags, HostInput};
use crate::playbook::Playbook;
use crate::plan::Step;
use crate::runtime::snapshot::Snapshot;

/// Re-plans through the journal.
pub struct JournalReplan {
    pub journal: JournalHandle,
    pub run: RunId,
    pub operation: OperationId,
    pub playbook: Arc<Playbook>,
    pub flags: Flags,
    pub detect: Arc<DetectContext>,
    /// Where re-purge plan files go.
    pub plans_dir: PathBuf,
}

impl Replan for JournalReplan {
    async fn replan(&self, host: &str, snapshot: Snapshot, round: u32) -> Result<Replanned, String> {
        let earlier = self.earlier(host).await.map_err(|e| e.to_string())?;
        let findings = detect_again(&snapshot, &self.detect, &earlier);
        let (run, op, host) = (self.run, self.operation, host.to_string());
        let (playbook, flags) = (Arc::clone(&self.playbook), self.flags.clone());
        let dir = self.plans_dir.clone();
        self.journal
            .call(move |j| {
                let address = j.host_address(&host)?.unwrap_or_default();
                let ids = j.record_scan(
                    run,
                    &host,
                    &address,
                    0,
                    ScanResult::Collected {
                        snapshot: &snapshot,
                        findings: &findings,
                    },
                )?;
                let stored: Vec<StoredFinding> = findings.iter().map(StoredFinding::from).collect();
                let input = HostInput {
                    host: &host,
                    snapshot_id: ids.snapshot_id.unwrap_or_default(),
                    snapshot: &snapshot,
                    findings: &stored,
                };
                let made = plan::build(&[input], Vec::new(), &playbook, &flags);
                let acted_on = plan::acted_on(&input, &playbook, &flags);
                let loaders_left = plan::loaders_not_acted_on(&input, &playbook, &flags);
                // Purge operations, deny-writes and Defender exclusions
                // are carried out again (containment stays as it is; the
                // reboot is the round's own).
                let again = |step: &Step| step.op().is_some() || super::phases::purge_step_op(step).is_some();
                let active = made.hosts.iter().any(|h| h.items.iter().any(|i| i.active && again(&i.step)));
                if !active {
                    return Ok(Replanned { acted_on, loaders_left, ..Replanned::default() });
                }
                let file = dir.join(format!(
                    "op{op}-{}-round{round}.yml",
                    crate::evidence::names::safe_file_name(&host)
                ));
                let (plan_id, text) = plan::record(j, run, &made, &file)?;
                let _ = std::fs::create_dir_all(&dir);
                // The journal has the plan; the file is for the reviewer.
                if let Err(e) = super::planning::write_file(&file, &text) {
                    tracing::warn!("{e:#}");
                }
                let stored_plan = j.plan(plan_id)?.ok_or_else(|| crate::journal::JournalError::Corrupt {
                    what: format!("plan {plan_id}"),
                    detail: "recorded but not found".into(),
                })?;
                let mut ops = Vec::new();
                let mut steps = Vec::new();
                for h in &stored_plan.hosts {
                    for o in h.ops.iter().filter(|o| o.active) {
                        let corrupt = |detail: String| crate::journal::JournalError::Corrupt {
                            what: format!("plan {plan_id} step {}", o.id),
                            detail,
                        };
                        let value: serde_json::Value = serde_json::from_str(&o.op).map_err(|e| corrupt(e.to_string()))?;
                        match Step::from_value(&value).map_err(corrupt)? {
                            Step::Purge(op) => ops.push(PlannedOp { plan_op_id: o.id, op }),
                            step if super::phases::purge_step_op(&step).is_some() => steps.push((o.id, step)),
                            _ => {}
                        }
                    }
                }
                let attach: Vec<(String, i64)> = ops
                    .iter()
                    .map(|o| o.plan_op_id)
                    .chain(steps.iter().map(|(id, _)| *id))
                    .map(|id| (host.clone(), id))
                    .collect();
                j.add_operation_ops(op, round, &attach)?;
                Ok(Replanned { ops, steps, acted_on, loaders_left })
            })
            .await
            .map_err(|e| e.to_string())
    }
}

impl JournalReplan {
    /// What was confirmed on `host` earlier in this operation: the
    /// findings of each snapshot one of its plans was made from.
    async fn earlier(&self, host: &str) -> Result<Earlier, crate::journal::JournalError> {
        let (op, host) = (self.operation, host.to_string());
        self.journal
            .call(move |j| {
                let mut earlier = Earlier::default();
                for id in j.operation_snapshots(op, &host)? {
                    let snapshot = j.snapshot(id, &host)?;
                    let findings = j.findings_of(id)?;
                    earlier.add_scan(&snapshot, findings.iter().map(earlier_finding));
                }
                Ok(earlier)
            })
            .await
    }
}

/// A stored finding as [`Earlier`] reads it.
fn earlier_finding(f: &StoredFinding) -> EarlierFinding<'_> {
    EarlierFinding {
        family: f.family,
        rule_id: &f.rule_id,
        confidence: f.confidence,
        actionable: f.allowlisted.is_none(),
        artifact: &f.artifact,
        target_files: &f.target_files,
    }
}
