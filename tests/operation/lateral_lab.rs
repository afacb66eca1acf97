//! Lateral movement as evidence, end to end (issue 13): the lab's loaders
//! move as the field's do (an SMB logon with a shared local administrator
//! password, a copy through ADMIN$, a temporary service that runs it),
//! and the lab's hosts record it as Windows does (Security 4624 type 3
//! with the source's address, System 7045); cauterize's own WinRM logons
//! are recorded too. `cauterize scan` reads the logs through runtime.ps1
//! and links the hosts: WS-001 (infected) reached WS-002, which reached
//! WS-003; an address the inventory does not list reached WS-004 and is
//! reported. Loopback range: 127.122.0.0/16.

use crate::common;

use std::net::Ipv4Addr;

use cauterize::journal::Journal;
use cauterize::lab::malware::{Delivery, Family, FamilyProfile, Origin, Vector, lateral};
use cauterize::lab::world::eventlog::LogName;
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;

const UNLISTED: Ipv4Addr = Ipv4Addr::new(127, 122, 9, 9);

/// Move TrickBot from `from` (address, name) onto `to` at lab time `at`,
/// kept in the lab's ground truth; the temporary service's name.
fn spread(lab: &Lab, from: (Ipv4Addr, &str), to: &str, at: lab::world::LabTime, seed: u64) -> String {
    spread_copy(lab, from, to, at, seed).0
}

