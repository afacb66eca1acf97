//! The commands the PowerShell emulator knows: `Write-Output` (`echo`,
//! `write`), `Write-Host`, `Write-Error`, `Start-Sleep` (accepted and not
//! waited: lab time need not pass), `Restart-Computer` (this host only),
//! the native `hostname` and `whoami`, and the external programs of
//! [`programs`](super::programs) (`shutdown.exe`).

use super::binder::{self, Arg, CmdletSpec, Kind};
use super::error_record as er;
use super::power::PowerAction;
use super::programs;
use super::powershell::{Fail, Interp, Span, as_int};
use super::value::Value;

const WRITE_OUTPUT: CmdletSpec = CmdletSpec {
    name: "Write-Output",
    class: "Microsoft.PowerShell.Commands.WriteOutputCommand",
    params: &[("InputObject", Kind::Value("System.Management.Automation.PSObject[]")), ("NoEnumerate", Kind::Switch)],
    positional: &["InputObject"],
    remaining: Some("InputObject"),
};

const WRITE_HOST: CmdletSpec = CmdletSpec {
    name: "Write-Host",
    class: "Microsoft.PowerShell.Commands.WriteHostCommand",
    params: &[
        ("Object", Kind::Value("System.Object")),
        ("NoNewline", Kind::Switch),
        ("Separator", Kind::Value("System.Object")),
        ("ForegroundColor", Kind::Value("System.ConsoleColor")),
        ("BackgroundColor", Kind::Value("System.ConsoleColor")),
    ],
    positional: &["Object"],
    remaining: Some("Object"),
};

const WRITE_ERROR: CmdletSpec = CmdletSpec {
    name: "Write-Error",
    class: "Microsoft.PowerShell.Commands.WriteErrorCommand",
    params: &[
        ("Message", Kind::Value("System.String")),
        ("Category", Kind::Value("System.Management.Automation.ErrorCategory")),
        ("ErrorId", Kind::Value("System.String")),
        ("TargetObject", Kind::Value("System.Object")),
        ("RecommendedAction", Kind::Value("System.String")),
    ],
    positional: &["Message"],
    remaining: None,
};

const START_SLEEP: CmdletSpec = CmdletSpec {
    name: "Start-Sleep",
    class: "Microsoft.PowerShell.Commands.StartSleepCommand",
    params: &[("Seconds", Kind::Value("System.Int32")), ("Milliseconds", Kind::Value("System.Int32"))],
    positional: &["Seconds"],
    remaining: None,
};

const RESTART_COMPUTER: CmdletSpec = CmdletSpec {
    name: "Restart-Computer",
    class: "Microsoft.PowerShell.Commands.RestartComputerCommand",
    params: &[
        ("ComputerName", Kind::Value("System.String[]")),
        ("Credential", Kind::Value("System.Management.Automation.PSCredential")),
        ("Force", Kind::Switch),
        ("Wait", Kind::Switch),
        ("Timeout", Kind::Value("System.Int32")),
        ("Delay", Kind::Value("System.Int16")),
        ("AsJob", Kind::Switch),
        ("Protocol", Kind::Value("System.String")),
        ("ThrottleLimit", Kind::Value("System.Int32")),
        ("WhatIf", Kind::Switch),
        ("Confirm", Kind::Switch),
    ],
    positional: &["ComputerName", "Credential"],
    remaining: None,
};

/// Restart-Computer parameters the lab does not emulate (remote targets,
/// waiting for the restart, jobs, dry runs).
const RESTART_UNSUPPORTED: &[&str] = &["Credential", "Wait", "Timeout", "Delay", "AsJob", "Protocol", "ThrottleLimit", "WhatIf"];

/// Run `name` if it is a known command; `None` when it is not.
pub fn run(interp: &mut Interp<'_>, name: &str, args: Vec<Arg>, span: &Span<'_>) -> Option<Result<Vec<Value>, Fail>> {
    let lower = name.to_ascii_lowercase();
    if let Some(result) = external(interp, name, &args, span) {
        return Some(result);
    }
    let result = match lower.as_str() {
        "write-output" | "echo" | "write" => write_output(interp, args, span),
        "write-host" => write_host(interp, args, span),
        "write-error" => write_error(interp, args, span),
        "start-sleep" | "sleep" => start_sleep(interp, args, span),
        "restart-computer" => restart_computer(interp, args, span),
        "hostname" | "hostname.exe" => native(interp, args, span, interp.ctx.computer_name.to_string()),
        "whoami" | "whoami.exe" => {
            let me = interp.ctx.whoami();
            native(interp, args, span, me)
        }
        _ => return None,
    };
    Some(result)
}

