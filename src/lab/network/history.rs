//! The lab's power history, ground truth for tests: every reboot a host
//! began, every boot, WinRM answering again, a reboot that hung or never
//! started, in the order the outbreak engine reported them. Tests read
//! from it how many times a host really rebooted and how many hosts were
//! really down at once ([`most_down_at_once`]), whatever the tool says.

use crate::lab::outbreak::{Event, EventKind};
use crate::lab::world::LabTime;

/// What happened to a host's power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerChange {
    /// A reboot began (its loaders had their shutdown hook).
    ShuttingDown,
    /// It booted (after a reboot, or powered on).
    Booted,
    /// WinRM answers again.
    WinRmUp,
    /// The reboot hung: it stays down.
    Hung,
    /// A reboot was asked for and never started.
    RebootFailed,
}

/// One change of one host's power, by host index in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerRecord {
    pub at: LabTime,
    pub host: usize,
    pub change: PowerChange,
}

/// The power changes among `events`.
pub fn records(events: &[Event]) -> impl Iterator<Item = PowerRecord> + '_ {
    events.iter().filter_map(|e| {
        let (host, change) = match e.kind {
            EventKind::ShuttingDown { host } => (host, PowerChange::ShuttingDown),
            EventKind::Booted { host, .. } => (host, PowerChange::Booted),
            EventKind::WinRmUp { host } => (host, PowerChange::WinRmUp),
            EventKind::Hung { host } => (host, PowerChange::Hung),
            EventKind::RebootFailed { host } => (host, PowerChange::RebootFailed),
            _ => return None,
        };
        Some(PowerRecord { at: e.at, host, change })
    })
}

/// The most hosts down at once because of a reboot (from the moment it
/// began until WinRM answered again; a hung host stays down), and the lab
/// time it first happened (None when no host ever rebooted). Hosts that
/// were off before any reboot (a laptop powered on later) do not count.
/// Records are taken in lab-time order (stable: same-time records keep
/// their order).
pub fn most_down_at_once<H: Ord + Clone>(history: &[(LabTime, H, PowerChange)]) -> (usize, Option<LabTime>) {
    let mut sorted: Vec<&(LabTime, H, PowerChange)> = history.iter().collect();
    sorted.sort_by_key(|(at, _, _)| *at);
    let mut down = std::collections::BTreeSet::new();
    let mut most = (0, None);
    for (at, host, change) in sorted {
        match change {
            PowerChange::ShuttingDown => {
                down.insert(host.clone());
                if down.len() > most.0 {
                    most = (down.len(), Some(*at));
                }
            }
            PowerChange::WinRmUp => {
                down.remove(host);
            }
            PowerChange::Booted | PowerChange::Hung | PowerChange::RebootFailed => {}
        }
    }
    most
}

/// How many reboots each host began at or after `since`.
pub fn reboots_since<H: Ord + Clone>(
    history: &[(LabTime, H, PowerChange)],
    since: LabTime,
) -> std::collections::BTreeMap<H, usize> {
    let mut out = std::collections::BTreeMap::new();
    for (at, host, change) in history {
        if *change == PowerChange::ShuttingDown && *at >= since {
            *out.entry(host.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::PowerChange::*;
    use super::*;

    fn t(secs: i64) -> LabTime {
        LabTime::from_unix_secs(1_700_000_000).plus_secs(secs)
    }

    #[test]
    fn down_at_once_counts_from_the_shutdown_until_winrm_answers() {
        let h = vec![
            (t(0), "A", ShuttingDown),
            (t(5), "B", ShuttingDown),
            (t(90), "A", Booted),
            // Recorded late, but earlier in lab time: sorted in.
            (t(4), "C", ShuttingDown),
            (t(120), "A", WinRmUp),
            (t(125), "B", WinRmUp),
            (t(126), "C", WinRmUp),
            (t(200), "A", ShuttingDown),
            (t(201), "D", Booted),
            (t(201), "D", WinRmUp),
        ];
        assert_eq!(most_down_at_once(&h), (3, Some(t(5))));
        assert_eq!(most_down_at_once::<&str>(&[]), (0, None));
        // A hung host stays down.
        let hung = vec![(t(0), "A", ShuttingDown), (t(1), "A", Hung), (t(10), "B", ShuttingDown), (t(20), "B", WinRmUp)];
        assert_eq!(most_down_at_once(&hung).0, 2);
        let counts = reboots_since(&h, t(1));
        assert_eq!((counts.get("A"), counts.get("B"), counts.get("D")), (Some(&1), Some(&1), None));
    }

    #[test]
    fn records_keep_power_events_only() {
        let events = vec![
            Event { at: t(1), kind: EventKind::ShuttingDown { host: 3 } },
            Event { at: t(2), kind: EventKind::SpreadDenied { from: 1, to: 2, family: crate::lab::malware::Family::Emotet } },
            Event { at: t(3), kind: EventKind::WinRmUp { host: 3 } },
        ];
        let r: Vec<PowerRecord> = records(&events).collect();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].host, r[0].change, r[1].change), (3, ShuttingDown, WinRmUp));
    }
}
