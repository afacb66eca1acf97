//! The plan as the engine needs it, and no more: per host its role, its
//! groups, the snapshot it was planned from and its operations in order
//! (each with the journal's id, so actions point at the plan line they
//! carry out). Built from a reviewed plan ([`crate::plan::ValidatedPlan`])
//! and the inventory; hosts the plan's validation found scanned again
//! after the plan was made (Terraform's stale plan) are excluded, each
//! with what to do, and hold the release.

use std::collections::{HashMap, HashSet};

use super::settings::Role;
use crate::inventory::ResolvedHost;
use crate::plan::{Phase, Step, ValidatedPlan};
use crate::runtime::ops::Op;

/// One operation to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOp {
    pub plan_op_id: i64,
    pub op: Op,
}

/// `op` waits for the host's reboot (a folder the purge denied writes to,
/// or whose files go at boot): the reboot phase runs it once the host is
/// back, never the purge.
pub fn runs_after_reboot(op: &Op) -> bool {
    matches!(op, Op::RemoveFolder { after_reboot: true, .. })
}

/// One host of the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedHost {
    pub name: String,
    pub address: String,
    pub role: Role,
    /// Inventory groups (for the per-group release).
    pub groups: Vec<String>,
    /// The snapshot its plan was made from.
    pub snapshot_id: Option<i64>,
    /// The runtime's purge ops of its reviewed steps, in execution order
    /// (kills first).
    pub ops: Vec<PlannedOp>,
    /// It keeps SMB with every host (exempt in the plan's containment):
    /// infected, it is purged before the hosts it could re-infect.
    pub exempt: bool,
    /// The reviewed plan never contains it (`contain.never`): it gets no
    /// rules, and is purged and rebooted as planned.
    pub never_contained: bool,
    /// The operator's addresses as it saw cauterize (the plan's
    /// containment, from its scans): its rules keep SMB open to them.
    pub operator: Vec<String>,
    /// Its reviewed steps other than the purge ops (contain, reboot,
    /// deny-write, Defender exclusion, folder removal), with their
    /// journal rows, in the plan's order.
    pub steps: Vec<(i64, Step)>,
}

impl PlannedHost {
    /// A host from its reviewed steps: the runtime ops of the purge to
    /// [`PlannedHost::ops`], the rest (after-reboot ops too) to
    /// [`PlannedHost::steps`].
    pub fn with_steps(mut self, steps: impl IntoIterator<Item = (i64, Step)>) -> PlannedHost {
        for (plan_op_id, step) in steps {
            let in_purge = step.phase() == Phase::Purge;
            match step {
                Step::Purge(op) if in_purge => self.ops.push(PlannedOp { plan_op_id, op }),
                other => self.steps.push((plan_op_id, other)),
            }
        }
        self
    }

    /// Something was found to remove: the host is purged and rebooted.
    pub fn infected(&self) -> bool {
        !self.ops.is_empty()
            || !self.after_reboot_ops().is_empty()
            || !self.not_carried_out().is_empty()
            || self.steps.iter().any(|(_, s)| matches!(s, Step::DenyWrites { .. } | Step::RevertDefenderExclusion { .. }))
    }

    /// The runtime ops of its reviewed steps that run once the host is
    /// back from its reboot (a folder the purge denied writes to, or whose
    /// files went at boot), in the plan's order.
    pub fn after_reboot_ops(&self) -> Vec<PlannedOp> {
        self.steps
            .iter()
            .filter(|(_, s)| s.phase() == Phase::AfterReboot)
            .filter_map(|(id, s)| s.op().map(|op| PlannedOp { plan_op_id: *id, op: op.clone() }))
            .collect()
    }

    /// It keeps its reviewed `contain` step (exempt, never-contained hosts
    /// and hosts whose step the review removed have none).
    pub fn contain(&self) -> bool {
        self.steps.iter().any(|(_, s)| *s == Step::Contain)
    }

