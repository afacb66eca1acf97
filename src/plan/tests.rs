//! Planner, file and validation tests on snapshot fixtures.

use super::*;
use std::collections::BTreeMap;
use crate::plan::step::Step;
use crate::detect::builder::SnapshotBuilder;
use crate::detect::{Confidence, DetectContext, HashList, detect};
use crate::journal::{Journal, ScanResult, StoredFinding};
use crate::playbook::Playbook;
use crate::runtime::ops::Op;
use crate::runtime::snapshot::Snapshot;

const DLL: &str = r"C:\Users\bob\AppData\Local\Tools\helper.dll";
const SHA: &str = "9d3f5a7c1e2b4d6f8a0c2e4f6a8b0d2f4e6a8c0e2f4a6b8d0f2e4a6c8e0b2d4f";
const RUNDLL: &str = r"C:\Windows\System32\rundll32.exe";

fn infected() -> Snapshot {
    let cmd = format!("rundll32.exe {DLL},Start");
    SnapshotBuilder::new("WS-001")
        .user("bob")
        .run("bob", "Updater", &cmd)
        .file(DLL)
        .with_file(DLL, |f| f.sha256 = SHA.into())
        .process(77, 1, RUNDLL, &cmd, "bob")
        .build()
}

fn findings(s: &Snapshot, hash: bool) -> Vec<StoredFinding> {
    let ctx = if hash {
        DetectContext {
            hashes: HashList::parse(&format!("{SHA} Emotet\n")).unwrap(),
            ..Default::default()
        }
    } else {
        DetectContext::default()
    };
    detect(s, &ctx).iter().map(StoredFinding::from).collect()
}

fn plan_for(s: &Snapshot, f: &[StoredFinding], pb: &Playbook, flags: Flags) -> HostPlan {
    let input = HostInput {
        host: "WS-001",
        snapshot_id: 1,
        snapshot: s,
        findings: f,
    };
    build(&[input], vec![], pb, &flags).hosts.remove(0)
}

/// The active purge ops of a host, in execution order.
fn active(h: &HostPlan) -> Vec<&Op> {
    let mut steps: Vec<&Step> = h.items.iter().filter(|i| i.active).map(|i| &i.step).collect();
    steps.sort_by_key(|s| s.order());
    steps.into_iter().filter_map(Step::op).collect()
}

/// The items of a host that findings call for (not `contain`, `reboot`).
fn found(h: &HostPlan) -> impl Iterator<Item = &PlanItem> {
    h.items.iter().filter(|i| i.group.is_some())
}

#[test]
fn kill_first_then_value_then_file_each_carrying_what_the_scan_saw() {
    let s = infected();
    let h = plan_for(
        &s,
        &findings(&s, true),
        &Playbook::builtin(),
        Flags::default(),
    );
    let ops = active(&h);
    assert!(
        matches!(ops[0], Op::KillProcess { pid: 77, expected_image, .. } if expected_image == RUNDLL),
        "{ops:#?}"
    );
    let reg = ops
        .iter()
        .position(|o| matches!(o, Op::DeleteRegistryValue { .. }))
        .expect("registry op");
    let file = ops
        .iter()
        .position(|o| matches!(o, Op::DeleteFile { .. }))
        .expect("file op");
    assert!(0 < reg && reg < file, "{ops:#?}");
    match ops[reg] {
        Op::DeleteRegistryValue {
            value,
            data,
            expected_type,
            expected_data_sha256,
            ..
        } => {
            assert_eq!(value, "Updater");
            assert_eq!(data, &format!("rundll32.exe {DLL},Start"));
            assert_eq!(expected_type, "REG_SZ");
            assert_eq!(
                expected_data_sha256,
                &crate::runtime::ops::reg_string_sha256("REG_SZ", &format!("rundll32.exe {DLL},Start"))
            );
        }
        _ => unreachable!(),
    }
    match ops[file] {
        Op::DeleteFile {
            path,
            expected_sha256,
            queue_if_locked,
            ..
        } => {
            assert_eq!(path, DLL);
            assert_eq!(expected_sha256, SHA);
            // Loaded by the rundll32 that is killed first: may still be
            // locked, so it falls back to the boot queue.
            assert!(*queue_if_locked);
        }
        _ => unreachable!(),
    }
    let item = h
        .items
        .iter()
        .find(|i| matches!(i.step.op(), Some(Op::DeleteFile { .. })))
        .unwrap();
    assert_eq!(item.in_use_by.as_ref().map(|u| u.0), Some(77));
    assert!(item.why.contains("ended first"), "{}", item.why);
    assert!(
        item.why.contains("hash match") && item.why.contains("hash list"),
        "{}",
        item.why
    );
}

#[test]
fn the_launcher_is_never_a_target() {
    let s = infected();
    for hash in [true, false] {
        for activate in [Confidence::High, Confidence::Medium] {
            let h = plan_for(
                &s,
                &findings(&s, hash),
                &Playbook::builtin(),
                Flags {
                    activate: Some(activate),
                },
            );
            for i in &h.items {
                if let Some(Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. }) = i.step.op() {
                    assert!(!path.to_lowercase().ends_with("rundll32.exe"), "{i:#?}");
                }
            }
        }
    }
    // Even a finding that names the launcher as its target is refused.
    let mut f = findings(&s, true);
    f[0].target_files.push(RUNDLL.into());
    let s2 = SnapshotBuilder::new("WS-001").build();
    let mut s3 = s.clone();
    s3.files.extend(s2.files);
    s3.files.push(crate::runtime::snapshot::FileFacts {
        path: RUNDLL.into(),
        exists: true,
        sha256: "a".repeat(64),
        ..Default::default()
    });
    let h = plan_for(&s3, &f, &Playbook::builtin(), Flags::default());
    let launcher = h
        .items
        .iter()
        .find(|i| matches!(i.step.op(), Some(Op::DeleteFile { path, .. }) if path == RUNDLL))
        .expect("listed");
    assert!(!launcher.active);
    assert!(launcher.why.contains("launcher"), "{}", launcher.why);
}

#[test]
fn medium_is_listed_inactive_unless_activated() {
    let s = infected();
    let f = findings(&s, false);
    assert!(
        f.iter()
            .all(|x| x.confidence <= Confidence::Medium && !x.certain),
        "{f:#?}"
    );
    let h = plan_for(&s, &f, &Playbook::builtin(), Flags::default());
    assert!(active(&h).is_empty(), "{:#?}", h.items);
    assert!(found(&h).count() > 0);
    for i in found(&h) {
        match i.step.op().unwrap() {
            // Detection is less sure of the process: low, only ever listed.
            Op::KillProcess { .. } => assert!(i.why.starts_with("low confidence"), "{}", i.why),
            _ => assert!(i.why.contains("--activate medium"), "{}", i.why),
        }
    }
    let h = plan_for(
        &s,
        &f,
        &Playbook::builtin(),
        Flags {
            activate: Some(Confidence::Medium),
        },
    );
    let ops = active(&h);
    assert!(
        matches!(ops[0], Op::DeleteRegistryValue { .. }),
        "{:#?}",
        h.items
    );
    // The DLL stays in use by the process that is not killed: queued for boot.
    assert!(
        matches!(ops[1], Op::QueueDeleteOnReboot { .. }),
        "{:#?}",
        h.items
    );
    assert_eq!(ops.len(), 2);
}

