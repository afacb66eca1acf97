//! The network without WinRM: deferred building, ground truth, census,
//! power published to the accept loops, reboots through the engine,
//! shutdowns that commands schedule.

use super::*;
use crate::lab::emulate::power::{PowerAction, Shutdown};
use crate::lab::malware::{Family, FamilyProfile};
use crate::lab::outbreak::smb;
use crate::lab::scenario;
use crate::lab::spec::LabSettings;
use std::net::Ipv4Addr;

fn plain(n: u32) -> (LabSpec, WorldSpec) {
    let spec = scenario::simple(n, Ipv4Addr::new(127, 78, 0, 1), 5985);
    let world = WorldSpec::derived(
        &spec,
        LabSettings {
            speed: 3600.0,
            ..LabSettings::default()
        },
    );
    (spec, world)
}

#[test]
fn a_plain_lab_builds_hosts_on_first_use_as_at_the_start() {
    let (spec, world) = plain(3);
    let net = Network::build(&spec, &world);
    assert_eq!(net.lock().deferred_left, 3);
    let eager = build::host_state(&spec.hosts[1], &world.hosts[1], &world.lab, world.lab.start);
    let profiles = net.with_host(1, |state, _| state.profiles.len());
    assert_eq!(profiles, eager.profiles.len());
    assert_eq!(net.lock().deferred_left, 2);
    let t = net.truth(1);
    assert_eq!(
        (t.boot_time, t.boot_count),
        (eager.boot_time, eager.boot_count)
    );
    assert!(t.clean() && !t.infected() && !t.smb_blocked);
    let c = net.census();
    assert_eq!(
        (c.hosts, c.clean, c.infected, c.contained, c.down),
        (3, 3, 0, 0, 0)
    );
    // Arranging everything builds everything.
    net.with_all(|h, _| {
        h.hosts
            .iter_mut()
            .for_each(|h| smb::block_smb(&mut h.state, "Block", &[]))
    });
    assert_eq!(net.lock().deferred_left, 0);
    assert_eq!(net.census().contained, 3);
}

#[test]
fn an_infected_lab_is_built_at_once_and_reboots_go_through_the_engine() {
    let (spec, mut world) = plain(3);
    world.hosts[0]
        .infections
        .push(FamilyProfile::documented(Family::Emotet).without_spread());
    world.hosts[2].reboot_hangs = true;
    let net = Network::build(&spec, &world);
    assert_eq!(net.lock().deferred_left, 0);
    let t = net.truth(0);
    assert_eq!(t.live_families, vec![Family::Emotet]);
    assert!(!t.persistence.is_empty() && !t.loader_processes.is_empty());
    assert_eq!(net.census().infected, 1);
    let mut watch = net.power(1);
    assert!(watch.borrow_and_update().up);
    net.request_reboot(1).expect("reboots");
    assert!(watch.has_changed().unwrap_or(false));
    assert_eq!(
        *watch.borrow_and_update(),
        PowerSignal {
            up: false,
            shutdowns: 1
        }
    );
    assert!(!net.is_up(1));
    net.request_reboot(2).expect("reboots");
    assert_eq!(net.truth(2).power, Power::Hung);
    assert_eq!(net.census().down, 2);
}

#[test]
fn hosts_off_at_start_are_down_until_their_time() {
    let (mut spec, mut world) = plain(2);
    spec.hosts[0].fault = HostFault::Down;
    world.hosts[1].online_after_secs = Some(3600);
    let net = Network::build(&spec, &world);
    assert_eq!(net.truth(0).power, Power::Down { until: None });
    assert_eq!(
        net.truth(1).power,
        Power::Down {
            until: Some(world.lab.start.plus_secs(3600))
        }
    );
    assert!(!net.is_up(0) && !net.is_up(1));
}

fn schedule(net: &Network, index: usize, action: PowerAction, delay_secs: i64) {
    net.with_host_power(index, |_, shutdown, now| {
        *shutdown = Some(Shutdown {
            at: now.plus_secs(delay_secs),
            action,
            comment: String::new(),
        });
    });
}

