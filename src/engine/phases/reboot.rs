//! The reboot waves, and each rebooted host's verification.
//!
//! The hosts that need a reboot are put in waves ([`crate::engine::waves`]);
//! a wave starts only when the one before has ended (after the pause, and
//! after the operator's go-ahead following the canary when the playbook
//! asks for it), never more hosts down at once than `max_down`. Each host
//! of a wave: its boot time is read, the reboot asked with a countdown
//! (1190 "already scheduled" and 1115 "in progress" count as asked), then
//! its boot time is read until it changes (back) or the time-out passes
//! (set aside: it never started, or it did not come back); back, it is
//! scanned; anything found again is purged under a new plan (recorded in
//! the journal) and the host rebooted again, within the re-purge rounds.
//! The failure budget is checked after each wave.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::event::{Event, Level, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Flow, Replan, Replanned, poll_pause};
use crate::engine::resume::{RebootStep, came_back, key};
use crate::engine::state::{HostState, after_verify};
use crate::engine::steps::{HostSteps, RebootAnswer, RebootRequest, RebootStart, StepError};
use crate::engine::settings::LoggedOn;
use crate::engine::summary::{self, Halt};

/// The files a purge round's operations delete or queue for deletion at
/// boot: the reboot asks the host, before it goes down, which are gone and
/// which queued, so the journal shows the queued deletions in place.
fn purged_files(ops: &[crate::engine::plan_input::PlannedOp]) -> Vec<String> {
    use crate::runtime::ops::Op;
    ops.iter()
        .filter_map(|p| match &p.op {
            Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => Some(path.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// The journal's detail of a reboot asked: how the host answered, and
/// the purge's files as it showed them.
fn reboot_detail(a: &RebootAnswer) -> String {
    let start = match a.start {
        RebootStart::Scheduled => "scheduled".to_string(),
        RebootStart::AlreadyScheduled => "a shutdown was already scheduled (1190): it will do".to_string(),
        RebootStart::InProgress => "a shutdown was in progress (1115)".to_string(),
    };
    match &a.files {
        None => start,
        Some(f) if f.left.is_empty() => format!(
            "{start}; of the purge's {} file(s), {} queued for deletion at boot and {} already gone",
            f.asked, f.queued, f.gone
        ),
        Some(f) => format!(
            "{start}; of the purge's {} file(s), {} queued for deletion at boot, {} already gone, {} still there and not queued (the reboot leaves them): {}",
            f.asked,
            f.queued,
            f.gone,
            f.left.len(),
            f.left.join(", ")
        ),
    }
}

/// What a host not rebooted for its users still needs, in its reason.
const AFTER_NOT_REBOOTED: &str = "its purge is done and what it queued is deleted at its next boot: reboot it once they have logged off, then scan it again; it holds the release until handled or accepted by name";

/// How a host's reboot-and-verify pipeline ended.
enum Pipeline {
    Done,
    Interrupted,
}

/// One wave as the reboot phase runs it.
struct RebootWave {
    number: u32,
    role: crate::engine::settings::Role,
    hosts: Vec<String>,
}

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    /// The waves `hosts` reboot in: the reviewed plan's (each host's
    /// `reboot` step names its wave, [`crate::plan::waves`] made them), in
    /// wave order and numbered again from 1 over the hosts that still need
    /// a reboot. A host with no wave in the plan (a re-purge round, or an
    /// operation started without a plan) comes last, in one more wave.
    fn waves_of(&self, hosts: &[String]) -> Vec<RebootWave> {
        let mut by_wave: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
        for h in hosts {
            by_wave.entry(self.planned(h).wave().unwrap_or(u32::MAX)).or_default().push(h.clone());
        }
        by_wave
            .into_values()
            .enumerate()
            .map(|(i, hosts)| RebootWave {
                number: i as u32 + 1,
                role: self.planned(&hosts[0]).role,
                hosts,
            })
            .collect()
    }

    pub(in crate::engine) async fn reboot_phase(self: &Arc<Self>) -> Result<Flow, EngineError> {
        let hosts = self.hosts_where(|r| {
            matches!(
                r.state,
                HostState::Purged | HostState::RebootAsked | HostState::Rebooted | HostState::RebootFailed | HostState::Dirty
            )
        });
        let hosts: Vec<String> = hosts.into_iter().filter(|h| self.needs_reboot(h)).collect();
        self.emit(Event::PhaseStarted {
            phase: Phase::Reboot,
            hosts: hosts.len(),
        })
        .await?;
        if let Some(why) = self.available.reboot.clone() {
            self.finish_phase(Phase::Reboot, &[], Some(why)).await?;
            return Ok(Flow::Go);
        }
        let waves = self.waves_of(&hosts);
        let count = waves.len() as u32;
        self.emit(Event::Decision {
            phase: Phase::Reboot,
            what: format!(
                "{} host(s) to reboot in {} wave(s): {}",
                hosts.len(),
                count,
                waves
                    .iter()
                    .map(|w| format!("{} {}", w.hosts.len(), w.role.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .await?;
        let mut so_far: Vec<String> = Vec::new();
        for wave in waves {
            if self.cancel.is_cancelled() {
                break;
            }
            if wave.number > 1 {
                if wave.number == 2 && self.settings.reboot.canary_go_ahead {
                    let question = format!(
                        "the canary wave is done ({}); go ahead with the {} wave(s) left?",
                        self.wave_state(&so_far),
                        count - 1
                    );
                    if !self.approver.go_ahead(&question).await {
                        self.finish_phase(Phase::Reboot, &hosts, None).await?;
                        return Ok(Flow::Halt(Halt {
                            phase: Phase::Reboot,
                            why: "the operator did not give the go-ahead after the canary wave".into(),
                            next: format!("{} --yes", self.resume_command),
                        }));
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(self.settings.reboot.pause_between_waves) => {}
                    () = self.cancel.cancelled() => break,
                }
            }
            self.emit(Event::WaveStarted {
                wave: wave.number,
                waves: count,
                role: wave.role,
                hosts: wave.hosts.clone(),
            })
            .await?;
            let limit = self.settings.reboot.max_down.min(self.settings.forks).max(1);
            self.for_hosts(wave.hosts.clone(), limit, |me, host| async move {
                me.reboot_and_verify(&host).await.map(|_| ())
            })
            .await?;
            so_far.extend(wave.hosts.iter().cloned());
            let records = self.lock_records().clone();
            let aside = wave
                .hosts
                .iter()
                .filter(|h| records.get(&h.to_lowercase()).is_some_and(|r| r.state.set_aside()))
                .count();
            self.emit(Event::WaveFinished {
                wave: wave.number,
                done: wave.hosts.len() - aside,
                set_aside: aside,
            })
            .await?;
            if let Some(why) = self.budget_spent(&so_far) {
                self.finish_phase(Phase::Reboot, &hosts, None).await?;
                return Ok(Flow::Halt(Halt {
                    phase: Phase::Reboot,
                    why,
                    next: self.resume_command.clone(),
                }));
            }
        }
        self.finish_phase(Phase::Reboot, &hosts, None).await?;
        Ok(Flow::Go)
    }

    /// `clean 3, set aside 1` over `hosts`.
    fn wave_state(&self, hosts: &[String]) -> String {
        let records = self.lock_records().clone();
        let clean = hosts
            .iter()
            .filter(|h| records.get(&h.to_lowercase()).is_some_and(|r| r.state == HostState::Clean))
            .count();
        format!("{clean} of {} verified clean", hosts.len())
    }

    /// Reboot a host and verify it, re-purging and rebooting again within
    /// the re-purge rounds. Picks up where the journal left it.
    pub(in crate::engine) async fn reboot_and_verify(&self, host: &str) -> Result<(), EngineError> {
        loop {
            let record = self.record(host);
            let round = record.round;
            if matches!(record.state, HostState::Clean | HostState::NeedsPerson | HostState::Released) {
                return Ok(());
            }
            if record.state == HostState::Dirty {
                // A resumed run: the re-purge of this round is next.
                let ops = self.ops_of(host, round);
                self.purge_host(host, round, &ops).await?;
                if self.record(host).state != HostState::Purged {
                    return Ok(());
                }
                continue;
            }
            let step = if record.state == HostState::Rebooted {
                RebootStep::Verify
            } else {
                self.prior.reboot_step(host, record.state, round)
            };
            let back = match step {
                RebootStep::Verify => true,
                RebootStep::ReadBootTime { before: Some(before) } => {
                    self.emit(Event::Decision {
                        phase: Phase::Reboot,
                        what: format!(
                            "{host}: an earlier run asked for its reboot and ended before it was confirmed back; reading its boot time again"
                        ),
                    })
                    .await?;
                    match self.steps.boot_time(host).await {
                        Ok(now) if came_back(&before, &now) => {
                            self.set(host, HostState::Rebooted, Some(format!("back: boot time {now} (was {before})")))
                                .await?;
                            true
                        }
                        // Up with the same boot time: ask again (a shutdown
                        // still pending answers 1190, never a second reboot).
                        Ok(_) => self.ask_and_wait(host, round).await?,
                        // Down: it may be rebooting now; wait for it.
                        Err(_) => match self.wait_back(host, &before, self.settings.reboot.countdown).await? {
                            Some(back) => back,
                            None => return Ok(()),
                        },
                    }
                }
                RebootStep::ReadBootTime { before: None } | RebootStep::Ask => self.ask_and_wait(host, round).await?,
            };
            if !back || !self.after_reboot(host, round).await? || !self.settle(host).await? {
                return Ok(());
            }
            match self.verify_host(host, round).await? {
                Pipeline::Done => {}
                Pipeline::Interrupted => return Ok(()),
            }
            if self.record(host).state != HostState::Purged {
                return Ok(());
            }
            // Re-purged: reboot again.
        }
    }

    /// The playbook's `verify.settle` after a host is back, before its
    /// verifying scan: what starts at boot and at logon (a loader's Run
    /// value, a task at logon) has started by then, so the scan sees it.
    /// `false` on Ctrl-C.
    async fn settle(&self, host: &str) -> Result<bool, EngineError> {
        let settle = self.settings.settle;
        if settle.is_zero() {
            return Ok(true);
        }
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Verify,
            step: format!("settling {} before its verifying scan", crate::inventory::format_duration(settle)),
        });
        tokio::select! {
            () = tokio::time::sleep(settle) => Ok(true),
            () = self.cancel.cancelled() => Ok(false),
        }
    }

    /// Once the host is back, before its verifying scan: the round's ops
    /// that waited for the reboot (a loader's folder, emptied at boot or
    /// denied writes until the shutdown had passed), each journaled before
    /// and after; those an earlier run settled are not sent again. One
    /// that fails is recorded and told, and the verifying scan judges what
    /// is left. `false` on Ctrl-C.
    async fn after_reboot(&self, host: &str, round: u32) -> Result<bool, EngineError> {
        let mut send = Vec::new();
        for o in self.after_reboot_ops_of(host, round) {
            let key = key::after_reboot(round, o.plan_op_id);
            if self.prior.status(host, &key).settled() {
                continue;
            }
            self.emit(Event::ActionBegun {
                host: host.into(),
                phase: Phase::Reboot,
                key: key.clone(),
                plan_op: Some(o.plan_op_id),
                what: serde_json::to_string(&o.op).unwrap_or_default(),
            })
            .await?;
            send.push((o.op, key));
        }
        match self.carry_out(host, Phase::Reboot, &send).await? {
            Ok(_) => Ok(true),
            Err(StepError::Interrupted) => Ok(false),
            Err(e) => {
                self.message(
                    Level::Warning,
                    Some(host),
                    format!("{host}: what waited for its reboot could not be sent ({e}); the verifying scan judges what is left"),
                )
                .await?;
                Ok(true)
            }
        }
    }

    /// The playbook's `logged_on` before a host's reboot: `reboot` asks
    /// nothing (the message and countdown warn whoever is there); `skip`
    /// reads the host's interactive users and sets the host aside for a
    /// person if there are any; `wait` reads them every `poll_every` until
    /// none is left (then the reboot goes ahead) or `logoff_wait` has
    /// passed (then it is set aside like `skip`). A host whose users cannot
    /// be read is set aside too: nobody is rebooted out from under a user
    /// the policy protects. `Some(true)`: reboot now; `Some(false)`: set
    /// aside; `None`: Ctrl-C. The reads are one journaled action
    /// (`reboot/r<round>/users`): ended `already_absent` when nobody is
    /// there (any more), `skipped` when the host is set aside, which a
    /// resumed run reads to take the host up again
    /// ([`Engine::take_up_hosts_left_for_users`]).
    async fn users_let_reboot(&self, host: &str, round: u32) -> Result<Option<bool>, EngineError> {
        let policy = self.settings.reboot.logged_on;
        let rule = match policy {
            LoggedOn::Reboot => return Ok(Some(true)),
            LoggedOn::Skip => "reboot.logged_on: skip",
            LoggedOn::Wait => "reboot.logged_on: wait",
        };
        let wait = self.settings.reboot.logoff_wait;
        self.emit(Event::ActionBegun {
            host: host.into(),
            phase: Phase::Reboot,
            key: key::users(round),
            plan_op: None,
            what: serde_json::json!({ "read": "logged_on_users", "policy": rule, "logoff_wait_secs": wait.as_secs() }).to_string(),
        })
        .await?;
        let ended = |outcome: Outcome, detail: String| Event::ActionEnded {
            host: host.into(),
            phase: Phase::Reboot,
            key: key::users(round),
            outcome,
            detail,
        };
        let deadline = Instant::now() + if policy == LoggedOn::Wait { wait } else { Duration::ZERO };
        let mut waiting = false;
        loop {
            let steps = Arc::clone(&self.steps);
            let read = self
                .step(|| {
                    let (steps, host) = (Arc::clone(&steps), host.to_string());
                    async move { steps.logged_on_users(&host).await }
                })
                .await;
            let users = match read {
                Ok(u) => u,
                Err(StepError::Interrupted) => {
                    self.emit(ended(Outcome::Skipped, "interrupted (Ctrl-C) while reading who is logged on".into())).await?;
                    return Ok(None);
                }
                Err(e) => {
                    let why = format!(
                        "not rebooted: whether users are logged on could not be read ({e}), and `{rule}` keeps a host with users from being rebooted; {}",
                        AFTER_NOT_REBOOTED
                    );
                    self.emit(ended(Outcome::Skipped, why.clone())).await?;
                    self.set(host, HostState::NeedsPerson, Some(why)).await?;
                    return Ok(Some(false));
                }
            };
            let names: Vec<String> = users.iter().map(ToString::to_string).collect();
            if users.is_empty() {
                let said = if waiting { "its users have logged off: the reboot goes ahead" } else { "nobody is logged on: the reboot goes ahead" };
                self.emit(ended(Outcome::AlreadyAbsent, said.into())).await?;
                if waiting {
                    self.emit(Event::Observed {
                        host: Some(host.into()),
                        phase: Phase::Reboot,
                        what: "its users have logged off: the reboot goes ahead".into(),
                    })
                    .await?;
                }
                return Ok(Some(true));
            }
            if Instant::now() >= deadline {
                let why = if waiting {
                    format!(
                        "not rebooted: still logged on after waiting {} for them to log off (`{rule}`): {}; {}",
                        crate::inventory::format_duration(wait),
                        summary::name_list(&names, 5),
                        AFTER_NOT_REBOOTED
                    )
                } else {
                    format!(
                        "not rebooted: users are logged on (`{rule}`): {}; {}",
                        summary::name_list(&names, 5),
                        AFTER_NOT_REBOOTED
                    )
                };
                self.emit(ended(Outcome::Skipped, why.clone())).await?;
                self.set(host, HostState::NeedsPerson, Some(why)).await?;
                self.message(
                    Level::Warning,
                    Some(host),
                    format!("{host} needs a person: not rebooted, {} logged on", summary::name_list(&names, 3)),
                )
                .await?;
                return Ok(Some(false));
            }
            if !waiting {
                waiting = true;
                self.emit(Event::Decision {
                    phase: Phase::Reboot,
                    what: format!(
                        "{host}: waiting up to {} for {} to log off before its reboot (`{rule}`)",
                        crate::inventory::format_duration(wait),
                        summary::name_list(&names, 5)
                    ),
                })
                .await?;
            }
            let pause = poll_pause(&self.settings).min(deadline.saturating_duration_since(Instant::now()));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.cancel.cancelled() => {
                    self.emit(ended(Outcome::Skipped, "interrupted (Ctrl-C) while waiting for users to log off".into())).await?;
                    return Ok(None);
                }
            }
        }
    }

    /// A resumed run takes up again each host set aside, not rebooted,
    /// because users were logged on (they may have left since): back to
    /// `purged` in its round, so its reboot comes next in the waves, with
    /// who is logged on read again first; its purge is not done again.
    pub(in crate::engine) async fn take_up_hosts_left_for_users(&self) -> Result<(), EngineError> {
        let records: Vec<crate::engine::state::HostRecord> = self.lock_records().values().cloned().collect();
        let mut taken = Vec::new();
        for r in records {
            if r.state != HostState::NeedsPerson || !self.prior.left_for_users(&r.name, r.round) {
                continue;
            }
            self.set(
                &r.name,
                HostState::Purged,
                Some("taken up again: set aside because users were logged on, who may have left since; its reboot is next, once who is logged on is read again".into()),
            )
            .await?;
            taken.push(r.name);
        }
        if !taken.is_empty() {
            taken.sort();
            self.emit(Event::Decision {
                phase: Phase::Reboot,
                what: format!(
                    "{} host(s) set aside because users were logged on are taken up again at their reboot (not purged again): {}",
                    taken.len(),
                    summary::name_list(&taken, 8)
                ),
            })
            .await?;
        }
        Ok(())
    }

    /// Ask for the reboot and wait until the host is back. `false` when it
    /// was set aside (or Ctrl-C).
    async fn ask_and_wait(&self, host: &str, round: u32) -> Result<bool, EngineError> {
        match self.users_let_reboot(host, round).await? {
            Some(true) => {}
            Some(false) | None => return Ok(false),
        }
        let steps = Arc::clone(&self.steps);
        let before = self
            .step(|| {
                let (steps, host) = (Arc::clone(&steps), host.to_string());
                async move { steps.boot_time(&host).await }
            })
            .await;
        let before = match before {
            Ok(b) => b,
            Err(StepError::Interrupted) => return Ok(false),
            Err(e) => {
                self.set(host, HostState::RebootFailed, Some(format!("cannot read its boot time before the reboot: {e}")))
                    .await?;
                return Ok(false);
            }
        };
        let request = RebootRequest {
            countdown: self.settings.reboot.countdown,
            message: self.settings.reboot.message.clone(),
            files: purged_files(&self.ops_of(host, round)),
        };
        let what = serde_json::json!({
            "boot_time_before": before,
            "countdown_secs": request.countdown.as_secs(),
            "message": request.message,
            "files": request.files,
        })
        .to_string();
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Reboot,
            step: format!("reboot (round {round})"),
        });
        let answer = self
            .action(
                host,
                Phase::Reboot,
                key::reboot(round),
                what,
                || {
                    let (steps, host, request) = (Arc::clone(&steps), host.to_string(), request.clone());
                    async move { steps.reboot(&host, &request).await }
                },
                |r| match r {
                    Ok(a) => (Outcome::Done, reboot_detail(a)),
                    Err(e) => (Outcome::Failed, e.to_string()),
                },
            )
            .await?;
        match answer {
            Ok(_) => {}
            Err(StepError::Interrupted) => return Ok(false),
            Err(e) => {
                self.set(host, HostState::RebootFailed, Some(format!("the reboot could not be asked for: {e}")))
                    .await?;
                return Ok(false);
            }
        }
        self.set(host, HostState::RebootAsked, None).await?;
        Ok(self.wait_back(host, &before, request.countdown).await?.unwrap_or(false))
    }

    /// Read the boot time until it is not `before`: `Some(true)` back,
    /// `Some(false)` set aside (past the countdown and `back_within`),
    /// `None` Ctrl-C.
    async fn wait_back(&self, host: &str, before: &str, countdown: Duration) -> Result<Option<bool>, EngineError> {
        let deadline = Instant::now() + countdown + self.settings.reboot.back_within;
        loop {
            let seen_up_unchanged = match self.steps.boot_time(host).await {
                Ok(now) if came_back(before, &now) => {
                    self.set(host, HostState::Rebooted, Some(format!("back: boot time {now} (was {before})")))
                        .await?;
                    self.show(Event::HostFinished {
                        host: host.into(),
                        phase: Phase::Reboot,
                        ok: true,
                        detail: None,
                    });
                    return Ok(Some(true));
                }
                Ok(_) => true,
                Err(_) => false,
            };
            if Instant::now() >= deadline {
                let why = if seen_up_unchanged {
                    format!(
                        "the reboot never started: the host still answers with boot time {before} {:?} after the countdown",
                        self.settings.reboot.back_within
                    )
                } else {
                    format!(
                        "did not come back within {:?} after its countdown",
                        self.settings.reboot.back_within
                    )
                };
                self.set(host, HostState::RebootFailed, Some(why)).await?;
                return Ok(Some(false));
            }
            tokio::select! {
                () = tokio::time::sleep(poll_pause(&self.settings)) => {}
                () = self.cancel.cancelled() => return Ok(None),
            }
        }
    }

    /// [`Engine::verify_host`] for the verify phase.
    pub(in crate::engine) async fn verify_once(&self, host: &str, round: u32) -> Result<(), EngineError> {
        self.verify_host(host, round).await.map(|_| ())
    }

    /// Scan a host after its purge (after boot, when it rebooted): clean,
    /// or re-purged under a new plan (state `Purged`, next round), or for
    /// a person once the rounds are spent.
    async fn verify_host(&self, host: &str, round: u32) -> Result<Pipeline, EngineError> {
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Verify,
            step: format!("verify (round {round})"),
        });
        let steps = Arc::clone(&self.steps);
        let scanned = self
            .action(
                host,
                Phase::Verify,
                key::verify(round),
                "scan".into(),
                || {
                    let (steps, host) = (Arc::clone(&steps), host.to_string());
                    async move { steps.scan(&host).await }
                },
                |r| match r {
                    Ok(_) => (Outcome::Done, "scanned".into()),
                    Err(e) => (Outcome::Failed, e.to_string()),
                },
            )
            .await?;
        let snapshot = match scanned {
            Ok(s) => s,
            Err(StepError::Interrupted) => return Ok(Pipeline::Interrupted),
            Err(e) => {
                let to = if e.unreached() { HostState::Unreached } else { HostState::NeedsPerson };
                self.set(host, to, Some(format!("the verifying scan failed: {e}"))).await?;
                return Ok(Pipeline::Done);
            }
        };
        // The scan's own logon came from an address the host's rules do not
        // exempt yet (the operator's NAT or jump host changed): its rules
        // are made again first, before any re-purge.
        let seen = snapshot.operator_address.clone();
        if self.record(host).contained && !seen.is_empty() && !self.operator_seen_by(host).contains(&seen) {
            self.note_operator_seen(host, std::slice::from_ref(&seen));
            self.contain_again(host, &format!("its verifying scan saw cauterize from {seen}, not exempt yet")).await?;
        }
        let Replanned { ops, steps, acted_on, loaders_left } = match self.replan.replan(host, snapshot, round + 1).await {
            Ok(r) => r,
            Err(e) => {
                self.set(host, HostState::NeedsPerson, Some(format!("its verifying scan could not be planned: {e}")))
                    .await?;
                return Ok(Pipeline::Done);
            }
        };
        // Found again, and no operation addresses it: no re-purge round can
        // help, and the host is not clean.
        let nothing_to_do = ops.is_empty() && steps.is_empty();
        let unaddressed = nothing_to_do && !acted_on.is_empty();
        // A scan proves nothing of what the purge had to stop and could
        // not: Qakbot, in memory, writes its DLL and Run value at shutdown
        // and removes them at start-up, so a host whose reviewed
        // `deny_writes` was not carried out (a kind of step this build has
        // no host side for) or not placed (refused, the folder gone or
        // something else) shows nothing after boot while the loader runs
        // again. Such a host is never called clean.
        let not_done: Vec<String> = self.planned(host).not_carried_out().iter().map(|(_, s)| s.tag()).collect();
        // Nor of a file the purge was to delete and left (no evidence copy,
        // refused by the host): a scan sees files through what starts
        // them, and the loader's DLL stays on disk without its persistence.
        let (left, undenied) = {
            let kept = self.left_in_place.lock().unwrap_or_else(|p| p.into_inner());
            (kept.of(host), kept.denies_of(host))
        };
        let rounds = self.repurge_rounds_of(host);
        // Nor when it shows a known loader's finding the playbook's
        // confidence leaves alone (Dridex's side-loading layout at medium
        // under `activate: high`): that loader may run there untouched.
        let verdict = match after_verify(!nothing_to_do, round, rounds) {
            _ if unaddressed => HostState::NeedsPerson,
            HostState::Clean if !not_done.is_empty() || !left.is_empty() || !undenied.is_empty() || !loaders_left.is_empty() => {
                HostState::NeedsPerson
            }
            v => v,
        };
        self.emit(Event::Observed {
            host: Some(host.into()),
            phase: Phase::Verify,
            what: if acted_on.is_empty() {
                "nothing actionable found".into()
            } else if unaddressed {
                format!("{} finding(s) to act on, and no operation the plan may carry out addresses them", acted_on.len())
            } else {
                format!("{} operation(s) needed again", ops.len() + steps.len())
            },
        })
        .await?;
        match verdict {
            HostState::Clean => {
                self.set(host, HostState::Clean, Some(format!("verified clean (round {round})"))).await?;
                self.show(Event::HostFinished {
                    host: host.into(),
                    phase: Phase::Verify,
                    ok: true,
                    detail: None,
                });
            }
            HostState::NeedsPerson => {
                // What the purge left undone that a scan cannot vouch
                // for, said whatever else the scan found.
                let mut unproven = Vec::new();
                if !not_done.is_empty() {
                    unproven.push(format!(
                        "its reviewed {} step(s) were not carried out (no host-side operation in this build): a loader that rewrites its persistence at shutdown and removes it at start-up shows nothing to a scan while it runs; a person must check the host",
                        not_done.join(", ")
                    ));
                }
                if !undenied.is_empty() {
                    let folders: Vec<String> = undenied.iter().map(|(p, why)| format!("{p} ({why})")).collect();
                    unproven.push(format!(
                        "its reviewed deny_writes was not placed on {}: a loader that rewrites its persistence at shutdown and removes it at start-up shows nothing to a scan while it runs; a person must check the host",
                        summary::name_list(&folders, 3)
                    ));
                }
                if !loaders_left.is_empty() {
                    unproven.push(format!(
                        "it still shows {} finding(s) of a known loader below the playbook's confidence, which the purge does not act on: {}; review them (`cauterize status --host {host}` and its latest plan) and purge with `activate: medium`, or clean the host by hand",
                        loaders_left.len(),
                        summary::name_list(&loaders_left, 3)
                    ));
                }
                if !left.is_empty() {
                    let files: Vec<String> = left.iter().map(|(p, why)| format!("{p} ({why})")).collect();
                    unproven.push(format!(
                        "the purge left {} planned file deletion(s) undone, which a scan cannot vouch for: {}; keep a copy of each by hand (or over SMB), delete it, and scan the host again",
                        left.len(),
                        summary::name_list(&files, 3)
                    ));
                }
                let why = if unaddressed {
                    let mut why = format!(
                        "its verifying scan (round {round}) still finds what the purge acts on, and its new plan can carry out nothing against it: {}",
                        summary::name_list(&acted_on, 3)
                    );
                    if !unproven.is_empty() {
                        why.push_str(&format!("; and {}", unproven.join("; and ")));
                    }
                    why
                } else if nothing_to_do {
                    format!("its verifying scan (round {round}) finds nothing the purge acts on, but {}", unproven.join("; and "))
                } else {
                    format!(
                        "still found after {} re-purge round(s): {} operation(s) would be needed again",
                        rounds,
                        ops.len() + steps.len()
                    )
                };
                self.set(host, HostState::NeedsPerson, Some(why)).await?;
                self.message(
                    Level::Warning,
                    Some(host),
                    if unaddressed {
                        format!("{host} needs a person: found again after its reboot, and nothing the plan may do addresses it (see `cauterize status --host {host}` and its latest plan)")
                    } else if nothing_to_do && not_done.is_empty() && undenied.is_empty() && left.is_empty() {
                        format!("{host} needs a person: a known loader's finding below the playbook's confidence is still there: {}", summary::name_list(&loaders_left, 1))
                    } else if nothing_to_do && not_done.is_empty() && undenied.is_empty() {
                        format!("{host} needs a person: {} planned file deletion(s) left undone (no evidence copy, or refused by the host)", left.len())
                    } else if nothing_to_do && not_done.is_empty() {
                        format!("{host} needs a person: not verifiable by a scan, the write deny of {} folder(s) was not placed", undenied.len())
                    } else if nothing_to_do {
                        format!("{host} needs a person: not verifiable by a scan, its reviewed {} step(s) were not carried out", not_done.join(", "))
                    } else {
                        format!("{host} needs a person: the loader came back after every re-purge round")
                    },
                )
                .await?;
            }
            _ => {
                let next = round + 1;
                let why = if round == 0 && self.planned(host).never_planned() {
                    format!("found by its first scan (after containment): purged under the new plan, round {next} of {rounds}")
                } else {
                    format!("found again: re-purge round {next} of {rounds}")
                };
                self.set_round(host, HostState::Dirty, Some(why), Some(next))
                .await?;
                self.set_ops(host, next, ops.clone(), steps);
                self.purge_host(host, next, &ops).await?;
            }
        }
        Ok(Pipeline::Done)
    }
}
