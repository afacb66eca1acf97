//! How an operation ended (pure): per phase what was done and what was set
//! aside and why, every host's final state, what to run next, and the
//! exit code: 0 every in-scope host verified clean and released by policy;
//! 2 partial; 3 nothing succeeded; 130 interrupted.

use serde::Serialize;

use super::event::Phase;
use super::plan_input::Excluded;
use super::settings::ReleasePolicy;
use super::state::{HostRecord, HostState};
use super::steps::Available;

/// Why the operation stopped before its end, and what to run next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Halt {
    pub phase: Phase,
    pub why: String,
    pub next: String,
}

/// One phase: hosts done, hosts set aside with why, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseSummary {
    pub phase: Phase,
    pub done: usize,
    pub set_aside: Vec<(String, String)>,
    pub not_available: Option<String>,
}

/// The end of an operation (or of the run that got this far).
#[derive(Debug, Clone)]
pub struct OperationResult {
    pub hosts: Vec<HostRecord>,
    pub excluded: Vec<Excluded>,
    /// Lower-case names accepted as unreached by the operator.
    pub accepted: Vec<String>,
    pub phases: Vec<PhaseSummary>,
    pub halted: Option<Halt>,
    pub interrupted: bool,
    pub policy: ReleasePolicy,
    pub available: Available,
    /// Unlisted sources of lateral movement at the release's latest
    /// review, and their standing (a held one holds the release).
    pub sources: Vec<crate::fleet::holds::SourceHold>,
}

impl OperationResult {
    /// A host reached the end the operation is for.
    fn succeeded(&self, r: &HostRecord) -> bool {
        match self.policy {
            ReleasePolicy::Manual => matches!(r.state, HostState::Clean | HostState::Released),
            _ => r.state == HostState::Released,
        }
    }

    /// Something was achieved on this host (contained, purged, verified).
    fn progressed(r: &HostRecord) -> bool {
        r.contained
            || matches!(
                r.state,
                HostState::Contained
                    | HostState::Purged
                    | HostState::RebootAsked
                    | HostState::Rebooted
                    | HostState::Clean
                    | HostState::Dirty
                    | HostState::Released
            )
    }

    /// The documented exit code. Hosts the operator accepted by name are
    /// out of its scope.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            return crate::exit::INTERRUPTED;
        }
        let accepted = |name: &str| self.accepted.contains(&name.to_lowercase());
        let holding = self
            .excluded
            .iter()
            .filter(|e| e.holds_release && !accepted(&e.host))
            .count();
        let all = self.hosts.iter().all(|r| self.succeeded(r) || accepted(&r.name));
        if holding == 0 && self.halted.is_none() && all {
            crate::exit::OK
        } else if self.hosts.iter().any(Self::progressed) {
            crate::exit::PARTIAL
        } else {
            crate::exit::ALL_FAILED
        }
    }

    /// The hosts that count as handled only because the operator accepted
    /// them (`--accept-unreached`): set aside, not verified clean.
    pub fn accepted_only(&self) -> Vec<String> {
        let accepted = |name: &str| self.accepted.contains(&name.to_lowercase());
        self.hosts
            .iter()
            .filter(|r| !self.succeeded(r) && accepted(&r.name))
            .map(|r| r.name.clone())
            .chain(self.excluded.iter().filter(|e| e.holds_release && accepted(&e.host)).map(|e| e.host.clone()))
            .collect()
    }

    /// Counts of hosts per state, in state order.
    pub fn by_state(&self) -> Vec<(HostState, Vec<String>)> {
        let mut out: Vec<(HostState, Vec<String>)> = Vec::new();
        for r in &self.hosts {
            match out.iter_mut().find(|(s, _)| *s == r.state) {
                Some((_, v)) => v.push(r.name.clone()),
                None => out.push((r.state, vec![r.name.clone()])),
            }
        }
        out.sort_by_key(|(s, _)| *s as u8);
        out
    }

    /// What the operator should do next, in order.
    pub fn next_steps(&self, resume_command: &str) -> Vec<String> {
        let mut next = Vec::new();
        if let Some(h) = &self.halted {
            next.push(format!("continue with: {}", h.next));
        }
        let waiting = self
            .hosts
            .iter()
            .filter(|r| r.state == HostState::Purged)
            .map(|r| r.name.clone())
            .collect::<Vec<_>>();
        if let (Some(why), false) = (&self.available.reboot, waiting.is_empty()) {
            next.push(format!(
                "{} host(s) purged and waiting for a reboot that this cauterize cannot make ({why}): reboot them yourself (shutdown /r /t 300), then `cauterize scan` to verify: {}",
                waiting.len(),
                name_list(&waiting, 10)
            ));
        }
        let aside: Vec<&HostRecord> = self.hosts.iter().filter(|r| r.state.set_aside()).collect();
        if !aside.is_empty() {
            let names: Vec<String> = aside.iter().map(|r| r.name.clone()).collect();
            next.push(format!(
                "{} host(s) set aside (each with why under `hosts:`): fix them and `{resume_command}`, or accept them with `cauterize release --accept-unreached HOST`: {}",
                aside.len(),
                name_list(&names, 10)
            ));
        }
        let held = crate::fleet::holds::holding(&self.sources);
        if !held.is_empty() {
            let addresses: Vec<&str> = held.iter().map(|s| s.address.as_str()).collect();
            next.push(format!(
                "{} unlisted source(s) of lateral movement hold the release ({}): find each machine, add it to the inventory and `cauterize scan -l NAME`, then `cauterize release`; or `cauterize release --accept-source ADDRESS --reason TEXT`",
                held.len(),
                addresses.join(", ")
            ));
        }
        if self.policy == ReleasePolicy::Manual && self.hosts.iter().any(|r| r.contained) {
            next.push("the release policy is manual: `cauterize release --all` when you are ready".into());
        }
        next
    }
}