#[test]
fn allowlisted_findings_are_listed_not_active() {
    let s = infected();
    let ctx = DetectContext {
        hashes: HashList::parse(&format!("{SHA} Emotet\n")).unwrap(),
        allow: crate::detect::AllowList::parse("path:C:\\Users\\*\\AppData\\Local\\Tools\\*.dll\n")
            .unwrap(),
    };
    let f: Vec<StoredFinding> = detect(&s, &ctx).iter().map(StoredFinding::from).collect();
    let h = plan_for(
        &s,
        &f,
        &Playbook::builtin(),
        Flags {
            activate: Some(Confidence::Medium),
        },
    );
    assert!(!h.items.is_empty());
    let file = h
        .items
        .iter()
        .find(|i| matches!(i.step.op(), Some(Op::DeleteFile { .. })));
    if let Some(file) = file {
        assert!(
            !file.active && file.why.contains("allow-listed"),
            "{file:#?}"
        );
    }
    assert!(
        h.items
            .iter()
            .filter(|i| matches!(i.step.op(), Some(Op::DeleteRegistryValue { .. })))
            .all(|i| !i.active),
        "{:#?}",
        h.items
    );
}

#[test]
fn a_file_in_use_by_a_process_that_stays_is_queued_for_boot() {
    let s = infected();
    let text = "playbook: 1\npurge:\n  kill_processes: false\n";
    let pb = crate::playbook::parse(text, std::path::Path::new("pb.yml")).unwrap();
    let h = plan_for(&s, &findings(&s, true), &pb, Flags::default());
    let ops = active(&h);
    assert!(
        !ops.iter().any(|o| matches!(o, Op::KillProcess { .. })),
        "{ops:#?}"
    );
    assert!(
        ops.iter().any(|o| matches!(o, Op::QueueDeleteOnReboot { path, expected_sha256, .. } if path == DLL && expected_sha256 == SHA)),
        "{ops:#?}"
    );
    let kill = h
        .items
        .iter()
        .find(|i| matches!(i.step.op(), Some(Op::KillProcess { .. })))
        .unwrap();
    assert!(kill.why.contains("kill_processes: false"), "{}", kill.why);
    let c = h.counts();
    assert_eq!((c.kills, c.queued), (0, 1), "{c:?}");
}

#[test]
fn tasks_services_and_exclusions() {
    let exe = r"C:\Users\bob\AppData\Roaming\Qzkw\qzkwvtrb.exe";
    let sha2 = "b".repeat(64);
    let s = SnapshotBuilder::new("WS-001")
        .user("bob")
        .task(r"\Qzkwvtrb", exe, "", "bob", &["logon"])
        .service("qzkwvtrb", "qzkwvtrb", exe, "LocalSystem")
        .file(exe)
        .with_file(exe, |f| f.sha256 = sha2.clone())
        .build();
    let ctx = DetectContext {
        hashes: HashList::parse(&format!("{sha2} TrickBot\n")).unwrap(),
        ..Default::default()
    };
    let f: Vec<StoredFinding> = detect(&s, &ctx).iter().map(StoredFinding::from).collect();
    let h = plan_for(&s, &f, &Playbook::builtin(), Flags::default());
    let ops = active(&h);
    assert!(
        ops.iter().any(|o| matches!(o, Op::DeleteTask { path, expected_actions } if path == r"\Qzkwvtrb" && expected_actions[0].path == exe)),
        "{ops:#?}"
    );
    assert!(
        ops.iter().any(|o| matches!(o, Op::DeleteService { name, expected_image_path, .. } if name == "qzkwvtrb" && expected_image_path == exe)),
        "{ops:#?}"
    );
    let ranks: Vec<u8> = ops.iter().map(|o| Step::Purge((*o).clone()).rank()).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ops:#?}");

    let pb = crate::playbook::parse(
        "playbook: 1\nexclude:\n  paths: ['C:\\Users\\*\\AppData\\Roaming\\Qzkw\\**']\n",
        std::path::Path::new("pb.yml"),
    )
    .unwrap();
    let h = plan_for(&s, &f, &pb, Flags::default());
    assert!(active(&h).is_empty(), "{:#?}", h.items);
    assert!(
        found(&h).all(|i| i.why.contains("excluded by the playbook")),
        "{:#?}",
        h.items
    );

    let pb = crate::playbook::parse(
        "playbook: 1\nexclude:\n  hosts: ['ws-*']\n",
        std::path::Path::new("pb.yml"),
    )
    .unwrap();
    let h = plan_for(&s, &f, &pb, Flags::default());
    assert!(active(&h).is_empty());
    let pb = crate::playbook::parse(
        "playbook: 1\npurge:\n  families: [emotet]\n",
        std::path::Path::new("pb.yml"),
    )
    .unwrap();
    let h = plan_for(&s, &f, &pb, Flags::default());
    assert!(active(&h).is_empty());
    assert!(found(&h).all(|i| i.why.contains("not among the playbook's families")));
}

// ---- containment, reboots, folders, Defender ----

const QAK_DIR: &str = r"C:\Users\bob\AppData\Roaming\Microsoft\Wqrkzhy";
const EXCLUSIONS: &str = r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths";

/// Qakbot as a user, as a live host shows it: its empty folder under
/// %APPDATA%\Microsoft and a Defender exclusion for it.
fn qakbot() -> Snapshot {
    SnapshotBuilder::new("WS-002")
        .user("bob")
        .dir(QAK_DIR, &[])
        .reg("HKLM", EXCLUSIONS, QAK_DIR, "REG_DWORD", "0")
        .build()
}

fn fleet_host(name: &str, ip: &str, groups: &[&str]) -> FleetHost {
    FleetHost {
        name: name.into(),
        address: ip.into(),
        ips: vec![ip.parse().unwrap()],
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// WS-001 (infected, hash known), WS-002 (Qakbot), WS-003 and DC-01
/// (clean), with an inventory that puts DC-01 in `domain_controllers`.
fn fleet_plan(pb: &Playbook) -> Plan {
    let (s1, s2) = (infected(), qakbot());
    let s3 = SnapshotBuilder::new("WS-003").user("carol").build();
    let dc = SnapshotBuilder::new("DC-01").build();
    let (f1, f2) = (findings(&s1, true), findings(&s2, false));
    let none: Vec<StoredFinding> = vec![];
    let input = |host, snapshot_id, snapshot, findings| HostInput { host, snapshot_id, snapshot, findings };
    let inputs = [
        input("WS-001", 1, &s1, &f1[..]),
        input("WS-002", 2, &s2, &f2[..]),
        input("WS-003", 3, &s3, &none[..]),
        input("DC-01", 4, &dc, &none[..]),
    ];
    let ctx = Context {
        engagement: crate::firewall::EngagementId::parse("5eed0001").unwrap(),
        fleet: vec![
            fleet_host("WS-001", "10.0.0.11", &["workstations"]),
            fleet_host("WS-002", "10.0.0.12", &["workstations"]),
            fleet_host("WS-003", "10.0.0.13", &["workstations"]),
            fleet_host("DC-01", "10.0.0.2", &["domain_controllers"]),
            fleet_host("FS-09", "10.0.0.9", &["file_servers"]),
        ],
    };
    build_with(&ctx, &inputs, vec![], pb, &Flags::default())
}

fn host<'a>(p: &'a Plan, name: &str) -> &'a HostPlan {
    p.hosts.iter().find(|h| h.host == name).unwrap()
}

