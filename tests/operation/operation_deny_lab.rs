//! The deny-write step end to end: the real binary (`scan`, `plan`,
//! `apply`, `release`) against a lab host running Qakbot, asserting the
//! lab's ground truth. Qakbot writes its DLL and Run value only at
//! shutdown, as the user it runs as; the purge's deny ACE on its folder is
//! what makes that write fail when the loader is still alive at the
//! reboot. The kill would already stop it, so the reviewed plan here has
//! its `kill_process` lines removed (the operator's call), leaving the
//! deny alone against the loader; a negative control without the deny
//! shows the DLL written back. The apply reboots the host itself (the
//! plan's reboot, fast: [`FAST_REBOOTS`]) and verifies it after boot; the
//! reviewed plan also keeps the folder (its after-reboot `remove_folder`
//! line removed) so that the ACE can be checked on it afterwards, and
//! `release --all` on its own lifts it. With re-purge rounds on and the
//! folder's removal kept, the Run value Qakbot wrote at shutdown brings a
//! round whose deny targets the folder removed after the first reboot:
//! not needed, and the host is verified clean. Loopback range:
//! 127.121.0.0/16, one /24 per test.

use crate::common;

use std::net::Ipv4Addr;

use cauterize::lab::malware::{Family, FamilyProfile};
use cauterize::lab::world::acl::{self, Ace, Token};
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;

async fn qakbot_lab(net: u8) -> LabRun {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 121, net, 1), 5985);
    // Lab steps often enough that a reboot (down 2 lab seconds, WinRM 1
    // second after boot) is over in a few seconds.
    let settings = LabSettings {
        step_every: std::time::Duration::from_millis(200),
        ..LabSettings::default()
    };
    let mut world = WorldSpec::derived(&spec, settings);
    world.hosts[0].reboot_down_secs = 2;
    world.hosts[0].winrm_delay_secs = 1;
    let mut p = FamilyProfile::documented(Family::Qakbot).without_spread();
    p.padding = false;
    world.hosts[0].infections.push(p);
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&spec)).expect("inventory");
    LabRun { lab, dir, inventory }
}

/// The playbook plans are made with: the reboot with a 5-second
/// countdown, no pause, back within the shortest time-out allowed; no
/// re-purge round; release by hand (`release --all` is part of the test).
/// The verifying scan after the reboot ties the folder the reviewed plan
/// kept, and the Run value Qakbot wrote at shutdown, to the Qakbot
/// confirmed there before the purge: a re-purge round would remove the
/// folder whose ACE is checked here, so the host is left for a person
/// instead, never called clean while that value is there.
const FAST_REBOOTS: &str = "playbook: 1
reboot:
  waves: [1]
  pause: 0s
  countdown: 5s
  return_timeout: 2m
verify:
  settle: 0s
  repurge_rounds: 0
release: manual
";

/// Scan and plan; the plan file's text, with lines for which `drop` says
/// true removed, written back as the reviewed plan.
async fn reviewed_plan(run: &LabRun, eng: &str, drop: impl Fn(&str) -> bool) -> String {
    reviewed_plan_with(run, eng, FAST_REBOOTS, drop).await
}

