//! One level of connection settings (defaults, a group, a host entry),
//! validated, with the place each value was written; and the final step
//! from merged settings to [`ConnectionSettings`] with the built-in
//! defaults. Pure.

use super::error::{ErrorKind, InventoryError, Position};
use super::model::{AuthKind, CertValidation, ConnectionSettings, Scheme};
use super::raw::RawSettings;
use super::values;
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// Built-in defaults for what no level sets.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// A setting key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Port,
    Transport,
    Auth,
    CertValidation,
    Credential,
    ConnectTimeout,
    OperationTimeout,
    CommandTimeout,
    Proxy,
    ProxyCredential,
    ForceInsecureBasic,
}

impl Key {
    pub const ALL: [Key; 11] = [
        Key::Port,
        Key::Transport,
        Key::Auth,
        Key::CertValidation,
        Key::Credential,
        Key::ConnectTimeout,
        Key::OperationTimeout,
        Key::CommandTimeout,
        Key::Proxy,
        Key::ProxyCredential,
        Key::ForceInsecureBasic,
    ];

    /// The key as written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            Key::Port => "port",
            Key::Transport => "transport",
            Key::Auth => "auth",
            Key::CertValidation => "cert_validation",
            Key::Credential => "credential",
            Key::ConnectTimeout => "connect_timeout",
            Key::OperationTimeout => "operation_timeout",
            Key::CommandTimeout => "command_timeout",
            Key::Proxy => "proxy",
            Key::ProxyCredential => "proxy_credential",
            Key::ForceInsecureBasic => "force_insecure_basic",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A validated setting value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Port(u16),
    Scheme(Scheme),
    Auth(AuthKind),
    Cert(CertValidation),
    Credential(String),
    Duration(Duration),
    Proxy(String),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Port(p) => write!(f, "{p}"),
            Value::Scheme(Scheme::Http) => f.write_str("http"),
            Value::Scheme(Scheme::Https) => f.write_str("https"),
            Value::Auth(AuthKind::Ntlm) => f.write_str("ntlm"),
            Value::Auth(AuthKind::Kerberos) => f.write_str("kerberos"),
            Value::Auth(AuthKind::Basic) => f.write_str("basic"),
            Value::Cert(CertValidation::Verify) => f.write_str("verify"),
            Value::Cert(CertValidation::Ignore) => f.write_str("ignore"),
            Value::Cert(CertValidation::CaFile(p)) => write!(f, "{{ca_file: {}}}", p.display()),
            Value::Credential(c) | Value::Proxy(c) => f.write_str(c),
            Value::Duration(d) => f.write_str(&values::format_duration(*d)),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub pos: Position,
}

/// Where a spanned value was written.
pub fn pos_of<T>(s: &Spanned<T>) -> Position {
    Position::new(s.referenced.line().max(1), s.referenced.column().max(1))
}

/// The settings written at one level; unset keys are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    slots: [Option<At<Value>>; 11],
}

impl Layer {
    pub fn get(&self, k: Key) -> Option<&At<Value>> {
        self.slots[k.index()].as_ref()
    }

    pub fn set(&mut self, k: Key, v: At<Value>) {
        self.slots[k.index()] = Some(v);
    }

