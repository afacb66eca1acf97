//! The playbook: what the purge may do. Which confidences are acted on
//! (`activate: high` by default; `medium` is opt-in; low is only ever
//! listed), which families are in scope, whether processes are killed,
//! whether locked files are queued for deletion at boot, whether each file
//! is copied out as evidence before it is deleted, and what is never
//! touched (hosts, paths).
//!
//! Only the purge is configured here. The later phases of DESIGN.md
//! (contain, reboot waves, verify, release) have no settings in this
//! version: a playbook that sets them is refused with a message saying so,
//! rather than accepted and ignored.
//!
//! YAML in ([`raw`]), validated [`Playbook`] out; errors name the file,
//! line and column and say how to fix it ([`located`]).

pub mod located;
mod raw;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use located::LocatedError;

use crate::detect::{Confidence, Family};

/// Largest playbook accepted, in bytes.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The playbook shipped with cauterize (`playbooks/default.yml`); also what
/// applies when no playbook is given.
pub const DEFAULT_YAML: &str = include_str!("../../playbooks/default.yml");

/// Where the fixes in error messages point.
const EXAMPLE: &str = "playbooks/default.yml";

/// A validated playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playbook {
    /// Lowest confidence acted on: [`Confidence::High`] or
    /// [`Confidence::Medium`].
    pub activate: Confidence,
    /// Families in scope; findings of others are listed inactive.
    pub families: BTreeSet<Family>,
    pub kill_processes: bool,
    pub queue_locked_files: bool,
    /// Copy each file out (evidence) before it is deleted or queued.
    pub quarantine: bool,
    /// Host name globs never acted on.
    pub exclude_hosts: Vec<String>,
    /// Windows path globs never acted on (files, and mechanisms that start
    /// them).
    pub exclude_paths: Vec<String>,
    /// Where it came from (a path, or `built-in default`).
    pub source: String,
    /// SHA-256 of the playbook text.
    pub sha256: String,
}

/// Every family, in the playbook's spelling.
pub const FAMILY_NAMES: &[(&str, Family)] = &[
    ("emotet", Family::Emotet),
    ("trickbot", Family::TrickBot),
    ("qakbot", Family::Qakbot),
    ("dridex", Family::Dridex),
    ("icedid", Family::IcedId),
    ("unknown", Family::UnknownLoaderLike),
];

/// Keys of later phases, refused with an explanation.
const LATER_PHASES: &[&str] = &[
    "contain", "reboot", "verify", "release", "waves", "firewall",
];

impl Playbook {
    /// The built-in default playbook.
    pub fn builtin() -> Playbook {
        parse(DEFAULT_YAML, Path::new("built-in default"))
            .expect("playbooks/default.yml is valid (tested)")
    }

    /// Is `host` excluded by name?
    pub fn host_excluded(&self, host: &str) -> Option<&str> {
        self.exclude_hosts
            .iter()
            .find(|g| crate::detect::allowlist::glob_match(g, host))
            .map(String::as_str)
    }

    /// Is `path` excluded? Returns the matching pattern.
    pub fn path_excluded(&self, path: &str) -> Option<&str> {
        self.exclude_paths
            .iter()
            .find(|g| crate::detect::allowlist::glob_match(g, path))
            .map(String::as_str)
    }

    /// The playbook's name of a family.
    pub fn family_name(f: Family) -> &'static str {
        FAMILY_NAMES
            .iter()
            .find(|(_, x)| *x == f)
            .map(|(n, _)| *n)
            .unwrap_or("unknown")
    }
}

/// Read and validate a playbook file.
pub fn load(path: &Path) -> Result<Playbook, LocatedError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        LocatedError::whole(
            path,
            format!("cannot read the playbook: {e}"),
            "check the path given to -p/--playbook",
        )
    })?;
    if meta.len() > MAX_BYTES as u64 {
        return Err(LocatedError::whole(
            path,
            format!(
                "the playbook is {} bytes; at most {MAX_BYTES} are accepted",
                meta.len()
            ),
            "a playbook is a few settings; check that this is the right file",
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        LocatedError::whole(
            path,
            format!("cannot read the playbook: {e}"),
            "it must be UTF-8 text",
        )
    })?;
    parse(&text, path)
}

