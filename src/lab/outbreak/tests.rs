//! Tests of the outbreak engine: lateral movement that both firewalls
//! decide, the three ways in, reboots with their shutdown hooks and the
//! rename queue, and a whole network over lab time.

use std::net::Ipv4Addr;
use std::time::Instant;

use super::*;
use crate::lab::malware::{
    self, Artifact, ArtifactRef, ArtifactRole, Delivery, Family, FamilyProfile, MalwareEvent,
    Origin, Vector,
};
use crate::lab::world::baseline::{BaselineSpec, UserSpec};
use crate::lab::world::firewall::Direction;
use crate::lab::world::host::HostState;
use crate::lab::world::netaddr::Ipv4Range;
use crate::lab::world::os::{Os, Role};
use crate::lab::world::pending::PendingOp;
use crate::lab::world::time::LabTime;

const T0: LabTime = LabTime::EPOCH;

fn addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// A baseline workstation (alice logged on) at `addr(i)`.
fn ws(i: usize, password: &str, smb_open: bool, patched: bool, role: Role) -> NetHost {
    let mut s = BaselineSpec::new(
        &format!("WS-{i:05}"),
        Os::win10_22h2(),
        role,
        vec![UserSpec::domain("alice", true)],
    );
    s.address = addr(i);
    s.local_admin_password = password.into();
    s.ms17_010_patched = patched;
    s.seed = i as u64;
    s.now = T0;
    let mut st = HostState::baseline(&s);
    if smb_open {
        smb::open_smb(&mut st);
    }
    NetHost::new(st)
}

fn emotet() -> FamilyProfile {
    FamilyProfile::documented(Family::Emotet)
}

fn kind(e: Option<Event>) -> EventKind {
    e.expect("an event").kind
}

/// `k` is a spread stopped by `by`'s firewall; `rule`: by a block rule
/// (true) or the default policy (false), None: either. `why` names the case.
fn assert_blocked(k: &EventKind, by: Side, rule: Option<bool>, why: &str) {
    match k {
        EventKind::SpreadBlocked { by: b, rule: r, .. } => {
            assert_eq!(*b, by, "{why}: {k:?}");
            if let Some(want) = rule {
                assert_eq!(r.is_some(), want, "{why}: {k:?}");
            }
        }
        _ => panic!("{why}: not blocked: {k:?}"),
    }
}

#[test]
fn spread_happens_with_smb_open_and_stops_when_either_side_blocks_it() {
    let net = || {
        vec![
            ws(0, "Shared1!", true, true, Role::Workstation),
            ws(1, "Shared1!", true, true, Role::Workstation),
        ]
    };
    let in_rules: Vec<_> = smb::smb_block_rules("cauterize containment", &[])
        .into_iter()
        .filter(|r| r.direction == Direction::In)
        .collect();
    let out_rules: Vec<_> = smb::smb_block_rules("cauterize containment", &[])
        .into_iter()
        .filter(|r| r.direction == Direction::Out)
        .collect();

    // open: it spreads
    let mut hosts = net();
    let mut e = Engine::new(1, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(60)));
    assert_eq!(
        k,
        EventKind::Spread {
            from: 0,
            to: 1,
            family: Family::Emotet,
            vector: Vector::SharedLocalAdmin
        }
    );
    assert!(hosts[1].is_infected());
    assert!(
        matches!(hosts[1].infections[0].origin, malware::Origin::Spread { from, vector: Vector::SharedLocalAdmin, .. } if from == addr(0))
    );

    // the source's outbound rule stops it
    let mut hosts = net();
    for r in &out_rules {
        hosts[0].state.firewall.add_rule(r.clone()).unwrap();
    }
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(60)));
    assert_blocked(&k, Side::Source, Some(true), "source out rule");
    assert!(!hosts[1].is_infected());

    // the peer's inbound rule stops it
    let mut hosts = net();
    for r in &in_rules {
        hosts[1].state.firewall.add_rule(r.clone()).unwrap();
    }
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(60)));
    assert_blocked(&k, Side::Target, Some(true), "peer in rule");

    // a stock workstation (File and Printer Sharing off) refuses by default policy
    let mut hosts = vec![
        ws(0, "Shared1!", true, true, Role::Workstation),
        ws(1, "Shared1!", false, true, Role::Workstation),
    ];
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(60)));
    assert_blocked(&k, Side::Target, Some(false), "default policy");

    // and through the periodic engine: two hosts, SMB open, an hour later both are infected
    let mut hosts = net();
    let mut e = Engine::new(2, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let ev = e.step(&mut hosts, T0.plus_secs(3600));
    assert!(
        ev.iter()
            .any(|x| matches!(x.kind, EventKind::Spread { .. })),
        "{ev:?}"
    );
    assert_eq!(Engine::infected_count(&hosts), 2);
}

