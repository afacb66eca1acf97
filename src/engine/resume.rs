//! Resuming an operation from its journal (pure): what each host's actions
//! came to, and from that what a resumed run does next.
//!
//! An action whose end the journal has (`done`, `already_absent`, `drift`,
//! `queued`) is settled: it is never sent again, so no destructive
//! operation is carried out twice. An action begun whose end the journal
//! never got (the run was killed while it ran) may or may not have
//! happened: compare-and-delete operations are sent again (the host
//! answers `already_absent` for what the first run did), and for a reboot
//! asked but not confirmed the host's boot time is read again, never
//! assumed. Failed and skipped actions are tried again.

use std::collections::HashMap;

use super::event::Outcome;
use super::plan_input::PlannedOp;
use super::state::{HostRecord, HostState};

/// The journal's keys of actions: the same for every attempt of one
/// action, so a resumed run finds what an earlier run began.
pub mod key {
    pub fn contain() -> String {
        "contain".into()
    }
    /// The rules made again on a host contained before (a resumed run, a
    /// new address of the operator's).
    pub fn contain_again() -> String {
        "contain/again".into()
    }
    pub fn evidence(round: u32) -> String {
        format!("purge/r{round}/evidence")
    }
    pub fn op(round: u32, plan_op_id: i64) -> String {
        format!("purge/r{round}/op/{plan_op_id}")
    }
    /// A runtime op that waits for the reboot, carried out once the host
    /// is back ([`crate::engine::plan_input::runs_after_reboot`]).
    pub fn after_reboot(round: u32, plan_op_id: i64) -> String {
        format!("after_reboot/r{round}/op/{plan_op_id}")
    }
    pub fn reboot(round: u32) -> String {
        format!("reboot/r{round}/ask")
    }
    /// Who is logged on, read before the reboot under `logged_on: skip`
    /// or `wait`: ended `skipped` when the host was set aside for them,
    /// `already_absent` when nobody (or nobody any more) was there.
    pub fn users(round: u32) -> String {
        format!("reboot/r{round}/users")
    }
    pub fn abort(round: u32) -> String {
        format!("reboot/r{round}/abort")
    }
    pub fn verify(round: u32) -> String {
        format!("verify/r{round}/scan")
    }
    pub fn release() -> String {
        "release".into()
    }
}

/// One attempt of an action, as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorAction {
    pub host: String,
    pub key: String,
    /// What was sent (JSON).
    pub what: String,
    /// `None`: begun, its end never recorded.
    pub outcome: Option<Outcome>,
    pub detail: String,
}

/// Where an action stands after the earlier runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionStatus {
    NeverBegun,
    /// Begun; the run ended before its outcome was recorded.
    Unfinished,
    Ended(Outcome),
}

impl ActionStatus {
    /// Never to be sent again.
    pub fn settled(&self) -> bool {
        matches!(
            self,
            ActionStatus::Ended(Outcome::Done | Outcome::AlreadyAbsent | Outcome::Drift | Outcome::Queued)
        )
    }
}

/// What earlier runs of an operation did.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Each host's state, by lower-case name.
    pub hosts: HashMap<String, HostRecord>,
    /// Attempts of each action, oldest first, by (lower-case host, key).
    pub actions: HashMap<(String, String), Vec<PriorAction>>,
    /// Operations of re-purge rounds planned by earlier runs, by
    /// (lower-case host, round).
    pub later_ops: HashMap<(String, u32), Vec<PlannedOp>>,
    /// Their deny-write and Defender steps, by (lower-case host, round).
    pub later_steps: HashMap<(String, u32), Vec<(i64, crate::plan::Step)>>,
}

impl Prior {
    /// Group action rows by host and key.
    pub fn new(hosts: Vec<HostRecord>, actions: Vec<PriorAction>) -> Prior {
        let mut by_key: HashMap<(String, String), Vec<PriorAction>> = HashMap::new();
        for a in actions {
            by_key.entry((a.host.to_lowercase(), a.key.clone())).or_default().push(a);
        }
        Prior {
            hosts: hosts.into_iter().map(|h| (h.name.to_lowercase(), h)).collect(),
            actions: by_key,
            later_ops: HashMap::new(),
            later_steps: HashMap::new(),
        }
    }