    /// Keys set here, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &At<Value>)> {
        Key::ALL.into_iter().filter_map(|k| self.get(k).map(|v| (k, v)))
    }

    /// Every key set in `upper` replaces the one here.
    pub fn overlay(&mut self, upper: &Layer) {
        for (k, v) in upper.iter() {
            self.set(k, v.clone());
        }
    }

    /// Validate the settings written at one level. Relative paths are
    /// taken from `base_dir` (the inventory's directory).
    pub fn from_raw(raw: RawSettings, base_dir: &Path) -> Result<Layer, InventoryError> {
        let mut l = Layer::default();
        fn put<T>(l: &mut Layer, k: Key, s: &Spanned<T>, v: Value) {
            l.set(k, At { value: v, pos: pos_of(s) });
        }
        if let Some(s) = &raw.port {
            put(&mut l, Key::Port, s, Value::Port(values::port(&s.value, pos_of(s))?));
        }
        if let Some(s) = &raw.transport {
            put(&mut l, Key::Transport, s, Value::Scheme(values::scheme(&s.value, pos_of(s))?));
        }
        if let Some(s) = &raw.auth {
            put(&mut l, Key::Auth, s, Value::Auth(values::auth(&s.value, pos_of(s))?));
        }
        if let Some(s) = &raw.cert_validation {
            put(&mut l, Key::CertValidation, s, Value::Cert(values::cert(&s.value, base_dir, pos_of(s))?));
        }
        if let Some(s) = &raw.credential {
            put(&mut l, Key::Credential, s, Value::Credential(s.value.clone()));
        }
        for (k, field) in [
            (Key::ConnectTimeout, &raw.connect_timeout),
            (Key::OperationTimeout, &raw.operation_timeout),
            (Key::CommandTimeout, &raw.command_timeout),
        ] {
            if let Some(s) = field {
                put(&mut l, k, s, Value::Duration(values::duration(&s.value, k.name(), pos_of(s))?));
            }
        }
        if let Some(s) = &raw.proxy {
            put(&mut l, Key::Proxy, s, Value::Proxy(values::proxy(&s.value, pos_of(s))?));
        }
        if let Some(s) = &raw.proxy_credential {
            put(&mut l, Key::ProxyCredential, s, Value::Credential(s.value.clone()));
        }
        if let Some(s) = &raw.force_insecure_basic {
            put(&mut l, Key::ForceInsecureBasic, s, Value::Bool(s.value));
        }
        Ok(l)
    }

    /// The final settings of host `host` (written at `host_pos`) from its
    /// merged layer, with the built-in defaults for what is unset.
    pub fn finish(&self, host: &str, host_pos: Position) -> Result<ConnectionSettings, InventoryError> {
        let scheme = match self.get(Key::Transport) {
            Some(At { value: Value::Scheme(s), .. }) => *s,
            _ => Scheme::Http,
        };
        let port = match self.get(Key::Port) {
            Some(At { value: Value::Port(p), .. }) => *p,
            _ if scheme == Scheme::Https => 5986,
            _ => 5985,
        };
        let (auth, auth_pos) = match self.get(Key::Auth) {
            Some(At { value: Value::Auth(a), pos }) => (*a, Some(*pos)),
            _ => (AuthKind::Ntlm, None),
        };
        let cert_validation = match self.get(Key::CertValidation) {
            Some(At { value: Value::Cert(c), .. }) => c.clone(),
            _ => CertValidation::Verify,
        };
        let credential = match self.get(Key::Credential) {
            Some(At { value: Value::Credential(c), .. }) => c.clone(),
            _ => {
                return Err(InventoryError::at(
                    ErrorKind::NoCredential,
                    host_pos,
                    format!("host `{host}` has no credential"),
                    "set `credential: NAME` under `defaults:`, in a group's `settings:`, or on the host",
                ));
            }
        };
        let dur = |k: Key, d: Duration| match self.get(k) {
            Some(At { value: Value::Duration(v), .. }) => *v,
            _ => d,
        };
        let proxy = match self.get(Key::Proxy) {
            Some(At { value: Value::Proxy(p), .. }) => Some(p.clone()),
            _ => None,
        };
        let proxy_credential = match self.get(Key::ProxyCredential) {
            Some(At { value: Value::Credential(c), pos }) => {
                if proxy.is_none() {
                    return Err(InventoryError::at(
                        ErrorKind::BadValue,
                        *pos,
                        format!("host `{host}` has `proxy_credential: {c}` but no `proxy:`"),
                        "set `proxy: socks5://HOST:PORT` beside it, or remove `proxy_credential`",
                    ));
                }
                Some(c.clone())
            }
            _ => None,
        };
        let force_insecure_basic =
            matches!(self.get(Key::ForceInsecureBasic), Some(At { value: Value::Bool(true), .. }));
        if auth == AuthKind::Basic && scheme == Scheme::Http && !force_insecure_basic {
            return Err(InventoryError::at(
                ErrorKind::InsecureBasic,
                auth_pos.unwrap_or(host_pos),
                format!(
                    "host `{host}` uses `auth: basic` over `transport: http`, which sends the password in clear text"
                ),
                "use `transport: https`, or `auth: ntlm`/`kerberos`; to accept the risk (a lab), set `force_insecure_basic: true`",
            ));
        }
        Ok(ConnectionSettings {
            port,
            scheme,
            auth,
            cert_validation,
            credential,
            connect_timeout: dur(Key::ConnectTimeout, DEFAULT_CONNECT_TIMEOUT),
            operation_timeout: dur(Key::OperationTimeout, DEFAULT_OPERATION_TIMEOUT),
            command_timeout: dur(Key::CommandTimeout, DEFAULT_COMMAND_TIMEOUT),
            proxy,
            proxy_credential,
            force_insecure_basic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(v: Value) -> At<Value> {
        At { value: v, pos: Position::new(1, 1) }
    }

    #[test]
    fn defaults_follow_transport() {
        let mut l = Layer::default();
        l.set(Key::Credential, at(Value::Credential("ir".into())));
        let s = l.finish("h", Position::new(1, 1)).unwrap();
        assert_eq!((s.port, s.scheme, s.auth), (5985, Scheme::Http, AuthKind::Ntlm));
        assert_eq!(s.command_timeout, DEFAULT_COMMAND_TIMEOUT);
        assert_eq!(s, ConnectionSettings::defaults_with("ir"));
        l.set(Key::Transport, at(Value::Scheme(Scheme::Https)));
        assert_eq!(l.finish("h", Position::new(1, 1)).unwrap().port, 5986);
    }

    #[test]
    fn overlay_upper_wins() {
        let mut lower = Layer::default();
        lower.set(Key::Port, at(Value::Port(1)));
        lower.set(Key::Auth, at(Value::Auth(AuthKind::Ntlm)));
        let mut upper = Layer::default();
        upper.set(Key::Port, at(Value::Port(2)));
        lower.overlay(&upper);
        assert_eq!(lower.get(Key::Port).map(|a| &a.value), Some(&Value::Port(2)));
        assert_eq!(lower.get(Key::Auth).map(|a| &a.value), Some(&Value::Auth(AuthKind::Ntlm)));
    }

    #[test]
    fn basic_over_http_needs_opt_in() {
        let mut l = Layer::default();
        l.set(Key::Credential, at(Value::Credential("ir".into())));
        l.set(Key::Auth, At { value: Value::Auth(AuthKind::Basic), pos: Position::new(4, 9) });
        let e = l.finish("h", Position::new(1, 1)).unwrap_err();
        assert_eq!((e.kind, e.line(), e.column()), (ErrorKind::InsecureBasic, 4, 9));
        l.set(Key::ForceInsecureBasic, at(Value::Bool(true)));
        assert!(l.finish("h", Position::new(1, 1)).unwrap().force_insecure_basic);
    }
}
