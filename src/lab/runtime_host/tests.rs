//! The lab runtime end to end without WinRM: job encoded as the client
//! encodes it, carried out on a `HostState`, output parsed as the client
//! parses it. (Over WinRM: tests/runtime_contract.rs.)

use super::fixture::{
    self, CLASS_COMMAND_KEY, CONSUMER, EXCLUDED_DIR, FILTER, HOSTILE, LONG_EXE, Planted, SERVICE,
    SHORT_EXE, STRAY_DLL, SVC_DLL, SYSTEM_EXE, TASK_PATH, UAC_EXE,
};
use crate::lab::world::registry::{RegData, hklm};
use crate::lab::world::{HostState, LabTime};
use crate::runtime::assemble;
use crate::runtime::file_targets::file_targets;
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::{self, SweepRoot};
use crate::runtime::ops::{Bounds, Op, OpOutcome, Query, TaskAction};
use crate::runtime::results::{self, Frames, Limits};
use crate::runtime::snapshot::{AutorunLocation, Snapshot};
use crate::runtime::sweep;

fn run(h: &mut HostState, items: &[JobItem], limits: &Limits) -> Frames {
    let out = super::run(&job::payload(items), h, LabTime::EPOCH.plus_secs(3600));
    results::parse(&out, items.len(), limits).expect("framed output")
}

fn collect(h: &mut HostState, b: &Bounds) -> Snapshot {
    let l = Limits::from_bounds(b);
    let f = run(
        h,
        &[JobItem::Query(Query::Collect { bounds: b.clone() })],
        &l,
    );
    assert!(f.complete);
    let mut s = assemble::snapshot(&f, 0);
    let t = file_targets(&s);
    let sweep = sweep::query(&s, &t.paths, b);
    let f2 = run(
        h,
        &[
            JobItem::Query(Query::FileFacts {
                paths: t.paths,
                list_dirs: t.list_dirs,
                bounds: b.clone(),
            }),
            JobItem::Query(sweep),
        ],
        &l,
    );
    s.files = sweep::merge(assemble::files(&f2, 0), assemble::files(&f2, 1));
    s.truncated.extend(f2.truncations(0));
    s.truncated.extend(f2.truncations(1));
    s
}

fn apply(h: &mut HostState, ops: &[Op]) -> Vec<OpOutcome> {
    let items: Vec<JobItem> = ops.iter().cloned().map(JobItem::Op).collect();
    let f = run(h, &items, &Limits::default());
    (0..ops.len())
        .map(|i| assemble::outcome(&f, i).expect("an outcome per op"))
        .collect()
}

fn infected() -> (HostState, Planted) {
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabTime::EPOCH);
    (h, p)
}

fn run_value<'a>(
    s: &'a Snapshot,
    hive: &str,
    value: &str,
) -> Option<&'a crate::runtime::snapshot::Autorun> {
    s.autoruns.iter().find(|a| {
        matches!(&a.location, AutorunLocation::RegistryValue { hive: hh, value: v, .. } if hh.eq_ignore_ascii_case(hive) && v == value)
    })
}