fn bind(interp: &Interp<'_>, spec: &CmdletSpec, args: Vec<Arg>, span: &Span<'_>) -> Result<binder::Bound, Fail> {
    let position = |s: usize, e: usize| interp.position(s, e);
    binder::bind(spec, args, &position, (span.start, span.end)).map_err(Fail::Error)
}

fn write_output(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
    let bound = bind(interp, &WRITE_OUTPUT, args, span)?;
    let mut out = Vec::new();
    if let Some(v) = bound.get("InputObject") {
        v.clone().flatten_into(&mut out);
    }
    Ok(out)
}

fn write_host(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
    let bound = bind(interp, &WRITE_HOST, args, span)?;
    let separator = bound.get("Separator").map(Value::to_text).unwrap_or_else(|| " ".to_string());
    let mut items = Vec::new();
    if let Some(v) = bound.get("Object") {
        v.clone().flatten_into(&mut items);
    }
    let mut text = items.iter().map(Value::to_text).collect::<Vec<_>>().join(&separator);
    if !bound.switch("NoNewline") {
        text.push_str("\r\n");
    }
    interp.stdout.push_str(&text);
    Ok(Vec::new())
}

fn write_error(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
    let bound = bind(interp, &WRITE_ERROR, args, span)?;
    let message = bound.get("Message").map(Value::to_text).unwrap_or_default();
    Err(Fail::Error(er::write_error(interp.src, &message)))
}

fn start_sleep(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
    let bound = bind(interp, &START_SLEEP, args, span)?;
    for name in ["Seconds", "Milliseconds"] {
        if let Some(v) = bound.get(name)
            && as_int(v).is_none_or(|n| n < 0 || n > i64::from(i32::MAX)) {
                let position = interp.position(span.start, span.end);
                return Err(Fail::Error(er::bad_argument(
                    START_SLEEP.name,
                    START_SLEEP.class,
                    name,
                    &v.to_text(),
                    "System.Int32",
                    position,
                )));
            }
    }
    // The lab does not wait: its time need not follow the wall clock.
    Ok(Vec::new())
}

/// A native program that prints one line and takes no arguments here.
fn native(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>, line: String) -> Result<Vec<Value>, Fail> {
    if !args.is_empty() {
        return Err(interp.unsupported(span.start, span.end));
    }
    Ok(vec![Value::Str(line)])
}

/// `Restart-Computer [-ComputerName <this host>] [-Force]`: restarts now.
/// Without `-Force` it is refused while users are logged on, as Windows
/// refuses it.
fn restart_computer(interp: &mut Interp<'_>, args: Vec<Arg>, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
    let bound = bind(interp, &RESTART_COMPUTER, args, span)?;
    if RESTART_UNSUPPORTED.iter().any(|p| bound.get(p).is_some()) || bound.switch("Confirm") {
        return Err(interp.unsupported(span.start, span.end));
    }
    let mut names = Vec::new();
    if let Some(v) = bound.get("ComputerName") {
        v.clone().flatten_into(&mut names);
    }
    if names.iter().any(|n| !interp.power.is_self(&n.to_text())) {
        // Another computer: the lab runs commands on one host at a time.
        return Err(interp.unsupported(span.start, span.end));
    }
    match interp.power.schedule(PowerAction::Restart, 0, bound.switch("Force"), "") {
        Ok(()) => Ok(Vec::new()),
        Err(e) => {
            let position = interp.position(span.start, span.end);
            Err(Fail::Error(er::restart_failed(interp.ctx.computer_name, e.message(), position)))
        }
    }
}

/// An external program the lab emulates, run as PowerShell runs a native
/// command: its stdout is output, each stderr line an error record, a
/// non-zero exit code makes `$?` false, and `$LASTEXITCODE` is set.
fn external(interp: &mut Interp<'_>, name: &str, args: &[Arg], span: &Span<'_>) -> Option<Result<Vec<Value>, Fail>> {
    let argv: Vec<String> = args.iter().map(native_argument).collect();
    let result = programs::run(name, &argv, &mut interp.power)?;
    interp.last_exit_code = Some(result.exit_code);
    interp.stdout.push_str(&String::from_utf8_lossy(&result.stdout));
    let stderr = String::from_utf8_lossy(&result.stderr);
    let message = stderr.trim_end();
    if !message.is_empty() {
        let position = interp.position(span.start, span.end);
        return Some(Err(Fail::Error(er::native_error(name, message, position))));
    }
    Some(if result.exit_code == 0 { Ok(Vec::new()) } else { Err(Fail::Failed) })
}

/// How an argument reaches a native program: as written, quotes removed.
fn native_argument(arg: &Arg) -> String {
    match arg {
        Arg::Value { text, .. } => text.clone(),
        Arg::Param { name, inline: None, .. } => format!("-{name}"),
        Arg::Param { name, inline: Some(v), .. } => format!("-{name}:{}", v.to_text()),
    }
}
