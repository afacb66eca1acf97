//! Plans: from findings to per-host operations, written as a file a person
//! reviews and edits, and read back for `apply`.
//!
//! - [`build`]: the pure planner (snapshot + findings per host, playbook,
//!   flags → ordered operations, active or inactive with why).
//! - [`write`]: the plan file (YAML, one operation per line, comments).
//! - [`record`]: the plan and every operation into the journal, with the
//!   file's hash.
//! - [`validate::load_and_validate`]: a reviewed file back, checked against
//!   the journal: an edit may only remove operations.
//!
//! Operations are the runtime's closed set ([`crate::runtime::ops::Op`]),
//! each compare-and-delete: it carries what the scan saw.

pub mod build;
pub mod derive;
mod file;
pub mod guard;
pub mod model;
pub mod validate;
pub mod write;
pub mod yaml_out;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use build::{Flags, HostInput, build};
pub use model::*;
pub use validate::{ValidatedHost, ValidatedOp, ValidatedPlan, load_and_validate};

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

/// Record `plan` (every operation, active or not) in the journal as made by
/// `run`, to be written to `out`; returns its id and the file text, whose
/// hash the journal keeps.
pub fn record(
    journal: &mut Journal,
    run: RunId,
    plan: &Plan,
    out: &Path,
) -> Result<(PlanId, String), JournalError> {
    let new = NewPlan {
        run_id: run,
        path: out.display().to_string(),
        playbook_sha256: plan.settings.playbook_sha256.clone(),
        settings: serde_json::to_string(&plan.settings).map_err(|e| JournalError::Corrupt {
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
                        op: serde_json::to_string(&i.op).unwrap_or_default(),
                        rules: i.rules.clone(),
                        why: i.why.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    journal.record_plan(&new, |id| write::render(plan, id))
}
