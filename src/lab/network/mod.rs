//! The simulated network behind a running lab: every host's Windows state
//! ([`HostState`]), its power, and the lab clock, shared by the WinRM
//! endpoint (which runs commands on a host's state), the outbreak (which
//! steps every host) and tests (which read ground truth and arrange state).
//!
//! One mutex guards all hosts: the outbreak steps them together, and a
//! command touches one host for the time it runs. Nothing else takes it:
//! WinRM requests that run no command (authentication, shells, Receive)
//! never do, and whether a host is up (and how many times it has shut
//! down) is published per host on a watch channel ([`Network::power`])
//! that the accept loops read without locking.
//!
//! - [`clock`]: lab time from wall time and a speed.
//! - [`build`]: a host's clean install from its specs.
//! - [`runner`]: the task that steps the outbreak as lab time passes.
//! - [`shutdowns`]: restarts and power-offs that commands scheduled.
//! - [`scheduled`]: the Task Scheduler's PowerShell actions, run through
//!   the lab's PowerShell engine when their trigger fires.
//! - [`truth`]: ground truth for tests.
//! - [`history`]: every host's reboots and boots, ground truth for tests.

pub mod build;
pub mod clock;
pub mod history;
pub mod runner;
pub mod scheduled;
pub mod shutdowns;
pub mod truth;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

use super::emulate::power::{PowerAction, Shutdown};
use super::outbreak::{Engine, Event, EventKind, NetHost, OutbreakConfig, Power, RebootError};
use super::spec::{HostFault, LabSpec, WorldSpec};
use super::world::{HostState, LabTime};
pub use clock::LabClock;
use shutdowns::{Alarm, Schedule};
pub use truth::{HostTruth, InfectionRecord};

/// Everything the network lock guards: the hosts and the engine that
/// steps them.
#[derive(Debug)]
pub struct Hosts {
    pub hosts: Vec<NetHost>,
    pub engine: Engine,
    /// Hosts still stand-ins, to be built on first use.
    deferred: Vec<bool>,
    /// How many are.
    deferred_left: usize,
    /// Shutdowns commands scheduled.
    schedule: Schedule,
    /// Per host: shutdowns so far (published with power, so that an
    /// accept loop sees a reboot that began and ended within one step).
    shutdowns: Vec<u32>,
    /// Lab time the engine was last stepped to.
    stepped_to: LabTime,
    /// Every power change so far (reboots, boots, WinRM back), in the
    /// order they were reported.
    power_history: Vec<history::PowerRecord>,
}

/// What the accept loops follow of a host's power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerSignal {
    /// WinRM answers.
    pub up: bool,
    /// Shutdowns so far: a change means every connection and shell of
    /// the host is gone.
    pub shutdowns: u32,
}

/// Counts over the network at one lab time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    pub now: LabTime,
    pub hosts: usize,
    /// A loader runs on it.
    pub infected: usize,
    /// Nothing of any loader on it.
    pub clean: usize,
    /// Its firewall blocks SMB in and out.
    pub contained: usize,
    /// Not answering WinRM (off, booting, hung).
    pub down: usize,
}

/// The shared network.
pub struct Network {
    clock: LabClock,
    /// What deferred hosts are built from.
    specs: LabSpec,
    worlds: WorldSpec,
    inner: Mutex<Hosts>,
    /// Per host: whether WinRM answers, and its shutdowns so far.
    power: Vec<watch::Sender<PowerSignal>>,
    by_name: HashMap<String, usize>,
    /// When the next scheduled shutdown is due.
    alarm: Alarm,
}

