//! The engine's orchestration against the scripted fake host steps
//! ([`super::fake`]), in paused tokio time (countdowns, down times and
//! pauses pass instantly, in order): barriers between phases, purge order,
//! waves and their limits, the failure budget, halting, re-purge rounds,
//! release policies, unavailable phases, and resuming from the journal
//! after a run is dropped mid-way (as kill -9 would end it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::emit::tests::Collect;
use super::event::{Event, Outcome, Phase};
use super::fake::{FakeHosts, FakeOperator, FakeReplan, RebootScript, Script};
use super::operation::{Inputs, run};
use super::phases::ReleaseSelection;
use super::plan_input::{OperationPlan, PlannedHost, PlannedOp};
use super::resume::Prior;
use super::sources::{NoSources, SourceCheck};
use super::settings::{FailureBudget, OperationSettings, ReleasePolicy, RetryPolicy, Role};
use super::state::HostState;
use super::summary::OperationResult;
use crate::runtime::ops::Op;

fn kill(id: i64) -> PlannedOp {
    PlannedOp {
        plan_op_id: id,
        op: Op::KillProcess {
            pid: id as u32,
            expected_image: "loader.exe".into(),
            expected_started: String::new(),
        },
    }
}

fn delete(id: i64, path: &str) -> PlannedOp {
    PlannedOp {
        plan_op_id: id,
        op: Op::DeleteFile {
            path: path.into(),
            expected_sha256: "ab".repeat(32),
            queue_if_locked: true,
            lateral_service: Default::default(),
        },
    }
}

/// Hosts `(name, role, infected)`; an infected host has a kill and a
/// file delete, and a reboot in the wave the plan's wave assignment
/// ([`crate::plan::waves`]) gives it under the default playbook.
fn plan_of(hosts: &[(&str, Role, bool)]) -> OperationPlan {
    plan_with_waves(hosts, &crate::playbook::Playbook::builtin().reboot.waves)
}

/// [`plan_of`] with the playbook's wave sizes `sizes`.
fn plan_with_waves(hosts: &[(&str, Role, bool)], sizes: &[crate::playbook::Share]) -> OperationPlan {
    let mut reboot = crate::playbook::Playbook::builtin().reboot.clone();
    reboot.waves = sizes.to_vec();
    let candidates: Vec<crate::plan::waves::Candidate> = hosts
        .iter()
        .filter(|(_, _, infected)| *infected)
        .map(|(name, role, _)| crate::plan::waves::Candidate {
            host: name.to_string(),
            class: match role {
                Role::Workstation => crate::playbook::Role::Workstation,
                Role::Server => crate::playbook::Role::Server,
                Role::DomainController => crate::playbook::Role::DomainController,
            },
            exempt: false,
            window: None,
        })
        .collect();
    let waves = crate::plan::waves::assign(&candidates, &reboot);
    let wave_of = |name: &str| waves.iter().find(|w| w.hosts.iter().any(|h| h == name)).map(|w| w.number);
    let mut plan = plain_plan(hosts);
    for h in &mut plan.hosts {
        if let Some(wave) = wave_of(&h.name) {
            h.steps.push((10_000 + i64::from(wave), crate::plan::Step::Reboot { wave, window: None }));
        }
    }
    plan
}

fn plain_plan(hosts: &[(&str, Role, bool)]) -> OperationPlan {
    let mut next = 1;
    OperationPlan {
        hosts: hosts
            .iter()
            .map(|(name, role, infected)| {
                let ops = if *infected {
                    next += 2;
                    vec![kill(next - 2), delete(next - 1, &format!(r"C:\Users\bob\AppData\{name}.dll"))]
                } else {
                    vec![]
                };
                PlannedHost {
                    name: name.to_string(),
                    address: format!("10.0.0.{next}"),
                    role: *role,
                    groups: vec![format!("{}s", role.as_str())],
                    snapshot_id: Some(1),
                    ops,
                    exempt: false,
                    never_contained: false,
                    operator: Vec::new(),
                    steps: Vec::new(),
                }
            })
            .collect(),
        ..OperationPlan::default()
    }
}

fn fast() -> OperationSettings {
    let mut s = OperationSettings::default();
    s.forks = 16;
    s.step_timeout = Duration::from_secs(120);
    s.retry = RetryPolicy {
        tries: 3,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(4),
    };
    s.reboot.countdown = Duration::from_secs(30);
    s.reboot.back_within = Duration::from_secs(600);
    s.reboot.poll_every = Duration::from_secs(5);
    s.reboot.pause_between_waves = Duration::from_secs(10);
    s.reboot.max_down = 3;
    s.budget = FailureBudget::Percent(50);
    s.settle = Duration::ZERO;
    s
}

struct Run {
    result: OperationResult,
    events: Vec<Event>,
    fake: Arc<FakeHosts>,
}

async fn go(fake: FakeHosts, plan: OperationPlan, settings: OperationSettings) -> Run {
    go_with(Arc::new(fake), plan, settings, true, CancellationToken::new(), vec![]).await
}

async fn go_with(
    fake: Arc<FakeHosts>,
    plan: OperationPlan,
    settings: OperationSettings,
    answer: bool,
    cancel: CancellationToken,
    accepted: Vec<String>,
) -> Run {
    let every = vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    go_phases(fake, plan, settings, (answer, cancel, accepted), every, ReleaseSelection::Policy, None, Arc::new(NoSources)).await
}

/// [`go_with`] running only `phases`, releasing `release`.
async fn go_phases(
    fake: Arc<FakeHosts>,
    plan: OperationPlan,
    settings: OperationSettings,
    operator: (bool, CancellationToken, Vec<String>),
    phases: Vec<Phase>,
    release: ReleaseSelection,
    prior: Option<Prior>,
    sources: Arc<dyn SourceCheck>,
) -> Run {
    go_after(fake, plan, settings, operator, (phases, release), (prior, None, sources)).await
}

/// [`go_phases`] continuing from `prior` (what the journal holds), as a
/// run of `watch` when `late` is given.
async fn go_after(
    fake: Arc<FakeHosts>,
    plan: OperationPlan,
    settings: OperationSettings,
    (answer, cancel, accepted): (bool, CancellationToken, Vec<String>),
    (phases, release): (Vec<Phase>, ReleaseSelection),
    (prior, late, sources): (Option<Prior>, Option<Vec<String>>, Arc<dyn SourceCheck>),
) -> Run {
    let sink = Collect::default();
    let emitter = Arc::new(Emitter::new(vec![Box::new(sink.clone())]));
    let result = run(Inputs {
        steps: Arc::clone(&fake),
        replan: Arc::new(FakeReplan::new(Arc::clone(&fake))),
        approver: Arc::new(FakeOperator {
            answer,
            asked: Mutex::new(vec![]),
        }),
        plan,
        settings,
        emitter,
        cancel,
        prior,
        rule_prefix: "cauterize-test".into(),
        exempt: vec![],
        accepted,
        resume_command: "cauterize apply --resume".into(),
        phases,
        release,
        late,
        sources,
    })
    .await
    .expect("the engine runs");
    Run {
        result,
        events: sink.events(),
        fake,
    }
}

fn state(r: &OperationResult, host: &str) -> HostState {
    r.hosts.iter().find(|h| h.name == host).unwrap_or_else(|| panic!("no {host}")).state
}

/// Hosts that needed no reboot but whose verifying scan finds something
/// are re-purged and rebooted in the verify phase: never more of them down
/// at once than `max_down`, though they are scanned `forks` at a time.
#[tokio::test(start_paused = true)]
async fn hosts_rebooted_in_the_verify_phase_keep_to_max_down() {
    let names: Vec<String> = (1..=9).map(|i| format!("WS-{i:02}")).collect();
    let spec: Vec<(&str, Role, bool)> = names.iter().map(|n| (n.as_str(), Role::Workstation, false)).collect();
    let scripts: Vec<(&str, Script)> = names.iter().map(|n| (n.as_str(), Script { dirty_scans: 1, ..Script::default() })).collect();
    let settings = fast();
    assert!(settings.forks > settings.reboot.max_down, "the test needs more forks than places");
    let r = go(FakeHosts::new(&scripts), plan_of(&spec), settings).await;
    for n in &names {
        assert_eq!(r.fake.boots(n), 1, "{n}: re-purged once, so rebooted once");
    }
    let peak = *r.fake.peak_down.lock().unwrap();
    assert!(peak <= 3, "{peak} hosts down at once, max_down is 3");
    assert!(peak >= 2, "the verify phase's reboots still overlap ({peak})");
}

#[tokio::test(start_paused = true)]
async fn a_healthy_network_is_contained_purged_rebooted_verified_and_released() {
    use Role::*;
    let plan = plan_of(&[
        ("WS-01", Workstation, true),
        ("WS-02", Workstation, false),
        ("WS-03", Workstation, true),
        ("WS-04", Workstation, true),
        ("FS-01", Server, true),
        ("FS-02", Server, false),
        ("DC-01", DomainController, true),
    ]);
    let r = go(FakeHosts::new(&[]), plan, fast()).await;
    assert_eq!(r.result.exit_code(), 0, "{:#?}", r.result.hosts);
    for h in &r.result.hosts {
        assert_eq!(h.state, HostState::Released, "{h:?}");
        assert!(!r.fake.contained(&h.name), "{}: rules left", h.name);
        let infected = !["WS-02", "FS-02"].contains(&h.name.as_str());
        // Each cleaned host rebooted exactly once; the others never.
        assert_eq!(r.fake.boots(&h.name), u32::from(infected), "{}", h.name);
    }
    // Barriers: every containment before any purge, every purge before
    // any reboot.
    let calls = r.fake.calls.lock().unwrap().clone();
    let last = |what: &str| calls.iter().rposition(|c| c.what.starts_with(what)).unwrap();
    let first = |what: &str| calls.iter().position(|c| c.what.starts_with(what)).unwrap();
    assert!(last("contain") < first("evidence") && last("contain") < first("apply"));
    assert!(last("apply") < first("reboot"));
    // Infected exempt hosts (the file server, the DC) are purged before
    // any workstation.
    let applies: Vec<&str> = calls.iter().filter(|c| c.what.starts_with("apply")).map(|c| c.host.as_str()).collect();
    let ws_first = applies.iter().position(|h| h.starts_with("WS")).unwrap();
    assert!(applies[..ws_first].contains(&"FS-01") && applies[..ws_first].contains(&"DC-01"), "{applies:?}");
    // Phases in order.
    let phases: Vec<Phase> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseStarted { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    assert_eq!(phases, vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release]);
    // Every action that began ended.
    let begun = r.events.iter().filter(|e| matches!(e, Event::ActionBegun { .. })).count();
    let ended = r.events.iter().filter(|e| matches!(e, Event::ActionEnded { .. })).count();
    assert_eq!(begun, ended);
}

