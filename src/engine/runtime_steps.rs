//! The host steps over WinRM: what the host runtime can do today. Scans
//! (`runtime::collect`), the plan's operations (`runtime::apply_ops`),
//! evidence (`evidence::collect_evidence`, SMB through the admin shares
//! first, then WinRM) and reboots (`runtime::client::boot_time`, `reboot`
//! and `abort_reboot`: `Win32_OperatingSystem.LastBootUpTime` as UTC,
//! `shutdown /r /t /c /d` judged by exit code, `shutdown /a`) are real.
//! Containment (firewall rules through `HNetCfg.FwPolicy2` with the
//! dead-man task) and release have no host-side operation in
//! `runtime.ps1` yet: they answer [`StepError::NotAvailable`], and
//! [`HostSteps::available`] says so, so the engine reports those phases as
//! not available instead of done.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::steps::*;
use crate::evidence::{self, EvidenceDest, EvidenceOptions, EvidenceRequest};
use crate::runtime::ops::{Bounds, Op, OpOutcome};
use crate::runtime::snapshot::Snapshot;
use crate::runtime::{self, RuntimeError};
use crate::transport::smb::{SmbCredential, SmbOptions};
use crate::transport::{ErrorKind, HostTarget, Refusal, TransportError};

/// Why containment and release are not available in this build.
pub const NO_FIREWALL_OP: &str =
    "the host runtime has no firewall operation yet (rules through HNetCfg.FwPolicy2 with a dead-man task)";

/// The host steps of an operation over the inventory's hosts.
pub struct RuntimeSteps {
    targets: HashMap<String, Result<HostTarget, String>>,
    smb: HashMap<String, SmbCredential>,
    evidence_dir: PathBuf,
    /// Names the evidence ZIPs of this run (`op3-run12`).
    evidence_run: String,
    cancel: CancellationToken,
    bounds: Bounds,
}

impl RuntimeSteps {
    /// `hosts` as the transport prepared them; `smb` the credential of
    /// each host for SMB (evidence), by lower-case name.
    pub fn new(
        hosts: Vec<Result<HostTarget, Refusal>>,
        smb: HashMap<String, SmbCredential>,
        evidence_dir: PathBuf,
        evidence_run: String,
        cancel: CancellationToken,
    ) -> RuntimeSteps {
        let targets = hosts
            .into_iter()
            .map(|h| match h {
                Ok(t) => (t.host.name.to_lowercase(), Ok(t)),
                Err(r) => (r.host.name.to_lowercase(), Err(r.error.to_string())),
            })
            .collect();
        RuntimeSteps {
            targets,
            smb,
            evidence_dir,
            evidence_run,
            cancel,
            bounds: Bounds::default(),
        }
    }

    fn target(&self, host: &str) -> StepResult<&HostTarget> {
        match self.targets.get(&host.to_lowercase()) {
            Some(Ok(t)) => Ok(t),
            Some(Err(why)) => Err(StepError::Refused(why.clone())),
            None => Err(StepError::Refused(format!("{host} is not in the inventory given"))),
        }
    }
}

/// The engine's view of a runtime failure: may a retry pass?
pub fn step_error(e: &RuntimeError) -> StepError {
    match e {
        RuntimeError::Transport(t) => transport_step_error(t),
        RuntimeError::TimedOut(d) => StepError::TimedOut(*d),
        other => StepError::Failed(other.to_string()),
    }
}

fn transport_step_error(t: &TransportError) -> StepError {
    let text = t.to_string();
    match t.kind() {
        ErrorKind::Unreachable | ErrorKind::TimedOut | ErrorKind::QuotaExceeded => StepError::Unreachable(text),
        ErrorKind::AuthFailed | ErrorKind::Refused | ErrorKind::Tls => StepError::Refused(text),
        ErrorKind::Interrupted => StepError::Interrupted,
        ErrorKind::Protocol | ErrorKind::OutputTooLarge => StepError::Failed(text),
    }
}

