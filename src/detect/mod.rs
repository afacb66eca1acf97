//! Detection: pure functions from one host's collected facts
//! ([`Snapshot`]) to findings, per family, with an allow-list of known-good
//! software. No I/O. Every finding says which rule fired, why (in plain
//! words that cite the facts), how sure it is, and which files the
//! mechanism starts - the DLL or script, never the signed launcher.
//!
//! Layout: [`commands`] lists a snapshot's commands and [`command_line`]
//! parses them, [`paths`] classifies paths, [`names`] judges names,
//! `families/*` hold the per-family rules, [`generic`] the unknown-loader
//! rules, [`copies`] Windows programs copied out of System32, [`lateral`]
//! copies directly under `C:\Windows` (with its safety rule), [`link`]
//! ties mechanisms to files and processes, [`kin`] ties findings to a
//! loader's High finding on the host (raising the medium tier),
//! [`hashes`] and [`allowlist`] read the user's lists.

pub mod allowlist;
pub mod builder;
pub mod command_line;
pub mod commands;
pub mod copies;
pub(crate) mod facts;
mod families;
pub mod generic;
pub mod hashes;
pub mod kin;
pub mod lateral;
pub mod link;
pub mod names;
pub mod paths;
pub mod registry_payload;
pub mod registry_refs;

#[cfg(test)]
mod cases_test;
#[cfg(test)]
mod wording_tests;

use serde::{Deserialize, Serialize};

pub use allowlist::{AllowList, AllowListError};
pub use hashes::{HashList, HashListError};

use crate::runtime::snapshot::Snapshot;

/// Loader families cauterize knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    Emotet,
    TrickBot,
    Qakbot,
    Dridex,
    IcedId,
    /// Looks like a loader's persistence but matches no family pattern.
    UnknownLoaderLike,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Emotet => "Emotet",
            Family::TrickBot => "TrickBot",
            Family::Qakbot => "Qakbot",
            Family::Dridex => "Dridex",
            Family::IcedId => "IcedID",
            Family::UnknownLoaderLike => "unknown loader-like",
        }
    }
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// High when the rule's stronger evidence is there, else Medium.
    pub fn high_if(strong: bool) -> Confidence {
        if strong {
            Confidence::High
        } else {
            Confidence::Medium
        }
    }
}

/// Exactly which artifact on the host a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArtifactRef {
    /// A value under a Run-family (or Winlogon/IFEO) key.
    RegistryAutorun {
        hive: String,
        key: String,
        value: String,
    },
    /// An item in a startup folder.
    StartupItem { path: String },
    /// A scheduled task, by its full path.
    Task { path: String },
    /// A service, by its name.
    Service { name: String },
    /// A WMI permanent event subscription.
    Wmi { filter: String, consumer: String },
    /// A file.
    File { path: String },
    /// A folder (treated as hostile as a whole).
    Folder { path: String },
    /// A running process.
    Process { pid: u32, image: String },
    /// A registry value that is not an autostart (residue, config, exclusion).
    RegistryValue {
        hive: String,
        key: String,
        value: String,
    },
    /// A whole registry key (a loader's configuration key).
    RegistryKey { hive: String, key: String },
}

/// A registry value's name as regedit shows it: the unnamed one is
/// `(default)`.
pub fn value_name(value: &str) -> &str {
    if value.is_empty() { "(default)" } else { value }
}

/// Words for one value of a command key: what it runs, or that it is
/// empty (a `DelegateExecute` left empty is part of the UAC bypass).
pub fn describe_value(value: &str, data: &str) -> String {
    let name = value_name(value);
    if data.trim().is_empty() {
        format!("its value {name} is empty")
    } else if value.eq_ignore_ascii_case("DelegateExecute") {
        format!("its value {name} is {data}")
    } else {
        format!("its value {name} runs {data}")
    }
}

