//! `cauterize demo` through the binary: the whole operation against its
//! embedded lab (24 hosts, six infected, two unreachable) ends with the
//! lab's ground truth saying every infected host it reached is clean, no
//! benign file removed, containment lifted, exit 0, and the HTML report
//! and engagement kept in the folder given.
//! Loopback range: 127.137.0.0/24.

mod common;

/// The ground-truth table's lines (after its header), split in columns:
/// host, infected at start (may hold ", "), clean at end, re-infected,
/// contained, benign removed, tool state.
fn truth_rows(stdout: &str) -> Vec<(String, String, Vec<String>)> {
    let table = stdout
        .split("== The lab's ground truth")
        .nth(1)
        .unwrap_or_else(|| panic!("no ground-truth table:\n{stdout}"));
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("WS-"))
        .map(|l| {
            let host = l[..8].trim().to_string();
            let infected = l[9..33].trim().to_string();
            let rest = l[34..].split_whitespace().map(str::to_string).collect();
            (host, infected, rest)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_cleans_its_outbreak_and_the_ground_truth_says_so() {
    common::harness::raise_fd_limit();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = dir.path().join("demo");
    let kept_s = kept.display().to_string();
    let out = common::harness::run(&["demo", "--base-address", "127.137.0.1", "--dir", &kept_s]).await;
    println!("{}\n{}\n(took {:?})", out.stdout, out.stderr, out.elapsed);
    assert_eq!(out.code, 0, "the demo's outcome is wrong:\n{}", out.stdout);
    assert!(out.stdout.contains("Outcome right"), "{}", out.stdout);

    let rows = truth_rows(&out.stdout);
    assert_eq!(rows.len(), 24, "one line per host:\n{}", out.stdout);
    let infected: Vec<_> = rows.iter().filter(|(_, i, _)| i != "-").collect();
    assert_eq!(infected.len(), 6, "six hosts run a loader at the start:\n{}", out.stdout);
    for (host, families, rest) in &rows {
        let (clean, reinfected, contained, benign, state) = (&rest[0], &rest[1], &rest[2], &rest[3], &rest[4]);
        assert_eq!(reinfected, "no", "{host}");
        assert_eq!(benign, "0", "{host}: benign files removed");
        if matches!(state.as_str(), "unreached" | "refused") {
            assert!(["WS-005", "WS-011"].contains(&host.as_str()), "{host} unreached");
            continue;
        }
        // Reached: clean per the lab, containment lifted, and the tool's
        // journal agrees (verified, then released).
        assert_eq!(clean, "yes", "{host} ({families}) not clean per the lab:\n{}", out.stdout);
        assert_eq!(contained, "no", "{host}: still contained at the end");
        assert_eq!(state, "released", "{host}: the tool's own view");
    }
    // The two faults were met as in a real network.
    for h in ["WS-005", "WS-011"] {
        let row = rows.iter().find(|r| r.0 == h).unwrap();
        assert!(matches!(row.2[4].as_str(), "unreached" | "refused"), "{h}: {:?}", row.2);
    }
    // The report and the engagement are kept where the demo said.
    let report = kept.join("report.html");
    assert!(out.stdout.contains(&format!("Report: {}", report.display())), "{}", out.stdout);
    let html = std::fs::read_to_string(&report).expect("report kept");
    assert!(html.contains("<svg") && html.contains("WS-012"), "the report shows the operation");
    assert!(kept.join("engagement").join(cauterize::journal::FILE_NAME).exists());

    // A second demo into the same folder is refused (its engagement is
    // kept, not overwritten).
    let again = common::harness::run(&["demo", "--base-address", "127.137.0.1", "--dir", &kept_s]).await;
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("already holds a demo's engagement"), "{}", again.stderr);
}
