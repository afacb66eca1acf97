//! What `cauterize plan` shows: the plan's overview (hosts, containment,
//! reboot waves), a table per family and one per host with something to
//! purge (kills, deletions, files in use, queued for boot, other steps,
//! inactive, not plannable, wave, contained), hosts with nothing to purge
//! in one compact line, hosts with nothing to plan from, and totals. Or
//! one JSON object per host. Pure: builds strings.

use super::hostlist::with_count;
use super::sanitize::terminal_safe;
use crate::plan::summary;
use crate::plan::{ContainDecision, Counts, Plan};
use serde::Serialize;

/// One line of `--json` output.
#[derive(Debug, Serialize)]
pub struct PlanRecord<'a> {
    pub host: &'a str,
    /// `planned`, or `unscanned` (no snapshot to plan from).
    pub status: &'static str,
    pub snapshot_id: Option<i64>,
    pub counts: Option<Counts>,
    /// `contain`, `exempt`, `never` or `excluded`, with why.
    pub contain: Option<&'a ContainDecision>,
    /// Its reboot wave, if it gets one.
    pub wave: Option<u32>,
    /// Items listed for review (rare unexplained unsigned autostarts).
    pub review: usize,
    pub error: Option<&'a str>,
}

/// The JSON lines of a plan: planned hosts, then unscanned ones.
pub fn json_lines(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for h in &plan.hosts {
        out.push(PlanRecord {
            host: &h.host,
            status: "planned",
            snapshot_id: Some(h.snapshot_id),
            counts: Some(h.counts()),
            review: h.review.len(),
            contain: Some(&h.contain),
            wave: h.wave(),
            error: None,
        });
    }
    for u in &plan.unscanned {
        out.push(PlanRecord {
            host: &u.host,
            status: "unscanned",
            snapshot_id: None,
            counts: None,
            review: 0,
            contain: None,
            wave: None,
            error: Some(&u.why),
        });
    }
    out.into_iter()
        .map(|r| serde_json::to_string(&r).unwrap_or_default())
        .collect()
}

/// The human summary.
pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    for l in summary::overview(plan) {
        out.push_str(&terminal_safe(&l));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&terminal_safe(&summary::family_table(plan)));
    let hosts = summary::host_table(plan);
    if !hosts.is_empty() {
        out.push('\n');
        out.push_str(&terminal_safe(&hosts));
    }
    let quiet: Vec<&str> = plan
        .hosts
        .iter()
        .filter(|h| !summary::has_purge(h))
        .map(|h| h.host.as_str())
        .collect();
    if !quiet.is_empty() {
        out.push_str(&format!(
            "nothing to purge: {}\n",
            terminal_safe(&with_count(&quiet))
        ));
    }
    if !plan.unscanned.is_empty() {
        out.push_str(&format!(
            "not planned, no scan ({}):\n",
            plan.unscanned.len()
        ));
        for u in &plan.unscanned {
            out.push_str(&format!(
                "  {}: {}\n",
                terminal_safe(&u.host),
                super::sanitize::one_line(&u.why)
            ));
        }
    }
    out.push_str(&format!(
        "{} hosts planned: {}\n",
        plan.hosts.len(),
        summary::totals(plan).line()
    ));
    out
}
