//! cauterize's host-side runtime (`runtime.ps1`) carrying out purge
//! operations on the engine against a lab host: the real script text, the
//! job from the Rust encoder, the outcome read by the Rust parser, and the
//! host's state checked afterwards.

use crate::lab::powershell::tests::run_on;
use crate::lab::contract_host as fixture;
use crate::lab::world::{HostState, RegData};
use crate::runtime::assemble::outcome;
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::{Op, OpOutcome, TreeValue, reg_data_sha256, reg_string_sha256, registry_tree_digest};
use crate::runtime::results::{Limits, parse};

/// Run `ops` through runtime.ps1 on `h` (Windows PowerShell 5.1, or
/// `version`), returning each op's outcome.
fn run_ops_on(h: &mut HostState, version: &str, ops: &[Op]) -> Vec<OpOutcome> {
    let items: Vec<JobItem> = ops.iter().cloned().map(JobItem::Op).collect();
    let r = run_on(h, version, &job::payload(&items));
    assert!(r.err.is_empty(), "stderr: {}\nstdout: {}", r.err, r.out);
    let frames = parse(&r.out, items.len(), &Limits::default()).unwrap_or_else(|e| panic!("{e}: {}", r.out));
    (0..items.len()).map(|i| outcome(&frames, i).unwrap_or_else(|| panic!("no outcome for item {i}: {}", r.out))).collect()
}

fn run_ops(h: &mut HostState, ops: &[Op]) -> Vec<OpOutcome> {
    run_ops_on(h, "5.1.19041.1", ops)
}

/// A Qakbot-like configuration key: two binary values of random names, a
/// subkey with a string and the default value.
const QAK_KEY: &str = r"Software\Microsoft\Qzvxbnmk";

fn plant_qak(h: &mut HostState, hive_path: &str) -> Vec<TreeValue> {
    let key = format!(r"{hive_path}\{QAK_KEY}");
    let _ = h.registry.put(&key, "1a2b3c4d", RegData::Binary(vec![0xde, 0xad, 0xbe, 0xef]));
    let _ = h.registry.put(&key, "9f8e7d6c", RegData::Dword(7));
    let _ = h.registry.put(&format!(r"{key}\Cfg"), "", RegData::sz("c2 list"));
    vec![
        TreeValue { subkey: "".into(), name: "1a2b3c4d".into(), value_type: "REG_BINARY".into(), data_sha256: reg_data_sha256("REG_BINARY", &[], 0, &[0xde, 0xad, 0xbe, 0xef]) },
        TreeValue { subkey: "".into(), name: "9f8e7d6c".into(), value_type: "REG_DWORD".into(), data_sha256: reg_data_sha256("REG_DWORD", &[], 7, &[]) },
        TreeValue { subkey: "Cfg".into(), name: "".into(), value_type: "REG_SZ".into(), data_sha256: reg_string_sha256("REG_SZ", "c2 list") },
    ]
}

fn key_op(hive: &str, key: &str, values: &[TreeValue]) -> Op {
    Op::DeleteRegistryKey {
        hive: hive.into(),
        key: key.into(),
        expected_values: values.iter().map(TreeValue::label).collect(),
        expected_digest: registry_tree_digest(values),
    }
}

fn sid(h: &HostState, name: &str) -> String {
    h.profile_by_name(name).map(|p| p.sid.clone()).expect("profile")
}

