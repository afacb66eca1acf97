//! `watch`: keeps an engagement's operation open for the hosts it could
//! not reach (down when it ran: the laptop that comes back tomorrow).
//!
//! The hosts watched are those that hold the release because they were
//! never reached: `unreached` (down at containment), and `refused` hosts
//! the journal has no scan of (down when the plan was made), unless the
//! operator accepted them by name. Each is polled (its boot time read over
//! WinRM, the cheapest call that proves the runtime answers) with a
//! bounded exponential back-off: the first poll at once, then after
//! `first`, doubling up to `max` ([`Backoff`]). Every poll is journaled.
//!
//! A host that answers is carried through the SAME operation by the
//! engine ([`super::apply::operate`] with [`super::operation::Inputs::late`]):
//! contained, scanned (a host with no scan is scanned after containment
//! and what the scan finds is purged under a new plan, recorded in the
//! journal as re-purges are), purged, rebooted, verified; then the release
//! phase runs by the playbook's policy, as the operation's own would: with
//! `all_clean` the network is released once the last held host is clean,
//! with `per_group` its group, with `manual` nothing (that stays
//! `cauterize release`). Watch stops when no host is left to watch or
//! carry on, on Ctrl-C (exit 130), or when a run halts (the failure
//! budget, containment required and not in effect: its summary says what
//! to do). A second `watch` picks up from the journal: hosts left
//! mid-operation are carried on first, then polling starts again from the
//! first pause.
//!
//! The engagement's lock is held while watch runs: `status` and `report`
//! read the journal meanwhile; `release` by hand needs watch stopped.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::apply::{Hosts, OperationOutcome, OperationRequest, operate};
use super::emit::Emitter;
use super::event::{Event, Phase, Sink};
use super::operation::Approver;
use super::record::Recorder;
use super::runtime_steps::RuntimeSteps;
use super::settings::RetryPolicy;
use super::state::HostState;
use super::steps::HostSteps;
use crate::journal::operation::{OperationHostRow, OperationId};
use crate::journal::{self, Journal, JournalHandle};

/// The pause between two polls of a host that did not answer: `first`
/// after the first miss, doubling after each, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(30),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The pause after `misses` polls in a row went unanswered (1 and up).
    pub fn pause_after(&self, misses: u32) -> Duration {
        // The retries' doubling, with no limit on the count.
        RetryPolicy {
            tries: u32::MAX,
            first_delay: self.first,
            max_delay: self.max,
        }
        .delay_before(misses.saturating_add(1).max(2))
        .unwrap_or(self.max)
    }
}

/// What the journal says is left to do for watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watchlist {
    /// Hosts to poll: never reached, holding the release, not accepted.
    pub waiting: Vec<String>,
    /// Hosts taken in and left mid-operation (an earlier watch or run was
    /// interrupted): carried on before anything is polled.
    pub unfinished: Vec<String>,
}

impl Watchlist {
    /// Sort the operation's hosts (pure): `scanned` holds the lower-case
    /// names of hosts the journal has a collected scan of, `accepted` those
    /// the operator accepted by name.
    pub fn of(rows: &[OperationHostRow], scanned: &HashSet<String>, accepted: &[String]) -> Watchlist {
        let mut list = Watchlist::default();
        for r in rows {
            let key = r.host.to_lowercase();
            if accepted.iter().any(|a| a.eq_ignore_ascii_case(&r.host)) {
                continue;
            }
            match HostState::parse(&r.state) {
                Some(HostState::Unreached) => list.waiting.push(r.host.clone()),
                Some(HostState::Refused) if !scanned.contains(&key) => list.waiting.push(r.host.clone()),
                Some(
                    HostState::Pending
                    | HostState::Contained
                    | HostState::Purged
                    | HostState::RebootAsked
                    | HostState::Rebooted
                    | HostState::Dirty,
                ) => list.unfinished.push(r.host.clone()),
                _ => {}
            }
        }
        list
    }

    /// Exit code when nothing is left to watch: 0 when every host is
    /// clean, released or accepted; 2 when some are set aside for a person.
    pub fn settled_exit_code(rows: &[OperationHostRow], accepted: &[String]) -> i32 {
        let ok = rows.iter().all(|r| {
            matches!(HostState::parse(&r.state), Some(HostState::Clean | HostState::Released))
                || accepted.iter().any(|a| a.eq_ignore_ascii_case(&r.host))
        });
        if ok { crate::exit::OK } else { crate::exit::PARTIAL }
    }
}

/// Everything a watch runs with. `request` is the operation's request
/// for the journal's operation; its `late` is filled in per run.
pub struct WatchRequest {
    pub request: OperationRequest,
    pub hosts: Hosts,
    pub backoff: Backoff,
    /// The views of each run (bars, plain lines, JSON lines).
    pub sinks: Box<dyn Fn() -> Vec<Box<dyn Sink>> + Send + Sync>,
}

