//! The plan's deny-write and Defender-exclusion steps: carried out in the
//! purge after the host's runtime ops (the loader is killed first, so it
//! holds no open handle the deny could not stop, and the files the plan
//! deletes are gone before the inherited deny reaches them), in the first
//! purge and in each re-purge round whose plan lists them, and the deny
//! lifted at release. In a re-purge round, a deny whose folder the host
//! no longer has (the first round removed it once its reboot was past,
//! and the loader did not make it again) is not needed: nothing is
//! placed, and the journal records it `already_absent` with why; where
//! the loader made the folder again, the deny is placed as in the first
//! purge. In the first purge a folder gone is drift (the plan saw it
//! there), which leaves the host for a person. Each step is its own action, journaled before it is
//! sent and after it answered, under the plan operation it carries out
//! (`purge/r<round>/op/<id>`); the lift under `release/deny/<id>`, so a
//! resumed release never lifts twice what was lifted, and sends again only
//! what never ended. The release lifts exactly the denies the journal says
//! were placed (or may have been: sent by a run that ended before the
//! host answered); one refused, never sent, or whose folder was gone is
//! not lifted.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::event::{Event, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Replan};
use crate::engine::resume::{ActionStatus, key};
use crate::engine::steps::{HostSteps, StepError};
use crate::plan::Step;
use crate::runtime::purge_steps::{PurgeStepOp, StepOutcome, StepReport};

/// The purge line's count of round denies not needed (their folder gone).
pub const DENY_NOT_NEEDED: &str = "deny not needed (folder gone)";

/// The journal key of lifting the deny of plan operation `plan_op_id`.
pub fn lift_key(plan_op_id: i64) -> String {
    format!("release/deny/{plan_op_id}")
}

/// The host operation of a reviewed step, for the steps this module runs.
pub fn purge_step_op(step: &Step) -> Option<PurgeStepOp> {
    match step {
        Step::DenyWrites { folder } => Some(PurgeStepOp::deny(folder)),
        Step::RevertDefenderExclusion { hive, key, value } => Some(PurgeStepOp::RevertDefenderExclusion {
            hive: hive.clone(),
            key: key.clone(),
            value: value.clone(),
        }),
        _ => None,
    }
}

