//! What `cauterize scan` shows, the answer first: the families found by
//! how many hosts have them, the hosts with high findings (per family),
//! what the fleet's judgement added, the hosts that could not be scanned
//! and why, and the summary line; then the details: each host's findings
//! (rules' and the fleet's) with confidence, family, rule, artifact,
//! reasons and files, and the hosts with nothing found as one compact
//! list (`--host H` narrows the details to H). Or one JSON object per host,
//! then one per host the fleet added findings to. Findings are not
//! failures: the exit code counts hosts not scanned. Pure: builds strings.

use super::group::group_by_key;
use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use super::summary::{Category, Summary};
use crate::detect::{Confidence, Family, Finding};
use crate::fleet::Source;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
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
    /// `rule`, `hash_propagation` or `cluster_lift`.
    pub source: Source,
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
    /// `host`: one per host as it is scanned.
    pub record: &'static str,
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
        record: "host",
        host: &o.host,
        address: &o.address,
        status,
        kind,
        error,
        snapshot_id,
        finding_count: findings.iter().filter(|f| f.actionable()).count(),
        findings: findings.iter().map(finding_record).collect(),
        truncated,
        elapsed_ms: u64::try_from(o.elapsed.as_millis()).unwrap_or(u64::MAX),
    }
}

fn finding_record(f: &Finding) -> FindingRecord<'_> {
    FindingRecord {
        rule_id: f.rule_id,
        source: Source::of(f.rule_id),
        family: f.family.name(),
        confidence: confidence_word(f.confidence()),
        certain: f.certain,
        artifact: &f.artifact,
        description: f.artifact.describe(),
        reasons: &f.reasons,
        target_files: &f.target_files,
        allowlisted: f.allowlisted.as_deref(),
    }
}

/// The line of a host the fleet's judgement added findings to (after
/// every host's own line).
#[derive(Debug, Serialize)]
pub struct FleetRecord<'a> {
    /// `fleet`.
    pub record: &'static str,
    pub host: &'a str,
    pub findings: Vec<FindingRecord<'a>>,
}

/// One JSON line per host with fleet findings.
pub fn fleet_json_lines(fleet: &[(String, Vec<Finding>)]) -> Vec<String> {
    fleet
        .iter()
        .map(|(host, found)| {
            serde_json::to_string(&FleetRecord { record: "fleet", host, findings: found.iter().map(finding_record).collect() })
                .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode: {e}\"}}"))
        })
        .collect()
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

/// What the text view is given.
#[derive(Debug, Clone, Copy)]
pub struct ScanView<'a> {
    pub outcomes: &'a [ScanOutcome],
    /// The fleet's findings per host (inventory name).
    pub fleet: &'a [(String, Vec<Finding>)],
    /// Details of these hosts only (any case); empty: every host.
    pub only: &'a [String],
}

impl<'a> ScanView<'a> {
    /// Every finding of a scanned host: the rules', then the fleet's.
    fn findings(&self, o: &'a ScanOutcome) -> Vec<&'a Finding> {
        let Ok(s) = &o.result else { return Vec::new() };
        let fleet = self
            .fleet
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(&o.host))
            .map(|(_, f)| f.as_slice())
            .unwrap_or_default();
        s.findings.iter().chain(fleet).collect()
    }