#[tokio::test(start_paused = true)]
async fn waves_canary_first_groups_in_order_dcs_alone_and_never_more_down_than_allowed() {
    let mut hosts: Vec<(String, Role)> = (1..=20).map(|i| (format!("WS-{i:02}"), Role::Workstation)).collect();
    hosts.push(("FS-01".into(), Role::Server));
    hosts.push(("DC-01".into(), Role::DomainController));
    hosts.push(("DC-02".into(), Role::DomainController));
    let spec: Vec<(&str, Role, bool)> = hosts.iter().map(|(n, r)| (n.as_str(), *r, true)).collect();
    let r = go(FakeHosts::new(&[]), plan_of(&spec), fast()).await;
    assert_eq!(r.result.exit_code(), 0);
    let waves: Vec<(u32, Vec<String>)> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::WaveStarted { wave, hosts, .. } => Some((*wave, hosts.clone())),
            _ => None,
        })
        .collect();
    let sizes: Vec<usize> = waves.iter().map(|(_, h)| h.len()).collect();
    // 23 hosts: 1, 5, 10% = 3, then 100% of the workstations left (11),
    // the server, then each DC alone.
    assert_eq!(sizes, vec![1, 5, 3, 11, 1, 1, 1], "{waves:?}");
    assert_eq!(waves[4].1, vec!["FS-01"]);
    assert_eq!((waves[5].1[0].as_str(), waves[6].1[0].as_str()), ("DC-01", "DC-02"));
    // Never more than max_down (3) rebooting at once.
    assert!(*r.fake.peak_down.lock().unwrap() <= 3);
    // The canary is back and verified before wave 2 asks anyone.
    let reboots = r.fake.calls_of("reboot");
    let scans = r.fake.calls_of("scan");
    let canary_verified = scans.iter().find(|c| c.host == waves[0].1[0]).unwrap().at;
    assert!(reboots[1].at > canary_verified);
    // DC-02 is asked only after DC-01 is verified.
    let dc1_verified = scans.iter().find(|c| c.host == "DC-01").unwrap().at;
    let dc2_asked = reboots.iter().find(|c| c.host == "DC-02").unwrap().at;
    assert!(dc2_asked > dc1_verified);
}

#[tokio::test(start_paused = true)]
async fn a_spent_failure_budget_halts_before_the_next_wave_and_says_what_to_run() {
    let spec: Vec<(String, Role, bool)> = (1..=12).map(|i| (format!("WS-{i:02}"), Role::Workstation, true)).collect();
    let spec_ref: Vec<(&str, Role, bool)> = spec.iter().map(|(n, r, i)| (n.as_str(), *r, *i)).collect();
    // Wave 2 (WS-02..WS-06): two hosts hang.
    let hang = Script {
        reboot: RebootScript::Hangs,
        ..Script::default()
    };
    let mut settings = fast();
    settings.budget = FailureBudget::Count(1);
    let r = go(FakeHosts::new(&[("WS-03", hang.clone()), ("WS-05", hang)]), plan_of(&spec_ref), settings).await;
    assert_eq!(r.result.exit_code(), 2);
    let halt = r.result.halted.as_ref().expect("halted");
    assert_eq!(halt.phase, Phase::Reboot);
    assert!(halt.why.contains("failure budget (1 host)") && halt.why.contains("WS-03"), "{}", halt.why);
    assert_eq!(halt.next, "cauterize apply --resume");
    assert_eq!(state(&r.result, "WS-03"), HostState::RebootFailed);
    // Waves 3 and on never started: six reboots asked (the canary and wave 2).
    assert_eq!(r.fake.calls_of("reboot").len(), 6);
    assert_eq!(state(&r.result, "WS-12"), HostState::Purged);
    // Nothing was released: containment stays.
    assert!(r.fake.contained("WS-01"));
    assert!(r.events.iter().any(|e| matches!(e, Event::Halted { .. })));
    assert!(r.result.next_steps("cauterize apply --resume")[0].contains("cauterize apply --resume"));
}

#[tokio::test(start_paused = true)]
async fn a_canary_left_for_a_person_after_its_reboot_does_not_spend_the_budget() {
    let spec: Vec<(String, Role, bool)> = (1..=6).map(|i| (format!("WS-{i:02}"), Role::Workstation, true)).collect();
    let spec_ref: Vec<(&str, Role, bool)> = spec.iter().map(|(n, r, i)| (n.as_str(), *r, *i)).collect();
    // The canary (WS-01) reboots fine every time, but its loader is found
    // again after every round: it ends needing a person.
    let stubborn = Script {
        dirty_scans: 10,
        ..Script::default()
    };
    let mut settings = fast();
    settings.budget = FailureBudget::Count(0);
    let r = go(FakeHosts::new(&[("WS-01", stubborn)]), plan_of(&spec_ref), settings).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::NeedsPerson);
    assert!(r.result.halted.is_none(), "halted: {:?}", r.result.halted);
    // The second wave ran: every other host rebooted once and is clean.
    for i in 2..=6 {
        let h = format!("WS-{i:02}");
        assert_eq!(r.fake.boots(&h), 1, "{h}");
        assert_eq!(state(&r.result, &h), HostState::Clean, "{h}");
    }
    assert_eq!(r.result.exit_code(), 2);
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_countdowns_aborts_them_and_keeps_containment() {
    let spec: Vec<(String, Role, bool)> = (1..=8).map(|i| (format!("WS-{i:02}"), Role::Workstation, true)).collect();
    let spec_ref: Vec<(&str, Role, bool)> = spec.iter().map(|(n, r, i)| (n.as_str(), *r, *i)).collect();
    let mut settings = fast();
    settings.reboot.countdown = Duration::from_secs(300);
    let cancel = CancellationToken::new();
    let trip = cancel.clone();
    let fake = Arc::new(FakeHosts::new(&[]));
    let watch = Arc::clone(&fake);
    tokio::spawn(async move {
        // Once three countdowns run, press Ctrl-C.
        while watch.calls_of("reboot").len() < 3 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        trip.cancel();
    });
    let r = go_with(fake, plan_with_waves(&spec_ref, &[crate::playbook::Share::Count(8)]), settings, true, cancel, vec![]).await;
    assert_eq!(r.result.exit_code(), 130);
    let asked: Vec<String> = r.fake.calls_of("reboot").into_iter().map(|c| c.host).collect();
    let aborted: Vec<String> = r.fake.calls_of("abort").into_iter().map(|c| c.host).collect();
    assert!(!asked.is_empty());
    assert_eq!(asked, aborted, "every pending countdown is aborted");
    for h in &asked {
        assert_eq!(state(&r.result, h), HostState::Purged);
        assert_eq!(r.fake.boots(h), 0, "{h} must not reboot after the abort");
        assert!(r.fake.contained(h));
    }
    assert!(r.fake.calls_of("release").is_empty());
}

#[tokio::test(start_paused = true)]
async fn loaders_that_come_back_are_re_purged_then_left_for_a_person() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true), ("WS-03", Workstation, true)]);
    let once = Script {
        dirty_scans: 1,
        ..Script::default()
    };
    let stubborn = Script {
        dirty_scans: 10,
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-02", once), ("WS-03", stubborn)]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean, "held by WS-03");
    assert_eq!(state(&r.result, "WS-02"), HostState::Clean);
    assert_eq!(state(&r.result, "WS-03"), HostState::NeedsPerson);
    // One reboot, plus one per re-purge round needed.
    assert_eq!(r.fake.boots("WS-01"), 1);
    assert_eq!(r.fake.boots("WS-02"), 2);
    assert_eq!(r.fake.boots("WS-03"), 3, "the default two re-purge rounds");
    // All-clean release is held by the host for a person.
    assert!(r.fake.calls_of("release").is_empty());
    assert!(r.fake.contained("WS-01"));
    assert_eq!(r.result.exit_code(), 2);
    let held = r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("release held") && what.contains("WS-03")));
    assert!(held);
}

