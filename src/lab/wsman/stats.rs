//! Lab-wide counters of WinRM activity (ground truth for tests and
//! benchmarks), shared by every host and connection.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the lab's WinRM activity since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabStats {
    /// TCP connections accepted.
    pub connections: u64,
    /// HTTP requests received.
    pub requests: u64,
    /// Authentications refused (bad credentials, non-admin, bad tokens).
    pub auth_failures: u64,
    pub shells_created: u64,
    pub shells_deleted: u64,
    /// Shells open now, over all hosts.
    pub open_shells: u64,
}

impl std::fmt::Display for LabStats {
    /// One line for a person: `1234 connections, 5678 requests, ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections, {} requests, {} refused authentications, {} shells opened, {} closed, {} open",
            self.connections,
            self.requests,
            self.auth_failures,
            self.shells_created,
            self.shells_deleted,
            self.open_shells
        )
    }
}

/// The live counters behind [`LabStats`].
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub auth_failures: AtomicU64,
    pub shells_created: AtomicU64,
    pub shells_deleted: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LabStats {
        let created = self.shells_created.load(Ordering::Relaxed);
        let deleted = self.shells_deleted.load(Ordering::Relaxed);
        LabStats {
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
            shells_created: created,
            shells_deleted: deleted,
            open_shells: created.saturating_sub(deleted),
        }
    }
}