/// `A, B, C and 12 more`.
pub fn name_list(names: &[String], at_most: usize) -> String {
    if names.len() <= at_most {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..at_most].join(", "), names.len() - at_most)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, state: HostState, contained: bool) -> HostRecord {
        HostRecord {
            name: name.into(),
            state,
            reason: None,
            round: 0,
            contained,
        }
    }

    fn result(hosts: Vec<HostRecord>) -> OperationResult {
        OperationResult {
            hosts,
            excluded: vec![],
            accepted: vec![],
            phases: vec![],
            halted: None,
            interrupted: false,
            policy: ReleasePolicy::AllClean,
            available: Available::all(),
            sources: vec![],
        }
    }

    #[test]
    fn exit_codes() {
        let all = result(vec![rec("A", HostState::Released, false), rec("B", HostState::Released, false)]);
        assert_eq!(all.exit_code(), 0);
        let partial = result(vec![rec("A", HostState::Released, false), rec("B", HostState::Unreached, false)]);
        assert_eq!(partial.exit_code(), 2);
        let nothing = result(vec![rec("A", HostState::Unreached, false), rec("B", HostState::NotContained, false)]);
        assert_eq!(nothing.exit_code(), 3);
        // Purged but never verified is partial, not success.
        let purged = result(vec![rec("A", HostState::Purged, false)]);
        assert_eq!(purged.exit_code(), 2);
        let mut held = result(vec![rec("A", HostState::Released, false)]);
        held.excluded.push(Excluded {
            host: "B".into(),
            address: "b".into(),
            why: "not in plan".into(),
            holds_release: true,
        });
        assert_eq!(held.exit_code(), 2);
        held.accepted.push("b".into());
        assert_eq!(held.exit_code(), 0, "an accepted host no longer holds it");
        let mut manual = result(vec![rec("A", HostState::Clean, true)]);
        manual.policy = ReleasePolicy::Manual;
        assert_eq!(manual.exit_code(), 0);
        let mut interrupted = result(vec![rec("A", HostState::Released, false)]);
        interrupted.interrupted = true;
        assert_eq!(interrupted.exit_code(), 130);
        let mut halted = result(vec![rec("A", HostState::Released, false)]);
        halted.halted = Some(Halt {
            phase: Phase::Reboot,
            why: "budget".into(),
            next: "x".into(),
        });
        assert_eq!(halted.exit_code(), 2);
    }

    #[test]
    fn next_steps_name_the_hosts_and_the_commands() {
        let mut r = result(vec![rec("WS-1", HostState::Purged, false), rec("WS-2", HostState::Unreached, false)]);
        r.available.reboot = Some("no reboot operation yet".into());
        let next = r.next_steps("cauterize apply --resume");
        assert!(next[0].contains("reboot them yourself") && next[0].contains("WS-1"), "{next:?}");
        assert!(next[1].contains("WS-2") && next[1].contains("cauterize apply --resume"), "{next:?}");
        assert_eq!(name_list(&["a".into(), "b".into(), "c".into()], 2), "a, b and 1 more");
    }
}