#[tokio::test(start_paused = true)]
async fn a_folder_that_waits_for_the_reboot_is_removed_once_the_host_is_back_before_its_verifying_scan() {
    use Role::*;
    let mut plan = plan_of(&[("WS-01", Workstation, true)]);
    let folder = Op::RemoveFolder {
        path: r"C:\Users\bob\AppData\Roaming\Microsoft\Qzxvbn".into(),
        may_hold: vec![],
        after_reboot: true,
    };
    plan.hosts[0].steps.push((20_001, crate::plan::Step::Purge(folder.clone())));
    let r = go(FakeHosts::new(&[]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
    // Not in the purge (the purge's one job holds its two ops), but once
    // the host is back: after the reboot, before the verifying scan.
    let calls: Vec<String> = r.fake.calls.lock().unwrap().iter().filter(|c| c.host == "WS-01").map(|c| c.what.clone()).collect();
    let at = |what: &str| calls.iter().position(|c| c == what).unwrap_or_else(|| panic!("no {what}: {calls:?}"));
    assert_eq!(calls.iter().filter(|c| c.starts_with("apply")).count(), 2, "{calls:?}");
    assert!(at("apply 2") < at("reboot") && at("reboot") < at("apply 1") && at("apply 1") < at("scan"), "{calls:?}");
    assert!(r.fake.applied("WS-01").contains(&serde_json::to_string(&folder).unwrap()));
    // Journaled as its own action of the plan's step, begun and ended.
    let ended = r.events.iter().any(|e| {
        matches!(e, Event::ActionEnded { key, outcome: Outcome::Done, .. } if key == "after_reboot/r0/op/20001")
    });
    assert!(ended, "{:?}", r.events);
    // The purge did not report the step as not carried out.
    assert!(!r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("not carried out"))));
}

#[tokio::test(start_paused = true)]
async fn a_host_whose_reviewed_deny_writes_was_not_placed_is_never_verified_clean_by_a_scan() {
    use Role::*;
    // WS-02's plan denies writes to Qakbot's folder, and the host refuses
    // the deny: Qakbot rewrites its persistence at shutdown and removes it
    // at start-up, so a clean-looking scan after boot proves nothing.
    let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Qzxvbn".to_string();
    let mut plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    plan.hosts[1].steps.push((20_002, crate::plan::Step::DenyWrites { folder: folder.clone() }));
    let refused = Script {
        deny_refused: vec![folder.clone()],
        ..Default::default()
    };
    let r = go(FakeHosts::new(&[("WS-02", refused)]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean, "held by WS-02");
    assert_eq!(state(&r.result, "WS-02"), HostState::NeedsPerson);
    let why = r.result.hosts.iter().find(|h| h.name == "WS-02").and_then(|h| h.reason.clone()).unwrap_or_default();
    assert!(why.contains("deny_writes was not placed") && why.contains(&folder.to_lowercase()) && why.contains("access denied"), "{why}");
    // Purged and rebooted all the same (the rest of its plan ran), once.
    assert_eq!(r.fake.boots("WS-02"), 1);
    assert!(r.fake.calls_of("release").is_empty());
    // The same plan with the deny placed: verified clean.
    let mut plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    plan.hosts[1].steps.push((20_002, crate::plan::Step::DenyWrites { folder }));
    let r = go(FakeHosts::new(&[]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-02"), HostState::Released);
}

#[tokio::test(start_paused = true)]
async fn a_host_whose_post_boot_scan_finds_what_no_operation_addresses_is_for_a_person_not_clean() {
    use Role::*;
    // WS-02's verifying scan finds a finding the purge acts on, and its
    // new plan carries out nothing against it (every step vetoed): no
    // re-purge round can help, and "nothing to do" is not "clean".
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    let stuck = Script {
        unaddressable: true,
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-02", stuck)]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean, "held by WS-02");
    assert_eq!(state(&r.result, "WS-02"), HostState::NeedsPerson);
    let why = r.result.hosts.iter().find(|h| h.name == "WS-02").and_then(|h| h.reason.clone()).unwrap_or_default();
    assert!(why.contains("QAK-INJECT") && why.contains("can carry out nothing"), "{why}");
    // Rebooted once: no re-purge round was spent on what no operation does.
    assert_eq!(r.fake.boots("WS-02"), 1);
    assert!(r.fake.calls_of("release").is_empty(), "the all-clean release is held");
    assert_eq!(r.result.exit_code(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_host_still_showing_a_known_loader_below_the_playbooks_confidence_is_for_a_person_not_clean() {
    use Role::*;
    // WS-02's verifying scan finds nothing the purge acts on, but a
    // Dridex finding at medium under `activate: high`: its loader may run
    // untouched, so the host is never called clean, and the finding is
    // named. WS-03 had nothing to purge and shows the same.
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true), ("WS-03", Workstation, false)]);
    let left = Script {
        loader_below_activate: true,
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-02", left.clone()), ("WS-03", left)]), plan, fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean, "held by the others");
    for h in ["WS-02", "WS-03"] {
        assert_eq!(state(&r.result, h), HostState::NeedsPerson, "{h}");
        let why = r.result.hosts.iter().find(|x| x.name == h).and_then(|x| x.reason.clone()).unwrap_or_default();
        assert!(why.contains("DRX-SIDELOAD-COPIED-EXE (Dridex, medium)") && why.contains("below the playbook's confidence"), "{h}: {why}");
    }
    assert_eq!(r.fake.boots("WS-02"), 1, "no re-purge round: nothing to carry out");
    assert!(r.fake.calls_of("release").is_empty(), "the all-clean release is held");
    assert_eq!(r.result.exit_code(), 2);
}

#[tokio::test(start_paused = true)]
async fn unreached_hosts_hold_the_release_until_accepted_by_name() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true), ("WS-03", Workstation, false)]);
    let down = Script {
        unreachable: true,
        ..Script::default()
    };
    let no_merge = Script {
        contain_problem: Some("Group Policy ignores local rules (AllowLocalPolicyMerge off)".into()),
        ..Script::default()
    };
    let fake = || FakeHosts::new(&[("WS-02", down.clone()), ("WS-03", no_merge.clone())]);
    let r = go(fake(), plan.clone(), fast()).await;
    assert_eq!(state(&r.result, "WS-02"), HostState::Unreached);
    // Not contained, purged anyway (default), verified, and it is not the
    // one holding the release.
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean);
    assert_eq!(state(&r.result, "WS-03"), HostState::Clean);
    assert!(r.fake.calls_of("release").is_empty());
    assert_eq!(r.result.exit_code(), 2);

    let r = go_with(Arc::new(fake()), plan, fast(), true, CancellationToken::new(), vec!["ws-02".into()]).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
    assert!(!r.fake.contained("WS-01"));
    // WS-03's rules were made (not in effect): removed too.
    assert_eq!(state(&r.result, "WS-03"), HostState::Released);
    assert!(!r.fake.contained("WS-03"));
    assert_eq!(r.result.exit_code(), 0, "the accepted host is out of scope");
}

/// A review of unlisted sources: 10.9.9.9 holds until `resolved`; `fails`
/// makes the review itself fail.
struct OneSource {
    resolved: bool,
    fails: bool,
}

impl SourceCheck for OneSource {
    fn review(&self) -> futures::future::BoxFuture<'_, Result<Vec<crate::fleet::holds::SourceHold>, String>> {
        use crate::fleet::holds::{SourceHold, Standing};
        let (resolved, fails) = (self.resolved, self.fails);
        Box::pin(async move {
            if fails {
                return Err("the journal is gone".into());
            }
            Ok(vec![SourceHold {
                address: "10.9.9.9".into(),
                hosts: vec!["WS-02".into()],
                standing: if resolved { Standing::Accepted } else { Standing::Held },
                detail: if resolved { "accepted by the operator: the backup server".into() } else { "not in the inventory".into() },
            }])
        })
    }
}

#[tokio::test(start_paused = true)]
async fn an_unlisted_source_holds_the_release_until_resolved_and_a_failed_review_holds_it_too() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    let every = || vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    let go_src = |settings: OperationSettings, release: ReleaseSelection, resolved: bool, fails: bool| {
        let plan = plan.clone();
        async move {
            let fake = Arc::new(FakeHosts::new(&[]));
            go_phases(fake, plan, settings, (true, CancellationToken::new(), vec![]), every(), release, None, Arc::new(OneSource { resolved, fails })).await
        }
    };
    for policy in [ReleasePolicy::AllClean, ReleasePolicy::PerGroup] {
        let mut settings = fast();
        settings.release = policy;
        let r = go_src(settings, ReleaseSelection::Policy, false, false).await;
        assert_eq!((state(&r.result, "WS-01"), state(&r.result, "WS-02")), (HostState::Clean, HostState::Clean), "{policy:?}");
        assert!(r.fake.calls_of("release").is_empty(), "{policy:?}: nothing released while the source holds");
        assert!(r.fake.contained("WS-01"));
        let decided = r.events.iter().any(|e| matches!(e, Event::Decision { what, .. }
            if what.contains("release held by 1 unlisted source(s) of lateral movement: 10.9.9.9 (reached WS-02): not in the inventory")));
        assert!(decided, "{policy:?}: {:?}", r.events);
        assert_eq!(r.result.exit_code(), 2);
        assert!(r.result.next_steps("x").iter().any(|n| n.contains("--accept-source ADDRESS --reason TEXT") && n.contains("(10.9.9.9)")), "{:?}", r.result.next_steps("x"));
    }
    // Resolved: released, and the result still shows the source and how.
    let r = go_src(fast(), ReleaseSelection::Policy, true, false).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
    assert_eq!(r.result.exit_code(), 0);
    assert_eq!(r.result.sources.len(), 1);
    // A review that fails holds the release: fail closed.
    let r = go_src(fast(), ReleaseSelection::Policy, false, true).await;
    assert!(r.fake.calls_of("release").is_empty());
    assert!(r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("could not be reviewed (the journal is gone)"))));
    // The operator's explicit choice stands, with a warning.
    let r = go_src(fast(), ReleaseSelection::All, false, false).await;
    assert_eq!(state(&r.result, "WS-02"), HostState::Released);
    assert!(r.events.iter().any(|e| matches!(e, Event::Message { text, .. } if text.contains("although unlisted source(s) still hold the release: 10.9.9.9"))));
}

