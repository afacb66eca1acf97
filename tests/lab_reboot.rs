//! Reboots asked for over WinRM, end to end: `cauterize exec` sends
//! `shutdown /r /t N` to a lab host, the host counts down in lab time,
//! shuts down (loaders' shutdown hooks run), refuses connections while it
//! is down, runs its pending-rename queue at boot, and answers again.
//! Ground truth comes from the lab's library API; waits poll it with a
//! generous bound that only guards against a hang (nothing asserts how
//! long a step took).
//! Loopback range: 127.91.0.0/16, one /24 per test.

mod common;

use cauterize::lab::malware::{Artifact, ArtifactRole, Family, FamilyProfile};
use cauterize::lab::network::HostTruth;
use cauterize::lab::outbreak::Power;
use cauterize::lab::world::Content;
use cauterize::lab::world::pending::PendingOp;
use cauterize::lab::{LabSettings, LabSpec, WorldSpec, scenario};
use common::harness::{LabRun, Run};
use common::winrm_retry::once_more_if_session_lost;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use winrm_rs::{WinrmClient, WinrmConfig, WinrmCredentials};

/// Longest any wait here may take before the test fails as hung.
const HANG: Duration = Duration::from_secs(180);

/// `count` hosts from `base` in real time, whose reboots keep them down
/// 6 lab seconds and answer WinRM 2 seconds after boot.
fn quick_reboots(base: [u8; 4], count: u32) -> (LabSpec, WorldSpec) {
    let spec = scenario::simple(count, Ipv4Addr::from(base), 5985);
    let settings = LabSettings {
        step_every: Duration::from_millis(200),
        ..LabSettings::default()
    };
    let mut world = WorldSpec::derived(&spec, settings);
    for h in &mut world.hosts {
        h.reboot_down_secs = 6;
        h.winrm_delay_secs = 2;
    }
    (spec, world)
}

