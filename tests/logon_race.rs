//! winrm-rs 2.0.1 can send the NTLM AUTHENTICATE on a second TCP
//! connection (hyper's pool races the return of the CHALLENGE's connection
//! against a new connect); the host refuses it exactly like a wrong
//! password. These tests make the race happen on demand with a relay in
//! front of a lab host (`common::splitter`) and show what the transport
//! does: one second logon, counted like the first, and never a third.
//! The same relay also answers one sealed request with the bare 401 of a
//! connection that lost its session: a Receive (a read of output) is
//! polled again, a stdin chunk is never re-sent.
//! Loopback range: 127.93.0.0/16, one /24 per test.

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use cauterize::lab::{self, Lab};
use cauterize::transport::{ErrorKind, Phase, run_script};
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

/// A one-host lab at `127.93.<net>.1` and a relay at `127.93.<net>.2`
/// that answers the `nth` sealed request with a bare 401.
async fn lab_behind_refusal(net: u8, nth: u32) -> (Lab, Splitter, String) {
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 93, net, 1), 5985);
    let name = spec.hosts[0].name.clone();
    let upstream = SocketAddr::from((spec.hosts[0].address, 5985));
    let lab = Lab::start(spec).await.expect("lab starts");
    let relay = SocketAddr::from(([127, 93, net, 2], 5985));
    let splitter = Splitter::refusing(relay, upstream, nth).await;
    (lab, splitter, name)
}

/// Sealed requests of one short script: Create (1), Command (2), one
/// stdin chunk (3), then Receives from 4.
const FIRST_RECEIVE: u32 = 4;
const STDIN_CHUNK: u32 = 3;

#[tokio::test(flavor = "multi_thread")]
async fn a_receive_refused_on_a_lost_session_is_polled_again() {
    let (lab, splitter, name) = lab_behind_refusal(4, FIRST_RECEIVE).await;
    let target = winrm_target(&name, &splitter.address.ip().to_string(), lab::scenario::LAB_PASSWORD);
    let out = run_script(&target, "hostname", &CancellationToken::new())
        .await
        .expect("the output is read on a new connection");
    assert_eq!(out.stdout.trim(), name);
    assert_eq!(splitter.refused(), 1, "the first Receive was refused");
    assert_eq!(lab.stats().auth_failures, 0, "a lost session is no refused logon");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stdin_chunk_refused_on_a_lost_session_is_not_sent_again() {
    let (lab, splitter, name) = lab_behind_refusal(5, STDIN_CHUNK).await;
    let target = winrm_target(&name, &splitter.address.ip().to_string(), lab::scenario::LAB_PASSWORD);
    let err = run_script(&target, "hostname", &CancellationToken::new()).await.unwrap_err();
    assert_eq!(splitter.refused(), 1);
    assert_eq!(err.phase(), Some(Phase::SendingInput), "{err}");
    assert!(err.to_string().contains("lost its WinRM session"), "{err}");
    lab.stop().await;
}
