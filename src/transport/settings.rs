//! Maps the inventory's [`ConnectionSettings`] to a winrm-rs
//! [`WinrmConfig`], and refuses unsafe settings before anything connects.
//! Pure: no I/O.
//!
//! Refused here, with the reason:
//! - Basic authentication over plain HTTP, unless `force_insecure_basic` is
//!   set (the password then crosses the network in clear text, and a warning
//!   says so);
//! - Basic over HTTPS without certificate validation (the password would go
//!   to whoever answers);
//! - Kerberos in a build without the `kerberos` cargo feature.
//!
//! CredSSP is never offered: it hands the account's password to the host,
//! and the hosts cauterize works on are presumed compromised.

use crate::inventory::{AuthKind, CertValidation, ConnectionSettings, Scheme};
use std::path::PathBuf;
use std::time::Duration;
use winrm_rs::{AuthMethod, EncryptionMode, SecretString, WinrmConfig};

/// How to build the winrm-rs client for some settings.
#[derive(Debug, Clone)]
pub struct ClientPlan {
    pub config: WinrmConfig,
    /// Extra CA certificates (PEM) to trust for HTTPS.
    pub ca_file: Option<PathBuf>,
    /// Things the user must be told (not errors).
    pub warnings: Vec<String>,
}

/// Whole seconds, rounded up, at least 1 (winrm-rs takes seconds).
fn whole_secs(d: Duration) -> u64 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.max(1)
}

/// Was this binary built with Kerberos support?
pub const KERBEROS_BUILT: bool = cfg!(feature = "kerberos");

/// Build the winrm-rs settings for `settings`, or say why they are refused.
pub fn plan(settings: &ConnectionSettings) -> Result<ClientPlan, String> {
    plan_with(settings, KERBEROS_BUILT)
}

/// [`plan`] with the Kerberos build flag given (for tests).
pub fn plan_with(
    settings: &ConnectionSettings,
    kerberos_built: bool,
) -> Result<ClientPlan, String> {
    let use_tls = settings.scheme == Scheme::Https;
    let mut warnings = Vec::new();
    let mut encryption = EncryptionMode::Auto;
    let auth_method = match settings.auth {
        AuthKind::Ntlm => AuthMethod::Ntlm,
        AuthKind::Kerberos if kerberos_built => AuthMethod::Kerberos,
        AuthKind::Kerberos => {
            return Err("Kerberos authentication needs a cauterize built with \
                        `cargo build --features kerberos` (and the system libkrb5 plus a ticket \
                        from kinit); this build has NTLM and Basic only"
                .to_string());
        }
        AuthKind::Basic => {
            if !use_tls {
                if !settings.force_insecure_basic {
                    return Err(format!(
                        "Basic authentication over plain HTTP (port {}) would send the password \
                         of credential '{}' in clear text; use scheme https, or auth ntlm, or set \
                         force_insecure_basic: true to accept that risk",
                        settings.port, settings.credential
                    ));
                }
                encryption = EncryptionMode::Never;
                warnings.push(format!(
                    "force_insecure_basic: the password of credential '{}' crosses the network \
                     in clear text (Basic over plain HTTP, port {})",
                    settings.credential, settings.port
                ));
            } else if settings.cert_validation == CertValidation::Ignore {
                return Err(format!(
                    "Basic authentication over HTTPS without certificate validation would send \
                     the password of credential '{}' to whoever answers; validate the \
                     certificate (cert_validation: verify or a ca_file) or use auth ntlm",
                    settings.credential
                ));
            }
            AuthMethod::Basic
        }
    };
    let (accept_invalid_certs, ca_file) = match &settings.cert_validation {
        CertValidation::Verify => (false, None),
        CertValidation::CaFile(path) => (false, Some(path.clone())),
        CertValidation::Ignore => (true, None),
    };
    if use_tls && accept_invalid_certs {
        warnings.push(
            "cert_validation: ignore: the HTTPS server certificate is not checked".to_string(),
        );
    }
    let config = WinrmConfig {
        port: Some(settings.port),
        use_tls,
        accept_invalid_certs,
        connect_timeout_secs: whole_secs(settings.connect_timeout),
        operation_timeout_secs: whole_secs(settings.operation_timeout),
        auth_method,
        // Retries are decided by the transport, which knows whether a
        // command may already have started.
        max_retries: 0,
        proxy: settings.proxy.clone().map(SecretString::from),
        encryption,
        // A shell leaked by a crash dies on the host after this long idle.
        idle_timeout_secs: Some(
            whole_secs(settings.command_timeout)
                .saturating_add(60)
                .max(300),
        ),
        ..WinrmConfig::default()
    };
    Ok(ClientPlan {
        config,
        ca_file: if use_tls { ca_file } else { None },
        warnings,
    })
}

