//! The demo's verdict, pure: from what the lab's ground truth says of each
//! host at the start and at the end of the operation, and what the tool's
//! journal says of it, whether the operation did what it must (every
//! infected host it reached is clean, nothing came back, no benign file was
//! removed) and, if not, why; and the table that shows both views.

/// One host, as the lab (ground truth) and the tool (its journal) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    out
}

/// The lab's view beside the tool's, one line per host.
pub fn render_table(hosts: &[HostView]) -> String {
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
        assert!(p[0].starts_with("WS-001: infected at the start (TrickBot)") && p[0].contains("needs_person: 1 file left"), "{p:?}");
        assert!(p[1].contains("WS-002: infected again"), "{p:?}");
        assert!(p[2].contains("Zoom.exe"), "{p:?}");
        assert!(p.iter().any(|l| l.contains("WS-004: the tool says clean")), "{p:?}");
    }

    #[test]
    fn the_table_shows_both_views_per_host() {
        let t = render_table(&[host("WS-001", &["Emotet", "Qakbot"], true, "released")]);
        let line = t.lines().nth(1).unwrap();
        assert!(line.starts_with("WS-001   Emotet, Qakbot"), "{t}");
        assert!(line.contains(" yes ") && line.contains("released"), "{t}");
    }
}
