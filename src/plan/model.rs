//! What a plan is: the settings it was made with, containment as planned,
//! the reboot waves, and per host its ordered steps (each active or listed
//! inactive with why), grouped under the findings that call for them, and
//! the findings no step can address.

use serde::{Deserialize, Serialize};

use super::contain::{ContainDecision, ContainmentPlan};
use super::roles::HostKind;
use super::step::Step;
use super::waves::Wave;
use crate::detect::{Confidence, Family};
use crate::journal::SnapshotId;
use crate::playbook::Sections;
use crate::runtime::ops::Op;

/// Findings of one rule (at one confidence) on one host: their steps are
/// shown under one heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingGroup {
    pub rule_id: String,
    pub family: Family,
    pub confidence: Confidence,
    /// A hash matched.
    pub certain: bool,
    /// The one fact that decided its first finding, short (the full
    /// reasons stay in the scan's report and the journal; the other
    /// findings' artifacts are on their step lines).
    pub fact: String,
    /// How many findings share it.
    pub findings: usize,
}

/// One step of a host's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    pub step: Step,
    /// Carried out by `apply` (true) or only listed (false).
    pub active: bool,
    /// Rule ids of the findings that call for it (none for `contain` and
    /// `reboot`).
    pub rules: Vec<String>,
    /// The finding group it is shown under ([`HostPlan::groups`]).
    pub group: Option<usize>,
    /// Shown beside its line: for an inactive step, why it is not carried
    /// out; for an active one, how (a file in use, ...).
    pub note: Option<String>,
    /// Everything: the findings' rules, families, confidences and reasons,
    /// and the note. Recorded in the journal.
    pub why: String,
    /// For a file: the PID (and image) of a process that has it in use at
    /// scan time.
    pub in_use_by: Option<(u32, String)>,
}

/// A finding for which no step exists (a whole registry key, an artifact
/// the snapshot does not show, a file that was not hashed, a folder that
/// holds something else), listed so the reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotPlanned {
    pub what: String,
    pub why: String,
}

/// Something listed for a person to look at, never acted on: a rare
/// unsigned autostart that nothing explains (no finding, no allow-list;
/// the fleet's stacking, [`crate::fleet::stack`]), or a service, task or
/// file installed or created when a suspect source reached the host
/// (`reached`; [`crate::fleet::lateral::installed_on_reach`],
/// [`crate::fleet::lateral::created_on_reach`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewItem {
    pub what: String,
    pub why: String,
    /// Installed or created when a suspect source reached the host.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reached: bool,
}

/// One host's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPlan {
    pub host: String,
    pub snapshot_id: SnapshotId,
    /// On the host's clock.
    pub collected_at: String,
    pub kind: HostKind,
    pub contain: ContainDecision,
    /// Why a host the purge changes gets no reboot step, if so.
    pub no_reboot: Option<String>,
    pub groups: Vec<FindingGroup>,
    /// In file order: `contain`, the active steps grouped by finding, the
    /// `reboot`, then the inactive ones.
    pub items: Vec<PlanItem>,
    pub not_planned: Vec<NotPlanned>,
    /// Bounds the collection hit (the plan may be incomplete).
    pub truncated: Vec<String>,
    /// For review, not acted on: rare unexplained unsigned autostarts.
    pub review: Vec<ReviewItem>,
}

/// The effective settings a plan was made with: the playbook's sections,
/// `--activate` applied. Written into the plan file; not editable there.
/// Reached through it: `settings.purge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub playbook: String,
    pub playbook_sha256: String,
    pub effective: Sections,
}

impl std::ops::Deref for Settings {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.effective
    }
}