    /// The reviewed plan keeps it uncontained: exempt (it keeps SMB with
    /// every host and gets no rules) or never contained.
    pub fn uncontained_by_plan(&self) -> bool {
        self.exempt || self.never_contained
    }

    /// The wave of its reviewed `reboot` step (the plan's waves,
    /// [`crate::plan::waves`]); `None`: the plan does not reboot it.
    pub fn wave(&self) -> Option<u32> {
        self.steps.iter().find_map(|(_, s)| match s {
            Step::Reboot { wave, .. } => Some(*wave),
            _ => None,
        })
    }

    /// Reviewed steps this version has no host-side code for (none today,
    /// see [`Step::has_host_side`]): reported as not carried out, never as
    /// done. Contain and reboot are the engine's phases; after-reboot ops
    /// run in the reboot phase ([`PlannedHost::after_reboot_ops`]).
    pub fn not_carried_out(&self) -> Vec<&(i64, Step)> {
        self.steps
            .iter()
            .filter(|(_, s)| !s.has_host_side() && !matches!(s, Step::Contain | Step::Reboot { .. }))
            .collect()
    }

    /// It has no reviewed step at all and keeps no SMB by role: it was not
    /// in the reviewed plan (it had no scan when the plan was made, and
    /// `watch` took it in when it answered). Its first scan is the
    /// verifying scan after containment, so what that finds is its first
    /// purge, not a re-purge: it gets one round more.
    pub fn never_planned(&self) -> bool {
        self.ops.is_empty() && self.steps.is_empty() && !self.exempt
    }

    /// Every reviewed step's journal row (the operation records them).
    pub fn step_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.ops.iter().map(|o| o.plan_op_id).chain(self.steps.iter().map(|(id, _)| *id))
    }
}

/// A host of the inventory that the operation does not act on, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub host: String,
    pub address: String,
    pub why: String,
    /// It holds the release (it was never verified), unless accepted by
    /// name.
    pub holds_release: bool,
}

/// What an operation carries out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationPlan {
    pub plan_id: Option<i64>,
    /// SHA-256 of the plan file as reviewed.
    pub plan_sha256: Option<String>,
    pub playbook_sha256: Option<String>,
    pub hosts: Vec<PlannedHost>,
    pub excluded: Vec<Excluded>,
    /// What keeps SMB with every contained host (addresses, ranges, CIDR
    /// blocks), as the plan's containment names them: the playbook's
    /// `contain.exempt.addresses` and the exempt hosts' addresses. The
    /// operator's address is added per host when it is contained.
    pub exempt_addresses: Vec<String>,
}

/// Inventory group names that say what a host is (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGroups {
    pub domain_controllers: Vec<String>,
    pub servers: Vec<String>,
    pub workstations: Vec<String>,
}

impl Default for RoleGroups {
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        RoleGroups {
            domain_controllers: v(&["domain_controllers", "domain-controllers", "dcs"]),
            servers: v(&["servers", "file_servers", "file-servers", "print_servers", "print-servers"]),
            workstations: v(&["workstations", "clients", "desktops", "laptops"]),
        }
    }
}

/// A host's role: by inventory group first; where the inventory does not
/// say, a Windows Server caption makes a server. The operation follows the
/// reviewed plan's waves and exemptions, which the plan made from what
/// each host reports too (its domain role, shares and shared printers:
/// `crate::plan::roles`); this role names a wave's kind, and the hosts a
/// `contain` without a plan exempts by role.
pub fn role_of(groups: &[String], os_caption: Option<&str>, names: &RoleGroups) -> Role {
    let in_any = |list: &[String]| groups.iter().any(|g| list.iter().any(|n| n.eq_ignore_ascii_case(g)));
    if in_any(&names.domain_controllers) {
        Role::DomainController
    } else if in_any(&names.servers) {
        Role::Server
    } else if in_any(&names.workstations) {
        Role::Workstation
    } else if os_caption.is_some_and(|c| c.contains("Server")) {
        Role::Server
    } else {
        Role::Workstation
    }
}

