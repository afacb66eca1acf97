//! cauterize's host-side runtime (`runtime.ps1`) executing in the engine:
//! its job reader on real job text from the Rust encoder, and the jobs it
//! carries out over the lab's Windows facades (checked against the host's
//! state, the lab's ground truth).

use crate::lab::powershell::tests::{prints, v2, v5};
use crate::lab::world::HostState;
use crate::lab::world::files::Content;
use crate::runtime::job::{self, JobItem, RUNTIME};
use crate::lab::contract_host as fixture;
use crate::lab::spec::LabSettings;
use crate::runtime::assemble;
use crate::runtime::ops::{Bounds, Op, Query, SweepRoot};
use crate::runtime::results::{Frames, Limits, parse};
use crate::runtime::snapshot::{AutorunLocation, Snapshot};

/// The runtime, then `Read-CzJob` on the job data of `items`, printing
/// each item's kind and its fields (`name=value|value`), names sorted.
fn read_job(items: &[JobItem]) -> String {
    format!(
        "{RUNTIME}\n$czJobData = @'\n{}'@\n{}",
        job::encode(items),
        concat!(
            "$items = Read-CzJob $czJobData\n",
            "'items ' + $items.Count\n",
            "foreach ($op in $items) {\n",
            "    $op.Kind\n",
            "    foreach ($k in @($op.Fields.Keys | Sort-Object)) { $k + '=' + ((Get-CzFields $op $k) -join '|') }\n",
            "}\n"
        )
    )
}

/// The runtime's top-level statements and its job reader run on every
/// version: a job without empty fields reads back field for field.
#[test]
fn read_czjob_reads_a_job_from_the_encoder() {
    let items = vec![
        JobItem::Query(Query::FileFacts {
            paths: vec![r"C:\Users\bob\AppData\Roaming\x.dll".into(), "Пётр 🦀".into()],
            list_dirs: vec![],
            bounds: Bounds::default(),
        }),
        JobItem::Query(Query::ReadFile { path: r"C:\x.bin".into(), offset: 5, max_bytes: 10 }),
    ];
    let b = Bounds::default();
    let bounds = [
        format!("max_binary_bytes={}", b.max_binary_bytes),
        format!("max_field_bytes={}", b.max_field_bytes),
        format!("max_hash_bytes={}", b.max_hash_bytes),
        format!("max_items={}", b.max_items),
        format!("max_listing={}", b.max_listing),
        format!("max_output_bytes={}", b.max_output_bytes),
        format!("max_values_per_key={}", b.max_values_per_key),
    ];
    let mut expected: Vec<String> = vec!["items 2".into(), "FileFacts".into()];
    expected.extend(bounds.iter().cloned());
    expected.push(r"path=C:\Users\bob\AppData\Roaming\x.dll|Пётр 🦀".into());
    expected.push(format!("time_limit_secs={}", b.time_limit_secs));
    expected.extend(["ReadFile".into(), "max_bytes=10".into(), "offset=5".into(), r"path=C:\x.bin".into()]);
    let script = read_job(&items);
    for run in [v5(&script), v2(&script)] {
        let want: Vec<&str> = expected.iter().map(String::as_str).collect();
        prints(&run, &want);
    }
}

/// Regression test of issue 7 item 1 (a field with an empty value): the
/// encoder writes `f root_extensions ` with nothing after the space, and
/// Read-CzJob trims the line, splits it in two, and throws "job data: a
/// line is neither an op nor a field" - so every sweep without an extension
/// filter, every task action without arguments and the registry default
/// value fail on real hosts. Fixed by giving empty values a token of
/// their own; this test fails on the old text.
#[test]
fn read_czjob_reads_empty_fields() {
    let items = vec![
        JobItem::Query(Query::Sweep {
            roots: vec![SweepRoot { path: r"C:\ProgramData".into(), depth: 1, extensions: vec![], recent_days: 0 }],
            skip: vec![],
            hash_extensions: vec!["dll".into()],
            max_entries: 100,
            max_hash_bytes: 1000,
            bounds: Bounds::default(),
        }),
        JobItem::Op(Op::DeleteRegistryValue {
            hive: "HKLM".into(),
            key: r"SOFTWARE\x".into(),
            value: "".into(),
            expected_type: "REG_SZ".into(),
            expected_data_sha256: "00".repeat(32),
            data: "loader.exe".into(),
            data_cut: false,
        }),
    ];
    let r = v5(&read_job(&items));
    assert!(r.err.is_empty(), "{}", r.err);
    let lines = r.lines();
    assert_eq!(lines.first().copied(), Some("items 2"), "{}", r.out);
    assert!(lines.contains(&"root_extensions="), "{}", r.out);
    assert!(lines.contains(&"value="), "{}", r.out);
}

