//! Planning: from the latest scan of each host in the journal (hosts never
//! scanned, or all of them with a rescan, are scanned first), the playbook
//! and the operator's flags, the plan: recorded in the journal (every
//! operation, the file's hash) and written to its file for review (through
//! a temporary file and a rename: never half a plan). The whole inventory
//! is in the containment plan; the reboot waves span every planned host.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::event::{Event, Level};
use crate::detect::DetectContext;
use crate::journal::{Journal, JournalHandle, PlanId, RunId};
use crate::firewall::EngagementId;
use crate::plan::ScanFacts;
use crate::plan::{self, FleetHost, Flags, HostInput, HostPart, Plan, Unscanned};
use crate::playbook::Playbook;
use crate::transport::{HostTarget, Refusal};

/// What to plan.
pub struct PlanJob<'a> {
    pub engagement: &'a Path,
    /// The inventory file: every host of it, not only the planned ones,
    /// is in the containment plan (an exempt host keeps SMB whether it is
    /// planned or not).
    pub inventory: &'a Path,
    /// The inventory's hosts (after `--limit`).
    pub hosts: Vec<String>,
    /// Scan every host first, not only those without a scan.
    pub rescan: bool,
    pub playbook: &'a Playbook,
    pub flags: &'a Flags,
    /// The plan file to write.
    pub output: &'a Path,
    pub forks: usize,
    /// An unexplained autostart on at most this share of the scanned hosts
    /// is listed for review in the plan.
    pub rare_percent: u32,
}

/// A plan made.
#[derive(Debug)]
pub struct Planned {
    pub plan: Plan,
    pub plan_id: PlanId,
    /// The file's text (its hash is in the journal).
    pub text: String,
    /// The scan before it was interrupted (Ctrl-C).
    pub interrupted: bool,
}

/// The hosts to scan and what detection is told, asked for only when
/// some host needs a scan (preparing them may prompt for passwords).
pub type Prepare<'a> = Box<dyn FnOnce(&[String]) -> anyhow::Result<(Vec<Result<HostTarget, Refusal>>, Arc<DetectContext>)> + 'a>;

/// Scan what needs it, plan, record and write the plan. `journal` is the
/// engagement's, with `run` begun; it comes back (reopened after a scan).
pub async fn make_plan(
    job: PlanJob<'_>,
    mut journal: Journal,
    run: RunId,
    prepare: Prepare<'_>,
    emitter: Arc<Emitter>,
    cancel: CancellationToken,
) -> anyhow::Result<(Journal, Planned)> {
    let have = journal.latest_snapshot_ids()?;
    let to_scan: Vec<String> = job
        .hosts
        .iter()
        .filter(|n| job.rescan || !have.contains_key(&n.to_lowercase()))
        .cloned()
        .collect();
    let mut interrupted = false;
    if !to_scan.is_empty() {
        emitter.show(&Event::Message {
            level: Level::Info,
            host: None,
            text: format!(
                "scanning {} host{} first ({})",
                to_scan.len(),
                if to_scan.len() == 1 { "" } else { "s" },
                if job.rescan { "a fresh scan of every host" } else { "no scan in the journal yet" }
            ),
        });
        let (targets, ctx) = prepare(&to_scan)?;
        let handle = JournalHandle::spawn(journal)?;
        let report = super::scan::scan_all(targets, super::scan::Keep::Outcome, ctx, handle, run, job.forks, cancel, Arc::clone(&emitter), |_| {}).await;
        interrupted = report.interrupted;
        journal = Journal::open(job.engagement)?;
        // The network is judged again with the new scans in it.
        crate::fleet::pass::judge_journal(&mut journal)?;
    }
    let planned = plan_from_journal(&mut journal, run, &job).await?;
    write_file(job.output, &planned.1)?;
    Ok((
        journal,
        Planned {
            plan: planned.0,
            plan_id: planned.2,
            text: planned.1,
            interrupted,
        },
    ))
}