impl Network {
    /// Build every host's state from the specs, plant the scenario's
    /// infections (deterministically from the lab seed), set power (a
    /// `HostFault::Down` host stays off, one with `online_after_secs`
    /// boots then), and start the clock.
    pub fn build(spec: &LabSpec, world: &WorldSpec) -> Network {
        let start = world.lab.start;
        let infected = world.hosts.iter().any(|w| !w.infections.is_empty());
        let deferred: Vec<bool> = spec
            .hosts
            .iter()
            .zip(&world.hosts)
            .map(|(s, w)| build::deferrable(s, w, infected))
            .collect();
        let deferred_left = deferred.iter().filter(|d| **d).count();
        let states = build::host_states(&spec.hosts, &world.hosts, &world.lab, &deferred);
        let mut hosts: Vec<NetHost> = states
            .into_iter()
            .zip(&world.hosts)
            .map(|(state, w)| build::net_host(state, w))
            .collect();
        let mut engine = Engine::new(world.lab.seed, OutbreakConfig::default());
        for (i, w) in world.hosts.iter().enumerate() {
            for profile in &w.infections {
                engine.seed_infection(&mut hosts, i, profile, start);
            }
        }
        for ((h, s), w) in hosts.iter_mut().zip(&spec.hosts).zip(&world.hosts) {
            build::power_off_at_start(h, s, w, start);
        }
        let power = hosts
            .iter()
            .map(|h| {
                watch::Sender::new(PowerSignal {
                    up: h.power.accepts_winrm(),
                    shutdowns: 0,
                })
            })
            .collect();
        let count = hosts.len();
        let by_name = spec
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.name.to_lowercase(), i))
            .collect();
        Network {
            clock: LabClock::new(start, world.lab.speed),
            inner: Mutex::new(Hosts {
                hosts,
                engine,
                deferred,
                deferred_left,
                schedule: Schedule::default(),
                shutdowns: vec![0; count],
                stepped_to: start,
                power_history: Vec::new(),
            }),
            specs: spec.clone(),
            worlds: world.clone(),
            power,
            by_name,
            alarm: Alarm::default(),
        }
    }

    pub fn clock(&self) -> &LabClock {
        &self.clock
    }

    /// Lab time now.
    pub fn now(&self) -> LabTime {
        self.clock.now()
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.power.len()
    }

    pub fn is_empty(&self) -> bool {
        self.power.is_empty()
    }

    /// The index of the host named `name` (case-insensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_lowercase()).copied()
    }

    /// Whether host `index` answers WinRM and how often it has shut down,
    /// as a watch the accept loop follows.
    pub fn power(&self, index: usize) -> watch::Receiver<PowerSignal> {
        self.power[index].subscribe()
    }

    /// Whether host `index` answers WinRM now.
    pub fn is_up(&self, index: usize) -> bool {
        self.power[index].borrow().up
    }

    /// Run `f` on host `index`'s Windows state at lab time now, under the
    /// lock.
    pub fn with_host<R>(&self, index: usize, f: impl FnOnce(&mut HostState, LabTime) -> R) -> R {
        let now = self.now();
        let mut hosts = self.lock();
        self.materialize(&mut hosts, index);
        f(&mut hosts.hosts[index].state, now)
    }

    /// Run `f` on host `index`'s Windows state and the shutdown scheduled
    /// on it (a command may schedule or abort one) at lab time now, under
    /// the lock. A shutdown scheduled here is carried out by a later
    /// [`step`](Self::step), when lab time reaches it.
    pub fn with_host_power<R>(
        &self,
        index: usize,
        f: impl FnOnce(&mut HostState, &mut Option<Shutdown>, LabTime) -> R,
    ) -> R {
        let now = self.now();
        let mut hosts = self.lock();
        self.materialize(&mut hosts, index);
        let h = &mut *hosts;
        let mut shutdown = h.schedule.take(index);
        let r = f(&mut h.hosts[index].state, &mut shutdown, now);
        if let Some(s) = &shutdown {
            self.alarm.set(s.at);
        }
        h.schedule.put(index, shutdown);
        r
    }

    /// Run `f` on the whole network under the lock, then publish power
    /// changes to the accept loops.
    pub fn with_all<R>(&self, f: impl FnOnce(&mut Hosts, LabTime) -> R) -> R {
        let now = self.now();
        let mut hosts = self.lock();
        for i in 0..hosts.hosts.len() {
            self.materialize(&mut hosts, i);
        }
        let r = f(&mut hosts, now);
        self.publish_power(&hosts);
        r
    }

    /// Advance the outbreak to lab time now, carrying out the scheduled
    /// shutdowns that are due at their own times on the way. Hosts not
    /// built yet stay stand-ins: nothing can reach them (no loader runs in
    /// the lab unless one was planted through [`with_all`](Self::with_all),
    /// which builds them all).
    pub fn step(&self) -> Vec<Event> {
        let now = self.now();
        let mut guard = self.lock();
        let h = &mut *guard;
        let mut events = Vec::new();
        for (index, shutdown) in h.schedule.take_due(now) {
            let at = shutdown.at.max(h.stepped_to);
            events.extend(h.engine.step(&mut h.hosts, at));
            self.run_task_scripts(h);
            h.stepped_to = at;
            events.extend(shut_down(h, index, shutdown.action, at));
        }
        events.extend(h.engine.step(&mut h.hosts, now));
        self.run_task_scripts(h);
        h.stepped_to = h.stepped_to.max(now);
        self.alarm.reset(h.schedule.next());
        count_shutdowns(h, &events);
        self.publish_power(h);
        events
    }

    /// Run the PowerShell actions the Task Scheduler started on any host
    /// in the step just taken ([`scheduled`]); one may schedule or abort a
    /// shutdown, as a command does.
    fn run_task_scripts(&self, h: &mut Hosts) {
        for i in 0..h.hosts.len() {
            if !h.hosts[i].state.tasks.has_started() {
                continue;
            }
            let mut shutdown = h.schedule.take(i);
            scheduled::run_started(&self.specs.hosts[i], &mut h.hosts[i].state, &mut shutdown);
            if let Some(s) = &shutdown {
                self.alarm.set(s.at);
            }
            h.schedule.put(i, shutdown);
        }
    }

    /// Reboot host `index` now (its loaders' shutdown hooks run, it is off
    /// for its reboot time, then boots; or it hangs). A shutdown scheduled
    /// on it is gone with the reboot.
    pub fn request_reboot(&self, index: usize) -> Result<Vec<Event>, RebootError> {
        let now = self.now();
        let mut h = self.lock();
        if index < h.hosts.len() {
            self.materialize(&mut h, index);
        }
        let h = &mut *h;
        let r = h.engine.request_reboot(&mut h.hosts, index, now);
        if let Ok(events) = &r {
            h.schedule.put(index, None);
            count_shutdowns(h, events);
        }
        self.publish_power(h);
        r
    }

    /// Press host `index`'s power button: a host that is off (down at the
    /// start, a laptop whose lid was closed) boots after its reboot time;
    /// one that runs is left alone.
    pub fn power_on(&self, index: usize) -> Result<(), RebootError> {
        let now = self.now();
        let mut h = self.lock();
        if index < h.hosts.len() {
            self.materialize(&mut h, index);
        }
        let h = &mut *h;
        let r = h.engine.power_on(&mut h.hosts, index, now);
        self.publish_power(h);
        r
    }

    /// When the next scheduled shutdown is due (None: none is).
    pub fn next_shutdown(&self) -> Option<LabTime> {
        self.alarm.next()
    }

    /// Resolves when a shutdown earlier than [`next_shutdown`] was
    /// scheduled since the last call.
    ///
    /// [`next_shutdown`]: Self::next_shutdown
    pub async fn shutdown_scheduled(&self) {
        self.alarm.rung().await
    }

    /// Build host `index` if it is still a stand-in (as it would have been
    /// at the start).
    fn materialize(&self, hosts: &mut Hosts, index: usize) {
        if hosts.deferred_left == 0 || !hosts.deferred[index] {
            return;
        }
        let (spec, world) = (&self.specs.hosts[index], &self.worlds.hosts[index]);
        let mut state = build::host_state(spec, world, &self.worlds.lab, self.clock.start());
        build::network_settings(&mut state, world);
        hosts.hosts[index].state = state;
        hosts.deferred[index] = false;
        hosts.deferred_left -= 1;
    }

    /// Counts over all hosts now.
    pub fn census(&self) -> Census {
        let now = self.now();
        let hosts = self.lock();
        let mut c = Census {
            now,
            hosts: hosts.hosts.len(),
            ..Census::default()
        };
        for (i, h) in hosts.hosts.iter().enumerate() {
            if !h.power.accepts_winrm() {
                c.down += 1;
            }
            if hosts.deferred[i] {
                // Not built yet: a clean install, SMB not blocked.
                c.clean += 1;
                continue;
            }
            if h.is_infected() {
                c.infected += 1;
            } else if h.infections.is_empty() || h.presence().is_clean() {
                c.clean += 1;
            }
            if truth::smb_blocked(&h.state) {
                c.contained += 1;
            }
        }
        c
    }

    /// Ground truth about host `index`.
    pub fn truth(&self, index: usize) -> HostTruth {
        let now = self.now();
        let mut hosts = self.lock();
        self.materialize(&mut hosts, index);
        truth::of(&hosts.hosts[index], hosts.schedule.get(index), now)
    }

    /// Every host's power changes so far (reboots begun, boots, WinRM
    /// back, hangs, reboots that never started), by host name, in the
    /// order they happened.
    pub fn power_history(&self) -> Vec<(LabTime, String, history::PowerChange)> {
        self.lock()
            .power_history
            .iter()
            .map(|r| (r.at, self.specs.hosts[r.host].name.clone(), r.change))
            .collect()
    }

    /// Who reached whom so far: every spread, in time order. Hosts not
    /// built yet have no infections, so nothing is built for this.
    pub fn reached(&self) -> Vec<truth::Reach> {
        truth::reached(&self.lock().hosts)
    }

    /// Tell the accept loops which hosts answer WinRM and which shut down
    /// (only changes are sent).
    fn publish_power(&self, hosts: &Hosts) {
        for ((tx, h), &shutdowns) in self.power.iter().zip(&hosts.hosts).zip(&hosts.shutdowns) {
            let now = PowerSignal {
                up: h.power.accepts_winrm(),
                shutdowns,
            };
            tx.send_if_modified(|signal| {
                let changed = *signal != now;
                *signal = now;
                changed
            });
        }
    }

    fn lock(&self) -> MutexGuard<'_, Hosts> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Carry out a scheduled shutdown of host `index` at `at`: the engine's
