//! The plan file: readable, editable YAML, reviewable at the scale of an
//! outbreak. A summary at the top (comments); the settings, containment
//! and waves once; then per host one step a line, grouped under the
//! finding that calls for them (its rule, family, confidence and the one
//! fact that decided it, once), a note beside a line where one is due
//! (a file in use, why an item is inactive); findings no step can address
//! under `not_planned:` and rare autostarts nothing explains under
//! `review:` (never acted on), each grouped under its why; hosts whose
//! only step is containment in one line. Pure: builds the text.

use std::collections::BTreeMap;

use super::contain::ContainDecision;
use super::model::{FindingGroup, HostPlan, Plan, PlanItem};
use super::step::Step;
use super::summary;
use super::yaml_out::{block, comment, flow, string};
use crate::playbook::confidence_name;
use crate::report::hostlist::compact_parts;

/// Format version of the plan file.
pub const FORMAT: u32 = 2;

/// Longest note written beside a line, in characters.
const NOTE_CHARS: usize = 300;

const HEADER: &str = "\
# Review every host. `cauterize apply` carries out exactly the steps under
# each host's `ops:`, and containment on the hosts of `contain_only:`, each
# only if the host still shows what the scan saw (compare-and-delete);
# where it does not, the step reports drift and does nothing.
#
# Steps run by phase, in the same order on every host whatever the order of
# the lines: contain (every host, before anything is removed); purge (kills,
# writes denied, registry values and keys, Defender exclusions, tasks,
# services, WMI subscriptions, files, files queued for boot, the folders
# those files emptied); reboot (in waves); after the reboot (folders with
# `after_reboot: true`). Lines are grouped under the finding that calls for
# them: rule, family, confidence and the one fact that decided it
# (`cauterize scan` gives every reason).
#
# To skip a step, delete its line. To leave a host alone (not contained,
# purged or rebooted), delete its entry, or its name from `contain_only:`.
# That is the only edit accepted: an added, changed or moved line is
# refused, because every step must be one this plan was made with from the
# scan. Items under `inactive:` are not carried out; to act on them, change
# the playbook or the flags (--activate medium) and run `cauterize plan`
# again. Items under `review:` are rare unsigned autostarts that nothing
# explains, and the services, tasks and files installed or created on a
# host when an infected or unlisted source reached it (with the event that
# ties them): never acted on, listed for a person to look at. A host scanned again after this plan
# was made is refused: plan again.
";

fn value<T: serde::Serialize>(v: &T) -> String {
    flow(&serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}

fn comment_lines(out: &mut String, indent: &str, lines: &str) {
    for l in lines.lines() {
        if l.is_empty() {
            out.push_str(&format!("{indent}#\n"));
        } else {
            out.push_str(&format!("{indent}# {l}\n"));
        }
    }
}

/// The file text of `plan`, recorded in the journal as `plan_id`.
pub fn render(plan: &Plan, plan_id: i64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# cauterize plan {plan_id}, engagement {}\n",
        plan.containment.engagement
    ));
    out.push_str(HEADER);
    let missing = Step::kinds_without_host_side();
    if !missing.is_empty() {
        out.push_str("#\n");
        comment_lines(
            &mut out,
            "",
            &wrap(&format!(
                "Not yet carried out by this version: {} steps have no host-side code yet. They are planned and recorded so they can be reviewed; nothing reports them done before that code exists.",
                missing.join(", ")
            )),
        );
    }
    summary_block(&mut out, plan);
    out.push_str(&format!("cauterize_plan: {FORMAT}\nplan_id: {plan_id}\n"));
    out.push_str("# The settings the plan was made with (not editable here).\nsettings:\n");
    out.push_str(&block(&serde_json::to_value(&plan.settings).unwrap_or_default(), 2));
    containment_block(&mut out, plan);
    if !plan.waves.is_empty() {
        out.push_str("# Reboot waves (each host's `reboot` step names its wave):\n");
        for l in summary::wave_lines(plan) {
            out.push_str(&format!("#   {l}\n"));
        }
    }
    let full: Vec<&HostPlan> = plan
        .hosts
        .iter()
        .filter(|h| !h.contain_only() && !h.nothing_to_do())
        .collect();
    if full.is_empty() {
        out.push_str("hosts: {}\n");
    } else {
        out.push_str("hosts:\n");
        for h in full {
            host(&mut out, h);
        }
    }
    let only: Vec<&str> = plan
        .hosts
        .iter()
        .filter(|h| h.contain_only())
        .map(|h| h.host.as_str())
        .collect();
    if !only.is_empty() {
        out.push_str(&format!(
            "# Nothing to purge on these {} hosts: contained only, no reboot.\n",
            only.len()
        ));
        let parts: Vec<String> = compact_parts(&only).iter().map(|p| string(p)).collect();
        out.push_str(&format!("contain_only: [{}]\n", parts.join(", ")));
    }
    let mut idle: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for h in plan.hosts.iter().filter(|h| h.nothing_to_do()) {
        idle.entry(h.contain.describe()).or_default().push(&h.host);
    }
    if !idle.is_empty() {
        out.push_str("# Nothing to do on these hosts:\n");
        for (why, hosts) in idle {
            out.push_str(&format!(
                "#   {}: {}\n",
                comment(&compact_parts(&hosts).join(","), 2000),
                comment(&why, 300)
            ));
        }
    }
    if !plan.unscanned.is_empty() {
        out.push_str(
            "# Hosts with no scan to plan from: nothing is done on them (not contained); they hold the release.\nunscanned:\n",
        );
        for u in &plan.unscanned {
            out.push_str(&format!("  - {}\n", value(u)));
        }
    }
    out
}