/// Build, record and render the plan of `job.hosts` from the journal.
/// The hosts' latest scans are read one at a time, each planned and let
/// go ([`plan::HostPart`]); the reboot waves and the exempt set span every
/// host, from what those parts keep.
async fn plan_from_journal(journal: &mut Journal, run: RunId, job: &PlanJob<'_>) -> anyhow::Result<(Plan, String, PlanId)> {
    let failures: HashMap<String, String> = journal
        .last_failures()?
        .into_iter()
        .map(|f| (f.host.to_lowercase(), format!("{}: {}", f.kind, f.error)))
        .collect();
    // What a suspect source installed when it reached a host (7045, 4698,
    // 106), and the files created on the host then, whatever the rules
    // said of them.
    let (lateral, _) = crate::fleet::pass::sources_of_journal(journal, &[])?;
    let mut installed: std::collections::BTreeMap<String, Vec<plan::ReviewItem>> = crate::fleet::lateral::installed_on_reach(&lateral)
        .into_iter()
        .map(|(host, items)| (host, items.into_iter().map(|(what, why)| plan::ReviewItem { what, why, reached: true }).collect()))
        .collect();
    let mut parts: Vec<HostPart> = Vec::new();
    journal.each_latest_scan(Some(&job.hosts), |scan| {
        parts.push(HostPart::of(&HostInput::from(&scan), job.playbook, job.flags));
        let files: Vec<(String, String)> =
            scan.snapshot.files.iter().filter(|f| f.exists && !f.is_dir).map(|f| (f.path.clone(), f.created.clone())).collect();
        let skew = scan.snapshot.clock_skew_ms.map_or(0.0, |ms| ms as f64 / 1000.0);
        let created = crate::fleet::lateral::created_on_reach(&lateral, &scan.host, &files, skew, crate::fleet::lateral::DEFAULT_WINDOW_SECS);
        if !created.is_empty() {
            let items = installed.entry(scan.host.clone()).or_default();
            items.extend(created.into_iter().map(|(what, why)| plan::ReviewItem { what, why, reached: true }));
        }
        Ok(())
    })?;
    let scanned: HashSet<String> = parts.iter().map(|p| p.host().to_lowercase()).collect();
    let unscanned: Vec<Unscanned> = job
        .hosts
        .iter()
        .filter(|n| !scanned.contains(&n.to_lowercase()))
        .map(|n| Unscanned {
            host: n.clone(),
            why: failures
                .get(&n.to_lowercase())
                .cloned()
                .unwrap_or_else(|| "never scanned".into()),
        })
        .collect();
    let scans: HashMap<String, &ScanFacts> = parts.iter().map(|p| (p.host().to_lowercase(), p.scan())).collect();
    let context = context(journal, job.inventory, &scans, job.playbook).await?;
    drop(scans);
    let mut plan = plan::build_from(&context, parts, unscanned, job.playbook, job.flags);
    if !plan.problems.is_empty() {
        journal.end_run(run, crate::exit::USAGE)?;
        anyhow::bail!(
            "the plan cannot stand as it is, so it was not written:\n  {}",
            plan.problems.join("\n  ")
        );
    }
    // Rare unexplained autostarts, rare across every scanned host.
    let stack = crate::fleet::pass::stack_journal(journal, crate::fleet::stack::By::Autostart, job.rare_percent)?;
    plan.add_reviews(&stack.reviews);
    plan.add_reviews(&installed);
    let (plan_id, text) = plan::record(journal, run, &plan, job.output)?;
    Ok((plan, text, plan_id))
}

/// The engagement of a journal: the id it was created with, which names
/// the rules and the dead-man on the hosts and which the report and status
/// show. A journal made before that id named the host artifacts (12 digits)
/// keeps the id its rules were made with: derived from its first run.
pub fn engagement(journal: &Journal) -> anyhow::Result<EngagementId> {
    if let Ok(id) = EngagementId::parse(&journal.engagement_id()?) {
        return Ok(id);
    }
    let first = journal.runs()?.into_iter().next().context("the journal has no run")?;
    Ok(EngagementId::derive(&first.started_at, &first.operator))
}

/// The engagement (its id, from the journal's first run) and every host of
/// the inventory, not only the limited ones, with the DNS names of exempt
/// hosts resolved (10 s each at most; unresolved, the plan refuses them).
async fn context(
    journal: &Journal,
    inventory: &Path,
    scans: &HashMap<String, &ScanFacts>,
    playbook: &Playbook,
) -> anyhow::Result<plan::Context> {
    let engagement = engagement(journal)?;
    let whole = crate::inventory::load(inventory, None)?;
    let mut fleet: Vec<FleetHost> = whole.hosts.iter().map(FleetHost::from_inventory).collect();
    let decisions = plan::contain::decide(&fleet, scans, playbook, engagement.clone());
    let unresolved: Vec<usize> = fleet
        .iter()
        .enumerate()
        .filter(|(_, h)| h.ips.is_empty() && !h.address.is_empty())
        .filter(|(_, h)| matches!(decisions.of(&h.name), Some((plan::ContainDecision::Exempt(_), _))))
        .map(|(i, _)| i)
        .collect();
    let lookups = unresolved.iter().map(|&i| {
        let name = fleet[i].address.clone();
        async move {
            let found = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                tokio::net::lookup_host((name.as_str(), 0)),
            )
            .await;
            match found {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect::<Vec<_>>(),
                _ => vec![],
            }
        }
    });
    let resolved = futures::future::join_all(lookups).await;
    for (i, mut ips) in unresolved.into_iter().zip(resolved) {
        ips.sort();
        ips.dedup();
        fleet[i].ips = ips;
    }
    Ok(plan::Context { engagement, fleet })
}

/// Write through a temporary file and a rename: never half a plan.
pub fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp: PathBuf = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the plan to {} (is the folder writable?)", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id that names rules and the dead-man on the hosts is the one the
    /// journal holds (and the report shows), the same at every call.
    #[test]
    fn the_engagement_naming_host_artifacts_is_the_journals_own_id() {
        let mut journal = Journal::open_in_memory().unwrap();
        journal.begin_run("apply", &[]).unwrap();
        let stored = journal.engagement_id().unwrap();
        assert_eq!(stored.len(), 8, "{stored}");
        let id = engagement(&journal).unwrap();
        assert_eq!(id.as_str(), stored);
        assert_eq!(engagement(&journal).unwrap(), id);
        assert!(id.rule_prefix().ends_with(&stored));
    }

    /// A journal made while the id was 12 digits keeps the id its rules
    /// were made with (derived from its first run), so a release after an
    /// upgrade still finds them.
    #[test]
    fn an_older_journal_keeps_the_id_its_rules_were_made_with() {
        let mut journal = Journal::open_in_memory().unwrap();
        journal.begin_run("apply", &[]).unwrap();
        journal.set_engagement_id_for_test("a1b2c3d4e5f6");
        let first = journal.runs().unwrap().into_iter().next().unwrap();
        assert_eq!(engagement(&journal).unwrap(), EngagementId::derive(&first.started_at, &first.operator));
    }
}