/// reboot (shutdown hooks, down time, boot), and for a power-off the host
/// then stays off. A host that is not running by then has nothing to shut
/// down.
fn shut_down(h: &mut Hosts, index: usize, action: PowerAction, at: LabTime) -> Vec<Event> {
    let Ok(events) = h.engine.request_reboot(&mut h.hosts, index, at) else {
        return Vec::new();
    };
    if action == PowerAction::PowerOff {
        h.hosts[index].power = Power::Down { until: None };
    }
    events
}

/// Count the shutdowns among `events` per host, and keep their power
/// changes in the history.
fn count_shutdowns(h: &mut Hosts, events: &[Event]) {
    h.power_history.extend(history::records(events));
    for e in events {
        if let EventKind::ShuttingDown { host } = e.kind
            && let Some(n) = h.shutdowns.get_mut(host)
        {
            *n = n.wrapping_add(1);
        }
    }
}

/// Power a spec gives a host at the start.
pub fn initial_power(fault: HostFault, online_after_secs: Option<u64>, start: LabTime) -> Power {
    match (fault, online_after_secs) {
        (_, Some(secs)) => Power::Down {
            until: Some(start.plus_secs(secs as i64)),
        },
        (HostFault::Down, None) => Power::Down { until: None },
        _ => Power::Up,
    }
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("hosts", &self.len())
            .field("clock", &self.clock)
            .finish()
    }
}

