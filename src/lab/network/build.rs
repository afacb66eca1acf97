//! Building the network's hosts: each host's clean install
//! (`HostState::baseline`) from its WinRM-level spec and its world spec,
//! then the look-alike products the scenario installs. Hosts are built on
//! all cores; each is deterministic in the lab seed and its name, so the
//! result does not depend on the thread count. In a lab where nothing is
//! infected, hosts are built on first use ([`deferrable`]), so a large
//! plain lab costs little until it is used.

use crate::lab::outbreak::{NetHost, smb};
use crate::lab::spec::{HostSpec, HostWorld, LabSettings};
use crate::lab::world::eventlog::LogName;
use crate::lab::world::{BaselineSpec, HostState, LabTime, benign};

/// One host's clean state as its specs describe, observed at `now`.
pub fn host_state(
    spec: &HostSpec,
    world: &HostWorld,
    lab: &LabSettings,
    now: LabTime,
) -> HostState {
    let mut b = BaselineSpec::new(
        &spec.name,
        spec.os.to_world(world.arch),
        world.role,
        world.users.clone(),
    );
    b.domain = spec.domain.clone();
    b.address = spec.address;
    b.local_admin_password = world.local_admin_password.clone();
    b.ms17_010_patched = world.ms17_010_patched;
    b.seed = lab.seed;
    b.now = now;
    let mut state = HostState::baseline(&b);
    install_benign(&mut state, world, now);
    state
}

/// Install the look-alike products: per-user ones for every profile.
fn install_benign(state: &mut HostState, world: &HostWorld, now: LabTime) {
    let sids: Vec<String> = state.profiles.iter().map(|p| p.sid.clone()).collect();
    for &product in &world.benign {
        if product.per_user() {
            for sid in &sids {
                if let Err(e) = benign::place(state, product, Some(sid), now) {
                    tracing::debug!(host = %state.name, ?product, error = %e, "look-alike not installed");
                }
            }
        } else if let Err(e) = benign::place(state, product, None, now) {
            tracing::debug!(host = %state.name, ?product, error = %e, "look-alike not installed");
        }
    }
}

/// Whether a host may be built on first use rather than at start: nothing
/// in the lab is infected (so nothing can reach it before it is used) and
/// it is up at start. Its state is then built exactly as at start.
pub fn deferrable(spec: &HostSpec, world: &HostWorld, lab_infected: bool) -> bool {
    !lab_infected
        && world.online_after_secs.is_none()
        && spec.fault != crate::lab::spec::HostFault::Down
}

/// A stand-in for a deferred host: its identity only.
pub fn stand_in(spec: &HostSpec, world: &HostWorld, now: LabTime) -> HostState {
    HostState::empty(
        &spec.name,
        &spec.domain,
        spec.address,
        world.role,
        spec.os.to_world(world.arch),
        now,
    )
}

/// Every host's state, in order, built on all cores (stand-ins where
/// `defer` says so).
pub fn host_states(
    specs: &[HostSpec],
    worlds: &[HostWorld],
    lab: &LabSettings,
    defer: &[bool],
) -> Vec<HostState> {
    let n = specs.len().min(worlds.len());
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 16);
    let chunk = n.div_ceil(threads).max(1);
    let now = lab.start;
    let mut out: Vec<HostState> = Vec::with_capacity(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs[..n]
            .chunks(chunk)
            .zip(worlds[..n].chunks(chunk))
            .zip(defer[..n].chunks(chunk))
            .map(|((s, w), d)| {
                scope.spawn(move || {
                    s.iter()
                        .zip(w)
                        .zip(d)
                        .map(|((s, w), &d)| {
                            if d {
                                stand_in(s, w, now)
                            } else {
                                host_state(s, w, lab, now)
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    out
}

/// Network-level settings of the host's own state (SMB open inbound) and
/// the logs an administrator turned on (Task Scheduler history).
pub fn network_settings(state: &mut HostState, world: &HostWorld) {
    if world.smb_open {
        smb::open_smb(state);
    }
    state
        .event_logs
        .log_mut(LogName::TaskSchedulerOperational)
        .enabled = world.task_history;
}

/// The network's view of a built host (up; see [`power_off_at_start`]):
/// reboot behaviour, SMB exposure, credentials to harvest.
pub fn net_host(mut state: HostState, world: &HostWorld) -> NetHost {
    network_settings(&mut state, world);
    let mut h = NetHost::new(state);
    h.reboot_down_secs = world.reboot_down_secs;
    h.winrm_delay_secs = world.winrm_delay_secs;
    h.reboot_hangs = world.reboot_hangs;
    h.reboot_fails = world.reboot_fails;
    h.harvested_domain_creds = world.domain_admin_logged_on;
    h
}

/// Give `h` the power its spec says it has at `start`; a host that is off
/// is shut down (its logged-on users log on again when it boots).
pub fn power_off_at_start(h: &mut NetHost, spec: &HostSpec, world: &HostWorld, start: LabTime) {
    h.power = super::initial_power(spec.fault, world.online_after_secs, start);
    if !h.power.is_running() {
        h.relogon = h.state.logged_on_users().map(|p| p.sid.clone()).collect();
        h.state.shutdown();
    }
}
