//! The release: containment lifted by policy, or by the operator's choice.
//!
//! `all_clean` (default): once every in-scope host is verified clean; a
//! host set aside (unreached, needing a person, ...) holds the release
//! until it is handled or accepted by name. `per_group`: each inventory
//! group once its own hosts are. Under both, a source of lateral movement
//! the inventory does not list holds every release (`fleet::holds`) until
//! it is scanned as an inventory host or accepted. `manual`: only `cauterize release`. The
//! operator's `release --all | --group G | --host H` releases those hosts
//! whatever their state (it is their call; the journal says so). A released
//! host's deny ACEs (`purge_steps`), rules and dead-man are removed and
//! read back gone. A chosen host that is not released (a deny that could
//! not be lifted, rules that could not be removed: the host is down or
//! rebooting) is set aside in the phase's summary with why, never counted
//! as done: `--no-progress` shows no error lines, only the summary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::engine::event::{Event, Level, Outcome, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Flow, Replan};
use crate::engine::resume::key;
use crate::engine::settings::ReleasePolicy;
use crate::engine::state::{HostRecord, HostState};
use crate::engine::steps::{HostSteps, StepError};
use crate::engine::summary::name_list;

/// Which hosts to release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseSelection {
    /// By the playbook's policy.
    Policy,
    /// Every host of the operation.
    All,
    /// The hosts of these inventory groups.
    Groups(Vec<String>),
    /// These hosts.
    Hosts(Vec<String>),
}

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    pub(in crate::engine) async fn release_phase(self: &Arc<Self>) -> Result<Flow, EngineError> {
        let records: Vec<HostRecord> = self.lock_records().values().cloned().collect();
        let chosen = match self.release.clone() {
            ReleaseSelection::Policy => self.by_policy(&records).await?,
            ReleaseSelection::All => records.iter().map(|r| r.name.clone()).collect(),
            ReleaseSelection::Groups(groups) => records
                .iter()
                .filter(|r| {
                    self.planned(&r.name)
                        .groups
                        .iter()
                        .any(|g| groups.iter().any(|w| w.eq_ignore_ascii_case(g)))
                })
                .map(|r| r.name.clone())
                .collect(),
            ReleaseSelection::Hosts(hosts) => records
                .iter()
                .filter(|r| hosts.iter().any(|h| h.eq_ignore_ascii_case(&r.name)))
                .map(|r| r.name.clone())
                .collect(),
        };
        let chosen: Vec<String> = chosen
            .into_iter()
            .filter(|h| self.record(h).state != HostState::Released && self.record(h).state != HostState::Refused)
            .collect();
        self.emit(Event::PhaseStarted {
            phase: Phase::Release,
            hosts: chosen.len(),
        })
        .await?;
        if self.release != ReleaseSelection::Policy && !chosen.is_empty() {
            // The operator's explicit choice stands; what it leaves open
            // is said and journaled.
            let held = self.held_sources().await?;
            if !held.is_empty() {
                self.message(
                    Level::Warning,
                    None,
                    format!("released by the operator although unlisted source(s) still hold the release: {}", held.join("; ")),
                )
                .await?;
            }
        }
        if self.release != ReleaseSelection::Policy {
            let unclean: Vec<String> = chosen
                .iter()
                .filter(|h| self.record(h).state != HostState::Clean)
                .cloned()
                .collect();
            if !unclean.is_empty() {
                self.message(
                    Level::Warning,
                    None,
                    format!(
                        "released by the operator although not verified clean: {}",
                        name_list(&unclean, 10)
                    ),
                )
                .await?;
            }
        }
        // Hosts chosen but not released, with why: set aside in the
        // phase's summary (the operator may not see the error lines).
        let kept: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let sink = Arc::clone(&kept);
        self.for_hosts(chosen.clone(), self.settings.forks, move |me, host| {
            let sink = Arc::clone(&sink);
            async move {
                if let Some(why) = me.release_host(&host).await? {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push((host, why));
                }
                Ok(())
            }
        })
        .await?;
        let not_available = (self.available.release.is_some()
            && chosen.iter().any(|h| self.record(h).contained))
        .then(|| self.available.release.clone().unwrap_or_default());
        let kept = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
        self.finish_phase_with(Phase::Release, &chosen, not_available, kept).await?;
        Ok(Flow::Go)
    }

    /// The unlisted sources that hold the release now, each as `ADDRESS
    /// (reached HOSTS): why`; the review is kept for the result. A review
    /// that fails holds the release (fails closed), saying why.
    async fn held_sources(&self) -> Result<Vec<String>, EngineError> {
        match self.sources.review().await {
            Ok(sources) => {
                let held = crate::fleet::holds::holding(&sources)
                    .iter()
                    .map(|s| format!("{} (reached {}): {}", s.address, name_list(&s.hosts, 10), s.detail))
                    .collect();
                *self.sources_seen.lock().unwrap_or_else(|p| p.into_inner()) = sources;
                Ok(held)
            }
            Err(e) => Ok(vec![format!(
                "the unlisted sources of lateral movement could not be reviewed ({e}); run `cauterize release` again"
            )]),
        }
    }

    /// The hosts the release policy lets go now, with the decision told.
    async fn by_policy(&self, records: &[HostRecord]) -> Result<Vec<String>, EngineError> {
        if self.settings.release != ReleasePolicy::Manual {
            // An unlisted machine that reached hosts may be infected: it
            // holds every release until resolved (by a scan of it as an
            // inventory host, or accepted by the operator).
            let held = self.held_sources().await?;
            if !held.is_empty() {
                self.emit(Event::Decision {
                    phase: Phase::Release,
                    what: format!(
                        "release held by {} unlisted source(s) of lateral movement: {}",
                        held.len(),
                        held.join("; ")
                    ),
                })
                .await?;
                return Ok(Vec::new());
            }
        }
        let accepted = |name: &str| self.accepted.contains(&name.to_lowercase());
        let ok = |r: &HostRecord| matches!(r.state, HostState::Clean | HostState::Released) || accepted(&r.name);
        let clean: Vec<String> = records.iter().filter(|r| r.state == HostState::Clean).map(|r| r.name.clone()).collect();
        match self.settings.release {
            ReleasePolicy::Manual => {
                self.emit(Event::Decision {
                    phase: Phase::Release,
                    what: "the release policy is manual: nothing is released until `cauterize release`".into(),
                })
                .await?;
                Ok(Vec::new())
            }
            ReleasePolicy::AllClean => {
                let mut holding: Vec<String> = records.iter().filter(|r| !ok(r)).map(|r| r.name.clone()).collect();
                holding.extend(
                    self.excluded
                        .iter()
                        .filter(|e| e.holds_release && !accepted(&e.host))
                        .map(|e| e.host.clone()),
                );
                if holding.is_empty() {
                    self.emit(Event::Decision {
                        phase: Phase::Release,
                        what: format!("every in-scope host is verified clean: releasing {} host(s)", clean.len()),
                    })
                    .await?;
                    Ok(clean)
                } else {
                    self.emit(Event::Decision {
                        phase: Phase::Release,
                        what: format!(
                            "release held (policy all_clean) by {} host(s) not verified clean (each host's state says why): {}; handle them, or accept them by name with `cauterize release --accept-unreached HOST`",
                            holding.len(),
                            crate::report::hostlist::compact(&holding)
                        ),
                    })
                    .await?;
                    Ok(Vec::new())
                }
            }
            ReleasePolicy::PerGroup => {
                let mut groups: BTreeMap<String, Vec<&HostRecord>> = BTreeMap::new();
                for r in records {
                    let gs = &self.planned(&r.name).groups;
                    if gs.is_empty() {
                        groups.entry("(no group)".into()).or_default().push(r);
                    }
                    for g in gs {
                        groups.entry(g.clone()).or_default().push(r);
                    }
                }
                let mut out = Vec::new();
                for (group, members) in groups {
                    let holding: Vec<String> = members.iter().filter(|r| !ok(r)).map(|r| r.name.clone()).collect();
                    let what = if holding.is_empty() {
                        out.extend(members.iter().filter(|r| r.state == HostState::Clean).map(|r| r.name.clone()));
                        format!("group {group}: every host verified clean, released")
                    } else {
                        format!("group {group}: release held by {}", name_list(&holding, 10))
                    };
                    self.emit(Event::Decision {
                        phase: Phase::Release,
                        what,
                    })
                    .await?;
                }
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    /// Release one host: its deny ACEs lifted, then its containment
    /// removed; `Some(why)` when it is not released.
    async fn release_host(&self, host: &str) -> Result<Option<String>, EngineError> {
        // The deny ACEs the purge placed go first, whatever the
        // containment: a host is released only with none left.
        if let Err(why) = self.lift_denies(host).await? {
            self.message(
                Level::Error,
                Some(host),
                format!("{host}: {why}; the host is not released (its containment stays until the dead-man's deadline): run `cauterize release --host {host}` again"),
            )
            .await?;
            self.show(Event::HostFinished {
                host: host.into(),
                phase: Phase::Release,
                ok: false,
                detail: Some(why.clone()),
            });
            return Ok(Some(why));
        }
        let record = self.record(host);
        if !record.contained {
            // Chosen (by policy: clean; or by the operator, whatever its
            // state) with nothing of ours left on it.
            self.set(host, HostState::Released, Some("no containment was on the host: nothing to remove".into()))
                .await?;
            return Ok(None);
        }
        if let Some(why) = &self.available.release {
            self.message(Level::Warning, Some(host), format!("{host}: containment stays: {why}")).await?;
            return Ok(None);
        }
        self.show(Event::HostStarted {
            host: host.into(),
            phase: Phase::Release,
            step: "release".into(),
        });
        let steps = Arc::clone(&self.steps);
        let prefix = self.rule_prefix.clone();
        let result = self
            .action(
                host,
                Phase::Release,
                key::release(),
                serde_json::json!({ "rule_prefix": prefix }).to_string(),
                || {
                    let (steps, host, prefix) = (Arc::clone(&steps), host.to_string(), prefix.clone());
                    async move { steps.release(&host, &prefix).await }
                },
                |r| match r {
                    Ok(()) => (Outcome::Done, "rules and dead-man removed, read back gone".into()),
                    Err(e) => (Outcome::Failed, e.to_string()),
                },
            )
            .await?;
        match result {
            Ok(()) => {
                self.set(host, HostState::Released, None).await?;
                self.show(Event::HostFinished {
                    host: host.into(),
                    phase: Phase::Release,
                    ok: true,
                    detail: None,
                });
                Ok(None)
            }
            Err(StepError::Interrupted) => Ok(Some("interrupted before its containment was removed".into())),
            Err(e) => {
                self.message(
                    Level::Error,
                    Some(host),
                    format!("{host}: containment could not be removed ({e}); the dead-man removes it at its deadline, or run `cauterize release --host {host}` again"),
                )
                .await?;
                self.show(Event::HostFinished {
                    host: host.into(),
                    phase: Phase::Release,
                    ok: false,
                    detail: Some(e.to_string()),
                });
                Ok(Some(format!("containment could not be removed: {e}")))
            }
        }
    }
}
