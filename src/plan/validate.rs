//! Reading a reviewed (maybe edited) plan file back for `apply`: strict
//! schema, errors with line and column, and every step checked against the
//! plan the journal recorded. An edit may only remove steps (a line), or
//! hosts (an entry, or a name of `contain_only:`); a step that was added,
//! changed (another hash, other data), moved (lines keep the order they
//! were written in), or taken from `inactive:` is refused with its line, as
//! are two entries for one host (names are not case-sensitive).
//!
//! A host scanned again after the plan was made is refused for that host
//! (Terraform's stale plan): its steps compare against an older view of the
//! host. It is listed in [`ValidatedPlan::stale`] with what to do, and the
//! rest of the plan stands. The file's hash is recorded in the journal as
//! a review.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::PlanError;
use super::contain::ContainmentPlan;
use super::file::{RawFormat, RawPlanFile};
use super::model::{PlanHead, Settings};
use super::step::{Phase, Step};
use super::write::FORMAT;
use crate::journal::{
    Journal, PlanId, PlanOpId, SnapshotId, StoredPlanHost, StoredPlanOp, sha256_hex,
};
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
    /// The settings the plan was made with (from the journal).
    pub settings: Settings,
    /// Containment as planned (from the journal): with the settings, what
    /// each host's rules are.
    pub containment: ContainmentPlan,
    /// Hosts with the steps kept, each host's in execution order; stale
    /// hosts are not here.
    pub hosts: Vec<ValidatedHost>,
    /// Steps of the recorded plan that the edit removed, by host.
    pub removed: Vec<(String, Step)>,
    /// Hosts refused because they were scanned again after the plan was
    /// made.
    pub stale: Vec<StaleHost>,
    /// Things the operator should know (a host no longer contained, a
    /// reboot removed while files wait for it, ...).
    pub warnings: Vec<String>,
}

/// A host of the plan with the steps kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedHost {
    pub host: String,
    pub snapshot_id: SnapshotId,
    /// In execution order (phase, then kind; see [`Step::order`]).
    pub steps: Vec<ValidatedStep>,
}

impl ValidatedHost {
    /// Does it keep its `contain` step?
    pub fn contained(&self) -> bool {
        self.steps.iter().any(|s| s.step == Step::Contain)
    }

    /// The wave of its `reboot` step, if it keeps one.
    pub fn wave(&self) -> Option<u32> {
        self.steps.iter().find_map(|s| match s.step {
            Step::Reboot { wave, .. } => Some(wave),
            _ => None,
        })
    }

    /// Its steps of one phase, in order.
    pub fn in_phase(&self, phase: Phase) -> impl Iterator<Item = &ValidatedStep> {
        self.steps.iter().filter(move |s| s.step.phase() == phase)
    }

    /// Its runtime purge ops, in order, with their journal rows.
    pub fn purge_ops(&self) -> impl Iterator<Item = (PlanOpId, &Op)> {
        self.steps
            .iter()
            .filter_map(|s| s.step.op().map(|op| (s.plan_op_id, op)))
    }
}

/// One step kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedStep {
    /// The journal's row for this step (actions refer to it).
    pub plan_op_id: PlanOpId,
    pub step: Step,
    pub rules: Vec<String>,
}

/// A host refused because it was scanned again after the plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleHost {
    pub host: String,
    /// The snapshot the plan was made from.
    pub planned: SnapshotId,
    /// The newest snapshot of the host.
    pub newer: SnapshotId,
    /// The sentence for the operator: what happened and what to do.
    pub what_to_do: String,
}

const EXAMPLE: &str = "the plan as `cauterize plan` wrote it";

