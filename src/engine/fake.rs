//! A scripted fake of the host steps (and of the re-planner and the
//! operator) for the engine's unit tests: hosts that answer or not,
//! containment in effect or not, operations that change host state once
//! (a second send reports `already_absent`, as compare-and-delete does),
//! reboots that take their countdown and down time in (paused) tokio time,
//! hang or never start, and loaders that come back after a number of boots.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::operation::{Approver, Replan, Replanned};
use super::plan_input::PlannedOp;
use super::steps::*;
use crate::evidence::EvidenceRequest;
use crate::runtime::ops::{Op, OpOutcome};
use crate::runtime::purge_steps::{AceReport, DENY_INHERITANCE, DENY_RIGHTS, PurgeStepOp, StepOutcome, StepReport};
use crate::runtime::snapshot::Snapshot;

/// How a fake host behaves.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub unreachable: bool,
    /// Containment made but not in effect, with this problem.
    pub contain_problem: Option<String>,
    pub reboot: RebootScript,
    /// Verifying scans that still find something (then clean).
    pub dirty_scans: u32,
    /// Verifying scans find something the purge acts on but no operation
    /// can address (an injected process its plan may not end, ...).
    pub unaddressable: bool,
    /// Verifying scans also show a Dridex finding below the playbook's
    /// confidence (listed, not acted on).
    pub loader_below_activate: bool,
    /// Evidence of these paths cannot be secured.
    pub unsecured: Vec<String>,
    /// Failing operations: this many `apply` calls fail as unreachable.
    pub apply_failures: u32,
    /// A deny of these folders is refused (the runtime's `failed`).
    pub deny_refused: Vec<String>,
    /// A user is logged on (session 1) until this long after the fakes
    /// were made (`Duration::MAX`: never logs off).
    pub user_until: Option<Duration>,
    /// Each re-purge round's plan also denies writes to these folders.
    pub repurge_denies: Vec<String>,
    /// Each re-purge round's plan also reverts this Defender exclusion
    /// (a path value under Exclusions\Paths).
    pub repurge_exclusion: Option<String>,
    /// Folders not on the host: a deny of one answers drift, the folder
    /// gone (the runtime's `folder` record).
    pub gone_folders: Vec<String>,
    /// The operator's address the host's records show for a containment
    /// step's connection (added to what the request names).
    pub sees_operator: Option<String>,
    /// The operator's address its verifying scans record.
    pub scan_operator: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RebootScript {
    #[default]
    Normal,
    /// The host goes down and never comes back.
    Hangs,
    /// The countdown passes and nothing happens.
    NeverStarts,
}

#[derive(Debug, Default)]
struct HostSim {
    boots: u32,
    /// When a scheduled reboot takes the host down.
    down_at: Option<Instant>,
    /// When it is back.
    up_at: Option<Instant>,
    /// Operation identities carried out (state changed) on the host.
    applied: Vec<String>,
    scans: u32,
    contained: bool,
    /// The operator's addresses its rules keep SMB open to now.
    operator_exempt: Vec<String>,
    /// Folders that carry the deny ACE.
    denied: Vec<String>,
}

/// Every call made, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub host: String,
    pub what: String,
    pub at: Instant,
}

pub struct FakeHosts {
    scripts: HashMap<String, Script>,
    sims: Mutex<HashMap<String, HostSim>>,
    pub calls: Mutex<Vec<Call>>,
    pub available: Available,
    /// How long a rebooting host is down.
    pub down_for: Duration,
    /// `apply` on these hosts waits for the gate (to stop a run mid-way).
    pub gate_hosts: Mutex<Vec<String>>,
    pub gate: Notify,
    /// Most hosts down or counting down at once.
    pub peak_down: Mutex<usize>,
    /// When the fakes were made (users log off relative to it).
    started: Instant,
}

impl FakeHosts {
    pub fn new(scripts: &[(&str, Script)]) -> FakeHosts {
        FakeHosts {
            scripts: scripts.iter().map(|(h, s)| (h.to_lowercase(), s.clone())).collect(),
            sims: Mutex::new(HashMap::new()),
            calls: Mutex::new(Vec::new()),
            available: Available::all(),
            down_for: Duration::from_secs(60),
            gate_hosts: Mutex::new(Vec::new()),
            gate: Notify::new(),
            peak_down: Mutex::new(0),
            started: Instant::now(),
        }
    }

    fn script(&self, host: &str) -> Script {
        self.scripts.get(&host.to_lowercase()).cloned().unwrap_or_default()
    }

