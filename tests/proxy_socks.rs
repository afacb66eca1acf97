//! Reaching hosts through a jump host: `proxy: socks5://...` in the
//! inventory sends every WinRM connection through a SOCKS5 server.
//! Loopback range used here: 127.68.0.0/16.

mod common;

use cauterize::lab;
use cauterize::lab::world::eventlog::LogName;
use common::harness::LabRun;
use common::socks::Socks5;
use std::net::Ipv4Addr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_goes_through_a_socks5_proxy() {
    let spec = lab::scenario::simple(5, Ipv4Addr::new(127, 68, 0, 1), 5985);
    let run = LabRun::start(spec).await;
    let socks = Socks5::start("127.68.1.1").await;
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    let proxied = text.replacen(
        "defaults: {",
        &format!("defaults: {{ proxy: \"socks5://127.68.1.1:{}\",", socks.port),
        1,
    );
    assert_ne!(proxied, text, "the lab inventory has a defaults mapping");
    std::fs::write(&run.inventory, proxied).unwrap();

    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    for i in 1..=5 {
        let name = format!("WS-00{i}");
        assert_eq!(out.host(&name)["stdout"].as_str().map(str::trim), Some(name.as_str()));
    }
    assert!(socks.tunnels() >= 5, "only {} tunnels: the hosts were not reached through the proxy", socks.tunnels());
    // The hosts saw the jump host's address, not the operator's: their
    // WinRM logons (4624) are from the proxy's 127.68.1.1.
    for i in 1..=5 {
        let seen: Vec<String> = run.lab.with_host(&format!("WS-00{i}"), |h| {
            h.event_logs
                .log(LogName::Security)
                .records()
                .filter(|r| r.event_id == 4624)
                .filter_map(|r| r.property("IpAddress").map(str::to_string))
                .collect()
        });
        assert!(!seen.is_empty() && seen.iter().all(|a| a == "127.68.1.1"), "WS-00{i}: logons from {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_proxy_makes_hosts_unreachable_not_a_hang() {
    let spec = lab::scenario::simple(2, Ipv4Addr::new(127, 68, 2, 1), 5985);
    let run = LabRun::start(spec).await;
    // Nothing listens on this port.
    let dead = std::net::TcpListener::bind("127.68.3.1:0").unwrap().local_addr().unwrap().port();
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    std::fs::write(
        &run.inventory,
        text.replacen("defaults: {", &format!("defaults: {{ proxy: \"socks5://127.68.3.1:{dead}\","), 1),
    )
    .unwrap();
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    assert_eq!(out.code, cauterize::exit::ALL_FAILED, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert_eq!(out.host("WS-001")["kind"], "unreachable", "{}", out.stdout);
    assert!(out.elapsed < std::time::Duration::from_secs(30), "took {:?}", out.elapsed);
    assert_eq!(run.lab.stats().connections, 0);
}

/// Issue 7 item 16: the proxy's password is a secret by reference (here a
/// file), through `proxy_credential:`; it logs on to the proxy (RFC 1929)
/// and is printed nowhere: not by `cauterize inventory`, not by `exec`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_logon_comes_by_reference_and_is_never_printed() {
    let spec = lab::scenario::simple(2, Ipv4Addr::new(127, 68, 4, 1), 5985);
    let run = LabRun::start(spec).await;
    let secret = "Jump-S3cret:@/%";
    let socks = Socks5::start_with_login("127.68.5.1", "tunnel", secret).await;
    let file = run.write("proxy.pw", &format!("{secret}\n"));
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    let proxied = text
        .replacen(
            "defaults: {",
            &format!(
                "defaults: {{ proxy: \"socks5://127.68.5.1:{}\", proxy_credential: jump,",
                socks.port
            ),
            1,
        )
        .replacen(
            "credentials:\n",
            &format!("credentials:\n  jump: {{ user: tunnel, password_file: {:?} }}\n", file.display().to_string()),
            1,
        );
    std::fs::write(&run.inventory, &proxied).unwrap();
    assert!(!proxied.contains(secret));

    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(socks.tunnels() >= 2, "only {} tunnels", socks.tunnels());
    assert_eq!(socks.refused(), 0);
    assert!(!out.stdout.contains("S3cret") && !out.stderr.contains("S3cret"));
    for args in [&[][..], &["--json"][..]] {
        let inv = run.cauterize("inventory", args).await;
        assert_eq!(inv.code, 0, "{}", inv.stderr);
        assert!(!inv.stdout.contains("S3cret") && !inv.stderr.contains("S3cret"), "{}", inv.stdout);
    }

    // A password written in the proxy URL is refused, and not repeated.
    std::fs::write(
        &run.inventory,
        text.replacen(
            "defaults: {",
            &format!("defaults: {{ proxy: \"socks5://tunnel:{secret}@127.68.5.1:{}\",", socks.port),
            1,
        ),
    )
    .unwrap();
    let bad = run.cauterize("inventory", &[]).await;
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    assert!(bad.stderr.contains("proxy_credential"), "{}", bad.stderr);
    assert!(!bad.stderr.contains("S3cret") && !bad.stdout.contains("S3cret"), "{}", bad.stderr);
}
