//! `cauterize status`: the engagement at a glance from its journal alone
//! (opened read-only: no lock, so it works while an operation runs in
//! another process), rendered by [`crate::report::status_view`].
//!
//! Exit code: 0 shown; 1 no journal in the folder, or bad flags.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;

use crate::cli::StatusArgs;
use crate::journal::Journal;
use crate::report::status_view::{self, StatusInput};

/// Run `cauterize status`; returns the process exit code.
pub async fn run(args: &StatusArgs) -> anyhow::Result<i32> {
    if let Some(s) = &args.state
        && crate::engine::HostState::parse(&s.to_lowercase()).is_none()
    {
        anyhow::bail!(
            "--state {s}: not a host state; one of pending, refused, unreached, contained, not_contained, purged, purge_failed, reboot_asked, rebooted, reboot_failed, clean, dirty, needs_person, released"
        );
    }
    let journal = open(&args.engagement.engagement)?;
    let input = read(&journal)?;
    let status = status_view::build(&input, args.host.as_deref(), args.state.as_deref());
    if args.json {
        crate::report::emit::stdout_line(&serde_json::to_string(&status)?);
    } else {
        crate::report::emit::stdout_text(&status_view::render_text(&status));
    }
    Ok(crate::exit::OK)
}

/// The engagement folder's journal, opened read-only (no lock), or an
/// error that says what to give instead.
pub fn open(dir: &std::path::Path) -> anyhow::Result<Journal> {
    if !dir.join(crate::journal::FILE_NAME).exists() {
        anyhow::bail!(
            "{} holds no journal ({}): give the engagement folder of a scan or an operation with --engagement DIR",
            dir.display(),
            crate::journal::FILE_NAME
        );
    }
    Journal::open_read_only(dir).with_context(|| format!("cannot read the journal in {}", dir.display()))
}

/// Everything `status` shows, read in one pass over the journal.
pub fn read(journal: &Journal) -> anyhow::Result<StatusInput> {
    let Some(op) = journal.latest_operation()? else {
        return Ok(StatusInput::default());
    };
    let sections = match op.plan_id {
        Some(id) => Some(plan_settings(journal, id)?),
        None => None,
    };
    let (mut findings, mut not_acted_on) = (HashMap::new(), HashMap::new());
    for (host, snapshot) in journal.latest_snapshot_ids()? {
        let mut to_act = 0;
        let mut others: BTreeMap<&'static str, usize> = BTreeMap::new();
        for f in journal.findings_of(snapshot)? {
            match sections.as_ref().map(|s| crate::plan::acts_on(&f, s, &host)) {
                Some(Err(why)) => *others.entry(why.label()).or_default() += 1,
                // Without a plan, every finding counts.
                Some(Ok(())) | None => to_act += 1,
            }
        }
        let key = host.to_lowercase();
        findings.insert(key.clone(), to_act);
        if !others.is_empty() {
            not_acted_on.insert(key, others);
        }
    }
    let mut last_poll = HashMap::new();
    for e in journal.operation_events(op.id)? {
        let (Some(host), "observed") = (&e.host, e.kind.as_str()) else { continue };
        let what = serde_json::from_str::<serde_json::Value>(&e.message)
            .ok()
            .and_then(|v| v["what"].as_str().map(str::to_string));
        if let Some(what) = what.filter(|w| crate::engine::watch::read_poll(w).is_some()) {
            // Rows come in journal order: the last one stays.
            last_poll.insert(host.to_lowercase(), what);
        }
    }
    Ok(StatusInput {
        last_poll,
        hosts: journal.operation_hosts(op.id)?,
        actions: journal.operation_actions(op.id)?,
        accepted: journal.accepted_hosts(op.id)?.into_iter().map(|h| h.to_lowercase()).collect(),
        sources: journal.sources(op.id)?,
        findings,
        not_acted_on,
        operation: Some(op),
    })
}

/// The effective settings (playbook and operator flags) plan `id` was
/// made with: what its purge acts on.
fn plan_settings(journal: &Journal, id: crate::journal::PlanId) -> anyhow::Result<crate::playbook::Sections> {
    let plan = journal.plan(id)?.with_context(|| format!("the journal names plan {id} for its operation but does not hold it"))?;
    let head: crate::plan::PlanHead =
        serde_json::from_str(&plan.settings).with_context(|| format!("the journal's settings of plan {id} cannot be read"))?;
    Ok(head.settings.effective)
}
