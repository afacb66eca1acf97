//! `cauterize exec`: run one PowerShell command or script on many hosts,
//! `--forks` at a time, and show the output grouped by identical result.

use crate::cli::{ExecArgs, RunArgs, TargetArgs};
use crate::report::exec_view::{self, ExecOutcome};
use crate::engine::fan_out;
use crate::engine::{Emitter, Event, Phase as EnginePhase};
use crate::engine::event::Level;
use crate::report::live;
use crate::transport::runner::{self, Missing, RunReport};
use crate::transport::{self, HostTarget, Prepared, Refusal};
use anyhow::{Context, bail};
use crate::transport::smb::SmbCredential;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Largest script accepted, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 8 * 1024 * 1024;

/// Run `cauterize exec`; returns the process exit code.
pub async fn run(args: &ExecArgs) -> anyhow::Result<i32> {
    let script = Arc::new(read_script(args)?);
    let prepared = prepare_targets(&args.target, &args.run)?;
    let cancel = transport::interrupt::watch_ctrl_c();
    let emitter = progress_emitter(&args.run, &prepared.warnings);
    let _ticker = emitter.start_ticker();
    let json = args.run.json;
    let report = exec_all(prepared.hosts, script, args.run.forks as usize, cancel, Arc::clone(&emitter), |outcome| {
        if json {
            // Stream JSON lines as hosts finish: runbooks see progress.
            crate::report::emit::stdout_line(&exec_view::json_line(outcome));
        }
    })
    .await;
    emitter.finish();

    let summary = exec_view::summarize(&report.results);
    if json {
        eprintln!("{}", summary.line());
    } else {
        crate::report::emit::stdout_text(&exec_view::render_text(&report.results));
    }
    if report.interrupted {
        eprintln!("interrupted: hosts not finished are reported as interrupted");
    }
    Ok(summary.exit_code(report.interrupted))
}

/// The progress view for these flags (bars, plain lines, or none), with
/// the preparation's warnings shown first. Shared by the commands that
/// work on many hosts.
pub(crate) fn progress_emitter(run: &RunArgs, warnings: &[String]) -> Arc<Emitter> {
    let view = live::choose(run.no_progress, run.json, Duration::from_secs(run.progress_every));
    let emitter = Arc::new(Emitter::new(live::sinks(view)));
    for warning in warnings {
        emitter.show(&Event::Message {
            level: Level::Warning,
            host: None,
            text: warning.clone(),
        });
    }
    emitter
}

/// Run `script` on every host, `forks` at a time; `on_done` sees each
/// outcome as it arrives, `emitter` each host's start and end. Results come
/// back in inventory order.
pub async fn exec_all(
    hosts: Vec<Result<HostTarget, Refusal>>,
    script: Arc<String>,
    forks: usize,
    cancel: CancellationToken,
    emitter: Arc<Emitter>,
    mut on_done: impl FnMut(&ExecOutcome),
) -> RunReport<ExecOutcome> {
    let report = fan_out::run(
        EnginePhase::Exec,
        "exec",
        hosts,
        forks,
        cancel,
        &emitter,
        |entry, cancel| {
            let script = Arc::clone(&script);
            async move { exec_on(entry, &script, &cancel).await }
        },
        missing_outcome,
        |o| on_done(o),
    )
    .await;
    fan_out::finish(&emitter, EnginePhase::Exec, &report);
    report
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
        Some(path) => std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the script file {} (is it UTF-8 text?)",
                path.display()
            )
        })?,
        None => args.script.join(" "),
    };
    if script.len() > MAX_SCRIPT_BYTES {
        bail!("the script is larger than {MAX_SCRIPT_BYTES} bytes");
    }
    if script.trim().is_empty() {
        bail!(
            "nothing to run: give the PowerShell after `--` (cauterize exec -i inv.yml -- 'hostname') or use --script-file"
        );
    }
    Ok(script)
}

/// Load the inventory, apply `--timeout`, resolve passwords (prompting at
/// most once per credential) and build the clients. Shared with `check`.
pub(crate) fn prepare_targets(target: &TargetArgs, run: &RunArgs) -> anyhow::Result<Prepared> {
    Ok(prepare_with_smb(target, run)?.0)
}

/// [`prepare_targets`], with each host's SMB credential (the same account,
/// for evidence over the admin shares) by lower-case host name: the
/// passwords are asked for once.
pub(crate) fn prepare_with_smb(
    target: &TargetArgs,
    run: &RunArgs,
) -> anyhow::Result<(Prepared, HashMap<String, SmbCredential>)> {
    let mut inventory = crate::inventory::load(&target.inventory, target.limit.as_deref())?;
    if inventory.hosts.is_empty() {
        bail!(
            "the inventory {} has no hosts to act on",
            target.inventory.display()
        );
    }
    if let Some(secs) = run.timeout {
        if secs == 0 {
            bail!("--timeout must be at least 1 second");
        }
        for host in &mut inventory.hosts {
            host.settings.command_timeout = Duration::from_secs(secs);
        }
    }
    let mut resolver = transport::secrets::Remembering::new(transport::secrets::inventory_resolver(&inventory));
    let prepared = transport::prepare(&inventory, &mut resolver);
    let mut smb = HashMap::new();
    for host in &inventory.hosts {
        if let Some(spec) = inventory.credential(&host.settings.credential)
            && let Some(password) = resolver.kept(spec, host)
        {
            smb.insert(host.name.to_lowercase(), SmbCredential::from_spec(spec, password));
        }
    }
    Ok((prepared, smb))
}