#[test]
fn collection_finds_every_kind_in_logged_on_and_offline_hives() {
    let (mut h, p) = infected();
    let s = collect(&mut h, &Bounds::default());
    let petr = s
        .users
        .iter()
        .find(|u| u.name == "Пётр")
        .expect("Пётр listed");
    assert!(!petr.logged_on);
    assert!(s.users.iter().any(|u| u.name == "alice" && u.logged_on));
    assert!(run_value(&s, "HKLM", "CzMachine").is_some());
    assert_eq!(
        run_value(&s, &p.alice_sid, "CzAlice").map(|a| a.command.as_str()),
        Some(r"%APPDATA%\CzTest\alice.exe")
    );
    let pr = run_value(&s, &p.petr_sid, "CzPetr").expect("offline hive read");
    assert_eq!(pr.user_sid.as_deref(), Some(p.petr_sid.as_str()));
    assert_eq!(pr.value_type, "REG_EXPAND_SZ");
    // The offline hive was loaded under a temporary key and unloaded.
    assert!(!h.registry.is_loaded(&p.petr_sid));
    assert!(
        h.registry
            .subkeys("HKU")
            .expect("HKU")
            .iter()
            .all(|m| !m.starts_with("cz_"))
    );
    // Hostile value name and data come back equal.
    let hv = run_value(&s, "HKLM", HOSTILE).expect("hostile value");
    assert_eq!(hv.command, format!("\"{}\" {HOSTILE}", p.hostile_exe));
    let t = s
        .tasks
        .iter()
        .find(|t| t.path == TASK_PATH)
        .expect("hidden task");
    assert!(t.hidden);
    assert_eq!(t.actions[0].path, p.task_exe);
    assert_eq!(t.triggers, vec!["boot".to_string()]);
    assert!(
        s.services
            .iter()
            .any(|x| x.name == SERVICE && x.image_path == p.svc_exe && x.start_type == "auto")
    );
    let w = s.wmi.iter().find(|w| w.filter_name == FILTER).expect("wmi");
    assert_eq!(
        (w.consumer_name.as_str(), w.action.as_str()),
        (CONSUMER, p.wmi_exe.as_str())
    );
    let lnk = s
        .autoruns
        .iter()
        .find(|a| matches!(&a.location, AutorunLocation::StartupFolder { path } if path.eq_ignore_ascii_case(&p.lnk_path)))
        .expect("startup lnk");
    assert_eq!(
        lnk.command,
        format!("\"{}\" --hostile \"a b\"", p.lnk_target)
    );
    assert_eq!(lnk.user_sid.as_deref(), Some(p.petr_sid.as_str()));
    let proc = s
        .processes
        .iter()
        .find(|x| x.pid == p.locked_pid)
        .expect("process");
    assert!(proc.image.eq_ignore_ascii_case(&p.locked_exe));
    assert!(proc.user.ends_with("alice"));
    assert!(
        s.registry
            .iter()
            .any(|r| r.hive == p.petr_sid && r.key.ends_with("Czxyzq") && r.data == "deadbeef")
    );
    assert!(s.system_volume_serial.is_some());
    assert!(s.system32_names.iter().any(|n| n == "rundll32"));
    // File facts, with the offline user's %LOCALAPPDATA% expanded for him.
    let f = s
        .files
        .iter()
        .find(|f| f.path.eq_ignore_ascii_case(&p.petr_dll))
        .expect("petr.dll facts");
    assert!(f.exists && f.size == 4 && f.sha256.len() == 64 && f.signature == "unsigned");
    let dir = s
        .files
        .iter()
        .find(|f| f.is_dir && f.path.eq_ignore_ascii_case(r"C:\ProgramData\CzTest"))
        .expect("listing");
    assert!(dir.listing.iter().any(|n| n == "lnk target.exe"));
    assert!(
        s.files
            .iter()
            .any(|f| f.path.eq_ignore_ascii_case(&p.lnk_target) && f.exists)
    );
    assert!(s.files.iter().any(|f| {
        f.path
            .eq_ignore_ascii_case(r"C:\Windows\System32\rundll32.exe")
            && f.signature == "valid"
    }));
    assert!(s.truncated.is_empty(), "{:?}", s.truncated);
}

fn sha(h: &HostState, path: &str) -> String {
    crate::lab::world::files::hex(
        &h.files
            .get(path)
            .and_then(|e| e.sha256())
            .unwrap_or_default(),
    )
}