/// Poll `host`'s ground truth until `done` holds; fail (as hung) after
/// [`HANG`].
async fn wait_until(
    run: &LabRun,
    host: &str,
    what: &str,
    done: impl Fn(&HostTruth) -> bool,
) -> HostTruth {
    let started = Instant::now();
    loop {
        let t = run.lab.truth(host);
        if done(&t) {
            return t;
        }
        assert!(
            started.elapsed() < HANG,
            "{host}: still not {what}: {:?}",
            t.power
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait for a reboot of `host` that began after it had booted `boots`
/// times to finish: booted once more, and answering WinRM.
async fn rebooted(run: &LabRun, host: &str, boots: u32) -> HostTruth {
    wait_until(run, host, "rebooted and answering", |t| {
        t.boot_count > boots && t.power == Power::Up
    })
    .await
}

async fn exec(run: &LabRun, hosts: &str, command: &str) -> Run {
    run.cauterize("exec", &["--json", "-l", hosts, "--", command])
        .await
}

fn assert_ok(out: &Run, host: &str) {
    let line = out.host(host);
    assert_eq!(line["status"], "ok", "{line}\nstderr: {}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_over_winrm_reboots_the_host_and_it_answers_again() {
    let (spec, world) = quick_reboots([127, 91, 1, 1], 2);
    let address = SocketAddr::from((spec.hosts[0].address, spec.hosts[0].port));
    let run = LabRun::start_world(spec, world).await;
    // A payload the operator could not delete, queued for deletion at boot.
    let payload = r"C:\ProgramData\loader.dll";
    run.lab.with_host("WS-001", |s| {
        let now = s.boot_time;
        s.write_file(payload, Content::bytes(b"MZ".to_vec()), now)
            .expect("write");
        s.queue_pending(&PendingOp::delete(payload)).expect("queue");
    });
    let before = run.lab.truth("WS-001");
    let neighbour = run.lab.truth("WS-002").boot_count;

    let out = exec(&run, "WS-001", "shutdown /r /t 5").await;
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_ok(&out, "WS-001");

    // Down after the countdown: the port is closed.
    wait_until(&run, "WS-001", "down", |t| !matches!(t.power, Power::Up)).await;
    let started = Instant::now();
    loop {
        match tokio::net::TcpStream::connect(address).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {}
        }
        let t = run.lab.truth("WS-001");
        assert!(
            matches!(t.power, Power::Down { .. }) && started.elapsed() < HANG,
            "never refused a connection while down: {:?}",
            t.power
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let after = rebooted(&run, "WS-001", before.boot_count).await;
    assert_eq!(after.boot_count, before.boot_count + 1);
    assert!(
        after.boot_time > before.boot_time,
        "boot time {:?} -> {:?}",
        before.boot_time,
        after.boot_time
    );
    assert_eq!(after.scheduled_shutdown, None);
    let (exists, queued) = run
        .lab
        .with_host("WS-001", |s| (s.files.exists(payload), s.pending_renames()));
    assert!(!exists, "the pending-rename queue ran at boot");
    assert!(queued.is_empty(), "{queued:?}");
    assert_eq!(
        run.lab.truth("WS-002").boot_count,
        neighbour,
        "only the host asked reboots"
    );

    let again = exec(&run, "WS-001", "hostname").await;
    assert_eq!(again.code, 0, "stderr: {}", again.stderr);
    assert_eq!(
        again.host("WS-001")["stdout"].as_str().map(str::trim),
        Some("WS-001")
    );
    assert_eq!(run.lab.open_shells("WS-001"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_can_be_aborted_within_its_time_out_and_wrong_arguments_get_windows_answer() {
    let (spec, world) = quick_reboots([127, 91, 2, 1], 1);
    let run = LabRun::start_world(spec, world).await;
    let boots = run.lab.truth("WS-001").boot_count;

    assert_ok(
        &exec(&run, "WS-001", "shutdown /r /t 600 /c 'Emotet clean-up'").await,
        "WS-001",
    );
    let scheduled = run
        .lab
        .truth("WS-001")
        .scheduled_shutdown
        .expect("a restart is scheduled");
    assert_eq!(scheduled.comment, "Emotet clean-up");
    let twice = exec(&run, "WS-001", "shutdown /r /t 60").await;
    let line = twice.host("WS-001");
    assert_eq!(line["kind"], "non_zero_exit", "{line}");
    assert!(
        line["stderr"]
            .as_str()
            .unwrap_or_default()
            .contains("already been scheduled.(1190)"),
        "{line}"
    );

    assert_ok(&exec(&run, "WS-001", "shutdown /a").await, "WS-001");
    assert_eq!(run.lab.truth("WS-001").scheduled_shutdown, None);
    let nothing = exec(&run, "WS-001", "shutdown /a").await;
    assert!(
        nothing.host("WS-001")["stderr"]
            .as_str()
            .unwrap_or_default()
            .contains("no shutdown was in progress.(1116)"),
        "{}",
        nothing.stdout
    );

    let bad = exec(
        &run,
        "WS-001",
        "shutdown /r /t 315360001; exit $LASTEXITCODE",
    )
    .await;
    let line = bad.host("WS-001");
    assert_eq!(line["exit_code"], 1, "{line}");
    assert!(
        line["stdout"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Usage: shutdown"),
        "{line}"
    );
    assert_eq!(run.lab.truth("WS-001").scheduled_shutdown, None);
    assert_eq!(
        run.lab.truth("WS-001").boot_count,
        boots,
        "nothing rebooted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_qakbot_writes_its_run_value_at_a_shutdown_asked_over_winrm() {
    let (spec, mut world) = quick_reboots([127, 91, 3, 1], 2);
    for h in &mut world.hosts {
        h.infections
            .push(FamilyProfile::documented(Family::Qakbot).without_spread());
    }
    let run = LabRun::start_world(spec, world).await;
    // On a live host Qakbot keeps no Run value: it writes one at shutdown.
    for host in ["WS-001", "WS-002"] {
        let t = run.lab.truth(host);
        assert_eq!(t.live_families, vec![Family::Qakbot], "{host}");
        assert_eq!(run_values(&t), 0, "{host}: {:?}", t.persistence);
    }
    // On WS-002 the operator queues the DLL Qakbot will write for deletion
    // at boot: the queue runs before the Run value does.
    let index = run.lab.network().index_of("WS-002").expect("WS-002");
    let dll = run.lab.network().with_all(|h, _| {
        h.hosts[index].infections[0]
            .shutdown_plan()
            .into_iter()
            .find_map(|a| match (a.role, a.what) {
                (ArtifactRole::Payload, Artifact::File { path }) => Some(path),
                _ => None,
            })
    });
    let dll = dll.expect("Qakbot writes a DLL at shutdown");
    run.lab
        .with_host("WS-002", |s| s.queue_pending(&PendingOp::delete(&dll)))
        .expect("queue");
    let boots = run.lab.truth("WS-001").boot_count;

    let out = exec(&run, "WS-001,WS-002", "shutdown /r /t 3").await;
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );

    let plain = rebooted(&run, "WS-001", boots).await;
    assert_eq!(
        plain.live_families,
        vec![Family::Qakbot],
        "the Run value written at shutdown started it again"
    );
    let queued = rebooted(&run, "WS-002", boots).await;
    assert!(
        queued.live_families.is_empty(),
        "the DLL was gone before the Run value ran"
    );
    assert_eq!(
        run_values(&queued),
        1,
        "the Run value Qakbot wrote at shutdown is left: {:?}",
        queued.persistence
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reboot_from_a_cmd_line_ends_the_open_shells_with_the_host() {
    let (spec, world) = quick_reboots([127, 91, 4, 1], 1);
    let run = LabRun::start_world(spec, world).await;
    let config = WinrmConfig {
        operation_timeout_secs: 5,
        ..WinrmConfig::http()
    };
    let credentials = WinrmCredentials::new(
        scenario::LAB_USER,
        scenario::LAB_PASSWORD,
        scenario::LAB_DOMAIN,
    );
    let client = WinrmClient::new(config, credentials).expect("client");
    let idle = client.open_shell("127.91.4.1").await.expect("shell");
    let boots = run.lab.truth("WS-001").boot_count;
    // A plain command line, as an admin's WinRS or pywinrm's run_cmd sends it.
    let out = client
        .run_command("127.91.4.1", "shutdown", &["/r", "/t", "3"])
        .await
        .expect("shutdown runs");
    assert_eq!(
        (out.exit_code, out.stdout.len(), out.stderr.len()),
        (0, 0, 0)
    );

    wait_until(&run, "WS-001", "down", |t| !matches!(t.power, Power::Up)).await;
    assert_eq!(
        run.lab.open_shells("WS-001"),
        0,
        "the shells went down with the host"
    );
    rebooted(&run, "WS-001", boots).await;
    // The shell opened before the reboot is unknown to the host now.
    assert!(idle.start_command("hostname", &[]).await.is_err());
    // `hostname` is safe to run twice (see `common::winrm_retry`).
    let again = once_more_if_session_lost(|| client.run_command("127.91.4.1", "hostname", &[]))
        .await
        .expect("a new shell works");
    assert_eq!(again.stdout, b"WS-001\r\n");
}

/// Qakbot Run values present.
fn run_values(t: &HostTruth) -> usize {
    t.persistence
        .iter()
        .filter(|(f, a)| *f == Family::Qakbot && matches!(a.what, Artifact::RegValue { .. }))
        .count()
}
