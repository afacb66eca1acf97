//! A running lab: every host that is up listens for WinRM on its own
//! address, every host has its simulated Windows state in the shared
//! [`Network`], and tests read ground truth (counters, open shells, what is
//! really on a host) and arrange state from here, never through WinRM.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::network::runner::{self, OutbreakTotals};
use super::network::{Census, HostRef, HostTruth, Network};
use super::outbreak::{Event, RebootError};
use super::spec::{HostFault, LabSettings, LabSpec, WorldSpec};
use super::tls::{self, LabCa};
use super::world::{self, LabTime};
use super::wsman::server;
use super::wsman::shells::HostState;
use super::wsman::stats::Counters;
pub use super::wsman::stats::LabStats;

/// Descriptors kept free beyond one listener per host (connections, files).
const SPARE_DESCRIPTORS: u64 = 4096;

/// A lab whose hosts are listening.
pub struct Lab {
    spec: LabSpec,
    network: Arc<Network>,
    outbreak: Arc<OutbreakTotals>,
    /// Hosts that listen, by lower-cased name.
    hosts: HashMap<String, Arc<HostState>>,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    /// Signs the certificates of the hosts with HTTPS.
    ca: LabCa,
}

impl Lab {
    /// Start a lab whose hosts are what [`WorldSpec::derived`] makes of
    /// `spec`, in real time: see [`Lab::start_world`].
    pub async fn start(spec: LabSpec) -> anyhow::Result<Lab> {
        let world = WorldSpec::derived(&spec, LabSettings::default());
        Lab::start_world(spec, world).await
    }

    /// Build every host's Windows state, bind every host that is up and
    /// has WinRM enabled on its address and port, and serve WinRM on each
    /// (hosts off at start listen once they power on). Fails, naming the
    /// address, if one cannot be bound; nothing is left listening then.
    pub async fn start_world(spec: LabSpec, world: WorldSpec) -> anyhow::Result<Lab> {
        anyhow::ensure!(
            world.hosts.len() == spec.hosts.len(),
            "the world describes {} hosts, the lab {}",
            world.hosts.len(),
            spec.hosts.len()
        );
        raise_descriptor_limit(spec.hosts.len() as u64);
        let network = {
            let (s, w) = (spec.clone(), world.clone());
            Arc::new(tokio::task::spawn_blocking(move || Network::build(&s, &w)).await?)
        };
        let counters = Arc::new(Counters::default());
        let shutdown = CancellationToken::new();
        let ca = LabCa::generate()?;
        let mut hosts = HashMap::with_capacity(spec.hosts.len());
        let mut tasks = Vec::with_capacity(spec.hosts.len());
        for (index, host) in spec.hosts.iter().enumerate() {
            if host.fault == HostFault::WinrmDisabled {
                continue;
            }
            let address = SocketAddrV4::new(host.address, host.port);
            let listener = if network.is_up(index) {
                match server::bind(address)
                    .with_context(|| format!("lab host {} cannot listen on {address}", host.name))
                {
                    Ok(l) => Some(l),
                    Err(e) => {
                        shutdown.cancel();
                        for task in tasks {
                            let _ = task.await;
                        }
                        return Err(e);
                    }
                }
            } else {
                None
            };
            let state = Arc::new(HostState::attached(
                Arc::new(host.clone()),
                HostRef { network: Arc::clone(&network), index },
                Arc::clone(&counters),
                shutdown.clone(),
            ));
            tasks.push(server::spawn(listener, address, Arc::clone(&state)));
            if host.https {
                match tls::listen(host, network.is_up(index), &ca) {
                    Ok((l, a, t)) => tasks.push(server::spawn_https(l, a, Arc::clone(&state), t)),
                    Err(e) => {
                        shutdown.cancel();
                        for task in tasks {
                            let _ = task.await;
                        }
                        return Err(e);
                    }
                }
            }
            hosts.insert(host.name.to_lowercase(), state);
        }
        let outbreak = Arc::new(OutbreakTotals::default());
        tasks.push(runner::spawn(
            Arc::clone(&network),
            world.lab.step_every,
            Arc::clone(&outbreak),
            shutdown.clone(),
        ));
        Ok(Lab {
            spec,
            network,
            outbreak,
            hosts,
            counters,
            shutdown,
            tasks,
            ca,
        })
    }

    /// The lab CA's certificate (PEM), which signed every HTTPS host's
    /// certificate: a client trusts the lab with
    /// `cert_validation: {ca_file: <this, written to a file>}`.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// What the lab was started from.
    pub fn spec(&self) -> &LabSpec {
        &self.spec
    }

    /// The simulated network (every host's Windows state, power, clock).
    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    /// Lab time now.
    pub fn now(&self) -> LabTime {
        self.network.now()
    }

    /// Ground truth about the host named `host_name`.
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn truth(&self, host_name: &str) -> HostTruth {
        self.network.truth(self.index(host_name))
    }

    /// Run `f` on the Windows state of the host named `host_name` (tests
    /// arrange state this way), under the network lock: keep it short.
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn with_host<R>(&self, host_name: &str, f: impl FnOnce(&mut world::HostState) -> R) -> R {
        self.network.with_host(self.index(host_name), |state, _| f(state))
    }