#[test]
fn remote_address_exemption_lets_the_dcs_smb_through_but_not_a_peers() {
    // 0: DC, 1: infected peer, 2: cleaned host contained with the DC exempt
    let mut hosts = vec![
        ws(0, "Shared1!", true, true, Role::DomainController),
        ws(1, "Shared1!", true, true, Role::Workstation),
        ws(2, "Shared1!", true, true, Role::Workstation),
    ];
    let dc = Ipv4Range::single(hosts[0].address);
    smb::block_smb(&mut hosts[2].state, "cauterize containment", &[dc]);
    let mut e = Engine::new(3, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 1, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 1, 2, T0.plus_secs(10)));
    assert_blocked(&k, Side::Target, None, "peer blocked");
    // the DC's traffic still reaches it (which is why the exempt set must stay small)
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 2, T0.plus_secs(20)));
    assert!(
        matches!(k, EventKind::Spread { from: 0, to: 2, .. }),
        "DC allowed: {k:?}"
    );
    // host 2's own outbound rule keeps it from reaching the peer, but not the DC
    hosts[1].infections.clear(); // (a fresh peer)
    let k = kind(e.attempt_spread(&mut hosts, 2, 1, T0.plus_secs(30)));
    assert_blocked(&k, Side::Source, None, "own outbound rule");
}

#[test]
fn ms17_010_spreads_only_to_unpatched_hosts() {
    let mut hosts = vec![
        ws(0, "Alpha1!", true, true, Role::Workstation),
        ws(1, "Bravo2!", true, false, Role::Workstation),
        ws(2, "Charlie3!", true, true, Role::Workstation),
    ];
    let mut off = Engine::new(
        4,
        OutbreakConfig {
            ms17_010: false,
            ..Default::default()
        },
    );
    off.seed_infection(&mut hosts, 0, &emotet(), T0);
    assert!(matches!(
        kind(off.attempt_spread(&mut hosts, 0, 1, T0)),
        EventKind::SpreadDenied { .. }
    ));
    let mut e = Engine::new(4, OutbreakConfig::default());
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(5)));
    assert_eq!(
        k,
        EventKind::Spread {
            from: 0,
            to: 1,
            family: Family::Emotet,
            vector: Vector::Ms17010
        }
    );
    let k = kind(e.attempt_spread(&mut hosts, 0, 2, T0.plus_secs(5)));
    assert_eq!(
        k,
        EventKind::SpreadDenied {
            from: 0,
            to: 2,
            family: Family::Emotet
        }
    );
    assert!(!hosts[2].is_infected());
}

#[test]
fn a_harvested_domain_credential_opens_hosts_of_the_same_domain() {
    let mut hosts = vec![
        ws(0, "Alpha1!", true, true, Role::Workstation),
        ws(1, "Bravo2!", true, true, Role::Workstation),
    ];
    let mut e = Engine::new(5, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    assert!(matches!(
        kind(e.attempt_spread(&mut hosts, 0, 1, T0)),
        EventKind::SpreadDenied { .. }
    ));
    hosts[0].harvested_domain_creds = true;
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(1)));
    assert!(
        matches!(
            k,
            EventKind::Spread {
                vector: Vector::HarvestedDomainCred,
                ..
            }
        ),
        "{k:?}"
    );
}

/// Qakbot on host 0; returns (engine, hosts, shutdown DLL path).
fn qakbot_host() -> (Engine, Vec<NetHost>, String) {
    let mut hosts = vec![ws(0, "Shared1!", true, true, Role::Workstation)];
    let mut e = Engine::new(6, OutbreakConfig::default());
    e.seed_infection(
        &mut hosts,
        0,
        &FamilyProfile::documented(Family::Qakbot).without_spread(),
        T0,
    );
    let dll = hosts[0].infections[0]
        .shutdown_plan()
        .into_iter()
        .find_map(|a| match (a.role, a.what) {
            (ArtifactRole::Payload, Artifact::File { path }) => Some(path),
            _ => None,
        })
        .unwrap();
    (e, hosts, dll)
}

