//! Starting or continuing an operation: from a reviewed plan file
//! (`apply`, `run`), from the inventory alone (`contain`), or from the
//! journal (`--resume`, `release`). Records the operation (who, when, the
//! plan and playbook hashes, the settings), runs the engine over the host
//! runtime with the journal as its first sink, and ends the operation with
//! its status, exit code and what to run next.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::event::{Event, Phase, Sink};
use super::operation::{self as engine, Approver, Inputs};
use super::phases::ReleaseSelection;
use super::plan_input::{self, JournalFacts, OperationPlan, PlannedHost, PlannedOp, RoleGroups};
use super::record::Recorder;
use super::replan::JournalReplan;
use super::resume::Prior;
use super::runtime_steps::RuntimeSteps;
use super::settings::{OperationSettings, Role};
use super::summary::OperationResult;
use crate::detect::DetectContext;
use crate::inventory::ResolvedHost;
use crate::journal::operation::{NewOperation, OperationHostSeed, OperationId};
use crate::journal::{self, Journal, JournalHandle, RunId};
use crate::plan::Flags;
use crate::playbook::Playbook;
use crate::plan::Step;
use crate::transport::smb::SmbCredential;
use crate::transport::{HostTarget, Refusal};

/// Where the operation's hosts and operations come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A reviewed plan file (`apply`, `run`).
    Plan(PathBuf),
    /// The engagement's latest operation, as the journal has it
    /// (`--resume`, `release`).
    Journal,
    /// The inventory's hosts, with nothing to purge (`contain`).
    Inventory,
}

/// An operation to start or continue.
pub struct OperationRequest {
    /// `apply`, `run`, `contain`, `release`.
    pub command: String,
    pub engagement: PathBuf,
    pub source: Source,
    /// The inventory's hosts (after `--limit`).
    pub hosts: Vec<ResolvedHost>,
    /// For a new operation; a continued one keeps its own.
    pub settings: OperationSettings,
    pub phases: Vec<Phase>,
    pub release: ReleaseSelection,
    /// Hosts the operator accepts as handled (`--accept-unreached`).
    pub accept: Vec<String>,
    /// Unlisted sources the operator accepts (`--accept-source`), and why
    /// (`--reason`).
    pub accept_sources: Vec<String>,
    pub accept_reason: Option<String>,
    /// Every host of the inventory (not only `--limit`'s): name and
    /// address. A source at one of these addresses is not unlisted.
    pub listed: Vec<(String, String)>,
    /// The command that continues this operation.
    pub resume_command: String,
    /// What verifying scans are planned with.
    pub playbook: Playbook,
    pub flags: Flags,
    pub detect: DetectContext,
    /// `watch`: the hosts that answered its poll ([`Inputs::late`]).
    pub late: Option<Vec<String>>,
}

/// The host side of the operation.
pub struct Hosts {
    pub targets: Vec<Result<HostTarget, Refusal>>,
    /// SMB credentials for evidence, by lower-case host name.
    pub smb: HashMap<String, SmbCredential>,
}

/// How an operation (or this run of it) ended.
pub struct OperationOutcome {
    pub operation: OperationId,
    pub run: RunId,
    pub plan_id: Option<i64>,
    pub result: OperationResult,
    pub exit_code: i32,
    /// Things the operator should know (plan review warnings).
    pub warnings: Vec<String>,
}

