//! Reboot waves: which hosts reboot together, in which order. Pure.
//!
//! Over the hosts that need a reboot (those the purge changes), like
//! Ansible's `serial`: wave sizes from the playbook (`[1, 5, "10%",
//! "100%"]`: counts, or percentages of those hosts rounded up), the last
//! size repeating until every host has a wave. The first wave is the
//! canary. Then every exempt host that needs a reboot, one per wave: it
//! kept SMB with every host, so an in-memory loader left in it could reach
//! the hosts cleaned after it; it reboots before them. Then the rest in the
//! playbook's order of kinds (workstations, servers, domain controllers).
//! A wave never mixes kinds or time windows, and domain controllers always
//! reboot one at a time.

use serde::Serialize;
use std::collections::VecDeque;

use crate::playbook::{RebootSettings, Role};

/// A host that needs a reboot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub host: String,
    /// Workstation, Server or DomainController.
    pub class: Role,
    /// Exempt from containment (keeps SMB with every host).
    pub exempt: bool,
    /// Its group's time window (`22:00-05:00`), if any.
    pub window: Option<String>,
}

/// Why a wave is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveKind {
    Canary,
    /// An exempt host, before the hosts it could re-infect.
    Exempt,
    Regular,
}

/// One wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wave {
    /// From 1 (the canary).
    pub number: u32,
    pub kind: WaveKind,
    pub class: Role,
    pub window: Option<String>,
    pub hosts: Vec<String>,
}

/// Up to `max` hosts from the front of `queue`, of one kind and window;
/// one only for a domain controller.
fn take<'a>(queue: &mut VecDeque<&'a Candidate>, max: usize) -> Vec<&'a Candidate> {
    let mut out: Vec<&Candidate> = Vec::new();
    while let Some(&c) = queue.front() {
        let cap = if c.class == Role::DomainController { 1 } else { max };
        let same = out
            .first()
            .is_none_or(|f| f.class == c.class && f.window == c.window);
        if !same || out.len() >= cap {
            break;
        }
        out.push(c);
        queue.pop_front();
    }
    out
}

