//! Journal tests: migrations, round trips, concurrency, no secrets.

use super::*;
use crate::detect::builder::SnapshotBuilder;
use crate::detect::{DetectContext, detect};

fn infected() -> crate::runtime::snapshot::Snapshot {
    SnapshotBuilder::new("WS-001")
        .user("bob")
        .run(
            "bob",
            "Updater",
            r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start",
        )
        .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
        .build()
}

#[test]
fn fresh_journal_is_migrated_and_reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&dir.path().join("case")).unwrap();
    assert_eq!(j.schema_version().unwrap(), schema::current_version());
    drop(j);
    let j = Journal::open(&dir.path().join("case")).unwrap();
    assert_eq!(j.schema_version().unwrap(), schema::current_version());
    let mode: String = j
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(dir.path().join("case").join(FILE_NAME).exists());
}

#[test]
fn a_journal_from_a_newer_cauterize_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(FILE_NAME)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Journal::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, JournalError::TooNew { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer cauterize"));
}

#[test]
fn migrations_apply_in_order_from_any_version() {
    // A database at version 0 with nothing in it gets every migration.
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    assert_eq!(schema::migrate(&mut conn).unwrap(), 0);
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::current_version());
    // Run again: nothing to do, nothing fails.
    assert_eq!(
        schema::migrate(&mut conn).unwrap(),
        schema::current_version()
    );
}

#[test]
fn scans_round_trip_and_the_latest_wins() {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j
        .begin_run("scan", &["cauterize".into(), "scan".into()])
        .unwrap();
    let snap = infected();
    let findings = detect(&snap, &DetectContext::default());
    assert!(!findings.is_empty());
    let first = j
        .record_scan(
            run,
            "WS-001",
            "10.0.0.1",
            12,
            ScanResult::Collected {
                snapshot: &snap,
                findings: &findings,
            },
        )
        .unwrap();
    let failed = j
        .record_scan(
            run,
            "WS-002",
            "10.0.0.2",
            3,
            ScanResult::Failed {
                kind: "unreachable",
                error: "cannot reach 10.0.0.2",
            },
        )
        .unwrap();
    assert!(failed.snapshot_id.is_none());
    j.end_run(run, 2).unwrap();

    let latest = j.latest_scans(None).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].host, "WS-001");
    assert_eq!(latest[0].snapshot, snap);
    assert_eq!(latest[0].snapshot_id, first.snapshot_id.unwrap());
    let stored: Vec<StoredFinding> = findings.iter().map(StoredFinding::from).collect();
    assert_eq!(latest[0].findings, stored);

    let fails = j.last_failures().unwrap();
    assert_eq!(fails.len(), 1);
    assert_eq!(
        (fails[0].host.as_str(), fails[0].kind.as_str()),
        ("WS-002", "unreachable")
    );

    // A second scan of WS-001 (clean now) replaces the first as latest;
    // host names are case-insensitive.
    let run2 = j.begin_run("scan", &[]).unwrap();
    let clean = SnapshotBuilder::new("WS-001").build();
    let second = j
        .record_scan(
            run2,
            "ws-001",
            "10.0.0.1",
            5,
            ScanResult::Collected {
                snapshot: &clean,
                findings: &[],
            },
        )
        .unwrap();
    assert_eq!(second.host_id, first.host_id);
    let latest = j.latest_scans(Some(&["WS-001".to_string()])).unwrap();
    assert_eq!(latest[0].snapshot_id, second.snapshot_id.unwrap());
    assert!(latest[0].findings.is_empty());
    assert_eq!(j.count("hosts").unwrap(), 2);
    assert_eq!(j.count("snapshots").unwrap(), 2);

    let runs = j.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].exit_code, Some(2));
    assert!(runs[0].ended_at.is_some());
    assert!(runs[1].ended_at.is_none());
}

#[test]
fn derived_findings_of_the_latest_snapshots_are_replaced_and_older_ones_kept() {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j.begin_run("scan", &[]).unwrap();
    let snap = infected();
    let findings = detect(&snap, &DetectContext::default());
    let rules = findings.len();
    let old = j
        .record_scan(run, "WS-001", "10.0.0.1", 1, ScanResult::Collected { snapshot: &snap, findings: &findings })
        .unwrap()
        .snapshot_id
        .unwrap();
    let derived = |rule: &'static str| {
        let mut f = findings[0].clone();
        f.rule_id = rule;
        f
    };
    assert_eq!(j.replace_latest_findings("FLEET-", &[(old, vec![derived("FLEET-A")])]).unwrap(), 1);
    assert_eq!(j.findings_of(old).unwrap().len(), rules + 1);
    // A newer snapshot: the old one's derived finding stays as history, the
    // new one's are replaced on every pass; rule findings are never touched.
    let new = j
        .record_scan(run, "WS-001", "10.0.0.1", 1, ScanResult::Collected { snapshot: &snap, findings: &findings })
        .unwrap()
        .snapshot_id
        .unwrap();
    j.replace_latest_findings("FLEET-", &[(new, vec![derived("FLEET-A"), derived("FLEET-B")])]).unwrap();
    j.replace_latest_findings("FLEET-", &[(new, vec![derived("FLEET-B")])]).unwrap();
    let kept: Vec<String> = j.findings_of(new).unwrap().into_iter().map(|f| f.rule_id).collect();
    assert_eq!(kept.len(), rules + 1, "{kept:?}");
    assert_eq!(kept.iter().filter(|r| r.starts_with("FLEET-")).collect::<Vec<_>>(), ["FLEET-B"]);
    assert_eq!(j.findings_of(old).unwrap().len(), rules + 1);
    assert!(j.replace_latest_findings("FLEET-", &[(9_999, vec![derived("FLEET-A")])]).is_err());
    // Streaming gives the same as collecting.
    let mut streamed = Vec::new();
    j.each_latest_scan(None, |s| {
        streamed.push(s);
        Ok(())
    })
    .unwrap();
    assert_eq!(streamed, j.latest_scans(None).unwrap());
}