/// Start or continue an operation on the engagement whose journal is
/// `journal` (opened for writing: the lock is held), and run it to its end.
pub async fn operate<A: Approver>(
    mut journal: Journal,
    request: OperationRequest,
    hosts: Hosts,
    sinks: Vec<Box<dyn Sink>>,
    approver: Arc<A>,
    cancel: CancellationToken,
) -> anyhow::Result<OperationOutcome> {
    let run = journal.begin_run(&request.command, &journal::argv::current())?;
    let inventory: HashMap<String, &ResolvedHost> = request.hosts.iter().map(|h| (h.name.to_lowercase(), h)).collect();
    let (operation, plan, prior, settings, warnings) = match &request.source {
        Source::Plan(path) => start_from_plan(&mut journal, &request, run, path)?,
        Source::Inventory => start_from_inventory(&mut journal, &request, run)?,
        Source::Journal => continue_from_journal(&mut journal, &request, run, &inventory)?,
    };
    for host in &request.accept {
        journal
            .accept_host(operation, run, host)
            .with_context(|| format!("--accept-unreached {host}: not a host of the engagement"))?;
    }
    let accepted = journal.accepted_hosts(operation)?;
    // The unlisted sources of lateral movement, recorded from the start
    // (`status` shows what holds the release while the operation runs).
    let listed = Arc::new(request.listed.clone());
    if request.accept_sources.is_empty() {
        let current = super::sources::review(&journal, operation, &listed)?;
        super::sources::record(&mut journal, operation, run, &current)?;
    } else {
        let reason = request.accept_reason.as_deref().unwrap_or_default();
        super::sources::accept(&mut journal, operation, run, &listed, &request.accept_sources, reason)?;
    }
    // The rules and dead-man the plan names (its id derives from the
    // journal's first run, as the plan's own does).
    let rule_prefix = super::planning::engagement(&journal)?.rule_prefix();
    let plan_id = plan.plan_id;
    let host_count = plan.hosts.len();
    let exempt = plan.exempt_addresses.clone();
    // Joinable: the operation returns only once the journal is closed and
    // the engagement's lock released, so the same process can run the
    // next command on the engagement (the demo's `release` after `run`).
    let (handle, writer) = JournalHandle::spawn_joinable(journal)?;
    let recorder = Recorder::new(handle.clone(), run, operation);
    let emitter = Arc::new(Emitter::new(sinks).with_journal(recorder));
    let ticker = emitter.start_ticker();
    let resumed = prior.is_some();
    emitter
        .emit(Event::Started {
            command: request.command.clone(),
            hosts: host_count,
            operation: Some(operation),
            plan: plan_id,
            resumed,
        })
        .await?;
    let steps = Arc::new(RuntimeSteps::new(
        hosts.targets,
        hosts.smb,
        request.engagement.clone(),
        format!("op{operation}-run{run}"),
        cancel.clone(),
    )
    .with_containment(request.playbook.contain.block.clone(), request.playbook.contain.directions.clone()));
    let replan = Arc::new(JournalReplan {
        journal: handle.clone(),
        run,
        operation,
        playbook: Arc::new(request.playbook),
        flags: request.flags,
        detect: Arc::new(request.detect),
        plans_dir: request.engagement.join("plans"),
    });
    let result = engine::run(Inputs {
        steps,
        replan,
        approver,
        plan,
        settings,
        emitter: Arc::clone(&emitter),
        cancel,
        prior,
        rule_prefix,
        exempt,
        accepted,
        resume_command: request.resume_command.clone(),
        phases: request.phases.clone(),
        release: request.release.clone(),
        late: request.late.clone(),
        sources: Arc::new(super::sources::JournalSources { journal: handle.clone(), operation, run, inventory: listed }),
    })
    .await;
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            drop(ticker);
            emitter.finish();
            let message = e.to_string();
            let _ = handle
                .call(move |j| {
                    j.end_operation(operation, "halted", crate::exit::ALL_FAILED, Some(&message))?;
                    j.end_run(run, crate::exit::ALL_FAILED)
                })
                .await;
            close_journal(handle, emitter, writer).await;
            return Err(anyhow::anyhow!(e));
        }
    };
    let exit_code = result.exit_code();
    emitter.emit(Event::Finished { exit_code }).await?;
    drop(ticker);
    emitter.finish();
    let status = if result.interrupted {
        "interrupted"
    } else if result.halted.is_some() {
        "halted"
    } else {
        "finished"
    };
    let next = result.halted.as_ref().map(|h| h.next.clone());
    handle
        .call(move |j| {
            j.end_operation(operation, status, exit_code, next.as_deref())?;
            j.end_run(run, exit_code)
        })
        .await?;
    close_journal(handle, emitter, writer).await;
    Ok(OperationOutcome {
        operation,
        run,
        plan_id,
        result,
        exit_code,
        warnings,
    })
}

/// Drop this run's journal handles and wait until the journal's thread
/// has committed what was sent and closed the journal (its lock goes with
/// it). Tasks that still hold a handle (the ticker, the dead-man extender)
/// were told to stop and let go of it within their current step.
async fn close_journal(handle: JournalHandle, emitter: Arc<Emitter>, writer: crate::journal::actor::WriterThread) {
    drop(handle);
    drop(emitter);
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
}

type Started = (OperationId, OperationPlan, Option<Prior>, OperationSettings, Vec<String>);

