//! Regressions of issue 7's PowerShell items, run through runtime.ps1 on
//! the engine: names with unpaired surrogates (item 4), values larger
//! than collection shows (item 6), and task folders and tasks that cannot
//! be read (item 14).

use super::jobs::{outcomes, run_items};
use crate::lab::contract_host as fixture;
use crate::lab::powershell::tests::run_on;
use crate::lab::spec::LabSettings;
use crate::lab::world::files::{Content, hex};
use crate::lab::world::registry::RegData;
use crate::lab::world::tasks::{ExecAction, Principal, Task, Trigger};
use crate::lab::world::{HostState, utf16};
use crate::runtime::assemble;
use crate::runtime::host_text::{self, HostName};
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::{Bounds, Op, Query};
use crate::runtime::snapshot::{AutorunLocation, Snapshot};

const VERSIONS: [&str; 2] = ["2.0", "5.1.19041.1"];

fn collect(h: &mut HostState, version: &str, bounds: Bounds) -> Snapshot {
    assemble::snapshot(&run_items(h, version, &[JobItem::Query(Query::Collect { bounds })]), 0)
}

fn done() -> (String, String) {
    ("done".to_string(), String::new())
}

/// Item 4: a Run value and the file it starts, both named with an
/// unpaired surrogate (U+D800), beside a decoy value named with U+FFFD
/// (what UTF-8 would have turned the surrogate into). Collection carries
/// the names exactly (UTF-16 units), and the deletes planned from them
/// remove the loader's value and file, never the decoy. With lossy names
/// the delete matched nothing and answered already_absent while the
/// loader stayed.
#[test]
fn names_with_unpaired_surrogates_are_collected_and_deleted_exactly() {
    let lone = utf16::lone_char(0xD800);
    let (name, decoy) = (format!("Cz{lone}Run"), "Cz\u{FFFD}Run".to_string());
    let file = format!(r"C:\ProgramData\Cz{lone}\l{lone}.exe");
    for version in VERSIONS {
        let now = LabSettings::default().start;
        let mut h = fixture::host();
        h.files.create_dir_all(&format!(r"C:\ProgramData\Cz{lone}"), now).expect("dir");
        h.files.plant_file(&file, Content::text("loader"), None, now).expect("file");
        h.registry.put(&format!(r"HKLM\{}", fixture::RUN), &name, RegData::sz(format!("\"{file}\""))).expect("value");
        h.registry.put(&format!(r"HKLM\{}", fixture::RUN), &decoy, RegData::sz("decoy.exe")).expect("decoy");
        let s = collect(&mut h, version, Bounds::default());
        let want = utf16::units(&name);
        let found = s
            .autoruns
            .iter()
            .find(|a| matches!(&a.location, AutorunLocation::RegistryValue { hive, value, .. } if hive == "HKLM" && host_text::units(value) == want))
            .unwrap_or_else(|| panic!("{version}: the value is not collected exactly: {:#?}", s.autoruns));
        let command = host_text::units(&found.command);
        assert_eq!(command, utf16::units(&format!("\"{file}\"")), "{version}: the command keeps the surrogate");
        let ops = [
            Op::DeleteRegistryValue {
                hive: "HKLM".into(),
                key: fixture::RUN.into(),
                value: HostName::from_units(&want),
                expected_type: found.value_type.clone(),
                expected_data_sha256: found.data_sha256.clone(),
                data: Default::default(),
                data_cut: false,
            },
            Op::DeleteFile {
                path: HostName::from_units(&utf16::units(&file)),
                expected_sha256: hex(&Content::text("loader").sha256()),
                queue_if_locked: false,
                lateral_service: Default::default(),
            },
        ];
        let items: Vec<JobItem> = ops.into_iter().map(JobItem::Op).collect();
        let r = run_on(&mut h, version, &job::payload(&items));
        assert_eq!(outcomes(&r.out), [done(), done()], "{version}: {}{}", r.out, r.err);
        let run = format!(r"HKLM\{}", fixture::RUN);
        assert!(h.registry.get_value(&run, &name).is_err(), "{version}: the loader's value is gone");
        assert!(h.registry.get_value(&run, &decoy).is_ok(), "{version}: the decoy stays");
        assert!(!h.files.exists(&file), "{version}: the loader's file is gone");
    }
}