#[test]
fn plans_actions_and_events_round_trip() {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j.begin_run("plan", &[]).unwrap();
    let snap = infected();
    let ids = j
        .record_scan(
            run,
            "WS-001",
            "10.0.0.1",
            1,
            ScanResult::Collected {
                snapshot: &snap,
                findings: &[],
            },
        )
        .unwrap();
    let plan = NewPlan {
        run_id: run,
        path: "plan.yml".into(),
        playbook_sha256: "ab".into(),
        settings: "{}".into(),
        hosts: vec![PlanHostRow {
            host: "WS-001".into(),
            snapshot_id: ids.snapshot_id.unwrap(),
            ops: vec![
                PlanOpRow {
                    active: true,
                    op: "{\"op\":\"x\"}".into(),
                    rules: vec!["R1".into()],
                    why: "because".into(),
                },
                PlanOpRow {
                    active: false,
                    op: "{\"op\":\"y\"}".into(),
                    rules: vec![],
                    why: "medium".into(),
                },
            ],
        }],
    };
    let (id, text) = j
        .record_plan(&plan, |id| format!("plan_id: {id}\n"))
        .unwrap();
    assert_eq!(text, format!("plan_id: {id}\n"));
    let stored = j.plan(id).unwrap().unwrap();
    assert_eq!(stored.sha256, write::sha256_hex(text.as_bytes()));
    assert_eq!(stored.hosts.len(), 1);
    let ops = &stored.hosts[0].ops;
    assert_eq!(ops.len(), 2);
    assert!(ops[0].active && !ops[1].active);
    assert_eq!(ops[0].rules, vec!["R1".to_string()]);
    assert_eq!(ops[1].why, "medium");
    assert!(j.plan(id + 1).unwrap().is_none());

    j.record_plan_review(id, "cd", 1, 0).unwrap();
    let a = j
        .begin_action(run, Some(id), Some(ops[0].id), "WS-001", "{}")
        .unwrap();
    assert_eq!(j.action_outcome(a).unwrap(), Some((None, None)));
    j.finish_action(a, ActionOutcome::Drift, "value changed")
        .unwrap();
    assert_eq!(
        j.action_outcome(a).unwrap(),
        Some((Some("drift".into()), Some("value changed".into())))
    );
    j.event(Some(run), Some("WS-001"), Level::Warning, "test", "hello")
        .unwrap();
    j.event(None, None, Level::Info, "test", "global").unwrap();
    assert_eq!(j.count("events").unwrap(), 2);
    assert!(j.count("users; DROP TABLE runs").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_write_through_one_handle() {
    let dir = tempfile::tempdir().unwrap();
    let handle = JournalHandle::spawn(Journal::open(dir.path()).unwrap()).unwrap();
    let run = handle.call(|j| j.begin_run("scan", &[])).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let h = handle.clone();
        tasks.push(tokio::spawn(async move {
            let snap = SnapshotBuilder::new(&format!("WS-{i:03}")).build();
            h.call(move |j| {
                j.record_scan(
                    run,
                    &format!("WS-{i:03}"),
                    "10.0.0.1",
                    1,
                    ScanResult::Collected {
                        snapshot: &snap,
                        findings: &[],
                    },
                )
            })
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = handle.call(|j| j.count("snapshots")).await.unwrap();
    assert_eq!(n, 64);
}

#[test]
fn no_secret_reaches_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Corr3ct-H0rse-Battery";
    let mut j = Journal::open(dir.path()).unwrap();
    let argv = argv::redact([
        "cauterize",
        "scan",
        "--password",
        secret,
        &format!("--token={secret}"),
    ]);
    let run = j.begin_run("scan", &argv).unwrap();
    let snap = infected();
    j.record_scan(
        run,
        "WS-001",
        "10.0.0.1",
        1,
        ScanResult::Collected {
            snapshot: &snap,
            findings: &[],
        },
    )
    .unwrap();
    j.end_run(run, 0).unwrap();
    drop(j);
    for name in [FILE_NAME.to_string(), format!("{FILE_NAME}-wal")] {
        if let Ok(bytes) = std::fs::read(dir.path().join(&name)) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{name} holds the secret"
            );
        }
    }
}
