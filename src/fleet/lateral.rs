//! Lateral movement as evidence: what Windows records when one host reaches
//! another (a network logon, then a service installed or a task registered
//! within minutes: how PsExec-style spreaders and loaders' SMB modules
//! work), ordered in time across hosts and linked: which host reached
//! which, from an infected one or not, and from addresses nobody listed in
//! the inventory (an infected machine nobody knows of: it holds the
//! release of containment).
//!
//! This module is the pure logic. The events come from the host-side
//! runtime (`runtime::ops::Query::Events`: System 7045, Security 4624
//! network logons and 4698, Task Scheduler 106, each log's newest records
//! within a window, every text bounded, and for each log whether it could
//! be read, so "no events" is never mistaken for "nothing happened"); the
//! snapshot keeps them ([`crate::runtime::snapshot::LoggedEvent`]).
//!
//! Host clocks disagree: each host's event times are moved onto the
//! operator's clock by the skew its scan measured before they are ordered.
//! cauterize's own WinRM logons are network logons too: they come from the
//! operator's address as each host sees it (which the scan records), and
//! are never taken for a source, nor hide a source's logon before them.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::detect::facts::parse_time;

/// Longest gap between a network logon and the install it led to.
pub const DEFAULT_WINDOW_SECS: f64 = 600.0;

pub use crate::runtime::snapshot::EventKind;

/// One event of one host, its time on that host's clock (UTC, ISO 8601).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostEvent {
    pub host: String,
    pub at: String,
    pub kind: EventKind,
    /// The record it came from: `System 7045`, `Security 4698`, ...
    pub record: String,
}

/// Where a reach came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Origin {
    /// A host of the inventory.
    Host(String),
    /// An address the inventory does not list.
    Unlisted(String),
}

/// One host reaching another: a network logon, then an install.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    pub from: Origin,
    pub to: String,
    /// When the install happened, seconds since 1970 on the operator's clock.
    pub at: f64,
    /// Seconds between the logon and the install.
    pub after_logon: f64,
    pub account: String,
    /// `service X (image)` or `task X`.
    pub what: String,
    /// The record of the install: `System 7045`, `Security 4698`,
    /// `Microsoft-Windows-TaskScheduler/Operational 106`.
    pub record: String,
    /// A service install's image path as the record gives it (empty for a
    /// task).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_path: String,
    /// The installed service's name as the record gives it (empty for a
    /// task): what the runtime looks the record up by on the host before
    /// it deletes a copy in `C:\Windows` the record ties.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// Its source carried the infection then (a host known infected by
    /// that time), or is an address nobody listed.
    pub suspect: bool,
}

/// A host reached from an infected one, and when first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reached {
    pub host: String,
    pub at: f64,
    pub from: String,
}

/// An address not in the inventory that reached listed hosts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unlisted {
    pub address: String,
    pub first_at: f64,
    pub hosts: Vec<String>,
}

/// The linked evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lateral {
    /// Every reach, in time order.
    pub reaches: Vec<Reach>,
    /// Hosts reached from an infected host (directly, or through a host
    /// that was reached before it reached them), first reach only.
    pub reached: Vec<Reached>,
    /// Sources nobody listed: each holds the release of containment.
    pub unlisted: Vec<Unlisted>,
    /// Events whose time did not parse (ignored, counted).
    pub unreadable_times: usize,
}

/// What linking is told besides the events.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Address (as the logs write it) to inventory host name.
    pub addresses: HashMap<String, String>,
    /// Each host's clock minus the operator's, in seconds.
    pub skew_secs: HashMap<String, f64>,
    /// Hosts known infected, with the time the infection is known from
    /// (`None`: not known; such a host carries it from before the logs
    /// begin, unless a reach from a carrier shows when it got it).
    pub infected: BTreeMap<String, Option<f64>>,
    /// Longest gap between a logon and its install.
    pub window_secs: f64,
    /// The operator's addresses as the hosts see them (as the logs write
    /// them): cauterize's own logons, never a source.
    pub operator: HashSet<String>,
}

/// An address as the logs write it, or `None` when it is no remote source
/// (`-`, empty, loopback). IPv4-mapped IPv6 is written as IPv4.
fn source(address: &str) -> Option<String> {
    let a = address.trim().trim_start_matches("::ffff:").to_ascii_lowercase();
    match a.as_str() {
        "" | "-" | "::1" | "127.0.0.1" | "localhost" => None,
        _ => Some(a),
    }
}

