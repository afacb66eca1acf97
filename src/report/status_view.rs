//! `cauterize status`: the engagement at a glance, built from what the
//! journal holds (pure: rows in, rows and text out). Per host: its state
//! in the latest operation, contained or not, findings of its latest scan
//! (those the operation's purge acts on, and the others by why not),
//! the plan's operations done and files queued for deletion at boot,
//! reboots asked and whether it came back, verified clean, whether it
//! holds the release, needs a person, and why. Per phase: how many hosts
//! got through it and how many were set aside. The unlisted sources of
//! lateral movement, and whether each holds the release.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use crate::engine::HostState;
use crate::journal::operation::{OperationActionRow, OperationHostRow, OperationRecord};
use crate::journal::sources::SourceRow;

/// What the journal says, as read for `status`.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub operation: Option<OperationRecord>,
    pub hosts: Vec<OperationHostRow>,
    pub actions: Vec<OperationActionRow>,
    /// Findings of each host's latest scan the operation's purge acts
    /// on (its plan's effective settings), by lower-case name.
    pub findings: HashMap<String, usize>,
    /// The other findings of each host's latest scan, by lower-case name:
    /// how many for each reason the purge does not act on them
    /// ([`crate::plan::NotActedOn::label`]).
    pub not_acted_on: HashMap<String, BTreeMap<&'static str, usize>>,
    /// Hosts accepted by name (`release --accept-unreached`), lower case.
    pub accepted: Vec<String>,
    /// The latest `watch` poll of each host it polled, by lower-case name.
    pub last_poll: HashMap<String, String>,
    /// Unlisted sources of lateral movement: each address's latest
    /// standing (held, resolved, accepted) with who recorded it and when.
    pub sources: Vec<SourceRow>,
}

/// One host's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    pub host: String,
    pub state: String,
    pub contained: bool,
    /// Findings of its latest scan the purge acts on: a verified host
    /// has none.
    pub findings: usize,
    /// Its latest scan's other findings (low or medium confidence,
    /// allow-listed, ...): how many for each reason; never acted on.
    pub findings_not_acted_on: BTreeMap<&'static str, usize>,
    /// Plan operations carried out (killed, deleted).
    pub purged: usize,
    /// Files queued for deletion at boot.
    pub queued: usize,
    /// Reboots asked of the host.
    pub reboots_asked: usize,
    /// It came back after a reboot (boot time changed, WinRM answers).
    pub rebooted: bool,
    /// A scan after the purge found nothing to act on.
    pub verified: bool,
    /// It holds the release (set aside and not accepted by name).
    pub held: bool,
    pub needs_person: bool,
    /// An action begun whose end the journal never got (the run was
    /// killed, or is running it now).
    pub in_flight: usize,
    pub why: Option<String>,
    pub round: u32,
    /// What `watch` saw at its latest poll of the host (a host the
    /// operation never reached).
    pub last_poll: Option<String>,
}

/// Per phase: hosts through it and hosts set aside in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseCount {
    pub phase: &'static str,
    pub through: usize,
    pub set_aside: usize,
}

/// The whole view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub operation: Option<OperationHead>,
    pub phases: Vec<PhaseCount>,
    pub hosts: Vec<HostStatus>,
    /// Unlisted sources of lateral movement; a `held` one holds the
    /// release of every host.
    pub sources: Vec<SourceRow>,
}

/// The operation's head line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationHead {
    pub id: i64,
    pub command: String,
    pub status: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub exit_code: Option<i32>,
    pub plan_id: Option<i64>,
    pub plan_sha256: Option<String>,
    pub playbook_sha256: Option<String>,
    pub next: Option<String>,
}

