//! The reboot phase's host requests ([`Power`]) read back: the boot time
//! as UTC, and what `shutdown.exe` answered, judged by its exit code only
//! (its text is localized). Pure: frames in, values out; [`super::client`]
//! sends the jobs.
//!
//! | item | record | fields |
//! |---|---|---|
//! | BootTime | `boot` | cim (`Win32_OperatingSystem.LastBootUpTime` as WMI gives it) |
//! | Reboot | `files` (when files were named) | asked queued gone left* |
//! | Reboot, AbortReboot | `shutdown` | exit text |
//! | LoggedOnUsers | `session`*, then `sessions` | sid name id; count |

use super::ops::Power;
use super::results::Frames;

/// shutdown.exe's `/d` reason for cauterize's reboots: planned, operating
/// system, security fix (`p:2:18`, recorded with the message in the
/// System log's event 1074).
pub const REBOOT_REASON: &str = "p:2:18";

/// The longest `/c` comment shutdown.exe takes, in characters.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// The exit code shutdown.exe gives when a shutdown is already scheduled.
pub const ALREADY_SCHEDULED: i64 = 1190;
/// ... when a shutdown is in progress (the host is going down).
pub const IN_PROGRESS: i64 = 1115;
/// ... on `/a` when no shutdown was in progress.
pub const NOTHING_TO_ABORT: i64 = 1116;

/// How a host answered a reboot request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootStart {
    /// Exit 0: scheduled, to happen after the countdown.
    Scheduled,
    /// 1190: a shutdown was already scheduled (an earlier try of ours, or
    /// someone else's): the host will go down, when it says; the engine
    /// waits for its boot time to change like after its own.
    AlreadyScheduled,
    /// 1115: a shutdown is in progress: the host is going down now.
    InProgress,
}

/// The purge's files as the host showed them just before the reboot was
/// asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileCheck {
    /// Files named in the request.
    pub asked: u32,
    /// Of those, queued for deletion at boot (PendingFileRenameOperations
    /// or PendingFileRenameOperations2).
    pub queued: u32,
    /// Of those, already gone.
    pub gone: u32,
    /// Those still there and not queued: the reboot will not remove them
    /// (a file kept for want of its evidence copy, or a queue entry an
    /// installer dropped).
    pub left: Vec<String>,
}

/// A reboot request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebootReply {
    pub start: RebootStart,
    /// `None` when the request named no file.
    pub files: Option<FileCheck>,
}

/// The [`Power::Reboot`] request for this countdown and message. The
/// message is the operator's (the playbook's), cut to
/// [`MAX_MESSAGE_CHARS`]; a double quote becomes a single one and control
/// characters spaces, because Windows PowerShell before 7.3 passes an
/// argument's embedded `"` to a native program unescaped, which would
/// split the comment into more arguments.
pub fn reboot_request(countdown_secs: u32, message: &str, files: Vec<String>) -> Power {
    let message: String = message
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    Power::Reboot {
        countdown_secs,
        message,
        reason: REBOOT_REASON.into(),
        files,
    }
}

/// Why a power answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PowerError(pub String);

fn shutdown_exit(frames: &Frames, i: usize) -> Result<(i64, String), PowerError> {
    let r = frames
        .of(i)
        .find(|r| r.kind == "shutdown")
        .ok_or_else(|| PowerError("the runtime reported no shutdown.exe answer".into()))?;
    let exit = r.text("exit");
    let code = exit
        .trim()
        .parse::<i64>()
        .map_err(|_| PowerError(format!("shutdown.exe's exit code is not a number: {exit:?}")))?;
    Ok((code, r.text("text")))
}

fn failure(code: i64, text: &str, what: &str) -> PowerError {
    PowerError(format!("{what} failed: shutdown.exe exited {code} ({})", text.trim()))
}

