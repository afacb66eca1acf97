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
//! [`earlier`] ties a verifying scan's findings to what was confirmed on
//! the host earlier in the operation (its plan's scan, a re-purge round's),
//! [`hashes`] and [`allowlist`] read the user's lists, [`signed`] keeps
//! signed programs from being ended or removed without evidence of abuse.
//! Every finding carries typed [`evidence`]; its confidence is computed
//! from it, never chosen by a rule ([`evidence`] holds the written
//! standard for "high").

pub mod allowlist;
pub mod builder;
pub mod command_line;
pub mod commands;
pub mod copies;
pub mod earlier;
pub mod evidence;
pub(crate) mod facts;
pub mod file_index;
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
pub mod signed;

#[cfg(test)]
mod cases_test;
#[cfg(test)]
mod wording_tests;

use serde::{Deserialize, Serialize};

pub use allowlist::{AllowList, AllowListError};
pub use earlier::{Earlier, EarlierFinding};
pub use evidence::{Evidence, Grounds};
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

/// How sure a finding is. Never chosen by a rule: computed from the
/// finding's typed evidence by [`evidence::grade`], whose doc is the
/// written standard. In short: **high** needs two independent lines of
/// evidence, at least one not a name or path shape (a relation to a
/// confirmed finding, injected code, a loader's registry artifact, a
/// launch of a known payload, ...), or an exact known-bad hash alone
/// (`--hashes`), never for a signed file; name-only or shape-only
/// evidence is at most **medium**; **low** is listed, never acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Confidence {
    Low,
    Medium,
    High,
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
    /// Computed from `grounds` ([`evidence::grade`]); read it with
    /// [`Finding::confidence`], change it only by adding evidence.
    confidence: Confidence,
    /// The typed evidence the confidence is computed from.
    grounds: Grounds,
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
    /// A finding resting on `grounds`; its confidence is what they earn.
    pub fn new(
        host: &str,
        artifact: ArtifactRef,
        family: Family,
        rule_id: &'static str,
        grounds: Grounds,
        reasons: Vec<String>,
        target_files: Vec<String>,
    ) -> Finding {
        Finding {
            host: host.to_string(),
            artifact,
            family,
            rule_id,
            confidence: grounds.grade(),
            grounds,
            certain: false,
            reasons,
            target_files,
            related: Vec::new(),
            allowlisted: None,
        }
    }

    /// How sure it is (computed from its evidence).
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// What it rests on.
    pub fn grounds(&self) -> &Grounds {
        &self.grounds
    }

    /// One more line of evidence; the confidence follows.
    pub fn add_evidence(&mut self, e: Evidence) {
        self.grounds.add(e);
        self.confidence = self.grounds.grade();
    }

    /// A tie to a confirmed finding (`kin`, the fleet): new evidence from
    /// outside the rule, so the rule's own cap steps up (a strong tie to
    /// high, a weak one by one step) - never for a validly signed file,
    /// which needs evidence of abuse.
    pub fn tie(&mut self, e: Evidence) {
        if !self.grounds.signed {
            self.grounds.ceiling = if e.is_strong() {
                Confidence::High
            } else {
                match self.grounds.ceiling {
                    Confidence::Low => Confidence::Medium,
                    _ => Confidence::High,
                }
            };
        }
        self.add_evidence(e);
    }

    /// At most `c`, whatever evidence comes (the signed-program guard).
    pub fn cap_at(&mut self, c: Confidence) {
        self.grounds.signed = true;
        self.grounds.ceiling = self.grounds.ceiling.min(c);
        self.confidence = self.grounds.grade();
    }

    /// Unite another finding's evidence with this one's (a merge).
    pub fn unite_grounds(&mut self, other: &Grounds) {
        self.grounds.unite(other);
        self.confidence = self.grounds.grade();
    }

    /// The file the finding is about is validly signed: a hash alone no
    /// longer makes it high.
    pub fn mark_signed(&mut self) {
        self.grounds.signed = true;
        self.confidence = self.grounds.grade();
    }

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

/// At most this many rounds of ties and links (a guard: a round that
/// changes nothing ends them, and each round only adds or raises).
const TIE_ROUNDS: usize = 8;

/// What a round of ties and links can change: which findings there are,
/// their family and how sure they are.
fn standing(out: &[Finding]) -> Vec<(ArtifactRef, Family, Confidence)> {
    out.iter()
        .map(|x| (x.artifact.clone(), x.family, x.confidence))
        .collect()
}

/// Run every rule over one host's snapshot.
pub fn detect(snapshot: &Snapshot, ctx: &DetectContext) -> Vec<Finding> {
    detect_again(snapshot, ctx, &Earlier::default())
}

