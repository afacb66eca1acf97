//! What `cauterize plan` shows: a table of hosts with their counts (kills,
//! deletions, files in use, queued for boot, inactive, not plannable), the
//! hosts with nothing to plan from, totals, and where the plan was written.
//! Or one JSON object per host. Pure: builds strings.

use super::hostlist::with_count;
use super::sanitize::terminal_safe;
use super::table;
use crate::plan::{Counts, Plan};
use serde::Serialize;

/// One line of `--json` output.
#[derive(Debug, Serialize)]
pub struct PlanRecord<'a> {
    pub host: &'a str,
    /// `planned`, or `unscanned` (no snapshot to plan from).
    pub status: &'static str,
    pub snapshot_id: Option<i64>,
    pub counts: Option<Counts>,
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
            error: Some(&u.why),
        });
    }
    out.into_iter()
        .map(|r| serde_json::to_string(&r).unwrap_or_default())
        .collect()
}

/// Totals over all hosts.
pub fn totals(plan: &Plan) -> Counts {
    let mut t = Counts::default();
    for h in &plan.hosts {
        t.add(&h.counts());
    }
    t
}

/// The human summary. Hosts with nothing planned or listed are grouped in
/// one compact line.
pub fn render_text(plan: &Plan) -> String {
    let mut rows = Vec::new();
    let mut empty: Vec<&str> = Vec::new();
    for h in &plan.hosts {
        let c = h.counts();
        if h.items.is_empty() && h.not_planned.is_empty() && h.review.is_empty() {
            empty.push(&h.host);
            continue;
        }
        rows.push(vec![
            terminal_safe(&h.host),
            c.kills.to_string(),
            c.deletions.to_string(),
            c.in_use.to_string(),
            c.queued.to_string(),
            c.inactive.to_string(),
            c.not_planned.to_string(),
        ]);
    }
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&table::render(
            &[
                "HOST",
                "KILLS",
                "DELETIONS",
                "IN USE",
                "QUEUED",
                "INACTIVE",
                "NOT PLANNABLE",
            ],
            &rows,
        ));
    }
    if !empty.is_empty() {
        out.push_str(&format!(
            "nothing to do: {}\n",
            terminal_safe(&with_count(&empty))
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
    let review = plan.review_count();
    if review > 0 {
        let hosts = plan.hosts.iter().filter(|h| !h.review.is_empty()).count();
        out.push_str(&format!(
            "for review (not acted on): {review} rare unsigned autostart{} that nothing explains, on {hosts} host{}; see `review:` in the plan file\n",
            if review == 1 { "" } else { "s" },
            if hosts == 1 { "" } else { "s" },
        ));
    }
    out.push_str(&format!(
        "{} hosts planned: {}\n",
        plan.hosts.len(),
        totals(plan).line()
    ));
    out
}
