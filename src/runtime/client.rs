//! The Rust-side API of the host runtime: collect a host's snapshot, carry
//! out operations, read a file. Each call sends one job (runtime plus data,
//! see [`super::job`]) through the transport's stdin bootstrap and parses
//! the framed answer strictly and within bounds ([`super::results`]).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use super::assemble;
use super::file_targets::file_targets;
use super::job::{self, JobItem};
use super::ops::{Bounds, EventBounds, FileChunk, Op, OpOutcome, Query};
use super::results::{self, Frames, Limits};
use super::snapshot::{FileFacts, Snapshot, Truncation};
use super::sweep;
use crate::transport::{HostSession, HostTarget, TransportError};

/// Why a runtime call failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The host could not be reached, or the command failed to run.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The output is not the runtime's framing.
    #[error("{0}")]
    Frame(#[from] results::FrameError),
    /// The runtime did not run (it printed nothing framed).
    #[error("the runtime did not run (exit code {exit_code}): {stderr}")]
    NotRun { exit_code: i32, stderr: String },
    /// A query item reported that it could not run.
    #[error("{what} failed on the host: {reason}")]
    ItemFailed { what: &'static str, reason: String },
    /// The whole call took longer than its time bound.
    #[error("the runtime did not finish within {0:?}")]
    TimedOut(Duration),
}

/// Slack over a job's own time limit before the Rust side gives up.
const TIME_SLACK: Duration = Duration::from_secs(120);

/// Run one job on an open session and parse its frames.
pub(super) async fn run_job(
    session: &mut HostSession<'_>,
    items: &[JobItem],
    limits: &Limits,
    time_limit: Duration,
) -> Result<Frames, RuntimeError> {
    let payload = job::payload(items);
    let bound = time_limit + TIME_SLACK;
    let out = tokio::time::timeout(bound, session.run_script(&payload))
        .await
        .map_err(|_| RuntimeError::TimedOut(bound))??;
    if !out.stdout.contains(results::BEGIN) {
        return Err(RuntimeError::NotRun {
            exit_code: out.exit_code,
            stderr: out.stderr.trim().to_string(),
        });
    }
    Ok(results::parse(&out.stdout, items.len(), limits)?)
}

/// Open a session, run `f`, and close the session whatever happened: an
/// error, a time-out inside `f`, or a panic (caught, the shell closed, then
/// the panic goes on): Windows 7 allows five shells per user, so a leaked
/// one costs a fifth of the host.
pub async fn with_session<T>(
    target: &HostTarget,
    cancel: &CancellationToken,
    f: impl AsyncFnOnce(&mut HostSession<'_>) -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    let mut session = HostSession::open(target, cancel).await?;
    let r = AssertUnwindSafe(f(&mut session)).catch_unwind().await;
    session.close().await;
    match r {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Collect a host's snapshot: pass one (raw facts), then pass two (facts
/// of every file those start, found by parsing their command lines here,
/// see [`super::file_targets`]; and the drop-folder sweep, see
/// [`super::sweep`]), on one shell.
pub async fn collect(
    target: &HostTarget,
    bounds: &Bounds,
    cancel: &CancellationToken,
) -> Result<Snapshot, RuntimeError> {
    with_session(target, cancel, async |s| collect_on(s, bounds).await).await
}

/// [`collect`] on an open session.
pub async fn collect_on(
    session: &mut HostSession<'_>,
    bounds: &Bounds,
) -> Result<Snapshot, RuntimeError> {
    let limits = Limits::from_bounds(bounds);
    let time = Duration::from_secs(u64::from(bounds.time_limit_secs));
    let items = [
        JobItem::Query(Query::Collect {
            bounds: bounds.clone(),
        }),
        JobItem::Query(Query::Events {
            bounds: EventBounds::default(),
        }),
    ];
    let frames = run_job(session, &items, &limits, time).await?;
    if let Some(reason) = assemble::item_error(&frames, 0) {
        return Err(RuntimeError::ItemFailed {
            what: "collection",
            reason,
        });
    }
    let mut snap = assemble::snapshot(&frames, 0);
    add_events(&mut snap, &frames, 1);
    if !frames.complete {
        snap.truncated.push(incomplete("collection"));
    }
    let targets = file_targets(&snap);
    let sweep = JobItem::Query(sweep::query(&snap, &targets.paths, bounds));
    let (mut parts, cut) = file_items_on(
        session,
        &targets.paths,
        &targets.list_dirs,
        Some(sweep),
        bounds,
    )
    .await?;
    let swept = parts.pop().unwrap_or_default();
    let named = parts.pop().unwrap_or_default();
    snap.files = sweep::merge(named, swept);
    snap.truncated.extend(cut);
    Ok(snap)
}

/// The Events item's answer into the snapshot; an item that could not run
/// at all is a cut, never silence.
fn add_events(snap: &mut Snapshot, frames: &Frames, i: usize) {
    if let Some(reason) = assemble::item_error(frames, i) {
        snap.truncated.push(Truncation { what: format!("event logs not read: {reason}"), limit: "error".into() });
        return;
    }
    let (events, logs, cuts) = assemble::events(frames, i);
    snap.events = events;
    snap.event_logs = logs;
    snap.truncated.extend(cuts);
}

fn incomplete(what: &str) -> Truncation {
    Truncation {
        what: format!("{what}: the runtime's output ended early"),
        limit: "output or time".into(),
    }
}

/// Facts of these files (and listings of these folders), with what was
/// cut.
pub async fn file_facts(
    target: &HostTarget,
    paths: &[String],
    list_dirs: &[String],
    bounds: &Bounds,
    cancel: &CancellationToken,
) -> Result<(Vec<FileFacts>, Vec<Truncation>), RuntimeError> {
    with_session(target, cancel, async |s| {
        file_facts_on(s, paths, list_dirs, bounds).await
    })
    .await
}

/// [`file_facts`] on an open session.
pub async fn file_facts_on(
    session: &mut HostSession<'_>,
    paths: &[String],
    list_dirs: &[String],
    bounds: &Bounds,
) -> Result<(Vec<FileFacts>, Vec<Truncation>), RuntimeError> {
    let (mut parts, cut) = file_items_on(session, paths, list_dirs, None, bounds).await?;
    Ok((parts.pop().unwrap_or_default(), cut))
}

/// One job of file facts (and, when given, a second item such as the
/// sweep): the files of each item in order, and what was cut.
async fn file_items_on(
    session: &mut HostSession<'_>,
    paths: &[String],
    list_dirs: &[String],
    extra: Option<JobItem>,
    bounds: &Bounds,
) -> Result<(Vec<Vec<FileFacts>>, Vec<Truncation>), RuntimeError> {
    let mut cut = Vec::new();
    let max = bounds.max_items as usize;
    if paths.len() > max {
        cut.push(Truncation {
            what: format!("file facts asked for ({} paths)", paths.len()),
            limit: format!("{max} paths"),
        });
    }
    let mut items = vec![JobItem::Query(Query::FileFacts {
        paths: paths.iter().take(max).cloned().collect(),
        list_dirs: list_dirs.iter().take(max).cloned().collect(),
        bounds: bounds.clone(),
    })];
    items.extend(extra);
    let limits = Limits::from_bounds(bounds);
    let time = Duration::from_secs(u64::from(bounds.time_limit_secs));
    let frames = run_job(session, &items, &limits, time).await?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(reason) = assemble::item_error(&frames, i) {
            return Err(RuntimeError::ItemFailed {
                what: if i == 0 { "file facts" } else { item.kind() },
                reason,
            });
        }
        cut.extend(frames.truncations(i));
        out.push(assemble::files(&frames, i));
    }
    if !frames.complete {
        cut.push(incomplete("file facts"));
    }
    Ok((out, cut))
}

/// Carry out operations in order, one outcome each. An operation the
/// runtime never reported on (its output ended early) is `Failed`.
pub async fn apply_ops(
    target: &HostTarget,
    ops: &[Op],
    cancel: &CancellationToken,
) -> Result<Vec<OpOutcome>, RuntimeError> {
    with_session(target, cancel, async |s| apply_ops_on(s, ops).await).await
}

/// [`apply_ops`] on an open session.
pub async fn apply_ops_on(
    session: &mut HostSession<'_>,
    ops: &[Op],
) -> Result<Vec<OpOutcome>, RuntimeError> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<JobItem> = ops.iter().cloned().map(JobItem::Op).collect();
    let bounds = Bounds::default();
    let time = Duration::from_secs(u64::from(bounds.time_limit_secs));
    let frames = run_job(session, &items, &Limits::from_bounds(&bounds), time).await?;
    Ok((0..ops.len())
        .map(|i| {
            assemble::outcome(&frames, i).unwrap_or_else(|| OpOutcome::Failed {
                reason: "the runtime reported no outcome (its output ended early)".into(),
            })
        })
        .collect())
}

/// Read up to `max_bytes` of a file from `offset`.
pub async fn read_file(
    target: &HostTarget,
    path: &str,
    offset: u64,
    max_bytes: u32,
    cancel: &CancellationToken,
) -> Result<FileChunk, RuntimeError> {
    with_session(target, cancel, async |s| {
        let items = [JobItem::Query(Query::ReadFile {
            path: path.to_string(),
            offset,
            max_bytes,
        })];
        let bounds = Bounds::default();
        let limits = Limits {
            max_field_bytes: (max_bytes as usize).max(4096),
            ..Limits::from_bounds(&bounds)
        };
        let frames = run_job(
            s,
            &items,
            &limits,
            Duration::from_secs(u64::from(bounds.time_limit_secs)),
        )
        .await?;
        if let Some(reason) = assemble::item_error(&frames, 0) {
            return Err(RuntimeError::ItemFailed {
                what: "read file",
                reason,
            });
        }
        assemble::chunk(&frames, 0).ok_or(RuntimeError::ItemFailed {
            what: "read file",
            reason: "no data came back".into(),
        })
    })
    .await
}
