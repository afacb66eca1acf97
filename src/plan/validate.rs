//! Reading a reviewed (maybe edited) plan file back for `apply`: strict
//! schema, errors with line and column, and every operation checked
//! against the plan the journal recorded from the scan. An edit may only
//! remove operations (or whole hosts); an operation that was added, changed
//! (another hash, other data) or moved from `inactive:` is refused with
//! its line. The file's hash is recorded in the journal as a review.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::PlanError;
use super::file::RawPlanFile;
use super::model::Settings;
use super::write::FORMAT;
use crate::journal::{Journal, PlanId, PlanOpId, SnapshotId, StoredPlanOp, sha256_hex};
use crate::playbook::located::{self, LocatedError};
use crate::runtime::ops::Op;

/// Largest plan file accepted, in bytes.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

/// A plan accepted for `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPlan {
    pub plan_id: PlanId,
    /// SHA-256 of the file as read (recorded in the journal).
    pub file_sha256: String,
    /// The settings the plan was generated with (from the journal).
    pub settings: Settings,
    /// Hosts with the operations kept, in the plan's order.
    pub hosts: Vec<ValidatedHost>,
    /// Operations of the generated plan that the edit removed.
    pub removed: Vec<(String, Op)>,
    /// Things the operator should know (a newer scan exists, ...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedHost {
    pub host: String,
    pub snapshot_id: SnapshotId,
    pub ops: Vec<ValidatedOp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedOp {
    /// The journal's row for this operation (actions refer to it).
    pub plan_op_id: PlanOpId,
    pub op: Op,
    pub rules: Vec<String>,
}

const EXAMPLE: &str = "the plan as `cauterize plan` wrote it";

/// Read `path`, check it against the journal and record the review.
pub fn load_and_validate(path: &Path, journal: &mut Journal) -> Result<ValidatedPlan, PlanError> {
    let text = read(path)?;
    let plan = check(&text, path, journal)?;
    journal.record_plan_review(
        plan.plan_id,
        &plan.file_sha256,
        plan.hosts.iter().map(|h| h.ops.len()).sum(),
        plan.removed.len(),
    )?;
    Ok(plan)
}

fn read(path: &Path) -> Result<String, PlanError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        LocatedError::whole(
            path,
            format!("cannot read the plan: {e}"),
            "give the file `cauterize plan -o` wrote",
        )
    })?;
    if meta.len() > MAX_BYTES as u64 {
        return Err(LocatedError::whole(
            path,
            format!(
                "the plan is {} bytes; at most {MAX_BYTES} are accepted",
                meta.len()
            ),
            "check that this is a plan file",
        )
        .into());
    }
    Ok(std::fs::read_to_string(path).map_err(|e| {
        LocatedError::whole(
            path,
            format!("cannot read the plan: {e}"),
            "it must be the UTF-8 text `cauterize plan` wrote",
        )
    })?)
}

fn op_of(v: &serde_json::Value) -> Result<Op, String> {
    let op: Op =
        serde_json::from_value(v.clone()).map_err(|e| format!("not a valid operation: {e}"))?;
    // Strict: every key given must be one the operation has.
    let canon = serde_json::to_value(&op).unwrap_or_default();
    if let (Some(given), Some(known)) = (v.as_object(), canon.as_object())
        && let Some(k) = given.keys().find(|k| !known.contains_key(*k))
    {
        return Err(format!("unknown key `{k}` in a {} operation", op.kind()));
    }
    Ok(op)
}

/// The identity of an operation (what it acts on), without what it expects.
fn identity(op: &Op) -> String {
    match op {
        Op::KillProcess { pid, .. } => format!("kill_process pid {pid}"),
        Op::DeleteRegistryValue {
            hive, key, value, ..
        } => format!("registry value {hive}\\{key}\\{value}").to_lowercase(),
        Op::DeleteRegistryKey { hive, key, .. } => {
            format!("registry key {hive}\\{key}").to_lowercase()
        }
        Op::DeleteTask { path, .. } => format!("task {path}").to_lowercase(),
        Op::DeleteService { name, .. } => format!("service {name}").to_lowercase(),
        Op::DeleteWmiSubscription {
            filter, consumer, ..
        } => format!("wmi {filter} {consumer}").to_lowercase(),
        Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => {
            format!("file {path}").to_lowercase()
        }
    }
}

