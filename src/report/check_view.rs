//! What `cauterize check` shows: one table row per host, the hosts needing
//! attention with the reason, and the summary; or one JSON object per host.
//! Also decides which hosts fail (unreachable, authentication, not admin).
//! Pure: builds strings.

use super::clock::{KERBEROS_MAX_SKEW_SECS, format_skew};
use super::sanitize::one_line;
use super::summary::{Category, Summary};
use super::table;
use crate::runtime::probe::ProbeFacts;
use crate::transport::TransportError;
use crate::transport::tcp::PortState;
use serde::Serialize;

/// What the probe step found.
#[derive(Debug, Clone)]
pub enum ProbeStatus {
    /// Not run: the configured WinRM port did not accept a connection.
    Skipped,
    /// The transport failed (auth, time-out, quota, ...).
    Failed(TransportError),
    /// A step did not finish within `check`'s step time-out.
    Hung { step: HungStep, limit: std::time::Duration },
    /// The probe ran but its output was unusable (message says why).
    BadOutput(String),
    /// The facts, and the host's clock skew in seconds when readable.
    Ok {
        facts: ProbeFacts,
        skew_secs: Option<i64>,
    },
}

/// Which step of the probe hung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HungStep {
    /// Connect, log on, create the shell.
    OpeningShell,
    /// The probe command ran (the login worked).
    Command,
}

impl HungStep {
    /// `hung: the command did not finish in 15 s; ...`, with what to do.
    pub fn reason(self, limit: std::time::Duration) -> String {
        let secs = limit.as_secs_f64();
        let limit = if secs.fract() == 0.0 { format!("{secs:.0} s") } else { format!("{secs:.1} s") };
        match self {
            HungStep::OpeningShell => format!(
                "hung: no WinRM shell opened in {limit} (the port answers); check the host's load and \
                 its WinRM service (Restart-Service WinRM), or allow longer with --step-timeout"
            ),
            HungStep::Command => format!(
                "hung: the command did not finish in {limit} (the login worked); check the host's load \
                 and its WinRM service (Restart-Service WinRM), or allow longer with --step-timeout"
            ),
        }
    }
}

/// Everything `check` learnt about one host.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub host: String,
    pub address: String,
    /// The WinRM port of the inventory.
    pub port: u16,
    pub port_5985: PortState,
    pub port_5986: PortState,
    /// The configured port's state (same as one of the two above when the
    /// port is 5985 or 5986).
    pub port_configured: PortState,
    pub probe: ProbeStatus,
}

/// Why a host fails, and what to do about it; `None` when it is usable.
pub fn problem(o: &CheckOutcome) -> Option<(Category, String)> {
    match &o.probe {
        ProbeStatus::Skipped => {
            let mut text = format!(
                "WinRM port {} is {}: check that the host is up and WinRM is enabled \
                 (Enable-PSRemoting or winrm quickconfig) and allowed by its firewall",
                o.port,
                o.port_configured.label()
            );
            if o.port != 5986 && o.port_5986.is_open() {
                text.push_str("; port 5986 (HTTPS) answers: set scheme: https and port: 5986");
            } else if o.port != 5985 && o.port_5985.is_open() {
                text.push_str("; port 5985 (HTTP) answers: set scheme: http and port: 5985");
            }
            Some((Category::Unreachable, text))
        }
        ProbeStatus::Failed(e) => Some((Category::of_kind(e.kind()), e.to_string())),
        ProbeStatus::Hung { step, limit } => Some((Category::Hung, step.reason(*limit))),
        ProbeStatus::BadOutput(why) => {
            Some((Category::Protocol, format!("probe output unusable: {why}")))
        }
        ProbeStatus::Ok { facts, .. } if !facts.is_admin => Some((
            Category::NotAdmin,
            format!(
                "account '{}' is not a local administrator on this host; cauterize needs \
                 administrator rights",
                facts.user
            ),
        )),
        ProbeStatus::Ok { .. } => None,
    }
}