#[test]
fn destructive_ops_done_then_absent_drift_and_locked_queued() {
    let (mut h, p) = infected();
    let offline_run = Op::DeleteRegistryValue {
        hive: p.petr_sid.clone(),
        key: fixture::RUN.into(),
        value: "CzPetr".into(),
        expected_type: "REG_EXPAND_SZ".into(),
        expected_data_sha256: ops::reg_string_sha256("REG_EXPAND_SZ", &r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#),
        data: Default::default(),
        data_cut: false,
    };
    let hostile = Op::DeleteRegistryValue {
        hive: "HKLM".into(),
        key: fixture::RUN.into(),
        value: HOSTILE.into(),
        expected_type: "REG_SZ".into(),
        expected_data_sha256: ops::reg_string_sha256("REG_SZ", &format!("\"{}\" {HOSTILE}", p.hostile_exe)),
        data: Default::default(),
        data_cut: false,
    };
    let task = Op::DeleteTask {
        path: TASK_PATH.into(),
        expected_actions: vec![TaskAction {
            path: p.task_exe.clone().into(),
            arguments: "/x".into(),
            working_directory: String::new().into(),
        }],
    };
    let svc = Op::DeleteService {
        name: SERVICE.into(),
        expected_image_path: p.svc_exe.clone().into(),
        expected_service_dll: fixture::SVC_DLL.into(),
    };
    let wmi = Op::DeleteWmiSubscription {
        filter: FILTER.into(),
        consumer: CONSUMER.into(),
        consumer_type: "CommandLineEventConsumer".into(),
        expected_query: h
            .wmi
            .filters
            .iter()
            .find(|f| f.name == FILTER)
            .map(|f| f.query.clone())
            .unwrap_or_default()
            .into(),
        expected_action: p.wmi_exe.clone().into(),
    };
    let del = Op::DeleteFile {
        path: p.machine_exe.clone().into(),
        expected_sha256: sha(&h, &p.machine_exe),
        queue_if_locked: false,
    };
    let locked = Op::DeleteFile {
        path: p.locked_exe.clone().into(),
        expected_sha256: sha(&h, &p.locked_exe),
        queue_if_locked: true,
    };
    let locked_no_queue = Op::DeleteFile {
        path: p.locked_exe.clone().into(),
        expected_sha256: sha(&h, &p.locked_exe),
        queue_if_locked: false,
    };
    let kill_wrong = Op::KillProcess {
        pid: p.locked_pid,
        expected_image: "explorer.exe".into(),
        expected_started: String::new(),
    };
    let ops = vec![
        offline_run,
        hostile,
        task,
        svc,
        wmi,
        del,
        locked_no_queue.clone(),
        locked.clone(),
        kill_wrong,
    ];
    let first = apply(&mut h, &ops);
    use OpOutcome::*;
    assert_eq!(&first[..6], &[Done, Done, Done, Done, Done, Done]);
    assert!(matches!(&first[6], Failed { reason } if reason.starts_with("locked")));
    assert_eq!(first[7], QueuedForReboot);
    assert!(matches!(&first[8], Drift { observed } if observed.contains("locked.exe")));
    assert!(!h.registry.is_loaded(&p.petr_sid));
    assert!(
        h.registry
            .user_hive(&p.petr_sid)
            .and_then(|u| u.root.descend(fixture::RUN))
            .is_some_and(|k| k.value("CzPetr").is_none())
    );
    assert!(
        h.tasks.get(TASK_PATH).is_none() && h.services.get(SERVICE).is_none() && h.wmi.is_empty()
    );
    assert_eq!(h.pending_renames().len(), 1);
    // Idempotent: absent the second time; queuing again adds nothing.
    let second = apply(&mut h, &ops[..6]);
    assert!(second.iter().all(|o| *o == AlreadyAbsent), "{second:?}");
    assert_eq!(
        apply(&mut h, std::slice::from_ref(&locked)),
        vec![QueuedForReboot]
    );
    assert_eq!(h.pending_renames().len(), 1);
    // Compare-and-delete: changed data, hash or action is drift, untouched.
    let _ = h
        .registry
        .put(&hklm(fixture::RUN), "CzMachine", RegData::sz("other.exe"));
    let d = apply(
        &mut h,
        &[
            Op::DeleteRegistryValue {
                hive: "HKLM".into(),
                key: fixture::RUN.into(),
                value: "CzMachine".into(),
                expected_type: "REG_SZ".into(),
                expected_data_sha256: ops::reg_string_sha256("REG_SZ", &p.machine_exe.clone()),
                data: Default::default(),
                data_cut: false,
            },
            Op::DeleteFile {
                path: p.task_exe.clone().into(),
                expected_sha256: "00".repeat(32),
                queue_if_locked: true,
            },
            Op::QueueDeleteOnReboot {
                path: p.svc_exe.clone().into(),
                expected_sha256: "00".repeat(32),
            },
            Op::KillProcess {
                pid: p.locked_pid,
                expected_image: p.locked_exe.clone().into(),
                expected_started: "2000-01-01T00:00:00.0000000Z".into(),
            },
        ],
    );
    assert_eq!(
        d[0],
        Drift {
            observed: format!(
                "REG_SZ sha256 {} other.exe",
                ops::reg_string_sha256("REG_SZ", "other.exe")
            )
        }
    );
    assert!(matches!(&d[1], Drift { observed } if observed.starts_with("sha256 ")));
    assert!(matches!(&d[2], Drift { .. }) && matches!(&d[3], Drift { .. }));
    assert!(h.files.exists(&p.task_exe) && h.processes.get(p.locked_pid).is_some());
    // Kill with the right image: done, then absent; the file then deletes.
    let k = Op::KillProcess {
        pid: p.locked_pid,
        expected_image: p.locked_exe.clone().into(),
        expected_started: String::new(),
    };
    assert_eq!(
        apply(&mut h, &[k.clone(), k, locked_no_queue]),
        vec![Done, AlreadyAbsent, Done]
    );
}

#[test]
fn bounds_cut_and_report_never_silently() {
    let (mut h, _) = infected();
    let key = hklm(fixture::RUN);
    for i in 0..5_000 {
        let _ = h.registry.put(&key, &format!("v{i}"), RegData::sz("x"));
    }
    let big = "é".repeat(600_000); // 1.2 MB of UTF-8
    let _ = h
        .registry
        .put(&hklm(paths_defender()), "big", RegData::sz(big.clone()));
    let b = Bounds {
        max_values_per_key: 1000,
        ..Bounds::default()
    };
    let s = collect(&mut h, &b);
    let hklm_run = s.autoruns.iter().filter(|a| matches!(&a.location, AutorunLocation::RegistryValue { hive, key, .. } if hive == "HKLM" && key == fixture::RUN)).count();
    assert_eq!(hklm_run, 1000);
    assert!(
        s.truncated
            .iter()
            .any(|t| t.what.contains(fixture::RUN) && t.limit == "1000 values"),
        "{:?}",
        s.truncated
    );
    assert!(
        s.registry.iter().any(|r| r.value == "big" && r.data == big),
        "1 MB value comes back whole"
    );
    // A smaller field bound cuts it, and says so.
    let small = Bounds {
        max_values_per_key: 10,
        max_field_bytes: 1000,
        ..Bounds::default()
    };
    let s = collect(&mut h, &small);
    let r = s
        .registry
        .iter()
        .find(|r| r.value == "big")
        .expect("still reported");
    assert!(r.data.len() <= 1000);
    assert!(s.truncated.iter().any(|t| t.what.contains("field data")));
    // An output budget cuts the output at a record and reports it.
    let tiny = Bounds {
        max_output_bytes: 20_000,
        ..b
    };
    let f = run(
        &mut h,
        &[JobItem::Query(Query::Collect {
            bounds: tiny.clone(),
        })],
        &Limits::from_bounds(&tiny),
    );
    assert!(f.complete);
    assert!(f.truncations(0).iter().any(|t| t.what == "runtime output"));
}

fn paths_defender() -> &'static str {
    crate::lab::world::paths::DEFENDER_EXCLUSION_PATHS
}

