//! End-to-end tests of [`parse_str`]: the documented example, merging, and
//! one test per error case, each checking the line, the column and the
//! message.

use super::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILE: &str = "/srv/ir/site.yml";

/// A credential block (lines 1-4) most tests start with.
const CREDS: &str = "credentials:\n  ir:\n    user: ir-admin\n    password_env: CAUTERIZE_PASSWORD\n";

fn ok(text: &str, limit: Option<&str>) -> Inventory {
    match parse_str(text, Path::new(FILE), limit) {
        Ok(i) => i,
        Err(e) => panic!("unexpected error:\n{e}"),
    }
}

fn err(text: &str) -> InventoryError {
    err_limit(text, None)
}

fn err_limit(text: &str, limit: Option<&str>) -> InventoryError {
    match parse_str(text, Path::new(FILE), limit) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => {
            assert_eq!(e.path, Path::new(FILE));
            assert!(e.to_string().starts_with(FILE), "{e}");
            e
        }
    }
}

fn at(e: &InventoryError) -> (ErrorKind, u64, u64) {
    (e.kind, e.line(), e.column())
}

fn names(inv: &Inventory) -> Vec<&str> {
    inv.hosts.iter().map(|h| h.name.as_str()).collect()
}

fn host<'a>(inv: &'a Inventory, name: &str) -> &'a ResolvedHost {
    inv.hosts.iter().find(|h| h.name == name).unwrap_or_else(|| panic!("no host {name}"))
}

#[test]
fn documented_example_loads() {
    let text = include_str!("../../examples/inventory.yml");
    let inv = parse_str(text, Path::new("examples/inventory.yml"), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.hosts.len(), 4 + 2 + 250 + 4 + 12);
    assert_eq!(inv.total_hosts, inv.hosts.len());
    assert_eq!(&names(&inv)[..5], ["dc01", "dc02", "jump01.corp.example", "legacy-hmi", "fs01.corp.example"]);

    let dc = host(&inv, "dc01");
    assert_eq!((dc.address.as_str(), dc.settings.credential.as_str()), ("10.0.0.5", "vault"));
    assert_eq!(dc.settings.connect_timeout, Duration::from_secs(10));

    let sql = host(&inv, "sql01.corp.example");
    assert_eq!((sql.settings.scheme, sql.settings.port), (Scheme::Https, 15986));
    assert_eq!(sql.settings.cert_validation, CertValidation::CaFile(PathBuf::from("examples/certs/corp-ca.pem")));
    assert_eq!(host(&inv, "fs01.corp.example").settings.port, 5986);

    let fin = host(&inv, "fin-07.corp.example");
    assert_eq!(fin.groups, ["finance", "workstations"]);
    assert_eq!(fin.settings.credential, "laps");
    assert_eq!(fin.settings.proxy.as_deref(), Some("socks5h://127.0.0.1:1080"));
    assert_eq!(fin.settings.operation_timeout, Duration::from_secs(30));

    let ws13 = host(&inv, "ws-013.corp.example");
    assert_eq!(ws13.groups, ["critical", "workstations"]);
    assert_eq!(ws13.settings.scheme, Scheme::Http, "servers is a child of critical, not a parent");

    let hmi = host(&inv, "legacy-hmi");
    assert_eq!(hmi.settings.command_timeout, Duration::from_secs(600));
    assert_eq!(hmi.settings.cert_validation, CertValidation::Ignore);

    let laps = inv.credential("laps").unwrap();
    assert_eq!(laps.source, SecretSource::Laps { csv: "examples/laps.csv".into() });
    assert_eq!(laps.domain, "");
    assert_eq!(
        inv.credential("vault").unwrap().source,
        SecretSource::Command { argv: vec!["op".into(), "read".into(), "op://Incident/svc-cauterize/password".into()] }
    );
}

