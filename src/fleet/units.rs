//! One host reduced to what the fleet judges: its *units*. A unit is an
//! autostart with the file it starts (a Run value and its DLL, a task and
//! its script, a service and its EXE), a file nothing starts (found by the
//! sweep, or the image of a process), or a registry value holding data (a
//! loader's configuration). Each carries the hash of what it holds, its
//! shape ([`super::shape`]) and the strongest verdict the per-host rules
//! gave it.
//!
//! What the fleet may never judge is left out here, once: a file with a
//! valid signature (a copied signed Windows program has the same hash as
//! the original), a system launcher (rundll32, regsvr32: the DLL is the
//! target, never the launcher), an installed product (under Program Files)
//! and anything an allow-list spared. Findings of an earlier fleet pass
//! ([`super::RULE_PREFIX`]) are not verdicts: each pass starts from the
//! rules. Pure.

use std::collections::HashMap;

use crate::detect::file_index::Files;
use super::shape;
use crate::detect::command_line::{self, Payload as Launched};
use crate::detect::facts::{Facts, Launch, Source};
use crate::detect::paths::{self, Area};
use crate::detect::{ArtifactRef, Confidence, Family};
use crate::journal::{SnapshotId, StoredFinding};
use crate::runtime::snapshot::{AutorunLocation, Snapshot};

/// Registry data shorter than this (hex or text characters) is too common
/// to say anything by its hash (`1`, a path every host has).
const MIN_REGISTRY_DATA: usize = 32;

/// Unsigned payloads smaller than this say nothing by their size.
const MIN_TELLING_SIZE: u64 = 4096;

/// The file a unit starts or is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Long, normalised path.
    pub path: String,
    /// Size when the file was seen.
    pub size: Option<u64>,
}

/// The strongest thing the per-host rules said about a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub family: Family,
    pub confidence: Confidence,
    /// A user-supplied hash matched.
    pub certain: bool,
    pub rule: String,
}

impl Verdict {
    /// High, or certain: enough to speak for other hosts.
    pub fn is_high(&self) -> bool {
        self.certain || self.confidence == Confidence::High
    }

    fn rank(&self) -> (bool, Confidence, bool) {
        (
            self.certain,
            self.confidence,
            self.family != Family::UnknownLoaderLike,
        )
    }
}

/// What stays the same when a loader installs itself elsewhere: the
/// features cluster lift compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    /// The payload's path shape (`%LOCALAPPDATA%\Aa\a.?3`).
    pub location: String,
    /// The mechanism's name shape: task folder, name and triggers; Run key
    /// and value name; a service named like its file.
    pub mechanism: String,
    /// The launcher and entry point (`rundll32.exe,startw`).
    pub launch: String,
    /// The exact size of the unsigned payload, when telling.
    pub size: Option<u64>,
}

/// One thing the fleet may judge on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// What a finding about it names (the mechanism, the file, the value).
    pub artifact: ArtifactRef,
    /// Words for reasons (`Run value Xlhb`, `file C:\...`).
    pub what: String,
    /// The file it starts or is (none for a registry value).
    pub payload: Option<Payload>,
    /// Lower-case hex SHA-256 of the file, or of a registry value's data.
    pub sha256: Option<String>,
    /// Autostarts only: what cluster lift compares.
    pub shape: Option<Shape>,
    /// The strongest actionable per-host finding on it or its file.
    pub verdict: Option<Verdict>,
    /// Processes that run its file (PID, image): ended with it.
    pub processes: Vec<(u32, String)>,
}

/// One host's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUnits {
    /// Inventory name.
    pub host: String,
    /// The computer name the snapshot reported (findings carry it).
    pub computer_name: String,
    pub snapshot_id: SnapshotId,
    pub units: Vec<Unit>,
}

/// The per-host findings, indexed by what they are about.
#[derive(Default)]
struct Verdicts {
    by_artifact: HashMap<ArtifactRef, Verdict>,
    by_path: HashMap<String, Verdict>,
    spared_artifacts: std::collections::HashSet<ArtifactRef>,
    spared_paths: std::collections::HashSet<String>,
}