    /// Run `script` as PowerShell on the host named `host_name`, in
    /// process, as its first administrator account would over WinRM (the
    /// same engine and the host's own PowerShell version, without the
    /// transport): for tests that read many hosts' output without
    /// connections. Under the network lock, like [`Lab::with_host`].
    ///
    /// # Panics
    /// When the lab has no such host, or it has no administrator (a
    /// test's mistake).
    pub fn run_powershell(&self, host_name: &str, script: &str) -> super::emulate::CommandResult {
        let index = self.index(host_name);
        let spec = &self.spec.hosts[index];
        let admin = spec.accounts.iter().find(|a| a.admin).unwrap_or_else(|| panic!("{host_name} has no administrator"));
        let user = super::emulate::identity::qualified(spec, &format!(r"{}\{}", admin.domain, admin.user));
        self.network.with_host_power(index, |state, shutdown, now| {
            let mut target = super::emulate::Target { host: spec, world: state, shutdown, now };
            super::powershell::run(&mut target, &user, true, script, &[])
        })
    }

    /// Every file (not folder) on every host, as ground truth: lower-case
    /// path → SHA-256 (hex, empty for a file with no bytes), by host name.
    pub fn file_hashes(&self) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
        self.spec()
            .hosts
            .iter()
            .map(|h| {
                let files = self.with_host(&h.name, |s| {
                    s.files
                        .iter()
                        .filter(|(_, e)| !e.is_dir())
                        .map(|(p, e)| (p.to_lowercase(), e.sha256().map(|x| super::world::files::hex(&x)).unwrap_or_default()))
                        .collect()
                });
                (h.name.clone(), files)
            })
            .collect()
    }

    /// Give every file the loaders planted on the host named `host_name`
    /// real bytes (4 KiB, distinct per file) in place of the size and hash
    /// the lab keeps for them: its payloads and its residue (a first stage
    /// the lab counts among what a loader left). A real host's files can be
    /// read, so an evidence copy of them can be made over WinRM; the lab's
    /// stand-ins cannot. A file that has bytes already keeps them, so this
    /// may be called again (a host infected again by the outbreak) without
    /// changing what a scan saw. Returns the files, sorted.
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn give_loader_files_bytes(&self, host_name: &str) -> Vec<String> {
        let truth = self.truth(host_name);
        let residue = truth.presence.families.values().flat_map(|p| &p.other).filter_map(|a| match &a.what {
            crate::lab::malware::Artifact::File { path } => Some(path.clone()),
            _ => None,
        });
        let mut files: Vec<String> = truth.files.iter().map(|(_, f)| f.clone()).chain(residue).collect();
        files.sort_by_key(|f| f.to_lowercase());
        files.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let now = self.now();
        self.with_host(host_name, |s| {
            for (i, f) in files.iter().enumerate() {
                let has_bytes = s.files.get(f).and_then(|e| e.file()).is_some_and(|d| matches!(d.content, world::files::Content::Bytes(_)));
                // A signed file is a genuine program the loader copied
                // (Dridex's side-loading host): its bytes are Windows',
                // not the loader's, and new ones would drop its signature.
                let signed = s.files.get(f).and_then(|e| e.file()).is_some_and(|d| d.signer.is_some());
                if has_bytes || signed {
                    continue;
                }
                let bytes: Vec<u8> = b"MZ".iter().copied().chain((0..4096u32).map(|n| (n * 31 + i as u32) as u8)).collect();
                // Planting fails only on a path the lab cannot hold: that
                // file keeps its stand-in (and the purge leaves it, having
                // no evidence copy of it).
                let _ = s.files.plant_file(f, world::files::Content::bytes(bytes), None, now);
            }
        });
        files
    }

    /// Move `profile` onto the host named `to` from `source` by `vector`
    /// at lab time `at`, as the outbreak's spread does (logon, copy,
    /// service or task, all in the host's logs), and keep the infection in
    /// the host's ground truth, so [`Lab::truth`] and
    /// [`Lab::give_loader_files_bytes`] see what it planted. For tests that
    /// stage a spread at a chosen time. `None` when the vector does not get
    /// in (as the outbreak would record a denied spread).
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn spread_onto(
        &self,
        to: &str,
        profile: &super::malware::FamilyProfile,
        source: &super::malware::lateral::Source,
        vector: super::malware::Vector,
        seed: u64,
        at: LabTime,
    ) -> Option<super::malware::Origin> {
        use rand::SeedableRng;
        let index = self.index(to);
        self.network.with_all(|hosts, _| {
            let host = &mut hosts.hosts[index];
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let inf = super::malware::lateral::deliver(&mut host.state, profile, source, vector, &mut rng, at)?;
            let origin = inf.origin.clone();
            host.infections.push(inf);
            Some(origin)
        })
    }

    /// Counts over the network now: infected, clean, contained, down.
    pub fn census(&self) -> Census {
        self.network.census()
    }

    /// Who reached whom so far (the outbreak's ground truth of lateral
    /// movement), in time order.
    pub fn reached(&self) -> Vec<crate::lab::network::truth::Reach> {
        self.network.reached()
    }

    /// Every host's power changes so far, by host name: the lab's reboot
    /// history (see [`crate::lab::network::history`]).
    pub fn power_history(&self) -> Vec<(LabTime, String, crate::lab::network::history::PowerChange)> {
        self.network.power_history()
    }

    /// What the outbreak did since the lab started.
    pub fn outbreak(&self) -> &OutbreakTotals {
        &self.outbreak
    }

    /// Reboot the host named `host_name` now, as a reboot requested over
    /// WinRM does (see [`Network::request_reboot`]).
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn request_reboot(&self, host_name: &str) -> Result<Vec<Event>, RebootError> {
        self.network.request_reboot(self.index(host_name))
    }

    /// Power the host named `host_name` on (see [`Network::power_on`]).
    ///
    /// # Panics
    /// When the lab has no such host (a test's mistake).
    pub fn power_on(&self, host_name: &str) -> Result<(), RebootError> {
        self.network.power_on(self.index(host_name))
    }

    fn index(&self, host_name: &str) -> usize {
        self.network
            .index_of(host_name)
            .unwrap_or_else(|| panic!("the lab has no host named {host_name}"))
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
