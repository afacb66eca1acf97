//! The operation: contain every reachable host and read its rules back,
//! then purge, then reboot in waves (each host verified by a scan after it
//! is back, re-purged and rebooted again within the re-purge rounds), then
//! verify the hosts that needed no reboot, then release by policy. Each
//! phase ends before the next begins (a barrier): no purge starts before
//! containment is done everywhere it can be.
//!
//! Everything happens through [`HostSteps`] (the host), [`Replan`] (a new
//! plan from a verifying scan, recorded in the journal) and [`Approver`]
//! (the operator's go-ahead after the canary), and is told through the
//! [`Emitter`] (the journal first). The phases themselves are in
//! [`super::phases`]; this file holds what they share: host records and
//! their moves, actions written before and after, time-outs and retries,
//! the failure budget, halting.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::event::{Event, Level, Outcome, Phase};
use super::phases::ReleaseSelection;
use super::plan_input::{OperationPlan, PlannedHost, PlannedOp};
use super::resume::Prior;
use super::settings::OperationSettings;
use super::state::{HostRecord, HostState, IllegalMove};
use super::steps::{Available, HostSteps, StepError, StepResult};
use super::summary::{Halt, OperationResult, PhaseSummary};
use crate::journal::JournalError;
use crate::runtime::snapshot::Snapshot;

/// A new plan from a verifying scan: the scan and the plan are recorded in
/// the journal (`status` shows them; nothing found later is purged
/// silently), and what the verdict needs comes back.
pub trait Replan: Send + Sync + 'static {
    fn replan(
        &self,
        host: &str,
        snapshot: Snapshot,
        round: u32,
    ) -> impl Future<Output = Result<Replanned, String>> + Send;
}

/// What a verifying scan's plan says of a host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replanned {
    /// The plan's active operations (the next re-purge round).
    pub ops: Vec<PlannedOp>,
    /// The plan's active deny-write and Defender-exclusion steps, with
    /// their journal rows: the re-purge round carries them out like the
    /// first purge does.
    pub steps: Vec<(i64, crate::plan::Step)>,
    /// The findings the purge acts on, as headlines, whether or not a step
    /// could be planned for them. A host is clean only when there are
    /// none: one found again that no operation addresses (every step
    /// vetoed, or none can be derived) is for a person, never clean.
    pub acted_on: Vec<String>,
    /// Findings of a known loader family on what starts code (an
    /// autostart, task, service, WMI subscription, process) the purge
    /// leaves alone only because they are below the playbook's confidence
    /// ([`crate::plan::loaders_not_acted_on`]), as headlines. A scan that
    /// shows one has not shown the host clean: it is for a person.
    pub loaders_left: Vec<String>,
}

impl Replanned {
    /// Nothing to carry out in a re-purge round.
    pub fn nothing_to_do(&self) -> bool {
        self.ops.is_empty() && self.steps.is_empty()
    }
}

/// The operator's go-ahead (after the canary wave).
pub trait Approver: Send + Sync + 'static {
    /// `question` says what was done and what comes next.
    fn go_ahead(&self, question: &str) -> impl Future<Output = bool> + Send;
}

/// Why the engine itself cannot go on (as opposed to a host failing).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The journal cannot record: nothing more is done, since an action
    /// the journal does not have could be done twice after a resume.
    #[error("the journal cannot record the operation, so it stops here: {0}")]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Illegal(#[from] IllegalMove),
    #[error("internal error (please report): {0}")]
    Bug(String),
}