#[test]
fn every_host_changing_step_is_planned_in_its_phase() {
    let p = fleet_plan(&Playbook::builtin());
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    // Containment: every host but the domain controller; the DC, and the
    // file server that is not even planned, keep SMB.
    for h in ["WS-001", "WS-002", "WS-003"] {
        assert_eq!(host(&p, h).items[0].step, Step::Contain, "{h}");
        assert_eq!(host(&p, h).contain, ContainDecision::Contain);
    }
    let dc = host(&p, "DC-01");
    assert!(dc.items.is_empty() && dc.nothing_to_do(), "{:#?}", dc.items);
    assert!(matches!(&dc.contain, ContainDecision::Exempt(w) if w.contains("domain_controllers")));
    let set = p.containment.exempt_set();
    assert!(set.contains("10.0.0.2".parse().unwrap()) && set.contains("10.0.0.9".parse().unwrap()));
    assert!(!set.contains("10.0.0.11".parse().unwrap()));
    assert_eq!(p.containment.exempt_hosts.len(), 2);
    // The Qakbot host: writes denied to its folder, the exclusion reverted,
    // the folder removed after the reboot; the medium folder finding...
    let qak = host(&p, "WS-002");
    let steps: Vec<&Step> = qak.items.iter().filter(|i| i.active).map(|i| &i.step).collect();
    assert!(steps.contains(&&Step::RevertDefenderExclusion { hive: "HKLM".into(), key: EXCLUSIONS.into(), value: QAK_DIR.into() }), "{:#?}", qak.items);
    assert!(steps.contains(&&Step::DenyWrites { folder: QAK_DIR.into() }), "{:#?}", qak.items);
    assert!(steps.contains(&&Step::Purge(Op::RemoveFolder { path: QAK_DIR.into(), may_hold: vec![], after_reboot: true })), "{:#?}", qak.items);
    // ...and no registry delete of the exclusion (its key refuses writes).
    assert!(!steps.iter().any(|s| matches!(s, Step::Purge(Op::DeleteRegistryValue { .. }))));
    // Reboots: the two hosts the purge changes, a canary and the rest; the
    // clean workstation is contained only.
    assert_eq!(p.waves.len(), 2, "{:#?}", p.waves);
    assert_eq!(p.waves[0].hosts, ["WS-001"]);
    assert_eq!(p.waves[0].kind, WaveKind::Canary);
    assert_eq!(host(&p, "WS-001").wave(), Some(1));
    assert_eq!(qak.wave(), Some(2));
    assert!(host(&p, "WS-003").contain_only());
    // Within a host, execution order is by phase whatever the file order.
    let mut ordered = steps.clone();
    ordered.sort_by_key(|s| s.order());
    let phases: Vec<Phase> = ordered.iter().map(|s| s.phase()).collect();
    assert_eq!(phases.first(), Some(&Phase::Contain));
    assert_eq!(phases.last(), Some(&Phase::AfterReboot));
    assert!(phases.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn playbook_switches_turn_steps_off_and_never_rebooted_hosts_keep_their_files() {
    let pb = crate::playbook::parse(
        "playbook: 1\npurge:\n  deny_shutdown_writes: false\n  revert_defender_exclusions: false\n  remove_emptied_folders: false\nreboot:\n  never: {hosts: [ws-001]}\ncontain:\n  never: {hosts: [ws-003]}\n",
        std::path::Path::new("pb.yml"),
    )
    .unwrap();
    let p = fleet_plan(&pb);
    let qak = host(&p, "WS-002");
    for (tag, switch) in [("deny_writes", "deny_shutdown_writes: false"), ("revert_defender_exclusion", "revert_defender_exclusions: false"), ("remove_folder", "remove_emptied_folders: false")] {
        let i = qak.items.iter().find(|i| i.step.tag() == tag).unwrap_or_else(|| panic!("{tag}: {:#?}", qak.items));
        assert!(!i.active && i.note.as_deref().is_some_and(|n| n.contains(switch)), "{i:#?}");
    }
    let ws1 = host(&p, "WS-001");
    assert_eq!(ws1.wave(), None);
    assert!(ws1.no_reboot.as_deref().is_some_and(|w| w.contains("reboot.never.hosts `ws-001`")), "{:?}", ws1.no_reboot);
    assert!(matches!(&host(&p, "WS-003").contain, ContainDecision::Never(_)));
    assert!(host(&p, "WS-003").nothing_to_do());
}

#[test]
fn an_exempt_host_without_an_address_stops_the_plan() {
    let s = infected();
    let f = findings(&s, true);
    let ctx = Context {
        engagement: crate::firewall::EngagementId::parse("5eed0001").unwrap(),
        fleet: vec![FleetHost { name: "DC-01".into(), address: "dc01.corp.example".into(), ips: vec![], groups: vec!["domain_controllers".into()] }],
    };
    let input = HostInput { host: "WS-001", snapshot_id: 1, snapshot: &s, findings: &f };
    let p = build_with(&ctx, &[input], vec![], &Playbook::builtin(), &Flags::default());
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(p.problems[0].contains("DC-01") && p.problems[0].contains("dc01.corp.example"));
}

// ---- the file and its validation ----

/// A journal with one scan per host, a plan recorded, and its file written.
fn planned_many(
    snaps: &[(&str, Snapshot)],
    flags: Flags,
    pb: &Playbook,
) -> (Journal, tempfile::TempDir, std::path::PathBuf, String, Plan) {
    planned_with(snaps, flags, pb, true)
}

/// [`planned_many`], the hash list knowing the DLL (`hash`) or not.
fn planned_with(
    snaps: &[(&str, Snapshot)],
    flags: Flags,
    pb: &Playbook,
    hash: bool,
) -> (Journal, tempfile::TempDir, std::path::PathBuf, String, Plan) {
    planned_reviewed(snaps, flags, pb, hash, &BTreeMap::new())
}

/// [`planned_with`], `review` (by host) listed in the plan as the fleet's
/// stacking lists it.
fn planned_reviewed(
    snaps: &[(&str, Snapshot)],
    flags: Flags,
    pb: &Playbook,
    hash: bool,
    review: &BTreeMap<String, Vec<ReviewItem>>,
) -> (Journal, tempfile::TempDir, std::path::PathBuf, String, Plan) {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j.begin_run("scan", &[]).unwrap();
    let ctx = DetectContext {
        hashes: HashList::parse(&if hash { format!("{SHA} Emotet\n") } else { String::new() }).unwrap(),
        ..Default::default()
    };
    let mut stored: Vec<(String, i64, Vec<StoredFinding>)> = Vec::new();
    for (name, s) in snaps {
        let raw_findings = detect(s, &ctx);
        let ids = j
            .record_scan(run, name, "10.0.0.1", 1, ScanResult::Collected { snapshot: s, findings: &raw_findings })
            .unwrap();
        stored.push((name.to_string(), ids.snapshot_id.unwrap(), raw_findings.iter().map(StoredFinding::from).collect()));
    }
    let inputs: Vec<HostInput<'_>> = snaps
        .iter()
        .zip(&stored)
        .map(|((_, s), (name, id, f))| HostInput { host: name, snapshot_id: *id, snapshot: s, findings: f })
        .collect();
    let mut plan = build(&inputs, vec![Unscanned { host: "WS-099".into(), why: "unreachable".into() }], pb, &flags);
    plan.add_reviews(review);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.yml");
    let (_, text) = record(&mut j, run, &plan, &path).unwrap();
    std::fs::write(&path, &text).unwrap();
    (j, dir, path, text, plan)
}

/// [`planned_many`] of WS-001 alone.
fn planned(s: &Snapshot, flags: Flags) -> (Journal, tempfile::TempDir, std::path::PathBuf, String) {
    let (j, d, p, t, _) = planned_many(&[("WS-001", s.clone())], flags, &Playbook::builtin());
    (j, d, p, t)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
        + 1
}

fn without_line(text: &str, line: usize) -> String {
    text.lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != line)
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

fn validate_text(j: &mut Journal, path: &std::path::Path, text: &str) -> Result<ValidatedPlan, PlanError> {
    std::fs::write(path, text).unwrap();
    load_and_validate(path, j)
}

#[test]
fn the_written_plan_reads_back_whole() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    assert!(text.contains("cauterize_plan: 2"), "{text}");
    assert!(text.contains("# ==== Summary ===="), "{text}");
    assert!(
        text.contains(
            "- {op: kill_process, pid: 77, expected_image: 'C:\\Windows\\System32\\rundll32.exe'"
        ),
        "{text}"
    );
    assert!(text.contains("unscanned:"), "{text}");
    let v = load_and_validate(&path, &mut j).unwrap();
    assert_eq!(v.hosts.len(), 1);
    assert!(v.removed.is_empty() && v.stale.is_empty() && v.warnings.is_empty(), "{v:#?}");
    let steps = &v.hosts[0].steps;
    // In execution order: contain, kill, ..., reboot.
    assert_eq!(steps[0].step, Step::Contain);
    assert!(matches!(steps[1].step, Step::Purge(Op::KillProcess { .. })));
    assert!(matches!(steps.last().unwrap().step, Step::Reboot { wave: 1, .. }));
    assert_eq!(v.hosts[0].purge_ops().count(), active(&plan_for(&s, &findings(&s, true), &Playbook::builtin(), Flags::default())).len());
    assert!(v.hosts[0].contained() && v.hosts[0].wave() == Some(1));
    assert_eq!(j.count("plan_reviews").unwrap(), 1);
    assert!(v.settings.purge.quarantine);
    assert_eq!(v.containment.engagement.as_str(), "00000000");
}

#[test]
fn steps_are_grouped_under_their_finding_with_a_short_reason() {
    let s = infected();
    let (_j, _dir, _path, text) = planned(&s, Flags::default());
    let ops_at = line_of(&text, "    ops:");
    let lines: Vec<&str> = text.lines().skip(ops_at).take_while(|l| l.starts_with("      ")).collect();
    let headings: Vec<&&str> = lines.iter().filter(|l| l.trim_start().starts_with("# ")).collect();
    let steps = lines.iter().filter(|l| l.trim_start().starts_with("- {op:")).count();
    assert!(headings.len() < steps, "{text}");
    // Each heading names a rule, its family and confidence, once, short.
    for h in &headings {
        assert!(h.contains("(Emotet, high, hash match): ") || h.contains("(Emotet, high): "), "{h}");
        assert!(h.len() < 260, "{h}");
    }
    // `contain` first and `reboot` last, without a heading of their own.
    let first = lines.iter().find(|l| l.trim_start().starts_with("- {op:")).unwrap();
    assert!(first.ends_with("- {op: contain}"), "{first}");
    assert!(lines.last().unwrap().ends_with("- {op: reboot, wave: 1}"), "{lines:?}");
    // Every rule shown once per host.
    let mut rules: Vec<&str> = headings.iter().filter_map(|h| h.trim_start().strip_prefix("# ")?.split(' ').next()).collect();
    let n = rules.len();
    rules.dedup();
    assert_eq!(rules.len(), n, "{headings:?}");
    // The in-use note sits beside its line.
    let file = lines.iter().find(|l| l.contains("op: delete_file")).unwrap();
    assert!(file.contains("  # in use by PID 77 (rundll32.exe), ended first"), "{file}");
}

#[test]
fn review_items_are_listed_read_back_and_never_acted_on() {
    let item = |what: &str, why: &str| ReviewItem { what: what.into(), why: why.into(), reached: false };
    let rare = "review: unsigned, on 1 of 20 scanned hosts (rare: at most 1, 5 %), and no finding explains it";
    let review: BTreeMap<String, Vec<ReviewItem>> = [
        (
            "ws-001".to_string(),
            vec![
                item(r"scheduled task \Inventory runs C:\Users\bob\Tools\inv.exe", rare),
                item("x\n- {op: delete_file, path: 'C:\\Windows\\explorer.exe'}", rare),
            ],
        ),
        // A host with nothing to purge: its review item keeps it out of
        // the one-line `contain_only:` list.
        ("WS-003".to_string(), vec![item(r"Run value HKLM\...\Run\Sync = C:\ProgramData\Sync\sync.exe", rare)]),
    ]
    .into_iter()
    .collect();
    let clean = SnapshotBuilder::new("WS-003").user("bob").build();
    let (mut j, _dir, path, text, plan) =
        planned_reviewed(&[("WS-001", infected()), ("WS-003", clean)], Flags::default(), &Playbook::builtin(), true, &review);
    // Under each host, after its steps: the why once, then each item.
    let why = format!("      # {rare}\n");
    let inventory = "      - 'scheduled task \\Inventory runs C:\\Users\\bob\\Tools\\inv.exe'\n";
    assert!(text.contains(&format!("    review:\n{why}{inventory}")), "{text}");
    assert!(text.contains("  'WS-003':  # workstation; contained; no reboot;"), "{text}");
    assert!(!text.contains("\ncontain_only:"), "{text}");
    // The hostile item stays one quoted line: no step comes of it.
    assert!(text.contains("      - \"x\\n- {op: delete_file"), "{text}");
    // The summary says it, at the top of the file and to the operator.
    let told = "For review (not acted on): 3 rare unsigned autostarts that nothing explains, on 2 hosts (WS-[001,003]); see `review:` under each.";
    assert!(summary::overview(&plan).iter().any(|l| l == told), "{:#?}", summary::overview(&plan));
    assert!(text.contains("# For review (not acted on): 3 rare unsigned"), "{text}");
    assert!(summary::overview(&plan)[0].contains("1 with findings, 1 contained only, 0 with nothing to do"), "{:#?}", summary::overview(&plan));
    let v = load_and_validate(&path, &mut j).unwrap();
    assert!(v.removed.is_empty() && v.warnings.is_empty(), "{v:#?}");
    assert_eq!(
        v.hosts[0].purge_ops().count(),
        active(&plan_for(&infected(), &findings(&infected(), true), &Playbook::builtin(), Flags::default())).len(),
        "review items are no steps"
    );
    assert!(v.hosts.iter().flat_map(|h| &h.steps).all(|s| !format!("{:?}", s.step).contains("explorer.exe")));
    let ws3 = v.hosts.iter().find(|h| h.host == "WS-003").expect("WS-003 read back");
    assert_eq!(ws3.steps.iter().map(|s| &s.step).collect::<Vec<_>>(), [&Step::Contain]);
    // Deleting a review line is allowed, like any line, and changes nothing.
    let v = validate_text(&mut j, &path, &text.replace(inventory, "")).unwrap();
    assert!(v.removed.is_empty(), "{:#?}", v.removed);
}

#[test]
fn deleting_a_line_spares_that_artifact() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let kill = line_of(&text, "- {op: kill_process");
    let v = validate_text(&mut j, &path, &without_line(&text, kill)).unwrap();
    assert!(v.hosts[0].purge_ops().all(|(_, o)| !matches!(o, Op::KillProcess { .. })));
    assert_eq!(v.removed.len(), 1);
    assert!(matches!(v.removed[0].1, Step::Purge(Op::KillProcess { pid: 77, .. })));
    // The reboot and the containment lines go the same way, with a warning.
    let edited = without_line(&without_line(&text, line_of(&text, "- {op: reboot")), line_of(&text, "- {op: contain}"));
    let v = validate_text(&mut j, &path, &edited).unwrap();
    assert!(!v.hosts[0].contained() && v.hosts[0].wave().is_none());
    assert!(v.warnings.iter().any(|w| w.contains("not contained")), "{:?}", v.warnings);
    assert!(v.warnings.iter().any(|w| w.contains("not rebooted") && w.contains("queued")), "{:?}", v.warnings);
}