    fn log(&self, host: &str, what: impl Into<String>) {
        self.calls.lock().unwrap().push(Call {
            host: host.into(),
            what: what.into(),
            at: Instant::now(),
        });
    }

    /// The calls of one kind (`reboot`, `apply`, ...) in order.
    pub fn calls_of(&self, what: &str) -> Vec<Call> {
        self.calls.lock().unwrap().iter().filter(|c| c.what.starts_with(what)).cloned().collect()
    }

    /// Operations that changed `host`, in order.
    pub fn applied(&self, host: &str) -> Vec<String> {
        self.sims.lock().unwrap().get(&host.to_lowercase()).map(|s| s.applied.clone()).unwrap_or_default()
    }

    pub fn boots(&self, host: &str) -> u32 {
        let mut sims = self.sims.lock().unwrap();
        let s = sims.entry(host.to_lowercase()).or_default();
        Self::settle(s, Instant::now(), self.script(host).reboot);
        s.boots
    }

    pub fn contained(&self, host: &str) -> bool {
        self.sims.lock().unwrap().get(&host.to_lowercase()).is_some_and(|s| s.contained)
    }

    /// Advance a host's reboot to `now`.
    fn settle(s: &mut HostSim, now: Instant, script: RebootScript) {
        if let (Some(up), RebootScript::Normal) = (s.up_at, script)
            && now >= up
        {
            s.boots += 1;
            s.down_at = None;
            s.up_at = None;
        }
    }

    /// Is the host down now (or unreachable by script)?
    fn reach(&self, host: &str) -> StepResult<()> {
        let script = self.script(host);
        if script.unreachable {
            return Err(StepError::Unreachable(format!("{host}: no answer on 5985")));
        }
        let now = Instant::now();
        let mut sims = self.sims.lock().unwrap();
        let s = sims.entry(host.to_lowercase()).or_default();
        Self::settle(s, now, script.reboot);
        if script.reboot != RebootScript::NeverStarts && s.down_at.is_some_and(|d| now >= d) {
            return Err(StepError::Unreachable(format!("{host}: connection refused (rebooting)")));
        }
        Ok(())
    }

    fn note_down(&self) {
        let now = Instant::now();
        let down = self
            .sims
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.down_at.is_some() && s.up_at.is_none_or(|u| now < u))
            .count();
        let mut peak = self.peak_down.lock().unwrap();
        *peak = (*peak).max(down);
    }
}

fn identity(op: &Op) -> String {
    serde_json::to_string(op).unwrap_or_default()
}

impl FakeHosts {
    /// The operator's addresses `host`'s rules keep SMB open to now.
    pub fn operator_exempt(&self, host: &str) -> Vec<String> {
        self.sims.lock().unwrap().get(&host.to_lowercase()).map(|s| s.operator_exempt.clone()).unwrap_or_default()
    }

    /// Folders of `host` that carry the deny ACE now.
    pub fn denied(&self, host: &str) -> Vec<String> {
        self.sims.lock().unwrap().get(&host.to_lowercase()).map(|s| s.denied.clone()).unwrap_or_default()
    }
}

impl HostSteps for FakeHosts {
    fn available(&self) -> Available {
        self.available.clone()
    }

    async fn contain(&self, host: &str, request: &ContainRequest) -> StepResult<ContainReport> {
        self.reach(host)?;
        self.log(host, "contain");
        let script = self.script(host);
        let mut operator = request.operator.clone();
        operator.extend(script.sees_operator.into_iter().filter(|a| !request.operator.contains(a)));
        {
            let mut sims = self.sims.lock().unwrap();
            let sim = sims.entry(host.to_lowercase()).or_default();
            sim.contained = true;
            sim.operator_exempt = operator.clone();
        }
        Ok(ContainReport {
            in_effect: script.contain_problem.is_none(),
            problems: script.contain_problem.into_iter().collect(),
            summary: String::new(),
            operator,
        })
    }

    async fn extend_deadman(&self, host: &str, _: &ContainRequest) -> StepResult<()> {
        self.reach(host)?;
        self.log(host, "extend");
        Ok(())
    }

    async fn release(&self, host: &str, _: &str) -> StepResult<()> {
        self.reach(host)?;
        self.log(host, "release");
        self.sims.lock().unwrap().entry(host.to_lowercase()).or_default().contained = false;
        Ok(())
    }