/// [`spread`], with the copy the source dropped through ADMIN$ too.
fn spread_copy(lab: &Lab, from: (Ipv4Addr, &str), to: &str, at: lab::world::LabTime, seed: u64) -> (String, String) {
    let profile = FamilyProfile::documented(Family::TrickBot).without_spread();
    let source = lateral::Source { address: from.0, name: from.1.into(), sample: None };
    match lab.spread_onto(to, &profile, &source, Vector::SharedLocalAdmin, seed, at).expect("delivered") {
        Origin::Spread { delivery: Delivery::AdminShareService { service, copy, .. }, .. } => (service, copy),
        o => panic!("{to}: not a service delivery: {o:?}"),
    }
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

/// The lab of an operation below: hosts that reboot in seconds, answer
/// WinRM a second late, keep Task Scheduler history; a quiet TrickBot on
/// the first.
fn operation_world(spec: &lab::LabSpec) -> WorldSpec {
    let mut world = WorldSpec::derived(spec, LabSettings::default());
    for h in &mut world.hosts {
        h.reboot_down_secs = 3;
        h.winrm_delay_secs = 1;
        h.task_history = true;
    }
    let mut quiet = FamilyProfile::documented(Family::TrickBot).without_spread();
    quiet.padding = false;
    world.hosts[0].infections.push(quiet);
    world
}

/// The playbook of the operation below (`common::playbooks`): a canary
/// then the rest, no pause, a 5-second countdown, at most 50 hosts down
/// (the built-in value), no settle before the verifying scan.
fn fast_reboots() -> String {
    common::playbooks::fast_reboots(r#"[1, "100%"]"#, "50", "0", "")
}

/// An operation on a network where two addresses the inventory does not
/// list logged on to hosts and installed a service (lab loopback
/// 127.122.20.0/24; the phantom source 127.122.29.9): the plan lists what
/// they installed for review, tied to its 7045 record; the operation
/// cleans every host but holds the release, saying why, in its summary,
/// `status` and the report, the lab's firewalls still containing SMB.
/// Each copy a source dropped in C:\Windows is tied by the 7045 record of
/// the service that ran it (high, FLEET-LATERAL-COPY): the plan deletes
/// it, naming that service, and the runtime deletes it after finding the
/// record on the host itself, so WS-002 and WS-003 are verified clean.
/// An acceptance of a wrong address is refused; accepting one source
/// leaves the other holding; once the other machine is in the inventory
/// and scanned clean, `release` lifts containment everywhere. cauterize's own
/// WinRM logons (4624) and its dead-man task (4698, and 106 where the Task
/// Scheduler history is on) in the verifying scans are no source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlisted_source_holds_the_release_until_scanned_as_an_inventory_host_or_accepted() {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(5, Ipv4Addr::new(127, 122, 20, 1), 5985);
    let world = operation_world(&spec);
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let dir = tempfile::tempdir().unwrap();
    // The operator's inventory lacks WS-005 (127.122.20.5): a machine
    // nobody listed. `full.yml` is the inventory once it is found.
    let mut listed = spec.clone();
    listed.hosts.truncate(4);
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&listed)).unwrap();
    let full = dir.path().join("full.yml");
    std::fs::write(&full, lab::inventory_out::inventory_yaml(&spec)).unwrap();
    let run = LabRun { lab, dir, inventory };
    let lab = &run.lab;
    for h in ["WS-001", "WS-002", "WS-003", "WS-004", "WS-005"] {
        lab.with_host(h, |s| s.event_logs.audit_tasks = true);
    }
    let now = lab.now();
    let (from_ws5, copy2) = spread_copy(lab, (spec.hosts[4].address, "WS-005"), "WS-002", now.plus_secs(-3000), 11);
    let phantom = Ipv4Addr::new(127, 122, 29, 9);
    let (_, copy3) = spread_copy(lab, (phantom, "WS-099"), "WS-003", now.plus_secs(-2000), 12);
    assert!(cauterize::detect::paths::is_directly_in_system(&copy2) && cauterize::detect::paths::is_directly_in_system(&copy3), "{copy2} {copy3}");

    // Real bytes, so evidence can be kept over WinRM (the copies a
    // spread planted carry their source's already).
    assert!(!lab.give_loader_files_bytes("WS-001").is_empty(), "WS-001: no loader file");
    for h in ["WS-002", "WS-003"] {
        assert!(!lab.give_loader_files_bytes(h).is_empty(), "{h}: the spread planted no file the lab counts");
    }

    let eng = run.dir.path().join("case").display().to_string();
    let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let (_, plan) = run.plan_with_playbook(&eng, &fast_reboots()).await;

    // The plan lists for review what each source installed, with the
    // record that ties it, even where no rule called it malicious.
    let review_of = |host: &str| {
        let start = plan.find(&format!("\n  '{host}':")).unwrap_or_else(|| panic!("{host} not in the plan:\n{plan}"));
        let entry = &plan[start + 1..];
        let end = entry[1..].find("\n  'WS-").map_or(entry.len(), |e| e + 1);
        let entry = &entry[..end];
        entry.find("    review:").map(|r| entry[r..].to_string()).unwrap_or_default()
    };
    let ws2 = review_of("WS-002");
    assert!(ws2.contains(&format!("service {from_ws5} (")), "WS-002's review:\n{ws2}\nplan:\n{plan}");
    assert!(ws2.contains("System 7045 at ") && ws2.contains("from 127.122.20.5, an address the inventory does not list"), "{ws2}");
    let ws3 = review_of("WS-003");
    assert!(ws3.contains("from 127.122.29.9, an address the inventory does not list"), "{ws3}");
    // The files created then are listed with the record that ties them.
    let copy_name = |c: &str| c.rsplit('\\').next().unwrap().to_string();
    assert!(ws2.contains("created when another host reached this one") && ws2.contains("which led to System 7045 at "), "{ws2}");
    assert!(ws2.contains(&copy_name(&copy2)), "{ws2}");
    assert!(ws3.contains(&copy_name(&copy3)), "{ws3}");
    // Every install and file listed came from one of the two sources; a
    // task TrickBot's copy registers (4698 and 106) is one item, citing
    // both records.
    let listed: Vec<&str> = plan.lines().filter(|l| l.contains("when another host reached this one")).collect();
    assert!(listed.len() >= 4, "{plan}");
    for l in &listed {
        assert!(l.contains("from 127.122.20.5, an address") || l.contains("from 127.122.29.9, an address"), "{l}");
    }
    let tasks: Vec<&&str> = listed.iter().filter(|l| l.contains("Security 4698")).collect();
    let both = |l: &str| l.contains("Security 4698") && l.contains("Microsoft-Windows-TaskScheduler/Operational 106") && l.matches(" at 20").count() == 1;
    assert!(!tasks.is_empty() && tasks.iter().all(|l| both(l)), "one item citing both records, at one time: {tasks:#?}");
    // The 7045 record of the service each source installed ties its copy
    // in C:\Windows: the fleet makes it high (FLEET-LATERAL-COPY).
    {
        let journal = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
        let mut tied = Vec::new();
        journal
            .each_latest_scan(None, |scan| {
                for f in scan.findings.iter().filter(|f| f.rule_id == "FLEET-LATERAL-COPY") {
                    assert_eq!(f.confidence, cauterize::detect::Confidence::High, "{f:?}");
                    if let cauterize::detect::ArtifactRef::File { path } = &f.artifact {
                        tied.push((scan.host.clone(), path.clone()));
                    }
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(tied, [("WS-002".to_string(), copy2.clone()), ("WS-003".to_string(), copy3.clone())]);
    }
    let summary: String = plan.lines().filter_map(|l| l.strip_prefix("# ")).collect::<Vec<_>>().join(" ");
    assert!(summary.contains("services, tasks and files installed or created when an infected or unlisted source reached the host, on 2 hosts (WS-[002-003])"), "the summary (a wrapped comment):\n{plan}");

    let plan_path = run.dir.path().join("plan.yml").display().to_string();
    let out = run.cauterize("apply", &[&plan_path, "--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.code, cauterize::exit::PARTIAL, "held: partial");
    for h in ["WS-001", "WS-002", "WS-003"] {
        assert!(!lab.truth(h).infected(), "{h} is clean per the lab");
    }
    let contained = |h: &str| lab.truth(h).smb_blocked;
    assert!(["WS-001", "WS-002", "WS-003", "WS-004"].iter().all(|h| contained(h)), "the release is held: containment stays");
    assert!(out.stdout.contains("unlisted sources of lateral movement:"), "{}", out.stdout);
    // The copy each source dropped in C:\Windows, tied by its 7045
    // record, is gone (the plan named the service, the host found the
    // record itself), and no host was set aside for a person.
    for (h, copy) in [("WS-002", &copy2), ("WS-003", &copy3)] {
        assert!(!lab.with_host(h, |s| s.files.exists(copy)), "{h}: {copy} is still there");
    }
    assert!(!out.stdout.contains(": its verifying scan"), "no host set aside: {}", out.stdout);
    assert!(out.stdout.contains("held      127.122.20.5 (reached WS-002): 127.122.20.5 is not in the inventory"), "{}", out.stdout);
    assert!(out.stdout.contains("held      127.122.29.9 (reached WS-003)"), "{}", out.stdout);
    assert!(out.stdout.contains("--accept-source ADDRESS --reason TEXT"), "{}", out.stdout);
    let status = common::harness::run(&["status", "--engagement", &eng]).await;
    assert!(status.stdout.contains("unlisted sources of lateral movement (2 hold the release of every host):"), "{}", status.stdout);
    // cauterize's own logons and dead-man task are in the hosts' logs,
    // and are no source: the two planted ones are the only ones.
    assert_eq!(status.stdout.matches("(reached ").count(), 2, "{}", status.stdout);
    let security: Vec<(u32, String)> = lab.with_host("WS-004", |s| {
        s.event_logs
            .log(LogName::Security)
            .records()
            .map(|r| (r.event_id, r.property("IpAddress").or(r.property("TaskName")).unwrap_or_default().to_string()))
            .collect()
    });
    assert!(security.iter().any(|(id, _)| *id == 4698), "the dead-man's 4698 is recorded on WS-004: {security:?}");
    assert!(security.iter().any(|(id, ip)| *id == 4624 && ip == "127.0.0.1"), "cauterize's 4624 is recorded on WS-004: {security:?}");
    let report = common::harness::run(&["report", "--engagement", &eng, "--format", "json", "-o", "-"]).await;
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap_or_else(|e| panic!("{e}: {}", report.stdout));
    let sources = report["status"]["sources"].as_array().unwrap();
    assert_eq!(sources.iter().filter(|s| s["state"] == "held").count(), 2, "{sources:?}");

    // A wrong address is refused, not recorded.
    let wrong = run.cauterize("release", &["--engagement", &eng, "--accept-source", "127.122.29.8", "--reason", "typo"]).await;
    assert_eq!(wrong.code, cauterize::exit::USAGE, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("not a source that holds the release; those that do: 127.122.20.5, 127.122.29.9"), "{}", wrong.stderr);
    // Accepting one source leaves the other holding.
    let one = run
        .cauterize("release", &["--engagement", &eng, "--accept-source", "127.122.29.9", "--reason", "the lab's phantom, gone", "--no-progress"])
        .await;
    assert_eq!(one.code, cauterize::exit::PARTIAL, "{}\n{}", one.stdout, one.stderr);
    assert!(one.stdout.contains("accepted  127.122.29.9 (reached WS-003): accepted by the operator: the lab's phantom, gone"), "{}", one.stdout);
    assert!(one.stdout.contains("held      127.122.20.5"), "{}", one.stdout);
    assert!(contained("WS-001"), "still held by 127.122.20.5");

    // The machine is found: in the inventory, scanned (clean), released.
    let full = run.dir.path().join("full.yml").display().to_string();
    let scan5 = common::harness::run(&["scan", "-i", &full, "-l", "WS-005", "--engagement", &eng, "--no-progress"]).await;
    assert_eq!(scan5.code, 0, "{}\n{}", scan5.stdout, scan5.stderr);
    let released = common::harness::run(&["release", "-i", &full, "--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", released.stdout, released.stderr);
    assert_eq!(released.code, cauterize::exit::OK, "{}\n{}", released.stdout, released.stderr);
    assert!(released.stdout.contains("resolved  127.122.20.5 (reached WS-002): 127.122.20.5 is WS-005 of the inventory, scanned"), "{}", released.stdout);
    for h in ["WS-001", "WS-002", "WS-003", "WS-004"] {
        assert!(!contained(h), "{h}: released, containment gone per the lab");
    }
    let status = common::harness::run(&["status", "--engagement", &eng]).await;
    assert!(status.stdout.contains("unlisted sources of lateral movement (none holds the release):"), "{}", status.stdout);
    assert!(status.stdout.contains("(release): accepted by the operator: the lab's phantom, gone"), "who and when: {}", status.stdout);
}

/// Point the lab inventory's WinRM connections at the SOCKS jump host on
/// `port` of `address` (the inventory as the lab wrote it: `original`).
fn through_proxy(run: &LabRun, original: &str, address: &str, port: u16) {
    let proxied = original.replacen("defaults: {", &format!("defaults: {{ proxy: \"socks5://{address}:{port}\","), 1);
    assert_ne!(proxied, original, "the lab inventory has a defaults mapping");
    std::fs::write(&run.inventory, proxied).unwrap();
}

/// Hosts whose Security log shows a WinRM logon (4624) from `address`
/// followed within ten minutes by a task registration (4698): what would
/// link as a reach from `address` if nothing told it apart.
fn hosts_with_logon_then_task(lab: &Lab, hosts: &[&str], address: &str) -> Vec<String> {
    hosts
        .iter()
        .filter(|h| {
            lab.with_host(h, |s| {
                let records: Vec<(u32, i64, String)> = s
                    .event_logs
                    .log(LogName::Security)
                    .records()
                    .map(|r| (r.event_id, r.time_created.0 as i64, r.property("IpAddress").unwrap_or_default().to_string()))
                    .collect();
                records.iter().any(|(id, at, ip)| {
                    *id == 4624 && ip == address && records.iter().any(|(id2, at2, _)| *id2 == 4698 && at2 >= at && at2 - at <= 600 * 10_000_000)
                })
            })
        })
        .map(|h| h.to_string())
        .collect()
}

/// Behind a SOCKS jump host (a stand-in for NAT: the hosts see the jump
/// host's loopback address, 127.122.48.1, not the operator's 127.0.0.1),
/// cauterize's own WinRM logons and its dead-man task (4624 then 4698 and
/// 106) are on every host, as a source's logon and install would be. The
/// scans read the operator's address from the hosts' own record of their
/// WinRM logon, so an operation is held by the real unlisted source only
/// (127.122.49.9, which reached WS-003), never by the jump host's address.
/// The operator then carries on from another jump host (127.122.48.2): it
/// contains again (the dead-man registered anew, from there) and scans
/// every host, so no latest scan names the first address; neither address
/// is a source, and the real one still holds until accepted. Lab loopback
/// 127.122.40.0/21.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_address_behind_a_jump_host_is_never_a_source_even_after_moving_to_another() {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(4, Ipv4Addr::new(127, 122, 40, 1), 5985);
    let world = operation_world(&spec);
    let run = LabRun::start_world(spec.clone(), world).await;
    let lab = &run.lab;
    let hosts = ["WS-001", "WS-002", "WS-003", "WS-004"];
    for h in hosts {
        lab.with_host(h, |s| s.event_logs.audit_tasks = true);
    }
    let phantom = Ipv4Addr::new(127, 122, 49, 9);
    let at = lab.now().plus_secs(-2000);
    spread(lab, (phantom, "WS-099"), "WS-003", at, 21);
    for h in ["WS-001", "WS-003"] {
        assert!(!lab.give_loader_files_bytes(h).is_empty(), "{h}: no loader file");
    }

    let original = std::fs::read_to_string(&run.inventory).unwrap();
    let first = common::socks::Socks5::start("127.122.48.1").await;
    through_proxy(&run, &original, "127.122.48.1", first.port);

    let eng = run.dir.path().join("case").display().to_string();
    let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    assert!(first.tunnels() >= 4, "the hosts were not reached through the jump host");
    run.plan_with_playbook(&eng, &fast_reboots()).await;
    let out = run.cauterize("apply", &[&run.dir.path().join("plan.yml").display().to_string(), "--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.code, cauterize::exit::PARTIAL, "held: partial");
    // What would make the jump host's address a source is there: its
    // logon, then the dead-man task, on every host.
    assert_eq!(hosts_with_logon_then_task(lab, &hosts, "127.122.48.1"), hosts);
    assert!(out.stdout.contains("held      127.122.49.9 (reached WS-003)"), "{}", out.stdout);
    assert!(!out.stdout.contains("127.122.48.1"), "the jump host's address is no source: {}", out.stdout);
    {
        let journal = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
        assert_eq!(journal.operator_addresses().unwrap(), ["127.122.48.1"], "read from the hosts' record of the WinRM logon");
    }
    let status = common::harness::run(&["status", "--engagement", &eng]).await;
    assert_eq!(status.stdout.matches("(reached ").count(), 1, "{}", status.stdout);

    // The operator carries on from another jump host. The dead-man went
    // (disabled here), so `contain` registers it again, from there.
    let second = common::socks::Socks5::start("127.122.48.2").await;
    through_proxy(&run, &original, "127.122.48.2", second.port);
    for h in hosts {
        lab.with_host(h, |s| {
            for t in s.tasks.iter_mut().filter(|t| t.folder.eq_ignore_ascii_case("\\Cauterize")) {
                t.enabled = false;
            }
        });
    }
    let contain = run.cauterize("contain", &["--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", contain.stdout, contain.stderr);
    assert_eq!(hosts_with_logon_then_task(lab, &hosts, "127.122.48.2"), hosts, "contain from the second jump host registered the dead-man");
    let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let journal = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
    let mut seen = Vec::new();
    journal
        .each_latest_scan(None, |s| {
            seen.push(s.snapshot.operator_address.clone());
            Ok(())
        })
        .unwrap();
    // No latest scan names the first jump host's address any more (a scan
    // whose span shows no single address records none).
    assert!(seen.iter().all(|a| a == "127.122.48.2" || a.is_empty()) && seen.iter().any(|a| a == "127.122.48.2"), "{seen:?}");
    assert_eq!(journal.operator_addresses().unwrap(), ["127.122.48.1", "127.122.48.2"]);
    drop(journal);
    // Neither jump host's address holds the release; the real source does.
    for mine in ["127.122.48.1", "127.122.48.2"] {
        let wrong = run.cauterize("release", &["--engagement", &eng, "--accept-source", mine, "--reason", "mine"]).await;
        assert_eq!(wrong.code, cauterize::exit::USAGE, "{}", wrong.stderr);
        let holding = wrong.stderr.split("those that do: ").nth(1).map(|t| t.lines().next().unwrap_or_default().trim().to_string());
        assert_eq!(holding.as_deref(), Some("127.122.49.9"), "{}", wrong.stderr);
    }
    let status = common::harness::run(&["status", "--engagement", &eng]).await;
    assert!(status.stdout.contains("unlisted sources of lateral movement (1 hold the release of every host):"), "{}", status.stdout);
    assert_eq!(status.stdout.matches("(reached ").count(), 1, "{}", status.stdout);
}

/// The rule of this engagement that blocks SMB from `peer` into `host` in
/// the lab's firewall, if one does (the lab's own ground truth).
fn blocked_by_cauterize(lab: &Lab, host: &str, peer: &str) -> Option<String> {
    use lab::world::firewall::{Direction, Protocol, Reason};
    let peer: Ipv4Addr = peer.parse().unwrap();
    lab.with_host(host, |s| match s.firewall.decide_explained(Direction::In, Protocol::Tcp, 445, peer, 50000).reason {
        Reason::BlockRule(name) if name.starts_with("cauterize-") => Some(name),
        _ => None,
    })
}

/// Containment keeps SMB open to the operator's address as each host sees
/// it: behind a SOCKS jump host (127.122.72.1, a stand-in for NAT) that is
/// the jump host's address, read from the host's record of cauterize's
/// WinRM logon, never this side's 127.0.0.1, and the plan shows it. The
/// operation is resumed through a second jump host (127.122.72.2): before
/// anything else on each contained host, its rules are made again with the
/// address it sees now; SMB from every other address stays blocked. All
/// asserted on the lab's firewalls. Lab loopback 127.122.64.0/21.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containment_keeps_smb_to_the_jump_host_each_host_sees_and_to_the_next_after_a_resume() {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(3, Ipv4Addr::new(127, 122, 64, 1), 5985);
    let run = LabRun::start_world(spec.clone(), operation_world(&spec)).await;
    let lab = &run.lab;
    let hosts = ["WS-001", "WS-002", "WS-003"];
    let (jump1, jump2) = ("127.122.72.1", "127.122.72.2");
    let original = std::fs::read_to_string(&run.inventory).unwrap();
    let first = common::socks::Socks5::start(jump1).await;
    through_proxy(&run, &original, jump1, first.port);

    let eng = run.dir.path().join("case").display().to_string();
    let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    // Released by hand only: the hosts stay contained between the runs.
    let (_, plan) = run.plan_with_playbook(&eng, &format!("{}release: manual\n", fast_reboots())).await;
    assert!(plan.contains("- {address: '127.122.72.1', hosts: ['WS-[001-003]']}"), "the plan shows the address each host saw:\n{plan}");
    let out = run.cauterize("apply", &[&run.dir.path().join("plan.yml").display().to_string(), "--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(out.code, 0 | 2), "apply: {}\n{}\n{}", out.code, out.stdout, out.stderr);
    assert!(first.tunnels() >= 3, "the hosts were not reached through the jump host");
    let peers = |h: &str| -> Vec<String> {
        let mut v: Vec<String> = spec.hosts.iter().filter(|x| x.name != h).map(|x| x.address.to_string()).collect();
        v.extend(["127.0.0.1".to_string(), "10.9.9.9".to_string()]);
        v
    };
    for h in hosts {
        assert_eq!(blocked_by_cauterize(lab, h, jump1), None, "{h}: SMB from the jump host it sees is blocked");
        assert!(blocked_by_cauterize(lab, h, jump2).is_some(), "{h}: the second jump host is not exempt before it is used");
        for p in peers(h) {
            assert!(blocked_by_cauterize(lab, h, &p).is_some(), "{h}: SMB from {p} is not blocked");
        }
    }

    // The operation resumed through the second jump host.
    let second = common::socks::Socks5::start(jump2).await;
    through_proxy(&run, &original, jump2, second.port);
    let out = run.cauterize("apply", &["--resume", "--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(out.code, 0 | 2), "resume: {}\n{}\n{}", out.code, out.stdout, out.stderr);
    assert!(second.tunnels() >= 3, "the resumed run did not go through the second jump host");
    println!("{}\n{}", out.stdout, out.stderr);
    {
        let journal = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
        let op = journal.latest_operation().unwrap().unwrap();
        for a in journal.operation_actions(op.id).unwrap().into_iter().filter(|a| a.key.starts_with("contain")) {
            println!("{} {} {:?} {:?} {}", a.host, a.key, a.outcome, a.detail, a.op);
        }
    }
    for h in hosts {
        assert_eq!(blocked_by_cauterize(lab, h, jump2), None, "{h}: SMB from the second jump host is blocked after the resume");
        assert_eq!(blocked_by_cauterize(lab, h, jump1), None, "{h}: the first jump host, seen before, stays exempt");
        for p in peers(h) {
            assert!(blocked_by_cauterize(lab, h, &p).is_some(), "{h}: SMB from {p} is not blocked after the resume");
        }
    }
    let journal = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
    let op = journal.latest_operation().unwrap().unwrap();
    let again: Vec<_> = journal
        .operation_actions(op.id)
        .unwrap()
        .into_iter()
        .filter(|a| a.key == "contain/again")
        .collect();
    assert_eq!(again.len(), hosts.len(), "{again:?}");
}