/// The journal's outcome of a step's report. `gone_not_needed`: a deny
/// whose folder the host reports gone is not needed (a re-purge round).
fn judge(r: &StepReport, op: &PurgeStepOp, gone_not_needed: bool) -> (Outcome, String) {
    let summary = r.summary();
    let deny = matches!(op, PurgeStepOp::DenyWrites { .. });
    if gone_not_needed && deny && r.folder_gone && matches!(r.outcome, StepOutcome::Drift { .. }) {
        return (
            Outcome::AlreadyAbsent,
            format!("not needed: the folder is gone, nothing to deny (the host: {summary})"),
        );
    }
    match &r.outcome {
        StepOutcome::Done { .. } => (Outcome::Done, summary),
        StepOutcome::AlreadyAbsent { .. } => (Outcome::AlreadyAbsent, summary),
        StepOutcome::Drift { .. } => (Outcome::Drift, format!("the host shows something else now: {summary}")),
        StepOutcome::NeedsPerson { .. } => (Outcome::Failed, format!("needs a person: {summary}")),
        StepOutcome::Failed { .. } => (Outcome::Failed, summary),
    }
}

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    /// One step on `host`, journaled under `key`: begun, sent, ended.
    /// `gone_not_needed`: see [`judge`].
    async fn journaled_step(
        &self,
        host: &str,
        phase: Phase,
        key: String,
        plan_op: i64,
        op: PurgeStepOp,
        gone_not_needed: bool,
    ) -> Result<Result<Outcome, StepError>, EngineError> {
        self.emit(Event::ActionBegun {
            host: host.into(),
            phase,
            key: key.clone(),
            plan_op: Some(plan_op),
            what: serde_json::json!({ "op": op.kind(), "fields": op.fields().into_iter().collect::<BTreeMap<_, _>>() }).to_string(),
        })
        .await?;
        let steps = Arc::clone(&self.steps);
        let result = self
            .step(|| {
                let (steps, host, op) = (Arc::clone(&steps), host.to_string(), op.clone());
                async move { steps.purge_steps(&host, std::slice::from_ref(&op)).await }
            })
            .await;
        let (outcome, detail) = match &result {
            Ok(reports) => match reports.first() {
                Some(r) => judge(r, &op, gone_not_needed),
                None => (Outcome::Failed, "the host reported no outcome".to_string()),
            },
            Err(e) => (Outcome::Failed, e.to_string()),
        };
        if phase == Phase::Purge {
            // A deny not placed is something a verifying scan cannot vouch
            // for (`left_in_place`).
            self.left_in_place.lock().unwrap_or_else(|p| p.into_inner()).record_step(host, &op, outcome, &detail);
            if matches!(op, PurgeStepOp::DenyWrites { .. }) {
                self.deny_outcomes.lock().unwrap_or_else(|p| p.into_inner()).insert((host.to_lowercase(), plan_op), outcome);
            }
        }
        self.emit(Event::ActionEnded {
            host: host.into(),
            phase,
            key,
            outcome,
            detail,
        })
        .await?;
        Ok(result.map(|_| outcome))
    }

    /// The host's deny-write and Defender steps of `round` (the reviewed
    /// plan's, or the round's plan's) not already settled in the journal,
    /// in the plan's order; their outcomes counted into `counts`. Stops
    /// at a step that could not be sent (the host is gone, or Ctrl-C):
    /// `Err` with why.
    pub(in crate::engine) async fn run_purge_steps(
        &self,
        host: &str,
        round: u32,
        counts: &mut BTreeMap<&'static str, usize>,
    ) -> Result<Result<(), StepError>, EngineError> {
        let mut todo: Vec<(i64, Step)> = self
            .purge_steps_of(host, round)
            .into_iter()
            .filter(|(id, _)| !self.prior.status(host, &key::op(round, *id)).settled())
            .collect();
        todo.sort_by_key(|(_, s)| s.order());
        for (id, step) in todo {
            let Some(op) = purge_step_op(&step) else { continue };
            let deny = matches!(op, PurgeStepOp::DenyWrites { .. });
            match self.journaled_step(host, Phase::Purge, key::op(round, id), id, op, round > 0).await? {
                // A deny answers already_absent only when it was not needed.
                Ok(Outcome::AlreadyAbsent) if deny => *counts.entry(DENY_NOT_NEEDED).or_insert(0) += 1,
                Ok(outcome) => *counts.entry(outcome.as_str()).or_insert(0) += 1,
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(()))
    }

    /// Was the deny of step `id` (of `round`) placed on `host`? This
    /// run's outcome when it sent it, else the journal's: done, or sent by
    /// an earlier run that ended before the host answered (it may be
    /// there; lifting an ACE that is not there changes nothing).
    fn deny_placed(&self, host: &str, round: u32, id: i64) -> bool {
        let this_run = self.deny_outcomes.lock().unwrap_or_else(|p| p.into_inner()).get(&(host.to_lowercase(), id)).copied();
        match this_run {
            Some(outcome) => outcome == Outcome::Done,
            None => matches!(
                self.prior.status(host, &key::op(round, id)),
                ActionStatus::Ended(Outcome::Done) | ActionStatus::Unfinished
            ),
        }
    }

    /// Lift the deny of each of the host's deny-write steps, of every
    /// round, that was placed ([`Engine::deny_placed`]) and whose lift the
    /// journal does not have settled (the lift removes exactly our ACE or
    /// nothing); `Err` names what is left.
    pub(in crate::engine) async fn lift_denies(&self, host: &str) -> Result<Result<usize, String>, EngineError> {
        let mut rounds: Vec<u32> = self
            .later_steps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|(h, _)| *h == host.to_lowercase())
            .map(|(_, r)| *r)
            .collect();
        rounds.push(0);
        rounds.sort_unstable();
        let denies: Vec<(i64, String)> = rounds
            .into_iter()
            .flat_map(|round| {
                self.purge_steps_of(host, round).into_iter().filter_map(move |(id, s)| match s {
                    Step::DenyWrites { folder } => Some((round, id, folder)),
                    _ => None,
                })
            })
            .filter(|(round, id, _)| self.deny_placed(host, *round, *id))
            .map(|(_, id, folder)| (id, folder))
            .filter(|(id, _)| !self.prior.status(host, &lift_key(*id)).settled())
            .collect();
        let mut lifted = 0;
        let mut left = Vec::new();
        for (id, folder) in denies {
            match self.journaled_step(host, Phase::Release, lift_key(id), id, PurgeStepOp::lift(&folder), false).await? {
                Ok(Outcome::Done) => lifted += 1,
                Ok(Outcome::AlreadyAbsent) => {}
                Ok(other) => left.push(format!("{folder} ({})", other.as_str())),
                Err(e) => left.push(format!("{folder} ({e})")),
            }
        }
        if left.is_empty() {
            Ok(Ok(lifted))
        } else {
            Ok(Err(format!("the deny ACE could not be lifted from {}", left.join(", "))))
        }
    }
}
