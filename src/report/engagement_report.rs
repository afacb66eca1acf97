//! `cauterize report`: what an operation did, host by host, built from
//! the journal alone (pure: rows in, a [`Report`] out; [`report_html`]
//! draws it, `--format json` prints it as is). It reuses the per-host
//! states and counts of [`status_view`] and adds per host what was found
//! (with reasons), the evidence kept, every action and how it ended, what
//! failed and why, and `watch`'s polls of a host never reached; the runs
//! that worked on the operation (who, when); and the [`timeline`] of the
//! hosts' moves and polls.
//!
//! [`report_html`]: super::report_html

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::status_view::{self, HostStatus, Status, StatusInput};
use super::timeline::{self, Timeline};
use crate::engine::steps::EvidenceOutcome;
use crate::journal::operation::OperationEventRow;
use crate::journal::{RunRecord, StoredFinding};

/// What the journal says, as read for the report.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    /// What `status` reads (the operation, its hosts and actions).
    pub status: StatusInput,
    /// The operation's audit lines (host moves with their times).
    pub events: Vec<OperationEventRow>,
    /// The runs that worked on the operation.
    pub runs: Vec<RunRecord>,
    /// What each host's plan was made from: the findings of the snapshot
    /// the plan used (the latest scan for hosts outside the plan), by
    /// lower-case name.
    pub found: HashMap<String, Vec<StoredFinding>>,
    /// The engagement's id (names its firewall rules on the hosts).
    pub engagement_id: Option<String>,
    /// When the report is made (UTC, ISO 8601).
    pub generated_at: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub engagement_id: Option<String>,
    pub summary: Summary,
    /// The operation's head, its phases and one row per host (as
    /// `cauterize status --json` has them).
    pub status: Status,
    pub runs: Vec<RunLine>,
    pub hosts: Vec<HostDetail>,
    pub timeline: Timeline,
}

/// The counts at the top of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub hosts: usize,
    /// Hosts with something to remove (an actionable finding) when the
    /// plan was made.
    pub infected: usize,
    pub contained: usize,
    /// Plan operations carried out (removed, or queued for boot).
    pub removed: usize,
    pub queued: usize,
    pub rebooted: usize,
    pub verified: usize,
    /// Hosts set aside and not accepted: they hold the release.
    pub held: usize,
    pub needs_person: usize,
    /// Actions that failed, were skipped or found the host changed.
    pub not_done: usize,
}

/// A run that worked on the operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunLine {
    pub id: i64,
    pub command: String,
    pub argv: Vec<String>,
    pub operator: String,
    pub version: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub exit_code: Option<i32>,
}

/// One host in detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostDetail {
    /// Its row of the status view.
    pub status: HostStatus,
    pub address: String,
    pub role: String,
    pub found: Vec<FoundLine>,
    pub evidence: Vec<EvidenceLine>,
    pub actions: Vec<ActionLine>,
    /// `watch`'s polls of the host (one it never reached), oldest first.
    pub polls: Vec<PollDetail>,
}

/// One poll of a watched host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollDetail {
    pub at: String,
    /// Its number in its watch (1: the first).
    pub number: u32,
    /// It answered and was taken into the operation.
    pub answered: bool,
    /// The journal's words (why not, the next pause, the boot time).
    pub what: String,
}

/// A finding, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundLine {
    pub what: String,
    pub family: String,
    pub rule: String,
    pub confidence: String,
    pub certain: bool,
    pub reasons: Vec<String>,
    pub files: Vec<String>,
    /// Why an allow-list spared it (then nothing was removed for it).
    pub allowlisted: Option<String>,
}

/// An evidence archive written before deleting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLine {
    pub round: String,
    /// The ZIP, when it was written.
    pub archive: Option<String>,
    pub secured: Vec<String>,
    pub problems: Vec<String>,
    /// How the evidence action ended (`done`, `failed`, ...; none: its end
    /// was never recorded).
    pub outcome: Option<String>,
    /// The action's detail when it is not an archive (why it failed).
    pub error: Option<String>,
}

