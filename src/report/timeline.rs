//! The operation over time, from the journal's timestamped host moves
//! (pure): after each move, how many hosts are contained, still infected,
//! rebooting (asked, not back yet) and verified clean; and `watch`'s polls
//! of the hosts the operation never reached (the one answered is when the
//! host was taken in). The report draws it ([`super::report_html`]) and
//! `--format json` gives the points and polls.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::journal::operation::OperationEventRow;

/// The counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimelinePoint {
    /// When (UTC, ISO 8601, the operator's clock).
    pub at: String,
    pub contained: usize,
    /// Hosts with something to remove that no verifying scan has found
    /// clean yet (a host found dirty again counts again).
    pub infected: usize,
    pub rebooting: usize,
    pub verified: usize,
}

/// One poll of a watched host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelinePoll {
    /// When (UTC, ISO 8601, the operator's clock).
    pub at: String,
    pub host: String,
    /// The host answered and was taken into the operation.
    pub answered: bool,
}

/// The whole series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Hosts in the operation (the picture's height).
    pub hosts: usize,
    /// Oldest first; the first is the operation's start, the last its end
    /// when it ended.
    pub points: Vec<TimelinePoint>,
    /// `watch`'s polls, oldest first (may come after the operation's end:
    /// the picture spans both).
    pub polls: Vec<TimelinePoll>,
}

impl Timeline {
    /// The watched hosts, in the order of their first poll.
    pub fn watched_hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = Vec::new();
        for p in &self.polls {
            if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&p.host)) {
                hosts.push(&p.host);
            }
        }
        hosts
    }
}

/// The poll an audit line records, if it is one (an `observed` event of
/// a host whose text is a poll's): the host, the poll, and its words.
pub fn poll_of(e: &OperationEventRow) -> Option<(String, crate::engine::watch::PollLine, String)> {
    let host = e.host.as_ref().filter(|_| e.kind == "observed")?;
    let v: serde_json::Value = serde_json::from_str(&e.message).ok()?;
    let what = v["what"].as_str()?;
    let line = crate::engine::watch::read_poll(what)?;
    Some((host.clone(), line, what.to_string()))
}

/// The part of a `host_state` audit line the timeline needs.
#[derive(Deserialize)]
struct Move {
    host: String,
    state: String,
    #[serde(default)]
    contained: bool,
}

/// Build the series: `infected` are the lower-case names of the hosts with
/// something to remove when the plan was made; `start` and `end` the
/// operation's (end: none while it runs).
pub fn build(
    events: &[OperationEventRow],
    infected: &HashSet<String>,
    hosts: usize,
    start: Option<&str>,
    end: Option<&str>,
) -> Timeline {
    let mut contained: HashMap<String, bool> = HashMap::new();
    let mut state: HashMap<String, String> = HashMap::new();
    let mut dirty: HashSet<String> = infected.clone();
    let mut clean: HashSet<String> = HashSet::new();
    let mut points: Vec<TimelinePoint> = Vec::new();
    let counts = |at: &str, contained: &HashMap<String, bool>, state: &HashMap<String, String>, dirty: &HashSet<String>, clean: &HashSet<String>| TimelinePoint {
        at: at.to_string(),
        contained: contained.values().filter(|c| **c).count(),
        infected: dirty.len(),
        rebooting: state.values().filter(|s| *s == "reboot_asked").count(),
        verified: clean.len(),
    };
    if let Some(s) = start {
        points.push(counts(s, &contained, &state, &dirty, &clean));
    }
    for e in events.iter().filter(|e| e.kind == "host_state") {
        let Ok(m) = serde_json::from_str::<Move>(&e.message) else {
            continue;
        };
        let key = m.host.to_lowercase();
        match m.state.as_str() {
            "clean" => {
                dirty.remove(&key);
                clean.insert(key.clone());
            }
            "dirty" | "needs_person" => {
                dirty.insert(key.clone());
                clean.remove(&key);
            }
            _ => {}
        }
        contained.insert(key.clone(), m.contained);
        state.insert(key, m.state);
        let p = counts(&e.at, &contained, &state, &dirty, &clean);
        push(&mut points, p);
    }
    if let Some(e) = end {
        let p = counts(e, &contained, &state, &dirty, &clean);
        match points.last_mut() {
            Some(last) if last.at == e => *last = p,
            _ => points.push(p),
        }
    }
    let polls = events
        .iter()
        .filter_map(|e| {
            poll_of(e).map(|(host, line, _)| TimelinePoll {
                at: e.at.clone(),
                host,
                answered: line.answered,
            })
        })
        .collect();
    Timeline { hosts, points, polls }
}

/// Add a point, folding it into the last one when the time is the same,
/// and dropping it when nothing changed.
fn push(points: &mut Vec<TimelinePoint>, p: TimelinePoint) {
    match points.last_mut() {
        Some(last) if last.at == p.at => *last = p,
        Some(last) if same_counts(last, &p) => {}
        _ => points.push(p),
    }
}