#[test]
fn documented_limit_examples() {
    let text = include_str!("../../examples/inventory.yml");
    let p = Path::new("examples/inventory.yml");
    let inv = parse_str(text, p, Some("workstations:!ws-013")).unwrap();
    assert_eq!(inv.hosts.len(), 250 + 4 + 12 - 1);
    assert_eq!(inv.total_hosts, 272);
    let inv = parse_str(text, p, Some("critical,dc01")).unwrap();
    assert_eq!(names(&inv), ["dc01", "fs01.corp.example", "sql01.corp.example", "ws-013.corp.example"]);
    let inv = parse_str(text, p, Some("fin-*:&finance")).unwrap();
    assert_eq!(inv.hosts.len(), 12);
}

#[test]
fn settings_merge_defaults_group_child_host() {
    let text = [
        CREDS,
        "  other:\n    user: o\n    password_prompt: true\n",
        "defaults: { credential: ir, port: 1001, connect_timeout: 500ms }\n",
        "groups:\n",
        "  parent:\n    settings: { port: 1002, auth: kerberos }\n    children: [child]\n    hosts: { p1: {} }\n",
        "  child:\n    settings: { port: 1003 }\n    hosts:\n      c1: {}\n      c2: { port: 1004, credential: other }\n",
        "hosts:\n  lone: {}\n",
    ]
    .concat();
    let inv = ok(&text, None);
    assert_eq!(names(&inv), ["p1", "c1", "c2", "lone"], "file order");
    let port = |n: &str| host(&inv, n).settings.port;
    assert_eq!((port("lone"), port("p1"), port("c1"), port("c2")), (1001, 1002, 1003, 1004));
    assert_eq!(host(&inv, "c1").settings.auth, AuthKind::Kerberos);
    assert_eq!(host(&inv, "c1").groups, ["child", "parent"]);
    assert_eq!(host(&inv, "c2").settings.credential, "other");
    assert_eq!(host(&inv, "lone").settings.connect_timeout, Duration::from_millis(500));
    assert_eq!(host(&inv, "lone").address, "lone");
}

#[test]
fn same_host_in_several_places_is_merged() {
    let text = format!(
        "{CREDS}defaults: {{ credential: ir }}\nhosts:\n  DC01: {{ address: 10.0.0.5 }}\ngroups:\n  critical:\n    hosts: {{ dc01: {{ port: 5986 }} }}\n"
    );
    let inv = ok(&text, None);
    assert_eq!(inv.hosts.len(), 1);
    let h = &inv.hosts[0];
    assert_eq!((h.name.as_str(), h.address.as_str(), h.settings.port), ("DC01", "10.0.0.5", 5986));
    assert_eq!(h.groups, ["critical"]);
}

#[test]
fn inline_password_with_opt_in() {
    let text = "allow_plaintext_passwords: true\ncredentials:\n  lab:\n    user: vagrant\n    password: vagrant-pw\ndefaults: { credential: lab }\nhosts: { h1: {} }\n";
    let inv = ok(text, None);
    assert_eq!(inv.credentials[0].source, SecretSource::Inline);
    assert_eq!(inv.inline_passwords.get("lab").as_deref().map(String::as_str), Some("vagrant-pw"));
    assert!(!format!("{inv:?}").contains("vagrant-pw"));
    assert!(!serde_json::to_string(&inv.credentials).unwrap().contains("vagrant-pw"));
}

#[test]
fn relative_paths_follow_the_inventory() {
    let text = "credentials:\n  f:\n    user: u\n    password_file: secrets/pw.txt\n  a:\n    user: u\n    password_file: /etc/pw\ndefaults: { credential: f }\nhosts: { h: {} }\n";
    let inv = ok(text, None);
    assert_eq!(inv.credentials[0].source, SecretSource::File { path: "/srv/ir/secrets/pw.txt".into() });
    assert_eq!(inv.credentials[1].source, SecretSource::File { path: "/etc/pw".into() });
}

// ---- one test per error case -------------------------------------------

#[test]
fn error_empty_file() {
    let e = err("# nothing yet\n");
    assert_eq!(at(&e), (ErrorKind::EmptyFile, 0, 0));
    assert_eq!(e.to_string(), format!("{FILE}: the inventory is empty: expected a mapping with `hosts:` and/or `groups:`\n  help: see examples/inventory.yml for a complete inventory"));
    let e = err(&format!("{CREDS}hosts: {{}}\n"));
    assert_eq!(e.kind, ErrorKind::EmptyFile);
    assert!(e.message.contains("defines no hosts"));
}