#[test]
fn read_file_in_chunks_and_bad_job_data() {
    let (mut h, p) = infected();
    let f = run(
        &mut h,
        &[JobItem::Query(Query::ReadFile {
            path: p.machine_exe.clone(),
            offset: 2,
            max_bytes: 3,
        })],
        &Limits::default(),
    );
    let c = assemble::chunk(&f, 0).expect("chunk");
    assert_eq!((c.data.as_slice(), c.size, c.eof), (&b"chi"[..], 7, false));
    let out = super::run(
        "# cauterize-runtime v1\n$czJobData = @'\nCZJOB 2\nop Nope\n'@\n",
        &mut h,
        LabTime::EPOCH,
    );
    let f = results::parse(&out, 1, &Limits::default()).expect("framed");
    assert!(assemble::item_error(&f, 0).is_some_and(|e| e.contains("unknown operation")));
}

#[test]
fn sweep_short_names_service_dll_class_commands_system_hive_and_exclusions() {
    let (mut h, p) = infected();
    // A user who is not logged on keeps classes in UsrClass.dat, which the
    // runtime loads on its own (issue 7 item 9): read, and deletable.
    h.registry
        .user_hive_mut(&p.petr_sid)
        .expect("Пётр's hive")
        .root
        .create(CLASS_COMMAND_KEY)
        .set("", RegData::sz(r"C:\x\petr-uac.exe"));
    let s = collect(&mut h, &Bounds::default());
    let petr_class = s
        .registry
        .iter()
        .find(|r| r.hive == p.petr_sid && r.key == CLASS_COMMAND_KEY)
        .expect("an offline user's class command is read")
        .clone();
    assert_eq!(petr_class.data, r"C:\x\petr-uac.exe");
    let del = Op::DeleteRegistryValue {
        hive: p.petr_sid.clone(),
        key: CLASS_COMMAND_KEY.into(),
        value: "".into(),
        expected_type: petr_class.value_type.clone(),
        expected_data_sha256: petr_class.data_sha256.clone(),
        data: Default::default(),
        data_cut: false,
    };
    assert_eq!(apply(&mut h, &[del]), vec![OpOutcome::Done]);
    assert!(s.truncated.is_empty(), "{:?}", s.truncated);
    let file = |path: &str| s.files.iter().find(|f| f.path.eq_ignore_ascii_case(path));
    // Named by nothing: only the sweep reports it, hashed (a DLL).
    let stray = file(STRAY_DLL).expect("the sweep reports the stray DLL");
    assert!(stray.swept && stray.exists && stray.sha256.len() == 64);
    assert_eq!(stray.signature, "unsigned");
    // Named: asked for by name, not marked swept, not reported twice.
    let named = file(&p.task_exe).expect("task exe");
    assert!(!named.swept);
    assert_eq!(
        s.files
            .iter()
            .filter(|f| f.path.eq_ignore_ascii_case(&p.task_exe))
            .count(),
        1
    );
    // A folder swept at the depth limit: entry count, no listing.
    let dir = file(r"C:\ProgramData\CzTest").expect("the first level of ProgramData");
    assert!(dir.is_dir && dir.entries > 5);
    // 8.3: reported as asked, with the long form beside it.
    let short = file(SHORT_EXE).expect("asked for by its short name");
    assert_eq!(short.long_path, LONG_EXE);
    assert!(short.exists && short.sha256.len() == 64);
    // ServiceDll collected and followed to its file.
    let svc = s.services.iter().find(|x| x.name == SERVICE).expect("svc");
    assert_eq!(svc.service_dll, SVC_DLL);
    assert!(file(SVC_DLL).is_some_and(|f| f.exists && !f.swept));
    // The class-key hijack and its file.
    let class = s
        .registry
        .iter()
        .find(|r| r.hive == p.alice_sid && r.key == CLASS_COMMAND_KEY)
        .expect("class command collected");
    assert_eq!((class.value.as_str(), class.data.as_str()), ("", UAC_EXE));
    assert!(file(UAC_EXE).is_some_and(|f| f.exists && !f.swept));
    // The SYSTEM hive's Run value and its file.
    let sys = run_value(&s, "S-1-5-18", "CzSystem").expect("SYSTEM hive Run value");
    assert_eq!(sys.command, SYSTEM_EXE);
    assert!(file(SYSTEM_EXE).is_some_and(|f| f.exists && !f.swept));
    // A folder named only by a Defender exclusion: asked and listed.
    let ex = file(EXCLUDED_DIR).expect("the excluded folder is asked about");
    assert!(ex.is_dir && !ex.swept && ex.listing == vec!["inside.txt".to_string()]);
}