/// The CZR records of `kinds` in a runtime's output, sorted. A failed
/// outcome keeps its result without its detail: the detail is the host's
/// own error text (Win32's on the engine, Rust's in the twin). File times
/// are left out: the engine reads them on the host's clock, the twin in
/// lab time (`recent_days_are_counted_on_the_hosts_clock` and the file
/// facades' tests check the engine's).
fn records(out: &str, kinds: &[&str]) -> Vec<String> {
    const FAILED: &str = " outcome result=ZmFpbGVk ";
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| l.split(' ').nth(2).is_some_and(|k| kinds.contains(&k)))
        .map(|l| match l.find(FAILED) {
            Some(i) => l[..i + FAILED.len()].to_string(),
            None => l.split(' ').filter(|f| !f.starts_with("created=") && !f.starts_with("modified=")).collect::<Vec<_>>().join(" "),
        })
        .collect();
    v.sort();
    v
}

/// Run `items` through runtime.ps1 on the engine (PowerShell `version`)
/// on `h`, returning the output as the tool parses it.
pub(super) fn run_items(h: &mut HostState, version: &str, items: &[JobItem]) -> Frames {
    let r = crate::lab::powershell::tests::run_on(h, version, &job::payload(items));
    assert!(r.err.is_empty(), "{version}: {}", r.err);
    parse(&r.out, items.len(), &Limits::from_bounds(&Bounds::default())).unwrap_or_else(|e| panic!("{version}: {e}: {}", r.out))
}

/// The runtime contract's host (a logged-on and an offline user, hostile
/// names, each kind of persistence) collected by runtime.ps1 on the engine.
fn collect_contract_host(version: &str) -> (HostState, fixture::Planted, Snapshot) {
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabSettings::default().start);
    let frames = run_items(&mut h, version, &[JobItem::Query(Query::Collect { bounds: Bounds::default() })]);
    let s = assemble::snapshot(&frames, 0);
    (h, p, s)
}

fn reg_autorun<'a>(s: &'a Snapshot, hive: &str, value: &str) -> &'a crate::runtime::snapshot::Autorun {
    s.autoruns
        .iter()
        .find(|a| matches!(&a.location, AutorunLocation::RegistryValue { hive: h, value: v, .. } if h == hive && v == value))
        .unwrap_or_else(|| panic!("no autorun {hive} {value:?}: {:#?}", s.autoruns))
}

