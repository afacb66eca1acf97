//! The plan's purge steps that are not compare-and-delete [`super::Op`]s,
//! as runtime operations: deny writes to a shutdown-writer's folder
//! ([`PurgeStepOp::DenyWrites`]), lift that deny at release
//! ([`PurgeStepOp::RemoveDenyWrites`]), and revert a Defender exclusion a
//! loader added ([`PurgeStepOp::RevertDefenderExclusion`]). `runtime.ps1`
//! (`Invoke-CzDenyWrites`, `Invoke-CzRemoveDenyWrites`,
//! `Invoke-CzRevertDefenderExclusion`) carries them out and reads back;
//! this module frames them and reads their answers strictly.
//!
//! Facts the host side relies on (Windows Vista through 11, PowerShell 2.0
//! and later):
//! - The deny is one explicit Deny ACE, inherited by the folder's files
//!   and subfolders, of CreateFiles (WriteData on a file), AppendData,
//!   WriteExtendedAttributes and WriteAttributes ([`DENY_RIGHTS`]), set
//!   with the folder's own `GetAccessControl('Access')` and
//!   `SetAccessControl` (DACL only; `Get-Acl | Set-Acl` writes back the
//!   owner, which Windows refuses to take from an administrator). Never
//!   GENERIC_WRITE or `(W)`: its mapping holds SYNCHRONIZE, and a denied
//!   SYNCHRONIZE fails every open of the folder, reads included.
//! - Access is checked when a handle is opened: the loader is killed
//!   before the deny (the purge's order), so it holds no open handle.
//! - The deny is removed with `RemoveAccessRuleSpecific` of exactly that
//!   ACE (SID, rights, flags, type): a deny the customer placed, even for
//!   the same SID, is never touched.
//! - Defender's exclusions are value names under `HKLM\SOFTWARE\Microsoft\
//!   Windows Defender\Exclusions\{Paths,Extensions,Processes,
//!   TemporaryPaths}` (MSE/SCEP: `...\Microsoft Antimalware\Exclusions`).
//!   Defender's own interface (`Remove-MpPreference`, Windows 8 and later)
//!   is preferred; the key itself refuses writes even to SYSTEM on many
//!   builds, and Tamper Protection keeps exclusions whatever is asked
//!   (the cmdlet then succeeds and changes nothing). The value is read
//!   back either way; what stays is reported as needing a person, with the
//!   reason. A list under `SOFTWARE\Policies` belongs to Group Policy or
//!   an MDM: reported, never touched.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::client::{RuntimeError, run_job, with_session};
use super::job::JobItem;
use super::ops::Bounds;
use super::results::{Frames, Limits};
use crate::transport::HostTarget;

/// Who the deny applies to: Everyone (S-1-1-0). A shutdown writer runs as
/// the infected user (Qakbot injected into the user's explorer) or as
/// SYSTEM (its service-level instance), and may be another user's process
/// writing into this profile; Everyone holds them all (SYSTEM's token
/// holds Everyone; Authenticated Users would leave out anonymous and guest
/// logons, and naming the user and SYSTEM misses the loader that runs as
/// another account). It does not lock the operator out: only creating,
/// appending and attribute writes are denied; reading, listing, DELETE,
/// FILE_DELETE_CHILD and WRITE_DAC stay, so the folder and its files can
/// still be removed and the deny lifted.
pub const DENY_SID: &str = "S-1-1-0";

/// CreateFiles 0x2, AppendData 0x4, WriteExtendedAttributes 0x10,
/// WriteAttributes 0x100. No SYNCHRONIZE (0x100000).
pub const DENY_RIGHTS: u32 = 0x116;

/// ContainerInherit | ObjectInherit.
pub const DENY_INHERITANCE: u32 = 3;

/// A purge step carried out on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeStepOp {
    /// Deny writes to `folder` for `sid` (one ACE, read back).
    DenyWrites { folder: String, sid: String },
    /// Remove exactly the ACE [`PurgeStepOp::DenyWrites`] adds.
    RemoveDenyWrites { folder: String, sid: String },
    /// Remove the exclusion `value` from the list `hive\key`, if it is
    /// still there.
    RevertDefenderExclusion { hive: String, key: String, value: String },
}

impl PurgeStepOp {
    /// The deny of `folder` for [`DENY_SID`].
    pub fn deny(folder: &str) -> PurgeStepOp {
        PurgeStepOp::DenyWrites { folder: folder.to_string(), sid: DENY_SID.to_string() }
    }

