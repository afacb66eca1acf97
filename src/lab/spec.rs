//! What a lab host is, before it runs: identity, accounts, OS, WinRM
//! settings and the faults a scenario gives it ([`LabSpec`]), and what it
//! is as a simulated Windows machine ([`WorldSpec`]: role, users, patch
//! level, look-alike software, infections, power; lab speed and seed).
//! Built from a scenario file or from `--hosts N`.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::malware::FamilyProfile;
use super::world::{Arch, BenignProduct, LabTime, Os, Role, UserSpec};

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
    /// An HTTPS listener on port 5986 too, with a certificate from the
    /// lab's CA (Windows default: none).
    pub https: bool,
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

/// How the simulated network runs: lab time and randomness.
#[derive(Debug, Clone, PartialEq)]
pub struct LabSettings {
    /// Lab seconds per wall second (1: real time; 60: an hour a minute).
    pub speed: f64,
    /// Seed of every random choice (worlds, infections, the outbreak).
    pub seed: u64,
    /// Lab time when the lab starts.
    pub start: LabTime,
    /// Wall time between two outbreak steps.
    pub step_every: Duration,
}

impl Default for LabSettings {
    fn default() -> Self {
        LabSettings { speed: 1.0, seed: 1, start: LabTime::EPOCH, step_every: Duration::from_secs(1) }
    }
}

/// What a host is as a Windows machine, beyond its WinRM face: role, users,
/// local administrator password, patch level, installed look-alikes,
/// infections at start, power behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostWorld {
    pub role: Role,
    pub arch: Arch,
    /// Profiles created on the host (the first logged-on one is the
    /// console user).
    pub users: Vec<UserSpec>,
    /// The built-in Administrator's password (shared ones let worms move).
    pub local_admin_password: String,
    pub ms17_010_patched: bool,
    pub benign: Vec<BenignProduct>,
    /// Loaders planted at start (as the console user, SYSTEM if none).
    pub infections: Vec<FamilyProfile>,
    /// File and Printer Sharing open inbound (as a domain GPO commonly
    /// sets it): SMB reaches the host.
    pub smb_open: bool,
    /// A domain admin is or was logged on: a loader here can harvest a
    /// domain credential and log on to any host of the domain.
    pub domain_admin_logged_on: bool,
    /// Task Scheduler history is on (the
    /// `Microsoft-Windows-TaskScheduler/Operational` log; off by default on
    /// client Windows).
    pub task_history: bool,
    /// Lab seconds after the start at which a host that is off at start
    /// powers on (`None`: on at start, or never for `HostFault::Down`).
    pub online_after_secs: Option<u64>,
    /// How long a reboot keeps the host down, in lab seconds.
    pub reboot_down_secs: u64,
    /// After boot, how long until WinRM answers, in lab seconds.
    pub winrm_delay_secs: u64,
    /// A reboot never comes back.
    pub reboot_hangs: bool,
    /// A reboot asked for never starts: the host stays up as it was.
    pub reboot_fails: bool,
}

/// The simulated network's settings and one [`HostWorld`] per host, in the
/// order of [`LabSpec::hosts`].
#[derive(Debug, Clone, PartialEq)]
pub struct WorldSpec {
    pub lab: LabSettings,
    pub hosts: Vec<HostWorld>,
}

/// Default lab users beyond the admin account: a console user and one more.
const DEFAULT_USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

impl HostWorld {
    /// What a host is when the scenario says nothing: a workstation (a
    /// server when its caption says so) on x64, the admin account's profile
    /// plus two domain users of whom the first is logged on, a local
    /// Administrator password of its own, fully patched, SMB open inbound
    /// in a domain, clean, and a 90 s reboot with WinRM 30 s after boot.
    pub fn derived(host: &HostSpec, index: usize) -> HostWorld {
        let role = if host.os.caption.contains("Server") { Role::Server } else { Role::Workstation };
        let mut users = Vec::new();
        if let Some(admin) = host.accounts.iter().find(|a| a.admin) {
            users.push(if admin.domain.is_empty() {
                UserSpec::local(&admin.user, false)
            } else {
                UserSpec::domain(&admin.user, false)
            });
        }
        let n = DEFAULT_USERS.len();
        users.push(UserSpec::domain(DEFAULT_USERS[index % n], role == Role::Workstation));
        users.push(UserSpec::domain(DEFAULT_USERS[(index + 3) % n], false));
        HostWorld {
            role,
            arch: Arch::X64,
            users,
            local_admin_password: format!("Local-{}-Adm1n!", host.name),
            ms17_010_patched: true,
            benign: Vec::new(),
            infections: Vec::new(),
            smb_open: !host.domain.eq_ignore_ascii_case("WORKGROUP"),
            domain_admin_logged_on: false,
            task_history: false,
            online_after_secs: None,
            reboot_down_secs: 90,
            winrm_delay_secs: 30,
            reboot_hangs: false,
            reboot_fails: false,
        }
    }
}

impl WorldSpec {
    /// Every host [`HostWorld::derived`], with these settings.
    pub fn derived(spec: &LabSpec, lab: LabSettings) -> WorldSpec {
        WorldSpec { lab, hosts: spec.hosts.iter().enumerate().map(|(i, h)| HostWorld::derived(h, i)).collect() }
    }
}

impl OsInfo {
    /// The world's view of this OS on `arch` (an unreadable build counts as
    /// Windows 10's 19045).
    pub fn to_world(&self, arch: Arch) -> Os {
        let build = self.build.trim().parse().unwrap_or(19045);
        Os::new(&self.caption, build, arch, &self.ps_version)
    }
}
