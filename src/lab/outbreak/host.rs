//! A host as the network sees it: its Windows state, address, power
//! (up, down until a time, booting with WinRM not yet answering, hung),
//! how its reboots behave, whether a domain credential can be harvested on
//! it, and its infections (the loaders' records: memory and history).

use std::net::Ipv4Addr;

use crate::lab::malware::{self, Family, Infection};
use crate::lab::world::host::HostState;
use crate::lab::world::time::LabTime;

/// Power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Running and answering WinRM.
    Up,
    /// Off; boots at `until` (None: stays off until powered on).
    Down { until: Option<LabTime> },
    /// Windows is running (malware too), WinRM answers from `winrm_at`.
    Booting { winrm_at: LabTime },
    /// Stuck in a reboot: off, and never comes back by itself.
    Hung,
}

impl Power {
    /// Windows runs (processes, SMB): Up or Booting.
    pub fn is_running(self) -> bool {
        matches!(self, Power::Up | Power::Booting { .. })
    }
    /// WinRM accepts connections.
    pub fn accepts_winrm(self) -> bool {
        self == Power::Up
    }
}

/// One host of the simulated network.
#[derive(Debug, Clone)]
pub struct NetHost {
    pub state: HostState,
    pub address: Ipv4Addr,
    pub power: Power,
    /// How long a reboot keeps the host off.
    pub reboot_down_secs: u64,
    /// After boot, how long until WinRM answers.
    pub winrm_delay_secs: u64,
    /// A reboot never finishes (the host stays `Hung`).
    pub reboot_hangs: bool,
    /// A reboot never starts (a program blocks shutdown, servicing is under
    /// way): the host stays up as it was.
    pub reboot_fails: bool,
    /// A domain credential can be harvested here (a domain admin is or was
    /// logged on): its loaders can log on to any host of the same domain.
    pub harvested_domain_creds: bool,
    /// Users logged on before a reboot log on again right after it.
    pub relogon_after_boot: bool,
    /// Every infection in the order it happened (live or not).
    pub infections: Vec<Infection>,
    /// Users to log back on at the next boot.
    pub(crate) relogon: Vec<String>,
}

impl NetHost {
    /// An up host at its state's address: 90 s reboots, WinRM 30 s after
    /// boot, users log back on.
    pub fn new(state: HostState) -> NetHost {
        NetHost {
            address: state.address,
            state,
            power: Power::Up,
            reboot_down_secs: 90,
            winrm_delay_secs: 30,
            reboot_hangs: false,
            reboot_fails: false,
            harvested_domain_creds: false,
            relogon_after_boot: true,
            infections: Vec::new(),
            relogon: Vec::new(),
        }
    }

    /// Infect now as the first logged-on user (SYSTEM if nobody is), and
    /// keep the record.
    pub fn infect(
        &mut self,
        profile: &malware::FamilyProfile,
        rng: &mut impl rand::Rng,
        now: LabTime,
    ) -> &Infection {
        let user = self.state.logged_on_users().next().map(|p| p.sid.clone());
        let inf = malware::infect(&mut self.state, profile, user.as_deref(), rng, now);
        self.infections.push(inf);
        self.infections.last().expect("just pushed")
    }

    /// Families with a live loader here.
    pub fn live_families(&self) -> Vec<Family> {
        if !self.power.is_running() {
            return Vec::new();
        }
        malware::live_families(&self.state, &self.infections)
    }

    /// Any live loader.
    pub fn is_infected(&self) -> bool {
        self.power.is_running()
            && self
                .infections
                .iter()
                .any(|i| malware::is_live(&self.state, i))
    }

    /// Ground truth for this host.
    pub fn presence(&self) -> malware::Presence {
        malware::present(&self.state, &self.infections)
    }

    /// The live infection that spreads, if any (the first one).
    pub(crate) fn spreader(&self) -> Option<usize> {
        if !self.power.is_running() {
            return None;
        }
        self.infections
            .iter()
            .position(|i| i.profile.spread && malware::is_live(&self.state, i))
    }
}
