//! The benign corpus (tests/data/benign/*.yaml: Windows' own tasks and
//! services, the autostarts of common enterprise software, and the
//! look-alikes real installs make) on lab hosts: each case is placed on a
//! simulated Windows host of its own (`lab::cases::place`), every host is
//! collected through the real runtime path (WinRM, NTLM, sealing, the
//! stdin bootstrap, the lab's host runtime, both collection passes), and
//! each snapshot goes through detection and the planner with the shipped
//! default playbook. Prints the active operations (kills, deletes, queued
//! deletes) of each case's plan, the high findings and the medium findings
//! with their rule and case id, grouped by rule; asserts that no case has
//! an active operation and that there is no high finding (an allow-listed
//! finding is spared, so not counted). `BENIGN_DUMP=1` prints every
//! case's findings.
//! Loopback range: 127.141.0.0/16.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Instant;

use cauterize::detect::DetectContext;
use cauterize::lab::cases::check::show;
use cauterize::lab::cases::spec::{Case, parse};
use cauterize::lab::cases::tally::BenignTally;
use common::cases_lab::{active_ops, collect_all, default_playbook, judge, lab_with};

/// Every file of the corpus (the test checks the folder holds no other).
const CORPUS: &[(&str, &str)] = &[
    (
        "windows-tasks.yaml",
        include_str!("data/benign/windows-tasks.yaml"),
    ),
    (
        "windows-services.yaml",
        include_str!("data/benign/windows-services.yaml"),
    ),
    (
        "windows-server.yaml",
        include_str!("data/benign/windows-server.yaml"),
    ),
    (
        "software.yaml",
        include_str!("data/benign/software.yaml"),
    ),
    (
        "enterprise-it.yaml",
        include_str!("data/benign/enterprise-it.yaml"),
    ),
    (
        "lookalikes.yaml",
        include_str!("data/benign/lookalikes.yaml"),
    ),
];

/// The cases of every corpus file, each file parsed strictly and every
/// case benign with a source; ids unique over the corpus.
fn corpus() -> Vec<Case> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/benign");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("tests/data/benign is readable")
        .map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CORPUS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, listed, "tests/data/benign holds files CORPUS does not list (or the reverse)");
    let mut ids = BTreeSet::new();
    let mut cases = Vec::new();
    for (name, text) in CORPUS {
        let file = parse(text).unwrap_or_else(|e| panic!("tests/data/benign/{name}: {e}"));
        for c in file.cases {
            assert!(c.is_benign(), "{name}: {} is not family benign", c.id);
            assert!(!c.source.trim().is_empty(), "{name}: {} names no source", c.id);
            assert!(ids.insert(c.id.clone()), "{name}: case id {} is used twice", c.id);
            cases.push(c);
        }
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn benign_corpus_on_lab_hosts() {
    let started = Instant::now();
    let cases = corpus();
    let refs: Vec<&Case> = cases.iter().collect();
    let (lab, names) = lab_with(&refs, Ipv4Addr::new(127, 141, 0, 1)).await;
    let placed = started.elapsed();

    let snaps = collect_all(&lab, &refs).await;
    let collected = started.elapsed();

    let pb = default_playbook();
    let ctx = DetectContext::default();
    let dump = std::env::var_os("BENIGN_DUMP").is_some();
    let mut tally = BenignTally::new();
    for (i, (snap, retried)) in snaps.iter().enumerate() {
        let c = refs[i];
        for e in retried {
            eprintln!("  collection of {} ({}) retried after: {e}", names[i], c.id);
        }
        assert!(
            snap.truncated.is_empty(),
            "{}: collection cut: {:?}",
            c.id,
            snap.truncated
        );
        let (found, plan) = judge(&names[i], snap, &ctx, &pb);
        if dump {
            eprintln!("== {} on {}\n{}", c.id, names[i], show(&found));
        }
        tally.add(&c.id, &found, active_ops(&plan));
    }
    lab.stop().await;
    eprintln!(
        "benign corpus on lab hosts ({} hosts; placed in {placed:.1?}, collected over WinRM in \
         {:.1?}, total {:.1?})",
        refs.len(),
        collected - placed,
        started.elapsed()
    );
    eprint!("{}", tally.report("tests/data/benign"));
    assert_eq!(tally.cases(), cases.len());
    let artifacts: usize = cases.iter().map(Case::artifacts).sum();
    eprintln!("  {artifacts} artifacts in {} cases", cases.len());
    assert!(artifacts >= 300, "the corpus shrank to {artifacts} artifacts");
    assert_eq!(
        (tally.active_ops(), tally.high()),
        (0, 0),
        "benign cases with active operations or high findings (listed above)"
    );
}
