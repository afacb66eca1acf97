//! The English text of `schtasks /query`: TABLE, LIST and CSV, short or
//! verbose (`/v`), as Windows 7 through 11 print it. Admins read it; a tool
//! must not parse it (it is translated, and dates follow the locale).
//!
//! - Tasks are listed folder by folder, the root first. TABLE and LIST
//!   head each folder with `Folder: \path`; TABLE names a task relative to
//!   its folder in a 40-column TaskName, then a 22-column Next Run Time
//!   and a 15-column Status under a row of `=`; CSV and LIST give the full
//!   path. CSV repeats its header line for every folder (a well-known
//!   quirk scripts filter out) unless `/nh`.
//! - Dates are the host's local time in its culture's general format (lab
//!   hosts: en-US, `M/d/yyyy h:mm:ss tt`); no next run is `N/A`. Status is
//!   `Ready` or `Disabled` (the lab keeps no running instances).
//! - Verbose adds, per trigger, the columns below; a task never run shows
//!   Last Run Time `11/30/1999 12:00:00 AM` and Last Result `267011`
//!   (SCHED_S_TASK_HAS_NOT_RUN), as Windows does. Settings the lab does not
//!   keep print Task Scheduler's defaults (Idle Time `Disabled`, the
//!   battery switches, a 72-hour limit).

use crate::lab::powershell::dates;
use crate::lab::powershell::object::Ctx;
use crate::lab::powershell::value::{DateKind, DateTime};
use crate::lab::world::LabTime;
use crate::lab::world::tasks::{Repetition, Task, Trigger};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    List,
    Csv,
}

const VERBOSE_COLUMNS: &[&str] = &[
    "HostName",
    "TaskName",
    "Next Run Time",
    "Status",
    "Logon Mode",
    "Last Run Time",
    "Last Result",
    "Author",
    "Task To Run",
    "Start In",
    "Comment",
    "Scheduled Task State",
    "Idle Time",
    "Power Management",
    "Run As User",
    "Delete Task If Not Rescheduled",
    "Stop Task If Runs X Hours and X Mins",
    "Schedule",
    "Schedule Type",
    "Start Time",
    "Start Date",
    "End Date",
    "Days",
    "Months",
    "Repeat: Every",
    "Repeat: Until: Time",
    "Repeat: Until: Duration",
    "Repeat: Stop If Still Running",
];

const SHORT_COLUMNS: &[&str] = &["TaskName", "Next Run Time", "Status"];

fn local(cx: &Ctx<'_>, t: LabTime, fmt: &str) -> String {
    dates::format(DateTime { ticks: cx.host_ticks(t), kind: DateKind::Local }, fmt)
}

fn next_run(cx: &Ctx<'_>, t: &Task) -> String {
    t.next_run_after(cx.now()).map_or_else(|| "N/A".into(), |n| local(cx, n, "G"))
}

fn status(t: &Task) -> &'static str {
    if t.enabled { "Ready" } else { "Disabled" }
}

fn repetition_text(r: &Option<Repetition>) -> (String, String) {
    match r {
        None => ("Disabled".into(), "Disabled".into()),
        Some(r) => {
            let hm = |s: u64| format!("{} Hour(s), {} Minute(s)", s / 3600, s % 3600 / 60);
            (hm(r.interval_secs), r.duration_secs.map_or_else(|| "Disabled".into(), hm))
        }
    }
}

/// The schedule columns (Schedule Type through Repeat: Stop If Still
/// Running) of one trigger.
fn schedule(cx: &Ctx<'_>, tr: Option<&Trigger>) -> Vec<String> {
    let na = || "N/A".to_string();
    let (kind, start, end, days, rep) = match tr {
        None => ("N/A", None, None, na(), None),
        Some(Trigger::Time { start, end, repetition }) => ("One Time Only", Some(*start), *end, na(), *repetition),
        Some(Trigger::Daily { start, days_interval, end, repetition }) => ("Daily ", Some(*start), *end, format!("Every {days_interval} day(s)"), *repetition),
        Some(Trigger::Boot { repetition }) => ("At system start up", None, None, na(), *repetition),
        Some(Trigger::Logon { repetition, .. }) => ("At logon time", None, None, na(), *repetition),
    };
    let (every, duration) = repetition_text(&rep);
    vec![
        kind.to_string(),
        start.map_or_else(na, |s| local(cx, s, "T")),
        start.map_or_else(na, |s| local(cx, s, "d")),
        end.map_or_else(na, |e| local(cx, e, "d")),
        days,
        na(),
        every,
        "None".into(),
        duration,
        "Disabled".into(),
    ]
}

