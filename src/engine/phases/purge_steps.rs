//! The plan's deny-write and Defender-exclusion steps: carried out in the
//! purge after the host's runtime ops (the loader is killed first, so it
//! holds no open handle the deny could not stop, and the files the plan
//! deletes are gone before the inherited deny reaches them), and the deny
//! lifted at release. Each step is its own action, journaled before it is
//! sent and after it answered, under the plan operation it carries out
//! (`purge/r0/op/<id>`); the lift under `release/deny/<id>`, so a resumed
//! release never lifts twice what was lifted, and sends again only what
//! never ended.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::event::{Event, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Replan};
use crate::engine::resume::key;
use crate::engine::steps::{HostSteps, StepError};
use crate::plan::Step;
use crate::runtime::purge_steps::{PurgeStepOp, StepOutcome, StepReport};

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

/// The journal's outcome of a step's report.
fn judge(r: &StepReport) -> (Outcome, String) {
    let summary = r.summary();
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
    async fn journaled_step(
        &self,
        host: &str,
        phase: Phase,
        key: String,
        plan_op: i64,
        op: PurgeStepOp,
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
                Some(r) => judge(r),
                None => (Outcome::Failed, "the host reported no outcome".to_string()),
            },
            Err(e) => (Outcome::Failed, e.to_string()),
        };
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

    /// The host's reviewed deny-write and Defender steps of the purge not
    /// already settled in the journal, in the plan's order; their outcomes
    /// counted into `counts`. Stops at a step that could not be sent
    /// (the host is gone, or Ctrl-C): `Err` with why.
    pub(in crate::engine) async fn run_purge_steps(
        &self,
        host: &str,
        counts: &mut BTreeMap<&'static str, usize>,
    ) -> Result<Result<(), StepError>, EngineError> {
        let mut todo: Vec<(i64, Step)> = self
            .planned(host)
            .steps
            .iter()
            .filter(|(id, s)| purge_step_op(s).is_some() && !self.prior.status(host, &key::op(0, *id)).settled())
            .cloned()
            .collect();
        todo.sort_by_key(|(_, s)| s.order());
        for (id, step) in todo {
            let Some(op) = purge_step_op(&step) else { continue };
            match self.journaled_step(host, Phase::Purge, key::op(0, id), id, op).await? {
                Ok(outcome) => *counts.entry(outcome.as_str()).or_insert(0) += 1,
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(()))
    }

    /// Lift the deny of each of the host's reviewed deny-write steps whose
    /// lift the journal does not have settled (a deny never placed answers
    /// already_absent: the lift removes exactly our ACE or nothing); `Err`
    /// names what is left.
    pub(in crate::engine) async fn lift_denies(&self, host: &str) -> Result<Result<usize, String>, EngineError> {
        let denies: Vec<(i64, String)> = self
            .planned(host)
            .steps
            .iter()
            .filter_map(|(id, s)| match s {
                Step::DenyWrites { folder } => Some((*id, folder.clone())),
                _ => None,
            })
            .filter(|(id, _)| !self.prior.status(host, &lift_key(*id)).settled())
            .collect();
        let mut lifted = 0;
        let mut left = Vec::new();
        for (id, folder) in denies {
            match self.journaled_step(host, Phase::Release, lift_key(id), id, PurgeStepOp::lift(&folder)).await? {
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
