//! The demo's verdict, pure: from what the lab's ground truth says of each
//! host at the start and at the end of the operation, and what the tool's
//! journal says of it, whether the operation did what it must (every
//! infected host it reached is clean, nothing came back, no benign file was
//! removed, containment was lifted) and, if not, why; and what shows both views: counts over the
//! network, and the table of the hosts a person looks at (infected at the
//! start, set aside, or wrong), every host being in the JSON the demo
//! keeps.

use std::collections::BTreeMap;

use serde::Serialize;

/// One host, as the lab (ground truth) and the tool (its journal) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub host: String,
    /// Loader families running at the start (lab), sorted; empty: clean.
    pub infected_at_start: Vec<String>,
    /// No loader process, persistence entry or payload file at the end
    /// (lab).
    pub clean_at_end: bool,
    /// An infection the lab recorded after the operation began.
    pub reinfected: bool,
    /// SMB still blocked by the host's firewall at the end (lab).
    pub contained_at_end: bool,
    /// Files that were there before and are gone or changed, and that no
    /// loader planted (lab): benign software removed.
    pub benign_removed: Vec<String>,
    /// The host's state in the journal (`clean`, `unreached`, ...).
    pub tool_state: String,
    /// Why, when the journal gives a reason.
    pub tool_why: Option<String>,
}

impl HostView {
    /// The tool could not reach the host (down, refused, bad password):
    /// it is set aside, not cleaned.
    pub fn unreached(&self) -> bool {
        matches!(self.tool_state.as_str(), "unreached" | "refused")
    }
}

