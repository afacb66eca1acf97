//! The resolved inventory: what every other module sees once the YAML has
//! been parsed, validated, expanded and limited. No YAML here.

use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// HTTP or HTTPS listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

/// WinRM authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    Ntlm,
    Kerberos,
    Basic,
}

/// How an HTTPS server certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertValidation {
    /// Against the built-in roots.
    Verify,
    /// Against the CA certificates in this PEM file.
    CaFile(PathBuf),
    /// Not at all (explicit opt-out, `cert_validation: ignore`).
    Ignore,
}

/// Everything needed to reach one host, after group and host settings have
/// been merged (host over child group over parent group over defaults).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ConnectionSettings {
    pub port: u16,
    pub scheme: Scheme,
    pub auth: AuthKind,
    pub cert_validation: CertValidation,
    /// Name of the entry in the inventory's `credentials` map.
    pub credential: String,
    pub connect_timeout: Duration,
    /// WS-Management OperationTimeout: how long one Receive may be held.
    pub operation_timeout: Duration,
    /// Bound on one whole command (exec, probe, job) on the host.
    pub command_timeout: Duration,
    /// `socks5://host:port` (or `socks5h://`) to reach this host through,
    /// never with a user or password in it.
    pub proxy: Option<String>,
    /// The entry of `credentials:` whose user and password (by reference,
    /// like every other secret) log on to the proxy (RFC 1929).
    pub proxy_credential: Option<String>,
    /// Basic over plain HTTP sends the password in clear text; refused
    /// unless this is set (`force_insecure_basic: true`).
    pub force_insecure_basic: bool,
}

impl ConnectionSettings {
    /// What an inventory that names only `credential` gives a host: WinRM
    /// over HTTP on 5985, NTLM, certificates verified, default time-outs.
    pub fn defaults_with(credential: &str) -> ConnectionSettings {
        use super::layer::{
            DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATION_TIMEOUT,
        };
        ConnectionSettings {
            port: 5985,
            scheme: Scheme::Http,
            auth: AuthKind::Ntlm,
            cert_validation: CertValidation::Verify,
            credential: credential.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            proxy: None,
            proxy_credential: None,
            force_insecure_basic: false,
        }
    }
}

/// One host to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedHost {
    /// Inventory name (what the user writes in `-l` and reads in reports).
    pub name: String,
    /// What to connect to: an IP address or a DNS name (the name itself
    /// when no `address` is given).
    pub address: String,
    /// Groups the host belongs to, directly or through child groups, sorted.
    pub groups: Vec<String>,
    pub settings: ConnectionSettings,
}

/// Where a credential's password comes from. The secret itself is never
/// stored here, so this type may be printed and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum SecretSource {
    /// An environment variable holding the password.
    Env { var: String },
    /// A file whose first line is the password.
    File { path: PathBuf },
    /// A program (a password manager) that prints the password on stdout.
    Command { argv: Vec<String> },
    /// Asked on the terminal, once per run.
    Prompt,
    /// A LAPS export: CSV with a host column and a password column.
    Laps { csv: PathBuf },
    /// Written in the inventory itself; only accepted with
    /// `allow_plaintext_passwords: true`.
    Inline,
}

impl SecretSource {
    /// One word for the kind of source (`env`, `file`, `command`, `prompt`,
    /// `laps`, `inline`), for tables and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretSource::Env { .. } => "env",
            SecretSource::File { .. } => "file",
            SecretSource::Command { .. } => "command",
            SecretSource::Prompt => "prompt",
            SecretSource::Laps { .. } => "laps",
            SecretSource::Inline => "inline",
        }
    }
}

/// A named credential (user, domain and where its password comes from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSpec {
    pub name: String,
    pub user: String,
    pub domain: String,
    pub source: SecretSource,
}

/// Inline passwords (`password:` in the inventory, accepted only with
/// `allow_plaintext_passwords: true`), by credential name. Kept out of
/// [`CredentialSpec`] so that type stays printable: Debug shows only the
/// credential names, there is no Serialize, and the memory is wiped on drop.
#[derive(Clone, Default)]
pub struct InlinePasswords(HashMap<String, Zeroizing<String>>);

impl InlinePasswords {
    pub fn insert(&mut self, credential: &str, password: Zeroizing<String>) {
        self.0.insert(credential.to_string(), password);
    }

    /// A copy of the password of `credential`, if it has an inline one.
    pub fn get(&self, credential: &str) -> Option<Zeroizing<String>> {
        self.0.get(credential).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for InlinePasswords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_struct("InlinePasswords").field("credentials", &names).finish_non_exhaustive()
    }
}

/// A loaded, validated, limited inventory.
///
/// `Default` exists so tests and tools can build one with
/// `Inventory { hosts, ..Default::default() }`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The file it came from.
    pub path: PathBuf,
    /// Hosts after `--limit`, in inventory order.
    pub hosts: Vec<ResolvedHost>,
    pub credentials: Vec<CredentialSpec>,
    /// Number of hosts before `--limit` was applied.
    pub total_hosts: usize,
    /// Passwords written in the inventory itself (never printed).
    pub inline_passwords: InlinePasswords,
}

impl Inventory {
    pub fn credential(&self, name: &str) -> Option<&CredentialSpec> {
        self.credentials.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_passwords_never_print() {
        let mut p = InlinePasswords::default();
        p.insert("lab", Zeroizing::new("hunter2".to_string()));
        let shown = format!("{p:?}");
        assert!(shown.contains("lab") && !shown.contains("hunter2"), "{shown}");
        let inv = Inventory { inline_passwords: p, ..Default::default() };
        assert!(!format!("{inv:?}").contains("hunter2"));
        assert_eq!(inv.inline_passwords.get("lab").as_deref().map(String::as_str), Some("hunter2"));
    }
}
