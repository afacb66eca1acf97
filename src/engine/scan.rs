//! Scanning many hosts (read-only): on each host, `forks` at a time,
//! collect its snapshot through the runtime, run detection, and store
//! snapshot and findings in the journal as soon as the host is done (a
//! killed scan keeps every host it finished). Progress goes to the
//! emitter; each host's outcome to the caller as it arrives.

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::fan_out;
use super::event::Phase;
use crate::detect::{DetectContext, detect};
use crate::journal::{self, JournalHandle, RunId, ScanResult};
use crate::report::scan_view::{ScanFailure, ScanOutcome, Scanned};
use crate::report::summary::Category;
use crate::runtime::{Bounds, RuntimeError, collect};
use crate::transport::runner::{Missing, RunReport};
use crate::transport::{HostTarget, Refusal, TransportError, host_of};

/// What a scan's report keeps of each host it scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Its findings too (the `scan` command prints them).
    Findings,
    /// Whether and how it was scanned, not its findings: the journal has
    /// them, and a scan for a plan of 10,000 hosts need not hold them all.
    Outcome,
}

/// Scan every host, `forks` at a time, recording each in the journal as it
/// finishes; `on_done` sees each outcome as it arrives. Results come back
/// in inventory order, with what `keep` says. Hosts that never finished
/// (Ctrl-C) are recorded as failed scans too.
#[allow(clippy::too_many_arguments)]
pub async fn scan_all(
    hosts: Vec<Result<HostTarget, Refusal>>,
    keep: Keep,
    ctx: Arc<DetectContext>,
    journal: JournalHandle,
    run: RunId,
    forks: usize,
    cancel: CancellationToken,
    emitter: Arc<Emitter>,
    mut on_done: impl FnMut(&ScanOutcome),
) -> RunReport<ScanOutcome> {
    let j = journal.clone();
    let report = fan_out::run(
        Phase::Scan,
        "scan",
        hosts,
        forks,
        cancel,
        &emitter,
        move |entry, cancel| {
            let ctx = Arc::clone(&ctx);
            let journal = j.clone();
            async move { scan_host(entry, keep, &ctx, &journal, run, &cancel).await }
        },
        missing_outcome,
        |o| on_done(o),
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
    fan_out::finish(&emitter, Phase::Scan, &report);
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

/// How a runtime failure is reported for a scan.
pub fn runtime_failure(e: &RuntimeError) -> ScanFailure {
    if let RuntimeError::NotRun { .. } = e {
        tracing::debug!("runtime did not run: {e}");
    }
    let mut f = match e {
        RuntimeError::Transport(t) => transport_failure(t),
        RuntimeError::TimedOut(_) => ScanFailure {
            category: Category::Timeout,
            kind: "timed_out".into(),
            message: format!("{e}; raise --timeout or the inventory's command_timeout"),
        },
        RuntimeError::NotRun { .. } => ScanFailure {
            category: Category::NonZeroExit,
            kind: "runtime_not_run".into(),
            message: format!("check that PowerShell runs for this account (`cauterize check`): {e}"),
        },
        other => ScanFailure {
            category: Category::Protocol,
            kind: "runtime".into(),
            message: other.to_string(),
        },
    };
    f.message = bounded(f.message);
    f
}

/// What the scan, not the host, knows of a snapshot: the operator's
/// address as the host sees it (the host's record of this scan's own
/// WinRM logon, [`crate::fleet::operator`]: its logons from there are
/// cauterize's own, never lateral movement) and the host's clock skew,
/// which the fleet's linking of event logs across hosts needs.
pub fn seen_from_operator(snapshot: &mut crate::runtime::snapshot::Snapshot, began: std::time::SystemTime) {
    let took = began.elapsed().map_or(0.0, |d| d.as_secs_f64());
    snapshot.operator_address = crate::fleet::operator::own_address(&snapshot.events, &snapshot.collected_at, took).unwrap_or_default();
    let began = began.duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    snapshot.clock_skew_ms = crate::detect::facts::parse_time(&snapshot.collected_at).map(|host| ((host - began) * 1000.0).round() as i64);
}

/// Scan one host and record it.
async fn scan_host(
    entry: Result<HostTarget, Refusal>,
    keep: Keep,
    ctx: &DetectContext,
    journal: &JournalHandle,
    run: RunId,
    cancel: &CancellationToken,
) -> ScanOutcome {
    let started = Instant::now();
    let (host, address, collected) = match entry {
        Err(refusal) => (refusal.host.name, refusal.host.address, Err(transport_failure(&refusal.error))),
        Ok(target) => {
            let began = std::time::SystemTime::now();
            let mut r = collect(&target, &Bounds::default(), cancel)
                .await
                .map_err(|e| runtime_failure(&e));
            if let Ok(snapshot) = &mut r {
                seen_from_operator(snapshot, began);
            }
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
            let stored = journal
                .call(move |j| {
                    j.record_scan(
                        run,
                        &h,
                        &a,
                        ms,
                        ScanResult::Collected {
                            snapshot: &snapshot,
                            findings: &findings,
                        },
                    )
                    .map(|ids| (ids, findings))
                })
                .await;
            match stored {
                Ok((ids, findings)) => Ok(Scanned {
                    snapshot_id: ids.snapshot_id.unwrap_or_default(),
                    findings: if keep == Keep::Findings { findings } else { Vec::new() },
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
    let host = host_of(entry);
    let e = crate::transport::runner::missing_error(why);
    ScanOutcome {
        host: host.name.clone(),
        address: host.address.clone(),
        result: Err(transport_failure(&e)),
        elapsed: std::time::Duration::ZERO,
    }
}