impl Verdicts {
    fn of(findings: &[StoredFinding]) -> Verdicts {
        let mut v = Verdicts::default();
        for f in findings.iter().filter(|f| !f.rule_id.starts_with(super::RULE_PREFIX)) {
            if f.allowlisted.is_some() {
                v.spared_artifacts.insert(f.artifact.clone());
                v.spared_paths.extend(f.target_files.iter().map(|t| paths::key(t)));
                continue;
            }
            let verdict = Verdict {
                family: f.family,
                confidence: f.confidence,
                certain: f.certain,
                rule: f.rule_id.clone(),
            };
            keep_best(v.by_artifact.entry(f.artifact.clone()), &verdict);
            if let ArtifactRef::File { path } = &f.artifact {
                keep_best(v.by_path.entry(paths::key(path)), &verdict);
            }
            for t in &f.target_files {
                keep_best(v.by_path.entry(paths::key(t)), &verdict);
            }
        }
        v
    }

    fn spared(&self, artifact: &ArtifactRef, path: Option<&str>) -> bool {
        self.spared_artifacts.contains(artifact)
            || path.is_some_and(|p| self.spared_paths.contains(&paths::key(p)))
    }

    /// The best verdict on `artifact` or on the file at `path`.
    fn best(&self, artifact: &ArtifactRef, path: Option<&str>) -> Option<Verdict> {
        let a = self.by_artifact.get(artifact);
        let p = path.and_then(|p| self.by_path.get(&paths::key(p)));
        match (a, p) {
            (Some(a), Some(p)) => Some(if p.rank() > a.rank() { p } else { a }.clone()),
            (a, p) => a.or(p).cloned(),
        }
    }
}

fn keep_best(slot: std::collections::hash_map::Entry<'_, impl Eq + std::hash::Hash, Verdict>, v: &Verdict) {
    slot.and_modify(|old| {
        if v.rank() > old.rank() {
            *old = v.clone();
        }
    })
    .or_insert_with(|| v.clone());
}

/// Reduce one host's latest snapshot and its findings to units.
pub fn of_host(
    host: &str,
    snapshot_id: SnapshotId,
    snap: &Snapshot,
    findings: &[StoredFinding],
) -> HostUnits {
    let f = Facts::new(snap);
    let files = Files::of(snap);
    let verdicts = Verdicts::of(findings);
    let mut units: Vec<Unit> = Vec::new();
    let mut payload_keys = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    for l in f.launches.iter().filter(|l| l.autostart) {
        for p in &l.parsed.payloads {
            let Some(unit) = autostart_unit(&f, &files, &verdicts, l, p) else { continue };
            let path = unit.payload.as_ref().map(|p| paths::key(&p.path)).unwrap_or_default();
            if seen.insert((unit.artifact.clone(), path.clone())) {
                payload_keys.insert(path);
                units.push(unit);
            }
        }
    }
    for file in &snap.files {
        let path = if file.long_path.is_empty() { &file.path } else { &file.long_path };
        let path = paths::normalize(path);
        if !file.exists
            || file.is_dir
            || file.sha256.is_empty()
            || payload_keys.contains(&paths::key(&path))
            || !judgeable(&f, &files, &path)
        {
            continue;
        }
        let artifact = ArtifactRef::File { path: path.clone() };
        if verdicts.spared(&artifact, Some(&path)) {
            continue;
        }
        payload_keys.insert(paths::key(&path));
        units.push(Unit {
            verdict: verdicts.best(&artifact, Some(&path)),
            what: format!("file {path}"),
            artifact,
            sha256: Some(file.sha256.to_ascii_lowercase()),
            processes: processes_running(&f, &path),
            payload: Some(Payload { path, size: Some(file.size) }),
            shape: None,
        });
    }
    for r in &snap.registry {
        if r.data.chars().count() < MIN_REGISTRY_DATA {
            continue;
        }
        let artifact = ArtifactRef::RegistryValue {
            hive: r.hive.clone(),
            key: r.key.clone(),
            value: r.value.clone(),
        };
        let whole_key = ArtifactRef::RegistryKey { hive: r.hive.clone(), key: r.key.clone() };
        if verdicts.spared(&artifact, None) || verdicts.spared(&whole_key, None) {
            continue;
        }
        let verdict = match (verdicts.best(&artifact, None), verdicts.best(&whole_key, None)) {
            (Some(a), Some(k)) => Some(if k.rank() > a.rank() { k } else { a }),
            (a, k) => a.or(k),
        };
        units.push(Unit {
            what: format!("registry value {}\\{}\\{}", r.hive, r.key, r.value),
            artifact,
            payload: None,
            sha256: Some(crate::journal::sha256_hex(r.data.as_bytes())),
            shape: None,
            verdict,
            processes: Vec::new(),
        });
    }
    HostUnits {
        host: host.to_string(),
        computer_name: snap.computer_name.clone(),
        snapshot_id,
        units,
    }
}

