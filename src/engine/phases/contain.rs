//! Containment: every reachable in-scope host gets its rules and dead-man,
//! read back in effect, before any purge starts; hosts the reviewed plan
//! keeps uncontained (exempt, `contain.never`) get none. A host whose rules are
//! not in effect (firewall profile off, local rules ignored by Group
//! Policy, another firewall product) is not counted as contained; the
//! playbook says whether the purge may start without it. A resumed run
//! first makes the rules of the hosts an earlier run contained again, with
//! the operator's address as each sees cauterize now (an operation may
//! resume from another jump host or NAT address); so does a verifying
//! scan whose own logon came from an address not yet exempt.

use std::sync::Arc;

use crate::engine::event::{Event, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Flow, Replan};
use crate::engine::resume::key;
use crate::engine::state::HostState;
use crate::engine::steps::{ContainReport, HostSteps, StepError, StepResult};
use crate::engine::summary::Halt;

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    pub(in crate::engine) async fn contain_phase(self: &Arc<Self>) -> Result<Flow, EngineError> {
        let candidates = self.hosts_where(|r| hosts_candidate(r.state, r.contained) && !self.left_to_watch(r));
        // Hosts the reviewed plan keeps uncontained (exempt, never
        // contained) get no rules: they go on to the purge as they are.
        let (kept_out, hosts): (Vec<String>, Vec<String>) =
            candidates.into_iter().partition(|h| self.planned(h).uncontained_by_plan());
        // Hosts an earlier run of this operation contained (a resumed
        // run): their rules are made again first, so the operator's
        // address as each sees cauterize now keeps SMB before anything
        // else is done on it (the operation may resume from elsewhere). A
        // run of `watch` takes in its late hosts only and leaves the
        // others as they are.
        let again = if self.late.is_some() {
            Vec::new()
        } else {
            self.hosts_where(|r| r.contained && r.state != HostState::Released && !hosts_candidate(r.state, r.contained))
        };
        if self.available.contain.is_none() && !again.is_empty() {
            self.for_hosts(again, self.settings.forks, |me, host| async move {
                me.contain_again(&host, "the operation resumed").await
            })
            .await?;
        }
        for h in &kept_out {
            if self.record(h).state == HostState::Pending {
                let why = if self.planned(h).exempt { "exempt from containment (plan)" } else { "never contained (plan)" };
                self.set(h, HostState::NotContained, Some(format!("not contained: {why}"))).await?;
            }
        }
        self.emit(Event::PhaseStarted {
            phase: Phase::Contain,
            hosts: hosts.len(),
        })
        .await?;
        if let Some(why) = self.available.contain.clone() {
            for h in &hosts {
                if self.record(h).state != HostState::NotContained {
                    self.set(h, HostState::NotContained, Some("not contained: containment is not available".into()))
                        .await?;
                }
            }
            // Every host shares the one reason: the phase says it once.
            self.finish_phase(Phase::Contain, &[], Some(why)).await?;
        } else {
            self.for_hosts(hosts.clone(), self.settings.forks, |me, host| async move {
                me.contain_host(&host).await
            })
            .await?;
            self.finish_phase(Phase::Contain, &hosts, None).await?;
        }
        let uncontained: Vec<String> = self
            .hosts_where(|r| r.state == HostState::NotContained)
            .into_iter()
            .filter(|h| !self.planned(h).uncontained_by_plan())
            .collect();
        if uncontained.is_empty() {
            return Ok(Flow::Go);
        }
        if !self.settings.contain.purge_without_containment {
            return Ok(Flow::Halt(Halt {
                phase: Phase::Contain,
                why: format!(
                    "containment is not in effect on {} host(s) ({}) and the playbook does not let the purge start without it",
                    uncontained.len(),
                    crate::engine::summary::name_list(&uncontained, 8)
                ),
                next: format!("fix containment on those hosts, then {}", self.resume_command),
            }));
        }
        self.emit(Event::Decision {
            phase: Phase::Contain,
            what: format!(
                "the purge starts without containment on {} host(s) (playbook: purge_without_containment); they hold the release until verified clean: {}",
                uncontained.len(),
                crate::engine::summary::name_list(&uncontained, 8)
            ),
        })
        .await?;
        Ok(Flow::Go)
    }

    async fn contain_host(&self, host: &str) -> Result<(), EngineError> {
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Contain,
            step: "contain".into(),
        });
        let result = self
            .make_rules(host, key::contain(), String::new(), |r| match r {
                Ok(report) if report.in_effect && report.summary.is_empty() => (Outcome::Done, "rules read back in effect".into()),
                Ok(report) if report.in_effect => (Outcome::Done, format!("rules read back in effect: {}", report.summary)),
                Ok(report) => (Outcome::Failed, report.problems.join("; ")),
                Err(e) => (Outcome::Failed, e.to_string()),
            })
            .await?;
        let made_rules = result.is_ok();
        let (state, reason, ok) = match result {
            // Ctrl-C: the host stays where it was; a resumed run tries again.
            Err(StepError::Interrupted) => return Ok(()),
            Ok(report) if report.in_effect => (HostState::Contained, None, true),
            Ok(report) => (
                HostState::NotContained,
                Some(format!("rules made but not in effect: {}", report.problems.join("; "))),
                false,
            ),
            Err(e) if e.unreached() => (HostState::Unreached, Some(e.to_string()), false),
            Err(e) => (HostState::NotContained, Some(format!("containment failed: {e}")), false),
        };
        if made_rules {
            // Rules are on the host even when not in effect: the release
            // removes them.
            if let Some(r) = self.lock_records().get_mut(&host.to_lowercase()) {
                r.contained = true;
            }
        }
        self.set(host, state, reason.clone()).await?;
        if !state.set_aside() {
            self.show(Event::HostFinished {
                host: host.into(),
                phase: Phase::Contain,
                ok,
                detail: reason,
            });
        }
        Ok(())
    }

    /// Make the rules of `host`, contained before, again: the same shared
    /// exempt set, and the operator's addresses as it sees cauterize now
    /// (read from its Security log by the step). Its state stays; a
    /// failure is journaled and told (it keeps the rules it had).
    pub(in crate::engine) async fn contain_again(&self, host: &str, why: &str) -> Result<(), EngineError> {
        self.make_rules(host, key::contain_again(), format!("{why}: "), |r| match r {
            Ok(report) if report.in_effect => (Outcome::Done, format!("rules made again, read back in effect: {}", report.summary)),
            Ok(report) => (Outcome::Failed, report.problems.join("; ")),
            Err(e) => (Outcome::Failed, format!("rules not made again (the earlier ones stay): {e}")),
        })
        .await
        .map(|_| ())
    }

    /// The containment step on `host` as the journaled action `key`
    /// (`what` before the request it sends), judged by `judge`; the
    /// operator's addresses the host's rules now keep SMB open to are
    /// remembered.
    async fn make_rules(
        &self,
        host: &str,
        key: String,
        what: String,
        judge: impl FnOnce(&StepResult<ContainReport>) -> (Outcome, String),
    ) -> Result<StepResult<ContainReport>, EngineError> {
        let request = self.contain_request(host);
        let what = format!("{what}{}", serde_json::to_string(&request).unwrap_or_default());
        let steps = Arc::clone(&self.steps);
        let result = self
            .action(
                host,
                Phase::Contain,
                key,
                what,
                || {
                    let (steps, request, host) = (Arc::clone(&steps), request.clone(), host.to_string());
                    async move { steps.contain(&host, &request).await }
                },
                judge,
            )
            .await?;
        if let Ok(report) = &result {
            self.note_operator_seen(host, &report.operator);
        }
        Ok(result)
    }
}

/// A host the contain phase contains: not reached or not contained yet.
fn hosts_candidate(state: HostState, contained: bool) -> bool {
    matches!(state, HostState::Pending | HostState::Unreached | HostState::NotContained) || (state == HostState::Contained && !contained)
}