/// Item 6: a binary value past the binary bound (10,000 bytes, 4,096
/// shown) and a string past the field bound are shown cut and marked so,
/// with the SHA-256 of their whole data; the deletes planned from those
/// records remove them. Comparing the data itself, as the runtime did,
/// reported drift forever.
#[test]
fn values_larger_than_collection_shows_are_deleted() {
    let big: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let long = "x".repeat(5_000);
    for version in VERSIONS {
        let mut h = fixture::host();
        let alice = h.profile_by_name("alice").map(|p| p.sid.clone()).expect("alice");
        let residue = r"Software\Microsoft\Czbigcfg";
        h.registry.put(&format!(r"HKU\{alice}\{residue}"), "blob", RegData::Binary(big.clone())).expect("blob");
        h.registry.put(&format!(r"HKLM\{}", fixture::RUN), "CzLong", RegData::sz(long.clone())).expect("long");
        let bounds = Bounds { max_field_bytes: 1_000, ..Bounds::default() };
        let s = collect(&mut h, version, bounds.clone());
        let blob = s.registry.iter().find(|v| v.hive == alice && v.key == residue && v.value == "blob").expect("the binary value");
        assert!(blob.data_cut, "{version}");
        assert!(blob.data.len() <= 1_000 && big.starts_with(&hex_bytes(&blob.data[..blob.data.len() / 2 * 2])), "{version}");
        assert_eq!(blob.data_sha256, crate::runtime::ops::reg_data_sha256("REG_BINARY", &[], 0, &big), "{version}");
        let lng = s
            .autoruns
            .iter()
            .find(|a| matches!(&a.location, AutorunLocation::RegistryValue { value, .. } if value == "CzLong"))
            .expect("the long value");
        assert!(lng.data_cut && lng.command.len() <= 1_000, "{version}");
        assert_eq!(lng.data_sha256, crate::runtime::ops::reg_string_sha256("REG_SZ", &long), "{version}");
        assert!(s.truncated.iter().any(|t| t.what.contains("Czbigcfg")), "{version}: the cut is reported: {:?}", s.truncated);
        let ops = [
            Op::DeleteRegistryValue {
                hive: alice.as_str().into(),
                key: residue.into(),
                value: "blob".into(),
                expected_type: blob.value_type.clone(),
                expected_data_sha256: blob.data_sha256.clone(),
                data: blob.data.as_str().into(),
                data_cut: true,
            },
            Op::DeleteRegistryValue {
                hive: "HKLM".into(),
                key: fixture::RUN.into(),
                value: "CzLong".into(),
                expected_type: lng.value_type.clone(),
                expected_data_sha256: lng.data_sha256.clone(),
                data: lng.command.as_str().into(),
                data_cut: true,
            },
        ];
        let items: Vec<JobItem> = ops.into_iter().map(JobItem::Op).collect();
        let r = run_on(&mut h, version, &job::payload(&items));
        assert_eq!(outcomes(&r.out), [done(), done()], "{version}: {}{}", r.out, r.err);
        assert!(h.registry.get_value(&format!(r"HKU\{alice}\{residue}"), "blob").is_err(), "{version}");
        assert!(h.registry.get_value(&format!(r"HKLM\{}", fixture::RUN), "CzLong").is_err(), "{version}");
    }
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len() / 2).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

/// Item 14: a task 120 folders deep (past PowerShell 2.0's call depth of
/// 100, which a recursive walk hits) is collected; a task whose stored
/// image was tampered with (reading its definition throws, as Windows
/// does) is reported by path with the error, and the tasks after it, in
/// its folder and others, are still collected.
#[test]
fn deep_task_folders_and_unreadable_tasks_do_not_stop_task_collection() {
    let deep: String = (0..120).map(|i| format!(r"\F{i}")).collect();
    for version in VERSIONS {
        let mut h = fixture::host();
        let task = |folder: &str, name: &str| {
            Task::new(folder, name, Principal::system())
                .with_action(ExecAction::new(r"C:\ProgramData\CzTest\task.exe", "/deep"))
                .with_trigger(Trigger::Boot { repetition: None })
        };
        h.tasks.register(task(&deep, "Bottom"), true).expect("deep task");
        let mut bad = task(r"\CzBad", "ATampered");
        bad.tampered = true;
        h.tasks.register(bad, true).expect("tampered task");
        h.tasks.register(task(r"\CzBad", "BAfter"), true).expect("task after");
        h.tasks.register(task(r"\CzZ", "Later"), true).expect("later folder");
        let s = collect(&mut h, version, Bounds::default());
        let paths: Vec<&str> = s.tasks.iter().map(|t| t.path.as_str()).collect();
        for want in [format!(r"{deep}\Bottom"), r"\CzBad\BAfter".to_string(), r"\CzZ\Later".to_string()] {
            assert!(paths.contains(&want.as_str()), "{version}: {want} missing: {paths:?} {:?}", s.truncated);
        }
        assert!(!paths.contains(&r"\CzBad\ATampered"), "{version}");
        let report = s.truncated.iter().find(|t| t.what.contains(r"\CzBad\ATampered")).unwrap_or_else(|| panic!("{version}: {:?}", s.truncated));
        assert!(report.what.contains("0x80041321") && report.limit == "error", "{version}: {report:?}");
    }
}
