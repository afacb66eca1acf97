//! winrm-rs 2.0.1 can send the NTLM AUTHENTICATE on a second TCP
//! connection (hyper's pool races the return of the CHALLENGE's connection
//! against a new connect); the host refuses it exactly like a wrong
//! password. These tests make the race happen on demand with a relay in
//! front of a lab host (`common::splitter`) and show what the transport
//! does: one second logon, counted like the first, and never a third.
//! Loopback range: 127.93.0.0/16, one /24 per test.

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use cauterize::lab::{self, Lab};
use cauterize::transport::{ErrorKind, run_script};
use common::splitter::Splitter;
use common::targets::{winrm_target, winrm_target_as};
use tokio_util::sync::CancellationToken;

/// A one-host lab at `127.93.<net>.1` and a relay at `127.93.<net>.2`
/// that strands the first `strand` AUTHENTICATE messages.
async fn lab_behind_splitter(net: u8, strand: u32) -> (Lab, Splitter, String) {
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 93, net, 1), 5985);
    let name = spec.hosts[0].name.clone();
    let upstream = SocketAddr::from((spec.hosts[0].address, 5985));
    let lab = Lab::start(spec).await.expect("lab starts");
    let relay = SocketAddr::from(([127, 93, net, 2], 5985));
    let splitter = Splitter::start(relay, upstream, strand).await;
    (lab, splitter, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logon_stranded_on_another_connection_gets_one_second_chance() {
    let (lab, splitter, name) = lab_behind_splitter(1, 1).await;
    let target = winrm_target(
        &name,
        &splitter.address.ip().to_string(),
        lab::scenario::LAB_PASSWORD,
    );
    let out = run_script(&target, "hostname", &CancellationToken::new())
        .await
        .expect("the second logon carries the command");
    assert_eq!(out.stdout.trim(), name);
    assert_eq!(splitter.stranded(), 1);
    assert_eq!(
        lab.stats().auth_failures,
        1,
        "the host refused the stranded AUTHENTICATE, as Windows does"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_refusal_is_the_answer_and_there_is_no_third_logon() {
    let (lab, splitter, name) = lab_behind_splitter(2, 3).await;
    let target = winrm_target(
        &name,
        &splitter.address.ip().to_string(),
        lab::scenario::LAB_PASSWORD,
    );
    let err = run_script(&target, "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthFailed, "{err}");
    assert_eq!(splitter.stranded(), 2);
    assert_eq!(splitter.left(), 1, "no third AUTHENTICATE was sent");
    assert_eq!(lab.stats().auth_failures, 2);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_wrong_password_is_refused_twice_and_never_echoed() {
    let (lab, splitter, name) = lab_behind_splitter(3, 0).await;
    let address = splitter.address.ip().to_string();
    let target = winrm_target_as(&name, &address, ("", "Administrator"), "not-the-password");
    assert!(target.gate.is_none(), "a local account is not gated");
    let err = run_script(&target, "hostname", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthFailed, "{err}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert_eq!(splitter.stranded(), 0);
    assert_eq!(lab.stats().auth_failures, 2, "one second chance, no more");
    lab.stop().await;
}
