//! Ties a verifying scan's findings to what was confirmed (high) on the
//! same host earlier in the operation: in the scan its reviewed plan was
//! made from, or in a re-purge round's.
//!
//! The purge removes what was confirmed, so the scan after the reboot sees
//! only what a loader wrote again: Qakbot, running in memory, writes its
//! Run value at shutdown, pointing at a DLL in the folder the purge denied
//! writes to. On its own such a value rests on shapes (medium); what makes
//! it the loader's is the confirmed finding it points at. A finding gains
//! [`Evidence::ConfirmedEarlier`](super::Evidence::ConfirmedEarlier) (a
//! strong line, see the standard in [`super::evidence`]) only through a
//! concrete link to one confirmed finding:
//!
//! - the same persistence come back (the same registry value, task,
//!   service, startup item or WMI subscription);
//! - a file it starts or is, at the exact path of a confirmed file, or
//!   inside a folder confirmed as the loader's own (a user-writable
//!   folder below its area's root, never the root itself);
//! - a file with the SHA-256 of a confirmed file that was not validly
//!   signed (a renamed Windows program's hash is Windows' own).
//!
//! A name or folder that merely looks alike is no link: real software on
//! the host is never tied. Only findings detection already made are tied
//! (evidence is added, nothing is found by this module), and a validly
//! signed file is never raised by a tie ([`Finding::tie`]).

use std::collections::HashMap;

use super::evidence::Evidence as E;
use super::facts::Facts;
use super::paths;
use super::{ArtifactRef, Confidence, Family, Finding};
use crate::runtime::snapshot::{FileFacts, Snapshot};

/// A finding of an earlier scan of the host, as the journal keeps it.
#[derive(Debug, Clone, Copy)]
pub struct EarlierFinding<'a> {
    pub family: Family,
    pub rule_id: &'a str,
    pub confidence: Confidence,
    /// No allow-list spared it.
    pub actionable: bool,
    pub artifact: &'a ArtifactRef,
    pub target_files: &'a [String],
}

impl<'a> From<&'a Finding> for EarlierFinding<'a> {
    /// A finding of this run's detection (tests build `Earlier` from one).
    fn from(f: &'a Finding) -> Self {
        EarlierFinding {
            family: f.family,
            rule_id: f.rule_id,
            confidence: f.confidence(),
            actionable: f.actionable(),
            artifact: &f.artifact,
            target_files: &f.target_files,
        }
    }
}

/// One confirmed finding, as a later scan is compared with it.
#[derive(Debug, Clone)]
struct Confirmed {
    family: Family,
    /// `rule on artifact`, for reasons.
    what: String,
    /// The persistence itself ([`persistence_key`]), when it is one.
    persistence: Option<String>,
    /// Its files, by [`paths::key`].
    files: Vec<String>,
    /// Folders confirmed as the loader's own, as written.
    folders: Vec<String>,
    /// SHA-256 of its files that were not validly signed.
    hashes: Vec<String>,
}

/// What was confirmed on one host earlier in the operation.
#[derive(Debug, Clone, Default)]
pub struct Earlier {
    confirmed: Vec<Confirmed>,
}

/// How a finding is tied to a confirmed one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    SamePersistence,
    SamePath(String),
    InFolder { file: String, folder: String },
    SameHash(String),
}

impl Link {
    fn words(&self) -> String {
        match self {
            Link::SamePersistence => "it is the same persistence".into(),
            Link::SamePath(p) => format!("it starts or is {p}, the path of a confirmed file"),
            Link::InFolder { file, folder } => {
                format!("it starts or is {file}, inside {folder}, a folder confirmed as the loader's own")
            }
            Link::SameHash(p) => format!("{p} has the SHA-256 of a confirmed file"),
        }
    }
}

/// A comparison key for persistence (not files, folders or processes,
/// which are compared by path, and a process id means nothing after a
/// reboot).
fn persistence_key(a: &ArtifactRef) -> Option<String> {
    match a {
        ArtifactRef::File { .. } | ArtifactRef::Folder { .. } | ArtifactRef::Process { .. } => None,
        other => Some(other.describe().to_lowercase()),
    }
}