    fn shown(&self, host: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Per family: hosts with an actionable finding of it, and those whose
/// only findings of it come from the fleet's judgement.
pub fn family_totals(view: &ScanView<'_>) -> BTreeMap<Family, (usize, usize)> {
    let mut t: BTreeMap<Family, (usize, usize)> = BTreeMap::new();
    for o in view.outcomes {
        let found = view.findings(o);
        let families: BTreeSet<Family> = found.iter().filter(|f| f.actionable()).map(|f| f.family).collect();
        for family in families {
            let e = t.entry(family).or_default();
            e.0 += 1;
            if found
                .iter()
                .filter(|f| f.actionable() && f.family == family)
                .all(|f| Source::of(f.rule_id) != Source::Rule)
            {
                e.1 += 1;
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
        confidence_word(f.confidence()).to_string()
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The lead: what an operator needs first.
fn lead(view: &ScanView<'_>, out: &mut String) {
    let totals = family_totals(view);
    let mut families: Vec<(&Family, &(usize, usize))> = totals.iter().collect();
    families.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    if families.is_empty() {
        out.push_str("families: none found\n");
    } else {
        let parts: Vec<String> = families
            .iter()
            .map(|(f, (hosts, fleet_only))| {
                let fleet = if *fleet_only > 0 { format!(" ({fleet_only} found by the fleet only)") } else { String::new() };
                format!("{} on {}{fleet}", f.name(), plural(*hosts, "host", "hosts"))
            })
            .collect();
        out.push_str(&format!("families: {}\n", parts.join(", ")));
    }
    // Hosts with high (or certain) findings, per family.
    let mut high: BTreeMap<Family, Vec<&str>> = BTreeMap::new();
    let mut any_high: BTreeSet<&str> = BTreeSet::new();
    for o in view.outcomes {
        let found = view.findings(o);
        let families: BTreeSet<Family> = found
            .iter()
            .filter(|f| f.actionable() && (f.certain || f.confidence() == Confidence::High))
            .map(|f| f.family)
            .collect();
        for f in families {
            high.entry(f).or_default().push(&o.host);
            any_high.insert(&o.host);
        }
    }
    if high.is_empty() {
        out.push_str("high findings: none\n");
    } else {
        out.push_str(&format!("high findings on {}:\n", plural(any_high.len(), "host", "hosts")));
        let mut rows: Vec<(&Family, &Vec<&str>)> = high.iter().collect();
        rows.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (f, hosts) in rows {
            out.push_str(&format!("  {:<20} {}\n", f.name(), terminal_safe(&with_count(hosts))));
        }
    }
    let mut by_source: BTreeMap<Source, usize> = BTreeMap::new();
    for (_, found) in view.fleet {
        for f in found.iter().filter(|f| !matches!(f.artifact, crate::detect::ArtifactRef::Process { .. })) {
            *by_source.entry(Source::of(f.rule_id)).or_default() += 1;
        }
    }
    if !by_source.is_empty() {
        let parts: Vec<String> = by_source.iter().map(|(s, n)| format!("{n} by {}", s.label())).collect();
        out.push_str(&format!(
            "fleet: {} judged together: {} item{} lifted ({})\n",
            plural(view.outcomes.iter().filter(|o| o.result.is_ok()).count(), "host", "hosts"),
            by_source.values().sum::<usize>(),
            if by_source.values().sum::<usize>() == 1 { "" } else { "s" },
            parts.join(", ")
        ));
    }
    let failed: Vec<(&ScanOutcome, &ScanFailure)> =
        view.outcomes.iter().filter_map(|o| o.result.as_ref().err().map(|f| (o, f))).collect();
    if !failed.is_empty() {
        out.push_str(&format!("not scanned ({}):\n", failed.len()));
        for g in group_by_key(failed.iter().map(|(_, f)| (f.kind.clone(), one_line(&f.message)))) {
            let names: Vec<&str> = g.members.iter().map(|&i| failed[i].0.host.as_str()).collect();
            out.push_str(&format!("  {}: {}: {}\n", terminal_safe(&with_count(&names)), g.key.0, g.key.1));
        }
    }
    let bounded: Vec<&str> = view
        .outcomes
        .iter()
        .filter(|o| o.result.as_ref().is_ok_and(|s| !s.truncated.is_empty()))
        .map(|o| o.host.as_str())
        .collect();
    if !bounded.is_empty() {
        out.push_str(&format!(
            "incomplete: the scan hit a bound on {} (details below)\n",
            terminal_safe(&with_count(&bounded))
        ));
    }
}

/// The human report: the lead, the summary line, then the details.
pub fn render_text(view: &ScanView<'_>) -> String {
    let mut out = String::new();
    lead(view, &mut out);
    let summary = summary_line(view);
    out.push_str(&summary);
    out.push_str("\n\n");
    let details_of = if view.only.is_empty() {
        "every host; one host: `cauterize scan --host NAME`".to_string()
    } else {
        terminal_safe(&view.only.join(", "))
    };
    out.push_str(&format!("---- details ({details_of}) ----\n"));
    let mut clean: Vec<&str> = Vec::new();
    for o in view.outcomes.iter().filter(|o| view.shown(&o.host)) {
        let Ok(s) = &o.result else {
            if !view.only.is_empty() {
                let f = o.result.as_ref().err().expect("not ok");
                out.push_str(&format!("==== {}: not scanned: {}: {} ====\n\n", terminal_safe(&o.host), f.kind, one_line(&f.message)));
            }
            continue;
        };
        for t in &s.truncated {
            out.push_str(&format!(
                "warning: {}: the scan hit a bound and may be incomplete: {}\n",
                terminal_safe(&o.host),
                one_line(t)
            ));
        }
        let found = view.findings(o);
        if found.is_empty() {
            clean.push(&o.host);
            continue;
        }
        let mut by: BTreeMap<Confidence, usize> = BTreeMap::new();
        let mut spared = 0;
        for f in &found {
            if f.actionable() {
                *by.entry(f.confidence()).or_default() += 1;
            } else {
                spared += 1;
            }
        }
        let mut parts: Vec<String> = by.iter().rev().map(|(c, n)| format!("{n} {}", confidence_word(*c))).collect();
        if spared > 0 {
            parts.push(format!("{spared} allow-listed"));
        }
        out.push_str(&format!(
            "==== {}: {} ({}) ====\n",
            terminal_safe(&o.host),
            plural(found.len(), "finding", "findings"),
            parts.join(", ")
        ));
        for f in found {
            finding_text(&mut out, f);
        }
        out.push('\n');
    }
    if !clean.is_empty() {
        out.push_str(&format!("==== nothing found: {} ====\n\n", terminal_safe(&with_count(&clean))));
    }
    out.push_str(&summary);
    out.push('\n');
    out
}

/// `10 scanned (2 with findings), 1 failed (1 unreachable)`.
pub fn summary_line(view: &ScanView<'_>) -> String {
    let s = summarize(view.outcomes);
    let with = view
        .outcomes
        .iter()
        .filter(|o| view.findings(o).iter().any(|f| f.actionable()))
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

    fn view<'a>(o: &'a [ScanOutcome], fleet: &'a [(String, Vec<Finding>)], only: &'a [String]) -> ScanView<'a> {
        ScanView { outcomes: o, fleet, only }
    }

    /// A high Emotet finding (as a rule would give).
    fn emotet(host: &str) -> ScanOutcome {
        let mut o = scanned(host);
        if let Ok(s) = &mut o.result {
            // Two lines, one strong: high under the standard.
            let f = s.findings[0].clone();
            s.findings[0] = Finding::new(
                host,
                f.artifact.clone(),
                Family::Emotet,
                "EMO-TEST",
                crate::detect::Grounds::of(&[crate::detect::Evidence::InjectedCode, crate::detect::Evidence::LaunchShape]),
                f.reasons.clone(),
                f.target_files.clone(),
            );
        }
        o
    }

    #[test]
    fn text_leads_with_families_high_hosts_and_failures_then_the_details() {
        let o = vec![emotet("WS-001"), clean("WS-002"), clean("WS-003"), down("WS-004"), emotet("WS-005"), scanned("WS-006")];
        let text = render_text(&view(&o, &[], &[]));
        let lead: Vec<&str> = text.lines().take(6).collect();
        assert_eq!(
            lead,
            [
                "families: Emotet on 2 hosts, unknown loader-like on 1 host",
                "high findings on 2 hosts:",
                "  Emotet               WS-[001,005] (2 hosts)",
                "not scanned (1):",
                "  WS-004: unreachable: cannot reach 10.0.0.3 on port 5985",
                "5 scanned (3 with findings), 1 failed (1 unreachable)",
            ],
            "{text}"
        );
        let details = text.find("---- details (every host; one host: `cauterize scan --host NAME`) ----").expect("details");
        assert!(text.find("==== WS-001: 1 finding (1 high) ====").unwrap() > details, "{text}");
        assert!(text.contains("files: C:\\Users\\bob\\AppData\\Local\\Tools\\helper.dll"), "{text}");
        assert!(text.contains("==== nothing found: WS-[002-003] (2 hosts) ===="), "{text}");
        assert!(text.ends_with("5 scanned (3 with findings), 1 failed (1 unreachable)\n"), "{text}");
        // Findings are not failures.
        assert_eq!(summarize(&o[..3]).exit_code(false), crate::exit::OK);
        assert_eq!(summarize(&o).exit_code(false), crate::exit::PARTIAL);
    }

    #[test]
    fn one_hosts_details_and_the_fleets_findings() {
        let o = vec![emotet("WS-001"), clean("WS-002"), down("WS-004")];
        let mut lifted = match &emotet("WS-002").result {
            Ok(s) => s.findings[0].clone(),
            Err(_) => unreachable!(),
        };
        lifted.rule_id = crate::fleet::RULE_HASH;
        lifted.reasons = vec!["same SHA-256 as on WS-001".into()];
        let fleet = vec![("WS-002".to_string(), vec![lifted])];
        let only = vec!["ws-002".to_string(), "WS-004".to_string()];
        let text = render_text(&view(&o, &fleet, &only));
        assert!(text.starts_with("families: Emotet on 2 hosts (1 found by the fleet only)\n"), "{text}");
        assert!(text.contains("  Emotet               WS-[001-002] (2 hosts)\n"), "{text}");
        assert!(text.contains("fleet: 2 hosts judged together: 1 item lifted (1 by hash propagation)\n"), "{text}");
        assert!(text.contains("---- details (ws-002, WS-004) ----"), "{text}");
        assert!(!text.contains("==== WS-001"), "only the hosts asked for: {text}");
        assert!(text.contains("==== WS-002: 1 finding (1 high) ====\n  high     Emotet     FLEET-HASH-PROPAGATION"), "{text}");
        assert!(text.contains("==== WS-004: not scanned: unreachable: cannot reach"), "{text}");
        assert!(text.ends_with("2 scanned (2 with findings), 1 failed (1 unreachable)\n"), "{text}");
        let lines = fleet_json_lines(&fleet);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["record"], "fleet");
        assert_eq!(v["host"], "WS-002");
        assert_eq!(v["findings"][0]["source"], "hash_propagation");
        assert_eq!(v["findings"][0]["family"], "Emotet");
    }

    #[test]
    fn json_shape() {
        let v: serde_json::Value = serde_json::from_str(&json_line(&scanned("WS-001"))).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["snapshot_id"], 3);
        let f = &v["findings"][0];
        for k in [
            "rule_id",
            "source",
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
        assert_eq!(v.as_object().unwrap().len(), 11, "every key always present");
        assert_eq!(v["record"], "host");
    }

    #[test]
    fn hostile_names_cannot_drive_the_terminal() {
        let mut o = scanned("WS-001");
        if let Ok(s) = &mut o.result {
            s.findings[0].reasons.push("\x1b]0;pwned\x07".into());
        }
        let o = [o];
        let text = render_text(&view(&o, &[], &[]));
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }
}