    async fn evidence(&self, host: &str, files: &[EvidenceRequest]) -> StepResult<EvidenceOutcome> {
        self.reach(host)?;
        self.log(host, "evidence");
        let unsecured = self.script(host).unsecured;
        Ok(EvidenceOutcome {
            archive: format!("/evidence/{host}.zip"),
            secured: files
                .iter()
                .filter(|f| !unsecured.iter().any(|u| u.eq_ignore_ascii_case(&f.path)))
                .map(|f| f.path.to_lowercase())
                .collect(),
            problems: unsecured,
        })
    }

    async fn apply(&self, host: &str, ops: &[Op]) -> StepResult<Vec<OpOutcome>> {
        self.reach(host)?;
        let gated = self.gate_hosts.lock().unwrap().iter().any(|h| h.eq_ignore_ascii_case(host));
        if gated {
            self.gate.notified().await;
        }
        self.log(host, format!("apply {}", ops.len()));
        {
            let mut sims = self.sims.lock().unwrap();
            let s = sims.entry(host.to_lowercase()).or_default();
            let failures = self.script(host).apply_failures as usize;
            let tries = self.calls.lock().unwrap().iter().filter(|c| c.host == host && c.what.starts_with("apply")).count();
            if tries <= failures {
                return Err(StepError::Unreachable(format!("{host}: connection reset")));
            }
            let out = ops
                .iter()
                .map(|op| {
                    let id = identity(op);
                    if s.applied.contains(&id) {
                        OpOutcome::AlreadyAbsent
                    } else {
                        s.applied.push(id);
                        OpOutcome::Done
                    }
                })
                .collect();
            Ok(out)
        }
    }

    async fn purge_steps(&self, host: &str, ops: &[PurgeStepOp]) -> StepResult<Vec<StepReport>> {
        self.reach(host)?;
        self.log(host, format!("purge_steps {}", ops.iter().map(PurgeStepOp::kind).collect::<Vec<_>>().join(",")));
        let (refused, gone) = (self.script(host).deny_refused, self.script(host).gone_folders);
        let mut sims = self.sims.lock().unwrap();
        let s = sims.entry(host.to_lowercase()).or_default();
        let ace = |sid: &str, state: &str| AceReport {
            sid: sid.to_string(),
            rights: DENY_RIGHTS,
            inheritance: DENY_INHERITANCE,
            propagation: 0,
            state: state.to_string(),
        };
        let report = |outcome, ace| StepReport { outcome, ace, removed_by: String::new(), folder_gone: false };
        Ok(ops
            .iter()
            .map(|op| match op {
                PurgeStepOp::DenyWrites { folder, .. } if refused.contains(folder) => report(
                    StepOutcome::Failed { reason: format!("cannot set the deny on {folder}: access denied") },
                    None,
                ),
                PurgeStepOp::DenyWrites { folder, .. } if gone.contains(folder) => StepReport {
                    folder_gone: true,
                    ..report(StepOutcome::Drift { observed: format!("no folder at {folder}: no deny was placed") }, None)
                },
                PurgeStepOp::DenyWrites { folder, sid } => {
                    let had = s.denied.contains(folder);
                    if !had {
                        s.denied.push(folder.clone());
                    }
                    let detail = if had { "already denied".to_string() } else { String::new() };
                    report(StepOutcome::Done { detail }, Some(ace(sid, if had { "present" } else { "added" })))
                }
                PurgeStepOp::RemoveDenyWrites { folder, sid } => match s.denied.iter().position(|f| f == folder) {
                    Some(i) => {
                        s.denied.remove(i);
                        report(StepOutcome::Done { detail: String::new() }, Some(ace(sid, "removed")))
                    }
                    None => report(StepOutcome::AlreadyAbsent { detail: String::new() }, None),
                },
                PurgeStepOp::RevertDefenderExclusion { value, .. } => {
                    let id = format!("exclusion {value}");
                    if s.applied.contains(&id) {
                        report(StepOutcome::AlreadyAbsent { detail: String::new() }, None)
                    } else {
                        s.applied.push(id);
                        StepReport { removed_by: "Remove-MpPreference".into(), ..report(StepOutcome::Done { detail: String::new() }, None) }
                    }
                }
            })
            .collect())
    }

    async fn scan(&self, host: &str) -> StepResult<Snapshot> {
        self.reach(host)?;
        self.log(host, "scan");
        self.sims.lock().unwrap().entry(host.to_lowercase()).or_default().scans += 1;
        let mut s = crate::detect::builder::SnapshotBuilder::new(host).build();
        s.computer_name = host.to_string();
        s.operator_address = self.script(host).scan_operator.unwrap_or_default();
        Ok(s)
    }

