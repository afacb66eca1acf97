//! The host steps the engine drives, behind one trait: what the host-side
//! runtime can do to one host (contain, collect evidence, carry out
//! operations, scan, reboot, release). The engine is written against this
//! trait only; [`super::runtime_steps::RuntimeSteps`] implements it over
//! WinRM with the runtime's operations, and unit tests implement it with
//! a scripted fake. A step whose host operation does not exist yet says so
//! ([`StepError::NotAvailable`]) and the engine reports the phase as not
//! available, never as done.

use std::future::Future;
use std::time::Duration;

use crate::evidence::EvidenceRequest;
use crate::runtime::ops::{Op, OpOutcome};
use crate::runtime::purge_steps::{PurgeStepOp, StepReport};
use crate::runtime::snapshot::Snapshot;

/// Why a step failed on a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// This build has no host operation for the step.
    #[error("{0}")]
    NotAvailable(String),
    /// The host did not answer, or the connection broke: may pass on retry.
    #[error("{0}")]
    Unreachable(String),
    /// The host refused (wrong password, no admin rights, an inventory
    /// problem): retrying changes nothing.
    #[error("{0}")]
    Refused(String),
    /// The step ran and failed.
    #[error("{0}")]
    Failed(String),
    /// The step took longer than the operation allows.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

impl StepError {
    /// Worth another try after a pause.
    pub fn retryable(&self) -> bool {
        matches!(self, StepError::Unreachable(_) | StepError::TimedOut(_))
    }

    /// The host could not be reached at all (as opposed to a step failing
    /// on a reached host).
    pub fn unreached(&self) -> bool {
        matches!(self, StepError::Unreachable(_) | StepError::Refused(_) | StepError::TimedOut(_))
    }
}

pub type StepResult<T> = Result<T, StepError>;

/// Which host operations this implementation has. Scan, evidence and the
/// plan's operations always exist.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Available {
    /// Firewall rules made and read back, with the dead-man task.
    pub contain: Option<String>,
    /// `shutdown /r` with a countdown, its abort, and the boot time.
    pub reboot: Option<String>,
    /// Rules and dead-man removed and read back gone.
    pub release: Option<String>,
}

impl Available {
    /// Everything exists (fakes).
    pub fn all() -> Available {
        Available::default()
    }
}

/// What containment is asked to make on one host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainRequest {
    /// Names every rule starts with, so they are found and removed
    /// exactly (`cauterize-<engagement>`).
    pub rule_prefix: String,
    /// Addresses and ranges that keep SMB with every host (domain
    /// controllers, file and print servers, the playbook's addresses).
    pub exempt: Vec<String>,
    /// The addresses this host saw cauterize from before (its scans'
    /// WinRM logons, earlier containment): they keep SMB too, with the one
    /// the host's records show for this step's own connection
    /// ([`crate::fleet::operator::operator_exemption`]).
    pub operator: Vec<String>,
    /// The dead-man removes the rules this long from now.
    pub deadman: Duration,
}

/// What containment found on the host after making its rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainReport {
    /// The rules were read back and are in effect.
    pub in_effect: bool,
    /// What stops them from working (profile off, local rules ignored by
    /// Group Policy, another firewall product).
    pub problems: Vec<String>,
    /// What the host did, for the journal and the operator (`8 rule(s)
    /// added; ...; dead-man fires at ...`); empty when the host says
    /// nothing.
    pub summary: String,
    /// The operator's addresses as the host sees them that its rules
    /// leave SMB open to.
    pub operator: Vec<String>,
}

/// A reboot asked of one host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RebootRequest {
    pub countdown: Duration,
    pub message: String,
    /// The files the purge deleted or queued for deletion at boot: the
    /// host reports, before it reboots, which are gone, which queued and
    /// which left ([`RebootAnswer::files`]).
    pub files: Vec<String>,
}

pub use crate::runtime::power::{FileCheck, LoggedOnUser, RebootStart};

