//! The planner: a pure function from each host's latest snapshot and
//! findings, the playbook and the operator's flags to each host's ordered
//! operations. No I/O.
//!
//! Rules, in order of precedence:
//! - a finding is acted on only if it is not allow-listed, its family is in
//!   scope, its host is not excluded, and it is certain (a hash matched) or
//!   at least as confident as `activate` (high by default; low never);
//! - an operation is vetoed (listed inactive) if any finding behind it is
//!   allow-listed, if it would delete an excluded path or remove a
//!   mechanism that starts one, if it would kill a critical process or
//!   delete a Windows launcher ([`super::guard`]), or if the playbook turns
//!   kills off;
//! - a file in use by a process the plan ends is deleted with a fallback to
//!   the boot-time queue; a file in use by a process that stays is queued
//!   for deletion at boot;
//! - order: kills, registry values, tasks, services, WMI subscriptions,
//!   files, queued files.

use std::collections::{BTreeSet, HashMap};

use super::derive::{self, Derived};
use super::guard;
use super::model::*;
use crate::detect::{ArtifactRef, Confidence};
use crate::journal::{LatestScan, SnapshotId, StoredFinding};
use crate::playbook::Playbook;
use crate::runtime::ops::Op;
use crate::runtime::snapshot::Snapshot;

/// What the operator said on the command line, over the playbook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--activate medium|high`.
    pub activate: Option<Confidence>,
}

/// One host to plan for.
#[derive(Debug, Clone, Copy)]
pub struct HostInput<'a> {
    pub host: &'a str,
    pub snapshot_id: SnapshotId,
    pub snapshot: &'a Snapshot,
    pub findings: &'a [StoredFinding],
}

impl<'a> From<&'a LatestScan> for HostInput<'a> {
    fn from(s: &'a LatestScan) -> Self {
        HostInput {
            host: &s.host,
            snapshot_id: s.snapshot_id,
            snapshot: &s.snapshot,
            findings: &s.findings,
        }
    }
}

/// The effective settings.
pub fn settings(playbook: &Playbook, flags: &Flags) -> Settings {
    let activate = flags.activate.unwrap_or(playbook.activate);
    Settings {
        playbook: playbook.source.clone(),
        playbook_sha256: playbook.sha256.clone(),
        activate: confidence_word(activate).to_string(),
        families: playbook
            .families
            .iter()
            .map(|f| Playbook::family_name(*f).to_string())
            .collect(),
        kill_processes: playbook.kill_processes,
        queue_locked_files: playbook.queue_locked_files,
        quarantine: playbook.quarantine,
        exclude_hosts: playbook.exclude_hosts.clone(),
        exclude_paths: playbook.exclude_paths.clone(),
    }
}

