//! `cauterize plan` through the binary on an outbreak of the shape of
//! `examples/lab/outbreak.yml` (its office cut from 489 to 89 workstations
//! so the test stays quick; the domain controllers, file and print servers
//! and the failing hosts as they are): the plan file is reviewable at that
//! scale (the summary first, steps grouped under their finding with a
//! short reason, clean hosts in one line, exempt servers named), and
//! deleting one grouped line spares exactly that step.
//! Loopback range: 127.96.0.0/16 (127.96.0.1 and 127.96.1.1 on).

mod common;

use cauterize::journal::Journal;
use cauterize::lab::scenario;
use cauterize::plan::Step;
use common::harness::LabRun;
use std::path::Path;

/// The outbreak at `base` (in 127.96.0.0/16) with 89 office workstations,
/// lab time at wall speed (so it barely spreads while the test runs).
async fn small_outbreak(base: &str) -> LabRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml");
    let text = std::fs::read_to_string(&path).expect("scenario");
    let text = text
        .replace("base_address: 127.74.0.1", &format!("base_address: {base}"))
        .replace("WS-[001:489]", "WS-[001:089]");
    assert!(text.contains("WS-[001:089]") && text.contains(base));
    let mut s = scenario::parse_scenario(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    s.world.lab.speed = 1.0;
    LabRun::start_world(s.spec, s.world).await
}

