//! `cauterize scan`: read-only. On every host, `--forks` at a time: collect
//! its snapshot through the runtime, run detection, store snapshot and
//! findings in the engagement's journal; then judge the network as a whole
//! ([`crate::fleet`]) and show the answer first (families, hosts with high
//! findings, hosts not scanned and why), then each host's findings.
//!
//! Exit code as `exec`: 0 every host scanned, 2 some not scanned, 3 none
//! (130 on Ctrl-C). Findings are not failures.

use crate::cli::{DetectArgs, ScanArgs};
use crate::detect::{AllowList, DetectContext, HashList, detect};
use crate::journal::{self, Journal, JournalHandle, RunId, ScanResult};
use crate::report::progress::{self, Progress};
use crate::report::scan_view::{self, ScanFailure, ScanOutcome, Scanned};
use crate::report::summary::Category;
use crate::runtime::{Bounds, RuntimeError, collect};
use crate::transport::runner::{self, Missing, RunReport};
use crate::transport::{self, HostTarget, Refusal, TransportError};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Run `cauterize scan`; returns the process exit code.
pub async fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let ctx = Arc::new(detect_context(&args.detect)?);
    let prepared = super::exec::prepare_targets(&args.target, &args.run)?;
    check_hosts_asked_for(&args.hosts, &prepared.hosts)?;
    let mut journal = Journal::open(&args.engagement.engagement)?;
    let run = journal.begin_run("scan", &journal::argv::current())?;
    let handle = JournalHandle::spawn(journal)?;

    let cancel = transport::interrupt::watch_ctrl_c();
    let mut bar = Progress::new(
        prepared.hosts.len(),
        progress::wanted(args.run.no_progress, args.run.json),
        "scan",
    );
    for warning in &prepared.warnings {
        bar.println(&format!("warning: {warning}"));
    }
    let json = args.run.json;
    let report = scan_all(
        prepared.hosts,
        ctx,
        handle.clone(),
        run,
        args.run.forks as usize,
        cancel,
        |o| {
            bar.record(o.failure().is_none());
            if json {
                crate::report::emit::stdout_line(&scan_view::json_line(o));
            }
        },
    )
    .await;
    bar.finish();

    let summary = scan_view::summarize(&report.results);
    let code = summary.exit_code(report.interrupted);
    // The network judged as a whole, every host's latest scan together.
    let fleet = handle.call(crate::fleet::pass::judge_journal).await?;
    let view = scan_view::ScanView { outcomes: &report.results, fleet: &fleet.findings, only: &args.hosts };
    if json {
        for line in scan_view::fleet_json_lines(&fleet.findings) {
            crate::report::emit::stdout_line(&line);
        }
        eprintln!("{}", scan_view::summary_line(&view));
    } else {
        crate::report::emit::stdout_text(&scan_view::render_text(&view));
    }
    if report.interrupted {
        eprintln!("interrupted: hosts not finished are reported as interrupted");
    }
    handle.call(move |j| j.end_run(run, code)).await?;
    eprintln!(
        "journal: {} (run {run})",
        args.engagement
            .engagement
            .join(journal::FILE_NAME)
            .display()
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

/// Scan every host, `forks` at a time, recording each in the journal as it
/// finishes; `on_done` sees each outcome as it arrives. Results come back
/// in inventory order. Hosts that never finished (Ctrl-C) are recorded as
/// failed scans too.
pub async fn scan_all(
    hosts: Vec<Result<HostTarget, Refusal>>,
    ctx: Arc<DetectContext>,
    journal: JournalHandle,
    run: RunId,
    forks: usize,
    cancel: CancellationToken,
    on_done: impl FnMut(&ScanOutcome),
) -> RunReport<ScanOutcome> {
    let j = journal.clone();
    let report = runner::run_all(
        hosts,
        forks,
        cancel,
        runner::DEFAULT_GRACE,
        move |entry, cancel| {
            let ctx = Arc::clone(&ctx);
            let journal = j.clone();
            async move { scan_host(entry, &ctx, &journal, run, &cancel).await }
        },
        missing_outcome,
        on_done,
    )
    .await;
    for o in &report.results {
        if let Err(f) = &o.result
            && f.category == Category::Interrupted
        {
            // Best effort: the outcome is reported whether or not it is kept.
            let _ = record_failure(&journal, run, &o.host, &o.address, 0, f).await;
        }
    }
    report
}

fn transport_failure(e: &TransportError) -> ScanFailure {
    ScanFailure {
        category: Category::of_kind(e.kind()),
        kind: e.kind().as_str().to_string(),
        message: e.to_string(),
    }
}

/// Longest failure message kept (a runtime's stderr can be pages long).
const MAX_MESSAGE_CHARS: usize = 800;

/// `text` cut at [`MAX_MESSAGE_CHARS`], saying so.
fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => text,
        Some((at, _)) => format!(
            "{} [... {} more characters; run with -vv for all]",
            &text[..at],
            text[at..].chars().count()
        ),
    }
}