fn sweep_of(h: &mut HostState, roots: Vec<SweepRoot>, max_entries: u32) -> Frames {
    let b = Bounds::default();
    let item = JobItem::Query(Query::Sweep {
        roots,
        skip: vec![],
        hash_extensions: vec!["exe".into(), "dll".into()],
        max_entries,
        max_hash_bytes: 3,
        bounds: b.clone(),
    });
    run(h, &[item], &Limits::from_bounds(&b))
}

#[test]
fn sweep_filters_bounds_and_reports_its_cuts() {
    let (mut h, _) = infected();
    let now = LabTime::EPOCH.plus_secs(3600);
    let old = LabTime::EPOCH.plus_days(-400);
    for (path, t) in [
        (r"C:\Windows\SysWOW64\netprofm\tapisrv.exe", now),
        (r"C:\Windows\SysWOW64\oldsub\old.exe", old),
        (r"C:\Windows\SysWOW64\netprofm\notes.txt", now),
    ] {
        h.files
            .create_dir_all(crate::lab::world::files::parent(path).unwrap(), t)
            .unwrap();
        h.files
            .plant_file(path, crate::lab::world::Content::text("four"), None, t)
            .unwrap();
        h.files
            .set_times(path, crate::lab::world::files::Times::all(t))
            .unwrap();
    }
    let f = sweep_of(
        &mut h,
        vec![SweepRoot {
            path: r"C:\Windows\SysWOW64".into(),
            depth: 1,
            extensions: vec!["exe".into(), "dll".into()],
            recent_days: 90,
        }],
        1000,
    );
    let files = assemble::files(&f, 0);
    let has = |p: &str| files.iter().any(|x| x.path.eq_ignore_ascii_case(p));
    assert!(
        has(r"C:\Windows\SysWOW64\netprofm\tapisrv.exe"),
        "{files:#?}"
    );
    assert!(
        !has(r"C:\Windows\SysWOW64\oldsub\old.exe"),
        "older than 90 days"
    );
    assert!(
        !has(r"C:\Windows\SysWOW64\netprofm\notes.txt"),
        "not an EXE/DLL"
    );
    assert!(
        files.iter().all(|x| !x.is_dir),
        "a filtered root reports files only"
    );
    // Over the hash bound (3 bytes): not hashed, and said so.
    assert!(files.iter().all(|x| x.sha256.is_empty()));
    assert!(
        f.truncations(0)
            .iter()
            .any(|t| t.what.starts_with("hash of "))
    );
    // Two entries at most per root: the cut is reported once.
    let f = sweep_of(
        &mut h,
        vec![SweepRoot {
            path: r"C:\ProgramData".into(),
            depth: 1,
            extensions: vec![],
            recent_days: 0,
        }],
        2,
    );
    assert_eq!(assemble::files(&f, 0).len(), 2);
    let cuts = f.truncations(0);
    assert_eq!(
        cuts.iter()
            .filter(|t| t.what == r"sweep of C:\ProgramData")
            .count(),
        1,
        "{cuts:?}"
    );
    assert_eq!(cuts[0].limit, "2 entries");
}

