//! Reaching hosts through a jump host: `proxy: socks5://...` in the
//! inventory sends every WinRM connection through a SOCKS5 server.
//! Loopback range used here: 127.68.0.0/16.

mod common;

use cauterize::lab;
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
