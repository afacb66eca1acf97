//! The host steps over WinRM: what the host runtime can do today. Scans
//! (`runtime::collect`), the plan's operations (`runtime::apply_ops`),
//! evidence (`evidence::collect_evidence`, SMB through the admin shares
//! first, then WinRM), containment (`runtime::contain`: the block rules
//! `firewall::host_rules` computes for the host, with the operator's
//! addresses as the host sees them added to the exempt set (read from the
//! host's Security log first: `fleet::operator`), made through
//! `HNetCfg.FwPolicy2` and read back, with the dead-man task; its
//! extension; release), the deny-write and Defender steps
//! (`runtime::purge_steps`) and reboots (`runtime::client::boot_time`,
//! `reboot` and `abort_reboot`: `Win32_OperatingSystem.LastBootUpTime` as
//! UTC, `shutdown /r /t /c /d` judged by exit code, `shutdown /a`, and
//! `logged_on_users`: the interactive sessions' users) are real:
//! [`HostSteps::available`] names no phase as missing.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::steps::*;
use crate::evidence::{self, EvidenceDest, EvidenceOptions, EvidenceRequest};
use crate::firewall::{AddrSet, Direction, EngagementId, PortSpec, host_rules};
use crate::fleet::operator;
use crate::runtime::contain::{self as host_contain, ContainOp, ContainOutcome, HostRule, MIN_DEADMAN_SECS};
use crate::runtime::ops::{Bounds, Op, OpOutcome};
use crate::runtime::purge_steps::{self, PurgeStepOp, StepReport};
use crate::runtime::snapshot::Snapshot;
use crate::runtime::{self, RuntimeError};
use crate::transport::smb::{SmbCredential, SmbOptions};
use crate::transport::{ErrorKind, HostTarget, Refusal, TransportError};


/// The host steps of an operation over the inventory's hosts.
pub struct RuntimeSteps {
    targets: HashMap<String, Result<HostTarget, String>>,
    smb: HashMap<String, SmbCredential>,
    evidence_dir: PathBuf,
    /// Names the evidence ZIPs of this run (`op3-run12`).
    evidence_run: String,
    cancel: CancellationToken,
    bounds: Bounds,
    /// The ports and directions containment blocks (the playbook's
    /// `contain.block` and `contain.directions`).
    block: PortSpec,
    directions: Vec<Direction>,
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
            block: PortSpec::default(),
            directions: vec![Direction::In, Direction::Out],
        }
    }

    /// Block these ports in these directions (default: SMB and NetBIOS,
    /// both directions).
    pub fn with_containment(mut self, block: PortSpec, directions: Vec<Direction>) -> RuntimeSteps {
        self.block = block;
        self.directions = directions;
        self
    }

    /// The operator's address as this side's socket shows it toward
    /// `host`: the local end of a TCP connection to its WinRM port (`None`
    /// through a proxy, whose address the host sees instead).
    async fn operator_address(&self, host: &str) -> StepResult<Option<String>> {
        let target = self.target(host)?;
        let s = &target.host.settings;
        if s.proxy.is_some() {
            return Ok(None);
        }
        crate::transport::tcp::local_address_toward(&target.host.address, s.port, s.connect_timeout)
            .await
            .map(|ip| Some(ip.to_string()))
            .map_err(|e| {
                StepError::Unreachable(format!(
                    "cannot find the operator's address as {host} sees it (TCP to {}:{}): {e}; containment exempts it so this side keeps SMB to the host",
                    target.host.address, s.port
                ))
            })
    }

    /// The operator's addresses `host`'s rules keep SMB open to: those it
    /// saw before (`known`), the one its Security log shows for the
    /// connection this step opened (read first, so a new address is exempt
    /// in the same rules), and over a direct connection this side's
    /// socket's. Refused when none is certain
    /// ([`operator::operator_exemption`]).
    async fn operator_as_seen(&self, host: &str, known: &[String]) -> StepResult<operator::OperatorExemption> {
        let target = self.target(host)?;
        let began = std::time::SystemTime::now();
        let seen = match runtime::client::recent_logons(target, &self.cancel).await {
            Ok((events, now)) => operator::seen_by_step(&events, &now, began.elapsed().map_or(0.0, |d| d.as_secs_f64())),
            Err(e) => match step_error(&e) {
                StepError::Failed(why) => {
                    tracing::debug!("{host}: logons not read: {why}");
                    operator::Seen::Nothing
                }
                other => return Err(other),
            },
        };
        let socket = self.operator_address(host).await?;
        operator::operator_exemption(known, &seen, socket.as_deref()).map_err(StepError::Failed)
    }

    /// One containment operation on `host`; a host that did not finish it
    /// is a failed step.
    async fn contain_op(&self, host: &str, op: ContainOp) -> StepResult<ContainOutcome> {
        let target = self.target(host)?;
        let out = host_contain::run(target, op, &self.cancel).await.map_err(|e| step_error(&e))?;
        if out.done {
            Ok(out)
        } else {
            Err(StepError::Failed(out.detail))
        }
    }
}

