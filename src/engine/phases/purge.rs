//! The purge: on each host, evidence first (a copy of every file to be
//! deleted, into the host's evidence ZIP), then the plan's operations in
//! order (kills, compare-and-delete of persistence, files deleted or
//! queued for deletion at boot), then its deny-write and Defender steps
//! (`purge_steps`), each written to the journal before it is
//! sent and after it answered. A file whose copy could not be secured is
//! not deleted. Infected exempt hosts (servers, domain controllers: they
//! keep SMB to the others) are purged first, before the hosts they could
//! re-infect.

use std::sync::Arc;

use crate::engine::event::{Event, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Flow, Replan};
use crate::engine::plan_input::{PlannedOp, runs_after_reboot};
use crate::engine::resume::{ActionStatus, key};
use crate::engine::state::HostState;
use crate::engine::steps::{EvidenceOutcome, HostSteps, StepError};
use crate::engine::summary::Halt;
use crate::evidence::EvidenceRequest;
use crate::runtime::ops::{Op, OpOutcome};

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    pub(in crate::engine) async fn purge_phase(self: &Arc<Self>) -> Result<Flow, EngineError> {
        let hosts = self.hosts_where(|r| {
            r.round == 0
                && matches!(r.state, HostState::Contained | HostState::NotContained | HostState::PurgeFailed)
        });
        self.emit(Event::PhaseStarted {
            phase: Phase::Purge,
            hosts: hosts.len(),
        })
        .await?;
        let (first, rest): (Vec<String>, Vec<String>) = hosts.iter().cloned().partition(|h| {
            let p = self.planned(h);
            p.infected() && (p.exempt || p.role.exempt_by_default())
        });
        let waiting: Vec<String> = hosts
            .iter()
            .filter(|h| !self.planned(h).not_carried_out().is_empty())
            .cloned()
            .collect();
        if !waiting.is_empty() {
            let kinds: std::collections::BTreeSet<String> = waiting
                .iter()
                .flat_map(|h| self.planned(h).not_carried_out().into_iter().map(|(_, s)| s.tag()).collect::<Vec<_>>())
                .collect();
            self.emit(Event::Decision {
                phase: Phase::Purge,
                what: format!(
                    "not carried out on {} host(s): their reviewed {} step(s), which the host runtime cannot do yet; they stay in the plan and the journal: {}",
                    waiting.len(),
                    kinds.into_iter().collect::<Vec<_>>().join(", "),
                    crate::engine::summary::name_list(&waiting, 8)
                ),
            })
            .await?;
        }
        if !first.is_empty() {
            self.emit(Event::Decision {
                phase: Phase::Purge,
                what: format!(
                    "{} infected host(s) that keep SMB to the others (servers, domain controllers) are purged first: {}",
                    first.len(),
                    crate::engine::summary::name_list(&first, 8)
                ),
            })
            .await?;
        }
        for batch in [first, rest] {
            if batch.is_empty() {
                continue;
            }
            self.for_hosts(batch, self.settings.forks, |me, host| async move {
                let ops = me.ops_of(&host, 0);
                me.purge_host(&host, 0, &ops).await
            })
            .await?;
            if let Some(why) = self.budget_spent(&hosts) {
                self.finish_phase(Phase::Purge, &hosts, None).await?;
                return Ok(Flow::Halt(Halt {
                    phase: Phase::Purge,
                    why,
                    next: self.resume_command.clone(),
                }));
            }
        }
        self.finish_phase(Phase::Purge, &hosts, None).await?;
        Ok(Flow::Go)
    }

    /// Purge one host in `round` with `ops`: evidence, then the operations
    /// the journal does not already have settled. Ends `Purged`, or set
    /// aside.
    pub(in crate::engine) async fn purge_host(&self, host: &str, round: u32, ops: &[PlannedOp]) -> Result<(), EngineError> {
        // A re-purge round's plan also lists what waits for the reboot.
        let ops: Vec<PlannedOp> = ops.iter().filter(|o| !runs_after_reboot(&o.op)).cloned().collect();
        let ops = ops.as_slice();
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Purge,
            step: format!("purge ({} operations)", ops.len()),
        });
        let to_send: Vec<(&PlannedOp, ActionStatus)> = self.prior.ops_to_send(host, round, ops);
        let resent = to_send
            .iter()
            .filter(|(_, s)| *s == ActionStatus::Unfinished)
            .count();
        if resent > 0 {
            self.emit(Event::Decision {
                phase: Phase::Purge,
                what: format!(
                    "{host}: {resent} operation(s) were sent by an earlier run that ended before their outcome was recorded; sent again (compare-and-delete: what the earlier run did reports already_absent)"
                ),
            })
            .await?;
        }
        let mut secured = None;
        let files: Vec<EvidenceRequest> = to_send.iter().filter_map(|(o, _)| evidence_request(&o.op)).collect();
        if self.settings.quarantine && !files.is_empty() {
            match self.secure_evidence(host, round, &files).await? {
                Ok(e) => secured = Some(e),
                Err(e) => return self.purge_failed(host, &e, "evidence could not be collected, nothing deleted").await,
            }
        }
        let unsecured_files: Vec<String> = match &secured {
            Some(ev) => files.iter().filter(|f| !ev.is_secured(&f.path)).map(|f| f.path.clone()).collect(),
            None => Vec::new(),
        };
        let mut send = Vec::new();
        for (o, _) in &to_send {
            let key = key::op(round, o.plan_op_id);
            let what = serde_json::to_string(&o.op).unwrap_or_default();
            self.emit(Event::ActionBegun {
                host: host.into(),
                phase: Phase::Purge,
                key: key.clone(),
                plan_op: Some(o.plan_op_id),
                what,
            })
            .await?;
            let unsecured = secured.as_ref().and_then(|ev| {
                evidence_request(&o.op).filter(|f| !ev.is_secured(&f.path)).map(|f| f.path)
            });
            // A folder removed whole would take such a file with it.
            let holds_unsecured = match &o.op {
                Op::RemoveFolder { path, .. } => unsecured_files.iter().find(|f| is_below(f, path.as_str())),
                _ => None,
            };
            if let Some(file) = holds_unsecured {
                self.emit(Event::ActionEnded {
                    host: host.into(),
                    phase: Phase::Purge,
                    key,
                    outcome: Outcome::Skipped,
                    detail: format!("not removed: it holds {file}, of which no evidence copy could be secured"),
                })
                .await?;
                continue;
            }
            match unsecured {
                Some(path) => {
                    let detail = format!("not deleted: no evidence copy of {path} could be secured");
                    self.note_left(host, &o.op, Outcome::Skipped, &detail);
                    self.emit(Event::ActionEnded {
                        host: host.into(),
                        phase: Phase::Purge,
                        key,
                        outcome: Outcome::Skipped,
                        detail,
                    })
                    .await?
                }
                None => send.push((o.op.clone(), key)),
            }
        }
        let mut counts = match self.carry_out(host, Phase::Purge, &send).await? {
            Ok(counts) => counts,
            Err(StepError::Interrupted) => return Ok(()),
            Err(e) => return self.purge_failed(host, &e, "the operations could not be sent").await,
        };
        // Then the round's deny-write and Defender steps (`purge_steps`;
        // a round's deny of a folder gone is not needed).
        match self.run_purge_steps(host, round, &mut counts).await? {
            Ok(()) => {}
            Err(StepError::Interrupted) => return Ok(()),
            Err(e) => return self.purge_failed(host, &e, "the deny-write and Defender steps could not be sent").await,
        }
        let line = if counts.is_empty() {
            "nothing to send".to_string()
        } else {
            counts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        };
        let reason = match (self.needs_reboot(host), &self.available.reboot) {
            (false, _) => line.clone(),
            (true, None) => format!("{line}; reboot next"),
            (true, Some(why)) => format!("{line}; needs a reboot, which this cauterize cannot make ({why})"),
        };
        self.set(host, HostState::Purged, Some(reason)).await?;
        self.show(Event::HostFinished {
            host: host.into(),
            phase: Phase::Purge,
            ok: true,
            detail: Some(line),
        });
        Ok(())
    }

    /// The evidence of `files`, or what the journal says an earlier run
    /// secured for this round.
    async fn secure_evidence(
        &self,
        host: &str,
        round: u32,
        files: &[EvidenceRequest],
    ) -> Result<Result<EvidenceOutcome, StepError>, EngineError> {
        let k = key::evidence(round);
        if let (ActionStatus::Ended(Outcome::Done), Some(prior)) = (self.prior.status(host, &k), self.prior.last(host, &k))
            && let Some(earlier) = evidence_from_detail(&prior.detail)
            && files.iter().all(|f| earlier.is_secured(&f.path))
        {
            return Ok(Ok(earlier));
        }
        let what = serde_json::json!({
            "files": files.iter().map(|f| &f.path).collect::<Vec<_>>()
        })
        .to_string();
        let steps = Arc::clone(&self.steps);
        self.action(
            host,
            Phase::Purge,
            k,
            what,
            || {
                let (steps, files, host) = (Arc::clone(&steps), files.to_vec(), host.to_string());
                async move { steps.evidence(&host, &files).await }
            },
            |r| match r {
                Ok(e) => (Outcome::Done, evidence_detail(e)),
                Err(e) => (Outcome::Failed, e.to_string()),
            },
        )
        .await
    }

    /// Send `ops` (each with its journal key, its begin already recorded)
    /// to `host` in one job, and record each one's end: the count of each
    /// outcome, or why the job could not be sent (every op then ended
    /// failed).
    pub(in crate::engine) async fn carry_out(
        &self,
        host: &str,
        phase: Phase,
        ops: &[(Op, String)],
    ) -> Result<Result<std::collections::BTreeMap<&'static str, usize>, StepError>, EngineError> {
        let mut counts = std::collections::BTreeMap::new();
        if ops.is_empty() {
            return Ok(Ok(counts));
        }
        let op_list: Vec<Op> = ops.iter().map(|(o, _)| o.clone()).collect();
        let steps = Arc::clone(&self.steps);
        let result = self
            .step(|| {
                let (steps, ops, host) = (Arc::clone(&steps), op_list.clone(), host.to_string());
                async move { steps.apply(&host, &ops).await }
            })
            .await;
        let outcomes = match result {
            Ok(o) => o,
            Err(e) => {
                for (op, key) in ops {
                    self.note_left(host, op, Outcome::Failed, &e.to_string());
                    self.emit(Event::ActionEnded {
                        host: host.into(),
                        phase,
                        key: key.clone(),
                        outcome: Outcome::Failed,
                        detail: e.to_string(),
                    })
                    .await?;
                }
                return Ok(Err(e));
            }
        };
        for (i, (op, key)) in ops.iter().enumerate() {
            let (outcome, detail) = match outcomes.get(i) {
                Some(o) => judge(o),
                None => (Outcome::Failed, "the host reported no outcome".to_string()),
            };
            self.note_left(host, op, outcome, &detail);
            *counts.entry(outcome.as_str()).or_insert(0usize) += 1;
            self.emit(Event::ActionEnded {
                host: host.into(),
                phase,
                key: key.clone(),
                outcome,
                detail,
            })
            .await?;
        }
        Ok(Ok(counts))
    }

    /// Keep what `op` ended as on `host` among the files left in place.
    fn note_left(&self, host: &str, op: &Op, outcome: Outcome, detail: &str) {
        self.left_in_place.lock().unwrap_or_else(|p| p.into_inner()).record(host, op, outcome, detail);
    }

    async fn purge_failed(&self, host: &str, e: &StepError, what: &str) -> Result<(), EngineError> {
        let (state, reason) = if e.unreached() && self.record(host).state != HostState::Contained {
            (HostState::Unreached, e.to_string())
        } else {
            (HostState::PurgeFailed, format!("{what}: {e}"))
        };
        self.set(host, state, Some(reason)).await?;
        Ok(())
    }
}

