//! Collection that issue 11's detection needs, through runtime.ps1 on the
//! engine: a file's original name from its version information, the text
//! values directly under a user's `Software\<key>`, the registry values
//! pass two reads by name (a value an autostart reads, the whole tree of a
//! key the plan deletes whole), and the plan's whole-key delete carried
//! out on what was read.

use std::sync::Arc;

use super::jobs::run_items;
use crate::detect::ArtifactRef;
use crate::lab::contract_host as fixture;
use crate::lab::spec::LabSettings;
use crate::lab::world::HostState;
use crate::lab::world::registry::RegData;
use crate::lab::world::files::{Attrs, Content, Entry, EntryKind, FileData, Times, VersionInfo};
use crate::plan::Step;
use crate::plan::derive::{Derived, artifact_op};
use crate::runtime::assemble;
use crate::runtime::job::JobItem;
use crate::runtime::ops::{Bounds, Op, OpOutcome, Query, RegistryRead};
use crate::runtime::registry_targets;
use crate::runtime::snapshot::{RegistryValue, Snapshot};

const VERSIONS: [&str; 3] = ["2.0", "5.1.19041.1", "7.4.1"];

/// A renamed copy of rundll32 keeps the original name its version
/// resource gives (RUNDLL32.EXE) on every PowerShell; a file without a
/// version resource, and one whose resource has no such string, give
/// none (the text file is still hashed: asked for by name); a missing
/// file gives none and the collection goes on.
#[test]
fn original_names_come_from_the_version_resource() {
    let mut h = fixture::host();
    let now = LabSettings::default().start;
    let copy = r"C:\Users\Public\Libraries\wincfg.exe";
    let own = r"C:\Windows\System32\rundll32.exe";
    let text = r"C:\ProgramData\CzTest\notes.txt";
    let bare = r"C:\ProgramData\CzTest\bare.exe";
    let entry = h.files.get(own).expect("Windows' rundll32").clone();
    h.files.plant(copy, entry, now).expect("copy");
    h.files.plant_file(text, Content::text("notes"), None, now).expect("text");
    let resource = VersionInfo { company_name: "Nobody".into(), ..VersionInfo::default() };
    let bare_entry = Entry {
        times: Times::all(now),
        attrs: Attrs::default(),
        kind: EntryKind::File(FileData { content: Content::text("MZ"), signer: None, version: Some(Arc::new(resource)) }),
    };
    h.files.plant(bare, bare_entry, now).expect("bare");
    for version in VERSIONS {
        let item = JobItem::Query(Query::FileFacts {
            paths: vec![copy.into(), own.into(), text.into(), bare.into(), r"C:\nope.exe".into()],
            list_dirs: vec![],
            bounds: Bounds::default(),
        });
        let frames = run_items(&mut h, version, &[item]);
        let files = assemble::files(&frames, 0);
        let name = |p: &str| files.iter().find(|f| f.path == p).unwrap_or_else(|| panic!("{version}: no {p}: {files:#?}")).original_name.clone();
        assert_eq!(name(copy), "RUNDLL32.EXE", "{version}");
        assert_eq!(name(own), "RUNDLL32.EXE", "{version}");
        assert_eq!(name(text), "", "{version}");
        // A data file asked for by name (a command names it) is hashed
        // whatever its extension.
        let notes = files.iter().find(|f| f.path == text).expect("notes");
        assert_eq!(notes.sha256, crate::lab::world::files::hex(&Content::text("notes").sha256()), "{version}");
        assert_eq!(name(bare), "", "{version}");
        assert!(!files.iter().find(|f| f.path == r"C:\nope.exe").unwrap().exists, "{version}");
        assert!(frames.truncations(0).is_empty(), "{version}: {:?}", frames.truncations(0));
    }
}

/// Long base64 (1200 characters) kept under the offline user's
/// `Software\Qxvbnt`.
fn stage() -> String {
    "QUJD".repeat(300)
}

/// Script text under the logged-on user's `Software\Wow6432Node\Kzq`.
fn script() -> String {
    format!("$x = [Convert]::FromBase64String('{}'); iex ([Text.Encoding]::ASCII.GetString($x))", "QQ==".repeat(60))
}

