//! The documented cases (tests/data/artifacts.yaml) and the hold-out cases
//! (tests/data/holdout.yaml, written from sources the rules were not
//! written from) on lab hosts: each
//! case is placed on its own simulated Windows host
//! (`lab::cases::place`), every host is collected through the real
//! runtime path (WinRM, NTLM, sealing, the stdin bootstrap, the lab's
//! host runtime, both collection passes), and the snapshot goes through
//! detection and the planner with the shipped playbook. Every malicious
//! case must be found with its family and a target that is the DLL or
//! script (never the launcher); no benign case may have an active
//! operation in its plan; a hold-out case marked `missed` must stay
//! missed. Prints recall and false positives of each file.
//! Loopback ranges: 127.86.0.0/16 (documented), 127.119.0.0/16 (hold-out).

mod common;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Instant;

use cauterize::detect::DetectContext;
use cauterize::lab::cases::check::{check_malicious, show};
use cauterize::lab::cases::spec::{Case, family_of, parse};
use common::cases_lab::{active_ops, collect_all, default_playbook, judge, lab_with};

const DATA: &str = include_str!("data/artifacts.yaml");
const HOLDOUT: &str = include_str!("data/holdout.yaml");

/// Cases no host model can hold, and why.
const NOT_PLACEABLE: &[(&str, &str)] = &[(
    "TRK-16",
    "nworm lives only in the memory of a domain controller: nothing on disk, \
     in the registry or in a process listing tells it apart",
)];

/// Placed on the host, but the runtime's collection never reports the
/// facts that show them: gaps of collection itself (`runtime.ps1` and
/// `runtime::file_targets` / `runtime::sweep`; the lab's runtime does the
/// same), not of detection or the lab. A listed case that is found fails
/// the test, so the list only shrinks.
const NOT_COLLECTED: &[(&str, &str)] = &[];