/// Collection through runtime.ps1 on the engine, on PowerShell 2.0 and
/// 5.1: every kind the contract host holds is found with the values
/// Windows would give (the offline user's hive mounted and unmounted,
/// ServiceDll read from the registry, the hidden task through
/// Schedule.Service, the WMI subscription, the process with the
/// CreationDate WMI reports for it), and no part of it failed.
#[test]
fn collection_on_the_engine_finds_every_planted_kind() {
    for version in ["2.0", "5.1.19041.1"] {
        let (mut h, p, s) = collect_contract_host(version);
        let failed: Vec<_> = s.truncated.iter().filter(|t| t.what.contains("not read") || t.limit == "error" || t.limit.contains("hive")).collect();
        assert!(failed.is_empty(), "{version}: {failed:?}");
        assert_eq!(s.computer_name, crate::lab::powershell::tests::host().0.name, "{version}: the name WinRM's host has");
        let user = |sid: &str| s.users.iter().find(|u| u.sid == sid).unwrap_or_else(|| panic!("{version}: no user {sid}"));
        assert!(user(&p.alice_sid).logged_on && !user(&p.petr_sid).logged_on, "{version}");
        assert_eq!(user(&p.petr_sid).name, "Пётр", "{version}");
        assert_eq!(reg_autorun(&s, &p.alice_sid, "CzAlice").command, r"%APPDATA%\CzTest\alice.exe", "{version}");
        let petr = reg_autorun(&s, &p.petr_sid, "CzPetr");
        assert_eq!((petr.value_type.as_str(), petr.command.as_str()), ("REG_EXPAND_SZ", r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#), "{version}");
        assert_eq!(reg_autorun(&s, "HKLM", fixture::HOSTILE).command, format!("\"{}\" {}", p.hostile_exe, fixture::HOSTILE), "{version}");
        assert_eq!(reg_autorun(&s, "S-1-5-18", "CzSystem").command, fixture::SYSTEM_EXE, "{version}");
        let lnk = s.autoruns.iter().find(|a| matches!(&a.location, AutorunLocation::StartupFolder { path } if *path == p.lnk_path)).expect("startup shortcut");
        assert_eq!((lnk.value_type.as_str(), lnk.command.as_str()), ("LNK", format!("\"{}\" --hostile \"a b\"", p.lnk_target).as_str()), "{version}");
        let svc = s.services.iter().find(|x| x.name == fixture::SERVICE).expect("service");
        assert_eq!((svc.image_path.as_str(), svc.service_dll.as_str(), svc.start_type.as_str()), (p.svc_exe.as_str(), fixture::SVC_DLL, "auto"), "{version}");
        let task = s.tasks.iter().find(|t| t.path == fixture::TASK_PATH).unwrap_or_else(|| panic!("{version}: no task: {:?}", s.tasks));
        assert!(task.hidden && task.enabled, "{version}: {task:?}");
        assert_eq!(task.triggers, ["boot"], "{version}");
        assert_eq!(task.actions.len(), 1, "{version}");
        assert!(task.actions[0].path == p.task_exe.as_str() && task.actions[0].arguments == "/x" && task.actions[0].working_directory == "", "{version}: {task:?}");
        let wmi = s.wmi.iter().find(|w| w.consumer_name == fixture::CONSUMER).expect("subscription");
        assert_eq!((wmi.filter_name.as_str(), wmi.consumer_type.as_str(), wmi.action.as_str()), (fixture::FILTER, "CommandLineEventConsumer", p.wmi_exe.as_str()), "{version}");
        let proc = s.processes.iter().find(|x| x.pid == p.locked_pid).expect("the locked process");
        assert_eq!(proc.image, p.locked_exe, "{version}");
        let creation = format!("[System.Management.ManagementDateTimeConverter]::ToDateTime((Get-WmiObject Win32_Process -Filter 'ProcessId = {}').CreationDate).ToUniversalTime().ToString('o')", p.locked_pid);
        let r = crate::lab::powershell::tests::run_on(&mut h, "5.1.19041.1", &creation);
        assert_eq!(proc.started, r.out.trim_end(), "{version}: the start time a kill compares");
        let residue = s.registry.iter().find(|v| v.hive == p.petr_sid && v.key == r"Software\Microsoft\Czxyzq").expect("the offline user's binary residue");
        assert_eq!((residue.value.as_str(), residue.data.as_str()), ("a1b2c3", "deadbeef"), "{version}");
        assert!(s.registry.iter().any(|v| v.hive == p.alice_sid && v.key == fixture::CLASS_COMMAND_KEY && v.data == fixture::UAC_EXE), "{version}");
        assert!(!h.registry.is_loaded(&p.petr_sid), "{version}: the offline hive is unloaded again");
    }
}

/// File facts (sizes, hashes, listings, 8.3 long paths through
/// GetLongPathName, absent files) and the drop-folder sweep through
/// runtime.ps1 on the engine, checked against the host's own files.
#[test]
fn file_facts_and_sweep_on_the_engine_report_the_hosts_files() {
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabSettings::default().start);
    let facts = JobItem::Query(Query::FileFacts {
        paths: vec![p.machine_exe.clone().into(), fixture::SHORT_EXE.into(), p.petr_dll.clone().into(), r"C:\nope.exe".into()],
        list_dirs: vec![p.folder.clone().into()],
        bounds: Bounds::default(),
    });
    let sweep = JobItem::Query(Query::Sweep {
        roots: vec![SweepRoot { path: r"C:\ProgramData".into(), depth: 1, extensions: vec![], recent_days: 0 }],
        skip: vec![],
        hash_extensions: vec!["dll".into(), "exe".into()],
        max_entries: 500,
        max_hash_bytes: 1 << 20,
        bounds: Bounds::default(),
    });
    let frames = run_items(&mut h, "5.1.19041.1", &[facts, sweep]);
    let files = assemble::files(&frames, 0);
    let fact = |path: &str| files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no facts of {path}: {files:#?}"));
    let sha = |path: &str| crate::lab::world::files::hex(&h.files.get(path).and_then(|e| e.sha256()).expect("planted"));
    let m = fact(&p.machine_exe);
    assert!(m.exists && !m.is_dir && m.size == "machine".len() as u64 && m.sha256 == sha(&p.machine_exe), "{m:?}");
    assert_eq!(fact(fixture::SHORT_EXE).long_path, fixture::LONG_EXE);
    assert_eq!(fact(fixture::SHORT_EXE).sha256, sha(fixture::LONG_EXE));
    assert!(fact(&p.petr_dll).exists);
    assert!(!fact(r"C:\nope.exe").exists);
    let dir = fact(&p.folder);
    assert!(dir.is_dir && dir.listing.iter().any(|n| n == "machine.exe") && dir.entries as usize == dir.listing.len(), "{dir:?}");
    let swept = assemble::files(&frames, 1);
    let stray = swept.iter().find(|f| f.path == fixture::STRAY_DLL).unwrap_or_else(|| panic!("the sweep misses the stray DLL: {swept:#?}"));
    assert_eq!(stray.sha256, sha(fixture::STRAY_DLL));
}

/// The compare-and-delete operations on registry values and files, and
/// reading a file, through runtime.ps1 on the engine: done then
/// already_absent, drift on changed data, a running image failed or queued
/// for the reboot as asked, an offline user's hive loaded and unloaded,
/// and the host afterwards as Windows would leave it.
#[test]
fn registry_and_file_operations_on_the_engine_change_the_host_exactly() {
    use crate::runtime::ops::{self, FileChunk, Op, OpOutcome};
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabSettings::default().start);
    let sha = |h: &HostState, path: &str| crate::lab::world::files::hex(&h.files.get(path).and_then(|e| e.sha256()).unwrap_or_default());
    let run_value = |hive: &str, name: &str, ty: &str, data: &str| {
        JobItem::Op(Op::DeleteRegistryValue {
            hive: hive.into(),
            key: fixture::RUN.into(),
            value: name.into(),
            expected_type: ty.into(),
            expected_data_sha256: ops::reg_string_sha256(ty, data),
            data: Default::default(),
            data_cut: false,
        })
    };
    let petr = run_value(&p.petr_sid, "CzPetr", "REG_EXPAND_SZ", r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#);
    let hostile = run_value("HKLM", fixture::HOSTILE, "REG_SZ", &format!("\"{}\" {}", p.hostile_exe, fixture::HOSTILE));
    let drift = run_value(&p.alice_sid, "CzAlice", "REG_SZ", "something else");
    let file = |path: &str, queue: bool, expected: String| JobItem::Op(Op::DeleteFile { path: path.into(), expected_sha256: expected, queue_if_locked: queue, lateral_service: Default::default() });
    let items = vec![
        petr.clone(),
        petr,
        hostile.clone(),
        hostile,
        drift,
        file(&p.machine_exe, false, sha(&h, &p.machine_exe)),
        file(&p.machine_exe, false, sha(&h, &p.machine_exe)),
        file(&p.task_exe, false, "00".repeat(32)),
        file(&p.locked_exe, false, sha(&h, &p.locked_exe)),
        file(&p.locked_exe, true, sha(&h, &p.locked_exe)),
        JobItem::Op(Op::QueueDeleteOnReboot { path: p.wmi_exe.clone().into(), expected_sha256: sha(&h, &p.wmi_exe), lateral_service: Default::default() }),
        JobItem::Query(Query::ReadFile { path: p.svc_exe.clone().into(), offset: 1, max_bytes: 10 }),
    ];
    let hives_before = h.registry.subkeys("HKU");
    let frames = run_items(&mut h, "5.1.19041.1", &items);
    let got: Vec<Option<OpOutcome>> = (0..11).map(|i| assemble::outcome(&frames, i)).collect();
    let done = Some(OpOutcome::Done);
    let absent = Some(OpOutcome::AlreadyAbsent);
    assert_eq!(got[..4], [done.clone(), absent.clone(), done.clone(), absent.clone()], "{got:?}");
    assert!(matches!(&got[4], Some(OpOutcome::Drift { observed }) if observed.contains("REG_EXPAND_SZ")), "{:?}", got[4]);
    assert_eq!(got[5..7], [done.clone(), absent.clone()]);
    assert!(matches!(&got[7], Some(OpOutcome::Drift { .. })), "{:?}", got[7]);
    assert!(matches!(&got[8], Some(OpOutcome::Failed { .. })), "a running image is locked: {:?}", got[8]);
    assert_eq!(got[9..11], [Some(OpOutcome::QueuedForReboot), Some(OpOutcome::QueuedForReboot)]);
    let chunk: Option<FileChunk> = assemble::chunk(&frames, 11);
    assert_eq!(chunk.map(|c| c.data), Some(b"vc".to_vec()));
    assert!(!h.files.exists(&p.machine_exe) && h.files.exists(&p.task_exe) && h.files.exists(&p.locked_exe));
    assert!(h.registry.user_hive(&p.petr_sid).expect("hive").root.descend(fixture::RUN).and_then(|k| k.value("CzPetr")).is_none());
    assert!(h.registry.get_value(&format!(r"HKU\{}\{}", p.alice_sid, fixture::RUN), "CzAlice").is_ok(), "drift deletes nothing");
    let queued = crate::lab::world::pending::read(&h.registry).unwrap_or_default();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert_eq!(h.registry.subkeys("HKU"), hives_before, "every hive mounted was unmounted");
}

/// Issue 7 item 7 on the engine: the host re-checks a path after
/// GetFullPath, so a plan path that climbs out of AppData with `..` into
/// System32 is refused before anything is opened (the lab's twin, which
/// never resolved dot segments, answered already_absent).
#[test]
fn a_path_with_dot_segments_is_refused_on_the_host() {
    use crate::runtime::ops::Op;
    let path = r"C:\Users\x\AppData\Local\..\..\..\..\Windows\System32\x.dll";
    let payload = job::payload(&[
        JobItem::Op(Op::DeleteFile { path: path.into(), expected_sha256: "00".repeat(32), queue_if_locked: true, lateral_service: Default::default() }),
        JobItem::Op(Op::QueueDeleteOnReboot { path: path.into(), expected_sha256: "00".repeat(32), lateral_service: Default::default() }),
    ]);
    let mut h = crate::lab::powershell::tests::host().1.clone();
    let r = crate::lab::powershell::tests::run_on(&mut h, "2.0", &payload);
    let refused = (
        "failed".to_string(),
        r"the path resolves to C:\Windows\System32\x.dll (. or .. segments, or trailing dots or spaces): never deleted".to_string(),
    );
    assert_eq!(outcomes(&r.out), vec![refused.clone(), refused], "{}", r.out);
    assert!(crate::lab::world::pending::read(&h.registry).unwrap_or_default().is_empty());
}


/// Issue 7 item 9 on the engine: a class key of a user who is not logged
/// on lives in their UsrClass.dat, which runtime.ps1 loads on its own
/// (`reg load`): collection reports the key under `Software\Classes`,
/// the delete removes it, and both hives are unloaded again.
#[test]
fn an_offline_users_class_key_is_found_and_deleted() {

    use crate::lab::world::registry::RegData;
    use crate::runtime::ops::{self, Op};
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, crate::lab::spec::LabSettings::default().start);
    let key = r"Software\Classes\ms-settings\shell\open\command";
    let command = r"C:\Users\Public\uac.exe";
    h.registry.user_hive_mut(&p.petr_sid).expect("petr's hive").root.create(key).set("", RegData::sz(command));
    let op = Op::DeleteRegistryValue {
        hive: p.petr_sid.clone(),
        key: key.into(),
        value: "".into(),
        expected_type: "REG_SZ".into(),
        expected_data_sha256: ops::reg_string_sha256("REG_SZ", command),
        data: Default::default(),
        data_cut: false,
    };
    let mounts_before = h.registry.subkeys("HKU").expect("HKU");
    let payload = job::payload(&[JobItem::Query(Query::Collect { bounds: Bounds::default() }), JobItem::Op(op.clone()), JobItem::Op(op)]);
    let r = crate::lab::powershell::tests::run_on(&mut h, "2.0", &payload);
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let found = r.out.lines().any(|l| l.contains(" reg ") && l.contains(&format!("hive={} ", b64(&p.petr_sid))) && l.contains(&format!("key={} ", b64(key))));
    assert!(found, "{}", r.out);
    let outcomes = records(&r.out, &["outcome"]);
    assert_eq!(outcomes, [format!("CZR 1 outcome result={} detail=-", b64("done")), format!("CZR 2 outcome result={} detail=-", b64("already_absent"))]);
    assert!(h.registry.user_hive(&p.petr_sid).expect("hive").root.descend(key).and_then(|k| k.value("")).is_none());
    assert_eq!(h.registry.subkeys("HKU").expect("HKU"), mounts_before);
}

/// The sweep's "written within N days" filter compares file times with
/// the host's UtcNow: a DLL written 10 lab days before now is swept, one
/// written 200 days before is not (Emotet's SysWOW64 layout, EMO-06).
#[test]
fn recent_days_are_counted_on_the_hosts_clock() {
    use crate::lab::world::files::{Content, Times};
    let now = crate::lab::spec::LabSettings::default().start;
    let mut h = crate::lab::powershell::tests::host().1.clone();
    let day = 86_400 * crate::lab::world::time::TICKS_PER_SEC;
    h.files.create_dir_all(r"C:\Windows\SysWOW64\netprofm", now).expect("dir");
    for (name, days) in [("new.dll", 10), ("old.dll", 200)] {
        let p = format!(r"C:\Windows\SysWOW64\netprofm\{name}");
        h.files.plant_file(&p, Content::text(name), None, now).expect("file");
        h.files.set_times(&p, Times::all(crate::lab::world::LabTime(now.0 - days * day))).expect("times");
    }
    let payload = job::payload(&[JobItem::Query(Query::Sweep {
        roots: vec![SweepRoot { path: r"C:\Windows\SysWOW64".into(), depth: 1, extensions: vec!["dll".into()], recent_days: 90 }],
        skip: vec![],
        hash_extensions: vec!["dll".into()],
        max_entries: 100,
        max_hash_bytes: 1 << 20,
        bounds: Bounds::default(),
    })]);
    let r = crate::lab::powershell::tests::run_on(&mut h, "5.1.19041.1", &payload);
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    assert!(r.out.contains(&format!("path={} ", b64(r"C:\Windows\SysWOW64\netprofm\new.dll"))), "{}", r.out);
    assert!(!r.out.contains(&b64(r"C:\Windows\SysWOW64\netprofm\old.dll")), "{}", r.out);
}


/// Issue 7 item 10 on the engine: a symbolic link to a System32 DLL,
/// planned for deletion with the target's hash, is refused by the
/// runtime's helper (it opens the link itself and sees a reparse point),
/// and a file reached through a junction is refused before anything is
/// opened; the link, the junction and the targets all stay.
#[test]
fn links_are_never_deleted_through() {
    let now = crate::lab::spec::LabSettings::default().start;
    let mut h = crate::lab::powershell::tests::host().1.clone();
    let target = r"C:\Windows\System32\czlinked.dll";
    h.files.plant_file(target, Content::text("system"), None, now).expect("target");
    h.files.plant_link(r"C:\ProgramData\Evil\link.dll", target, false, false, now).expect("link");
    h.files.plant_link(r"C:\ProgramData\Junk", r"C:\Windows\System32", true, true, now).expect("junction");
    let sha = crate::lab::world::files::hex(&Content::text("system").sha256());
    let payload = job::payload(&[
        JobItem::Op(Op::DeleteFile { path: r"C:\ProgramData\Evil\link.dll".into(), expected_sha256: sha.clone(), queue_if_locked: true, lateral_service: Default::default() }),
        JobItem::Op(Op::QueueDeleteOnReboot { path: r"C:\ProgramData\Evil\link.dll".into(), expected_sha256: sha.clone(), lateral_service: Default::default() }),
        JobItem::Op(Op::DeleteFile { path: r"C:\ProgramData\Junk\czlinked.dll".into(), expected_sha256: sha, queue_if_locked: true, lateral_service: Default::default() }),
    ]);
    let r = crate::lab::powershell::tests::run_on(&mut h, "5.1.19041.1", &payload);
    let got = outcomes(&r.out);
    let link = "it is a reparse point (a symbolic link or junction): never deleted or followed";
    let junction = r"the folder C:\ProgramData\Junk on its path is a reparse point (a junction or symbolic link): never deleted through";
    let want: Vec<(String, String)> = [link, link, junction].iter().map(|d| ("failed".to_string(), d.to_string())).collect();
    assert_eq!(got, want, "{}", r.out);
    assert_eq!(h.files.get(target).and_then(|e| e.sha256()), Some(Content::text("system").sha256()));
    assert!(h.files.get(r"C:\ProgramData\Evil\link.dll").is_some_and(|e| e.link().is_some()));
    assert!(h.files.get(r"C:\ProgramData\Junk").is_some_and(|e| e.link().is_some()));
    assert!(crate::lab::world::pending::read(&h.registry).unwrap_or_default().is_empty());
}

/// Issue 7 item 2 on the engine: runtime.ps1 queues a delete at boot with
/// a NULL new name (kernel32 refuses an empty one, which is what
/// `$null` through a `string` parameter would give) and confirms it by
/// reading the queue back: the entry is `\??\<path>` then an empty
/// string, in PendingFileRenameOperations2 when that value exists (as
/// kernel32 appends), else in PendingFileRenameOperations; asked twice,
/// the second run finds it queued and adds nothing. The next boot deletes
/// the file and empties the queue.
#[test]
fn a_delete_at_boot_is_queued_with_null_and_read_back() {
    use crate::lab::world::paths;
    use crate::lab::world::registry::RegData;
    let now = crate::lab::spec::LabSettings::default().start;
    let target = r"C:\ProgramData\CzQueue\held.dll";
    let sha = crate::lab::world::files::hex(&Content::text("loader").sha256());
    let queue = JobItem::Op(Op::QueueDeleteOnReboot { path: target.into(), expected_sha256: sha, lateral_service: Default::default() });
    let payload = job::payload(&[queue.clone(), queue]);
    let key = format!(r"HKLM\{}", paths::SESSION_MANAGER);
    let value = |h: &HostState, name: &str| match h.registry.get_value(&key, name) {
        Ok(RegData::MultiSz(v)) => Some(v.clone()),
        _ => None,
    };
    let entry = vec![format!(r"\??\{target}"), String::new()];
    let earlier = vec![r"\??\C:\Windows\Temp\old.tmp".to_string(), String::new()];
    for (version, has_second) in [("2.0", false), ("5.1.19041.1", false), ("5.1.19041.1", true)] {
        let mut h = crate::lab::powershell::tests::host().1.clone();
        h.files.plant_file(target, Content::text("loader"), None, now).expect("file");
        if has_second {
            h.registry.put(&key, paths::PENDING_RENAMES2_VALUE, RegData::MultiSz(earlier.clone())).expect("put");
        }
        let r = crate::lab::powershell::tests::run_on(&mut h, version, &payload);
        let queued = ("queued_for_reboot".to_string(), String::new());
        assert_eq!(outcomes(&r.out), vec![queued.clone(), queued], "{version}: {}", r.out);
        let (first, second) = (value(&h, paths::PENDING_RENAMES_VALUE), value(&h, paths::PENDING_RENAMES2_VALUE));
        if has_second {
            assert_eq!(first, None, "{version}");
            assert_eq!(second, Some([earlier.clone(), entry.clone()].concat()), "{version}");
        } else {
            assert_eq!((first, second), (Some(entry.clone()), None), "{version}");
        }
        assert!(h.files.exists(target), "queued, not deleted yet");
        h.boot(now);
        assert!(!h.files.exists(target), "{version}: the boot deletes it");
        assert!(crate::lab::world::pending::read(&h.registry).unwrap_or_default().is_empty());
    }
}

/// The outcome records of a run: (result, detail), decoded, in order.
pub(super) fn outcomes(out: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let decode = |l: &str, field: &str| {
        let b64 = l.split(' ').find_map(|f| f.strip_prefix(field)).unwrap_or_default();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default()).unwrap_or_default()
    };
    out.lines().filter(|l| l.split(' ').nth(2) == Some("outcome")).map(|l| (decode(l, "result="), decode(l, "detail="))).collect()
}

