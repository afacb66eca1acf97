//! What `cauterize exec` shows: identical outputs grouped once under a
//! compact host list (dshbak style), then each failure with its reason, then
//! the summary line; or one JSON object per host. Pure: builds strings.

use super::group::group_by_key;
use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use super::summary::{Category, Summary};
use crate::transport::{ScriptOutput, TransportError};
use serde::Serialize;
use std::time::Duration;

/// What happened on one host.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    pub host: String,
    pub address: String,
    pub result: Result<ScriptOutput, TransportError>,
    /// Whole time spent on the host (shell creation included).
    pub elapsed: Duration,
}

impl ExecOutcome {
    /// `None` when the host succeeded (ran, exit code 0).
    pub fn failure(&self) -> Option<Category> {
        match &self.result {
            Ok(out) if out.exit_code == 0 => None,
            Ok(_) => Some(Category::NonZeroExit),
            Err(e) => Some(Category::of_kind(e.kind())),
        }
    }
}

/// One line of `--json` output.
#[derive(Debug, Serialize, PartialEq)]
pub struct ExecRecord<'a> {
    pub host: &'a str,
    pub address: &'a str,
    /// `ok` or `failed`.
    pub status: &'static str,
    /// Why it failed: a transport error kind or `non_zero_exit`; null when ok.
    pub kind: Option<&'static str>,
    pub exit_code: Option<i32>,
    pub stdout: Option<&'a str>,
    pub stderr: Option<&'a str>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// The JSON record of one host.
pub fn record(o: &ExecOutcome) -> ExecRecord<'_> {
    let failure = o.failure();
    let (exit_code, stdout, stderr, error, kind) = match &o.result {
        Ok(out) => (
            Some(out.exit_code),
            Some(out.stdout.as_str()),
            Some(out.stderr.as_str()),
            None,
            failure.map(|_| "non_zero_exit"),
        ),
        Err(e) => (
            None,
            None,
            None,
            Some(e.to_string()),
            Some(e.kind().as_str()),
        ),
    };
    ExecRecord {
        host: &o.host,
        address: &o.address,
        status: if failure.is_none() { "ok" } else { "failed" },
        kind,
        exit_code,
        stdout,
        stderr,
        error,
        elapsed_ms: u64::try_from(o.elapsed.as_millis()).unwrap_or(u64::MAX),
    }
}

/// One JSON line per host (no trailing newline).
pub fn json_line(o: &ExecOutcome) -> String {
    serde_json::to_string(&record(o))
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode: {e}\"}}"))
}

/// Count the outcomes.
pub fn summarize(outcomes: &[ExecOutcome]) -> Summary {
    let mut s = Summary::default();
    for o in outcomes {
        s.add(o.failure());
    }
    s
}