/// The engagement a rule prefix (`cauterize-<id>`) names.
fn engagement_of(rule_prefix: &str) -> StepResult<EngagementId> {
    rule_prefix
        .strip_prefix(crate::firewall::naming::PREFIX)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|id| EngagementId::parse(id).ok())
        .ok_or_else(|| StepError::Failed(format!("`{rule_prefix}` is not a rule prefix of an engagement (bug)")))
}

fn deadman_secs(request: &ContainRequest) -> u64 {
    request.deadman.as_secs().max(MIN_DEADMAN_SECS)
}

impl RuntimeSteps {

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
            contain: None,
            reboot: None,
            release: None,
        }
    }

    async fn contain(&self, host: &str, request: &ContainRequest) -> StepResult<ContainReport> {
        let engagement = engagement_of(&request.rule_prefix)?;
        let operator = self.operator_as_seen(host, &request.operator).await?;
        let mut exempt_list = request.exempt.clone();
        exempt_list.extend(operator.addresses.iter().cloned());
        let exempt = AddrSet::parse(&exempt_list).map_err(|e| StepError::Failed(format!("exempt addresses: {e}")))?;
        let rules = host_rules(&engagement, &self.block, &self.directions, &exempt)
            .map_err(|e| StepError::Failed(e.to_string()))?;
        let op = ContainOp::Contain {
            engagement,
            rules: rules.iter().map(HostRule::from).collect(),
            deadman_secs: deadman_secs(request),
        };
        let out = self.contain_op(host, op).await?;
        let mut summary = if out.changed() == 0 && out.deadman_in_place && !out.detail.is_empty() {
            format!("{}: {}", out.detail, out.summary())
        } else {
            out.summary()
        };
        summary.push_str(&format!("; SMB kept open to the operator as it sees cauterize: {}", operator.addresses.join(", ")));
        if let Some(note) = &operator.note {
            summary.push_str(&format!(" ({note})"));
        }
        Ok(ContainReport {
            in_effect: out.problems.is_empty(),
            problems: out.problems.clone(),
            summary,
            operator: operator.addresses,
        })
    }

    async fn extend_deadman(&self, host: &str, request: &ContainRequest) -> StepResult<()> {
        let op = ContainOp::ExtendDeadman {
            engagement: engagement_of(&request.rule_prefix)?,
            deadman_secs: deadman_secs(request),
        };
        self.contain_op(host, op).await.map(|_| ())
    }

    async fn release(&self, host: &str, rule_prefix: &str) -> StepResult<()> {
        let op = ContainOp::Release {
            engagement: engagement_of(rule_prefix)?,
        };
        self.contain_op(host, op).await.map(|_| ())
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

    async fn purge_steps(&self, host: &str, ops: &[PurgeStepOp]) -> StepResult<Vec<StepReport>> {
        let target = self.target(host)?;
        purge_steps::run(target, ops, &self.cancel).await.map_err(|e| step_error(&e))
    }

    async fn scan(&self, host: &str) -> StepResult<Snapshot> {
        let target = self.target(host)?;
        let began = std::time::SystemTime::now();
        let mut snapshot = runtime::collect(target, &self.bounds, &self.cancel).await.map_err(|e| step_error(&e))?;
        super::scan::seen_from_operator(&mut snapshot, began);
        Ok(snapshot)
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

    async fn logged_on_users(&self, host: &str) -> StepResult<Vec<LoggedOnUser>> {
        let target = self.target(host)?;
        runtime::client::logged_on_users(target, &self.cancel).await.map_err(|e| step_error(&e))
    }
}