/// Issue 7 item 6: a registry value larger than collection shows (binary
/// data cut to `max_binary_bytes`) is planned as cut and still deleted:
/// the op compares the SHA-256 of the whole data, which the host computed.
#[test]
fn a_value_collection_showed_cut_is_planned_as_cut_and_deleted() {
    use crate::detect::ArtifactRef;
    use crate::plan::derive::{Derived, artifact_op};
    let (mut h, p) = infected();
    let key = r"Software\Microsoft\CzBlob";
    let blob: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    h.registry
        .put(&format!(r"HKU\{}\{key}", p.alice_sid), "cfg", RegData::Binary(blob.clone()))
        .expect("value put");
    let b = Bounds::default();
    let s = collect(&mut h, &b);
    let r = s
        .registry
        .iter()
        .find(|r| r.key == key && r.value == "cfg")
        .expect("residue collected");
    assert!(r.data_cut);
    assert_eq!(r.data.len(), 2 * b.max_binary_bytes as usize);
    assert_eq!(r.data_sha256, ops::reg_data_sha256("REG_BINARY", &[], 0, &blob));
    let op = match artifact_op(
        &s,
        &ArtifactRef::RegistryValue {
            hive: p.alice_sid.clone(),
            key: key.into(),
            value: "cfg".into(),
        },
    ) {
        Derived::Step(crate::plan::Step::Purge(op)) => op,
        other => panic!("{other:?}"),
    };
    assert!(matches!(&op, Op::DeleteRegistryValue { data_cut: true, .. }), "{op:?}");
    let line = serde_json::to_string(&op).expect("serialises");
    assert!(line.contains("\"data_cut\":true"), "{line}");
    assert_eq!(apply(&mut h, std::slice::from_ref(&op)), vec![OpOutcome::Done]);
    assert!(h
        .registry
        .get_value(&format!(r"HKU\{}\{key}", p.alice_sid), "cfg")
        .is_err());
    // Changed data is drift, even past what collection showed.
    let mut changed = blob;
    changed[9_999] ^= 1;
    h.registry
        .put(&format!(r"HKU\{}\{key}", p.alice_sid), "cfg", RegData::Binary(changed))
        .expect("value put");
    assert!(matches!(
        apply(&mut h, &[op])[0],
        OpOutcome::Drift { .. }
    ));
}