/// [`reviewed_plan`] with `playbook`.
async fn reviewed_plan_with(run: &LabRun, eng: &str, playbook: &str, drop: impl Fn(&str) -> bool) -> String {
    let scan = run.cauterize("scan", &["--engagement", eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let (_, text) = run.plan_with_playbook(eng, playbook).await;
    let path = run.dir.path().join("plan.yml");
    let kept: String = text.lines().filter(|l| !drop(l.trim_start())).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, &kept).expect("plan edited");
    text
}

/// The folder of the plan's `deny_writes` step.
fn denied_folder(plan: &str) -> String {
    let line = plan.lines().find(|l| l.contains("op: deny_writes")).unwrap_or_else(|| panic!("no deny_writes step:\n{plan}"));
    let rest = line.split("folder: '").nth(1).expect("folder");
    rest.split('\'').next().unwrap().replace("''", "'")
}

async fn apply(run: &LabRun, eng: &str) -> common::harness::Run {
    let plan = run.dir.path().join("plan.yml").display().to_string();
    run.cauterize("apply", &[&plan, "--engagement", eng, "--no-progress"]).await
}

/// Wait (at most a minute of wall time; lab time runs fast) until `host`
/// has booted more than `boots` times and answers WinRM again.
async fn back_up(lab: &Lab, host: &str, boots: u32) -> lab::network::HostTruth {
    let started = std::time::Instant::now();
    loop {
        let t = lab.truth(host);
        if t.boot_count > boots && t.power == lab::outbreak::Power::Up {
            return t;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{host} not back after its reboot: {:?}", t.power);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The folder's files (ground truth).
fn held(lab: &Lab, folder: &str) -> Vec<String> {
    lab.with_host("WS-001", |s| s.files.list(folder).map(|l| l.into_iter().map(|(n, _)| n.to_string()).collect()).unwrap_or_default())
}

/// The reviewed plan's lines to drop: the kills (the deny alone against
/// the live loader) and the folder's removal after the reboot (the folder
/// and its ACE stay to be checked).
fn no_kill_keep_folder(l: &str) -> bool {
    l.starts_with("- {op: kill_process") || (l.starts_with("- {op: remove_folder") && l.contains("after_reboot: true"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deny_defeats_qakbots_shutdown_write() {
    let run = qakbot_lab(1).await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    let plan = reviewed_plan(&run, &eng, no_kill_keep_folder).await;
    let folder = denied_folder(&plan);
    assert!(held(&run.lab, &folder).is_empty(), "Qakbot's folder is empty while it runs");
    let boots = run.lab.truth("WS-001").boot_count;

    // The apply places the deny, then reboots the host: Qakbot, still
    // alive (the reviewed plan has no kill), writes at shutdown and fails
    // on the deny.
    let out = apply(&run, &eng).await;
    assert!(matches!(out.code, 0 | 2), "{}\n{}", out.stdout, out.stderr);
    let truth = back_up(&run.lab, "WS-001", boots).await;
    // Ground truth: the one ACE, exactly as asked, still on the folder,
    // which the write at shutdown did not get through.
    let deny = Ace { sid: acl::EVERYONE.into(), deny: true, rights: 0x116, inheritance: 3, propagation: 0 };
    assert_eq!(run.lab.with_host("WS-001", |s| s.files.acl(&folder).map(<[Ace]>::to_vec)), Some(vec![deny]));
    let alice_token = run.lab.with_host("WS-001", |s| {
        let user = s.profiles.iter().find(|p| folder.to_lowercase().starts_with(&p.profile_path.to_lowercase())).expect("the folder's profile");
        Token::user(&user.sid)
    });
    assert!(run.lab.with_host("WS-001", |s| acl::denied([s.files.acl(&folder).unwrap()], true, &alice_token, acl::ADD_FILE)));
    assert!(held(&run.lab, &folder).is_empty(), "the shutdown write got through: {:?}", held(&run.lab, &folder));
    // Booted again and answering WinRM: what is left of Qakbot had its
    // chance to start, and nothing starts it.
    assert!(!truth.infected(), "nothing starts Qakbot again: {truth:?}");
    assert!(!run.lab.truth("WS-001").infected(), "{:?}", run.lab.truth("WS-001"));

    // `status` shows the step carried out, and the host not clean: the
    // Run value Qakbot wrote at shutdown points into its confirmed folder
    // (high, found again), and no re-purge round is allowed here.
    let status = common::harness::run(&["status", "--engagement", &eng, "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let view = &status.json_lines()[0];
    let host = view["hosts"].as_array().and_then(|hs| hs.iter().find(|h| h["host"] == "WS-001")).unwrap_or_else(|| panic!("WS-001 in status: {view}"));
    assert_eq!(host["state"].as_str(), Some("needs_person"), "{host}\napply said:\n{}", out.stderr);

    // `cauterize release --all` on its own, after this apply: our ACE
    // lifted from the folder (ground truth: no ACE left at all, the lab
    // put none there) and the host released.
    let release = run.cauterize("release", &["--engagement", &eng, "--all", "--no-progress"]).await;
    assert_eq!(release.code, 0, "release: {}\n{}", release.stdout, release.stderr);
    assert_eq!(run.lab.with_host("WS-001", |s| s.files.acl(&folder).map(<[Ace]>::to_vec)), Some(vec![]), "the deny is lifted: {}", release.stderr);
    let status = common::harness::run(&["status", "--engagement", &eng, "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let view = &status.json_lines()[0];
    let host = view["hosts"].as_array().and_then(|hs| hs.iter().find(|h| h["host"] == "WS-001")).unwrap_or_else(|| panic!("WS-001 in status: {view}"));
    assert_eq!((host["state"].as_str(), host["contained"].as_bool()), (Some("released"), Some(false)), "{host}\nrelease said:\n{}", release.stderr);
}

/// Negative control: the same host and plan without the deny step; the
/// loader, still alive at the reboot, writes its DLL back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_deny_the_shutdown_write_gets_through() {
    let run = qakbot_lab(2).await;
    let eng = run.dir.path().join("case").display().to_string();
    let plan = reviewed_plan(&run, &eng, |l| no_kill_keep_folder(l) || l.starts_with("- {op: deny_writes")).await;
    let folder = denied_folder(&plan);
    let boots = run.lab.truth("WS-001").boot_count;
    // The apply reboots the host, with no deny on the folder.
    let out = apply(&run, &eng).await;
    assert!(matches!(out.code, 0 | 2), "{}\n{}", out.stdout, out.stderr);
    back_up(&run.lab, "WS-001", boots).await;
    assert_eq!(run.lab.with_host("WS-001", |s| s.files.acl(&folder).map(<[Ace]>::to_vec)), Some(vec![]));
    // Qakbot deletes its DLL again at start-up, once it runs: what the
    // shutdown wrote is in its artifacts (ground truth) either way.
    let written = run.lab.with_host("WS-001", |s| s.files.walk(&folder).len());
    let truth = run.lab.truth("WS-001");
    assert!(written > 0 || truth.infected(), "the shutdown write should have got through: {truth:?}");
}

/// Re-purge rounds on, the folder's removal after the reboot kept (only
/// the kills dropped, so Qakbot is alive at the reboot): its shutdown
/// write of the DLL fails on the deny, its Run value gets through, and the
/// folder is removed once the host is back. The verifying scan finds the
/// Run value (tied to the Qakbot confirmed before): round 1 removes it,
/// and its plan's deny of the folder, gone now, is not needed (journaled
/// `already_absent`, nothing placed, never lifted); the host is verified
/// clean, with nothing of Qakbot left (ground truth), and `release --all`
/// leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repurge_rounds_deny_of_the_folder_removed_is_not_needed_and_the_host_is_verified_clean() {
    let run = qakbot_lab(3).await;
    // The loader's files get bytes of their own, so that evidence of each
    // is kept and the purge deletes them (one left for want of a copy
    // would leave the host for a person, whatever the rounds did).
    run.lab.give_loader_files_bytes("WS-001");
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    let rounds = FAST_REBOOTS.replace("repurge_rounds: 0", "repurge_rounds: 2");
    let plan = reviewed_plan_with(&run, &eng, &rounds, |l| l.starts_with("- {op: kill_process")).await;
    let folder = denied_folder(&plan);
    let boots = run.lab.truth("WS-001").boot_count;
    let out = apply(&run, &eng).await;
    assert!(matches!(out.code, 0 | 2), "{}\n{}", out.stdout, out.stderr);
    // The journal: round 1's deny of the folder ended not needed.
    let j = cauterize::journal::Journal::open_read_only(&engagement).expect("journal");
    let op = j.latest_operation().expect("read").expect("an operation");
    let actions = j.operation_actions(op.id).expect("actions");
    let denies: Vec<_> = actions.iter().filter(|a| a.key.starts_with("purge/r1/op/") && a.op.contains("DenyWrites")).collect();
    assert!(!denies.is_empty(), "round 1 lists the deny:\n{}", out.stderr);
    for a in &denies {
        assert_eq!(a.outcome.as_deref(), Some("already_absent"), "{a:?}");
        let detail = a.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("not needed: the folder is gone"), "{detail}");
    }
    // Ground truth: rebooted once per round, the folder gone, nothing of
    // Qakbot running or starting.
    let truth = run.lab.truth("WS-001");
    assert_eq!(truth.boot_count, boots + 2, "the first reboot and round 1's");
    assert!(!truth.infected(), "{truth:?}");
    assert!(!run.lab.with_host("WS-001", |s| s.files.exists(&folder)), "the folder is removed");
    let status = common::harness::run(&["status", "--engagement", &eng, "--json"]).await;
    let view = &status.json_lines()[0];
    let host = view["hosts"].as_array().and_then(|hs| hs.iter().find(|h| h["host"] == "WS-001")).unwrap_or_else(|| panic!("WS-001 in status: {view}"));
    assert_eq!(host["state"].as_str(), Some("clean"), "{host}\napply said:\n{}", out.stderr);
    // The release lifts the first purge's deny (its folder gone with it)
    // and no deny of round 1, which placed none.
    let release = run.cauterize("release", &["--engagement", &eng, "--all", "--no-progress"]).await;
    assert_eq!(release.code, 0, "release: {}\n{}", release.stdout, release.stderr);
    let j = cauterize::journal::Journal::open_read_only(&engagement).expect("journal");
    let lifts: Vec<String> = j.operation_actions(op.id).expect("actions").into_iter().filter(|a| a.key.starts_with("release/deny/")).map(|a| a.key).collect();
    let round0: Vec<String> = actions
        .iter()
        .filter(|a| a.key.starts_with("purge/r0/op/") && a.op.contains("DenyWrites"))
        .map(|a| a.key.replace("purge/r0/op/", "release/deny/"))
        .collect();
    assert_eq!(lifts, round0, "exactly the first purge's deny is lifted");
}
