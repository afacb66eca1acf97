//! WinRM targets of lab hosts, prepared as the inventory would prepare
//! them (NTLM over HTTP, port 5985), with a fixed password.
#![allow(dead_code)]

use std::time::Duration;

use cauterize::inventory::{
    ConnectionSettings, CredentialSpec, Inventory, ResolvedHost, SecretSource,
};
use cauterize::transport::{HostTarget, PasswordSource};
use zeroize::Zeroizing;

/// The credential name every target here uses.
pub const CREDENTIAL: &str = "lab";

/// A password source that answers `0` for every host.
pub struct Fixed(pub String);

impl PasswordSource for Fixed {
    fn password_for(
        &mut self,
        _: &CredentialSpec,
        _: &ResolvedHost,
    ) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(self.0.clone()))
    }
}

/// A host of the inventory: the defaults, with shorter time-outs.
pub fn resolved(name: &str, address: &str) -> ResolvedHost {
    ResolvedHost {
        name: name.into(),
        address: address.into(),
        groups: vec![],
        settings: ConnectionSettings {
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(60),
            ..ConnectionSettings::defaults_with(CREDENTIAL)
        },
    }
}

/// The target of `name` at `address`, logging on as `domain\user`.
pub fn winrm_target_as(
    name: &str,
    address: &str,
    account: (&str, &str),
    password: &str,
) -> HostTarget {
    prepared(resolved(name, address), account, password)
}

/// `host` prepared as the inventory would, logging on as `domain\user`.
pub fn prepared(host: ResolvedHost, (domain, user): (&str, &str), password: &str) -> HostTarget {
    let inventory = Inventory {
        hosts: vec![host],
        credentials: vec![CredentialSpec {
            name: CREDENTIAL.into(),
            user: user.into(),
            domain: domain.into(),
            source: SecretSource::Prompt,
        }],
        ..Default::default()
    };
    let mut prepared = cauterize::transport::prepare(&inventory, &mut Fixed(password.into()));
    match prepared.hosts.pop() {
        Some(Ok(t)) => t,
        other => panic!("target not prepared: {other:?}"),
    }
}

/// The target of a lab host with the lab's own account.
pub fn winrm_target(name: &str, address: &str, password: &str) -> HostTarget {
    use cauterize::lab::scenario::{LAB_DOMAIN, LAB_USER};
    winrm_target_as(name, address, (LAB_DOMAIN, LAB_USER), password)
}
