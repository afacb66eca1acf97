//! What a plan comes to, counted and told in a few lines: per family, per
//! host, containment and the reboot waves. Pure; shown at the top of the
//! plan file and by `cauterize plan`.

use std::collections::BTreeMap;

use super::contain::ContainDecision;
use super::model::{Counts, HostPlan, Plan};
use super::step::Step;
use super::waves::WaveKind;
use crate::detect::Family;
use crate::report::hostlist::{compact, with_count};
use crate::report::table;

/// One family's share of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRow {
    pub family: Family,
    /// Hosts with at least one step or inactive item of the family.
    pub hosts: usize,
    pub counts: Counts,
}

/// Counts per family (an item counts for the family of the finding group
/// it is shown under), families in their order.
pub fn by_family(plan: &Plan) -> Vec<FamilyRow> {
    let mut rows: BTreeMap<Family, FamilyRow> = BTreeMap::new();
    for h in &plan.hosts {
        let mut seen: Vec<Family> = Vec::new();
        for i in &h.items {
            let Some(g) = i.group else { continue };
            let family = h.groups[g].family;
            let row = rows.entry(family).or_insert(FamilyRow {
                family,
                hosts: 0,
                counts: Counts::default(),
            });
            row.counts.count(i);
            if !seen.contains(&family) {
                seen.push(family);
                row.hosts += 1;
            }
        }
    }
    rows.into_values().collect()
}

/// Totals over all hosts.
pub fn totals(plan: &Plan) -> Counts {
    let mut t = Counts::default();
    for h in &plan.hosts {
        t.add(&h.counts());
    }
    t
}

