//! What one collection returns about a host: every place a loader can start
//! from, the processes running, and the facts of every file those point at.
//!
//! This is the contract between the host-side collection (PowerShell on
//! Windows, the lab's model in tests) and detection. Every string in it came
//! from a possibly hostile machine: it is data, never code. Host texts are
//! in the held form of [`super::host_text`]: exact, an unpaired surrogate
//! as one private-use character (plain text is itself).

use serde::{Deserialize, Serialize};

use super::host_text::HostName;

/// A user profile on the host, with that user's own folders (expanded for
/// that user, not for the account running the collection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub name: String,
    pub sid: String,
    /// `C:\Users\<name>`.
    pub profile_path: String,
    /// `%APPDATA%` of this user (Roaming).
    pub appdata: String,
    /// `%LOCALAPPDATA%` of this user.
    pub local_appdata: String,
    /// `%TEMP%` of this user.
    pub temp: String,
    /// The hive was loaded (user logged on) when collected; otherwise its
    /// NTUSER.DAT was loaded under a temporary key and unloaded again.
    pub logged_on: bool,
}

impl UserProfile {
    /// The profile of a service account (SYSTEM, LocalService,
    /// NetworkService), whose hives are always loaded; `None` for any
    /// other SID.
    pub fn service_account(sid: &str) -> Option<UserProfile> {
        let (name, root) = match sid.to_ascii_uppercase().as_str() {
            "S-1-5-18" => ("SYSTEM", r"C:\Windows\System32\config\systemprofile"),
            "S-1-5-19" => ("LOCAL SERVICE", r"C:\Windows\ServiceProfiles\LocalService"),
            "S-1-5-20" => (
                "NETWORK SERVICE",
                r"C:\Windows\ServiceProfiles\NetworkService",
            ),
            _ => return None,
        };
        let temp = if name == "SYSTEM" {
            r"C:\Windows\Temp".to_string()
        } else {
            format!(r"{root}\AppData\Local\Temp")
        };
        Some(UserProfile {
            name: name.into(),
            sid: sid.to_ascii_uppercase(),
            profile_path: root.into(),
            appdata: format!(r"{root}\AppData\Roaming"),
            local_appdata: format!(r"{root}\AppData\Local"),
            temp,
            logged_on: true,
        })
    }
}

/// Where an autostart entry lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AutorunLocation {
    /// A value under a Run-family key. `hive` is `HKLM` or the user's SID.
    RegistryValue {
        hive: String,
        key: String,
        value: String,
    },
    /// A file in a startup folder; `target` is the shortcut's target when
    /// the file is a .lnk.
    StartupFolder { path: String },
}

/// One autostart entry: where it is and what it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autorun {
    pub location: AutorunLocation,
    /// SID of the user it runs as / belongs to; `None` for machine-wide.
    pub user_sid: Option<String>,
    /// The command as stored (value data, or for a shortcut its target and
    /// arguments), not expanded.
    pub command: String,
    /// Registry value type as Windows names it (`REG_SZ`, ...), or `LNK`,
    /// `FILE` for startup-folder items.
    pub value_type: String,
    /// For a registry value: SHA-256 of its whole data, computed on the
    /// host (`runtime::ops::reg_data_sha256`); what a delete compares.
    #[serde(default)]
    pub data_sha256: String,
    /// `command` is not all of the value's data (over the field bound).
    #[serde(default)]
    pub data_cut: bool,
}

/// A service as the Service Control Manager has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub display_name: String,
    pub image_path: String,
    /// `boot`, `system`, `auto`, `demand`, `disabled`.
    pub start_type: String,
    /// `running`, `stopped`, ...
    pub state: String,
    pub account: String,
    /// `Parameters\ServiceDll` of the service key (svchost-hosted
    /// services: the DLL that really runs), as stored; empty when none.
    #[serde(default)]
    pub service_dll: String,
    /// A kernel or file-system driver (`Win32_SystemDriver`), not a
    /// service: `image_path` is the driver file as WMI resolves it.
    #[serde(default)]
    pub driver: bool,
}