/// What an action was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Contain,
    Evidence,
    /// A plan operation (kill, delete, queue for boot).
    Remove,
    Reboot,
    Verify,
    Release,
    Other,
}

/// One action on a host and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionLine {
    pub kind: ActionKind,
    pub phase: String,
    pub key: String,
    /// What it acted on, in words.
    pub what: String,
    /// The SHA-256 the operation compared before deleting a file.
    pub sha256: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// `done`, `already_absent`, `queued`, `drift`, `failed`, `skipped`;
    /// none: begun, its end never recorded.
    pub outcome: Option<String>,
    pub detail: Option<String>,
}

impl ActionLine {
    /// It did not do what it was for (the report lists these first).
    pub fn not_done(&self) -> bool {
        matches!(self.outcome.as_deref(), Some("failed" | "skipped" | "drift"))
    }
}

/// Build the report.
pub fn build(input: &ReportInput) -> Report {
    let status = status_view::build(&input.status, None, None);
    let rows: HashMap<String, &crate::journal::operation::OperationHostRow> =
        input.status.hosts.iter().map(|h| (h.host.to_lowercase(), h)).collect();
    let mut actions: HashMap<String, Vec<ActionLine>> = HashMap::new();
    for a in &input.status.actions {
        actions.entry(a.host.to_lowercase()).or_default().push(action_line(a));
    }
    let mut polls: HashMap<String, Vec<PollDetail>> = HashMap::new();
    for e in &input.events {
        if let Some((host, line, what)) = timeline::poll_of(e) {
            polls.entry(host.to_lowercase()).or_default().push(PollDetail {
                at: e.at.clone(),
                number: line.number,
                answered: line.answered,
                what,
            });
        }
    }
    let hosts: Vec<HostDetail> = status
        .hosts
        .iter()
        .map(|s| {
            let key = s.host.to_lowercase();
            let row = rows.get(&key);
            let actions = actions.remove(&key).unwrap_or_default();
            HostDetail {
                status: s.clone(),
                address: row.map(|r| r.address.clone()).unwrap_or_default(),
                role: row.map(|r| r.role.clone()).unwrap_or_default(),
                found: input.found.get(&key).map(|f| f.iter().map(found_line).collect()).unwrap_or_default(),
                evidence: input
                    .status
                    .actions
                    .iter()
                    .filter(|a| a.host.eq_ignore_ascii_case(&s.host) && action_kind(&a.key) == ActionKind::Evidence)
                    .map(|a| evidence_line(&a.key, a.outcome.as_deref(), a.detail.as_deref()))
                    .collect(),
                actions,
                polls: polls.remove(&key).unwrap_or_default(),
            }
        })
        .collect();
    let infected: HashSet<String> = input
        .found
        .iter()
        .filter(|(_, f)| f.iter().any(|f| f.allowlisted.is_none()))
        .map(|(h, _)| h.clone())
        .collect();
    let summary = Summary {
        hosts: hosts.len(),
        infected: hosts.iter().filter(|h| infected.contains(&h.status.host.to_lowercase())).count(),
        contained: hosts.iter().filter(|h| h.status.contained).count(),
        removed: hosts.iter().map(|h| h.status.purged).sum(),
        queued: hosts.iter().map(|h| h.status.queued).sum(),
        rebooted: hosts.iter().filter(|h| h.status.rebooted).count(),
        verified: hosts.iter().filter(|h| h.status.verified).count(),
        held: hosts.iter().filter(|h| h.status.held).count(),
        needs_person: hosts.iter().filter(|h| h.status.needs_person).count(),
        not_done: hosts.iter().flat_map(|h| &h.actions).filter(|a| a.not_done()).count(),
    };
    let start = input.status.operation.as_ref().map(|o| o.started_at.as_str());
    let end = input.status.operation.as_ref().and_then(|o| o.ended_at.as_deref());
    let timeline = timeline::build(&input.events, &infected, hosts.len(), start, end);
    Report {
        generated_at: input.generated_at.clone(),
        engagement_id: input.engagement_id.clone(),
        summary,
        status,
        runs: input
            .runs
            .iter()
            .map(|r| RunLine {
                id: r.id,
                command: r.command.clone(),
                argv: r.argv.clone(),
                operator: r.operator.clone(),
                version: r.version.clone(),
                started_at: r.started_at.clone(),
                ended_at: r.ended_at.clone(),
                exit_code: r.exit_code,
            })
            .collect(),
        hosts,
        timeline,
    }
}

