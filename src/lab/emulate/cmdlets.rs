//! The commands the PowerShell emulator knows: `Write-Output` (`echo`,
//! `write`), `Write-Host`, `Write-Error`, `Start-Sleep` (accepted and not
//! waited: lab time need not pass), and the native `hostname` and `whoami`.

use super::binder::{self, Arg, CmdletSpec, Kind};
use super::error_record as er;
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

/// Run `name` if it is a known command; `None` when it is not.
pub fn run(interp: &mut Interp<'_>, name: &str, args: Vec<Arg>, span: &Span<'_>) -> Option<Result<Vec<Value>, Fail>> {
    let lower = name.to_ascii_lowercase();
    let result = match lower.as_str() {
        "write-output" | "echo" | "write" => write_output(interp, args, span),
        "write-host" => write_host(interp, args, span),
        "write-error" => write_error(interp, args, span),
        "start-sleep" | "sleep" => start_sleep(interp, args, span),
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