#[test]
fn a_moved_line_is_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let kill = line_of(&text, "- {op: kill_process");
    let file = line_of(&text, "- {op: delete_file");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.swap(kill - 1, file - 1);
    let e = validate_text(&mut j, &path, &lines.join("\n")).unwrap_err().to_string();
    assert!(e.contains("was moved"), "{e}");
    // Reported at the first line out of order, after the first moved one.
    let at: usize = e.split("plan.yml:").nth(1).and_then(|r| r.split(':').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(kill.min(file) < at && at <= kill.max(file), "{e}");
    assert!(text.contains("an added, changed or moved line is\n# refused"), "the header says so");
}

#[test]
fn host_names_differing_only_in_case_are_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let start = line_of(&text, "  'WS-001':");
    let block: Vec<&str> = text
        .lines()
        .skip(start - 1)
        .take_while(|l| l.starts_with("  'WS-001'") || l.starts_with("    "))
        .collect();
    let copy = block.join("\n").replacen("'WS-001'", "'ws-001'", 1);
    let edited = text.replacen("hosts:\n", &format!("hosts:\n{copy}\n"), 1);
    let e = validate_text(&mut j, &path, &edited).unwrap_err().to_string();
    assert!(e.contains("name the same host") && e.contains("not case-sensitive"), "{e}");
}