/// Read `path`, check it against the journal and record the review.
pub fn load_and_validate(path: &Path, journal: &mut Journal) -> Result<ValidatedPlan, PlanError> {
    let text = read(path)?;
    let plan = check(&text, path, journal)?;
    journal.record_plan_review(
        plan.plan_id,
        &plan.file_sha256,
        plan.hosts.iter().map(|h| h.steps.len()).sum(),
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

fn corrupt(what: String, e: impl std::fmt::Display) -> PlanError {
    crate::journal::JournalError::Corrupt {
        what,
        detail: e.to_string(),
    }
    .into()
}

/// The recorded steps of a host, parsed.
fn stored_steps(plan_id: PlanId, sh: &StoredPlanHost) -> Result<Vec<(Step, &StoredPlanOp)>, PlanError> {
    sh.ops
        .iter()
        .map(|o| serde_json::from_str::<Step>(&o.op).map(|s| (s, o)))
        .collect::<Result<_, _>>()
        .map_err(|e| corrupt(format!("plan {plan_id} steps of {}", sh.host), e))
}

/// Check the text against the journal (no write).
pub fn check(text: &str, path: &Path, journal: &Journal) -> Result<ValidatedPlan, PlanError> {
    let parse_err = |e: serde_saphyr::Error| located::from_yaml(&e, path, EXAMPLE, |_| None);
    let format: RawFormat = serde_saphyr::from_str_with_options(text, located::options(MAX_BYTES)).map_err(parse_err)?;
    let at = |loc: &serde_saphyr::Location, msg: String, help: &str| -> PlanError {
        LocatedError::at(path, loc, msg, help).into()
    };
    if format.cauterize_plan.value != FORMAT {
        return Err(at(
            &format.cauterize_plan.referenced,
            format!(
                "plan format {} is not known; this cauterize reads format {FORMAT}",
                format.cauterize_plan.value
            ),
            "run `cauterize plan` again with this cauterize, and review the new plan",
        ));
    }
    let raw: RawPlanFile = serde_saphyr::from_str_with_options(text, located::options(MAX_BYTES)).map_err(parse_err)?;
    let plan_id = raw.plan_id.value;
    let Some(stored) = journal.plan(plan_id)? else {
        return Err(at(
            &raw.plan_id.referenced,
            format!("plan {plan_id} is not in this engagement's journal"),
            "give the engagement folder the plan was made in (--engagement DIR), or run `cauterize plan` again",
        ));
    };
    let head: PlanHead = serde_json::from_str(&stored.settings)
        .map_err(|e| corrupt(format!("settings of plan {plan_id}"), e))?;
    if raw.settings.value != head.settings {
        return Err(at(
            &raw.settings.referenced,
            "the settings were changed; they are not editable in a plan".into(),
            "to plan with other settings, change the playbook or flags and run `cauterize plan` again; to skip steps, delete their lines",
        ));
    }
    if raw.containment.value != head.containment {
        return Err(at(
            &raw.containment.referenced,
            "the containment section was changed; it is not editable in a plan".into(),
            "to exempt other addresses or hosts, change the playbook (contain.exempt) or the inventory and run `cauterize plan` again; to leave a host uncontained, delete its `contain` line",
        ));
    }

    let stored_hosts: HashMap<String, &StoredPlanHost> = stored
        .hosts
        .iter()
        .map(|h| (h.host.to_lowercase(), h))
        .collect();
    let latest = journal.latest_snapshot_ids()?;
    let stale_of = |sh: &StoredPlanHost| -> Option<StaleHost> {
        let newer = *latest.get(&sh.host.to_lowercase())?;
        (newer != sh.snapshot_id).then(|| StaleHost {
            host: sh.host.clone(),
            planned: sh.snapshot_id,
            newer,
            what_to_do: format!(
                "{} was scanned again after plan {plan_id} was made (snapshot {newer}; the plan used {}): its steps would compare against an older view of the host, so it is refused; run `cauterize plan` again (it plans from the newest scan), review the new plan, and apply that",
                sh.host, sh.snapshot_id
            ),
        })
    };

    let mut hosts = Vec::new();
    let mut stale = Vec::new();
    let mut warnings = Vec::new();
    // Hosts the file names (kept or stale), by lower-case name.
    let mut named: HashMap<String, String> = HashMap::new();
    let mut kept_steps: HashMap<String, BTreeSet<u32>> = HashMap::new();
    for (name, h) in raw.hosts.unwrap_or_default() {
        let lower = name.to_lowercase();
        if let Some(prev) = named.insert(lower.clone(), name.clone()) {
            return Err(at(
                &h.referenced,
                format!("`{name}` and `{prev}` name the same host (host names are not case-sensitive)"),
                "keep one of the two entries",
            ));
        }
        let Some(sh) = stored_hosts.get(&lower) else {
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
        let parsed = stored_steps(plan_id, sh)?;
        let mut used: BTreeSet<u32> = BTreeSet::new();
        let mut last_seq: Option<u32> = None;
        for v in h.ops.unwrap_or_default() {
            let step = Step::from_value(&v.value).map_err(|m| {
                at(
                    &v.referenced,
                    format!("{name}: {m}"),
                    "restore the line as `cauterize plan` wrote it, or delete it",
                )
            })?;
            match parsed.iter().find(|(s, _)| *s == step) {
                Some((_, so)) if so.active => {
                    if !used.insert(so.seq) {
                        return Err(at(
                            &v.referenced,
                            format!("{name}: this step appears twice"),
                            "delete one of the two lines",
                        ));
                    }
                    if last_seq.is_some_and(|l| so.seq < l) {
                        return Err(at(
                            &v.referenced,
                            format!("{name}: this line was moved: lines keep the order `cauterize plan` wrote them in (steps run in a fixed order whatever the lines' order, so moving one changes nothing but the review)"),
                            "put it back where it was, or delete it",
                        ));
                    }
                    last_seq = Some(so.seq);
                }
                Some((_, so)) => {
                    return Err(at(
                        &v.referenced,
                        format!(
                            "{name}: this step is listed inactive in plan {plan_id} ({}); it cannot be activated by editing the plan",
                            so.why
                        ),
                        "to act on it, change the playbook or the flags (--activate medium) and run `cauterize plan` again",
                    ));
                }
                None => {
                    let id = step.identity();
                    let msg = match parsed
                        .iter()
                        .find(|(s, _)| s.identity() == id && s.tag() == step.tag())
                    {
                        Some((s, _)) => format!(
                            "{name}: this step was changed: the plan has {}; an edited plan may only lose lines",
                            serde_json::to_string(s).unwrap_or_default()
                        ),
                        None => format!(
                            "{name}: this step is not in plan {plan_id}: nothing in the scan or the playbook calls for it; an edited plan may only lose lines, never gain one"
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
        if let Some(s) = stale_of(sh) {
            stale.push(s);
            continue;
        }
        kept_steps.insert(lower, used);
    }

    for entry in raw.contain_only.unwrap_or_default() {
        let names = crate::report::hostlist::expand(&entry.value).map_err(|e| {
            at(
                &entry.referenced,
                format!("contain_only: {e}"),
                "write host names as `cauterize plan` did (`WS-[001-004,006]`), or delete names",
            )
        })?;
        for name in names {
            let lower = name.to_lowercase();
            let Some(sh) = stored_hosts.get(&lower) else {
                return Err(at(
                    &entry.referenced,
                    format!("contain_only: host {name} is not in plan {plan_id}"),
                    "a plan can only lose hosts, not gain them",
                ));
            };
            if let Some(prev) = named.insert(lower.clone(), name.clone()) {
                return Err(at(
                    &entry.referenced,
                    format!("contain_only: {name} is already listed (as `{prev}`)"),
                    "each host once",
                ));
            }
            let parsed = stored_steps(plan_id, sh)?;
            let active: Vec<&(Step, &StoredPlanOp)> = parsed.iter().filter(|(_, o)| o.active).collect();
            let [(Step::Contain, so)] = active.as_slice() else {
                return Err(at(
                    &entry.referenced,
                    format!("contain_only: {name} has other steps in plan {plan_id}: it cannot be listed here"),
                    "restore its entry under `hosts:` as `cauterize plan` wrote it",
                ));
            };
            if let Some(s) = stale_of(sh) {
                stale.push(s);
                continue;
            }
            kept_steps.insert(lower, [so.seq].into());
        }
    }

    let mut removed = Vec::new();
    for sh in &stored.hosts {
        let lower = sh.host.to_lowercase();
        if stale.iter().any(|s| s.host.eq_ignore_ascii_case(&sh.host)) {
            continue;
        }
        let parsed = stored_steps(plan_id, sh)?;
        let used = kept_steps.get(&lower);
        let mut steps = Vec::new();
        let mut lost = Vec::new();
        for (step, so) in parsed.into_iter().filter(|(_, o)| o.active) {
            if used.is_some_and(|u| u.contains(&so.seq)) {
                steps.push(ValidatedStep {
                    plan_op_id: so.id,
                    step,
                    rules: so.rules.clone(),
                });
            } else {
                lost.push(step);
            }
        }
        if used.is_none() {
            if !lost.is_empty() {
                warnings.push(format!("{}: left alone (its entry was removed): not contained, purged or rebooted", sh.host));
            }
        } else {
            if lost.contains(&Step::Contain) {
                warnings.push(format!("{}: not contained (its `contain` line was removed)", sh.host));
            }
            let waits = steps.iter().any(|s| {
                matches!(s.step, Step::Purge(Op::QueueDeleteOnReboot { .. }) | Step::Purge(Op::DeleteFile { queue_if_locked: true, .. }) | Step::DenyWrites { .. })
            });
            if waits && lost.iter().any(|s| matches!(s, Step::Reboot { .. })) {
                warnings.push(format!(
                    "{}: not rebooted (its `reboot` line was removed): files queued for deletion at boot, and folders denied writes, wait until it restarts",
                    sh.host
                ));
            }
            steps.sort_by_key(|s| (s.step.order(), s.plan_op_id));
            hosts.push(ValidatedHost {
                host: sh.host.clone(),
                snapshot_id: sh.snapshot_id,
                steps,
            });
        }
        removed.extend(lost.into_iter().map(|s| (sh.host.clone(), s)));
    }
    hosts.sort_by(|a, b| a.host.cmp(&b.host));
    stale.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(ValidatedPlan {
        plan_id,
        file_sha256: sha256_hex(text.as_bytes()),
        settings: head.settings,
        containment: head.containment,
        hosts,
        removed,
        stale,
        warnings,
    })
}
