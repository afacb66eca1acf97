//! The scenario file as written: serde types that mirror the YAML, with
//! source locations kept (`Spanned`) for every value whose meaning is
//! checked after parsing. Unknown keys are refused.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

use super::raw_world::{RawBenign, RawInfected, RawLab, RawRole, RawShare, RawWorld, world_keys};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub base_address: Option<Spanned<String>>,
    pub port: Option<Spanned<u16>>,
    pub domain: Option<Spanned<String>>,
    pub defaults: Option<RawSettings>,
    pub groups: Spanned<Vec<RawGroup>>,
    pub lab: Option<RawLab>,
}

/// Declares a struct holding every host key (the settings, then the world
/// keys handed over by `world_keys!`), after fields of its own, with `world()` and
/// `settings()` views: `defaults:` and a group share one key list.
macro_rules! host_keys {
    (
        $(#[$attr:meta])* pub struct $name:ident { $($(#[$fattr:meta])* pub $f:ident: $t:ty,)* }
        [$($w:ident: $wt:ty,)*]
    ) => {
        $(#[$attr])*
        pub struct $name {
            $($(#[$fattr])* pub $f: $t,)*
            pub os: Option<Spanned<RawOs>>,
            pub accounts: Option<Spanned<Vec<RawAccount>>>,
            pub latency: Option<Spanned<Scalar>>,
            pub clock_skew: Option<Spanned<Scalar>>,
            pub allow_unencrypted: Option<bool>,
            pub allow_basic: Option<bool>,
            /// An HTTPS listener (port 5986) with a lab-CA certificate.
            pub https: Option<bool>,
            pub max_shells_per_user: Option<u32>,
            pub fault: Option<RawFault>,
            $(pub $w: $wt,)*
        }

        impl $name {
            /// The world keys as written here.
            pub fn world(&self) -> RawWorld {
                RawWorld { $($w: self.$w.clone(),)* }
            }

            /// The host settings as written here, as a settings layer (the
            /// world keys are layered on their own, `world()`).
            pub fn settings(&self) -> RawSettings {
                RawSettings {
                    os: self.os.clone(),
                    accounts: self.accounts.clone(),
                    latency: self.latency.clone(),
                    clock_skew: self.clock_skew.clone(),
                    allow_unencrypted: self.allow_unencrypted,
                    allow_basic: self.allow_basic,
                    https: self.https,
                    max_shells_per_user: self.max_shells_per_user,
                    fault: self.fault,
                    ..RawSettings::default()
                }
            }
        }
    };
}

world_keys!(host_keys {
    /// Host settings, at `defaults:` or in a group.
    #[derive(Debug, Deserialize, Default, Clone)]
    #[serde(deny_unknown_fields)]
    pub struct RawSettings {}
});

world_keys!(host_keys {
    /// One entry of `groups:`: a name or a name pattern, and its settings.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawGroup {
        pub name: Option<Spanned<String>>,
        pub name_pattern: Option<Spanned<String>>,
    }
});

/// One account of a host.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub user: String,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
    /// Defaults to the scenario's domain; `""` for a local account.
    pub domain: Option<String>,
}

/// `fault:` values.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawFault {
    None,
    Down,
    WinrmDisabled,
    HangReceive,
}

/// `os:` as written: a preset name or `{caption, build, ps_version}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawOs {
    Preset(String),
    Custom { caption: String, build: String, ps_version: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomOs {
    caption: String,
    build: Scalar,
    ps_version: Scalar,
}

impl<'de> Deserialize<'de> for RawOs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = RawOs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OS preset name (win7, win10, ...) or {caption, build, ps_version}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOs, E> {
                Ok(RawOs::Preset(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawOs, A::Error> {
                let c = CustomOs::deserialize(de::value::MapAccessDeserializer::new(m))?;
                Ok(RawOs::Custom { caption: c.caption, build: c.build.to_string(), ps_version: c.ps_version.to_string() })
            }
        }
        d.deserialize_any(Vis)
    }
}

/// A scalar kept as written (durations, builds, versions): YAML may read
/// `5.1` or `7601` as numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Str(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl Visitor<'_> for Vis {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a single value")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                i64::try_from(v).map(Scalar::Int).map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
        }
        // Ask for text: a YAML scalar is given as written (`4.0` stays
        // `4.0`, not the number 4).
        d.deserialize_str(Vis)
    }
}
