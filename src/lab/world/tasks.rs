//! Scheduled tasks, as Task Scheduler 2.0 keeps them: a folder path
//! (`\`, `\Microsoft\Windows\Defrag`, `\Mozilla`), a name, exec actions,
//! triggers (logon, boot, one-time with an end boundary, daily, each with
//! an optional repetition such as every PT30M), author, principal,
//! enabled/hidden, StartWhenAvailable, DeleteExpiredTaskAfter (`schtasks
//! /Z`: PT0S), and the last run's time and result.
//! Task paths are case-insensitive. Windows also mirrors each task to
//! `C:\Windows\System32\Tasks\<path>` (XML) and the TaskCache registry
//! tree; the lab keeps the table only.

use std::collections::BTreeMap;

use super::ci::{CiKey, CiStr, eq_ci, starts_with_ci};
use super::time::LabTime;

/// An exec action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecAction {
    /// `<Command>`, as written (may hold `%vars%`).
    pub path: String,
    pub arguments: String,
    pub working_dir: Option<String>,
}

impl ExecAction {
    pub fn new(path: &str, arguments: &str) -> ExecAction {
        ExecAction {
            path: path.into(),
            arguments: arguments.into(),
            working_dir: None,
        }
    }
    /// `path arguments`, as schtasks shows "Task To Run".
    pub fn command_line(&self) -> String {
        if self.arguments.is_empty() {
            self.path.clone()
        } else {
            format!("{} {}", self.path, self.arguments)
        }
    }
}

/// `<Repetition>`: re-run every `interval` for `duration` (None:
/// indefinitely).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repetition {
    pub interval_secs: u64,
    pub duration_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// At logon of `user` (None: any user).
    Logon {
        user: Option<String>,
        repetition: Option<Repetition>,
    },
    Boot {
        repetition: Option<Repetition>,
    },
    /// One time (`/SC ONCE`), optionally ending (`/ET`).
    Time {
        start: LabTime,
        end: Option<LabTime>,
        repetition: Option<Repetition>,
    },
    /// Every `days_interval` days from `start`.
    Daily {
        start: LabTime,
        days_interval: u32,
        end: Option<LabTime>,
        repetition: Option<Repetition>,
    },
}

impl Trigger {
    /// `<EndBoundary>`.
    pub fn end(&self) -> Option<LabTime> {
        match self {
            Trigger::Time { end, .. } | Trigger::Daily { end, .. } => *end,
            _ => None,
        }
    }
    /// The first scheduled run strictly after `after` (time-based
    /// triggers only; logon and boot fire on those events).
    pub fn next_run_after(&self, after: LabTime) -> Option<LabTime> {
        let (start, period, end, rep) = match self {
            Trigger::Time {
                start,
                end,
                repetition,
            } => (*start, None, *end, *repetition),
            Trigger::Daily {
                start,
                days_interval,
                end,
                repetition,
            } => (
                *start,
                Some(86_400 * u64::from((*days_interval).max(1))),
                *end,
                *repetition,
            ),
            _ => return None,
        };
        let in_window = |t: LabTime| end.is_none_or(|e| t <= e);
        // candidate occurrence bases: the one at or before `after`, and the next one
        let mut bases = vec![start];
        if let Some(p) = period
            && after >= start
        {
            let k = (after.secs_since(start) as u64) / p;
            bases = vec![
                start.plus_secs((k * p) as i64),
                start.plus_secs(((k + 1) * p) as i64),
            ];
        }
        let mut best: Option<LabTime> = None;
        for b in bases {
            let cand = if b > after {
                Some(b)
            } else if let Some(r) = rep {
                let i = r.interval_secs.max(1);
                let n = (after.secs_since(b) as u64) / i + 1;
                let t = b.plus_secs((n * i) as i64);
                r.duration_secs.is_none_or(|d| n * i <= d).then_some(t)
            } else {
                None
            };
            if let Some(c) = cand.filter(|c| in_window(*c)) {
                best = Some(best.map_or(c, |x| x.min(c)));
            }
        }
        best
    }
}