/// Item `i`'s answer to [`Power::Reboot`].
pub fn reboot_reply(frames: &Frames, i: usize) -> Result<RebootReply, PowerError> {
    let queue = frames.of(i).find(|r| r.kind == "files").map(|r| FileCheck {
        asked: r.num("asked") as u32,
        queued: r.num("queued") as u32,
        gone: r.num("gone") as u32,
        left: r.texts("left"),
    });
    let (code, text) = shutdown_exit(frames, i)?;
    let start = match code {
        0 => RebootStart::Scheduled,
        ALREADY_SCHEDULED => RebootStart::AlreadyScheduled,
        IN_PROGRESS => RebootStart::InProgress,
        _ => return Err(failure(code, &text, "shutdown /r")),
    };
    Ok(RebootReply { start, files: queue })
}

/// Item `i`'s answer to [`Power::AbortReboot`]: `true` when a countdown
/// was cancelled, `false` when none was pending (1116, not a failure).
pub fn abort_reply(frames: &Frames, i: usize) -> Result<bool, PowerError> {
    match shutdown_exit(frames, i)? {
        (0, _) => Ok(true),
        (NOTHING_TO_ABORT, _) => Ok(false),
        (code, text) => Err(failure(code, &text, "shutdown /a")),
    }
}

/// A user with an interactive session on a host (console or Remote
/// Desktop, active or disconnected).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedOnUser {
    /// Empty when no owner of the session's processes could be read:
    /// someone may be there.
    pub sid: String,
    /// `DOMAIN\user` as the host translates the SID; empty when it cannot.
    pub name: String,
    /// The session's id (1 is the console's on Windows Vista and later).
    pub session: u32,
}

impl std::fmt::Display for LoggedOnUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.name.is_empty(), self.sid.is_empty()) {
            (false, _) => write!(f, "{} (session {})", self.name, self.session),
            (true, false) => write!(f, "{} (session {})", self.sid, self.session),
            (true, true) => write!(f, "an unreadable user (session {})", self.session),
        }
    }
}

/// Item `i`'s answer to [`Power::LoggedOnUsers`]. Strict: the count the
/// host closes with must match the sessions read, so an answer cut short
/// is an error, never "nobody is logged on".
pub fn logged_on_users(frames: &Frames, i: usize) -> Result<Vec<LoggedOnUser>, PowerError> {
    let count = frames
        .of(i)
        .find(|r| r.kind == "sessions")
        .ok_or_else(|| PowerError("the runtime did not finish listing the logged-on users".into()))?
        .text("count");
    let count: usize = count
        .trim()
        .parse()
        .map_err(|_| PowerError(format!("the count of logged-on users is not a number: {count:?}")))?;
    let mut users = Vec::new();
    for r in frames.of(i).filter(|r| r.kind == "session") {
        let id = r.text("id");
        let session = id
            .trim()
            .parse::<u32>()
            .map_err(|_| PowerError(format!("a session id is not a number: {id:?}")))?;
        let sid = r.text("sid");
        if !sid.is_empty() && !(sid.starts_with("S-1-") && sid[4..].bytes().all(|b| b.is_ascii_digit() || b == b'-')) {
            return Err(PowerError(format!("a session's user is not a SID: {sid:?}")));
        }
        users.push(LoggedOnUser { sid, name: r.text("name"), session });
    }
    if users.len() != count {
        return Err(PowerError(format!(
            "the host listed {} session(s) but counted {count}: the answer is incomplete",
            users.len()
        )));
    }
    Ok(users)
}

/// Item `i`'s answer to [`Power::BootTime`], as UTC
/// (`2026-12-07T09:10:45.123456Z`).
pub fn boot_time(frames: &Frames, i: usize) -> Result<String, PowerError> {
    let r = frames
        .of(i)
        .find(|r| r.kind == "boot")
        .ok_or_else(|| PowerError("the runtime reported no boot time".into()))?;
    cim_to_utc(&r.text("cim"))
}

