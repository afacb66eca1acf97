//! Plans: from findings, the inventory and the playbook to every step the
//! operation would take on each host, written as a file a person reviews
//! and edits, and read back for `apply`.
//!
//! - [`build`]: the pure planner (snapshots and findings per host,
//!   inventory, playbook, flags → steps, active or inactive with why),
//!   from [`derive`] (finding → step), [`guard`] (what is never touched),
//!   [`folders`] (emptied loader folders), [`roles`] (what a host is),
//!   [`contain`] (who is contained, the exempt set) and [`waves`] (reboot
//!   waves).
//! - [`step`]: the steps (containment, the runtime's purge ops, deny-write,
//!   Defender exclusions, reboot, folder removal), their phases and order.
//! - [`summary`] and [`write`]: the plan file (YAML; a summary at the top,
//!   steps grouped under their finding, hosts with nothing to purge in one
//!   line).
//! - [`record`]: the plan and every step into the journal, with the file's
//!   hash.
//! - [`validate::load_and_validate`]: a reviewed file back, checked against
//!   the journal: an edit may only remove steps or hosts; a host scanned
//!   again since is refused (stale).

pub mod build;
pub mod contain;
pub mod derive;
mod file;
pub mod folders;
pub mod guard;
pub mod model;
pub mod roles;
pub mod step;
pub mod summary;
pub mod validate;
pub mod waves;
pub mod write;
pub mod yaml_out;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use build::{Context, Flags, HostInput, HostPart, NotActedOn, acted_on, acts_on, build, build_from, build_with, loaders_not_acted_on};
pub use contain::{ContainDecision, ContainmentPlan, FleetHost, OperatorSeen, ScanFacts};
pub use model::*;
pub use step::{HeldFile, Phase, Step};
pub use validate::{
    StaleHost, ValidatedHost, ValidatedPlan, ValidatedStep, check, load_and_validate,
};
pub use waves::{Wave, WaveKind};

use crate::journal::{Journal, JournalError, NewPlan, PlanHostRow, PlanId, PlanOpRow, RunId};
use crate::playbook::LocatedError;

/// Why a plan could not be read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file: unreadable, not the plan format, or an edit that is not a
    /// removal. Names the line.
    #[error("{0}")]
    File(#[from] LocatedError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Record `plan` (every step, active or not) in the journal as made by
/// `run`, to be written to `out`; returns its id and the file text, whose
/// hash the journal keeps. The journal's `settings` column holds the
/// [`PlanHead`] (settings and containment) as JSON.
pub fn record(
    journal: &mut Journal,
    run: RunId,
    plan: &Plan,
    out: &Path,
) -> Result<(PlanId, String), JournalError> {
    let head = PlanHead {
        settings: plan.settings.clone(),
        containment: plan.containment.clone(),
    };
    let new = NewPlan {
        run_id: run,
        path: out.display().to_string(),
        playbook_sha256: plan.settings.playbook_sha256.clone(),
        settings: serde_json::to_string(&head).map_err(|e| JournalError::Corrupt {
            what: "plan settings".into(),
            detail: e.to_string(),
        })?,
        hosts: plan
            .hosts
            .iter()
            .map(|h| PlanHostRow {
                host: h.host.clone(),
                snapshot_id: h.snapshot_id,
                ops: h
                    .items
                    .iter()
                    .map(|i| PlanOpRow {
                        active: i.active,
                        op: serde_json::to_string(&i.step).unwrap_or_default(),
                        rules: i.rules.clone(),
                        why: i.why.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    journal.record_plan(&new, |id| write::render(plan, id))
}
