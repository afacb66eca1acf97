//! Restarting and shutting down a lab host from a command, as Windows
//! answers it: `shutdown.exe` (`/r /g /s /sg /p /a`, `/t /f /c /d`, `/m`
//! naming the host itself) and `Restart-Computer`. Pure: a command only
//! schedules the shutdown on the host's [`PowerDesk`]; the network carries
//! it out when lab time reaches it, after the command has answered (so
//! nothing here runs the shutdown under the lock the command holds).
//!
//! What the lab does not emulate (the GUI, log-off, hibernation, firmware
//! and boot-menu restarts, another computer) is refused on stderr with exit
//! code 1, never pretended.

use super::CommandResult;
use crate::lab::world::LabTime;

/// Longest `/t` Windows takes: ten years.
pub const MAX_TIMEOUT_SECS: u64 = 315_360_000;
/// `/t` when none is given.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Longest `/c` comment.
pub const MAX_COMMENT_CHARS: usize = 512;

/// What the host does when the shutdown comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Shut down and boot again.
    Restart,
    /// Shut down and stay off.
    PowerOff,
}

/// A shutdown a command scheduled on a host (Windows keeps one at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shutdown {
    /// When it begins (the end of the `/t` countdown).
    pub at: LabTime,
    pub action: PowerAction,
    /// `/c`, as the logged-on users are shown it.
    pub comment: String,
}

/// What a command sees and may change of its host's power.
#[derive(Debug)]
pub struct PowerDesk<'a> {
    /// The shutdown scheduled on the host, if any.
    pub pending: &'a mut Option<Shutdown>,
    /// Lab time now.
    pub now: LabTime,
    /// Someone is logged on interactively (a plain `Restart-Computer`
    /// refuses then).
    pub users_logged_on: bool,
    /// The host's own name (what `/m` and `-ComputerName` may name).
    pub computer_name: &'a str,
}

/// The Win32 errors a shutdown request meets, with the code shutdown.exe
/// exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Win32Error {
    /// ERROR_SHUTDOWN_IN_PROGRESS.
    InProgress,
    /// ERROR_NO_SHUTDOWN_IN_PROGRESS.
    NoneInProgress,
    /// ERROR_SHUTDOWN_IS_SCHEDULED.
    AlreadyScheduled,
    /// ERROR_SHUTDOWN_USERS_LOGGED_ON.
    UsersLoggedOn,
}

impl Win32Error {
    pub fn code(self) -> i32 {
        match self {
            Win32Error::InProgress => 1115,
            Win32Error::NoneInProgress => 1116,
            Win32Error::AlreadyScheduled => 1190,
            Win32Error::UsersLoggedOn => 1191,
        }
    }

    /// The system message (FormatMessage) for the code.
    pub fn message(self) -> &'static str {
        match self {
            Win32Error::InProgress => "A system shutdown is in progress.",
            Win32Error::NoneInProgress => {
                "Unable to abort the system shutdown because no shutdown was in progress."
            }
            Win32Error::AlreadyScheduled => "A system shutdown has already been scheduled.",
            Win32Error::UsersLoggedOn => {
                "The system shutdown cannot be initiated because there are other users logged on to the computer."
            }
        }
    }
}