/// One action of a scheduled task (exact: it is what a task delete
/// compares, see [`HostName`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAction {
    pub path: HostName,
    pub arguments: HostName,
    pub working_directory: HostName,
}

/// A scheduled task, hidden ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Folder path and name, e.g. `\Microsoft\Windows\Defrag\ScheduledDefrag`.
    pub path: String,
    pub actions: Vec<TaskAction>,
    /// Human-readable trigger summaries, e.g. `logon`, `boot`, `once`,
    /// `repeat PT30M`.
    pub triggers: Vec<String>,
    pub author: String,
    /// Account it runs as, e.g. `NT AUTHORITY\SYSTEM`.
    pub principal: String,
    pub enabled: bool,
    pub hidden: bool,
}

/// A WMI permanent event subscription (filter, consumer and their binding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WmiSubscription {
    pub filter_name: String,
    pub query: String,
    pub consumer_name: String,
    /// `CommandLineEventConsumer`, `ActiveScriptEventConsumer`, ...
    pub consumer_type: String,
    /// Command line or script text of the consumer.
    pub action: String,
}

/// A running process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub parent_pid: u32,
    pub image: String,
    pub command_line: String,
    pub user: String,
    /// Start time, UTC, ISO 8601.
    pub started: String,
}

/// Facts about one file that something starts (or a folder around it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileFacts {
    /// The path as asked for (or as the sweep found it).
    pub path: String,
    /// The long form of `path` when it differs (8.3 short names such as
    /// `MICROS~1` expanded, as Windows' `GetLongPathName` gives them);
    /// empty otherwise.
    #[serde(default)]
    pub long_path: String,
    /// Found by the drop-folder sweep (named by nothing collected), not
    /// asked for by name.
    #[serde(default)]
    pub swept: bool,
    pub exists: bool,
    pub is_dir: bool,
    pub size: u64,
    /// Lower-case hex; empty when not hashed (a directory, or unreadable).
    pub sha256: String,
    /// UTC, ISO 8601.
    pub created: String,
    pub modified: String,
    /// `valid`, `invalid`, `unsigned`, `unknown`.
    pub signature: String,
    pub signer: String,
    /// The original file name its PE version information gives
    /// (`OriginalFilename`, e.g. `RUNDLL32.EXE` for a renamed copy of
    /// rundll32); empty when it has none or it was not read (read with the
    /// hash and signature: not for a swept file whose extension is not
    /// hashed). The runtime reports it as the `original_name` field of a
    /// file record.
    #[serde(default)]
    pub original_name: String,
    /// Number of entries when `is_dir`.
    pub entries: u32,
    /// Names of the entries when `is_dir` (bounded; may be empty when not
    /// listed). Detection uses it to see a loader folder's other files and
    /// whether a folder name also exists elsewhere.
    #[serde(default)]
    pub listing: Vec<String>,
}

/// A registry value of interest that is not an autostart (Defender
/// exclusions, loader configuration blobs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryValue {
    pub hive: String,
    pub key: String,
    pub value: String,
    pub value_type: String,
    /// Text data, or lower-case hex for binary data (bounded).
    pub data: String,
    /// SHA-256 of the whole data, computed on the host (see
    /// [`Autorun::data_sha256`]).
    #[serde(default)]
    pub data_sha256: String,
    /// `data` is not all of it (binary data over its bound, or text over
    /// the field bound).
    #[serde(default)]
    pub data_cut: bool,
}

/// A bound that was hit while collecting: never silent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    /// What was cut, e.g. `values under HKU\S-1-5-21-...\...\Run`.
    pub what: String,
    /// The bound, e.g. `10000 values`.
    pub limit: String,
}