/// States a host passes on its way to each phase's end, in order.
const PHASES: [(&str, &[HostState]); 5] = [
    (
        "contain",
        &[HostState::Contained, HostState::Released],
    ),
    (
        "purge",
        &[
            HostState::Purged,
            HostState::RebootAsked,
            HostState::Rebooted,
            HostState::RebootFailed,
            HostState::Clean,
            HostState::Dirty,
            HostState::NeedsPerson,
            HostState::Released,
        ],
    ),
    (
        "reboot",
        &[HostState::Rebooted, HostState::Clean, HostState::Dirty, HostState::NeedsPerson, HostState::Released],
    ),
    ("verify", &[HostState::Clean, HostState::Released]),
    ("release", &[HostState::Released]),
];

/// Build the view; `host` (a name, case-insensitive, or a glob) and
/// `state` (a state's name) filter the hosts shown, not the phase counts.
pub fn build(input: &StatusInput, host: Option<&str>, state: Option<&str>) -> Status {
    let mut per_host: HashMap<String, (usize, usize, usize, usize)> = HashMap::new();
    for a in &input.actions {
        let e = per_host.entry(a.host.to_lowercase()).or_default();
        let done = matches!(a.outcome.as_deref(), Some("done" | "queued"));
        if a.key.contains("/op/") && done {
            e.0 += 1;
        }
        if a.outcome.as_deref() == Some("queued") {
            e.1 += 1;
        }
        if a.key.starts_with("reboot/") && a.key.ends_with("/ask") && done {
            e.2 += 1;
        }
        if a.outcome.is_none() {
            e.3 += 1;
        }
    }
    let mut hosts = Vec::new();
    let mut phases: Vec<PhaseCount> = PHASES
        .iter()
        .map(|(p, _)| PhaseCount {
            phase: p,
            through: 0,
            set_aside: 0,
        })
        .collect();
    for h in &input.hosts {
        let key = h.host.to_lowercase();
        let st = HostState::parse(&h.state);
        let (purged, queued, asked, in_flight) = per_host.get(&key).copied().unwrap_or_default();
        if let Some(s) = st {
            for (i, (_, through)) in PHASES.iter().enumerate() {
                if through.contains(&s) || (i == 0 && h.contained) {
                    phases[i].through += 1;
                } else if s.set_aside() && s.phase().as_str() == PHASES[i].0 {
                    phases[i].set_aside += 1;
                }
            }
        }
        let set_aside = st.is_some_and(|s| s.set_aside());
        let row = HostStatus {
            host: h.host.clone(),
            state: h.state.clone(),
            contained: h.contained,
            findings: input.findings.get(&key).copied().unwrap_or(0),
            findings_not_acted_on: input.not_acted_on.get(&key).cloned().unwrap_or_default(),
            purged,
            queued,
            reboots_asked: asked,
            rebooted: asked > 0
                && matches!(
                    st,
                    Some(HostState::Rebooted | HostState::Clean | HostState::Dirty | HostState::NeedsPerson | HostState::Released)
                ),
            verified: matches!(st, Some(HostState::Clean | HostState::Released)),
            held: set_aside && !input.accepted.contains(&key),
            needs_person: st == Some(HostState::NeedsPerson),
            in_flight,
            why: h.reason.clone(),
            round: h.round,
            last_poll: input.last_poll.get(&key).cloned(),
        };
        let host_ok = host.is_none_or(|p| crate::detect::allowlist::glob_match(p, &h.host));
        let state_ok = state.is_none_or(|s| s.eq_ignore_ascii_case(&h.state));
        if host_ok && state_ok {
            hosts.push(row);
        }
    }
    Status {
        operation: input.operation.as_ref().map(|o| OperationHead {
            id: o.id,
            command: o.command.clone(),
            status: o.status.clone(),
            started_at: o.started_at.clone(),
            ended_at: o.ended_at.clone(),
            exit_code: o.exit_code,
            plan_id: o.plan_id,
            plan_sha256: o.plan_sha256.clone(),
            playbook_sha256: o.playbook_sha256.clone(),
            next: o.next.clone(),
        }),
        phases,
        hosts,
        sources: input.sources.clone(),
    }
}