#[tokio::test(start_paused = true)]
async fn the_purge_waits_for_containment_when_the_playbook_says_so() {
    let plan = plan_of(&[("WS-01", Role::Workstation, true), ("WS-02", Role::Workstation, true)]);
    let mut settings = fast();
    settings.contain.purge_without_containment = false;
    let off = Script {
        contain_problem: Some("the public profile is off".into()),
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-02", off)]), plan, settings).await;
    let halt = r.result.halted.expect("halted");
    assert_eq!(halt.phase, Phase::Contain);
    assert!(halt.why.contains("WS-02"));
    assert!(r.fake.calls_of("apply").is_empty(), "nothing purged");
    assert_eq!(r.result.hosts.iter().filter(|h| h.state == HostState::NotContained).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_canary_waits_for_the_operators_go_ahead() {
    let spec: Vec<(String, Role, bool)> = (1..=4).map(|i| (format!("WS-{i:02}"), Role::Workstation, true)).collect();
    let spec_ref: Vec<(&str, Role, bool)> = spec.iter().map(|(n, r, i)| (n.as_str(), *r, *i)).collect();
    let mut settings = fast();
    settings.reboot.canary_go_ahead = true;
    let r = go_with(Arc::new(FakeHosts::new(&[])), plan_of(&spec_ref), settings.clone(), false, CancellationToken::new(), vec![]).await;
    assert_eq!(r.fake.calls_of("reboot").len(), 1, "only the canary");
    let halt = r.result.halted.expect("halted");
    assert!(halt.why.contains("go-ahead") && halt.next.ends_with("--yes"), "{halt:?}");
    let r = go_with(Arc::new(FakeHosts::new(&[])), plan_of(&spec_ref), settings, true, CancellationToken::new(), vec![]).await;
    assert_eq!(r.fake.calls_of("reboot").len(), 4);
    assert_eq!(r.result.exit_code(), 0);
}

#[tokio::test(start_paused = true)]
async fn phases_without_a_host_operation_say_so_and_never_pretend() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, false)]);
    let mut fake = FakeHosts::new(&[]);
    fake.available.contain = Some("the host runtime has no firewall operation yet".into());
    fake.available.reboot = Some("the host runtime has no reboot operation yet".into());
    fake.available.release = Some("the host runtime has no firewall operation yet".into());
    let r = go(fake, plan, fast()).await;
    let na: Vec<(Phase, String)> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseFinished {
                phase,
                not_available: Some(why),
                ..
            } => Some((*phase, why.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(na.iter().map(|(p, _)| *p).collect::<Vec<_>>(), vec![Phase::Contain, Phase::Reboot]);
    assert!(r.fake.calls_of("contain").is_empty() && r.fake.calls_of("reboot").is_empty());
    // The purge ran; the infected host waits for a reboot, unverified.
    assert_eq!(r.fake.applied("WS-01").len(), 2);
    assert_eq!(state(&r.result, "WS-01"), HostState::Purged);
    let why = r.result.hosts.iter().find(|h| h.name == "WS-01").unwrap().reason.clone().unwrap();
    assert!(why.contains("no reboot operation yet"), "{why}");
    // The clean host was verified by a scan; nothing was on it to release.
    assert_eq!(state(&r.result, "WS-02"), HostState::Clean);
    assert_eq!(r.result.exit_code(), 2);
    assert!(r.result.next_steps("x")[0].contains("reboot them yourself"));
}

#[tokio::test(start_paused = true)]
async fn a_file_without_an_evidence_copy_is_not_deleted() {
    let plan = plan_of(&[("WS-01", Role::Workstation, true)]);
    let path = r"C:\Users\bob\AppData\WS-01.dll".to_string();
    let r = go(
        FakeHosts::new(&[(
            "WS-01",
            Script {
                unsecured: vec![path.clone()],
                ..Script::default()
            },
        )]),
        plan,
        fast(),
    )
    .await;
    let applied = r.fake.applied("WS-01");
    assert_eq!(applied.len(), 1, "only the kill: {applied:?}");
    assert!(applied[0].contains("kill_process"));
    assert!(r.events.iter().any(|e| matches!(e, Event::ActionEnded { outcome: Outcome::Skipped, detail, .. } if detail.contains("WS-01.dll"))));
    // Its verifying scan after the reboot finds nothing (the DLL is not
    // started by anything any more), but the DLL is still on disk: the
    // host is left for a person, saying which file and what to do, never
    // verified clean; it stays contained and holds the release.
    assert_eq!(r.fake.boots("WS-01"), 1);
    assert_eq!(state(&r.result, "WS-01"), HostState::NeedsPerson);
    let why = r.result.hosts.iter().find(|h| h.name == "WS-01").unwrap().reason.clone().unwrap();
    assert!(why.contains(r"c:\users\bob\appdata\ws-01.dll") && why.contains("no evidence copy"), "{why}");
    assert!(why.contains("keep a copy of each by hand"), "{why}");
    assert!(r.fake.contained("WS-01"));
    assert_eq!(r.result.exit_code(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_connection_is_retried_with_back_off() {
    let plan = plan_of(&[("WS-01", Role::Workstation, true)]);
    let flaky = Script {
        apply_failures: 2,
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-01", flaky)]), plan, fast()).await;
    let applies = r.fake.calls_of("apply");
    assert_eq!(applies.len(), 3);
    // 1 s, then 2 s between tries.
    assert!(applies[1].at - applies[0].at >= Duration::from_secs(1));
    assert!(applies[2].at - applies[1].at >= Duration::from_secs(2));
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
}

#[tokio::test(start_paused = true)]
async fn per_group_and_manual_release_policies() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("FS-01", Server, true)]);
    let stubborn = Script {
        dirty_scans: 10,
        ..Script::default()
    };
    let mut settings = fast();
    settings.release = ReleasePolicy::PerGroup;
    let r = go(FakeHosts::new(&[("FS-01", stubborn)]), plan.clone(), settings.clone()).await;
    // The workstations' group is clean: released; the servers' is not.
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
    assert_eq!(state(&r.result, "FS-01"), HostState::NeedsPerson);
    assert!(r.fake.contained("FS-01"));
    settings.release = ReleasePolicy::Manual;
    let r = go(FakeHosts::new(&[]), plan, settings).await;
    assert!(r.fake.calls_of("release").is_empty());
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean);
    assert_eq!(r.result.exit_code(), 0, "manual: verified clean is the end");
}

// ---- resume, with the journal ----

mod with_journal {
    use super::*;
    use crate::engine::record::Recorder;
    use crate::engine::steps::HostSteps;
    use crate::journal::operation::{NewOperation, OperationHostSeed};
    use crate::journal::{Journal, JournalHandle, NewPlan, PlanHostRow, PlanOpRow, ScanResult, WriterThread};

    /// A journal with a scan and a plan for `plan`'s hosts (so plan op ids
    /// are real rows); returns the plan with those ids.
    fn journaled_plan(j: &mut Journal, plan: &OperationPlan) -> OperationPlan {
        let run = j.begin_run("plan", &[]).unwrap();
        let mut rows = Vec::new();
        for h in &plan.hosts {
            let snap = crate::detect::builder::SnapshotBuilder::new(&h.name).build();
            let ids = j
                .record_scan(run, &h.name, &h.address, 1, ScanResult::Collected { snapshot: &snap, findings: &[] })
                .unwrap();
            rows.push(PlanHostRow {
                host: h.name.clone(),
                snapshot_id: ids.snapshot_id.unwrap(),
                // Every step, as a plan records them: purge ops, then the
                // rest (the reboot in its wave).
                ops: h
                    .ops
                    .iter()
                    .map(|o| crate::plan::Step::Purge(o.op.clone()))
                    .chain(h.steps.iter().map(|(_, s)| s.clone()))
                    .map(|step| PlanOpRow {
                        active: true,
                        op: step.to_value().to_string(),
                        rules: vec![],
                        why: String::new(),
                    })
                    .collect(),
            });
        }
        let (id, _) = j
            .record_plan(
                &NewPlan {
                    run_id: run,
                    path: "plan.yml".into(),
                    playbook_sha256: "pb".into(),
                    settings: "{}".into(),
                    hosts: rows,
                },
                |_| String::new(),
            )
            .unwrap();
        let stored = j.plan(id).unwrap().unwrap();
        let mut out = plan.clone();
        out.plan_id = Some(id);
        for h in &mut out.hosts {
            let sh = stored.hosts.iter().find(|s| s.host == h.name).unwrap();
            let mut ids = sh.ops.iter().map(|so| so.id);
            for o in h.ops.iter_mut() {
                o.plan_op_id = ids.next().unwrap();
            }
            for (id, _) in h.steps.iter_mut() {
                *id = ids.next().unwrap();
            }
        }
        out
    }

    async fn start(
        dir: &std::path::Path,
        plan: &OperationPlan,
        fake: Arc<FakeHosts>,
        resume: Option<i64>,
    ) -> (i64, impl std::future::Future<Output = OperationResult> + Send + 'static, WriterThread) {
        let mut j = Journal::open(dir).unwrap();
        let run_id = j.begin_run("apply", &[]).unwrap();
        let (op, prior) = match resume {
            None => {
                let op = j
                    .begin_operation(&NewOperation {
                        command: "apply".into(),
                        plan_id: plan.plan_id,
                        plan_sha256: None,
                        playbook_sha256: None,
                        settings: "{}".into(),
                        run: run_id,
                        hosts: plan
                            .hosts
                            .iter()
                            .map(|h| OperationHostSeed {
                                host: h.name.clone(),
                                address: h.address.clone(),
                                role: h.role.as_str().into(),
                                state: "pending".into(),
                                reason: None,
                            })
                            .collect(),
                        ops: plan
                            .hosts
                            .iter()
                            .flat_map(|h| h.ops.iter().map(|o| (h.name.clone(), o.plan_op_id)))
                            .collect(),
                    })
                    .unwrap();
                (op, None)
            }
            Some(op) => {
                j.attach_run(op, run_id).unwrap();
                let prior = Prior::from_rows(&j.operation_hosts(op).unwrap(), &j.operation_actions(op).unwrap()).unwrap();
                (op, Some(prior))
            }
        };
        let (handle, writer) = JournalHandle::spawn_joinable(j).unwrap();
        let emitter = Arc::new(Emitter::new(vec![]).with_journal(Recorder::new(handle, run_id, op)));
        let plan = plan.clone();
        let fut = async move {
            run(Inputs {
                steps: Arc::clone(&fake),
                replan: Arc::new(FakeReplan::new(Arc::clone(&fake))),
                approver: Arc::new(FakeOperator {
                    answer: true,
                    asked: Mutex::new(vec![]),
                }),
                plan,
                settings: real_time(),
                emitter,
                cancel: CancellationToken::new(),
                prior,
                rule_prefix: "cauterize-test".into(),
                exempt: vec![],
                accepted: vec![],
                resume_command: "cauterize apply --resume".into(),
                phases: vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release],
                release: ReleaseSelection::Policy,
                late: None,
                sources: Arc::new(NoSources),
            })
            .await
            .expect("runs")
        };
        (op, fut, writer)
    }

    /// End a run as kill -9 would: abort its task, then wait until its
    /// journal writer has committed what was already sent and stopped, so
    /// nothing of the dead run lands after the resumed run read the
    /// journal (a killed process writes nothing more; an aborted task's
    /// writer thread would, and once it did after the resume's read: the
    /// resume then sent again an action the dead run settled late).
    /// Whether the run was still going (cancelled, not finished).
    async fn kill(task: tokio::task::JoinHandle<OperationResult>, writer: WriterThread) -> bool {
        task.abort();
        let cancelled = task.await.is_err_and(|e| e.is_cancelled());
        tokio::task::spawn_blocking(move || writer.join()).await.unwrap();
        cancelled
    }

    /// Keys of actions that changed a host more than once.
    fn changed_twice(dir: &std::path::Path, op: i64) -> Vec<String> {
        let j = Journal::open_read_only(dir).unwrap();
        let mut seen = std::collections::HashMap::new();
        for a in j.operation_actions(op).unwrap() {
            if a.outcome.as_deref().and_then(Outcome::parse).is_some_and(Outcome::changed_the_host) {
                *seen.entry((a.host, a.key)).or_insert(0) += 1;
            }
        }
        seen.into_iter().filter(|(_, n)| *n > 1).map(|((h, k), _)| format!("{h} {k}")).collect()
    }

    /// The journal's writer is another thread: paused tokio time would
    /// jump ahead while a commit is awaited, so these tests run in real
    /// time with short durations.
    fn real_time() -> OperationSettings {
        let mut s = fast();
        s.retry.first_delay = Duration::from_millis(10);
        s.retry.max_delay = Duration::from_millis(40);
        s.reboot.countdown = Duration::from_millis(50);
        s.reboot.back_within = Duration::from_secs(20);
        s.reboot.poll_every = Duration::from_millis(10);
        s.reboot.pause_between_waves = Duration::from_millis(10);
        s
    }

    fn fake() -> Arc<FakeHosts> {
        let mut f = FakeHosts::new(&[]);
        f.down_for = Duration::from_millis(100);
        Arc::new(f)
    }

    /// Wait (real time, bounded) until `done` holds.
    async fn until(what: &str, mut done: impl FnMut() -> bool) {
        let end = std::time::Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < end, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn plan3() -> OperationPlan {
        plan_of(&[
            ("WS-01", Role::Workstation, true),
            ("WS-02", Role::Workstation, true),
            ("WS-03", Role::Workstation, true),
        ])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_mid_purge_then_resumed_reaches_the_same_end_and_never_deletes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let plan = {
            let mut j = Journal::open(dir.path()).unwrap();
            journaled_plan(&mut j, &plan3())
        };
        let fake = fake();
        fake.gate_hosts.lock().unwrap().push("WS-02".into());
        let (op, first, writer) = start(dir.path(), &plan, Arc::clone(&fake), None).await;
        let first = tokio::spawn(first);
        // Once WS-02's operations are journaled as begun and the host is
        // stuck in them, end the run (kill -9: no clean-up at all).
        let path = dir.path().to_path_buf();
        let begun = move || {
            Journal::open_read_only(&path)
                .unwrap()
                .operation_actions(op)
                .unwrap()
                .iter()
                .filter(|a| a.host == "WS-02" && a.key.starts_with("purge/r0/op") && a.outcome.is_none())
                .count()
                == 2
        };
        until("WS-02's operations to be begun", begun).await;
        assert!(kill(first, writer).await, "the run ended before it was killed");
        // The host did carry them out before the run died.
        fake.gate_hosts.lock().unwrap().clear();
        let ops: Vec<Op> = plan.hosts[1].ops.iter().map(|o| o.op.clone()).collect();
        fake.apply("WS-02", &ops).await.unwrap();
        assert_eq!(fake.applied("WS-02").len(), 2);

        let (_, second, _) = start(dir.path(), &plan, Arc::clone(&fake), Some(op)).await;
        let result = second.await;
        assert_eq!(result.exit_code(), 0, "{:#?}", result.hosts);
        for h in ["WS-01", "WS-02", "WS-03"] {
            assert_eq!(state(&result, h), HostState::Released);
            // Each operation changed the host once.
            let applied = fake.applied(h);
            let unique: std::collections::HashSet<_> = applied.iter().collect();
            assert_eq!(unique.len(), applied.len(), "{h}: {applied:?}");
            assert_eq!(applied.len(), 2, "{h}");
            assert_eq!(fake.boots(h), 1, "{h} rebooted once");
        }
        let dump: Vec<String> = Journal::open_read_only(dir.path())
            .unwrap()
            .operation_actions(op)
            .unwrap()
            .into_iter()
            .map(|a| format!("run {} {} {} {:?}", a.run_id, a.host, a.key, a.outcome))
            .collect();
        assert!(changed_twice(dir.path(), op).is_empty(), "{:?}\n{dump:#?}", changed_twice(dir.path(), op));
        // The resent operations report already_absent; WS-01 and WS-03,
        // settled in the first run, are not sent again.
        let j = Journal::open_read_only(dir.path()).unwrap();
        let of = |host: &str| -> Vec<Option<String>> {
            j.operation_actions(op)
                .unwrap()
                .into_iter()
                .filter(|a| a.host == host && a.key.starts_with("purge/r0/op"))
                .map(|a| a.outcome)
                .collect()
        };
        assert_eq!(of("WS-02"), vec![None, None, Some("already_absent".into()), Some("already_absent".into())]);
        // No action is sent again once the journal has it settled.
        let mut settled = std::collections::HashSet::new();
        for a in j.operation_actions(op).unwrap() {
            let key = (a.host.clone(), a.key.clone());
            assert!(!settled.contains(&key), "{key:?} sent again after it was settled");
            if a.outcome.as_deref().and_then(Outcome::parse).is_some_and(|o| o != Outcome::Failed && o != Outcome::Skipped) {
                settled.insert(key);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_during_a_countdown_then_resumed_the_host_reboots_once() {
        let dir = tempfile::tempdir().unwrap();
        let plan = {
            let mut j = Journal::open(dir.path()).unwrap();
            journaled_plan(&mut j, &plan3())
        };
        let fake = fake();
        let (op, first, writer) = start(dir.path(), &plan, Arc::clone(&fake), None).await;
        let first = tokio::spawn(first);
        // End the run as soon as the canary's reboot is asked (its
        // countdown runs on the host).
        let watch = Arc::clone(&fake);
        until("the canary's reboot", move || !watch.calls_of("reboot").is_empty()).await;
        let _ = kill(first, writer).await;
        let canary = fake.calls_of("reboot")[0].host.clone();
        // Its reboot happens while no cauterize runs.
        let watch = Arc::clone(&fake);
        let c = canary.clone();
        until("the canary's reboot to happen", move || watch.boots(&c) == 1).await;

        let (_, second, _) = start(dir.path(), &plan, Arc::clone(&fake), Some(op)).await;
        let result = second.await;
        assert_eq!(result.exit_code(), 0, "{:#?}", result.hosts);
        // The resumed run read the boot time instead of asking again.
        let asks = fake.calls_of("reboot").into_iter().filter(|c| c.host == canary).count();
        assert_eq!(asks, 1, "asked once");
        for h in ["WS-01", "WS-02", "WS-03"] {
            assert_eq!(fake.boots(h), 1, "{h}");
        }
        assert!(changed_twice(dir.path(), op).is_empty());
    }
}

/// The plan's deny-write and Defender steps are carried out in the purge,
/// after the runtime ops and under their plan lines, journaled before and
/// after; the release lifts the deny exactly once, and the host is
/// released with no deny left.
#[tokio::test(start_paused = true)]
async fn deny_writes_and_defender_steps_run_in_the_purge_and_the_deny_is_lifted_at_release() {
    let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Ejuio".to_string();
    let mut plan = plan_of(&[("WS-01", Role::Workstation, true), ("WS-02", Role::Workstation, false)]);
    plan.hosts[0].steps.push((500, crate::plan::Step::DenyWrites { folder: folder.clone() }));
    plan.hosts[0].steps.push((
        501,
        crate::plan::Step::RevertDefenderExclusion {
            hive: "HKLM".into(),
            key: r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths".into(),
            value: folder.clone(),
        },
    ));
    let r = go(FakeHosts::new(&[]), plan, fast()).await;
    assert_eq!(r.result.exit_code(), 0, "{:#?}", r.result.hosts);
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
    assert!(r.fake.denied("WS-01").is_empty(), "the deny is lifted at release");
    let calls: Vec<String> = r.fake.calls.lock().unwrap().iter().filter(|c| c.host == "WS-01").map(|c| c.what.clone()).collect();
    let at = |what: &str| calls.iter().position(|c| c == what).unwrap_or_else(|| panic!("no {what}: {calls:?}"));
    assert!(at("apply 2") < at("purge_steps DenyWrites"), "ops first, then the deny: {calls:?}");
    assert!(at("purge_steps DenyWrites") < at("purge_steps RevertDefenderExclusion"));
    assert!(at("purge_steps RevertDefenderExclusion") < at("purge_steps RemoveDenyWrites"));
    assert_eq!(calls.iter().filter(|c| c.as_str() == "purge_steps RemoveDenyWrites").count(), 1);
    assert!(!r.fake.calls.lock().unwrap().iter().any(|c| c.host == "WS-02" && c.what.starts_with("purge_steps")));
    let ended = |key: &str| -> Vec<(Outcome, String)> {
        r.events
            .iter()
            .filter_map(|e| match e {
                Event::ActionEnded { host, key: k, outcome, detail, .. } if host == "WS-01" && k == key => Some((*outcome, detail.clone())),
                _ => None,
            })
            .collect()
    };
    let deny = ended("purge/r0/op/500");
    assert!(matches!(deny.as_slice(), [(Outcome::Done, d)] if d.contains("S-1-1-0 (rights 0x116, inheritance 3, propagation 0) added")), "{deny:?}");
    assert!(matches!(ended("purge/r0/op/501").as_slice(), [(Outcome::Done, d)] if d.contains("Remove-MpPreference")));
    assert!(matches!(ended("release/deny/500").as_slice(), [(Outcome::Done, _)]));
    assert!(r.events.iter().any(|e| matches!(e, Event::ActionBegun { key, plan_op: Some(500), .. } if key == "purge/r0/op/500")));
    // Neither step is reported as "not carried out".
    assert!(!r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("not carried out"))));
}

/// `release --all` on its own: a host whose deny cannot be lifted (it
/// does not answer: rebooting, down) is not released and the release
/// phase's summary sets it aside with why, never counting it as done; a
/// host with nothing of ours on it is released whatever its state (the
/// operator's call).
#[tokio::test(start_paused = true)]
async fn a_release_that_cannot_lift_the_deny_sets_the_host_aside_with_why() {
    let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Ejuio".to_string();
    let mut plan = plan_of(&[("WS-01", Role::Workstation, true), ("WS-02", Role::Workstation, true)]);
    plan.hosts[0].steps.push((500, crate::plan::Step::DenyWrites { folder }));
    let fake = Arc::new(FakeHosts::new(&[(
        "WS-01",
        Script {
            unreachable: true,
            ..Script::default()
        },
    )]));
    // An earlier run placed it.
    let prior = Prior::new(vec![], vec![placed("WS-01", "purge/r0/op/500", Some(Outcome::Done))]);
    let r = go_phases(fake, plan, fast(), (true, CancellationToken::new(), vec![]), vec![Phase::Release], ReleaseSelection::All, Some(prior), Arc::new(NoSources)).await;
    let result = r.result;
    assert_ne!(state(&result, "WS-01"), HostState::Released);
    assert_eq!(state(&result, "WS-02"), HostState::Released);
    let release = result.phases.iter().find(|p| p.phase == Phase::Release).expect("a release phase");
    assert_eq!(release.done, 1, "{release:?}");
    assert!(
        matches!(release.set_aside.as_slice(), [(h, why)] if h == "WS-01" && why.contains("could not be lifted") && why.contains("no answer on 5985")),
        "{release:?}"
    );
    assert_eq!(result.exit_code(), crate::exit::PARTIAL);
    let text = crate::report::operation_view::render_text(1, &result, "cauterize release --all");
    assert!(text.contains("release  1 done, 1 set aside") && text.contains("WS-01: the deny ACE could not be lifted"), "{text}");
}

fn reason(r: &OperationResult, host: &str) -> String {
    r.hosts.iter().find(|h| h.name == host).and_then(|h| h.reason.clone()).unwrap_or_default()
}

/// `reboot.logged_on: skip`: a host with a user is set aside for a person,
/// never asked to reboot, with who is there in its reason; it does not
/// spend the failure budget, and a host without users reboots as usual.
#[tokio::test(start_paused = true)]
async fn logged_on_skip_sets_a_host_with_users_aside_unrebooted() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    let mut settings = fast();
    settings.budget = FailureBudget::Count(0);
    settings.reboot.logged_on = crate::playbook::LoggedOn::Skip;
    let user = Script {
        user_until: Some(Duration::MAX),
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-01", user)]), plan, settings).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::NeedsPerson);
    let why = reason(&r.result, "WS-01");
    assert!(why.contains("users are logged on") && why.contains(r"CORP\alice (session 1)") && why.contains("logged_on: skip"), "{why}");
    assert_eq!(r.fake.boots("WS-01"), 0);
    assert!(r.fake.calls_of("reboot").iter().all(|c| c.host != "WS-01"));
    assert!(r.result.halted.is_none(), "{:?}", r.result.halted);
    assert_eq!(state(&r.result, "WS-02"), HostState::Clean);
    assert_eq!(r.fake.boots("WS-02"), 1);
}

/// `reboot.logged_on: wait`: the reboot waits until the user has logged
/// off (read again every `poll_every`), then goes ahead; a user still
/// there after `logoff_wait` sets the host aside, not rebooted, no
/// earlier than the wait. `reboot` (the default) reads no users at all.
#[tokio::test(start_paused = true)]
async fn logged_on_wait_reboots_once_users_log_off_and_sets_aside_when_the_wait_expires() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    let mut settings = fast();
    settings.reboot.logged_on = crate::playbook::LoggedOn::Wait;
    settings.reboot.logoff_wait = Duration::from_secs(600);
    let leaves = Script {
        user_until: Some(Duration::from_secs(300)),
        ..Script::default()
    };
    let stays = Script {
        user_until: Some(Duration::MAX),
        ..Script::default()
    };
    let fake = FakeHosts::new(&[("WS-01", leaves), ("WS-02", stays)]);
    let start = tokio::time::Instant::now();
    let r = go(fake, plan, settings).await;
    // WS-01: asked to reboot only after its user left (5 minutes in).
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean);
    assert_eq!(r.fake.boots("WS-01"), 1);
    let asked = r.fake.calls_of("reboot").iter().find(|c| c.host == "WS-01").expect("WS-01 asked").at;
    assert!(asked >= start + Duration::from_secs(300), "asked {:?} in", asked - start);
    assert!(r.fake.calls_of("users").iter().filter(|c| c.host == "WS-01").count() > 1);
    // WS-02: its user never leaves; set aside after the 10-minute wait.
    assert_eq!(state(&r.result, "WS-02"), HostState::NeedsPerson);
    let why = reason(&r.result, "WS-02");
    assert!(why.contains("still logged on after waiting 10m") && why.contains(r"CORP\alice"), "{why}");
    assert_eq!(r.fake.boots("WS-02"), 0);
    let users = r.fake.calls_of("users");
    let (first, last) = (users.iter().find(|c| c.host == "WS-02").unwrap().at, users.iter().rfind(|c| c.host == "WS-02").unwrap().at);
    assert!(last - first >= Duration::from_secs(600), "gave up after {:?}", last - first);
    assert!(r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("WS-02: waiting up to 10m"))));

    // The default policy reboots whoever is there, and asks nobody.
    let plan = plan_of(&[("WS-01", Workstation, true)]);
    let r = go(FakeHosts::new(&[("WS-01", Script { user_until: Some(Duration::MAX), ..Script::default() })]), plan, fast()).await;
    assert_eq!(r.fake.boots("WS-01"), 1);
    assert!(r.fake.calls_of("users").is_empty());
}

