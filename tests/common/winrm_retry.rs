//! The one retry a direct winrm-rs caller owes a safe request. winrm-rs
//! 2.0.1 locks a new connection's gate only after its NTLM handshake, so a
//! connect `hyper` raced against the pool during the handshake can land in
//! the pool unauthenticated, and the first sealed request may go out on it.
//! The host answers 401, and winrm-rs, unable to prove the request did not
//! run, reports "HTTP 401 to a sealed NTLM request on an authenticated
//! connection ... retry the call if it is safe to run again" without
//! resending. cauterize's transport retries such requests when they are
//! safe (`transport::classify`); a test that drives `WinrmClient` itself
//! does the same, for requests that are safe to repeat, and only once.
#![allow(dead_code)]

use std::future::Future;
use winrm_rs::WinrmError;

/// Whether `e` is winrm-rs's "the authenticated connection lost its
/// session" error (and not a refused credential).
pub fn session_lost(e: &WinrmError) -> bool {
    e.to_string().contains("on an authenticated connection")
}

/// Run `call`; when it fails because the connection lost its NTLM session,
/// run it once more. Only for requests that are safe to run twice.
pub async fn once_more_if_session_lost<T, F, Fut>(mut call: F) -> Result<T, WinrmError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WinrmError>>,
{
    match call().await {
        Err(e) if session_lost(&e) => call().await,
        other => other,
    }
}