/// Issue 7 item 5: a Run value in the SYSTEM hive (TrickBot's) is found
/// and deleted (the delete once looked for a user profile and answered
/// "no user profile"), and an Azure AD / Entra ID user's profile
/// (`S-1-12-1-...`) is collected and its values deleted like any other.
#[test]
fn service_account_and_entra_id_hives_are_collected_and_deleted_from() {
    use crate::lab::world::registry::RegKey;
    use crate::lab::world::users::Profile;
    let (mut h, _) = infected();
    let entra = "S-1-12-1-3171424391-1259003839-2357102753-1408227946";
    h.add_profile(Profile::new("carol", "AzureAD", entra), &RegKey::default(), LabTime::EPOCH);
    h.registry
        .user_hive_mut(entra)
        .expect("Entra ID user's hive")
        .root
        .create(fixture::RUN)
        .set("CzEntra", RegData::sz(r"C:\x\e.exe"));
    let s = collect(&mut h, &Bounds::default());
    assert!(s.users.iter().any(|u| u.sid == entra && u.name == "carol"), "{:?}", s.users);
    let op = |hive: &str, value: &str, data: &str| Op::DeleteRegistryValue {
        hive: hive.into(),
        key: fixture::RUN.into(),
        value: value.into(),
        expected_type: "REG_SZ".into(),
        expected_data_sha256: ops::reg_string_sha256("REG_SZ", data),
        data: Default::default(),
        data_cut: false,
    };
    let sys = run_value(&s, "S-1-5-18", "CzSystem").expect("SYSTEM hive Run value");
    let ent = run_value(&s, entra, "CzEntra").expect("Entra ID Run value");
    let ops = [
        op("S-1-5-18", "CzSystem", &sys.command),
        op(entra, "CzEntra", &ent.command),
    ];
    assert_eq!(apply(&mut h, &ops), vec![OpOutcome::Done, OpOutcome::Done]);
    let again = collect(&mut h, &Bounds::default());
    assert!(run_value(&again, "S-1-5-18", "CzSystem").is_none());
    assert!(run_value(&again, entra, "CzEntra").is_none());
}

/// Issue 7 items 11 and 13: a WMI filter another consumer is still bound
/// to stays when a subscription that uses it is removed; a service whose
/// ImagePath matches (every svchost service shares one) but whose
/// ServiceDll differs is drift, not a delete.
#[test]
fn a_shared_wmi_filter_stays_and_a_service_dll_is_compared() {
    use crate::lab::world::wmi::{Binding, Consumer};
    let (mut h, p) = infected();
    let filter = h
        .wmi
        .filters
        .iter()
        .find(|f| f.name == FILTER)
        .cloned()
        .expect("fixture filter");
    let other = Consumer::CommandLine {
        name: "CzOther".into(),
        command_line_template: r"C:\Windows\System32\other.exe".into(),
        executable_path: None,
    };
    h.wmi.put_consumer(other.clone());
    h.wmi.put_binding(Binding::new(&filter, &other));
    let wmi = Op::DeleteWmiSubscription {
        filter: FILTER.into(),
        consumer: CONSUMER.into(),
        consumer_type: "CommandLineEventConsumer".into(),
        expected_query: filter.query.clone().into(),
        expected_action: p.wmi_exe.clone().into(),
    };
    let svc = |dll: &str| Op::DeleteService {
        name: SERVICE.into(),
        expected_image_path: p.svc_exe.clone().into(),
        expected_service_dll: dll.into(),
    };
    let out = apply(&mut h, &[wmi, svc(r"C:\Windows\System32\other.dll")]);
    assert_eq!(out[0], OpOutcome::Done);
    assert!(matches!(&out[1], OpOutcome::Drift { observed } if observed.contains(SVC_DLL)), "{out:?}");
    assert!(h.wmi.filters.iter().any(|f| f.name == FILTER), "the shared filter stays");
    assert!(h.wmi.consumers.iter().all(|c| c.name() != CONSUMER), "the consumer goes");
    assert!(h.wmi.bindings.iter().any(|b| b.consumer.contains("CzOther")), "the other binding stays");
    assert_eq!(apply(&mut h, &[svc(SVC_DLL)]), vec![OpOutcome::Done]);
}
