//! Ground truth about one host, for tests: what malware is really there
//! (from the infection records and the host state, via
//! [`malware::present`]), what the firewall really holds, power, boots,
//! the shutdown a command scheduled.
//! Read through the library ([`Lab::truth`](crate::lab::Lab::truth)),
//! never through WinRM.

use std::net::Ipv4Addr;

use crate::lab::emulate::power::Shutdown;
use crate::lab::malware::{self, ArtifactRef, Family, Origin, Presence};
use crate::lab::outbreak::{NetHost, Power};
use crate::lab::world::files::Pid;
use crate::lab::world::{FirewallRule, HostState, LabTime};

/// One infection of the host's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfectionRecord {
    pub at: LabTime,
    pub family: Family,
    /// Planted by the scenario, or spread from a host (and how).
    pub origin: Origin,
}

/// One host reaching another: the outbreak's ground truth of lateral
/// movement, host to host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub at: LabTime,
    pub family: Family,
    /// The source's name, or its address when no host of the lab has it.
    pub from: String,
    pub to: String,
    pub vector: malware::Vector,
    pub delivery: malware::Delivery,
}

/// Every spread among `hosts`, in time order (then by target, family).
pub fn reached(hosts: &[NetHost]) -> Vec<Reach> {
    let names: std::collections::HashMap<Ipv4Addr, &str> =
        hosts.iter().map(|h| (h.address, h.state.name.as_str())).collect();
    let mut out: Vec<Reach> = hosts
        .iter()
        .flat_map(|h| {
            let names = &names;
            h.infections.iter().filter_map(move |i| match &i.origin {
                Origin::Spread {
                    from,
                    vector,
                    delivery,
                } => Some(Reach {
                    at: i.infected_at,
                    family: i.family,
                    from: names.get(from).map_or_else(|| from.to_string(), |n| (*n).to_string()),
                    to: h.state.name.clone(),
                    vector: *vector,
                    delivery: delivery.clone(),
                }),
                Origin::Seeded => None,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.at, &a.to, a.family).cmp(&(b.at, &b.to, b.family)));
    out
}

/// Everything true about one host now.
#[derive(Debug, Clone)]
pub struct HostTruth {
    pub name: String,
    pub now: LabTime,
    pub power: Power,
    /// Per family: live processes, persistence, files, residue.
    pub presence: Presence,
    /// Families with anything left on the host, sorted.
    pub families: Vec<Family>,
    /// Families with a live loader process (none while the host is off).
    pub live_families: Vec<Family>,
    /// Live loader processes.
    pub loader_processes: Vec<(Family, Pid)>,
    /// Persistence entries present.
    pub persistence: Vec<(Family, ArtifactRef)>,
    /// Payload files present.
    pub files: Vec<(Family, String)>,
    pub firewall_rules: Vec<FirewallRule>,
    /// The firewall stops SMB in and out (see [`smb_blocked`]).
    pub smb_blocked: bool,
    pub boot_count: u32,
    pub boot_time: LabTime,
    /// The shutdown a command scheduled and lab time has not reached yet.
    pub scheduled_shutdown: Option<Shutdown>,
    /// Infections in the order they happened.
    pub infections: Vec<InfectionRecord>,
}

impl HostTruth {
    /// A loader runs here now.
    pub fn infected(&self) -> bool {
        !self.live_families.is_empty()
    }

    /// Nothing of any loader is left (no process, persistence, file or
    /// residue).
    pub fn clean(&self) -> bool {
        self.presence.is_clean()
    }
}

/// Whether the host's firewall stops SMB (TCP 445) with a peer both ways:
/// inbound to its 445 and outbound to the peer's 445. The peer is the next
/// address, a neighbour on the same subnet.
pub fn smb_blocked(state: &HostState) -> bool {
    use crate::lab::world::{Direction, Protocol, Verdict};
    let peer = Ipv4Addr::from(u32::from(state.address).wrapping_add(1));
    let fw = &state.firewall;
    fw.decide(Direction::In, Protocol::Tcp, 445, peer, 49_700) == Verdict::Block
        && fw.decide(Direction::Out, Protocol::Tcp, 49_700, peer, 445) == Verdict::Block
}

/// The truth about `host` (with the shutdown scheduled on it) at `now`.
pub fn of(host: &NetHost, scheduled: Option<&Shutdown>, now: LabTime) -> HostTruth {
    let presence = malware::present(&host.state, &host.infections);
    let mut loader_processes = Vec::new();
    let mut persistence = Vec::new();
    let mut files = Vec::new();
    let mut families = Vec::new();
    for (&f, p) in &presence.families {
        if !p.is_empty() {
            families.push(f);
        }
        loader_processes.extend(p.live_pids.iter().map(|&pid| (f, pid)));
        persistence.extend(p.persistence.iter().map(|a| (f, a.clone())));
        files.extend(p.files.iter().map(|path| (f, path.clone())));
    }
    HostTruth {
        name: host.state.name.clone(),
        now,
        power: host.power,
        families,
        live_families: host.live_families(),
        loader_processes,
        persistence,
        files,
        presence,
        firewall_rules: host.state.firewall.rules().to_vec(),
        smb_blocked: smb_blocked(&host.state),
        boot_count: host.state.boot_count,
        boot_time: host.state.boot_time,
        scheduled_shutdown: scheduled.cloned(),
        infections: host
            .infections
            .iter()
            .map(|i| InfectionRecord {
                at: i.infected_at,
                family: i.family,
                origin: i.origin.clone(),
            })
            .collect(),
    }
}