/// How a watch ended.
pub struct WatchOutcome {
    pub operation: OperationId,
    pub exit_code: i32,
    /// The engine runs it made (hosts carried through), in order.
    pub runs: Vec<OperationOutcome>,
    /// Polls made, answered or not.
    pub polls: usize,
}

/// Poll and carry late hosts through until none is left, or Ctrl-C.
pub async fn watch<A: Approver>(watch: WatchRequest, approver: Arc<A>, cancel: CancellationToken) -> anyhow::Result<WatchOutcome> {
    let engagement = watch.request.engagement.clone();
    let mut misses: HashMap<String, (u32, Instant)> = HashMap::new();
    let mut runs: Vec<OperationOutcome> = Vec::new();
    let mut polls = 0;
    // The unfinished hosts the last run carried on (nothing polled since).
    let mut carried_on: Option<Vec<String>> = None;
    loop {
        let journal = Journal::open(&engagement)?;
        let Some(op) = journal.latest_operation()? else {
            anyhow::bail!(
                "the engagement {} has no operation to watch: start one with `cauterize run` or `cauterize apply PLAN`",
                engagement.display()
            );
        };
        let rows = journal.operation_hosts(op.id)?;
        let accepted = journal.accepted_hosts(op.id)?;
        let scanned: HashSet<String> = journal.host_os()?.into_keys().map(|h| h.to_lowercase()).collect();
        let list = Watchlist::of(&rows, &scanned, &accepted);
        if !list.unfinished.is_empty() {
            if carried_on.as_ref() == Some(&list.unfinished) {
                // A run went over them and could take them no further (a
                // phase not available, hosts waiting for a person's
                // go-ahead): its summary says why; watching cannot help.
                let exit_code = runs.last().map_or(crate::exit::PARTIAL, |r| r.exit_code);
                return Ok(WatchOutcome { operation: op.id, exit_code, runs, polls });
            }
            // Carry on what an interrupted run left (no host polled yet).
            carried_on = Some(list.unfinished.clone());
            let outcome = carry(journal, &watch, Vec::new(), &approver, &cancel).await?;
            if let Some(code) = stop_after(&outcome, &cancel) {
                runs.push(outcome);
                return Ok(WatchOutcome { operation: op.id, exit_code: code, runs, polls });
            }
            runs.push(outcome);
            continue;
        }
        if list.waiting.is_empty() {
            let exit_code = runs.last().map_or_else(|| Watchlist::settled_exit_code(&rows, &accepted), |r| r.exit_code);
            return Ok(WatchOutcome { operation: op.id, exit_code, runs, polls });
        }
        // Only hosts of the inventory given can be reached.
        let (waiting, elsewhere): (Vec<String>, Vec<String>) = list
            .waiting
            .into_iter()
            .partition(|h| watch.request.hosts.iter().any(|i| i.name.eq_ignore_ascii_case(h)));
        if waiting.is_empty() {
            anyhow::bail!(
                "{} hold(s) the release of operation {} but is not in the inventory given (-i, -l): watch it with an inventory that has it, or accept it with `cauterize release --accept-unreached HOST`",
                super::summary::name_list(&elsewhere, 10),
                op.id
            );
        }
        if !elsewhere.is_empty() {
            tracing::warn!(
                "not watched (not in the inventory given): {}",
                super::summary::name_list(&elsewhere, 10)
            );
        }
        misses.retain(|h, _| waiting.contains(h));
        let round = Polling {
            operation: op.id,
            plan: op.plan_id,
            waiting: &waiting,
            watch: &watch,
        };
        let (answered, made) = poll_until_answered(journal, &round, &mut misses, &cancel).await?;
        polls += made;
        if cancel.is_cancelled() {
            return Ok(WatchOutcome { operation: op.id, exit_code: crate::exit::INTERRUPTED, runs, polls });
        }
        for h in &answered {
            misses.remove(h);
        }
        let journal = Journal::open(&engagement)?;
        let outcome = carry(journal, &watch, answered, &approver, &cancel).await?;
        carried_on = None;
        if let Some(code) = stop_after(&outcome, &cancel) {
            runs.push(outcome);
            return Ok(WatchOutcome { operation: op.id, exit_code: code, runs, polls });
        }
        runs.push(outcome);
    }
}

/// Watch stops after a run that was interrupted (130) or halted (the
/// failure budget, containment required and not in effect, the canary's
/// go-ahead refused): its summary says what to do next.
fn stop_after(outcome: &OperationOutcome, cancel: &CancellationToken) -> Option<i32> {
    if outcome.exit_code == crate::exit::INTERRUPTED || cancel.is_cancelled() {
        Some(crate::exit::INTERRUPTED)
    } else if outcome.result.halted.is_some() {
        Some(outcome.exit_code)
    } else {
        None
    }
}