/// A host's logged events as linking takes them, keeping only what can
/// link: every install, and the remote logons (not the operator's) that
/// precede an install of the same host within the window. A pass over
/// thousands of hosts holds this, not every logon of every host.
pub fn linkable(host: &str, events: &[crate::runtime::snapshot::LoggedEvent], ctx: &Context) -> Vec<HostEvent> {
    linkable_events(events, ctx).map(|e| host_event(host, e)).collect()
}

/// One logged event of `host` as linking takes it.
pub fn host_event(host: &str, e: &crate::runtime::snapshot::LoggedEvent) -> HostEvent {
    HostEvent { host: host.to_string(), at: e.at.clone(), kind: e.kind.clone(), record: format!("{} {}", e.log, e.event_id) }
}

/// [`linkable`] without the host's name.
pub fn linkable_events<'a>(
    events: &'a [crate::runtime::snapshot::LoggedEvent],
    ctx: &'a Context,
) -> impl Iterator<Item = &'a crate::runtime::snapshot::LoggedEvent> + 'a {
    let mut installs: Vec<f64> = events
        .iter()
        .filter(|e| !matches!(e.kind, EventKind::NetworkLogon { .. }))
        .filter_map(|e| parse_time(&e.at))
        .collect();
    installs.sort_by(f64::total_cmp);
    events.iter().filter(move |e| match &e.kind {
        EventKind::NetworkLogon { source_address, .. } => {
            let remote = source(source_address).is_some_and(|a| !ctx.operator.contains(&a));
            let before_install = parse_time(&e.at).is_some_and(|t| {
                let i = installs.partition_point(|x| *x < t);
                installs.get(i).is_some_and(|x| x - t <= ctx.window_secs)
            });
            remote && before_install
        }
        _ => true,
    })
}

/// An address as the logs write it (see [`source`]), for [`Context`]'s
/// maps: `None` when it is no remote address.
pub fn normal_address(address: &str) -> Option<String> {
    source(address)
}

/// Order the events in time across hosts and link them.
pub fn link(events: &[HostEvent], ctx: &Context) -> Lateral {
    let mut out = Lateral::default();
    // Events per host on the operator's clock, in time order.
    let mut per_host: BTreeMap<&str, Vec<(f64, &EventKind, &str)>> = BTreeMap::new();
    for e in events {
        let Some(t) = parse_time(&e.at) else {
            out.unreadable_times += 1;
            continue;
        };
        let skew = ctx.skew_secs.get(&e.host).copied().unwrap_or(0.0);
        per_host.entry(e.host.as_str()).or_default().push((t - skew, &e.kind, e.record.as_str()));
    }
    for (host, list) in &mut per_host {
        // At the same instant a logon comes first: it can lead to the
        // install (older Windows and the logs' second resolution).
        let logon = |k: &EventKind| matches!(k, EventKind::NetworkLogon { .. });
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| logon(b.1).cmp(&logon(a.1))));
        for (i, (t, kind, record)) in list.iter().enumerate() {
            let (what, image_path, service) = match kind {
                EventKind::ServiceInstalled { service, image_path, .. } => (format!("service {service} ({image_path})"), image_path.clone(), service.clone()),
                EventKind::TaskRegistered { task, .. } => (format!("task {task}"), String::new(), String::new()),
                EventKind::NetworkLogon { .. } => continue,
            };
            // The latest remote logon before it, within the window, that
            // is not cauterize's own.
            let logon = list[..i].iter().rev().take_while(|(lt, _, _)| t - lt <= ctx.window_secs).find_map(|(lt, k, _)| {
                match k {
                    EventKind::NetworkLogon { source_address, account, .. } => source(source_address)
                        .filter(|a| !ctx.operator.contains(a))
                        .map(|a| (*lt, a, account.clone())),
                    _ => None,
                }
            });
            let Some((lt, address, account)) = logon else { continue };
            let from = match ctx.addresses.get(&address) {
                Some(h) if h.eq_ignore_ascii_case(host) => continue,
                Some(h) => Origin::Host(h.clone()),
                None => Origin::Unlisted(address),
            };
            let suspect = matches!(from, Origin::Unlisted(_));
            out.reaches.push(Reach { from, to: host.to_string(), at: *t, after_logon: t - lt, account, what, record: record.to_string(), image_path, service, suspect });
        }
    }
    out.reaches.sort_by(|a, b| a.at.total_cmp(&b.at).then_with(|| a.to.cmp(&b.to)));

    // Spread in time: a host passes it on only after it has it.
    let mut has: BTreeMap<String, Option<f64>> =
        ctx.infected.iter().map(|(h, t)| (h.to_ascii_lowercase(), *t)).collect();
    for r in &mut out.reaches {
        match &r.from {
            Origin::Host(from) => {
                let since = has.get(&from.to_ascii_lowercase()).copied();
                let carrying = matches!(since, Some(None)) || matches!(since, Some(Some(t)) if t <= r.at);
                r.suspect = carrying;
                // A host not known infected, or known infected from an
                // unknown time (its own findings): the first reach from a
                // carrier tells when it got it.
                let to = r.to.to_ascii_lowercase();
                if carrying && matches!(has.get(&to), None | Some(None)) {
                    has.insert(to, Some(r.at));
                    out.reached.push(Reached { host: r.to.clone(), at: r.at, from: from.clone() });
                }
            }
            Origin::Unlisted(address) => {
                match out.unlisted.iter_mut().find(|u| &u.address == address) {
                    Some(u) => {
                        if !u.hosts.contains(&r.to) {
                            u.hosts.push(r.to.clone());
                        }
                    }
                    None => out.unlisted.push(Unlisted { address: address.clone(), first_at: r.at, hosts: vec![r.to.clone()] }),
                }
            }
        }
    }
    out
}

