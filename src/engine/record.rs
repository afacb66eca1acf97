//! The journal sink: each event of an operation becomes journal rows, and
//! the emitter waits for their commit before the action runs. An action
//! begun is an `actions` row before the host is touched; its end fills the
//! row in; a host's move updates its `operation_hosts` row with an audit
//! line; decisions, observations, halts and phase ends are audit lines.
//! Progress-only events (a host started, finished) are not kept.

use super::event::{Event, Level as EventLevel};
use crate::journal::operation::{ActionStart, HostStateChange, OperationId};
use crate::journal::{JournalError, JournalHandle, Level, RunId};

/// Writes an operation's events into the journal.
#[derive(Debug, Clone)]
pub struct Recorder {
    journal: JournalHandle,
    run: RunId,
    operation: OperationId,
}

impl Recorder {
    pub fn new(journal: JournalHandle, run: RunId, operation: OperationId) -> Recorder {
        Recorder {
            journal,
            run,
            operation,
        }
    }

    pub fn operation(&self) -> OperationId {
        self.operation
    }

    pub fn journal(&self) -> &JournalHandle {
        &self.journal
    }

    /// Keep `event`; returns once it is committed.
    pub async fn record(&self, event: &Event) -> Result<(), JournalError> {
        let (op, run) = (self.operation, self.run);
        match event {
            Event::HostStarted { .. } | Event::HostFinished { .. } | Event::Finished { .. } => Ok(()),
            Event::ActionBegun {
                host,
                phase,
                key,
                plan_op,
                what,
            } => {
                let (host, phase, key, plan_op, what) =
                    (host.clone(), phase.as_str(), key.clone(), *plan_op, what.clone());
                self.journal
                    .call(move |j| {
                        j.operation_action_begun(
                            op,
                            run,
                            &ActionStart {
                                host: &host,
                                phase,
                                key: &key,
                                plan_op,
                                op: &what,
                            },
                        )
                        .map(|_| ())
                    })
                    .await
            }
            Event::ActionEnded {
                host,
                key,
                outcome,
                detail,
                ..
            } => {
                let (host, key, outcome, detail) = (host.clone(), key.clone(), outcome.as_str(), detail.clone());
                self.journal
                    .call(move |j| j.operation_action_ended(op, &host, &key, outcome, &detail))
                    .await
            }
            Event::HostState {
                host,
                state,
                reason,
                round,
                contained,
            } => {
                let line = event.to_json();
                let (host, state, reason, round, contained) =
                    (host.clone(), *state, reason.clone(), *round, *contained);
                self.journal
                    .call(move |j| {
                        j.set_host_state(
                            op,
                            run,
                            &HostStateChange {
                                host: &host,
                                state: state.as_str(),
                                reason: reason.as_deref(),
                                round,
                                contained,
                                event: &line,
                            },
                        )
                    })
                    .await
            }
            other => {
                let (level, host) = match other {
                    Event::Message { level, host, .. } => (
                        match level {
                            EventLevel::Info => Level::Info,
                            EventLevel::Warning => Level::Warning,
                            EventLevel::Error => Level::Error,
                        },
                        host.clone(),
                    ),
                    Event::Halted { .. } => (Level::Error, None),
                    Event::Observed { host, .. } => (Level::Info, host.clone()),
                    _ => (Level::Info, None),
                };
                let (kind, line) = (other.kind(), other.to_json());
                self.journal
                    .call(move |j| j.operation_event(op, run, host.as_deref(), level, kind, &line))
                    .await
            }
        }
    }
}