/// One engine run over the journal's operation, taking `late` in.
async fn carry<A: Approver>(
    journal: Journal,
    watch: &WatchRequest,
    late: Vec<String>,
    approver: &Arc<A>,
    cancel: &CancellationToken,
) -> anyhow::Result<OperationOutcome> {
    let r = &watch.request;
    let request = OperationRequest {
        command: r.command.clone(),
        engagement: r.engagement.clone(),
        source: super::apply::Source::Journal,
        hosts: r.hosts.clone(),
        settings: r.settings.clone(),
        phases: r.phases.clone(),
        release: r.release.clone(),
        accept: Vec::new(),
        accept_sources: Vec::new(),
        accept_reason: None,
        listed: r.listed.clone(),
        resume_command: r.resume_command.clone(),
        playbook: r.playbook.clone(),
        flags: r.flags.clone(),
        detect: r.detect.clone(),
        late: Some(late),
    };
    let hosts = Hosts {
        targets: watch.hosts.targets.clone(),
        smb: watch.hosts.smb.clone(),
    };
    operate(journal, request, hosts, (watch.sinks)(), Arc::clone(approver), cancel.clone()).await
}

/// Poll the `waiting` hosts as their back-off says, in one journal run,
/// until one or more answer (or Ctrl-C); every poll is journaled. Returns
/// the hosts that answered and the number of polls made.
async fn poll_until_answered(
    mut journal: Journal,
    round: &Polling<'_>,
    misses: &mut HashMap<String, (u32, Instant)>,
    cancel: &CancellationToken,
) -> anyhow::Result<(Vec<String>, usize)> {
    let (operation, watch) = (round.operation, round.watch);
    let run = journal.begin_run("watch", &journal::argv::current())?;
    journal.attach_run(operation, run)?;
    let (handle, writer) = JournalHandle::spawn_joinable(journal)?;
    let emitter = Emitter::new((watch.sinks)()).with_journal(Recorder::new(handle.clone(), run, operation));
    let probe = RuntimeSteps::new(
        watch.hosts.targets.clone(),
        HashMap::new(),
        watch.request.engagement.clone(),
        format!("op{operation}-run{run}"),
        cancel.clone(),
    );
    let result = polls(&emitter, &probe, round, misses, cancel).await;
    let code = match &result {
        Ok(_) if cancel.is_cancelled() => crate::exit::INTERRUPTED,
        Ok(_) => crate::exit::OK,
        Err(_) => crate::exit::ALL_FAILED,
    };
    emitter.finish();
    let _ = handle.call(move |j| j.end_run(run, code)).await;
    drop(handle);
    drop(emitter);
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    result
}

/// One round of polls: the operation, and the hosts it waits on.
struct Polling<'a> {
    operation: OperationId,
    plan: Option<i64>,
    waiting: &'a [String],
    watch: &'a WatchRequest,
}

async fn polls(
    emitter: &Emitter,
    probe: &RuntimeSteps,
    round: &Polling<'_>,
    misses: &mut HashMap<String, (u32, Instant)>,
    cancel: &CancellationToken,
) -> anyhow::Result<(Vec<String>, usize)> {
    let Polling { operation, plan, waiting, watch } = *round;
    emitter
        .emit(Event::Started {
            command: "watch".into(),
            hosts: waiting.len(),
            operation: Some(operation),
            plan,
            resumed: true,
        })
        .await?;
    emitter
        .emit(Event::Decision {
            phase: Phase::Contain,
            what: format!(
                "watching {} host(s) never reached: {} (polled at once, then after {}, doubling up to {})",
                waiting.len(),
                super::summary::name_list(waiting, 10),
                crate::inventory::format_duration(watch.backoff.first),
                crate::inventory::format_duration(watch.backoff.max)
            ),
        })
        .await?;
    let mut made = 0;
    loop {
        let now = Instant::now();
        let next = waiting.iter().map(|h| misses.get(h).map_or(now, |(_, at)| *at)).min().unwrap_or(now);
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = cancel.cancelled() => return Ok((Vec::new(), made)),
        }
        let now = Instant::now();
        let due: Vec<String> = waiting
            .iter()
            .filter(|h| misses.get(*h).is_none_or(|(_, at)| *at <= now))
            .cloned()
            .collect();
        let limit = watch.request.settings.step_timeout.min(Duration::from_secs(120));
        let answers = futures::future::join_all(due.iter().map(|h| async move {
            let answer = tokio::time::timeout(limit, probe.boot_time(h)).await;
            (h.clone(), answer)
        }))
        .await;
        if cancel.is_cancelled() {
            return Ok((Vec::new(), made));
        }
        let mut answered = Vec::new();
        for (host, answer) in answers {
            made += 1;
            let count = misses.get(&host).map_or(0, |(n, _)| *n) + 1;
            let what = match answer {
                Ok(Ok(boot)) => {
                    answered.push(host.clone());
                    format!("{POLL_PREFIX}{count} answered (booted {boot}): taking it into the operation")
                }
                failed => {
                    let why = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {}", crate::inventory::format_duration(limit)),
                    };
                    let pause = watch.backoff.pause_after(count);
                    misses.insert(host.clone(), (count, Instant::now() + pause));
                    format!(
                        "{POLL_PREFIX}{count} not answered ({why}); next poll in {}",
                        crate::inventory::format_duration(pause)
                    )
                }
            };
            emitter
                .emit(Event::Observed {
                    host: Some(host.clone()),
                    phase: Phase::Contain,
                    what,
                })
                .await
                .with_context(|| format!("{host}: the journal cannot record its poll"))?;
        }
        if !answered.is_empty() {
            return Ok((answered, made));
        }
    }
}

