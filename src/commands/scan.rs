//! `cauterize scan`: read-only. Parses its flags, prepares the hosts and
//! the journal, lets the engine scan ([`crate::engine::scan`]: on every
//! host, `--forks` at a time, collect its snapshot, run detection, store
//! snapshot and findings in the journal) with the chosen progress view;
//! then judges the network as a whole ([`crate::fleet`]) and shows the
//! answer first (families, hosts with high findings, hosts not scanned and
//! why), then each host's findings.
//!
//! Exit code as `exec`: 0 every host scanned, 2 some not scanned, 3 none
//! (130 on Ctrl-C). Findings are not failures.

use crate::cli::{DetectArgs, ScanArgs};
use crate::detect::{AllowList, DetectContext, HashList};
use crate::journal::{self, Journal, JournalHandle};
use crate::report::scan_view;
use crate::transport::{self, HostTarget, Refusal};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// Run `cauterize scan`; returns the process exit code.
pub async fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let ctx = Arc::new(detect_context(&args.detect)?);
    let prepared = super::exec::prepare_targets(&args.scope.target, &args.scope.run)?;
    check_hosts_asked_for(&args.hosts, &prepared.hosts)?;
    let mut journal = Journal::open(&args.scope.engagement.engagement)?;
    let run = journal.begin_run("scan", &journal::argv::current())?;
    let handle = JournalHandle::spawn(journal)?;

    let cancel = transport::interrupt::watch_ctrl_c();
    let emitter = super::exec::progress_emitter(&args.scope.run, &prepared.warnings);
    let ticker = emitter.start_ticker();
    let json = args.scope.run.json;
    let report = crate::engine::scan::scan_all(
        prepared.hosts,
        crate::engine::scan::Keep::Findings,
        ctx,
        handle.clone(),
        run,
        args.scope.run.forks as usize,
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
    // The network judged as a whole, every host's latest scan together.
    let fleet = handle.call(crate::fleet::pass::judge_journal).await?;
    let view = scan_view::ScanView { outcomes: &report.results, fleet: &fleet.findings, only: &args.hosts };
    if json {
        for line in scan_view::fleet_json_lines(&fleet.findings) {
            crate::report::emit::stdout_line(&line);
        }
        if let Some(line) = crate::report::lateral_view::json_line(&fleet.lateral) {
            crate::report::emit::stdout_line(&line);
        }
        eprintln!("{}", scan_view::summary_line(&view));
    } else {
        crate::report::emit::stdout_text(&scan_view::render_text(&view));
        crate::report::emit::stdout_text(&crate::report::lateral_view::render(&fleet.lateral));
    }
    if report.interrupted {
        eprintln!("interrupted: hosts not finished are reported as interrupted");
    }
    handle.call(move |j| j.end_run(run, code)).await?;
    eprintln!(
        "journal: {} (run {run})",
        args.scope.engagement.engagement.join(journal::FILE_NAME).display()
    );
    Ok(code)
}

/// Every `--host` must name a host this scan covers.
fn check_hosts_asked_for(asked: &[String], hosts: &[Result<HostTarget, Refusal>]) -> anyhow::Result<()> {
    for name in asked {
        let known = hosts.iter().any(|h| match h {
            Ok(t) => t.host.name.eq_ignore_ascii_case(name),
            Err(r) => r.host.name.eq_ignore_ascii_case(name),
        });
        if !known {
            anyhow::bail!(
                "--host {name}: no such host among the hosts to scan (check the name, and --limit); `cauterize inventory -i FILE` lists them"
            );
        }
    }
    Ok(())
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