    /// Its undo.
    pub fn lift(folder: &str) -> PurgeStepOp {
        PurgeStepOp::RemoveDenyWrites { folder: folder.to_string(), sid: DENY_SID.to_string() }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PurgeStepOp::DenyWrites { .. } => "DenyWrites",
            PurgeStepOp::RemoveDenyWrites { .. } => "RemoveDenyWrites",
            PurgeStepOp::RevertDefenderExclusion { .. } => "RevertDefenderExclusion",
        }
    }

    /// The job fields, in order (see `job.rs`).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            PurgeStepOp::DenyWrites { folder, sid } | PurgeStepOp::RemoveDenyWrites { folder, sid } => {
                vec![("folder", folder.clone()), ("sid", sid.clone())]
            }
            PurgeStepOp::RevertDefenderExclusion { hive, key, value } => {
                vec![("hive", hive.clone()), ("key", key.clone()), ("value", value.clone())]
            }
        }
    }

    /// Field names each kind has.
    pub fn allowed_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "RevertDefenderExclusion" => &["hive", "key", "value"],
            _ => &["folder", "sid"],
        }
    }

    /// Read an item back from its fields (the lab's and the tests' reader).
    pub fn from_fields(kind: &str, get: &dyn Fn(&str) -> Vec<String>) -> Result<PurgeStepOp, String> {
        let one = |n: &str| -> Result<String, String> {
            match get(n).as_slice() {
                [x] => Ok(x.clone()),
                [] => Err(format!("missing field {n}")),
                _ => Err(format!("field {n} given twice")),
            }
        };
        let sid = || -> Result<String, String> {
            let s = one("sid")?;
            if is_sid(&s) { Ok(s) } else { Err(format!("field sid is not a SID: {s:?}")) }
        };
        Ok(match kind {
            "DenyWrites" => PurgeStepOp::DenyWrites { folder: one("folder")?, sid: sid()? },
            "RemoveDenyWrites" => PurgeStepOp::RemoveDenyWrites { folder: one("folder")?, sid: sid()? },
            "RevertDefenderExclusion" => PurgeStepOp::RevertDefenderExclusion {
                hive: one("hive")?,
                key: one("key")?,
                value: one("value")?,
            },
            other => return Err(format!("unknown operation {other}")),
        })
    }
}

/// `S-1-<authority>-<sub>...`, digits only.
fn is_sid(s: &str) -> bool {
    let mut parts = s.split('-');
    parts.next() == Some("S")
        && parts.next() == Some("1")
        && {
            let rest: Vec<&str> = parts.collect();
            rest.len() >= 2 && rest.iter().all(|p| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit()))
        }
}

/// How a purge step ended on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Carried out and read back (`detail`: "already denied", ...).
    Done { detail: String },
    /// Nothing to do: the exclusion or the deny is not there.
    AlreadyAbsent { detail: String },
    /// The host shows something else than the plan saw; nothing done.
    Drift { observed: String },
    /// The host keeps it, and only a person can change that (a policy
    /// exclusion, Tamper Protection, a key SYSTEM may not write).
    NeedsPerson { reason: String },
    Failed { reason: String },
}

/// The ACE a deny step reports in effect on the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AceReport {
    pub sid: String,
    pub rights: u32,
    pub inheritance: u32,
    pub propagation: u32,
    /// `added`, `present` (it was there already), `removed`.
    pub state: String,
}

/// What one purge step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub outcome: StepOutcome,
    pub ace: Option<AceReport>,
    /// How an exclusion went (`Remove-MpPreference`, `the registry`).
    pub removed_by: String,
    /// A deny step found nothing at the folder's path (no folder, no
    /// file): the host's `folder` record, beside its drift or
    /// already_absent.
    pub folder_gone: bool,
}

impl StepReport {
    fn failed(reason: impl Into<String>) -> StepReport {
        StepReport { outcome: StepOutcome::Failed { reason: reason.into() }, ace: None, removed_by: String::new(), folder_gone: false }
    }

    /// One line for the journal and the operator.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.ace {
            parts.push(format!(
                "deny ACE for {} (rights 0x{:x}, inheritance {}, propagation {}) {}",
                a.sid, a.rights, a.inheritance, a.propagation, a.state
            ));
        }
        if !self.removed_by.is_empty() {
            parts.push(format!("removed through {}", self.removed_by));
        }
        let said = match &self.outcome {
            StepOutcome::Done { detail } | StepOutcome::AlreadyAbsent { detail } => detail,
            StepOutcome::Drift { observed } => observed,
            StepOutcome::NeedsPerson { reason } => reason,
            StepOutcome::Failed { reason } => reason,
        };
        if !said.is_empty() {
            parts.push(said.clone());
        }
        parts.join("; ")
    }
}

