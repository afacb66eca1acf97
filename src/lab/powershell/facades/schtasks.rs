//! `schtasks.exe` over the host's task store (`world::tasks`): `/query`
//! (`/fo table|list|csv`, `/nh`, `/v`, `/tn`), `/delete /tn [/f]`,
//! `/change /tn /enable|/disable`, `/run /tn`. The listings' text is in
//! [`schtasks_text`](super::schtasks_text).
//!
//! Windows' behaviour kept (Microsoft's windows-commands pages for
//! `schtasks query`, `delete`, `change`, `run`, `end`; texts as schtasks
//! prints them in English):
//! - Options start with `/` or `-` and are case-insensitive; no operation
//!   is `/query`. An option the operation does not take is `ERROR: Invalid
//!   argument/option - '/x'.` followed by `Type "SCHTASKS /QUERY /?" for
//!   usage.`, on stderr, exit 1.
//! - A task that does not exist is `ERROR: The system cannot find the file
//!   specified.`, exit 1. A bare name is a task in the root folder.
//! - Success lines go to stdout: `SUCCESS: The scheduled task "X" was
//!   successfully deleted.`, `SUCCESS: The parameters of scheduled task "X"
//!   have been changed.`, `SUCCESS: Attempted to run the scheduled task
//!   "X".`.
//! - A non-administrator may change only the tasks that run as itself
//!   (`ERROR: Access is denied.`).
//!
//! The lab's choices where Windows needs something the lab lacks:
//! - `/delete` without `/f` asks `Are you sure you want to remove the task
//!   "X" (Y/N)?` on the console. A command over WinRM has no console to
//!   answer it; the lab prints the question, deletes nothing, and fails
//!   (exit 1) with a line saying no answer could be read, so a script that
//!   forgets `/f` is caught, never served a silent success or a hang.
//! - `/run` starts each exec action as the task's account
//!   (`HostState::start_command`) and records the run; a disabled task is
//!   refused with SCHED_E_TASK_DISABLED's text (`ERROR: The task is
//!   disabled.`). The processes it starts are plain processes: a loader's
//!   behaviour is not triggered by it.
//! - `/end` needs the running instances of a task, which the lab's task
//!   store does not keep: it fails saying the lab does not support it, as
//!   do `/create`, `/showsid`, `/query /xml`, remote options (`/s /u /p`)
//!   and `/change` options other than `/enable` and `/disable`.

use super::schtasks_text::{self, Format};
use crate::lab::powershell::natives::lab_unsupported;
use crate::lab::powershell::object::{Ctx, NativeOutput, NativeProgram, Registry};
use crate::lab::world::tasks::Task;

const PROGRAM: &str = "schtasks.exe";

fn error(message: &str) -> NativeOutput {
    NativeOutput { stderr: format!("ERROR: {message}\r\n"), exit_code: 1, ..Default::default() }
}

fn success(message: &str) -> NativeOutput {
    NativeOutput { stdout: format!("SUCCESS: {message}\r\n"), ..Default::default() }
}

fn bad_option(op: &str, opt: &str) -> NativeOutput {
    NativeOutput {
        stderr: format!("ERROR: Invalid argument/option - '{opt}'.\r\nType \"SCHTASKS /{} /?\" for usage.\r\n", op.to_uppercase()),
        exit_code: 1,
        ..Default::default()
    }
}

fn syntax(op: &str, what: &str) -> NativeOutput {
    NativeOutput {
        stderr: format!("ERROR: Invalid syntax. {what}\r\nType \"SCHTASKS /{} /?\" for usage.\r\n", op.to_uppercase()),
        exit_code: 1,
        ..Default::default()
    }
}

fn not_found() -> NativeOutput {
    error("The system cannot find the file specified.")
}

type Outcome<T> = Result<T, NativeOutput>;