/// `text`, made terminal-safe, every line indented by `indent`, ending with
/// a newline.
fn indented(text: &str, indent: &str) -> String {
    let safe = terminal_safe(text);
    let mut out = String::new();
    for line in safe.trim_end().split('\n') {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// How a failure is shown: a one-line reason and an indented detail block
/// (stderr and stdout of a non-zero exit).
fn failure_text(o: &ExecOutcome) -> (String, String) {
    match &o.result {
        Ok(r) => {
            let mut detail = String::new();
            if !r.stderr.trim().is_empty() {
                detail.push_str("  stderr:\n");
                detail.push_str(&indented(&r.stderr, "    "));
            }
            if !r.stdout.trim().is_empty() {
                detail.push_str("  stdout:\n");
                detail.push_str(&indented(&r.stdout, "    "));
            }
            (format!("exit code {}", r.exit_code), detail)
        }
        Err(e) => (
            format!("{}: {}", e.kind(), one_line(&e.to_string())),
            String::new(),
        ),
    }
}

/// The human report: groups of identical successful output, failures per
/// host, summary line last.
pub fn render_text(outcomes: &[ExecOutcome]) -> String {
    let mut out = String::new();
    let ok: Vec<(&ExecOutcome, &ScriptOutput)> = outcomes
        .iter()
        .filter(|o| o.failure().is_none())
        .filter_map(|o| o.result.as_ref().ok().map(|r| (o, r)))
        .collect();
    let groups = group_by_key(
        ok.iter()
            .map(|(_, r)| (r.stdout.as_str(), r.stderr.as_str(), r.exit_code)),
    );
    for g in &groups {
        let names: Vec<&str> = g.members.iter().map(|&i| ok[i].0.host.as_str()).collect();
        out.push_str(&format!(
            "==== {} ====\n",
            terminal_safe(&with_count(&names))
        ));
        let (stdout, stderr, _) = g.key;
        if stdout.trim().is_empty() && stderr.trim().is_empty() {
            out.push_str("(no output)\n");
        }
        if !stdout.trim().is_empty() {
            out.push_str(&indented(stdout, ""));
        }
        if !stderr.trim().is_empty() {
            out.push_str("stderr:\n");
            out.push_str(&indented(stderr, "  "));
        }
        out.push('\n');
    }

    // Failures with the same reason and output are shown once too, so 200
    // hosts refusing the same credential make one line, not 200.
    let failed: Vec<&ExecOutcome> = outcomes.iter().filter(|o| o.failure().is_some()).collect();
    if !failed.is_empty() {
        out.push_str(&format!("==== failed ({}) ====\n", failed.len()));
        let groups = group_by_key(failed.iter().map(|o| failure_text(o)));
        for g in &groups {
            let names: Vec<&str> = g.members.iter().map(|&i| failed[i].host.as_str()).collect();
            let (reason, detail) = &g.key;
            out.push_str(&format!(
                "{}: {reason}\n{detail}",
                terminal_safe(&with_count(&names))
            ));
        }
        out.push('\n');
    }
    out.push_str(&summarize(outcomes).line());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Phase;
    use std::time::SystemTime;

    fn ran(host: &str, stdout: &str, stderr: &str, code: i32) -> ExecOutcome {
        ExecOutcome {
            host: host.into(),
            address: format!("10.0.0.{}", host.len()),
            result: Ok(ScriptOutput {
                stdout: stdout.into(),
                stderr: stderr.into(),
                exit_code: code,
                elapsed: Duration::from_millis(5),
                started_at: SystemTime::UNIX_EPOCH,
            }),
            elapsed: Duration::from_millis(1234),
        }
    }

    fn failed(host: &str, e: TransportError) -> ExecOutcome {
        ExecOutcome {
            host: host.into(),
            address: "10.0.0.9".into(),
            result: Err(e),
            elapsed: Duration::ZERO,
        }
    }

    fn unreachable() -> TransportError {
        TransportError::Unreachable {
            address: "10.0.0.9".into(),
            port: 5985,
            detail: "Connection refused".into(),
        }
    }

    #[test]
    fn identical_outputs_are_grouped_with_a_compact_list() {
        let outcomes = vec![
            ran("WS-001", "hello\r\n", "", 0),
            ran("WS-002", "hello\r\n", "", 0),
            ran("WS-003", "other\n", "", 0),
            ran("WS-004", "hello\r\n", "", 0),
        ];
        let text = render_text(&outcomes);
        assert!(
            text.starts_with(
                "==== WS-[001-002,004] (3 hosts) ====\nhello\n\n==== WS-003 ====\nother\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("4 ok, 0 failed\n"), "{text}");
        assert!(!text.contains("failed ("), "{text}");
    }

    #[test]
    fn failures_listed_per_host_with_reason() {
        let outcomes = vec![
            ran("WS-001", "", "", 0),
            ran("WS-002", "partial\n", "Access to the path is denied.\n", 1),
            failed("WS-003", unreachable()),
            failed(
                "WS-004",
                TransportError::TimedOut {
                    phase: Phase::Running,
                    after: Duration::from_secs(60),
                },
            ),
        ];
        let text = render_text(&outcomes);
        assert!(text.contains("==== WS-001 ====\n(no output)\n"), "{text}");
        assert!(text.contains("==== failed (3) ====\n"), "{text}");
        assert!(text.contains("WS-002: exit code 1\n  stderr:\n    Access to the path is denied.\n  stdout:\n    partial\n"), "{text}");
        assert!(
            text.contains("WS-003: unreachable: cannot reach 10.0.0.9 on port 5985"),
            "{text}"
        );
        assert!(
            text.contains("WS-004: timed_out: timed out while the command ran after 60.0s"),
            "{text}"
        );
        assert!(
            text.ends_with("1 ok, 3 failed (1 unreachable, 1 timeout, 1 non-zero exit)\n"),
            "{text}"
        );
    }

    #[test]
    fn identical_failures_are_grouped_too() {
        let auth = || TransportError::AuthFailed {
            credential: "ir".into(),
            detail: "HTTP 401".into(),
        };
        let outcomes = vec![
            ran("WS-001", "x\n", "denied\n", 5),
            failed("WS-002", auth()),
            ran("WS-003", "x\n", "denied\n", 5),
            failed("WS-004", auth()),
            failed("WS-005", unreachable()),
        ];
        let text = render_text(&outcomes);
        assert!(text.contains("==== failed (5) ====\nWS-[001,003] (2 hosts): exit code 5\n  stderr:\n    denied\n  stdout:\n    x\n"), "{text}");
        assert!(text.contains("WS-[002,004] (2 hosts): auth_failed: authentication failed: HTTP 401; check the credential 'ir'"), "{text}");
        assert!(text.contains("\nWS-005: unreachable: "), "{text}");
        assert!(
            text.ends_with("0 ok, 5 failed (1 unreachable, 2 auth, 2 non-zero exit)\n"),
            "{text}"
        );
    }

    #[test]
    fn hostile_output_cannot_drive_the_terminal() {
        let text = render_text(&[ran("WS-001", "\x1b]0;pwned\x07\n", "", 0)]);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }

    #[test]
    fn json_shape_is_stable() {
        let ok: serde_json::Value =
            serde_json::from_str(&json_line(&ran("WS-001", "hi\n", "", 0))).unwrap();
        assert_eq!(
            ok,
            serde_json::json!({"host":"WS-001","address":"10.0.0.6","status":"ok","kind":null,"exit_code":0,
                "stdout":"hi\n","stderr":"","error":null,"elapsed_ms":1234})
        );
        let bad: serde_json::Value =
            serde_json::from_str(&json_line(&ran("WS-002", "", "no", 3))).unwrap();
        assert_eq!(bad["status"], "failed");
        assert_eq!(bad["kind"], "non_zero_exit");
        assert_eq!(bad["exit_code"], 3);
        let down: serde_json::Value =
            serde_json::from_str(&json_line(&failed("WS-003", unreachable()))).unwrap();
        assert_eq!(down["kind"], "unreachable");
        assert_eq!(down["exit_code"], serde_json::Value::Null);
        assert!(down["error"].as_str().unwrap().contains("port 5985"));
        assert_eq!(
            down.as_object().unwrap().len(),
            9,
            "every key always present"
        );
    }
}