    fn attempts(&self, host: &str, key: &str) -> &[PriorAction] {
        self.actions
            .get(&(host.to_lowercase(), key.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The status of the action `key` on `host` (its latest attempt).
    pub fn status(&self, host: &str, key: &str) -> ActionStatus {
        match self.attempts(host, key).last() {
            None => ActionStatus::NeverBegun,
            Some(a) => match a.outcome {
                None => ActionStatus::Unfinished,
                Some(o) => ActionStatus::Ended(o),
            },
        }
    }

    /// The latest attempt of `key` on `host`.
    pub fn last(&self, host: &str, key: &str) -> Option<&PriorAction> {
        self.attempts(host, key).last()
    }

    /// The operations of `round` still to send to `host`, each with where
    /// it stood.
    pub fn ops_to_send<'a>(&self, host: &str, round: u32, ops: &'a [PlannedOp]) -> Vec<(&'a PlannedOp, ActionStatus)> {
        ops.iter()
            .map(|o| (o, self.status(host, &key::op(round, o.plan_op_id))))
            .filter(|(_, s)| !s.settled())
            .collect()
    }

    /// The host was set aside, not rebooted, because users were logged on
    /// (or who was could not be read) before its reboot of `round`, and
    /// nothing was asked of it since: the latest read of its users ended
    /// `skipped`. A resumed run takes it up again at its reboot.
    pub fn left_for_users(&self, host: &str, round: u32) -> bool {
        self.status(host, &key::users(round)) == ActionStatus::Ended(Outcome::Skipped)
    }

    /// Where a host's reboot of `round` stands.
    pub fn reboot_step(&self, host: &str, state: HostState, round: u32) -> RebootStep {
        if state == HostState::Rebooted {
            return RebootStep::Verify;
        }
        let ask = self.last(host, &key::reboot(round));
        let asked = match ask.map(|a| a.outcome) {
            None => false,
            Some(None) => true,
            Some(Some(o)) => o == Outcome::Done,
        };
        if state == HostState::RebootAsked || state == HostState::RebootFailed || asked {
            RebootStep::ReadBootTime {
                before: ask.and_then(|a| boot_time_before(&a.what)),
            }
        } else {
            RebootStep::Ask
        }
    }
}

impl Prior {
    /// From the journal's rows of an operation (its hosts and actions).
    pub fn from_rows(
        hosts: &[crate::journal::operation::OperationHostRow],
        actions: &[crate::journal::operation::OperationActionRow],
    ) -> Result<Prior, String> {
        let mut records = Vec::with_capacity(hosts.len());
        for h in hosts {
            let state = HostState::parse(&h.state)
                .ok_or_else(|| format!("{}: unknown state `{}` in the journal", h.host, h.state))?;
            records.push(HostRecord {
                name: h.host.clone(),
                state,
                reason: h.reason.clone(),
                round: h.round,
                contained: h.contained,
            });
        }
        let mut prior_actions = Vec::with_capacity(actions.len());
        for a in actions {
            let outcome = match &a.outcome {
                None => None,
                Some(o) => Some(
                    Outcome::parse(o).ok_or_else(|| format!("action {}: unknown outcome `{o}` in the journal", a.id))?,
                ),
            };
            prior_actions.push(PriorAction {
                host: a.host.clone(),
                key: a.key.clone(),
                what: a.op.clone(),
                outcome,
                detail: a.detail.clone().unwrap_or_default(),
            });
        }
        Ok(Prior::new(records, prior_actions))
    }
}

/// What a resumed run does first for a host due a reboot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebootStep {
    /// Not asked yet (or the ask failed): ask.
    Ask,
    /// Asked, not confirmed: read the boot time and compare it with the
    /// one read before the ask (`None` when the journal has none: then
    /// ask again; a pending shutdown answers "already scheduled").
    ReadBootTime { before: Option<String> },
    /// Back already: verify.
    Verify,
}

/// The boot time recorded with a reboot's ask (`{"boot_time_before": ..}`).
pub fn boot_time_before(what: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(what)
        .ok()?
        .get("boot_time_before")?
        .as_str()
        .map(str::to_string)
}

/// How far a host's boot time may move without a reboot. Windows derives
/// `LastBootUpTime` from the clock minus the uptime, so two reads of an
/// unrebooted host differ by rounding and by clock corrections (time
/// sync); a reboot moves it by the host's uptime when asked, plus the
/// countdown, plus a shutdown and a start of Windows: always more.
pub const BOOT_TIME_JITTER: std::time::Duration = std::time::Duration::from_secs(5);

/// The host came back from its reboot: its boot time (UTC, as
/// [`crate::runtime::power::boot_time`] gives it) is later than the one
/// read before the reboot was asked by more than [`BOOT_TIME_JITTER`].
/// A boot time that does not read as one never counts as a reboot.
pub fn came_back(before: &str, now: &str) -> bool {
    use crate::runtime::power::utc_micros;
    match (utc_micros(before), utc_micros(now)) {
        (Some(b), Some(n)) => n - b > BOOT_TIME_JITTER.as_micros() as i64,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ops::Op;

    fn act(host: &str, key: &str, outcome: Option<Outcome>) -> PriorAction {
        PriorAction {
            host: host.into(),
            key: key.into(),
            what: "{}".into(),
            outcome,
            detail: String::new(),
        }
    }

    fn op(id: i64) -> PlannedOp {
        PlannedOp {
            plan_op_id: id,
            op: Op::KillProcess {
                pid: id as u32,
                expected_image: "x.exe".into(),
                expected_started: String::new(),
            },
        }
    }

    #[test]
    fn settled_ops_are_never_sent_again_unfinished_and_failed_ones_are() {
        let prior = Prior::new(
            vec![],
            vec![
                act("WS-1", &key::op(0, 1), Some(Outcome::Done)),
                act("WS-1", &key::op(0, 2), None),
                act("WS-1", &key::op(0, 3), Some(Outcome::Failed)),
                act("WS-1", &key::op(0, 4), Some(Outcome::Queued)),
                // A retry that ended after an unfinished first attempt.
                act("WS-1", &key::op(0, 5), None),
                act("ws-1", &key::op(0, 5), Some(Outcome::AlreadyAbsent)),
                // Another host's and another round's rows do not count.
                act("WS-2", &key::op(0, 6), Some(Outcome::Done)),
                act("WS-1", &key::op(1, 6), Some(Outcome::Done)),
            ],
        );
        let ops: Vec<PlannedOp> = (1..=6).map(op).collect();
        let send: Vec<(i64, ActionStatus)> = prior
            .ops_to_send("WS-1", 0, &ops)
            .into_iter()
            .map(|(o, s)| (o.plan_op_id, s))
            .collect();
        assert_eq!(
            send,
            vec![
                (2, ActionStatus::Unfinished),
                (3, ActionStatus::Ended(Outcome::Failed)),
                (6, ActionStatus::NeverBegun),
            ]
        );
    }

    #[test]
    fn a_reboot_asked_but_not_confirmed_reads_the_boot_time_again() {
        let mut asked = act("WS-1", &key::reboot(0), None);
        asked.what = r#"{"boot_time_before":"2024-05-01T08:00:00Z"}"#.into();
        let prior = Prior::new(vec![], vec![asked]);
        assert_eq!(
            prior.reboot_step("WS-1", HostState::Purged, 0),
            RebootStep::ReadBootTime {
                before: Some("2024-05-01T08:00:00Z".into())
            }
        );
        // Round 1 was never asked.
        assert_eq!(prior.reboot_step("WS-1", HostState::Purged, 1), RebootStep::Ask);
        assert_eq!(prior.reboot_step("WS-1", HostState::Rebooted, 0), RebootStep::Verify);
        // A state that says asked without a journal row: ask again (1190
        // answers for a shutdown already pending).
        let none = Prior::default();
        assert_eq!(
            none.reboot_step("WS-9", HostState::RebootAsked, 0),
            RebootStep::ReadBootTime { before: None }
        );
        // An ask that failed is asked again.
        let failed = Prior::new(vec![], vec![act("WS-1", &key::reboot(0), Some(Outcome::Failed))]);
        assert_eq!(failed.reboot_step("WS-1", HostState::Purged, 0), RebootStep::Ask);
    }

    #[test]
    fn back_means_a_later_boot_time_beyond_its_jitter() {
        assert!(came_back("2024-05-01T08:00:00.000000Z", "2024-05-01T09:12:03.000000Z"));
        assert!(!came_back("2024-05-01T08:00:00.000000Z", "2024-05-01T08:00:00.000000Z"));
        assert!(!came_back("", "2024-05-01T08:00:00.000000Z"));
        // An unrebooted host's boot time wobbles (clock minus uptime):
        // not a reboot, either way.
        assert!(!came_back("2024-05-01T08:00:00.920933Z", "2024-05-01T08:00:00.920946Z"));
        assert!(!came_back("2024-05-01T08:00:00.921495Z", "2024-05-01T08:00:00.920842Z"));
        assert!(!came_back("2024-05-01T08:00:00.000000Z", "2024-05-01T08:00:05.000000Z"));
        assert!(came_back("2024-05-01T08:00:00.000000Z", "2024-05-01T08:00:05.000001Z"));
        // Earlier (a clock set back) or unreadable: never taken for a reboot.
        assert!(!came_back("2024-05-01T08:00:00.000000Z", "2024-04-30T08:00:00.000000Z"));
        assert!(!came_back("2024-05-01T08:00:00Z", "2024-05-01T09:12:03Z"));
    }
}