/// Text wrapped at about 74 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + w.len() > 74 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    out.push_str(&line);
    out
}

fn summary_block(out: &mut String, plan: &Plan) {
    out.push_str("#\n# ==== Summary ====\n");
    for l in summary::overview(plan) {
        comment_lines(out, "", &wrap(&l));
    }
    out.push_str("#\n");
    comment_lines(out, "", &summary::family_table(plan));
    let hosts = summary::host_table(plan);
    if !hosts.is_empty() {
        out.push_str("#\n# Hosts by what they get (each host's own line below says it again):\n");
        comment_lines(out, "", &hosts);
    }
    out.push_str("#\n");
}

fn containment_block(out: &mut String, plan: &Plan) {
    out.push_str(
        "# Containment: what keeps SMB with every host (not editable here: change the playbook or the inventory and plan again).\ncontainment:\n",
    );
    let c = &plan.containment;
    out.push_str(&format!("  engagement: {}\n", string(c.engagement.as_str())));
    for (key, rows) in [
        ("exempt", c.exempt.iter().map(|e| value(e)).collect::<Vec<_>>()),
        ("exempt_hosts", c.exempt_hosts.iter().map(|e| value(e)).collect()),
        ("never", c.never.iter().map(|e| value(e)).collect()),
    ] {
        if rows.is_empty() {
            out.push_str(&format!("  {key}: []\n"));
        } else {
            out.push_str(&format!("  {key}:\n"));
            for r in rows {
                out.push_str(&format!("    - {r}\n"));
            }
        }
    }
    operator_lines(out, plan);
    let s = &plan.settings.contain;
    match c.rules_for(s, None) {
        Ok(rules) if !rules.is_empty() => {
            out.push_str("# The rules on each contained host; the operator's addresses, as that host sees them (above), are left out of their lists too:\n");
            for r in rules {
                let shown: Vec<&str> = r.remote.iter().take(3).map(String::as_str).collect();
                let more = if r.remote.len() > shown.len() {
                    format!(" and {} more", r.remote.len() - shown.len())
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "#   {}: block {} {} {} {} {}: {}{more}\n",
                    r.name,
                    match r.direction {
                        crate::firewall::Direction::In => "inbound",
                        crate::firewall::Direction::Out => "outbound",
                    },
                    r.protocol.word().to_uppercase(),
                    r.ports_text(),
                    match r.direction {
                        crate::firewall::Direction::In => "from",
                        crate::firewall::Direction::Out => "to",
                    },
                    r.family.word(),
                    shown.join(", ")
                ));
            }
            out.push_str(&format!(
                "# The dead-man task {} (SYSTEM) removes exactly these rules {} after they are made unless a running operation extends it.\n",
                c.engagement.dead_man_task(),
                crate::inventory::format_duration(s.dead_man)
            ));
        }
        Ok(_) => out.push_str("# The exempt set covers every address: the rules would block nothing.\n"),
        Err(e) => out.push_str(&format!("# No rules can be made: {e}\n")),
    }
}

/// The operator's addresses as the contained hosts saw cauterize: each
/// keeps SMB to the address its own record shows (never the others'),
/// and to the one it shows when its rules are made.
fn operator_lines(out: &mut String, plan: &Plan) {
    let c = &plan.containment;
    if c.operator.is_empty() {
        out.push_str("  operator: []\n");
    } else {
        out.push_str("  # Each contained host keeps SMB to the operator's address as it saw cauterize (its latest scan's WinRM logon):\n");
        out.push_str("  operator:\n");
        for o in &c.operator {
            out.push_str(&format!("    - {}\n", value(o)));
        }
    }
    let seen = c.operator_by_host();
    let unknown: Vec<&str> = plan
        .hosts
        .iter()
        .filter(|h| h.contain == ContainDecision::Contain && !seen.contains_key(&h.host.to_lowercase()))
        .map(|h| h.host.as_str())
        .collect();
    out.push_str(if unknown.is_empty() {
        "# When its rules are made, each host's Security log is read again: an address it sees cauterize from then (an operation resumed through another jump host) keeps SMB too.\n"
    } else {
        "# When its rules are made, each host's Security log is read again: an address it sees cauterize from then (an operation resumed through another jump host) keeps SMB too; a host with no certain address then is not contained (an address nobody vouches for is never exempt).\n"
    });
    if !unknown.is_empty() {
        out.push_str(&format!(
            "# No certain address recorded by the scan of {} host(s): {}\n",
            unknown.len(),
            crate::report::hostlist::compact(&unknown)
        ));
    }
}

