//! `cauterize inventory`: print the hosts an inventory resolves to (after
//! `--limit`), with their connection settings, as a table or as JSON.
//! Never a secret: credentials are shown by name and kind of source.

use crate::cli::InventoryArgs;
use crate::exit;
use crate::inventory::{self, format_duration, CertValidation, Inventory, ResolvedHost};
use serde_json::{json, Value};
use std::io::{self, Write};

/// Run `cauterize inventory`. An invalid inventory or `--limit` is returned
/// as an error (an [`inventory::InventoryError`], exit code
/// [`exit::USAGE`]); otherwise the exit code is [`exit::OK`].
pub fn run(args: &InventoryArgs) -> anyhow::Result<i32> {
    let inv = inventory::load(&args.target.inventory, args.target.limit.as_deref())?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&render_json(&inv))?;
        s.push('\n');
        s
    } else {
        render_table(&inv, args.target.limit.as_deref())
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `cauterize inventory ... | head` is fine.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(exit::OK),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(exit::OK),
    }
}

/// `ir (env)`: the credential and the kind of its password source.
fn credential_label(inv: &Inventory, h: &ResolvedHost) -> String {
    let name = &h.settings.credential;
    match inv.credential(name) {
        Some(c) => format!("{name} ({})", c.source.kind()),
        None => name.clone(),
    }
}

fn transport(h: &ResolvedHost) -> &'static str {
    match h.settings.scheme {
        inventory::Scheme::Http => "http",
        inventory::Scheme::Https => "https",
    }
}

fn auth(h: &ResolvedHost) -> &'static str {
    match h.settings.auth {
        inventory::AuthKind::Ntlm => "ntlm",
        inventory::AuthKind::Kerberos => "kerberos",
        inventory::AuthKind::Basic => "basic",
    }
}

/// The table, ending with a count line (`250 hosts`, or `12 of 250 hosts
/// (--limit finance)`).
pub fn render_table(inv: &Inventory, limit: Option<&str>) -> String {
    let header = ["NAME", "ADDRESS", "PORT", "TRANSPORT", "AUTH", "CREDENTIAL", "GROUPS"];
    let rows: Vec<[String; 7]> = inv
        .hosts
        .iter()
        .map(|h| {
            [
                h.name.clone(),
                h.address.clone(),
                h.settings.port.to_string(),
                transport(h).to_string(),
                auth(h).to_string(),
                credential_label(inv, h),
                if h.groups.is_empty() { "-".to_string() } else { h.groups.join(",") },
            ]
        })
        .collect();
    let mut width = header.map(|c| c.chars().count());
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i < last {
                out.extend(std::iter::repeat_n(' ', width[i] - c.chars().count() + 2));
            }
        }
        out.push('\n');
    };
    line(&header);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    let n = inv.hosts.len();
    let noun = if inv.total_hosts == 1 { "host" } else { "hosts" };
    match limit {
        Some(l) => out.push_str(&format!("{n} of {} {noun} (--limit {l})\n", inv.total_hosts)),
        None => out.push_str(&format!("{n} {}\n", if n == 1 { "host" } else { "hosts" })),
    }
    out
}

/// One JSON object per host, with the table's fields plus the certificate
/// check, user, time-outs (in milliseconds), proxy and the basic opt-in.
pub fn render_json(inv: &Inventory) -> Value {
    let hosts = inv
        .hosts
        .iter()
        .map(|h| {
            let s = &h.settings;
            let cred = inv.credential(&s.credential);
            json!({
                "name": h.name,
                "address": h.address,
                "port": s.port,
                "transport": transport(h),
                "auth": auth(h),
                "cert_validation": match &s.cert_validation {
                    CertValidation::Verify => json!("verify"),
                    CertValidation::Ignore => json!("ignore"),
                    CertValidation::CaFile(p) => json!({ "ca_file": p.display().to_string() }),
                },
                "credential": s.credential,
                "credential_source": cred.map(|c| c.source.kind()),
                "user": cred.map(|c| c.user.as_str()),
                "domain": cred.map(|c| c.domain.as_str()),
                "groups": h.groups,
                "connect_timeout_ms": s.connect_timeout.as_millis() as u64,
                "operation_timeout_ms": s.operation_timeout.as_millis() as u64,
                "command_timeout_ms": s.command_timeout.as_millis() as u64,
                "command_timeout": format_duration(s.command_timeout),
                "proxy": s.proxy,
                "proxy_credential": s.proxy_credential,
                "proxy_user": s.proxy_credential.as_deref().and_then(|c| inv.credential(c)).map(|c| c.user.as_str()),
                "force_insecure_basic": s.force_insecure_basic,
            })
        })
        .collect();
    Value::Array(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const TEXT: &str = "allow_plaintext_passwords: true\n\
credentials:\n  ir: { user: ir-admin, domain: CORP, password: TopSecret-42 }\n  laps: { user: Administrator, laps_csv: laps.csv }\n  jump: { user: tunnel, password: ProxySecret-7 }\n\
defaults: { credential: ir }\n\
hosts:\n  dc01: { address: 10.0.0.5, transport: https, cert_validation: { ca_file: ca.pem } }\n\
groups:\n  ws:\n    settings: { credential: laps, proxy: \"socks5://127.0.0.1:1080\", proxy_credential: jump }\n    hosts: { \"ws-[1:2]\": {} }\n";

    fn inv(limit: Option<&str>) -> Inventory {
        inventory::parse_str(TEXT, Path::new("/ir/inv.yml"), limit).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn table_has_every_column_and_a_count() {
        let t = render_table(&inv(None), None);
        let expected = "\
NAME  ADDRESS   PORT  TRANSPORT  AUTH  CREDENTIAL   GROUPS
dc01  10.0.0.5  5986  https      ntlm  ir (inline)  -
ws-1  ws-1      5985  http       ntlm  laps (laps)  ws
ws-2  ws-2      5985  http       ntlm  laps (laps)  ws
3 hosts
";
        assert_eq!(t, expected);
        assert!(!t.contains("TopSecret") && !t.contains("ProxySecret"));
    }

    #[test]
    fn table_count_mentions_the_limit() {
        let t = render_table(&inv(Some("ws")), Some("ws"));
        assert!(t.ends_with("\n2 of 3 hosts (--limit ws)\n"), "{t}");
    }

    #[test]
    fn json_has_fields_and_timeouts_but_no_secret() {
        let v = render_json(&inv(None));
        let dc = &v[0];
        assert_eq!(dc["name"], "dc01");
        assert_eq!(dc["port"], 5986);
        assert_eq!(dc["cert_validation"]["ca_file"], "/ir/ca.pem");
        assert_eq!(dc["credential_source"], "inline");
        assert_eq!(dc["user"], "ir-admin");
        assert_eq!(dc["connect_timeout_ms"], 10_000);
        assert_eq!(dc["command_timeout_ms"], 300_000);
        assert_eq!(v[1]["proxy"], "socks5://127.0.0.1:1080");
        assert_eq!(v[1]["proxy_credential"], "jump");
        assert_eq!(v[1]["proxy_user"], "tunnel");
        assert_eq!(v[1]["groups"], json!(["ws"]));
        assert!(!v.to_string().contains("TopSecret"));
        assert!(!v.to_string().contains("ProxySecret"), "issue 7 item 16");
    }
}
