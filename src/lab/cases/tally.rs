//! The figures of a benign corpus (`tests/data/benign/`): per case, the
//! findings a plan could act on at high or medium confidence (allow-listed
//! ones are spared, so not counted) and, for cases run on lab hosts, the
//! active operations of the case's plan; the report the corpus tests print,
//! grouped by rule so a rule's false positives read together.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::detect::{Confidence, Finding};

/// One finding on a benign case.
#[derive(Debug, Clone)]
struct Hit {
    case: String,
    rule: &'static str,
    artifact: String,
}

/// Counts and lists of a benign corpus run.
#[derive(Debug, Default)]
pub struct BenignTally {
    cases: usize,
    high: Vec<Hit>,
    medium: Vec<Hit>,
    /// Case id and its active operations, for cases that have any.
    active: Vec<(String, Vec<String>)>,
}

impl BenignTally {
    pub fn new() -> BenignTally {
        BenignTally::default()
    }

    /// Record one case's findings (and, on a lab host, the active
    /// operations of its plan; empty when none or not planned).
    pub fn add(&mut self, case: &str, found: &[Finding], active: Vec<String>) {
        self.cases += 1;
        for f in found.iter().filter(|f| f.actionable()) {
            let hit = Hit {
                case: case.to_string(),
                rule: f.rule_id,
                artifact: f.artifact.describe(),
            };
            match f.confidence() {
                Confidence::High => self.high.push(hit),
                Confidence::Medium => self.medium.push(hit),
                Confidence::Low => {}
            }
        }
        if !active.is_empty() {
            self.active.push((case.to_string(), active));
        }
    }

    pub fn cases(&self) -> usize {
        self.cases
    }
    /// Actionable high-confidence findings.
    pub fn high(&self) -> usize {
        self.high.len()
    }
    /// Actionable medium-confidence findings.
    pub fn medium(&self) -> usize {
        self.medium.len()
    }
    /// Active operations over all cases.
    pub fn active_ops(&self) -> usize {
        self.active.iter().map(|(_, ops)| ops.len()).sum()
    }
    /// Cases whose plan has an active operation.
    pub fn active_cases(&self) -> usize {
        self.active.len()
    }

    /// The figures, then the active operations per case, then the high
    /// and medium findings grouped by rule, each with its case ids.
    pub fn report(&self, name: &str) -> String {
        let mut s = format!(
            "{name}: {} cases; active operations {} (in {} cases); high findings {}; \
             medium findings {}\n",
            self.cases,
            self.active_ops(),
            self.active_cases(),
            self.high(),
            self.medium()
        );
        for (case, ops) in &self.active {
            let _ = writeln!(s, "  active in {case}:");
            for op in ops {
                let _ = writeln!(s, "    {op}");
            }
        }
        for (label, hits) in [("high", &self.high), ("medium", &self.medium)] {
            let mut by_rule: BTreeMap<&str, Vec<&Hit>> = BTreeMap::new();
            for h in hits {
                by_rule.entry(h.rule).or_default().push(h);
            }
            for (rule, hs) in by_rule {
                let _ = writeln!(s, "  {label} {rule}: {}", hs.len());
                for h in hs {
                    let _ = writeln!(s, "    {} {}", h.case, h.artifact);
                }
            }
        }
        s
    }
}
