//! The one event type the engine emits, and the trait of what consumes it.
//!
//! The engine never prints. Everything it does, sees and decides is an
//! [`Event`]; sinks turn events into progress bars and plain lines on
//! stderr, JSON lines on stdout (`--json`), and journal rows (the journal
//! is written before the action it records happens: see
//! [`super::emit::Emitter`]). Commands choose the sinks.

use serde::Serialize;

use super::settings::Role;
use super::state::HostState;

/// A phase of the operation, or the one phase of a command that works on
/// hosts (`exec`, `check`, `scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Exec,
    Check,
    Scan,
    Plan,
    Contain,
    Purge,
    Reboot,
    Verify,
    Release,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Exec => "exec",
            Phase::Check => "check",
            Phase::Scan => "scan",
            Phase::Plan => "plan",
            Phase::Contain => "contain",
            Phase::Purge => "purge",
            Phase::Reboot => "reboot",
            Phase::Verify => "verify",
            Phase::Release => "release",
        }
    }
}

/// How an action on a host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Nothing to do: already gone.
    AlreadyAbsent,
    /// The host no longer shows what the plan saw; nothing was done.
    Drift,
    /// Goes at the next boot (a locked file, a service that cannot stop).
    Queued,
    /// Not carried out, and why.
    Failed,
    /// Not tried (its evidence could not be secured, the host is set
    /// aside, the operation halted).
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::AlreadyAbsent => "already_absent",
            Outcome::Drift => "drift",
            Outcome::Queued => "queued",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }

    /// Parse [`Outcome::as_str`] (journal rows).
    pub fn parse(text: &str) -> Option<Outcome> {
        [
            Outcome::Done,
            Outcome::AlreadyAbsent,
            Outcome::Drift,
            Outcome::Queued,
            Outcome::Failed,
            Outcome::Skipped,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }

    /// The host changed because of this action (what must never happen
    /// twice for one destructive operation).
    pub fn changed_the_host(self) -> bool {
        matches!(self, Outcome::Done | Outcome::Queued)
    }
}

/// Severity of a message event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// Everything the engine reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A command began working on hosts.
    Started {
        command: String,
        hosts: usize,
        /// The operation's id in the journal (apply, run, contain,
        /// release).
        operation: Option<i64>,
        plan: Option<i64>,
        resumed: bool,
    },
    /// A phase began, over this many hosts.
    PhaseStarted { phase: Phase, hosts: usize },
    /// A reboot wave began.
    WaveStarted {
        wave: u32,
        waves: u32,
        role: Role,
        hosts: Vec<String>,
    },
    /// A reboot wave ended.
    WaveFinished {
        wave: u32,
        done: usize,
        set_aside: usize,
    },
    /// Work on a host began in a phase (for "still running" and "slowest").
    HostStarted {
        host: String,
        phase: Phase,
        step: String,
    },
    /// Work on a host ended in a phase.
    HostFinished {
        host: String,
        phase: Phase,
        ok: bool,
        detail: Option<String>,
    },
    /// An action is about to be carried out on a host. The journal has it
    /// before the host is touched.
    ActionBegun {
        host: String,
        phase: Phase,
        /// Unique within the operation and round (`purge/r0/op/17`); a
        /// retry or a resumed run uses the same key.
        key: String,
        /// The journal's plan operation it carries out, if any.
        plan_op: Option<i64>,
        /// What is sent (JSON of the operation, or a short description).
        what: String,
    },
    /// How an action ended.
    ActionEnded {
        host: String,
        phase: Phase,
        key: String,
        outcome: Outcome,
        detail: String,
    },
    /// A host moved in its state machine.
    HostState {
        host: String,
        state: HostState,
        reason: Option<String>,
        round: u32,
        /// Containment rules are on the host.
        contained: bool,
    },
    /// Something seen on a host or in the operation.
    Observed {
        host: Option<String>,
        phase: Phase,
        what: String,
    },
    /// A decision the engine took, and why.
    Decision { phase: Phase, what: String },
    /// A message for the operator.
    Message {
        level: Level,
        host: Option<String>,
        text: String,
    },
    /// A phase ended. `not_available` says why it did nothing at all (its
    /// host operation does not exist in this build).
    PhaseFinished {
        phase: Phase,
        done: usize,
        set_aside: usize,
        not_available: Option<String>,
    },
    /// The operation stopped before its end: why, and what to run next.
    Halted {
        phase: Phase,
        why: String,
        next: String,
    },
    /// The command ended with this exit code.
    Finished { exit_code: i32 },
}

impl Event {
    /// The event's tag (`host_state`, `action_begun`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Started { .. } => "started",
            Event::PhaseStarted { .. } => "phase_started",
            Event::WaveStarted { .. } => "wave_started",
            Event::WaveFinished { .. } => "wave_finished",
            Event::HostStarted { .. } => "host_started",
            Event::HostFinished { .. } => "host_finished",
            Event::ActionBegun { .. } => "action_begun",
            Event::ActionEnded { .. } => "action_ended",
            Event::HostState { .. } => "host_state",
            Event::Observed { .. } => "observed",
            Event::Decision { .. } => "decision",
            Event::Message { .. } => "message",
            Event::PhaseFinished { .. } => "phase_finished",
            Event::Halted { .. } => "halted",
            Event::Finished { .. } => "finished",
        }
    }

    /// One JSON object (for `--json` and the journal's audit rows).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"event\":\"unserialisable\",\"error\":\"{e}\"}}"))
    }
}

/// Something that consumes events: a progress view, JSON lines. Called in
/// the order events happen, from any task, never concurrently. `tick` is
/// called about once a second, so a view can print at its own pace.
pub trait Sink: Send {
    fn event(&mut self, event: &Event);
    fn tick(&mut self) {}
    /// The command is done: clear bars, print what is pending.
    fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json_objects() {
        let e = Event::HostState {
            host: "WS-001".into(),
            state: HostState::Contained,
            reason: None,
            round: 0,
            contained: true,
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["event"], "host_state");
        assert_eq!(v["state"], "contained");
        assert_eq!(e.kind(), "host_state");
        let e = Event::ActionEnded {
            host: "WS-001".into(),
            phase: Phase::Purge,
            key: "purge/r0/op/3".into(),
            outcome: Outcome::AlreadyAbsent,
            detail: String::new(),
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!((v["phase"].as_str(), v["outcome"].as_str()), (Some("purge"), Some("already_absent")));
        assert!(Outcome::Queued.changed_the_host() && !Outcome::AlreadyAbsent.changed_the_host());
    }
}