/// One verbose row per trigger (one for a task without triggers).
fn verbose_rows(cx: &Ctx<'_>, t: &Task) -> Vec<Vec<String>> {
    let to_run = match t.actions.as_slice() {
        [] => "N/A".to_string(),
        [a] => a.command_line(),
        _ => "Multiple actions".to_string(),
    };
    let start_in = t.actions.first().and_then(|a| a.working_dir.clone()).unwrap_or_else(|| "N/A".into());
    let (last_run, last_result) = match t.last_run {
        Some(l) => (local(cx, l, "G"), t.last_result.unwrap_or(0).to_string()),
        None => ("11/30/1999 12:00:00 AM".to_string(), "267011".to_string()),
    };
    let run_as = if t.principal.is_system() { "SYSTEM".to_string() } else { t.principal.user_id.clone() };
    let head = vec![
        cx.spec.name.clone(),
        t.path(),
        next_run(cx, t),
        status(t).to_string(),
        "Interactive/Background".to_string(),
        last_run,
        last_result,
        if t.author.is_empty() { "N/A".into() } else { t.author.clone() },
        to_run,
        start_in,
        if t.description.is_empty() { "N/A".into() } else { t.description.clone() },
        if t.enabled { "Enabled" } else { "Disabled" }.to_string(),
        "Disabled".to_string(),
        "Stop On Battery Mode, No Start On Batteries".to_string(),
        run_as,
        if t.delete_expired_after.is_some() { "Enabled" } else { "Disabled" }.to_string(),
        "72:00:00".to_string(),
        "Scheduling data is not available in this format.".to_string(),
    ];
    let triggers: Vec<Option<&Trigger>> = if t.triggers.is_empty() { vec![None] } else { t.triggers.iter().map(Some).collect() };
    triggers
        .into_iter()
        .map(|tr| {
            let mut row = head.clone();
            row.extend(schedule(cx, tr));
            row
        })
        .collect()
}

/// Tasks by folder, the root folder first, then folders by path.
fn by_folder(tasks: &[Task]) -> Vec<(String, Vec<&Task>)> {
    let mut sorted: Vec<&Task> = tasks.iter().collect();
    sorted.sort_by_key(|t| (t.folder != "\\", t.folder.to_lowercase(), t.name.to_lowercase()));
    let mut out: Vec<(String, Vec<&Task>)> = Vec::new();
    for t in sorted {
        match out.last_mut() {
            Some((f, list)) if f.eq_ignore_ascii_case(&t.folder) => list.push(t),
            _ => out.push((t.folder.clone(), vec![t])),
        }
    }
    out
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
    format!("{}\r\n", quoted.join(","))
}

fn table_line(fields: &[String], widths: &[usize]) -> String {
    let cells: Vec<String> = fields.iter().zip(widths).map(|(f, &w)| format!("{f:<w$}")).collect();
    format!("{}\r\n", cells.join(" "))
}

/// The rows of one task: its short row, or its verbose rows.
fn rows(cx: &Ctx<'_>, t: &Task, verbose: bool, table_name: bool) -> Vec<Vec<String>> {
    if verbose {
        return verbose_rows(cx, t);
    }
    let name = if table_name { t.name.clone() } else { t.path() };
    vec![vec![name, next_run(cx, t), status(t).to_string()]]
}

/// `schtasks /query` output for `tasks`.
pub fn listing(cx: &Ctx<'_>, tasks: &[Task], format: Format, no_header: bool, verbose: bool) -> String {
    let columns: Vec<String> = (if verbose { VERBOSE_COLUMNS } else { SHORT_COLUMNS }).iter().map(|c| c.to_string()).collect();
    let mut out = String::new();
    for (folder, list) in by_folder(tasks) {
        match format {
            Format::Csv => {
                if !no_header {
                    out.push_str(&csv_line(&columns));
                }
                for t in list {
                    for row in rows(cx, t, verbose, false) {
                        out.push_str(&csv_line(&row));
                    }
                }
            }
            Format::Table => {
                out.push_str(&format!("\r\nFolder: {folder}\r\n"));
                let widths: Vec<usize> = if verbose { columns.iter().map(|c| c.len().max(20)).collect() } else { vec![40, 22, 15] };
                if !no_header {
                    out.push_str(&table_line(&columns, &widths));
                    let rules: Vec<String> = widths.iter().map(|w| "=".repeat(*w)).collect();
                    out.push_str(&format!("{}\r\n", rules.join(" ")));
                }
                for t in list {
                    for row in rows(cx, t, verbose, !verbose) {
                        out.push_str(&table_line(&row, &widths));
                    }
                }
            }
            Format::List => {
                out.push_str(&format!("\r\nFolder: {folder}\r\n"));
                let (labels, first): (Vec<String>, bool) = if verbose {
                    (columns.clone(), false)
                } else {
                    (["HostName", "TaskName", "Next Run Time", "Status", "Logon Mode"].iter().map(|c| c.to_string()).collect(), true)
                };
                let width = labels.iter().map(|l| l.len() + 2).max().unwrap_or(0);
                for t in list {
                    let values: Vec<Vec<String>> = if first {
                        vec![vec![cx.spec.name.clone(), t.path(), next_run(cx, t), status(t).to_string(), "Interactive/Background".to_string()]]
                    } else {
                        rows(cx, t, true, false)
                    };
                    for row in values {
                        for (l, v) in labels.iter().zip(&row) {
                            let label = format!("{l}:");
                            out.push_str(&format!("{label:<width$}{v}\r\n"));
                        }
                        out.push_str("\r\n");
                    }
                }
            }
        }
    }
    out
}
