//! The operation's commands end to end: the real binary (`scan`, `plan`,
//! `apply`, `--resume`) against a lab whose hosts run loaders, asserting
//! the lab's ground truth through its library, never the tool's own view.
//! What exists on the host side today is exercised (evidence, kills,
//! compare-and-delete, files queued for boot, containment through the real
//! runtime.ps1 on the lab's firewall and Task Scheduler); reboots have no
//! host operation yet, and the tests check that `apply` says so instead of
//! pretending; `status` reads the journal from another process
//! while an apply runs. Loopback range: 127.110.0.0/16, one /24 per test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use cauterize::journal::Journal;
use cauterize::lab::malware::{Family, FamilyProfile};
use cauterize::lab::world::benign::BenignProduct;
use cauterize::lab::{self, HostFault, Lab, LabSettings, WorldSpec};
use common::harness::{LabRun, Run};

/// A lab of `count` hosts from 127.110.<net>.1, arranged, and its
/// inventory.
async fn lab_run(net: u8, count: u32, arrange: impl FnOnce(&mut lab::LabSpec, &mut WorldSpec)) -> LabRun {
    common::harness::raise_fd_limit();
    let mut spec = lab::scenario::simple(count, Ipv4Addr::new(127, 110, net, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    arrange(&mut spec, &mut world);
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&spec)).expect("inventory");
    LabRun { lab, dir, inventory }
}

/// A family's documented profile, spreading off, and unpadded: Emotet's
/// 500 MB padded DLL can only be kept as evidence over SMB (a Samba peer,
/// `tests/evidence_smb.rs`), and without its evidence copy the purge
/// rightly leaves the file in place; here evidence travels over WinRM.
fn quiet(f: Family) -> FamilyProfile {
    let mut p = FamilyProfile::documented(f).without_spread();
    p.padding = false;
    p
}

/// Every file on every host: path → SHA-256 (hex), by host.
fn files(lab: &Lab) -> BTreeMap<String, BTreeMap<String, String>> {
    lab.spec()
        .hosts
        .iter()
        .map(|h| {
            let files = lab.with_host(&h.name, |s| {
                s.files
                    .iter()
                    .filter(|(_, e)| !e.is_dir())
                    .map(|(p, e)| (p.to_lowercase(), e.sha256().map(|x| lab::world::files::hex(&x)).unwrap_or_default()))
                    .collect()
            });
            (h.name.clone(), files)
        })
        .collect()
}

/// The paths the plan file deletes or queues, by host (lower case).
fn planned_files(plan: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut host = String::new();
    for line in plan.lines() {
        // `  'WS-001':  # workstation; contained; ...`
        if let Some((h, _)) = line.strip_prefix("  '").and_then(|l| l.split_once("':")) {
            host = h.to_string();
        }
        let l = line.trim_start();
        if l.starts_with("- {op: delete_file") || l.starts_with("- {op: queue_delete_on_reboot") {
            if let Some(rest) = l.split("path: '").nth(1) {
                let path = rest.split('\'').next().unwrap_or_default().replace("''", "'");
                out.entry(host.clone()).or_default().insert(path.to_lowercase());
            }
        }
    }
    out
}

/// The journal shows `host`'s delete of `path` (lower case) skipped
/// because no evidence copy of it could be made.
fn skipped_without_evidence(engagement: &std::path::Path, host: &str, path: &str) -> bool {
    let j = Journal::open_read_only(engagement).expect("journal");
    let op = j.latest_operation().unwrap().expect("an operation");
    j.operation_actions(op.id).unwrap().iter().any(|a| {
        a.host == host
            && a.outcome.as_deref() == Some("skipped")
            && a.detail.as_deref().is_some_and(|d| {
                let d = d.to_lowercase();
                d.contains("no evidence copy") && d.contains(path)
            })
    })
}

/// `count` slow hosts (every WinRM request waits 150 ms) from
/// 127.110.<net>.1, Emotet and TrickBot in turn; host number `down` (from
/// 0) is down.
async fn slow_lab(net: u8, count: u32, down: Option<usize>) -> LabRun {
    lab_run(net, count, |spec, world| {
        for (i, h) in world.hosts.iter_mut().enumerate() {
            h.infections.push(quiet([Family::Emotet, Family::TrickBot][i % 2]));
        }
        for h in &mut spec.hosts {
            h.latency = Duration::from_millis(150);
        }
        if let Some(d) = down {
            spec.hosts[d].fault = HostFault::Down;
        }
    })
    .await
}

