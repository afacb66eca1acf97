//! `cauterize exec` end to end: the real binary against a lab of 120
//! simulated hosts, with ground truth from the lab's library API.
//! Loopback ranges used here: 127.60.0.0/16 .. 127.66.0.0/16, and
//! 127.137.0.0/16 (netsh through exec).

mod common;

use cauterize::lab::{self, HostFault};
use common::harness::LabRun;
use std::net::Ipv4Addr;
use std::time::Duration;

fn spec(base: [u8; 4], count: u32) -> cauterize::lab::LabSpec {
    lab::scenario::simple(count, Ipv4Addr::from(base), 5985)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_returns_each_hosts_own_name_and_reports_failures_per_host() {
    let mut spec = spec([127, 60, 0, 1], 120);
    let believed = spec.clone();
    // Three hosts with another administrator password, one powered off.
    for i in [3usize, 50, 99] {
        for account in &mut spec.hosts[i].accounts {
            account.password = "not-the-inventory-password".into();
        }
    }
    spec.hosts[7].fault = HostFault::Down;
    let names: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
    let run = LabRun::start_with_inventory(spec, &believed).await;

    let out = run.cauterize("exec", &["--json", "--forks", "50", "--", "hostname"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "stderr: {}", out.stderr);
    assert_eq!(out.json_lines().len(), 120);
    for (i, name) in names.iter().enumerate() {
        let line = out.host(name);
        match i {
            3 | 50 | 99 => {
                assert_eq!(line["status"], "failed", "{line}");
                assert_eq!(line["kind"], "auth_failed", "{line}");
                let error = line["error"].as_str().unwrap_or_default();
                assert!(!error.contains("Lab-Passw0rd"), "a secret leaked into an error: {error}");
            }
            7 => {
                assert_eq!(line["status"], "failed", "{line}");
                assert_eq!(line["kind"], "unreachable", "{line}");
            }
            _ => {
                assert_eq!(line["status"], "ok", "{line}");
                assert_eq!(line["stdout"].as_str().map(str::trim), Some(name.as_str()), "{line}");
            }
        }
    }
    // Every shell the run opened was closed again.
    for name in &names {
        assert_eq!(run.lab.open_shells(name), 0, "{name} kept a shell open");
    }
    assert!(!out.stdout.contains("Lab-Passw0rd") && !out.stderr.contains("Lab-Passw0rd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_host_is_unreachable_fast_and_hung_host_times_out() {
    let mut spec = spec([127, 61, 0, 1], 4);
    spec.hosts[1].fault = HostFault::Down;
    spec.hosts[2].fault = HostFault::HangReceive;
    let run = LabRun::start(spec).await;

    let out = run.cauterize("exec", &["--json", "--timeout", "4", "--", "hostname"]).await;
    assert_eq!(out.code, cauterize::exit::PARTIAL, "stderr: {}", out.stderr);
    assert_eq!(out.host("WS-002")["kind"], "unreachable");
    assert_eq!(out.host("WS-003")["kind"], "timed_out");
    assert_eq!(out.host("WS-001")["status"], "ok");
    // Bounded by the 4 s command time-out plus clean-up, never a hang.
    assert!(out.elapsed < Duration::from_secs(20), "took {:?}", out.elapsed);
    assert_eq!(run.lab.open_shells("WS-003"), 0, "the hung command's shell was not closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_output_round_trips() {
    let run = LabRun::start(spec([127, 62, 0, 1], 2)).await;
    let text = "Пётр 🦀 naïve — 東京";
    let script = format!("Write-Output '{text}'");
    let out = run.cauterize("exec", &["--json", "--", &script]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for line in out.json_lines() {
        assert_eq!(line["stdout"].as_str().map(str::trim), Some(text), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_larger_than_100_kb_runs_through_stdin() {
    let run = LabRun::start(spec([127, 63, 0, 1], 3)).await;
    let mut script = String::new();
    while script.len() < 150 * 1024 {
        script.push_str("# padding: a comment line that makes this script long, as real ones are\n");
    }
    script.push_str("Write-Output 'reached the end'\n");
    let file = run.write("big.ps1", &script);
    let out = run
        .cauterize("exec", &["--json", "--script-file", &file.display().to_string()])
        .await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for line in out.json_lines() {
        assert_eq!(line["stdout"].as_str().map(str::trim), Some("reached the end"), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn powershell_errors_come_back_readable() {
    let run = LabRun::start(spec([127, 64, 0, 1], 1)).await;
    let out = run.cauterize("exec", &["--json", "--", "Write-Error 'disk quota low'"]).await;
    assert_eq!(out.code, cauterize::exit::ALL_FAILED, "stderr: {}", out.stderr);
    let line = out.host("WS-001");
    let stderr = line["stderr"].as_str().unwrap_or_default();
    assert!(stderr.contains("disk quota low"), "{line}");
    assert!(!stderr.contains("_x000D_") && !stderr.contains("<Objs"), "CLIXML not decoded: {stderr}");
    assert_eq!(line["kind"], "non_zero_exit", "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_over_http_is_refused_before_connecting() {
    let mut spec = spec([127, 65, 0, 1], 1);
    spec.hosts[0].allow_basic = true;
    spec.hosts[0].allow_unencrypted = true;
    let run = LabRun::start(spec).await;
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    let basic = text.replace("auth: ntlm", "auth: basic");
    assert_ne!(basic, text, "the lab inventory names its auth method");
    std::fs::write(&run.inventory, &basic).unwrap();

    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    assert_eq!(out.code, cauterize::exit::USAGE, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("force_insecure_basic"), "the refusal names the opt-in: {}", out.stderr);
    assert!(out.stderr.to_lowercase().contains("clear text") || out.stderr.to_lowercase().contains("cleartext")
        || out.stderr.to_lowercase().contains("plain"), "the refusal says why: {}", out.stderr);
    assert_eq!(run.lab.stats().connections, 0, "the tool connected anyway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_outputs_are_grouped_in_the_text_report() {
    let run = LabRun::start(spec([127, 66, 0, 1], 12)).await;
    let out = run.cauterize("exec", &["--no-progress", "--", "Write-Output 'same everywhere'"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout.matches("same everywhere").count(), 1, "not grouped:\n{}", out.stdout);
    assert!(out.stdout.contains("12 hosts"), "group header lacks the count:\n{}", out.stdout);
}

/// The firewall as an admin sees it through `exec`: `netsh advfirewall
/// firewall show rule name=all` runs in the lab host's PowerShell and
/// prints, in netsh's layout, the rules the host's firewall model holds
/// (Windows' stock WinRM rule among them), with netsh's exit code 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_shows_the_hosts_firewall_rules_as_netsh_prints_them() {
    let run = LabRun::start(spec([127, 137, 0, 1], 2)).await;
    let out = run.cauterize("exec", &["--json", "--", "netsh advfirewall firewall show rule name=all"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for line in out.json_lines() {
        let stdout = line["stdout"].as_str().unwrap_or_default();
        let names = stdout.lines().filter(|l| l.starts_with("Rule Name:")).count();
        let host = line["host"].as_str().unwrap_or_default();
        let truth = run.lab.with_host(host, |h| h.firewall.rules().len());
        assert_eq!(names, truth, "{line}");
        assert!(stdout.contains("Windows Remote Management (HTTP-In)"), "{line}");
        assert!(stdout.trim_end().ends_with("Ok."), "{line}");
    }
}
