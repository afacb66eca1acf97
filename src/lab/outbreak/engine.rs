//! The outbreak engine: advances a network of `NetHost`s through lab time,
//! deterministically from a seed. `step(hosts, now)` processes, in time
//! order, everything due up to `now`: spread attempts of infected hosts
//! (each every `spread_interval_secs` of its loader, jittered, to a few
//! random peers), boots of hosts that were down, WinRM coming back; then
//! brings every running host to `now` (`malware::tick`). `request_reboot`
//! is the shutdown sequence of one host.
//!
//! Cost: one pass over the hosts per step (to find new spreaders and power
//! changes made from outside) plus work per due event; a spread attempt
//! draws its peers at random, so a network of 10,000 hosts costs
//! O(hosts + attempts) per step, never O(hosts²).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::lab::malware;
use crate::lab::world::time::LabTime;

use super::event::{Event, EventKind};
use super::host::{NetHost, Power};
use super::lateral;

/// Knobs of the network dynamics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutbreakConfig {
    /// Lateral movement at all.
    pub spread_enabled: bool,
    /// Peers tried per spread attempt.
    pub peers_per_attempt: usize,
    /// EternalBlue is in the loaders' kit.
    pub ms17_010: bool,
}

impl Default for OutbreakConfig {
    fn default() -> Self {
        OutbreakConfig {
            spread_enabled: true,
            peers_per_attempt: 3,
            ms17_010: true,
        }
    }
}

/// Why a reboot could not be requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebootError {
    #[error("no host with index {0}")]
    NoSuchHost(usize),
    #[error("the host is not running ({0:?})")]
    NotRunning(Power),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Spread,
    Boot,
    WinRmUp,
}

/// Per-host bookkeeping of what is queued.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    spread: bool,
    power: bool,
}

/// The engine.
#[derive(Debug, Clone)]
pub struct Engine {
    rng: StdRng,
    pub config: OutbreakConfig,
    queue: BinaryHeap<Reverse<(LabTime, u64, usize, Due)>>,
    seq: u64,
    pending: Vec<Pending>,
    last: Option<LabTime>,
}

impl Engine {
    pub fn new(seed: u64, config: OutbreakConfig) -> Engine {
        Engine {
            rng: StdRng::seed_from_u64(seed),
            config,
            queue: BinaryHeap::new(),
            seq: 0,
            pending: Vec::new(),
            last: None,
        }
    }

