//! What `cauterize scan` shows: each host's findings with confidence,
//! family, rule, artifact, reasons and files; the hosts with nothing found
//! as one compact list; the hosts that could not be scanned and why;
//! totals per family and the summary line. Or one JSON object per host.
//! Findings are not failures: the exit code counts hosts not scanned.
//! Pure: builds strings.

use super::group::group_by_key;
use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use super::summary::{Category, Summary};
use crate::detect::{Confidence, Family, Finding};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A host that was scanned.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The journal's id of the stored snapshot.
    pub snapshot_id: i64,
    pub findings: Vec<Finding>,
    /// Bounds collection hit (`what (bound: limit)`).
    pub truncated: Vec<String>,
}

/// Why a host could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanFailure {
    pub category: Category,
    /// Machine-readable kind (`unreachable`, `auth_failed`, `runtime`,
    /// `journal`, ...).
    pub kind: String,
    pub message: String,
}

/// What happened on one host.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub host: String,
    pub address: String,
    pub result: Result<Scanned, ScanFailure>,
    pub elapsed: Duration,
}

impl ScanOutcome {
    pub fn failure(&self) -> Option<Category> {
        self.result.as_ref().err().map(|f| f.category)
    }
}

pub fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// One finding in `--json`.
#[derive(Debug, Serialize)]
pub struct FindingRecord<'a> {
    pub rule_id: &'a str,
    pub family: &'static str,
    pub confidence: &'static str,
    pub certain: bool,
    pub artifact: &'a crate::detect::ArtifactRef,
    pub description: String,
    pub reasons: &'a [String],
    pub target_files: &'a [String],
    pub allowlisted: Option<&'a str>,
}

/// One line of `--json` output.
#[derive(Debug, Serialize)]
pub struct ScanRecord<'a> {
    pub host: &'a str,
    pub address: &'a str,
    /// `ok` (scanned) or `failed` (not scanned).
    pub status: &'static str,
    pub kind: Option<&'a str>,
    pub error: Option<&'a str>,
    pub snapshot_id: Option<i64>,
    /// Findings that are not allow-listed.
    pub finding_count: usize,
    pub findings: Vec<FindingRecord<'a>>,
    pub truncated: &'a [String],
    pub elapsed_ms: u64,
}

pub fn record(o: &ScanOutcome) -> ScanRecord<'_> {
    let (status, kind, error, snapshot_id, findings, truncated): (
        _,
        _,
        _,
        _,
        &[Finding],
        &[String],
    ) = match &o.result {
        Ok(s) => (
            "ok",
            None,
            None,
            Some(s.snapshot_id),
            &s.findings,
            &s.truncated,
        ),
        Err(f) => (
            "failed",
            Some(f.kind.as_str()),
            Some(f.message.as_str()),
            None,
            &[],
            &[],
        ),
    };
    ScanRecord {
        host: &o.host,
        address: &o.address,
        status,
        kind,
        error,
        snapshot_id,
        finding_count: findings.iter().filter(|f| f.actionable()).count(),
        findings: findings
            .iter()
            .map(|f| FindingRecord {
                rule_id: f.rule_id,
                family: f.family.name(),
                confidence: confidence_word(f.confidence),
                certain: f.certain,
                artifact: &f.artifact,
                description: f.artifact.describe(),
                reasons: &f.reasons,
                target_files: &f.target_files,
                allowlisted: f.allowlisted.as_deref(),
            })
            .collect(),
        truncated,
        elapsed_ms: u64::try_from(o.elapsed.as_millis()).unwrap_or(u64::MAX),
    }
}

pub fn json_line(o: &ScanOutcome) -> String {
    serde_json::to_string(&record(o))
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode: {e}\"}}"))
}

pub fn summarize(outcomes: &[ScanOutcome]) -> Summary {
    let mut s = Summary::default();
    for o in outcomes {
        s.add(o.failure());
    }
    s
}

