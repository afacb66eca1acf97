//! Verify the hosts that needed no reboot (nothing was found on them, so
//! nothing was removed): a fresh scan. One that shows something now is
//! re-purged under a new plan and, having had something removed, rebooted
//! and verified like the others. Hosts that need a reboot are verified
//! after it, in their wave; when the host steps cannot reboot they stay
//! purged and unverified, and the summary says so. Those rebooted here
//! hold one of `max_down` places while down, as in the waves.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::engine::event::{Event, Phase};
use crate::engine::operation::{Approver, Engine, EngineError, Flow, Replan};
use crate::engine::state::HostState;
use crate::engine::steps::HostSteps;

impl<S: HostSteps, R: Replan, A: Approver> Engine<S, R, A> {
    pub(in crate::engine) async fn verify_phase(self: &Arc<Self>) -> Result<Flow, EngineError> {
        let hosts: Vec<String> = self
            .hosts_where(|r| r.state == HostState::Purged)
            .into_iter()
            .filter(|h| !self.needs_reboot(h))
            .collect();
        self.emit(Event::PhaseStarted {
            phase: Phase::Verify,
            hosts: hosts.len(),
        })
        .await?;
        // Hosts verified here are scanned `forks` at a time, but those that
        // turn out to need a reboot take one of `max_down` places first, as
        // in the waves: never more hosts down at once than the playbook says.
        let down = Arc::new(Semaphore::new(self.settings.reboot.max_down.max(1)));
        self.for_hosts(hosts.clone(), self.settings.forks, move |me, host| {
            let down = Arc::clone(&down);
            async move {
                let round = me.record(&host).round;
                me.verify_once(&host, round).await?;
                if me.record(&host).state == HostState::Purged && me.available.reboot.is_none() {
                    // Something was removed: reboot and verify it as the waves do.
                    let _place = down.acquire_owned().await.expect("the semaphore is never closed");
                    me.reboot_and_verify(&host).await?;
                }
                Ok(())
            }
        })
        .await?;
        self.finish_phase(Phase::Verify, &hosts, None).await?;
        if let Some(why) = self.budget_spent(&hosts) {
            return Ok(Flow::Halt(crate::engine::summary::Halt {
                phase: Phase::Verify,
                why,
                next: self.resume_command.clone(),
            }));
        }
        Ok(Flow::Go)
    }
}
