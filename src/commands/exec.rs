//! `cauterize exec`: run one PowerShell command or script on many hosts,
//! `--forks` at a time, and show the output grouped by identical result.

use crate::cli::{ExecArgs, RunArgs, TargetArgs};
use crate::report::exec_view::{self, ExecOutcome};
use crate::report::progress::{self, Progress};
use crate::transport::runner::{self, Missing};
use crate::transport::{self, HostTarget, Phase, Prepared, Refusal, TransportError};
use anyhow::{Context, bail};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Largest script accepted, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 8 * 1024 * 1024;

/// Run `cauterize exec`; returns the process exit code.
pub async fn run(args: &ExecArgs) -> anyhow::Result<i32> {
    let script = Arc::new(read_script(args)?);
    let prepared = prepare_targets(&args.target, &args.run)?;
    let total = prepared.hosts.len();

    let cancel = transport::interrupt::watch_ctrl_c();
    let mut bar = Progress::new(total, progress::wanted(args.run.no_progress, args.run.json), "exec");
    for warning in &prepared.warnings {
        bar.println(&format!("warning: {warning}"));
    }
    let json = args.run.json;
    let report = runner::run_all(
        prepared.hosts,
        args.run.forks as usize,
        cancel,
        runner::DEFAULT_GRACE,
        |entry, cancel| {
            let script = Arc::clone(&script);
            async move { exec_on(entry, &script, &cancel).await }
        },
        |entry, why| missing_outcome(entry, why),
        |outcome: &ExecOutcome| {
            bar.record(outcome.failure().is_none());
            if json {
                // Stream JSON lines as hosts finish: runbooks see progress.
                println!("{}", exec_view::json_line(outcome));
            }
        },
    )
    .await;
    bar.finish();

    let summary = exec_view::summarize(&report.results);
    if json {
        eprintln!("{}", summary.line());
    } else {
        print!("{}", exec_view::render_text(&report.results));
    }
    if report.interrupted {
        eprintln!("interrupted: hosts not finished are reported as interrupted");
    }
    Ok(summary.exit_code(report.interrupted))
}

/// The script: `--script-file F` (`-` for stdin) or the words after `--`.
fn read_script(args: &ExecArgs) -> anyhow::Result<String> {
    let script = match &args.script_file {
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_SCRIPT_BYTES as u64 + 1)
                .read_to_string(&mut text)
                .context("cannot read the script from stdin (is it UTF-8 text?)")?;
            text
        }
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script file {} (is it UTF-8 text?)", path.display()))?,
        None => args.script.join(" "),
    };
    if script.len() > MAX_SCRIPT_BYTES {
        bail!("the script is larger than {MAX_SCRIPT_BYTES} bytes");
    }
    if script.trim().is_empty() {
        bail!("nothing to run: give the PowerShell after `--` (cauterize exec -i inv.yml -- 'hostname') or use --script-file");
    }
    Ok(script)
}

/// Load the inventory, apply `--timeout`, resolve passwords (prompting at
/// most once per credential) and build the clients. Shared with `check`.
pub(crate) fn prepare_targets(target: &TargetArgs, run: &RunArgs) -> anyhow::Result<Prepared> {
    let mut inventory = crate::inventory::load(&target.inventory, target.limit.as_deref())?;
    if inventory.hosts.is_empty() {
        bail!("the inventory {} has no hosts to act on", target.inventory.display());
    }
    if let Some(secs) = run.timeout {
        if secs == 0 {
            bail!("--timeout must be at least 1 second");
        }
        for host in &mut inventory.hosts {
            host.settings.command_timeout = Duration::from_secs(secs);
        }
    }
    let mut resolver = transport::secrets::inventory_resolver(&inventory);
    Ok(transport::prepare(&inventory, &mut resolver))
}

/// Run the script on one host (or report why it could not be tried).
async fn exec_on(
    entry: Result<HostTarget, Refusal>,
    script: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> ExecOutcome {
    let started = Instant::now();
    match entry {
        Err(refusal) => ExecOutcome {
            host: refusal.host.name,
            address: refusal.host.address,
            result: Err(refusal.error),
            elapsed: Duration::ZERO,
        },
        Ok(target) => {
            let result = transport::run_script(&target, script, cancel).await;
            ExecOutcome { host: target.host.name, address: target.host.address, result, elapsed: started.elapsed() }
        }
    }
}

/// The outcome of a host that never finished (Ctrl-C, or a bug).
fn missing_outcome(entry: &Result<HostTarget, Refusal>, why: Missing) -> ExecOutcome {
    let host = match entry {
        Ok(t) => &t.host,
        Err(r) => &r.host,
    };
    ExecOutcome {
        host: host.name.clone(),
        address: host.address.clone(),
        result: Err(missing_error(why)),
        elapsed: Duration::ZERO,
    }
}

/// The error that stands for a missing result.
pub(crate) fn missing_error(why: Missing) -> TransportError {
    match why {
        Missing::NotStarted => TransportError::Interrupted { phase: Phase::Queued },
        Missing::Aborted => TransportError::Interrupted { phase: Phase::Closing },
        Missing::Panicked(msg) => TransportError::Protocol {
            phase: Phase::Running,
            detail: format!("internal error (please report): {msg}"),
        },
    }
}
