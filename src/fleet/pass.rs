//! The fleet's passes over the journal: the thin I/O around the pure
//! judgement. Each walks every host's latest snapshot once, one at a time
//! ([`Journal::each_latest_scan`]), keeping only the small per-host
//! summary ([`super::units`], the stack's counts), so a pass over 10,000
//! hosts holds one snapshot at a time.
//!
//! [`judge_journal`] runs after a scan of all hosts, and again after the
//! post-boot scans of an operation: it judges the network and replaces the
//! fleet findings of every host's latest snapshot in the journal, where
//! `plan` and reports read them like any rule's.

use super::judge::{self, Counts};
use super::stack::{By, Stack, Stacker};
use super::units::{self, HostUnits};
use super::RULE_PREFIX;
use crate::detect::Finding;
use crate::journal::{Journal, JournalError};

/// What one pass of the fleet's judgement found and recorded.
#[derive(Debug, Clone, Default)]
pub struct FleetOutcome {
    /// Hosts with a snapshot, judged together.
    pub hosts: usize,
    pub counts: Counts,
    /// Per host (inventory name) with any: the fleet's findings.
    pub findings: Vec<(String, Vec<Finding>)>,
}

/// Judge every host's latest scan together and record the fleet's
/// findings (replacing those of an earlier pass on the same snapshots).
pub fn judge_journal(journal: &mut Journal) -> Result<FleetOutcome, JournalError> {
    let mut hosts: Vec<HostUnits> = Vec::new();
    journal.each_latest_scan(None, |scan| {
        hosts.push(units::of_host(&scan.host, scan.snapshot_id, &scan.snapshot, &scan.findings));
        Ok(())
    })?;
    let judgement = judge::judge(&hosts);
    let found = judgement.findings(&hosts);
    let rows: Vec<_> = found.iter().map(|(_, sid, f)| (*sid, f.clone())).collect();
    journal.replace_latest_findings(RULE_PREFIX, &rows)?;
    Ok(FleetOutcome {
        hosts: hosts.len(),
        counts: judgement.counts(),
        findings: found.into_iter().map(|(h, _, f)| (h, f)).collect(),
    })
}

/// Stack every host's latest autostarts by `by`; rare unexplained ones
/// (at most `rare_percent` of the hosts) become review items when `by` is
/// [`By::Autostart`].
pub fn stack_journal(journal: &Journal, by: By, rare_percent: u32) -> Result<Stack, JournalError> {
    let mut stacker = Stacker::new(by);
    journal.each_latest_scan(None, |scan| {
        stacker.add_host(&scan.host, &scan.snapshot, &scan.findings);
        Ok(())
    })?;
    Ok(stacker.finish(rare_percent))
}