/// `verify.settle`: a rebooted host's verifying scan starts no earlier
/// than the settle after the boot-time read that found it back; with none,
/// it follows at once.
#[tokio::test(start_paused = true)]
async fn the_verifying_scan_waits_the_settle_after_the_host_is_back() {
    use Role::*;
    for settle in [Duration::from_secs(90), Duration::ZERO] {
        let mut settings = fast();
        settings.settle = settle;
        let r = go(FakeHosts::new(&[]), plan_of(&[("WS-01", Workstation, true)]), settings).await;
        assert_eq!(state(&r.result, "WS-01"), HostState::Released);
        let scan = r.fake.calls_of("scan").iter().find(|c| c.host == "WS-01").expect("scanned").at;
        let back = r.fake.calls_of("boot_time").iter().filter(|c| c.at <= scan).last().expect("boot time read").at;
        assert!(scan - back >= settle, "scanned {:?} after it was seen back (settle {settle:?})", scan - back);
        if settle.is_zero() {
            assert!(scan - back < Duration::from_secs(5), "{:?}", scan - back);
        }
    }
}

/// An earlier run's attempt of a deny step, as the journal has it.
fn placed(host: &str, key: &str, outcome: Option<Outcome>) -> super::resume::PriorAction {
    super::resume::PriorAction {
        host: host.into(),
        key: key.into(),
        what: "{}".into(),
        outcome,
        detail: String::new(),
    }
}