#[test]
fn a_host_scanned_again_since_the_plan_is_refused_with_what_to_do() {
    let (mut j, _dir, path, text, _) = planned_many(
        &[("WS-001", infected()), ("WS-002", qakbot())],
        Flags::default(),
        &Playbook::builtin(),
    );
    // WS-002 is scanned again.
    let run = j.begin_run("scan", &[]).unwrap();
    let s = qakbot();
    j.record_scan(run, "WS-002", "10.0.0.1", 1, ScanResult::Collected { snapshot: &s, findings: &detect(&s, &DetectContext::default()) })
        .unwrap();
    let v = validate_text(&mut j, &path, &text).unwrap();
    assert_eq!(v.hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), ["WS-001"]);
    assert_eq!(v.stale.len(), 1);
    let st = &v.stale[0];
    assert_eq!(st.host, "WS-002");
    assert!(st.newer > st.planned);
    assert!(st.what_to_do.contains("run `cauterize plan` again"), "{}", st.what_to_do);
    assert!(v.removed.iter().all(|(h, _)| h != "WS-002"));
}

#[test]
fn contain_only_hosts_are_one_line_and_lose_names_like_lines() {
    let clean = |n: &str| (n.to_string(), SnapshotBuilder::new(n).user("bob").build());
    let hosts: Vec<(String, Snapshot)> = ["WS-003", "WS-004", "WS-005", "WS-007"].iter().map(|n| clean(n)).chain([("WS-001".to_string(), infected())]).collect();
    let refs: Vec<(&str, Snapshot)> = hosts.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    let (mut j, _dir, path, text, _) = planned_many(&refs, Flags::default(), &Playbook::builtin());
    assert!(text.contains("contain_only: ['WS-[003-005,007]']"), "{text}");
    assert!(!text.contains("  'WS-004':"), "{text}");
    let v = validate_text(&mut j, &path, &text).unwrap();
    assert_eq!(v.hosts.len(), 5);
    assert!(v.hosts.iter().all(|h| h.contained()));
    // Remove WS-004 from the list: it is left alone.
    let v = validate_text(&mut j, &path, &text.replace("'WS-[003-005,007]'", "'WS-003', 'WS-[005,007]'")).unwrap();
    assert_eq!(v.hosts.len(), 4);
    assert_eq!(v.removed, [("WS-004".to_string(), Step::Contain)]);
    // A host with other steps cannot be moved into the list.
    let e = validate_text(&mut j, &path, &text.replace("'WS-[003-005,007]'", "'WS-[001,003-005,007]'")).unwrap_err().to_string();
    assert!(e.contains("WS-001") && e.contains("already listed"), "{e}");
    let e = validate_text(&mut j, &path, &text.replace("'WS-[003-005,007]'", "'WS-[003-005,008]'")).unwrap_err().to_string();
    assert!(e.contains("WS-008 is not in plan"), "{e}");
    let e = validate_text(&mut j, &path, &text.replace("'WS-[003-005,007]'", "'WS-[003-005'")).unwrap_err().to_string();
    assert!(e.contains("contain_only:") && e.contains("without `]`"), "{e}");
}

#[test]
fn an_invented_operation_is_refused_with_its_line() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let kill = line_of(&text, "- {op: kill_process");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.insert(kill, format!("      - {{op: delete_file, path: 'C:\\Windows\\System32\\ntdll.dll', expected_sha256: '{}', queue_if_locked: true}}", "c".repeat(64)));
    let e = validate_text(&mut j, &path, &lines.join("\n")).unwrap_err();
    let PlanError::File(e) = e else { panic!("{e}") };
    assert_eq!(e.line(), Some(kill as u64 + 1), "{e}");
    assert!(e.message.contains("not in plan"), "{e}");
    assert!(e.to_string().contains("plan.yml:"), "{e}");
    assert_eq!(j.count("plan_reviews").unwrap(), 0);
    // Nor can a step of the plan's own kinds be invented or changed.
    let e = validate_text(&mut j, &path, &text.replacen("- {op: reboot, wave: 1}", "- {op: reboot, wave: 2}", 1)).unwrap_err().to_string();
    assert!(e.contains("was changed"), "{e}");
    let e = validate_text(&mut j, &path, &text.replacen("- {op: contain}", "- {op: contain}\n      - {op: remove_folder, path: 'C:\\Users', may_hold: []}", 1)).unwrap_err().to_string();
    assert!(e.contains("not in plan"), "{e}");
}

#[test]
fn a_changed_hash_or_an_unknown_key_is_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let file = line_of(&text, "- {op: delete_file");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[file - 1] = lines[file - 1].replace(SHA, &"0".repeat(64));
    let e = validate_text(&mut j, &path, &lines.join("\n")).unwrap_err().to_string();
    assert!(e.contains(&format!("plan.yml:{file}:")), "{e}");
    assert!(e.contains("was changed") && e.contains(SHA), "{e}");
    let edited = text.replacen("- {op: kill_process,", "- {op: kill_process, force: true,", 1);
    let e = validate_text(&mut j, &path, &edited).unwrap_err().to_string();
    assert!(e.contains("unknown key `force`"), "{e}");
}

#[test]
fn an_inactive_item_cannot_be_activated_by_editing() {
    // Medium findings only: every purge step inactive.
    let (mut j, _dir, path, text, _) = planned_with(&[("WS-001", infected())], Flags::default(), &Playbook::builtin(), false);
    assert!(text.contains("    inactive:"), "{text}");
    let op_line = text
        .lines()
        .skip_while(|l| !l.starts_with("    inactive:"))
        .find(|l| l.trim_start().starts_with("- {op: kill_process"))
        .expect("inactive kill")
        .trim_start()
        .to_string();
    let edited = text.replacen("      - {op: contain}\n", &format!("      - {{op: contain}}\n      {op_line}\n"), 1);
    let e = validate_text(&mut j, &path, &edited).unwrap_err().to_string();
    assert!(e.contains("listed inactive"), "{e}");
    assert!(e.contains("--activate medium"), "{e}");
}

