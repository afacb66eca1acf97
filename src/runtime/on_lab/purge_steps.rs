//! cauterize's host-side runtime (`runtime.ps1`) denying writes to a
//! shutdown-writer's folder, lifting that deny, and reverting Defender
//! exclusions, on the engine against a lab host: the real script text, the
//! job from the Rust encoder, the answer read by the Rust parser, and the
//! host's ACEs and registry checked afterwards.

use crate::lab::powershell::tests::run_on;
use crate::lab::contract_host as fixture;
use crate::lab::world::HostState;
use crate::lab::world::RegData;
use crate::lab::world::acl::{self, Ace, Token};
use crate::lab::world::files::Content;
use crate::runtime::job::{self, JobItem};
use crate::runtime::purge_steps::{DENY_SID, PurgeStepOp, StepOutcome, StepReport, outcome};
use crate::runtime::results::{Limits, parse};

const FOLDER: &str = r"C:\Users\alice\AppData\Roaming\Microsoft\Ejuio";
const PATHS: &str = r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths";
const FEATURES: &str = r"SOFTWARE\Microsoft\Windows Defender\Features";

fn run_steps_on(h: &mut HostState, version: &str, ops: &[PurgeStepOp]) -> Vec<StepReport> {
    let items: Vec<JobItem> = ops.iter().cloned().map(JobItem::PurgeStep).collect();
    let r = run_on(h, version, &job::payload(&items));
    assert!(r.err.is_empty(), "stderr: {}\nstdout: {}", r.err, r.out);
    let frames = parse(&r.out, items.len(), &Limits::default()).unwrap_or_else(|e| panic!("{e}: {}", r.out));
    ops.iter().enumerate().map(|(i, op)| outcome(&frames, i, op)).collect()
}

fn run_steps(h: &mut HostState, ops: &[PurgeStepOp]) -> Vec<StepReport> {
    run_steps_on(h, "5.1.19041.1", ops)
}

fn host_with_folder() -> HostState {
    let mut h = fixture::host();
    h.files.create_dir_all(FOLDER, h.boot_time).unwrap();
    h
}

fn alice(h: &HostState) -> String {
    h.profile_by_name("alice").map(|p| p.sid.clone()).expect("alice")
}

/// The deny is exactly one ACE of the rights asked (not GENERIC_WRITE, no
/// Synchronize), for Everyone, inherited; the user and SYSTEM can no
/// longer create the loader's file; a second run adds nothing; the lift
/// removes exactly it, on Windows PowerShell 2.0, 5.1 and PowerShell 7.
#[test]
fn deny_writes_places_one_exact_ace_that_stops_the_user_and_system_and_the_lift_removes_only_it() {
    for version in ["2.0", "5.1.19041.1", "7.4.1"] {
        let mut h = host_with_folder();
        // The customer's own deny on the folder (another SID) stays.
        let theirs = Ace { sid: "S-1-5-32-546".into(), deny: true, rights: 0x10000, inheritance: 0, propagation: 0 };
        h.files.set_acl(FOLDER, vec![theirs.clone()]).unwrap();
        let deny = PurgeStepOp::deny(FOLDER);
        let got = run_steps_on(&mut h, version, std::slice::from_ref(&deny));
        assert_eq!(got[0].outcome, StepOutcome::Done { detail: String::new() }, "{version}: {got:?}");
        assert_eq!(got[0].ace.as_ref().map(|a| a.state.as_str()), Some("added"), "{version}");
        let ours = Ace { sid: DENY_SID.into(), deny: true, rights: 0x116, inheritance: 3, propagation: 0 };
        // Canonical order: explicit denies first, ours after the deny
        // already there.
        assert_eq!(h.files.acl(FOLDER).unwrap(), [theirs.clone(), ours.clone()], "{version}");
        let dll = format!(r"{FOLDER}\ejuio.dll");
        for token in [Token::user(&alice(&h)), Token::system()] {
            assert!(h.write_file_as(&dll, Content::text("MZ"), h.boot_time, &token).is_err(), "{version}: {token:?} wrote");
        }
        // Again: the same ACE is found, nothing added.
        let again = run_steps_on(&mut h, version, std::slice::from_ref(&deny));
        assert!(matches!(&again[0].outcome, StepOutcome::Done { detail } if detail.contains("already denied")), "{version}: {again:?}");
        assert_eq!(again[0].ace.as_ref().map(|a| a.state.as_str()), Some("present"));
        assert_eq!(h.files.acl(FOLDER).unwrap().len(), 2, "{version}");
        // The lift: ours gone, theirs kept, writes allowed again.
        let lift = PurgeStepOp::lift(FOLDER);
        let got = run_steps_on(&mut h, version, std::slice::from_ref(&lift));
        assert_eq!(got[0].outcome, StepOutcome::Done { detail: String::new() }, "{version}: {got:?}");
        assert_eq!(h.files.acl(FOLDER).unwrap(), [theirs], "{version}");
        h.write_file_as(&dll, Content::text("MZ"), h.boot_time, &Token::user(&alice(&h))).unwrap();
        let again = run_steps_on(&mut h, version, &[lift]);
        assert!(matches!(again[0].outcome, StepOutcome::AlreadyAbsent { .. }), "{version}: {again:?}");
    }
}

