//! Lateral movement as evidence, end to end (issue 13): the lab's loaders
//! move as the field's do (an SMB logon with a shared local administrator
//! password, a copy through ADMIN$, a temporary service that runs it),
//! and the lab's hosts record it as Windows does (Security 4624 type 3
//! with the source's address, System 7045); cauterize's own WinRM logons
//! are recorded too. `cauterize scan` reads the logs through runtime.ps1
//! and links the hosts: WS-001 (infected) reached WS-002, which reached
//! WS-003; an address the inventory does not list reached WS-004 and is
//! reported. Loopback range: 127.122.0.0/16.

mod common;

use std::net::Ipv4Addr;

use cauterize::journal::Journal;
use cauterize::lab::malware::{Delivery, Family, FamilyProfile, Origin, Vector, lateral};
use cauterize::lab::world::eventlog::LogName;
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;
use rand::SeedableRng;

const UNLISTED: Ipv4Addr = Ipv4Addr::new(127, 122, 9, 9);

/// Move TrickBot from `from` (address, name) onto `to` at lab time `at`;
/// the temporary service's name.
fn spread(lab: &Lab, from: (Ipv4Addr, &str), to: &str, at: lab::world::LabTime, seed: u64) -> String {
    let profile = FamilyProfile::documented(Family::TrickBot).without_spread();
    lab.with_host(to, |h| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let source = lateral::Source { address: from.0, name: from.1.into(), sample: None };
        let inf = lateral::deliver(h, &profile, &source, Vector::SharedLocalAdmin, &mut rng, at).expect("delivered");
        match inf.origin {
            Origin::Spread { delivery: Delivery::AdminShareService { service, .. }, .. } => service,
            o => panic!("{to}: not a service delivery: {o:?}"),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_links_an_infected_host_to_the_hosts_it_reached_and_reports_an_unlisted_source() {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(5, Ipv4Addr::new(127, 122, 0, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    world.hosts[0].infections.push(FamilyProfile::documented(Family::TrickBot).without_spread());
    let run = LabRun::start_world(spec.clone(), world).await;
    let lab = &run.lab;
    let addr = |i: usize| spec.hosts[i].address;
    let now = lab.now();
    let first = spread(lab, (addr(0), "WS-001"), "WS-002", now.plus_secs(-3000), 1);
    let second = spread(lab, (addr(1), "WS-002"), "WS-003", now.plus_secs(-2000), 2);
    let third = spread(lab, (UNLISTED, "WS-099"), "WS-004", now.plus_secs(-1000), 3);

    let engagement = run.dir.path().join("engagement").display().to_string();
    let out = run.cauterize("scan", &["--engagement", &engagement]).await;
    let text = &out.stdout;
    assert!(text.contains("---- lateral movement (from the hosts' event logs) ----"), "{text}\nstderr: {}", out.stderr);
    let line_of = |needle: &str| {
        text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?}:\n{text}")).to_string()
    };
    let to2 = line_of("WS-002 was reached from infected WS-001 at ");
    let to3 = line_of("WS-003 was reached from infected WS-002 at ");
    assert!(!text.contains("WS-004 was reached") && !text.contains("WS-005 was reached"), "{text}");
    let unlisted = line_of("source 127.122.9.9 is not in the inventory");
    assert!(unlisted.contains("it reached WS-004"), "{unlisted}");
    assert_eq!(text.matches("is not in the inventory").count(), 1, "cauterize's own logons are no unlisted source:\n{text}");
    for (to, from, service) in [("WS-002", "WS-001", &first), ("WS-003", "WS-002", &second), ("WS-004", "unlisted address 127.122.9.9", &third)] {
        let reach = line_of(&format!("{to} <- {from} at "));
        assert!(reach.contains(&format!("service {service} (")), "{reach}");
        assert!(reach.contains(r"WS-00") && reach.contains(r"\Administrator"), "the account that logged on: {reach}");
    }

    // The times are the hosts' records moved onto the operator's clock: a
    // thousand lab seconds apart (each host's skew measured on its own).
    let out = run.cauterize("scan", &["--json", "--engagement", &engagement]).await;
    let lines = out.json_lines();
    let record = lines.iter().find(|l| l["record"] == "lateral").unwrap_or_else(|| panic!("no lateral record: {}", out.stdout));
    let at = |host: &str| {
        record["reached"].as_array().unwrap().iter().find(|r| r["host"] == host).unwrap_or_else(|| panic!("{host} not reached: {record}"))["at"]
            .as_f64()
            .unwrap()
    };
    let gap = at("WS-003") - at("WS-002");
    assert!((gap - 1000.0).abs() < 30.0, "{gap}: {to2} / {to3}");
    assert_eq!(record["unlisted"].as_array().map(Vec::len), Some(1), "{record}");

    // cauterize's own logons are in the hosts' Security logs, from the
    // address the scan recorded as the operator's.
    let journal = Journal::open_read_only(std::path::Path::new(&engagement)).unwrap();
    let mut seen = 0;
    journal
        .each_latest_scan(None, |scan| {
            let operator = scan.snapshot.operator_address.clone();
            assert!(!operator.is_empty(), "{}: no operator address recorded", scan.host);
            assert!(scan.snapshot.event_logs.iter().any(|l| l.log == "Security" && l.state == "read"), "{}: {:?}", scan.host, scan.snapshot.event_logs);
            let logged = lab.with_host(&scan.host, |h| {
                h.event_logs
                    .log(LogName::Security)
                    .records()
                    .filter(|r| r.event_id == 4624 && r.property("IpAddress") == Some(operator.as_str()))
                    .count()
            });
            assert!(logged >= 2, "{}: {logged} WinRM logons from {operator} in the Security log", scan.host);
            seen += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 5);
}