fn same_counts(a: &TimelinePoint, b: &TimelinePoint) -> bool {
    (a.contained, a.infected, a.rebooting, a.verified) == (b.contained, b.infected, b.rebooting, b.verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(at: &str, host: &str, state: &str, contained: bool) -> OperationEventRow {
        OperationEventRow {
            id: 0,
            run_id: Some(1),
            host: Some(host.into()),
            at: at.into(),
            level: "info".into(),
            kind: "host_state".into(),
            message: serde_json::json!({"event": "host_state", "host": host, "state": state, "round": 0, "contained": contained, "reason": null}).to_string(),
        }
    }

    #[test]
    fn counts_follow_the_moves() {
        let infected: HashSet<String> = ["ws-1".to_string(), "ws-2".to_string()].into();
        let events = vec![
            mv("2026-01-01T00:00:01Z", "WS-1", "contained", true),
            mv("2026-01-01T00:00:01Z", "WS-2", "contained", true),
            mv("2026-01-01T00:00:02Z", "WS-1", "reboot_asked", true),
            mv("2026-01-01T00:00:03Z", "WS-1", "rebooted", true),
            mv("2026-01-01T00:00:04Z", "WS-1", "clean", true),
            mv("2026-01-01T00:00:05Z", "WS-1", "released", false),
            OperationEventRow {
                kind: "decision".into(),
                message: "not a move".into(),
                ..mv("2026-01-01T00:00:05Z", "WS-1", "x", false)
            },
        ];
        let t = build(&events, &infected, 3, Some("2026-01-01T00:00:00Z"), Some("2026-01-01T00:00:09Z"));
        let c: Vec<(usize, usize, usize, usize)> =
            t.points.iter().map(|p| (p.contained, p.infected, p.rebooting, p.verified)).collect();
        assert_eq!(
            c,
            vec![(0, 2, 0, 0), (2, 2, 0, 0), (2, 2, 1, 0), (2, 2, 0, 0), (2, 1, 0, 1), (1, 1, 0, 1), (1, 1, 0, 1)]
        );
        assert_eq!(t.points[0].at, "2026-01-01T00:00:00Z");
        assert_eq!(t.points.last().unwrap().at, "2026-01-01T00:00:09Z");
        assert_eq!(t.hosts, 3);
    }

    fn polled(at: &str, host: &str, what: &str) -> OperationEventRow {
        OperationEventRow {
            kind: "observed".into(),
            message: serde_json::json!({"event": "observed", "host": host, "phase": "contain", "what": what}).to_string(),
            ..mv(at, host, "x", false)
        }
    }

    #[test]
    fn polls_of_watched_hosts_are_kept_in_order() {
        let events = vec![
            mv("2026-01-01T00:00:01Z", "WS-2", "unreached", false),
            polled("2026-01-01T01:00:00Z", "WS-2", "watch: poll 1 not answered (connection refused); next poll in 30s"),
            polled("2026-01-01T01:00:00Z", "WS-3", "watch: poll 1 not answered (no answer within 2m); next poll in 30s"),
            // Not a poll: watch's own words about the round.
            polled("2026-01-01T01:00:10Z", "WS-2", "watching 2 host(s) never reached"),
            polled("2026-01-01T01:00:30Z", "WS-2", "watch: poll 2 answered (booted 2026-01-01T00:59:00Z): taking it into the operation"),
            mv("2026-01-01T01:00:31Z", "WS-2", "contained", true),
        ];
        let t = build(&events, &HashSet::new(), 3, None, None);
        let polls: Vec<(&str, &str, bool)> = t.polls.iter().map(|p| (p.at.as_str(), p.host.as_str(), p.answered)).collect();
        assert_eq!(
            polls,
            [
                ("2026-01-01T01:00:00Z", "WS-2", false),
                ("2026-01-01T01:00:00Z", "WS-3", false),
                ("2026-01-01T01:00:30Z", "WS-2", true)
            ]
        );
        assert_eq!(t.watched_hosts(), ["WS-2", "WS-3"]);
        // The late host's moves count as any other's.
        assert_eq!(t.points.last().unwrap().contained, 1);
    }

    #[test]
    fn a_host_found_dirty_again_counts_as_infected_again() {
        let infected: HashSet<String> = HashSet::new();
        let events = vec![
            mv("2026-01-01T00:00:01Z", "WS-1", "clean", false),
            mv("2026-01-01T00:00:02Z", "WS-1", "dirty", false),
        ];
        let t = build(&events, &infected, 1, None, None);
        assert_eq!((t.points[0].infected, t.points[0].verified), (0, 1));
        assert_eq!((t.points[1].infected, t.points[1].verified), (1, 0));
    }
}