/// The report of item `i` (`op`) from its records, strictly: an outcome the
/// step cannot have, or a deny reported done without the very ACE asked
/// for in effect, is a failure.
pub fn outcome(frames: &Frames, i: usize, op: &PurgeStepOp) -> StepReport {
    let mut ace = None;
    let mut removed_by = String::new();
    let mut folder_gone = false;
    let mut result: Option<(String, String)> = None;
    for r in frames.of(i) {
        match r.kind.as_str() {
            "error" => return StepReport::failed(r.text("reason")),
            "ace" => {
                let num = |k: &str| r.text(k).parse::<u32>().ok();
                match (num("rights"), num("inheritance"), num("propagation")) {
                    (Some(rights), Some(inheritance), Some(propagation)) if r.text("type") == "deny" => {
                        ace = Some(AceReport { sid: r.text("sid"), rights, inheritance, propagation, state: r.text("state") })
                    }
                    _ => return StepReport::failed("the host reported an ACE that is not a deny with numeric rights and flags"),
                }
            }
            "removed_by" => removed_by = r.text("how"),
            "folder" => folder_gone = r.text("state") == "gone",
            "outcome" => result = Some((r.text("result"), r.text("detail"))),
            _ => {}
        }
    }
    let Some((result, detail)) = result else {
        return StepReport::failed("the runtime reported no outcome (its output ended early)");
    };
    let outcome = match result.as_str() {
        "done" => StepOutcome::Done { detail },
        "already_absent" => StepOutcome::AlreadyAbsent { detail },
        "drift" => StepOutcome::Drift { observed: detail },
        "needs_person" => StepOutcome::NeedsPerson { reason: detail },
        "failed" => StepOutcome::Failed { reason: detail },
        other => return StepReport::failed(format!("unknown outcome '{other}' from the runtime: {detail}")),
    };
    let report = StepReport { outcome, ace, removed_by, folder_gone };
    match (op, &report.outcome) {
        (PurgeStepOp::DenyWrites { sid, .. }, StepOutcome::Done { .. }) => check_ace(report, sid, &["added", "present"]),
        (PurgeStepOp::RemoveDenyWrites { sid, .. }, StepOutcome::Done { .. }) => check_ace(report, sid, &["removed"]),
        (PurgeStepOp::DenyWrites { .. }, StepOutcome::AlreadyAbsent { .. }) => {
            StepReport::failed("the host answered already_absent to a deny, which always places one or says why not")
        }
        (PurgeStepOp::RevertDefenderExclusion { .. }, StepOutcome::Done { .. }) if report.removed_by.is_empty() => {
            StepReport::failed("the host reported the exclusion removed without saying how")
        }
        _ => report,
    }
}

/// A deny step reported done must report exactly our ACE.
fn check_ace(report: StepReport, sid: &str, states: &[&str]) -> StepReport {
    match &report.ace {
        Some(a) if a.sid == sid
            && a.rights == DENY_RIGHTS
            && a.inheritance == DENY_INHERITANCE
            && a.propagation == 0
            && states.contains(&a.state.as_str()) =>
        {
            report
        }
        Some(a) => StepReport::failed(format!(
            "the host reported a different ACE than asked: {} rights 0x{:x} inheritance {} propagation {} {}",
            a.sid, a.rights, a.inheritance, a.propagation, a.state
        )),
        None => StepReport::failed("the host reported the deny done without the ACE in effect"),
    }
}