/// One host of a shared network: what the WinRM endpoint holds to run
/// commands on the host's state and to follow its power.
#[derive(Debug, Clone)]
pub struct HostRef {
    pub network: std::sync::Arc<Network>,
    pub index: usize,
}

impl HostRef {
    /// A network of this one host alone (unit tests of the endpoint).
    pub fn standalone(host: &super::spec::HostSpec) -> HostRef {
        let spec = LabSpec {
            hosts: vec![host.clone()],
        };
        let world = WorldSpec::derived(&spec, Default::default());
        HostRef {
            network: std::sync::Arc::new(Network::build(&spec, &world)),
            index: 0,
        }
    }

    /// Run `f` on the host's state at lab time now.
    pub fn with<R>(&self, f: impl FnOnce(&mut HostState, LabTime) -> R) -> R {
        self.network.with_host(self.index, f)
    }

    /// Run `f` on the host's state and its scheduled shutdown at lab time
    /// now (see [`Network::with_host_power`]).
    pub fn with_power<R>(
        &self,
        f: impl FnOnce(&mut HostState, &mut Option<Shutdown>, LabTime) -> R,
    ) -> R {
        self.network.with_host_power(self.index, f)
    }

    /// Whether the host answers WinRM and its shutdowns so far, as a watch.
    pub fn power(&self) -> watch::Receiver<PowerSignal> {
        self.network.power(self.index)
    }

    /// Reboot the host now (what a WinRM-level reboot request does).
    pub fn request_reboot(&self) -> Result<Vec<Event>, RebootError> {
        self.network.request_reboot(self.index)
    }
}