/// Everything an operation runs with.
pub struct Inputs<S, R, A> {
    pub steps: Arc<S>,
    pub replan: Arc<R>,
    pub approver: Arc<A>,
    pub plan: OperationPlan,
    pub settings: OperationSettings,
    pub emitter: Arc<Emitter>,
    pub cancel: CancellationToken,
    /// What earlier runs of this operation did (`--resume`).
    pub prior: Option<Prior>,
    /// Names every containment rule starts with (`cauterize-<id>`).
    pub rule_prefix: String,
    /// Addresses that keep SMB (servers by role, the operator's address).
    pub exempt: Vec<String>,
    /// Set-aside hosts the operator accepted by name: they do not hold the
    /// release.
    pub accepted: Vec<String>,
    /// The command that continues this operation (printed when it halts).
    pub resume_command: String,
    /// Phases to run (`contain` runs only the first; `release` the last).
    pub phases: Vec<Phase>,
    /// Which hosts the release phase lets go.
    pub release: ReleaseSelection,
    /// `Some` in a run of `watch`: the hosts that answered its poll, taken
    /// into the operation (a refused host with no scan moves to pending;
    /// an unreached one is contained again). Other unreached hosts are
    /// not tried: they are still down as far as watch knows.
    pub late: Option<Vec<String>>,
    /// Unlisted sources of lateral movement: asked before any release.
    pub sources: Arc<dyn super::sources::SourceCheck>,
}

/// Whether a phase lets the next one start.
pub(super) enum Flow {
    Go,
    Halt(Halt),
}

/// The running operation, shared by its host tasks.
pub(super) struct Engine<S, R, A> {
    pub(super) steps: Arc<S>,
    pub(super) replan: Arc<R>,
    pub(super) approver: Arc<A>,
    pub(super) settings: OperationSettings,
    pub(super) emitter: Arc<Emitter>,
    pub(super) cancel: CancellationToken,
    pub(super) prior: Prior,
    pub(super) available: Available,
    pub(super) rule_prefix: String,
    pub(super) exempt: Vec<String>,
    pub(super) accepted: Vec<String>,
    pub(super) resume_command: String,
    /// By lower-case name.
    pub(super) planned: HashMap<String, PlannedHost>,
    pub(super) records: Mutex<HashMap<String, HostRecord>>,
    /// Operations of later rounds (re-purges), by (lower-case host, round).
    pub(super) later_ops: Mutex<HashMap<(String, u32), Vec<PlannedOp>>>,
    /// Deny-write and Defender steps of later rounds, by (lower-case host,
    /// round).
    pub(super) later_steps: Mutex<HashMap<(String, u32), Vec<(i64, crate::plan::Step)>>>,
    /// What each deny-write step of this run ended as, by (lower-case
    /// host, plan step): the release lifts what was placed.
    pub(super) deny_outcomes: Mutex<HashMap<(String, i64), super::event::Outcome>>,
    pub(super) phases: Mutex<Vec<PhaseSummary>>,
    /// Files the purge was to delete and left in place: such a host is
    /// never verified clean.
    pub(super) left_in_place: Mutex<super::left_in_place::LeftInPlace>,
    pub(super) excluded: Vec<super::plan_input::Excluded>,
    pub(super) release: ReleaseSelection,
    /// [`Inputs::late`], lower-case.
    pub(super) late: Option<Vec<String>>,
    pub(super) sources: Arc<dyn super::sources::SourceCheck>,
    /// The sources' standing at the release's latest review.
    pub(super) sources_seen: Mutex<Vec<crate::fleet::holds::SourceHold>>,
    /// The operator's addresses as each host saw cauterize (the plan's,
    /// then what each containment step found), by lower-case host name:
    /// its rules keep SMB open to them.
    pub(super) operator_seen: Mutex<HashMap<String, Vec<String>>>,
}