#[test]
fn reboot_takes_time_refuses_winrm_while_down_and_qakbot_comes_back_without_the_rename_queue() {
    let (mut e, mut hosts, dll) = qakbot_host();
    let t = T0.plus_secs(300);
    let ev = e.request_reboot(&mut hosts, 0, t).unwrap();
    assert!(ev.iter().any(|x| matches!(
        &x.kind,
        EventKind::Malware {
            event: MalwareEvent::ShutdownWrite { error: None, .. },
            ..
        }
    )));
    assert!(matches!(hosts[0].power, Power::Down { .. }) && !hosts[0].power.accepts_winrm());
    assert!(e.request_reboot(&mut hosts, 0, t.plus_secs(1)).is_err());
    e.step(&mut hosts, t.plus_secs(60));
    assert!(!hosts[0].power.is_running(), "still down after 60 s");
    let boots = hosts[0].state.boot_count;
    let ev = e.step(&mut hosts, t.plus_secs(100));
    assert!(
        ev.iter().any(
            |x| matches!(x.kind, EventKind::Booted { boot_count, .. } if boot_count == boots + 1)
        ),
        "{ev:?}"
    );
    assert!(
        matches!(hosts[0].power, Power::Booting { .. }),
        "WinRM not yet"
    );
    assert!(
        hosts[0].is_infected(),
        "the Run value written at shutdown started it again"
    );
    assert!(
        !hosts[0].state.files.exists(&dll),
        "and it deleted its DLL at start-up"
    );
    e.step(&mut hosts, t.plus_secs(200));
    assert_eq!(hosts[0].power, Power::Up);
}