/// The step a plan line (`      - {op: ...}  # note`) holds.
fn step_of(line: &str) -> Step {
    let flow = line.trim_start().trim_start_matches("- ");
    let v: serde_json::Value =
        serde_saphyr::from_str(flow).unwrap_or_else(|e| panic!("{e}: {line}"));
    Step::from_value(&v).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbreak_plan_is_grouped_and_a_deleted_line_spares_exactly_its_step() {
    let run = small_outbreak("127.96.0.1").await;
    // The operator's inventory says which hosts are servers of a role.
    let mut inventory = std::fs::read_to_string(&run.inventory).unwrap();
    inventory.push_str(
        "groups:\n  domain_controllers:\n    hosts: {DC-01: {}, DC-02: {}}\n  file_servers:\n    hosts: {FS-01: {}, FS-02: {}}\n  print_servers:\n    hosts: {PRN-01: {}}\n",
    );
    std::fs::write(&run.inventory, inventory).unwrap();
    let engagement = run.dir.path().join("case");
    let eng = engagement.display().to_string();
    let plan_path = run.dir.path().join("plan.yml");
    let plan_arg = plan_path.display().to_string();

    let scan = run.cauterize("scan", &["--engagement", &eng, "--forks", "32"]).await;
    assert_eq!(scan.code, cauterize::exit::PARTIAL, "{}", scan.stderr);
    let out = run.cauterize("plan", &["--engagement", &eng, "-o", &plan_arg]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("FAMILY") && out.stdout.contains("Containment: "), "{}", out.stdout);
    let text = std::fs::read_to_string(&plan_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
    };

    // The summary comes first: overview, families, hosts.
    let summary = at("# ==== Summary ====");
    assert!(summary < at("# FAMILY") && at("# FAMILY") < at("# KILLS ") && at("# KILLS ") < at("cauterize_plan: 2"));
    for family in ["# Emotet", "# TrickBot", "# Qakbot", "# total"] {
        assert!(lines[summary..at("cauterize_plan: 2")].iter().any(|l| l.starts_with(family)), "{family}\n{text}");
    }

    // Domain controllers, file and print servers keep SMB (their addresses
    // are exempt) and get no rules.
    for host in ["DC-01", "DC-02", "FS-01", "FS-02", "PRN-01"] {
        let address = run.lab.spec().hosts.iter().find(|h| h.name == host).unwrap().address;
        assert!(
            text.contains(&format!("- {{address: '{address}', why: '{host}: ")),
            "{host} {address} not exempt:\n{}",
            &text[..text.find("hosts:\n").unwrap_or(0)]
        );
    }

    // Hosts with nothing to purge: one line, not one entry each.
    let only = lines.iter().find(|l| l.starts_with("contain_only: [")).expect("contain_only line");
    assert!(only.contains("'WS-[") && only.contains(','), "{only}");
    let only_hosts = cauterize::report::hostlist::expand(
        &only.trim_start_matches("contain_only: [").trim_end_matches(']').replace('\'', "").replace(", ", ","),
    )
    .unwrap();
    assert!(only_hosts.len() >= 10, "{only}");
    for h in &only_hosts {
        assert!(!text.contains(&format!("\n  '{h}':")), "{h} listed twice");
    }

    // Steps grouped under their finding: per host, each heading once, short,
    // and fewer headings than steps.
    let hosts_at = at("hosts:");
    let mut headings = 0;
    let mut steps = 0;
    let mut in_ops = false;
    let mut seen: Vec<&str> = Vec::new();
    // (line index, heading index) of a group with two steps or more.
    let mut pick: Option<usize> = None;
    let mut group_size = 0;
    for (i, l) in lines.iter().enumerate().skip(hosts_at) {
        if l.starts_with("  '") {
            seen.clear();
            in_ops = false;
            group_size = 0;
        } else if *l == "    ops:" {
            in_ops = true;
        } else if l.starts_with("    ") && !l.starts_with("      ") {
            in_ops = false;
        } else if in_ops && l.starts_with("      # ") {
            assert!(!seen.contains(l), "a heading twice in one host: {l}");
            assert!(l.len() < 320, "a long heading: {l}");
            seen.push(l);
            headings += 1;
            group_size = 0;
        } else if in_ops && l.starts_with("      - {op:") {
            steps += 1;
            group_size += 1;
            let grouped = !l.contains("{op: reboot") && !l.contains("{op: contain}");
            if group_size == 2 && pick.is_none() && grouped {
                pick = Some(i);
            }
        }
    }
    assert!(steps > 100 && headings < steps, "{headings} headings for {steps} steps");
    // No finding's whole reason is repeated: the file stays small per step.
    assert!(text.len() / steps < 700, "{} bytes for {steps} steps", text.len());

    // Delete the second line of a group: exactly that step is spared.
    let line = pick.expect("a group of two steps");
    let spared = step_of(lines[line]);
    let host = lines[..line]
        .iter()
        .rev()
        .find(|l| l.starts_with("  '"))
        .map(|l| l.trim().trim_start_matches('\'').split('\'').next().unwrap().to_string())
        .unwrap();
    let mut edited = lines.clone();
    edited.remove(line);
    std::fs::write(&plan_path, edited.join("\n")).unwrap();
    let mut journal = Journal::open(&engagement).unwrap();
    let v = cauterize::plan::load_and_validate(&plan_path, &mut journal).unwrap();
    assert_eq!(v.removed, [(host.clone(), spared.clone())], "{host}");
    assert!(v.stale.is_empty());
    let kept = v.hosts.iter().find(|h| h.host == host).unwrap();
    assert!(kept.steps.iter().all(|s| s.step != spared));
    // The rest of its group and of its host stay.
    assert!(kept.contained() && kept.wave().is_some(), "{kept:#?}");
    let written: usize = {
        let start = lines.iter().position(|l| l.starts_with(&format!("  '{host}':"))).unwrap();
        lines[start + 1..]
            .iter()
            .take_while(|l| !l.starts_with("  '") && !l.starts_with("    inactive:") && !l.starts_with("    not_planned:") && !l.starts_with('#') && !l.starts_with("contain_only") && !l.starts_with("unscanned"))
            .filter(|l| l.starts_with("      - {op:"))
            .count()
    };
    assert_eq!(kept.steps.len(), written - 1);
    // Every host but the one edited keeps every step.
    assert!(v.removed.iter().all(|(h, _)| *h == host));
}

/// An inventory without groups: the domain controllers, file and print
/// servers are still exempt, each by what it reports (its domain role, the
/// folders and printers it shares), and the plan says why; no workstation
/// is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_inventory_groups_servers_are_exempt_by_what_they_report() {
    let run = small_outbreak("127.96.1.1").await;
    let inventory = std::fs::read_to_string(&run.inventory).unwrap();
    assert!(!inventory.contains("groups:"), "the lab's inventory names no groups");
    let eng = run.dir.path().join("case").display().to_string();
    let plan_path = run.dir.path().join("plan.yml");
    let scan = run.cauterize("scan", &["--engagement", &eng, "--forks", "32"]).await;
    assert_eq!(scan.code, cauterize::exit::PARTIAL, "{}", scan.stderr);
    let out = run.cauterize("plan", &["--engagement", &eng, "-o", &plan_path.display().to_string()]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&plan_path).unwrap();
    let why_of = |host: &str| {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("- {{host: '{host}', why: ")))
            .unwrap_or_else(|| panic!("{host} not exempt:\n{}", &text[..text.find("\nhosts:").unwrap_or(text.len())]));
        line.to_string()
    };
    for dc in ["DC-01", "DC-02"] {
        assert!(why_of(dc).contains("domain controller (DomainRole 4)"), "{}", why_of(dc));
    }
    for fs in ["FS-01", "FS-02"] {
        let why = why_of(fs);
        assert!(why.contains("file server (shares: ") && why.contains("Shared"), "{why}");
    }
    assert!(why_of("PRN-01").contains("print server (shared printer: HP-Floor2)"), "{}", why_of("PRN-01"));
    // The lab's truth: exactly its servers of those roles are exempt.
    let exempt_lines = text
        .lines()
        .skip_while(|l| *l != "  exempt_hosts:")
        .skip(1)
        .take_while(|l| l.starts_with("    - {host: '"))
        .count();
    let servers = run
        .lab
        .spec()
        .hosts
        .iter()
        .filter(|h| run.lab.with_host(&h.name, |s| s.role != cauterize::lab::world::Role::Workstation))
        .count();
    assert_eq!(exempt_lines, servers, "{}", &text[..text.find("\nhosts:").unwrap_or(text.len())]);
    for host in ["DC-01", "DC-02", "FS-01", "FS-02", "PRN-01"] {
        let address = run.lab.spec().hosts.iter().find(|h| h.name == host).unwrap().address;
        assert!(text.contains(&format!("- {{address: '{address}', why: '{host}: ")), "{host}'s address keeps SMB");
    }
    assert!(out.stdout.contains(", 5 exempt ("), "{}", out.stdout);
}
