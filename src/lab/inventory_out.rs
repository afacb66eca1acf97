//! The inventory for a lab: a cauterize inventory (YAML) that reaches every
//! lab host as-is, with every command. It carries the lab's passwords inline
//! (`allow_plaintext_passwords: true`), which only a lab should do.
//!
//! Hosts share the credential `lab` (the most common admin account); a host
//! whose admin account differs gets a credential of its own (`lab-2`, ...)
//! named on its entry. Hosts that are down or have WinRM disabled are
//! listed too, as an operator's inventory would list them.
//!
//! Hosts with HTTPS are reached over it (port 5986, their certificate
//! checked against the lab CA) when the inventory is written with the CA's
//! file ([`inventory_yaml_with_ca`], `<inventory>.ca.pem` beside it);
//! otherwise over HTTP, where they listen too.

use super::scenario::{LAB_DOMAIN, LAB_PASSWORD, LAB_USER};
use super::spec::{Account, HostSpec, LabSpec};
use super::tls::HTTPS_PORT;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The account cauterize should log on to a host with: its first admin
/// account, else its first account.
pub fn logon_account(host: &HostSpec) -> Option<&Account> {
    host.accounts.iter().find(|a| a.admin).or_else(|| host.accounts.first())
}

/// A credential's identity: (domain, user, password).
type Key = (String, String, String);

fn key_of(a: &Account) -> Key {
    (a.domain.clone(), a.user.clone(), a.password.clone())
}

/// Credential names per host (index-aligned with `spec.hosts`) and the
/// credentials in order of first use, `lab` first.
fn assign(spec: &LabSpec) -> (Vec<String>, Vec<(String, Key)>) {
    let default_key: Key = (LAB_DOMAIN.into(), LAB_USER.into(), LAB_PASSWORD.into());
    let keys: Vec<Key> = spec.hosts.iter().map(|h| logon_account(h).map(key_of).unwrap_or_else(|| default_key.clone())).collect();
    // `lab` is the most common account (the first seen on a tie).
    let mut counts: HashMap<&Key, (usize, usize)> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        counts.entry(k).or_insert((0, i)).0 += 1;
    }
    let main = counts
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(k, _)| (*k).clone())
        .unwrap_or(default_key);
    let mut creds: Vec<(String, Key)> = vec![("lab".to_string(), main)];
    let names = keys
        .iter()
        .map(|k| match creds.iter().find(|(_, c)| c == k) {
            Some((name, _)) => name.clone(),
            None => {
                let name = format!("lab-{}", creds.len() + 1);
                creds.push((name.clone(), k.clone()));
                name
            }
        })
        .collect();
    (names, creds)
}

/// Words YAML 1.1 or 1.2 would read as something other than a string.
const SPECIAL_WORDS: &[&str] =
    &["null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "-.inf"];

/// A YAML scalar for `text`: plain when that is unambiguous, else
/// double-quoted with escapes.
pub fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !text.starts_with(['-', '.'])
        && !text.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !SPECIAL_WORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain { text.to_string() } else { quoted(text) }
}

/// A double-quoted YAML string: `\` and `"` escaped, control and
/// non-printing characters as `\xNN` / `\uNNNN`.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if matches!(c as u32, 0x80..=0x9f | 0x2028 | 0x2029 | 0xfeff) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where the CA certificate of the lab whose inventory is at `inventory`
/// goes: `<inventory>.ca.pem`, beside it.
pub fn ca_file_for(inventory: &Path) -> PathBuf {
    let mut name = inventory.as_os_str().to_owned();
    name.push(".ca.pem");
    PathBuf::from(name)
}

/// The inventory text for a lab, every host over HTTP.
pub fn inventory_yaml(spec: &LabSpec) -> String {
    render(spec, None)
}

/// The inventory text for a lab whose CA certificate is in `ca_file` (as
/// the inventory names it: relative to the inventory's folder, or
/// absolute): hosts with HTTPS are reached over HTTPS on port 5986 with
/// `cert_validation: {ca_file: ...}`, the others over HTTP.
pub fn inventory_yaml_with_ca(spec: &LabSpec, ca_file: &str) -> String {
    render(spec, Some(ca_file))
}

