//! `cauterize plan`: from the latest scan of each inventory host in the
//! engagement's journal (hosts never scanned, or every host with
//! `--rescan`, are scanned first, read-only, and the fleet judged again),
//! the playbook and the flags, write the plan file for review (rare
//! unexplained autostarts listed for review), record it (every operation, the file's
//! hash) in the journal, and print a per-host summary.
//!
//! Exit code: 0 every host planned; 2 some hosts have no scan to plan from;
//! 3 none has; 1 bad input (playbook, inventory, existing output).

use crate::cli::PlanArgs;
use crate::detect::Confidence;
use crate::journal::{self, Journal, JournalHandle};
use crate::plan::{self, Flags, HostInput, Unscanned};
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
    let mut plan = plan::build(&inputs, unscanned, &playbook, &flags);
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
        "plan {plan_id} written to {} (sha256 {}); review it, and delete a line to spare an artifact",
        args.output.display(),
        &journal::sha256_hex(text.as_bytes())[..16]
    );
    eprintln!(
        "journal: {} (run {run})",
        dir.join(journal::FILE_NAME).display()
    );
    Ok(code)
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