/// `file` is somewhere below `folder` (Windows paths, any case).
fn is_below(file: &str, folder: &str) -> bool {
    let (file, folder) = (file.to_lowercase(), folder.trim_end_matches('\\').to_lowercase());
    file.len() > folder.len() + 1 && file.starts_with(&folder) && file.as_bytes()[folder.len()] == b'\\'
}

/// The evidence a file operation needs (its path and the hash it expects).
fn evidence_request(op: &Op) -> Option<EvidenceRequest> {
    match op {
        Op::DeleteFile {
            path,
            expected_sha256,
            ..
        }
        | Op::QueueDeleteOnReboot {
            path,
            expected_sha256,
            ..
        } => Some(EvidenceRequest::new(path, Some(expected_sha256))),
        _ => None,
    }
}

/// The journal's detail of an evidence action: the archive and what it
/// secured (read back by a resumed run, and by the report).
fn evidence_detail(e: &EvidenceOutcome) -> String {
    serde_json::json!({
        "archive": e.archive,
        "secured": e.secured,
        "problems": e.problems,
    })
    .to_string()
}

fn evidence_from_detail(detail: &str) -> Option<EvidenceOutcome> {
    EvidenceOutcome::from_journal_detail(detail)
}

/// The journal's outcome of what the runtime answered.
fn judge(o: &OpOutcome) -> (Outcome, String) {
    match o {
        OpOutcome::Done => (Outcome::Done, String::new()),
        OpOutcome::AlreadyAbsent => (Outcome::AlreadyAbsent, String::new()),
        OpOutcome::Drift { observed } => (Outcome::Drift, format!("the host shows something else now: {observed}")),
        OpOutcome::QueuedForReboot => (Outcome::Queued, "in use: goes at the next boot".into()),
        OpOutcome::Failed { reason } => (Outcome::Failed, reason.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_below_its_folders_only() {
        assert!(is_below(r"C:\Users\bob\AppData\X\y.dll", r"c:\users\bob\appdata\x"));
        assert!(is_below(r"C:\Users\bob\AppData\X\Sub\y.dll", r"C:\Users\bob\AppData\X\"));
        assert!(!is_below(r"C:\Users\bob\AppData\Xy\y.dll", r"C:\Users\bob\AppData\X"));
        assert!(!is_below(r"C:\Users\bob\AppData\X", r"C:\Users\bob\AppData\X"));
    }

    #[test]
    fn evidence_details_round_trip() {
        let e = EvidenceOutcome {
            archive: "/case/evidence/WS-1/op1.zip".into(),
            secured: vec![r"c:\users\bob\x.dll".into()],
            problems: vec!["y: access denied".into()],
        };
        assert_eq!(evidence_from_detail(&evidence_detail(&e)), Some(e));
        assert_eq!(evidence_from_detail("not json"), None);
    }
}
