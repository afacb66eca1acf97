//! Planning: from the latest scan of each host in the journal (hosts never
//! scanned, or all of them with a rescan, are scanned first), the playbook
//! and the operator's flags, the plan: recorded in the journal (every
//! operation, the file's hash) and written to its file for review (through
//! a temporary file and a rename: never half a plan). Hosts are planned one
//! at a time from the journal, so only one snapshot is in memory at once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::event::{Event, Level};
use crate::detect::DetectContext;
use crate::journal::{Journal, JournalHandle, PlanId, RunId};
use crate::plan::{self, Flags, HostInput, Plan, Unscanned};
use crate::playbook::Playbook;
use crate::transport::{HostTarget, Refusal};

/// What to plan.
pub struct PlanJob<'a> {
    pub engagement: &'a Path,
    /// The inventory's hosts (after `--limit`).
    pub hosts: Vec<String>,
    /// Scan every host first, not only those without a scan.
    pub rescan: bool,
    pub playbook: &'a Playbook,
    pub flags: &'a Flags,
    /// The plan file to write.
    pub output: &'a Path,
    pub forks: usize,
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
        let report = super::scan::scan_all(targets, ctx, handle, run, job.forks, cancel, Arc::clone(&emitter), |_| {}).await;
        interrupted = report.interrupted;
        journal = Journal::open(job.engagement)?;
    }
    let planned = plan_from_journal(&mut journal, run, &job)?;
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
fn plan_from_journal(journal: &mut Journal, run: RunId, job: &PlanJob<'_>) -> anyhow::Result<(Plan, String, PlanId)> {
    let failures: HashMap<String, String> = journal
        .last_failures()?
        .into_iter()
        .map(|f| (f.host.to_lowercase(), format!("{}: {}", f.kind, f.error)))
        .collect();
    let mut plan = Plan {
        settings: plan::build::settings(job.playbook, job.flags),
        hosts: Vec::new(),
        unscanned: Vec::new(),
    };
    let mut scanned = HashSet::new();
    journal.each_latest_scan(Some(&job.hosts), |scan| {
        scanned.insert(scan.host.to_lowercase());
        let mut one = plan::build(&[HostInput::from(&scan)], Vec::new(), job.playbook, job.flags);
        plan.hosts.append(&mut one.hosts);
        Ok(())
    })?;
    plan.unscanned = job
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
    let (plan_id, text) = plan::record(journal, run, &plan, job.output)?;
    Ok((plan, text, plan_id))
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