/// Things worth knowing that do not make the host fail.
pub fn notes(o: &CheckOutcome) -> Vec<String> {
    let ProbeStatus::Ok { facts, skew_secs } = &o.probe else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if facts.ps_version.starts_with("1.") || facts.ps_version.starts_with("2.") {
        notes.push(format!(
            "PowerShell {}: supported by cauterize, but old (Windows 7 / 2008 R2 as shipped); \
             WMF 5.1 adds script block logging and is advised",
            facts.ps_version
        ));
    }
    match skew_secs {
        Some(s) if s.abs() > KERBEROS_MAX_SKEW_SECS => notes.push(format!(
            "clock skew {}: Kerberos fails past 5 minutes; fix the host's time (w32tm /resync)",
            format_skew(*s)
        )),
        Some(_) => {}
        None => notes.push(format!(
            "the host's clock could not be read ('{}')",
            facts.utc_now
        )),
    }
    if let Some(n) = facts.max_shells_per_user
        && n <= 5
    {
        notes.push(format!(
            "MaxShellsPerUser is {n}: a few shells left open (by any tool) lock this account out \
             until they time out"
        ));
    }
    notes
}

/// Count the outcomes.
pub fn summarize(outcomes: &[CheckOutcome]) -> Summary {
    let mut s = Summary::default();
    for o in outcomes {
        s.add(problem(o).map(|(c, _)| c));
    }
    s
}

/// The AUTH cell.
fn auth_cell(p: &ProbeStatus) -> String {
    match p {
        ProbeStatus::Skipped => "-".into(),
        ProbeStatus::Failed(e) if e.kind() == crate::transport::ErrorKind::AuthFailed => {
            "failed".into()
        }
        // The shell opened, so the login worked; the failure came later.
        ProbeStatus::Failed(e) if e.after_login() => "ok".into(),
        ProbeStatus::Failed(e) => e.kind().as_str().into(),
        ProbeStatus::Hung { step: HungStep::OpeningShell, .. } => "hung".into(),
        ProbeStatus::Hung { step: HungStep::Command, .. }
        | ProbeStatus::BadOutput(_)
        | ProbeStatus::Ok { .. } => "ok".into(),
    }
}

/// The table row of one host.
fn row(o: &CheckOutcome) -> Vec<String> {
    let mut cells = vec![
        o.host.clone(),
        o.port_5985.label().into(),
        o.port_5986.label().into(),
        auth_cell(&o.probe),
    ];
    match &o.probe {
        ProbeStatus::Ok { facts, skew_secs } => cells.extend([
            if facts.is_admin { "yes" } else { "no" }.into(),
            facts.os_caption.clone(),
            facts.os_build.clone(),
            facts.ps_version.clone(),
            facts
                .max_shells_per_user
                .map_or("?".into(), |n| n.to_string()),
            skew_secs.map_or("?".into(), format_skew),
        ]),
        _ => cells.extend(std::iter::repeat_n("-".to_string(), 6)),
    }
    cells
}

/// Headers of the table.
pub const HEADERS: [&str; 10] = [
    "HOST", "5985", "5986", "AUTH", "ADMIN", "OS", "BUILD", "PS", "SHELLS", "SKEW",
];

/// The human report: table, hosts needing attention, summary line.
pub fn render_text(outcomes: &[CheckOutcome]) -> String {
    let rows: Vec<Vec<String>> = outcomes.iter().map(row).collect();
    let mut out = table::render(&HEADERS, &rows);
    let mut attention = String::new();
    for o in outcomes {
        let host = one_line(&o.host);
        if let Some((_, why)) = problem(o) {
            attention.push_str(&format!("  {host}: {}\n", one_line(&why)));
        }
        for note in notes(o) {
            attention.push_str(&format!("  {host}: note: {}\n", one_line(&note)));
        }
    }
    if !attention.is_empty() {
        out.push_str("\nNeeds attention:\n");
        out.push_str(&attention);
    }
    out.push('\n');
    out.push_str(&summarize(outcomes).line());
    out.push('\n');
    out
}