/// Records of one install at most this far apart are one install written
/// twice (a task's Security 4698 and Task Scheduler 106 are written
/// together when it is registered).
const SAME_INSTALL_SECS: f64 = 60.0;

/// What was installed on a host when a suspect source reached it (a host
/// carrying the infection then, or an address nobody listed): the service
/// or task, per host, with the records that tie it and why it is listed.
/// One install recorded by two logs (a task's 4698 and 106) is one item
/// citing both records. Listed for a person whatever the rules said of it;
/// never acted on by itself.
pub fn installed_on_reach(lateral: &Lateral) -> BTreeMap<String, Vec<(String, String)>> {
    // Per host: the first reach of each install, and every record of it.
    let mut installs: BTreeMap<&str, Vec<(&Reach, Vec<(&str, f64)>)>> = BTreeMap::new();
    for r in lateral.reaches.iter().filter(|r| r.suspect) {
        let list = installs.entry(r.to.as_str()).or_default();
        let same = list.iter_mut().find(|(first, records)| {
            first.what == r.what && first.from == r.from && records.iter().any(|(_, at)| (r.at - at).abs() <= SAME_INSTALL_SECS)
        });
        match same {
            Some((_, records)) => records.push((r.record.as_str(), r.at)),
            None => list.push((r, vec![(r.record.as_str(), r.at)])),
        }
    }
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (host, list) in installs {
        for (r, records) in list {
            let why = format!(
                "installed when another host reached this one: {} (on the operator's clock), {:.0} s after a network logon as {} from {}",
                records_at(&records),
                r.after_logon,
                r.account,
                r.source_text()
            );
            out.entry(host.to_string()).or_default().push((r.what.clone(), why));
        }
    }
    out
}

impl Reach {
    /// Its source as a review item says it.
    fn source_text(&self) -> String {
        match &self.from {
            Origin::Host(h) => format!("{h}, infected by then"),
            Origin::Unlisted(a) => format!("{a}, an address the inventory does not list"),
        }
    }

    /// When the network logon that led to it was, on the operator's clock.
    fn logon_at(&self) -> f64 {
        self.at - self.after_logon
    }
}