pub fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// Plan every host.
pub fn build(
    hosts: &[HostInput<'_>],
    unscanned: Vec<Unscanned>,
    playbook: &Playbook,
    flags: &Flags,
) -> Plan {
    let activate = flags.activate.unwrap_or(playbook.activate);
    Plan {
        settings: settings(playbook, flags),
        hosts: hosts
            .iter()
            .map(|h| host_plan(h, playbook, activate))
            .collect(),
        unscanned,
    }
}

/// A candidate operation while findings are gathered.
struct Cand {
    op: Op,
    rules: Vec<String>,
    reasons: Vec<String>,
    /// Some finding behind it is to be acted on.
    wanted: bool,
    /// Why findings behind it are not acted on.
    passive: Vec<String>,
    /// Why it must not be done whatever the findings say.
    vetoes: Vec<String>,
}

/// Why a finding is not acted on, if so.
fn finding_status(
    f: &StoredFinding,
    pb: &Playbook,
    activate: Confidence,
    host_excluded: Option<&str>,
) -> Result<(), String> {
    if let Some(p) = host_excluded {
        return Err(format!("the host is excluded by the playbook (`{p}`)"));
    }
    if let Some(a) = &f.allowlisted {
        return Err(format!("allow-listed: {a}"));
    }
    if !pb.families.contains(&f.family) {
        return Err(format!(
            "{} is not among the playbook's families",
            f.family.name()
        ));
    }
    if f.certain {
        return Ok(());
    }
    match f.confidence {
        Confidence::Low => Err("low confidence: listed only, never acted on".into()),
        c if c < activate => Err(
            "medium confidence: not acted on unless asked (`cauterize plan --activate medium`, or `activate: medium` in the playbook)".into(),
        ),
        _ => Ok(()),
    }
}

/// `RULE (Family, high, hash match): reason; reason`.
fn headline(f: &StoredFinding) -> String {
    let certain = if f.certain { ", hash match" } else { "" };
    format!(
        "{} ({}, {}{certain}): {}",
        f.rule_id,
        f.family.name(),
        confidence_word(f.confidence),
        f.reasons.join("; ")
    )
}

fn host_plan(input: &HostInput<'_>, pb: &Playbook, activate: Confidence) -> HostPlan {
    let s = input.snapshot;
    let host_excluded = pb.host_excluded(input.host);
    let mut cands: Vec<Cand> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut not_planned: Vec<NotPlanned> = Vec::new();
    let mut seen_not_planned: BTreeSet<(String, String)> = BTreeSet::new();

    for f in input.findings {
        let status = finding_status(f, pb, activate, host_excluded);
        let head = headline(f);
        // Paths this finding's mechanism starts, excluded by the playbook.
        let excluded_targets: Vec<String> = f
            .target_files
            .iter()
            .filter_map(|t| {
                pb.path_excluded(t)
                    .map(|p| format!("it starts {t}, excluded by the playbook (`{p}`)"))
            })
            .collect();

        let mut derived: Vec<(String, Derived, bool)> = Vec::new();
        derived.push((
            f.artifact.describe(),
            derive::artifact_op(s, &f.artifact),
            true,
        ));
        for t in &f.target_files {
            let own = matches!(&f.artifact, ArtifactRef::File { path } | ArtifactRef::StartupItem { path } | ArtifactRef::Folder { path } if crate::detect::paths::key(path) == crate::detect::paths::key(t));
            if !own {
                derived.push((format!("file {t}"), derive::file_op(s, t), false));
            }
        }
        for (what, d, is_artifact) in derived {
            let op = match d {
                Derived::None(why) => {
                    let why = format!("{why} [{}]", f.rule_id);
                    if seen_not_planned.insert((what.clone(), why.clone())) {
                        not_planned.push(NotPlanned { what, why });
                    }
                    continue;
                }
                Derived::Op(op) => op,
            };
            let mut vetoes = op_vetoes(&op, pb, s);
            if is_artifact && !matches!(f.artifact, ArtifactRef::File { .. }) {
                vetoes.extend(excluded_targets.iter().cloned());
            }
            if let Some(a) = &f.allowlisted {
                vetoes.push(format!("allow-listed: {a}"));
            }
            let key = serde_json::to_string(&op).unwrap_or_default();
            let at = *index.entry(key).or_insert_with(|| {
                cands.push(Cand {
                    op,
                    rules: Vec::new(),
                    reasons: Vec::new(),
                    wanted: false,
                    passive: Vec::new(),
                    vetoes: Vec::new(),
                });
                cands.len() - 1
            });
            let c = &mut cands[at];
            if !c.rules.contains(&f.rule_id) {
                c.rules.push(f.rule_id.clone());
            }
            if !c.reasons.contains(&head) {
                c.reasons.push(head.clone());
            }
            match &status {
                Ok(()) => c.wanted = true,
                Err(why) if !c.passive.contains(why) => c.passive.push(why.clone()),
                Err(_) => {}
            }
            for v in vetoes {
                if !c.vetoes.contains(&v) {
                    c.vetoes.push(v);
                }
            }
        }
    }

    let mut items: Vec<PlanItem> = cands
        .into_iter()
        .map(|c| {
            let active = c.wanted && c.vetoes.is_empty();
            let why = if active {
                c.reasons.join(" | ")
            } else if !c.vetoes.is_empty() {
                format!("{} — {}", c.vetoes.join("; "), c.reasons.join(" | "))
            } else {
                format!("{} — {}", c.passive.join("; "), c.reasons.join(" | "))
            };
            PlanItem {
                op: c.op,
                active,
                rules: c.rules,
                why,
                in_use_by: None,
            }
        })
        .collect();
    settle_files(&mut items, s, pb);
    // Stable: within a kind, the order findings came in.
    items.sort_by_key(|i| rank(&i.op));

    HostPlan {
        host: input.host.to_string(),
        snapshot_id: input.snapshot_id,
        collected_at: s.collected_at.clone(),
        items,
        not_planned,
        truncated: s
            .truncated
            .iter()
            .map(|t| format!("{} (bound: {})", t.what, t.limit))
            .collect(),
        review: Vec::new(),
    }
}

/// Vetoes that depend on the operation (and, for a kill, on what the scan
/// saw of the process).
fn op_vetoes(op: &Op, pb: &Playbook, s: &Snapshot) -> Vec<String> {
    let mut v = Vec::new();
    match op {
        Op::KillProcess {
            pid,
            expected_image,
            ..
        } => {
            if !pb.kill_processes {
                v.push("the playbook does not kill processes (`kill_processes: false`)".into());
            }
            v.extend(guard::never_kill_seen(s, *pid, expected_image));
            if let Some(p) = pb.path_excluded(expected_image) {
                v.push(format!("its image is excluded by the playbook (`{p}`)"));
            }
        }
        Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => {
            v.extend(guard::never_delete(path));
            if let Some(p) = pb.path_excluded(path) {
                v.push(format!("excluded by the playbook (`{p}`)"));
            }
        }
        _ => {}
    }
    v
}

/// Decide, for each file, between delete (with or without the boot-queue
/// fallback) and queue-for-boot, from which processes have it in use and
/// which of those the plan ends.
fn settle_files(items: &mut [PlanItem], s: &Snapshot, pb: &Playbook) {
    let killed: BTreeSet<u32> = items
        .iter()
        .filter(|i| i.active)
        .filter_map(|i| match &i.op {
            Op::KillProcess { pid, .. } => Some(*pid),
            _ => None,
        })
        .collect();
    for item in items.iter_mut() {
        let Op::DeleteFile {
            path,
            expected_sha256,
            ..
        } = &item.op
        else {
            continue;
        };
        let (path, sha) = (path.clone(), expected_sha256.clone());
        let users = derive::users_of(s, &path);
        let Some(first) = users.first() else {
            item.op = Op::DeleteFile {
                path,
                expected_sha256: sha,
                queue_if_locked: pb.queue_locked_files,
            };
            continue;
        };
        item.in_use_by = Some((first.pid, first.image.clone()));
        let survivors: Vec<u32> = users
            .iter()
            .map(|p| p.pid)
            .filter(|p| !killed.contains(p))
            .collect();
        let who = users
            .iter()
            .map(|p| {
                format!(
                    "PID {} ({})",
                    p.pid,
                    crate::detect::paths::file_name(&p.image)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let note = if survivors.is_empty() {
            if pb.queue_locked_files {
                format!(
                    "in use by {who}, ended first; if still locked, it is queued for deletion at boot"
                )
            } else {
                format!(
                    "in use by {who}, ended first; fails if still locked (`queue_locked_files: false`)"
                )
            }
        } else if pb.queue_locked_files {
            item.op = Op::QueueDeleteOnReboot {
                path,
                expected_sha256: sha,
            };
            item.why = format!(
                "in use by {who}, which this plan does not end: queued for deletion at boot — {}",
                item.why
            );
            continue;
        } else {
            format!(
                "in use by {who}, which this plan does not end; fails while locked (`queue_locked_files: false`)"
            )
        };
        item.op = Op::DeleteFile {
            path,
            expected_sha256: sha,
            queue_if_locked: pb.queue_locked_files,
        };
        item.why = format!("{note} — {}", item.why);
    }
}