/// Per family: hosts and (not allow-listed) findings.
pub fn family_totals(outcomes: &[ScanOutcome]) -> BTreeMap<Family, (usize, usize)> {
    let mut t: BTreeMap<Family, (usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let Ok(s) = &o.result else { continue };
        let mut seen = std::collections::BTreeSet::new();
        for f in s.findings.iter().filter(|f| f.actionable()) {
            let e = t.entry(f.family).or_default();
            e.1 += 1;
            if seen.insert(f.family) {
                e.0 += 1;
            }
        }
    }
    t
}

fn finding_text(out: &mut String, f: &Finding) {
    let conf = if f.allowlisted.is_some() {
        "spared".to_string()
    } else if f.certain {
        "certain".to_string()
    } else {
        confidence_word(f.confidence).to_string()
    };
    out.push_str(&format!(
        "  {conf:<8} {:<10} {}  {}\n",
        f.family.name(),
        f.rule_id,
        one_line(&f.artifact.describe())
    ));
    for r in &f.reasons {
        out.push_str(&format!("           - {}\n", one_line(r)));
    }
    if !f.target_files.is_empty() {
        let files: Vec<String> = f.target_files.iter().map(|p| one_line(p)).collect();
        out.push_str(&format!("           files: {}\n", files.join(", ")));
    }
    if let Some(a) = &f.allowlisted {
        out.push_str(&format!("           allow-listed: {}\n", one_line(a)));
    }
}

/// The human report.
pub fn render_text(outcomes: &[ScanOutcome]) -> String {
    let mut out = String::new();
    let mut clean: Vec<&str> = Vec::new();
    for o in outcomes {
        let Ok(s) = &o.result else { continue };
        for t in &s.truncated {
            out.push_str(&format!(
                "warning: {}: the scan hit a bound and may be incomplete: {}\n",
                terminal_safe(&o.host),
                one_line(t)
            ));
        }
        if s.findings.is_empty() {
            clean.push(&o.host);
            continue;
        }
        let mut by: BTreeMap<Confidence, usize> = BTreeMap::new();
        let mut spared = 0;
        for f in &s.findings {
            if f.actionable() {
                *by.entry(f.confidence).or_default() += 1;
            } else {
                spared += 1;
            }
        }
        let mut parts: Vec<String> = by
            .iter()
            .rev()
            .map(|(c, n)| format!("{n} {}", confidence_word(*c)))
            .collect();
        if spared > 0 {
            parts.push(format!("{spared} allow-listed"));
        }
        out.push_str(&format!(
            "==== {}: {} finding{} ({}) ====\n",
            terminal_safe(&o.host),
            s.findings.len(),
            if s.findings.len() == 1 { "" } else { "s" },
            parts.join(", ")
        ));
        for f in &s.findings {
            finding_text(&mut out, f);
        }
        out.push('\n');
    }
    if !clean.is_empty() {
        out.push_str(&format!(
            "==== nothing found: {} ====\n\n",
            terminal_safe(&with_count(&clean))
        ));
    }
    let failed: Vec<(&ScanOutcome, &ScanFailure)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|f| (o, f)))
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!("==== could not scan ({}) ====\n", failed.len()));
        for g in group_by_key(
            failed
                .iter()
                .map(|(_, f)| (f.kind.clone(), one_line(&f.message))),
        ) {
            let names: Vec<&str> = g
                .members
                .iter()
                .map(|&i| failed[i].0.host.as_str())
                .collect();
            out.push_str(&format!(
                "{}: {}: {}\n",
                terminal_safe(&with_count(&names)),
                g.key.0,
                g.key.1
            ));
        }
        out.push('\n');
    }
    let totals = family_totals(outcomes);
    if !totals.is_empty() {
        let parts: Vec<String> = totals
            .iter()
            .map(|(f, (hosts, n))| {
                format!(
                    "{} on {hosts} host{} ({n} finding{})",
                    f.name(),
                    if *hosts == 1 { "" } else { "s" },
                    if *n == 1 { "" } else { "s" }
                )
            })
            .collect();
        out.push_str(&format!("families: {}\n", parts.join(", ")));
    }
    out.push_str(&summary_line(outcomes));
    out.push('\n');
    out
}

