//! `cauterize plan`: from the latest scan of each inventory host in the
//! engagement's journal (hosts never scanned, or every host with
//! `--rescan`, are scanned first, read-only, and the fleet judged again),
//! the whole inventory (exempt hosts keep SMB whether they are planned or
//! not; their DNS names are resolved here), the playbook and the flags,
//! write the plan file for review (rare autostarts nothing explains, across
//! every scanned host, listed under `review:`), record it (every step, the
//! file's hash) in the journal, and print its summary.
//!
//! Exit code: 0 every host planned; 2 some hosts have no scan to plan from;
//! 3 none has; 1 bad input (playbook, inventory, existing output), or a
//! plan that cannot stand (an exempt host whose address is unknown).

use crate::cli::PlanArgs;
use crate::detect::Confidence;
use crate::journal::{self, Journal, JournalHandle};
use crate::firewall::EngagementId;
use crate::plan::{self, FleetHost, Flags, HostInput, Unscanned};
use crate::report::plan_view;
use crate::report::progress::{self, Progress};
use anyhow::{Context, bail};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Run `cauterize plan`; returns the process exit code.
pub async fn run(args: &PlanArgs) -> anyhow::Result<i32> {
    let playbook = crate::playbook::load_or_default(args.playbook.as_ref())?;
    let flags = Flags {
        activate: match args.activate.as_deref() {
            Some("medium") => Some(Confidence::Medium),
            Some("high") => Some(Confidence::High),
            _ => None,
        },
    };
    if args.output.exists() && !args.force {
        bail!(
            "{} exists and may hold your edits; choose another -o FILE, or add --force to overwrite it",
            args.output.display()
        );
    }
    let inventory = crate::inventory::load(&args.target.inventory, args.target.limit.as_deref())?;
    let names: Vec<String> = inventory.hosts.iter().map(|h| h.name.clone()).collect();
    if names.is_empty() {
        bail!(
            "the inventory {} has no hosts to plan for",
            args.target.inventory.display()
        );
    }
    let dir = &args.engagement.engagement;
    let mut journal = Journal::open(dir)?;
    let argv = journal::argv::current();
    let run = journal.begin_run("plan", &argv)?;

    // Scan what has no scan yet (or everything with --rescan).
    let have = journal.latest_snapshot_ids()?;
    let to_scan: Vec<&String> = names
        .iter()
        .filter(|n| args.rescan || !have.contains_key(&n.to_lowercase()))
        .collect();
    let mut interrupted = false;
    if !to_scan.is_empty() {
        eprintln!(
            "scanning {} host{} first ({})",
            to_scan.len(),
            if to_scan.len() == 1 { "" } else { "s" },
            if args.rescan {
                "--rescan"
            } else {
                "no scan in the journal yet"
            }
        );
        let ctx = Arc::new(super::scan::detect_context(&args.detect)?);
        let mut target = args.target.clone();
        target.limit = Some(
            to_scan
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        let prepared = super::exec::prepare_targets(&target, &args.run)?;
        let handle = JournalHandle::spawn(journal)?;
        let mut bar = Progress::new(
            prepared.hosts.len(),
            progress::wanted(args.run.no_progress, args.run.json),
            "scan",
        );
        let cancel = crate::transport::interrupt::watch_ctrl_c();
        let report = super::scan::scan_all(
            prepared.hosts,
            ctx,
            handle.clone(),
            run,
            args.run.forks as usize,
            cancel,
            |o| {
                bar.record(o.failure().is_none());
            },
        )
        .await;
        bar.finish();
        interrupted = report.interrupted;
        drop(handle);
        journal = Journal::open(dir)?;
        // The network is judged again with the new scans in it.
        crate::fleet::pass::judge_journal(&mut journal)?;
    }

    let scans = journal.latest_scans(Some(&names))?;
    let scanned: HashSet<String> = scans.iter().map(|s| s.host.to_lowercase()).collect();
    let failures: HashMap<String, String> = journal
        .last_failures()?
        .into_iter()
        .map(|f| (f.host.to_lowercase(), format!("{}: {}", f.kind, f.error)))
        .collect();
    let unscanned: Vec<Unscanned> = names
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
    let inputs: Vec<HostInput<'_>> = scans.iter().map(HostInput::from).collect();
    let context = context(&journal, &args.target.inventory, &inputs, &playbook).await?;
    let mut plan = plan::build_with(&context, &inputs, unscanned, &playbook, &flags);
    if !plan.problems.is_empty() {
        journal.end_run(run, crate::exit::USAGE)?;
        bail!(
            "the plan cannot stand as it is, so it was not written:\n  {}",
            plan.problems.join("\n  ")
        );
    }
    // Rare unexplained autostarts, rare across every scanned host.
    let stack = crate::fleet::pass::stack_journal(&journal, crate::fleet::stack::By::Autostart, args.rare.rare_percent)?;
    plan.add_reviews(&stack.reviews);
    let (plan_id, text) = plan::record(&mut journal, run, &plan, &args.output)?;
    write_file(&args.output, &text)?;

    if args.run.json {
        for line in plan_view::json_lines(&plan) {
            crate::report::emit::stdout_line(&line);
        }
    } else {
        crate::report::emit::stdout_text(&plan_view::render_text(&plan));
    }
    let code = if interrupted {
        crate::exit::INTERRUPTED
    } else {
        crate::exit::for_outcome(names.len(), plan.unscanned.len())
    };
    journal.end_run(run, code)?;
    eprintln!(
        "plan {plan_id} written to {} (sha256 {}); review it, and delete a line to skip a step",
        args.output.display(),
        &journal::sha256_hex(text.as_bytes())[..16]
    );
    eprintln!(
        "journal: {} (run {run})",
        dir.join(journal::FILE_NAME).display()
    );
    Ok(code)
}

/// The engagement (its id, from the journal's first run) and every host of
/// the inventory, not only the limited ones, with the DNS names of exempt
/// hosts resolved.
async fn context(
    journal: &Journal,
    inventory: &Path,
    inputs: &[HostInput<'_>],
    playbook: &crate::playbook::Playbook,
) -> anyhow::Result<plan::Context> {
    let first = journal.runs()?.into_iter().next().context("the journal has no run")?;
    let engagement = EngagementId::derive(&first.started_at, &first.operator);
    let whole = crate::inventory::load(inventory, None)?;
    let mut fleet: Vec<FleetHost> = whole.hosts.iter().map(FleetHost::from_inventory).collect();
    let snapshots = inputs
        .iter()
        .map(|h| (h.host.to_lowercase(), h.snapshot))
        .collect();
    let decisions = plan::contain::decide(&fleet, &snapshots, playbook, engagement.clone());
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
            let found = tokio::time::timeout(std::time::Duration::from_secs(10), tokio::net::lookup_host((name.as_str(), 0))).await;
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
fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!(
            "cannot write the plan to {} (is the folder writable?)",
            path.display()
        )
    })
}