/// `<Principal>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `NT AUTHORITY\SYSTEM`, `CORP\bob`, or a SID.
    pub user_id: String,
    /// `/RL HIGHEST`.
    pub highest: bool,
}

impl Principal {
    pub fn system() -> Principal {
        Principal {
            user_id: r"NT AUTHORITY\SYSTEM".into(),
            highest: true,
        }
    }
    pub fn user(user: &str) -> Principal {
        Principal {
            user_id: user.into(),
            highest: false,
        }
    }
    pub fn is_system(&self) -> bool {
        eq_ci(&self.user_id, r"NT AUTHORITY\SYSTEM")
            || eq_ci(&self.user_id, "SYSTEM")
            || self.user_id == "S-1-5-18"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `\` or `\Microsoft\Windows\Defrag` (no trailing `\`).
    pub folder: String,
    pub name: String,
    pub author: String,
    pub description: String,
    pub principal: Principal,
    pub actions: Vec<ExecAction>,
    pub triggers: Vec<Trigger>,
    pub enabled: bool,
    pub hidden: bool,
    /// `<DeleteExpiredTaskAfter>` in seconds (`/Z` gives 0).
    pub delete_expired_after: Option<u64>,
    pub registered: LabTime,
    pub last_run: Option<LabTime>,
    /// `LastTaskResult` of the last run: the action's exit code, or the
    /// HRESULT of why it could not start (0x80070002: no such file).
    /// `None` before the first run (schtasks shows 267011,
    /// SCHED_S_TASK_HAS_NOT_RUN).
    pub last_result: Option<u32>,
    /// `<StartWhenAvailable>`: a time trigger missed (the host was off, or
    /// the scheduler not running) fires at the next chance; without it a
    /// missed run is skipped.
    pub start_when_available: bool,
    /// Its stored image fails Task Scheduler's hash check (a task file
    /// edited behind the service's back): listed, but reading its
    /// definition fails with SCHED_E_INVALID_TASK_HASH (0x80041321).
    pub tampered: bool,
}

impl Task {
    /// An enabled, visible task with no actions or triggers yet.
    pub fn new(folder: &str, name: &str, principal: Principal) -> Task {
        Task {
            folder: norm_folder(folder),
            name: name.into(),
            author: String::new(),
            description: String::new(),
            principal,
            actions: Vec::new(),
            triggers: Vec::new(),
            enabled: true,
            hidden: false,
            delete_expired_after: None,
            registered: LabTime::default(),
            last_run: None,
            last_result: None,
            start_when_available: false,
            tampered: false,
        }
    }
    pub fn with_action(mut self, a: ExecAction) -> Task {
        self.actions.push(a);
        self
    }
    pub fn with_trigger(mut self, t: Trigger) -> Task {
        self.triggers.push(t);
        self
    }
    pub fn with_author(mut self, a: &str) -> Task {
        self.author = a.into();
        self
    }
    /// Full path `\folder\name` (what `schtasks /TN` takes).
    pub fn path(&self) -> String {
        task_path(&self.folder, &self.name)
    }
    /// Expired: every trigger has an end boundary and all are past.
    pub fn expired_at(&self, now: LabTime) -> bool {
        !self.triggers.is_empty()
            && self
                .triggers
                .iter()
                .all(|t| t.end().is_some_and(|e| e < now))
    }
    /// When Task Scheduler deletes it, if ever.
    pub fn deletion_due(&self) -> Option<LabTime> {
        let after = self.delete_expired_after?;
        let last_end = self
            .triggers
            .iter()
            .map(|t| t.end())
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()?;
        Some(last_end.plus_secs(after as i64))
    }
    /// Next time-triggered run after `after` (None if disabled).
    pub fn next_run_after(&self, after: LabTime) -> Option<LabTime> {
        if !self.enabled {
            return None;
        }
        self.triggers
            .iter()
            .filter_map(|t| t.next_run_after(after))
            .min()
    }
}

/// A task folder path as Task Scheduler names it: one leading `\`, no
/// trailing one, the root as `\`.
pub(crate) fn norm_folder(f: &str) -> String {
    let t = f.trim_end_matches('\\');
    if t.is_empty() {
        "\\".into()
    } else if t.starts_with('\\') {
        t.into()
    } else {
        format!("\\{t}")
    }
}

/// `\folder\name`.
pub fn task_path(folder: &str, name: &str) -> String {
    let f = norm_folder(folder);
    if f == "\\" {
        format!("\\{name}")
    } else {
        format!("{f}\\{name}")
    }
}

/// ISO 8601 duration as Task Scheduler writes it (`PT30M`, `P1D`, `PT0S`).
pub fn iso_duration(secs: u64) -> String {
    if secs == 0 {
        return "PT0S".into();
    }
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::from("P");
    if d > 0 {
        out += &format!("{d}D");
    }
    if h + m + s > 0 {
        out.push('T');
        for (v, u) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if v > 0 {
                out += &format!("{v}{u}");
            }
        }
    }
    out
}

/// Parse `P[nD][T[nH][nM][nS]]` (no years or months).
pub fn parse_iso_duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let mut total = 0u64;
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' if !in_time && num.is_empty() => in_time = true,
            'D' | 'W' if !in_time => {
                let n: u64 = num.parse().ok()?;
                total += n * if c == 'D' { 86_400 } else { 604_800 };
                num.clear();
                any = true;
            }
            'H' | 'M' | 'S' if in_time => {
                let n: u64 = num.parse().ok()?;
                total += n * match c {
                    'H' => 3600,
                    'M' => 60,
                    _ => 1,
                };
                num.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("the system cannot find the file specified: {0}")]
    NotFound(String),
    #[error("cannot create a file when that file already exists: {0}")]
    Exists(String),
}

impl TaskError {
    pub fn win32_code(&self) -> u32 {
        match self {
            TaskError::NotFound(_) => 2,
            TaskError::Exists(_) => 183,
        }
    }
}

/// A PowerShell action the scheduler started: powershell.exe runs its
/// `-EncodedCommand` or `-Command` text, which the lab's PowerShell engine
/// does (the network, which knows the host's spec, takes these and runs
/// them right after the step that started them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedScript {
    /// `\folder\name` of the task.
    pub task: String,
    /// powershell.exe's command line: the action's path, quoted, and its
    /// arguments, as the scheduler passes them.
    pub command_line: String,
    /// Who it runs as.
    pub principal: Principal,
    /// When the scheduler started it.
    pub at: LabTime,
}

/// The Task Scheduler's store.
#[derive(Debug, Clone, Default)]
pub struct TaskScheduler {
    tasks: BTreeMap<CiKey, Task>,
    /// Folders made empty (`ITaskFolder::CreateFolder`); a folder that
    /// holds a task exists anyway.
    folders: std::collections::BTreeSet<CiKey>,
    /// PowerShell actions started and not yet run ([`StartedScript`]).
    started: Vec<StartedScript>,
}

impl TaskScheduler {
    pub fn new() -> TaskScheduler {
        TaskScheduler::default()
    }
    /// RegisterTaskDefinition; `replace` is `schtasks /F`.
    pub fn register(&mut self, t: Task, replace: bool) -> Result<(), TaskError> {
        let p = t.path();
        if !replace && self.tasks.contains_key(CiStr::new(&p)) {
            return Err(TaskError::Exists(p));
        }
        self.tasks.insert(CiKey::from(p), t);
        Ok(())
    }
    /// By full path (`\Microsoft\Windows\Defrag\ScheduledDefrag`); a bare
    /// name means the root folder, as schtasks takes it.
    pub fn get(&self, path: &str) -> Option<&Task> {
        self.tasks.get(CiStr::new(&full(path)))
    }
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Task> {
        self.tasks.get_mut(CiStr::new(&full(path)))
    }
    /// Deleting a task leaves its folder, as Task Scheduler does.
    pub fn delete(&mut self, path: &str) -> Result<Task, TaskError> {
        let t = self
            .tasks
            .remove(CiStr::new(&full(path)))
            .ok_or_else(|| TaskError::NotFound(path.into()))?;
        if t.folder != "\\" {
            self.folders.insert(CiKey::from(t.folder.clone()));
        }
        Ok(t)
    }
    /// In path order.
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.tasks.values_mut()
    }
    pub fn len(&self) -> usize {
        self.tasks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
    /// `ITaskFolder::CreateFolder`: an existing folder is an error
    /// (0x800700B7), as Windows says.
    pub fn create_folder(&mut self, folder: &str) -> Result<(), TaskError> {
        let f = norm_folder(folder);
        if self.folder_exists(&f) {
            return Err(TaskError::Exists(f));
        }
        self.folders.insert(CiKey::from(f));
        Ok(())
    }
    /// The root, a folder made, or one that holds a task (or a folder
    /// below it).
    pub fn folder_exists(&self, folder: &str) -> bool {
        let f = norm_folder(folder);
        f == "\\"
            || self.folders.iter().any(|k| eq_ci(k.as_str(), &f) || starts_with_ci(k.as_str(), &format!("{f}\\")))
            || self.under(&f).next().is_some()
    }
    /// The folders right below `folder` (`ITaskFolder::GetFolders`), by
    /// path, in path order: every folder made or holding a task, and the
    /// folders above those.
    pub fn subfolders(&self, folder: &str) -> Vec<String> {
        let f = norm_folder(folder);
        let prefix = if f == "\\" { f.clone() } else { format!("{f}\\") };
        let mut out: BTreeMap<CiKey, String> = BTreeMap::new();
        let all = self.folders.iter().map(|k| k.as_str()).chain(self.tasks.values().map(|t| t.folder.as_str()));
        for p in all {
            if p.len() <= prefix.len() || !starts_with_ci(p, &prefix) {
                continue;
            }
            let Some(rest) = p.get(prefix.len()..) else { continue };
            let child = format!("{prefix}{}", rest.split('\\').next().unwrap_or(rest));
            out.entry(CiKey::from(child.clone())).or_insert(child);
        }
        out.into_values().collect()
    }
    /// Tasks in `folder` and below.
    pub fn under<'a>(&'a self, folder: &str) -> impl Iterator<Item = &'a Task> + 'a {
        let f = norm_folder(folder);
        self.tasks.values().filter(move |t| {
            f == "\\" || eq_ci(&t.folder, &f) || starts_with_ci(&t.folder, &format!("{f}\\"))
        })
    }
    /// A PowerShell action was started: keep it for the PowerShell engine.
    pub fn script_started(&mut self, s: StartedScript) {
        self.started.push(s);
    }
    /// The PowerShell actions started since the last call, in order.
    pub fn take_started(&mut self) -> Vec<StartedScript> {
        std::mem::take(&mut self.started)
    }
    /// Whether a started PowerShell action waits to run.
    pub fn has_started(&self) -> bool {
        !self.started.is_empty()
    }
    /// Delete expired tasks whose DeleteExpiredTaskAfter has passed (what
    /// the scheduler does on its own); returns them.
    pub fn sweep_expired(&mut self, now: LabTime) -> Vec<Task> {
        let due: Vec<CiKey> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.deletion_due().is_some_and(|d| d <= now) && t.expired_at(now))
            .map(|(k, _)| k.clone())
            .collect();
        due.iter()
            .filter_map(|k| self.tasks.remove(k.as_ci()))
            .collect()
    }
}

fn full(path: &str) -> String {
    if path.starts_with('\\') {
        path.to_string()
    } else {
        format!("\\{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration(1800), "PT30M");
        assert_eq!(iso_duration(86_400), "P1D");
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(90_061), "P1DT1H1M1S");
        for s in ["PT30M", "P1D", "PT0S", "P1DT1H1M1S", "PT1H"] {
            assert_eq!(iso_duration(parse_iso_duration(s).unwrap()), s);
        }
        assert_eq!(parse_iso_duration("P1W"), Some(604_800));
        for bad in ["", "P", "PT", "30M", "PT5", "P1H", "PTXM"] {
            assert_eq!(parse_iso_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn self_deleting_once_task_goes_after_its_end() {
        let t0 = LabTime::EPOCH;
        let mut ts = TaskScheduler::new();
        let mut t = Task::new("\\", "ckwmhquf", Principal::system())
            .with_action(ExecAction::new(
                "regsvr32.exe",
                r"-s C:\Users\a\AppData\Roaming\Microsoft\Ejuio\x.dll",
            ))
            .with_trigger(Trigger::Time {
                start: t0.plus_secs(120),
                end: Some(t0.plus_secs(720)),
                repetition: None,
            });
        t.delete_expired_after = Some(0);
        ts.register(t.clone(), false).unwrap();
        assert_eq!(ts.register(t, false).unwrap_err().win32_code(), 183);
        assert!(ts.get("CKWMHQUF").is_some());
        assert_eq!(
            ts.get("\\ckwmhquf").unwrap().next_run_after(t0),
            Some(t0.plus_secs(120))
        );
        assert!(ts.sweep_expired(t0.plus_secs(700)).is_empty());
        assert_eq!(ts.sweep_expired(t0.plus_secs(721)).len(), 1);
        assert!(ts.is_empty());
    }

    #[test]
    fn repetition_and_daily_next_runs_and_folders() {
        let t0 = LabTime::EPOCH;
        let rep = Trigger::Time {
            start: t0,
            end: None,
            repetition: Some(Repetition {
                interval_secs: 1800,
                duration_secs: None,
            }),
        };
        assert_eq!(rep.next_run_after(t0), Some(t0.plus_secs(1800)));
        assert_eq!(
            rep.next_run_after(t0.plus_secs(3601)),
            Some(t0.plus_secs(5400))
        );
        let daily = Trigger::Daily {
            start: t0,
            days_interval: 1,
            end: None,
            repetition: None,
        };
        assert_eq!(
            daily.next_run_after(t0.plus_secs(10)),
            Some(t0.plus_days(1))
        );
        let bounded = Trigger::Daily {
            start: t0,
            days_interval: 1,
            end: Some(t0.plus_days(1)),
            repetition: Some(Repetition {
                interval_secs: 3600,
                duration_secs: Some(7200),
            }),
        };
        assert_eq!(
            bounded.next_run_after(t0.plus_secs(3 * 3600)),
            Some(t0.plus_days(1))
        );
        assert_eq!(bounded.next_run_after(t0.plus_days(1)), None);
        let logon = Trigger::Logon {
            user: None,
            repetition: None,
        };
        assert_eq!(logon.next_run_after(t0), None);
        let mut ts = TaskScheduler::new();
        ts.register(
            Task::new(
                r"\Microsoft\Windows\Defrag",
                "ScheduledDefrag",
                Principal::system(),
            ),
            false,
        )
        .unwrap();
        ts.register(
            Task::new(
                r"\Mozilla\",
                "Firefox Default Browser Agent 308046B0AF4A39CB",
                Principal::user("CORP\\bob"),
            ),
            false,
        )
        .unwrap();
        assert_eq!(ts.under(r"\microsoft").count(), 1);
        assert_eq!(ts.under("\\").count(), 2);
        assert_eq!(
            ts.get(r"\mozilla\firefox default browser agent 308046b0af4a39cb")
                .unwrap()
                .folder,
            r"\Mozilla"
        );
        ts.delete(r"\Microsoft\Windows\Defrag\ScheduledDefrag")
            .unwrap();
        assert_eq!(ts.delete("nope").unwrap_err().win32_code(), 2);
    }
}