impl ArtifactRef {
    /// Short human description.
    pub fn describe(&self) -> String {
        match self {
            ArtifactRef::RegistryAutorun { hive, key, value } => {
                format!("registry value {hive}\\{key}\\{}", value_name(value))
            }
            ArtifactRef::StartupItem { path } => format!("startup item {path}"),
            ArtifactRef::Task { path } => format!("scheduled task {path}"),
            ArtifactRef::Service { name } => format!("service {name}"),
            ArtifactRef::Wmi { filter, consumer } => {
                format!("WMI subscription {filter} -> {consumer}")
            }
            ArtifactRef::File { path } => format!("file {path}"),
            ArtifactRef::Folder { path } => format!("folder {path}"),
            ArtifactRef::Process { pid, image } => format!("process {pid} ({image})"),
            ArtifactRef::RegistryValue { hive, key, value } => {
                format!("registry value {hive}\\{key}\\{}", value_name(value))
            }
            ArtifactRef::RegistryKey { hive, key } => format!("registry key {hive}\\{key}"),
        }
    }
}

/// One thing detection believes is a loader's (or is sparing on purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub host: String,
    pub artifact: ArtifactRef,
    pub family: Family,
    /// Stable rule id, e.g. `EMO-AUTOSTART-FAKEEXT`.
    pub rule_id: &'static str,
    pub confidence: Confidence,
    /// A user-supplied SHA-256 matched: certain, whatever the rules say.
    pub certain: bool,
    /// Plain-words reasons citing the facts.
    pub reasons: Vec<String>,
    /// Files (and hostile folders) this mechanism starts or consists of:
    /// the DLL/script, never a system launcher.
    pub target_files: Vec<String>,
    /// Other artifacts tied to this one (Run key -> file -> process).
    pub related: Vec<ArtifactRef>,
    /// Why an allow-list spared it (shown, never planned for removal).
    pub allowlisted: Option<String>,
}

impl Finding {
    /// Would a plan remove this? (Not allow-listed.)
    pub fn actionable(&self) -> bool {
        self.allowlisted.is_none()
    }
}

/// What the user gives detection besides the snapshot.
#[derive(Debug, Clone, Default)]
pub struct DetectContext {
    /// SHA-256 hashes of known-bad files (threat feed or IR notes).
    pub hashes: HashList,
    /// The user's allow-list, added to the built-in one.
    pub allow: AllowList,
}

