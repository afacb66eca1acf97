//! The plan file: readable, editable YAML. One operation per line, its
//! rule ids and reasons in the comment above it, inactive items under
//! `inactive:` with why, findings no operation can address under
//! `not_planned:`, rare unexplained autostarts under `review:`. Pure:
//! builds the text.

use super::model::{HostPlan, Plan, PlanItem};
use super::yaml_out::{comment, flow, string};

/// Format version of the plan file.
pub const FORMAT: u32 = 1;

/// Longest comment written per item, in characters.
const COMMENT_CHARS: usize = 1500;

const HEADER: &str = "\
# Review every host. `cauterize apply` carries out exactly the operations
# under `ops:`, in the order written here, each only if the host still
# shows what the scan saw (compare-and-delete); where it does not, the
# operation reports drift and does nothing.
#
# To spare an artifact, delete its line (or a whole host). That is the only
# edit accepted: an added or changed operation is refused, because every
# operation must be one this plan was generated with from the scan. Items
# under `inactive:` are not carried out; to act on them, change the
# playbook or the flags (--activate medium) and run `cauterize plan` again.
";

fn value<T: serde::Serialize>(v: &T) -> String {
    flow(&serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}

/// The file text of `plan`, recorded in the journal as `plan_id`.
pub fn render(plan: &Plan, plan_id: i64) -> String {
    let mut out = String::new();
    out.push_str(&format!("# cauterize plan {plan_id}\n"));
    out.push_str(HEADER);
    out.push_str(&format!("cauterize_plan: {FORMAT}\nplan_id: {plan_id}\n"));
    out.push_str("# The settings the plan was made with (not editable here).\nsettings:\n");
    let st = serde_json::to_value(&plan.settings).unwrap_or_default();
    if let serde_json::Value::Object(map) = &st {
        for (k, v) in map {
            out.push_str(&format!("  {k}: {}\n", flow(v)));
        }
    }
    if plan.hosts.is_empty() {
        out.push_str("hosts: {}\n");
    } else {
        out.push_str("hosts:\n");
        for h in &plan.hosts {
            host(&mut out, h);
        }
    }
    if !plan.unscanned.is_empty() {
        out.push_str(
            "# Hosts with no scan to plan from: nothing is planned for them.\nunscanned:\n",
        );
        for u in &plan.unscanned {
            out.push_str(&format!("  - {}\n", value(u)));
        }
    }
    out
}

fn item_comment(out: &mut String, indent: &str, i: &PlanItem) {
    out.push_str(&format!("{indent}# {}\n", comment(&i.why, COMMENT_CHARS)));
}

fn host(out: &mut String, h: &HostPlan) {
    out.push_str(&format!("  {}:\n", string(&h.host)));
    out.push_str(&format!("    snapshot: {}\n", h.snapshot_id));
    out.push_str(&format!("    collected_at: {}\n", string(&h.collected_at)));
    out.push_str(&format!("    # {}\n", h.counts().line()));
    for t in &h.truncated {
        out.push_str(&format!(
            "    # WARNING: the scan hit a bound and may be incomplete: {}\n",
            comment(t, 300)
        ));
    }
    let (active, inactive): (Vec<&PlanItem>, Vec<&PlanItem>) =
        h.items.iter().partition(|i| i.active);
    if active.is_empty() {
        out.push_str("    ops: []\n");
    } else {
        out.push_str("    ops:\n");
        for i in active {
            item_comment(out, "      ", i);
            out.push_str(&format!("      - {}\n", value(&i.op)));
        }
    }
    if !inactive.is_empty() {
        out.push_str("    inactive:\n");
        for i in inactive {
            out.push_str(&format!(
                "      - why: {}\n",
                string(&comment(&i.why, COMMENT_CHARS))
            ));
            out.push_str(&format!("        op: {}\n", value(&i.op)));
        }
    }
    if !h.not_planned.is_empty() {
        out.push_str("    not_planned:\n");
        for n in &h.not_planned {
            out.push_str(&format!("      - {}\n", value(n)));
        }
    }
    if !h.review.is_empty() {
        out.push_str("    # For review, never acted on: rare unsigned autostarts that nothing explains.\n");
        out.push_str("    review:\n");
        for r in &h.review {
            out.push_str(&format!("      - {}\n", value(r)));
        }
    }
}
