//! Playbook tests: the shipped default, every section's settings, and
//! errors that name the file, line, field and what is allowed.

use super::*;
use crate::detect::Confidence;
use crate::firewall::rules::Direction;
use std::time::Duration;

fn err(text: &str) -> LocatedError {
    parse(text, Path::new("pb.yml")).expect_err("expected an error")
}

fn ok(text: &str) -> Playbook {
    parse(text, Path::new("pb.yml")).unwrap_or_else(|e| panic!("{e}"))
}

/// The error's line, and that its message starts with the field and its
/// help says what is allowed.
fn located(text: &str, line: u64, field: &str, says: &str) -> LocatedError {
    let e = err(text);
    assert_eq!(e.line(), Some(line), "{e}");
    assert!(e.to_string().starts_with(&format!("pb.yml:{line}:")), "{e}");
    assert!(e.message.starts_with(&format!("{field}: ")), "{e}");
    assert!(e.message.contains(says), "{e}");
    assert!(e.help.starts_with("allowed: "), "{e}");
    e
}

#[test]
fn shipped_default_is_valid_and_matches_the_built_in_defaults() {
    let p = Playbook::builtin();
    // Every section of the shipped file says what the code's defaults say.
    assert_eq!(p.purge, PurgeSettings::default());
    assert_eq!(p.contain, ContainSettings::default());
    assert_eq!(p.reboot, RebootSettings::default());
    assert_eq!(p.verify, VerifySettings::default());
    assert_eq!(p.release, ReleasePolicy::AllClean);
    assert_eq!(p.watch, WatchSettings::default());
    assert_eq!(p.roles, RoleGroups::default());
    // And a playbook that says only its format gets the same.
    let minimal = ok("playbook: 1\n");
    assert_eq!(
        (&minimal.purge, &minimal.contain, &minimal.reboot, &minimal.verify, &minimal.watch),
        (&p.purge, &p.contain, &p.reboot, &p.verify, &p.watch)
    );
    assert_eq!((p.watch.poll_every, p.watch.poll_max), (Duration::from_secs(30), Duration::from_secs(900)));
    assert_eq!(p.purge.activate, Confidence::High);
    assert_eq!(p.purge.families.len(), FAMILY_NAMES.len());
    assert_eq!(p.contain.block.tcp, [445, 139]);
    assert_eq!(p.contain.block.udp, [137, 138]);
    assert_eq!(p.contain.directions, [Direction::In, Direction::Out]);
    assert_eq!(p.contain.dead_man, Duration::from_secs(4 * 3600));
    assert_eq!(
        p.contain.exempt_roles,
        [Role::DomainController, Role::FileServer, Role::PrintServer]
    );
    assert!(p.contain.purge_if_uncontained);
    assert_eq!(
        p.reboot.waves,
        [Share::Count(1), Share::Count(5), Share::Percent(10), Share::Percent(100)]
    );
    assert_eq!(p.reboot.order, [Role::Workstation, Role::Server, Role::DomainController]);
    assert_eq!(p.verify.repurge_rounds, 2);
    assert!(p.exclude_hosts.is_empty() && p.exclude_paths.is_empty());
    assert_eq!(p.sha256.len(), 64);
}

