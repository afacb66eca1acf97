//! `verify:` and `release:`: after the reboots. Each host is scanned again
//! once it is back (after `settle`, so what starts at boot and logon has
//! started); anything found is purged again and the host rebooted again,
//! at most `repurge_rounds` times, before it is marked "needs a person".
//! Containment is lifted by the release policy.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::fields::{Fields, duration_text};
use super::located::LocatedError;
use super::raw::RawVerify;

/// The validated `verify:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    /// Purge-and-reboot rounds after the first before a host that still
    /// shows a loader is set aside as "needs a person" (default 2).
    pub repurge_rounds: u32,
    /// Wait after a host is back before its post-boot scan (default 2m).
    #[serde(with = "duration_text")]
    pub settle: Duration,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            repurge_rounds: 2,
            settle: Duration::from_secs(120),
        }
    }
}

/// When containment is lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleasePolicy {
    /// When every in-scope host is verified clean (unreached hosts hold it
    /// until handled or accepted by name).
    #[default]
    AllClean,
    /// Each inventory group as soon as all its hosts are verified clean.
    PerGroup,
    /// Only by `cauterize release`.
    Manual,
}

/// Most re-purge rounds accepted.
pub const MAX_REPURGE_ROUNDS: u32 = 10;

pub(super) fn check(raw: Option<RawVerify>, f: Fields<'_>) -> Result<VerifySettings, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = VerifySettings::default();
    let repurge_rounds = match &raw.repurge_rounds {
        None => d.repurge_rounds,
        Some(r) if r.value > MAX_REPURGE_ROUNDS => {
            return Err(f.error(
                &r.referenced,
                "verify.repurge_rounds",
                format!("{} rounds", r.value),
                format!("0 to {MAX_REPURGE_ROUNDS} (default 2); each round is one more reboot of the host"),
            ));
        }
        Some(r) => r.value,
    };
    Ok(VerifySettings {
        repurge_rounds,
        settle: f.duration(&raw.settle, "verify.settle", d.settle, (Duration::ZERO, Duration::from_secs(3600)))?,
    })
}

pub(super) fn release(
    raw: &Option<serde_saphyr::Spanned<String>>,
    f: Fields<'_>,
) -> Result<ReleasePolicy, LocatedError> {
    f.word(
        raw,
        "release",
        &[
            ("all_clean", ReleasePolicy::AllClean),
            ("per_group", ReleasePolicy::PerGroup),
            ("manual", ReleasePolicy::Manual),
        ],
        ReleasePolicy::AllClean,
    )
}
