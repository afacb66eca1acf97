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
use super::lateral::{self, HostEvent, Lateral};
use super::stack::{By, Stack, Stacker};
use super::ties;
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
    /// Lateral movement the hosts' event logs show, linked across hosts.
    pub lateral: Lateral,
}

/// Judge every host's latest scan together and record the fleet's
/// findings (replacing those of an earlier pass on the same snapshots).
pub fn judge_journal(journal: &mut Journal) -> Result<FleetOutcome, JournalError> {
    let mut hosts: Vec<HostUnits> = Vec::new();
    let mut link = context_of(journal)?;
    let mut logged: Vec<(String, Vec<crate::runtime::snapshot::LoggedEvent>)> = Vec::new();
    let mut untied: Vec<ties::Untied> = Vec::new();
    journal.each_latest_scan(None, |scan| {
        hosts.push(units::of_host(&scan.host, scan.snapshot_id, &scan.snapshot, &scan.findings));
        untied.extend(scan.findings.iter().filter(|f| f.rule_id == ties::UNTIED_RULE && f.allowlisted.is_none()).filter_map(|f| {
            match &f.artifact {
                crate::detect::ArtifactRef::File { path } => Some(ties::Untied {
                    host: scan.host.clone(),
                    computer_name: scan.snapshot.computer_name.clone(),
                    snapshot_id: scan.snapshot_id,
                    path: path.clone(),
                }),
                _ => None,
            }
        }));
        lateral_inputs(&mut link, &mut logged, scan);
        Ok(())
    })?;
    let judgement = judge::judge(&hosts);
    let mut found = judgement.findings(&hosts);
    for (host, _, fs) in &found {
        if fs.iter().any(|f| f.confidence() == crate::detect::Confidence::High && f.allowlisted.is_none()) {
            link.infected.insert(host.clone(), None);
        }
    }
    // Only now is every operator address known: keep what can link.
    let events: Vec<HostEvent> = logged.iter().flat_map(|(h, e)| lateral::linkable(h, e, &link)).collect();
    let lateral = lateral::link(&events, &link);
    // Copies in C:\Windows the hosts' records tie to a suspect install.
    for (host, sid, f) in ties::tie(&lateral, &untied) {
        match found.iter_mut().find(|(h, s, _)| *h == host && *s == sid) {
            Some((_, _, fs)) => fs.push(f),
            None => found.push((host, sid, vec![f])),
        }
    }
    let rows: Vec<_> = found.iter().map(|(_, sid, f)| (*sid, f.clone())).collect();
    journal.replace_latest_findings(RULE_PREFIX, &rows)?;
    Ok(FleetOutcome {
        hosts: hosts.len(),
        counts: judgement.counts(),
        findings: found.into_iter().map(|(h, _, f)| (h, f)).collect(),
        lateral,
    })
}

/// The lateral movement of the latest scans (linked as [`judge_journal`]
/// links it, without judging or writing anything), and the inventory's
/// hosts by address (`inventory`: name and address; hosts with a scan are
/// known by the address they were scanned at): what the release's review
/// of unlisted sources needs ([`super::holds::review`]).
pub fn sources_of_journal(
    journal: &Journal,
    inventory: &[(String, String)],
) -> Result<(Lateral, std::collections::HashMap<String, super::holds::ListedHost>), JournalError> {
    let mut link = context_of(journal)?;
    let mut logged = Vec::new();
    let mut listed = std::collections::HashMap::new();
    for (host, address) in inventory {
        if let Some(a) = lateral::normal_address(address) {
            listed.insert(a, super::holds::ListedHost { host: host.clone(), scanned: false, infected: false });
        }
    }
    journal.each_latest_scan(None, |scan| {
        if let Some(a) = lateral::normal_address(&scan.address) {
            let infected = scan.findings.iter().any(|f| f.confidence == crate::detect::Confidence::High && f.allowlisted.is_none());
            listed.insert(a, super::holds::ListedHost { host: scan.host.clone(), scanned: true, infected });
        }
        lateral_inputs(&mut link, &mut logged, scan);
        Ok(())
    })?;
    let events: Vec<HostEvent> = logged.iter().flat_map(|(h, e)| lateral::linkable(h, e, &link)).collect();
    Ok((lateral::link(&events, &link), listed))
}

/// Linking's context before the hosts are read: the default window and
/// every address a scan of the engagement found the operator at (not only
/// the latest scans': the hosts' logs keep cauterize's logons from an
/// address it worked from before an operation resumed from another).
fn context_of(journal: &Journal) -> Result<lateral::Context, JournalError> {
    let mut link = lateral::Context { window_secs: lateral::DEFAULT_WINDOW_SECS, ..lateral::Context::default() };
    link.operator.extend(journal.operator_addresses()?.iter().filter_map(|a| lateral::normal_address(a)));
    Ok(link)
}

/// What linking needs of one host's latest scan: its address, the
/// operator's address as it sees it, its clock's skew, whether a rule found
/// it infected, and its events (installs and remote logons only, the
/// operator's dropped).
fn lateral_inputs(
    link: &mut lateral::Context,
    logged: &mut Vec<(String, Vec<crate::runtime::snapshot::LoggedEvent>)>,
    scan: crate::journal::LatestScan,
) {
    let s = &scan.snapshot;
    if let Some(a) = lateral::normal_address(&scan.address) {
        link.addresses.insert(a, scan.host.clone());
    }
    if let Some(a) = lateral::normal_address(&s.operator_address) {
        link.operator.insert(a);
    }
    if let Some(ms) = s.clock_skew_ms {
        link.skew_secs.insert(scan.host.clone(), ms as f64 / 1000.0);
    }
    if scan.findings.iter().any(|f| f.confidence == crate::detect::Confidence::High && f.allowlisted.is_none()) {
        link.infected.insert(scan.host.clone(), None);
    }
    if !s.events.is_empty() {
        let events = lateral::linkable_events(&s.events, link).cloned().collect();
        logged.push((scan.host, events));
    }
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