/// The options after the operation: `(option lower-cased without its
/// prefix, value)`; `takes_value` says which options take one.
fn options(op: &str, args: &[String], takes_value: &[&str], flags: &[&str]) -> Outcome<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(name) = a.strip_prefix('/').or_else(|| a.strip_prefix('-')) else {
            return Err(bad_option(op, a));
        };
        let name = name.to_ascii_lowercase();
        if out.iter().any(|(n, _): &(String, Option<String>)| *n == name) {
            return Err(syntax(op, &format!("Option '{a}' has been specified more than once.")));
        }
        if takes_value.contains(&name.as_str()) {
            let Some(v) = it.next() else { return Err(syntax(op, &format!("Value expected for '{a}'."))) };
            out.push((name, Some(v.clone())));
        } else if flags.contains(&name.as_str()) {
            out.push((name, None));
        } else {
            return Err(bad_option(op, a));
        }
    }
    Ok(out)
}

fn value<'a>(opts: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    opts.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
}

fn flag(opts: &[(String, Option<String>)], name: &str) -> bool {
    opts.iter().any(|(n, _)| n == name)
}

/// Options every operation takes on Windows for a remote computer; the lab
/// runs on the host itself.
const REMOTE: &[&str] = &["s", "u", "p"];

fn refuse_remote(opts: &[(String, Option<String>)]) -> Outcome<()> {
    match opts.iter().find(|(n, _)| REMOTE.contains(&n.as_str())) {
        Some((n, _)) => Err(lab_unsupported(PROGRAM, &format!("/{n} (a remote computer)"))),
        None => Ok(()),
    }
}

/// The task `/tn` names (mandatory).
fn named_task(op: &str, opts: &[(String, Option<String>)]) -> Outcome<String> {
    match value(opts, "tn") {
        Some("*") => Err(lab_unsupported(PROGRAM, "/tn * (every task)")),
        Some(n) => Ok(n.to_string()),
        None => Err(syntax(op, "Mandatory option '/tn' is missing.")),
    }
}

/// Whether the account may change `t`: administrators may change every
/// task, others only their own.
fn may_change(cx: &Ctx<'_>, t: &Task) -> bool {
    let me = cx.user.as_str();
    let short = me.rsplit('\\').next().unwrap_or(me);
    cx.admin || t.principal.user_id.eq_ignore_ascii_case(me) || t.principal.user_id.eq_ignore_ascii_case(short)
}

/// The task `name` names, if the account may change it.
fn changeable<'a>(cx: &'a Ctx<'_>, name: &str) -> Outcome<&'a Task> {
    let t = cx.host.tasks.get(name).ok_or_else(not_found)?;
    if !may_change(cx, t) {
        return Err(error("Access is denied."));
    }
    Ok(t)
}

fn query(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let opts = options("query", args, &["fo", "tn", "s", "u", "p"], &["nh", "v", "xml", "hresult"])?;
    refuse_remote(&opts)?;
    for f in ["xml", "hresult"] {
        if flag(&opts, f) {
            return Err(lab_unsupported(PROGRAM, &format!("/query /{f}")));
        }
    }
    let format = match value(&opts, "fo").map(str::to_ascii_lowercase).as_deref() {
        None | Some("table") => Format::Table,
        Some("list") => Format::List,
        Some("csv") => Format::Csv,
        Some(_) => return Err(syntax("query", "Invalid value for '/fo' option. Valid values are \"TABLE\", \"LIST\" and \"CSV\".")),
    };
    let no_header = flag(&opts, "nh");
    if no_header && format == Format::List {
        return Err(syntax("query", "/NH option is allowed only for \"TABLE\" and \"CSV\" output formats."));
    }
    let tasks: Vec<Task> = match value(&opts, "tn") {
        Some(n) => vec![cx.host.tasks.get(n).cloned().ok_or_else(not_found)?],
        None => cx.host.tasks.iter().cloned().collect(),
    };
    let text = schtasks_text::listing(cx, &tasks, format, no_header, flag(&opts, "v"));
    Ok(NativeOutput { stdout: text, ..Default::default() })
}