#[test]
fn scheduled_shutdowns_happen_at_a_step_once_lab_time_reaches_them() {
    let (spec, mut world) = plain(4);
    world.hosts[3].reboot_hangs = true;
    let net = Network::build(&spec, &world);
    let boots = net.truth(0).boot_count;
    // Ten lab days away: not at this step.
    schedule(&net, 0, PowerAction::Restart, 864_000);
    assert!(net.next_shutdown().is_some());
    net.step();
    assert!(net.is_up(0) && net.truth(0).scheduled_shutdown.is_some());
    // A command changes it to now (as `shutdown /a` then `/r /t 0` would).
    schedule(&net, 0, PowerAction::Restart, 0);
    schedule(&net, 1, PowerAction::PowerOff, 0);
    schedule(&net, 3, PowerAction::Restart, 0);
    let events = net.step();
    let shut: Vec<usize> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ShuttingDown { host } => Some(host),
            _ => None,
        })
        .collect();
    assert_eq!(shut, vec![0, 1, 3]);
    assert_eq!(
        net.truth(3).power,
        Power::Hung,
        "a host whose reboots hang hangs"
    );
    assert_eq!(net.next_shutdown(), None);
    assert_eq!(
        *net.power(0).borrow(),
        PowerSignal {
            up: false,
            shutdowns: 1
        }
    );
    assert_eq!(net.truth(0).scheduled_shutdown, None);
    assert_eq!(
        net.truth(1).power,
        Power::Down { until: None },
        "a power-off stays off"
    );
    assert!(net.is_up(2));
    // The restart boots after its down time (90 lab s, 30 more for WinRM).
    net.with_all(|h, now| {
        let later = now.plus_secs(600);
        h.engine.step(&mut h.hosts, later);
    });
    let t = net.truth(0);
    assert_eq!((t.power, t.boot_count), (Power::Up, boots + 1));
    assert_eq!(net.truth(1).power, Power::Down { until: None });
    assert_eq!(net.truth(3).power, Power::Hung);
}

#[test]
fn the_ground_truth_lists_who_reached_whom_in_time_order() {
    let (spec, mut world) = plain(3);
    world.hosts[0]
        .infections
        .push(FamilyProfile::documented(Family::TrickBot));
    let net = Network::build(&spec, &world);
    assert!(net.reached().is_empty());
    let t0 = net.now();
    net.with_all(|h, _| {
        for host in &mut h.hosts {
            host.state.local_admin_password = "Shared1!".into();
            smb::open_smb(&mut host.state);
        }
        assert!(h.engine.attempt_spread(&mut h.hosts, 1, 2, t0).is_none(), "host 1 is clean yet");
        let a = h.engine.attempt_spread(&mut h.hosts, 0, 1, t0.plus_secs(60));
        let b = h.engine.attempt_spread(&mut h.hosts, 1, 2, t0.plus_secs(120));
        assert!(a.is_some() && b.is_some());
    });
    let names: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
    let r = net.reached();
    let links: Vec<_> = r.iter().map(|x| (x.from.as_str(), x.to.as_str(), x.family, x.at)).collect();
    assert_eq!(
        links,
        [
            (names[0].as_str(), names[1].as_str(), Family::TrickBot, t0.plus_secs(60)),
            (names[1].as_str(), names[2].as_str(), Family::TrickBot, t0.plus_secs(120)),
        ]
    );
    assert!(r.iter().all(|x| x.vector == crate::lab::malware::Vector::SharedLocalAdmin));
    // the second hop is in host 2's Security log, from host 1's address
    let from1 = spec.hosts[1].address.to_string();
    let logged = net.with_host(2, |s, _| {
        s.event_logs
            .log(crate::lab::world::eventlog::LogName::Security)
            .records()
            .any(|e| e.event_id == 4624 && e.property("IpAddress") == Some(from1.as_str()))
    });
    assert!(logged);
}

#[test]
fn task_history_is_on_only_where_the_world_turns_it_on() {
    use crate::lab::world::eventlog::LogName;
    let (spec, mut world) = plain(2);
    world.hosts[1].task_history = true;
    let net = Network::build(&spec, &world);
    let on = |i| net.with_host(i, |s, _| s.event_logs.log(LogName::TaskSchedulerOperational).enabled);
    assert!(!on(0) && on(1));
}