    /// The engine's rng (for seeding infections deterministically).
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Infect `hosts[index]` with `profile` now (as its first logged-on
    /// user, SYSTEM if none), drawing names from the engine's rng.
    pub fn seed_infection(
        &mut self,
        hosts: &mut [NetHost],
        index: usize,
        profile: &malware::FamilyProfile,
        now: LabTime,
    ) {
        hosts[index].infect(profile, &mut self.rng, now);
    }

    fn push(&mut self, at: LabTime, host: usize, due: Due) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, host, due)));
    }

    /// Queue what the hosts need that is not queued yet: spread attempts
    /// of live spreaders (timed from when the loader arrived, never before
    /// `floor`), boots and WinRM returns.
    fn scan(&mut self, hosts: &[NetHost], floor: Option<LabTime>) {
        if self.pending.len() < hosts.len() {
            self.pending.resize(hosts.len(), Pending::default());
        }
        for (i, h) in hosts.iter().enumerate() {
            if !self.pending[i].power {
                let at = match h.power {
                    Power::Down { until: Some(t) } => Some((t, Due::Boot)),
                    Power::Booting { winrm_at } => Some((winrm_at, Due::WinRmUp)),
                    _ => None,
                };
                if let Some((t, due)) = at {
                    self.pending[i].power = true;
                    self.push(t, i, due);
                }
            }
            if self.config.spread_enabled
                && !self.pending[i].spread
                && !h.infections.is_empty()
                && let Some(k) = h.spreader()
            {
                // a loader seeded between steps starts its clock when it arrived
                let since = h.infections[k].infected_at;
                let base = match floor {
                    Some(f) => since.max(f),
                    None => since,
                };
                let interval = h.infections[k].profile.spread_interval_secs.max(1);
                let jitter = self.rng.gen_range(interval / 2..=interval + interval / 2);
                self.pending[i].spread = true;
                self.push(base.plus_secs(jitter as i64), i, Due::Spread);
            }
        }
    }

    /// Advance the network to `now`.
    pub fn step(&mut self, hosts: &mut [NetHost], now: LabTime) -> Vec<Event> {
        let mut events = Vec::new();
        self.scan(hosts, self.last);
        while let Some(Reverse((at, _, i, due))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            if i >= hosts.len() {
                continue;
            }
            match due {
                Due::Spread => {
                    self.pending[i].spread = false;
                    self.tick_host(hosts, i, at, &mut events);
                    self.spread_from(hosts, i, at, &mut events);
                }
                Due::Boot => {
                    self.pending[i].power = false;
                    if matches!(hosts[i].power, Power::Down { until: Some(t) } if t <= at) {
                        self.boot(hosts, i, at, &mut events);
                    }
                }
                Due::WinRmUp => {
                    self.pending[i].power = false;
                    if matches!(hosts[i].power, Power::Booting { winrm_at } if winrm_at <= at) {
                        hosts[i].power = Power::Up;
                        events.push(Event {
                            at,
                            kind: EventKind::WinRmUp { host: i },
                        });
                    }
                }
            }
            // newly live spreaders and power changes join the queue
            self.scan_one(hosts, i, at);
        }
        for i in 0..hosts.len() {
            self.tick_host(hosts, i, now, &mut events);
        }
        self.scan(hosts, Some(now));
        self.last = Some(now);
        events
    }

    /// `scan` for one host (after it changed).
    fn scan_one(&mut self, hosts: &[NetHost], i: usize, at: LabTime) {
        let h = &hosts[i];
        if self.config.spread_enabled
            && !self.pending[i].spread
            && let Some(k) = h.spreader()
        {
            let interval = h.infections[k].profile.spread_interval_secs.max(1);
            let jitter = self.rng.gen_range(interval / 2..=interval + interval / 2);
            self.pending[i].spread = true;
            self.push(at.plus_secs(jitter as i64), i, Due::Spread);
        }
    }

    fn tick_host(&mut self, hosts: &mut [NetHost], i: usize, at: LabTime, events: &mut Vec<Event>) {
        let h = &mut hosts[i];
        if !h.power.is_running() {
            return;
        }
        for e in malware::tick(&mut h.state, &mut h.infections, at, &mut self.rng) {
            events.push(Event {
                at,
                kind: EventKind::Malware { host: i, event: e },
            });
        }
    }

    fn spread_from(
        &mut self,
        hosts: &mut [NetHost],
        i: usize,
        at: LabTime,
        events: &mut Vec<Event>,
    ) {
        if !self.config.spread_enabled {
            return;
        }
        let Some(k) = hosts[i].spreader() else {
            return;
        };
        let n = hosts.len();
        if n < 2 {
            return;
        }
        for _ in 0..self.config.peers_per_attempt {
            let mut j = self.rng.gen_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            if let Some(kind) =
                lateral::attempt(hosts, i, j, k, self.config.ms17_010, at, &mut self.rng)
            {
                let spread = matches!(kind, EventKind::Spread { .. });
                events.push(Event { at, kind });
                if spread {
                    self.scan_one(hosts, j, at);
                }
            }
        }
    }

    /// Try one spread from `from` to `to` now (tests, scripted scenarios):
    /// the same rules as a periodic attempt. None when `from` has no live
    /// spreading loader or `to` already runs that family.
    pub fn attempt_spread(
        &mut self,
        hosts: &mut [NetHost],
        from: usize,
        to: usize,
        now: LabTime,
    ) -> Option<Event> {
        if self.pending.len() < hosts.len() {
            self.pending.resize(hosts.len(), Pending::default());
        }
        let k = hosts.get(from)?.spreader()?;
        if to >= hosts.len() {
            return None;
        }
        let kind = lateral::attempt(hosts, from, to, k, self.config.ms17_010, now, &mut self.rng)?;
        if matches!(kind, EventKind::Spread { .. }) {
            self.scan_one(hosts, to, now);
        }
        Some(Event { at: now, kind })
    }

    /// Reboot `hosts[index]` at `now`: the loaders' shutdown hook runs
    /// (Qakbot writes its DLL and Run value), everything stops, the host is
    /// off for `reboot_down_secs` (connections refused), then boots
    /// (pending-rename queue first, then services; the users who were
    /// logged on log on again; `malware::on_boot` starts whatever
    /// persistence is left) and answers WinRM `winrm_delay_secs` later.
    /// With `reboot_hangs` it stays `Hung`; with `reboot_fails` nothing
    /// happens at all but the `RebootFailed` event.
    pub fn request_reboot(
        &mut self,
        hosts: &mut [NetHost],
        index: usize,
        now: LabTime,
    ) -> Result<Vec<Event>, RebootError> {
        if self.pending.len() < hosts.len() {
            self.pending.resize(hosts.len(), Pending::default());
        }
        let h = hosts.get_mut(index).ok_or(RebootError::NoSuchHost(index))?;
        if !h.power.is_running() {
            return Err(RebootError::NotRunning(h.power));
        }
        if h.reboot_fails {
            return Ok(vec![Event {
                at: now,
                kind: EventKind::RebootFailed { host: index },
            }]);
        }
        let mut events = Vec::new();
        for e in malware::tick(&mut h.state, &mut h.infections, now, &mut self.rng) {
            events.push(Event {
                at: now,
                kind: EventKind::Malware {
                    host: index,
                    event: e,
                },
            });
        }
        events.push(Event {
            at: now,
            kind: EventKind::ShuttingDown { host: index },
        });
        for e in malware::on_shutdown(&mut h.state, &mut h.infections, now) {
            events.push(Event {
                at: now,
                kind: EventKind::Malware {
                    host: index,
                    event: e,
                },
            });
        }
        h.relogon = if h.relogon_after_boot {
            h.state.logged_on_users().map(|p| p.sid.clone()).collect()
        } else {
            Vec::new()
        };
        h.state.shutdown();
        if h.reboot_hangs {
            h.power = Power::Hung;
            events.push(Event {
                at: now,
                kind: EventKind::Hung { host: index },
            });
            return Ok(events);
        }
        let until = now.plus_secs(h.reboot_down_secs as i64);
        h.power = Power::Down { until: Some(until) };
        self.pending[index].power = true;
        self.push(until, index, Due::Boot);
        Ok(events)
    }

    /// Power a host that is off or hung back on: it boots after
    /// `reboot_down_secs`.
    pub fn power_on(
        &mut self,
        hosts: &mut [NetHost],
        index: usize,
        now: LabTime,
    ) -> Result<(), RebootError> {
        if self.pending.len() < hosts.len() {
            self.pending.resize(hosts.len(), Pending::default());
        }
        let h = hosts.get_mut(index).ok_or(RebootError::NoSuchHost(index))?;
        if h.power.is_running() {
            return Ok(());
        }
        let until = now.plus_secs(h.reboot_down_secs as i64);
        h.power = Power::Down { until: Some(until) };
        self.pending[index].power = true;
        self.push(until, index, Due::Boot);
        Ok(())
    }

    fn boot(&mut self, hosts: &mut [NetHost], i: usize, at: LabTime, events: &mut Vec<Event>) {
        let h = &mut hosts[i];
        let rep = h.state.boot(at);
        events.push(Event {
            at,
            kind: EventKind::Booted {
                host: i,
                renames: rep.renames,
                boot_count: h.state.boot_count,
            },
        });
        for sid in std::mem::take(&mut h.relogon) {
            let _ = h.state.logon(&sid, at);
        }
        for e in malware::on_boot(&mut h.state, &mut h.infections, at, &mut self.rng) {
            events.push(Event {
                at,
                kind: EventKind::Malware { host: i, event: e },
            });
        }
        let winrm_at = at.plus_secs(h.winrm_delay_secs as i64);
        h.power = Power::Booting { winrm_at };
        self.pending[i].power = true;
        self.push(winrm_at, i, Due::WinRmUp);
    }

    /// Hosts with a live loader.
    pub fn infected_count(hosts: &[NetHost]) -> usize {
        hosts.iter().filter(|h| h.is_infected()).count()
    }
}
