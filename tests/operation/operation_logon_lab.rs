//! The playbook's `reboot.logged_on` end to end: the real binary (`scan`,
//! `plan`, `apply`) against lab hosts whose console user is logged on, the
//! real `runtime.ps1` reading who is logged on through the lab's
//! PowerShell engine (the owners of the processes in each interactive
//! session), and the lab's ground truth (boot counts, sessions) asserted.
//! `skip` sets a host with a user aside unrebooted; `wait` reboots a host
//! once its user has logged off within `logoff_wait`, and sets aside one
//! whose user is still there when it expires.
//! Loopback range: 127.141.0.0/16, one /24 per test.

use crate::common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use cauterize::lab::malware::{Family, FamilyProfile};
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;

/// `count` workstations from 127.141.<net>.1, each running Qakbot as its
/// logged-on user, rebooting in a few seconds.
async fn lab_with_users(net: u8, count: u32) -> LabRun {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(count, Ipv4Addr::new(127, 141, net, 1), 5985);
    let settings = LabSettings {
        step_every: Duration::from_millis(200),
        ..LabSettings::default()
    };
    let mut world = WorldSpec::derived(&spec, settings);
    for h in &mut world.hosts {
        h.reboot_down_secs = 2;
        h.winrm_delay_secs = 1;
        let mut p = FamilyProfile::documented(Family::Qakbot).without_spread();
        p.padding = false;
        h.infections.push(p);
    }
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    // The loaders' files get bytes of their own, so that evidence is kept
    // over WinRM and the purge deletes them (a file with no evidence copy
    // is left, and its host is for a person).
    for h in &spec.hosts {
        lab.give_loader_files_bytes(&h.name);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&spec)).expect("inventory");
    LabRun { lab, dir, inventory }
}