/// Carry out purge steps on a host, in order, one report each.
pub async fn run(target: &HostTarget, ops: &[PurgeStepOp], cancel: &CancellationToken) -> Result<Vec<StepReport>, RuntimeError> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    with_session(target, cancel, async |s| {
        let bounds = Bounds::default();
        let items: Vec<JobItem> = ops.iter().cloned().map(JobItem::PurgeStep).collect();
        let time = Duration::from_secs(u64::from(bounds.time_limit_secs));
        let frames = run_job(s, &items, &Limits::from_bounds(&bounds), time).await?;
        Ok(ops.iter().enumerate().map(|(i, op)| outcome(&frames, i, op)).collect())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::results::{Writer, parse};

    fn frames(records: &[(&str, &[(&str, &str)])]) -> Frames {
        let mut w = Writer::new(1 << 20);
        for (kind, fields) in records {
            assert!(w.record(0, kind, fields));
        }
        parse(&w.finish(), 1, &Limits::from_bounds(&Bounds::default())).unwrap()
    }

    fn ace(sid: &str, rights: &str, state: &str) -> (&'static str, Vec<(&'static str, String)>) {
        ("ace", vec![("sid", sid.into()), ("rights", rights.into()), ("inheritance", "3".into()), ("propagation", "0".into()), ("type", "deny".into()), ("state", state.into())])
    }

    fn read(records: Vec<(&str, Vec<(&str, String)>)>, op: &PurgeStepOp) -> StepReport {
        let owned: Vec<(&str, Vec<(&str, &str)>)> =
            records.iter().map(|(k, f)| (*k, f.iter().map(|(a, b)| (*a, b.as_str())).collect())).collect();
        let borrowed: Vec<(&str, &[(&str, &str)])> = owned.iter().map(|(k, f)| (*k, f.as_slice())).collect();
        outcome(&frames(&borrowed), 0, op)
    }

    fn done() -> (&'static str, Vec<(&'static str, String)>) {
        ("outcome", vec![("result", "done".into()), ("detail", String::new())])
    }

    #[test]
    fn a_deny_is_done_only_with_exactly_our_ace_read_back() {
        let op = PurgeStepOp::deny(r"C:\Users\bob\AppData\Roaming\Microsoft\Xyz");
        let ok = read(vec![ace(DENY_SID, "278", "added"), done()], &op);
        assert_eq!(ok.outcome, StepOutcome::Done { detail: String::new() });
        assert_eq!(ok.ace.as_ref().map(|a| a.rights), Some(DENY_RIGHTS));
        assert!(ok.summary().contains("S-1-1-0 (rights 0x116, inheritance 3, propagation 0) added"), "{}", ok.summary());
        // GENERIC_WRITE-like rights, another SID, no ACE at all: failures.
        for records in [
            vec![ace(DENY_SID, "1179926", "added"), done()],
            vec![ace("S-1-5-11", "278", "added"), done()],
            vec![done()],
        ] {
            assert!(matches!(read(records, &op).outcome, StepOutcome::Failed { .. }));
        }
        let lift = PurgeStepOp::lift(r"C:\x");
        assert!(matches!(read(vec![ace(DENY_SID, "278", "added"), done()], &lift).outcome, StepOutcome::Failed { .. }), "a lift reports removed");
        assert!(matches!(read(vec![ace(DENY_SID, "278", "removed"), done()], &lift).outcome, StepOutcome::Done { .. }));
    }

    #[test]
    fn outcomes_are_read_strictly() {
        let ex = PurgeStepOp::RevertDefenderExclusion { hive: "HKLM".into(), key: "k".into(), value: "v".into() };
        let o = |r: &str| ("outcome", vec![("result", r.to_string()), ("detail", "why".to_string())]);
        assert_eq!(read(vec![o("needs_person")], &ex).outcome, StepOutcome::NeedsPerson { reason: "why".into() });
        assert_eq!(read(vec![o("already_absent")], &ex).outcome, StepOutcome::AlreadyAbsent { detail: "why".into() });
        assert!(matches!(read(vec![o("queued_for_reboot")], &ex).outcome, StepOutcome::Failed { ref reason } if reason.contains("unknown outcome")));
        assert!(matches!(read(vec![done()], &ex).outcome, StepOutcome::Failed { ref reason } if reason.contains("without saying how")));
        let by = ("removed_by", vec![("how", "Remove-MpPreference".to_string())]);
        assert_eq!(read(vec![by, done()], &ex).removed_by, "Remove-MpPreference");
        assert!(matches!(read(vec![], &ex).outcome, StepOutcome::Failed { ref reason } if reason.contains("no outcome")));
        let deny = PurgeStepOp::deny("x");
        assert!(matches!(read(vec![o("already_absent")], &deny).outcome, StepOutcome::Failed { .. }));
        // A deny whose folder is gone says so beside its drift; a file at
        // the path is drift without it.
        let gone = ("folder", vec![("state", "gone".to_string())]);
        let r = read(vec![gone, o("drift")], &deny);
        assert!(r.folder_gone && matches!(r.outcome, StepOutcome::Drift { .. }), "{r:?}");
        assert!(!read(vec![o("drift")], &deny).folder_gone);
    }

    #[test]
    fn fields_round_trip_and_a_sid_is_checked() {
        for op in [
            PurgeStepOp::deny(r"C:\a b\'$(x)"),
            PurgeStepOp::lift("y"),
            PurgeStepOp::RevertDefenderExclusion { hive: "HKLM".into(), key: "k".into(), value: "C:\\x".into() },
        ] {
            let f = op.fields();
            let get = |n: &str| -> Vec<String> { f.iter().filter(|(k, _)| *k == n).map(|(_, v)| v.clone()).collect() };
            assert_eq!(PurgeStepOp::from_fields(op.kind(), &get), Ok(op.clone()));
        }
        let get = |n: &str| match n {
            "folder" => vec!["x".to_string()],
            "sid" => vec!["S-1-1-0; whoami".to_string()],
            _ => vec![],
        };
        assert!(PurgeStepOp::from_fields("DenyWrites", &get).unwrap_err().contains("not a SID"));
        assert!(is_sid("S-1-5-21-1-2-3-1001") && !is_sid("S-1-") && !is_sid("S-1-5"));
    }
}
