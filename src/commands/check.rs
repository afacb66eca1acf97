//! `cauterize check`: preflight every host. TCP reachability of 5985 and
//! 5986, then (when the configured WinRM port answers) the probe script
//! through the real transport: authentication, admin rights, OS, PowerShell
//! version, MaxShellsPerUser and clock skew.
//!
//! A preflight answers fast: each step (the TCP probes, opening a shell,
//! the probe command) has its own short time-out (`--step-timeout`, 15 s by
//! default), so a host whose commands hang is reported as hung after that
//! long instead of holding the table for the inventory's command time-out.

use crate::cli::CheckArgs;
use crate::report::check_view::{self, CheckOutcome, HungStep, ProbeStatus};
use crate::report::clock;
use crate::engine::fan_out;
use crate::engine::{Emitter, Phase as EnginePhase};
use std::sync::Arc;
use crate::runtime::probe;
use crate::transport::runner::{self, Missing, RunReport};
use crate::transport::tcp::{PortState, probe_port};
use crate::transport::session::HostSession;
use crate::transport::{self, HostTarget, Phase, Refusal, TransportError, host_of};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Run `cauterize check`; returns the process exit code.
pub async fn run(args: &CheckArgs) -> anyhow::Result<i32> {
    let prepared = super::exec::prepare_targets(&args.target, &args.run)?;
    let step = Duration::from_secs(args.step_timeout);
    let cancel = transport::interrupt::watch_ctrl_c();
    let emitter = super::exec::progress_emitter(&args.run, &prepared.warnings);
    let _ticker = emitter.start_ticker();
    let json = args.run.json;
    let report = check_all(prepared.hosts, step, args.run.forks as usize, cancel, Arc::clone(&emitter), |outcome| {
        if json {
            crate::report::emit::stdout_line(&check_view::json_line(outcome));
        }
    })
    .await;
    emitter.finish();

    let summary = check_view::summarize(&report.results);
    if json {
        eprintln!("{}", summary.line());
    } else {
        crate::report::emit::stdout_text(&check_view::render_text(&report.results));
    }
    Ok(summary.exit_code(report.interrupted))
}

/// Check every host, `forks` at a time, each step within `step`; `on_done`
/// sees each outcome as it arrives, `emitter` each host's start and end.
/// Results come back in inventory order.
pub async fn check_all(
    mut hosts: Vec<Result<HostTarget, Refusal>>,
    step: Duration,
    forks: usize,
    cancel: CancellationToken,
    emitter: Arc<Emitter>,
    mut on_done: impl FnMut(&CheckOutcome),
) -> RunReport<CheckOutcome> {
    // The probe command gets the step time-out too (or the host's command
    // time-out, when shorter); the transport then ends and closes it.
    for target in hosts.iter_mut().flatten() {
        let settings = &mut target.host.settings;
        settings.command_timeout = settings.command_timeout.min(step);
    }
    let report = fan_out::run(
        EnginePhase::Check,
        "check",
        hosts,
        forks,
        cancel,
        &emitter,
        move |entry, cancel| async move { check_host(entry, step, &cancel).await },
        missing_outcome,
        |o| on_done(o),
    )
    .await;
    fan_out::finish(&emitter, EnginePhase::Check, &report);
    report
}

/// Check one host, each step within `step`.
async fn check_host(
    entry: Result<HostTarget, Refusal>,
    step: Duration,
    cancel: &CancellationToken,
) -> CheckOutcome {
    let host = host_of(&entry).clone();
    let settings = &host.settings;
    let wait = settings.connect_timeout.min(step);
    let other = !matches!(settings.port, 5985 | 5986);
    // Both standard ports (and a custom one) at once.
    let (p5985, p5986, custom) = tokio::join!(
        probe_port(&host.address, 5985, wait),
        probe_port(&host.address, 5986, wait),
        async {
            if other {
                Some(probe_port(&host.address, settings.port, wait).await)
            } else {
                None
            }
        }
    );
    let configured = match settings.port {
        5985 => p5985.clone(),
        5986 => p5986.clone(),
        _ => custom.unwrap_or(PortState::Error("not checked".into())),
    };
    let probe = match entry {
        // A refusal of the settings is the problem whatever the ports say.
        Err(refusal) => ProbeStatus::Failed(refusal.error),
        Ok(_) if !configured.is_open() => ProbeStatus::Skipped,
        Ok(target) => run_probe(&target, step, cancel).await,
    };
    CheckOutcome {
        host: host.name.clone(),
        address: host.address.clone(),
        port: settings.port,
        port_5985: p5985,
        port_5986: p5986,
        port_configured: configured,
        probe,
    }
}

