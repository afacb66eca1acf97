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
use super::registry_targets;
use super::job::{self, JobItem};
use super::ops::{Bounds, EventBounds, FileChunk, Op, OpOutcome, Power, Query};
use super::power::{self, RebootReply};
use super::results::{self, Frames, Limits};
use super::snapshot::{FileFacts, LoggedEvent, Snapshot, Truncation};
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
    /// A power request's answer says it failed, or cannot be read.
    #[error(transparent)]
    Power(#[from] power::PowerError),
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
    let payload = job::Payload::of(items);
    let bound = time_limit + TIME_SLACK;
    let out = tokio::time::timeout(bound, session.run_parts(&payload.parts()))
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
/// see [`super::file_targets`]; the drop-folder sweep, see
/// [`super::sweep`]; and the registry values autostarts read and the trees
/// of keys deleted whole, see [`super::registry_targets`]), on one shell.
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
    let mut reads = registry_targets::reads(&snap);
    let mut cut = Vec::new();
    let max = bounds.max_items as usize;
    if reads.len() > max {
        cut.push(Truncation {
            what: format!("registry values asked for ({} reads)", reads.len()),
            limit: format!("{max} reads"),
        });
        reads.truncate(max);
    }
    let registry = JobItem::Query(Query::RegistryValues {
        reads,
        bounds: bounds.clone(),
    });
    let (frames, more) = file_items_on(
        session,
        &targets.paths,
        &targets.list_dirs,
        vec![sweep, registry],
        bounds,
    )
    .await?;
    snap.files = sweep::merge(assemble::files(&frames, 0), assemble::files(&frames, 1));
    registry_targets::merge(&mut snap.registry, assemble::registry(&frames, 2));
    snap.truncated.extend(cut);
    snap.truncated.extend(more);
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
    let (frames, cut) = file_items_on(session, paths, list_dirs, vec![], bounds).await?;
    Ok((assemble::files(&frames, 0), cut))
}

/// One job of file facts (item 0) and the `extra` items after it (the
/// sweep, the registry reads): their frames, and what was cut.
async fn file_items_on(
    session: &mut HostSession<'_>,
    paths: &[String],
    list_dirs: &[String],
    extra: Vec<JobItem>,
    bounds: &Bounds,
) -> Result<(Frames, Vec<Truncation>), RuntimeError> {
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
    for (i, item) in items.iter().enumerate() {
        if let Some(reason) = assemble::item_error(&frames, i) {
            return Err(RuntimeError::ItemFailed {
                what: if i == 0 { "file facts" } else { item.kind() },
                reason,
            });
        }
        cut.extend(frames.truncations(i));
    }
    if !frames.complete {
        cut.push(incomplete("file facts"));
    }
    Ok((frames, cut))
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

/// Time a power request may take on the host (a WMI query, one run of
/// shutdown.exe, a registry read).
const POWER_TIME: Duration = Duration::from_secs(60);

/// Send one power request on its own session; its frames.
async fn power_job(target: &HostTarget, request: Power, cancel: &CancellationToken) -> Result<Frames, RuntimeError> {
    with_session(target, cancel, async |s| {
        let items = [JobItem::Power(request)];
        let frames = run_job(s, &items, &Limits::from_bounds(&Bounds::default()), POWER_TIME).await?;
        if let Some(reason) = assemble::item_error(&frames, 0) {
            return Err(RuntimeError::ItemFailed { what: items[0].kind(), reason });
        }
        Ok(frames)
    })
    .await
}

/// The host's last boot time, as UTC ([`power::cim_to_utc`]).
pub async fn boot_time(target: &HostTarget, cancel: &CancellationToken) -> Result<String, RuntimeError> {
    let frames = power_job(target, Power::BootTime, cancel).await?;
    Ok(power::boot_time(&frames, 0)?)
}

/// Ask for a reboot ([`power::reboot_request`]); the exit codes that mean
/// the host goes down come back as [`power::RebootStart`], any other as
/// [`RuntimeError::Power`].
pub async fn reboot(target: &HostTarget, request: Power, cancel: &CancellationToken) -> Result<RebootReply, RuntimeError> {
    let frames = power_job(target, request, cancel).await?;
    Ok(power::reboot_reply(&frames, 0)?)
}

/// The users with an interactive session on the host
/// ([`power::logged_on_users`]).
pub async fn logged_on_users(target: &HostTarget, cancel: &CancellationToken) -> Result<Vec<power::LoggedOnUser>, RuntimeError> {
    let frames = power_job(target, Power::LoggedOnUsers, cancel).await?;
    Ok(power::logged_on_users(&frames, 0)?)
}

/// Cancel a pending countdown: `true` if one was cancelled, `false` if
/// none was pending.
pub async fn abort_reboot(target: &HostTarget, cancel: &CancellationToken) -> Result<bool, RuntimeError> {
    let frames = power_job(target, Power::AbortReboot, cancel).await?;
    Ok(power::abort_reply(&frames, 0)?)
}

/// The host's newest network logons (Security 4624, at most 64, within
/// the last day) with its clock when it finished reading its logs: what the operator's
/// address as the host sees it is told from
/// ([`crate::fleet::operator::seen_by_host`]). A Security log that could
/// not be read is an error, never "no logons".
pub async fn recent_logons(target: &HostTarget, cancel: &CancellationToken) -> Result<(Vec<LoggedEvent>, String), RuntimeError> {
    let items = [JobItem::Query(Query::Events {
        bounds: EventBounds { max_per_kind: 64, days: 1, max_text_chars: 256 },
    })];
    let limits = Limits::from_bounds(&Bounds::default());
    let frames = with_session(target, cancel, async |s| run_job(s, &items, &limits, Duration::from_secs(60)).await).await?;
    if let Some(reason) = assemble::item_error(&frames, 0) {
        return Err(RuntimeError::ItemFailed { what: "event logs", reason });
    }
    let (events, logs, _) = assemble::events(&frames, 0);
    let security = logs.iter().find(|l| l.log == "Security" && l.event_id == 4624);
    // The end of the host's reads: the step's span on the host's clock
    // ends there (ISO 8601 UTC text of one format sorts as time does).
    let end = logs.iter().map(|l| l.read_at.clone()).max().unwrap_or_default();
    match security {
        Some(l) if l.state == "read" || l.state == "disabled" => Ok((events, end)),
        Some(l) => Err(RuntimeError::ItemFailed { what: "the Security log", reason: format!("{}: {}", l.state, l.detail) }),
        None => Err(RuntimeError::ItemFailed { what: "the Security log", reason: "not reported".into() }),
    }
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
