//! `cauterize check` and `cauterize inventory` through the real binary:
//! the preflight reports each host's facts, and a bad inventory is refused
//! with file, line and column before anything is contacted.
//! Loopback range used here: 127.58.0.0/16.

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