/// A new operation from a reviewed plan file.
fn start_from_plan(journal: &mut Journal, request: &OperationRequest, run: RunId, path: &std::path::Path) -> anyhow::Result<Started> {
    let reviewed = crate::plan::load_and_validate(path, journal)?;
    if let Some(earlier) = journal.operation_of_plan(reviewed.plan_id)?
        && earlier.status != "finished"
    {
        bail!(
            "plan {} is already being carried out by operation {} ({}, started {}); continue it with `{}` instead of starting it again",
            reviewed.plan_id,
            earlier.id,
            earlier.status,
            earlier.started_at,
            request.resume_command
        );
    }
    let stored = journal
        .plan(reviewed.plan_id)?
        .context("the plan's journal record vanished")?;
    let facts = JournalFacts {
        planned_hosts: stored.hosts.iter().map(|h| h.host.to_lowercase()).collect(),
        os: journal.host_os()?,
    };
    let plan = plan_input::from_reviewed(&reviewed, &request.hosts, &facts, &RoleGroups::default());
    let refused: HashSet<String> = plan.excluded.iter().map(|e| e.host.to_lowercase()).collect();
    // The review's notes about hosts refused here are said by the refusal.
    let warnings = reviewed
        .warnings
        .iter()
        .filter(|w| !refused.iter().any(|h| w.to_lowercase().starts_with(&format!("{h}:"))))
        .cloned()
        .collect();
    let operation = journal.begin_operation(&new_operation(request, run, &plan)?)?;
    Ok((operation, plan, None, request.settings.clone(), warnings))
}

/// A new operation over the inventory's hosts with nothing to purge.
fn start_from_inventory(journal: &mut Journal, request: &OperationRequest, run: RunId) -> anyhow::Result<Started> {
    let os = journal.host_os()?;
    let mut plan = OperationPlan {
        hosts: request
            .hosts
            .iter()
            .map(|h| PlannedHost {
                name: h.name.clone(),
                address: h.address.clone(),
                role: plan_input::role_of(&h.groups, os.get(&h.name.to_lowercase()).map(String::as_str), &RoleGroups::default()),
                groups: h.groups.clone(),
                snapshot_id: None,
                ops: Vec::new(),
                exempt: false,
                never_contained: false,
                operator: Vec::new(),
                steps: Vec::new(),
            })
            .collect(),
        ..OperationPlan::default()
    };
    plan.exempt_addresses = exempt_without_plan(&plan.hosts, &request.playbook.contain);
    let operation = journal.begin_operation(&new_operation(request, run, &plan)?)?;
    Ok((operation, plan, None, request.settings.clone(), Vec::new()))
}

/// What keeps SMB when there is no plan (`contain` on its own): the
/// playbook's exempt addresses, and the addresses of hosts exempt by role
/// (domain controllers, file and print servers, as far as the inventory and
/// the last scans tell) or by an exempt inventory group.
fn exempt_without_plan(hosts: &[PlannedHost], contain: &crate::playbook::ContainSettings) -> Vec<String> {
    let mut exempt = contain.exempt_addresses.clone();
    exempt.extend(
        hosts
            .iter()
            .filter(|h| {
                h.role.exempt_by_default()
                    || h.groups.iter().any(|g| contain.exempt_groups.iter().any(|e| e.eq_ignore_ascii_case(g)))
            })
            .map(|h| h.address.clone()),
    );
    exempt
}

fn new_operation(request: &OperationRequest, run: RunId, plan: &OperationPlan) -> anyhow::Result<NewOperation> {
    let mut hosts: Vec<OperationHostSeed> = plan
        .hosts
        .iter()
        .map(|h| OperationHostSeed {
            host: h.name.clone(),
            address: h.address.clone(),
            role: h.role.as_str().into(),
            state: "pending".into(),
            reason: None,
        })
        .collect();
    hosts.extend(plan.excluded.iter().filter(|e| e.holds_release).map(|e| OperationHostSeed {
        host: e.host.clone(),
        address: e.address.clone(),
        role: Role::Workstation.as_str().into(),
        state: super::state::HostState::Refused.as_str().into(),
        reason: Some(e.why.clone()),
    }));
    Ok(NewOperation {
        command: request.command.clone(),
        plan_id: plan.plan_id,
        plan_sha256: plan.plan_sha256.clone(),
        playbook_sha256: plan.playbook_sha256.clone(),
        settings: serde_json::to_string(&request.settings)?,
        run,
        hosts,
        ops: plan
            .hosts
            .iter()
            .flat_map(|h| h.step_ids().map(|id| (h.name.clone(), id)))
            .collect(),
    })
}