/// Issue 11: runtime.ps1 deletes a whole loader key (its subkey too) when
/// its tree still has the digest the plan carries, in a logged-on user's
/// hive, in an offline user's NTUSER.DAT (mounted and unmounted again) and
/// under HKLM; a second run finds it already absent.
#[test]
fn delete_registry_key_deletes_the_tree_it_was_planned_from() {
    let mut h = fixture::host();
    let (alice, petr) = (sid(&h, "alice"), sid(&h, "Пётр"));
    assert!(h.registry.is_loaded(&alice) && !h.registry.is_loaded(&petr));
    let a = plant_qak(&mut h, &format!(r"HKU\{alice}"));
    let m = plant_qak(&mut h, "HKLM");
    // Пётр is not logged on: his hive is a file until the op mounts it.
    let user = h.registry.user_hive_mut(&petr).expect("hive");
    let k = user.root.create(QAK_KEY);
    k.set("1a2b3c4d", RegData::Binary(vec![0xde, 0xad, 0xbe, 0xef]));
    k.set("9f8e7d6c", RegData::Dword(7));
    k.create("Cfg").set("", RegData::sz("c2 list"));
    let ops = [key_op(&alice, QAK_KEY, &a), key_op(&petr, QAK_KEY, &a), key_op("HKLM", QAK_KEY, &m)];
    assert_eq!(run_ops(&mut h, &ops), [OpOutcome::Done, OpOutcome::Done, OpOutcome::Done]);
    assert!(!h.registry.key_exists(&format!(r"HKU\{alice}\{QAK_KEY}")));
    assert!(!h.registry.key_exists(&format!(r"HKLM\{QAK_KEY}")));
    assert!(h.registry.user_hive(&petr).expect("hive").root.descend(QAK_KEY).is_none());
    assert!(!h.registry.is_loaded(&petr), "the offline hive is unloaded again");
    // Its parent and siblings stay.
    assert!(h.registry.key_exists(&format!(r"HKU\{alice}\Software\Microsoft")));
    assert!(h.registry.key_exists(r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run"));
    assert_eq!(run_ops(&mut h, &ops), [OpOutcome::AlreadyAbsent, OpOutcome::AlreadyAbsent, OpOutcome::AlreadyAbsent]);
}

/// A key that holds anything the plan did not see (a new value, a new
/// subkey, changed data) is drift, with what is new; nothing is deleted.
#[test]
fn delete_registry_key_is_drift_when_the_tree_changed() {
    let mut h = fixture::host();
    let alice = sid(&h, "alice");
    let base = format!(r"HKU\{alice}\{QAK_KEY}");
    let planned = plant_qak(&mut h, &format!(r"HKU\{alice}"));
    let op = key_op(&alice, QAK_KEY, &planned);
    for (what, change, says) in [
        ("new value", (base.clone(), "payload", RegData::sz("x")), "not in the plan: payload"),
        ("new subkey value", (format!(r"{base}\Cfg\Deep"), "n", RegData::Dword(1)), r"not in the plan: Cfg\Deep\n"),
        ("changed data", (base.clone(), "9f8e7d6c", RegData::Dword(8)), "the same values, other data"),
    ] {
        let mut h2 = h.clone();
        let _ = h2.registry.put(&change.0, change.1, change.2);
        let got = run_ops(&mut h2, std::slice::from_ref(&op));
        let [OpOutcome::Drift { observed }] = got.as_slice() else { panic!("{what}: {got:?}") };
        assert!(observed.contains(says), "{what}: {observed}");
        assert!(h2.registry.key_exists(&base), "{what}: deleted anyway");
        assert_eq!(h2.registry.get_value(&format!(r"{base}\Cfg"), "").ok(), Some(&RegData::sz("c2 list")), "{what}");
    }
    // A value gone is drift too, and named.
    let mut h3 = h.clone();
    let _ = h3.registry.delete_value(&base, "1a2b3c4d");
    let got = run_ops(&mut h3, std::slice::from_ref(&op));
    assert!(matches!(got.as_slice(), [OpOutcome::Drift { observed }] if observed.contains("gone: 1a2b3c4d")), "{got:?}");
    // The unchanged key goes, on PowerShell 2.0 as well.
    assert_eq!(run_ops_on(&mut h, "2.0", &[op]), [OpOutcome::Done]);
    assert!(!h.registry.key_exists(&base));
}

/// The host's own guard: hive roots, keys right under them, HKLM\SYSTEM
/// and the keys Windows is built on are never deleted whole, even when the
/// op's digest matches what they hold.
#[test]
fn delete_registry_key_refuses_roots_and_well_known_keys() {
    let mut h = fixture::host();
    let alice = sid(&h, "alice");
    for (hive, key, says) in [
        ("HKLM", "SOFTWARE", "right under the hive root"),
        (alice.as_str(), "Software", "right under the hive root"),
        ("HKLM", r"SYSTEM\CurrentControlSet\Services\CzTestSvc", r"under HKLM\SYSTEM"),
        ("HKLM", r"Software\Microsoft\Windows\CurrentVersion\Run", "never deleted whole"),
        (alice.as_str(), r"software\classes", "never deleted whole"),
        ("HKLM", r"Software\Microsoft\\Qzvx", "empty part"),
        ("HKLM", r"Software\Microsoft\Qzvx\", "empty part"),
    ] {
        let full = if hive == "HKLM" { format!(r"HKLM\{key}") } else { format!(r"HKU\{hive}\{key}") };
        let full = full.trim_end_matches('\\').replace(r"\\", r"\");
        let existed = h.registry.key_exists(&full);
        let got = run_ops(&mut h, &[key_op(hive, key, &[])]);
        assert!(matches!(got.as_slice(), [OpOutcome::Failed { reason }] if reason.contains(says)), "{key}: {got:?}");
        assert_eq!(h.registry.key_exists(&full), existed, "{key}");
    }
}

const LOADER_DIR: &str = r"C:\Users\alice\AppData\Local\Qzvxbnmk";

/// `h` with `LOADER_DIR` holding `files` (name, text); their held form for
/// the op (name, SHA-256 of what was planted).
fn loader_dir(h: &mut HostState, files: &[(&str, &str)]) -> Vec<crate::runtime::ops::HeldFile> {
    use crate::lab::world::files::{Content, hex};
    let now = crate::lab::spec::LabSettings::default().start;
    h.files.create_dir_all(LOADER_DIR, now).expect("folder");
    files
        .iter()
        .map(|(name, text)| {
            let content = Content::text(text);
            let sha = hex(&content.sha256());
            h.files.plant_file(&format!(r"{LOADER_DIR}\{name}"), content, None, now).expect("file");
            crate::runtime::ops::HeldFile { name: name.to_string(), sha256: sha }
        })
        .collect()
}

fn remove(path: &str, may_hold: Vec<crate::runtime::ops::HeldFile>) -> Op {
    Op::RemoveFolder { path: path.into(), may_hold, after_reboot: false }
}

/// Issue 12 item 5: runtime.ps1 removes a loader's folder that is empty,
/// or that holds only the files the plan deletes (checked by name and
/// SHA-256, deleted first); a second run finds it already absent; on
/// PowerShell 2.0 and 7 as on 5.1.
#[test]
fn remove_folder_removes_an_emptied_folder_and_what_the_plan_deletes() {
    for version in ["2.0", "5.1.19041.1", "7.4.1"] {
        let mut h = fixture::host();
        let held = loader_dir(&mut h, &[("qzvxbnmk.dll", "payload"), ("Cfg.DAT", "config")]);
        let op = remove(LOADER_DIR, held);
        assert_eq!(run_ops_on(&mut h, version, std::slice::from_ref(&op)), [OpOutcome::Done], "{version}");
        assert!(!h.files.exists(LOADER_DIR) && !h.files.exists(&format!(r"{LOADER_DIR}\qzvxbnmk.dll")), "{version}");
        assert!(h.files.is_dir(r"C:\Users\alice\AppData\Local"), "{version}: the parent stays");
        assert_eq!(run_ops_on(&mut h, version, &[op]), [OpOutcome::AlreadyAbsent], "{version}");
    }
    // An empty folder (Qakbot's, while it runs).
    let mut h = fixture::host();
    loader_dir(&mut h, &[]);
    assert_eq!(run_ops(&mut h, &[remove(LOADER_DIR, vec![])]), [OpOutcome::Done]);
    assert!(!h.files.exists(LOADER_DIR));
}

/// A folder that holds anything the plan does not delete - another file, a
/// planned name with other content, a subfolder - is drift naming it, and
/// nothing in it is deleted, not even the planned file.
#[test]
fn remove_folder_is_drift_when_the_folder_holds_anything_else() {
    let now = crate::lab::spec::LabSettings::default().start;
    let cases: [(&str, &dyn Fn(&mut HostState), &str); 3] = [
        ("another file", &|h| {
            let _ = h.files.plant_file(&format!(r"{LOADER_DIR}\report.docx"), crate::lab::world::files::Content::text("mine"), None, now);
        }, "report.docx"),
        ("other content", &|h| {
            let _ = h.delete_file(&format!(r"{LOADER_DIR}\qzvxbnmk.dll"), now);
            let _ = h.files.plant_file(&format!(r"{LOADER_DIR}\qzvxbnmk.dll"), crate::lab::world::files::Content::text("new payload"), None, now);
        }, "qzvxbnmk.dll (sha256 "),
        ("a subfolder", &|h| {
            let _ = h.files.create_dir_all(&format!(r"{LOADER_DIR}\Sub"), now);
        }, "Sub (a folder)"),
    ];
    for (what, change, says) in cases {
        let mut h = fixture::host();
        let held = loader_dir(&mut h, &[("qzvxbnmk.dll", "payload")]);
        change(&mut h);
        let got = run_ops(&mut h, &[remove(LOADER_DIR, held)]);
        let [OpOutcome::Drift { observed }] = got.as_slice() else { panic!("{what}: {got:?}") };
        assert!(observed.contains(says) && observed.contains("it stays"), "{what}: {observed}");
        assert!(h.files.is_file(&format!(r"{LOADER_DIR}\qzvxbnmk.dll")), "{what}: the planned file was deleted anyway");
    }
    // A file where the folder was.
    let mut h = fixture::host();
    let _ = h.files.plant_file(LOADER_DIR, crate::lab::world::files::Content::text("x"), None, now);
    let got = run_ops(&mut h, &[remove(LOADER_DIR, vec![])]);
    assert!(matches!(got.as_slice(), [OpOutcome::Drift { observed }] if observed.contains("a file, not a folder")), "{got:?}");
    assert!(h.files.is_file(LOADER_DIR));
}

/// The host's own guard: a drive's root, the Windows and program folders,
/// a user's profile and a path not written where it points are never
/// removed, even empty.
#[test]
fn remove_folder_refuses_protected_folders() {
    let mut h = fixture::host();
    loader_dir(&mut h, &[]);
    for (path, says) in [
        (r"C:\", "root of a drive"),
        (r"C:\Windows", "never removed"),
        (r"C:\Program Files", "never removed"),
        (r"C:\ProgramData", "never removed"),
        (r"C:\Users\alice", "never removed"),
        (r"C:\Users\alice\AppData\Local\Qzvxbnmk\..\Qzvxbnmk", "resolves to"),
    ] {
        let got = run_ops(&mut h, &[remove(path, vec![])]);
        assert!(matches!(got.as_slice(), [OpOutcome::Failed { reason }] if reason.contains(says)), "{path}: {got:?}");
    }
    assert!(h.files.is_dir(LOADER_DIR) && h.files.is_dir(r"C:\Users\alice"));
}