#[test]
fn error_unknown_key_lists_valid_keys() {
    let e = err(&format!("{CREDS}groups:\n  g:\n    host: {{ a: {{}} }}\n"));
    assert_eq!(at(&e), (ErrorKind::UnknownKey, 7, 5));
    assert_eq!(e.message, "unknown key `host`; expected one of: `settings`, `hosts`, `children`");
    assert_eq!(e.help, "did you mean `hosts`? (keys are case-sensitive)");

    let e = err(&format!("{CREDS}defaults:\n  transprot: https\n"));
    assert_eq!(at(&e), (ErrorKind::UnknownKey, 6, 3));
    assert!(e.message.contains("`port`, `transport`, `auth`, `cert_validation`, `credential`"), "{}", e.message);
    assert!(!e.message.contains("`address`"), "address is not a defaults key");

    let e = err("credentials:\n  ir:\n    user: u\n    pasword_env: X\n");
    assert_eq!(at(&e), (ErrorKind::UnknownKey, 4, 5));
    assert!(e.help.contains("`password_env`"));
}

#[test]
fn error_wrong_type() {
    let e = err(&format!("{CREDS}groups:\n  g:\n    children: kiosks\n"));
    assert_eq!(at(&e), (ErrorKind::WrongType, 7, 15));
    assert!(e.message.contains("expected a list"), "{}", e.message);

    let e = err(&format!("{CREDS}defaults:\n  force_insecure_basic: maybe\n"));
    assert_eq!(at(&e), (ErrorKind::WrongType, 6, 25));
    assert!(e.message.contains("expected `true` or `false`"));

    let e = err("credentials:\n  v:\n    user: u\n    password_command: op read op://x\n");
    assert_eq!(at(&e), (ErrorKind::WrongType, 4, 23));
    assert!(e.message.contains("must be a list [program, argument, ...], not a string; it is run without a shell"));
}

#[test]
fn error_empty_group() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\ngroups:\n  kiosks:\n    hosts: {{}}\n  other:\n    hosts: {{ a: {{}} }}\n"));
    assert_eq!(at(&e), (ErrorKind::EmptyGroup, 7, 3));
    assert_eq!(e.message, "group `kiosks` is empty: expected `hosts:` or `children:` with at least one entry");
    let e = err(&format!("{CREDS}groups:\n  kiosks:\n"));
    assert_eq!(at(&e), (ErrorKind::EmptyGroup, 6, 3));
}

#[test]
fn error_bad_range() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  ws-[5:1]: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::BadRange, 7, 3));
    assert!(e.message.contains("`ws-[5:1]` expands to nothing"), "{}", e.message);
    assert_eq!(e.help, "write the smaller end first, e.g. `[1:5]`");

    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  ws-[1-5]: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::BadRange, 7, 3));
    assert!(e.message.contains("is not a range"), "{}", e.message);
}

#[test]
fn error_range_cap() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  ws-[1:200000]: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::TooManyHosts, 7, 3));
    assert!(e.message.contains("expands to 200000 hosts"), "{}", e.message);
    assert!(e.help.contains("at most 100000 hosts"));
}

#[test]
fn error_address_on_range() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  ws-[1:5]: {{ address: 10.0.0.1 }}\n"));
    assert_eq!(at(&e), (ErrorKind::BadValue, 7, 24));
    assert!(e.message.contains("`address` on the range entry `ws-[1:5]`"));
}

#[test]
fn error_child_cycle_names_the_path() {
    let e = err(&format!(
        "{CREDS}defaults: {{ credential: ir }}\ngroups:\n  a:\n    children: [b]\n  b:\n    children: [c]\n    hosts: {{ h: {{}} }}\n  c:\n    children: [a]\n"
    ));
    assert_eq!(at(&e), (ErrorKind::ChildCycle, 13, 16));
    assert_eq!(e.message, "groups form a cycle through `children`: a -> b -> c -> a");
}