/// Open a shell (within `step`), run the probe script (its command
/// time-out is at most `step`, see [`check_all`]) and read its facts.
async fn run_probe(target: &HostTarget, step: Duration, cancel: &CancellationToken) -> ProbeStatus {
    // Cancelling this token (not the run's) when the step is over lets a
    // shell creation that is under way finish and delete its shell.
    let open_cancel = cancel.child_token();
    let open = HostSession::open(target, &open_cancel);
    tokio::pin!(open);
    let opened = tokio::select! {
        opened = &mut open => opened,
        () = tokio::time::sleep(step) => {
            open_cancel.cancel();
            let _ = (&mut open).await;
            return ProbeStatus::Hung { step: HungStep::OpeningShell, limit: step };
        }
    };
    let result = match opened {
        Err(e) => Err(e),
        Ok(mut session) => {
            let result = session.run_script(probe::PROBE).await;
            session.close().await;
            result
        }
    };
    match result {
        Err(e) if is_hung(&e) && !cancel.is_cancelled() => {
            ProbeStatus::Hung { step: HungStep::Command, limit: step }
        }
        Err(e) => ProbeStatus::Failed(e),
        Ok(out) if out.exit_code != 0 => ProbeStatus::BadOutput(format!(
            "the probe exited with code {}: {}",
            out.exit_code,
            crate::report::sanitize::one_line(&out.stderr)
        )),
        Ok(out) => match probe::parse(&out.stdout) {
            Err(e) => ProbeStatus::BadOutput(e.to_string()),
            Ok(facts) => {
                let skew_secs = clock::skew_secs(&facts.utc_now, out.started_at, out.elapsed);
                ProbeStatus::Ok { facts, skew_secs }
            }
        },
    }
}

/// A time-out once the shell was open: the command hung.
fn is_hung(e: &TransportError) -> bool {
    matches!(
        e,
        TransportError::TimedOut {
            phase: Phase::Starting | Phase::SendingInput | Phase::Running,
            ..
        }
    )
}

/// The outcome of a host that never finished.
fn missing_outcome(entry: &Result<HostTarget, Refusal>, why: Missing) -> CheckOutcome {
    let host = host_of(entry);
    let unknown = PortState::Error("not checked".into());
    CheckOutcome {
        host: host.name.clone(),
        address: host.address.clone(),
        port: host.settings.port,
        port_5985: unknown.clone(),
        port_5986: unknown.clone(),
        port_configured: unknown,
        probe: ProbeStatus::Failed(runner::missing_error(why)),
    }
}

#[cfg(test)]
mod tests {
    //! `check` from an inventory file against the lab. Addresses:
    //! 127.50.21.0/24.
    use super::*;
    use crate::commands::exec::tests::{inventory_file, lab_host, run_args};
    use crate::lab::{HostFault, Lab, LabSpec};
    use crate::report::summary::Category;

    #[tokio::test]
    async fn check_reports_ports_facts_and_problems() {
        let mut skewed = lab_host("WS-002", [127, 50, 21, 2], HostFault::None);
        skewed.clock_skew_secs = -900;
        skewed.os.ps_version = "2.0".into();
        skewed.max_shells_per_user = 5;
        let lab = Lab::start(LabSpec {
            hosts: vec![
                lab_host("WS-001", [127, 50, 21, 1], HostFault::None),
                skewed,
                lab_host("WS-003", [127, 50, 21, 3], HostFault::WinrmDisabled),
            ],
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = inventory_file(
            dir.path(),
            &[
                ("ws-001", "127.50.21.1"),
                ("ws-002", "127.50.21.2"),
                ("ws-003", "127.50.21.3"),
            ],
        );
        let prepared = crate::commands::exec::prepare_targets(&target, &run_args()).unwrap();
        let step = Duration::from_secs(crate::cli::DEFAULT_CHECK_STEP_SECS);
        let report = check_all(prepared.hosts, step, 4, CancellationToken::new(), Arc::new(Emitter::new(vec![])), |_| {}).await;
        let r = &report.results;
        assert!(r[0].port_5985.is_open());
        assert_eq!(check_view::problem(&r[0]), None);
        match &r[1].probe {
            ProbeStatus::Ok { facts, skew_secs } => {
                assert_eq!(facts.ps_version, "2.0");
                assert_eq!(facts.max_shells_per_user, Some(5));
                assert!(
                    skew_secs.is_some_and(|s| (-905..=-895).contains(&s)),
                    "{skew_secs:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(check_view::notes(&r[1]).len(), 3);
        assert!(matches!(r[2].probe, ProbeStatus::Skipped));
        assert_eq!(
            check_view::problem(&r[2]).map(|p| p.0),
            Some(Category::Unreachable)
        );
        let text = check_view::render_text(r);
        assert!(text.starts_with("HOST"), "{text}");
        assert!(text.ends_with("2 ok, 1 failed (1 unreachable)\n"), "{text}");
        lab.stop().await;
    }
}
