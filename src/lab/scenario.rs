//! Lab scenarios: the network a lab stands up, from a YAML file
//! ([`load`], format documented in `examples/lab/small.yml`) or from a host
//! count ([`simple`], for `--hosts N`).
//!
//! A scenario names host groups (one `name`, or a `name_pattern` with one
//! `[START:END]` range), each with an OS, accounts, WinRM settings, latency,
//! clock skew and a fault; `defaults:` applies to every group. Hosts get
//! consecutive addresses from `base_address` in file order, skipping the
//! `.0` and `.255` of each /24.

mod build;
mod raw;
mod raw_world;
mod world;
pub mod presets;
#[cfg(test)]
mod tests;

use super::spec::{Account, HostFault, HostSpec, LabSettings, LabSpec, OsInfo, WorldSpec};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lab's one password: a fixed, obviously-lab value. Never use it
/// anywhere real.
pub const LAB_PASSWORD: &str = "Lab-Passw0rd!";

/// The lab's admin account name (in domain [`LAB_DOMAIN`]).
pub const LAB_USER: &str = "cauterize";

/// The lab's domain.
pub const LAB_DOMAIN: &str = "LAB";

/// Default first address of a lab.
pub const DEFAULT_BASE: Ipv4Addr = Ipv4Addr::new(127, 40, 0, 1);

/// Most hosts a scenario may describe.
pub const MAX_HOSTS: usize = 100_000;

/// Largest scenario file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum ScenarioError {
    /// The file could not be read.
    Read { path: PathBuf, source: std::io::Error },
    /// The file is not a valid scenario; `line` and `column` are 1-based
    /// (0 when unknown), `field` the key at fault (empty when none).
    Invalid { path: PathBuf, line: u64, column: u64, field: String, message: String },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { path, source } => write!(f, "{}: cannot read the scenario: {source}", path.display()),
            ScenarioError::Invalid { path, line, column, field, message } => {
                write!(f, "{}", path.display())?;
                if *line > 0 {
                    write!(f, ":{line}:{column}")?;
                }
                if !field.is_empty() {
                    write!(f, ": `{field}`")?;
                }
                write!(f, ": {message}")
            }
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Read { source, .. } => Some(source),
            ScenarioError::Invalid { .. } => None,
        }
    }
}

/// A scenario: the hosts as WinRM sees them, and what they are as Windows
/// machines (with the lab's speed and seed).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub spec: LabSpec,
    pub world: WorldSpec,
}

impl Scenario {
    /// `spec`'s hosts with derived worlds (see [`HostWorld::derived`](super::spec::HostWorld::derived)).
    pub fn derived(spec: LabSpec, lab: LabSettings) -> Scenario {
        let world = WorldSpec::derived(&spec, lab);
        Scenario { spec, world }
    }
}

/// Load a scenario file, hosts and worlds.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = read(path)?;
    parse_scenario(&text, path)
}

/// Parse scenario text, hosts and worlds; `path` is only used in messages.
pub fn parse_scenario(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    build::build_scenario(text).map_err(|e| located(e, path))
}

fn located(e: build::BuildError, path: &Path) -> ScenarioError {
    ScenarioError::Invalid { path: path.to_path_buf(), line: e.line, column: e.column, field: e.field, message: e.message }
}

/// Load a scenario file (the hosts as WinRM sees them).
pub fn load(path: &Path) -> Result<LabSpec, ScenarioError> {
    load_scenario(path).map(|s| s.spec)
}

/// The text of a scenario file, refused past [`MAX_FILE_BYTES`].
fn read(path: &Path) -> Result<String, ScenarioError> {
    let read_err = |source| ScenarioError::Read { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("the file is {} bytes; at most {MAX_FILE_BYTES} are read", meta.len()),
        });
    }
    std::fs::read_to_string(path).map_err(read_err)
}

/// Parse scenario text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<LabSpec, ScenarioError> {
    build::build(text).map_err(|e| located(e, path))
}

/// The next usable address after `addr` (skipping `.0` and `.255`), or
/// `None` past the end of the address space.
pub fn next_address(addr: Ipv4Addr) -> Option<Ipv4Addr> {
    let mut n = u32::from(addr);
    loop {
        n = n.checked_add(1)?;
        let last = n & 0xff;
        if last != 0 && last != 255 {
            return Some(Ipv4Addr::from(n));
        }
    }
}

/// `base` itself when usable, else the next usable address.
pub fn first_address(base: Ipv4Addr) -> Option<Ipv4Addr> {
    let last = u32::from(base) & 0xff;
    if last != 0 && last != 255 { Some(base) } else { next_address(base) }
}

/// The OS of host `index` (0-based) in a [`simple`] lab: every 7th a
/// Windows 7 (PowerShell 2.0), every 5th a Server 2019, the rest Windows 10.
fn simple_os(index: u32) -> OsInfo {
    let name = if (index + 1).is_multiple_of(7) {
        "win7"
    } else if (index + 1).is_multiple_of(5) {
        "win2019"
    } else {
        "win10"
    };
    presets::preset(name).unwrap_or_else(|| OsInfo {
        caption: "Microsoft Windows 10 Enterprise".into(),
        build: "19045".into(),
        ps_version: "5.1.19041.1".into(),
    })
}

/// A lab of `count` healthy hosts named `WS-001`.. on consecutive addresses
/// from `base` (skipping `.0` and `.255`), domain `LAB`, one admin account
/// `LAB\cauterize` with [`LAB_PASSWORD`]. Stops early if the address space
/// runs out.
pub fn simple(count: u32, base: Ipv4Addr, port: u16) -> LabSpec {
    let width = count.to_string().len().max(3);
    let mut hosts = Vec::new();
    let mut addr = first_address(base);
    for i in 0..count {
        let Some(address) = addr else { break };
        let os = simple_os(i);
        hosts.push(HostSpec {
            name: format!("WS-{:0width$}", i + 1),
            address,
            port,
            domain: LAB_DOMAIN.into(),
            max_shells_per_user: presets::default_max_shells(&os),
            os,
            accounts: vec![Account {
                domain: LAB_DOMAIN.into(),
                user: LAB_USER.into(),
                password: LAB_PASSWORD.into(),
                admin: true,
            }],
            allow_unencrypted: false,
            allow_basic: false,
            https: false,
            latency: Duration::ZERO,
            clock_skew_secs: 0,
            fault: HostFault::None,
        });
        addr = next_address(address);
    }
    LabSpec { hosts }
}
