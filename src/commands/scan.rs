//! `cauterize scan`: read-only. Parses its flags, prepares the hosts and
//! the journal, lets the engine scan ([`crate::engine::scan`]) with the
//! chosen progress view, then shows the findings per host, the hosts that
//! could not be scanned and why, and totals per family.
//!
//! Exit code as `exec`: 0 every host scanned, 2 some not scanned, 3 none
//! (130 on Ctrl-C). Findings are not failures.

use crate::cli::{DetectArgs, ScanArgs};
use crate::detect::{AllowList, DetectContext, HashList};
use crate::journal::{self, Journal, JournalHandle};
use crate::report::scan_view;
use crate::transport;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// Run `cauterize scan`; returns the process exit code.
pub async fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let ctx = Arc::new(detect_context(&args.detect)?);
    let prepared = super::exec::prepare_targets(&args.target, &args.run)?;
    let mut journal = Journal::open(&args.engagement.engagement)?;
    let run = journal.begin_run("scan", &journal::argv::current())?;
    let handle = JournalHandle::spawn(journal)?;

    let cancel = transport::interrupt::watch_ctrl_c();
    let emitter = super::exec::progress_emitter(&args.run, &prepared.warnings);
    let ticker = emitter.start_ticker();
    let json = args.run.json;
    let report = crate::engine::scan::scan_all(
        prepared.hosts,
        ctx,
        handle.clone(),
        run,
        args.run.forks as usize,
        cancel,
        Arc::clone(&emitter),
        |o| {
            if json {
                crate::report::emit::stdout_line(&scan_view::json_line(o));
            }
        },
    )
    .await;
    drop(ticker);
    emitter.finish();

    let summary = scan_view::summarize(&report.results);
    let code = summary.exit_code(report.interrupted);
    if json {
        eprintln!("{}", scan_view::summary_line(&report.results));
    } else {
        crate::report::emit::stdout_text(&scan_view::render_text(&report.results));
    }
    if report.interrupted {
        eprintln!("interrupted: hosts not finished are reported as interrupted");
    }
    handle.call(move |j| j.end_run(run, code)).await?;
    eprintln!(
        "journal: {} (run {run})",
        args.engagement.engagement.join(journal::FILE_NAME).display()
    );
    Ok(code)
}

/// Read `--hashes` and `--allowlist`.
pub(crate) fn detect_context(args: &DetectArgs) -> anyhow::Result<DetectContext> {
    let read = |p: &Path, what: &str| {
        std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the {what} {} (is it UTF-8 text?)", p.display()))
    };
    let mut ctx = DetectContext::default();
    if let Some(p) = &args.hashes {
        ctx.hashes = HashList::parse(&read(p, "hash list")?).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; fix or remove that line (one SHA-256 a line, optional label after it)",
                p.display()
            )
        })?;
    }
    if let Some(p) = &args.allowlist {
        ctx.allow = AllowList::parse(&read(p, "allow-list")?).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; fix or remove that line (sha256:, path: or signer: entries)",
                p.display()
            )
        })?;
    }
    Ok(ctx)
}
