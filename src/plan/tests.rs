//! Planner, file and validation tests on snapshot fixtures.

use super::*;
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

fn active(h: &HostPlan) -> Vec<&Op> {
    h.items.iter().filter(|i| i.active).map(|i| &i.op).collect()
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
            expected_data,
            expected_type,
            ..
        } => {
            assert_eq!(value, "Updater");
            assert_eq!(expected_data, &format!("rundll32.exe {DLL},Start"));
            assert_eq!(expected_type, "REG_SZ");
        }
        _ => unreachable!(),
    }
    match ops[file] {
        Op::DeleteFile {
            path,
            expected_sha256,
            queue_if_locked,
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
        .find(|i| matches!(i.op, Op::DeleteFile { .. }))
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
                if let Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } = &i.op {
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
        .find(|i| matches!(&i.op, Op::DeleteFile { path, .. } if path == RUNDLL))
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
    assert!(!h.items.is_empty());
    for i in &h.items {
        match i.op {
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
        .find(|i| matches!(i.op, Op::DeleteFile { .. }));
    if let Some(file) = file {
        assert!(
            !file.active && file.why.contains("allow-listed"),
            "{file:#?}"
        );
    }
    assert!(
        h.items
            .iter()
            .filter(|i| matches!(i.op, Op::DeleteRegistryValue { .. }))
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
        ops.iter().any(|o| matches!(o, Op::QueueDeleteOnReboot { path, expected_sha256 } if path == DLL && expected_sha256 == SHA)),
        "{ops:#?}"
    );
    let kill = h
        .items
        .iter()
        .find(|i| matches!(i.op, Op::KillProcess { .. }))
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
        ops.iter().any(|o| matches!(o, Op::DeleteService { name, expected_image_path } if name == "qzkwvtrb" && expected_image_path == exe)),
        "{ops:#?}"
    );
    let ranks: Vec<u8> = ops.iter().map(|o| rank(o)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ops:#?}");

    let pb = crate::playbook::parse(
        "playbook: 1\nexclude:\n  paths: ['C:\\Users\\*\\AppData\\Roaming\\Qzkw\\**']\n",
        std::path::Path::new("pb.yml"),
    )
    .unwrap();
    let h = plan_for(&s, &f, &pb, Flags::default());
    assert!(active(&h).is_empty(), "{:#?}", h.items);
    assert!(
        h.items
            .iter()
            .all(|i| i.why.contains("excluded by the playbook")),
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
    assert!(
        h.items
            .iter()
            .all(|i| i.why.contains("not among the playbook's families"))
    );
}

// ---- the file and its validation ----

/// A journal with one scan of `s`, a plan recorded, and its file written.
fn planned(
    s: &Snapshot,
    f: &[StoredFinding],
    flags: Flags,
) -> (Journal, tempfile::TempDir, std::path::PathBuf, String) {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j.begin_run("scan", &[]).unwrap();
    let raw_findings = detect(
        s,
        &DetectContext {
            hashes: HashList::parse(&format!("{SHA} Emotet\n")).unwrap(),
            ..Default::default()
        },
    );
    let ids = j
        .record_scan(
            run,
            "WS-001",
            "10.0.0.1",
            1,
            ScanResult::Collected {
                snapshot: s,
                findings: &raw_findings,
            },
        )
        .unwrap();
    let input = HostInput {
        host: "WS-001",
        snapshot_id: ids.snapshot_id.unwrap(),
        snapshot: s,
        findings: f,
    };
    let plan = build(
        &[input],
        vec![Unscanned {
            host: "WS-002".into(),
            why: "unreachable".into(),
        }],
        &Playbook::builtin(),
        &flags,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.yml");
    let (_, text) = record(&mut j, run, &plan, &path).unwrap();
    std::fs::write(&path, &text).unwrap();
    (j, dir, path, text)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
        + 1
}

#[test]
fn the_written_plan_reads_back_whole() {
    let s = infected();
    let f = findings(&s, true);
    let (mut j, _dir, path, text) = planned(&s, &f, Flags::default());
    assert!(text.contains("cauterize_plan: 1"), "{text}");
    assert!(
        text.contains(
            "- {op: kill_process, pid: 77, expected_image: 'C:\\Windows\\System32\\rundll32.exe'"
        ),
        "{text}"
    );
    assert!(
        text.contains("# GEN-LOLBIN-USERWRITABLE (Emotet, high, hash match): "),
        "{text}"
    );
    assert!(text.contains("unscanned:"), "{text}");
    let v = load_and_validate(&path, &mut j).unwrap();
    assert_eq!(v.hosts.len(), 1);
    assert!(v.removed.is_empty());
    assert_eq!(
        v.hosts[0].ops.len(),
        active(&plan_for(&s, &f, &Playbook::builtin(), Flags::default())).len()
    );
    assert!(matches!(v.hosts[0].ops[0].op, Op::KillProcess { .. }));
    assert_eq!(j.count("plan_reviews").unwrap(), 1);
    assert!(v.settings.quarantine);
}

#[test]
fn deleting_a_line_spares_that_artifact() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, &findings(&s, true), Flags::default());
    let kill = line_of(&text, "- {op: kill_process");
    let edited: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != kill)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, edited.join("\n")).unwrap();
    let v = load_and_validate(&path, &mut j).unwrap();
    assert!(
        v.hosts[0]
            .ops
            .iter()
            .all(|o| !matches!(o.op, Op::KillProcess { .. }))
    );
    assert_eq!(v.removed.len(), 1);
    assert!(matches!(v.removed[0].1, Op::KillProcess { pid: 77, .. }));
    // Reordered lines run in the plan's order all the same.
    let file = line_of(&text, "- {op: delete_file");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.swap(kill - 1, file - 1);
    std::fs::write(&path, lines.join("\n")).unwrap();
    let v = load_and_validate(&path, &mut j).unwrap();
    assert!(matches!(v.hosts[0].ops[0].op, Op::KillProcess { .. }));
}

#[test]
fn an_invented_operation_is_refused_with_its_line() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, &findings(&s, true), Flags::default());
    let kill = line_of(&text, "- {op: kill_process");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.insert(kill, format!("      - {{op: delete_file, path: 'C:\\Windows\\System32\\ntdll.dll', expected_sha256: '{}', queue_if_locked: true}}", "c".repeat(64)));
    std::fs::write(&path, lines.join("\n")).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err();
    let PlanError::File(e) = e else { panic!("{e}") };
    assert_eq!(e.line(), Some(kill as u64 + 1), "{e}");
    assert!(e.message.contains("not in plan"), "{e}");
    assert!(e.to_string().contains("plan.yml:"), "{e}");
    assert_eq!(j.count("plan_reviews").unwrap(), 0);
}

