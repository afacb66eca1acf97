//! Who may log on to a lab host over WinRM: account lookup for NTLM and
//! Basic, and the identity a logged-on connection carries.
//!
//! A local account (empty domain) matches the domain names Windows treats as
//! "this computer": none, the computer name, or `.`. A domain account
//! matches its domain. User names compare case-insensitively. Only members
//! of Administrators are let in (WinRM's default SDDL).

use base64::Engine as _;

use crate::lab::spec::{Account, HostSpec};

/// The account a connection or request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `DOMAIN\user`, the domain being the computer name for a local account
    /// (what `whoami` prints, and what the command emulation receives).
    pub qualified: String,
    /// The user name as the account spells it (the shell's `rsp:Owner`).
    pub user: String,
    /// Lower-cased `qualified`: shells and quotas are counted per key.
    pub key: String,
}

/// The account `domain\user` names on `host`, if any.
pub fn find_account<'a>(host: &'a HostSpec, domain: &str, user: &str) -> Option<&'a Account> {
    host.accounts.iter().find(|a| {
        a.user.eq_ignore_ascii_case(user)
            && if a.domain.is_empty() {
                domain.is_empty() || domain == "." || domain.eq_ignore_ascii_case(&host.name)
            } else {
                a.domain.eq_ignore_ascii_case(domain)
            }
    })
}

/// The identity of a logged-on account.
pub fn identity(host: &HostSpec, account: &Account) -> Identity {
    let domain = if account.domain.is_empty() {
        &host.name
    } else {
        &account.domain
    };
    let qualified = format!("{domain}\\{}", account.user);
    Identity {
        key: qualified.to_lowercase(),
        qualified,
        user: account.user.clone(),
    }
}

/// Why a logon is refused (each is a 401 to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown account or wrong password.
    BadCredentials,
    /// A valid account that is not an administrator.
    NotAdmin,
}

/// Admit `account` if WinRM would: administrators only.
pub fn admit(host: &HostSpec, account: &Account) -> Result<Identity, Refused> {
    if account.admin {
        Ok(identity(host, account))
    } else {
        Err(Refused::NotAdmin)
    }
}

/// Check a `Basic` credential (the base64 part of the header) against the
/// host's accounts. `DOMAIN\user`, `user@domain` and `user` are accepted.
pub fn basic(host: &HostSpec, encoded: &str) -> Result<Identity, Refused> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Refused::BadCredentials)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Refused::BadCredentials)?;
    let (name, password) = decoded.split_once(':').ok_or(Refused::BadCredentials)?;
    let (domain, user) = match (name.split_once('\\'), name.split_once('@')) {
        (Some((d, u)), _) => (d, u),
        (None, Some((u, d))) => (d, u),
        (None, None) => ("", name),
    };
    let account = find_account(host, domain, user).ok_or(Refused::BadCredentials)?;
    // Compare in constant time: the lab is a test peer, but cheap to do right.
    let same = account.password.len() == password.len()
        && account
            .password
            .bytes()
            .zip(password.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(Refused::BadCredentials);
    }
    admit(host, account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::spec::{HostFault, OsInfo};
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn host() -> HostSpec {
        let account = |domain: &str, user: &str, admin| Account {
            domain: domain.into(),
            user: user.into(),
            password: "Passw0rd!".into(),
            admin,
        };
        HostSpec {
            name: "WS-001".into(),
            address: Ipv4Addr::LOCALHOST,
            port: 5985,
            domain: "CORP".into(),
            os: OsInfo {
                caption: "Windows".into(),
                build: "1".into(),
                ps_version: "5.1".into(),
            },
            accounts: vec![
                account("", "Administrator", true),
                account("CORP", "alice", true),
                account("", "guest", false),
            ],
            allow_unencrypted: false,
            allow_basic: true,
            https: false,
            max_shells_per_user: 5,
            latency: Duration::ZERO,
            clock_skew_secs: 0,
            fault: HostFault::None,
        }
    }

    #[test]
    fn local_accounts_match_this_computer_only() {
        let h = host();
        for domain in ["", ".", "ws-001", "WS-001"] {
            assert!(
                find_account(&h, domain, "administrator").is_some(),
                "{domain}"
            );
        }
        assert!(find_account(&h, "CORP", "administrator").is_none());
        assert!(find_account(&h, "corp", "ALICE").is_some());
        assert!(find_account(&h, "", "alice").is_none());
    }

    #[test]
    fn basic_checks_password_and_admin() {
        let h = host();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let id = basic(&h, &b64("Administrator:Passw0rd!")).unwrap();
        assert_eq!(id.qualified, "WS-001\\Administrator");
        assert_eq!(
            basic(&h, &b64("CORP\\alice:Passw0rd!")).unwrap().qualified,
            "CORP\\alice"
        );
        assert_eq!(
            basic(&h, &b64("alice@CORP:Passw0rd!")).unwrap().user,
            "alice"
        );
        assert_eq!(
            basic(&h, &b64("Administrator:wrong")),
            Err(Refused::BadCredentials)
        );
        assert_eq!(basic(&h, &b64("guest:Passw0rd!")), Err(Refused::NotAdmin));
        assert_eq!(basic(&h, "%%%"), Err(Refused::BadCredentials));
        assert_eq!(basic(&h, &b64("nocolon")), Err(Refused::BadCredentials));
    }
}
