//! The playbook: what the operation may do, phase by phase, and what it
//! never touches. `playbooks/default.yml` documents every line.
//!
//! - `roles:` ([`roles`]): which inventory groups say what a host is.
//! - `contain:` ([`contain`]): SMB block rules, exemptions, hosts never
//!   contained, the dead-man task.
//! - `purge:` ([`purge`]): confidences and families acted on, kills, the
//!   boot-time queue, evidence, deny-write on shutdown-writer folders,
//!   Defender exclusions, emptied folders.
//! - `reboot:` ([`reboot`]): waves, order, windows, limits, users.
//! - `verify:` and `release:` ([`verify`]): after the reboots.
//! - `watch:` ([`watch`]): how `cauterize watch` polls the hosts never
//!   reached.
//! - `exclude:`: hosts and paths never acted on.
//!
//! YAML in ([`raw`]), validated [`Playbook`] out; every error names the
//! file, line and column, the field and what is allowed ([`fields`],
//! [`located`]).

pub mod contain;
mod fields;
pub mod located;
pub mod purge;
mod raw;
pub mod reboot;
pub mod roles;
#[cfg(test)]
mod tests;
pub mod verify;
pub mod watch;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use contain::ContainSettings;
pub use fields::duration_text;
pub use located::LocatedError;
pub use purge::{FAMILY_NAMES, PurgeSettings, confidence_name, family_name};
pub use reboot::{LoggedOn, RebootSettings, Share, TimeWindow};
pub use roles::{Role, RoleGroups};
pub use verify::{ReleasePolicy, VerifySettings};
pub use watch::WatchSettings;

use crate::detect::Family;
use fields::Fields;

/// Largest playbook accepted, in bytes.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The playbook shipped with cauterize (`playbooks/default.yml`); also what
/// applies when no playbook is given.
pub const DEFAULT_YAML: &str = include_str!("../../playbooks/default.yml");

/// Where the fixes in error messages point.
const EXAMPLE: &str = "playbooks/default.yml";

/// What a playbook says, section by section: also what a plan records as
/// the settings it was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    pub roles: RoleGroups,
    pub contain: ContainSettings,
    pub purge: PurgeSettings,
    pub reboot: RebootSettings,
    pub verify: VerifySettings,
    pub release: ReleasePolicy,
    /// How `cauterize watch` polls (absent in plans made before it was a
    /// playbook section: the defaults).
    #[serde(default)]
    pub watch: WatchSettings,
    /// Host name globs never acted on (not contained, purged or rebooted).
    pub exclude_hosts: Vec<String>,
    /// Windows path globs never acted on (files, and mechanisms that start
    /// them).
    pub exclude_paths: Vec<String>,
}

/// A validated playbook: its [`Sections`] (reached through it:
/// `playbook.purge`) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playbook {
    pub sections: Sections,
    /// Where it came from (a path, or `built-in default`).
    pub source: String,
    /// SHA-256 of the playbook text.
    pub sha256: String,
}

impl std::ops::Deref for Playbook {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.sections
    }
}

impl Sections {
    /// Is `host` excluded by name?
    pub fn host_excluded(&self, host: &str) -> Option<&str> {
        glob_of(&self.exclude_hosts, host)
    }

    /// Is `path` excluded? Returns the matching pattern.
    pub fn path_excluded(&self, path: &str) -> Option<&str> {
        glob_of(&self.exclude_paths, path)
    }
}

impl Playbook {
    /// The built-in default playbook.
    pub fn builtin() -> Playbook {
        parse(DEFAULT_YAML, Path::new("built-in default"))
            .expect("playbooks/default.yml is valid (tested)")
    }

    /// The playbook's name of a family.
    pub fn family_name(f: Family) -> &'static str {
        family_name(f)
    }
}

/// The first of `globs` that matches `text` (case-insensitive).
pub fn glob_of<'g>(globs: &'g [String], text: &str) -> Option<&'g str> {
    globs
        .iter()
        .find(|g| crate::detect::allowlist::glob_match(g, text))
        .map(String::as_str)
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
            .map_err(|e| located::from_yaml(&e, file, EXAMPLE, |_| None))?;
    validate(raw, text, file)
}

fn validate(raw: raw::RawPlaybook, text: &str, file: &Path) -> Result<Playbook, LocatedError> {
    if raw.playbook.value != 1 {
        return Err(LocatedError::at(
            file,
            &raw.playbook.referenced,
            format!(
                "playbook: format {} is not known; this cauterize reads format 1",
                raw.playbook.value
            ),
            "write `playbook: 1`",
        ));
    }
    let f = Fields { file };
    let exclude = raw.exclude.unwrap_or_default();
    Ok(Playbook {
        sections: Sections {
            roles: roles::check(raw.roles, f)?,
            contain: contain::check(raw.contain, f)?,
            purge: purge::check(raw.purge, f)?,
            reboot: reboot::check(raw.reboot, f)?,
            verify: verify::check(raw.verify, f)?,
            release: verify::release(&raw.release, f)?,
            watch: watch::check(raw.watch, f)?,
            exclude_hosts: f.globs(&exclude.hosts, "exclude.hosts", "host")?,
            exclude_paths: f.globs(&exclude.paths, "exclude.paths", "path")?,
        },
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