#[test]
fn every_section_is_read() {
    let p = ok(r#"playbook: 1
roles:
  domain_controller: [dcs, DC-Tier0]
contain:
  block: {tcp: [445], udp: []}
  directions: [in]
  exempt:
    addresses: [10.0.0.5, 10.1.0.0/16, "fd00::/64", 10.2.0.1-10.2.0.9]
    groups: [critical]
    roles: [domain_controller]
  never: {hosts: ['hmi-*'], groups: [ot]}
  dead_man: 2h
  extend_every: 15m
  purge_if_uncontained: false
purge:
  activate: medium
  families: [emotet, qakbot]
  kill_processes: false
  deny_shutdown_writes: false
  revert_defender_exclusions: false
  remove_emptied_folders: false
reboot:
  waves: [2, "25%", "100%"]
  confirm_after_canary: true
  order: [server, workstation, domain_controller]
  pause: 0
  max_down: "20%"
  failure_budget: 0
  message: Reboot now, please.
  countdown: 90s
  logged_on: wait
  logoff_wait: 1h
  windows: [{group: servers, at: "22:00-05:30 UTC"}, {group: kiosks, at: "12:00-13:00"}]
  return_timeout: 30m
  never: {hosts: [sql01], groups: [lab]}
verify: {settle: 0s, repurge_rounds: 0}
release: per_group
watch: {poll_every: 10s, poll_max: 2h}
exclude:
  hosts: ['dc*']
  paths: ['C:\Tools\**']
"#);
    assert_eq!(p.roles.domain_controller, ["dcs", "DC-Tier0"]);
    assert_eq!(p.roles.file_server, ["file_servers"]);
    assert_eq!(p.contain.block.tcp, [445]);
    assert!(p.contain.block.udp.is_empty());
    assert_eq!(p.contain.directions, [Direction::In]);
    let set = p.contain.exempt_set();
    assert!(set.contains("10.1.2.3".parse().unwrap()));
    assert!(set.contains("10.2.0.9".parse().unwrap()));
    assert!(set.contains("fd00::77".parse().unwrap()));
    assert!(!set.contains("10.0.0.6".parse().unwrap()));
    assert_eq!(p.contain.exempt_groups, ["critical"]);
    assert_eq!(p.contain.exempt_roles, [Role::DomainController]);
    assert_eq!((p.contain.never_hosts.as_slice(), p.contain.never_groups.as_slice()), (&["hmi-*".to_string()][..], &["ot".to_string()][..]));
    assert_eq!(p.contain.dead_man, Duration::from_secs(7200));
    assert_eq!(p.contain.extend_every, Duration::from_secs(900));
    assert!(!p.contain.purge_if_uncontained);
    assert_eq!(p.purge.activate, Confidence::Medium);
    assert_eq!(p.purge.families.len(), 2);
    assert!(!p.purge.kill_processes && p.purge.queue_locked_files);
    assert!(!p.purge.deny_shutdown_writes && !p.purge.revert_defender_exclusions && !p.purge.remove_emptied_folders);
    assert_eq!(p.reboot.waves, [Share::Count(2), Share::Percent(25), Share::Percent(100)]);
    assert!(p.reboot.confirm_after_canary);
    assert_eq!(p.reboot.order[0], Role::Server);
    assert_eq!(p.reboot.pause, Duration::ZERO);
    assert_eq!(p.reboot.max_down, Share::Percent(20));
    assert_eq!(p.reboot.failure_budget, Share::Count(0));
    assert_eq!(p.reboot.message, "Reboot now, please.");
    assert_eq!(p.reboot.countdown, Duration::from_secs(90));
    assert_eq!(p.reboot.logged_on, LoggedOn::Wait);
    assert_eq!(p.reboot.logoff_wait, Duration::from_secs(3600));
    let w = &p.reboot.windows[0];
    assert_eq!((w.group.as_str(), w.from_minute, w.to_minute, w.utc), ("servers", 22 * 60, 5 * 60 + 30, true));
    assert!(!p.reboot.windows[1].utc);
    assert_eq!(p.reboot.window_for(&["Kiosks".into()]).map(|w| w.at.as_str()), Some("12:00-13:00"));
    assert_eq!(p.reboot.never_hosts, ["sql01"]);
    assert_eq!(p.verify.repurge_rounds, 0);
    assert_eq!(p.release, ReleasePolicy::PerGroup);
    assert_eq!((p.watch.poll_every, p.watch.poll_max), (Duration::from_secs(10), Duration::from_secs(7200)));
    assert_eq!(p.host_excluded("DC01"), Some("dc*"));
    assert_eq!(p.host_excluded("ws-001"), None);
    assert!(p.path_excluded(r"c:\tools\x\y.dll").is_some());
}

#[test]
fn purge_errors_name_the_field_and_what_is_allowed() {
    let e = located("playbook: 1\npurge:\n  activate: low\n", 3, "purge.activate", "only ever listed");
    assert_eq!(e.at, Some((3, 13)), "{e}");
    assert!(e.help.contains("medium"), "{e}");
    let e = located("playbook: 1\npurge:\n  families: [emotet, zeus]\n", 3, "purge.families", "unknown value `zeus`");
    assert!(e.help.contains("qakbot") && e.help.contains("all"), "{e}");
    located("playbook: 1\npurge:\n  families: []\n", 3, "purge.families", "empty");
}

#[test]
fn contain_errors_name_the_field_and_what_is_allowed() {
    let e = located("playbook: 1\ncontain:\n  block: {tcp: [445, 5985]}\n", 3, "contain.block.tcp", "5985 is WinRM");
    assert!(e.help.contains("never 5985 or 5986"), "{e}");
    let e = located(
        "playbook: 1\ncontain:\n  exempt:\n    addresses:\n      - 10.0.0.1\n      - 10.0.0.9-10.0.0.2\n",
        6,
        "contain.exempt.addresses",
        "ends before it starts",
    );
    assert!(e.help.contains("lower address first"), "{e}");
    let e = located("playbook: 1\ncontain:\n  dead_man: 4 hours\n", 3, "contain.dead_man", "not a duration");
    assert!(e.help.contains("15m to 168h"), "{e}");
    for (text, line, field, says) in [
        ("playbook: 1\ncontain:\n  block:\n    tcp: [445, 70000]\n", 4, "contain.block.tcp", "70000 is not a port"),
        ("playbook: 1\ncontain:\n  block:\n    udp: [137, 137]\n", 4, "contain.block.udp", "listed twice"),
        ("playbook: 1\ncontain:\n  block: {tcp: [], udp: []}\n", 3, "contain.block", "no port"),
        ("playbook: 1\ncontain:\n  directions: [in, sideways]\n", 3, "contain.directions", "unknown value `sideways`"),
        ("playbook: 1\ncontain:\n  directions: []\n", 3, "contain.directions", "no direction"),
        ("playbook: 1\ncontain:\n  exempt: {addresses: [any]}\n", 3, "contain.exempt.addresses", "keyword"),
        ("playbook: 1\ncontain:\n  exempt: {roles: [dns_server]}\n", 3, "contain.exempt.roles", "unknown value"),
        ("playbook: 1\ncontain:\n  exempt: {groups: [dcs, DCS]}\n", 3, "contain.exempt.groups", "listed twice"),
        ("playbook: 1\ncontain:\n  dead_man: 5m\n", 3, "contain.dead_man", "out of range"),
        ("playbook: 1\ncontain:\n  dead_man: 1h\n  extend_every: 45m\n", 4, "contain.extend_every", "too little margin"),
        ("playbook: 1\ncontain:\n  never: {hosts: ['*']}\n", 3, "contain.never.hosts", "matches everything"),
    ] {
        located(text, line, field, says);
    }
    // A boolean is written true or false.
    let e = err("playbook: 1\ncontain:\n  purge_if_uncontained: yes\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.help.contains("true"), "{e}");
}

#[test]
fn reboot_errors_name_the_field_and_what_is_allowed() {
    let long = format!("playbook: 1\nreboot:\n  message: '{}'\n", "x".repeat(513));
    located(&long, 3, "reboot.message", "too long");
    for (text, line, field, says) in [
        ("playbook: 1\nreboot:\n  waves: [1, \"150%\"]\n", 3, "reboot.waves", "more than 100%"),
        ("playbook: 1\nreboot:\n  waves: [1, 0]\n", 3, "reboot.waves", "zero hosts"),
        ("playbook: 1\nreboot:\n  waves: [1, ten]\n", 3, "reboot.waves", "neither a number nor a percentage"),
        ("playbook: 1\nreboot:\n  waves: []\n", 3, "reboot.waves", "no wave"),
        ("playbook: 1\nreboot:\n  order: [server, workstation]\n", 3, "reboot.order", "missing"),
        ("playbook: 1\nreboot:\n  order: [server, server, domain_controller]\n", 3, "reboot.order", "twice"),
        ("playbook: 1\nreboot:\n  order: [server, file_server, domain_controller, workstation]\n", 3, "reboot.order", "unknown value `file_server`"),
        ("playbook: 1\nreboot:\n  max_down: 0\n", 3, "reboot.max_down", "zero hosts"),
        ("playbook: 1\nreboot:\n  failure_budget: lots\n", 3, "reboot.failure_budget", "neither"),
        ("playbook: 1\nreboot:\n  message: \"a\\nb\"\n", 3, "reboot.message", "line break"),
        ("playbook: 1\nreboot:\n  countdown: 2d\n", 3, "reboot.countdown", "unknown unit"),
        ("playbook: 1\nreboot:\n  logged_on: shout\n", 3, "reboot.logged_on", "unknown value"),
        ("playbook: 1\nreboot:\n  logoff_wait: 10m\n", 3, "reboot.logoff_wait", "only with `logged_on: wait`"),
        ("playbook: 1\nreboot:\n  windows:\n    - {group: servers, at: '25:00-05:00'}\n", 4, "reboot.windows.at", "not a time of day"),
        ("playbook: 1\nreboot:\n  windows:\n    - {group: servers, at: '22:00'}\n", 4, "reboot.windows.at", "not a window"),
        ("playbook: 1\nreboot:\n  windows:\n    - {group: servers, at: '22:00-22:00'}\n", 4, "reboot.windows.at", "empty"),
        ("playbook: 1\nreboot:\n  return_timeout: 10s\n", 3, "reboot.return_timeout", "out of range"),
        (
            "playbook: 1\nreboot:\n  windows:\n    - {group: servers, at: '22:00-05:00'}\n    - {group: Servers, at: '01:00-02:00'}\n",
            5,
            "reboot.windows.group",
            "two windows",
        ),
    ] {
        located(text, line, field, says);
    }
}

#[test]
fn verify_release_roles_and_exclude_errors() {
    located("playbook: 1\nverify:\n  repurge_rounds: 11\n", 3, "verify.repurge_rounds", "11 rounds");
    located("playbook: 1\nverify:\n  settle: 2h\n", 3, "verify.settle", "out of range");
    let e = located("playbook: 1\nrelease: when_done\n", 2, "release", "unknown value `when_done`");
    assert!(e.help.contains("all_clean, per_group or manual"), "{e}");
    located("playbook: 1\nroles:\n  server: ['my servers']\n", 3, "roles.server", "not a group or host name");
    located("playbook: 1\nexclude:\n  paths: ['**']\n", 3, "exclude.paths", "matches everything");
    located("playbook: 1\nexclude:\n  hosts: ['']\n", 3, "exclude.hosts", "empty");
}

#[test]
fn watch_errors_name_the_field_and_what_is_allowed() {
    let e = located("playbook: 1\nwatch:\n  poll_every: 0s\n", 3, "watch.poll_every", "out of range");
    assert!(e.help.contains("from 1s to 24h"), "{e}");
    located("playbook: 1\nwatch:\n  poll_max: 2d\n", 3, "watch.poll_max", "not a duration");
    located("playbook: 1\nwatch:\n  poll_max: 25h\n", 3, "watch.poll_max", "out of range");
    // Out of order: the key written is named, with both values.
    let e = located("playbook: 1\nwatch:\n  poll_every: 5m\n  poll_max: 1m\n", 4, "watch.poll_max", "poll_max (1m) is shorter than poll_every (5m)");
    assert!(e.help.contains("at least poll_every"), "{e}");
    located("playbook: 1\nwatch:\n  poll_every: 1h\n", 3, "watch.poll_every", "shorter than poll_every (1h)");
    let e = err("playbook: 1\nwatch:\n  poll_min: 5s\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.message.contains("unknown key `poll_min`"), "{e}");
    // A plan made before `watch:` was a section reads with the defaults.
    let mut v = serde_json::to_value(&Playbook::builtin().sections).unwrap();
    v.as_object_mut().unwrap().remove("watch");
    let old: Sections = serde_json::from_value(v).unwrap();
    assert_eq!(old.watch, WatchSettings::default());
}

#[test]
fn structural_errors_name_the_line() {
    let e = err("playbook: 1\npurge:\n  kill_process: true\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.message.contains("unknown key `kill_process`"), "{e}");
    let e = err("playbook: 1\nreboot:\n  wave: [1]\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.message.contains("unknown key `wave`") && e.message.contains("waves"), "{e}");
    let e = err("playbook: 2\n");
    assert!(e.message.contains("format 2"), "{e}");
    let e = err("purge:\n  activate: high\n");
    assert!(e.message.contains("missing key `playbook`"), "{e}");
    let e = err("# nothing\n");
    assert!(e.message.contains("empty"), "{e}");
}

#[test]
fn anchors_are_refused() {
    let e = err("playbook: 1\npurge: &p\n  activate: high\nexclude: *p\n");
    assert!(
        e.message.contains("anchors") || e.message.contains("alias"),
        "{e}"
    );
}

#[test]
fn shares_round_and_print() {
    assert_eq!(Share::Percent(10).of_up(412), 42);
    assert_eq!(Share::Percent(10).of_up(3), 1);
    assert_eq!(Share::Percent(5).of_down(30), 1);
    assert_eq!(Share::Percent(5).of_down(19), 0);
    assert_eq!(Share::Count(7).of_up(3), 7);
    assert_eq!(Share::Percent(100).of_up(9), 9);
    assert_eq!(Share::parse(" 25 % ").unwrap(), Share::Percent(25));
    assert_eq!(Share::Percent(25).to_string(), "25%");
    assert_eq!(serde_json::to_string(&Share::Count(3)).unwrap(), "\"3\"");
}
