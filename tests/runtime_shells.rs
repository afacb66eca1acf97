//! Every runtime call closes its WinRM shell, whatever happens while the
//! results are handled: an error, or a panic (issue 7 item 3: a panic in
//! result handling skipped the close, and Windows 7 allows five shells per
//! user). The lab counts the shells open on each host.
//! Loopback range: 127.95.0.0/16, one /24 per test.

mod common;

use std::net::Ipv4Addr;
use std::panic::AssertUnwindSafe;

use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use cauterize::runtime::client::{RuntimeError, collect_on, with_session};
use cauterize::runtime::ops::Bounds;
use futures::FutureExt;
use tokio_util::sync::CancellationToken;

async fn one_host(net: u8) -> (Lab, String, cauterize::transport::HostTarget) {
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 95, net, 1), 5985);
    let world = WorldSpec::derived(&spec, LabSettings::default());
    let name = spec.hosts[0].name.clone();
    let address = spec.hosts[0].address.to_string();
    let lab = Lab::start_world(spec, world).await.expect("lab starts");
    let target = common::targets::winrm_target(&name, &address, lab::scenario::LAB_PASSWORD);
    (lab, name, target)
}

// 127.95.1.0/24
#[tokio::test]
async fn a_panic_while_handling_results_still_closes_the_shell() {
    let (lab, name, target) = one_host(1).await;
    let cancel = CancellationToken::new();
    let r = AssertUnwindSafe(with_session(&target, &cancel, async |s| {
        let snap = collect_on(s, &Bounds::default()).await?;
        assert_eq!(lab.open_shells(&name), 1, "the shell is open while in use");
        if !snap.computer_name.is_empty() {
            panic!("result handling failed");
        }
        Ok::<_, RuntimeError>(())
    }))
    .catch_unwind()
    .await;
    assert!(r.is_err(), "the panic goes on to the caller");
    assert_eq!(lab.open_shells(&name), 0, "the shell was closed first");
    lab.stop().await;
}

// 127.95.2.0/24
#[tokio::test]
async fn an_error_while_handling_results_closes_the_shell() {
    let (lab, name, target) = one_host(2).await;
    let cancel = CancellationToken::new();
    let r = with_session(&target, &cancel, async |s| {
        collect_on(s, &Bounds::default()).await?;
        Err::<(), _>(RuntimeError::ItemFailed {
            what: "test",
            reason: "refused".into(),
        })
    })
    .await;
    assert!(matches!(r, Err(RuntimeError::ItemFailed { .. })));
    assert_eq!(lab.open_shells(&name), 0);
    lab.stop().await;
}