/// A deny for the same SID with other rights (the customer's) is neither
/// taken for ours nor removed by the lift.
#[test]
fn a_deny_that_differs_in_rights_is_not_ours() {
    let mut h = host_with_folder();
    let similar = Ace { sid: DENY_SID.into(), deny: true, rights: 0x2, inheritance: 3, propagation: 0 };
    h.files.set_acl(FOLDER, vec![similar.clone()]).unwrap();
    let got = run_steps(&mut h, &[PurgeStepOp::lift(FOLDER)]);
    assert!(matches!(got[0].outcome, StepOutcome::AlreadyAbsent { .. }), "{got:?}");
    assert_eq!(h.files.acl(FOLDER).unwrap(), [similar]);
}

/// A folder gone is drift (no deny placed, and why it matters); a file in
/// its place is drift; a folder reached through a junction or a system
/// folder is refused; the lift of a folder gone has nothing to do.
#[test]
fn deny_writes_refuses_what_is_not_the_planned_folder() {
    let mut h = fixture::host();
    let got = run_steps(&mut h, &[PurgeStepOp::deny(FOLDER), PurgeStepOp::lift(FOLDER)]);
    assert!(matches!(&got[0].outcome, StepOutcome::Drift { observed } if observed.contains("no folder at") && observed.contains("create it again")), "{got:?}");
    assert!(matches!(got[1].outcome, StepOutcome::AlreadyAbsent { .. }), "{got:?}");
    h.write_file(FOLDER, Content::text("not a folder"), h.boot_time).unwrap();
    let got = run_steps(&mut h, &[PurgeStepOp::deny(FOLDER)]);
    assert!(matches!(&got[0].outcome, StepOutcome::Drift { observed } if observed.contains("a file, not a folder")), "{got:?}");
    let got = run_steps(&mut h, &[PurgeStepOp::deny(r"C:\Windows"), PurgeStepOp::deny("C:\\")]);
    for g in &got {
        assert!(matches!(&g.outcome, StepOutcome::Failed { reason } if reason.contains("never removed") || reason.contains("root of a drive")), "{got:?}");
    }
    assert!(h.files.acl(r"C:\Windows").unwrap().is_empty());
}

fn exclusion(value: &str) -> PurgeStepOp {
    PurgeStepOp::RevertDefenderExclusion { hive: "HKLM".into(), key: PATHS.into(), value: value.into() }
}

fn listed(h: &HostState, key: &str, value: &str) -> bool {
    h.registry.hklm().descend(key).and_then(|k| k.value(value)).is_some()
}

/// Windows 10: the exclusion goes through Remove-MpPreference (Defender's
/// key refuses the registry write) and is read back gone; another
/// exclusion stays; a second run finds it already absent.
#[test]
fn a_defender_exclusion_is_removed_through_remove_mppreference_and_read_back() {
    let mut h = fixture::host();
    let _ = h.registry.put(&format!(r"HKLM\{PATHS}"), FOLDER, RegData::Dword(0));
    let _ = h.registry.put(&format!(r"HKLM\{PATHS}"), r"C:\Vendor\Agent", RegData::Dword(0));
    let got = run_steps(&mut h, &[exclusion(FOLDER)]);
    assert_eq!(got[0].outcome, StepOutcome::Done { detail: String::new() }, "{got:?}");
    assert_eq!(got[0].removed_by, "Remove-MpPreference");
    assert!(!listed(&h, PATHS, FOLDER));
    assert!(listed(&h, PATHS, r"C:\Vendor\Agent"), "only the planned exclusion goes");
    let again = run_steps(&mut h, &[exclusion(FOLDER)]);
    assert!(matches!(again[0].outcome, StepOutcome::AlreadyAbsent { .. }), "{again:?}");
}

