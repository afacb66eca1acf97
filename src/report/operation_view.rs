//! What the operation's commands show at the end: per phase what was done
//! and what was set aside and why (or why the phase could not run), the
//! hosts by final state, the unlisted sources of lateral movement and
//! whether they hold the release, and what to run next; or one JSON object with
//! the same. Pure: builds strings.

use serde::Serialize;

use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use crate::engine::summary::OperationResult;

/// The human summary.
pub fn render_text(operation: i64, result: &OperationResult, resume_command: &str) -> String {
    let mut out = String::new();
    let code = result.exit_code();
    let accepted_only = result.accepted_only();
    let headline = match code {
        0 if accepted_only.is_empty() => "every host verified clean and released by policy".to_string(),
        0 => format!(
            "released by policy; not verified clean, accepted by the operator as they are: {}",
            with_count(&accepted_only)
        ),
        2 => "partial".into(),
        3 => "nothing succeeded".into(),
        130 => "interrupted".into(),
        _ => "ended".into(),
    };
    out.push_str(&format!("==== operation {operation}: {} ====\n", terminal_safe(&headline)));
    for p in &result.phases {
        match &p.not_available {
            Some(why) => out.push_str(&format!("{:<8} not available: {}\n", p.phase.as_str(), one_line(why))),
            None => out.push_str(&format!(
                "{:<8} {} done, {} set aside\n",
                p.phase.as_str(),
                p.done,
                p.set_aside.len()
            )),
        }
        for (host, why) in &p.set_aside {
            out.push_str(&format!("           {}: {}\n", terminal_safe(host), one_line(why)));
        }
    }
    out.push_str("hosts:\n");
    for (state, names) in result.by_state() {
        out.push_str(&format!("  {:<14} {}\n", state.as_str(), terminal_safe(&with_count(&names))));
        if state.set_aside() {
            for (why, hosts) in reasons_of(result, state) {
                out.push_str(&format!("                 {}: {}\n", terminal_safe(&with_count(&hosts)), one_line(&why)));
            }
        }
    }
    for e in &result.excluded {
        out.push_str(&format!("  not acted on   {}: {}\n", terminal_safe(&e.host), one_line(&e.why)));
    }
    if !result.sources.is_empty() {
        out.push_str("unlisted sources of lateral movement:\n");
        for src in &result.sources {
            out.push_str(&format!(
                "  {:<9} {} (reached {}): {}\n",
                src.standing.as_str(),
                one_line(&src.address),
                terminal_safe(&with_count(&src.hosts)),
                one_line(&src.detail)
            ));
        }
    }
    if let Some(h) = &result.halted {
        out.push_str(&format!("halted in {}: {}\n", h.phase.as_str(), one_line(&h.why)));
    }
    let next = result.next_steps(resume_command);
    if !next.is_empty() {
        out.push_str("next:\n");
        for n in next {
            out.push_str(&format!("  - {}\n", one_line(&n)));
        }
    }
    out
}

/// The hosts in `state`, grouped by their reason (in first-seen order):
/// a set-aside host always shows why, even when no phase ran on it (a
/// host refused before the operation started).
fn reasons_of(result: &OperationResult, state: crate::engine::HostState) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in result.hosts.iter().filter(|r| r.state == state) {
        let why = r.reason.clone().unwrap_or_else(|| "no reason recorded".into());
        match out.iter_mut().find(|(w, _)| *w == why) {
            Some((_, hosts)) => hosts.push(r.name.clone()),
            None => out.push((why, vec![r.name.clone()])),
        }
    }
    out
}

/// The summary as one JSON object (`--json`: the last line).
#[derive(Debug, Serialize)]
pub struct SummaryRecord<'a> {
    pub event: &'static str,
    pub operation: i64,
    pub exit_code: i32,
    pub phases: &'a [crate::engine::summary::PhaseSummary],
    pub hosts: Vec<HostRecordJson<'a>>,
    pub halted: Option<&'a crate::engine::summary::Halt>,
    /// Unlisted sources of lateral movement and their standing.
    pub sources: &'a [crate::fleet::holds::SourceHold],
    pub next: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct HostRecordJson<'a> {
    pub host: &'a str,
    pub state: &'static str,
    pub reason: Option<&'a str>,
    pub round: u32,
    pub contained: bool,
}

