//! Account lock-out protection. A domain account that the hosts reject is
//! rejected everywhere, and every rejected logon counts toward the domain's
//! lock-out threshold: trying it on 250 hosts at once locks the incident
//! responder's own account out in the middle of the incident.
//!
//! So, per domain credential, until one host has accepted it, at most
//! [`UNPROVEN_AT_ONCE`] logons are attempted at a time, and after
//! [`MAX_REJECTIONS`] rejections the remaining hosts are not tried at all
//! (reported as authentication failures that say why). Once one host has
//! accepted the credential, logons run freely. Local and LAPS credentials
//! are not gated: each host has its own accounts.

use super::error::TransportError;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Logons attempted at once before the credential has worked once.
pub const UNPROVEN_AT_ONCE: u32 = 2;

/// Rejections after which the credential is not tried any more.
pub const MAX_REJECTIONS: u32 = 3;

#[derive(Debug, Default)]
struct State {
    /// A host accepted the credential.
    proven: bool,
    rejections: u32,
    /// Logons in flight while unproven.
    trying: u32,
}

/// The gate of one credential, shared by its hosts.
#[derive(Debug)]
pub struct LoginGate {
    credential: String,
    state: Mutex<State>,
    changed: Notify,
}

/// Permission for one logon; say how it went with [`Ticket::accepted`] or
/// [`Ticket::rejected`]. Dropped without either (the host was unreachable,
/// say), it frees its place.
#[derive(Debug)]
pub struct Ticket {
    gate: Arc<LoginGate>,
    counted: bool,
}

impl LoginGate {
    pub fn new(credential: &str) -> Arc<LoginGate> {
        Arc::new(LoginGate {
            credential: credential.to_string(),
            state: Mutex::default(),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Has a host accepted the credential yet?
    pub fn proven(&self) -> bool {
        self.lock().proven
    }

    /// Wait for permission to log on, or learn that the credential is
    /// given up (an `AuthFailed` saying why) or that Ctrl-C came (`None`).
    pub async fn admit(
        self: &Arc<Self>,
        cancel: &CancellationToken,
    ) -> Option<Result<Ticket, TransportError>> {
        loop {
            // Registered before the state is read, so no wake-up is lost.
            let changed = self.changed.notified();
            {
                let mut s = self.lock();
                if s.proven {
                    return Some(Ok(Ticket {
                        gate: Arc::clone(self),
                        counted: false,
                    }));
                }
                if s.rejections >= MAX_REJECTIONS {
                    return Some(Err(TransportError::AuthFailed {
                        credential: self.credential.clone(),
                        // The same text for every host, so reports group them.
                        detail: format!(
                            "not tried: other hosts rejected this credential {MAX_REJECTIONS} times, \
                             and more attempts could lock the account out"
                        ),
                    }));
                }
                if s.trying < UNPROVEN_AT_ONCE {
                    s.trying += 1;
                    return Some(Ok(Ticket {
                        gate: Arc::clone(self),
                        counted: true,
                    }));
                }
            }
            tokio::select! {
                () = changed => {}
                () = cancel.cancelled() => return None,
            }
        }
    }
}

impl Ticket {
    /// The host accepted the credential.
    pub fn accepted(mut self) {
        self.settle(|s| s.proven = true);
    }

    /// The host rejected the credential.
    pub fn rejected(mut self) {
        self.settle(|s| s.rejections += 1);
    }

    fn settle(&mut self, change: impl FnOnce(&mut State)) {
        {
            let mut s = self.gate.lock();
            change(&mut s);
            if self.counted {
                s.trying = s.trying.saturating_sub(1);
                self.counted = false;
            }
        }
        self.gate.changed.notify_waiters();
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.counted {
            self.settle(|_| {});
        }
    }
}

/// Should hosts using this account share a gate? Only domain accounts (a
/// domain other than empty or `.`, or a `user@domain` name): a local
/// account is a different account on every host.
pub fn is_domain_account(user: &str, domain: &str) -> bool {
    let domain = domain.trim();
    (!domain.is_empty() && domain != ".") || user.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ErrorKind;

    #[test]
    fn domain_accounts_only() {
        assert!(is_domain_account("ir", "CORP"));
        assert!(is_domain_account("ir@corp.example", ""));
        assert!(!is_domain_account("Administrator", ""));
        assert!(!is_domain_account("Administrator", "."));
    }

    #[tokio::test]
    async fn rejections_stop_the_credential() {
        let gate = LoginGate::new("ir");
        let cancel = CancellationToken::new();
        for _ in 0..MAX_REJECTIONS {
            gate.admit(&cancel).await.unwrap().unwrap().rejected();
        }
        let err = gate.admit(&cancel).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AuthFailed);
        assert!(err.to_string().contains("lock the account out"), "{err}");
    }

    #[tokio::test]
    async fn at_most_two_unproven_then_free_once_accepted() {
        let gate = LoginGate::new("ir");
        let cancel = CancellationToken::new();
        let a = gate.admit(&cancel).await.unwrap().unwrap();
        let _b = gate.admit(&cancel).await.unwrap().unwrap();
        // A third waits...
        let g = Arc::clone(&gate);
        let c = cancel.clone();
        let third = tokio::spawn(async move { g.admit(&c).await.map(|t| t.is_ok()) });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!third.is_finished());
        // ...until one host accepts; then everyone goes.
        a.accepted();
        assert_eq!(third.await.unwrap(), Some(true));
        assert!(gate.proven());
        let many: Vec<_> = (0..10).map(|_| gate.admit(&cancel)).collect();
        for m in many {
            assert!(m.await.unwrap().is_ok());
        }
    }

    #[tokio::test]
    async fn a_dropped_ticket_frees_its_place_and_cancel_ends_the_wait() {
        let gate = LoginGate::new("ir");
        let cancel = CancellationToken::new();
        let a = gate.admit(&cancel).await.unwrap().unwrap();
        let b = gate.admit(&cancel).await.unwrap().unwrap();
        drop(a); // unreachable host: neither accepted nor rejected
        let c = gate.admit(&cancel).await.unwrap().unwrap();
        drop((b, c));
        let full = [
            gate.admit(&cancel).await.unwrap().unwrap(),
            gate.admit(&cancel).await.unwrap().unwrap(),
        ];
        cancel.cancel();
        assert!(gate.admit(&cancel).await.is_none());
        drop(full);
    }
}
