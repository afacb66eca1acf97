//! `watch:`: how `cauterize watch` polls the hosts the operation never
//! reached (the laptop that comes back tomorrow): the pause after a host's
//! first unanswered poll, doubling after each, never more than the
//! longest. `cauterize watch --poll-every/--poll-max` override it.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::fields::{DURATION_FORMS, Fields, duration_text};
use super::located::LocatedError;
use super::raw::RawWatch;

/// The validated `watch:` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSettings {
    /// Pause after a host's first unanswered poll (default 30s).
    #[serde(with = "duration_text")]
    pub poll_every: Duration,
    /// Longest pause between two polls of a host (default 15m).
    #[serde(with = "duration_text")]
    pub poll_max: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            poll_every: Duration::from_secs(30),
            poll_max: Duration::from_secs(15 * 60),
        }
    }
}

/// The range of a poll pause: 1 second to 24 hours.
pub const POLL_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(24 * 3600));

pub(super) fn check(raw: Option<RawWatch>, f: Fields<'_>) -> Result<WatchSettings, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = WatchSettings::default();
    let poll_every = f.duration(&raw.poll_every, "watch.poll_every", d.poll_every, POLL_RANGE)?;
    let poll_max = f.duration(&raw.poll_max, "watch.poll_max", d.poll_max, POLL_RANGE)?;
    // Out of order: name the key that is written (the other may be its
    // default), poll_max first.
    let written = raw.poll_max.as_ref().map(|m| (m, "watch.poll_max")).or(raw.poll_every.as_ref().map(|e| (e, "watch.poll_every")));
    if let Some((v, field)) = written.filter(|_| poll_max < poll_every) {
        return Err(f.error(
            &v.referenced,
            field,
            format!(
                "poll_max ({}) is shorter than poll_every ({}): the pause only grows",
                crate::inventory::format_duration(poll_max),
                crate::inventory::format_duration(poll_every)
            ),
            format!("{DURATION_FORMS}; poll_max at least poll_every (defaults 30s and 15m)"),
        ));
    }
    Ok(WatchSettings { poll_every, poll_max })
}