#[test]
fn settings_containment_and_foreign_plans_are_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    let e = validate_text(&mut j, &path, &text.replacen("quarantine: true", "quarantine: false", 1)).unwrap_err().to_string();
    assert!(e.contains("settings were changed"), "{e}");
    let e = validate_text(&mut j, &path, &text.replacen("engagement: '00000000'", "engagement: '00000001'", 1)).unwrap_err().to_string();
    assert!(e.contains("containment section was changed"), "{e}");
    let e = validate_text(&mut j, &path, &text.replacen("plan_id: 1", "plan_id: 99", 1)).unwrap_err().to_string();
    assert!(e.contains("plan 99 is not in this engagement's journal"), "{e}");
    let e = validate_text(&mut j, &path, &text.replacen("  'WS-001':", "  'WS-009':", 1)).unwrap_err().to_string();
    assert!(e.contains("host WS-009 is not in plan"), "{e}");
    let e = validate_text(&mut j, &path, &text.replacen("cauterize_plan: 2", "cauterize_plan: 1", 1)).unwrap_err().to_string();
    assert!(e.contains("plan format 1 is not known") && e.contains("run `cauterize plan` again"), "{e}");
}

#[test]
fn hostile_names_cannot_inject_operations() {
    let evil = "Upd\n      - {op: delete_file, path: 'C:\\boot.ini'}\u{202e}";
    let cmd = format!("rundll32.exe {DLL},Start");
    let s = SnapshotBuilder::new("WS-001")
        .user("bob")
        .run("bob", evil, &cmd)
        .file(DLL)
        .with_file(DLL, |f| f.sha256 = SHA.into())
        .build();
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    assert!(
        !text.lines().any(|l| l
            .trim_start()
            .starts_with("- {op: delete_file, path: 'C:\\boot.ini'")),
        "{text}"
    );
    assert!(!text.contains('\u{202e}'), "{text}");
    let v = load_and_validate(&path, &mut j).unwrap();
    let reg = v.hosts[0]
        .purge_ops()
        .find_map(|(_, o)| match o {
            Op::DeleteRegistryValue { value, .. } => Some(value.clone()),
            _ => None,
        })
        .expect("registry op");
    assert_eq!(reg, evil);
}

#[test]
fn the_qakbot_steps_read_back() {
    let (mut j, _dir, path, text, _) = planned_many(&[("WS-002", qakbot())], Flags::default(), &Playbook::builtin());
    for needle in ["op: deny_writes", "op: revert_defender_exclusion", "op: remove_folder"] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    assert!(text.contains("may_hold: [], after_reboot: true}  # after the reboot"), "{text}");
    // Every kind of step, the after-reboot folder included, is carried
    // out: the header lists none as missing.
    assert!(!text.contains("Not yet carried out by this version"), "{text}");
    let v = validate_text(&mut j, &path, &text).unwrap();
    let tags: Vec<String> = v.hosts[0].steps.iter().map(|s| s.step.tag()).collect();
    assert_eq!(tags, ["contain", "deny_writes", "revert_defender_exclusion", "reboot", "remove_folder"]);
    // Deleting the deny spares exactly that step.
    let v = validate_text(&mut j, &path, &without_line(&text, line_of(&text, "op: deny_writes"))).unwrap();
    assert_eq!(v.removed, [("WS-002".to_string(), Step::DenyWrites { folder: QAK_DIR.into() })]);
    assert_eq!(v.hosts[0].steps.len(), 4);
}

/// Issue 12 item 5: an Emotet folder that holds nothing but the file the
/// plan deletes goes in the purge, right after that file, with the file
/// named in `may_hold`; the plan file shows it, and a run carries it out.
#[test]
fn an_emptied_emotet_folder_is_removed_in_the_purge_after_its_file() {
    let dir = r"C:\Windows\SysWOW64\Mqbvdfzt";
    let kxe = r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe";
    let image = r#"C:\Windows\system32\rundll32.exe "C:\Windows\system32\Mqbvdfzt\mqbvdf.kxe",RunDLL"#;
    let s = SnapshotBuilder::new("SRV1")
        .service("mqbvdf.kxe", "mqbvdf.kxe", image, "LocalSystem")
        .file(kxe)
        .with_file(kxe, |f| f.sha256 = SHA.into())
        .dir(dir, &["mqbvdf.kxe"])
        .build();
    let f = findings(&s, true);
    let h = plan_for(&s, &f, &Playbook::builtin(), Flags { activate: Some(Confidence::Medium) });
    let ops = active(&h);
    let file_at = ops.iter().position(|o| matches!(o, Op::DeleteFile { path, .. } if path == kxe)).expect("file deleted");
    let folder_at = ops
        .iter()
        .position(|o| {
            matches!(o, Op::RemoveFolder { path, may_hold, after_reboot: false }
                if path == dir && may_hold.len() == 1 && may_hold[0].name == "mqbvdf.kxe" && may_hold[0].sha256 == SHA)
        })
        .unwrap_or_else(|| panic!("{ops:#?}"));
    assert!(folder_at > file_at, "{ops:#?}");
    let item = h.items.iter().find(|i| i.step.tag() == "remove_folder").expect("item");
    assert_eq!(item.step.phase(), Phase::Purge);
    assert!(item.step.has_host_side());
}

#[test]
fn emotet_service_folder_and_unhashed_files() {
    let kxe = r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe";
    let image =
        r#"C:\Windows\system32\rundll32.exe "C:\Windows\system32\Mqbvdfzt\mqbvdf.kxe",RunDLL"#;
    let s = SnapshotBuilder::new("SRV1")
        .service("mqbvdf.kxe", "mqbvdf.kxe", image, "LocalSystem")
        .file(kxe)
        .with_file(kxe, |f| {
            f.modified = "2021-01-01T00:00:00Z".into();
            f.sha256 = SHA.into();
        })
        .file(r"C:\Windows\SysWOW64\Mqbvdfzt\other.bin")
        .dir(
            r"C:\Windows\SysWOW64\Mqbvdfzt",
            &["mqbvdf.kxe", "other.bin"],
        )
        .with_file(r"C:\Windows\SysWOW64\Mqbvdfzt", |f| {
            f.modified = "2021-01-08T00:00:00.3Z".into()
        })
        .build();
    let f = findings(&s, true);
    let h = plan_for(
        &s,
        &f,
        &Playbook::builtin(),
        Flags {
            activate: Some(Confidence::Medium),
        },
    );
    let ops = active(&h);
    assert!(
        ops.iter().any(|o| matches!(o, Op::DeleteService { name, expected_image_path, .. } if name == "mqbvdf.kxe" && expected_image_path == image)),
        "{ops:#?}"
    );
    // The WOW64 view the file really is in, with its hash; not the launcher.
    assert!(
        ops.iter().any(|o| matches!(o, Op::DeleteFile { path, expected_sha256, .. } if path == kxe && expected_sha256 == SHA)),
        "{ops:#?}"
    );
    assert!(
        !format!("{ops:?}")
            .to_lowercase()
            .contains("rundll32.exe\", expected_sha256")
    );
    // The file the scan could not hash is listed, not planned; so the
    // folder, which holds it, stays.
    assert!(
        h.not_planned
            .iter()
            .any(|n| n.what.starts_with("folder ") && n.why.contains("also holds other.bin")),
        "{:#?}",
        h.not_planned
    );
    assert!(!h.items.iter().any(|i| matches!(i.step, Step::Purge(Op::RemoveFolder { .. }))));
    assert!(
        h.not_planned
            .iter()
            .any(|n| n.what.contains("other.bin") && n.why.contains("could not hash")),
        "{:#?}",
        h.not_planned
    );
    assert_eq!(
        h.not_planned
            .iter()
            .filter(|n| n.what.contains("Mqbvdfzt") && !n.what.contains('.'))
            .count(),
        1
    );
}

