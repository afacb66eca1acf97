//! One winrm-rs client per distinct (connection settings, credential) pair,
//! or per host for per-host passwords (LAPS). A client keeps one
//! authenticated connection per host in its pool, so hosts sharing settings
//! share a client.
//!
//! Everything that can be refused before connecting is refused here, per
//! host, so one bad host does not stop the others.

use super::error::TransportError;
use super::gate::{LoginGate, is_domain_account};
use super::secrets::{PasswordSource, is_per_host};
use super::settings;
use crate::inventory::{ConnectionSettings, Inventory, ResolvedHost};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use winrm_rs::{WinrmClient, WinrmCredentials};

/// A host with the client that reaches it.
#[derive(Clone)]
pub struct HostTarget {
    pub host: ResolvedHost,
    pub client: Arc<WinrmClient>,
    /// Lock-out protection shared by the hosts of a domain credential.
    pub gate: Option<Arc<LoginGate>>,
}

impl std::fmt::Debug for HostTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTarget")
            .field("host", &self.host.name)
            .finish_non_exhaustive()
    }
}

/// A host that cannot be reached at all, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub host: ResolvedHost,
    pub error: TransportError,
}

/// The host of a prepared entry, reachable or refused.
pub fn host_of(entry: &Result<HostTarget, Refusal>) -> &ResolvedHost {
    match entry {
        Ok(t) => &t.host,
        Err(r) => &r.host,
    }
}

/// The outcome of [`prepare`]: one entry per host, in inventory order.
#[derive(Debug, Default)]
pub struct Prepared {
    pub hosts: Vec<Result<HostTarget, Refusal>>,
    /// Things to tell the user once (clear-text Basic, unchecked
    /// certificates), without duplicates.
    pub warnings: Vec<String>,
}

/// What makes two hosts share a client.
#[derive(Hash, PartialEq, Eq)]
struct ClientKey {
    /// The settings without the per-command time-out (not a client setting).
    settings: ConnectionSettings,
    /// Set for per-host passwords.
    host: Option<String>,
}

/// Build the clients for every host of `inventory`, asking `resolver` for
/// each needed password once.
pub fn prepare(inventory: &Inventory, resolver: &mut dyn PasswordSource) -> Prepared {
    let mut clients: HashMap<ClientKey, Result<Arc<WinrmClient>, TransportError>> = HashMap::new();
    let mut gates: HashMap<String, Arc<LoginGate>> = HashMap::new();
    let mut prepared = Prepared::default();
    for host in &inventory.hosts {
        let entry = client_for(
            inventory,
            host,
            resolver,
            &mut clients,
            &mut prepared.warnings,
        );
        // Domain credentials share one lock-out gate across their hosts.
        let gate = inventory
            .credential(&host.settings.credential)
            .filter(|c| !is_per_host(c) && is_domain_account(&c.user, &c.domain))
            .map(|c| {
                let gate = gates
                    .entry(c.name.clone())
                    .or_insert_with(|| LoginGate::new(&c.name));
                Arc::clone(gate)
            });
        prepared.hosts.push(match entry {
            Ok(client) => Ok(HostTarget {
                host: host.clone(),
                client,
                gate,
            }),
            Err(error) => Err(Refusal {
                host: host.clone(),
                error,
            }),
        });
    }
    prepared
}

/// The client of one host, built on first use.
fn client_for(
    inventory: &Inventory,
    host: &ResolvedHost,
    resolver: &mut dyn PasswordSource,
    clients: &mut HashMap<ClientKey, Result<Arc<WinrmClient>, TransportError>>,
    warnings: &mut Vec<String>,
) -> Result<Arc<WinrmClient>, TransportError> {
    let settings = &host.settings;
    let Some(credential) = inventory.credential(&settings.credential) else {
        return Err(TransportError::Refused {
            reason: format!(
                "the inventory defines no credential named '{}'",
                settings.credential
            ),
        });
    };
    let key = ClientKey {
        settings: ConnectionSettings {
            command_timeout: Duration::ZERO,
            ..settings.clone()
        },
        host: is_per_host(credential).then(|| host.name.clone()),
    };
    if let Some(existing) = clients.get(&key) {
        return existing.clone();
    }
    let proxy_login = match &settings.proxy_credential {
        None => None,
        Some(name) => match inventory.credential(name) {
            Some(c) => Some(c),
            None => {
                return Err(TransportError::Refused {
                    reason: format!("the inventory defines no credential named '{name}' (proxy_credential)"),
                });
            }
        },
    };
    let built = build_client(host, credential, proxy_login, resolver, warnings);
    clients.insert(key, built.clone());
    built
}