/// Cut `hosts` into waves.
pub fn assign(hosts: &[Candidate], settings: &RebootSettings) -> Vec<Wave> {
    let total = hosts.len();
    let rank = |c: Role| {
        settings
            .order
            .iter()
            .position(|x| *x == c)
            .unwrap_or(settings.order.len())
    };
    let size = |i: usize| {
        let s = settings.waves[i.min(settings.waves.len().saturating_sub(1))];
        s.of_up(total).max(1)
    };
    let key = |c: &Candidate| (rank(c.class), c.window.clone(), c.host.to_ascii_lowercase());
    let (mut exempt, mut rest): (Vec<&Candidate>, Vec<&Candidate>) = hosts.iter().partition(|c| c.exempt);
    rest.sort_by_key(|c| key(c));
    exempt.sort_by_key(|c| key(c));
    let mut rest: VecDeque<&Candidate> = rest.into();
    let mut exempt: VecDeque<&Candidate> = exempt.into();

    let mut waves: Vec<Wave> = Vec::new();
    let mut push = |kind: WaveKind, members: Vec<&Candidate>| {
        let first = members[0];
        waves.push(Wave {
            number: waves.len() as u32 + 1,
            kind,
            class: first.class,
            window: first.window.clone(),
            hosts: members.iter().map(|c| c.host.clone()).collect(),
        });
    };
    let mut next_size = 0;
    if !rest.is_empty() {
        let canary = take(&mut rest, size(0));
        push(WaveKind::Canary, canary);
        next_size = 1;
    } else if !exempt.is_empty() {
        let canary = take(&mut exempt, 1);
        push(WaveKind::Canary, canary);
        next_size = 1;
    }
    while !exempt.is_empty() {
        let one = take(&mut exempt, 1);
        push(WaveKind::Exempt, one);
    }
    while !rest.is_empty() {
        let wave = take(&mut rest, size(next_size));
        push(WaveKind::Regular, wave);
        next_size += 1;
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::Share;

    fn cand(host: &str, class: Role) -> Candidate {
        Candidate {
            host: host.into(),
            class,
            exempt: false,
            window: None,
        }
    }

    fn sizes(w: &[Wave]) -> Vec<usize> {
        w.iter().map(|w| w.hosts.len()).collect()
    }

    #[test]
    fn default_waves_are_a_canary_then_growing_batches() {
        let hosts: Vec<Candidate> = (1..=100).map(|i| cand(&format!("WS-{i:03}"), Role::Workstation)).collect();
        let w = assign(&hosts, &RebootSettings::default());
        // 1, 5, 10% of 100, then the rest (100% repeats).
        assert_eq!(sizes(&w), [1, 5, 10, 84]);
        assert_eq!(w[0].kind, WaveKind::Canary);
        assert_eq!(w[0].hosts, ["WS-001"]);
        assert!(w[1..].iter().all(|w| w.kind == WaveKind::Regular));
        assert_eq!(w.iter().map(|w| w.number).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let all: Vec<&String> = w.iter().flat_map(|w| &w.hosts).collect();
        assert_eq!(all.len(), 100);
    }

    #[test]
    fn kinds_follow_the_order_and_domain_controllers_go_one_at_a_time() {
        let mut hosts: Vec<Candidate> = (1..=20).map(|i| cand(&format!("WS-{i:02}"), Role::Workstation)).collect();
        hosts.push(cand("DC-02", Role::DomainController));
        hosts.push(cand("DC-01", Role::DomainController));
        hosts.push(cand("SRV-1", Role::Server));
        hosts.push(cand("SRV-2", Role::Server));
        let w = assign(&hosts, &RebootSettings::default());
        let classes: Vec<Role> = w.iter().map(|w| w.class).collect();
        // canary, 5, 10% of 24 = 3, rest of workstations (11), servers, DC, DC.
        assert_eq!(sizes(&w), [1, 5, 3, 11, 2, 1, 1]);
        assert_eq!(
            classes,
            [Role::Workstation, Role::Workstation, Role::Workstation, Role::Workstation, Role::Server, Role::DomainController, Role::DomainController]
        );
        assert_eq!(w[5].hosts, ["DC-01"]);
        assert_eq!(w[6].hosts, ["DC-02"]);
    }

    #[test]
    fn exempt_hosts_reboot_right_after_the_canary_one_by_one() {
        let mut hosts: Vec<Candidate> = (1..=10).map(|i| cand(&format!("WS-{i:02}"), Role::Workstation)).collect();
        hosts.push(Candidate { exempt: true, ..cand("FS-01", Role::Server) });
        hosts.push(Candidate { exempt: true, ..cand("DC-01", Role::DomainController) });
        let w = assign(&hosts, &RebootSettings::default());
        assert_eq!(w[0].kind, WaveKind::Canary);
        assert_eq!(w[0].hosts, ["WS-01"]);
        assert_eq!((w[1].kind, w[1].hosts.as_slice()), (WaveKind::Exempt, &["FS-01".to_string()][..]));
        assert_eq!((w[2].kind, w[2].hosts.as_slice()), (WaveKind::Exempt, &["DC-01".to_string()][..]));
        assert!(w[3..].iter().all(|w| w.kind == WaveKind::Regular && w.class == Role::Workstation));
        // Only exempt hosts: the first of them is the canary.
        let only = vec![Candidate { exempt: true, ..cand("FS-01", Role::Server) }, Candidate { exempt: true, ..cand("FS-02", Role::Server) }];
        let w = assign(&only, &RebootSettings::default());
        assert_eq!(sizes(&w), [1, 1]);
        assert_eq!((w[0].kind, w[1].kind), (WaveKind::Canary, WaveKind::Exempt));
    }

    #[test]
    fn waves_never_mix_windows_and_counts_stay_counts() {
        let mut hosts: Vec<Candidate> = (1..=6).map(|i| cand(&format!("WS-{i}"), Role::Workstation)).collect();
        for h in hosts.iter_mut().skip(3) {
            h.window = Some("22:00-05:00".into());
        }
        let settings = RebootSettings {
            waves: vec![Share::Count(2), Share::Count(10)],
            ..RebootSettings::default()
        };
        let w = assign(&hosts, &settings);
        assert_eq!(sizes(&w), [2, 1, 3]);
        assert_eq!(w[0].window, None);
        assert_eq!(w[2].window.as_deref(), Some("22:00-05:00"));
        assert!(assign(&[], &settings).is_empty());
    }
}