/// May the fleet judge the file at `path`? Not when it has a valid
/// signature, is a system launcher, or is an installed product.
fn judgeable(f: &Facts, files: &Files, path: &str) -> bool {
    !files.signed(path)
        && !command_line::is_system_binary(path)
        && f.place(path).area != Area::ProgramFiles
}

/// The unit of one payload of an autostart, unless the fleet may not judge it.
fn autostart_unit(f: &Facts, files: &Files, verdicts: &Verdicts, l: &Launch, p: &Launched) -> Option<Unit> {
    if p.path.to_ascii_lowercase().starts_with("http") {
        return None;
    }
    let path = f.long_path(&p.path);
    if !judgeable(f, files, &path) || verdicts.spared(&l.artifact, Some(&path)) {
        return None;
    }
    let facts = files.existing(&path);
    let size = facts.map(|x| x.size);
    let shape = Shape {
        location: shape::path(&f.place(&path)),
        mechanism: mechanism(l, &path),
        launch: launch(p),
        size: size.filter(|s| *s >= MIN_TELLING_SIZE),
    };
    Some(Unit {
        artifact: l.artifact.clone(),
        what: l.what(),
        sha256: facts.map(|x| x.sha256.to_ascii_lowercase()).filter(|s| !s.is_empty()),
        verdict: verdicts.best(&l.artifact, Some(&path)),
        processes: processes_running(f, &path),
        payload: Some(Payload { path, size }),
        shape: Some(shape),
    })
}

/// The shape of the mechanism: where it lives and how it is named.
fn mechanism(l: &Launch, payload: &str) -> String {
    match l.source {
        Source::Autorun(a) => match &a.location {
            AutorunLocation::RegistryValue { hive, key, value } => format!(
                "Run value {}\\{} = {}",
                shape::hive(hive),
                key.to_lowercase(),
                shape::name(value)
            ),
            AutorunLocation::StartupFolder { path } => {
                format!("startup item {}", shape::file_name(paths::file_name(path)))
            }
        },
        Source::Task(t) => {
            let parts: Vec<&str> = t.path.split('\\').filter(|c| !c.is_empty()).collect();
            let shaped: Vec<String> = parts.iter().map(|c| shape::name(c)).collect();
            let mut triggers: Vec<String> = t.triggers.iter().map(|t| t.to_lowercase()).collect();
            triggers.sort();
            format!(
                "task \\{} [{}]{}",
                shaped.join("\\"),
                triggers.join(", "),
                if t.hidden { " hidden" } else { "" }
            )
        }
        Source::Service(s) if s.name.eq_ignore_ascii_case(paths::stem(payload)) => {
            "service named like its file".into()
        }
        Source::Service(s) => format!("service {}", shape::name(&s.name)),
        Source::Wmi(w) => format!("WMI {} {}", w.consumer_type, shape::name(&w.consumer_name)),
        Source::Process(_) => "process".into(),
    }
}

/// The launcher, its entry point and how many arguments follow.
fn launch(p: &Launched) -> String {
    let mut s = p.via.name().to_string();
    if let Some(e) = &p.export {
        s.push(',');
        s.push_str(&e.to_lowercase());
    }
    if !p.args.is_empty() {
        s.push_str(&format!(" +{} args", p.args.len()));
    }
    s
}

