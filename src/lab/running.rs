//! A running lab: every host that is up listens for WinRM on its own
//! address, and tests read ground truth (counters, open shells) from here,
//! never through WinRM.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::spec::{HostFault, LabSpec};
use super::wsman::server;
use super::wsman::shells::HostState;
use super::wsman::stats::Counters;
pub use super::wsman::stats::LabStats;

/// Descriptors kept free beyond one listener per host (connections, files).
const SPARE_DESCRIPTORS: u64 = 4096;

/// A lab whose hosts are listening.
pub struct Lab {
    spec: LabSpec,
    /// Hosts that listen, by lower-cased name.
    hosts: HashMap<String, Arc<HostState>>,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Lab {
    /// Bind every host that is neither `Down` nor `WinrmDisabled` on its
    /// address and port, and serve WinRM on each. Fails, naming the
    /// address, if one cannot be bound; nothing is left listening then.
    pub async fn start(spec: LabSpec) -> anyhow::Result<Lab> {
        raise_descriptor_limit(spec.hosts.len() as u64);
        let counters = Arc::new(Counters::default());
        let shutdown = CancellationToken::new();
        let mut hosts = HashMap::with_capacity(spec.hosts.len());
        let mut tasks = Vec::with_capacity(spec.hosts.len());
        for host in &spec.hosts {
            if matches!(host.fault, HostFault::Down | HostFault::WinrmDisabled) {
                continue;
            }
            let address = SocketAddrV4::new(host.address, host.port);
            let listener = match server::bind(address)
                .with_context(|| format!("lab host {} cannot listen on {address}", host.name))
            {
                Ok(l) => l,
                Err(e) => {
                    shutdown.cancel();
                    for task in tasks {
                        let _ = task.await;
                    }
                    return Err(e);
                }
            };
            let state = Arc::new(HostState::new(
                Arc::new(host.clone()),
                Arc::clone(&counters),
                shutdown.clone(),
            ));
            tasks.push(server::spawn(listener, Arc::clone(&state)));
            hosts.insert(host.name.to_lowercase(), state);
        }
        Ok(Lab {
            spec,
            hosts,
            counters,
            shutdown,
            tasks,
        })
    }

    /// What the lab was started from.
    pub fn spec(&self) -> &LabSpec {
        &self.spec
    }

    /// Totals since the lab started, over all hosts.
    pub fn stats(&self) -> LabStats {
        self.counters.snapshot()
    }

    /// Shells open now on the host named `host_name` (0 for an unknown or
    /// non-listening host).
    pub fn open_shells(&self, host_name: &str) -> usize {
        self.hosts
            .get(&host_name.to_lowercase())
            .map_or(0, |h| h.open_shells())
    }

    /// Stop listening, let connections finish the request in hand (briefly),
    /// and wait until every task has ended.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Lab {
    /// A lab dropped without `stop` still stops listening (in the
    /// background).
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("hosts", &self.spec.hosts.len())
            .field("listening", &self.hosts.len())
            .finish()
    }
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit, so that thousands of
/// hosts can listen; a limit still too low shows as a bind error naming the
/// host.
fn raise_descriptor_limit(listeners: u64) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < listeners + SPARE_DESCRIPTORS => {
            tracing::warn!(
                limit,
                listeners,
                "open-file limit is low for this many lab hosts"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}