impl HostSteps for RuntimeSteps {
    fn available(&self) -> Available {
        Available {
            contain: Some(NO_FIREWALL_OP.into()),
            reboot: None,
            release: Some(NO_FIREWALL_OP.into()),
        }
    }

    async fn contain(&self, _: &str, _: &ContainRequest) -> StepResult<ContainReport> {
        Err(StepError::NotAvailable(NO_FIREWALL_OP.into()))
    }

    async fn extend_deadman(&self, _: &str, _: &ContainRequest) -> StepResult<()> {
        Err(StepError::NotAvailable(NO_FIREWALL_OP.into()))
    }

    async fn release(&self, _: &str, _: &str) -> StepResult<()> {
        Err(StepError::NotAvailable(NO_FIREWALL_OP.into()))
    }

    async fn evidence(&self, host: &str, files: &[EvidenceRequest]) -> StepResult<EvidenceOutcome> {
        let target = self.target(host)?;
        let smb = self.smb.get(&host.to_lowercase()).cloned();
        let mut fetchers: Vec<Box<dyn evidence::FileFetcher>> = Vec::new();
        if let Some(credential) = smb {
            fetchers.push(Box::new(evidence::SmbFetcher::new(
                &target.host.address,
                credential,
                SmbOptions::default(),
            )));
        }
        fetchers.push(Box::new(evidence::WinrmFetcher::new(target.clone(), self.cancel.clone())));
        let dest = EvidenceDest {
            engagement_dir: self.evidence_dir.clone(),
            run_id: self.evidence_run.clone(),
        };
        let report = evidence::collect_evidence(&target.host, files, &dest, &mut fetchers, &EvidenceOptions::default())
            .await
            .map_err(|e| match e {
                evidence::EvidenceError::AuthFailed { .. } => StepError::Refused(e.to_string()),
                other => StepError::Failed(other.to_string()),
            })?;
        Ok(EvidenceOutcome {
            archive: report.archive.display().to_string(),
            secured: files
                .iter()
                .filter(|f| report.secured(&f.path))
                .map(|f| f.path.to_lowercase())
                .collect(),
            problems: report
                .files
                .iter()
                .filter(|e| !(e.verdict.is_stored() || e.verdict == evidence::Verdict::Missing))
                .map(|e| format!("{}: {}", e.original_path, e.errors.join("; ")))
                .collect(),
        })
    }

    async fn apply(&self, host: &str, ops: &[Op]) -> StepResult<Vec<OpOutcome>> {
        let target = self.target(host)?;
        runtime::apply_ops(target, ops, &self.cancel).await.map_err(|e| step_error(&e))
    }

    async fn scan(&self, host: &str) -> StepResult<Snapshot> {
        let target = self.target(host)?;
        runtime::collect(target, &self.bounds, &self.cancel).await.map_err(|e| step_error(&e))
    }

    async fn boot_time(&self, host: &str) -> StepResult<String> {
        let target = self.target(host)?;
        runtime::client::boot_time(target, &self.cancel).await.map_err(|e| step_error(&e))
    }

    async fn reboot(&self, host: &str, request: &RebootRequest) -> StepResult<RebootAnswer> {
        let target = self.target(host)?;
        let countdown = u32::try_from(request.countdown.as_secs()).unwrap_or(u32::MAX);
        let power = runtime::power::reboot_request(countdown, &request.message, request.files.clone());
        let reply = runtime::client::reboot(target, power, &self.cancel).await.map_err(|e| step_error(&e))?;
        Ok(RebootAnswer {
            start: reply.start,
            files: reply.files,
        })
    }

    async fn abort_reboot(&self, host: &str) -> StepResult<()> {
        let target = self.target(host)?;
        runtime::client::abort_reboot(target, &self.cancel).await.map(|_| ()).map_err(|e| step_error(&e))
    }
}