/// The files a finding starts or is (its artifact's own path included),
/// each once.
fn files_of(artifact: &ArtifactRef, target_files: &[String]) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    let own = match artifact {
        ArtifactRef::File { path } | ArtifactRef::Folder { path } => Some(path),
        _ => None,
    };
    for p in target_files.iter().chain(own) {
        if !files.iter().any(|f| paths::key(f) == paths::key(p)) {
            files.push(p.clone());
        }
    }
    files
}

/// A folder that may be confirmed as a loader's own as a whole: in a
/// place a user (or a loader running as one) writes, below that place's
/// root (never `%APPDATA%` or `C:\ProgramData` itself).
fn may_be_loaders_folder(folder: &str, snapshot: &Snapshot) -> bool {
    let place = paths::classify(folder, &snapshot.users);
    place.user_writable() && !place.rel.is_empty()
}

impl Earlier {
    pub fn is_empty(&self) -> bool {
        self.confirmed.is_empty()
    }

    /// Keep the confirmed (high, not allow-listed) findings of an earlier
    /// scan of the host, with `snapshot`, the scan's own facts (for the
    /// hashes and which paths were folders).
    pub fn add_scan<'a>(&mut self, snapshot: &Snapshot, findings: impl IntoIterator<Item = EarlierFinding<'a>>) {
        let by_key: HashMap<String, &FileFacts> = snapshot.files.iter().map(|f| (paths::key(&f.path), f)).collect();
        for fd in findings {
            if fd.confidence != Confidence::High || !fd.actionable {
                continue;
            }
            let mut c = Confirmed {
                family: fd.family,
                what: format!("{} on {}", fd.rule_id, fd.artifact.describe()),
                persistence: persistence_key(fd.artifact),
                files: Vec::new(),
                folders: Vec::new(),
                hashes: Vec::new(),
            };
            for p in files_of(fd.artifact, fd.target_files) {
                let facts = by_key.get(&paths::key(&p)).copied();
                let is_folder = matches!(fd.artifact, ArtifactRef::Folder { path } if path == &p)
                    || facts.is_some_and(|f| f.is_dir);
                if is_folder {
                    if may_be_loaders_folder(&p, snapshot) {
                        c.folders.push(p);
                    }
                    continue;
                }
                c.files.push(paths::key(&p));
                if let Some(f) = facts.filter(|f| f.exists && f.sha256.len() == 64 && !f.signature.eq_ignore_ascii_case("valid")) {
                    c.hashes.push(f.sha256.to_lowercase());
                }
            }
            self.confirmed.push(c);
        }
    }

    /// The first link of `fd` (on the host of `f`) to a confirmed finding.
    fn link(&self, f: &Facts, fd: &Finding) -> Option<(Link, &Confirmed)> {
        let persistence = persistence_key(&fd.artifact);
        let files = files_of(&fd.artifact, &fd.target_files);
        for c in &self.confirmed {
            if persistence.is_some() && persistence == c.persistence {
                return Some((Link::SamePersistence, c));
            }
            for p in &files {
                let shown = paths::normalize(p);
                if c.files.contains(&paths::key(p)) {
                    return Some((Link::SamePath(shown), c));
                }
                if let Some(folder) = c.folders.iter().find(|d| paths::is_under(p, d)) {
                    return Some((Link::InFolder { file: shown, folder: paths::normalize(folder) }, c));
                }
                let hash = f
                    .file(p)
                    .filter(|x| x.exists && x.sha256.len() == 64)
                    .map(|x| x.sha256.to_lowercase());
                if let Some(h) = hash
                    && f.valid_signer(p).is_none()
                    && c.hashes.contains(&h)
                {
                    return Some((Link::SameHash(shown), c));
                }
            }
        }
        None
    }
}