/// Processes whose image or command runs `path`.
fn processes_running(f: &Facts, path: &str) -> Vec<(u32, String)> {
    let key = paths::key(path);
    f.launches
        .iter()
        .filter_map(|l| match (l.source, &l.artifact) {
            (Source::Process(p), _)
                if paths::key(&p.image) == key
                    || l.parsed.payloads.iter().any(|x| paths::key(&x.path) == key) =>
            {
                Some((p.pid, p.image.clone()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    fn stored(s: &Snapshot) -> Vec<StoredFinding> {
        detect(s, &DetectContext::default()).iter().map(StoredFinding::from).collect()
    }

    #[test]
    fn signed_files_launchers_products_and_spared_items_are_never_units() {
        let s = SnapshotBuilder::new("WS-001")
            .user("bob")
            .run("bob", "OneDrive", r#""C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#)
            .signed_file(r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe", "Microsoft Corporation")
            .run("HKLM", "Tool", r#""C:\Program Files\Tool\tool.exe""#)
            .file(r"C:\Program Files\Tool\tool.exe")
            .run("bob", "Updater", r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start")
            .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
            .with_file(r"C:\Users\bob\AppData\Local\Tools\helper.dll", |f| f.sha256 = "AB".repeat(32))
            .file(r"C:\Users\bob\AppData\Roaming\left.dll")
            .with_file(r"C:\Users\bob\AppData\Roaming\left.dll", |f| f.sha256 = "cd".repeat(32))
            .build();
        let h = of_host("ws-001", 7, &s, &stored(&s));
        let whats: Vec<&str> = h.units.iter().map(|u| u.what.as_str()).collect();
        assert_eq!(h.units.len(), 2, "{whats:?}");
        let run = &h.units[0];
        assert_eq!(run.what, "Run value Updater");
        assert_eq!(run.sha256.as_deref(), Some("ab".repeat(32).as_str()), "hashes compare in lower case");
        let shape = run.shape.as_ref().unwrap();
        assert_eq!(shape.location, r"%LOCALAPPDATA%\Aa\a.dll");
        assert_eq!(shape.launch, "rundll32.exe,start");
        assert!(shape.mechanism.starts_with(r"Run value HKU\software\microsoft\windows\currentversion\run = "), "{shape:?}");
        assert_eq!(shape.size, Some(300_000));
        let v = run.verdict.as_ref().expect("the generic rule's verdict");
        assert_eq!((v.family, v.confidence), (Family::UnknownLoaderLike, Confidence::Medium));
        assert_eq!(h.units[1].artifact, ArtifactRef::File { path: r"C:\Users\bob\AppData\Roaming\left.dll".into() });
        assert!(h.units[1].shape.is_none(), "a file nothing starts is not clustered");

        // An allow-listed item is out, whatever else is true of it.
        let ctx = DetectContext {
            allow: crate::detect::AllowList::parse("path:C:\\Users\\*\\AppData\\Local\\Tools\\*.dll\n").unwrap(),
            ..Default::default()
        };
        let spared: Vec<StoredFinding> = detect(&s, &ctx).iter().map(StoredFinding::from).collect();
        let h = of_host("ws-001", 7, &s, &spared);
        assert_eq!(h.units.len(), 1, "{:?}", h.units);
    }

    #[test]
    fn an_earlier_fleet_finding_is_no_verdict_and_registry_data_is_hashed() {
        let s = SnapshotBuilder::new("WS-002")
            .reg("HKLM", r"Software\Vendor", "Blob", "REG_BINARY", &"0f".repeat(40))
            .reg("HKLM", r"Software\Vendor", "Small", "REG_DWORD", "1")
            .build();
        let mut fleet = StoredFinding {
            host: "WS-002".into(),
            artifact: ArtifactRef::RegistryValue { hive: "HKLM".into(), key: r"Software\Vendor".into(), value: "Blob".into() },
            family: Family::Qakbot,
            rule_id: super::super::RULE_HASH.into(),
            confidence: Confidence::High,
            evidence: vec![],
            certain: false,
            reasons: vec![],
            target_files: vec![],
            related: vec![],
            allowlisted: None,
        };
        let h = of_host("ws-002", 1, &s, std::slice::from_ref(&fleet));
        assert_eq!(h.units.len(), 1, "short data is not judged by its hash");
        assert_eq!(h.units[0].sha256.as_deref(), Some(crate::journal::sha256_hex("0f".repeat(40).as_bytes()).as_str()));
        assert_eq!(h.units[0].verdict, None);
        fleet.rule_id = "QAK-CONFIG-KEY".into();
        let h = of_host("ws-002", 1, &s, &[fleet]);
        assert_eq!(h.units[0].verdict.as_ref().map(|v| v.family), Some(Family::Qakbot));
    }
}