#[test]
fn error_unknown_child_group() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\ngroups:\n  ws:\n    children: [kiosk]\n  kiosks:\n    hosts: {{ k: {{}} }}\n"));
    assert_eq!(at(&e), (ErrorKind::UnknownGroup, 8, 16));
    assert!(e.message.contains("group `ws` lists child `kiosk`, which is not a group"));
    assert_eq!(e.help, "did you mean `kiosks`?");
}

#[test]
fn error_unknown_credential() {
    let e = err(&format!("{CREDS}hosts:\n  dc01: {{ credential: adm }}\n"));
    assert_eq!(at(&e), (ErrorKind::UnknownCredential, 6, 23));
    assert_eq!(e.message, "credential `adm` is not defined: expected a name from `credentials:`");
    assert_eq!(e.help, "use one of `ir`, or define `adm` under `credentials:`");
}

#[test]
fn error_missing_credential() {
    let e = err(&format!("{CREDS}hosts:\n  dc01: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::NoCredential, 6, 3));
    assert_eq!(e.message, "host `dc01` has no credential");
}

#[test]
fn error_credential_sources() {
    let e = err("credentials:\n  ir:\n    user: u\n    password_env: A\n    password_file: pw.txt\n");
    assert_eq!(at(&e), (ErrorKind::CredentialSource, 5, 20));
    assert_eq!(
        e.message,
        "credential `ir` has 2 password sources (`password_env` at line 4 and `password_file` at line 5): expected exactly one"
    );
    let e = err("credentials:\n  ir:\n    user: u\n    domain: CORP\n");
    assert_eq!(at(&e), (ErrorKind::CredentialSource, 3, 5));
    assert!(e.message.starts_with("credential `ir` has no password source: expected exactly one of `password_env`"));
}

#[test]
fn error_plaintext_password_refused_and_not_echoed() {
    let e = err("credentials:\n  lab:\n    user: u\n    password: Sup3rS3cret!\n");
    assert_eq!(at(&e), (ErrorKind::PlaintextRefused, 4, 15));
    assert!(e.message.contains("inventories are copied, committed and attached to tickets"), "{}", e.message);
    assert!(e.help.contains("allow_plaintext_passwords: true"));
    assert!(!e.to_string().contains("Sup3rS3cret"), "{e}");
}

#[test]
fn error_conflicting_groups_for_one_host() {
    let e = err(&format!(
        "{CREDS}defaults: {{ credential: ir }}\ngroups:\n  finance:\n    settings: {{ port: 5985 }}\n    hosts: {{ ws-013: {{}} }}\n  kiosks:\n    settings: {{ port: 5986 }}\n    hosts: {{ ws-013: {{}} }}\n"
    ));
    assert_eq!(at(&e), (ErrorKind::Conflict, 11, 23));
    assert_eq!(
        e.message,
        "host `ws-013` is in groups `finance` and `kiosks`, which set `port` to different values: `5985` (line 8) and `5986` (line 11)"
    );
    assert!(e.help.starts_with("set `port` on the host itself"));
}

#[test]
fn error_host_listed_twice_with_different_values() {
    let e = err(&format!(
        "{CREDS}defaults: {{ credential: ir }}\nhosts:\n  dc01: {{ address: 10.0.0.5 }}\ngroups:\n  dcs:\n    hosts:\n      dc01: {{ address: 10.0.0.6 }}\n"
    ));
    assert_eq!(at(&e), (ErrorKind::Conflict, 11, 24));
    assert_eq!(e.message, "host `dc01` is listed more than once with different `address`: `10.0.0.5` (line 7) and `10.0.0.6` (line 11)");
}

#[test]
fn error_bad_duration() {
    let e = err(&format!("{CREDS}defaults:\n  credential: ir\n  command_timeout: 5 minutes\n"));
    assert_eq!(at(&e), (ErrorKind::BadDuration, 7, 20));
    assert!(e.message.starts_with("bad duration `5 minutes` for `command_timeout` (unknown unit `minutes`)"), "{}", e.message);
}

#[test]
fn error_bad_port() {
    let e = err(&format!("{CREDS}hosts:\n  dc01: {{ credential: ir, port: 65536 }}\n"));
    assert_eq!(at(&e), (ErrorKind::BadPort, 6, 33));
    assert_eq!(e.message, "bad port `65536`: expected a whole number from 1 to 65535");
}

#[test]
fn error_unknown_transport_and_auth() {
    let e = err(&format!("{CREDS}defaults:\n  transport: wsman\n"));
    assert_eq!(at(&e), (ErrorKind::BadValue, 6, 14));
    assert_eq!(e.message, "unknown transport `wsman`: expected one of http, https");
    let e = err(&format!("{CREDS}defaults:\n  auth: NTLM\n"));
    assert_eq!(at(&e), (ErrorKind::BadValue, 6, 9));
    assert_eq!(e.help, "did you mean `ntlm`? (values are lowercase)");
}

#[test]
fn error_insecure_basic() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir, auth: basic }}\nhosts: {{ h: {{}} }}\n"));
    assert_eq!(at(&e), (ErrorKind::InsecureBasic, 5, 35));
    assert!(e.message.contains("sends the password in clear text"));
}