/// Check the text against the journal (no write).
pub fn check(text: &str, path: &Path, journal: &Journal) -> Result<ValidatedPlan, PlanError> {
    let raw: RawPlanFile = serde_saphyr::from_str_with_options(text, located::options(MAX_BYTES))
        .map_err(|e| located::from_yaml(&e, path, EXAMPLE, |_| None))?;
    let at = |loc: &serde_saphyr::Location, msg: String, help: &str| -> PlanError {
        LocatedError::at(path, loc, msg, help).into()
    };
    if raw.cauterize_plan.value != FORMAT {
        return Err(at(
            &raw.cauterize_plan.referenced,
            format!(
                "plan format {} is not known; this cauterize reads format {FORMAT}",
                raw.cauterize_plan.value
            ),
            "use the cauterize that wrote the plan, or run `cauterize plan` again",
        ));
    }
    let plan_id = raw.plan_id.value;
    let Some(stored) = journal.plan(plan_id)? else {
        return Err(at(
            &raw.plan_id.referenced,
            format!("plan {plan_id} is not in this engagement's journal"),
            "give the engagement folder the plan was made in (--engagement DIR), or run `cauterize plan` again",
        ));
    };
    let settings: Settings = serde_json::from_str(&stored.settings).map_err(|e| {
        crate::journal::JournalError::Corrupt {
            what: format!("settings of plan {plan_id}"),
            detail: e.to_string(),
        }
    })?;
    if raw.settings.value != settings {
        return Err(at(
            &raw.settings.referenced,
            "the settings were changed; they are not editable in a plan".into(),
            "to plan with other settings, change the playbook or flags and run `cauterize plan` again; to spare artifacts, delete operation lines",
        ));
    }

    let stored_hosts: HashMap<String, &crate::journal::StoredPlanHost> = stored
        .hosts
        .iter()
        .map(|h| (h.host.to_lowercase(), h))
        .collect();
    let latest = journal.latest_snapshot_ids()?;
    let mut hosts = Vec::new();
    let mut removed = Vec::new();
    let mut warnings = Vec::new();
    let mut kept_hosts = BTreeSet::new();
    for (name, h) in raw.hosts.unwrap_or_default() {
        let Some(sh) = stored_hosts.get(&name.to_lowercase()) else {
            return Err(at(
                &h.referenced,
                format!("host {name} is not in plan {plan_id}"),
                "a plan can only lose hosts, not gain them; run `cauterize plan` for new hosts",
            ));
        };
        let h = h.value;
        if h.snapshot.value != sh.snapshot_id {
            return Err(at(
                &h.snapshot.referenced,
                format!(
                    "{name}: snapshot {} is not the one plan {plan_id} was made from ({})",
                    h.snapshot.value, sh.snapshot_id
                ),
                format!("restore `snapshot: {}`", sh.snapshot_id).as_str(),
            ));
        }
        if let Some(newer) = latest
            .get(&sh.host.to_lowercase())
            .filter(|&&id| id != sh.snapshot_id)
        {
            warnings.push(format!(
                "{}: scanned again after this plan was made (snapshot {newer}, plan used {}); operations compare against the earlier scan and report drift where the host changed; consider `cauterize plan` again",
                sh.host, sh.snapshot_id
            ));
        }
        kept_hosts.insert(sh.host.to_lowercase());
        let parsed: Vec<(Op, &StoredPlanOp)> = sh
            .ops
            .iter()
            .map(|o| serde_json::from_str::<Op>(&o.op).map(|op| (op, o)))
            .collect::<Result<_, _>>()
            .map_err(|e| crate::journal::JournalError::Corrupt {
                what: format!("plan {plan_id} operations of {}", sh.host),
                detail: e.to_string(),
            })?;
        let mut used: BTreeSet<u32> = BTreeSet::new();
        for v in h.ops.unwrap_or_default() {
            let op = op_of(&v.value).map_err(|m| {
                at(
                    &v.referenced,
                    format!("{name}: {m}"),
                    "restore the line as `cauterize plan` wrote it, or delete it",
                )
            })?;
            match parsed.iter().find(|(o, _)| *o == op) {
                Some((_, so)) if so.active => {
                    if !used.insert(so.seq) {
                        return Err(at(
                            &v.referenced,
                            format!("{name}: this operation appears twice"),
                            "delete one of the two lines",
                        ));
                    }
                }
                Some((_, so)) => {
                    return Err(at(
                        &v.referenced,
                        format!(
                            "{name}: this operation is listed inactive in plan {plan_id} ({}); it cannot be activated by editing the plan",
                            so.why
                        ),
                        "to act on it, change the playbook or the flags (--activate medium) and run `cauterize plan` again",
                    ));
                }
                None => {
                    let id = identity(&op);
                    let msg = match parsed
                        .iter()
                        .find(|(o, _)| identity(o) == id && o.kind() == op.kind())
                    {
                        Some((o, _)) => format!(
                            "{name}: this operation was changed: the scan saw {}; an edited plan may only remove operations",
                            serde_json::to_string(o).unwrap_or_default()
                        ),
                        None => format!(
                            "{name}: this operation is not in plan {plan_id}: no finding of the scan calls for it; an edited plan may only remove operations, never add one"
                        ),
                    };
                    return Err(at(
                        &v.referenced,
                        msg,
                        "delete the line, or restore it as `cauterize plan` wrote it",
                    ));
                }
            }
        }
        let mut ops = Vec::new();
        for (op, so) in &parsed {
            if !so.active {
                continue;
            }
            if used.contains(&so.seq) {
                ops.push(super::ValidatedOp {
                    plan_op_id: so.id,
                    op: op.clone(),
                    rules: so.rules.clone(),
                });
            } else {
                removed.push((sh.host.clone(), op.clone()));
            }
        }
        hosts.push(ValidatedHost {
            host: sh.host.clone(),
            snapshot_id: sh.snapshot_id,
            ops,
        });
    }
    for sh in &stored.hosts {
        if !kept_hosts.contains(&sh.host.to_lowercase()) {
            for o in sh.ops.iter().filter(|o| o.active) {
                if let Ok(op) = serde_json::from_str::<Op>(&o.op) {
                    removed.push((sh.host.clone(), op));
                }
            }
        }
    }
    hosts.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(ValidatedPlan {
        plan_id,
        file_sha256: sha256_hex(text.as_bytes()),
        settings,
        hosts,
        removed,
        warnings,
    })
}
