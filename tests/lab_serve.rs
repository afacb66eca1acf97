//! `cauterize lab serve` through the binary: `--speed` and `--seed`
//! override the scenario's own, and lab time runs at the speed asked
//! (read from the live summary, which reports lab time since the start).
//! Only lower bounds on lab time are asserted: a loaded machine makes wall
//! time longer, never shorter.
//! Loopback range: 127.92.0.0/16.

mod common;

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStderr;

/// Bound on any wait here (a hang guard, not a measurement).
const HANG: Duration = Duration::from_secs(120);

const SCENARIO: &str = "\
base_address: 127.92.0.1
domain: LAB
lab: {speed: 1, seed: 3}
defaults:
  os: win10
  accounts: [{user: cauterize, password: \"Lab-Passw0rd!\", admin: true}]
groups:
  - name_pattern: \"WS-[1:3]\"
";

/// The next stderr line that contains `marker`.
async fn line_with(lines: &mut Lines<BufReader<ChildStderr>>, marker: &str) -> String {
    let found = tokio::time::timeout(HANG, async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if line.contains(marker) {
                return Some(line);
            }
        }
        None
    });
    found
        .await
        .expect("lab serve hung")
        .unwrap_or_else(|| panic!("lab serve ended before printing {marker:?}"))
}

/// Lab seconds since the start in a summary line
/// (`lab: lab time +5h00m03s: ...`).
fn lab_secs(summary: &str) -> u64 {
    let t = summary
        .split("lab time +")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no lab time in {summary:?}"));
    let (h, rest) = t.split_once('h').expect("hours");
    let (m, rest) = rest.split_once('m').expect("minutes");
    let s = rest.trim_end_matches('s');
    let n = |x: &str| {
        x.parse::<u64>()
            .unwrap_or_else(|e| panic!("{x:?} in {summary:?}: {e}"))
    };
    n(h) * 3600 + n(m) * 60 + n(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speed_and_seed_flags_override_the_scenario_and_lab_time_runs_that_fast() {
    common::harness::raise_fd_limit();
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("lab.yml");
    std::fs::write(&scenario, SCENARIO).expect("write scenario");
    let inventory = dir.path().join("inventory.yml");
    let mut child = tokio::process::Command::new(common::harness::bin())
        .args([
            "lab",
            "serve",
            "--speed",
            "3600",
            "--seed",
            "42",
            "--scenario",
        ])
        .arg(&scenario)
        .arg("--inventory-out")
        .arg(&inventory)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("lab serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();

    let started = line_with(&mut lines, "lab: started").await;
    assert!(
        started.contains("lab time runs 3600x wall time; seed 42"),
        "{started}"
    );
    // The first summary comes at least 5 s of wall time after the lab
    // clock started: at 3600x that is at least 5 hours of lab time (the
    // scenario's own speed, 1, would show 5 seconds).
    let summary = line_with(&mut lines, "lab time +").await;
    assert!(lab_secs(&summary) >= 5 * 3600, "{summary}");

    let pid = child.id().expect("running").to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let stopped = line_with(&mut lines, "lab: stopped at").await;
    assert!(lab_secs(&stopped) >= lab_secs(&summary), "{stopped}");
    let status = tokio::time::timeout(HANG, child.wait())
        .await
        .expect("lab serve stops")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_speed_out_of_range_is_refused_with_the_range() {
    for bad in ["0", "-3", "fast", "1e9"] {
        let speed = format!("--speed={bad}");
        let out = common::harness::run(&[
            "lab",
            "serve",
            &speed,
            "--inventory-out",
            "/nonexistent/x.yml",
        ])
        .await;
        assert_eq!(out.code, cauterize::exit::USAGE, "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("--speed"), "{bad}: {}", out.stderr);
        assert!(
            out.stderr.contains("lab seconds per wall second")
                || out.stderr.contains("out of range"),
            "{bad}: {}",
            out.stderr
        );
    }
}
