//! `cauterize demo` through the binary: the whole operation against its
//! embedded lab (250 hosts, 24 infected, four unreachable: three off, one
//! whose password differs) ends with the lab's ground truth saying every
//! infected host it reached is clean, no benign file removed, containment
//! lifted, exit 0, and the HTML report, the engagement and the ground truth
//! per host (`ground-truth.json`) kept in the folder given. The printed
//! table holds only the hosts a person looks at (infected at the start,
//! set aside, or wrong); the JSON holds every host.
//! Loopback range: 127.138.0.0/16 (250 hosts from 127.138.0.1).

use crate::common;

use serde_json::Value;

/// The hosts the demo cannot reach: powered off, and another password.
const UNREACHED: [&str; 4] = ["WS-005", "WS-011", "WS-120", "WS-233"];

/// The printed table's host names (the lines after its header).
fn table_hosts(stdout: &str) -> Vec<String> {
    let after = stdout
        .split("== The lab's ground truth")
        .nth(1)
        .unwrap_or_else(|| panic!("no ground truth:\n{stdout}"));
    after
        .lines()
        .skip_while(|l| !l.starts_with("HOST "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l[..8].trim().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_cleans_its_outbreak_and_the_ground_truth_says_so() {
    common::harness::raise_fd_limit();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = dir.path().join("demo");
    let kept_s = kept.display().to_string();
    let out = common::harness::run(&["demo", "--base-address", "127.138.0.1", "--dir", &kept_s]).await;
    println!("{}\n{}\n(took {:?})", out.stdout, out.stderr, out.elapsed);
    assert_eq!(out.code, 0, "the demo's outcome is wrong:\n{}", out.stdout);
    assert!(out.stdout.contains("Outcome right"), "{}", out.stdout);

    // Every host, both views, in the JSON the demo keeps.
    let truth_file = kept.join("ground-truth.json");
    assert!(out.stdout.contains(&truth_file.display().to_string()), "the demo names its ground truth file");
    let hosts: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&truth_file).expect("ground truth kept")).expect("JSON");
    assert_eq!(hosts.len(), 250, "one entry per host");
    let infected: Vec<&Value> = hosts.iter().filter(|h| !h["infected_at_start"].as_array().unwrap().is_empty()).collect();
    assert_eq!(infected.len(), 24, "24 hosts run a loader at the start");
    for family in ["Emotet", "TrickBot", "IcedId", "Dridex", "Qakbot"] {
        assert!(infected.iter().any(|h| h["infected_at_start"].as_array().unwrap().iter().any(|f| f == family)), "{family} among them");
    }
    for h in &hosts {
        let name = h["host"].as_str().unwrap();
        let state = h["tool_state"].as_str().unwrap();
        assert_eq!(h["reinfected"], false, "{name}");
        assert_eq!(h["benign_removed"].as_array().unwrap().len(), 0, "{name}: benign files removed");
        if matches!(state, "unreached" | "refused") {
            assert!(UNREACHED.contains(&name), "{name} unreached: {h}");
            continue;
        }
        // Reached: clean per the lab, containment lifted, and the tool's
        // journal agrees (verified, then released).
        assert_eq!(h["clean_at_end"], true, "{name} not clean per the lab: {h}");
        assert_eq!(h["contained_at_end"], false, "{name}: still contained at the end");
        assert_eq!(state, "released", "{name}: the tool's own view: {h}");
    }
    // The faults were met as in a real network.
    for name in UNREACHED {
        let h = hosts.iter().find(|h| h["host"] == name).unwrap();
        assert!(matches!(h["tool_state"].as_str(), Some("unreached" | "refused")), "{name}: {h}");
    }
    // The printed table: the infected and the unreached hosts, no other.
    let mut expected: Vec<String> = infected.iter().map(|h| h["host"].as_str().unwrap().to_string()).collect();
    expected.extend(UNREACHED.iter().map(|s| s.to_string()));
    expected.sort();
    expected.dedup();
    assert_eq!(table_hosts(&out.stdout), expected, "{}", out.stdout);
    assert!(out.stdout.contains("hosts:                          250\n"), "{}", out.stdout);

    // The report and the engagement are kept where the demo said.
    let report = kept.join("report.html");
    assert!(out.stdout.contains(&format!("Report: {}", report.display())), "{}", out.stdout);
    let html = std::fs::read_to_string(&report).expect("report kept");
    assert!(html.contains("<svg") && html.contains("WS-250"), "the report shows the operation");
    assert!(kept.join("engagement").join(cauterize::journal::FILE_NAME).exists());

    // A second demo into the same folder is refused (its engagement is
    // kept, not overwritten).
    let again = common::harness::run(&["demo", "--base-address", "127.138.0.1", "--dir", &kept_s]).await;
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("already holds a demo's engagement"), "{}", again.stderr);
}