fn render(spec: &LabSpec, ca_file: Option<&str>) -> String {
    let (names, creds) = assign(spec);
    let mut out = String::new();
    out.push_str("# Inventory for a cauterize lab. It carries the lab's password inline, which\n");
    out.push_str("# cauterize refuses in real inventories unless allowed explicitly:\n");
    out.push_str("allow_plaintext_passwords: true\n");
    out.push_str(
        "defaults: { transport: http, auth: ntlm, credential: lab, connect_timeout: 5s, operation_timeout: 20s, command_timeout: 120s }\n",
    );
    out.push_str("credentials:\n");
    for (name, (domain, user, password)) in &creds {
        out.push_str(&format!("  {name}: {{ user: {}", yaml_scalar(user)));
        if !domain.is_empty() {
            out.push_str(&format!(", domain: {}", yaml_scalar(domain)));
        }
        out.push_str(&format!(", password: {} }}\n", quoted(password)));
    }
    if spec.hosts.is_empty() {
        out.push_str("hosts: {}\n");
        return out;
    }
    out.push_str("hosts:\n");
    for (host, cred) in spec.hosts.iter().zip(&names) {
        match ca_file.filter(|_| host.https) {
            Some(ca) => out.push_str(&format!(
                "  {}: {{ address: {}, port: {HTTPS_PORT}, transport: https, cert_validation: {{ ca_file: {} }}",
                yaml_scalar(&host.name),
                host.address,
                quoted(ca)
            )),
            None => out.push_str(&format!("  {}: {{ address: {}, port: {}", yaml_scalar(&host.name), host.address, host.port)),
        }
        if cred != "lab" {
            out.push_str(&format!(", credential: {cred}"));
        }
        out.push_str(" }\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenario;
    use std::net::Ipv4Addr;

    fn parse(text: &str) -> serde_json::Value {
        serde_saphyr::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn simple_lab_inventory_parses_and_lists_every_host() {
        let spec = scenario::simple(12, Ipv4Addr::new(127, 40, 0, 250), 5985);
        let text = inventory_yaml(&spec);
        assert!(text.starts_with("# Inventory for a cauterize lab."));
        let v = parse(&text);
        assert_eq!(v["allow_plaintext_passwords"], serde_json::json!(true));
        assert_eq!(v["defaults"]["credential"], "lab");
        assert_eq!(v["defaults"]["transport"], "http");
        assert_eq!(v["credentials"]["lab"]["user"], LAB_USER);
        assert_eq!(v["credentials"]["lab"]["domain"], LAB_DOMAIN);
        assert_eq!(v["credentials"]["lab"]["password"], LAB_PASSWORD);
        let hosts = v["hosts"].as_object().cloned().unwrap_or_default();
        assert_eq!(hosts.len(), 12);
        for h in &spec.hosts {
            assert_eq!(hosts[&h.name]["address"], h.address.to_string());
            assert_eq!(hosts[&h.name]["port"], 5985);
            assert!(hosts[&h.name].get("credential").is_none());
        }
    }

    #[test]
    fn a_host_with_another_admin_gets_its_own_credential_and_hostile_passwords_survive() {
        let mut spec = scenario::simple(3, Ipv4Addr::new(127, 40, 0, 1), 5985);
        let hostile = "p: \"q\" #x\\y\n'z' {a} [b] & *c !d %e @f `g` \u{7}Пётр";
        spec.hosts[1].accounts = vec![
            Account { domain: "LAB".into(), user: "viewer".into(), password: "x".into(), admin: false },
            Account { domain: String::new(), user: "Administrator".into(), password: hostile.into(), admin: true },
        ];
        let v = parse(&inventory_yaml(&spec));
        assert_eq!(v["hosts"]["WS-002"]["credential"], "lab-2");
        assert_eq!(v["credentials"]["lab-2"]["password"], hostile);
        assert_eq!(v["credentials"]["lab-2"]["user"], "Administrator");
        assert!(v["credentials"]["lab-2"].get("domain").is_none(), "a local account has no domain");
        assert!(v["hosts"]["WS-001"].get("credential").is_none());
        assert_eq!(v["credentials"].as_object().map(|o| o.len()), Some(2));
    }

    #[test]
    fn yaml_scalars_are_quoted_when_they_could_mean_something_else() {
        for word in ["null", "Yes", "off", "~", "123", "1.5", "-x", "a b", "a:b", "", "#c", "x'y"] {
            assert!(yaml_scalar(word).starts_with('"'), "{word}");
            assert_eq!(parse(&format!("k: {}", yaml_scalar(word)))["k"], word, "{word}");
        }
        assert_eq!(yaml_scalar("WS-001"), "WS-001");
    }

    #[test]
    fn https_hosts_use_the_ca_file_others_stay_on_http() {
        let mut spec = scenario::simple(2, Ipv4Addr::new(127, 40, 1, 1), 5985);
        spec.hosts[0].https = true;
        let v = parse(&inventory_yaml_with_ca(&spec, "lab \"x\".yml.ca.pem"));
        let h = &v["hosts"]["WS-001"];
        assert_eq!((h["port"].clone(), h["transport"].clone()), (serde_json::json!(5986), serde_json::json!("https")));
        assert_eq!(h["cert_validation"]["ca_file"], "lab \"x\".yml.ca.pem");
        assert_eq!(v["hosts"]["WS-002"]["port"], 5985);
        assert!(v["hosts"]["WS-002"].get("transport").is_none());
        // Without the CA file every host is reached over HTTP.
        assert_eq!(parse(&inventory_yaml(&spec))["hosts"]["WS-001"]["port"], 5985);
        assert_eq!(ca_file_for(Path::new("/t/lab.yml")), PathBuf::from("/t/lab.yml.ca.pem"));
    }

    #[test]
    fn empty_lab_still_parses() {
        let v = parse(&inventory_yaml(&LabSpec { hosts: Vec::new() }));
        assert_eq!(v["hosts"].as_object().map(|o| o.len()), Some(0));
    }
}