/// A CIM datetime (`yyyyMMddHHmmss.ffffff±UUU`: local time, then its
/// offset from UTC in minutes) as UTC in ISO 8601 with microseconds.
/// Strict: exactly that shape, every field in range; the offset is
/// subtracted, so `20261207101045.123456+060` is `2026-12-07T09:10:45.123456Z`.
pub fn cim_to_utc(cim: &str) -> Result<String, PowerError> {
    let bad = |why: &str| PowerError(format!("the boot time {cim:?} is not a CIM datetime: {why}"));
    let b = cim.as_bytes();
    if b.len() != 25 || b[14] != b'.' || !matches!(b[21], b'+' | b'-') {
        return Err(bad("expected yyyyMMddHHmmss.ffffff+UUU"));
    }
    let digits = |from: usize, to: usize| -> Result<i64, PowerError> {
        let s = &cim[from..to];
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("a field is not digits"));
        }
        Ok(s.parse::<i64>().unwrap_or(0))
    };
    let (y, mo, d) = (digits(0, 4)?, digits(4, 6)?, digits(6, 8)?);
    let (h, mi, s) = (digits(8, 10)?, digits(10, 12)?, digits(12, 14)?);
    let micros = digits(15, 21)?;
    let offset = digits(22, 25)? * if b[21] == b'-' { -1 } else { 1 };
    if !(1601..=9999).contains(&y) || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return Err(bad("the date is out of range"));
    }
    if h > 23 || mi > 59 || s > 59 || offset.abs() > 14 * 60 {
        return Err(bad("the time or the offset is out of range"));
    }
    let local = (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000 + micros;
    let utc = local - offset * 60 * 1_000_000;
    let (secs, micros) = (utc.div_euclid(1_000_000), utc.rem_euclid(1_000_000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    Ok(format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

/// Microseconds since 1970-01-01 UTC of a boot time as [`cim_to_utc`]
/// writes it (`2026-12-07T09:10:45.123456Z`, exactly that shape); `None`
/// for anything else.
pub fn utc_micros(iso: &str) -> Option<i64> {
    let b = iso.as_bytes();
    let shape = b.len() == 27
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z';
    if !shape {
        return None;
    }
    let n = |from: usize, to: usize| -> Option<i64> {
        let s = &iso[from..to];
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (h, mi, sec, micros) = (n(11, 13)?, n(14, 16)?, n(17, 19)?, n(20, 26)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1_000_000 + micros)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::results::{Limits, Writer, parse};
    use crate::runtime::ops::Bounds;

    fn frames(records: &[(&str, &[(&str, &str)])]) -> Frames {
        let mut w = Writer::new(1 << 20);
        for (kind, fields) in records {
            w.record(0, kind, fields);
        }
        parse(&w.finish(), 1, &Limits::from_bounds(&Bounds::default())).expect("parses")
    }

    #[test]
    fn a_utc_boot_time_reads_back_as_microseconds() {
        let at = |cim: &str| utc_micros(&cim_to_utc(cim).unwrap()).unwrap();
        assert_eq!(at("19700101000001.000002+000"), 1_000_002);
        assert_eq!(at("20261207101045.123456+060") - at("20261207091045.123455+000"), 1);
        assert_eq!(at("20250101003000.000000+060") - at("20241231233000.000000+000"), 0);
        for bad in ["", "2026-12-07T09:10:45Z", "2026-12-07 09:10:45.123456Z", "2026-13-07T09:10:45.123456Z", "2026-12-07T09:10:45.12345xZ"] {
            assert_eq!(utc_micros(bad), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn a_cim_datetime_becomes_utc_with_its_own_offset() {
        assert_eq!(cim_to_utc("20261207101045.123456+060").unwrap(), "2026-12-07T09:10:45.123456Z");
        assert_eq!(cim_to_utc("20261206220000.000000-300").unwrap(), "2026-12-07T03:00:00.000000Z");
        // Across a year's end and a leap day.
        assert_eq!(cim_to_utc("20250101003000.000000+060").unwrap(), "2024-12-31T23:30:00.000000Z");
        assert_eq!(cim_to_utc("20240229235959.999999-001").unwrap(), "2024-03-01T00:00:59.999999Z");
        assert_eq!(cim_to_utc("20261207091045.500000+000").unwrap(), "2026-12-07T09:10:45.500000Z");
        for bad in [
            "",
            "20261207101045.123456",
            "20261207101045.123456+60",
            "2026120710104.5123456+060",
            "20261307101045.123456+060",
            "20230229101045.123456+060",
            "20261207246045.123456+060",
            "20261207101045.12345x+060",
            "20261207101045.123456+999",
            "20261207101045.123456*060",
        ] {
            assert!(cim_to_utc(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn shutdown_exit_codes_are_read_as_windows_gives_them() {
        let reply = |code: &str| reboot_reply(&frames(&[("shutdown", &[("exit", code), ("text", "x")])]), 0);
        assert_eq!(reply("0").unwrap().start, RebootStart::Scheduled);
        assert_eq!(reply("1190").unwrap().start, RebootStart::AlreadyScheduled);
        assert_eq!(reply("1115").unwrap().start, RebootStart::InProgress);
        let e = reply("5").unwrap_err().to_string();
        assert!(e.contains("exited 5") && e.contains("(x)"), "{e}");
        assert!(reply("x").is_err());
        assert!(reboot_reply(&frames(&[]), 0).is_err(), "no answer is not a reboot");
        let abort = |code: &str| abort_reply(&frames(&[("shutdown", &[("exit", code), ("text", "")])]), 0);
        assert_eq!(abort("0"), Ok(true));
        assert_eq!(abort("1116"), Ok(false));
        assert!(abort("1190").is_err());
    }

    #[test]
    fn logged_on_users_are_read_strictly_and_a_cut_answer_is_an_error() {
        let f = frames(&[
            ("session", &[("sid", "S-1-5-21-1-2-3-1001"), ("name", r"CORP\alice"), ("id", "1")]),
            ("session", &[("sid", ""), ("name", ""), ("id", "3")]),
            ("sessions", &[("count", "2")]),
        ]);
        let users = logged_on_users(&f, 0).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].to_string(), r"CORP\alice (session 1)");
        assert_eq!(users[1].to_string(), "an unreadable user (session 3)");
        assert_eq!(logged_on_users(&frames(&[("sessions", &[("count", "0")])]), 0), Ok(vec![]));
        // No closing count, a count that disagrees, a bad SID or id.
        let one = ("session", &[("sid", "S-1-5-21-1"), ("name", "x"), ("id", "2")][..]);
        assert!(logged_on_users(&frames(&[one]), 0).is_err());
        assert!(logged_on_users(&frames(&[one, ("sessions", &[("count", "2")])]), 0).is_err());
        let bad_sid = ("session", &[("sid", "S-1-5-21-1;x"), ("name", "x"), ("id", "2")][..]);
        assert!(logged_on_users(&frames(&[bad_sid, ("sessions", &[("count", "1")])]), 0).is_err());
        let bad_id = ("session", &[("sid", "S-1-5-21-1"), ("name", "x"), ("id", "-1")][..]);
        assert!(logged_on_users(&frames(&[bad_id, ("sessions", &[("count", "1")])]), 0).is_err());
    }

    #[test]
    fn the_file_check_comes_back_with_the_paths_left() {
        let f = frames(&[
            ("files", &[("asked", "3"), ("queued", "1"), ("gone", "1"), ("left", r"C:\a b.dll")]),
            ("shutdown", &[("exit", "0"), ("text", "")]),
        ]);
        let r = reboot_reply(&f, 0).unwrap();
        assert_eq!(
            r.files,
            Some(FileCheck {
                asked: 3,
                queued: 1,
                gone: 1,
                left: vec![r"C:\a b.dll".into()]
            })
        );
    }

    #[test]
    fn the_message_is_cut_and_cannot_split_into_arguments() {
        let long = format!("say \"hi\"\r\n{}", "x".repeat(600));
        let Power::Reboot { message, reason, .. } = reboot_request(60, &long, vec![]) else {
            panic!("not a reboot")
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        assert!(message.starts_with("say 'hi'  x"), "{message}");
        assert_eq!(reason, "p:2:18");
    }
}