/// Run the operation to its end, a halt or Ctrl-C.
pub async fn run<S: HostSteps, R: Replan, A: Approver>(inputs: Inputs<S, R, A>) -> Result<OperationResult, EngineError> {
    let available = inputs.steps.available();
    let mut prior = inputs.prior.unwrap_or_default();
    let mut plan = inputs.plan;
    // Hosts the operation does not act on but that hold the release (a
    // stale plan, no scan): part of it as refused hosts.
    let (holding, excluded): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.excluded).into_iter().partition(|e| e.holds_release);
    plan.excluded = excluded;
    for e in holding {
        if plan.hosts.iter().any(|h| h.name.eq_ignore_ascii_case(&e.host)) {
            continue;
        }
        prior.hosts.entry(e.host.to_lowercase()).or_insert_with(|| HostRecord {
            name: e.host.clone(),
            state: HostState::Refused,
            reason: Some(e.why.clone()),
            round: 0,
            contained: false,
        });
        plan.hosts.push(PlannedHost {
            name: e.host.clone(),
            address: e.address.clone(),
            role: super::settings::Role::Workstation,
            groups: Vec::new(),
            snapshot_id: None,
            ops: Vec::new(),
            exempt: false,
            never_contained: false,
            operator: Vec::new(),
            steps: Vec::new(),
        });
    }
    let mut records = HashMap::new();
    for h in &plan.hosts {
        let key = h.name.to_lowercase();
        let record = prior.hosts.get(&key).cloned().unwrap_or_else(|| HostRecord::new(&h.name));
        records.insert(key, record);
    }
    let later = std::mem::take(&mut prior.later_ops);
    let later_steps = std::mem::take(&mut prior.later_steps);
    let left_in_place = super::left_in_place::LeftInPlace::from_prior(&prior);
    let engine = Arc::new(Engine {
        steps: inputs.steps,
        replan: inputs.replan,
        approver: inputs.approver,
        settings: inputs.settings,
        emitter: inputs.emitter,
        cancel: inputs.cancel,
        prior,
        available,
        rule_prefix: inputs.rule_prefix,
        exempt: inputs.exempt,
        accepted: inputs.accepted.iter().map(|a| a.to_lowercase()).collect(),
        resume_command: inputs.resume_command,
        planned: plan.hosts.iter().map(|h| (h.name.to_lowercase(), h.clone())).collect(),
        operator_seen: Mutex::new(plan.hosts.iter().map(|h| (h.name.to_lowercase(), h.operator.clone())).collect()),
        records: Mutex::new(records),
        later_ops: Mutex::new(later),
        later_steps: Mutex::new(later_steps),
        deny_outcomes: Mutex::new(HashMap::new()),
        phases: Mutex::new(Vec::new()),
        left_in_place: Mutex::new(left_in_place),
        excluded: plan.excluded.clone(),
        release: inputs.release,
        late: inputs.late.map(|l| l.iter().map(|h| h.to_lowercase()).collect()),
        sources: inputs.sources,
        sources_seen: Mutex::new(Vec::new()),
    });
    engine.take_in_late_hosts().await?;
    if inputs.phases.contains(&Phase::Reboot) && engine.late.is_none() {
        engine.take_up_hosts_left_for_users().await?;
    }
    let mut halt = None;
    let mut extender = None;
    for phase in [Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release] {
        if !inputs.phases.contains(&phase) {
            continue;
        }
        if engine.cancel.is_cancelled() {
            break;
        }
        let flow = match phase {
            Phase::Contain => engine.contain_phase().await?,
            Phase::Purge => engine.purge_phase().await?,
            Phase::Reboot => engine.reboot_phase().await?,
            Phase::Verify => engine.verify_phase().await?,
            _ => engine.release_phase().await?,
        };
        if phase == Phase::Contain && extender.is_none() {
            extender = Some(engine.start_deadman_extender());
        }
        if let Flow::Halt(h) = flow {
            halt = Some(h);
            break;
        }
    }
    drop(extender);
    let interrupted = engine.cancel.is_cancelled();
    if interrupted && halt.is_none() {
        halt = Some(Halt {
            phase: engine.current_phase(),
            why: "interrupted (Ctrl-C)".into(),
            next: engine.resume_command.clone(),
        });
    }
    if let Some(h) = &halt {
        engine.on_halt(h).await?;
    }
    Ok(engine.result(halt, interrupted))
}

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    /// The hosts that answered `watch` are taken into the operation: a
    /// refused one (no scan when the plan was made) becomes pending; the
    /// decision is journaled for each.
    async fn take_in_late_hosts(&self) -> Result<(), EngineError> {
        let Some(late) = self.late.clone() else { return Ok(()) };
        for key in late {
            let Some(record) = self.lock_records().get(&key).cloned() else {
                return Err(EngineError::Bug(format!("{key}: answered watch but is not a host of the operation")));
            };
            let what = match record.state {
                HostState::Refused => {
                    self.set(
                        &record.name,
                        HostState::Pending,
                        Some("answered watch: taken into the operation; it is scanned and planned after containment".into()),
                    )
                    .await?;
                    "answered watch: it had no scan when the plan was made; contained, then scanned, and what the scan finds is purged under a new plan (recorded in the journal and under plans/)"
                }
                _ => "answered watch: contained and carried through the operation from where it stopped",
            };
            self.emit(Event::Decision {
                phase: Phase::Contain,
                what: format!("{}: {what}", record.name),
            })
            .await?;
        }
        Ok(())
    }

    /// In a run of `watch`, an unreached host that did not answer its poll
    /// is left alone (it is still down as far as watch knows).
    pub(super) fn left_to_watch(&self, record: &HostRecord) -> bool {
        record.state == HostState::Unreached
            && self.late.as_ref().is_some_and(|late| !late.contains(&record.name.to_lowercase()))
    }

    /// A copy of a host's record.
    pub(super) fn record(&self, host: &str) -> HostRecord {
        self.lock_records()
            .get(&host.to_lowercase())
            .cloned()
            .unwrap_or_else(|| HostRecord::new(host))
    }

    pub(super) fn lock_records(&self) -> std::sync::MutexGuard<'_, HashMap<String, HostRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Names of the hosts whose state passes `keep`, in name order.
    pub(super) fn hosts_where(&self, keep: impl Fn(&HostRecord) -> bool) -> Vec<String> {
        let mut names: Vec<String> = self
            .lock_records()
            .values()
            .filter(|r| keep(r))
            .map(|r| r.name.clone())
            .collect();
        names.sort_by_key(|n| n.to_lowercase());
        names
    }

    pub(super) fn planned(&self, host: &str) -> &PlannedHost {
        &self.planned[&host.to_lowercase()]
    }

    /// Move a host: checked, journaled, then applied.
    pub(super) async fn set(&self, host: &str, to: HostState, reason: Option<String>) -> Result<(), EngineError> {
        self.set_round(host, to, reason, None).await
    }

    /// [`Engine::set`], entering re-purge round `round` when given.
    pub(super) async fn set_round(
        &self,
        host: &str,
        to: HostState,
        reason: Option<String>,
        round: Option<u32>,
    ) -> Result<(), EngineError> {
        let mut next = self.record(host);
        next.advance(to, reason.clone())?;
        if let Some(r) = round {
            next.round = r;
        }
        self.emitter
            .emit(Event::HostState {
                host: next.name.clone(),
                state: to,
                reason,
                round: next.round,
                contained: next.contained,
            })
            .await?;
        let name = next.name.clone();
        self.lock_records().insert(host.to_lowercase(), next);
        if to.set_aside() {
            // Every way a host leaves the operation counts as a failure in
            // the views, in the phase it failed in.
            self.show(Event::HostFinished {
                host: name,
                phase: to.phase(),
                ok: false,
                detail: reason_of(&self.record(host)),
            });
        }
        Ok(())
    }

    pub(super) async fn emit(&self, event: Event) -> Result<(), EngineError> {
        Ok(self.emitter.emit(event).await?)
    }

    pub(super) fn show(&self, event: Event) {
        self.emitter.show(&event);
    }

    pub(super) async fn message(&self, level: Level, host: Option<&str>, text: String) -> Result<(), EngineError> {
        self.emit(Event::Message {
            level,
            host: host.map(str::to_string),
            text,
        })
        .await
    }

    /// Run a host step with the operation's time-out and its retries (for
    /// errors that may pass), giving up at once on Ctrl-C.
    pub(super) async fn step<T, F, Fut>(&self, mut make: F) -> StepResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = StepResult<T>>,
    {
        let mut tries = 1;
        loop {
            if self.cancel.is_cancelled() {
                return Err(StepError::Interrupted);
            }
            let limit = self.settings.step_timeout;
            let result = tokio::select! {
                r = tokio::time::timeout(limit, make()) => r.unwrap_or(Err(StepError::TimedOut(limit))),
                () = self.cancel.cancelled() => Err(StepError::Interrupted),
            };
            match result {
                Err(e) if e.retryable() => {
                    tries += 1;
                    let Some(pause) = self.settings.retry.delay_before(tries) else {
                        return Err(e);
                    };
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = self.cancel.cancelled() => return Err(StepError::Interrupted),
                    }
                }
                other => return other,
            }
        }
    }

    /// An action on a host: journaled as begun, carried out (with
    /// time-out and retries), journaled as ended with `judge`'s outcome.
    pub(super) async fn action<T, F, Fut>(
        &self,
        host: &str,
        phase: Phase,
        key: String,
        what: String,
        make: F,
        judge: impl FnOnce(&StepResult<T>) -> (Outcome, String),
    ) -> Result<StepResult<T>, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = StepResult<T>>,
    {
        self.emit(Event::ActionBegun {
            host: host.to_string(),
            phase,
            key: key.clone(),
            plan_op: None,
            what,
        })
        .await?;
        let result = self.step(make).await;
        let (outcome, detail) = judge(&result);
        self.emit(Event::ActionEnded {
            host: host.to_string(),
            phase,
            key,
            outcome,
            detail,
        })
        .await?;
        Ok(result)
    }

    /// The failure budget over `hosts` (a phase's, or the waves' so far):
    /// `Some(why)` when more of them are set aside as failures than it
    /// allows.
    pub(super) fn budget_spent(&self, hosts: &[String]) -> Option<String> {
        if hosts.is_empty() {
            return None;
        }
        let records = self.lock_records();
        let failed: Vec<String> = hosts
            .iter()
            .filter(|h| records.get(&h.to_lowercase()).is_some_and(|r| r.state.is_failure()))
            .cloned()
            .collect();
        drop(records);
        let budget = self.settings.budget;
        budget.exceeded(failed.len(), hosts.len()).then(|| {
            format!(
                "the failure budget ({}) is spent: {} of {} host{} set aside ({})",
                budget.describe(),
                failed.len(),
                hosts.len(),
                if hosts.len() == 1 { "" } else { "s" },
                super::summary::name_list(&failed, 8)
            )
        })
    }

    /// Record a phase's summary and tell it.
    pub(super) async fn finish_phase(&self, phase: Phase, hosts: &[String], not_available: Option<String>) -> Result<(), EngineError> {
        self.finish_phase_with(phase, hosts, not_available, Vec::new()).await
    }

    /// [`Engine::finish_phase`], with `failed`: hosts this phase could not
    /// carry through whatever their state, each with why (set aside).
    pub(super) async fn finish_phase_with(
        &self,
        phase: Phase,
        hosts: &[String],
        not_available: Option<String>,
        failed: Vec<(String, String)>,
    ) -> Result<(), EngineError> {
        let records = self.lock_records().clone();
        let mut summary = PhaseSummary {
            phase,
            done: 0,
            set_aside: Vec::new(),
            not_available: not_available.clone(),
        };
        for h in hosts {
            let Some(r) = records.get(&h.to_lowercase()) else { continue };
            if let Some((_, why)) = failed.iter().find(|(f, _)| f.eq_ignore_ascii_case(h)) {
                summary.set_aside.push((r.name.clone(), why.clone()));
            } else if r.state.set_aside() || r.state == HostState::NotContained {
                summary
                    .set_aside
                    .push((r.name.clone(), r.reason.clone().unwrap_or_else(|| r.state.as_str().into())));
            } else {
                summary.done += 1;
            }
        }
        self.emit(Event::PhaseFinished {
            phase,
            done: summary.done,
            set_aside: summary.set_aside.len(),
            not_available,
        })
        .await?;
        self.phases.lock().unwrap_or_else(|p| p.into_inner()).push(summary);
        Ok(())
    }

    /// The phase the operation is in (for a halt's message).
    pub(super) fn current_phase(&self) -> Phase {
        self.phases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .map(|p| p.phase)
            .unwrap_or(Phase::Contain)
    }

    /// The operations of `host` in `round`: the plan's for round 0, a
    /// re-purge plan's after.
    pub(super) fn ops_of(&self, host: &str, round: u32) -> Vec<PlannedOp> {
        if round == 0 {
            return self.planned(host).ops.clone();
        }
        self.later_ops
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(host.to_lowercase(), round))
            .cloned()
            .unwrap_or_default()
    }

    /// The ops of `round` that wait for the host's reboot: the plan's
    /// after-reboot steps in round 0, those of the round's plan after.
    pub(super) fn after_reboot_ops_of(&self, host: &str, round: u32) -> Vec<PlannedOp> {
        if round == 0 {
            return self.planned(host).after_reboot_ops();
        }
        self.ops_of(host, round)
            .into_iter()
            .filter(|o| super::plan_input::runs_after_reboot(&o.op))
            .collect()
    }

    pub(super) fn set_ops(&self, host: &str, round: u32, ops: Vec<PlannedOp>, steps: Vec<(i64, crate::plan::Step)>) {
        self.later_ops
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((host.to_lowercase(), round), ops);
        self.later_steps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((host.to_lowercase(), round), steps);
    }

    /// The deny-write and Defender-exclusion steps of `host` in `round`:
    /// the reviewed plan's in round 0, the round's plan's after.
    pub(super) fn purge_steps_of(&self, host: &str, round: u32) -> Vec<(i64, crate::plan::Step)> {
        let steps = if round == 0 {
            self.planned(host).steps.clone()
        } else {
            self.later_steps
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&(host.to_lowercase(), round))
                .cloned()
                .unwrap_or_default()
        };
        steps.into_iter().filter(|(_, s)| super::phases::purge_step_op(s).is_some()).collect()
    }

    /// How many re-purge rounds `host` has: the playbook's, and one more
    /// for a host taken in late with no reviewed plan (its first purge is
    /// planned from its first verifying scan).
    pub(super) fn repurge_rounds_of(&self, host: &str) -> u32 {
        self.settings.repurge_rounds + u32::from(self.planned(host).never_planned())
    }

    /// A host needs a reboot: something was removed from it.
    pub(super) fn needs_reboot(&self, host: &str) -> bool {
        let r = self.record(host);
        self.planned(host).infected() || r.round > 0
    }

    /// When the operation stops early: countdowns still pending are
    /// aborted (the host stays purged and contained; the dead-man keeps its
    /// deadline, no longer extended), and the halt is told.
    async fn on_halt(&self, halt: &Halt) -> Result<(), EngineError> {
        let asked = self.hosts_where(|r| r.state == HostState::RebootAsked);
        if self.available.reboot.is_none() {
            for host in asked {
                let round = self.record(&host).round;
                let steps = Arc::clone(&self.steps);
                let h = host.clone();
                // Not through `step`: Ctrl-C must not stop the abort.
                self.emit(Event::ActionBegun {
                    host: host.clone(),
                    phase: Phase::Reboot,
                    key: super::resume::key::abort(round),
                    plan_op: None,
                    what: "shutdown /a".into(),
                })
                .await?;
                let r = tokio::time::timeout(self.settings.step_timeout, async move { steps.abort_reboot(&h).await })
                    .await
                    .unwrap_or(Err(StepError::TimedOut(self.settings.step_timeout)));
                let (outcome, detail) = match &r {
                    Ok(()) => (Outcome::Done, "countdown aborted".to_string()),
                    Err(e) => (Outcome::Failed, e.to_string()),
                };
                self.emit(Event::ActionEnded {
                    host: host.clone(),
                    phase: Phase::Reboot,
                    key: super::resume::key::abort(round),
                    outcome,
                    detail,
                })
                .await?;
                if r.is_ok() {
                    self.set(&host, HostState::Purged, Some(format!("reboot aborted: {}", halt.why))).await?;
                }
            }
        }
        self.emit(Event::Halted {
            phase: halt.phase,
            why: halt.why.clone(),
            next: halt.next.clone(),
        })
        .await
    }

    fn result(&self, halt: Option<Halt>, interrupted: bool) -> OperationResult {
        let mut hosts: Vec<HostRecord> = self.lock_records().values().cloned().collect();
        hosts.sort_by_key(|r| r.name.to_lowercase());
        OperationResult {
            hosts,
            excluded: self.excluded.clone(),
            accepted: self.accepted.clone(),
            phases: self.phases.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            halted: halt,
            interrupted,
            policy: self.settings.release,
            available: self.available.clone(),
            sources: self.sources_seen.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// While the operation runs, push the dead-man's deadline of every
    /// contained host out every `extend_every`. Stops (the deadline then
    /// stands) when the returned guard is dropped: at the end, on a halt,
    /// on Ctrl-C.
    fn start_deadman_extender(self: &Arc<Self>) -> DeadmanGuard {
        let stop = CancellationToken::new();
        if self.available.contain.is_some() {
            return DeadmanGuard { stop };
        }
        let (me, token) = (Arc::clone(self), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(me.settings.contain.extend_every) => {}
                    () = token.cancelled() => return,
                }
                let hosts = me.hosts_where(|r| r.contained);
                let mut failed = Vec::new();
                for h in &hosts {
                    if token.is_cancelled() {
                        return;
                    }
                    if let Err(e) = me.steps.extend_deadman(h, &me.contain_request(h)).await {
                        failed.push(format!("{h}: {e}"));
                    }
                }
                let what = if failed.is_empty() {
                    format!("dead-man extended on {} host(s)", hosts.len())
                } else {
                    format!(
                        "dead-man extended on {} of {} host(s); not on: {}",
                        hosts.len() - failed.len(),
                        hosts.len(),
                        failed.join("; ")
                    )
                };
                let _ = me
                    .emit(Event::Observed {
                        host: None,
                        phase: Phase::Contain,
                        what,
                    })
                    .await;
            }
        });
        DeadmanGuard { stop }
    }

    /// What containment makes on `host`: the shared exempt set, and the
    /// operator's addresses as that host saw cauterize.
    pub(super) fn contain_request(&self, host: &str) -> super::steps::ContainRequest {
        super::steps::ContainRequest {
            rule_prefix: self.rule_prefix.clone(),
            exempt: self.exempt.clone(),
            operator: self.operator_seen_by(host),
            deadman: self.settings.contain.deadman,
        }
    }

    /// The operator's addresses as `host` saw cauterize so far.
    pub(super) fn operator_seen_by(&self, host: &str) -> Vec<String> {
        self.operator_seen.lock().unwrap_or_else(|e| e.into_inner()).get(&host.to_lowercase()).cloned().unwrap_or_default()
    }

    /// Remember that `host` saw cauterize from `addresses`; `true` when
    /// one of them is new.
    pub(super) fn note_operator_seen(&self, host: &str, addresses: &[String]) -> bool {
        let mut map = self.operator_seen.lock().unwrap_or_else(|e| e.into_inner());
        let known = map.entry(host.to_lowercase()).or_default();
        let mut new = false;
        for a in addresses.iter().filter(|a| !a.is_empty()) {
            if !known.contains(a) {
                known.push(a.clone());
                new = true;
            }
        }
        new
    }

    /// Run `job` for every host of `hosts`, at most `limit` at once; no
    /// new host starts after Ctrl-C. The first engine error (the journal
    /// cannot record) stops the others from starting and ends the phase
    /// with that error.
    pub(super) async fn for_hosts<F, Fut>(
        self: &Arc<Self>,
        hosts: Vec<String>,
        limit: usize,
        job: F,
    ) -> Result<(), EngineError>
    where
        F: Fn(Arc<Self>, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), EngineError>> + Send + 'static,
    {
        let job = Arc::new(job);
        let me = Arc::clone(self);
        let stop = self.cancel.child_token();
        let trip = stop.clone();
        let report = crate::transport::runner::run_all(
            hosts,
            limit.max(1),
            stop,
            crate::transport::runner::DEFAULT_GRACE,
            move |host, _| {
                let (job, me, trip) = (Arc::clone(&job), Arc::clone(&me), trip.clone());
                async move {
                    let r = job(me, host).await;
                    if r.is_err() {
                        trip.cancel();
                    }
                    r
                }
            },
            |host, why| match why {
                crate::transport::runner::Missing::Panicked(m) => {
                    Err(EngineError::Bug(format!("{host}: {m}")))
                }
                _ => Ok(()),
            },
            |_| {},
        )
        .await;
        report.results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
    }
}

/// Stops the dead-man extender when dropped.
struct DeadmanGuard {
    stop: CancellationToken,
}

impl Drop for DeadmanGuard {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn reason_of(r: &HostRecord) -> Option<String> {
    r.reason.clone()
}

/// How long the engine waits between two reads of a rebooting host.
pub(super) fn poll_pause(settings: &OperationSettings) -> Duration {
    settings.reboot.poll_every.max(Duration::from_millis(1))
}
