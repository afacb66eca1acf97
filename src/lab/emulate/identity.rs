//! Who a request runs as, on a lab host: the account it matches and the
//! forms Windows prints it in.

use crate::lab::spec::{Account, HostSpec};

/// Split `DOMAIN\user` or `user@domain` into (domain, user); the domain is
/// empty when none is given.
pub fn split_user(user: &str) -> (&str, &str) {
    if let Some((d, u)) = user.rsplit_once('\\') {
        (d, u)
    } else if let Some((u, d)) = user.split_once('@') {
        (d.split('.').next().unwrap_or(d), u)
    } else {
        ("", user)
    }
}

/// The host account a request's user is, as Windows matches it: the user
/// name case-insensitively; a domain account by its domain; a local account
/// (empty domain) by the host name or any domain.
pub fn find_account<'h>(host: &'h HostSpec, user: &str) -> Option<&'h Account> {
    let (domain, name) = split_user(user);
    host.accounts.iter().find(|a| {
        a.user.to_lowercase() == name.to_lowercase()
            && (a.domain.is_empty() || domain.is_empty() || a.domain.eq_ignore_ascii_case(domain))
    })
}

/// The account as `DOMAIN\user` (the host name for a local account with no
/// domain given).
pub fn qualified(host: &HostSpec, user: &str) -> String {
    let (domain, name) = split_user(user);
    let domain = if domain.is_empty() { host.name.as_str() } else { domain };
    format!("{domain}\\{name}")
}
