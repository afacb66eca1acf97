//! `cauterize check` and `cauterize inventory` through the real binary:
//! the preflight reports each host's facts, and a bad inventory is refused
//! with file, line and column before anything is contacted.
//! Loopback range used here: 127.58.0.0/16 (127.58.0.x: the facts test,
//! 127.58.2.x: the hung host).

mod common;

use cauterize::lab::{self, HostFault};
use common::harness::{LabRun, run};
use std::net::Ipv4Addr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_reachability_rights_os_and_skew_per_host() {
    let mut spec = lab::scenario::simple(8, Ipv4Addr::new(127, 58, 0, 1), 5985);
    let believed = spec.clone();
    spec.hosts[1].fault = HostFault::WinrmDisabled;
    spec.hosts[2].clock_skew_secs = 900;
    for account in &mut spec.hosts[3].accounts {
        account.admin = false;
    }
    let run = LabRun::start_with_inventory(spec, &believed).await;
    let out = run.cauterize("check", &["--json"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "stdout: {}\nstderr: {}", out.stdout, out.stderr);

    let ok = out.host("WS-001");
    assert_eq!(ok["status"], "ok", "{ok}");
    assert_eq!(ok["facts"]["hostname"], "WS-001", "{ok}");
    assert_eq!(ok["facts"]["is_admin"], true, "{ok}");
    assert_eq!(ok["facts"]["os_build"], "19045", "{ok}");

    let closed = out.host("WS-002");
    assert_eq!(closed["status"], "failed", "{closed}");
    assert_eq!(closed["kind"], "unreachable", "{closed}");

    let skewed = out.host("WS-003");
    let skew = skewed["clock_skew_secs"].as_f64().or_else(|| skewed["clock_skew_secs"].as_i64().map(|v| v as f64));
    let skew = skew.unwrap_or_else(|| panic!("no skew in {skewed}"));
    assert!((skew - 900.0).abs() < 30.0, "skew {skew} in {skewed}");
    assert!(skewed.to_string().to_lowercase().contains("kerberos"), "a 15-minute skew is flagged: {skewed}");

    // WinRM admits only administrators, so a non-admin fails authentication.
    let not_admin = out.host("WS-004");
    assert_eq!(not_admin["status"], "failed", "{not_admin}");

    let win7 = out.host("WS-007");
    assert_eq!(win7["facts"]["ps_version"], "2.0", "{win7}");
    assert_eq!(win7["facts"]["max_shells_per_user"], 5, "{win7}");
}

/// A host whose commands never finish is reported as hung after the step
/// time-out, not after the inventory's command time-out (120 s in the lab's
/// inventory), and the other hosts' rows come out with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_hung_host_after_its_step_time_out() {
    let mut spec = lab::scenario::simple(4, Ipv4Addr::new(127, 58, 2, 1), 5985);
    spec.hosts[2].fault = HostFault::HangReceive;
    let run = LabRun::start(spec).await;
    let inventory = std::fs::read_to_string(&run.inventory).unwrap();
    assert!(inventory.contains("command_timeout: 120s"), "the inventory's own time-out is long: {inventory}");

    let out = run.cauterize("check", &["--step-timeout", "3"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    // Open a shell, 3 s of command, terminate and close: far below the
    // 120 s the inventory would allow (a generous bound, not a timing test).
    assert!(out.elapsed.as_secs() < 60, "check took {:?}:\n{}", out.elapsed, out.stdout);
    assert!(
        out.stdout.contains("  WS-003: hung: the command did not finish in 3 s"),
        "{}",
        out.stdout
    );
    for ok in ["WS-001", "WS-002", "WS-004"] {
        let row = out.stdout.lines().find(|l| l.starts_with(ok)).unwrap_or_else(|| panic!("no row for {ok}: {}", out.stdout));
        assert!(row.contains(" yes "), "{ok} is checked in full: {row}");
    }
    assert!(out.stdout.ends_with("3 ok, 1 failed (1 hung)\n"), "{}", out.stdout);

    let out = run.cauterize("check", &["--json", "--step-timeout", "2"]).await;
    let hung = out.host("WS-003");
    assert_eq!(hung["status"], "failed", "{hung}");
    assert_eq!(hung["kind"], "hung", "{hung}");
    assert!(
        hung["error"].as_str().unwrap().starts_with("hung: the command did not finish in 2 s"),
        "{hung}"
    );
    assert_eq!(out.host("WS-004")["status"], "ok");
}

#[tokio::test]
async fn inventory_lists_hosts_without_secrets_and_refuses_bad_input_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("inv.yml");
    std::fs::write(
        &good,
        "credentials:\n  ir: { user: ir-admin, domain: CORP, password_env: CZ_TEST_PW }\n\
         defaults: { credential: ir }\n\
         groups:\n  workstations:\n    hosts:\n      ws-[001:012].corp.example: {}\n",
    )
    .unwrap();
    let inv = good.display().to_string();
    let out = run(&["inventory", "-i", &inv, "-l", "workstations:!ws-003", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let hosts: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON array");
    let names: Vec<&str> = hosts.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 11, "{names:?}");
    assert!(!names.contains(&"ws-003.corp.example"), "{names:?}");
    assert_eq!(hosts[0]["credential_source"], "env");

    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "defaults:\n  prot: 5985\n").unwrap();
    let out = run(&["inventory", "-i", &bad.display().to_string()]).await;
    assert_eq!(out.code, cauterize::exit::USAGE);
    assert!(out.stderr.contains("bad.yml:2:3"), "file:line:col missing: {}", out.stderr);
    assert!(out.stderr.contains("port"), "the likely key is suggested: {}", out.stderr);

    let plain = dir.path().join("plain.yml");
    std::fs::write(&plain, "credentials:\n  ir: { user: a, password: hunter2 }\nhosts:\n  dc01: {}\n").unwrap();
    let out = run(&["inventory", "-i", &plain.display().to_string()]).await;
    assert_eq!(out.code, cauterize::exit::USAGE);
    assert!(out.stderr.contains("allow_plaintext_passwords"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "the refused secret was echoed: {}", out.stderr);
}