/// What the journal keeps of a plan besides its steps (JSON in the plan's
/// `settings` column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHead {
    pub settings: Settings,
    pub containment: ContainmentPlan,
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
    pub containment: ContainmentPlan,
    pub waves: Vec<Wave>,
    pub hosts: Vec<HostPlan>,
    /// Not contained, purged or rebooted: no scan to plan from. They hold
    /// the release.
    pub unscanned: Vec<Unscanned>,
    /// What stops the plan from being carried out as it stands, each with
    /// what to do; `cauterize plan` refuses to write a plan that has any.
    pub problems: Vec<String>,
}

impl Plan {
    /// List `review` (by host name, any case) under each host's plan.
    pub fn add_reviews(&mut self, review: &std::collections::BTreeMap<String, Vec<ReviewItem>>) {
        for h in &mut self.hosts {
            if let Some((_, items)) = review.iter().find(|(k, _)| k.eq_ignore_ascii_case(&h.host)) {
                h.review.extend(items.iter().cloned());
            }
        }
    }

    /// Review items over all hosts.
    pub fn review_count(&self) -> usize {
        self.hosts.iter().map(|h| h.review.len()).sum()
    }
}

/// Counts of one host's plan (or a sum), for summaries.
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
    /// Folders denied writes before the reboot.
    pub denied: usize,
    /// Defender exclusions reverted.
    pub exclusions: usize,
    /// Folders removed after the reboot.
    pub folders: usize,
    pub inactive: usize,
    pub not_planned: usize,
}

impl Counts {
    /// Count one item.
    pub fn count(&mut self, i: &PlanItem) {
        if !i.active {
            self.inactive += 1;
            return;
        }
        match &i.step {
            Step::Contain | Step::Reboot { .. } => {}
            Step::Purge(Op::KillProcess { .. }) => self.kills += 1,
            Step::Purge(Op::QueueDeleteOnReboot { .. }) => self.queued += 1,
            Step::Purge(Op::DeleteFile { .. }) => {
                self.deletions += 1;
                if i.in_use_by.is_some() {
                    self.in_use += 1;
                }
            }
            Step::Purge(Op::RemoveFolder { .. }) => self.folders += 1,
            Step::Purge(_) => self.deletions += 1,
            Step::DenyWrites { .. } => self.denied += 1,
            Step::RevertDefenderExclusion { .. } => self.exclusions += 1,
        }
    }

    /// Nothing to purge or list.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }

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
        s.push_str(&format!(", {} queued for boot", self.queued));
        for (n, one, many) in [
            (self.denied, "folder denied writes", "folders denied writes"),
            (self.exclusions, "Defender exclusion reverted", "Defender exclusions reverted"),
            (self.folders, "folder removed after the reboot", "folders removed after the reboot"),
        ] {
            if n > 0 {
                s.push_str(&format!(", {}", plural(n, one, many)));
            }
        }
        s.push_str(&format!(", {} inactive", self.inactive));
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
        self.denied += o.denied;
        self.exclusions += o.exclusions;
        self.folders += o.folders;
        self.inactive += o.inactive;
        self.not_planned += o.not_planned;
    }
}

impl HostPlan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            not_planned: self.not_planned.len(),
            ..Counts::default()
        };
        for i in &self.items {
            c.count(i);
        }
        c
    }

    /// The wave of its reboot step, if it has one.
    pub fn wave(&self) -> Option<u32> {
        self.items.iter().find_map(|i| match &i.step {
            Step::Reboot { wave, .. } if i.active => Some(*wave),
            _ => None,
        })
    }

    /// Its only active step is `contain`, and nothing is listed: shown in
    /// one line with the others like it.
    pub fn contain_only(&self) -> bool {
        self.nothing_listed()
            && self.items.len() == 1
            && self.items[0].active
            && self.items[0].step == Step::Contain
    }

    /// No step at all and nothing listed.
    pub fn nothing_to_do(&self) -> bool {
        self.nothing_listed() && self.items.is_empty()
    }

    fn nothing_listed(&self) -> bool {
        self.not_planned.is_empty() && self.truncated.is_empty() && self.review.is_empty()
    }
}
