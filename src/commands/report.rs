//! `cauterize report`: the engagement's latest operation as one
//! self-contained HTML page or JSON, read from the journal alone (opened
//! read-only like `status`, whose reading it extends), built by
//! [`crate::report::engagement_report`] and drawn by
//! [`crate::report::report_html`]. The file is written whole or not at all
//! (a temporary file renamed over it).
//!
//! Exit code: 0 written; 1 no journal, no operation in it, or the file
//! cannot be written.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{ReportArgs, ReportFormat};
use crate::journal::{Journal, StoredFinding};
use crate::report::engagement_report::{self, ReportInput};

/// Run `cauterize report`; returns the process exit code.
pub fn run(args: &ReportArgs) -> anyhow::Result<i32> {
    let dir = &args.engagement.engagement;
    let journal = super::status::open(dir)?;
    let input = read(&journal)?;
    if input.status.operation.is_none() {
        anyhow::bail!(
            "the journal in {} holds no operation yet: nothing to report; `cauterize apply PLAN` or `cauterize run` starts one",
            dir.display()
        );
    }
    let report = engagement_report::build(&input);
    let body = match args.format {
        ReportFormat::Html => crate::report::report_html::render(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    let default_name = match args.format {
        ReportFormat::Html => "report.html",
        ReportFormat::Json => "report.json",
    };
    let out = args.output.clone().unwrap_or_else(|| dir.join(default_name));
    if out.as_os_str() == "-" {
        crate::report::emit::stdout_text(&body);
        return Ok(crate::exit::OK);
    }
    write_whole(&out, body.as_bytes())?;
    eprintln!(
        "report of operation {} ({} host(s)) written to {}",
        report.status.operation.as_ref().map_or(0, |o| o.id),
        report.summary.hosts,
        out.display()
    );
    Ok(crate::exit::OK)
}

/// Everything the report shows, read from the journal.
fn read(journal: &Journal) -> anyhow::Result<ReportInput> {
    let status = super::status::read(journal)?;
    let Some(op) = &status.operation else {
        return Ok(ReportInput::default());
    };
    let op_id = op.id;
    // What each host's plan was made from; hosts outside the plan (or an
    // operation without one: contain, release) show their latest scan.
    let mut found: HashMap<String, Vec<StoredFinding>> = HashMap::new();
    if let Some(plan_id) = op.plan_id
        && let Some(plan) = journal.plan(plan_id)?
    {
        for h in &plan.hosts {
            found.insert(h.host.to_lowercase(), journal.findings_of(h.snapshot_id)?);
        }
    }
    let wanted: std::collections::HashSet<String> = status.hosts.iter().map(|h| h.host.to_lowercase()).collect();
    for (host, snapshot) in journal.latest_snapshot_ids()? {
        if wanted.contains(&host) && !found.contains_key(&host) {
            found.insert(host, journal.findings_of(snapshot)?);
        }
    }
    Ok(ReportInput {
        events: journal.operation_events(op_id)?,
        runs: journal.operation_runs(op_id)?,
        found,
        engagement_id: Some(crate::engine::planning::engagement(&journal)?.as_str().to_string()),
        generated_at: crate::report::clock::format_iso(std::time::SystemTime::now()),
        status,
    })
}

/// Write `bytes` to `path` whole: into a temporary file beside it, then
/// renamed over it, so a reader never sees half a report.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let what = || format!("cannot write the report to {}: check that its folder exists and is writable (-o FILE)", path.display());
    let mut f = std::fs::File::create(&tmp).with_context(what)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(what)?;
    drop(f);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(what);
    }
    Ok(())
}