/// Files created on `host` when a suspect source reached it: created
/// (`files`: path and creation time on the host's clock, whose clock is
/// `skew_secs` ahead of the operator's) within `window_secs` after the
/// network logon that led to an install, which ties them. Loaders copy
/// their file first and install what runs it; the snapshot holds the files
/// its autostarts name and those of the drop-folder sweep (the places
/// loaders drop files). Listed for a person, never acted on by itself.
pub fn created_on_reach(lateral: &Lateral, host: &str, files: &[(String, String)], skew_secs: f64, window_secs: f64) -> Vec<(String, String)> {
    let reaches: Vec<&Reach> = lateral.reaches.iter().filter(|r| r.suspect && r.to.eq_ignore_ascii_case(host)).collect();
    let mut out = Vec::new();
    for (path, created) in files {
        let Some(t) = parse_time(created).map(|t| t - skew_secs) else { continue };
        // The host writes times to the second: a file of the logon's second.
        let Some(r) = reaches.iter().find(|r| t >= r.logon_at().floor() && t <= r.logon_at() + window_secs) else { continue };
        let why = format!(
            "created when another host reached this one: {:.0} s after a network logon as {} from {}, which led to {} at {} ({})",
            (t - r.logon_at()).max(0.0),
            r.account,
            r.source_text(),
            r.record,
            crate::evidence::names::rfc3339((r.at.floor() as i64, 0)),
            r.what
        );
        out.push((format!("file {path}"), why));
    }
    out
}

/// `System 7045 at T`, or `Security 4698 and ... 106 at T` (each with its
/// own time when they differ).
fn records_at(records: &[(&str, f64)]) -> String {
    let at = |t: f64| crate::evidence::names::rfc3339((t.floor() as i64, 0));
    let one_time = records.iter().all(|(_, t)| t.floor() == records[0].1.floor());
    if one_time {
        let names: Vec<&str> = records.iter().map(|(r, _)| *r).collect();
        format!("{} at {}", names.join(" and "), at(records[0].1))
    } else {
        records.iter().map(|(r, t)| format!("{r} at {}", at(*t))).collect::<Vec<_>>().join(" and ")
    }
}

/// Items of hosts reached from an infected host that appeared at or after
/// the reach and that nothing explains: `(host, what, created)` in, the
/// ones to review (with why) out.
pub fn new_since_reach(lateral: &Lateral, items: &[(String, String, String)]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (host, what, created) in items {
        let Some(r) = lateral.reached.iter().find(|r| r.host.eq_ignore_ascii_case(host)) else { continue };
        let Some(t) = parse_time(created) else { continue };
        if t >= r.at {
            out.push((
                host.clone(),
                what.clone(),
                format!("review: appeared {:.0} s after {} reached this host from infected {}", t - r.at, r.what_of(lateral), r.from),
            ));
        }
    }
    out
}