/// Why the operation's outcome is wrong, host by host (empty: right).
pub fn problems(hosts: &[HostView]) -> Vec<String> {
    let mut out = Vec::new();
    for h in hosts {
        if !h.infected_at_start.is_empty() && !h.unreached() && !h.clean_at_end {
            out.push(format!(
                "{}: infected at the start ({}) and reached, but not clean at the end (tool: {}{})",
                h.host,
                h.infected_at_start.join(", "),
                h.tool_state,
                h.tool_why.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
            ));
        }
        if h.reinfected {
            out.push(format!("{}: infected again during the operation", h.host));
        }
        if !h.benign_removed.is_empty() {
            out.push(format!("{}: benign file(s) removed or changed: {}", h.host, h.benign_removed.join(", ")));
        }
        if h.tool_state == "clean" && !h.clean_at_end {
            out.push(format!("{}: the tool says clean, the lab says a loader is left", h.host));
        }
    }
    // Containment that is never lifted is no end of an operation: one line
    // for the network (a held release keeps every host contained).
    let contained: Vec<&str> = hosts.iter().filter(|h| !h.unreached() && h.contained_at_end).map(|h| h.host.as_str()).collect();
    if !contained.is_empty() {
        out.push(format!(
            "{} reached host(s) still contained at the end (SMB blocked), e.g. {}: the release was held or failed",
            contained.len(),
            contained.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

/// Worth a line of the printed table: infected at the start, set aside by
/// the tool, or wrong in any way [`problems`] names.
pub fn notable(h: &HostView) -> bool {
    !h.infected_at_start.is_empty()
        || h.unreached()
        || h.reinfected
        || !h.benign_removed.is_empty()
        || (h.tool_state == "clean" && !h.clean_at_end)
}

/// Both views over the whole network, in counts.
pub fn render_counts(hosts: &[HostView]) -> String {
    let count = |f: &dyn Fn(&HostView) -> bool| hosts.iter().filter(|h| f(h)).count();
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for f in hosts.iter().flat_map(|h| &h.infected_at_start) {
        *families.entry(f.as_str()).or_default() += 1;
    }
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for h in hosts {
        *states.entry(h.tool_state.as_str()).or_default() += 1;
    }
    let tally = |m: &BTreeMap<&str, usize>| m.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    let unreached: Vec<&str> = hosts.iter().filter(|h| h.unreached()).map(|h| h.host.as_str()).collect();
    let infected = count(&|h| !h.infected_at_start.is_empty());
    let reached_infected = count(&|h| !h.infected_at_start.is_empty() && !h.unreached());
    let cleaned = count(&|h| !h.infected_at_start.is_empty() && !h.unreached() && h.clean_at_end);
    let mut s = String::new();
    s.push_str(&format!("  hosts:                          {}
", hosts.len()));
    s.push_str(&format!("  lab: infected at the start:     {infected} ({})
", tally(&families)));
    s.push_str(&format!("  lab: of those reached, clean:   {cleaned} of {reached_infected}
"));
    s.push_str(&format!("  lab: clean at the end:          {}
", count(&|h| h.clean_at_end)));
    s.push_str(&format!("  lab: infected again:            {}
", count(&|h| h.reinfected)));
    s.push_str(&format!("  lab: benign files removed:      {}
", hosts.iter().map(|h| h.benign_removed.len()).sum::<usize>()));
    s.push_str(&format!("  lab: SMB still blocked:         {}
", count(&|h| h.contained_at_end)));
    s.push_str(&format!("  tool: not reached (set aside):  {} ({})
", unreached.len(), unreached.join(", ")));
    s.push_str(&format!("  tool: final states:             {}
", tally(&states)));
    s
}

/// The lab's view beside the tool's, one line per host given.
pub fn render_table<'a>(hosts: impl IntoIterator<Item = &'a HostView>) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut s = format!(
        "{:<8} {:<24} {:<9} {:<12} {:<10} {:<10} {:<13} TOOL: WHY\n",
        "HOST", "LAB: INFECTED AT START", "CLEAN END", "RE-INFECTED", "CONTAINED", "BENIGN RM", "TOOL: STATE"
    );
    for h in hosts {
        let infected = if h.infected_at_start.is_empty() { "-".to_string() } else { h.infected_at_start.join(", ") };
        s.push_str(&format!(
            "{:<8} {:<24} {:<9} {:<12} {:<10} {:<10} {:<13} {}\n",
            h.host,
            infected,
            yes_no(h.clean_at_end),
            yes_no(h.reinfected),
            yes_no(h.contained_at_end),
            h.benign_removed.len(),
            h.tool_state,
            h.tool_why.as_deref().unwrap_or("-")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, infected: &[&str], clean: bool, state: &str) -> HostView {
        HostView {
            host: name.to_string(),
            infected_at_start: infected.iter().map(|s| s.to_string()).collect(),
            clean_at_end: clean,
            reinfected: false,
            contained_at_end: false,
            benign_removed: Vec::new(),
            tool_state: state.to_string(),
            tool_why: None,
        }
    }

    #[test]
    fn a_cleaned_network_with_an_unreached_infected_host_is_right() {
        let hosts = [
            host("WS-001", &["Emotet"], true, "released"),
            host("WS-002", &[], true, "clean"),
            // Unreached: set aside, not counted against the operation.
            host("WS-003", &["Qakbot"], false, "unreached"),
        ];
        assert!(problems(&hosts).is_empty(), "{:?}", problems(&hosts));
    }

    #[test]
    fn a_reached_host_left_dirty_a_reinfection_or_a_benign_file_removed_is_wrong() {
        let mut dirty = host("WS-001", &["TrickBot"], false, "needs_person");
        dirty.tool_why = Some("1 file left".into());
        let mut again = host("WS-002", &[], true, "clean");
        again.reinfected = true;
        let mut benign = host("WS-003", &[], true, "clean");
        benign.benign_removed = vec![r"C:\Program Files\Zoom\Zoom.exe".into()];
        let lying = host("WS-004", &[], false, "clean");
        let p = problems(&[dirty, again, benign, lying]);
        assert_eq!(p.len(), 4, "{p:?}");
        // Containment never lifted on a reached host is wrong too (an
        // unreached one was never contained by the operation).
        let mut held = host("WS-005", &[], true, "clean");
        held.contained_at_end = true;
        let mut away = host("WS-006", &[], true, "unreached");
        away.contained_at_end = true;
        let p2 = problems(&[held, away]);
        assert_eq!(p2, ["1 reached host(s) still contained at the end (SMB blocked), e.g. WS-005: the release was held or failed"]);
        assert!(p[0].starts_with("WS-001: infected at the start (TrickBot)") && p[0].contains("needs_person: 1 file left"), "{p:?}");
        assert!(p[1].contains("WS-002: infected again"), "{p:?}");
        assert!(p[2].contains("Zoom.exe"), "{p:?}");
        assert!(p.iter().any(|l| l.contains("WS-004: the tool says clean")), "{p:?}");
    }

    #[test]
    fn counts_over_the_network_and_only_notable_hosts_in_the_table() {
        let mut benign = host("WS-004", &[], true, "released");
        benign.benign_removed = vec!["C:\\x".into()];
        let hosts = [
            host("WS-001", &["Emotet"], true, "released"),
            host("WS-002", &[], true, "released"),
            host("WS-003", &["Qakbot"], false, "unreached"),
            benign,
            host("WS-005", &["Emotet", "Dridex"], true, "released"),
        ];
        let notable: Vec<&str> = hosts.iter().filter(|h| notable(h)).map(|h| h.host.as_str()).collect();
        assert_eq!(notable, ["WS-001", "WS-003", "WS-004", "WS-005"]);
        let c = render_counts(&hosts);
        assert!(c.contains("hosts:                          5\n"), "{c}");
        assert!(c.contains("infected at the start:     3 (Dridex 1, Emotet 2, Qakbot 1)"), "{c}");
        assert!(c.contains("of those reached, clean:   2 of 2"), "{c}");
        assert!(c.contains("benign files removed:      1"), "{c}");
        assert!(c.contains("not reached (set aside):  1 (WS-003)"), "{c}");
        assert!(c.contains("final states:             released 4, unreached 1"), "{c}");
    }

    #[test]
    fn the_table_shows_both_views_per_host() {
        let t = render_table(&[host("WS-001", &["Emotet", "Qakbot"], true, "released")]);
        let line = t.lines().nth(1).unwrap();
        assert!(line.starts_with("WS-001   Emotet, Qakbot"), "{t}");
        assert!(line.contains(" yes ") && line.contains("released"), "{t}");
    }
}