/// How the journal's line of a poll starts (an `observed` event of the
/// host): `watch: poll N answered (...)` or `watch: poll N not answered
/// (...)`.
pub const POLL_PREFIX: &str = "watch: poll ";

/// A poll as its journal line says it ([`read_poll`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollLine {
    /// 1 for the first poll of the host in a watch.
    pub number: u32,
    /// The host answered: it was taken into the operation.
    pub answered: bool,
}

/// Read a poll's journal line (the `what` of its `observed` event); `None`
/// when the line is not a poll's.
pub fn read_poll(what: &str) -> Option<PollLine> {
    let rest = what.strip_prefix(POLL_PREFIX)?;
    let (number, rest) = rest.split_once(' ')?;
    let number = number.parse().ok()?;
    if rest.starts_with("answered") {
        Some(PollLine { number, answered: true })
    } else if rest.starts_with("not answered") {
        Some(PollLine { number, answered: false })
    } else {
        None
    }
}

/// The command that continues a watch.
pub fn resume_command(inventory: &std::path::Path, engagement: &std::path::Path) -> String {
    format!("cauterize watch -i {} --engagement {}", inventory.display(), PathBuf::from(engagement).display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, state: &str) -> OperationHostRow {
        OperationHostRow {
            host: host.into(),
            address: "127.0.0.1".into(),
            role: "workstation".into(),
            state: state.into(),
            reason: None,
            round: 0,
            contained: false,
            updated_at: String::new(),
        }
    }

    #[test]
    fn back_off_doubles_from_the_first_pause_up_to_the_cap() {
        let b = Backoff {
            first: Duration::from_secs(30),
            max: Duration::from_secs(300),
        };
        let pauses: Vec<u64> = (1..=7).map(|n| b.pause_after(n).as_secs()).collect();
        assert_eq!(pauses, [30, 60, 120, 240, 300, 300, 300]);
        // Far past any count a watch reaches, still the cap.
        assert_eq!(b.pause_after(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn a_polls_journal_line_reads_back() {
        let yes = format!("{POLL_PREFIX}3 answered (booted 2026-01-01T00:00:00Z): taking it into the operation");
        assert_eq!(read_poll(&yes), Some(PollLine { number: 3, answered: true }));
        let no = format!("{POLL_PREFIX}12 not answered (connection refused); next poll in 4m");
        assert_eq!(read_poll(&no), Some(PollLine { number: 12, answered: false }));
        for other in ["watch: polling 3 hosts", "watch: poll x answered", "contained", "watch: poll 2 skipped"] {
            assert_eq!(read_poll(other), None, "{other}");
        }
    }

    #[test]
    fn watched_hosts_are_the_never_reached_ones_not_accepted() {
        let rows = [
            row("WS-01", "clean"),
            row("WS-02", "unreached"),
            row("WS-03", "refused"),
            row("WS-04", "refused"),
            row("WS-05", "unreached"),
            row("WS-06", "reboot_asked"),
            row("WS-07", "needs_person"),
        ];
        // WS-04 was scanned (its plan is stale: the operator plans again);
        // WS-05 was accepted by name.
        let scanned: HashSet<String> = ["ws-01", "ws-04"].iter().map(|s| s.to_string()).collect();
        let list = Watchlist::of(&rows, &scanned, &["ws-05".to_string()]);
        assert_eq!(list.waiting, ["WS-02", "WS-03"]);
        assert_eq!(list.unfinished, ["WS-06"]);
        assert_eq!(Watchlist::settled_exit_code(&rows, &[]), crate::exit::PARTIAL);
        let done = [row("WS-01", "released"), row("WS-02", "clean"), row("WS-03", "unreached")];
        assert_eq!(Watchlist::settled_exit_code(&done, &["WS-03".into()]), crate::exit::OK);
    }
}