#[test]
fn a_changed_hash_or_an_unknown_key_is_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, &findings(&s, true), Flags::default());
    let file = line_of(&text, "- {op: delete_file");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[file - 1] = lines[file - 1].replace(SHA, &"0".repeat(64));
    let edited = lines.join("\n");
    assert_ne!(edited, text);
    std::fs::write(&path, &edited).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(e.contains(&format!("plan.yml:{file}:")), "{e}");
    assert!(e.contains("was changed") && e.contains(SHA), "{e}");

    let edited = text.replacen(
        "- {op: kill_process,",
        "- {op: kill_process, force: true,",
        1,
    );
    std::fs::write(&path, &edited).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(e.contains("unknown key `force`"), "{e}");
}

#[test]
fn an_inactive_item_cannot_be_activated_by_editing() {
    let s = infected();
    let f = findings(&s, false); // medium: all inactive
    let (mut j, _dir, path, text) = planned(&s, &f, Flags::default());
    assert!(text.contains("ops: []"), "{text}");
    let op_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("op: {op: kill_process"))
        .expect("inactive kill")
        .trim_start()
        .trim_start_matches("op: ")
        .to_string();
    let edited = text.replacen("ops: []", &format!("ops:\n      - {op_line}"), 1);
    std::fs::write(&path, &edited).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(
        e.contains("listed inactive") && e.contains("--activate medium"),
        "{e}"
    );
}

#[test]
fn settings_and_foreign_plans_are_refused() {
    let s = infected();
    let (mut j, _dir, path, text) = planned(&s, &findings(&s, true), Flags::default());
    std::fs::write(
        &path,
        text.replacen("quarantine: true", "quarantine: false", 1),
    )
    .unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(e.contains("settings were changed"), "{e}");
    std::fs::write(&path, text.replacen("plan_id: 1", "plan_id: 99", 1)).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(
        e.contains("plan 99 is not in this engagement's journal"),
        "{e}"
    );
    std::fs::write(&path, text.replacen("  'WS-001':", "  'WS-009':", 1)).unwrap();
    let e = load_and_validate(&path, &mut j).unwrap_err().to_string();
    assert!(e.contains("host WS-009 is not in plan"), "{e}");
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
    let f = findings(&s, true);
    let (mut j, _dir, path, text) = planned(&s, &f, Flags::default());
    assert!(
        !text.lines().any(|l| l
            .trim_start()
            .starts_with("- {op: delete_file, path: 'C:\\boot.ini'")),
        "{text}"
    );
    assert!(!text.contains('\u{202e}'), "{text}");
    let v = load_and_validate(&path, &mut j).unwrap();
    let reg = v.hosts[0]
        .ops
        .iter()
        .find_map(|o| match &o.op {
            Op::DeleteRegistryValue { value, .. } => Some(value.clone()),
            _ => None,
        })
        .expect("registry op");
    assert_eq!(reg, evil);
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
        ops.iter().any(|o| matches!(o, Op::DeleteService { name, expected_image_path } if name == "mqbvdf.kxe" && expected_image_path == image)),
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
    // The folder and the file the scan could not hash are listed, not planned.
    assert!(
        h.not_planned
            .iter()
            .any(|n| n.what.starts_with("folder ") && n.why.contains("no folder operation")),
        "{:#?}",
        h.not_planned
    );
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
        subkey: String::new(),
        name: n.into(),
        value_type: "REG_BINARY".into(),
        data: d.into(),
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
}