impl Reached {
    /// The install that marked the reach.
    fn what_of(&self, lateral: &Lateral) -> String {
        lateral
            .reaches
            .iter()
            .find(|x| x.to == self.host && x.at == self.at)
            .map_or_else(|| "a network logon".to_string(), |x| x.what.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(host: &str, at: &str, kind: EventKind) -> HostEvent {
        let record = match kind {
            EventKind::ServiceInstalled { .. } => "System 7045",
            EventKind::TaskRegistered { .. } => "Security 4698",
            EventKind::NetworkLogon { .. } => "Security 4624",
        };
        HostEvent { host: host.into(), at: at.into(), kind, record: record.into() }
    }
    fn logon(from: &str) -> EventKind {
        EventKind::NetworkLogon { source_address: from.into(), account: "CORP\\Administrator".into(), logon_type: 3 }
    }
    fn service(name: &str) -> EventKind {
        EventKind::ServiceInstalled { service: name.into(), image_path: format!(r"regsvr32.exe /s C:\Windows\{name}.dll"), account: "LocalSystem".into() }
    }

    fn ctx() -> Context {
        Context {
            addresses: [("10.0.0.1", "WS-001"), ("10.0.0.2", "WS-002"), ("10.0.0.3", "WS-003")]
                .iter()
                .map(|(a, h)| (a.to_string(), h.to_string()))
                .collect(),
            infected: [("WS-001".to_string(), None)].into_iter().collect(),
            window_secs: DEFAULT_WINDOW_SECS,
            ..Context::default()
        }
    }

    #[test]
    fn a_logon_then_an_install_links_hosts_in_time_and_the_spread_follows_the_order() {
        let events = vec![
            // WS-003 is reached from WS-002 before WS-002 itself was
            // reached: that reach does not carry the infection.
            ev("WS-003", "2024-03-01T09:00:00Z", logon("10.0.0.2")),
            ev("WS-003", "2024-03-01T09:00:20Z", service("early")),
            ev("WS-002", "2024-03-01T10:00:00Z", logon("::ffff:10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:05Z", service("abcdefg")),
            // Later WS-002 reaches WS-003 again: now it carries it.
            ev("WS-003", "2024-03-01T11:00:00Z", logon("10.0.0.2")),
            ev("WS-003", "2024-03-01T11:00:03Z", EventKind::TaskRegistered { task: r"\Xyz".into(), user: "SYSTEM".into() }),
            // An install with no logon before it in the window: no reach.
            ev("WS-001", "2024-03-01T08:00:00Z", logon("10.0.0.3")),
            ev("WS-001", "2024-03-01T08:30:00Z", service("late")),
        ];
        let l = link(&events, &ctx());
        let order: Vec<(String, &str)> = l.reaches.iter().map(|r| (format!("{:?}", r.from), r.to.as_str())).collect();
        assert_eq!(
            order,
            [
                ("Host(\"WS-002\")".to_string(), "WS-003"),
                ("Host(\"WS-001\")".to_string(), "WS-002"),
                ("Host(\"WS-002\")".to_string(), "WS-003"),
            ]
        );
        assert_eq!(l.reaches[1].after_logon, 5.0);
        let reached: Vec<(&str, &str)> = l.reached.iter().map(|r| (r.host.as_str(), r.from.as_str())).collect();
        assert_eq!(reached, [("WS-002", "WS-001"), ("WS-003", "WS-002")]);
        assert_eq!(l.reached[1].at, parse_time("2024-03-01T11:00:03Z").unwrap());
        assert!(l.unlisted.is_empty());
    }

    #[test]
    fn clocks_are_corrected_before_ordering() {
        // WS-002's clock is an hour ahead: its reach of WS-003 really
        // happened after WS-001 reached it.
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:05Z", service("a")),
            ev("WS-003", "2024-03-01T09:30:00Z", logon("10.0.0.2")),
            ev("WS-003", "2024-03-01T09:30:05Z", service("b")),
        ];
        let plain = link(&events, &ctx());
        assert_eq!(plain.reached.len(), 1, "without the skew WS-003's reach comes first: {plain:?}");
        let mut c = ctx();
        c.skew_secs.insert("WS-002".into(), 3600.0);
        let fixed = link(&events, &c);
        assert_eq!(fixed.reached.iter().map(|r| r.host.as_str()).collect::<Vec<_>>(), ["WS-002", "WS-003"]);
    }

    #[test]
    fn an_unlisted_source_is_reported_with_the_hosts_it_reached() {
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.9.9.9")),
            ev("WS-002", "2024-03-01T10:00:02Z", service("x")),
            ev("WS-003", "2024-03-01T10:05:00Z", logon("10.9.9.9")),
            ev("WS-003", "2024-03-01T10:05:02Z", service("y")),
            ev("WS-003", "2024-03-01T10:06:00Z", logon("-")),
            ev("WS-003", "2024-03-01T10:06:01Z", service("local")),
            ev("WS-003", "not a time", service("z")),
        ];
        let l = link(&events, &ctx());
        assert_eq!(l.unlisted.len(), 1);
        assert_eq!(l.unlisted[0].address, "10.9.9.9");
        assert_eq!(l.unlisted[0].hosts, ["WS-002", "WS-003"]);
        assert_eq!(l.unreadable_times, 1);
        assert!(l.reached.is_empty(), "an unlisted source is not known infected");
        // `local` followed a logon with no address: linked to the earlier
        // remote logon of 10.9.9.9 within the window.
        assert_eq!(l.reaches.len(), 3);
    }

    #[test]
    fn the_operators_own_logons_are_no_source_and_do_not_hide_a_sources_logon() {
        let mut c = ctx();
        c.operator.insert("10.0.0.50".into());
        let events = vec![
            // WS-001 reaches WS-002; then cauterize logs on to scan it (a
            // task registered then is cauterize's dead-man task).
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:30Z", logon("10.0.0.50")),
            ev("WS-002", "2024-03-01T10:00:40Z", service("abcdefg")),
            ev("WS-003", "2024-03-01T12:00:00Z", logon("10.0.0.50")),
            ev("WS-003", "2024-03-01T12:00:02Z", EventKind::TaskRegistered { task: r"\cauterize-deadman".into(), user: "SYSTEM".into() }),
        ];
        let l = link(&events, &c);
        assert!(l.unlisted.is_empty(), "the operator is not an unlisted source: {l:?}");
        assert_eq!(l.reaches.len(), 1, "{l:?}");
        assert_eq!((l.reaches[0].from.clone(), l.reaches[0].after_logon), (Origin::Host("WS-001".into()), 40.0));
        // Without knowing the operator's address, its logon would be taken
        // for an unlisted source of both.
        let blind = link(&events, &ctx());
        assert_eq!(blind.unlisted.len(), 1, "{blind:?}");
        assert_eq!(blind.unlisted[0].hosts, ["WS-002", "WS-003"]);
    }

    #[test]
    fn a_host_infected_of_itself_is_still_shown_reached_from_the_carrier_that_reached_it() {
        let mut c = ctx();
        c.infected.insert("WS-002".into(), None);
        c.infected.insert("WS-003".into(), None);
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:00Z", service("a")),
            ev("WS-003", "2024-03-01T10:30:00Z", logon("10.0.0.2")),
            ev("WS-003", "2024-03-01T10:30:00Z", service("b")),
        ];
        let l = link(&events, &c);
        let reached: Vec<(&str, &str)> = l.reached.iter().map(|r| (r.host.as_str(), r.from.as_str())).collect();
        assert_eq!(reached, [("WS-002", "WS-001"), ("WS-003", "WS-002")], "a logon and its install in the same second link too");
    }