/// `10 scanned (2 with findings), 1 failed (1 unreachable)`.
pub fn summary_line(outcomes: &[ScanOutcome]) -> String {
    let s = summarize(outcomes);
    let with = outcomes
        .iter()
        .filter(|o| {
            o.result
                .as_ref()
                .is_ok_and(|s| s.findings.iter().any(|f| f.actionable()))
        })
        .count();
    let line = s.line();
    let rest = line.split_once(" ok").map(|(_, r)| r).unwrap_or("");
    format!("{} scanned ({with} with findings){rest}", s.ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    fn scanned(host: &str) -> ScanOutcome {
        let s = SnapshotBuilder::new(host)
            .user("bob")
            .run(
                "bob",
                "Updater",
                r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start",
            )
            .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
            .build();
        ScanOutcome {
            host: host.into(),
            address: "10.0.0.1".into(),
            result: Ok(Scanned {
                snapshot_id: 3,
                findings: detect(&s, &DetectContext::default()),
                truncated: vec![],
            }),
            elapsed: Duration::from_millis(20),
        }
    }

    fn clean(host: &str) -> ScanOutcome {
        ScanOutcome {
            host: host.into(),
            address: "10.0.0.2".into(),
            result: Ok(Scanned {
                snapshot_id: 4,
                findings: vec![],
                truncated: vec![],
            }),
            elapsed: Duration::ZERO,
        }
    }

    fn down(host: &str) -> ScanOutcome {
        ScanOutcome {
            host: host.into(),
            address: "10.0.0.3".into(),
            result: Err(ScanFailure {
                category: Category::Unreachable,
                kind: "unreachable".into(),
                message: "cannot reach 10.0.0.3 on port 5985".into(),
            }),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn text_lists_findings_clean_hosts_failures_and_totals() {
        let o = vec![
            scanned("WS-001"),
            clean("WS-002"),
            clean("WS-003"),
            down("WS-004"),
        ];
        let text = render_text(&o);
        assert!(text.contains("==== WS-001: "), "{text}");
        assert!(text.contains("medium"), "{text}");
        assert!(
            text.contains("files: C:\\Users\\bob\\AppData\\Local\\Tools\\helper.dll"),
            "{text}"
        );
        assert!(
            text.contains("==== nothing found: WS-[002-003] (2 hosts) ===="),
            "{text}"
        );
        assert!(
            text.contains("==== could not scan (1) ====\nWS-004: unreachable: cannot reach"),
            "{text}"
        );
        assert!(
            text.contains("families: unknown loader-like on 1 host"),
            "{text}"
        );
        assert!(
            text.ends_with("3 scanned (1 with findings), 1 failed (1 unreachable)\n"),
            "{text}"
        );
        // Findings are not failures.
        assert_eq!(summarize(&o[..3]).exit_code(false), crate::exit::OK);
        assert_eq!(summarize(&o).exit_code(false), crate::exit::PARTIAL);
    }

    #[test]
    fn json_shape() {
        let v: serde_json::Value = serde_json::from_str(&json_line(&scanned("WS-001"))).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["snapshot_id"], 3);
        let f = &v["findings"][0];
        for k in [
            "rule_id",
            "family",
            "confidence",
            "certain",
            "artifact",
            "description",
            "reasons",
            "target_files",
            "allowlisted",
        ] {
            assert!(f.get(k).is_some(), "{k} missing: {f}");
        }
        assert_eq!(f["artifact"]["kind"], "registry_autorun");
        let v: serde_json::Value = serde_json::from_str(&json_line(&down("WS-004"))).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["kind"], "unreachable");
        assert_eq!(v["findings"], serde_json::json!([]));
        assert_eq!(v.as_object().unwrap().len(), 10, "every key always present");
    }

    #[test]
    fn hostile_names_cannot_drive_the_terminal() {
        let mut o = scanned("WS-001");
        if let Ok(s) = &mut o.result {
            s.findings[0].reasons.push("\x1b]0;pwned\x07".into());
        }
        let text = render_text(&[o]);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }
}