/// Benign cases planned for removal through the runtime path because
/// collection misses the fact that spares them (same rule as above).
const BENIGN_NOT_COLLECTED: &[(&str, &str)] = &[];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documented_cases_placed_on_lab_hosts() {
    cases_on_lab(
        "tests/data/artifacts.yaml",
        DATA,
        Ipv4Addr::new(127, 86, 0, 1),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holdout_cases_placed_on_lab_hosts() {
    cases_on_lab(
        "tests/data/holdout.yaml",
        HOLDOUT,
        Ipv4Addr::new(127, 119, 0, 1),
    )
    .await;
}

/// Place every case of `data` on a lab host of its own (from `base`),
/// collect each through WinRM, judge and plan it, and print the figures.
async fn cases_on_lab(name: &str, data: &str, base: Ipv4Addr) {
    let started = Instant::now();
    let file = parse(data).unwrap_or_else(|e| panic!("{name} parses: {e}"));
    // The entries of a list that are cases of this file; every entry of
    // every list is a case of one of the two files.
    let of_file = |list: &[(&'static str, &'static str)]| -> BTreeMap<&'static str, &'static str> {
        for (id, _) in list {
            assert!(
                [DATA, HOLDOUT]
                    .iter()
                    .any(|d| parse(d).unwrap().cases.iter().any(|c| c.id == *id)),
                "{id} is not a case"
            );
        }
        list.iter()
            .copied()
            .filter(|(id, _)| file.cases.iter().any(|c| c.id == *id))
            .collect()
    };
    let skip = of_file(NOT_PLACEABLE);
    let uncollected = of_file(NOT_COLLECTED);
    let benign_gaps = of_file(BENIGN_NOT_COLLECTED);
    for c in &file.cases {
        assert!(
            c.is_benign() || c.expect.detectable || skip.contains_key(c.id.as_str()),
            "{} is not detectable by design but not listed as unplaceable",
            c.id
        );
    }
    let cases: Vec<&Case> = file
        .cases
        .iter()
        .filter(|c| !skip.contains_key(c.id.as_str()))
        .collect();
    let (lab, names) = lab_with(&cases, base).await;
    let placed = started.elapsed();

    let snaps = collect_all(&lab, &cases).await;
    let collected = started.elapsed();

    let pb = default_playbook();
    let ctx = DetectContext::default();
    let dump = std::env::var_os("DETECT_DUMP").is_some();
    let (mut mal, mut mal_found, mut doc_mal, mut doc_found, mut mal_active) = (0, 0, 0, 0, 0);
    let (mut ben, mut ben_fp, mut gaps, mut doc_gaps, mut ben_gaps) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut missed: Vec<String> = Vec::new();
    for (i, (snap, retried)) in snaps.iter().enumerate() {
        for e in retried {
            eprintln!(
                "  collection of {} ({}) retried after: {e}",
                names[i], cases[i].id
            );
        }
        let c = cases[i];
        assert!(
            snap.truncated.is_empty(),
            "{}: collection cut: {:?}",
            c.id,
            snap.truncated
        );
        let (found, plan) = judge(&names[i], snap, &ctx, &pb);
        if dump {
            eprintln!(
                "== {} ({}) on {}\n{}\nactive:\n{}",
                c.id,
                c.family,
                names[i],
                show(&found),
                active_ops(&plan).join("\n")
            );
        }
        if c.is_benign() {
            ben += 1;
            // A step a finding calls for (containment and the reboot are
            // every host's).
            let active = plan.items.iter().any(|x| x.active && x.group.is_some());
            match (active, benign_gaps.contains_key(c.id.as_str())) {
                (true, true) => ben_gaps += 1,
                (true, false) => {
                    ben_fp += 1;
                    failures.push(format!(
                        "{} (benign) would be removed:\n  {}\n{}",
                        c.id,
                        active_ops(&plan).join("\n  "),
                        show(&found)
                    ));
                }
                (false, true) => failures.push(format!(
                    "{} is listed in BENIGN_NOT_COLLECTED but is now spared: take it off the list",
                    c.id
                )),
                (false, false) => {}
            }
            continue;
        }
        let fam =
            family_of(&c.family).unwrap_or_else(|| panic!("{}: unknown family {}", c.id, c.family));
        mal += 1;
        doc_mal += usize::from(c.documented);
        let r = check_malicious(c, fam, &found);
        // A detection miss the case file records: it must stay missed.
        if c.expect.missed.is_some() {
            match r {
                Ok(()) => failures.push(format!(
                    "{} is marked missed but is now found: remove its `missed`",
                    c.id
                )),
                Err(_) => missed.push(c.id.clone()),
            }
            continue;
        }
        match (r, uncollected.get(c.id.as_str())) {
            (Ok(()), None) => {
                mal_found += 1;
                doc_found += usize::from(c.documented);
                mal_active += usize::from(plan.items.iter().any(|x| x.active && x.group.is_some()));
            }
            (Ok(()), Some(_)) => failures.push(format!(
                "{} is listed in NOT_COLLECTED but is now found: take it off the list",
                c.id
            )),
            (Err(_), Some(_)) => {
                gaps += 1;
                doc_gaps += usize::from(c.documented);
            }
            (Err(e), None) => failures.push(format!(
                "{} ({fam:?}) on {}: {e}\n{}",
                c.id,
                names[i],
                show(&found)
            )),
        }
    }
    eprintln!(
        "{name} on lab hosts ({} hosts; placed in {:.1?}, collected over WinRM in {:.1?}, total {:.1?}):\n  \
         documented malicious recall {doc_found}/{doc_mal} ({} of the rest not collected), \
         all malicious recall {mal_found}/{mal} ({gaps} of the rest not collected, {} missed by \
         detection: {missed:?}), {mal_active} found with an active operation;\n  \
         benign with an active operation {}/{ben} ({ben_gaps} of them through a collection gap); \
         not placeable {}",
        cases.len(),
        placed,
        collected - placed,
        started.elapsed(),
        doc_gaps,
        missed.len(),
        ben_fp + ben_gaps,
        skip.len(),
    );
    for (id, why) in &skip {
        eprintln!("  not placeable: {id}: {why}");
    }
    for (id, why) in uncollected.iter().chain(&benign_gaps) {
        eprintln!("  not collected: {id}: {why}");
    }
    lab.stop().await;
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert_eq!(mal_found + gaps + missed.len(), mal);
    assert_eq!(doc_found + doc_gaps, doc_mal);
    assert_eq!(ben_fp, 0);
}
