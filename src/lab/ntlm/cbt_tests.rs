//! Channel binding (extended protection) in the acceptor: over TLS a client
//! that binds must bind to this connection's certificate; one that sends
//! no binding, or an all-zero one, is let in (Windows' Relaxed level).

use super::test_client::Client;
use super::{Acceptor, NtlmError, nt_hash};

const EXPECTED: [u8; 16] = [0x42; 16];

fn lookup(domain: &str, user: &str) -> Option<[u8; 16]> {
    (domain == "CORP" && user == "alice").then(|| nt_hash("Passw0rd!"))
}

fn run(cbt: Option<[u8; 16]>, bound: bool) -> Result<(), NtlmError> {
    let mut client = Client::new("CORP", "alice", "Passw0rd!");
    client.cbt = cbt;
    let mut acceptor = Acceptor::new("WS-001", "CORP");
    if bound {
        acceptor = acceptor.bound_to_channel(EXPECTED);
    }
    let challenge = acceptor.challenge(&client.negotiate())?;
    acceptor
        .authenticate(&client.authenticate(&challenge), &lookup)
        .map(|_| ())
}

#[test]
fn matching_binding_is_accepted() {
    assert_eq!(run(Some(EXPECTED), true), Ok(()));
}

#[test]
fn another_channels_binding_is_refused() {
    assert!(matches!(
        run(Some([0x43; 16]), true),
        Err(NtlmError::BadProof { .. })
    ));
}

#[test]
fn no_binding_or_zero_binding_is_relaxed() {
    assert_eq!(run(None, true), Ok(()));
    assert_eq!(run(Some([0; 16]), true), Ok(()));
}

#[test]
fn plain_http_ignores_a_binding() {
    assert_eq!(run(Some([0x43; 16]), false), Ok(()));
}