/// The proxy URL with its logon (RFC 1929 user name and password) as
/// userinfo, percent-encoded, held only as a secret: winrm-rs reads it
/// from there and redacts it from its `Debug` output.
pub fn proxy_with_login(url: &str, user: &str, password: &str) -> SecretString {
    let (scheme, rest) = url.split_once("://").unwrap_or(("socks5", url));
    let mut s = zeroize::Zeroizing::new(String::with_capacity(url.len() + user.len() + 3 * password.len() + 2));
    s.push_str(scheme);
    s.push_str("://");
    percent_encode(user, &mut s);
    s.push(':');
    percent_encode(password, &mut s);
    s.push('@');
    s.push_str(rest);
    SecretString::from(s.as_str())
}

/// RFC 3986 userinfo: unreserved characters as they are, every other byte
/// `%XX`.
fn percent_encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ConnectionSettings {
        ConnectionSettings {
            port: 5985,
            scheme: Scheme::Http,
            auth: AuthKind::Ntlm,
            cert_validation: CertValidation::Verify,
            credential: "ir".into(),
            connect_timeout: Duration::from_millis(1500),
            operation_timeout: Duration::from_secs(20),
            command_timeout: Duration::from_secs(600),
            proxy: None,
            proxy_credential: None,
            force_insecure_basic: false,
        }
    }

    #[test]
    fn ntlm_over_http_maps_fields() {
        let p = plan(&base()).unwrap();
        assert!(!p.config.use_tls);
        assert_eq!(p.config.port, Some(5985));
        assert!(matches!(p.config.auth_method, AuthMethod::Ntlm));
        assert_eq!(p.config.encryption, EncryptionMode::Auto);
        assert_eq!(p.config.connect_timeout_secs, 2, "rounded up");
        assert_eq!(p.config.operation_timeout_secs, 20);
        assert_eq!(p.config.max_retries, 0);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn basic_over_http_is_refused_unless_forced() {
        let s = ConnectionSettings {
            auth: AuthKind::Basic,
            ..base()
        };
        let err = plan(&s).unwrap_err();
        assert!(
            err.contains("clear text") && err.contains("force_insecure_basic"),
            "{err}"
        );
        let forced = ConnectionSettings {
            force_insecure_basic: true,
            ..s
        };
        let p = plan(&forced).unwrap();
        assert_eq!(p.config.encryption, EncryptionMode::Never);
        assert!(p.warnings.iter().any(|w| w.contains("clear text")));
    }

    #[test]
    fn basic_over_unverified_https_is_refused() {
        let s = ConnectionSettings {
            auth: AuthKind::Basic,
            scheme: Scheme::Https,
            port: 5986,
            cert_validation: CertValidation::Ignore,
            ..base()
        };
        assert!(plan(&s).unwrap_err().contains("certificate"));
        let verified = ConnectionSettings {
            cert_validation: CertValidation::Verify,
            ..s
        };
        assert!(matches!(
            plan(&verified).unwrap().config.auth_method,
            AuthMethod::Basic
        ));
    }

    #[test]
    fn kerberos_needs_the_feature() {
        let s = ConnectionSettings {
            auth: AuthKind::Kerberos,
            ..base()
        };
        assert!(
            plan_with(&s, false)
                .unwrap_err()
                .contains("--features kerberos")
        );
        assert!(matches!(
            plan_with(&s, true).unwrap().config.auth_method,
            AuthMethod::Kerberos
        ));
    }

    #[test]
    fn https_cert_modes_and_proxy() {
        let https = ConnectionSettings {
            scheme: Scheme::Https,
            port: 5986,
            ..base()
        };
        let ca = ConnectionSettings {
            cert_validation: CertValidation::CaFile("/ca.pem".into()),
            ..https.clone()
        };
        let p = plan(&ca).unwrap();
        assert!(p.config.use_tls && !p.config.accept_invalid_certs);
        assert_eq!(p.ca_file, Some(PathBuf::from("/ca.pem")));
        let ignore = ConnectionSettings {
            cert_validation: CertValidation::Ignore,
            ..https
        };
        let p = plan(&ignore).unwrap();
        assert!(p.config.accept_invalid_certs);
        assert!(!p.warnings.is_empty());
        let proxied = ConnectionSettings {
            proxy: Some("socks5://127.0.0.1:1080".into()),
            ..base()
        };
        assert!(plan(&proxied).unwrap().config.proxy.is_some());
        // The logon goes into the URL as percent-encoded userinfo, only as
        // a secret: never in the settings, never in Debug output.
        let login = proxy_with_login("socks5h://jump:1080", "ir user", "p@ss:w/rd%");
        use winrm_rs::ExposeSecret;
        assert_eq!(login.expose_secret(), "socks5h://ir%20user:p%40ss%3Aw%2Frd%25@jump:1080");
        assert!(!format!("{login:?}").contains("p%40ss"));
    }
}
