//! The dead-man end to end: the real binary contains the lab's hosts
//! (`apply`), registering on each the dead-man task that `runtime.ps1`
//! makes (SYSTEM, one time trigger at the deadline, StartWhenAvailable,
//! `powershell.exe -EncodedCommand ...`); the tool is then killed (kill
//! -9, mid-operation) and never releases. The lab's Task Scheduler fires
//! the task when lab time reaches its trigger and runs its action through
//! the lab's PowerShell engine as SYSTEM, as Windows would: the lab's
//! ground truth shows the engagement's rules and the task there before the
//! deadline, and gone after it, while the customer's own firewall rule
//! and the host's other tasks stay.
//! Loopback range: 127.143.0.0/16, one /24 per test.

use crate::common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use cauterize::lab::malware::Family;
use cauterize::lab::world::eventlog::LogName;
use cauterize::lab::world::netaddr::PortList;
use cauterize::lab::world::{Direction, FirewallRule, LabTime, Protocol, Trigger, Verdict};
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;

const HOSTS: [&str; 2] = ["WS-001", "WS-002"];

/// Two workstations from 127.143.<net>.1 at 30 lab seconds per wall
/// second (the 15-minute dead-man passes in 30 s), WS-001 running a
/// loader as its logged-on user; the Task Scheduler log is on, and each
/// host has a firewall rule of its own (the customer's).
async fn lab(net: u8) -> LabRun {
    let spec = lab::scenario::simple(HOSTS.len() as u32, Ipv4Addr::new(127, 143, net, 1), 5985);
    let settings = LabSettings {
        speed: 30.0,
        step_every: Duration::from_millis(200),
        ..LabSettings::default()
    };
    let mut world = WorldSpec::derived(&spec, settings);
    world.hosts[0].infections.push(common::harness::quiet(Family::Emotet));
    let run = LabRun::start_world(spec, world).await;
    for h in HOSTS {
        run.lab.give_loader_files_bytes(h);
        run.lab.with_host(h, |s| {
            s.event_logs.log_mut(LogName::TaskSchedulerOperational).enabled = true;
            s.firewall.add_rule(customer_rule()).expect("the customer's rule");
        });
    }
    run
}

/// A block rule the customer made: never cauterize's to touch.
fn customer_rule() -> FirewallRule {
    let mut r = FirewallRule::new("Contoso - block SMB from the guest VLAN", Direction::In, Verdict::Block, Protocol::Tcp);
    r.local_ports = PortList::ports(&[445]);
    r
}

/// The playbook: a 15-minute dead-man (the shortest allowed), and a
/// reboot that waits for the logged-on user (who never leaves): the apply
/// is still running, waiting, when the test kills it.
const PLAYBOOK: &str = "playbook: 1
contain:
  dead_man: 15m
  extend_every: 5m