/// What one event record says happened (the fields lateral movement
/// leaves; see `fleet::lateral`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// System 7045: a service was installed.
    ServiceInstalled { service: String, image_path: String, account: String },
    /// Task Scheduler Operational 106 or Security 4698: a task was
    /// registered.
    TaskRegistered { task: String, user: String },
    /// Security 4624 with logon type 3 (network).
    NetworkLogon { source_address: String, account: String, logon_type: u32 },
}

/// One event record of the host's logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// `System`, `Security` or `Microsoft-Windows-TaskScheduler/Operational`.
    pub log: String,
    pub event_id: u32,
    /// `EventRecordID` (grows only, per log).
    pub record_id: u64,
    /// Time created, UTC, ISO 8601, on the host's clock.
    pub at: String,
    pub kind: EventKind,
}

/// How one log (one event ID of it) could be read: "no events" is never
/// mistaken for "nothing happened".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventLogRead {
    pub log: String,
    pub event_id: u32,
    /// `read`, `disabled` (the log is off: it records nothing),
    /// `denied` (the account may not read it: Security needs an
    /// administrator), `absent` (no such log), `unavailable` (no
    /// Get-WinEvent: PowerShell 2.0 without .NET 3.5) or `failed`.
    pub state: String,
    /// Windows' message when not read.
    pub detail: String,
    /// Records read (at most the bound).
    pub read: u32,
    /// The bound was reached: older records in the window were not read.
    pub cut: bool,
    /// Time of the oldest record read (UTC, ISO 8601), empty when none.
    pub oldest: String,
    /// When the host read the log, by its own clock (UTC, ISO 8601).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub read_at: String,
}

/// What a host serves, as it reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Serves {
    /// `Win32_ComputerSystem.DomainRole` (0-1 workstation, 2-3 server,
    /// 4-5 domain controller); `None` when WMI did not say.
    pub domain_role: Option<u32>,
    /// The folders it shares (`LanmanServer\Shares`' value names: never
    /// the administrative `C$`, `ADMIN$`, `IPC$`).
    pub shares: Vec<String>,
    /// The printers it shares, by share name.
    pub printers: Vec<String>,
}

/// Everything one collection returned about a host.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub computer_name: String,
    pub os_caption: String,
    pub os_build: String,
    pub ps_version: String,
    /// UTC, ISO 8601, on the host's clock.
    pub collected_at: String,
    pub users: Vec<UserProfile>,
    pub autoruns: Vec<Autorun>,
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    pub wmi: Vec<WmiSubscription>,
    pub processes: Vec<Process>,
    pub files: Vec<FileFacts>,
    pub registry: Vec<RegistryValue>,
    pub truncated: Vec<Truncation>,
    /// Serial number of the system (C:) volume. Emotet (2019-2020) derives
    /// its file name and its `Explorer\<serial-hex>` value from it.
    #[serde(default)]
    pub system_volume_serial: Option<u32>,
    /// Lower-case base names (no extension) of the PE files directly in
    /// System32, when collected (bounded). Emotet 2020 names its folder and
    /// file after them.
    #[serde(default)]
    pub system32_names: Vec<String>,
    /// What the event logs recorded of lateral movement, newest first per
    /// log (see [`super::ops::Query::Events`]).
    #[serde(default)]
    pub events: Vec<LoggedEvent>,
    /// How each log was read.
    #[serde(default)]
    pub event_logs: Vec<EventLogRead>,
    /// What the host serves, when the runtime read it: its domain role,
    /// the folders and printers it shares (containment exempts domain
    /// controllers, file and print servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serves: Option<Serves>,
    /// Set by the scan, not the host: the operator's address as this host
    /// sees it (the local end of a TCP connection to its WinRM port; empty
    /// through a proxy or when it could not be told). The host's network
    /// logons from it are cauterize's own.
    #[serde(default)]
    pub operator_address: String,
    /// Set by the scan: the host's clock minus the operator's, in
    /// milliseconds (`collected_at` against the operator's clock when the
    /// collection began; off by at most the time the runtime took to start).
    #[serde(default)]
    pub clock_skew_ms: Option<i64>,
}