/// Run the script on one host (or report why it could not be tried).
async fn exec_on(
    entry: Result<HostTarget, Refusal>,
    script: &str,
    cancel: &CancellationToken,
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
            ExecOutcome {
                host: target.host.name,
                address: target.host.address,
                result,
                elapsed: started.elapsed(),
            }
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
        result: Err(runner::missing_error(why)),
        elapsed: Duration::ZERO,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! `exec` from an inventory file against the lab. Addresses:
    //! 127.50.20.0/24.
    use super::*;
    use crate::cli::{RunArgs, TargetArgs};
    use crate::lab::{Account, HostFault, HostSpec, Lab, LabSpec, OsInfo};
    use crate::report::exec_view::render_text;
    use crate::transport::ErrorKind;

    pub(crate) fn lab_host(name: &str, address: [u8; 4], fault: HostFault) -> HostSpec {
        HostSpec {
            name: name.into(),
            address: address.into(),
            port: 5985,
            domain: "CORP".into(),
            os: OsInfo {
                caption: "Microsoft Windows 10 Pro".into(),
                build: "19045".into(),
                ps_version: "5.1.19041.1".into(),
            },
            accounts: vec![Account {
                domain: String::new(),
                user: "Administrator".into(),
                password: "Lab-Pw1".into(),
                admin: true,
            }],
            allow_unencrypted: false,
            allow_basic: false,
            https: false,
            max_shells_per_user: 30,
            latency: Duration::ZERO,
            clock_skew_secs: 0,
            fault,
        }
    }

    /// An inventory file for `hosts` in a temporary directory.
    pub(crate) fn inventory_file(dir: &std::path::Path, hosts: &[(&str, &str)]) -> TargetArgs {
        std::fs::write(dir.join("pw.txt"), "Lab-Pw1\n").unwrap();
        let mut yaml = String::from(
            "defaults:\n  transport: http\n  credential: lab\n  connect_timeout: 2s\n  operation_timeout: 2s\n  command_timeout: 20s\n\
             credentials:\n  lab:\n    user: Administrator\n    password_file: pw.txt\nhosts:\n",
        );
        for (name, address) in hosts {
            yaml.push_str(&format!("  {name}: {{ address: {address} }}\n"));
        }
        let path = dir.join("inv.yml");
        std::fs::write(&path, yaml).unwrap();
        TargetArgs {
            inventory: path,
            limit: None,
        }
    }

    pub(crate) fn run_args() -> RunArgs {
        RunArgs {
            forks: 8,
            json: false,
            no_progress: true,
            timeout: None,
            progress_every: 10,
        }
    }

    #[tokio::test]
    async fn exec_groups_outputs_and_reports_failures() {
        let lab = Lab::start(LabSpec {
            hosts: vec![
                lab_host("WS-001", [127, 50, 20, 1], HostFault::None),
                lab_host("WS-002", [127, 50, 20, 2], HostFault::None),
                lab_host("WS-003", [127, 50, 20, 3], HostFault::Down),
                lab_host("WS-004", [127, 50, 20, 4], HostFault::None),
            ],
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = inventory_file(
            dir.path(),
            &[
                ("ws-001", "127.50.20.1"),
                ("ws-002", "127.50.20.2"),
                ("ws-003", "127.50.20.3"),
                ("ws-004", "127.50.20.4"),
            ],
        );
        let prepared = prepare_targets(&target, &run_args()).unwrap();
        let mut seen = 0;
        let report = exec_all(
            prepared.hosts,
            Arc::new("Write-Output 'same everywhere'".to_string()),
            2,
            CancellationToken::new(),
            Arc::new(Emitter::new(vec![])),
            |_| seen += 1,
        )
        .await;
        assert_eq!(seen, 4);
        let kinds: Vec<Option<ErrorKind>> = report
            .results
            .iter()
            .map(|o| o.result.as_ref().err().map(|e| e.kind()))
            .collect();
        assert_eq!(kinds, vec![None, None, Some(ErrorKind::Unreachable), None]);
        let text = render_text(&report.results);
        assert!(
            text.starts_with("==== ws-[001-002,004] (3 hosts) ====\nsame everywhere\n"),
            "{text}"
        );
        assert!(
            text.contains("ws-003: unreachable: cannot reach 127.50.20.3 on port 5985"),
            "{text}"
        );
        assert!(text.ends_with("3 ok, 1 failed (1 unreachable)\n"), "{text}");
        assert_eq!(
            exec_view::summarize(&report.results).exit_code(report.interrupted),
            crate::exit::PARTIAL
        );
        for h in ["WS-001", "WS-002", "WS-004"] {
            assert_eq!(lab.open_shells(h), 0);
        }
        lab.stop().await;
    }

    #[test]
    fn empty_scripts_and_zero_timeouts_are_refused() {
        let args = ExecArgs {
            target: TargetArgs {
                inventory: "x.yml".into(),
                limit: None,
            },
            run: run_args(),
            script_file: None,
            script: vec!["  ".into()],
        };
        assert!(
            read_script(&args)
                .unwrap_err()
                .to_string()
                .contains("nothing to run")
        );
        let args = ExecArgs {
            script: vec!["Get-Date;".into(), "hostname".into()],
            ..args
        };
        assert_eq!(read_script(&args).unwrap(), "Get-Date; hostname");
    }
}