reboot:
  waves: [\"100%\"]
  pause: 0s
  countdown: 5s
  logged_on: wait
  logoff_wait: 2h
verify:
  settle: 0s
release: manual
";

/// What of containment the lab shows on `host`: the names of the
/// engagement's rules (`cauterize-<id>-...`), its dead-man tasks (path,
/// deadline), whether the customer's rule is there unchanged, and the
/// host's other tasks.
struct Truth {
    rules: Vec<String>,
    deadman: Vec<(String, LabTime)>,
    customer_rule: bool,
    other_tasks: Vec<String>,
}

fn truth(lab: &Lab, host: &str) -> Truth {
    lab.with_host(host, |s| {
        let ours = |t: &cauterize::lab::world::Task| t.folder.eq_ignore_ascii_case(r"\Cauterize");
        Truth {
            rules: s.firewall.rules().iter().filter(|r| r.name.starts_with("cauterize-")).map(|r| r.name.clone()).collect(),
            deadman: s
                .tasks
                .iter()
                .filter(|t| ours(t))
                .map(|t| {
                    let at = t.triggers.iter().find_map(|tr| match tr {
                        Trigger::Time { start, .. } => Some(*start),
                        _ => None,
                    });
                    (t.path(), at.expect("the dead-man has a time trigger"))
                })
                .collect(),
            customer_rule: s.firewall.rules().iter().filter(|r| **r == customer_rule()).count() == 1,
            other_tasks: s.tasks.iter().filter(|t| !ours(t)).map(|t| t.path()).collect(),
        }
    })
}

/// The Task Scheduler log's 201 "Action completed" records of `task`:
/// their result codes.
fn completed(lab: &Lab, host: &str, task: &str) -> Vec<String> {
    lab.with_host(host, |s| {
        s.event_logs
            .log(LogName::TaskSchedulerOperational)
            .records()
            .filter(|e| e.event_id == 201 && e.property("TaskName") == Some(task))
            .map(|e| e.property("ResultCode").unwrap_or_default().to_string())
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_operation_the_dead_man_lifts_exactly_the_engagements_rules_at_its_deadline() {
    let run = lab(1).await;
    let eng = run.dir.path().join("case").display().to_string();
    let scan = run.cauterize("scan", &["--engagement", &eng, "--no-progress"]).await;
    assert!(matches!(scan.code, 0 | 2), "scan: {}\n{}", scan.code, scan.stderr);
    let (_, plan) = run.plan_with_playbook(&eng, PLAYBOOK).await;
    assert!(plan.contains("{op: contain}"), "the plan contains the hosts:\n{plan}");
    let before: Vec<Truth> = HOSTS.iter().map(|h| truth(&run.lab, h)).collect();
    for (h, t) in HOSTS.iter().zip(&before) {
        assert!(t.rules.is_empty() && t.deadman.is_empty() && t.customer_rule, "{h} starts uncontained with its own rule");
    }

    let plan_path = run.dir.path().join("plan.yml").display().to_string();
    let inv = run.inventory.display().to_string();
    // Contained, purged, and waiting for WS-001's user: kill -9 it there.
    let args = ["apply", &plan_path, "-i", &inv, "--engagement", &eng];
    let (mut child, _stderr, said) = common::harness::start_until(&args, "WS-001: waiting up to 2h", Duration::from_secs(120)).await;
    child.start_kill().expect("kill -9");
    child.wait().await.expect("the apply is gone");
    let killed_at = run.lab.now();

    // Before the deadline: every host holds the engagement's rules and its
    // dead-man, deadline 15 minutes after it was made, still to come.
    let mut deadlines = Vec::new();
    for h in HOSTS {
        let t = truth(&run.lab, h);
        assert!(!t.rules.is_empty(), "{h}: contained\n{}", said.join("\n"));
        let [(task, deadline)] = t.deadman.as_slice() else { panic!("{h}: one dead-man task: {:?}", t.deadman) };
        assert!(task.starts_with(r"\Cauterize\Release-"), "{task}");
        assert!(*deadline > killed_at, "{h}: the deadline {deadline:?} is still to come at the kill ({killed_at:?})");
        assert!(deadline.secs_since(killed_at) <= 15 * 60, "{h}: a 15-minute dead-man");
        assert!(completed(&run.lab, h, task).is_empty(), "{h}: the dead-man has not run yet");
        deadlines.push((h, task.clone(), *deadline));
    }
    let last = deadlines.iter().map(|(_, _, d)| *d).max().unwrap();

    // Lab time passes the deadline (30 s of wall time at most); the
    // tool is gone and nothing released: the dead-man does it.
    let wait_until = Instant::now() + run.lab.network().clock().wall_until(last.plus_secs(120)) + Duration::from_secs(10);
    loop {
        let gone = HOSTS.iter().all(|h| {
            let t = truth(&run.lab, h);
            t.rules.is_empty() && t.deadman.is_empty()
        });
        if gone || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for ((h, task, deadline), was) in deadlines.iter().zip(&before) {
        let t = truth(&run.lab, h);
        assert!(run.lab.now() >= *deadline);
        assert!(t.rules.is_empty(), "{h}: the engagement's rules are still there after the deadline: {:?}", t.rules);
        assert!(t.deadman.is_empty(), "{h}: the dead-man removed itself: {:?}", t.deadman);
        assert!(t.customer_rule, "{h}: the customer's rule stays, unchanged");
        assert_eq!(t.other_tasks, was.other_tasks, "{h}: no other task touched");
        // The Task Scheduler ran it once, and PowerShell exited 0.
        assert_eq!(completed(&run.lab, h, task), vec!["0".to_string()], "{h}");
    }
}