/// Validate the text of a playbook; `file` names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<Playbook, LocatedError> {
    if text.len() > MAX_BYTES {
        return Err(LocatedError::whole(
            file,
            "the playbook is too large",
            "check that this is the right file",
        ));
    }
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(LocatedError::whole(
            file,
            "the playbook is empty",
            format!("start from {EXAMPLE}: `playbook: 1` and a `purge:` section"),
        ));
    }
    let raw: raw::RawPlaybook =
        serde_saphyr::from_str_with_options(text, located::options(MAX_BYTES))
            .map_err(|e| located::from_yaml(&e, file, EXAMPLE, later_phase_help))?;
    validate(raw, text, file)
}

fn later_phase_help(key: &str) -> Option<String> {
    LATER_PHASES.contains(&key).then(|| {
        format!(
            "`{key}` belongs to a later phase (contain, reboot, verify, release) that this version of cauterize does not carry out; remove it"
        )
    })
}

fn validate(raw: raw::RawPlaybook, text: &str, file: &Path) -> Result<Playbook, LocatedError> {
    let bad = |s: &Spanned<String>, message: String, help: &str| {
        LocatedError::at(file, &s.referenced, message, help)
    };
    if raw.playbook.value != 1 {
        return Err(LocatedError::at(
            file,
            &raw.playbook.referenced,
            format!(
                "playbook format {} is not known; this cauterize reads format 1",
                raw.playbook.value
            ),
            "write `playbook: 1`",
        ));
    }
    let purge = raw.purge.unwrap_or_default();
    let activate = match &purge.activate {
        None => Confidence::High,
        Some(s) => match s.value.to_ascii_lowercase().as_str() {
            "high" => Confidence::High,
            "medium" => Confidence::Medium,
            "low" => {
                return Err(bad(
                    s,
                    "`activate: low` is not accepted: low-confidence findings are only ever listed"
                        .into(),
                    "write `activate: high` (default) or `activate: medium`",
                ));
            }
            other => {
                return Err(bad(
                    s,
                    format!("unknown confidence `{other}`; expected high or medium"),
                    "write `activate: high` (default) or `activate: medium`",
                ));
            }
        },
    };
    let families = match &purge.families {
        None => FAMILY_NAMES.iter().map(|(_, f)| *f).collect(),
        Some(list) => {
            if list.value.is_empty() {
                return Err(LocatedError::at(
                    file,
                    &list.referenced,
                    "`families` is empty: nothing would be purged",
                    "list families (emotet, trickbot, qakbot, dridex, icedid, unknown) or write `[all]`",
                ));
            }
            let mut set = BTreeSet::new();
            for name in &list.value {
                let n = name.value.to_ascii_lowercase();
                if n == "all" {
                    set.extend(FAMILY_NAMES.iter().map(|(_, f)| *f));
                    continue;
                }
                match FAMILY_NAMES.iter().find(|(k, _)| *k == n) {
                    Some((_, f)) => {
                        set.insert(*f);
                    }
                    None => {
                        return Err(bad(
                            name,
                            format!("unknown family `{}`", name.value),
                            "expected one of: all, emotet, trickbot, qakbot, dridex, icedid, unknown",
                        ));
                    }
                }
            }
            set
        }
    };
    let exclude = raw.exclude.unwrap_or_default();
    let globs =
        |list: Option<Vec<Spanned<String>>>, what: &str| -> Result<Vec<String>, LocatedError> {
            let mut out = Vec::new();
            for g in list.unwrap_or_default() {
                if g.value.trim().is_empty() {
                    return Err(bad(
                        &g,
                        format!("an empty {what} pattern"),
                        "remove the empty entry",
                    ));
                }
                if g.value.trim() == "*" || g.value.trim() == "**" {
                    return Err(bad(
                        &g,
                        format!("the {what} pattern `{}` excludes everything", g.value),
                        "to plan nothing, do not run the purge; otherwise name what to spare",
                    ));
                }
                out.push(g.value.trim().to_string());
            }
            Ok(out)
        };
    Ok(Playbook {
        activate,
        families,
        kill_processes: purge.kill_processes.unwrap_or(true),
        queue_locked_files: purge.queue_locked_files.unwrap_or(true),
        quarantine: purge.quarantine.unwrap_or(true),
        exclude_hosts: globs(exclude.hosts, "host")?,
        exclude_paths: globs(exclude.paths, "path")?,
        source: file.display().to_string(),
        sha256: crate::journal::sha256_hex(text.as_bytes()),
    })
}

/// Where a playbook given on the command line is, or `None` for the
/// built-in default.
pub fn load_or_default(path: Option<&PathBuf>) -> Result<Playbook, LocatedError> {
    match path {
        Some(p) => load(p),
        None => Ok(Playbook::builtin()),
    }
}