    #[test]
    fn only_what_can_link_is_kept_per_host() {
        use crate::runtime::snapshot::LoggedEvent;
        let mut c = ctx();
        c.operator.insert("10.0.0.50".into());
        let le = |at: &str, kind: EventKind| LoggedEvent { log: "x".into(), event_id: 0, record_id: 1, at: at.into(), kind };
        let events = vec![
            le("2024-03-01T09:00:00Z", logon("10.0.0.1")),
            le("2024-03-01T10:00:00Z", logon("10.0.0.3")),
            le("2024-03-01T10:00:01Z", logon("10.0.0.50")),
            le("2024-03-01T10:00:05Z", service("a")),
            le("2024-03-01T10:30:00Z", logon("10.0.0.2")),
        ];
        let kept = linkable("WS-002", &events, &c);
        let at: Vec<&str> = kept.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(at, ["2024-03-01T10:00:00Z", "2024-03-01T10:00:05Z"]);
        assert_eq!(link(&kept, &c), link(&events.iter().map(|e| host_event("WS-002", e)).collect::<Vec<_>>(), &c));
    }

    #[test]
    fn what_a_suspect_source_installed_is_listed_with_its_record_and_an_uninfected_ones_is_not() {
        let events = vec![
            // WS-003 reaches WS-002 before anything shows it infected: an
            // admin's deployment, not listed.
            ev("WS-002", "2024-03-01T09:00:00Z", logon("10.0.0.3")),
            ev("WS-002", "2024-03-01T09:00:02Z", service("deploy")),
            // WS-001 (infected) reaches WS-002; an unlisted address reaches WS-003.
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:05Z", service("abcdefg")),
            ev("WS-003", "2024-03-01T11:00:00Z", logon("10.9.9.9")),
            ev("WS-003", "2024-03-01T11:00:03Z", EventKind::TaskRegistered { task: r"\Xyz".into(), user: "SYSTEM".into() }),
        ];
        let listed = installed_on_reach(&link(&events, &ctx()));
        let ws2 = &listed["WS-002"];
        assert_eq!(ws2.len(), 1, "{listed:?}");
        assert_eq!(ws2[0].0, r"service abcdefg (regsvr32.exe /s C:\Windows\abcdefg.dll)");
        assert!(ws2[0].1.contains("System 7045 at 2024-03-01T10:00:05.000Z"), "{}", ws2[0].1);
        assert!(ws2[0].1.contains("5 s after a network logon as CORP\\Administrator from WS-001, infected by then"), "{}", ws2[0].1);
        let ws3 = &listed["WS-003"];
        assert_eq!(ws3[0].0, r"task \Xyz");
        assert!(ws3[0].1.contains("Security 4698") && ws3[0].1.contains("from 10.9.9.9, an address the inventory does not list"), "{}", ws3[0].1);
    }

