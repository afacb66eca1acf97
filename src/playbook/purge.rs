//! `purge:`: what the purge may do on each host. Which confidences are
//! acted on (`high` by default; `medium` is opt-in; low is only ever
//! listed), which families are in scope, whether processes are killed,
//! locked files queued for deletion at boot, files copied out as evidence
//! first, writes denied to the folder a shutdown-writer (Qakbot) will
//! write to, the loader's Defender exclusions reverted, and emptied loader
//! folders removed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::fields::{Fields, words};
use super::located::LocatedError;
use super::raw::RawPurge;
use crate::detect::{Confidence, Family};

/// Every family, in the playbook's spelling.
pub const FAMILY_NAMES: &[(&str, Family)] = &[
    ("emotet", Family::Emotet),
    ("trickbot", Family::TrickBot),
    ("qakbot", Family::Qakbot),
    ("dridex", Family::Dridex),
    ("icedid", Family::IcedId),
    ("unknown", Family::UnknownLoaderLike),
];

/// The playbook's name of a family.
pub fn family_name(f: Family) -> &'static str {
    FAMILY_NAMES
        .iter()
        .find(|(_, x)| *x == f)
        .map(|(n, _)| *n)
        .unwrap_or("unknown")
}

/// The validated `purge:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeSettings {
    /// Lowest confidence acted on: High or Medium.
    #[serde(with = "confidence_word")]
    pub activate: Confidence,
    /// Families in scope; findings of others are listed inactive.
    #[serde(with = "family_words")]
    pub families: BTreeSet<Family>,
    pub kill_processes: bool,
    pub queue_locked_files: bool,
    /// Copy each file out (evidence) before it is deleted or queued.
    pub quarantine: bool,
    /// Deny writes to the folder a loader writes its persistence to at
    /// shutdown (Qakbot), before the reboot.
    pub deny_shutdown_writes: bool,
    /// Revert the Defender exclusions a loader added.
    pub revert_defender_exclusions: bool,
    /// Remove a loader's folder once its files are gone (only when it held
    /// nothing else), after the reboot.
    pub remove_emptied_folders: bool,
}

impl Default for PurgeSettings {
    fn default() -> Self {
        PurgeSettings {
            activate: Confidence::High,
            families: FAMILY_NAMES.iter().map(|(_, f)| *f).collect(),
            kill_processes: true,
            queue_locked_files: true,
            quarantine: true,
            deny_shutdown_writes: true,
            revert_defender_exclusions: true,
            remove_emptied_folders: true,
        }
    }
}

/// `high`, `medium`, `low`.
pub fn confidence_name(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

mod confidence_word {
    use crate::detect::Confidence;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(c: &Confidence, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::confidence_name(*c))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Confidence, D::Error> {
        match String::deserialize(d)?.as_str() {
            "high" => Ok(Confidence::High),
            "medium" => Ok(Confidence::Medium),
            "low" => Ok(Confidence::Low),
            other => Err(serde::de::Error::custom(format!("unknown confidence `{other}`"))),
        }
    }
}

mod family_words {
    use crate::detect::Family;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeSet;

    pub fn serialize<S: Serializer>(f: &BTreeSet<Family>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(f.iter().map(|x| super::family_name(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<Family>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|n| {
                super::FAMILY_NAMES
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, f)| *f)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown family `{n}`")))
            })
            .collect()
    }
}

pub(super) fn check(raw: Option<RawPurge>, f: Fields<'_>) -> Result<PurgeSettings, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = PurgeSettings::default();
    let activate = match &raw.activate {
        Some(s) if s.value.trim().eq_ignore_ascii_case("low") => {
            return Err(f.error(
                &s.referenced,
                "purge.activate",
                "`low` is not accepted: low-confidence findings are only ever listed",
                "high (default) or medium",
            ));
        }
        v => f.word(
            v,
            "purge.activate",
            &[("high", Confidence::High), ("medium", Confidence::Medium)],
            Confidence::High,
        )?,
    };
    let all = || FAMILY_NAMES.iter().map(|(_, f)| *f);
    let families = match &raw.families {
        None => d.families,
        Some(list) => {
            if list.value.is_empty() {
                return Err(f.error(
                    &list.referenced,
                    "purge.families",
                    "the list is empty: nothing would be purged",
                    format!("all, or some of {}", words(FAMILY_NAMES.iter().map(|(n, _)| *n))),
                ));
            }
            let mut set = BTreeSet::new();
            let mut choices: Vec<(&str, Option<Family>)> = vec![("all", None)];
            choices.extend(FAMILY_NAMES.iter().map(|(n, x)| (*n, Some(*x))));
            for name in &list.value {
                match f.one_of(name, "purge.families", &choices)? {
                    None => set.extend(all()),
                    Some(x) => {
                        set.insert(x);
                    }
                }
            }
            set
        }
    };
    Ok(PurgeSettings {
        activate,
        families,
        kill_processes: raw.kill_processes.unwrap_or(d.kill_processes),
        queue_locked_files: raw.queue_locked_files.unwrap_or(d.queue_locked_files),
        quarantine: raw.quarantine.unwrap_or(d.quarantine),
        deny_shutdown_writes: raw.deny_shutdown_writes.unwrap_or(d.deny_shutdown_writes),
        revert_defender_exclusions: raw
            .revert_defender_exclusions
            .unwrap_or(d.revert_defender_exclusions),
        remove_emptied_folders: raw.remove_emptied_folders.unwrap_or(d.remove_emptied_folders),
    })
}