impl PowerDesk<'_> {
    /// Schedule `action` `delay_secs` from now. `force` closes other users'
    /// programs (without it, a restart with users logged on is refused).
    pub fn schedule(
        &mut self,
        action: PowerAction,
        delay_secs: u64,
        force: bool,
        comment: &str,
    ) -> Result<(), Win32Error> {
        self.check_none_pending()?;
        if !force && self.users_logged_on {
            return Err(Win32Error::UsersLoggedOn);
        }
        *self.pending = Some(Shutdown {
            at: self.now.plus_secs(delay_secs as i64),
            action,
            comment: comment.to_string(),
        });
        Ok(())
    }

    /// Cancel the countdown (`shutdown /a`): only while it runs.
    pub fn abort(&mut self) -> Result<(), Win32Error> {
        match &*self.pending {
            None => Err(Win32Error::NoneInProgress),
            Some(s) if s.at <= self.now => Err(Win32Error::InProgress),
            Some(_) => {
                *self.pending = None;
                Ok(())
            }
        }
    }

    fn check_none_pending(&self) -> Result<(), Win32Error> {
        match &*self.pending {
            None => Ok(()),
            Some(s) if s.at <= self.now => Err(Win32Error::InProgress),
            Some(_) => Err(Win32Error::AlreadyScheduled),
        }
    }

    /// Whether `name` names this host (`localhost`, `.`, the loopback
    /// address or its own name), as `/m \\name` or `-ComputerName`.
    pub fn is_self(&self, name: &str) -> bool {
        let name = name.trim_start_matches('\\');
        [".", "localhost", "127.0.0.1", "::1"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            || name.eq_ignore_ascii_case(self.computer_name)
            || name
                .split_once('.')
                .is_some_and(|(short, _)| short.eq_ignore_ascii_case(self.computer_name))
    }
}

/// shutdown.exe's help, as `shutdown /?` prints it on Windows 10.
pub const SHUTDOWN_USAGE: &str = include_str!("shutdown_usage.txt");

/// What one shutdown.exe command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Help,
    Abort,
    Schedule {
        action: PowerAction,
        timeout: u64,
        comment: String,
    },
}

/// Why a command line is not carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// Windows prints its help and exits 1.
    Usage,
    /// Windows would do it; the lab does not emulate it.
    Lab(String),
}

/// Run `shutdown.exe` with `args` on the host behind `desk`.
pub fn shutdown_exe(args: &[String], desk: &mut PowerDesk<'_>) -> CommandResult {
    let result = match parse(args, desk) {
        Ok(Request::Help) => return usage(0),
        Err(Refusal::Usage) => return usage(1),
        Err(Refusal::Lab(what)) => return lab_refusal(&what),
        Ok(Request::Abort) => desk.abort(),
        // A time-out above 0 implies /f; at 0 the logged-on users are
        // logged off as part of the shutdown itself.
        Ok(Request::Schedule {
            action,
            timeout,
            comment,
        }) => desk.schedule(action, timeout, true, &comment),
    };
    match result {
        Ok(()) => CommandResult::default(),
        Err(e) => CommandResult {
            stderr: format!("{}({})\r\n", e.message(), e.code()).into_bytes(),
            exit_code: e.code(),
            ..Default::default()
        },
    }
}

fn usage(exit_code: i32) -> CommandResult {
    CommandResult {
        stdout: SHUTDOWN_USAGE.replace('\n', "\r\n").into_bytes(),
        exit_code,
        ..Default::default()
    }
}

fn lab_refusal(what: &str) -> CommandResult {
    CommandResult {
        stderr: format!("The cauterize lab does not emulate {what}\r\n").into_bytes(),
        exit_code: 1,
        ..Default::default()
    }
}

