//! One command over many hosts as a phase of progress events: `exec`,
//! `check` and `scan` each run a job per host `forks` at a time
//! (`transport::runner`), and tell the views the phase's start, each host's
//! start and end, and the phase's totals, the same way. What a job does
//! and what its outcome says are the command's; this module only frames it.

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::event::{Event, Phase};
use crate::transport::runner::{self, Missing, RunReport};
use crate::transport::{HostTarget, Refusal, host_of};

/// What the views need of one host's outcome.
pub trait HostOutcome {
    /// The host's inventory name.
    fn host(&self) -> &str;
    /// Whether the host's job succeeded.
    fn ok(&self) -> bool;
    /// What to show beside a host that did not succeed.
    fn detail(&self) -> Option<String> {
        None
    }
}

/// Run `job` on every host as `phase` (step `step` on each host), at most
/// `forks` at once; `missing` makes the outcome of a host that never
/// finished (Ctrl-C), `on_done` sees each outcome as it arrives. Results
/// come back in inventory order. The phase's totals are told by
/// [`finish`], once the caller has done what it must with the results.
#[allow(clippy::too_many_arguments)]
pub async fn run<R, F, Fut>(
    phase: Phase,
    step: &'static str,
    hosts: Vec<Result<HostTarget, Refusal>>,
    forks: usize,
    cancel: CancellationToken,
    emitter: &Arc<Emitter>,
    job: F,
    missing: impl Fn(&Result<HostTarget, Refusal>, Missing) -> R,
    mut on_done: impl FnMut(&R),
) -> RunReport<R>
where
    R: HostOutcome + Send + 'static,
    F: Fn(Result<HostTarget, Refusal>, CancellationToken) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
{
    emitter.show(&Event::PhaseStarted { phase, hosts: hosts.len() });
    let em = Arc::clone(emitter);
    runner::run_all(
        hosts,
        forks,
        cancel,
        runner::DEFAULT_GRACE,
        move |entry, cancel| {
            em.show(&Event::HostStarted {
                host: host_of(&entry).name.clone(),
                phase,
                step: step.into(),
            });
            job(entry, cancel)
        },
        missing,
        |o| {
            emitter.show(&Event::HostFinished {
                host: o.host().to_string(),
                phase,
                ok: o.ok(),
                detail: o.detail(),
            });
            on_done(o)
        },
    )
    .await
}

/// Tell the views the phase's totals: hosts done and hosts set aside.
pub fn finish<R: HostOutcome>(emitter: &Emitter, phase: Phase, report: &RunReport<R>) {
    let failed = report.results.iter().filter(|o| !o.ok()).count();
    emitter.show(&Event::PhaseFinished {
        phase,
        done: report.results.len() - failed,
        set_aside: failed,
        not_available: None,
    });
}

impl HostOutcome for crate::report::exec_view::ExecOutcome {
    fn host(&self) -> &str {
        &self.host
    }
    fn ok(&self) -> bool {
        self.failure().is_none()
    }
}

impl HostOutcome for crate::report::check_view::CheckOutcome {
    fn host(&self) -> &str {
        &self.host
    }
    fn ok(&self) -> bool {
        crate::report::check_view::problem(self).is_none()
    }
}

impl HostOutcome for crate::report::scan_view::ScanOutcome {
    fn host(&self) -> &str {
        &self.host
    }
    fn ok(&self) -> bool {
        self.failure().is_none()
    }
    fn detail(&self) -> Option<String> {
        self.result.as_ref().err().map(|f| f.message.clone())
    }
}
