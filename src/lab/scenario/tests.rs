//! Scenario loading: the example file, defaults and layering, and errors
//! that name line, column and key.

use super::*;
use std::path::Path;

fn example() -> LabSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/small.yml");
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> (u64, u64, String, String) {
    match parse(text, Path::new("bad.yml")) {
        Err(ScenarioError::Invalid { line, column, field, message, .. }) => (line, column, field, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn the_example_scenario_loads_with_its_faults() {
    let spec = example();
    assert_eq!(spec.hosts.len(), 10);
    let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names[0], "WS-001");
    assert_eq!(names[9], "WS-010");
    let host = |n: &str| spec.hosts.iter().find(|h| h.name == n).unwrap_or_else(|| panic!("{n}"));
    assert_eq!(host("WS-001").address, Ipv4Addr::new(127, 40, 0, 1));
    assert_eq!(host("WS-010").address, Ipv4Addr::new(127, 40, 0, 10));
    assert_eq!(host("WS-006").fault, HostFault::Down);
    assert_eq!(host("WS-007").fault, HostFault::WinrmDisabled);
    assert_eq!(host("WS-008").fault, HostFault::HangReceive);
    assert_eq!(host("WS-009").accounts[0].password, "Another-Passw0rd!");
    assert_eq!(host("WS-009").latency, Duration::from_millis(50));
    assert_eq!(host("WS-009").clock_skew_secs, 300);
    assert_eq!(host("WS-010").os.ps_version, "2.0");
    assert_eq!(host("WS-010").max_shells_per_user, 5);
    let ws1 = host("WS-001");
    assert_eq!((ws1.fault, ws1.max_shells_per_user, ws1.port, ws1.domain.as_str()), (HostFault::None, 30, 5985, "LAB"));
    assert_eq!(ws1.accounts, vec![Account { domain: "LAB".into(), user: "cauterize".into(), password: LAB_PASSWORD.into(), admin: true }]);
    assert!(!ws1.allow_unencrypted && !ws1.allow_basic);
}

#[test]
fn minimal_scenario_takes_built_in_defaults() {
    let spec = parse("groups:\n  - name: DC-01\n    os: {caption: Custom Windows, build: 9600, ps_version: 4.0}\n    accounts: [{user: admin, password: pw, admin: true, domain: \"\"}]\n", Path::new("x.yml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let h = &spec.hosts[0];
    assert_eq!(h.address, DEFAULT_BASE);
    assert_eq!(h.os, OsInfo { caption: "Custom Windows".into(), build: "9600".into(), ps_version: "4.0".into() });
    assert_eq!(h.accounts[0].domain, "", "a local account");
    assert_eq!(h.max_shells_per_user, 30);
}

#[test]
fn addresses_skip_network_and_broadcast_octets() {
    let spec = parse("base_address: 127.40.0.253\ngroups:\n  - name_pattern: H[1:4]\n", Path::new("x.yml")).unwrap_or_else(|e| panic!("{e}"));
    let addrs: Vec<String> = spec.hosts.iter().map(|h| h.address.to_string()).collect();
    assert_eq!(addrs, ["127.40.0.253", "127.40.0.254", "127.40.1.1", "127.40.1.2"]);
    assert_eq!(spec.hosts[0].name, "H1");
}

#[test]
fn unknown_key_is_named_with_line_and_column() {
    let (line, column, field, message) = err("groups:\n  - name: WS-001\n    fualt: down\n");
    assert_eq!((line, field.as_str()), (3, "fualt"), "{message}");
    assert_eq!(column, 5);
    assert!(message.contains("fault"), "{message}");
    let shown = parse("groups:\n  - name: WS-001\n    fualt: down\n", Path::new("lab/bad.yml")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(shown.starts_with("lab/bad.yml:3:5: `fualt`: unknown key"), "{shown}");
}

#[test]
fn bad_values_are_located() {
    let (line, _, field, message) = err("groups:\n  - name: WS-001\n    fault: asleep\n");
    assert_eq!((line, field.as_str()), (3, "fault"), "{message}");
    assert!(message.contains("winrm_disabled"), "{message}");

    let (line, column, field, message) = err("groups:\n  - name: WS-001\n    os: win95\n");
    assert_eq!((line, column, field.as_str()), (3, 9, "os"), "{message}");
    assert!(message.contains("win2022"), "{message}");

    let (line, _, field, message) = err("defaults:\n  latency: 5 parsecs\ngroups:\n  - name: WS-001\n");
    assert_eq!((line, field.as_str()), (2, "latency"), "{message}");

    let (line, _, field, _) = err("base_address: 300.1.1.1\ngroups:\n  - name: WS-001\n");
    assert_eq!((line, field.as_str()), (1, "base_address"));

    let (line, _, field, message) = err("port: many\ngroups:\n  - name: WS-001\n");
    assert_eq!((line, field.as_str()), (1, "port"), "{message}");
    assert!(!message.contains("at line"), "the location is given once: {message}");

    let (line, _, field, message) = err("groups:\n  - name: WS-001\n    allow_basic: yes\n");
    assert_eq!((line, field.as_str()), (3, "allow_basic"), "{message}");
}

#[test]
fn group_names_are_checked() {
    let (line, _, field, message) = err("groups:\n  - name: WS-001\n  - name: ws-001\n");
    assert_eq!((line, field.as_str()), (3, "name"), "{message}");
    assert!(message.contains("twice"));

    let (line, _, field, _) = err("groups:\n  - name_pattern: WS-[9:1]\n");
    assert_eq!((line, field.as_str()), (2, "name_pattern"));
    let (_, _, field, _) = err("groups:\n  - name_pattern: WS-[0:99999999]\n");
    assert_eq!(field, "name_pattern");
    let (_, _, field, _) = err("groups:\n  - name_pattern: WS-001\n");
    assert_eq!(field, "name_pattern");
    let (_, _, field, _) = err("groups:\n  - name: A-NAME-FAR-TOO-LONG\n");
    assert_eq!(field, "name");
    let (_, _, field, _) = err("groups:\n  - name: a\n    name_pattern: b[1:2]\n");
    assert_eq!(field, "name");
    let (_, _, field, _) = err("groups:\n  - os: win7\n");
    assert_eq!(field, "groups");
    let (_, _, field, _) = err("groups: []\n");
    assert_eq!(field, "groups");
    let (_, _, field, _) = err("domain: LAB\n");
    assert_eq!(field, "groups");
}

#[test]
fn accounts_are_checked() {
    let (line, _, field, _) = err("groups:\n  - name: WS-001\n    accounts: []\n");
    assert_eq!((line, field.as_str()), (3, "accounts"));
    let (_, _, field, message) = err("groups:\n  - name: WS-001\n    accounts: [{user: a, password: b, root: true}]\n");
    assert_eq!(field, "root", "{message}");
    let (_, _, field, _) = err("groups:\n  - name: WS-001\n    accounts: [{user: 'LAB\\a', password: b}]\n");
    assert_eq!(field, "accounts");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for text in ["", "[", "groups: {", "\u{0}", "groups:\n  - name: [1,2]\n", "- 1\n- 2\n", "groups:\n  - name: *x\n"] {
        assert!(parse(text, Path::new("g.yml")).is_err(), "{text:?}");
    }
    assert!(matches!(load(Path::new("/nonexistent/lab.yml")), Err(ScenarioError::Read { .. })));
}

#[test]
fn simple_lab_has_the_documented_shape() {
    let spec = simple(14, Ipv4Addr::new(127, 40, 0, 254), 5985);
    assert_eq!(spec.hosts.len(), 14);
    assert_eq!(spec.hosts[0].name, "WS-001");
    assert_eq!(spec.hosts[0].address, Ipv4Addr::new(127, 40, 0, 254));
    assert_eq!(spec.hosts[1].address, Ipv4Addr::new(127, 40, 1, 1));
    assert!(spec.hosts.iter().all(|h| h.address.octets()[3] != 0 && h.address.octets()[3] != 255));
    assert_eq!(spec.hosts[6].os.ps_version, "2.0");
    assert_eq!(spec.hosts[6].max_shells_per_user, 5);
    assert_eq!(spec.hosts[4].os.caption, "Microsoft Windows Server 2019 Standard");
    assert_eq!(spec.hosts[0].os.caption, "Microsoft Windows 10 Enterprise");
    assert_eq!(spec.hosts[0].max_shells_per_user, 30);
    assert!(spec.hosts.iter().all(|h| h.fault == HostFault::None && h.domain == "LAB"));
    assert_eq!(spec.hosts[0].accounts[0], Account { domain: "LAB".into(), user: "cauterize".into(), password: LAB_PASSWORD.into(), admin: true });
    assert_eq!(simple(1000, DEFAULT_BASE, 5985).hosts[999].name, "WS-1000");
    assert_eq!(simple(3, Ipv4Addr::new(255, 255, 255, 253), 5985).hosts.len(), 2, "stops at the end of the address space");
    assert_eq!(simple(1, Ipv4Addr::new(10, 0, 0, 0), 5985).hosts[0].address, Ipv4Addr::new(10, 0, 0, 1));
}


#[test]
fn https_is_off_by_default_and_layers_like_the_other_switches() {
    let text = "defaults: {https: true}\ngroups:\n  - name: A\n  - name: B\n    https: false\n";
    let spec = parse(text, Path::new("h.yml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.hosts.iter().map(|h| h.https).collect::<Vec<_>>(), vec![true, false]);
    assert!(example().hosts.iter().all(|h| !h.https));
    assert!(simple(2, DEFAULT_BASE, 5985).hosts.iter().all(|h| !h.https));
    assert!(parse("groups:\n  - name: A\n    https: maybe\n", Path::new("h.yml")).is_err());
}

fn scenario_of(text: &str) -> Scenario {
    parse_scenario(text, Path::new("w.yml")).unwrap_or_else(|e| panic!("{e}"))
}

fn world_err(text: &str) -> (u64, String, String) {
    match parse_scenario(text, Path::new("bad.yml")) {
        Err(ScenarioError::Invalid { line, field, message, .. }) => (line, field, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn the_outbreak_example_has_the_documented_shape() {
    use crate::lab::world::Role;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml");
    let s = load_scenario(&path).unwrap_or_else(|e| panic!("{e}"));
    let (spec, world) = (&s.spec, &s.world);
    assert_eq!(spec.hosts.len(), 500);
    assert_eq!((world.lab.speed, world.lab.seed), (60.0, 7));
    let idx = |n: &str| spec.hosts.iter().position(|h| h.name == n).unwrap_or_else(|| panic!("{n}"));
    let count = |f: &dyn Fn(usize) -> bool| (0..500).filter(|&i| f(i)).count();
    assert_eq!(count(&|i| world.hosts[i].role == Role::DomainController), 2);
    assert_eq!(count(&|i| world.hosts[i].role == Role::FileServer), 2);
    assert_eq!(count(&|i| world.hosts[i].role == Role::PrintServer), 1);
    let legacy = count(&|i| spec.hosts[i].os.ps_version == "2.0");
    assert!((70..=80).contains(&legacy), "about 15% on PowerShell 2.0: {legacy}");
    assert!(count(&|i| spec.hosts[i].os.ps_version == "2.0" && spec.hosts[i].max_shells_per_user != 5) == 0);
    let infected = count(&|i| !world.hosts[i].infections.is_empty());
    assert_eq!(infected, 100, "20% of the 489 office workstations and two laptops");
    let families: std::collections::BTreeSet<_> = world.hosts.iter().flat_map(|w| w.infections.iter().map(|p| p.family)).collect();
    assert_eq!(families.len(), 5);
    assert!(count(&|i| !world.hosts[i].benign.is_empty()) >= 390, "look-alikes on most hosts");
    assert!(count(&|i| !world.hosts[i].ms17_010_patched) >= 20);
    let shared = count(&|i| world.hosts[i].local_admin_password == "Winter2019!");
    assert_eq!(shared, 495, "every workstation shares the golden image's password");
    assert_eq!(world.hosts[idx("DC-01")].local_admin_password, "Local-DC-01-Adm1n!");
    assert_eq!(spec.hosts[idx("WS-490")].fault, HostFault::WinrmDisabled);
    assert_eq!(spec.hosts[idx("WS-491")].accounts[0].password, "Another-Passw0rd!");
    assert!(world.hosts[idx("WS-492")].reboot_hangs);
    assert_eq!(count(&|i| world.hosts[i].online_after_secs == Some(7200)), 3);
    // The same file builds the same network.
    assert_eq!(load_scenario(&path).map(|s| s.world).ok(), Some(s.world.clone()));
}

#[test]
fn the_small_example_still_loads_with_derived_worlds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/small.yml");
    let s = load_scenario(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.world.hosts.len(), 10);
    assert!(s.world.hosts.iter().all(|w| w.infections.is_empty() && w.ms17_010_patched));
    assert_eq!(s.world.lab, crate::lab::spec::LabSettings::default());
}

#[test]
fn profile_switches_shares_and_power_keys_resolve() {
    let s = scenario_of(
        "lab: {speed: 3600, seed: 9, step: 100ms}\ngroups:\n  - name_pattern: W[1:10]\n    infected: {count: 4, families: [qakbot], profile: {spread: false, spread_interval: 5m}}\n    ms17_010_unpatched: {count: 2}\n    task_history: {count: 3}\n    offline_until: 30m\n    reboot_down: 2m\n    winrm_delay: 10s\n    reboot_fails: true\n    smb_open: false\n    benign: {percent: 50, products: [teams, zoom], per_host: 1}\n",
    );
    assert_eq!((s.world.lab.speed, s.world.lab.seed, s.world.lab.step_every), (3600.0, 9, Duration::from_millis(100)));
    let w = &s.world.hosts;
    assert_eq!(w.iter().filter(|h| !h.infections.is_empty()).count(), 4);
    assert!(w.iter().flat_map(|h| &h.infections).all(|p| !p.spread && p.spread_interval_secs == 300));
    assert_eq!(w.iter().filter(|h| !h.ms17_010_patched).count(), 2);
    assert_eq!(w.iter().filter(|h| h.task_history).count(), 3);
    assert_eq!(w.iter().filter(|h| h.benign.len() == 1).count(), 5);
    assert!(w.iter().all(|h| h.online_after_secs == Some(1800) && h.reboot_down_secs == 120 && h.winrm_delay_secs == 10 && !h.smb_open && h.reboot_fails && !h.reboot_hangs));
}

#[test]
fn dridex_and_icedid_and_the_behaviour_switches_are_accepted() {
    use crate::lab::malware::Family;
    let s = scenario_of(
        "groups:\n  - name_pattern: W[1:4]\n    infected: {count: 4, families: [dridex, icedid, emotet, trickbot], profile: {padding: true, first_stage_residue: false, svchost_hollowing: true, uac_bypass_key: false, nworm: false, all_users_when_elevated: false, corrupt_on_disk: false}}\n",
    );
    let profiles: Vec<_> = s.world.hosts.iter().flat_map(|h| h.infections.clone()).collect();
    let mut families: Vec<Family> = profiles.iter().map(|p| p.family).collect();
    families.sort();
    assert_eq!(families, [Family::Emotet, Family::TrickBot, Family::Dridex, Family::IcedId]);
    assert!(profiles.iter().all(|p| p.padding
        && !p.first_stage_residue
        && p.svchost_hollowing
        && !p.uac_bypass_key
        && !p.nworm
        && !p.all_users_when_elevated
        && !p.corrupt_on_disk));
    let dridex = profiles.iter().find(|p| p.family == Family::Dridex).unwrap();
    assert_eq!(dridex.task_interval_secs, Some(1800), "Dridex's documented 30 minutes");
    let (line, field, msg) = world_err("groups:\n  - name: A\n    infected: {count: 1, families: [dridex], profile: {paddding: true}}\n");
    assert_eq!((line, field.as_str()), (3, "paddding"));
    assert!(msg.contains("padding"), "{msg}");
    let (line, _, msg) = world_err("groups:\n  - name: A\n    infected: {count: 1, families: [zeus]}\n");
    assert_eq!(line, 3);
    assert!(msg.contains("icedid"), "{msg}");
}

#[test]
fn world_key_errors_name_line_and_field() {
    let (line, field, msg) = world_err("groups:\n  - name: A\n    benign: {percent: 10, products: [onedrive, notepad]}\n");
    assert_eq!((line, field.as_str()), (3, "products"));
    assert!(msg.contains("unknown product `notepad`"), "{msg}");
    let (line, field, msg) = world_err("groups:\n  - name: A\n    infected: {count: 1, families: [emotet], profile: {wachdog: true}}\n");
    assert_eq!((line, field.as_str()), (3, "wachdog"));
    assert!(msg.contains("watchdog"), "{msg}");
    let (line, field, _) = world_err("groups:\n  - name: A\n    os_mix: {win7: 60, win10: 60}\n");
    assert_eq!((line, field.as_str()), (3, "os_mix"));
    let (line, field, msg) = world_err("groups:\n  - name: A\n    ms17_010_unpatched: {percent: 150}\n");
    assert_eq!((line, field.as_str()), (3, "ms17_010_unpatched"));
    assert!(msg.contains("percentage"), "{msg}");
    let (line, field, _) = world_err("groups:\n  - name: A\n    task_history: {percent: 101}\n");
    assert_eq!((line, field.as_str()), (3, "task_history"));
    let (line, field, _) = world_err("lab: {speed: fast}\ngroups:\n  - name: A\n");
    assert_eq!((line, field.as_str()), (1, "speed"));
    let (line, field, _) = world_err("groups:\n  - name: A\n    infected: {count: 2, families: [emotet]}\n");
    assert_eq!((line, field.as_str()), (3, "infected"));
    let (_, field, msg) = world_err("groups:\n  - name: A\n    role: mainframe\n");
    assert!(field == "role" && msg.contains("domain_controller"), "{field}: {msg}");
}
