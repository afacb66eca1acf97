//! Judging detection's findings on one documented case: a malicious case
//! must be found with its family, every expected target named by an
//! actionable finding of that family, every expected artifact kind
//! flagged, and no launcher named as a target. Shared by the snapshot
//! test and the lab test.

use super::spec::Case;
use crate::detect::command_line::is_system_binary;
use crate::detect::{ArtifactRef, Family, Finding, paths};

/// The case file's word for an artifact's kind.
pub fn kind_name(a: &ArtifactRef) -> &'static str {
    match a {
        ArtifactRef::RegistryAutorun { .. } => "registry_autorun",
        ArtifactRef::StartupItem { .. } => "startup_item",
        ArtifactRef::Task { .. } => "task",
        ArtifactRef::Service { .. } => "service",
        ArtifactRef::Wmi { .. } => "wmi",
        ArtifactRef::File { .. } => "file",
        ArtifactRef::Folder { .. } => "folder",
        ArtifactRef::Process { .. } => "process",
        ArtifactRef::RegistryValue { .. } => "registry_value",
        ArtifactRef::RegistryKey { .. } => "registry_key",
    }
}

/// Findings, one block each, for failure messages.
pub fn show(fs: &[Finding]) -> String {
    fs.iter()
        .map(|f| {
            format!(
                "  [{:?} {:?} {}{}] {} -> {:?}\n      {}",
                f.family,
                f.confidence(),
                f.rule_id,
                f.allowlisted
                    .as_ref()
                    .map(|a| format!(" ALLOWLISTED: {a}"))
                    .unwrap_or_default(),
                f.artifact.describe(),
                f.target_files,
                f.reasons.join("\n      ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Check one malicious case; `Err` says what is missing.
pub fn check_malicious(c: &Case, fam: Family, found: &[Finding]) -> Result<(), String> {
    let act: Vec<&Finding> = found.iter().filter(|f| f.actionable()).collect();
    if !act.iter().any(|f| f.family == fam) {
        return Err(format!("no actionable {fam:?} finding"));
    }
    for t in &c.expect.targets {
        let k = paths::key(t);
        let ok = act
            .iter()
            .any(|f| f.family == fam && f.target_files.iter().any(|x| paths::key(x) == k));
        if !ok {
            return Err(format!("target {t} not named by a {fam:?} finding"));
        }
    }
    for kind in &c.expect.artifacts {
        if !act
            .iter()
            .any(|f| f.family == fam && kind_name(&f.artifact) == kind)
        {
            return Err(format!("no {fam:?} finding on a {kind}"));
        }
    }
    for f in &act {
        for t in &f.target_files {
            if is_system_binary(t) {
                return Err(format!("{} names launcher {t} as a target", f.rule_id));
            }
        }
    }
    Ok(())
}