/// The kind of an action, from its journal key (`engine::resume::key`).
fn action_kind(key: &str) -> ActionKind {
    if key == "contain" {
        ActionKind::Contain
    } else if key == "release" || key.starts_with("release/") {
        // `release/deny/<id>`: a deny ACE lifted at release.
        ActionKind::Release
    } else if key.starts_with("purge/") && key.ends_with("/evidence") {
        ActionKind::Evidence
    } else if key.contains("/op/") {
        ActionKind::Remove
    } else if key.starts_with("reboot/") {
        ActionKind::Reboot
    } else if key.starts_with("verify/") {
        ActionKind::Verify
    } else {
        ActionKind::Other
    }
}

fn action_line(a: &crate::journal::operation::OperationActionRow) -> ActionLine {
    let kind = action_kind(&a.key);
    let (what, sha256) = match kind {
        // What an evidence action sent is the list of files; its archive
        // is in the evidence lines.
        ActionKind::Evidence => ("evidence copy of the files to delete".to_string(), None),
        _ => describe_op(&a.op),
    };
    ActionLine {
        kind,
        phase: a.phase.clone(),
        key: a.key.clone(),
        what,
        sha256,
        started_at: a.started_at.clone(),
        ended_at: a.ended_at.clone(),
        outcome: a.outcome.clone(),
        detail: a.detail.clone().filter(|d| !d.is_empty()),
    }
}

