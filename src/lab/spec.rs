//! What a lab host is, before it runs: identity, accounts, OS, WinRM
//! settings and the faults a scenario gives it. Built from a scenario file
//! or from `--hosts N`.

use std::net::Ipv4Addr;
use std::time::Duration;

/// A local account (or a domain account the host accepts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `DOMAIN` part; empty for a local account (matched against the host
    /// name, or any domain, as Windows does for local accounts).
    pub domain: String,
    pub user: String,
    pub password: String,
    /// Member of Administrators (WinRM lets only admins in by default).
    pub admin: bool,
}

/// Operating system identity as the probe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    pub caption: String,
    pub build: String,
    /// `$PSVersionTable.PSVersion`, e.g. "2.0", "5.1.17763.1", "7.4.6".
    pub ps_version: String,
}

/// A fault the scenario gives a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostFault {
    #[default]
    None,
    /// Powered off: nothing listens on its address (connection refused).
    Down,
    /// The host is up but WinRM is not enabled: the port is closed.
    WinrmDisabled,
    /// Commands start but never finish: every Receive times out.
    HangReceive,
}

/// One simulated Windows host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// NetBIOS-style computer name (what `hostname` prints), e.g. `WS-001`.
    pub name: String,
    pub address: Ipv4Addr,
    pub port: u16,
    /// NetBIOS domain name (`CORP`) or workgroup.
    pub domain: String,
    pub os: OsInfo,
    pub accounts: Vec<Account>,
    /// WinRM service `AllowUnencrypted` (Windows default: false).
    pub allow_unencrypted: bool,
    /// WinRM service Basic auth (Windows default: false).
    pub allow_basic: bool,
    /// WinRM `MaxShellsPerUser` (30 on current Windows, 5 on WinRM 2.0).
    pub max_shells_per_user: u32,
    /// Added before every answer.
    pub latency: Duration,
    /// Seconds this host's clock is ahead of real time (negative: behind).
    pub clock_skew_secs: i64,
    pub fault: HostFault,
}

/// The whole lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabSpec {
    pub hosts: Vec<HostSpec>,
}