/// Plan, resolve the password (and the proxy's), build.
fn build_client(
    host: &ResolvedHost,
    credential: &crate::inventory::CredentialSpec,
    proxy_login: Option<&crate::inventory::CredentialSpec>,
    resolver: &mut dyn PasswordSource,
    warnings: &mut Vec<String>,
) -> Result<Arc<WinrmClient>, TransportError> {
    let mut plan =
        settings::plan(&host.settings).map_err(|reason| TransportError::Refused { reason })?;
    if let (Some(login), Some(url)) = (proxy_login, &host.settings.proxy) {
        let password = resolver
            .password_for(login, host)
            .map_err(|why| TransportError::Refused {
                reason: format!("no password for proxy credential '{}': {why}", login.name),
            })?;
        plan.config.proxy = Some(settings::proxy_with_login(url, &login.user, &password));
    }
    for w in plan.warnings {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    let password =
        resolver
            .password_for(credential, host)
            .map_err(|why| TransportError::Refused {
                reason: format!("no password for credential '{}': {why}", credential.name),
            })?;
    // `WinrmCredentials` moves its copy into a SecretString (wiped on drop);
    // ours is wiped when `password` goes out of scope.
    let creds = WinrmCredentials::new(
        credential.user.as_str(),
        password.as_str(),
        credential.domain.as_str(),
    );
    let mut builder = WinrmClient::builder(plan.config).credentials(creds);
    if let Some(ca) = plan.ca_file {
        builder = builder.add_root_certificates_pem(ca);
    }
    builder
        .build()
        .map(Arc::new)
        .map_err(|e| super::classify::classify_build(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{AuthKind, CertValidation, CredentialSpec, Scheme, SecretSource};
    use zeroize::Zeroizing;

    struct Counting {
        calls: Vec<String>,
    }
    impl PasswordSource for Counting {
        fn password_for(
            &mut self,
            c: &CredentialSpec,
            h: &ResolvedHost,
        ) -> Result<Zeroizing<String>, String> {
            self.calls.push(format!("{}@{}", c.name, h.name));
            if c.name == "broken" {
                return Err("variable CZ_PW is not set".into());
            }
            Ok(Zeroizing::new("pw".to_string()))
        }
    }

    fn settings(cred: &str) -> ConnectionSettings {
        ConnectionSettings {
            port: 5985,
            scheme: Scheme::Http,
            auth: AuthKind::Ntlm,
            cert_validation: CertValidation::Verify,
            credential: cred.into(),
            connect_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(20),
            command_timeout: Duration::from_secs(60),
            proxy: None,
            proxy_credential: None,
            force_insecure_basic: false,
        }
    }

    fn host(name: &str, cred: &str) -> ResolvedHost {
        ResolvedHost {
            name: name.into(),
            address: "127.50.0.1".into(),
            groups: vec![],
            settings: settings(cred),
        }
    }

    fn cred(name: &str, source: SecretSource) -> CredentialSpec {
        CredentialSpec {
            name: name.into(),
            user: "admin".into(),
            domain: String::new(),
            source,
        }
    }

    #[test]
    fn one_password_request_per_credential_and_per_host_for_laps() {
        let mut h3 = host("c", "ir");
        h3.settings.command_timeout = Duration::from_secs(5); // not a client setting
        let inv = Inventory {
            path: "inv.yml".into(),
            hosts: vec![
                host("a", "ir"),
                host("b", "ir"),
                h3,
                host("d", "laps"),
                host("e", "laps"),
            ],
            credentials: vec![
                cred("ir", SecretSource::Prompt),
                cred(
                    "laps",
                    SecretSource::Laps {
                        csv: "l.csv".into(),
                    },
                ),
            ],
            ..Default::default()
        };
        let mut r = Counting { calls: vec![] };
        let p = prepare(&inv, &mut r);
        assert_eq!(r.calls, vec!["ir@a", "laps@d", "laps@e"]);
        assert!(p.hosts.iter().all(|h| h.is_ok()));
        let ok: Vec<_> = p.hosts.iter().filter_map(|h| h.as_ref().ok()).collect();
        assert!(Arc::ptr_eq(&ok[0].client, &ok[2].client));
        assert!(!Arc::ptr_eq(&ok[3].client, &ok[4].client));
    }

    #[test]
    fn domain_credentials_share_a_gate_local_ones_have_none() {
        let inv = Inventory {
            hosts: vec![
                host("a", "dom"),
                host("b", "dom"),
                host("c", "ir"),
                host("d", "laps"),
            ],
            credentials: vec![
                CredentialSpec {
                    domain: "CORP".into(),
                    ..cred("dom", SecretSource::Prompt)
                },
                cred("ir", SecretSource::Prompt),
                CredentialSpec {
                    domain: "CORP".into(),
                    ..cred(
                        "laps",
                        SecretSource::Laps {
                            csv: "l.csv".into(),
                        },
                    )
                },
            ],
            ..Default::default()
        };
        let p = prepare(&inv, &mut Counting { calls: vec![] });
        let gates: Vec<Option<Arc<LoginGate>>> = p
            .hosts
            .iter()
            .map(|h| h.as_ref().unwrap().gate.clone())
            .collect();
        assert!(Arc::ptr_eq(
            gates[0].as_ref().unwrap(),
            gates[1].as_ref().unwrap()
        ));
        assert!(gates[2].is_none(), "local account: no gate");
        assert!(gates[3].is_none(), "LAPS: a different password per host");
    }

    #[test]
    fn refusals_are_per_host_and_name_the_reason() {
        let mut basic = host("plain", "ir");
        basic.settings.auth = AuthKind::Basic;
        let inv = Inventory {
            path: "inv.yml".into(),
            hosts: vec![
                basic,
                host("nocred", "missing"),
                host("broken", "broken"),
                host("fine", "ir"),
            ],
            credentials: vec![
                cred("ir", SecretSource::Prompt),
                cred("broken", SecretSource::Prompt),
            ],
            ..Default::default()
        };
        let mut r = Counting { calls: vec![] };
        let p = prepare(&inv, &mut r);
        let errs: Vec<String> = p
            .hosts
            .iter()
            .filter_map(|h| h.as_ref().err())
            .map(|r| r.error.to_string())
            .collect();
        assert_eq!(errs.len(), 3);
        assert!(errs[0].contains("clear text"), "{}", errs[0]);
        assert!(
            errs[1].contains("no credential named 'missing'"),
            "{}",
            errs[1]
        );
        assert!(errs[2].contains("CZ_PW"), "{}", errs[2]);
        assert!(p.hosts[3].is_ok());
        assert!(
            !r.calls.contains(&"ir@plain".to_string()),
            "no password asked for a refused host"
        );
    }
}
