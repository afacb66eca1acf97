//! `reboot:`: the staggered waves over the hosts that need a reboot after
//! the purge (a canary first, then growing batches, like a rolling
//! deploy), the order of host kinds (workstations, servers, domain
//! controllers last and one at a time), time windows per inventory group,
//! the pause between waves, how many hosts may be down at once, the
//! failure budget that halts the operation, what logged-on users see and
//! what happens where users are logged on, and how long a host may take to
//! come back.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use super::fields::{Fields, duration_text};
use super::located::LocatedError;
use super::raw::{RawReboot, Scalar};
use super::roles::Role;

/// A number of hosts, or a percentage of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Share {
    Count(u32),
    /// 0 to 100.
    Percent(u32),
}

impl Share {
    /// Of `total` hosts, rounded up (a wave of 10% of 3 hosts is 1 host).
    pub fn of_up(self, total: usize) -> usize {
        match self {
            Share::Count(n) => n as usize,
            Share::Percent(p) => (total * p as usize).div_ceil(100),
        }
    }

    /// Of `total` hosts, rounded down (a failure budget of 5% of 30 hosts
    /// is 1 host).
    pub fn of_down(self, total: usize) -> usize {
        match self {
            Share::Count(n) => n as usize,
            Share::Percent(p) => total * p as usize / 100,
        }
    }