/// The engagement's latest operation, as the journal has it.
fn continue_from_journal(
    journal: &mut Journal,
    request: &OperationRequest,
    run: RunId,
    inventory: &HashMap<String, &ResolvedHost>,
) -> anyhow::Result<Started> {
    let Some(op) = journal.latest_operation()? else {
        bail!(
            "the engagement {} has no operation to continue: start one with `cauterize apply PLAN` or `cauterize run`",
            request.engagement.display()
        );
    };
    let settings: OperationSettings = serde_json::from_str(&op.settings)
        .with_context(|| format!("operation {}: its settings in the journal cannot be read", op.id))?;
    let rows = journal.operation_hosts(op.id)?;
    let mut round0: HashMap<String, Vec<(i64, Step)>> = HashMap::new();
    let mut later: HashMap<(String, u32), Vec<PlannedOp>> = HashMap::new();
    let mut later_steps: HashMap<(String, u32), Vec<(i64, Step)>> = HashMap::new();
    for o in journal.operation_ops(op.id)? {
        let value: serde_json::Value = serde_json::from_str(&o.op)
            .with_context(|| format!("operation {}: plan step {} cannot be read", op.id, o.plan_op_id))?;
        let step = Step::from_value(&value)
            .map_err(|e| anyhow::anyhow!("operation {}: plan step {} cannot be read: {e}", op.id, o.plan_op_id))?;
        let key = o.host.to_lowercase();
        match (o.round, step) {
            (0, step) => round0.entry(key).or_default().push((o.plan_op_id, step)),
            (round, Step::Purge(op)) => later.entry((key, round)).or_default().push(PlannedOp {
                plan_op_id: o.plan_op_id,
                op,
            }),
            (round, step @ (Step::DenyWrites { .. } | Step::RevertDefenderExclusion { .. })) => {
                later_steps.entry((key, round)).or_default().push((o.plan_op_id, step))
            }
            (round, other) => bail!(
                "operation {}: re-purge round {round} of {} holds a {} step; only purge operations, deny-writes and Defender exclusions are re-planned",
                op.id,
                o.host,
                other.tag()
            ),
        }
    }
    let containment = match op.plan_id {
        Some(id) => match journal.plan(id)? {
            Some(stored) => serde_json::from_str::<crate::plan::PlanHead>(&stored.settings).ok().map(|h| h.containment),
            None => None,
        },
        None => None,
    };
    let exempt: Vec<String> = containment
        .iter()
        .flat_map(|c| c.exempt_hosts.iter().map(|e| e.host.to_lowercase()))
        .collect();
    let never: Vec<String> = containment.iter().flat_map(|c| c.never.iter().map(|e| e.host.to_lowercase())).collect();
    let operator = containment.as_ref().map(|c| c.operator_by_host()).unwrap_or_default();
    let missing: Vec<&str> = rows
        .iter()
        .filter(|r| !inventory.contains_key(&r.host.to_lowercase()))
        .map(|r| r.host.as_str())
        .collect();
    if !missing.is_empty() && request.source == Source::Journal && request.command != "release" {
        tracing::warn!("hosts of operation {} not in the inventory given: {}", op.id, missing.join(", "));
    }
    let mut plan = OperationPlan {
        plan_id: op.plan_id,
        plan_sha256: op.plan_sha256.clone(),
        playbook_sha256: op.playbook_sha256.clone(),
        hosts: rows
            .iter()
            .map(|r| PlannedHost {
                name: r.host.clone(),
                address: r.address.clone(),
                role: role_named(&r.role),
                groups: inventory.get(&r.host.to_lowercase()).map(|h| h.groups.clone()).unwrap_or_default(),
                snapshot_id: None,
                ops: Vec::new(),
                exempt: exempt.contains(&r.host.to_lowercase()),
                never_contained: never.contains(&r.host.to_lowercase()),
                operator: operator.get(&r.host.to_lowercase()).cloned().unwrap_or_default(),
                steps: Vec::new(),
            }
            .with_steps(round0.remove(&r.host.to_lowercase()).unwrap_or_default()))
            .collect(),
        excluded: Vec::new(),
        exempt_addresses: Vec::new(),
    };
    plan.exempt_addresses = match &containment {
        Some(c) => c.exempt.iter().map(|e| e.address.clone()).collect(),
        None => exempt_without_plan(&plan.hosts, &request.playbook.contain),
    };
    let mut prior = Prior::from_rows(&rows, &journal.operation_actions(op.id)?).map_err(anyhow::Error::msg)?;
    prior.later_ops = later;
    prior.later_steps = later_steps;
    journal.attach_run(op.id, run)?;
    Ok((op.id, plan, Some(prior), settings, Vec::new()))
}

fn role_named(text: &str) -> Role {
    match text {
        "domain_controller" => Role::DomainController,
        "server" => Role::Server,
        _ => Role::Workstation,
    }
}
