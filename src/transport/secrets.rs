//! Where the transport gets passwords from: a [`PasswordSource`], asked
//! once per credential per run (once per host for LAPS, whose passwords
//! differ by host). The inventory's resolver
//! ([`crate::inventory::secrets::SecretResolver`]) is the real one. Passwords travel in [`Zeroizing`] strings and are wiped when
//! dropped; winrm-rs keeps its copy in a `SecretString`, wiped likewise.

use crate::inventory::{CredentialSpec, ResolvedHost, SecretSource};
use zeroize::Zeroizing;

/// Gives the password of a credential. Implementations may prompt on the
/// terminal, so they are called before any progress bar is drawn.
pub trait PasswordSource {
    /// The password of `credential` for `host` (the host matters only for
    /// per-host sources such as LAPS). The error says why it is unavailable
    /// and must not contain the secret.
    fn password_for(
        &mut self,
        credential: &CredentialSpec,
        host: &ResolvedHost,
    ) -> Result<Zeroizing<String>, String>;
}

impl PasswordSource for crate::inventory::secrets::SecretResolver {
    fn password_for(
        &mut self,
        credential: &CredentialSpec,
        host: &ResolvedHost,
    ) -> Result<Zeroizing<String>, String> {
        self.password(credential, host).map_err(|e| e.to_string())
    }
}

/// The resolver for an inventory's credentials (prompts on the terminal).
pub fn inventory_resolver(
    inventory: &crate::inventory::Inventory,
) -> crate::inventory::secrets::SecretResolver {
    crate::inventory::secrets::SecretResolver::new(inventory)
}

/// A password source that keeps what it handed out, so that the SMB side
/// of the same logon (evidence over the admin shares) gets the password
/// without asking again. Kept in [`Zeroizing`] strings, wiped when this is
/// dropped.
pub struct Remembering<P> {
    inner: P,
    kept: std::collections::HashMap<(String, Option<String>), Zeroizing<String>>,
}

impl<P: PasswordSource> Remembering<P> {
    pub fn new(inner: P) -> Remembering<P> {
        Remembering {
            inner,
            kept: std::collections::HashMap::new(),
        }
    }

    fn key(credential: &CredentialSpec, host: &ResolvedHost) -> (String, Option<String>) {
        (credential.name.clone(), is_per_host(credential).then(|| host.name.to_lowercase()))
    }

    /// The password handed out for `credential` on `host`, if any.
    pub fn kept(&self, credential: &CredentialSpec, host: &ResolvedHost) -> Option<Zeroizing<String>> {
        self.kept.get(&Self::key(credential, host)).cloned()
    }
}

impl<P: PasswordSource> PasswordSource for Remembering<P> {
    fn password_for(
        &mut self,
        credential: &CredentialSpec,
        host: &ResolvedHost,
    ) -> Result<Zeroizing<String>, String> {
        let key = Self::key(credential, host);
        if let Some(p) = self.kept.get(&key) {
            return Ok(p.clone());
        }
        let p = self.inner.password_for(credential, host)?;
        self.kept.insert(key, p.clone());
        Ok(p)
    }
}

/// Does this credential have a different password on every host?
pub fn is_per_host(credential: &CredentialSpec) -> bool {
    matches!(credential.source, SecretSource::Laps { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_laps_is_per_host() {
        let mut c = CredentialSpec {
            name: "laps".into(),
            user: "Administrator".into(),
            domain: String::new(),
            source: SecretSource::Laps {
                csv: "laps.csv".into(),
            },
        };
        assert!(is_per_host(&c));
        c.source = SecretSource::Prompt;
        assert!(!is_per_host(&c));
    }
}
