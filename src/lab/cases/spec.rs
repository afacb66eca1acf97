//! The schema of `tests/data/artifacts.yaml`: documented loader artifacts
//! (and benign look-alikes) as they would appear on a host. Read by the
//! snapshot-level detection test (`src/detect/cases_test.rs`) and by the
//! lab test that places each case on a simulated host
//! (`tests/cases_on_lab.rs`); the schema is described at the top of the
//! data file.

use serde::Deserialize;

use crate::detect::Family;

/// The whole file.
#[derive(Debug, Deserialize)]
pub struct CaseFile {
    pub cases: Vec<Case>,
}

/// One documented case.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub id: String,
    /// `emotet`, `qakbot`, `trickbot`, `dridex`, `icedid`, `unknown` or
    /// `benign`.
    pub family: String,
    pub kind: String,
    /// From the shared research set (ids kept).
    #[serde(default)]
    pub documented: bool,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub host: Host,
    #[serde(default)]
    pub expect: Expect,
}

/// What is on the host.
#[derive(Debug, Default, Deserialize)]
pub struct Host {
    /// User names (default `[user]`).
    #[serde(default)]
    pub users: Vec<String>,
    /// C: volume serial.
    #[serde(default)]
    pub serial: Option<u32>,
    #[serde(default)]
    pub run: Vec<Run>,
    #[serde(default)]
    pub startup: Vec<Startup>,
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub processes: Vec<ProcSpec>,
    #[serde(default)]
    pub files: Vec<FileSpec>,
    #[serde(default)]
    pub dirs: Vec<DirSpec>,
    #[serde(default)]
    pub registry: Vec<RegSpec>,
}

/// A value under a Run-family key; `hive` is a user name, a SID or `HKLM`.
#[derive(Debug, Deserialize)]
pub struct Run {
    pub hive: String,
    /// Default `Software\Microsoft\Windows\CurrentVersion\Run`.
    #[serde(default)]
    pub key: Option<String>,
    pub value: String,
    pub command: String,
}

/// A Startup-folder item: the `.lnk` and its target with arguments.
#[derive(Debug, Deserialize)]
pub struct Startup {
    pub path: String,
    pub command: String,
}

/// A scheduled task: its first action (`exe`, `args`, `workdir`) and any
/// further ones in `more_actions`, run in order as Windows runs a task's
/// actions. Triggers: `logon`, `boot`, `daily`, `once`, `once <ISO
/// time>`, and `repeat <ISO duration>` (the repetition of the trigger
/// before it).
#[derive(Debug, Deserialize)]
pub struct TaskSpec {
    pub path: String,
    pub exe: String,
    #[serde(default)]
    pub args: String,
    #[serde(default)]
    pub principal: String,
    #[serde(default)]
    pub triggers: Vec<String>,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub workdir: String,
    /// Actions after the first, in order.
    #[serde(default)]
    pub more_actions: Vec<ActionSpec>,
}

/// A further action of a task.
#[derive(Debug, Deserialize)]
pub struct ActionSpec {
    pub exe: String,
    #[serde(default)]
    pub args: String,
    #[serde(default)]
    pub workdir: String,
}

/// A service; `dll` is its `Parameters\ServiceDll` (an svchost-hosted
/// service: the DLL that really runs), `start` its start type (`auto`
/// when not given; `boot`, `system`, `auto`, `demand` or `disabled`).
#[derive(Debug, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub display: String,
    pub image: String,
    pub account: String,
    #[serde(default)]
    pub dll: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
}

/// A running process; `pid`/`ppid` relate the case's processes to each
/// other (a host gives its own pids).
#[derive(Debug, Deserialize)]
pub struct ProcSpec {
    pub pid: u32,
    pub ppid: u32,
    pub image: String,
    pub cmd: String,
    pub user: String,
}

/// A file; no signer means unsigned; size defaults to 300,000 bytes.
#[derive(Debug, Deserialize)]
pub struct FileSpec {
    pub path: String,
    #[serde(default)]
    pub signer: Option<String>,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub modified: Option<String>,
    /// ISO 8601 UTC (the last-write time when not given).
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// The original file name of its version information (a renamed
    /// copy of a Windows program), carried by the lab's file as its
    /// version resource.
    #[serde(default)]
    pub original_name: Option<String>,
}

/// A folder and the names in it.
#[derive(Debug, Deserialize)]
pub struct DirSpec {
    pub path: String,
    #[serde(default)]
    pub listing: Vec<String>,
    #[serde(default)]
    pub modified: Option<String>,
}

/// A registry value; `hive` as for [`Run`]; `data` is hex for
/// `REG_BINARY`, a number for `REG_DWORD`.
#[derive(Debug, Deserialize)]
pub struct RegSpec {
    pub hive: String,
    pub key: String,
    pub value: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub data: String,
}

/// What detection must make of a malicious case.
#[derive(Debug, Default, Deserialize)]
pub struct Expect {
    /// Paths each of which must be a target of an actionable finding of
    /// the family.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Artifact kinds that must be flagged (`folder`, `process`, ...).
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// False: nothing on a host shows it (why in `note`).
    #[serde(default = "yes")]
    pub detectable: bool,
    /// A known miss of detection (a hold-out case the rules do not find),
    /// and why. A listed case that is found fails its test, so these only
    /// go away.
    #[serde(default)]
    pub missed: Option<String>,
}

fn yes() -> bool {
    true
}

impl Case {
    pub fn is_benign(&self) -> bool {
        self.family == "benign"
    }
    /// How many artifacts the case places: Run values, Startup items,
    /// tasks, services, processes, files, folders and registry values.
    pub fn artifacts(&self) -> usize {
        let h = &self.host;
        h.run.len()
            + h.startup.len()
            + h.tasks.len()
            + h.services.len()
            + h.processes.len()
            + h.files.len()
            + h.dirs.len()
            + h.registry.len()
    }
    /// The case's users, `[user]` when it names none.
    pub fn users(&self) -> Vec<String> {
        if self.host.users.is_empty() {
            vec!["user".to_string()]
        } else {
            self.host.users.clone()
        }
    }
}

/// Parse the case file.
pub fn parse(text: &str) -> Result<CaseFile, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

/// The detection family of a case's `family` (None for `benign` or an
/// unknown word).
pub fn family_of(s: &str) -> Option<Family> {
    match s {
        "emotet" => Some(Family::Emotet),
        "qakbot" => Some(Family::Qakbot),
        "trickbot" => Some(Family::TrickBot),
        "dridex" => Some(Family::Dridex),
        "icedid" => Some(Family::IcedId),
        "unknown" => Some(Family::UnknownLoaderLike),
        _ => None,
    }
}
