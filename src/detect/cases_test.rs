//! The documented cases (tests/data/artifacts.yaml) as host snapshots:
//! every malicious case must be found with its family and a target that is
//! the DLL/script (never a launcher); no benign case may produce a finding
//! that would be planned for removal. Prints recall and false positives.

use serde::Deserialize;

use super::builder::{RUN_KEY, SnapshotBuilder};
use super::command_line::is_system_binary;
use super::paths;
use super::{ArtifactRef, DetectContext, Family, Finding, detect};
use crate::runtime::snapshot::{FileFacts, Task, TaskAction};

const DATA: &str = include_str!("../../tests/data/artifacts.yaml");

#[derive(Debug, Deserialize)]
struct File {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    id: String,
    family: String,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    documented: bool,
    source: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    host: Host,
    #[serde(default)]
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
struct Host {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    serial: Option<u32>,
    #[serde(default)]
    run: Vec<Run>,
    #[serde(default)]
    startup: Vec<Startup>,
    #[serde(default)]
    tasks: Vec<TaskSpec>,
    #[serde(default)]
    services: Vec<ServiceSpec>,
    #[serde(default)]
    processes: Vec<ProcSpec>,
    #[serde(default)]
    files: Vec<FileSpec>,
    #[serde(default)]
    dirs: Vec<DirSpec>,
    #[serde(default)]
    registry: Vec<RegSpec>,
}

#[derive(Debug, Deserialize)]
struct Run {
    hive: String,
    #[serde(default)]
    key: Option<String>,
    value: String,
    command: String,
}
#[derive(Debug, Deserialize)]
struct Startup {
    path: String,
    command: String,
}
#[derive(Debug, Deserialize)]
struct TaskSpec {
    path: String,
    exe: String,
    #[serde(default)]
    args: String,
    #[serde(default)]
    principal: String,
    #[serde(default)]
    triggers: Vec<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    workdir: String,
}
#[derive(Debug, Deserialize)]
struct ServiceSpec {
    name: String,
    display: String,
    image: String,
    account: String,
}
#[derive(Debug, Deserialize)]
struct ProcSpec {
    pid: u32,
    ppid: u32,
    image: String,
    cmd: String,
    user: String,
}
#[derive(Debug, Deserialize)]
struct FileSpec {
    path: String,
    #[serde(default)]
    signer: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    sha256: Option<String>,
}
#[derive(Debug, Deserialize)]
struct DirSpec {
    path: String,
    #[serde(default)]
    listing: Vec<String>,
    #[serde(default)]
    modified: Option<String>,
}
#[derive(Debug, Deserialize)]
struct RegSpec {
    hive: String,
    key: String,
    value: String,
    #[serde(rename = "type")]
    ty: String,
    data: String,
}
#[derive(Debug, Default, Deserialize)]
struct Expect {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    artifacts: Vec<String>,
    #[serde(default = "yes")]
    detectable: bool,
}
fn yes() -> bool {
    true
}

fn build(c: &Case) -> crate::runtime::snapshot::Snapshot {
    let h = &c.host;
    let mut b = SnapshotBuilder::new(&format!("WS-{}", c.id));
    let users = if h.users.is_empty() {
        vec!["user".to_string()]
    } else {
        h.users.clone()
    };
    for u in &users {
        b = b.user(u);
    }
    if let Some(s) = h.serial {
        b = b.volume_serial(s);
    }
    for r in &h.run {
        b = b.autorun(
            &r.hive,
            r.key.as_deref().unwrap_or(RUN_KEY),
            &r.value,
            &r.command,
        );
    }
    for s in &h.startup {
        b = b.startup(&s.path, &s.command);
    }
    for t in &h.tasks {
        b = b.task_full(Task {
            path: t.path.clone(),
            actions: vec![TaskAction {
                path: t.exe.clone(),
                arguments: t.args.clone(),
                working_directory: t.workdir.clone(),
            }],
            triggers: t.triggers.clone(),
            author: t.author.clone(),
            principal: t.principal.clone(),
            enabled: true,
            hidden: t.hidden,
        });
    }
    for s in &h.services {
        b = b.service(&s.name, &s.display, &s.image, &s.account);
    }
    for p in &h.processes {
        b = b.process(p.pid, p.ppid, &p.image, &p.cmd, &p.user);
    }
    for d in &h.dirs {
        let listing: Vec<&str> = d.listing.iter().map(String::as_str).collect();
        b = b.dir(&d.path, &listing);
        if let Some(m) = &d.modified {
            b = b.with_file(&d.path, |x| x.modified = m.clone());
        }
    }
    for f in &h.files {
        b = b.file_full(FileFacts {
            path: f.path.clone(),
            exists: true,
            size: f.size.unwrap_or(300_000),
            sha256: f.sha256.clone().unwrap_or_default(),
            created: "2024-01-01T00:00:00Z".into(),
            modified: f
                .modified
                .clone()
                .unwrap_or_else(|| "2024-01-01T00:00:00Z".into()),
            signature: if f.signer.is_some() {
                "valid".into()
            } else {
                "unsigned".into()
            },
            signer: f.signer.clone().unwrap_or_default(),
            ..FileFacts::default()
        });
    }
    for r in &h.registry {
        b = b.reg(&r.hive, &r.key, &r.value, &r.ty, &r.data);
    }
    b.build()
}

fn family_of(s: &str) -> Option<Family> {
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

fn kind_name(a: &ArtifactRef) -> &'static str {
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

fn show(fs: &[Finding]) -> String {
    fs.iter()
        .map(|f| {
            format!(
                "  [{:?} {:?} {}{}] {} -> {:?}\n      {}",
                f.family,
                f.confidence,
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
fn check_malicious(c: &Case, fam: Family, found: &[Finding]) -> Result<(), String> {
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

#[test]
fn documented_cases() {
    let file: File = serde_saphyr::from_str(DATA).expect("tests/data/artifacts.yaml parses");
    assert!(file.cases.len() >= 77, "cases: {}", file.cases.len());
    let ctx = DetectContext::default();
    let (mut mal, mut mal_found, mut doc_mal, mut doc_found, mut ben, mut ben_fp, mut undetectable) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for c in &file.cases {
        assert!(!c.source.is_empty(), "{} has no source", c.id);
        let snap = build(c);
        let found = detect(&snap, &ctx);
        if std::env::var_os("DETECT_DUMP").is_some() {
            eprintln!("== {} ({})\n{}", c.id, c.family, show(&found));
        }
        if c.family == "benign" {
            ben += 1;
            let bad: Vec<Finding> = found.iter().filter(|f| f.actionable()).cloned().collect();
            if !bad.is_empty() {
                ben_fp += 1;
                failures.push(format!(
                    "{} (benign) would be removed:\n{}",
                    c.id,
                    show(&bad)
                ));
            }
            continue;
        }
        if !c.expect.detectable {
            undetectable += 1;
            continue;
        }
        let fam =
            family_of(&c.family).unwrap_or_else(|| panic!("{}: unknown family {}", c.id, c.family));
        mal += 1;
        if c.documented {
            doc_mal += 1;
        }
        match check_malicious(c, fam, &found) {
            Ok(()) => {
                mal_found += 1;
                if c.documented {
                    doc_found += 1;
                }
            }
            Err(e) => failures.push(format!("{} ({fam:?}): {e}\n{}", c.id, show(&found))),
        }
    }
    eprintln!(
        "detect cases: documented malicious recall {doc_found}/{doc_mal}; all malicious recall {mal_found}/{mal}; \
         benign planned for removal {ben_fp}/{ben}; not detectable by design {undetectable}"
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert_eq!(doc_found, doc_mal);
    assert_eq!(ben_fp, 0);
}