/// `deny-write 1, Defender 1, folders 2`: the steps besides kills and
/// deletions, in one cell.
fn other_cell(c: &Counts) -> String {
    let parts: Vec<String> = [
        (c.denied, "deny-write"),
        (c.exclusions, "Defender"),
        (c.folders, "folders"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{w} {n}"))
    .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn count_cells(c: &Counts) -> Vec<String> {
    vec![
        c.kills.to_string(),
        c.deletions.to_string(),
        c.in_use.to_string(),
        c.queued.to_string(),
        other_cell(c),
        c.inactive.to_string(),
    ]
}

/// The per-family table, with a total row.
pub fn family_table(plan: &Plan) -> String {
    let mut rows: Vec<Vec<String>> = by_family(plan)
        .iter()
        .map(|r| {
            let mut row = vec![r.family.name().to_string(), r.hosts.to_string()];
            row.extend(count_cells(&r.counts));
            row
        })
        .collect();
    let t = totals(plan);
    let mut total = vec![
        "total".to_string(),
        plan.hosts.iter().filter(|h| has_purge(h)).count().to_string(),
    ];
    total.extend(count_cells(&t));
    rows.push(total);
    table::render(
        &["FAMILY", "HOSTS", "KILLS", "DELETIONS", "IN USE", "QUEUED", "OTHER", "INACTIVE"],
        &rows,
    )
}

/// Does the host have a finding-driven item (active or not), or anything
/// listed?
pub fn has_purge(h: &HostPlan) -> bool {
    h.items.iter().any(|i| i.group.is_some()) || !h.not_planned.is_empty()
}

/// The per-host table, hosts with the same counts in one row (the
/// compact list of them last): hosts with something to purge or list.
pub fn host_table(plan: &Plan) -> String {
    let mut rows: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
    for h in plan.hosts.iter().filter(|h| has_purge(h)) {
        let c = h.counts();
        let mut cells = count_cells(&c);
        cells.push(c.not_planned.to_string());
        cells.push(contained_cell(&h.contain).into());
        match rows.iter_mut().find(|(k, _)| *k == cells) {
            Some((_, hosts)) => hosts.push(&h.host),
            None => rows.push((cells, vec![&h.host])),
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by_key(|(_, hosts)| std::cmp::Reverse(hosts.len()));
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(mut cells, hosts)| {
            cells.push(with_count(&hosts));
            cells
        })
        .collect();
    table::render(
        &["KILLS", "DELETIONS", "IN USE", "QUEUED", "OTHER", "INACTIVE", "NOT PLANNABLE", "CONTAINED", "HOSTS"],
        &rows,
    )
}

fn contained_cell(d: &ContainDecision) -> &'static str {
    match d {
        ContainDecision::Contain => "yes",
        ContainDecision::Exempt(_) => "exempt",
        ContainDecision::Never(_) => "never",
        ContainDecision::Excluded(_) => "excluded",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The plan in a few lines: hosts, containment, reboots, items for review.
pub fn overview(plan: &Plan) -> Vec<String> {
    let purge = plan.hosts.iter().filter(|h| has_purge(h)).count();
    // Contained and nothing purged, whether or not something is listed
    // there (a bound the scan hit, items for review).
    let only = plan
        .hosts
        .iter()
        .filter(|h| !has_purge(h) && h.items.iter().any(|i| i.active && i.step == Step::Contain))
        .count();
    let mut lines = vec![format!(
        "{} planned: {purge} with findings, {only} contained only, {} with nothing to do; {} not scanned (nothing is done on them; they hold the release).",
        plural(plan.hosts.len(), "host", "hosts"),
        plan.hosts.len() - purge - only,
        plan.unscanned.len()
    )];
    let contained = plan.hosts.iter().filter(|h| h.items.iter().any(|i| i.step == Step::Contain)).count();
    let c = &plan.settings.contain;
    let rules = plan.containment.rules_for(c, None).map(|r| r.len()).unwrap_or(0);
    let exempt: Vec<&str> = plan.containment.exempt_hosts.iter().map(|h| h.host.as_str()).collect();
    lines.push(format!(
        "Containment: {contained} contained ({} each, `{}-*`), {} exempt{}, {} never contained; the dead-man task lifts them {} after they are made unless extended (every {}).",
        plural(rules, "rule", "rules"),
        plan.containment.engagement.rule_prefix(),
        exempt.len(),
        if exempt.is_empty() { String::new() } else { format!(" ({})", compact(&exempt)) },
        plan.containment.never.len(),
        crate::inventory::format_duration(c.dead_man),
        crate::inventory::format_duration(c.extend_every),
    ));
    let rebooted: usize = plan.waves.iter().map(|w| w.hosts.len()).sum();
    let r = &plan.settings.reboot;
    let sizes: Vec<String> = plan.waves.iter().map(|w| w.hosts.len().to_string()).collect();
    lines.push(if plan.waves.is_empty() {
        "Reboots: none.".into()
    } else {
        format!(
            "Reboots: {} in {} (sizes {}); pause {}, at most {} down at once, failure budget {}{}.",
            plural(rebooted, "host", "hosts"),
            plural(plan.waves.len(), "wave", "waves"),
            sizes.join(", "),
            crate::inventory::format_duration(r.pause),
            r.max_down,
            r.failure_budget,
            if r.confirm_after_canary { ", the operator's go-ahead after the canary" } else { "" }
        )
    });
    for (reached, what, why) in [
        (false, ("rare unsigned autostart", "rare unsigned autostarts"), "that nothing explains"),
        (true, ("service, task or file", "services, tasks and files"), "installed or created when an infected or unlisted source reached the host"),
    ] {
        let count = |h: &HostPlan| h.review.iter().filter(|r| r.reached == reached).count();
        let hosts: Vec<&str> = plan.hosts.iter().filter(|h| count(h) > 0).map(|h| h.host.as_str()).collect();
        if !hosts.is_empty() {
            lines.push(format!(
                "For review (not acted on): {} {why}, on {} ({}); see `review:` under each.",
                plural(plan.hosts.iter().map(count).sum(), what.0, what.1),
                plural(hosts.len(), "host", "hosts"),
                compact(&hosts)
            ));
        }
    }
    let no_reboot = plan.hosts.iter().filter(|h| h.no_reboot.is_some()).count();
    if no_reboot > 0 {
        lines.push(format!("{} the purge changes are never rebooted by the playbook.", plural(no_reboot, "host", "hosts")));
    }
    lines
}

/// One line per wave: `wave 1, canary (workstation): WS-001`.
pub fn wave_lines(plan: &Plan) -> Vec<String> {
    plan.waves
        .iter()
        .map(|w| {
            let kind = match w.kind {
                WaveKind::Canary => ", canary",
                WaveKind::Exempt => ", exempt host first",
                WaveKind::Regular => "",
            };
            let window = w.window.as_ref().map(|x| format!(", window {x}")).unwrap_or_default();
            format!("wave {}{kind} ({}{window}): {}", w.number, w.class.words(), with_count(&w.hosts))
        })
        .collect()
}