/// The playbook: one wave for every host, a 5-second countdown, no settle,
/// and `logged_on` as given.
fn playbook(logged_on: &str) -> String {
    format!(
        "playbook: 1
reboot:
  waves: [\"100%\"]
  pause: 0s
  countdown: 5s
  return_timeout: 2m
{logged_on}verify:
  settle: 0s
release: manual
"
    )
}

/// Scan and plan engagement `eng` with `playbook`.
async fn scan_and_plan(run: &LabRun, eng: &str, playbook: &str) {
    let scan = run.cauterize("scan", &["--engagement", eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let (_, plan) = run.plan_with_playbook(eng, playbook).await;
    assert!(plan.contains("op: reboot"), "the plan reboots the hosts:\n{plan}");
}

/// The host's logged-on users (ground truth).
fn users(lab: &Lab, host: &str) -> Vec<String> {
    lab.with_host(host, |s| s.logged_on_users().map(|p| p.sid.clone()).collect())
}

fn boots(lab: &Lab, host: &str) -> u32 {
    lab.truth(host).boot_count
}

/// `status --json`'s row of `host`.
async fn status_row(eng: &str, host: &str) -> serde_json::Value {
    let out = common::harness::run(&["status", "--engagement", eng, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    v["hosts"].as_array().and_then(|hs| hs.iter().find(|h| h["host"] == host).cloned()).unwrap_or_else(|| panic!("{host} not in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_on_skip_leaves_a_host_with_a_user_unrebooted_and_set_aside_with_why() {
    let run = lab_with_users(1, 1).await;
    let eng = run.dir.path().join("case").display().to_string();
    assert_eq!(users(&run.lab, "WS-001").len(), 1, "the lab's workstation has its console user");
    scan_and_plan(&run, &eng, &playbook("  logged_on: skip\n")).await;
    let before = boots(&run.lab, "WS-001");
    let plan = run.dir.path().join("plan.yml").display().to_string();
    let out = run.cauterize("apply", &[&plan, "--engagement", &eng, "--no-progress"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}\n{}", out.stdout, out.stderr);
    // Ground truth: never rebooted, the user still there, no shutdown
    // pending on the host.
    assert_eq!(boots(&run.lab, "WS-001"), before, "rebooted under `logged_on: skip`");
    assert_eq!(users(&run.lab, "WS-001").len(), 1);
    assert!(run.lab.network().next_shutdown().is_none(), "a shutdown is pending");
    let name = run.lab.with_host("WS-001", |s| s.logged_on_users().map(|p| p.name.clone()).next()).expect("a user");
    let row = status_row(&eng, "WS-001").await;
    assert_eq!(row["state"], "needs_person", "{row}");
    let why = row["why"].as_str().unwrap_or_default();
    assert!(why.contains("users are logged on") && why.contains("logged_on: skip"), "{row}");
    assert!(why.contains(&format!("\\{name} (session ")), "the user by name: {row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_on_wait_reboots_once_the_user_logs_off_and_sets_aside_when_the_wait_expires() {
    let run = lab_with_users(2, 2).await;
    let eng = run.dir.path().join("case").display().to_string();
    scan_and_plan(&run, &eng, &playbook("  logged_on: wait\n  logoff_wait: 1m\n")).await;
    let before = (boots(&run.lab, "WS-001"), boots(&run.lab, "WS-002"));
    let plan = run.dir.path().join("plan.yml").display().to_string();
    let inv = run.inventory.display().to_string();
    // Progress as plain lines on stderr (not a terminal): the decision
    // to wait is one of them. Once the apply says it waits for WS-001's
    // user: log them off.
    let started = Instant::now();
    let args = ["apply", &plan, "-i", &inv, "--engagement", &eng];
    let (mut child, mut lines, mut said) = common::harness::start_until(&args, "WS-001: waiting up to 1m", Duration::from_secs(240)).await;
    // Not rebooted while the user is there.
    assert_eq!(boots(&run.lab, "WS-001"), before.0, "rebooted before its user logged off");
    let user = users(&run.lab, "WS-001");
    assert_eq!(user.len(), 1);
    run.lab.with_host("WS-001", |s| s.logoff(&user[0]));
    let rest = tokio::spawn(async move {
        let mut said = Vec::new();
        while let Ok(Some(l)) = lines.next_line().await {
            said.push(l);
        }
        said
    });
    let code = tokio::time::timeout(Duration::from_secs(300), child.wait()).await.expect("the apply ends").unwrap().code();
    said.extend(rest.await.unwrap());
    assert_eq!(code, Some(cauterize::exit::PARTIAL), "{}", said.join("\n"));
    // WS-001: rebooted once, after its user left, and verified clean.
    assert_eq!(boots(&run.lab, "WS-001"), before.0 + 1, "{}", said.join("\n"));
    let row = status_row(&eng, "WS-001").await;
    assert_eq!(row["state"], "clean", "{row}");
    // WS-002: its user never left: not rebooted, set aside after the wait.
    assert_eq!(boots(&run.lab, "WS-002"), before.1);
    assert_eq!(users(&run.lab, "WS-002").len(), 1);
    let row = status_row(&eng, "WS-002").await;
    assert_eq!(row["state"], "needs_person", "{row}");
    assert!(row["why"].as_str().unwrap_or_default().contains("still logged on after waiting 1m"), "{row}");
    assert!(started.elapsed() >= Duration::from_secs(60), "gave up on WS-002 before its wait");
}

/// A host set aside under `skip` for its logged-on user is taken up again
/// by `apply --resume` once the user has logged off: rebooted once (lab
/// ground truth), not purged again (the journal has no second purge of
/// it), and verified clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_apply_reboots_a_host_set_aside_for_its_user_once_the_user_has_left() {
    let run = lab_with_users(3, 1).await;
    let eng = run.dir.path().join("case").display().to_string();
    scan_and_plan(&run, &eng, &playbook("  logged_on: skip\n")).await;
    let before = boots(&run.lab, "WS-001");
    let plan = run.dir.path().join("plan.yml").display().to_string();
    let out = run.cauterize("apply", &[&plan, "--engagement", &eng, "--no-progress"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(status_row(&eng, "WS-001").await["state"], "needs_person");
    assert_eq!(boots(&run.lab, "WS-001"), before);
    let purged = |eng: &str| {
        let j = cauterize::journal::Journal::open_read_only(std::path::Path::new(eng)).expect("journal");
        let op = j.latest_operation().expect("read").expect("an operation");
        j.operation_actions(op.id).expect("actions").into_iter().filter(|a| a.key.starts_with("purge/") && a.ended_at.is_some()).count()
    };
    let purge_actions = purged(&eng);
    assert!(purge_actions > 0);

    // The user leaves; the operator resumes.
    let user = users(&run.lab, "WS-001");
    run.lab.with_host("WS-001", |s| s.logoff(&user[0]));
    let out = run.cauterize("apply", &["--resume", "--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(out.code, 0 | 2), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(boots(&run.lab, "WS-001"), before + 1, "rebooted once by the resumed run:\n{}", out.stderr);
    let row = status_row(&eng, "WS-001").await;
    assert_eq!(row["state"], "clean", "{row}\n{}", out.stderr);
    assert_eq!(purged(&eng), purge_actions, "the resumed run purged nothing again");
    assert!(!run.lab.truth("WS-001").infected());
}