/// The human view.
pub fn render_text(s: &Status) -> String {
    let mut out = String::new();
    let Some(op) = &s.operation else {
        out.push_str("no operation in this engagement yet: `cauterize apply PLAN` or `cauterize run` starts one\n");
        return out;
    };
    out.push_str(&format!(
        "operation {} ({}): {}, started {}{}\n",
        op.id,
        op.command,
        op.status,
        op.started_at,
        match (&op.ended_at, op.exit_code) {
            (Some(e), Some(c)) => format!(", ended {e} (exit {c})"),
            (Some(e), None) => format!(", ended {e}"),
            _ => String::new(),
        }
    ));
    if let Some(plan) = op.plan_id {
        out.push_str(&format!(
            "plan {plan} (sha256 {}), playbook sha256 {}\n",
            short(op.plan_sha256.as_deref()),
            short(op.playbook_sha256.as_deref())
        ));
    }
    for p in &s.phases {
        out.push_str(&format!("{:<8} {} through, {} set aside\n", p.phase, p.through, p.set_aside));
    }
    let mut by_state: Vec<(&str, Vec<String>)> = Vec::new();
    for h in &s.hosts {
        match by_state.iter_mut().find(|(st, _)| *st == h.state) {
            Some((_, v)) => v.push(h.host.clone()),
            None => by_state.push((&h.state, vec![h.host.clone()])),
        }
    }
    out.push_str("hosts:\n");
    for (st, names) in &by_state {
        out.push_str(&format!("  {:<14} {}\n", st, terminal_safe(&with_count(names))));
    }
    out.push_str(&format!(
        "{:<16} {:<14} {:>4} {:>5} {:>6} {:>6} {:>7} {:>8} {:>4}  why\n",
        "host", "state", "cont", "toact", "purged", "queued", "reboots", "verified", "held"
    ));
    for h in &s.hosts {
        let why = match (&h.why, h.in_flight) {
            (Some(w), 0) => one_line(w),
            (Some(w), n) => format!("{}; {n} action(s) begun, end not recorded", one_line(w)),
            (None, 0) => String::new(),
            (None, n) => format!("{n} action(s) begun, end not recorded"),
        };
        out.push_str(&format!(
            "{:<16} {:<14} {:>4} {:>5} {:>6} {:>6} {:>7} {:>8} {:>4}  {}\n",
            terminal_safe(&h.host),
            h.state,
            yes(h.contained),
            h.findings,
            h.purged,
            h.queued,
            format!("{}{}", h.reboots_asked, if h.rebooted { " back" } else { "" }),
            yes(h.verified),
            yes(h.held),
            terminal_safe(&why)
        ));
    }
    let polled: Vec<String> = s
        .hosts
        .iter()
        .filter_map(|h| h.last_poll.as_ref().map(|p| format!("{}: {}", h.host, one_line(p))))
        .collect();
    if !polled.is_empty() {
        out.push_str("watch, latest poll:\n");
        for line in polled {
            out.push_str(&format!("  {}\n", terminal_safe(&line)));
        }
    }
    let others: Vec<String> = s.hosts.iter().filter(|h| !h.findings_not_acted_on.is_empty()).map(findings_line).collect();
    if !others.is_empty() {
        out.push_str("findings (latest scan), and those the purge does not act on:\n");
        for line in others {
            out.push_str(&format!("  {}\n", terminal_safe(&line)));
        }
    }
    if !s.sources.is_empty() {
        let held = s.sources.iter().filter(|x| x.state == "held").count();
        out.push_str(&format!(
            "unlisted sources of lateral movement ({}):\n",
            if held == 0 { "none holds the release".to_string() } else { format!("{held} hold the release of every host") }
        ));
        for x in &s.sources {
            out.push_str(&format!(
                "  {:<9} {} (reached {}) since {} by {} ({}): {}\n",
                x.state,
                one_line(&x.address),
                terminal_safe(&with_count(&x.hosts)),
                x.at,
                one_line(&x.operator),
                x.command,
                one_line(&x.detail)
            ));
        }
    }
    if let Some(next) = &op.next {
        out.push_str(&format!("next: {}\n", one_line(next)));
    }
    out
}

