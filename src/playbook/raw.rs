//! The playbook file as written: serde types mirroring the YAML, unknown
//! keys refused, places kept (`Spanned`) for values checked after parsing.

use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlaybook {
    /// Format version; `1`.
    pub playbook: Spanned<u32>,
    pub purge: Option<RawPurge>,
    pub exclude: Option<RawExclude>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPurge {
    pub activate: Option<Spanned<String>>,
    pub families: Option<Spanned<Vec<Spanned<String>>>>,
    pub kill_processes: Option<bool>,
    pub queue_locked_files: Option<bool>,
    pub quarantine: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawExclude {
    pub hosts: Option<Vec<Spanned<String>>>,
    pub paths: Option<Vec<Spanned<String>>>,
}