/// shutdown.exe's rules: options start with `/` or `-` in any case; one
/// mode; `/t` 0 to ten years; `/c` up to 512 characters; `/d [p|u:]xx:yy`;
/// `/p` takes only `/d` and `/f`; `/a` ignores the rest.
fn parse(args: &[String], desk: &PowerDesk<'_>) -> Result<Request, Refusal> {
    let mut mode: Option<String> = None;
    let mut timeout = None;
    let mut comment = None;
    let mut reason = false;
    let mut machine = None;
    let mut modifiers: Vec<String> = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let Some(option) = word.strip_prefix('/').or_else(|| word.strip_prefix('-')) else {
            return Err(Refusal::Usage);
        };
        let option = option.to_ascii_lowercase();
        let mut value = || words.next().cloned().ok_or(Refusal::Usage);
        match option.as_str() {
            "?" => return Ok(Request::Help),
            "i" | "l" | "s" | "sg" | "r" | "g" | "a" | "p" | "h" | "e" => {
                if mode.replace(option).is_some() {
                    return Err(Refusal::Usage);
                }
            }
            "o" | "hybrid" | "soft" | "fw" | "f" => modifiers.push(option),
            "t" => {
                let v = value()?;
                let secs = v
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s <= MAX_TIMEOUT_SECS)
                    .ok_or(Refusal::Usage)?;
                timeout = Some(secs);
            }
            "c" => {
                let v = value()?;
                if v.chars().count() > MAX_COMMENT_CHARS {
                    return Err(Refusal::Usage);
                }
                comment = Some(v);
            }
            "d" => {
                if !valid_reason(&value()?) {
                    return Err(Refusal::Usage);
                }
                reason = true;
            }
            "m" => machine = Some(value()?),
            _ => return Err(Refusal::Usage),
        }
    }
    let Some(mode) = mode else {
        return if args.is_empty() {
            Ok(Request::Help)
        } else {
            Err(Refusal::Usage)
        };
    };
    let has = |m: &str| modifiers.iter().any(|x| x == m);
    if mode == "a" {
        return Ok(Request::Abort);
    }
    if (has("o") && mode != "r") || (has("hybrid") && mode != "s") {
        return Err(Refusal::Usage);
    }
    if mode == "p" && (timeout.is_some() || comment.is_some() || machine.is_some()) {
        return Err(Refusal::Usage);
    }
    if mode == "l" && (machine.is_some() || reason) {
        return Err(Refusal::Usage);
    }
    if let Some(m) = machine.as_deref().filter(|m| !desk.is_self(m)) {
        return Err(Refusal::Lab(format!(
            "shutting down another computer (/m {m}) from this one"
        )));
    }
    let action = match mode.as_str() {
        "r" | "g" => PowerAction::Restart,
        "s" | "sg" | "p" => PowerAction::PowerOff,
        "i" => {
            return Err(Refusal::Lab(
                "shutdown /i (a dialog on a desktop a WinRM shell does not have)".into(),
            ));
        }
        "l" => return Err(Refusal::Lab("shutdown /l (logging off)".into())),
        "h" => return Err(Refusal::Lab("shutdown /h (hibernation)".into())),
        _ => {
            return Err(Refusal::Lab(
                "shutdown /e (documenting an unexpected shutdown)".into(),
            ));
        }
    };
    if has("o") || has("fw") {
        return Err(Refusal::Lab(
            "restarting into the boot menu or the firmware (/o, /fw)".into(),
        ));
    }
    let timeout = if mode == "p" {
        0
    } else {
        timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)
    };
    Ok(Request::Schedule {
        action,
        timeout,
        comment: comment.unwrap_or_default(),
    })
}