#[test]
fn the_rename_queue_runs_before_persistence_at_boot_so_a_rewritten_run_key_starts_nothing() {
    let (mut e, mut hosts, dll) = qakbot_host();
    // the operator queues the path Qakbot will write for deletion at boot
    hosts[0]
        .state
        .queue_pending(&PendingOp::delete(&dll))
        .unwrap();
    let t = T0.plus_secs(300);
    e.request_reboot(&mut hosts, 0, t).unwrap();
    assert!(hosts[0].state.files.exists(&dll), "written at shutdown");
    let ev = e.step(&mut hosts, t.plus_secs(100));
    let renames = ev
        .iter()
        .find_map(|x| match &x.kind {
            EventKind::Booted { renames, .. } => Some(renames.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(renames.len(), 1);
    assert!(renames[0].1.is_ok(), "{renames:?}");
    assert!(!hosts[0].state.files.exists(&dll));
    assert!(!hosts[0].is_infected(), "the Run value points at nothing");
    let p = hosts[0].presence();
    let q = p.family(Family::Qakbot).unwrap();
    assert!(!q.live() && q.files.is_empty());
    let run_values = q
        .persistence
        .iter()
        .filter(|a| matches!(a.what, Artifact::RegValue { .. }))
        .count();
    assert_eq!(
        run_values, 1,
        "a leftover Run value to remove after boot: {q:?}"
    );
}

#[test]
fn a_hanging_reboot_stays_hung_until_powered_on() {
    let (mut e, mut hosts, _) = qakbot_host();
    hosts[0].reboot_hangs = true;
    e.request_reboot(&mut hosts, 0, T0.plus_secs(10)).unwrap();
    e.step(&mut hosts, T0.plus_secs(3600));
    assert_eq!(hosts[0].power, Power::Hung);
    hosts[0].reboot_hangs = false;
    e.power_on(&mut hosts, 0, T0.plus_secs(3600)).unwrap();
    e.step(&mut hosts, T0.plus_secs(4000));
    assert_eq!(hosts[0].power, Power::Up);
}

#[test]
fn a_failing_reboot_leaves_the_host_up_as_it_was() {
    let (mut e, mut hosts, _) = qakbot_host();
    hosts[0].reboot_fails = true;
    let (booted, boots) = (hosts[0].state.boot_time, hosts[0].state.boot_count);
    let events = e.request_reboot(&mut hosts, 0, T0.plus_secs(10)).unwrap();
    assert_eq!(
        events.iter().map(|ev| &ev.kind).collect::<Vec<_>>(),
        [&EventKind::RebootFailed { host: 0 }]
    );
    e.step(&mut hosts, T0.plus_secs(3600));
    assert_eq!(hosts[0].power, Power::Up);
    assert_eq!(hosts[0].state.boot_time, booted, "no boot happened");
    assert_eq!(hosts[0].state.boot_count, boots);
    hosts[0].reboot_fails = false;
    e.request_reboot(&mut hosts, 0, T0.plus_secs(3600)).unwrap();
    e.step(&mut hosts, T0.plus_secs(7200));
    assert_ne!(hosts[0].state.boot_time, booted, "the next reboot does happen");
}

/// 200 hosts, shared local admin password, SMB open, 5 seeded infections.
fn network(n: usize) -> Vec<NetHost> {
    (0..n)
        .map(|i| ws(i, "Shared1!", true, i % 4 != 0, Role::Workstation))
        .collect()
}

fn simulate(mut hosts: Vec<NetHost>, seed: u64) -> (usize, usize, Vec<Event>) {
    let mut e = Engine::new(seed, OutbreakConfig::default());
    let fams = [Family::Emotet, Family::TrickBot, Family::Qakbot];
    for k in 0..5 {
        let i = k * 37 % hosts.len();
        e.seed_infection(&mut hosts, i, &FamilyProfile::documented(fams[k % 3]), T0);
    }
    let start = Engine::infected_count(&hosts);
    let mut all = Vec::new();
    for step in 1..=36 {
        all.extend(e.step(&mut hosts, T0.plus_secs(step * 600)));
    }
    (start, Engine::infected_count(&hosts), all)
}

#[test]
fn outbreak_on_200_hosts_grows_without_intervention_and_not_with_smb_blocked_everywhere() {
    let (start, end, ev) = simulate(network(200), 11);
    println!("no intervention: {start} -> {end} infected in 6 lab hours");
    assert_eq!(start, 5);
    assert!(end > 50, "{end}");
    assert!(ev.iter().any(|x| matches!(
        x.kind,
        EventKind::Spread {
            vector: Vector::SharedLocalAdmin,
            ..
        }
    )));

    let mut hosts = network(200);
    for h in &mut hosts {
        smb::block_smb(&mut h.state, "cauterize containment", &[]);
    }
    let (start, end, ev) = simulate(hosts, 11);
    println!("SMB blocked: {start} -> {end} infected");
    assert_eq!((start, end), (5, 5));
    assert!(ev.iter().any(|x| matches!(
        x.kind,
        EventKind::SpreadBlocked {
            by: Side::Source,
            ..
        }
    )));
}

#[test]
fn the_outbreak_is_deterministic_from_the_seed() {
    let (_, a, ev_a) = simulate(network(60), 21);
    let (_, b, ev_b) = simulate(network(60), 21);
    assert_eq!(a, b);
    assert_eq!(ev_a, ev_b);
}

#[test]
fn ten_thousand_hosts_with_20_percent_infected_step_one_lab_hour() {
    // 40 distinct clean installs, cloned to 10,000 hosts with their own
    // names, addresses and passwords (the engine's cost is what is measured)
    let built = Instant::now();
    let templates: Vec<NetHost> = (0..40)
        .map(|i| ws(i, "x", true, i % 3 != 0, Role::Workstation))
        .collect();
    let mut hosts: Vec<NetHost> = (0..10_000)
        .map(|i| {
            let mut h = templates[i % 40].clone();
            h.state.name = format!("WS-{i:05}");
            h.address = addr(i);
            h.state.address = h.address;
            h.state.local_admin_password = if i % 2 == 0 {
                "Shared1!".into()
            } else {
                format!("Unique{i}!")
            };
            h
        })
        .collect();
    let build_secs = built.elapsed().as_secs_f64();
    let mut e = Engine::new(42, OutbreakConfig::default());
    let fams = [Family::Emotet, Family::TrickBot, Family::Qakbot];
    for i in (0..10_000).step_by(5) {
        e.seed_infection(&mut hosts, i, &FamilyProfile::documented(fams[i % 3]), T0);
    }
    let before = Engine::infected_count(&hosts);
    let t = Instant::now();
    let ev = e.step(&mut hosts, T0.plus_secs(3600));
    let secs = t.elapsed().as_secs_f64();
    let after = Engine::infected_count(&hosts);
    let spreads = ev
        .iter()
        .filter(|x| matches!(x.kind, EventKind::Spread { .. }))
        .count();
    println!(
        "10,000 hosts (built in {build_secs:.1} s): one lab hour stepped in {secs:.2} s; {} events, {spreads} spreads, infected {before} -> {after}",
        ev.len()
    );
    assert_eq!(before, 2000);
    assert!(after >= before);
}

#[test]
fn spread_copies_through_an_admin_share_runs_a_temporary_service_or_task_and_the_history_records_it() {
    for (family, share) in [
        (Family::Emotet, "ADMIN$"),
        (Family::TrickBot, "ADMIN$"),
        (Family::Qakbot, "C$"),
    ] {
        let mut hosts = vec![
            ws(0, "Shared1!", true, true, Role::Workstation),
            ws(1, "Shared1!", true, true, Role::Workstation),
        ];
        let services_before = hosts[1].state.services.len();
        let mut e = Engine::new(8, OutbreakConfig::default());
        e.seed_infection(&mut hosts, 0, &FamilyProfile::documented(family), T0);
        let at = T0.plus_secs(120);
        let k = kind(e.attempt_spread(&mut hosts, 0, 1, at));
        assert!(
            matches!(
                k,
                EventKind::Spread {
                    vector: Vector::SharedLocalAdmin,
                    ..
                }
            ),
            "{k:?}"
        );
        let inf = &hosts[1].infections[0];
        assert_eq!(inf.infected_at, at);
        assert!(
            inf.user_sid.is_none(),
            "{family}: the service runs it as SYSTEM"
        );
        let Origin::Spread {
            from,
            vector: Vector::SharedLocalAdmin,
            delivery,
        } = &inf.origin
        else {
            panic!("{:?}", inf.origin)
        };
        // Qakbot runs its copy by a service or by a remote task.
        let (s, copy, ran_by, image_path) = match delivery {
            Delivery::AdminShareService {
                share,
                copy,
                service,
                image_path,
            } => (share, copy, Artifact::Service { name: service.clone() }, image_path),
            Delivery::AdminShareTask {
                share,
                copy,
                task,
                command,
            } if family == Family::Qakbot => (share, copy, Artifact::Task { path: task.clone() }, command),
            d => panic!("{family}: {d:?}"),
        };
        assert_eq!((*from, s.as_str()), (addr(0), share));
        let dir = crate::lab::world::files::parent(copy).unwrap();
        assert_eq!(
            dir,
            if share == "C$" { "C:" } else { r"C:\Windows" },
            "{copy}"
        );
        assert!(image_path.contains(copy.as_str()), "{image_path}");
        let peer = &hosts[1].state;
        assert!(peer.files.is_file(copy), "the copy stays on the peer");
        if family == Family::Qakbot {
            assert!(peer.files.is_file(&format!("{copy}.cfg")));
        }
        assert!(
            !crate::lab::malware::plant::artifact_exists(peer, &ran_by),
            "what ran the copy is deleted once it ran: {ran_by:?}"
        );
        assert_eq!(
            peer.services.len(),
            services_before + usize::from(family == Family::Emotet),
            "only Emotet's own admin service stays"
        );
        assert!(inf.artifacts.contains(&ArtifactRef {
            what: ran_by.clone(),
            role: ArtifactRole::Residue,
        }));
        assert!(hosts[1].is_infected());
        assert!(
            hosts[1]
                .presence()
                .family(family)
                .unwrap()
                .files
                .contains(copy)
        );
    }

    // EternalBlue: no copy, no service
    let mut hosts = vec![
        ws(0, "Alpha1!", true, true, Role::Workstation),
        ws(1, "Bravo2!", true, false, Role::Workstation),
    ];
    let services_before = hosts[1].state.services.len();
    let mut e = Engine::new(9, OutbreakConfig::default());
    e.seed_infection(
        &mut hosts,
        0,
        &FamilyProfile::documented(Family::TrickBot),
        T0,
    );
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(5)));
    assert!(
        matches!(
            k,
            EventKind::Spread {
                vector: Vector::Ms17010,
                ..
            }
        ),
        "{k:?}"
    );
    assert!(matches!(
        hosts[1].infections[0].origin,
        Origin::Spread {
            delivery: Delivery::Exploit,
            ..
        }
    ));
    assert_eq!(hosts[1].state.services.len(), services_before);
}

#[test]
fn a_peer_that_refuses_the_copy_is_not_infected() {
    let mut hosts = vec![
        ws(0, "Shared1!", true, true, Role::Workstation),
        ws(1, "Shared1!", true, true, Role::Workstation),
    ];
    // ADMIN$ (C:\Windows) denies writes on the peer
    hosts[1]
        .state
        .files
        .set_deny_write(r"C:\Windows", true)
        .unwrap();
    let mut e = Engine::new(10, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &emotet(), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(5)));
    assert!(matches!(k, EventKind::SpreadDenied { .. }), "{k:?}");
    assert!(!hosts[1].is_infected() && hosts[1].infections.is_empty());
}

mod records;
