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
fn findings_are_stored_deflated_and_rows_of_older_journals_still_read() {
    let mut j = Journal::open_in_memory().unwrap();
    let run = j.begin_run("scan", &[]).unwrap();
    let snap = infected();
    let findings = detect(&snap, &DetectContext::default());
    let stored: Vec<StoredFinding> = findings.iter().map(StoredFinding::from).collect();
    let ids = j
        .record_scan(run, "WS-001", "10.0.0.1", 1, ScanResult::Collected { snapshot: &snap, findings: &findings })
        .unwrap();
    let sid = ids.snapshot_id.unwrap();
    // Stored deflated, smaller than the JSON it stands for.
    let rows: Vec<(String, Vec<u8>)> = j
        .conn
        .prepare("SELECT encoding, body FROM findings ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), stored.len());
    for ((encoding, body), f) in rows.iter().zip(&stored) {
        assert_eq!(encoding, "json.deflate");
        assert!(body.len() < serde_json::to_string(f).unwrap().len(), "{} bytes", body.len());
    }
    assert_eq!(j.findings_of(sid).unwrap(), stored);
    // A row written before findings were deflated (schema 4): JSON text.
    for f in &stored {
        j.conn
            .execute(
                "UPDATE findings SET body = ?1, encoding = 'json' WHERE id = (SELECT min(id) FROM findings WHERE encoding = 'json.deflate')",
                [serde_json::to_string(f).unwrap()],
            )
            .unwrap();
    }
    assert_eq!(j.findings_of(sid).unwrap(), stored);
    // A body that does not inflate is reported as corrupt, naming the row.
    j.conn
        .execute("UPDATE findings SET body = X'00FF00', encoding = 'json.deflate' WHERE id = (SELECT min(id) FROM findings)", [])
        .unwrap();
    let err = j.findings_of(sid).unwrap_err().to_string();
    assert!(err.contains("finding "), "{err}");
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

/// Two writers on one engagement (two threads, each with its own
/// connection, as two processes would have) lose no record: transactions
/// take the write lock at BEGIN (IMMEDIATE), so the second writer waits
/// for the first instead of failing its read-then-write upgrade with
/// SQLITE_BUSY.
#[test]
fn two_connections_writing_one_journal_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    const PER_WRITER: usize = 150;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut j = Journal::open(&path).expect("opens");
                let run = j.begin_run("scan", &[]).expect("run");
                let snap = SnapshotBuilder::new("WS-X").build();
                let mut failures = Vec::new();
                for i in 0..PER_WRITER {
                    // Every scan upserts the same host first (a read, then a
                    // write): the pattern that DEFERRED transactions lose.
                    if let Err(e) = j.record_scan(
                        run,
                        "WS-X",
                        &format!("10.0.{w}.{i}"),
                        1,
                        ScanResult::Collected {
                            snapshot: &snap,
                            findings: &[],
                        },
                    ) {
                        failures.push(e.to_string());
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "lost writes: {failures:?}");
    let j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.count("snapshots").unwrap(), 2 * PER_WRITER as i64);
}

/// The race that DEFERRED transactions lose, made to happen every time:
/// writer A reads, then writer B (another connection, as another process
/// would have) commits, then A writes. With IMMEDIATE transactions B waits
/// for A's commit and both writes land; with DEFERRED ones, A's write fails
/// with SQLITE_BUSY at once, whatever the busy time-out.
#[test]
fn a_writer_that_read_first_is_not_failed_by_another_writer() {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let mut a = Journal::open(dir.path()).unwrap();
    let mut b = Journal::open(dir.path()).unwrap();
    let (go, wait_go) = mpsc::channel::<()>();
    let (done, wait_done) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        wait_go.recv().unwrap();
        let r = b.begin_run("scan", &[]);
        let _ = done.send(());
        r
    });
    let written = a.write(|tx| {
        let before: i64 = tx.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))?;
        go.send(()).unwrap();
        // B gets its chance to commit in the middle of A's transaction.
        let _ = wait_done.recv_timeout(Duration::from_millis(300));
        tx.execute(
            "INSERT INTO runs (command, argv, operator, version) VALUES ('plan', '[]', 'a', 'x')",
            [],
        )?;
        Ok(before)
    });
    assert_eq!(written.expect("A's write survives B"), 0);
    other.join().unwrap().expect("B's write waits for A and lands");
    assert_eq!(a.count("runs").unwrap(), 2);
}

#[test]
fn writers_commit_with_synchronous_full_and_take_the_engagement_lock() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let sync: i64 = j.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
    assert_eq!(sync, 2, "FULL");
    let holder = j.lock().expect("a writer holds the lock").holder().clone();
    assert_eq!(holder.pid, std::process::id());
    // A reader needs no lock and sees the writer's rows.
    drop(j);
    let mut w = Journal::open(dir.path()).unwrap();
    w.begin_run("scan", &[]).unwrap();
    let r = Journal::open_read_only(dir.path()).unwrap();
    assert!(r.lock().is_none());
    assert_eq!(r.count("runs").unwrap(), 1);
    // A read-only journal cannot write.
    let mut r = r;
    assert!(r.begin_run("scan", &[]).is_err());
}

/// Several cauterize processes opening one fresh engagement at once: the
/// version is read inside the migration's transaction, so exactly one
/// migrates and the others find it done (read outside, two would both try
/// to create the tables and one would fail).
#[test]
fn concurrent_first_opens_migrate_once() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (dir.path().join(FILE_NAME), barrier.clone());
                std::thread::spawn(move || {
                    let conn = rusqlite::Connection::open(&path).unwrap();
                    barrier.wait();
                    Journal::setup(conn, Some(path)).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            o.join().unwrap().expect("every opener finds a migrated journal");
        }
    }
}