fn ended_keys(r: &Run, host: &str, start: &str) -> Vec<String> {
    r.events
        .iter()
        .filter_map(|e| match e {
            Event::ActionEnded { host: h, key, .. } if h == host && key.starts_with(start) => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// The release lifts exactly the denies that were placed: in this run
/// (one placed, one refused by the host: only the first is lifted), or by
/// an earlier run as the journal says (done, or sent with no answer
/// recorded: it may be there), never one the journal has as failed.
#[tokio::test(start_paused = true)]
async fn the_release_lifts_exactly_the_denies_that_were_placed() {
    let (a, b) = (r"C:\Users\bob\AppData\Roaming\Microsoft\Aaa".to_string(), r"C:\Users\bob\AppData\Roaming\Microsoft\Bbb".to_string());
    let mut plan = plan_of(&[("WS-01", Role::Workstation, true)]);
    plan.hosts[0].steps.push((500, crate::plan::Step::DenyWrites { folder: a.clone() }));
    plan.hosts[0].steps.push((501, crate::plan::Step::DenyWrites { folder: b.clone() }));
    let refuses_b = Script {
        deny_refused: vec![b.clone()],
        ..Script::default()
    };
    let every = vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    let r = go_phases(Arc::new(FakeHosts::new(&[("WS-01", refuses_b)])), plan.clone(), fast(), (true, CancellationToken::new(), vec![]), every, ReleaseSelection::All, None, Arc::new(NoSources)).await;
    assert_eq!(ended_keys(&r, "WS-01", "release/deny/"), vec!["release/deny/500"]);
    assert_eq!(r.fake.calls_of("purge_steps RemoveDenyWrites").len(), 1);
    assert!(r.fake.denied("WS-01").is_empty());

    // `release` on its own after earlier runs: 500 failed, 501 sent and
    // never answered; a third deny (502) placed.
    plan.hosts[0].steps.push((502, crate::plan::Step::DenyWrites { folder: format!("{a}2") }));
    let prior = Prior::new(
        vec![],
        vec![
            placed("WS-01", "purge/r0/op/500", Some(Outcome::Failed)),
            placed("WS-01", "purge/r0/op/501", None),
            placed("WS-01", "purge/r0/op/502", Some(Outcome::Done)),
        ],
    );
    let r = go_phases(Arc::new(FakeHosts::new(&[])), plan, fast(), (true, CancellationToken::new(), vec![]), vec![Phase::Release], ReleaseSelection::All, Some(prior), Arc::new(NoSources)).await;
    assert_eq!(ended_keys(&r, "WS-01", "release/deny/"), vec!["release/deny/501", "release/deny/502"]);
    assert_eq!(state(&r.result, "WS-01"), HostState::Released);
}

/// `watch`'s run: WS-02 had no scan when the plan was made (refused) and
/// answered; WS-03 was unreached and did not answer. WS-01 was done
/// before (clean, still contained: the release waited on the others).
#[tokio::test(start_paused = true)]
async fn a_late_host_is_taken_in_scanned_purged_rebooted_and_verified_and_the_one_still_down_is_left_alone() {
    use Role::*;
    let mut plan = plan_of(&[("WS-01", Workstation, false), ("WS-02", Workstation, false), ("WS-03", Workstation, true)]);
    // WS-02 is not in the reviewed plan: no step at all.
    plan.hosts[1].snapshot_id = None;
    let record = |name: &str, state: HostState, contained: bool| crate::engine::state::HostRecord {
        name: name.into(),
        state,
        reason: None,
        round: 0,
        contained,
    };
    let prior = Prior::new(
        vec![
            record("WS-01", HostState::Clean, true),
            record("WS-02", HostState::Refused, false),
            record("WS-03", HostState::Unreached, false),
        ],
        vec![],
    );
    // Its first scan (after containment) finds the loader; the next is clean.
    let fake = Arc::new(FakeHosts::new(&[
        ("WS-02", Script { dirty_scans: 1, ..Script::default() }),
        ("WS-03", Script { unreachable: true, ..Script::default() }),
    ]));
    let mut settings = fast();
    settings.repurge_rounds = 0;
    let every = vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    let Run { result, events, fake } = go_after(
        fake,
        plan,
        settings,
        (true, CancellationToken::new(), vec![]),
        (every, ReleaseSelection::Policy),
        (Some(prior), Some(vec!["ws-02".into()]), Arc::new(NoSources)),
    )
    .await;
    // Even with no re-purge round in the playbook, the late host's first
    // purge (planned from its first scan) is carried out, then it is
    // rebooted and verified clean.
    assert_eq!(state(&result, "WS-02"), HostState::Clean, "{:?}", result.hosts);
    assert_eq!(fake.boots("WS-02"), 1);
    let order: Vec<String> = fake.calls.lock().unwrap().iter().filter(|c| c.host == "WS-02").map(|c| c.what.clone()).collect();
    let at = |w: &str| order.iter().position(|c| c.starts_with(w)).unwrap_or_else(|| panic!("no {w} in {order:?}"));
    assert!(at("contain") < at("scan") && at("scan") < at("apply") && at("apply") < at("reboot"), "{order:?}");
    // The host still down is not tried, and holds the release.
    assert!(fake.calls.lock().unwrap().iter().all(|c| c.host != "WS-03"), "WS-03 was tried");
    assert_eq!(state(&result, "WS-03"), HostState::Unreached);
    assert_eq!(state(&result, "WS-01"), HostState::Clean, "the release waits on WS-03");
    assert!(
        events.iter().any(|e| matches!(e, Event::HostState { host, state: HostState::Pending, .. } if host == "WS-02")),
        "the take-in is journaled"
    );
}

/// What a run's events say an operation's journal holds: the hosts as the
/// run left them and every attempt of every action, ended or not (what
/// `--resume` reads).
fn prior_of(r: &Run) -> Prior {
    let mut actions: Vec<super::resume::PriorAction> = Vec::new();
    for e in &r.events {
        match e {
            Event::ActionBegun { host, key, what, .. } => actions.push(super::resume::PriorAction {
                host: host.clone(),
                key: key.clone(),
                what: what.clone(),
                outcome: None,
                detail: String::new(),
            }),
            Event::ActionEnded { host, key, outcome, detail, .. } => {
                let begun = actions.iter_mut().rev().find(|a| &a.host == host && &a.key == key && a.outcome.is_none());
                let a = begun.unwrap_or_else(|| panic!("{host} {key} ended, never begun"));
                a.outcome = Some(*outcome);
                a.detail = detail.clone();
            }
            _ => {}
        }
    }
    Prior::new(r.result.hosts.clone(), actions)
}

/// The outcomes and details `host`'s action `key` ended with.
fn ended(r: &Run, host: &str, key: &str) -> Vec<(Outcome, String)> {
    r.events
        .iter()
        .filter_map(|e| match e {
            Event::ActionEnded { host: h, key: k, outcome, detail, .. } if h == host && k == key => Some((*outcome, detail.clone())),
            _ => None,
        })
        .collect()
}

/// A re-purge round (the loader came back) carries out its plan's deny
/// and Defender steps: where the loader made its folder again the deny is
/// placed in the round's purge, before the round's reboot, and the
/// release lifts it like the first purge's; the Defender exclusion found
/// again is reverted in the round.
#[tokio::test(start_paused = true)]
async fn a_repurge_round_denies_a_folder_made_again_and_reverts_an_exclusion_and_the_release_lifts_the_deny() {
    let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Ejuio".to_string();
    let back = Script {
        dirty_scans: 1,
        repurge_denies: vec![folder.clone()],
        repurge_exclusion: Some(folder.clone()),
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-01", back)]), plan_of(&[("WS-01", Role::Workstation, true)]), fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Released, "{:#?}", r.result.hosts);
    assert_eq!(r.fake.boots("WS-01"), 2);
    let round: Vec<String> = ended_keys(&r, "WS-01", "purge/r1/op/");
    assert_eq!(round.len(), 3, "the round's kill, deny and revert: {round:?}");
    let outcomes: Vec<Outcome> = round.iter().flat_map(|k| ended(&r, "WS-01", k)).map(|(o, _)| o).collect();
    assert!(outcomes.iter().all(|o| *o == Outcome::Done), "{outcomes:?}");
    let calls: Vec<(String, tokio::time::Instant)> = r.fake.calls.lock().unwrap().iter().map(|c| (c.what.clone(), c.at)).collect();
    let deny_at = calls.iter().find(|(w, _)| w == "purge_steps DenyWrites").expect("the round's deny was sent").1;
    let second_reboot = calls.iter().filter(|(w, _)| w == "reboot").nth(1).expect("a second reboot").1;
    assert!(deny_at <= second_reboot);
    assert!(r.fake.applied("WS-01").contains(&format!("exclusion {folder}")), "reverted in the round");
    assert_eq!(ended_keys(&r, "WS-01", "release/deny/").len(), 1);
    assert!(r.fake.denied("WS-01").is_empty(), "lifted at release");
}

/// A re-purge round's deny of a folder that is gone (the first round
/// removed it after its reboot, and the loader did not make it again) is
/// not needed: nothing is placed, the journal records it already_absent
/// with why, the host is verified clean and released, and the release
/// lifts no deny of that round. In the first purge a folder gone is
/// drift (the plan saw it there): that host is for a person.
#[tokio::test(start_paused = true)]
async fn a_repurge_rounds_deny_of_a_folder_gone_is_not_needed_and_does_not_hold_the_host() {
    use Role::*;
    let folder = r"C:\Users\bob\AppData\Roaming\Microsoft\Ejuio".to_string();
    let back_folder_gone = Script {
        dirty_scans: 1,
        repurge_denies: vec![folder.clone()],
        gone_folders: vec![folder.clone()],
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-01", back_folder_gone)]), plan_of(&[("WS-01", Workstation, true)]), fast()).await;
    assert_eq!(state(&r.result, "WS-01"), HostState::Released, "{:#?}", r.result.hosts);
    assert_eq!(r.result.exit_code(), 0);
    let deny_key = ended_keys(&r, "WS-01", "purge/r1/op/").into_iter().find(|k| {
        r.events.iter().any(|e| matches!(e, Event::ActionBegun { key, what, .. } if key == k && what.contains("DenyWrites")))
    });
    let deny = ended(&r, "WS-01", &deny_key.expect("the round's deny is journaled"));
    assert!(
        matches!(deny.as_slice(), [(Outcome::AlreadyAbsent, d)] if d.contains("not needed: the folder is gone") && d.contains(&folder)),
        "{deny:?}"
    );
    assert!(r.fake.denied("WS-01").is_empty(), "nothing placed");
    assert!(ended_keys(&r, "WS-01", "release/deny/").is_empty(), "no lift of a deny never placed");
    let purged = r.events.iter().any(|e| {
        matches!(e, Event::HostState { host, state: HostState::Purged, reason: Some(why), round: 1, .. } if host == "WS-01" && why.contains("1 deny not needed (folder gone)"))
    });
    assert!(purged, "the round's purge line says so");

    // The first purge's deny of a folder gone: drift, a person checks.
    let mut plan = plan_of(&[("WS-01", Workstation, true)]);
    plan.hosts[0].steps.push((20_002, crate::plan::Step::DenyWrites { folder: folder.clone() }));
    let gone = Script {
        gone_folders: vec![folder.clone()],
        ..Script::default()
    };
    let r = go(FakeHosts::new(&[("WS-01", gone)]), plan, fast()).await;
    assert!(matches!(ended(&r, "WS-01", "purge/r0/op/20002").as_slice(), [(Outcome::Drift, _)]));
    assert_eq!(state(&r.result, "WS-01"), HostState::NeedsPerson);
}

/// A host set aside because its user was logged on (`logged_on: skip`) is
/// taken up again by `--resume` at its reboot, with who is logged on read
/// again, never purged again: its user gone, it is rebooted once,
/// verified and released. A host set aside for another reason (the
/// loader came back after every round) stays for a person, and one whose
/// user is still there is set aside again.
#[tokio::test(start_paused = true)]
async fn a_resumed_run_takes_up_a_host_left_for_its_users_at_its_reboot() {
    use Role::*;
    let plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true), ("WS-03", Workstation, true)]);
    let mut settings = fast();
    settings.reboot.logged_on = crate::playbook::LoggedOn::Skip;
    settings.repurge_rounds = 0;
    let user = || Script {
        user_until: Some(Duration::MAX),
        ..Script::default()
    };
    let stubborn = Script {
        dirty_scans: 10,
        ..Script::default()
    };
    let first = go(FakeHosts::new(&[("WS-01", user()), ("WS-02", stubborn.clone()), ("WS-03", user())]), plan.clone(), settings.clone()).await;
    for h in ["WS-01", "WS-02", "WS-03"] {
        assert_eq!(state(&first.result, h), HostState::NeedsPerson, "{h}");
    }
    assert!(matches!(ended(&first, "WS-01", "reboot/r0/users").as_slice(), [(Outcome::Skipped, why)] if why.contains("users are logged on")));
    assert_eq!(first.fake.boots("WS-01"), 0);

    // WS-01's user has left; WS-03's has not.
    let fake = Arc::new(FakeHosts::new(&[("WS-02", stubborn), ("WS-03", user())]));
    let every = vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    let r = go_phases(Arc::clone(&fake), plan, settings, (true, CancellationToken::new(), vec![]), every, ReleaseSelection::Policy, Some(prior_of(&first)), Arc::new(NoSources)).await;
    assert!(r.events.iter().any(|e| matches!(e, Event::Decision { what, .. } if what.contains("taken up again") && what.contains("WS-01") && what.contains("WS-03") && !what.contains("WS-02"))));
    // WS-01: its users read again, rebooted once, verified; not purged again.
    let calls = |host: &str, what: &str| fake.calls.lock().unwrap().iter().filter(|c| c.host == host && c.what.starts_with(what)).count();
    assert!(calls("WS-01", "users") >= 1);
    assert_eq!(calls("WS-01", "reboot"), 1);
    assert_eq!(calls("WS-01", "apply"), 0, "not purged again");
    assert_eq!(calls("WS-01", "evidence"), 0);
    assert_eq!(fake.boots("WS-01"), 1);
    assert!(matches!(ended(&r, "WS-01", "reboot/r0/users").as_slice(), [(Outcome::AlreadyAbsent, _)]));
    assert_eq!(state(&r.result, "WS-01"), HostState::Clean, "{:#?}", r.result.hosts);
    // WS-02 stays for a person, untouched by the reboot phase.
    assert_eq!(state(&r.result, "WS-02"), HostState::NeedsPerson);
    assert_eq!(calls("WS-02", "reboot") + calls("WS-02", "users"), 0);
    // WS-03: still logged on, set aside again, not rebooted.
    assert_eq!(state(&r.result, "WS-03"), HostState::NeedsPerson);
    assert_eq!((calls("WS-03", "reboot"), fake.boots("WS-03")), (0, 0));
    assert!(reason(&r.result, "WS-03").contains("users are logged on"));
}

/// The operator's address as each host sees it keeps SMB: the plan's (its
/// scan's logon), plus the one the host's records show for the
/// containment step's own connection.
#[tokio::test(start_paused = true)]
async fn each_host_keeps_smb_to_the_operator_as_it_sees_cauterize() {
    use Role::*;
    let mut plan = plan_of(&[("WS-01", Workstation, false), ("WS-02", Workstation, false)]);
    plan.hosts[0].operator = vec!["192.0.2.7".into()];
    let fake = FakeHosts::new(&[("WS-02", Script { sees_operator: Some("192.0.2.8".into()), ..Script::default() })]);
    let r = go(fake, plan, fast()).await;
    let sent: Vec<(String, Vec<String>)> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ActionBegun { host, key, what, .. } if key == "contain" => {
                let v: serde_json::Value = serde_json::from_str(what).unwrap();
                Some((host.clone(), v["operator"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()))
            }
            _ => None,
        })
        .collect();
    assert!(sent.contains(&("WS-01".to_string(), vec!["192.0.2.7".to_string()])), "{sent:?}");
    assert!(sent.contains(&("WS-02".to_string(), vec![])), "nothing recorded by its scan: {sent:?}");
    assert_eq!(r.fake.operator_exempt("WS-02"), ["192.0.2.8"], "what its records showed when contained");
}

/// A run resumed (perhaps from another address) makes the rules of the
/// hosts an earlier run contained again before anything else is done on
/// them, with the address each sees cauterize from now.
#[tokio::test(start_paused = true)]
async fn a_resumed_run_exempts_the_operators_new_address_before_anything_else() {
    use Role::*;
    let mut plan = plan_of(&[("WS-01", Workstation, true), ("WS-02", Workstation, true)]);
    for h in &mut plan.hosts {
        h.operator = vec!["127.122.48.1".into()];
    }
    let mut settings = fast();
    settings.reboot.logged_on = crate::playbook::LoggedOn::Skip;
    let user = Script { user_until: Some(Duration::MAX), ..Script::default() };
    let first = go(FakeHosts::new(&[("WS-01", user)]), plan.clone(), settings.clone()).await;
    assert_eq!(state(&first.result, "WS-01"), HostState::NeedsPerson);
    assert_eq!(first.fake.operator_exempt("WS-01"), ["127.122.48.1"]);

    // Resumed through a second jump host; WS-01's user has left.
    let second = || Script { sees_operator: Some("127.122.48.2".into()), ..Script::default() };
    let fake = Arc::new(FakeHosts::new(&[("WS-01", second()), ("WS-02", second())]));
    let every = vec![Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];
    let r = go_phases(Arc::clone(&fake), plan, settings, (true, CancellationToken::new(), vec![]), every, ReleaseSelection::Policy, Some(prior_of(&first)), Arc::new(NoSources)).await;
    let calls: Vec<String> = fake.calls.lock().unwrap().iter().filter(|c| c.host == "WS-01").map(|c| c.what.clone()).collect();
    assert_eq!(calls.first().map(String::as_str), Some("contain"), "before anything else: {calls:?}");
    assert!(calls.iter().any(|c| c == "reboot"), "{calls:?}");
    assert_eq!(fake.operator_exempt("WS-01"), ["127.122.48.1", "127.122.48.2"]);
    assert!(matches!(ended(&r, "WS-01", "contain/again").as_slice(), [(Outcome::Done, why)] if why.contains("made again")), "{:?}", ended(&r, "WS-01", "contain/again"));
    assert_eq!(state(&r.result, "WS-01"), HostState::Released, "{:#?}", r.result.hosts);
}

/// A verifying scan whose own logon came from an address not exempt yet
/// (the operator's NAT changed): the host's rules are made again with it
/// before its re-purge.
#[tokio::test(start_paused = true)]
async fn a_verifying_scan_from_a_new_address_makes_the_rules_again_before_the_repurge() {
    use Role::*;
    let mut plan = plan_of(&[("WS-01", Workstation, true)]);
    plan.hosts[0].operator = vec!["192.0.2.7".into()];
    let fake = FakeHosts::new(&[("WS-01", Script { dirty_scans: 1, scan_operator: Some("192.0.2.9".into()), ..Script::default() })]);
    let r = go(fake, plan, fast()).await;
    let calls: Vec<String> = r.fake.calls.lock().unwrap().iter().filter(|c| c.host == "WS-01").map(|c| c.what.clone()).collect();
    let scan = calls.iter().position(|c| c == "scan").expect("a verifying scan");
    let again = calls.iter().skip(scan).position(|c| c == "contain").map(|i| i + scan).expect("contained again");
    let repurge = calls.iter().skip(scan).position(|c| c.starts_with("apply")).map(|i| i + scan).expect("re-purged");
    assert!(again < repurge, "{calls:?}");
    assert_eq!(r.fake.operator_exempt("WS-01"), ["192.0.2.7", "192.0.2.9"]);
    // Later scans from the same address do not contain it again.
    assert_eq!(calls.iter().filter(|c| *c == "contain").count(), 2, "{calls:?}");
}