#[test]
fn error_limit_matches_nothing() {
    let text = format!("{CREDS}defaults: {{ credential: ir }}\nhosts: {{ dc01: {{}}, ws-1: {{}} }}\n");
    let e = err_limit(&text, Some("ws-*,dc99"));
    assert_eq!(at(&e), (ErrorKind::LimitNoMatch, 0, 0));
    assert_eq!(e.message, "--limit `ws-*,dc99`: `dc99` matches no host or group");
    let e = err_limit(&text, Some("dc01:!dc01"));
    assert_eq!(e.message, "--limit `dc01:!dc01` leaves no host");
    let e = err_limit(&text, Some("~dc.*"));
    assert_eq!(e.kind, ErrorKind::LimitSyntax);
}

#[test]
fn error_names() {
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  \"fe80::1\": {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::BadName, 7, 3));
    assert!(e.message.contains("contains `:`"));
    let e = err(&format!("{CREDS}defaults: {{ credential: ir }}\nhosts:\n  dc01: {{}}\ngroups:\n  dc01:\n    hosts: {{ x: {{}} }}\n"));
    assert_eq!(at(&e), (ErrorKind::BadName, 9, 3));
    assert!(e.message.contains("`dc01` is both a host and a group"));
}

#[test]
fn error_syntax_and_duplicates() {
    let e = err(&format!("{CREDS}hosts:\n  dc01: {{}}\n  dc01: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::DuplicateKey, 7, 3));
    let e = err(&format!("{CREDS}hosts:\n  dc01: {{ address: x\n"));
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(e.line() >= 6, "{e}");
    assert!(e.message.starts_with("invalid YAML: "), "{e}");
}

#[test]
fn load_reads_files_with_a_bom_and_names_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yml");
    let text = format!("\u{feff}{CREDS}defaults: {{ credential: ir }}\nhosts: {{ dc01: {{}} }}\n");
    std::fs::write(&path, text).unwrap();
    let inv = load(&path, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&inv), ["dc01"]);
    assert_eq!(inv.path, path);

    let missing = dir.path().join("nope.yml");
    let e = load(&missing, None).unwrap_err();
    assert_eq!(at(&e), (ErrorKind::Read, 0, 0));
    assert!(e.to_string().starts_with(&format!("{}: cannot read the inventory: ", missing.display())), "{e}");
}


#[test]
fn hundred_thousand_hosts_fit_and_one_more_does_not() {
    let base = format!("{CREDS}defaults: {{ credential: ir }}\ngroups:\n  ws:\n    hosts:\n      ws-[000001:100000]: {{}}\n");
    let inv = ok(&base, Some("ws-0999*"));
    assert_eq!(inv.total_hosts, MAX_HOSTS);
    assert_eq!(inv.hosts.len(), 100);
    let e = err(&format!("{base}hosts:\n  one-more: {{}}\n"));
    assert_eq!(at(&e), (ErrorKind::TooManyHosts, 11, 3));
    assert!(e.message.contains("more than 100000 hosts"), "{}", e.message);
}