/// `cauterize apply plan.yml` in its own process, `forks` hosts at a time,
/// output discarded; killed when dropped.
fn spawn_apply(run: &LabRun, eng: &str, forks: u32) -> tokio::process::Child {
    let plan_path = run.dir.path().join("plan.yml").display().to_string();
    let inv = run.inventory.display().to_string();
    tokio::process::Command::new(common::harness::bin())
        .args(["apply", &plan_path, "-i", &inv, "--engagement", eng, "--forks", &forks.to_string(), "--no-progress"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("apply starts")
}

async fn scan_and_plan(run: &LabRun, eng: &str) -> (Run, String) {
    let scan = run.cauterize("scan", &["--engagement", eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let plan_path = run.dir.path().join("plan.yml");
    let out = run
        .cauterize("plan", &["--engagement", eng, "-o", &plan_path.display().to_string(), "--no-progress"])
        .await;
    assert!(matches!(out.code, 0 | 2), "plan: {}\n{}", out.code, out.stderr);
    (out, std::fs::read_to_string(&plan_path).expect("plan written"))
}

/// Keys (host, action) of destructive actions (the plan's operations:
/// kills, deletes, queues) the journal shows done more than once. Evidence
/// collection only copies: a resumed run collects again for a host whose
/// purge it did not finish.
fn changed_twice(engagement: &std::path::Path) -> Vec<String> {
    let j = Journal::open_read_only(engagement).expect("journal");
    let op = j.latest_operation().unwrap().expect("an operation");
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for a in j.operation_actions(op.id).unwrap() {
        if a.key.contains("/op/") && matches!(a.outcome.as_deref(), Some("done" | "queued")) {
            *seen.entry((a.host, a.key)).or_default() += 1;
        }
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|((h, k), n)| format!("{h} {k} x{n}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_carries_out_the_reviewed_plan_and_nothing_else() {
    let run = lab_run(1, 5, |spec, world| {
        world.hosts[0].infections.push(quiet(Family::Emotet));
        world.hosts[1].infections.push(quiet(Family::TrickBot));
        world.hosts[2].benign.push(BenignProduct::OneDrive);
        world.hosts[2].benign.push(BenignProduct::LogitechDownloadAssistant);
        world.hosts[4].infections.push(quiet(Family::Qakbot));
        spec.hosts[3].fault = HostFault::Down;
    })
    .await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    let (_, plan) = scan_and_plan(&run, &eng).await;
    let before = files(&run.lab);
    let infected = ["WS-001", "WS-002", "WS-005"];
    for h in infected {
        assert!(run.lab.truth(h).infected(), "{h} runs its loader before");
    }

    let plan_path = run.dir.path().join("plan.yml").display().to_string();
    let out = run.cauterize("apply", &[&plan_path, "--engagement", &eng, "--json"]).await;
    println!("{}\n{}", out.stdout, out.stderr);
    // Partial: reboots have no host operation yet.
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}", out.stderr);
    let events = out.json_lines();
    let not_available: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "phase_finished" && !e["not_available"].is_null())
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert_eq!(not_available, vec!["reboot"]);
    // Containment is real: each reached host holds the engagement's rules
    // (SMB from a non-exempt peer blocked, WinRM not, SMB from the
    // operator's address as the host sees it not: the lab is loopback, and
    // Linux connects to any 127/8 address from 127.0.0.1) and its dead-man.
    for h in ["WS-001", "WS-002", "WS-003", "WS-005"] {
        run.lab.with_host(h, |s| {
            let fw = &s.firewall;
            let peer: Ipv4Addr = "10.9.9.9".parse().unwrap();
            let smb = fw.decide_explained(lab::world::firewall::Direction::In, lab::world::firewall::Protocol::Tcp, 445, peer, 50000);
            assert!(matches!(smb.reason, lab::world::firewall::Reason::BlockRule(_)), "{h}: SMB from a peer: {smb:?}");
            let winrm = fw.decide_explained(lab::world::firewall::Direction::In, lab::world::firewall::Protocol::Tcp, 5985, peer, 50000);
            assert!(!matches!(winrm.reason, lab::world::firewall::Reason::BlockRule(_)), "{h}: WinRM: {winrm:?}");
            let operator: Ipv4Addr = "127.0.0.1".parse().unwrap();
            let own = fw.decide_explained(lab::world::firewall::Direction::In, lab::world::firewall::Protocol::Tcp, 445, operator, 50000);
            assert!(!matches!(own.reason, lab::world::firewall::Reason::BlockRule(_)), "{h}: SMB from the operator: {own:?}");
            assert!(s.tasks.iter().any(|t| t.folder.eq_ignore_ascii_case("\\Cauterize")), "{h}: no dead-man task");
        });
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["exit_code"], 2);
    let state = |h: &str| {
        summary["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["host"] == h)
            .unwrap_or_else(|| panic!("{h} not in {summary}"))["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state("WS-001"), "purged");
    assert_eq!(state("WS-003"), "clean", "nothing planned there: verified by a scan");
    assert_eq!(state("WS-004"), "refused", "no scan, not in the plan");
    assert!(summary["next"][0].as_str().unwrap().contains("reboot them yourself"), "{summary}");

    // Ground truth: every loader process ended, every persistence entry
    // gone, every payload file deleted or queued for deletion at boot.
    let planned = planned_files(&plan);
    for h in infected {
        let truth = run.lab.truth(h);
        assert!(truth.loader_processes.is_empty(), "{h}: loaders still run: {:?}", truth.loader_processes);
        assert!(truth.persistence.is_empty(), "{h}: persistence left: {:?}", truth.persistence);
        let queued: BTreeSet<String> = run.lab.with_host(h, |s| {
            s.pending_renames()
                .into_iter()
                .filter(|p| p.destination.is_none())
                .map(|p| p.source.to_lowercase())
                .collect()
        });
        // A file left in place is one whose evidence copy could not be
        // made (the lab keeps only the size and hash of some payloads, so
        // neither WinRM nor SMB can read them): never deleted without its
        // copy, and the journal says so.
        for (_, file) in &truth.files {
            let file = file.to_lowercase();
            assert!(
                queued.contains(&file) || skipped_without_evidence(&engagement, h, &file),
                "{h}: {file} neither deleted, nor queued for boot, nor left for want of its evidence copy"
            );
        }
        // Evidence first: a host with files to delete has its ZIP (Qakbot's
        // launcher leaves no file behind while it runs: nothing to keep).
        if !planned.contains_key(h) {
            continue;
        }
        let zips: Vec<_> = std::fs::read_dir(engagement.join("evidence").join(h))
            .unwrap_or_else(|e| panic!("{h}: no evidence folder: {e}"))
            .collect();
        assert_eq!(zips.len(), 1, "{h}: {zips:?}");
    }
    // Nothing else was touched: every file that is gone was in the plan,
    // and the clean host is exactly as it was.
    let after = files(&run.lab);
    for (host, files) in &before {
        for (path, sha) in files {
            let still = after[host].get(path) == Some(sha);
            if !still {
                assert!(
                    planned.get(host).is_some_and(|p| p.contains(path)),
                    "{host}: {path} was removed or changed but is not in the plan"
                );
            }
        }
    }
    assert_eq!(before["WS-003"], after["WS-003"]);

    // The journal: who ran it, with which plan; every action begun ended;
    // nothing destructive twice.
    let j = Journal::open_read_only(&engagement).unwrap();
    let op = j.latest_operation().unwrap().unwrap();
    assert_eq!((op.command.as_str(), op.status.as_str(), op.exit_code), ("apply", "finished", Some(2)));
    assert!(op.plan_id.is_some() && op.plan_sha256.as_ref().is_some_and(|s| s.len() == 64));
    let actions = j.operation_actions(op.id).unwrap();
    assert!(actions.iter().any(|a| a.key.starts_with("purge/r0/evidence")));
    assert!(actions.iter().all(|a| a.outcome.is_some()), "an action without an end");
    drop(j);
    assert!(changed_twice(&engagement).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_scanned_again_after_the_plan_is_refused_and_left_alone() {
    let run = lab_run(2, 2, |_, world| {
        world.hosts[0].infections.push(quiet(Family::Emotet));
        world.hosts[1].infections.push(quiet(Family::TrickBot));
    })
    .await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    scan_and_plan(&run, &eng).await;
    let again = run.cauterize("scan", &["--engagement", &eng, "-l", "WS-001", "--no-progress"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let plan_path = run.dir.path().join("plan.yml").display().to_string();
    let out = run.cauterize("apply", &[&plan_path, "--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}", out.stderr);
    assert!(out.stdout.contains("refused        WS-001"), "{}", out.stdout);
    assert!(
        out.stdout.contains("  refused        WS-001\n                 WS-001: refused: WS-001 was scanned again after plan 1"),
        "the summary says why the host was refused: {}",
        out.stdout
    );
    let j = Journal::open_read_only(&engagement).unwrap();
    let op = j.latest_operation().unwrap().unwrap();
    let hosts = j.operation_hosts(op.id).unwrap();
    let ws1 = hosts.iter().find(|h| h.host == "WS-001").unwrap();
    assert_eq!(ws1.state, "refused");
    let why = ws1.reason.clone().unwrap();
    assert!(why.contains("scanned again after plan") && why.contains("run `cauterize plan`"), "{why}");
    // Nothing was sent to WS-001: its loader runs on; WS-002 was purged.
    assert!(j.operation_actions(op.id).unwrap().iter().all(|a| a.host != "WS-001"));
    assert!(run.lab.truth("WS-001").infected());
    assert!(!run.lab.truth("WS-002").infected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_apply_then_resumed_reaches_the_same_end_with_nothing_done_twice() {
    // Slow hosts (every WinRM request waits), two at a time: the apply
    // takes long enough to be killed in the middle of its purge. Qakbot is
    // left out here: its one-shot SYSTEM task starts the loader again two
    // lab minutes after install, so a purge interrupted between its kill
    // and the task's delete can leave a new loader process that only the
    // post-boot verify (not available yet: no reboot operation) catches;
    // uninterrupted, Qakbot is purged in the first test.
    let run = slow_lab(3, 10, None).await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    scan_and_plan(&run, &eng).await;
    let mut child = spawn_apply(&run, &eng, 2);
    // Kill -9 once some hosts are purged and others not yet.
    let started = std::time::Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(120), "the purge never got going");
        assert!(child.try_wait().unwrap().is_none(), "apply ended before it could be killed");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(j) = Journal::open_read_only(&engagement) else { continue };
        let Some(op) = j.latest_operation().unwrap() else { continue };
        let ended = j
            .operation_actions(op.id)
            .unwrap()
            .iter()
            .filter(|a| a.key.starts_with("purge/r0/op/") && a.outcome.is_some())
            .count();
        if ended >= 4 {
            break;
        }
    }
    child.start_kill().expect("kill -9");
    child.wait().await.unwrap();
    {
        let j = Journal::open_read_only(&engagement).unwrap();
        let op = j.latest_operation().unwrap().unwrap();
        assert_eq!(op.status, "running", "killed: the journal still says running");
        let hosts = j.operation_hosts(op.id).unwrap();
        assert!(hosts.iter().any(|h| h.state != "purged" && h.state != "clean"), "the kill came too late: {hosts:?}");
    }

    let out = run.cauterize("apply", &["--resume", "--engagement", &eng, "--no-progress"]).await;
    println!("{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}", out.stderr);
    assert!(out.stderr.contains("took over the engagement lock"), "{}", out.stderr);
    // The same end as an uninterrupted apply: every host purged, no loader
    // process and no persistence left, and no destructive action twice.
    for h in &run.lab.spec().hosts {
        let truth = run.lab.truth(&h.name);
        assert!(truth.loader_processes.is_empty(), "{}: {:?}", h.name, truth.loader_processes);
        assert!(truth.persistence.is_empty(), "{}: {:?}", h.name, truth.persistence);
    }
    assert!(changed_twice(&engagement).is_empty(), "{:?}", changed_twice(&engagement));
    let j = Journal::open_read_only(&engagement).unwrap();
    let op = j.latest_operation().unwrap().unwrap();
    assert_eq!(op.status, "finished");
    assert!(j.operation_hosts(op.id).unwrap().iter().all(|h| h.state == "purged"), "{:?}", j.operation_hosts(op.id));
    // Two runs worked on the one operation.
    let runs: Vec<_> = j.runs().unwrap().into_iter().filter(|r| r.command == "apply").collect();
    assert_eq!(runs.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_on_the_engagement_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inv.yml");
    std::fs::write(
        &inventory,
        "allow_plaintext_passwords: true\ncredentials:\n  lab: {user: a, password: b}\ndefaults: {credential: lab}\nhosts:\n  WS-001: {address: 127.110.4.1}\n",
    )
    .unwrap();
    let engagement = dir.path().join("case");
    std::fs::create_dir_all(&engagement).unwrap();
    let held = cauterize::journal::lock::EngagementLock::acquire(&engagement, "apply").unwrap();
    let out = common::harness::run(&[
        "scan",
        "-i",
        &inventory.display().to_string(),
        "--engagement",
        &engagement.display().to_string(),
    ])
    .await;
    assert_eq!(out.code, cauterize::exit::USAGE, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("in use by cauterize apply (PID {}", std::process::id())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&held.holder().started_at), "{}", out.stderr);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_a_terminal_progress_is_a_line_at_a_steady_pace() {
    // One host hangs its command: `exec` waits for it, and says so.
    let run = lab_run(5, 3, |spec, _| {
        spec.hosts[1].fault = HostFault::HangReceive;
    })
    .await;
    let started = std::time::Instant::now();
    let out = run
        .cauterize("exec", &["--progress-every", "1", "--timeout", "5", "--", "hostname"])
        .await;
    let secs = started.elapsed().as_secs_f64();
    println!("{}\n{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.contains(" running (")).collect();
    assert!(!lines.is_empty(), "no progress line: {}", out.stderr);
    assert!(lines.iter().any(|l| l.starts_with("exec: 2/3 done, 0 failed, 1 running") && l.contains("slowest: WS-002")), "{lines:?}");
    // A line a second at most, never one per host.
    assert!(lines.len() as f64 <= secs + 1.0, "{} lines in {secs:.1} s", lines.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_the_journal_while_an_apply_runs_in_another_process() {
    // Slow hosts, one at a time: the apply is still running when `status`
    // (another process, no lock) reads the journal.
    let run = slow_lab(6, 6, Some(5)).await;
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    scan_and_plan(&run, &eng).await;
    let mut child = spawn_apply(&run, &eng, 1);
    // Once the purge has begun on some host, and while the apply runs.
    let started = std::time::Instant::now();
    let during = loop {
        assert!(started.elapsed() < Duration::from_secs(120), "the purge never got going");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let out = common::harness::run(&["status", "--engagement", &eng, "--json"]).await;
        if out.code != 0 {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
        if v["hosts"].as_array().is_some_and(|h| h.iter().any(|h| h["purged"].as_u64() > Some(0))) {
            break v;
        }
    };
    assert!(child.try_wait().unwrap().is_none(), "status was read after the apply ended: the test proves nothing");
    assert_eq!(during["operation"]["status"], "running", "{during}");
    assert_eq!(during["operation"]["command"], "apply");
    let code = child.wait().await.unwrap().code();
    assert_eq!(code, Some(cauterize::exit::PARTIAL));

    // After: every host with its state; the unscanned host holds the
    // release with why; filters work; the text names the reason.
    let out = common::harness::run(&["status", "--engagement", &eng, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["operation"]["status"], "finished");
    let hosts = v["hosts"].as_array().unwrap();
    let row = |h: &str| hosts.iter().find(|x| x["host"] == h).unwrap_or_else(|| panic!("{h} not in {v}")).clone();
    for h in ["WS-001", "WS-002", "WS-003", "WS-004", "WS-005"] {
        let r = row(h);
        assert_eq!(r["state"], "purged", "{r}");
        assert!(r["findings"].as_u64().unwrap() > 0 && r["purged"].as_u64().unwrap() > 0, "{r}");
        assert_eq!((r["verified"].as_bool(), r["held"].as_bool()), (Some(false), Some(false)), "{r}");
    }
    let down = row("WS-006");
    assert_eq!(down["state"], "refused");
    assert_eq!(down["held"], true);
    assert!(down["why"].as_str().unwrap().contains("not in plan"), "{down}");
    // The journal's own count of ended plan operations.
    let j = Journal::open_read_only(&engagement).unwrap();
    let op = j.latest_operation().unwrap().unwrap();
    let ended = j
        .operation_actions(op.id)
        .unwrap()
        .iter()
        .filter(|a| a.host == "WS-001" && a.key.contains("/op/") && matches!(a.outcome.as_deref(), Some("done" | "queued")))
        .count();
    assert_eq!(row("WS-001")["purged"].as_u64(), Some(ended as u64));

    let one = common::harness::run(&["status", "--engagement", &eng, "--state", "refused"]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stdout.contains("WS-006") && !one.stdout.contains("WS-001 "), "{}", one.stdout);
    assert!(one.stdout.contains("not in plan"), "{}", one.stdout);
    let bad = common::harness::run(&["status", "--engagement", &eng, "--state", "asleep"]).await;
    assert_eq!(bad.code, cauterize::exit::USAGE);
    assert!(bad.stderr.contains("--state asleep: not a host state"), "{}", bad.stderr);
    let none = common::harness::run(&["status", "--engagement", &run.dir.path().display().to_string()]).await;
    assert_eq!(none.code, cauterize::exit::USAGE);
    assert!(none.stderr.contains("holds no journal"), "{}", none.stderr);
}

/// The playbook's `contain.exempt.addresses` reach the hosts: the rules an
/// apply makes from the reviewed plan, and those `contain` makes on its own
/// (from the engagement's playbook), leave SMB open to the exempt range and
/// block it from everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playbooks_exempt_addresses_keep_smb_on_the_contained_hosts() {
    let run = lab_run(7, 2, |_, world| {
        world.hosts[0].infections.push(quiet(Family::Emotet));
    })
    .await;
    let playbook = run.dir.path().join("exempt.yml");
    std::fs::write(&playbook, "playbook: 1\ncontain:\n  exempt:\n    addresses: [10.20.30.0/24]\nrelease: manual\n").unwrap();
    let pb = playbook.display().to_string();
    let keeps_smb = |h: &str, peer: &str| {
        let peer: Ipv4Addr = peer.parse().unwrap();
        run.lab.with_host(h, |s| {
            let d = s.firewall.decide_explained(lab::world::firewall::Direction::In, lab::world::firewall::Protocol::Tcp, 445, peer, 50000);
            !matches!(d.reason, lab::world::firewall::Reason::BlockRule(_))
        })
    };
    for (case, with_plan) in [("apply", true), ("contain", false)] {
        let eng = run.dir.path().join(case).display().to_string();
        let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
        assert!(matches!(scan.code, 0 | 2), "scan: {}", scan.stderr);
        let plan_path = run.dir.path().join(format!("{case}.yml")).display().to_string();
        let plan = run.cauterize("plan", &["--engagement", &eng, "-p", &pb, "-o", &plan_path, "--no-progress"]).await;
        assert!(matches!(plan.code, 0 | 2), "plan: {}", plan.stderr);
        assert!(std::fs::read_to_string(&plan_path).unwrap().contains("10.20.30.0/24"), "the plan shows the exempt range");
        let out = if with_plan {
            run.cauterize("apply", &[&plan_path, "--engagement", &eng, "--no-progress"]).await
        } else {
            run.cauterize("contain", &["--engagement", &eng, "--no-progress"]).await
        };
        assert!(matches!(out.code, 0 | 2), "{case}: {}\n{}", out.code, out.stderr);
        for h in ["WS-001", "WS-002"] {
            assert!(keeps_smb(h, "10.20.30.7"), "{case}: {h} blocks SMB from the exempt range");
            assert!(!keeps_smb(h, "10.20.31.7"), "{case}: {h} keeps SMB open outside the exempt range");
        }
        let release = run.cauterize("release", &["--engagement", &eng, "--all", "--no-progress"]).await;
        assert_eq!(release.code, 0, "release: {}", release.stderr);
        assert!(keeps_smb("WS-001", "10.20.31.7"), "{case}: released");
    }
}