fn runtime_failure(e: &RuntimeError) -> ScanFailure {
    let mut f = runtime_failure_full(e);
    f.message = bounded(f.message);
    f
}

fn runtime_failure_full(e: &RuntimeError) -> ScanFailure {
    if let RuntimeError::NotRun { .. } = e {
        tracing::debug!("runtime did not run: {e}");
    }
    match e {
        RuntimeError::Transport(t) => transport_failure(t),
        RuntimeError::TimedOut(_) => ScanFailure {
            category: Category::Timeout,
            kind: "timed_out".into(),
            message: format!("{e}; raise --timeout or the inventory's command_timeout"),
        },
        RuntimeError::NotRun { .. } => ScanFailure {
            category: Category::NonZeroExit,
            kind: "runtime_not_run".into(),
            message: format!(
                "check that PowerShell runs for this account (`cauterize check`): {e}"
            ),
        },
        other => ScanFailure {
            category: Category::Protocol,
            kind: "runtime".into(),
            message: other.to_string(),
        },
    }
}

/// Scan one host and record it.
async fn scan_host(
    entry: Result<HostTarget, Refusal>,
    ctx: &DetectContext,
    journal: &JournalHandle,
    run: RunId,
    cancel: &CancellationToken,
) -> ScanOutcome {
    let started = Instant::now();
    let (host, address, collected) = match entry {
        Err(refusal) => (
            refusal.host.name,
            refusal.host.address,
            Err(transport_failure(&refusal.error)),
        ),
        Ok(target) => {
            let r = collect(&target, &Bounds::default(), cancel)
                .await
                .map_err(|e| runtime_failure(&e));
            (target.host.name, target.host.address, r)
        }
    };
    let elapsed = started.elapsed();
    let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let result = match collected {
        Err(f) => match record_failure(journal, run, &host, &address, ms, &f).await {
            Ok(()) => Err(f),
            Err(e) => Err(journal_failure(&e)),
        },
        Ok(snapshot) => {
            let findings = detect(&snapshot, ctx);
            let truncated = snapshot
                .truncated
                .iter()
                .map(|t| format!("{} (bound: {})", t.what, t.limit))
                .collect();
            let (h, a) = (host.clone(), address.clone());
            let f2 = findings.clone();
            let stored = journal
                .call(move |j| {
                    j.record_scan(
                        run,
                        &h,
                        &a,
                        ms,
                        ScanResult::Collected {
                            snapshot: &snapshot,
                            findings: &f2,
                        },
                    )
                })
                .await;
            match stored {
                Ok(ids) => Ok(Scanned {
                    snapshot_id: ids.snapshot_id.unwrap_or_default(),
                    findings,
                    truncated,
                }),
                Err(e) => Err(journal_failure(&e)),
            }
        }
    };
    ScanOutcome {
        host,
        address,
        result,
        elapsed,
    }
}

/// Keep a host's failed scan in the journal.
async fn record_failure(
    journal: &JournalHandle,
    run: RunId,
    host: &str,
    address: &str,
    ms: u64,
    failure: &ScanFailure,
) -> Result<(), journal::JournalError> {
    let (host, address) = (host.to_string(), address.to_string());
    let (kind, message) = (failure.kind.clone(), failure.message.clone());
    journal
        .call(move |j| {
            j.record_scan(
                run,
                &host,
                &address,
                ms,
                ScanResult::Failed {
                    kind: &kind,
                    error: &message,
                },
            )
        })
        .await
        .map(|_| ())
}

fn journal_failure(e: &journal::JournalError) -> ScanFailure {
    ScanFailure {
        category: Category::Protocol,
        kind: "journal".into(),
        message: format!("scanned, but the journal could not record it: {e}"),
    }
}

fn missing_outcome(entry: &Result<HostTarget, Refusal>, why: Missing) -> ScanOutcome {
    let host = match entry {
        Ok(t) => &t.host,
        Err(r) => &r.host,
    };
    let e = super::exec::missing_error(why);
    ScanOutcome {
        host: host.name.clone(),
        address: host.address.clone(),
        result: Err(transport_failure(&e)),
        elapsed: std::time::Duration::ZERO,
    }
}