/// runtime.ps1's containment, executed by the engine over the firewall
/// and Task Scheduler facades: Contain makes the engagement's rules (a
/// block of SMB from every address but the exempt one) and its SYSTEM
/// dead-man task at a `Z` deadline; a second Contain changes nothing and
/// says so; Release removes exactly the engagement's rules (a customer
/// rule named like ours survives) and the task.
#[test]
fn containment_on_the_engine_makes_reads_back_and_releases_exactly() {
    use crate::firewall::{AddrSet, Direction as Dir, EngagementId, PortSpec, host_rules};
    use crate::lab::world::firewall::{Direction, FirewallRule, Protocol, Reason, Verdict};
    use crate::runtime::contain::{self, ContainOp, HostRule};
    use crate::runtime::results::{Limits, parse};
    let id = EngagementId::parse("0badc0de").unwrap();
    let exempt = AddrSet::parse(&["10.0.0.5"]).unwrap();
    let rules = host_rules(&id, &PortSpec::default(), &[Dir::In, Dir::Out], &exempt).unwrap();
    let contain = job::payload(&[JobItem::Contain(ContainOp::Contain {
        engagement: id.clone(),
        rules: rules.iter().map(HostRule::from).collect(),
        deadman_secs: 3600,
    })]);
    let outcome = |out: &str| contain::outcome(&parse(out, 1, &Limits::from_bounds(&Bounds::default())).unwrap(), 0);
    let customer = "cauterize-0badc0de-smb-in-tcp-v4-1 (customer)";
    let mut before = Vec::new();
    let (r, mut host) = crate::lab::powershell::tests::run_with(
        "2.0",
        |h| {
            h.firewall.add_rule(FirewallRule::new(customer, Direction::In, Verdict::Allow, Protocol::Tcp)).unwrap();
            before = h.firewall.rules().iter().map(|r| r.name.clone()).collect();
        },
        &contain,
    );
    let first = outcome(&r.out);
    assert!(first.done, "{first:?}\n{}\n{}", r.out, r.err);
    assert_eq!(first.rules.len(), 8);
    assert!(first.rules.iter().all(|c| c.state == "added"), "{first:?}");
    assert_eq!(first.rules_in_place, 8);
    assert!(first.problems.is_empty(), "{first:?}");
    assert!(first.deadman_in_place && first.deadline.ends_with('Z'), "{first:?}");
    let fw = &host.firewall;
    let smb = |from: &str| fw.decide_explained(Direction::In, Protocol::Tcp, 445, from.parse().unwrap(), 50000).reason;
    assert_eq!(smb("10.0.0.9"), Reason::BlockRule("cauterize-0badc0de-smb-in-tcp-v4-1".into()));
    assert!(!matches!(smb("10.0.0.5"), Reason::BlockRule(_)), "the exempt peer is not blocked by a rule");
    assert!(!matches!(fw.decide_explained(Direction::In, Protocol::Tcp, 5985, "10.0.0.9".parse().unwrap(), 50000).reason, Reason::BlockRule(_)));
    let task = host.tasks.get(&id.dead_man_task()).expect("dead-man registered");
    assert!(task.principal.is_system());
    assert!(task.actions[0].path.ends_with("powershell.exe") && task.actions[0].arguments.contains("-EncodedCommand"));

    let again = crate::lab::powershell::tests::run_on(&mut host, "2.0", &contain);
    let second = outcome(&again.out);
    assert!(second.done && second.changed() == 0, "{second:?}");
    assert_eq!(second.detail, "already contained: nothing changed");
    assert_eq!(second.deadline, first.deadline);

    let release = job::payload(&[JobItem::Contain(ContainOp::Release { engagement: id.clone() })]);
    let gone = crate::lab::powershell::tests::run_on(&mut host, "2.0", &release);
    let out = outcome(&gone.out);
    assert!(out.done, "{out:?}\n{}", gone.err);
    assert_eq!(out.rules.len(), 8);
    let names: Vec<String> = host.firewall.rules().iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, before, "Windows' default rules and the customer's stay, nothing else");
    assert!(names.iter().any(|n| n == customer));
    assert!(host.tasks.get(&id.dead_man_task()).is_none());
}