/// Windows 7 (PowerShell 2.0, no Defender module): the registry value is
/// deleted directly and read back gone.
#[test]
fn without_the_defender_module_the_registry_value_is_deleted() {
    let mut h = fixture::host();
    h.os.build = 7601;
    let _ = h.registry.put(&format!(r"HKLM\{PATHS}"), FOLDER, RegData::Dword(0));
    let got = run_steps_on(&mut h, "2.0", &[exclusion(FOLDER)]);
    assert_eq!(got[0].outcome, StepOutcome::Done { detail: String::new() }, "{got:?}");
    assert_eq!(got[0].removed_by, "the registry");
    assert!(!listed(&h, PATHS, FOLDER));
}

/// Tamper Protection guarding exclusions: Remove-MpPreference changes
/// nothing and the key refuses the write; the read-back says so and the
/// step needs a person, never done.
#[test]
fn a_tamper_protected_exclusion_needs_a_person() {
    let mut h = fixture::host();
    let _ = h.registry.put(&format!(r"HKLM\{PATHS}"), FOLDER, RegData::Dword(0));
    let _ = h.registry.put(&format!(r"HKLM\{FEATURES}"), "TamperProtection", RegData::Dword(5));
    let _ = h.registry.put(&format!(r"HKLM\{FEATURES}"), "TPExclusions", RegData::Dword(1));
    let got = run_steps(&mut h, &[exclusion(FOLDER)]);
    let StepOutcome::NeedsPerson { reason } = &got[0].outcome else { panic!("{got:?}") };
    assert!(reason.contains("still there") && reason.contains("Tamper Protection") && reason.contains("Requested registry access is not allowed"), "{reason}");
    assert!(listed(&h, PATHS, FOLDER));
}

/// A policy exclusion is reported as set by policy and left alone; a key
/// that is no exclusion list is refused.
#[test]
fn a_policy_exclusion_is_reported_and_not_touched() {
    let mut h = fixture::host();
    let policy = r"SOFTWARE\Policies\Microsoft\Windows Defender\Exclusions\Paths";
    let _ = h.registry.put(&format!(r"HKLM\{policy}"), FOLDER, RegData::Dword(0));
    let op = PurgeStepOp::RevertDefenderExclusion { hive: "HKLM".into(), key: policy.into(), value: FOLDER.into() };
    let run = PurgeStepOp::RevertDefenderExclusion { hive: "HKLM".into(), key: r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run".into(), value: "x".into() };
    let got = run_steps(&mut h, &[op, run]);
    assert!(matches!(&got[0].outcome, StepOutcome::NeedsPerson { reason } if reason.contains("set by policy")), "{got:?}");
    assert!(listed(&h, policy, FOLDER));
    assert!(matches!(&got[1].outcome, StepOutcome::Failed { reason } if reason.contains("not a Defender exclusion list")), "{got:?}");
}

/// The ACE facade keeps .NET's rules: a Deny rule never carries
/// Synchronize, an Allow rule always does, and rules of the same SID,
/// type and flags merge.
#[test]
fn file_system_access_rules_follow_dotnet() {
    let mut h = host_with_folder();
    let script = format!(
        "$i = New-Object System.IO.DirectoryInfo('{FOLDER}')
$s = $i.GetAccessControl('Access')
$id = New-Object System.Security.Principal.SecurityIdentifier('S-1-1-0')
$s.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($id, 'Write, Synchronize', 'ContainerInherit', 'None', 'Deny')))
$s.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($id, 'Delete', 'ContainerInherit', 'None', 'Deny')))
$s.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule('Everyone', 'ReadData', 'Allow')))
$i.SetAccessControl($s)
foreach ($r in $i.GetAccessControl('Access').GetAccessRules($true, $false, [System.Security.Principal.SecurityIdentifier])) {{ [Console]::Out.Write([string][int]$r.FileSystemRights + ' ' + $r.AccessControlType + ' ' + $r.IdentityReference.Value + ';') }}"
    );
    let r = run_on(&mut h, "5.1.19041.1", &script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(r.out, format!("{} Deny S-1-1-0;{} Allow S-1-1-0;", 0x116 | 0x10000, 1 | 0x100000));
    assert!(acl::denied([h.files.acl(FOLDER).unwrap()], true, &Token::system(), acl::ADD_FILE));
}