/// `RULE (Family, high, hash match): fact (3 findings)`.
fn heading(g: &FindingGroup) -> String {
    let certain = if g.certain { ", hash match" } else { "" };
    let many = if g.findings > 1 {
        format!(" ({} findings)", g.findings)
    } else {
        String::new()
    };
    format!(
        "{} ({}, {}{certain}): {}{many}",
        g.rule_id,
        g.family.name(),
        confidence_name(g.confidence),
        g.fact
    )
}

/// The host's comment line: kind, containment, reboot, counts.
fn host_line(h: &HostPlan) -> String {
    let kind = if h.kind.class == crate::playbook::Role::Workstation {
        "workstation".to_string()
    } else {
        format!("{} ({})", h.kind.class.words(), h.kind.class_why)
    };
    let reboot = match (h.wave(), &h.no_reboot) {
        (Some(w), _) => format!("reboot wave {w}"),
        (None, Some(why)) => format!("no reboot: {why}"),
        (None, None) => "no reboot".into(),
    };
    format!("{kind}; {}; {reboot}; {}", h.contain.describe(), h.counts().line())
}

fn step_line(out: &mut String, indent: &str, i: &PlanItem) {
    out.push_str(&format!("{indent}- {}", value(&i.step)));
    let after = (i.step.phase() == super::step::Phase::AfterReboot).then_some("after the reboot");
    if let Some(n) = i.note.as_deref().or(after) {
        out.push_str(&format!("  # {}", comment(n, NOTE_CHARS)));
    }
    out.push('\n');
}

fn host(out: &mut String, h: &HostPlan) {
    out.push_str(&format!("  {}:  # {}\n", string(&h.host), comment(&host_line(h), 600)));
    out.push_str(&format!(
        "    snapshot: {}  # collected {}\n",
        h.snapshot_id,
        comment(&h.collected_at, 40)
    ));
    for t in &h.truncated {
        out.push_str(&format!(
            "    # WARNING: the scan hit a bound and may be incomplete: {}\n",
            comment(t, 300)
        ));
    }
    let (active, inactive): (Vec<&PlanItem>, Vec<&PlanItem>) = h.items.iter().partition(|i| i.active);
    if active.is_empty() {
        out.push_str("    ops: []\n");
    } else {
        out.push_str("    ops:\n");
        // `contain` (first) and `reboot` (last) speak for themselves.
        let mut current: Option<usize> = None;
        for i in active {
            if let Some(g) = i.group
                && current != Some(g)
            {
                current = Some(g);
                out.push_str(&format!("      # {}\n", comment(&heading(&h.groups[g]), 400)));
            }
            step_line(out, "      ", i);
        }
    }
    if !inactive.is_empty() {
        out.push_str("    inactive:\n");
        let mut current: Option<(Option<usize>, Option<&String>)> = None;
        for i in inactive {
            let key = (i.group, i.note.as_ref());
            if current != Some(key) {
                current = Some(key);
                let mut head = i.group.map(|g| heading(&h.groups[g])).unwrap_or_default();
                if let Some(n) = &i.note {
                    head = format!("{head} — not acted on: {n}");
                }
                out.push_str(&format!("      # {}\n", comment(&head, 600)));
            }
            out.push_str(&format!("      - {}\n", value(&i.step)));
        }
    }
    listed(out, "not_planned", h.not_planned.iter().map(|n| (n.why.as_str(), n.what.as_str())));
    if !h.review.is_empty() {
        out.push_str("    # For review, never acted on: rare unsigned autostarts that nothing explains, what a suspect source installed or created.\n");
        listed(out, "review", h.review.iter().map(|r| (r.why.as_str(), r.what.as_str())));
    }
}

/// A host's informational list `key:` of (why, what) pairs: each why once,
/// as a comment, above the whats that share it, in first-seen order.
fn listed<'a>(out: &mut String, key: &str, items: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut by_why: Vec<(&str, Vec<&str>)> = Vec::new();
    for (why, what) in items {
        match by_why.iter_mut().find(|(w, _)| *w == why) {
            Some((_, v)) => v.push(what),
            None => by_why.push((why, vec![what])),
        }
    }
    if by_why.is_empty() {
        return;
    }
    out.push_str(&format!("    {key}:\n"));
    for (why, whats) in by_why {
        out.push_str(&format!("      # {}\n", comment(why, 600)));
        for w in whats {
            out.push_str(&format!("      - {}\n", string(w)));
        }
    }
}
