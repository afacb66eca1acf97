//! Containment on the host, as runtime operations: make the engagement's
//! block rules and its dead-man task ([`ContainOp::Contain`]), push the
//! dead-man's deadline out ([`ContainOp::ExtendDeadman`]), and remove both
//! ([`ContainOp::Release`]). The rules themselves are computed here, on
//! the operator's side (`crate::firewall::host_rules`); `runtime.ps1`
//! (`Invoke-CzContain`, `Invoke-CzExtendDeadman`, `Invoke-CzRelease`)
//! writes them through the firewall's COM API and reads them back.
//!
//! Facts the host side relies on (Windows Vista through 11, PowerShell 2.0
//! and later):
//! - Rules go through COM `HNetCfg.FwPolicy2` / `HNetCfg.FWRule`, never
//!   netsh's text (localized: German and Spanish Windows broke parsers)
//!   and never `New-NetFirewallRule` (Windows 8 and later only). Rule
//!   names need not be unique and `Rules.Remove(name)` removes one rule of
//!   that name, so removal repeats until none is left.
//! - A rule holds at most 1,000 remote addresses (`host_rules` splits).
//! - Rules act only in the profiles they name: ours name all
//!   (`NET_FW_PROFILE2_ALL`). A profile that is off, a Group Policy that
//!   ignores local rules (`AllowLocalPolicyMerge` off:
//!   `LocalPolicyModifyState` 1) or one that blocks all inbound (2) makes
//!   the rules inert: reported as problems, the host is not contained.
//! - The dead-man is a Task Scheduler 2.0 task registered through COM
//!   `Schedule.Service` (schtasks' `/sd` takes the locale's date format
//!   and its XML must be UTF-16): one time trigger whose `StartBoundary`
//!   is written `YYYY-MM-DDTHH:MM:SSZ` from the host's own UTC clock (a
//!   boundary without offset is the host's local time, DST included; `Z`
//!   makes it absolute, and the host's clock decides, not the operator's),
//!   `StartWhenAvailable` so a deadline missed while the host was off
//!   still fires, run as SYSTEM (logon type 5, service account, no
//!   password). Its action is `powershell.exe -EncodedCommand` of a script
//!   that needs nothing of cauterize: it removes the rules whose names
//!   match [`crate::firewall::RuleName::pattern`] and then its own task.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::client::{RuntimeError, run_job, with_session};
use super::job::JobItem;
use super::ops::Bounds;
use super::results::{Frames, Limits};
use crate::firewall::{EngagementId, RuleName, RuleSpec};
use crate::transport::HostTarget;

/// Seconds the dead-man is at least pushed out (a shorter one could fire
/// while the operation still runs).
pub const MIN_DEADMAN_SECS: u64 = 60;

/// A containment operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainOp {
    /// Make these rules (exactly: other rules of the engagement are
    /// removed, same-named rules that differ replaced, equal ones left)
    /// and the dead-man task, firing `deadman_secs` after now by the
    /// host's clock (an existing one keeps its deadline).
    Contain {
        engagement: EngagementId,
        rules: Vec<HostRule>,
        deadman_secs: u64,
    },
    /// Move the dead-man's deadline to `deadman_secs` from now.
    ExtendDeadman { engagement: EngagementId, deadman_secs: u64 },
    /// Remove every rule of the engagement and its dead-man task.
    Release { engagement: EngagementId },
}

/// One rule as the job carries it (the COM property values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    pub name: String,
    /// `NET_FW_RULE_DIRECTION`: 1 in, 2 out.
    pub direction: u32,
    /// IANA number: 6 TCP, 17 UDP.
    pub protocol: u32,
    /// `445,139`.
    pub ports: String,
    /// `a-b,c`.
    pub remote: String,
    pub description: String,
}

impl From<&RuleSpec> for HostRule {
    fn from(r: &RuleSpec) -> HostRule {
        HostRule {
            name: r.name.clone(),
            direction: r.direction.com_value(),
            protocol: r.protocol.number(),
            ports: r.ports_text(),
            remote: r.remote_text(),
            description: r.description.clone(),
        }
    }
}