pub fn json_summary(operation: i64, result: &OperationResult, resume_command: &str) -> String {
    let record = SummaryRecord {
        event: "summary",
        operation,
        exit_code: result.exit_code(),
        phases: &result.phases,
        hosts: result
            .hosts
            .iter()
            .map(|h| HostRecordJson {
                host: &h.name,
                state: h.state.as_str(),
                reason: h.reason.as_deref(),
                round: h.round,
                contained: h.contained,
            })
            .collect(),
        halted: result.halted.as_ref(),
        sources: &result.sources,
        next: result.next_steps(resume_command),
    };
    serde_json::to_string(&record).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::Phase;
    use crate::engine::settings::ReleasePolicy;
    use crate::engine::state::{HostRecord, HostState};
    use crate::engine::steps::Available;
    use crate::engine::summary::PhaseSummary;

    #[test]
    fn phases_hosts_and_next_steps() {
        let rec = |n: &str, s: HostState, why: &str| HostRecord {
            name: n.into(),
            state: s,
            reason: Some(why.into()),
            round: 0,
            contained: false,
        };
        let result = OperationResult {
            hosts: vec![
                rec("WS-001", HostState::Purged, "2 done"),
                rec("WS-002", HostState::Purged, "1 done"),
                rec("WS-003", HostState::Unreached, "cannot reach\n10.0.0.3"),
            ],
            excluded: vec![],
            accepted: vec![],
            phases: vec![
                PhaseSummary {
                    phase: Phase::Contain,
                    done: 0,
                    set_aside: vec![],
                    not_available: Some("no firewall operation yet".into()),
                },
                PhaseSummary {
                    phase: Phase::Purge,
                    done: 2,
                    set_aside: vec![("WS-003".into(), "cannot reach\n10.0.0.3".into())],
                    not_available: None,
                },
            ],
            halted: None,
            interrupted: false,
            policy: ReleasePolicy::AllClean,
            available: Available {
                contain: Some("no firewall operation yet".into()),
                reboot: Some("no reboot operation yet".into()),
                release: None,
            },
            sources: vec![],
        };
        let text = render_text(4, &result, "cauterize apply --resume -i inv.yml");
        assert!(text.starts_with("==== operation 4: partial ====\n"), "{text}");
        assert!(text.contains("contain  not available: no firewall operation yet\n"), "{text}");
        assert!(text.contains("purge    2 done, 1 set aside\n           WS-003: cannot reach 10.0.0.3\n"), "{text}");
        assert!(text.contains("  purged         WS-[001-002] (2 hosts)\n"), "{text}");
        // A set-aside host's reason is under its state line.
        assert!(text.contains("  unreached      WS-003\n                 WS-003: cannot reach 10.0.0.3\n"), "{text}");
        assert!(text.contains("reboot them yourself"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&json_summary(4, &result, "x")).unwrap();
        assert_eq!(v["exit_code"], 2);
        assert_eq!(v["hosts"][2]["state"], "unreached");

        // Accepted by the operator, a set-aside host no longer holds the
        // release, but the headline never calls it verified clean.
        let mut result = result;
        result.hosts = vec![rec("WS-001", HostState::Released, "done"), rec("WS-003", HostState::NeedsPerson, "a copy in C:\\Windows")];
        result.phases.clear();
        result.accepted = vec!["ws-003".into()];
        assert_eq!(result.exit_code(), 0);
        let text = render_text(4, &result, "x");
        assert!(
            text.starts_with("==== operation 4: released by policy; not verified clean, accepted by the operator as they are: WS-003 ====\n"),
            "{text}"
        );
        result.accepted.clear();
        result.hosts.truncate(1);
        assert!(render_text(4, &result, "x").starts_with("==== operation 4: every host verified clean and released by policy ====\n"));
    }
}