/// The contract host, plus: stored stages under both users' Software,
/// a short product setting, a Run value of alice's that runs one of
/// them, and a Qakbot-shaped configuration key of alice's whose tree
/// holds more than the first pass reads (a text value, a subkey, and
/// binary data over the first pass's 4096-byte bound).
fn host_with_registry_stages() -> (HostState, fixture::Planted) {
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabSettings::default().start);
    let petr = h.registry.user_hive_mut(&p.petr_sid).expect("petr's hive");
    let k = petr.root.create(r"Software\Qxvbnt");
    k.set("rfklgq", RegData::sz(stage()));
    k.set("lang", RegData::sz("en-US"));
    petr.root.create(r"Software\Microsoft\Notepad").set("long", RegData::sz("x".repeat(400)));
    let alice = h.registry.user_hive_mut(&p.alice_sid).expect("alice's hive");
    alice.root.create(r"Software\Wow6432Node\Kzq").set("w", RegData::sz(script()));
    alice.root.create(r"Software\Vendor").set("Path", RegData::sz(r"C:\Program Files\Vendor\app.exe"));
    alice.root.create(fixture::RUN).set(
        "Updater",
        RegData::sz(r"powershell.exe -w hidden -c iex ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String((gp 'HKCU:\Software\Qzfh').blob)))"),
    );
    alice.root.create(r"Software\Qzfh").set("blob", RegData::sz("QUJD".repeat(8)));
    let conf = alice.root.create(r"Software\Microsoft\Vmxqlw");
    conf.set("a1b2c3d4", RegData::Binary((0..5000u32).map(|i| i as u8).collect()));
    conf.set("0f0e0d0c", RegData::Binary(vec![1, 2, 3]));
    conf.set("note", RegData::sz("kept by the tree read"));
    conf.create("sub").set("n", RegData::Dword(7));
    (h, p)
}

fn find<'a>(regs: &'a [RegistryValue], hive: &str, key: &str, value: &str) -> Option<&'a RegistryValue> {
    regs.iter().find(|r| r.hive == hive && r.key.eq_ignore_ascii_case(key) && r.value == value)
}

fn collect(h: &mut HostState, version: &str) -> Snapshot {
    let frames = run_items(h, version, &[JobItem::Query(Query::Collect { bounds: Bounds::default() })]);
    assemble::snapshot(&frames, 0)
}

/// Pass one reports the long text values directly under each user's
/// `Software\<key>` (the offline user's hive mounted), never a short
/// setting, never a key under `Software\Microsoft` (read elsewhere), and
/// the payload's data whole.
#[test]
fn pass_one_reports_long_text_under_a_users_software_keys() {
    for version in VERSIONS {
        let (mut h, p) = host_with_registry_stages();
        let s = collect(&mut h, version);
        let v = find(&s.registry, &p.petr_sid, r"Software\Qxvbnt", "rfklgq").unwrap_or_else(|| panic!("{version}: {:#?}", s.registry));
        assert_eq!((v.value_type.as_str(), v.data.as_str(), v.data_cut), ("REG_SZ", stage().as_str(), false), "{version}");
        assert_eq!(v.data_sha256, crate::runtime::ops::reg_string_sha256("REG_SZ", &stage()), "{version}");
        let w = find(&s.registry, &p.alice_sid, r"Software\Wow6432Node\Kzq", "w").unwrap_or_else(|| panic!("{version}: no Kzq"));
        assert_eq!(w.data, script(), "{version}");
        assert!(find(&s.registry, &p.petr_sid, r"Software\Qxvbnt", "lang").is_none(), "{version}: a short setting");
        assert!(find(&s.registry, &p.alice_sid, r"Software\Vendor", "Path").is_none(), "{version}: a short setting");
        assert!(find(&s.registry, &p.petr_sid, r"Software\Microsoft\Notepad", "long").is_none(), "{version}: Software\\Microsoft is not swept for text");
        assert!(!h.registry.is_loaded(&p.petr_sid), "{version}: the offline hive is unloaded again");
    }
}

/// The runtime's floor for text values is the shortest text detection
/// judges as a stored script.
#[test]
fn the_runtimes_text_floor_is_detections() {
    let line = format!("$script:czPayloadMinChars = {}", crate::detect::registry_payload::MIN_SCRIPT);
    assert!(crate::runtime::job::RUNTIME.contains(&line), "runtime.ps1 must say: {line}");
}