fn delete(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let opts = options("delete", args, &["tn", "s", "u", "p"], &["f"])?;
    refuse_remote(&opts)?;
    let name = named_task("delete", &opts)?;
    changeable(cx, &name)?;
    if !flag(&opts, "f") {
        return Ok(NativeOutput {
            stdout: format!("WARNING: Are you sure you want to remove the task \"{name}\" (Y/N)? "),
            stderr: "\r\nThe cauterize lab's schtasks.exe could not read an answer: a command over WinRM has no console. Nothing was deleted; use /F.\r\n".into(),
            exit_code: 1,
        });
    }
    cx.host.tasks.delete(&name).map_err(|_| not_found())?;
    Ok(success(&format!("The scheduled task \"{name}\" was successfully deleted.")))
}

/// `/change` options Windows has that the lab does not carry out.
const CHANGE_UNMODELLED: &[&str] = &["ru", "rp", "tr", "st", "ri", "et", "du", "sd", "ed", "it", "rl", "delay", "k", "z"];

fn change(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let mut takes = vec!["tn", "s", "u", "p"];
    takes.extend(["ru", "rp", "tr", "st", "ri", "et", "du", "sd", "ed", "rl", "delay"]);
    let opts = options("change", args, &takes, &["enable", "disable", "it", "k", "z"])?;
    refuse_remote(&opts)?;
    let name = named_task("change", &opts)?;
    if let Some((n, _)) = opts.iter().find(|(n, _)| CHANGE_UNMODELLED.contains(&n.as_str())) {
        return Err(lab_unsupported(PROGRAM, &format!("/change /{n}")));
    }
    let enabled = match (flag(&opts, "enable"), flag(&opts, "disable")) {
        (true, false) => true,
        (false, true) => false,
        (true, true) => return Err(syntax("change", "/ENABLE and /DISABLE are mutually exclusive.")),
        (false, false) => return Err(syntax("change", "Specify at least one of the options to change.")),
    };
    changeable(cx, &name)?;
    if let Some(t) = cx.host.tasks.get_mut(&name) {
        t.enabled = enabled;
    }
    Ok(success(&format!("The parameters of scheduled task \"{name}\" have been changed.")))
}

fn run(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let opts = options("run", args, &["tn", "s", "u", "p"], &["i", "hresult"])?;
    refuse_remote(&opts)?;
    let name = named_task("run", &opts)?;
    for f in ["i", "hresult"] {
        if flag(&opts, f) {
            return Err(lab_unsupported(PROGRAM, &format!("/run /{f}")));
        }
    }
    let task = changeable(cx, &name)?.clone();
    if !task.enabled {
        return Err(error("The task is disabled."));
    }
    let sid = cx.host.principal_sid(&task.principal);
    let now = cx.now();
    for a in &task.actions {
        // An action whose program is missing fails in the task's history,
        // not in schtasks: /run has only asked the service to start it.
        let _ = cx.host.start_command(&a.command_line(), &sid, 0, now);
    }
    if let Some(t) = cx.host.tasks.get_mut(&name) {
        t.last_run = Some(now);
    }
    Ok(success(&format!("Attempted to run the scheduled task \"{name}\".")))
}

struct Schtasks;

impl NativeProgram for Schtasks {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        let (op, rest) = match args.first() {
            None => ("/query".to_string(), &args[..]),
            Some(a) => {
                let a = a.to_ascii_lowercase();
                (a.strip_prefix('-').map_or_else(|| a.clone(), |r| format!("/{r}")), &args[1..])
            }
        };
        let r = match op.as_str() {
            "/query" => query(cx, rest),
            "/delete" => delete(cx, rest),
            "/change" => change(cx, rest),
            "/run" => run(cx, rest),
            "/end" | "/create" | "/showsid" => Err(lab_unsupported(PROGRAM, &op)),
            "/?" => Err(lab_unsupported(PROGRAM, "/? (its help text)")),
            // Options given without an operation are /query's.
            _ if op.starts_with('/') => query(cx, args),
            _ => Err(bad_option("query", &args[0])),
        };
        r.unwrap_or_else(|e| e)
    }
}

pub fn register(r: &mut Registry) {
    r.add_native("schtasks.exe", Schtasks);
}

#[cfg(test)]
mod tests;
