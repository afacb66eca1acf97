//! `cauterize watch` end to end: the real binary against a lab where one
//! infected host is off when the operation runs (a laptop whose lid is
//! closed). The operation holds the release for it; `watch` polls it with
//! its back-off, the test powers it on after some unanswered polls, and
//! watch contains, scans, purges, reboots and verifies it, then releases
//! the network by the playbook's policy (`all_clean`). Asserted on the
//! lab's ground truth (loaders, persistence, firewall rules, boots), and on
//! the journal for what watch says it did. A second test interrupts watch
//! (Ctrl-C) and shows a second watch picking up from the journal.
//! Loopback range: 127.144.0.0/16, one /24 per test.

use crate::common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use cauterize::journal::Journal;
use cauterize::lab::malware::Family;
use cauterize::lab::{self, LabSettings, WorldSpec};
use common::harness::{LabRun, quiet};

/// The host that is off when the operation runs.
const LATE: &str = "WS-002";

/// Three hosts from 127.144.<net>.1: WS-001 runs TrickBot, WS-002 (off
/// until the test powers it on) Emotet, WS-003 is clean. Reboots take 3
/// lab seconds at real time.
async fn lab_with_a_late_host(net: u8) -> LabRun {
    let spec = lab::scenario::simple(3, Ipv4Addr::new(127, 144, net, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    for h in &mut world.hosts {
        h.reboot_down_secs = 3;
        h.winrm_delay_secs = 1;
    }
    world.hosts[0].infections.push(quiet(Family::TrickBot));
    world.hosts[1].infections.push(quiet(Family::Emotet));
    // Off at the start, and for a month unless powered on.
    world.hosts[1].online_after_secs = Some(30 * 24 * 3600);
    let run = LabRun::start_world(spec, world).await;
    // Real bytes for the loaders' files, so that their evidence copies can
    // be made over WinRM and the purge deletes them.
    for h in ["WS-001", LATE] {
        assert!(!run.lab.give_loader_files_bytes(h).is_empty(), "{h}: no loader file");
    }
    run
}

/// Fast reboots, no settle before the verifying scan; the release policy
/// is the default (`all_clean`); watch polls every second, doubling up to
/// 2 s (the flags override it).
const PLAYBOOK: &str = "playbook: 1
reboot:
  waves: [\"100%\"]
  pause: 0s
  countdown: 5s
  return_timeout: 2m
verify:
  settle: 0s
watch:
  poll_every: 1s
  poll_max: 2s
";

/// Scan, plan, apply: the late host is refused (no scan) and holds the
/// release; the reached infected host is clean and still contained.
async fn operation_without_the_late_host(run: &LabRun, eng: &str) {
    let scan = run.cauterize("scan", &["--engagement", eng, "--no-progress"]).await;
    assert_eq!(scan.code, cauterize::exit::PARTIAL, "scan: {}", scan.stderr);
    run.plan_with_playbook(eng, PLAYBOOK).await;
    let plan = run.dir.path().join("plan.yml").display().to_string();
    let apply = run.cauterize("apply", &[&plan, "--engagement", eng, "--no-progress"]).await;
    println!("{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(apply.code, cauterize::exit::PARTIAL, "{}", apply.stderr);
    assert!(!run.lab.truth(LATE).power.is_running(), "{LATE} is still off");
    let truth = run.lab.truth("WS-001");
    assert!(!truth.infected() && truth.persistence.is_empty(), "WS-001 purged: {truth:?}");
    assert!(truth.smb_blocked, "the release waits on {LATE}: WS-001 stays contained");
    assert_eq!(host_state(eng, LATE), "refused");
}

fn host_state(eng: &str, host: &str) -> String {
    let j = Journal::open_read_only(std::path::Path::new(eng)).expect("journal");
    let op = j.latest_operation().unwrap().expect("an operation");
    j.operation_hosts(op.id)
        .unwrap()
        .into_iter()
        .find(|r| r.host == host)
        .unwrap_or_else(|| panic!("{host} not in the operation"))
        .state
}

/// The journal's lines about `host`'s polls that went unanswered.
fn unanswered_polls(eng: &str, host: &str) -> usize {
    let Ok(j) = Journal::open_read_only(std::path::Path::new(eng)) else { return 0 };
    let Ok(Some(op)) = j.latest_operation() else { return 0 };
    j.operation_events(op.id)
        .unwrap_or_default()
        .iter()
        .filter(|e| e.host.as_deref() == Some(host) && e.message.contains("not answered"))
        .count()
}

/// `cauterize watch` in its own process (polling as the plan's playbook
/// says unless `flags` say otherwise); killed when dropped.
fn spawn_watch(run: &LabRun, eng: &str, flags: &[&str]) -> tokio::process::Child {
    let inv = run.inventory.display().to_string();
    tokio::process::Command::new(common::harness::bin())
        .args(["watch", "-i", &inv, "--engagement", eng, "--no-progress"])
        .args(flags)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("watch starts")
}

/// Wait (bounded) until the journal shows `n` unanswered polls of `host`.
async fn until_unanswered(eng: &str, host: &str, n: usize, child: &mut tokio::process::Child) {
    let start = Instant::now();
    while unanswered_polls(eng, host) < n {
        assert!(child.try_wait().unwrap().is_none(), "watch ended before polling {host} {n} times");
        assert!(start.elapsed() < Duration::from_secs(60), "no {n} unanswered polls of {host} in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn finished(child: tokio::process::Child) -> common::harness::Run {
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("watch ends within 5 minutes")
        .expect("watch ran");
    let run = common::harness::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    println!("watch: exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
    run
}

/// Every host clean and released, per the lab: no loader, no persistence,
/// no cauterize rule and SMB open again.
fn network_clean_and_released(run: &LabRun) {
    for h in ["WS-001", LATE, "WS-003"] {
        let truth = run.lab.truth(h);
        assert!(truth.loader_processes.is_empty(), "{h}: loaders still run: {:?}", truth.loader_processes);
        assert!(truth.persistence.is_empty(), "{h}: persistence left: {:?}", truth.persistence);
        assert!(!truth.smb_blocked, "{h}: still contained after the release");
        assert!(
            truth.firewall_rules.iter().all(|r| !r.name.to_lowercase().starts_with("cauterize")),
            "{h}: cauterize's rules left: {:?}",
            truth.firewall_rules
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_host_is_watched_then_carried_through_and_the_network_released() {
    let run = lab_with_a_late_host(1).await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    operation_without_the_late_host(&run, &eng).await;

    let mut child = spawn_watch(&run, &eng, &[]);
    // Some polls go unanswered first (1 s, then 2 s, then 2 s: capped, as
    // the playbook's `watch:` says).
    until_unanswered(&eng, LATE, 3, &mut child).await;
    let boots_off = run.lab.truth(LATE).boot_count;
    run.lab.power_on(LATE).expect("the laptop's lid opens");
    let out = finished(child).await;
    assert_eq!(out.code, cauterize::exit::OK, "every host verified clean and released: {}", out.stderr);

    // Ground truth: the late host was purged and rebooted by cauterize
    // (one boot when powered on, one for the purge's reboot), and the
    // whole network is clean and released.
    let truth = run.lab.truth(LATE);
    assert!(!truth.infected(), "{LATE} still runs Emotet: {truth:?}");
    assert!(truth.boot_count >= boots_off + 2, "{LATE} was not rebooted by the operation: {truth:?}");
    network_clean_and_released(&run);

    // The journal: polls with their back-off, the host taken in, scanned
    // under a new plan, and released.
    let j = Journal::open_read_only(&engagement).unwrap();
    let op = j.latest_operation().unwrap().unwrap();
    let events = j.operation_events(op.id).unwrap();
    let polls: Vec<&str> = events
        .iter()
        .filter(|e| e.host.as_deref() == Some(LATE) && e.message.contains("watch: poll"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(polls.iter().any(|m| m.contains("next poll in 1s")), "{polls:#?}");
    assert!(polls.iter().any(|m| m.contains("next poll in 2s")), "the pause doubles: {polls:#?}");
    assert!(!polls.iter().any(|m| m.contains("next poll in 4s")), "the pause is capped at watch.poll_max: {polls:#?}");
    assert!(polls.iter().any(|m| m.contains("answered (booted")), "{polls:#?}");
    let hosts = j.operation_hosts(op.id).unwrap();
    for h in &hosts {
        assert_eq!(h.state, "released", "{}: {:?}", h.host, h.reason);
    }
    let actions = j.operation_actions(op.id).unwrap();
    let late: Vec<&str> = actions.iter().filter(|a| a.host == LATE).map(|a| a.key.as_str()).collect();
    assert!(late.iter().any(|k| k.starts_with("contain")), "{late:?}");
    assert!(late.iter().any(|k| k.starts_with("reboot")), "{late:?}");
    assert!(late.iter().any(|k| k.starts_with("release")), "{late:?}");
    assert!(actions.iter().all(|a| a.outcome.is_some()), "an action without an end");
    assert!(
        std::fs::read_dir(engagement.join("plans")).unwrap().any(|f| f.unwrap().file_name().to_string_lossy().contains(LATE)),
        "the late host's plan is written for review"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_interrupted_then_run_again_picks_up_from_the_journal() {
    let run = lab_with_a_late_host(2).await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    operation_without_the_late_host(&run, &eng).await;

    // The flags override the playbook's `watch:` (1s): the first pause is 3s.
    let mut child = spawn_watch(&run, &eng, &["--poll-every", "3s", "--poll-max", "3s"]);
    until_unanswered(&eng, LATE, 1, &mut child).await;
    {
        let j = Journal::open_read_only(std::path::Path::new(&eng)).unwrap();
        let op = j.latest_operation().unwrap().unwrap();
        let first = j.operation_events(op.id).unwrap().into_iter().find(|e| e.message.contains("not answered")).unwrap();
        assert!(first.message.contains("next poll in 3s"), "--poll-every wins over the playbook: {}", first.message);
    }
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = finished(child).await;
    assert_eq!(out.code, cauterize::exit::INTERRUPTED, "{}", out.stderr);
    assert!(out.stderr.contains("To continue: cauterize watch -i"), "the command that resumes: {}", out.stderr);
    assert_eq!(host_state(&eng, LATE), "refused", "nothing done to a host that never answered");
    assert!(run.lab.truth("WS-001").smb_blocked, "the release still waits");

    run.lab.power_on(LATE).expect("the laptop's lid opens");
    let again = finished(spawn_watch(&run, &eng, &[])).await;
    assert_eq!(again.code, cauterize::exit::OK, "{}", again.stderr);
    assert!(!run.lab.truth(LATE).infected());
    network_clean_and_released(&run);

    // Nothing left to watch: a third watch says so and changes nothing.
    let third = finished(spawn_watch(&run, &eng, &[])).await;
    assert_eq!(third.code, cauterize::exit::OK, "{}", third.stderr);
    assert!(third.stderr.contains("nothing to watch"), "{}", third.stderr);
}