/// What [`from_reviewed`] needs from the journal.
#[derive(Debug, Clone, Default)]
pub struct JournalFacts {
    /// Every host the plan (as recorded, before any edit) covers, by
    /// lower-case name.
    pub planned_hosts: HashSet<String>,
    /// The OS caption each host last reported, by lower-case name.
    pub os: HashMap<String, String>,
}

/// The operation for the inventory's `hosts` from the reviewed `plan`.
pub fn from_reviewed(
    plan: &ValidatedPlan,
    hosts: &[ResolvedHost],
    facts: &JournalFacts,
    roles: &RoleGroups,
) -> OperationPlan {
    let reviewed: HashMap<String, &crate::plan::ValidatedHost> =
        plan.hosts.iter().map(|h| (h.host.to_lowercase(), h)).collect();
    let mut out = OperationPlan {
        plan_id: Some(plan.plan_id),
        plan_sha256: Some(plan.file_sha256.clone()),
        playbook_sha256: Some(plan.settings.playbook_sha256.clone()),
        exempt_addresses: plan.containment.exempt.iter().map(|e| e.address.clone()).collect(),
        ..OperationPlan::default()
    };
    let operator = plan.containment.operator_by_host();
    for host in hosts {
        let key = host.name.to_lowercase();
        let exclude = |why: String, holds_release: bool| Excluded {
            host: host.name.clone(),
            address: host.address.clone(),
            why,
            holds_release,
        };
        // Scanned again after the plan was made: refused by the plan's
        // validation (a stale plan), with what to do.
        if let Some(stale) = plan.stale.iter().find(|s| s.host.eq_ignore_ascii_case(&host.name)) {
            out.excluded.push(exclude(format!("refused: {}", stale.what_to_do), true));
            continue;
        }
        let Some(planned) = reviewed.get(&key) else {
            out.excluded.push(if facts.planned_hosts.contains(&key) {
                exclude(
                    format!("removed from plan {} by its review: not acted on", plan.plan_id),
                    false,
                )
            } else {
                exclude(
                    format!(
                        "not in plan {}: it had no scan when the plan was made; scan it and plan again (it holds the release until then, or `cauterize release --accept-unreached {}`)",
                        plan.plan_id, host.name
                    ),
                    true,
                )
            });
            continue;
        };
        out.hosts.push(PlannedHost {
            name: host.name.clone(),
            address: host.address.clone(),
            role: role_of(&host.groups, facts.os.get(&key).map(String::as_str), roles),
            groups: host.groups.clone(),
            snapshot_id: Some(planned.snapshot_id),
            ops: Vec::new(),
            exempt: plan.containment.exempt_hosts.iter().any(|e| e.host.eq_ignore_ascii_case(&host.name)),
            never_contained: plan.containment.never.iter().any(|e| e.host.eq_ignore_ascii_case(&host.name)),
            operator: operator.get(&key).cloned().unwrap_or_default(),
            steps: Vec::new(),
        }
        .with_steps(planned.steps.iter().map(|s| (s.plan_op_id, s.step.clone()))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_group_then_by_caption() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let names = RoleGroups::default();
        assert_eq!(role_of(&g(&["DCs"]), Some("Windows 10 Pro"), &names), Role::DomainController);
        assert_eq!(role_of(&g(&["file_servers"]), None, &names), Role::Server);
        assert_eq!(role_of(&g(&["workstations"]), Some("Windows Server 2019"), &names), Role::Workstation);
        assert_eq!(role_of(&[], Some("Microsoft Windows Server 2016 Standard"), &names), Role::Server);
        assert_eq!(role_of(&[], Some("Microsoft Windows 10 Pro"), &names), Role::Workstation);
        assert_eq!(role_of(&[], None, &names), Role::Workstation);
    }
}