#[test]
fn loader_keys_are_removed_whole_with_what_the_scan_saw_and_stored_payload_values_too() {
    // Qakbot's per-user configuration key and TrickBot's UAC-bypass class
    // key: one compare-and-delete of the whole key each.
    let cfg = r"Software\Microsoft\Hmhqbzupqs";
    let appx = r"Software\Classes\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2";
    let b = SnapshotBuilder::new("WS-001").user("bob");
    let sid = b.sid_of("bob");
    let s = b
        .reg("bob", cfg, "1a2b3c4d", "REG_BINARY", "a1b2c3")
        .reg("bob", cfg, "9f8e7d6c", "REG_BINARY", "d4e5f6")
        .reg(
            "bob",
            &format!(r"{appx}\Shell\open\command"),
            "",
            "REG_SZ",
            r"C:\Users\bob\AppData\Roaming\x\y.exe",
        )
        .reg(
            "bob",
            &format!(r"{appx}\Shell\open\command"),
            "DelegateExecute",
            "REG_SZ",
            "",
        )
        .build();
    let h = plan_for(
        &s,
        &findings(&s, false),
        &Playbook::builtin(),
        Flags::default(),
    );
    let keys: Vec<&Op> = active(&h)
        .into_iter()
        .filter(|o| matches!(o, Op::DeleteRegistryKey { .. }))
        .collect();
    assert_eq!(keys.len(), 2, "{:#?}", h.items);
    // (hive, expected values, digest) of the key operation on `k`.
    let key_op = |k: &str| {
        keys.iter()
            .find_map(|o| match o {
                Op::DeleteRegistryKey {
                    hive,
                    key,
                    expected_values,
                    expected_digest,
                } if key == k => Some((
                    hive.clone(),
                    expected_values.clone(),
                    expected_digest.clone(),
                )),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no key operation on {k}"))
    };
    let (hive, expected_values, expected_digest) = key_op(cfg);
    assert_eq!(hive, sid);
    assert_eq!(
        expected_values,
        vec!["1a2b3c4d".to_string(), "9f8e7d6c".to_string()]
    );
    let v = |n: &str, d: &str| crate::runtime::ops::TreeValue {
        subkey: Default::default(),
        name: n.into(),
        value_type: "REG_BINARY".into(),
        data_sha256: crate::detect::builder::data_sha256("REG_BINARY", d),
    };
    assert_eq!(
        expected_digest,
        crate::runtime::ops::registry_tree_digest(&[
            v("9f8e7d6c", "d4e5f6"),
            v("1a2b3c4d", "a1b2c3")
        ])
    );
    let (_, expected_values, _) = key_op(appx);
    assert_eq!(
        expected_values,
        vec![
            r"Shell\open\command\(default)".to_string(),
            r"Shell\open\command\DelegateExecute".to_string()
        ]
    );
    // The plan file shows it.
    let f = findings(&s, false);
    let input = HostInput {
        host: "WS-001",
        snapshot_id: 1,
        snapshot: &s,
        findings: &f,
    };
    let plan = build(&[input], vec![], &Playbook::builtin(), &Flags::default());
    let text = super::write::render(&plan, 1);
    assert!(
        text.contains("delete_registry_key") && text.contains("expected_digest"),
        "{text}"
    );
    // The runtime carries it out (issue 11): the header does not list it
    // among the steps without host-side code.
    let header = text.split("cauterize_plan:").next().unwrap_or_default();
    assert!(!header.contains("delete_registry_key"), "{header}");
}

#[test]
fn names_with_unpaired_surrogates_reach_the_plan_and_the_job_exactly() {
    use crate::runtime::host_text::{self, HostName};
    use crate::runtime::job::{self, JobItem};
    // What the host sent as u16: tokens, in the held form: a Run value and
    // the DLL it starts, each named with an unpaired surrogate, and a
    // second DLL whose name differs only in its surrogate.
    let held = |pre: &str, s: u16, post: &str| {
        let u: Vec<u16> = pre
            .encode_utf16()
            .chain([s])
            .chain(post.encode_utf16())
            .collect();
        host_text::from_units(&u)
    };
    let dll = held(r"C:\Users\bob\AppData\Local\Tools\help", 0xD800, ".dll");
    let twin = held(r"C:\Users\bob\AppData\Local\Tools\help", 0xD801, ".dll");
    let value = held("Upd", 0xDC00, "");
    let cmd = format!("rundll32.exe {dll},Start");
    let s = SnapshotBuilder::new("WS-001")
        .user("bob")
        .run("bob", &value, &cmd)
        .file(&dll)
        .with_file(&dll, |f| f.sha256 = SHA.into())
        .file(&twin)
        .with_file(&twin, |f| f.sha256 = "0".repeat(64))
        .build();
    let f = findings(&s, true);
    let _ = &f;
    let (mut j, _dir, path, text) = planned(&s, Flags::default());
    // The reviewer sees the surrogates escaped, never a private-use
    // character or U+FFFD.
    assert!(text.contains(r"help\u{D800}.dll"), "{text}");
    assert!(text.contains(r"Upd\u{DC00}"), "{text}");
    assert!(
        !text.contains('\u{fffd}') && !text.chars().any(|c| c as u32 >= 0xf0000),
        "{text}"
    );
    // Read back, each op names exactly what the host has.
    let v = load_and_validate(&path, &mut j).unwrap();
    let ops: Vec<&Op> = v.hosts[0]
        .steps
        .iter()
        .filter_map(|o| match &o.step {
            Step::Purge(op) => Some(op),
            _ => None,
        })
        .collect();
    let file = ops
        .iter()
        .find_map(|o| match o {
            Op::DeleteFile { path, .. } => Some(path.clone()),
            _ => None,
        })
        .expect("file op");
    assert_eq!(file, HostName::from(dll.as_str()));
    assert_ne!(file, HostName::from(twin.as_str()));
    let reg = ops
        .iter()
        .find_map(|o| match o {
            Op::DeleteRegistryValue { value, .. } => Some(value.clone()),
            _ => None,
        })
        .expect("registry op");
    assert_eq!(reg.units(), host_text::units(&value));
    // And the job carries them as u16: tokens of those very code units.
    let data = job::encode(&[JobItem::Op((*ops.last().unwrap()).clone())]);
    let token = data
        .lines()
        .find_map(|l| l.strip_prefix("f path "))
        .expect("path field");
    assert!(token.starts_with("u16:"), "{data}");
    assert_eq!(
        crate::runtime::wire::decode_units(token).unwrap(),
        host_text::units(&dll)
    );
}

#[test]
fn a_path_through_dot_segments_is_never_planned() {
    // Issue 7 item 7: text-only checks judged this to be in AppData.
    let sneaky = r"C:\Users\bob\AppData\Local\..\..\..\..\Windows\System32\y.dll";
    let cmd = format!("rundll32.exe {sneaky},Start");
    let s = SnapshotBuilder::new("WS-001")
        .user("bob")
        .run("bob", "Updater", &cmd)
        .file(sneaky)
        .with_file(sneaky, |f| f.sha256 = SHA.into())
        .build();
    let h = plan_for(
        &s,
        &findings(&s, true),
        &Playbook::builtin(),
        Flags::default(),
    );
    let file = h
        .items
        .iter()
        .find(|i| matches!(&i.step, Step::Purge(Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. }) if path.as_str() == sneaky))
        .expect("the file is listed");
    assert!(!file.active, "{file:#?}");
    assert!(file.why.contains(r"C:\Windows\System32\y.dll"), "{}", file.why);
}

#[test]
fn a_flood_of_cuts_cannot_flood_the_plan() {
    // Issue 7 item 17.
    let mut s = infected();
    s.truncated = (0..10_000)
        .map(|i| crate::runtime::snapshot::Truncation {
            what: format!("values under key {i}"),
            limit: "1 values".into(),
        })
        .collect();
    let h = plan_for(&s, &findings(&s, true), &Playbook::builtin(), Flags::default());
    assert_eq!(h.truncated.len(), super::build::PLAN_MAX_CUTS + 1);
    assert!(
        h.truncated
            .last()
            .is_some_and(|t| t.starts_with(&format!("{} more cuts", 10_000 - super::build::PLAN_MAX_CUTS))),
        "{:?}",
        h.truncated.last()
    );
}

#[test]
fn a_kill_carries_the_start_time_the_scan_saw() {
    // Issue 7 item 12: the runtime re-reads CreationDate through the
    // opened process and compares; the plan must give it the start time.
    let s = infected();
    let h = plan_for(&s, &findings(&s, true), &Playbook::builtin(), Flags::default());
    let kill = active(&h)
        .into_iter()
        .find_map(|o| match o {
            Op::KillProcess { pid: 77, expected_started, .. } => Some(expected_started.clone()),
            _ => None,
        })
        .expect("kill op");
    let seen = &s.processes.iter().find(|p| p.pid == 77).unwrap().started;
    assert!(!seen.is_empty());
    assert_eq!(&kill, seen);
}

/// The fleet's finding on a copy in C:\Windows that `service`'s recorded
/// install ran (`fleet::ties`), with `related` naming the service unless
/// `service` is empty.
fn tied_copy(path: &str, service: &str) -> StoredFinding {
    use crate::detect::evidence::{Evidence as E, Grounds};
    use crate::detect::{ArtifactRef, Family, Finding};
    let mut f = Finding::new(
        "WS-001",
        ArtifactRef::File { path: path.into() },
        Family::UnknownLoaderLike,
        crate::fleet::RULE_LATERAL_COPY,
        Grounds::of(&[E::Unsigned, E::FolderShape, E::RecordedLateralInstall]),
        vec![format!("{path} is what the service {service} ran: System 7045")],
        vec![path.into()],
    );
    if !service.is_empty() {
        f.related.push(ArtifactRef::Service { name: service.into() });
    }
    StoredFinding::from(&f)
}

#[test]
fn a_tied_lateral_copy_in_the_windows_folder_is_deleted_naming_its_service_and_nothing_else_there() {
    let copy = r"C:\Windows\qzkwtrb.exe";
    let named_like_system = r"C:\Windows\netsh.exe";
    let signed = r"C:\Windows\vendorup.exe";
    let explorer = r"C:\Windows\explorer.exe";
    let untied = r"C:\Windows\plnxqv.exe";
    let in_sys32 = r"C:\Windows\System32\qzsys.exe";
    let mut s = SnapshotBuilder::new("WS-001").user("bob");
    for p in [copy, named_like_system, explorer, untied, in_sys32] {
        s = s.file(p).with_file(p, |f| f.sha256 = SHA.into());
    }
    let mut s = s.signed_file(signed, "Contoso Ltd").with_file(signed, |f| f.sha256 = SHA.into()).build();
    s.system32_names = vec!["cmd".into(), "netsh".into()];
    let fs: Vec<StoredFinding> = vec![
        tied_copy(copy, "qzkwtrbs"),
        tied_copy(named_like_system, "netshs"),
        tied_copy(signed, "vendorup"),
        tied_copy(explorer, "exsvc"),
        tied_copy(untied, ""),
        tied_copy(in_sys32, "qzsys"),
    ];
    let h = plan_for(&s, &fs, &Playbook::builtin(), Flags::default());
    let item = |p: &str| {
        h.items
            .iter()
            .find(|i| matches!(&i.step, Step::Purge(Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. }) if path.as_str() == p))
            .unwrap_or_else(|| panic!("{p} listed: {:#?}", h.items))
    };
    let tied = item(copy);
    assert!(tied.active, "{tied:#?}");
    assert!(matches!(&tied.step, Step::Purge(Op::DeleteFile { lateral_service, .. }) if lateral_service == "qzkwtrbs"), "{tied:#?}");
    for (p, why) in [
        (named_like_system, "System32 holds a program or library named netsh"),
        (signed, "its signature reads `valid`"),
        (explorer, "explorer.exe is a Windows launcher"),
        (untied, "a file directly in the Windows or system folder is never deleted by a plan"),
        (in_sys32, "a file directly in the Windows or system folder is never deleted by a plan"),
    ] {
        let i = item(p);
        assert!(!i.active && i.why.contains(why), "{p}: {i:#?}");
    }
    // Only the copy is named for the host: the others carry no service.
    let named: Vec<&str> = h
        .items
        .iter()
        .filter_map(|i| match &i.step {
            Step::Purge(Op::DeleteFile { path, lateral_service, .. }) if !lateral_service.is_empty() => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert!(named.contains(&copy) && !named.contains(&untied) && !named.contains(&in_sys32), "{named:?}");
}

#[test]
fn a_known_loaders_inactive_finding_on_what_starts_code_is_named_and_one_on_a_lone_file_is_not() {
    use crate::detect::evidence::{Evidence as E, Grounds};
    use crate::detect::{ArtifactRef, Family, Finding};
    let medium = |artifact: ArtifactRef, family: Family, rule: &'static str| {
        StoredFinding::from(&Finding::new("WS-001", artifact, family, rule, Grounds::of(&[E::FolderShape, E::NameShape]), vec!["x".into()], vec![]))
    };
    let fs = vec![
        medium(ArtifactRef::Task { path: r"\Qzrbeuib".into() }, Family::Dridex, "DRX-SIDELOAD-COPIED-EXE"),
        medium(ArtifactRef::File { path: r"C:\Users\bob\419.exe".into() }, Family::Emotet, "EMO-INITIAL-RESIDUE"),
        medium(ArtifactRef::Task { path: r"\Other".into() }, Family::UnknownLoaderLike, "GEN-TASK"),
    ];
    assert!(fs.iter().all(|f| f.confidence == Confidence::Medium));
    let s = SnapshotBuilder::new("WS-001").user("bob").build();
    let input = HostInput { host: "WS-001", snapshot_id: 1, snapshot: &s, findings: &fs };
    let left = super::loaders_not_acted_on(&input, &Playbook::builtin(), &Flags::default());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("DRX-SIDELOAD-COPIED-EXE (Dridex, medium)"), "{left:?}");
    // Acted on under `activate: medium`: nothing is left for a person.
    let flags = Flags { activate: Some(Confidence::Medium) };
    assert!(super::loaders_not_acted_on(&input, &Playbook::builtin(), &flags).is_empty());
}