impl ContainOp {
    pub fn kind(&self) -> &'static str {
        match self {
            ContainOp::Contain { .. } => "Contain",
            ContainOp::ExtendDeadman { .. } => "ExtendDeadman",
            ContainOp::Release { .. } => "Release",
        }
    }

    pub fn engagement(&self) -> &EngagementId {
        match self {
            ContainOp::Contain { engagement, .. }
            | ContainOp::ExtendDeadman { engagement, .. }
            | ContainOp::Release { engagement } => engagement,
        }
    }

    /// The job fields, in order (see `job.rs`): every kind starts with the
    /// engagement, the exact pattern of its rule names and its task.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let id = self.engagement();
        let mut f = vec![
            ("engagement", id.as_str().to_string()),
            ("rule_pattern", RuleName::pattern(id)),
            ("task", id.dead_man_task()),
        ];
        match self {
            ContainOp::Contain { rules, deadman_secs, .. } => {
                f.push(("deadman_secs", deadman_secs.to_string()));
                for r in rules {
                    f.push(("rule_name", r.name.clone()));
                    f.push(("rule_direction", r.direction.to_string()));
                    f.push(("rule_protocol", r.protocol.to_string()));
                    f.push(("rule_ports", r.ports.clone()));
                    f.push(("rule_remote", r.remote.clone()));
                    f.push(("rule_description", r.description.clone()));
                }
            }
            ContainOp::ExtendDeadman { deadman_secs, .. } => f.push(("deadman_secs", deadman_secs.to_string())),
            ContainOp::Release { .. } => {}
        }
        f
    }

    /// Read an item back from its fields (the lab's and the tests' reader).
    pub fn from_fields(kind: &str, get: &dyn Fn(&str) -> Vec<String>) -> Result<ContainOp, String> {
        let one = |n: &str| -> Result<String, String> {
            let v = get(n);
            match v.as_slice() {
                [x] => Ok(x.clone()),
                [] => Err(format!("missing field {n}")),
                _ => Err(format!("field {n} given twice")),
            }
        };
        let num = |n: &str| -> Result<u64, String> { one(n)?.parse().map_err(|_| format!("field {n} is not a number")) };
        let engagement = EngagementId::parse(&one("engagement")?)?;
        if one("rule_pattern")? != RuleName::pattern(&engagement) || one("task")? != engagement.dead_man_task() {
            return Err("rule_pattern or task does not belong to the engagement".into());
        }
        Ok(match kind {
            "Contain" => {
                let (n, d, p, ports, remote, desc) = (
                    get("rule_name"),
                    get("rule_direction"),
                    get("rule_protocol"),
                    get("rule_ports"),
                    get("rule_remote"),
                    get("rule_description"),
                );
                let count = n.len();
                if [d.len(), p.len(), ports.len(), remote.len(), desc.len()].iter().any(|&l| l != count) {
                    return Err("rule fields do not come in sixes".into());
                }
                let mut rules = Vec::with_capacity(count);
                for i in 0..count {
                    rules.push(HostRule {
                        name: n[i].clone(),
                        direction: d[i].parse().map_err(|_| "field rule_direction is not a number".to_string())?,
                        protocol: p[i].parse().map_err(|_| "field rule_protocol is not a number".to_string())?,
                        ports: ports[i].clone(),
                        remote: remote[i].clone(),
                        description: desc[i].clone(),
                    });
                }
                ContainOp::Contain { engagement, rules, deadman_secs: num("deadman_secs")? }
            }
            "ExtendDeadman" => ContainOp::ExtendDeadman { engagement, deadman_secs: num("deadman_secs")? },
            "Release" => ContainOp::Release { engagement },
            other => return Err(format!("unknown operation {other}")),
        })
    }

    /// Field names each kind may have.
    pub fn allowed_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "Contain" => &[
                "engagement",
                "rule_pattern",
                "task",
                "deadman_secs",
                "rule_name",
                "rule_direction",
                "rule_protocol",
                "rule_ports",
                "rule_remote",
                "rule_description",
            ],
            "ExtendDeadman" => &["engagement", "rule_pattern", "task", "deadman_secs"],
            _ => &["engagement", "rule_pattern", "task"],
        }
    }
}

/// What one rule of the engagement went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleChange {
    pub name: String,
    /// `added`, `unchanged`, `replaced`, `removed`.
    pub state: String,
}

/// What a containment operation did and found on the host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainOutcome {
    /// The operation ran to its end (its read-back included).
    pub done: bool,
    /// Why not, or what the host said.
    pub detail: String,
    pub rules: Vec<RuleChange>,
    /// Rules of the engagement read back after the operation.
    pub rules_in_place: u64,
    /// What stops the rules from working on this host.
    pub problems: Vec<String>,
    /// The dead-man's deadline as registered (`YYYY-MM-DDTHH:MM:SSZ`),
    /// empty when there is none.
    pub deadline: String,
    /// The dead-man task is registered (read back).
    pub deadman_in_place: bool,
}

impl ContainOutcome {
    /// Rules added, replaced or removed: anything changed.
    pub fn changed(&self) -> usize {
        self.rules.iter().filter(|r| r.state != "unchanged").count()
    }

    /// `3 rules added, 5 unchanged; dead-man at ...`.
    pub fn summary(&self) -> String {
        let count = |s: &str| self.rules.iter().filter(|r| r.state == s).count();
        let mut parts = Vec::new();
        for s in ["added", "replaced", "removed", "unchanged"] {
            let n = count(s);
            if n > 0 {
                parts.push(format!("{n} rule(s) {s}"));
            }
        }
        if parts.is_empty() {
            parts.push("no rule to change".into());
        }
        let mut out = format!("{}; {} rule(s) of the engagement in place", parts.join(", "), self.rules_in_place);
        if self.deadman_in_place {
            out.push_str(&format!("; dead-man fires at {}", self.deadline));
        } else {
            out.push_str("; no dead-man task");
        }
        out
    }
}

/// The outcome of item `i` from its records.
pub fn outcome(frames: &Frames, i: usize) -> ContainOutcome {
    let mut out = ContainOutcome::default();
    for r in frames.of(i) {
        match r.kind.as_str() {
            "error" => {
                out.detail = r.text("reason");
                return out;
            }
            "rule" => out.rules.push(RuleChange {
                name: r.text("name"),
                state: r.text("state"),
            }),
            "problem" => out.problems.push(r.text("what")),
            "deadman" => {
                out.deadline = r.text("deadline");
                out.deadman_in_place = r.flag("present");
            }
            "in_place" => out.rules_in_place = r.num("rules"),
            "outcome" => {
                out.done = r.text("result") == "done";
                out.detail = r.text("detail");
            }
            _ => {}
        }
    }
    if !out.done && out.detail.is_empty() {
        out.detail = "the runtime reported no outcome (its output ended early)".into();
    }
    out
}

/// Run one containment operation on a host.
pub async fn run(target: &HostTarget, op: ContainOp, cancel: &CancellationToken) -> Result<ContainOutcome, RuntimeError> {
    with_session(target, cancel, async |s| {
        let bounds = Bounds::default();
        let items = [JobItem::Contain(op)];
        let time = Duration::from_secs(u64::from(bounds.time_limit_secs));
        let frames = run_job(s, &items, &Limits::from_bounds(&bounds), time).await?;
        Ok(outcome(&frames, 0))
    })
    .await
}