/// What an action sent, in words, and the file SHA-256 it compared: a
/// runtime operation's JSON (`{"op":"delete_file","path":...}`) is named
/// by its tag and what it acts on; any other text (containment, a
/// reboot's description) is kept as it is.
fn describe_op(sent: &str) -> (String, Option<String>) {
    let Ok(serde_json::Value::Object(v)) = serde_json::from_str::<serde_json::Value>(sent) else {
        return (sent.to_string(), None);
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let Some(tag) = s("op") else {
        return (sent.to_string(), None);
    };
    let subject = if let Some(path) = s("path") {
        path
    } else if let Some(name) = s("name") {
        name
    } else if let (Some(filter), Some(consumer)) = (s("filter"), s("consumer")) {
        format!("{filter} -> {consumer}")
    } else if let (Some(hive), Some(key)) = (s("hive"), s("key")) {
        match s("value") {
            Some(value) => format!("{hive}\\{key}\\{}", crate::detect::value_name(&value)),
            None => format!("{hive}\\{key}"),
        }
    } else if let Some(pid) = v.get("pid").and_then(|p| p.as_u64()) {
        format!("pid {pid} ({})", s("expected_image").unwrap_or_default())
    } else {
        String::new()
    };
    let what = if subject.is_empty() { tag.replace('_', " ") } else { format!("{} {subject}", tag.replace('_', " ")) };
    (what, s("expected_sha256"))
}

fn evidence_line(key: &str, outcome: Option<&str>, detail: Option<&str>) -> EvidenceLine {
    let round = key.trim_start_matches("purge/").trim_end_matches("/evidence").to_string();
    match detail.and_then(EvidenceOutcome::from_journal_detail) {
        Some(e) => EvidenceLine {
            round,
            archive: Some(e.archive),
            secured: e.secured,
            problems: e.problems,
            outcome: outcome.map(str::to_string),
            error: None,
        },
        None => EvidenceLine {
            round,
            archive: None,
            secured: vec![],
            problems: vec![],
            outcome: outcome.map(str::to_string),
            error: detail.filter(|d| !d.is_empty()).map(str::to_string),
        },
    }
}

fn found_line(f: &StoredFinding) -> FoundLine {
    FoundLine {
        what: f.artifact.describe(),
        family: f.family.name().to_string(),
        rule: f.rule_id.clone(),
        confidence: super::scan_view::confidence_word(f.confidence).to_string(),
        certain: f.certain,
        reasons: f.reasons.clone(),
        files: f.target_files.clone(),
        allowlisted: f.allowlisted.clone(),
    }
}

/// A small operation as the journal would hold it, hostile names
/// included (tests of this module and of the page).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::detect::{ArtifactRef, Confidence, Family};
    use crate::journal::operation::{OperationActionRow, OperationHostRow, OperationRecord};

    pub const EVIL_HOST: &str = "<img src=x onerror=\"document.title='pwned'\">";
    pub const EVIL_TASK: &str = "\\<script>alert(1)</script>";

    fn host(name: &str, state: &str, contained: bool, why: Option<&str>) -> OperationHostRow {
        OperationHostRow {
            host: name.into(),
            address: "10.0.0.1".into(),
            role: "workstation".into(),
            state: state.into(),
            reason: why.map(str::to_string),
            round: 0,
            contained,
            updated_at: "2026-01-01T00:10:00.000Z".into(),
        }
    }

    fn action(host: &str, key: &str, op: &str, outcome: Option<&str>, detail: &str) -> OperationActionRow {
        OperationActionRow {
            id: 1,
            run_id: 1,
            host: host.into(),
            phase: key.split('/').next().unwrap_or(key).into(),
            key: key.into(),
            plan_op_id: None,
            op: op.into(),
            started_at: "2026-01-01T00:01:00.000Z".into(),
            ended_at: outcome.map(|_| "2026-01-01T00:01:01.000Z".into()),
            outcome: outcome.map(str::to_string),
            detail: Some(detail.into()),
        }
    }

    fn moved(at: &str, host: &str, state: &str, contained: bool) -> OperationEventRow {
        OperationEventRow {
            id: 0,
            run_id: Some(1),
            host: Some(host.into()),
            at: at.into(),
            level: "info".into(),
            kind: "host_state".into(),
            message: serde_json::json!({"event": "host_state", "host": host, "state": state, "round": 0, "contained": contained, "reason": null}).to_string(),
        }
    }

    /// `watch`'s journal line of a poll of `host`.
    pub fn polled(at: &str, host: &str, what: &str) -> OperationEventRow {
        OperationEventRow {
            kind: "observed".into(),
            message: serde_json::json!({"event": "observed", "host": host, "phase": "contain", "what": what}).to_string(),
            ..moved(at, host, "x", false)
        }
    }

    fn finding(host: &str, artifact: ArtifactRef, reasons: Vec<String>) -> StoredFinding {
        StoredFinding {
            host: host.into(),
            artifact,
            family: Family::Emotet,
            rule_id: "EMO-TEST".into(),
            confidence: Confidence::High,
            evidence: vec![],
            certain: false,
            reasons,
            target_files: vec![r"C:\Users\bob\AppData\Local\x.dll".into()],
            related: vec![],
            allowlisted: None,
        }
    }

    /// WS-001 purged, rebooted and verified clean; the hostile host set
    /// aside (its purge failed); WS-003 unreached.
    pub fn input() -> ReportInput {
        let lone = crate::runtime::host_text::from_units(&[0x61, 0xD800, 0x62]);
        let delete = serde_json::json!({"op": "delete_file", "path": r"C:\Users\bob\AppData\Local\x.dll", "expected_sha256": "ab".repeat(32)}).to_string();
        let queue = serde_json::json!({"op": "queue_delete_on_reboot", "path": r"C:\Users\bob\AppData\Local\y.dll", "expected_sha256": "cd".repeat(32)}).to_string();
        let task = serde_json::json!({"op": "delete_task", "path": EVIL_TASK, "expected_actions": []}).to_string();
        ReportInput {
            status: StatusInput {
                operation: Some(OperationRecord {
                    id: 3,
                    command: "apply".into(),
                    plan_id: Some(2),
                    plan_sha256: Some("12".repeat(32)),
                    playbook_sha256: Some("34".repeat(32)),
                    settings: "{}".into(),
                    started_run: 5,
                    started_at: "2026-01-01T00:00:00.000Z".into(),
                    ended_at: Some("2026-01-01T00:20:00.000Z".into()),
                    status: "finished".into(),
                    exit_code: Some(2),
                    next: None,
                }),
                hosts: vec![
                    host("WS-001", "clean", true, None),
                    host(EVIL_HOST, "purge_failed", true, Some("the task could not be deleted:\n\"access denied\" <script>alert(2)</script>")),
                    host("WS-003", "unreached", false, Some("WinRM: connection refused")),
                ],
                actions: vec![
                    action("WS-001", "contain", "contain", Some("done"), ""),
                    action("WS-001", "purge/r0/evidence", "[]", Some("done"), &serde_json::json!({"archive": "/case/evidence/WS-001/r0.zip", "secured": [r"c:\users\bob\appdata\local\x.dll"], "problems": []}).to_string()),
                    action("WS-001", "purge/r0/op/1", &delete, Some("done"), ""),
                    action("WS-001", "purge/r0/op/2", &queue, Some("queued"), "in use: goes at the next boot"),
                    action("WS-001", "reboot/r0/ask", "shutdown /r", Some("done"), ""),
                    action("WS-001", "verify/r0/scan", "scan", Some("done"), "nothing actionable found"),
                    action(EVIL_HOST, "contain", "contain", Some("done"), ""),
                    action(EVIL_HOST, "purge/r0/op/3", &task, Some("failed"), &format!("access denied to {lone}")),
                ],
                findings: [("ws-001".to_string(), 0), (EVIL_HOST.to_lowercase(), 1)].into_iter().collect(),
                not_acted_on: Default::default(),
                accepted: vec![],
                last_poll: Default::default(),
                sources: vec![crate::journal::sources::SourceRow {
                    address: "10.9.9.9".into(),
                    state: "held".into(),
                    hosts: vec![EVIL_HOST.into()],
                    detail: "not in the inventory <script>alert(3)</script>".into(),
                    at: "2026-01-01T00:09:00.000Z".into(),
                    operator: "ir@laptop".into(),
                    command: "run".into(),
                }],
            },
            events: vec![
                moved("2026-01-01T00:01:00.000Z", "WS-001", "contained", true),
                moved("2026-01-01T00:01:00.000Z", EVIL_HOST, "contained", true),
                moved("2026-01-01T00:01:30.000Z", "WS-003", "unreached", false),
                moved("2026-01-01T00:02:00.000Z", "WS-001", "purged", true),
                moved("2026-01-01T00:02:00.000Z", EVIL_HOST, "purge_failed", true),
                moved("2026-01-01T00:03:00.000Z", "WS-001", "reboot_asked", true),
                moved("2026-01-01T00:08:00.000Z", "WS-001", "rebooted", true),
                moved("2026-01-01T00:09:00.000Z", "WS-001", "clean", true),
            ],
            runs: vec![RunRecord {
                id: 5,
                command: "apply".into(),
                argv: vec!["cauterize".into(), "apply".into(), "plan.yml".into()],
                operator: "alice@IR-LAPTOP".into(),
                version: "0.1.0".into(),
                started_at: "2026-01-01T00:00:00.000Z".into(),
                ended_at: Some("2026-01-01T00:20:00.000Z".into()),
                exit_code: Some(2),
                operation_id: Some(3),
            }],
            found: [
                (
                    "ws-001".to_string(),
                    vec![finding("WS-001", ArtifactRef::File { path: r"C:\Users\bob\AppData\Local\x.dll".into() }, vec!["a DLL in a user folder started by rundll32".into()])],
                ),
                (
                    EVIL_HOST.to_lowercase(),
                    vec![finding(
                        EVIL_HOST,
                        ArtifactRef::Task { path: EVIL_TASK.into() },
                        vec![format!("its action runs \"regsvr32\" 'x'\nsecond line {lone} \u{1b}[2J")],
                    )],
                ),
            ]
            .into_iter()
            .collect(),
            engagement_id: Some("a1b2c3d4e5f6".into()),
            generated_at: "2026-01-01T01:00:00.000Z".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{self, EVIL_HOST};
    use super::*;

    #[test]
    fn counts_per_host_and_in_the_summary() {
        let r = build(&fixture::input());
        assert_eq!(
            r.summary,
            Summary {
                hosts: 3,
                infected: 2,
                contained: 2,
                removed: 2,
                queued: 1,
                rebooted: 1,
                verified: 1,
                held: 2,
                needs_person: 0,
                not_done: 1,
            }
        );
        let ws1 = &r.hosts[0];
        assert_eq!(ws1.status.host, "WS-001");
        assert_eq!(ws1.evidence.len(), 1);
        assert_eq!(ws1.evidence[0].archive.as_deref(), Some("/case/evidence/WS-001/r0.zip"));
        let delete = ws1.actions.iter().find(|a| a.key == "purge/r0/op/1").unwrap();
        assert_eq!(delete.kind, ActionKind::Remove);
        assert_eq!(delete.what, r"delete file C:\Users\bob\AppData\Local\x.dll");
        assert_eq!(delete.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        let evil = r.hosts.iter().find(|h| h.status.host == EVIL_HOST).unwrap();
        assert!(evil.status.held);
        assert_eq!(evil.found[0].what, format!("scheduled task {}", fixture::EVIL_TASK));
        assert!(evil.actions.iter().any(|a| a.not_done() && a.detail.as_deref().unwrap().starts_with("access denied")));
        // Who ran it and when.
        assert_eq!(r.runs[0].operator, "alice@IR-LAPTOP");
    }

    #[test]
    fn the_timeline_starts_and_ends_with_the_operation() {
        let r = build(&fixture::input());
        let t = &r.timeline;
        assert_eq!(t.hosts, 3);
        assert_eq!(t.points.first().unwrap().at, "2026-01-01T00:00:00.000Z");
        assert_eq!(t.points.last().unwrap().at, "2026-01-01T00:20:00.000Z");
        assert_eq!(t.points.iter().map(|p| p.rebooting).max(), Some(1));
        let end = t.points.last().unwrap();
        assert_eq!((end.contained, end.infected, end.verified), (2, 1, 1));
    }

    #[test]
    fn a_watched_hosts_polls_are_in_its_detail_and_on_the_timeline() {
        let mut input = fixture::input();
        input.events.extend([
            fixture::polled("2026-01-01T00:25:00.000Z", "WS-003", "watch: poll 1 not answered (connection refused); next poll in 30s"),
            fixture::polled("2026-01-01T00:26:00.000Z", "WS-003", "watch: poll 2 answered (booted 2026-01-01T00:25:40Z): taking it into the operation"),
        ]);
        let r = build(&input);
        let ws3 = r.hosts.iter().find(|h| h.status.host == "WS-003").unwrap();
        let polls: Vec<(u32, bool, &str)> = ws3.polls.iter().map(|p| (p.number, p.answered, p.at.as_str())).collect();
        assert_eq!(polls, [(1, false, "2026-01-01T00:25:00.000Z"), (2, true, "2026-01-01T00:26:00.000Z")]);
        assert!(ws3.polls[0].what.contains("connection refused"));
        assert!(r.hosts.iter().filter(|h| h.status.host != "WS-003").all(|h| h.polls.is_empty()));
        assert_eq!(r.timeline.polls.len(), 2);
        assert!(r.timeline.polls[1].answered);
    }

    #[test]
    fn describes_what_an_action_sent() {
        let kill = serde_json::json!({"op": "kill_process", "pid": 4242, "expected_image": "rundll32.exe"}).to_string();
        assert_eq!(describe_op(&kill), ("kill process pid 4242 (rundll32.exe)".into(), None));
        let value = serde_json::json!({"op": "delete_registry_value", "hive": "HKLM", "key": r"Software\Run", "value": ""}).to_string();
        assert_eq!(describe_op(&value).0, r"delete registry value HKLM\Software\Run\(default)");
        assert_eq!(describe_op("shutdown /r /t 0").0, "shutdown /r /t 0");
    }
}
