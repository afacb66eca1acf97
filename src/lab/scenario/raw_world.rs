//! The scenario keys that describe hosts as Windows machines (role, OS mix,
//! infections, look-alike software, passwords, patch level, power) and the
//! lab's clock and seed, as written. Unknown keys are refused.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

use super::raw::Scalar;

/// `lab:` at the top level.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLab {
    /// Lab seconds per wall second.
    pub speed: Option<Spanned<Scalar>>,
    pub seed: Option<u64>,
    /// Wall time between outbreak steps (`1s`).
    pub step: Option<Spanned<Scalar>>,
}

/// `role:` values.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawRole {
    Workstation,
    Server,
    DomainController,
    FileServer,
    PrintServer,
}

/// A family name.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawFamily {
    Emotet,
    Trickbot,
    Qakbot,
    Dridex,
    Icedid,
}

/// Switches over a family's documented behaviour.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub watchdog: Option<bool>,
    pub shutdown_persistence: Option<bool>,
    pub injection: Option<bool>,
    pub lock_files: Option<bool>,
    pub registry_payload: Option<bool>,
    pub admin_service: Option<bool>,
    pub defender_exclusion: Option<bool>,
    pub all_users_when_elevated: Option<bool>,
    pub corrupt_on_disk: Option<bool>,
    pub padding: Option<bool>,
    pub first_stage_residue: Option<bool>,
    pub svchost_hollowing: Option<bool>,
    pub uac_bypass_key: Option<bool>,
    pub nworm: Option<bool>,
    pub system_task: Option<bool>,
    pub other_profiles: Option<bool>,
    pub spread: Option<bool>,
    pub spread_interval: Option<Spanned<Scalar>>,
    pub task_interval: Option<Spanned<Scalar>>,
}

/// `infected:`: which hosts of the group carry a loader at start.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawInfected {
    pub percent: Option<Spanned<Scalar>>,
    pub count: Option<Spanned<u64>>,
    /// Families, dealt out in turn over the chosen hosts.
    pub families: Spanned<Vec<RawFamily>>,
    pub profile: Option<RawProfile>,
}

/// `benign:`: look-alike products on a share of the group's hosts.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBenign {
    pub percent: Option<Spanned<Scalar>>,
    pub count: Option<Spanned<u64>>,
    pub products: Spanned<Vec<String>>,
    /// Products per chosen host, drawn from the list (default: all).
    pub per_host: Option<Spanned<u64>>,
}

/// A share of a group's hosts: `true` (all), `false` (none),
/// `{percent: 5}` or `{count: 2}`.
#[derive(Debug, Clone, PartialEq)]
pub enum RawShare {
    All(bool),
    Percent(Scalar),
    Count(u64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareMap {
    percent: Option<Scalar>,
    count: Option<u64>,
}

impl<'de> Deserialize<'de> for RawShare {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = RawShare;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false, {percent: N} or {count: N}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawShare, E> {
                Ok(RawShare::All(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawShare, A::Error> {
                let s = ShareMap::deserialize(de::value::MapAccessDeserializer::new(m))?;
                match (s.percent, s.count) {
                    (Some(p), None) => Ok(RawShare::Percent(p)),
                    (None, Some(c)) => Ok(RawShare::Count(c)),
                    _ => Err(de::Error::custom("give `percent` or `count`, one of them")),
                }
            }
        }
        d.deserialize_any(Vis)
    }
}

/// Hands the world keys (name and type, the one list of them) to the
/// macro `$m`, after `$pre`: `RawWorld` below and the settings structs of
/// `raw.rs` are declared from it.
macro_rules! world_keys {
    ($m:ident { $($pre:tt)* }) => {
        $m! {
            $($pre)*
            [
                role: Option<Spanned<RawRole>>,
                os_mix: Option<Spanned<BTreeMap<String, Scalar>>>,
                infected: Option<Spanned<RawInfected>>,
                benign: Option<Spanned<RawBenign>>,
                local_admin_password: Option<Spanned<String>>,
                ms17_010_unpatched: Option<Spanned<RawShare>>,
                domain_admin_logged_on: Option<Spanned<RawShare>>,
                task_history: Option<Spanned<RawShare>>,
                smb_open: Option<bool>,
                offline_until: Option<Spanned<Scalar>>,
                reboot_down: Option<Spanned<Scalar>>,
                reboot_hangs: Option<bool>,
                reboot_fails: Option<bool>,
                winrm_delay: Option<Spanned<Scalar>>,
            ]
        }
    };
}
pub(crate) use world_keys;

macro_rules! raw_world {
    ([$($f:ident: $t:ty,)*]) => {
        /// The world keys of a group or of `defaults:`.
        #[derive(Debug, Clone, Default)]
        pub struct RawWorld {
            $(pub $f: $t,)*
        }

        impl RawWorld {
            /// `self`'s keys over `defaults`, key by key.
            pub fn over(&self, d: &RawWorld) -> RawWorld {
                RawWorld {
                    $($f: self.$f.clone().or_else(|| d.$f.clone()),)*
                }
            }
        }
    };
}

world_keys!(raw_world {});
