//! The inventory file as written: serde types that mirror the YAML, with
//! source locations (`Spanned`) kept for every value that can be wrong in a
//! way YAML alone cannot catch. Nothing is validated here beyond shape;
//! see `resolve` for meaning.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;
use std::marker::PhantomData;
use zeroize::Zeroizing;

/// The whole file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    pub allow_plaintext_passwords: Option<Spanned<bool>>,
    pub defaults: Option<RawSettings>,
    pub credentials: Option<OrderedMap<Option<Spanned<RawCredential>>>>,
    pub hosts: Option<OrderedMap<Option<RawHost>>>,
    pub groups: Option<OrderedMap<Option<Spanned<RawGroup>>>>,
}

/// One entry of `groups`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub settings: Option<RawSettings>,
    pub hosts: Option<OrderedMap<Option<RawHost>>>,
    pub children: Option<Vec<Spanned<String>>>,
}

/// One entry of `credentials`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub user: Option<Spanned<String>>,
    pub domain: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub password_command: Option<Spanned<ArgvValue>>,
    pub password_prompt: Option<Spanned<bool>>,
    pub laps_csv: Option<Spanned<String>>,
    pub password: Option<Spanned<SecretText>>,
}

/// The password sources of a credential, for messages.
pub const SOURCE_KEYS: &[&str] =
    &["password_env", "password_file", "password_command", "password_prompt", "laps_csv", "password"];

/// Defines `RawSettings` (the keys of `defaults:` and a group's
/// `settings:`) and `RawHost` (the same keys plus `address`) from one list,
/// so the two cannot drift apart.
macro_rules! settings_structs {
    ($($field:ident : $ty:ty),* $(,)?) => {
        /// Connection settings at one level (defaults, group or host).
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub struct RawSettings {
            $(pub $field: Option<Spanned<$ty>>,)*
        }

        /// One host entry: an optional address plus any setting.
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub struct RawHost {
            pub address: Option<Spanned<String>>,
            $(pub $field: Option<Spanned<$ty>>,)*
        }

        impl RawHost {
            /// The address and the settings of this entry.
            pub fn split(self) -> (Option<Spanned<String>>, RawSettings) {
                (self.address, RawSettings { $($field: self.$field,)* })
            }
        }
    };
}

settings_structs!(
    port: Loose,
    transport: String,
    auth: String,
    cert_validation: CertValue,
    credential: String,
    connect_timeout: Loose,
    operation_timeout: Loose,
    command_timeout: Loose,
    proxy: String,
    proxy_credential: String,
    force_insecure_basic: bool,
);

/// A mapping that keeps its keys' order and locations (serde maps lose
/// both). Duplicate keys are rejected by the parser before this sees them.
pub struct OrderedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry()? {
                    v.push((k, val));
                }
                Ok(OrderedMap(v))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// A scalar of any type, kept as written, for values (ports, durations)
/// whose errors we want to word ourselves.
#[derive(Debug, Clone, PartialEq)]
pub enum Loose {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl fmt::Display for Loose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loose::Int(i) => write!(f, "{i}"),
            Loose::Float(x) => write!(f, "{x}"),
            Loose::Str(s) => write!(f, "{s}"),
            Loose::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl Visitor<'_> for Vis {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a single value (a number or a word)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose::Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
                Ok(Loose::Int(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Loose, E> {
                Ok(Loose::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Loose, E> {
                Ok(Loose::Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
                Ok(Loose::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
                Ok(Loose::Str(v.to_string()))
            }
        }
        d.deserialize_any(Vis)
    }
}

/// `cert_validation:` as written: a word (`verify`, `ignore`) or
/// `{ca_file: path}`.
#[derive(Debug, Clone, PartialEq)]
pub enum CertValue {
    Word(String),
    CaFile(String),
}

impl<'de> Deserialize<'de> for CertValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = CertValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`verify`, `ignore` or `{ca_file: PATH}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CertValue, E> {
                Ok(CertValue::Word(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CertValue, E> {
                Ok(CertValue::Word(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<CertValue, A::Error> {
                let mut ca = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k != "ca_file" {
                        return Err(de::Error::unknown_field(&k, &["ca_file"]));
                    }
                    ca = Some(m.next_value::<String>()?);
                }
                ca.map(CertValue::CaFile).ok_or_else(|| de::Error::missing_field("ca_file"))
            }
        }
        d.deserialize_any(Vis)
    }
}

/// `password_command:` as written: it must be a list (argv); a single
/// string is kept so the error can explain why it is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgvValue {
    List(Vec<String>),
    Str(String),
}

impl<'de> Deserialize<'de> for ArgvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = ArgvValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list: [program, argument, ...]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ArgvValue, E> {
                Ok(ArgvValue::Str(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<ArgvValue, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element::<String>()? {
                    v.push(x);
                }
                Ok(ArgvValue::List(v))
            }
        }
        d.deserialize_any(Vis)
    }
}

/// An inline password. Never printed: its Debug is redacted and it has no
/// Display; the memory is wiped on drop.
pub struct SecretText(pub Zeroizing<String>);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretText(Zeroizing::new(s)))
    }
}