/// `WS-001: 0 to act on, 2 not acted on (1 low confidence, 1 below the
/// playbook's confidence)`.
pub fn findings_line(h: &HostStatus) -> String {
    let n: usize = h.findings_not_acted_on.values().sum();
    let why: Vec<String> = h.findings_not_acted_on.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!("{}: {} to act on, {n} not acted on ({})", h.host, h.findings, why.join(", "))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "-" }
}

fn short(sha: Option<&str>) -> &str {
    sha.map_or("-", |s| &s[..16.min(s.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, state: &str, contained: bool, why: Option<&str>) -> OperationHostRow {
        OperationHostRow {
            host: name.into(),
            address: "10.0.0.1".into(),
            role: "workstation".into(),
            state: state.into(),
            reason: why.map(str::to_string),
            round: 0,
            contained,
            updated_at: "t".into(),
        }
    }

    fn action(host: &str, key: &str, outcome: Option<&str>) -> OperationActionRow {
        OperationActionRow {
            id: 1,
            run_id: 1,
            host: host.into(),
            phase: "purge".into(),
            key: key.into(),
            plan_op_id: None,
            op: "{}".into(),
            started_at: "t".into(),
            ended_at: outcome.map(|_| "t".into()),
            outcome: outcome.map(str::to_string),
            detail: None,
        }
    }

    fn input() -> StatusInput {
        StatusInput {
            operation: None,
            hosts: vec![
                host("WS-001", "clean", true, None),
                host("WS-002", "needs_person", true, Some("still dirty after 2 re-purge rounds: Run value X")),
                host("WS-003", "unreached", false, Some("WinRM: connection refused")),
                host("WS-004", "purged", false, None),
            ],
            actions: vec![
                action("WS-001", "purge/r0/op/1", Some("done")),
                action("WS-001", "purge/r0/op/2", Some("queued")),
                action("WS-001", "purge/r0/evidence", Some("done")),
                action("WS-001", "reboot/r0/ask", Some("done")),
                action("WS-002", "reboot/r0/ask", Some("done")),
                action("WS-002", "reboot/r1/ask", Some("done")),
                action("WS-004", "purge/r0/op/9", None),
            ],
            findings: [("ws-001".to_string(), 0), ("ws-002".to_string(), 1)].into_iter().collect(),
            not_acted_on: [("ws-001".to_string(), [("low confidence", 1), ("below the playbook's confidence", 2)].into_iter().collect())]
                .into_iter()
                .collect(),
            accepted: vec![],
            last_poll: [("ws-003".to_string(), "watch: poll 4 not answered (connection refused); next poll in 4m".to_string())]
                .into_iter()
                .collect(),
            sources: vec![],
        }
    }

    #[test]
    fn unlisted_sources_are_shown_with_their_standing_and_who_recorded_it() {
        let mut i = input();
        i.operation = Some(OperationRecord {
            id: 3,
            command: "run".into(),
            plan_id: None,
            plan_sha256: None,
            playbook_sha256: None,
            settings: "{}".into(),
            started_run: 1,
            started_at: "t0".into(),
            ended_at: None,
            status: "finished".into(),
            exit_code: Some(2),
            next: None,
        });
        let row = |address: &str, state: &str, detail: &str| SourceRow {
            address: address.into(),
            state: state.into(),
            hosts: vec!["WS-004".into()],
            detail: detail.into(),
            at: "2026-12-07T18:00:00.000Z".into(),
            operator: "ir@laptop".into(),
            command: "release".into(),
        };
        i.sources = vec![row("10.9.9.8", "accepted", "accepted by the operator: the backup server"), row("10.9.9.9", "held", "not in the inventory")];
        let text = render_text(&build(&i, None, None));
        assert!(text.contains("unlisted sources of lateral movement (1 hold the release of every host):"), "{text}");
        assert!(text.contains("  accepted  10.9.9.8 (reached WS-004) since 2026-12-07T18:00:00.000Z by ir@laptop (release): accepted by the operator: the backup server"), "{text}");
        assert!(text.contains("  held      10.9.9.9 (reached WS-004)"), "{text}");
        let json = serde_json::to_value(build(&i, None, None)).unwrap();
        assert_eq!(json["sources"][1]["state"], "held");
    }

    #[test]
    fn per_host_counts_come_from_the_actions_and_states() {
        let s = build(&input(), None, None);
        let ws1 = &s.hosts[0];
        assert_eq!((ws1.purged, ws1.queued, ws1.reboots_asked, ws1.rebooted, ws1.verified), (2, 1, 1, true, true));
        assert_eq!(ws1.findings, 0);
        assert_eq!(ws1.findings_not_acted_on.values().sum::<usize>(), 3);
        let ws2 = &s.hosts[1];
        assert!(ws2.needs_person && ws2.held && ws2.reboots_asked == 2 && !ws2.verified);
        let ws3 = &s.hosts[2];
        assert!(ws3.held && !ws3.rebooted && ws3.why.as_deref() == Some("WinRM: connection refused"));
        assert_eq!(s.hosts[3].in_flight, 1);
        let count = |p: &str| s.phases.iter().find(|c| c.phase == p).map(|c| (c.through, c.set_aside)).unwrap();
        assert_eq!(count("contain"), (2, 1));
        assert_eq!(count("purge"), (3, 0));
        assert_eq!(count("verify"), (1, 1));
    }

    #[test]
    fn filters_by_host_glob_and_state_and_accepted_hosts_stop_holding() {
        let mut i = input();
        i.accepted = vec!["ws-003".into()];
        let s = build(&i, Some("ws-00*"), None);
        assert_eq!(s.hosts.len(), 4);
        let s = build(&i, Some("ws-003"), None);
        assert_eq!(s.hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), vec!["WS-003"]);
        assert!(!s.hosts[0].held, "accepted by name");
        // Filters pick the rows shown; the phase counts stay the whole
        // operation's.
        assert_eq!(s.phases[0].through, 2);
        let s = build(&i, None, Some("NEEDS_PERSON"));
        assert_eq!(s.hosts.len(), 1);
    }

    #[test]
    fn the_text_shows_why_and_escapes_hostile_names() {
        let mut i = input();
        i.operation = Some(OperationRecord {
            id: 4,
            command: "apply".into(),
            plan_id: Some(2),
            plan_sha256: Some("ab".repeat(32)),
            playbook_sha256: Some("cd".repeat(32)),
            settings: "{}".into(),
            started_run: 1,
            started_at: "2026-01-01T00:00:00Z".into(),
            ended_at: None,
            status: "running".into(),
            exit_code: None,
            next: None,
        });
        i.hosts.push(host("EVIL\u{1b}[2J", "purged", false, Some("line one\nline two")));
        let text = render_text(&build(&i, None, None));
        assert!(text.starts_with("operation 4 (apply): running, started 2026-01-01T00:00:00Z\n"), "{text}");
        assert!(text.contains("plan 2 (sha256 abababababababab)"), "{text}");
        assert!(text.contains("still dirty after 2 re-purge rounds"), "{text}");
        assert!(text.contains("1 action(s) begun, end not recorded"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("line one line two"), "{text}");
        // A clean host's other findings are shown as what they are.
        assert!(
            text.contains("WS-001: 0 to act on, 3 not acted on (2 below the playbook's confidence, 1 low confidence)"),
            "{text}"
        );
        assert!(!text.contains("WS-002: "), "{text}");
        // What watch saw last of a host it polls.
        assert!(
            text.contains("watch, latest poll:\n  WS-003: watch: poll 4 not answered (connection refused); next poll in 4m\n"),
            "{text}"
        );
    }
}