/// Pass two, as `client::collect` asks for it: the value alice's Run value
/// reads, and every value of the configuration key the plan deletes whole
/// (its subkey and its binary data whole included). The plan's
/// compare-and-delete of that key, made from the merged snapshot, is
/// carried out; made from the first pass alone it would have drifted
/// (the first pass sees only the binary values directly under it).
#[test]
fn pass_two_reads_what_autostarts_read_and_whole_keys_and_the_delete_matches() {
    for version in VERSIONS {
        let (mut h, p) = host_with_registry_stages();
        let mut s = collect(&mut h, version);
        let reads = registry_targets::reads(&s);
        let conf = r"Software\Microsoft\Vmxqlw";
        let want = |hive: &str, key: &str, value: &str, tree: bool| RegistryRead { hive: hive.into(), key: key.into(), value: value.into(), tree };
        assert!(reads.contains(&want(&p.alice_sid, r"Software\Qzfh", "blob", false)), "{version}: {reads:?}");
        assert!(reads.contains(&want(&p.alice_sid, conf, "", true)), "{version}: {reads:?}");
        let first_pass_op = artifact_op(&s, &ArtifactRef::RegistryKey { hive: p.alice_sid.clone(), key: conf.into() });
        let mut asked = reads.clone();
        asked.push(want("HKLM", r"SOFTWARE\CzNope", "v", false));
        asked.push(want(&p.petr_sid, r"Software\Qxvbnt", "(default)", false));
        let frames = run_items(&mut h, version, &[JobItem::Query(Query::RegistryValues { reads: asked, bounds: Bounds::default() })]);
        let read = assemble::registry(&frames, 0);
        assert!(frames.truncations(0).is_empty(), "{version}: {:?}", frames.truncations(0));
        let blob = find(&read, &p.alice_sid, r"Software\Qzfh", "blob").unwrap_or_else(|| panic!("{version}: {read:#?}"));
        assert_eq!(blob.data, "QUJD".repeat(8), "{version}");
        let big = find(&read, &p.alice_sid, conf, "a1b2c3d4").expect("the big binary value");
        let hex: String = (0..5000u32).map(|i| format!("{:02x}", i as u8)).collect();
        assert!(big.data == hex && !big.data_cut, "{version}: binary data whole ({} chars)", big.data.len());
        assert_eq!(find(&read, &p.alice_sid, conf, "note").map(|v| v.data.as_str()), Some("kept by the tree read"), "{version}");
        assert_eq!(find(&read, &p.alice_sid, &format!(r"{conf}\sub"), "n").map(|v| (v.value_type.as_str(), v.data.as_str())), Some(("REG_DWORD", "7")), "{version}");
        assert_eq!(read.len(), 5, "{version}: blob and the key's four values, nothing for what is absent: {read:#?}");
        registry_targets::merge(&mut s.registry, read);
        let n = s.registry.iter().filter(|r| r.hive == p.alice_sid && r.key.eq_ignore_ascii_case(conf) && r.value == "a1b2c3d4").count();
        assert_eq!(n, 1, "{version}: the value read again replaces the first pass's");
        let op = match artifact_op(&s, &ArtifactRef::RegistryKey { hive: p.alice_sid.clone(), key: conf.into() }) {
            Derived::Step(Step::Purge(op @ Op::DeleteRegistryKey { .. })) => op,
            other => panic!("{version}: {other:?}"),
        };
        let Derived::Step(Step::Purge(stale)) = first_pass_op else { panic!("{version}: the first pass saw binary values") };
        let frames = run_items(&mut h, version, &[JobItem::Op(stale), JobItem::Op(op)]);
        assert!(matches!(assemble::outcome(&frames, 0), Some(OpOutcome::Drift { .. })), "{version}: {:?}", assemble::outcome(&frames, 0));
        assert_eq!(assemble::outcome(&frames, 1), Some(OpOutcome::Done), "{version}");
        let hive = h.registry.user_hive_mut(&p.alice_sid).expect("hive");
        assert!(hive.root.descend(conf).is_none(), "{version}: the key is gone");
    }
}