    #[test]
    fn a_task_recorded_by_4698_and_106_is_one_item_citing_both_records() {
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            HostEvent { record: "Security 4698".into(), ..ev("WS-002", "2024-03-01T10:00:03Z", EventKind::TaskRegistered { task: r"\Xyz".into(), user: "SYSTEM".into() }) },
            HostEvent {
                record: "Microsoft-Windows-TaskScheduler/Operational 106".into(),
                ..ev("WS-002", "2024-03-01T10:00:03Z", EventKind::TaskRegistered { task: r"\Xyz".into(), user: "SYSTEM".into() })
            },
            // The same task registered again an hour later from the same
            // source is another install.
            ev("WS-002", "2024-03-01T11:00:00Z", logon("10.0.0.1")),
            HostEvent { record: "Security 4698".into(), ..ev("WS-002", "2024-03-01T11:00:02Z", EventKind::TaskRegistered { task: r"\Xyz".into(), user: "SYSTEM".into() }) },
        ];
        let listed = installed_on_reach(&link(&events, &ctx()));
        let ws2 = &listed["WS-002"];
        assert_eq!(ws2.len(), 2, "{ws2:?}");
        assert_eq!(ws2[0].0, r"task \Xyz");
        assert!(
            ws2[0].1.contains("Security 4698 and Microsoft-Windows-TaskScheduler/Operational 106 at 2024-03-01T10:00:03.000Z (on the operator's clock), 3 s after"),
            "{}",
            ws2[0].1
        );
        assert!(ws2[1].1.contains(": Security 4698 at 2024-03-01T11:00:02.000Z"), "{}", ws2[1].1);
    }

    #[test]
    fn files_created_in_the_window_after_a_suspect_sources_logon_are_listed_with_the_record_that_ties_them() {
        let events = vec![
            // An admin's deployment from WS-003 (not infected then): no tie.
            ev("WS-002", "2024-03-01T09:00:00Z", logon("10.0.0.3")),
            ev("WS-002", "2024-03-01T09:00:02Z", service("deploy")),
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:05Z", service("abcdefg")),
        ];
        let l = link(&events, &ctx());
        let file = |p: &str, at: &str| (p.to_string(), at.to_string());
        // WS-002's clock is 60 s ahead of the operator's.
        let files = vec![
            file(r"C:\Windows\abcdefg.exe", "2024-03-01T10:01:03Z"),
            file(r"C:\ProgramData\x\y.dll", "2024-03-01T10:10:30Z"),
            file(r"C:\Windows\deploy.exe", "2024-03-01T09:01:01Z"),
            file(r"C:\Users\a\old.dll", "2023-01-01T00:00:00Z"),
            file(r"C:\late.dll", "2024-03-01T10:11:30Z"),
            file(r"C:\bad-time.dll", "yesterday"),
        ];
        let listed = created_on_reach(&l, "ws-002", &files, 60.0, DEFAULT_WINDOW_SECS);
        let what: Vec<&str> = listed.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(what, [r"file C:\Windows\abcdefg.exe", r"file C:\ProgramData\x\y.dll"]);
        assert_eq!(
            listed[0].1,
            r"created when another host reached this one: 3 s after a network logon as CORP\Administrator from WS-001, infected by then, which led to System 7045 at 2024-03-01T10:00:05.000Z (service abcdefg (regsvr32.exe /s C:\Windows\abcdefg.dll))"
        );
        assert!(created_on_reach(&l, "WS-003", &files, 0.0, DEFAULT_WINDOW_SECS).is_empty());
    }

    #[test]
    fn items_new_on_a_reached_host_are_listed_for_review() {
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", logon("10.0.0.1")),
            ev("WS-002", "2024-03-01T10:00:05Z", service("abcdefg")),
        ];
        let l = link(&events, &ctx());
        let items = vec![
            ("WS-002".to_string(), r"Run value Xy runs C:\x.dll".to_string(), "2024-03-01T10:02:00Z".to_string()),
            ("WS-002".to_string(), r"Run value Old".to_string(), "2023-01-01T00:00:00Z".to_string()),
            ("WS-003".to_string(), r"Run value Z".to_string(), "2024-03-01T10:02:00Z".to_string()),
        ];
        let review = new_since_reach(&l, &items);
        assert_eq!(review.len(), 1, "{review:?}");
        assert!(review[0].2.contains("115 s after service abcdefg"), "{review:?}");
        assert!(review[0].2.contains("from infected WS-001"), "{review:?}");
    }
}
