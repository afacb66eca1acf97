//! `cauterize scan` of the shipped outbreak (`examples/lab/outbreak.yml`,
//! all 500 hosts, lab time held nearly still so the outbreak is at its
//! start): no host the lab's ground truth calls clean has a Medium or
//! High finding (allow-listed or not), and every loader the ground truth
//! places on a host that answers is found with its family. The
//! benign-product generator installs up to three look-alike products on
//! four fifths of the hosts (Lenovo's unquoted `rundll32 C:\Program
//! Files\...\Spectrum_Core.dll,RunDLL` among them, once a false alarm on
//! 94 of the 500 hosts). Loopback range: 127.118.0.0/16.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cauterize::lab::scenario;
use common::harness::LabRun;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scan_of_the_outbreak_at_its_start_flags_no_clean_host() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml");
    let text = std::fs::read_to_string(&path).expect("examples/lab/outbreak.yml");
    let text = text.replace("base_address: 127.74.0.1", "base_address: 127.118.0.1");
    assert!(text.contains("127.118.0.1"), "the scenario's base address moved");
    let mut s = scenario::parse_scenario(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    // A lab second every 1000 wall seconds: nothing spreads during the scan.
    s.world.lab.speed = 0.001;
    s.world.lab.step_every = Duration::from_millis(200);
    let run = LabRun::start_world(s.spec, s.world).await;

    let engagement = run.dir.path().join("engagement").display().to_string();
    let out = run
        .cauterize("scan", &["--json", "--forks", "64", "--engagement", &engagement])
        .await;
    let lines = out.json_lines();
    assert_eq!(lines.len(), 500, "stderr: {}", out.stderr);

    let (mut clean, mut infected, mut found) = (0, 0, 0);
    let mut false_alarms = Vec::new();
    let mut missed = Vec::new();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for line in &lines {
        if line["status"] != "ok" {
            continue;
        }
        let host = line["host"].as_str().expect("host name");
        let truth = run.lab.truth(host);
        let findings = line["findings"].as_array().expect("findings");
        if truth.clean() {
            clean += 1;
            for f in findings {
                if f["confidence"] == "medium" || f["confidence"] == "high" {
                    *by_rule.entry(f["rule_id"].as_str().unwrap_or("?").to_string()).or_default() += 1;
                    false_alarms.push(format!(
                        "{host}: {} {} {} ({})",
                        f["confidence"], f["rule_id"], f["description"], f["reasons"]
                    ));
                }
            }
            continue;
        }
        infected += 1;
        let families: Vec<String> = truth.families.iter().map(|f| format!("{f:?}")).collect();
        let all_found = families.iter().all(|fam| {
            findings.iter().any(|f| {
                f["allowlisted"].is_null()
                    && f["family"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(fam))
            })
        });
        if all_found {
            found += 1;
        } else {
            missed.push(format!("{host}: {families:?}: {findings:?}"));
        }
    }
    eprintln!(
        "outbreak at its start: {clean} clean hosts scanned, {} with a Medium or High finding {by_rule:?}; \
         {found} of {infected} infected hosts found with every family",
        false_alarms.len()
    );
    run.lab.stop().await;
    assert!(clean >= 350, "most of the outbreak is clean at its start: {clean}");
    assert!(
        false_alarms.is_empty(),
        "{} false alarm(s) on clean hosts:\n{}",
        false_alarms.len(),
        false_alarms.join("\n")
    );
    assert!(
        missed.is_empty(),
        "{} infected host(s) missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}