/// One line of `check --json`.
#[derive(Debug, Serialize)]
pub struct CheckRecord<'a> {
    pub host: &'a str,
    pub address: &'a str,
    pub status: &'static str,
    /// Failure category (`unreachable`, `auth`, `not admin`, ...); null when ok.
    pub kind: Option<&'static str>,
    pub error: Option<String>,
    pub winrm_port: u16,
    pub port_5985: &'a PortState,
    pub port_5986: &'a PortState,
    /// The probe's facts, when it ran.
    pub facts: Option<&'a ProbeFacts>,
    pub clock_skew_secs: Option<i64>,
    pub notes: Vec<String>,
}

/// The JSON line of one host (no trailing newline).
pub fn json_line(o: &CheckOutcome) -> String {
    let problem = problem(o);
    let (facts, skew) = match &o.probe {
        ProbeStatus::Ok { facts, skew_secs } => (Some(facts), *skew_secs),
        _ => (None, None),
    };
    let record = CheckRecord {
        host: &o.host,
        address: &o.address,
        status: if problem.is_none() { "ok" } else { "failed" },
        kind: problem.as_ref().map(|(c, _)| c.label()),
        error: problem.map(|(_, why)| why),
        winrm_port: o.port,
        port_5985: &o.port_5985,
        port_5986: &o.port_5986,
        facts,
        clock_skew_secs: skew,
        notes: notes(o),
    };
    serde_json::to_string(&record)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode: {e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(admin: bool, ps: &str, shells: Option<u32>) -> ProbeFacts {
        ProbeFacts {
            hostname: "WS-001".into(),
            user: "WS-001\\ir".into(),
            is_admin: admin,
            os_caption: "Microsoft Windows 7 Professional".into(),
            os_build: "7601".into(),
            ps_version: ps.into(),
            utc_now: "2026-11-29T03:00:00Z".into(),
            max_shells_per_user: shells,
        }
    }

    fn outcome(host: &str, probe: ProbeStatus) -> CheckOutcome {
        CheckOutcome {
            host: host.into(),
            address: "127.50.0.1".into(),
            port: 5985,
            port_5985: PortState::Open,
            port_5986: PortState::Closed,
            port_configured: PortState::Open,
            probe,
        }
    }

    #[test]
    fn healthy_host_has_no_problem_or_note() {
        let o = outcome(
            "WS-001",
            ProbeStatus::Ok {
                facts: facts(true, "5.1.17763.1", Some(30)),
                skew_secs: Some(2),
            },
        );
        assert_eq!(problem(&o), None);
        assert!(notes(&o).is_empty());
        let text = render_text(&[o]);
        assert!(!text.contains("Needs attention"), "{text}");
        assert!(text.contains("WS-001  open  closed  ok    yes"), "{text}");
        assert!(text.ends_with("1 ok, 0 failed\n"));
    }

    #[test]
    fn failures_are_unreachable_auth_not_admin() {
        let mut down = outcome("WS-002", ProbeStatus::Skipped);
        down.port_5985 = PortState::Closed;
        down.port_configured = PortState::Closed;
        down.port_5986 = PortState::Open;
        let auth = outcome(
            "WS-003",
            ProbeStatus::Failed(TransportError::AuthFailed {
                credential: "ir".into(),
                detail: "401".into(),
            }),
        );
        let user = outcome(
            "WS-004",
            ProbeStatus::Ok {
                facts: facts(false, "5.1", Some(30)),
                skew_secs: Some(0),
            },
        );
        let (c, why) = problem(&down).unwrap();
        assert_eq!(c, Category::Unreachable);
        assert!(
            why.contains("port 5985 is closed") && why.contains("set scheme: https"),
            "{why}"
        );
        assert_eq!(problem(&auth).unwrap().0, Category::Auth);
        let (c, why) = problem(&user).unwrap();
        assert_eq!(c, Category::NotAdmin);
        assert!(
            why.contains("'WS-001\\ir' is not a local administrator"),
            "{why}"
        );
        let text = render_text(&[down, auth, user]);
        assert!(
            text.contains("Needs attention:\n  WS-002: WinRM port 5985 is closed"),
            "{text}"
        );
        let ws3: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with("WS-003"))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(
            ws3[..5],
            ["WS-003", "open", "closed", "failed", "-"],
            "{text}"
        );
        assert!(
            text.ends_with("0 ok, 3 failed (1 unreachable, 1 auth, 1 not admin)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_time_out_after_login_shows_auth_ok() {
        use crate::transport::Phase;
        let late = TransportError::TimedOut {
            phase: Phase::Running,
            after: std::time::Duration::from_secs(3),
        };
        assert_eq!(auth_cell(&ProbeStatus::Failed(late)), "ok");
        let early = TransportError::TimedOut {
            phase: Phase::OpeningShell,
            after: std::time::Duration::from_secs(3),
        };
        assert_eq!(auth_cell(&ProbeStatus::Failed(early)), "timed_out");
        assert_eq!(auth_cell(&ProbeStatus::Skipped), "-");
    }

    #[test]
    fn a_hung_host_says_which_step_and_for_how_long() {
        let limit = std::time::Duration::from_secs(15);
        let hung = outcome("WS-008", ProbeStatus::Hung { step: HungStep::Command, limit });
        let (c, why) = problem(&hung).unwrap();
        assert_eq!(c, Category::Hung);
        assert!(why.starts_with("hung: the command did not finish in 15 s"), "{why}");
        assert!(why.contains("--step-timeout"), "{why}");
        assert_eq!(auth_cell(&hung.probe), "ok");
        let early = ProbeStatus::Hung { step: HungStep::OpeningShell, limit: std::time::Duration::from_millis(2500) };
        assert_eq!(auth_cell(&early), "hung");
        assert!(problem(&outcome("WS-009", early)).unwrap().1.starts_with("hung: no WinRM shell opened in 2.5 s"));
        let text = render_text(&[hung]);
        assert!(text.contains("  WS-008: hung: the command did not finish in 15 s"), "{text}");
        assert!(text.ends_with("0 ok, 1 failed (1 hung)\n"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&json_line(&outcome(
            "WS-008",
            ProbeStatus::Hung { step: HungStep::Command, limit },
        )))
        .unwrap();
        assert_eq!(v["kind"], "hung");
    }

    #[test]
    fn notes_for_old_powershell_skew_and_low_quota() {
        let o = outcome(
            "WS-005",
            ProbeStatus::Ok {
                facts: facts(true, "2.0", Some(5)),
                skew_secs: Some(-432),
            },
        );
        let n = notes(&o);
        assert_eq!(n.len(), 3, "{n:?}");
        assert!(n[0].contains("PowerShell 2.0"));
        assert!(n[1].contains("-7m12s") && n[1].contains("Kerberos"));
        assert!(n[2].contains("MaxShellsPerUser is 5"));
        assert_eq!(problem(&o), None, "notes do not fail a host");
        let text = render_text(&[o]);
        assert!(text.contains("WS-005: note: clock skew -7m12s"), "{text}");
        assert!(text.contains("-7m12s\n"), "{text}");
    }

    #[test]
    fn json_record_shape() {
        let o = outcome(
            "WS-001",
            ProbeStatus::Ok {
                facts: facts(true, "5.1", None),
                skew_secs: Some(1),
            },
        );
        let v: serde_json::Value = serde_json::from_str(&json_line(&o)).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["kind"], serde_json::Value::Null);
        assert_eq!(v["port_5985"]["state"], "open");
        assert_eq!(v["facts"]["ps_version"], "5.1");
        assert_eq!(v["clock_skew_secs"], 1);
        let down = outcome("WS-002", ProbeStatus::Skipped);
        let v: serde_json::Value = serde_json::from_str(&json_line(&down)).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["kind"], "unreachable");
        assert_eq!(v["facts"], serde_json::Value::Null);
    }
}