/// How a host answered a reboot request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebootAnswer {
    /// Scheduled, already scheduled (1190) or in progress (1115): each
    /// means the host goes down.
    pub start: RebootStart,
    /// The request's files as the host showed them (`None`: none named).
    pub files: Option<FileCheck>,
}

impl RebootAnswer {
    /// An answer with no file check.
    pub fn only(start: RebootStart) -> RebootAnswer {
        RebootAnswer { start, files: None }
    }
}

/// What evidence collection secured on one host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvidenceOutcome {
    /// Where the ZIP is.
    pub archive: String,
    /// Paths (lower-case) whose copy is stored or that are already gone:
    /// safe to delete as far as evidence goes.
    pub secured: Vec<String>,
    /// Per file not secured: why.
    pub problems: Vec<String>,
}

impl EvidenceOutcome {
    /// Read back the journal's detail of an evidence action (`archive`,
    /// `secured`, `problems`, as the purge writes it); `None` when it is
    /// not that (an evidence action that failed keeps its error there).
    pub fn from_journal_detail(detail: &str) -> Option<EvidenceOutcome> {
        let v: serde_json::Value = serde_json::from_str(detail).ok()?;
        let strings = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(|a| a.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        Some(EvidenceOutcome {
            archive: v.get("archive")?.as_str()?.to_string(),
            secured: strings("secured"),
            problems: strings("problems"),
        })
    }

    pub fn is_secured(&self, path: &str) -> bool {
        let key = path.to_lowercase();
        self.secured.iter().any(|p| *p == key)
    }
}

/// The host steps. Every method works on one host, named as in the
/// inventory, and is idempotent: a resumed run may call it again for an
/// action whose outcome the journal never got.
pub trait HostSteps: Send + Sync + 'static {
    /// Which host operations exist (`None`: available; `Some(why not)`).
    fn available(&self) -> Available;

    /// Make the containment rules and the dead-man, and read them back.
    fn contain(&self, host: &str, request: &ContainRequest) -> impl Future<Output = StepResult<ContainReport>> + Send;

    /// Push the dead-man's deadline out by `deadman` from now.
    fn extend_deadman(&self, host: &str, request: &ContainRequest) -> impl Future<Output = StepResult<()>> + Send;

    /// Remove the rules and the dead-man, and read back that they are gone.
    fn release(&self, host: &str, rule_prefix: &str) -> impl Future<Output = StepResult<()>> + Send;

    /// Copy these files into the host's evidence ZIP.
    fn evidence(&self, host: &str, files: &[EvidenceRequest]) -> impl Future<Output = StepResult<EvidenceOutcome>> + Send;

    /// Carry out operations in order, one outcome each.
    fn apply(&self, host: &str, ops: &[Op]) -> impl Future<Output = StepResult<Vec<OpOutcome>>> + Send;

    /// Carry out deny-write and Defender-exclusion steps (and lift a
    /// deny) in order, one report each.
    fn purge_steps(&self, host: &str, ops: &[PurgeStepOp]) -> impl Future<Output = StepResult<Vec<StepReport>>> + Send;

    /// Collect the host's snapshot.
    fn scan(&self, host: &str) -> impl Future<Output = StepResult<Snapshot>> + Send;

    /// The host's last boot time, as the host reports it (compared for
    /// change only).
    fn boot_time(&self, host: &str) -> impl Future<Output = StepResult<String>> + Send;

    /// Ask for a reboot with a countdown.
    fn reboot(&self, host: &str, request: &RebootRequest) -> impl Future<Output = StepResult<RebootAnswer>> + Send;

    /// Abort a pending countdown (nothing pending is not an error).
    fn abort_reboot(&self, host: &str) -> impl Future<Output = StepResult<()>> + Send;

    /// The users with an interactive session (console or Remote Desktop),
    /// read before a reboot when the playbook's `logged_on` is not
    /// `reboot`.
    fn logged_on_users(&self, host: &str) -> impl Future<Output = StepResult<Vec<LoggedOnUser>>> + Send;
}