    async fn boot_time(&self, host: &str) -> StepResult<String> {
        self.reach(host)?;
        self.log(host, "boot_time");
        // As the runtime reports it (UTC); each boot an hour after the
        // one before.
        Ok(format!("2026-12-07T{:02}:00:00.000000Z", self.boots(host) % 24))
    }

    async fn reboot(&self, host: &str, request: &RebootRequest) -> StepResult<RebootAnswer> {
        self.reach(host)?;
        self.log(host, "reboot");
        let now = Instant::now();
        let answer = {
            let mut sims = self.sims.lock().unwrap();
            let s = sims.entry(host.to_lowercase()).or_default();
            if s.down_at.is_some() {
                RebootAnswer::only(RebootStart::AlreadyScheduled)
            } else {
                s.down_at = Some(now + request.countdown);
                s.up_at = match self.script(host).reboot {
                    RebootScript::Normal => Some(now + request.countdown + self.down_for),
                    _ => None,
                };
                RebootAnswer::only(RebootStart::Scheduled)
            }
        };
        self.note_down();
        Ok(answer)
    }

    async fn abort_reboot(&self, host: &str) -> StepResult<()> {
        self.reach(host)?;
        self.log(host, "abort");
        let mut sims = self.sims.lock().unwrap();
        let s = sims.entry(host.to_lowercase()).or_default();
        s.down_at = None;
        s.up_at = None;
        Ok(())
    }

    async fn logged_on_users(&self, host: &str) -> StepResult<Vec<LoggedOnUser>> {
        self.reach(host)?;
        self.log(host, "users");
        let on = self
            .script(host)
            .user_until
            .is_some_and(|d| d == Duration::MAX || Instant::now() < self.started + d);
        Ok(if on {
            vec![LoggedOnUser {
                sid: "S-1-5-21-1-2-3-1001".into(),
                name: r"CORP\alice".into(),
                session: 1,
            }]
        } else {
            Vec::new()
        })
    }
}

/// The re-planner: a host's verifying scan finds something while its
/// script's `dirty_scans` last.
pub struct FakeReplan {
    pub hosts: Arc<FakeHosts>,
    next_id: AtomicI64,
    used: Mutex<HashMap<String, u32>>,
}

impl FakeReplan {
    pub fn new(hosts: Arc<FakeHosts>) -> FakeReplan {
        FakeReplan {
            hosts,
            next_id: AtomicI64::new(10_000),
            used: Mutex::new(HashMap::new()),
        }
    }
}

impl Replan for FakeReplan {
    async fn replan(&self, host: &str, _: Snapshot, round: u32) -> Result<Replanned, String> {
        let script = self.hosts.script(host);
        if script.unaddressable {
            return Ok(Replanned {
                acted_on: vec!["QAK-INJECT (Qakbot, high): code injected into explorer.exe".into()],
                ..Replanned::default()
            });
        }
        let loaders_left = if script.loader_below_activate {
            vec!["DRX-SIDELOAD-COPIED-EXE (Dridex, medium): a Windows program copied out of System32 into an odd folder".into()]
        } else {
            Vec::new()
        };
        let mut used = self.used.lock().unwrap();
        let n = used.entry(host.to_lowercase()).or_default();
        if *n >= script.dirty_scans {
            return Ok(Replanned { loaders_left, ..Replanned::default() });
        }
        *n += 1;
        Ok(Replanned {
            ops: vec![PlannedOp {
                plan_op_id: self.next_id.fetch_add(1, Ordering::SeqCst),
                op: Op::KillProcess {
                    pid: 4000 + round,
                    expected_image: "back.exe".into(),
                    expected_started: String::new(),
                },
            }],
            steps: script
                .repurge_denies
                .iter()
                .map(|folder| crate::plan::Step::DenyWrites { folder: folder.clone() })
                .chain(script.repurge_exclusion.iter().map(|value| crate::plan::Step::RevertDefenderExclusion {
                    hive: "HKLM".into(),
                    key: r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths".into(),
                    value: value.clone(),
                }))
                .map(|step| (self.next_id.fetch_add(1, Ordering::SeqCst), step))
                .collect(),
            acted_on: vec!["BACK (Emotet, high): back.exe runs again".into()],
            loaders_left,
        })
    }
}

/// The operator: says yes or no, and counts the questions.
pub struct FakeOperator {
    pub answer: bool,
    pub asked: Mutex<Vec<String>>,
}

impl Approver for FakeOperator {
    async fn go_ahead(&self, question: &str) -> bool {
        self.asked.lock().unwrap().push(question.to_string());
        self.answer
    }
}