/// Run every rule over one host's snapshot.
pub fn detect(snapshot: &Snapshot, ctx: &DetectContext) -> Vec<Finding> {
    let f = facts::Facts::new(snapshot);
    let mut out = Vec::new();
    for l in &f.launches {
        families::check_launch(&f, l, &mut out);
    }
    families::check_host(&f, &mut out);
    generic::check(&f, &mut out);
    registry_payload::check(&f, &mut out);
    copies::check(&f, &mut out);
    lateral::check(&f, &mut out);
    let mut out = link::merge(out);
    link::follow_ups(&f, &mut out);
    link::processes(&f, &mut out);
    hashes::apply(&f, &ctx.hashes, &mut out);
    let mut out = link::merge(out);
    // Ties to a loader's finding count only from findings no allow-list
    // spares.
    allowlist::apply(&f, &ctx.allow, &mut out);
    let ties = kin::apply(&f, &mut out);
    let mut out = link::merge(out);
    link::relate(&f, &mut out);
    kin::relate(&ties, &mut out);
    allowlist::apply(&f, &ctx.allow, &mut out);
    out.sort_by(|a, b| {
        b.confidence
            .cmp(&a.confidence)
            .then(a.artifact.cmp(&b.artifact))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::builder::SnapshotBuilder;
    use super::*;

    const BAD: &str = "9d3f5a7c1e2b4d6f8a0c2e4f6a8b0d2f4e6a8c0e2f4a6b8d0f2e4a6c8e0b2d4f";

    fn host() -> Snapshot {
        SnapshotBuilder::new("WS1")
            .user("bob")
            .run(
                "bob",
                "Updater",
                r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start",
            )
            .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
            .with_file(r"C:\Users\bob\AppData\Local\Tools\helper.dll", |f| {
                f.sha256 = BAD.into()
            })
            .process(
                77,
                1,
                r"C:\Windows\System32\rundll32.exe",
                r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start",
                "bob",
            )
            .build()
    }

    #[test]
    fn generic_then_hash_makes_it_certain_and_links_the_process() {
        let plain = detect(&host(), &DetectContext::default());
        let run = plain
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::RegistryAutorun { .. }))
            .expect("run finding");
        assert_eq!(run.family, Family::UnknownLoaderLike);
        assert_eq!(run.confidence, Confidence::Medium);
        assert!(!run.certain);
        assert!(
            run.related
                .iter()
                .any(|r| matches!(r, ArtifactRef::Process { pid: 77, .. })),
            "{:?}",
            run.related
        );

        let ctx = DetectContext {
            hashes: HashList::parse(&format!("{BAD} Heodo\n")).unwrap(),
            ..Default::default()
        };
        let hit = detect(&host(), &ctx);
        let run = hit
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::RegistryAutorun { .. }))
            .unwrap();
        assert!(run.certain);
        assert_eq!(run.confidence, Confidence::High);
        assert_eq!(run.family, Family::Emotet);
    }

    #[test]
    fn user_allowlist_spares_but_keeps() {
        let ctx = DetectContext {
            allow: AllowList::parse("path:C:\\Users\\*\\AppData\\Local\\Tools\\*.dll\n").unwrap(),
            ..Default::default()
        };
        let out = detect(&host(), &ctx);
        assert!(!out.is_empty());
        assert!(
            out.iter().all(|f| f
                .allowlisted
                .as_deref()
                .is_some_and(|r| r.contains("user allow-list"))),
            "{out:#?}"
        );
    }

    #[test]
    fn product_name_in_random_folder_is_not_spared() {
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run(
                "bob",
                "LogiDA",
                r"rundll32.exe C:\Users\bob\AppData\Local\Qzxkvbn\LogiLDA.dll,LogiFetch",
            )
            .signed_file(
                r"C:\Users\bob\AppData\Local\Qzxkvbn\LogiLDA.dll",
                "Logitech Inc",
            )
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.iter().any(|f| f.actionable()), "{out:#?}");
        let s = SnapshotBuilder::new("WS1")
            .run(
                "HKLM",
                "LogiDA",
                r"rundll32.exe C:\Windows\System32\LogiLDA.dll,LogiFetch",
            )
            .build();
        assert!(
            detect(&s, &DetectContext::default())
                .iter()
                .all(|f| !f.actionable())
        );
    }

    #[test]
    fn wow64_and_timestomp() {
        let s = SnapshotBuilder::new("SRV1")
            .service("mqbvdf.kxe", "mqbvdf.kxe", r#"C:\Windows\system32\rundll32.exe "C:\Windows\system32\Mqbvdfzt\mqbvdf.kxe",RunDLL"#, "LocalSystem")
            .file(r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe")
            .with_file(r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe", |f| f.modified = "2021-01-01T00:00:00Z".into())
            .dir(r"C:\Windows\SysWOW64\Mqbvdfzt", &["mqbvdf.kxe"])
            .with_file(r"C:\Windows\SysWOW64\Mqbvdfzt", |f| f.modified = "2021-01-08T00:00:00.3Z".into())
            .build();
        let out = detect(&s, &DetectContext::default());
        let svc = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::Service { .. }))
            .expect("service finding");
        assert_eq!(svc.family, Family::Emotet);
        assert_eq!(
            svc.target_files,
            vec![r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe".to_string()]
        );
        assert!(
            svc.reasons.iter().any(|r| r.contains("seven days")),
            "{:?}",
            svc.reasons
        );
        assert!(
            svc.reasons
                .iter()
                .any(|r| r.contains("service is named after the file"))
        );
    }

    /// A kernel driver (collected from Win32_SystemDriver) whose file sits
    /// in a drop folder is judged like a service: found, actionable, its
    /// .sys the file to delete.
    #[test]
    fn a_driver_in_a_drop_folder_is_found_like_a_service() {
        let path = r"C:\ProgramData\Xyzqwv\xyzqwv.sys";
        let s = SnapshotBuilder::new("WS1").driver("xyzqwv", path).file(path).build();
        let out = detect(&s, &DetectContext::default());
        let f = out
            .iter()
            .find(|f| matches!(&f.artifact, ArtifactRef::Service { name } if *name == "xyzqwv"))
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert!(f.actionable(), "{f:#?}");
        assert_eq!(f.target_files, vec![path.to_string()]);
    }
}

#[cfg(test)]
mod hijack_tests {
    use super::builder::SnapshotBuilder;
    use super::*;

    const WINLOGON: &str = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon";

    #[test]
    fn winlogon_default_is_quiet_and_an_added_entry_is_not() {
        let s = SnapshotBuilder::new("WS1")
            .autorun(
                "HKLM",
                WINLOGON,
                "Userinit",
                "C:\\Windows\\system32\\userinit.exe,",
            )
            .autorun("HKLM", WINLOGON, "Shell", "explorer.exe")
            .build();
        assert!(detect(&s, &DetectContext::default()).is_empty());
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .autorun("HKLM", WINLOGON, "Userinit", "C:\\Windows\\system32\\userinit.exe, C:\\Users\\bob\\AppData\\Roaming\\Qzkw\\qzkwvtrb.exe")
            .file("C:\\Users\\bob\\AppData\\Roaming\\Qzkw\\qzkwvtrb.exe")
            .build();
        let out = detect(&s, &DetectContext::default());
        let f = out
            .iter()
            .find(|f| f.rule_id == "GEN-HIJACK-USERWRITABLE")
            .expect("hijack finding");
        assert_eq!(
            f.target_files,
            vec!["C:\\Users\\bob\\AppData\\Roaming\\Qzkw\\qzkwvtrb.exe".to_string()]
        );
    }
}

#[cfg(test)]
mod injected_tests {
    use super::builder::SnapshotBuilder;
    use super::*;

    /// A live Qakbot host as collection sees it: the empty folder, and the
    /// signed 32-bit msra.exe it hollowed, started from the shell.
    fn host(image: &str) -> Snapshot {
        SnapshotBuilder::new("WS1")
            .user("bob")
            .dir(r"C:\Users\bob\AppData\Roaming\Microsoft\Vuhys", &[])
            .process(3000, 1, r"C:\Windows\explorer.exe", "explorer.exe", "bob")
            .process(4400, 3000, image, image, "bob")
            .signed_file(image, "Microsoft Windows")
            .build()
    }

    #[test]
    fn hollowed_wow64_process_is_killed_never_its_file() {
        let out = detect(
            &host(r"C:\Windows\SysWOW64\msra.exe"),
            &DetectContext::default(),
        );
        let p = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::Process { pid: 4400, .. }))
            .expect("the hollowed process is flagged");
        assert_eq!(
            (p.family, p.rule_id),
            (Family::Qakbot, "QAK-INJECTED-PROCESS")
        );
        assert!(
            p.actionable(),
            "a signed image does not spare the process: {p:?}"
        );
        assert!(p.target_files.is_empty(), "kill only: {:?}", p.target_files);
        // The 64-bit copy a user opens from the shell is left alone.
        let out = detect(
            &host(r"C:\Windows\System32\msra.exe"),
            &DetectContext::default(),
        );
        assert!(
            !out.iter()
                .any(|f| matches!(f.artifact, ArtifactRef::Process { pid: 4400, .. }))
        );
    }
}