    /// `5` or `10%`.
    pub fn parse(text: &str) -> Result<Share, String> {
        let t = text.trim();
        let (digits, percent) = match t.strip_suffix('%') {
            Some(d) => (d.trim(), true),
            None => (t, false),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{t}` is neither a number nor a percentage"));
        }
        let n: u32 = digits.parse().map_err(|_| format!("`{t}` is too large"))?;
        if percent {
            if n > 100 {
                return Err(format!("{t} is more than 100%"));
            }
            Ok(Share::Percent(n))
        } else {
            Ok(Share::Count(n))
        }
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Share::Count(n) => write!(f, "{n}"),
            Share::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl From<Share> for String {
    fn from(s: Share) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Share {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Share::parse(&s)
    }
}

/// What happens to a host whose users are logged on when its wave comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoggedOn {
    /// Warn them (message and countdown), then reboot.
    Reboot,
    /// Wait until they log off (read again every few seconds), at most
    /// `logoff_wait`; then set the host aside for a person (it is not
    /// rebooted and holds the release).
    Wait,
    /// Set the host aside for a person at once (not rebooted; it holds the
    /// release). Under `wait` and `skip` a host whose users cannot be read
    /// is set aside too.
    Skip,
}

/// Reboots of an inventory group's hosts happen only between `from` and
/// `to` (minutes after midnight; `to < from` spans midnight), on the
/// operator's clock, or in UTC when `utc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub group: String,
    /// As written: `22:00-05:00` or `22:00-05:00 UTC`.
    pub at: String,
    pub from_minute: u32,
    pub to_minute: u32,
    pub utc: bool,
}

impl TimeWindow {
    /// `HH:MM-HH:MM`, optionally followed by ` UTC`.
    pub fn parse(group: &str, text: &str) -> Result<TimeWindow, String> {
        let t = text.trim();
        let (span, utc) = match t.strip_suffix("UTC").or_else(|| t.strip_suffix("utc")) {
            Some(s) => (s.trim_end(), true),
            None => (t, false),
        };
        let (a, b) = span
            .split_once('-')
            .ok_or_else(|| format!("`{t}` is not a window"))?;
        let minute = |s: &str| -> Result<u32, String> {
            let s = s.trim();
            let (h, m) = s.split_once(':').ok_or_else(|| format!("`{s}` is not HH:MM"))?;
            let ok = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
            if !ok(h) || !ok(m) {
                return Err(format!("`{s}` is not HH:MM"));
            }
            let (h, m): (u32, u32) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
            if h > 23 || m > 59 {
                return Err(format!("`{s}` is not a time of day"));
            }
            Ok(h * 60 + m)
        };
        let (from_minute, to_minute) = (minute(a)?, minute(b)?);
        if from_minute == to_minute {
            return Err(format!("`{t}` is empty (it starts when it ends)"));
        }
        Ok(TimeWindow {
            group: group.to_string(),
            at: t.to_string(),
            from_minute,
            to_minute,
            utc,
        })
    }
}

/// The validated `reboot:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebootSettings {
    /// Wave sizes in order, counts or percentages of the hosts that need a
    /// reboot; the last repeats until every host is done. Default
    /// `[1, 5, "10%", "100%"]`: a canary, then five, then a tenth, then
    /// the rest.
    pub waves: Vec<Share>,
    /// Wait for the operator's go-ahead after the canary wave.
    pub confirm_after_canary: bool,
    /// Kinds of host in reboot order: every one of workstation, server
    /// and domain_controller once (default that order). Domain controllers
    /// always reboot one at a time.
    pub order: Vec<Role>,
    #[serde(with = "duration_text")]
    pub pause: Duration,
    /// Most hosts down (rebooting) at once.
    pub max_down: Share,
    /// Failed reboots (never started, or not back in `return_timeout`)
    /// beyond this halt the operation; a percentage is of the hosts that
    /// need a reboot. A failed canary always halts.
    pub failure_budget: Share,
    /// Shown to logged-on users (`shutdown /c`, at most 512 characters).
    pub message: String,
    /// Warning time before the reboot (`shutdown /t`).
    #[serde(with = "duration_text")]
    pub countdown: Duration,
    pub logged_on: LoggedOn,
    /// With `logged_on: wait`: how long to wait for users to log off.
    #[serde(with = "duration_text")]
    pub logoff_wait: Duration,
    pub windows: Vec<TimeWindow>,
    /// A host not back (boot time changed and WinRM answering) by then is
    /// set aside as failed.
    #[serde(with = "duration_text")]
    pub return_timeout: Duration,
    /// Hosts (globs) and groups never rebooted by cauterize.
    pub never_hosts: Vec<String>,
    pub never_groups: Vec<String>,
}

/// Default message for logged-on users.
pub const DEFAULT_MESSAGE: &str = "IT security: this computer restarts in a few minutes to finish removing malware. Save your work now.";

impl Default for RebootSettings {
    fn default() -> Self {
        RebootSettings {
            waves: vec![Share::Count(1), Share::Count(5), Share::Percent(10), Share::Percent(100)],
            confirm_after_canary: false,
            order: vec![Role::Workstation, Role::Server, Role::DomainController],
            pause: Duration::from_secs(120),
            max_down: Share::Count(50),
            failure_budget: Share::Percent(5),
            message: DEFAULT_MESSAGE.to_string(),
            countdown: Duration::from_secs(300),
            logged_on: LoggedOn::Reboot,
            logoff_wait: Duration::from_secs(1800),
            windows: vec![],
            return_timeout: Duration::from_secs(1200),
            never_hosts: vec![],
            never_groups: vec![],
        }
    }
}

impl RebootSettings {
    /// The window of the first of `groups` that has one.
    pub fn window_for(&self, groups: &[String]) -> Option<&TimeWindow> {
        self.windows
            .iter()
            .find(|w| groups.iter().any(|g| g.eq_ignore_ascii_case(&w.group)))
    }
}

/// Longest message `shutdown /c` takes.
pub const MAX_MESSAGE_CHARS: usize = 512;

const ORDER_WORDS: &[(&str, Role)] = &[
    ("workstation", Role::Workstation),
    ("server", Role::Server),
    ("domain_controller", Role::DomainController),
];

fn share(
    f: Fields<'_>,
    v: &Option<serde_saphyr::Spanned<Scalar>>,
    field: &str,
    default: Share,
    allow_zero: bool,
) -> Result<Share, LocatedError> {
    match v {
        None => Ok(default),
        Some(v) => share_at(f, &v.value, &v.referenced, field, allow_zero),
    }
}

fn share_at(
    f: Fields<'_>,
    v: &Scalar,
    at: &serde_saphyr::Location,
    field: &str,
    allow_zero: bool,
) -> Result<Share, LocatedError> {
    let allowed = if allow_zero {
        "a number of hosts (0 or more) or a percentage (`\"5%\"`)"
    } else {
        "a number of hosts (1 or more) or a percentage (`\"10%\"`, 1% to 100%)"
    };
    let s = Share::parse(&v.text()).map_err(|why| f.error(at, field, why, allowed))?;
    if !allow_zero && matches!(s, Share::Count(0) | Share::Percent(0)) {
        return Err(f.error(at, field, "zero hosts", allowed));
    }
    Ok(s)
}

pub(super) fn check(raw: Option<RawReboot>, f: Fields<'_>) -> Result<RebootSettings, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = RebootSettings::default();
    let waves = match &raw.waves {
        None => d.waves,
        Some(list) => {
            if list.value.is_empty() {
                return Err(f.error(&list.referenced, "reboot.waves", "no wave", "wave sizes such as [1, 5, \"10%\", \"100%\"]"));
            }
            if list.value.len() > 32 {
                return Err(f.error(&list.referenced, "reboot.waves", format!("{} sizes", list.value.len()), "at most 32 sizes (the last one repeats)"));
            }
            list.value
                .iter()
                .map(|w| share_at(f, &w.value, &w.referenced, "reboot.waves", false))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let allowed = "workstation, server and domain_controller, each once, in the order wanted";
    let order = match (&raw.order, f.word_list(&raw.order, "reboot.order", ORDER_WORDS, allowed)?) {
        (Some(l), Some(v)) if v.len() != ORDER_WORDS.len() => {
            return Err(f.error(&l.referenced, "reboot.order", "a kind of host is missing", allowed));
        }
        (_, Some(v)) => v,
        (_, None) => d.order,
    };
    let message = match &raw.message {
        None => d.message,
        Some(m) => {
            let t = m.value.trim();
            let allowed = format!("one line of text, 1 to {MAX_MESSAGE_CHARS} characters");
            if t.is_empty() {
                return Err(f.error(&m.referenced, "reboot.message", "the message is empty", allowed));
            }
            if t.chars().count() > MAX_MESSAGE_CHARS {
                return Err(f.error(&m.referenced, "reboot.message", format!("{} characters is too long for `shutdown /c`", t.chars().count()), allowed));
            }
            if t.chars().any(char::is_control) {
                return Err(f.error(&m.referenced, "reboot.message", "the message holds a line break or a control character", allowed));
            }
            t.to_string()
        }
    };
    let logged_on = f.word(
        &raw.logged_on,
        "reboot.logged_on",
        &[("reboot", LoggedOn::Reboot), ("wait", LoggedOn::Wait), ("skip", LoggedOn::Skip)],
        d.logged_on,
    )?;
    if let Some(w) = &raw.logoff_wait
        && logged_on != LoggedOn::Wait
    {
        return Err(f.error(&w.referenced, "reboot.logoff_wait", "applies only with `logged_on: wait`", "remove it, or set `logged_on: wait`"));
    }
    let mut windows: Vec<TimeWindow> = Vec::new();
    for w in raw.windows.iter().flatten() {
        let g = w.group.value.trim();
        if g.is_empty() || g.contains(char::is_whitespace) {
            return Err(f.error(&w.group.referenced, "reboot.windows.group", format!("`{}` is not a group name", w.group.value), "an inventory group name"));
        }
        if windows.iter().any(|x| x.group.eq_ignore_ascii_case(g)) {
            return Err(f.error(&w.group.referenced, "reboot.windows.group", format!("`{g}` has two windows"), "one window per group"));
        }
        let tw = TimeWindow::parse(g, &w.at.value).map_err(|why| {
            f.error(&w.at.referenced, "reboot.windows.at", why, "`HH:MM-HH:MM` on the operator's clock, or `HH:MM-HH:MM UTC`; a window may span midnight (`22:00-05:00`)")
        })?;
        windows.push(tw);
    }
    let never = raw.never.unwrap_or_default();
    let day = Duration::from_secs(24 * 3600);
    Ok(RebootSettings {
        waves,
        confirm_after_canary: raw.confirm_after_canary.unwrap_or(d.confirm_after_canary),
        order,
        pause: f.duration(&raw.pause, "reboot.pause", d.pause, (Duration::ZERO, day))?,
        max_down: share(f, &raw.max_down, "reboot.max_down", d.max_down, false)?,
        failure_budget: share(f, &raw.failure_budget, "reboot.failure_budget", d.failure_budget, true)?,
        message,
        countdown: f.duration(&raw.countdown, "reboot.countdown", d.countdown, (Duration::ZERO, day))?,
        logged_on,
        logoff_wait: f.duration(&raw.logoff_wait, "reboot.logoff_wait", d.logoff_wait, (Duration::from_secs(60), day))?,
        windows,
        return_timeout: f.duration(
            &raw.return_timeout,
            "reboot.return_timeout",
            d.return_timeout,
            (Duration::from_secs(120), Duration::from_secs(4 * 3600)),
        )?,
        never_hosts: f.globs(&never.hosts, "reboot.never.hosts", "host")?,
        never_groups: f.names(&never.groups, "reboot.never.groups")?,
    })
}