/// [`detect`] for a host scanned again in an operation (the verifying
/// scan after its purge and reboot): its findings are also tied to what
/// `earlier` confirmed on it ([`earlier`]).
pub fn detect_again(snapshot: &Snapshot, ctx: &DetectContext, earlier: &Earlier) -> Vec<Finding> {
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
    // Ties and links feed each other: a payload confirmed by a tie
    // confirms the process launching it, and a confirmed process anchors
    // what it started. Repeat until nothing changes (each round that goes
    // on adds a finding or raises one, so it ends; the bound is a guard).
    let mut ties: Vec<(ArtifactRef, ArtifactRef)> = Vec::new();
    for _ in 0..TIE_ROUNDS {
        let before = standing(&out);
        earlier::apply(&f, earlier, &mut out);
        for t in kin::apply(&f, &mut out) {
            if !ties.contains(&t) {
                ties.push(t);
            }
        }
        link::processes(&f, &mut out);
        link::confirmed_launches(&f, &mut out);
        out = link::merge(out);
        allowlist::apply(&f, &ctx.allow, &mut out);
        if standing(&out) == before {
            break;
        }
    }
    link::relate(&f, &mut out);
    kin::relate(&ties, &mut out);
    allowlist::apply(&f, &ctx.allow, &mut out);
    signed::apply(&f, &mut out);
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

    /// A file in a confirmed loader's own folder is tied to it (strong):
    /// high beside a high finding; beside a medium one, the folder shape
    /// alone keeps it medium.
    #[test]
    fn a_file_in_a_confirmed_loaders_folder_is_tied_to_it() {
        let dir = r"C:\Users\bob\AppData\Local\Gmkdfrtoqz";
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Xlhbtqwzfe", &format!(r#"C:\Windows\SysWOW64\rundll32.exe "{dir}\ohwqpx.kzt",RunDLL"#))
            .file(&format!(r"{dir}\ohwqpx.kzt"))
            .file(&format!(r"{dir}\follow.exe"))
            .dir(dir, &["ohwqpx.kzt", "follow.exe"])
            .build();
        let out = detect(&s, &DetectContext::default());
        let run = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::RegistryAutorun { .. }))
            .expect("the Run value");
        assert_eq!(run.confidence(), Confidence::High, "{out:#?}");
        let other = out
            .iter()
            .find(|f| f.artifact == ArtifactRef::File { path: format!(r"{dir}\follow.exe") })
            .expect("the folder's other file");
        assert_eq!(other.rule_id, "EMO-FOLDER-REUSE");
        assert!(other.grounds().has(Evidence::RelatedToConfirmed), "{other:#?}");
        assert_eq!(other.confidence(), Confidence::High, "{other:#?}");

        // The same folder beside a finding that is only medium.
        let dir = r"C:\Users\bob\AppData\Local\SyncHost";
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "subst", &format!(r"{dir}\subst.exe"))
            .file(&format!(r"{dir}\subst.exe"))
            .file(&format!(r"{dir}\follow.exe"))
            .dir(dir, &["subst.exe", "follow.exe"])
            .build();
        let out = detect(&s, &DetectContext::default());
        let run = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::RegistryAutorun { .. }))
            .expect("the Run value");
        assert_eq!(run.confidence(), Confidence::Medium, "{out:#?}");
        let other = out
            .iter()
            .find(|f| f.artifact == ArtifactRef::File { path: format!(r"{dir}\follow.exe") })
            .expect("the folder's other file");
        assert!(!other.grounds().has(Evidence::RelatedToConfirmed), "{other:#?}");
        assert_eq!(other.confidence(), Confidence::Medium, "{other:#?}");
    }

    /// The signed SysWOW64 rundll32 running a DLL that a High Run value
    /// starts launches a confirmed payload: it may be ended, and the DLL's
    /// own (timestamp-only) finding is tied to the Run value. The same
    /// process running a DLL that nothing confirms is listed only.
    #[test]
    fn a_process_launching_a_confirmed_payload_is_ended() {
        let dir = r"C:\Users\bob\AppData\Local\Gmkdfrtoqz";
        let dll = format!(r"{dir}\ohwqpx.kzt");
        let rundll = r"C:\Windows\SysWOW64\rundll32.exe";
        let command = format!(r#"{rundll} "{dll}",RunDLL"#);
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Xlhbtqwzfe", &command)
            .file(&dll)
            .with_file(&dll, |x| x.modified = "2024-01-01T00:00:00Z".into())
            .dir(dir, &["ohwqpx.kzt"])
            .with_file(dir, |x| x.modified = "2024-01-08T00:00:00Z".into())
            .process(224, 1, rundll, &command, "bob")
            .signed_file(rundll, "Microsoft Windows")
            .build();
        let out = detect(&s, &DetectContext::default());
        let run = out.iter().find(|f| matches!(f.artifact, ArtifactRef::RegistryAutorun { .. })).expect("the Run value");
        assert_eq!(run.confidence(), Confidence::High, "{out:#?}");
        let p = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::Process { pid: 224, .. }))
            .expect("the process");
        assert!(p.grounds().has(Evidence::PayloadLaunch), "{p:#?}");
        assert_eq!(p.confidence(), Confidence::High, "{p:#?}");
        assert!(p.reasons.iter().any(|r| r.contains("launches") && r.contains("confirmed (high) payload")), "{:?}", p.reasons);
        let file = out
            .iter()
            .find(|f| f.artifact == ArtifactRef::File { path: dll.clone() })
            .expect("the DLL's timestamp finding");
        assert!(file.grounds().has(Evidence::RelatedToConfirmed), "{file:#?}");
        assert_eq!(file.confidence(), Confidence::High, "{file:#?}");
        assert!(!file.reasons.iter().any(|r| r.starts_with("Medium: would be High")), "{:?}", file.reasons);

        // A DLL in a plain user folder: the Run value rests on shapes
        // (medium), so its rundll32 launches nothing confirmed.
        let dll = r"C:\Users\bob\AppData\Local\Tools\helper.dll";
        let command = format!(r#"{rundll} "{dll}",Start"#);
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Updater", &command)
            .file(dll)
            .process(224, 1, rundll, &command, "bob")
            .signed_file(rundll, "Microsoft Windows")
            .build();
        let out = detect(&s, &DetectContext::default());
        let p = out
            .iter()
            .find(|f| matches!(f.artifact, ArtifactRef::Process { pid: 224, .. }))
            .expect("the process is listed");
        assert!(!p.grounds().has(Evidence::PayloadLaunch), "{p:#?}");
        assert_eq!(p.confidence(), Confidence::Low, "{p:#?}");
    }

    /// Qakbot's lateral copy (a DLL with its `.dll.cfg` at the drive root)
    /// is its own artifact: High where Qakbot is confirmed on the host (its
    /// configuration key), Medium where nothing confirms it.
    #[test]
    fn qakbots_lateral_copy_is_high_where_qakbot_is_confirmed() {
        let copy = r"C:\dohyeg.dll";
        let base = || {
            SnapshotBuilder::new("WS1")
                .user("bob")
                .file(copy)
                .file(&format!("{copy}.cfg"))
        };
        let pair = |out: &[Finding]| {
            out.iter()
                .find(|f| f.rule_id == "QAK-DLL-CFG-PAIR")
                .cloned()
                .unwrap_or_else(|| panic!("{out:#?}"))
        };
        let alone = detect(&base().build(), &DetectContext::default());
        assert_eq!(pair(&alone).confidence(), Confidence::Medium, "{alone:#?}");
        let key = r"Software\Microsoft\Ioarplhfr";
        let s = base()
            .reg("bob", key, "22009d73", "REG_BINARY", "01")
            .reg("bob", key, "8a301595", "REG_BINARY", "02")
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.iter().any(|f| f.rule_id == "QAK-CONFIG-KEY" && f.confidence() == Confidence::High), "{out:#?}");
        let p = pair(&out);
        assert_eq!(p.confidence(), Confidence::High, "{p:#?}");
        assert!(p.reasons.iter().any(|r| r.contains("only Qakbot writes")), "{:?}", p.reasons);
        // Signed, the same pair is never raised by the family's presence.
        let s = base()
            .signed_file(copy, "Vendor Ltd")
            .reg("bob", key, "22009d73", "REG_BINARY", "01")
            .reg("bob", key, "8a301595", "REG_BINARY", "02")
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.iter().filter(|f| f.rule_id == "QAK-DLL-CFG-PAIR").all(|f| f.confidence() < Confidence::High), "{out:#?}");
    }

    /// Qakbot's one-time SYSTEM task with a made-up name running regsvr32
    /// on its all-digits first stage in C:\ProgramData is its own: High
    /// where Qakbot is confirmed (its configuration key), Medium alone; a
    /// named task registering a named DLL (Group Policy's immediate task)
    /// stays Medium beside a confirmed Qakbot.
    #[test]
    fn qakbots_first_stage_task_is_high_where_qakbot_is_confirmed() {
        let key = r"Software\Microsoft\Ioarplhfr";
        let host = |task: &str, dll: &str, confirmed: bool| {
            let mut b = SnapshotBuilder::new("WS1")
                .user("carol")
                .task(task, r"C:\Windows\System32\regsvr32.exe", &format!("-s \"{dll}\""), "NT AUTHORITY\\SYSTEM", &["once"])
                .file(dll);
            if confirmed {
                b = b
                    .reg("carol", key, "22009d73", "REG_BINARY", "01")
                    .reg("carol", key, "8a301595", "REG_BINARY", "02");
            }
            detect(&b.build(), &DetectContext::default())
        };
        let task = |out: &[Finding]| {
            out.iter()
                .find(|f| matches!(f.artifact, ArtifactRef::Task { .. }))
                .cloned()
                .unwrap_or_else(|| panic!("{out:#?}"))
        };
        let out = host(r"\wcnxrrws", r"C:\ProgramData\25051.dll", true);
        let t = task(&out);
        assert_eq!((t.family, t.confidence()), (Family::Qakbot, Confidence::High), "{t:#?}");
        assert!(t.grounds().has(Evidence::RelatedToConfirmed), "{t:#?}");
        let out = host(r"\wcnxrrws", r"C:\ProgramData\25051.dll", false);
        assert_eq!(task(&out).confidence(), Confidence::Medium, "{out:#?}");
        let out = host(r"\Contoso Addin Register", r"C:\ProgramData\Contoso\addin.dll", true);
        assert!(task(&out).confidence() < Confidence::High, "{out:#?}");
        let out = host(r"\wcnxrrws", r"C:\ProgramData\Contoso\addin.dll", true);
        assert!(task(&out).confidence() < Confidence::High, "{out:#?}");
    }

    /// A copy under C:\Windows written two seconds before a TrickBot file
    /// that is only Medium (its campaign folder) takes TrickBot's family
    /// and stays Medium: a timestamp raises nothing.
    #[test]
    fn a_copy_written_with_a_medium_loader_takes_its_family_only() {
        let exe = r"C:\Users\user\AppData\Roaming\Netsvcs2291774301\dkwqzvb.exe";
        let copy = r"C:\Windows\hqzwkpt.exe";
        let s = SnapshotBuilder::new("WS1")
            .user("user")
            .task(r"\Netsvcs update", exe, "", "user", &["logon"])
            .file(exe)
            .with_file(exe, |x| {
                x.created = "2024-03-01T09:12:05Z".into();
                x.modified = "2024-03-01T09:12:05Z".into();
                x.sha256 = "a".repeat(64);
            })
            .file(copy)
            .with_file(copy, |x| {
                x.created = "2024-03-01T09:12:03Z".into();
                x.modified = "2024-03-01T09:12:03Z".into();
                x.sha256 = "b".repeat(64);
                x.size = 123_456;
            })
            .build();
        let out = detect(&s, &DetectContext::default());
        let task = out.iter().find(|f| matches!(f.artifact, ArtifactRef::Task { .. })).expect("the task");
        assert_eq!((task.family, task.confidence()), (Family::TrickBot, Confidence::Medium), "{out:#?}");
        let c = out
            .iter()
            .find(|f| f.artifact == ArtifactRef::File { path: copy.to_string() })
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!((c.family, c.confidence()), (Family::TrickBot, Confidence::Medium), "{c:#?}");
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
mod wow64_tests {
    use super::builder::SnapshotBuilder;
    use super::*;

    /// The WMI provider host runs from a System32 subfolder whose name and
    /// file name are both System32 module names (the Emotet 2020 admin
    /// layout's shape). Signed, with its SysWOW64 twin asked for and
    /// missing, it is Windows' own: nothing to act on, in either order.
    #[test]
    fn a_signed_program_in_a_system32_subfolder_is_not_judged_unsigned() {
        let sys = r"C:\Windows\System32\wbem\WmiPrvSE.exe";
        for twin_first in [true, false] {
            let s = SnapshotBuilder::new("SRV1")
                .process(900, 700, r"C:\Windows\System32\svchost.exe", "svchost.exe -k DcomLaunch", "SYSTEM")
                .process(4100, 900, sys, r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding", "SYSTEM")
                .service("Winmgmt", "Windows Management Instrumentation", r"C:\Windows\System32\wbem\WmiPrvSE.exe", "LocalSystem")
                .signed_with_missing_wow64_twin(sys, "Microsoft Windows", twin_first)
                .build();
            let out = detect(&s, &DetectContext::default());
            assert!(
                out.iter().all(|f| !f.actionable() || f.confidence() == Confidence::Low),
                "twin first: {twin_first}: {out:#?}"
            );
            // The same layout unsigned is the Emotet admin layout, found.
            let s = SnapshotBuilder::new("SRV1")
                .service("netprofm", "netprofm", r"C:\Windows\SysWOW64\netprofm\tapisrv.exe", "LocalSystem")
                .file(r"C:\Windows\SysWOW64\netprofm\tapisrv.exe")
                .build();
            assert!(detect(&s, &DetectContext::default()).iter().any(|f| f.actionable() && f.family == Family::Emotet));
        }
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
