//! The playbook file as written: serde types mirroring the YAML, unknown
//! keys refused, places kept (`Spanned`) for values checked after parsing.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A list whose place (and each item's) is kept.
pub type List = Spanned<Vec<Spanned<String>>>;

/// A scalar that may be written as a number or as text (`5`, `"10%"`,
/// `4h`, `30`), kept as text and read by the section's check.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Number(u64),
    Text(String),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlaybook {
    /// Format version; `1`.
    pub playbook: Spanned<u32>,
    pub roles: Option<RawRoles>,
    pub contain: Option<RawContain>,
    pub purge: Option<RawPurge>,
    pub reboot: Option<RawReboot>,
    pub verify: Option<RawVerify>,
    pub release: Option<Spanned<String>>,
    pub watch: Option<RawWatch>,
    pub exclude: Option<RawExclude>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRoles {
    pub domain_controller: Option<List>,
    pub file_server: Option<List>,
    pub print_server: Option<List>,
    pub server: Option<List>,
    pub workstation: Option<List>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPorts {
    pub tcp: Option<Spanned<Vec<Spanned<u32>>>>,
    pub udp: Option<Spanned<Vec<Spanned<u32>>>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawExempt {
    pub addresses: Option<List>,
    pub groups: Option<List>,
    pub roles: Option<List>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawHostsGroups {
    pub hosts: Option<List>,
    pub groups: Option<List>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawContain {
    pub block: Option<Spanned<RawPorts>>,
    pub directions: Option<List>,
    pub exempt: Option<RawExempt>,
    pub never: Option<RawHostsGroups>,
    pub dead_man: Option<Spanned<Scalar>>,
    pub extend_every: Option<Spanned<Scalar>>,
    pub purge_if_uncontained: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPurge {
    pub activate: Option<Spanned<String>>,
    pub families: Option<List>,
    pub kill_processes: Option<bool>,
    pub queue_locked_files: Option<bool>,
    pub quarantine: Option<bool>,
    pub deny_shutdown_writes: Option<bool>,
    pub revert_defender_exclusions: Option<bool>,
    pub remove_emptied_folders: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub group: Spanned<String>,
    pub at: Spanned<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawReboot {
    pub waves: Option<Spanned<Vec<Spanned<Scalar>>>>,
    pub confirm_after_canary: Option<bool>,
    pub order: Option<List>,
    pub pause: Option<Spanned<Scalar>>,
    pub max_down: Option<Spanned<Scalar>>,
    pub failure_budget: Option<Spanned<Scalar>>,
    pub message: Option<Spanned<String>>,
    pub countdown: Option<Spanned<Scalar>>,
    pub logged_on: Option<Spanned<String>>,
    pub logoff_wait: Option<Spanned<Scalar>>,
    pub windows: Option<Vec<RawWindow>>,
    pub return_timeout: Option<Spanned<Scalar>>,
    pub never: Option<RawHostsGroups>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawVerify {
    pub repurge_rounds: Option<Spanned<u32>>,
    pub settle: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    pub poll_every: Option<Spanned<Scalar>>,
    pub poll_max: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawExclude {
    pub hosts: Option<List>,
    pub paths: Option<List>,
}
