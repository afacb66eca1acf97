//! The transport against the lab (real WinRM over loopback: NTLM, sealing,
//! shell quota, Windows' faults). Addresses: 127.50.0.0/16 only, one /24
//! per test.

use super::error::ErrorKind;
use super::pool::{HostTarget, prepare};
use super::secrets::PasswordSource;
use super::session::{HostSession, run_script};
use crate::inventory::{
    ConnectionSettings, CredentialSpec, Inventory, ResolvedHost,
    SecretSource,
};
use crate::lab::{HostFault, HostSpec, Lab, LabSpec, fixtures};
use crate::runtime::probe;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

const PASSWORD: &str = "Lab-Passw0rd!";

fn spec(name: &str, address: [u8; 4]) -> HostSpec {
    fixtures::server(name, Ipv4Addr::from(address), PASSWORD)
}

/// Gives every credential the same password, and counts the requests.
struct Fixed(&'static str, usize);
impl PasswordSource for Fixed {
    fn password_for(
        &mut self,
        _: &CredentialSpec,
        _: &ResolvedHost,
    ) -> Result<Zeroizing<String>, String> {
        self.1 += 1;
        Ok(Zeroizing::new(self.0.to_string()))
    }
}

fn settings(command_timeout: Duration) -> ConnectionSettings {
    ConnectionSettings {
        connect_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(2),
        command_timeout,
        ..ConnectionSettings::defaults_with("admin")
    }
}

/// Targets for the lab's hosts, logging in as `user` with `password`.
fn targets(
    lab: &Lab,
    user: &str,
    password: &'static str,
    command_timeout: Duration,
) -> Vec<HostTarget> {
    let hosts = lab
        .spec()
        .hosts
        .iter()
        .map(|h| ResolvedHost {
            name: h.name.clone(),
            address: h.address.to_string(),
            groups: vec![],
            settings: settings(command_timeout),
        })
        .collect();
    let inventory = Inventory {
        hosts,
        credentials: vec![CredentialSpec {
            name: "admin".into(),
            user: user.split_once('\\').map_or(user, |(_, u)| u).into(),
            domain: user.split_once('\\').map_or("", |(d, _)| d).into(),
            source: SecretSource::Prompt,
        }],
        ..Default::default()
    };
    let mut source = Fixed(password, 0);
    let prepared = prepare(&inventory, &mut source);
    assert_eq!(source.1, 1, "one password request for one credential");
    prepared
        .hosts
        .into_iter()
        .map(|h| h.expect("not refused"))
        .collect()
}

async fn lab(hosts: Vec<HostSpec>) -> Lab {
    Lab::start(LabSpec { hosts }).await.expect("lab starts")
}

// 127.50.1.0/24
#[tokio::test]
async fn scripts_run_through_the_stdin_bootstrap_and_shells_are_closed() {
    let lab = lab(vec![
        spec("WS-001", [127, 50, 1, 1]),
        spec("WS-002", [127, 50, 1, 2]),
    ])
    .await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let cancel = CancellationToken::new();
    for t in &targets {
        let out = run_script(t, "Write-Output 'hello world'\nhostname", &cancel)
            .await
            .expect("runs");
        assert_eq!(out.exit_code, 0);
        assert_eq!(
            out.stdout.replace("\r\n", "\n"),
            format!("hello world\n{}\n", t.host.name)
        );
        assert_eq!(out.stderr, "");
    }
    // A script larger than one stdin chunk.
    let big = format!(
        "Write-Output 'start'\n{}Write-Output 'end'\n",
        "# padding padding padding\n".repeat(8000)
    );
    assert!(big.len() > 2 * crate::runtime::bootstrap::STDIN_CHUNK_BYTES);
    let out = run_script(&targets[0], &big, &cancel)
        .await
        .expect("big script runs");
    assert_eq!(out.stdout.replace("\r\n", "\n"), "start\nend\n");
    // Several scripts in one session, in order.
    let mut session = HostSession::open(&targets[1], &cancel)
        .await
        .expect("opens");
    let a = session.run_script("Write-Output 1").await.expect("first");
    let b = session.run_script("Write-Output 2").await.expect("second");
    assert_eq!((a.stdout.trim(), b.stdout.trim()), ("1", "2"));
    session.close().await;
    assert_eq!(lab.open_shells("WS-001"), 0);
    assert_eq!(lab.open_shells("WS-002"), 0);
    lab.stop().await;
}

// 127.50.9.0/24
#[tokio::test]
async fn non_ascii_output_survives() {
    let lab = lab(vec![spec("WS-001", [127, 50, 9, 1])]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let out = run_script(
        &targets[0],
        "Write-Output 'héllo Пётр 🦀'",
        &CancellationToken::new(),
    )
    .await
    .expect("runs");
    assert_eq!(out.stdout.trim_end(), "héllo Пётр 🦀");
    lab.stop().await;
}

// 127.50.2.0/24
#[tokio::test]
async fn stderr_is_readable_and_exit_codes_come_back() {
    let lab = lab(vec![spec("WS-001", [127, 50, 2, 1])]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let out = run_script(
        &targets[0],
        "Write-Output 'before'\nWrite-Error 'boom happened'\nexit 3",
        &CancellationToken::new(),
    )
    .await
    .expect("runs");
    assert_eq!(out.exit_code, 3);
    assert!(out.stdout.contains("before"));
    assert!(out.stderr.contains("boom happened"), "{:?}", out.stderr);
    assert!(
        !out.stderr.contains("<Objs")
            && !out.stderr.contains("_x000D_")
            && !out.stderr.contains("CLIXML"),
        "{:?}",
        out.stderr
    );
    lab.stop().await;
}

// 127.50.3.0/24
#[tokio::test]
async fn wrong_password_and_non_admin_are_auth_failures_with_one_second_logon() {
    let lab = lab(vec![spec("WS-001", [127, 50, 3, 1])]).await;
    let wrong = targets(
        &lab,
        "Administrator",
        "not-the-password",
        Duration::from_secs(30),
    );
    let err = run_script(&wrong[0], "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthFailed, "{err}");
    assert!(
        err.to_string().contains("check the credential 'admin'"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-password"));
    assert_eq!(
        lab.stats().auth_failures,
        crate::transport::session::LOGON_TRIES as u64,
        "one second logon after a refused password, no more"
    );
    let guest = targets(&lab, "guest", PASSWORD, Duration::from_secs(30));
    let err = run_script(&guest[0], "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthFailed, "{err}");
    lab.stop().await;
}

// 127.50.4.0/24
#[tokio::test]
async fn a_down_host_is_unreachable_fast() {
    let down = fixtures::faulty(
        "WS-DOWN",
        Ipv4Addr::from([127, 50, 4, 1]),
        PASSWORD,
        HostFault::Down,
    );
    let lab = lab(vec![down]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let started = Instant::now();
    let err = run_script(&targets[0], "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.to_string().contains("port 5985"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not retried: {:?}",
        started.elapsed()
    );
    lab.stop().await;
}

// 127.50.5.0/24
#[tokio::test]
async fn a_hung_command_times_out_and_its_shell_is_closed() {
    let hang = fixtures::faulty(
        "WS-HANG",
        Ipv4Addr::from([127, 50, 5, 1]),
        PASSWORD,
        HostFault::HangReceive,
    );
    let lab = lab(vec![hang]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(3));
    let started = Instant::now();
    let err = run_script(&targets[0], "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        lab.open_shells("WS-HANG"),
        0,
        "shell deleted after the time-out"
    );
    lab.stop().await;
}

// 127.50.6.0/24
#[tokio::test]
async fn ctrl_c_interrupts_and_closes_the_shell() {
    let hang = fixtures::faulty(
        "WS-HANG",
        Ipv4Addr::from([127, 50, 6, 1]),
        PASSWORD,
        HostFault::HangReceive,
    );
    let lab = lab(vec![hang]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        trigger.cancel();
    });
    let err = run_script(&targets[0], "hostname", &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
    assert_eq!(lab.open_shells("WS-HANG"), 0);
    lab.stop().await;
}

// 127.50.7.0/24
#[tokio::test]
async fn shell_quota_is_reported_as_such() {
    let mut small = spec("WS-OLD", [127, 50, 7, 1]);
    small.max_shells_per_user = 1;
    let lab = lab(vec![small]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let cancel = CancellationToken::new();
    let held = HostSession::open(&targets[0], &cancel)
        .await
        .expect("first shell");
    let err = run_script(&targets[0], "hostname", &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(err.to_string().contains("MaxShellsPerUser"), "{err}");
    held.close().await;
    assert_eq!(lab.open_shells("WS-OLD"), 0);
    lab.stop().await;
}

// 127.50.8.0/24
#[tokio::test]
async fn the_probe_runs_and_parses_with_clock_skew() {
    let mut skewed = spec("WS-SKEW", [127, 50, 8, 1]);
    skewed.clock_skew_secs = 600;
    let lab = lab(vec![skewed]).await;
    let targets = targets(&lab, "Administrator", PASSWORD, Duration::from_secs(30));
    let out = run_script(&targets[0], probe::PROBE, &CancellationToken::new())
        .await
        .expect("probe runs");
    let facts = probe::parse(&out.stdout).expect("probe parses");
    assert_eq!(facts.hostname, "WS-SKEW");
    assert!(facts.is_admin);
    assert_eq!(facts.os_build, "17763");
    let skew = crate::report::clock::skew_secs(&facts.utc_now, out.started_at, out.elapsed)
        .expect("clock read");
    assert!((595..=605).contains(&skew), "skew {skew}");
    lab.stop().await;
}

// 127.50.10.0/24
#[tokio::test]
async fn a_rejected_domain_credential_is_not_sprayed_over_every_host() {
    let hosts: Vec<HostSpec> = (1..=12)
        .map(|i| spec(&format!("WS-{i:03}"), [127, 50, 10, i]))
        .collect();
    let lab = lab(hosts).await;
    let wrong = targets(
        &lab,
        "CORP\\alice",
        "wrong-password",
        Duration::from_secs(30),
    );
    assert!(
        wrong.iter().all(|t| t.gate.is_some()),
        "a domain account is gated"
    );
    let report = crate::transport::runner::run_all(
        wrong,
        12,
        CancellationToken::new(),
        Duration::from_secs(5),
        |t, cancel| async move { run_script(&t, "hostname", &cancel).await.map(|_| ()) },
        |_, _| Ok(()),
        |_| {},
    )
    .await;
    assert!(
        report
            .results
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.kind() == ErrorKind::AuthFailed))
    );
    let refused = lab.stats().auth_failures;
    assert!(
        refused <= 4,
        "{refused} logons refused: the account would lock out"
    );
    // Each refused logon (first or second chance) is counted by the gate,
    // so most hosts are never tried.
    let skipped = report
        .results
        .iter()
        .filter(|r| r.as_ref().unwrap_err().to_string().contains("not tried"))
        .count();
    assert!(
        skipped as u64 + refused >= 12,
        "{skipped} skipped, {refused} refused"
    );

    // The right password: once one host accepts it, all run (at once).
    let right = targets(&lab, "CORP\\alice", PASSWORD, Duration::from_secs(30));
    let report = crate::transport::runner::run_all(
        right,
        12,
        CancellationToken::new(),
        Duration::from_secs(5),
        |t, cancel| async move { run_script(&t, "hostname", &cancel).await.map(|o| o.stdout) },
        |_, _| Ok(String::new()),
        |_| {},
    )
    .await;
    assert!(
        report.results.iter().all(|r| r.is_ok()),
        "{:?}",
        report.results
    );
    lab.stop().await;
}
