//! The network judged as a whole, not host by host: one host's evidence
//! explains another's in an outbreak (the same payload hash on forty
//! hosts, the same task shape, the same launcher and export). Pure logic
//! over every host's latest snapshot and per-host findings; [`pass`] is
//! the thin layer that reads them from the journal and records the result.
//!
//! - [`units`]: each host reduced to what the fleet may judge (unsigned
//!   autostarts with their files, files nothing starts, registry data),
//!   with hashes, shapes and the per-host verdicts. Signed files,
//!   launchers, installed products and allow-listed items are left out
//!   there, once.
//! - [`shape`]: the shapes of names and paths that survive a loader's
//!   random draws.
//! - [`propagate`]: hash propagation from what the rules are sure of.
//! - [`cluster`]: cluster lift of autostarts sharing a sure one's shape.
//! - [`judge`]: both, in order, turned into findings for the planner.
//! - [`stack`]: stacking (Kansa's frequency analysis) and the rare
//!   unexplained autostarts listed in the plan for review.
//! - [`lateral`]: lateral movement as evidence (the event logs the
//!   runtime reads), ordered and linked across hosts, cauterize's own
//!   logons told apart.
//! - [`operator`]: the operator's address as a host sees it, from the
//!   host's record of cauterize's own WinRM logon.
//! - [`ties`]: lateral copies in `C:\Windows` tied by the host's record
//!   of the service a suspect source installed to run them (the one file
//!   there a plan deletes, naming that service for the host to check).
//! - [`holds`]: which unlisted sources hold the release of containment,
//!   and how each is resolved (scanned as an inventory host, or accepted
//!   by the operator).
//! - [`pass`]: the passes over the journal (`scan` and the operation
//!   engine call [`pass::judge_journal`], which also links the hosts'
//!   lateral movement; `stack` and `plan` call
//!   [`pass::stack_journal`]).
//!
//! Prevalence alone is never malice: real software is everywhere too. The
//! fleet only spreads what a rule (or the operator's hash list) is sure
//! of, and only to what the same hash or shape explains.

pub mod cluster;
pub mod holds;
pub mod judge;
pub mod lateral;
pub mod operator;
pub mod pass;
pub mod propagate;
pub mod shape;
pub mod stack;
pub mod ties;
pub mod units;

use serde::Serialize;

/// Rule ids of the fleet's findings start with this (and rules' never do).
pub const RULE_PREFIX: &str = "FLEET-";
/// Rule id of a finding made by hash propagation.
pub const RULE_HASH: &str = "FLEET-HASH-PROPAGATION";
/// Rule id of a finding made by cluster lift.
pub const RULE_SHAPE: &str = "FLEET-CLUSTER-LIFT";
/// Rule id of a lateral copy tied by a recorded service install
/// ([`ties`]).
pub const RULE_LATERAL_COPY: &str = "FLEET-LATERAL-COPY";

/// What made a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A per-host rule (or the operator's hash list).
    Rule,
    HashPropagation,
    ClusterLift,
}

impl Source {
    /// The source of a finding, by its rule id.
    pub fn of(rule_id: &str) -> Source {
        match rule_id {
            RULE_HASH => Source::HashPropagation,
            RULE_SHAPE => Source::ClusterLift,
            _ => Source::Rule,
        }
    }

    /// How reports name it.
    pub fn label(self) -> &'static str {
        match self {
            Source::Rule => "rule",
            Source::HashPropagation => "hash propagation",
            Source::ClusterLift => "cluster lift",
        }
    }
}
