//! `cauterize plan`: parses its flags and lets the engine plan
//! ([`crate::engine::planning`]): from the latest scan of each inventory
//! host in the journal (hosts never scanned, or every host with
//! `--rescan`, are scanned first, read-only, and the fleet judged again),
//! the whole inventory (exempt hosts keep SMB whether they are planned or
//! not; their DNS names are resolved), the playbook and the flags, the plan
//! file for review (rare autostarts nothing explains, across every scanned
//! host, listed under `review:`), recorded in the journal (every step, the
//! file's hash); then its summary.
//!
//! Exit code: 0 every host planned; 2 some hosts have no scan to plan from;
//! 3 none has; 1 bad input (playbook, inventory, existing output), or a
//! plan that cannot stand (an exempt host whose address is unknown).

use crate::cli::PlanArgs;
use crate::detect::Confidence;
use crate::engine::planning::{PlanJob, make_plan};
use crate::journal::{self, Journal};
use crate::plan::Flags;
use crate::report::plan_view;
use anyhow::bail;
use std::sync::Arc;

/// Run `cauterize plan`; returns the process exit code.
pub async fn run(args: &PlanArgs) -> anyhow::Result<i32> {
    let playbook = crate::playbook::load_or_default(args.playbook.as_ref())?;
    let flags = flags(args.activate.as_deref());
    if args.output.exists() && !args.force {
        bail!(
            "{} exists and may hold your edits; choose another -o FILE, or add --force to overwrite it",
            args.output.display()
        );
    }
    let inventory = crate::inventory::load(&args.scope.target.inventory, args.scope.target.limit.as_deref())?;
    let names: Vec<String> = inventory.hosts.iter().map(|h| h.name.clone()).collect();
    if names.is_empty() {
        bail!("the inventory {} has no hosts to plan for", args.scope.target.inventory.display());
    }
    let dir = &args.scope.engagement.engagement;
    let mut journal = Journal::open(dir)?;
    let run = journal.begin_run("plan", &journal::argv::current())?;
    let emitter = super::exec::progress_emitter(&args.scope.run, &[]);
    let ticker = emitter.start_ticker();
    let (target, run_args, detect) = (args.scope.target.clone(), args.scope.run.clone(), args.detect.clone());
    let prepare: crate::engine::planning::Prepare<'_> = Box::new(move |hosts: &[String]| {
        let ctx = Arc::new(super::scan::detect_context(&detect)?);
        let mut target = target;
        target.limit = Some(hosts.join(","));
        let prepared = super::exec::prepare_targets(&target, &run_args)?;
        Ok((prepared.hosts, ctx))
    });
    let job = PlanJob {
        engagement: dir,
        inventory: &args.scope.target.inventory,
        hosts: names.clone(),
        rescan: args.rescan,
        playbook: &playbook,
        flags: &flags,
        output: &args.output,
        forks: args.scope.run.forks as usize,
        rare_percent: args.rare.rare_percent,
    };
    let cancel = crate::transport::interrupt::watch_ctrl_c();
    let (mut journal, planned) = make_plan(job, journal, run, prepare, Arc::clone(&emitter), cancel).await?;
    drop(ticker);
    emitter.finish();

    if args.scope.run.json {
        for line in plan_view::json_lines(&planned.plan) {
            crate::report::emit::stdout_line(&line);
        }
    } else {
        crate::report::emit::stdout_text(&plan_view::render_text(&planned.plan));
    }
    let code = if planned.interrupted {
        crate::exit::INTERRUPTED
    } else {
        crate::exit::for_outcome(names.len(), planned.plan.unscanned.len())
    };
    journal.end_run(run, code)?;
    eprintln!(
        "plan {} written to {} (sha256 {}); review it, and delete a line to skip a step",
        planned.plan_id,
        args.output.display(),
        &journal::sha256_hex(planned.text.as_bytes())[..16]
    );
    eprintln!("journal: {} (run {run})", dir.join(journal::FILE_NAME).display());
    Ok(code)
}

/// The planner's flags from `--activate`.
pub(crate) fn flags(activate: Option<&str>) -> Flags {
    Flags {
        activate: match activate {
            Some("medium") => Some(Confidence::Medium),
            Some("high") => Some(Confidence::High),
            _ => None,
        },
    }
}