/// `/d [p|u:]xx:yy` (`p:` planned, `u:` user defined; major below 256,
/// minor below 65536).
fn valid_reason(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let body = ["p:", "u:", "pu:", "up:"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    match body.split_once(':') {
        Some((major, minor)) => {
            major.parse::<u16>().is_ok_and(|m| m < 256)
                && minor.parse::<u32>().is_ok_and(|m| m < 65_536)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk<'a>(pending: &'a mut Option<Shutdown>, users: bool) -> PowerDesk<'a> {
        PowerDesk {
            pending,
            now: LabTime::EPOCH.plus_secs(100),
            users_logged_on: users,
            computer_name: "WS-001",
        }
    }

    fn run(line: &str, pending: &mut Option<Shutdown>) -> CommandResult {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        shutdown_exe(&args, &mut desk(pending, true))
    }

    fn stderr(r: &CommandResult) -> String {
        String::from_utf8_lossy(&r.stderr).into_owned()
    }

    #[test]
    fn restart_is_scheduled_after_the_time_out_and_can_be_aborted_within_it() {
        let mut pending = None;
        let r = run("/r /t 5 /f", &mut pending);
        assert_eq!((r.exit_code, r.stdout.len(), r.stderr.len()), (0, 0, 0));
        let at = LabTime::EPOCH.plus_secs(105);
        assert_eq!(
            pending,
            Some(Shutdown {
                at,
                action: PowerAction::Restart,
                comment: String::new()
            })
        );
        let again = run("-R -T 60", &mut pending);
        assert_eq!(again.exit_code, 1190);
        assert_eq!(
            stderr(&again),
            "A system shutdown has already been scheduled.(1190)\r\n"
        );
        assert_eq!(run("/a", &mut pending).exit_code, 0);
        assert_eq!(pending, None);
        let none = run("/a", &mut pending);
        assert_eq!(none.exit_code, 1116);
        assert!(
            stderr(&none).starts_with("Unable to abort the system shutdown"),
            "{}",
            stderr(&none)
        );
    }

    #[test]
    fn defaults_and_power_off() {
        let mut pending = None;
        run("/s", &mut pending);
        let s = pending.take().expect("scheduled");
        assert_eq!(
            (s.action, s.at),
            (PowerAction::PowerOff, LabTime::EPOCH.plus_secs(130))
        );
        run("/p", &mut pending);
        assert_eq!(
            pending.as_ref().map(|s| s.at),
            Some(LabTime::EPOCH.plus_secs(100))
        );
        // Once the countdown is over the shutdown is under way.
        assert_eq!(run("/a", &mut pending).exit_code, 1115);
        assert_eq!(run("/r", &mut pending).exit_code, 1115);
        let mut pending = None;
        let args = [
            "/g",
            "/t",
            "0",
            "/c",
            "Patch night: back in five",
            "/d",
            "p:4:1",
        ]
        .map(String::from);
        assert_eq!(
            shutdown_exe(&args, &mut desk(&mut pending, true)).exit_code,
            0
        );
        assert_eq!(
            pending.map(|s| s.comment).as_deref(),
            Some("Patch night: back in five")
        );
    }

    #[test]
    fn wrong_arguments_get_the_usage_text_and_exit_1() {
        for line in [
            "/r /t 315360001",
            "/r /t -1",
            "/r /t five",
            "/r /t",
            "/r /s",
            "/t 5",
            "/r /x",
            "r",
            "/p /t 5",
            "/s /o",
            "/r /d 300:1",
            "/r /d p:4",
        ] {
            let mut pending = None;
            let r = run(line, &mut pending);
            assert_eq!(r.exit_code, 1, "{line}");
            assert!(
                String::from_utf8_lossy(&r.stdout).starts_with("Usage: shutdown"),
                "{line}"
            );
            assert_eq!(pending, None, "{line}");
        }
        let mut pending = None;
        assert_eq!(run("/r /t 315360000", &mut pending).exit_code, 0);
        let help = run("/?", &mut None);
        assert_eq!(help.exit_code, 0);
        assert!(
            String::from_utf8_lossy(&help.stdout)
                .contains("\r\n    /r         Full shutdown and restart")
        );
        let long = ["/r".to_string(), "/c".to_string(), "x".repeat(513)];
        assert_eq!(shutdown_exe(&long, &mut desk(&mut None, true)).exit_code, 1);
    }

    #[test]
    fn what_the_lab_does_not_emulate_is_refused_plainly() {
        for line in ["/h", "/l", "/i", "/r /o", "/r /m \\\\DC01"] {
            let mut pending = None;
            let r = run(line, &mut pending);
            assert_eq!(r.exit_code, 1, "{line}");
            assert!(
                stderr(&r).starts_with("The cauterize lab does not emulate"),
                "{line}: {}",
                stderr(&r)
            );
            assert_eq!(pending, None);
        }
        let mut pending = None;
        assert_eq!(run("/r /m \\\\ws-001 /t 0", &mut pending).exit_code, 0);
        assert!(pending.is_some());
    }

    #[test]
    fn a_plain_restart_is_refused_while_users_are_logged_on() {
        let mut pending = None;
        assert_eq!(
            desk(&mut pending, true).schedule(PowerAction::Restart, 0, false, ""),
            Err(Win32Error::UsersLoggedOn)
        );
        assert_eq!(
            desk(&mut pending, false).schedule(PowerAction::Restart, 0, false, ""),
            Ok(())
        );
        assert!(desk(&mut pending, false).is_self("ws-001.lab.local"));
        assert!(!desk(&mut pending, false).is_self("WS-002"));
    }
}