/// Tie `out`'s findings to what `earlier` confirmed on this host.
pub(crate) fn apply(f: &Facts, earlier: &Earlier, out: &mut [Finding]) {
    if earlier.is_empty() {
        return;
    }
    for fd in out.iter_mut() {
        if !fd.actionable() || fd.grounds().has(E::ConfirmedEarlier) {
            continue;
        }
        let Some((link, c)) = earlier.link(f, fd) else { continue };
        let (words, what, family) = (link.words(), c.what.clone(), c.family);
        let before = fd.confidence();
        fd.tie(E::ConfirmedEarlier);
        let lifted = fd.family == Family::UnknownLoaderLike && family != Family::UnknownLoaderLike;
        if lifted {
            fd.family = family;
        }
        if fd.confidence() == Confidence::High {
            fd.reasons.retain(|r| !r.starts_with("Medium: would be High with"));
        }
        let change = if fd.confidence() == before {
            format!("still {before:?}")
        } else {
            format!("raised from {before:?} to {:?}", fd.confidence())
        };
        let tied = if lifted { format!(" and tied to {}", family.name()) } else { String::new() };
        fd.reasons.push(format!(
            "{change}{tied}: {words} ({what}, confirmed on this host earlier in the operation)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::builder::SnapshotBuilder;
    use super::super::{DetectContext, detect, detect_again};
    use super::*;

    const FOLDER: &str = r"C:\Users\bob\AppData\Roaming\Microsoft\Vuhys";
    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

    /// Before the purge: Qakbot's folder (empty, running in memory),
    /// confirmed as the loader's own by its configuration key.
    fn before() -> (Snapshot, Vec<Finding>) {
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .dir(FOLDER, &[])
            .reg("bob", r"Software\Microsoft\Ioarplhfr", "22009d73", "REG_BINARY", "01")
            .reg("bob", r"Software\Microsoft\Ioarplhfr", "8a301595", "REG_BINARY", "02")
            .build();
        let out = detect(&s, &DetectContext::default());
        (s, out)
    }

    fn earlier() -> Earlier {
        let (s, out) = before();
        let mut e = Earlier::default();
        e.add_scan(
            &s,
            out.iter().map(EarlierFinding::from),
        );
        e
    }

    /// After the reboot: the Run value Qakbot wrote at shutdown, pointing
    /// at a DLL in its folder that the deny kept from being written, and a
    /// benign Run value beside it.
    fn after(benign: &str) -> Snapshot {
        SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "lpqwzkdt", &format!(r#"regsvr32.exe -s "{FOLDER}\kxbtaqzr.dll""#))
            .run("bob", "OneDrive", benign)
            .file(r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe")
            .build()
    }

    #[test]
    fn the_folder_was_confirmed_before_the_purge() {
        let (_, out) = before();
        assert!(
            out.iter().any(|f| f.confidence() == Confidence::High
                && f.actionable()
                && (matches!(&f.artifact, ArtifactRef::Folder { path } if paths::key(path) == paths::key(FOLDER))
                    || f.target_files.iter().any(|t| paths::key(t) == paths::key(FOLDER)))),
            "{out:#?}"
        );
        assert!(!earlier().is_empty());
    }

    /// The Run value rewritten at shutdown is medium alone, high once tied
    /// to the folder confirmed earlier; the benign value is not touched.
    #[test]
    fn a_run_value_into_a_confirmed_folder_is_high_and_a_benign_one_is_untouched() {
        let benign = r#""C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#;
        let s = after(benign);
        let is_qak = |f: &&Finding| matches!(&f.artifact, ArtifactRef::RegistryAutorun { value, key, .. } if value == "lpqwzkdt" && key.eq_ignore_ascii_case(RUN));
        let alone = detect(&s, &DetectContext::default());
        let run = alone.iter().find(is_qak).unwrap_or_else(|| panic!("{alone:#?}"));
        assert!(run.confidence() < Confidence::High, "{run:#?}");

        let out = detect_again(&s, &DetectContext::default(), &earlier());
        let run = out.iter().find(is_qak).unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(run.confidence(), Confidence::High, "{run:#?}");
        assert!(run.grounds().has(E::ConfirmedEarlier), "{run:#?}");
        assert!(
            run.reasons.iter().any(|r| r.contains("a folder confirmed as the loader's own") && r.contains("earlier in the operation")),
            "{:?}",
            run.reasons
        );
        // The benign Run value: no finding at all, or none tied and none high.
        for f in out.iter().filter(|f| matches!(&f.artifact, ArtifactRef::RegistryAutorun { value, .. } if value == "OneDrive")) {
            assert!(!f.grounds().has(E::ConfirmedEarlier), "{f:#?}");
            assert!(f.confidence() < Confidence::High, "{f:#?}");
        }
        // The same scan with nothing confirmed earlier is what detect gives.
        assert_eq!(detect_again(&s, &DetectContext::default(), &Earlier::default()), alone);
    }

    /// A benign value that looks like the loader's (a random-looking name,
    /// a DLL in another folder under %APPDATA%\Microsoft) has no concrete
    /// link: it stays as detection judges it.
    #[test]
    fn a_lookalike_without_the_same_path_or_hash_is_not_tied() {
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "lpqwzkdt", r#"regsvr32.exe -s "C:\Users\bob\AppData\Roaming\Microsoft\Vuhyz\kxbtaqzr.dll""#)
            .build();
        let out = detect_again(&s, &DetectContext::default(), &earlier());
        assert!(out.iter().all(|f| !f.grounds().has(E::ConfirmedEarlier)), "{out:#?}");
        assert_eq!(out, detect(&s, &DetectContext::default()));
    }

    /// Emotet's Run value confirmed before the purge (its DLL in its own
    /// folder) and written again afterwards, its DLL gone: the same
    /// persistence, tied; a Run value of another name starting a program
    /// elsewhere is not.
    #[test]
    fn the_same_persistence_come_back_is_tied_and_another_value_is_not() {
        let dir = r"C:\Users\bob\AppData\Local\Gmkdfrtoqz";
        let command = format!(r#"C:\Windows\SysWOW64\rundll32.exe "{dir}\ohwqpx.kzt",RunDLL"#);
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Xlhbtqwzfe", &command)
            .file(&format!(r"{dir}\ohwqpx.kzt"))
            .dir(dir, &["ohwqpx.kzt"])
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.iter().any(|f| f.confidence() == Confidence::High), "{out:#?}");
        let mut e = Earlier::default();
        e.add_scan(
            &s,
            out.iter().map(EarlierFinding::from),
        );
        let after = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Xlhbtqwzfe", &command)
            .run("bob", "Updater", r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start")
            .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
            .build();
        let out = detect_again(&after, &DetectContext::default(), &e);
        let value = |name: &str| {
            out.iter()
                .filter(move |f| matches!(&f.artifact, ArtifactRef::RegistryAutorun { value, .. } if value == name))
                .collect::<Vec<_>>()
        };
        let back = value("Xlhbtqwzfe");
        assert!(!back.is_empty(), "{out:#?}");
        assert!(back.iter().all(|f| f.grounds().has(E::ConfirmedEarlier) && f.confidence() == Confidence::High), "{back:#?}");
        for f in value("Updater") {
            assert!(!f.grounds().has(E::ConfirmedEarlier) && f.confidence() < Confidence::High, "{f:#?}");
        }
    }

    /// A confirmed file's hash is kept (to tie a copy of it elsewhere)
    /// once, and only when the confirmed file was not validly signed (a
    /// renamed Windows program's hash is Windows' own).
    #[test]
    fn a_hash_is_kept_only_from_unsigned_confirmed_files() {
        let art = ArtifactRef::File { path: r"C:\ProgramData\Xyz\a.exe".into() };
        let targets = vec![r"C:\ProgramData\Xyz\a.exe".to_string()];
        let confirmed = |signed: bool| {
            let path = r"C:\ProgramData\Xyz\a.exe";
            let b = if signed {
                SnapshotBuilder::new("WS1").signed_file(path, "Microsoft Windows")
            } else {
                SnapshotBuilder::new("WS1").file(path)
            }
            .with_file(path, |f| f.sha256 = "c".repeat(64));
            let mut e = Earlier::default();
            e.add_scan(
                &b.build(),
                [EarlierFinding {
                    family: Family::Emotet,
                    rule_id: "TEST",
                    confidence: Confidence::High,
                    actionable: true,
                    artifact: &art,
                    target_files: &targets,
                }],
            );
            e
        };
        assert_eq!(confirmed(false).confirmed[0].hashes, vec!["c".repeat(64)]);
        assert!(confirmed(true).confirmed[0].hashes.is_empty());
    }

    /// A folder at an area's root (all of %APPDATA%) is never a loader's
    /// own folder, whatever a finding said.
    #[test]
    fn an_areas_root_is_never_a_confirmed_folder() {
        let s = SnapshotBuilder::new("WS1").user("bob").build();
        assert!(!may_be_loaders_folder(r"C:\Users\bob\AppData\Roaming", &s));
        assert!(!may_be_loaders_folder(r"C:\ProgramData", &s));
        assert!(!may_be_loaders_folder(r"C:\Windows\System32\Tasks", &s));
        assert!(may_be_loaders_folder(FOLDER, &s));
    }
}
