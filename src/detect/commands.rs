//! Every command a snapshot holds, as Windows would start it: the text
//! (a Winlogon list split into its programs, a task action's path quoted
//! before its arguments, a service's ImagePath made full), the account it
//! runs as (with that account's folders for `%APPDATA%`), and the folder
//! it starts in. Detection (`facts`) and collection's second pass
//! (`runtime::file_targets`) read commands through this one place.

use super::command_line::{self, DEFAULT_CWD};
use super::paths;
use crate::runtime::snapshot::{
    Autorun, AutorunLocation, Process, Service, Snapshot, Task, UserProfile, WmiSubscription,
};

/// Where a command comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    Autorun(&'a Autorun),
    Task(&'a Task),
    Service(&'a Service),
    Wmi(&'a WmiSubscription),
    Process(&'a Process),
}

/// One command of the snapshot.
#[derive(Debug, Clone)]
pub struct Command<'a> {
    pub origin: Origin<'a>,
    pub text: String,
    /// The account it runs as (its profile), when known.
    pub user: Option<UserProfile>,
    /// The folder it starts in, when known.
    pub cwd: Option<String>,
}

/// The SID of a service account named the way tasks, services and
/// process listings name it (`LocalSystem`, `NT AUTHORITY\SYSTEM`,
/// `SYSTEM`, `NT AUTHORITY\LocalService`, `NETWORK SERVICE`, a SID). An
/// empty account is SYSTEM (a service or task that names none).
pub fn service_account_sid(account: &str) -> Option<&'static str> {
    let a = account.trim().to_ascii_lowercase();
    let leaf = a.rsplit('\\').next().unwrap_or(&a).replace(' ', "");
    match leaf.as_str() {
        "" | "system" | "localsystem" | "s-1-5-18" => Some("S-1-5-18"),
        "localservice" | "s-1-5-19" => Some("S-1-5-19"),
        "networkservice" | "s-1-5-20" => Some("S-1-5-20"),
        _ => None,
    }
}

/// The profile of a SID (service accounts included).
pub fn user_by_sid(snap: &Snapshot, sid: &str) -> Option<UserProfile> {
    UserProfile::service_account(sid).or_else(|| {
        snap.users
            .iter()
            .find(|u| u.sid.eq_ignore_ascii_case(sid))
            .cloned()
    })
}

/// The profile of an account word (see [`service_account_sid`]; else a
/// user by name, `DOMAIN\name`, profile folder name or SID).
pub fn user_by_account(snap: &Snapshot, account: &str) -> Option<UserProfile> {
    if let Some(sid) = service_account_sid(account) {
        return UserProfile::service_account(sid);
    }
    let n = account.rsplit('\\').next().unwrap_or(account);
    snap.users
        .iter()
        .find(|u| {
            u.name.eq_ignore_ascii_case(n)
                || paths::file_name(&u.profile_path).eq_ignore_ascii_case(n)
                || u.sid.eq_ignore_ascii_case(n)
        })
        .cloned()
}

/// The user an autostart belongs to: its SID, its hive, or for a startup
/// folder item the profile it sits in.
fn autorun_user(snap: &Snapshot, a: &Autorun) -> Option<UserProfile> {
    a.user_sid
        .as_deref()
        .and_then(|s| user_by_sid(snap, s))
        .or_else(|| match &a.location {
            AutorunLocation::RegistryValue { hive, .. } => user_by_sid(snap, hive),
            AutorunLocation::StartupFolder { path } => snap
                .users
                .iter()
                .find(|u| !u.profile_path.is_empty() && paths::is_under(path, &u.profile_path))
                .cloned(),
        })
}

/// The programs an autostart's data starts: Winlogon's `Userinit` and
/// `Shell` hold comma-separated lists, everything else one command.
fn autorun_texts(a: &Autorun) -> Vec<String> {
    let list = match &a.location {
        AutorunLocation::RegistryValue { key, value, .. } => {
            key.to_ascii_lowercase().ends_with("winlogon")
                && (value.eq_ignore_ascii_case("userinit") || value.eq_ignore_ascii_case("shell"))
        }
        AutorunLocation::StartupFolder { .. } => false,
    };
    if list {
        a.command
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    } else {
        vec![a.command.clone()]
    }
}

/// A task action as a command line: its path quoted (the Task Scheduler
/// takes it whole), then its arguments.
pub fn task_text(path: &str, arguments: &str) -> String {
    let p = path.trim().trim_matches('"');
    if arguments.trim().is_empty() {
        format!("\"{p}\"")
    } else {
        format!("\"{p}\" {arguments}")
    }
}

/// Every command of `snap`, in the snapshot's order (autostarts, tasks,
/// services, WMI command-line consumers, processes).
pub fn commands(snap: &Snapshot) -> Vec<Command<'_>> {
    let mut out = Vec::new();
    for a in &snap.autoruns {
        let user = autorun_user(snap, a);
        let cwd = match &a.location {
            AutorunLocation::RegistryValue { .. } => Some(DEFAULT_CWD.to_string()),
            // A shortcut's own working folder is not collected.
            AutorunLocation::StartupFolder { .. } => None,
        };
        for text in autorun_texts(a) {
            out.push(Command {
                origin: Origin::Autorun(a),
                text,
                user: user.clone(),
                cwd: cwd.clone(),
            });
        }
    }
    for t in &snap.tasks {
        let user = user_by_account(snap, &t.principal);
        for act in &t.actions {
            let cwd = if act.working_directory.trim().is_empty() {
                DEFAULT_CWD
            } else {
                act.working_directory.trim()
            };
            out.push(Command {
                origin: Origin::Task(t),
                text: task_text(&act.path, &act.arguments),
                user: user.clone(),
                cwd: Some(cwd.to_string()),
            });
        }
    }
    for s in &snap.services {
        out.push(Command {
            origin: Origin::Service(s),
            text: command_line::service_command(&s.image_path),
            // A driver runs in the kernel: SYSTEM's, whatever its account.
            user: if s.driver { UserProfile::service_account("S-1-5-18") } else { user_by_account(snap, &s.account) },
            cwd: Some(DEFAULT_CWD.to_string()),
        });
    }
    for w in &snap.wmi {
        if w.consumer_type.to_ascii_lowercase().contains("commandline") {
            out.push(Command {
                origin: Origin::Wmi(w),
                text: w.action.clone(),
                user: UserProfile::service_account("S-1-5-18"),
                cwd: Some(DEFAULT_CWD.to_string()),
            });
        }
    }
    for p in &snap.processes {
        let text = if p.command_line.trim().is_empty() {
            format!("\"{}\"", p.image)
        } else {
            p.command_line.clone()
        };
        out.push(Command {
            origin: Origin::Process(p),
            text,
            user: user_by_account(snap, &p.user),
            cwd: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;

    #[test]
    fn accounts_and_folders() {
        assert_eq!(
            service_account_sid(r"NT AUTHORITY\SYSTEM"),
            Some("S-1-5-18")
        );
        assert_eq!(service_account_sid("LocalSystem"), Some("S-1-5-18"));
        assert_eq!(
            service_account_sid(r"NT AUTHORITY\LocalService"),
            Some("S-1-5-19")
        );
        assert_eq!(service_account_sid("NETWORK SERVICE"), Some("S-1-5-20"));
        assert_eq!(service_account_sid(r"CORP\systemadmin"), None);
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .task(r"\T", "rundll32.exe", "x", r"NT AUTHORITY\SYSTEM", &[])
            .task(r"\U", "a.exe", "", r"CORP\bob", &[])
            .startup(
                r"C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\a.lnk",
                r"%APPDATA%\a.exe",
            )
            .autorun(
                "HKLM",
                r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon",
                "Userinit",
                r"C:\Windows\system32\userinit.exe, C:\ProgramData\x.exe",
            )
            .build();
        let c = commands(&s);
        let appdata = |c: &Command| c.user.as_ref().map(|u| u.appdata.clone());
        // SYSTEM's folders are the systemprofile's.
        let t = c
            .iter()
            .find(|c| matches!(c.origin, Origin::Task(t) if t.path == r"\T"))
            .unwrap();
        assert_eq!(
            appdata(t).as_deref(),
            Some(r"C:\Windows\System32\config\systemprofile\AppData\Roaming")
        );
        assert_eq!(t.cwd.as_deref(), Some(DEFAULT_CWD));
        let u = c
            .iter()
            .find(|c| matches!(c.origin, Origin::Task(t) if t.path == r"\U"))
            .unwrap();
        assert_eq!(appdata(u).as_deref(), Some(r"C:\Users\bob\AppData\Roaming"));
        // A startup item belongs to the profile it sits in.
        let st = c
            .iter()
            .find(|c| matches!(c.origin, Origin::Autorun(a) if matches!(a.location, AutorunLocation::StartupFolder { .. })))
            .unwrap();
        assert_eq!(
            appdata(st).as_deref(),
            Some(r"C:\Users\bob\AppData\Roaming")
        );
        // Winlogon's list: one command per program.
        assert_eq!(
            c.iter()
                .filter(|c| c.text.contains("userinit") || c.text.contains("x.exe"))
                .count(),
            2
        );
    }
}
