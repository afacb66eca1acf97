//! Ties to a loader's High finding on the same host, and what they do:
//!
//! - **the medium tier raised**: a Medium finding whose file has the same
//!   SHA-256 as a High finding's file, the same size and last-write time
//!   (a copy, when the two hashes are not both known), whose file is one a
//!   High finding starts or consists of (the DLL a High Run value runs),
//!   whose process was started by a High finding's process, or whose file
//!   only one family makes while that family is confirmed on the host
//!   ([`own_artifact`]), gains a strong line of
//!   evidence (a relation to a confirmed finding) and so becomes High; one
//!   written within seconds of a High finding's file (dropped by the same
//!   run) gains a weak one, a timestamp (a Low one becomes Medium, a
//!   Medium one stays Medium); a finding of no known family takes the
//!   family of what it is tied to, and a lateral copy under `C:\Windows`
//!   even by a timestamp to a Medium one (the family only);
//! - **loader copies spread**: a file no finding names that is such a copy
//!   (into another profile, a Startup folder, `C:\Windows`) is a finding
//!   of the loader's family; a random-named, unsigned executable written
//!   within seconds of the loader's files is listed with its family;
//! - a program in a user-writable folder started by the loader's process
//!   is the loader's too.
//!
//! Across hosts, the same ties (a hash confirmed on one host, the same
//! shape) are the fleet pass's (`families::…` run per host; the fleet
//! judgement reuses [`Tie`] and [`tie_files`]).
//!
//! What each Medium rule needs to be High is said on its findings
//! ([`raise_hint`]).

use super::facts::{Facts, parse_time};
use super::families::first_stage_name;
use super::lateral::in_windows_root;
use super::names;
use super::paths;
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Confidence, Family, Finding};
use crate::runtime::snapshot::FileFacts;

/// Is `fd` an artifact only its family makes? On a host where that family
/// is confirmed by a strong line, such an artifact is that loader's own.
/// Only exact fingerprints, never a shape common to benign software (a
/// word-list name, a folder layout, a SYSTEM task registering a DLL once,
/// which Group Policy immediate tasks also do):
/// - Qakbot's lateral copy through `C$` with the `.dll.cfg` it loads its
///   configuration from (nothing else writes the pair);
/// - Qakbot's one-time SYSTEM task with a made-up name (8 lower-case
///   letters or a GUID) running regsvr32 on its first stage, an
///   all-digits DLL directly in `C:\ProgramData` (TA551's delivery): a
///   Group Policy task or an installer registers a named DLL of its own.
fn own_artifact(f: &Facts, fd: &Finding) -> bool {
    match fd.rule_id {
        "QAK-DLL-CFG-PAIR" => true,
        "QAK-TASK-SYSTEM-REGSVR32" => {
            fd.grounds().has(E::NameShape)
                && !fd.target_files.is_empty()
                && fd.target_files.iter().all(|t| first_stage_name(f, t))
        }
        _ => false,
    }
}

/// Rules on a lateral copy (`lateral`), whose family only what it
/// installed can tell.
const LATERAL_COPY_RULES: &[&str] = &["LAT-WINDOWS-ROOT-COPY", "LAT-WINDOWS-ROOT-SERVICE"];

/// Seconds within which two files count as written by the same run.
pub const WRITTEN_WITHIN_SECS: f64 = 5.0;

/// How a file (or process) is tied to a High finding's.
#[derive(Debug, Clone, PartialEq)]
pub enum Tie {
    SameHash { other: String },
    SameSizeAndTime { other: String },
    WrittenWith { other: String, secs: f64 },
    StartedBy { pid: u32, image: String },
    /// It is a file the confirmed finding names as what it starts or
    /// consists of (the DLL a High Run value runs).
    NamedBy { file: String },
    /// A file only one family writes (Qakbot's lateral copy with its
    /// `.dll.cfg`), on a host where that family is confirmed.
    OwnArtifact { family: Family },
}

impl Tie {
    /// A relation to the confirmed finding itself (a copy of its file,
    /// started by its process), not a timestamp coincidence.
    pub fn strong(&self) -> bool {
        !matches!(self, Tie::WrittenWith { .. })
    }
    /// The line of evidence the tie adds.
    pub fn evidence(&self) -> E {
        if self.strong() {
            E::RelatedToConfirmed
        } else {
            E::Timestamp
        }
    }
    pub fn words(&self) -> String {
        match self {
            Tie::SameHash { other } => format!("it has the same SHA-256 as {other}"),
            Tie::SameSizeAndTime { other } => {
                format!("it has the same size and last-write time as {other} (a copy)")
            }
            Tie::WrittenWith { other, secs } => {
                format!("it was written {secs:.0} s from {other}, by the same run")
            }
            Tie::StartedBy { pid, image } => format!("it was started by process {pid} ({image})"),
            Tie::NamedBy { file } => format!("{file} is what a confirmed finding starts"),
            Tie::OwnArtifact { family } => format!(
                "it is an artifact only {} writes, and {} is confirmed on this host",
                family.name(),
                family.name()
            ),
        }
    }
}

/// What a tie points at: the High finding's family, rule and artifact.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub family: Family,
    pub rule_id: &'static str,
    pub artifact: ArtifactRef,
    /// What the finding rests on (a copy of its file rests on the same).
    pub grounds: Grounds,
    /// It is High: a tie to it is a relation to a confirmed finding.
    pub confirmed: bool,
}

fn times(f: &FileFacts) -> (Option<f64>, Option<f64>) {
    (parse_time(&f.created), parse_time(&f.modified))
}

/// The strongest tie between file `c` and file `a` (two different files).
pub fn tie_files(c: &FileFacts, a: &FileFacts) -> Option<Tie> {
    if paths::key(&c.path) == paths::key(&a.path) || c.is_dir || a.is_dir || !c.exists || !a.exists
    {
        return None;
    }
    let other = paths::normalize(&a.path);
    if c.sha256.len() == 64 && c.sha256.eq_ignore_ascii_case(&a.sha256) {
        return Some(Tie::SameHash { other });
    }
    let (cc, cm) = times(c);
    let (ac, am) = times(a);
    let close = |x: Option<f64>, y: Option<f64>, w: f64| match (x, y) {
        (Some(x), Some(y)) => ((x - y).abs() <= w).then_some((x - y).abs()),
        _ => None,
    };
    // Same size and write time stand for a copy only when the hashes
    // cannot tell: two known, different hashes are two different files.
    let both_hashed = c.sha256.len() == 64 && a.sha256.len() == 64;
    if !both_hashed && c.size > 0 && c.size == a.size && close(cm, am, 2.0).is_some() {
        return Some(Tie::SameSizeAndTime { other });
    }
    let secs = close(cc, ac, WRITTEN_WITHIN_SECS).or_else(|| close(cm, am, WRITTEN_WITHIN_SECS))?;
    Some(Tie::WrittenWith { other, secs })
}

struct Anchors<'a> {
    list: Vec<(Anchor, Vec<&'a FileFacts>, Vec<u32>)>,
}

impl<'a> Anchors<'a> {
    /// Actionable findings at `at_least` or above.
    fn of(f: &Facts<'a>, out: &[Finding], at_least: Confidence) -> Anchors<'a> {
        let mut list = Vec::new();
        for fd in out
            .iter()
            .filter(|x| x.actionable() && x.confidence >= at_least)
        {
            let mut files: Vec<&FileFacts> = Vec::new();
            let mut pids = Vec::new();
            let mut paths: Vec<String> = fd.target_files.clone();
            match &fd.artifact {
                ArtifactRef::File { path } => paths.push(path.clone()),
                ArtifactRef::Process { pid, .. } => pids.push(*pid),
                _ => {}
            }
            for p in &paths {
                if let Some(ff) = f.file(p).filter(|x| x.exists && !x.is_dir)
                    && !files.iter().any(|x| std::ptr::eq(*x, ff))
                {
                    files.push(ff);
                }
            }
            // Processes running the finding's files.
            for p in &f.snap.processes {
                if paths.iter().any(|t| paths::key(t) == paths::key(&p.image)) {
                    pids.push(p.pid);
                }
            }
            list.push((
                Anchor {
                    family: fd.family,
                    rule_id: fd.rule_id,
                    artifact: fd.artifact.clone(),
                    grounds: fd.grounds().clone(),
                    confirmed: fd.confidence == Confidence::High,
                },
                files,
                pids,
            ));
        }
        Anchors { list }
    }

    /// The strongest tie of file `c` to an anchor.
    fn tie_file(&self, c: &FileFacts) -> Option<(Tie, &Anchor)> {
        let mut best: Option<(Tie, &Anchor)> = None;
        for (a, files, _) in &self.list {
            for af in files {
                if let Some(t) = tie_files(c, af) {
                    let better = match &best {
                        None => true,
                        Some((b, _)) => t.strong() && !b.strong(),
                    };
                    if better {
                        best = Some((t, a));
                    }
                }
            }
        }
        best
    }

    /// The anchor whose process started process `pid`.
    fn tie_process(&self, f: &Facts, pid: u32) -> Option<(Tie, &Anchor)> {
        let p = f.snap.processes.iter().find(|p| p.pid == pid)?;
        if p.parent_pid == 0 || p.parent_pid == pid {
            return None;
        }
        let parent = f.snap.processes.iter().find(|q| q.pid == p.parent_pid)?;
        self.list
            .iter()
            .find(|(_, _, pids)| pids.contains(&parent.pid))
            .map(|(a, _, _)| {
                (
                    Tie::StartedBy {
                        pid: parent.pid,
                        image: parent.image.clone(),
                    },
                    a,
                )
            })
    }

    /// A confirmed anchor (not `not`) naming file `c` itself among the
    /// files it starts or consists of.
    fn naming(&self, c: &FileFacts, not: &ArtifactRef) -> Option<(Tie, &Anchor)> {
        self.list
            .iter()
            .filter(|(a, _, _)| a.confirmed && &a.artifact != not)
            .find(|(_, files, _)| files.iter().any(|af| std::ptr::eq(*af, c)))
            .map(|(a, _, _)| (Tie::NamedBy { file: paths::normalize(&c.path) }, a))
    }

    /// A confirmed anchor of `family` resting on a strong line of its own.
    fn confirmed_family(&self, family: Family) -> Option<&Anchor> {
        self.list
            .iter()
            .map(|(a, _, _)| a)
            .find(|a| a.confirmed && a.family == family && a.grounds.evidence.iter().any(|e| e.is_strong()))
    }

    fn is_anchor(&self, fd: &Finding) -> bool {
        self.list
            .iter()
            .any(|(a, _, _)| a.artifact == fd.artifact && a.rule_id == fd.rule_id)
    }
}

/// What would make a Medium finding of `rule_id` High (said on it).
pub fn raise_hint(rule_id: &str) -> &'static str {
    match rule_id {
        "GEN-LOLBIN-USERWRITABLE"
        | "GEN-SCRIPT-USERWRITABLE"
        | "GEN-INLINE-CODE"
        | "GEN-REMOTE-SCRIPT"
        | "GEN-HIJACK-USERWRITABLE" => {
            "evidence beyond its shape: a listed hash, code loaded from a disguised file, or a tie to a loader's High finding (same hash, started by it)"
        }
        "LAT-WINDOWS-ROOT-COPY" | "LAT-WINDOWS-ROOT-SERVICE" => {
            "a tie to a loader's High finding on this host (same hash or a copy of its file)"
        }
        "GEN-COPIED-WINDOWS-PROGRAM" => {
            "something starting the copy, or a tie to a loader's High finding"
        }
        "GEN-DEFENDER-EXCLUSION" => "the excluded folder being a loader's (a family finding on it)",
        "GEN-UAC-BYPASS-KEY" => "its command starting a file a family rule flags",
        "GEN-REGISTRY-PAYLOAD" => "an autostart reading the value and running it",
        "LINK-DROPPED-WITH" => {
            "the same hash or size and write time as the loader's file, or being started by it"
        }
        _ => {
            "evidence beyond names and places: the same hash as a High finding's file, being started by a High finding's process, or a strong line of its own (what it loads, how it was started)"
        }
    }
}

/// Tie findings to `anchors` (High findings: new evidence) or, by a copy
/// of their file, to `suspects` (Medium ones: the family only).
fn raise(f: &Facts, anchors: &Anchors, suspects: &Anchors, out: &mut [Finding]) -> Vec<(ArtifactRef, ArtifactRef)> {
    let mut ties = Vec::new();
    for fd in out.iter_mut() {
        if !fd.actionable() || fd.confidence == Confidence::High || anchors.is_anchor(fd) {
            continue;
        }
        let mut best: Option<(Tie, Anchor)> = None;
        let mut consider = |t: Tie, a: &Anchor| {
            let better = match &best {
                None => true,
                Some((b, _)) => t.strong() && !b.strong(),
            };
            if better {
                best = Some((t, a.clone()));
            }
        };
        let mut files: Vec<String> = fd.target_files.clone();
        if let ArtifactRef::File { path } = &fd.artifact {
            files.push(path.clone());
        }
        // A lateral copy of no known family takes the family of a Medium
        // finding it was written with (the family only: a timestamp raises
        // nothing). Only the copy: what it installed names the family a
        // copy under C:\Windows cannot.
        let unknown = fd.family == Family::UnknownLoaderLike && LATERAL_COPY_RULES.contains(&fd.rule_id);
        for p in &files {
            if let Some(ff) = f.file(p) {
                if let Some((t, a)) = anchors.naming(ff, &fd.artifact) {
                    consider(t, a);
                }
                if let Some((t, a)) = anchors.tie_file(ff) {
                    consider(t, a);
                }
                if let Some((t, a)) = suspects.tie_file(ff).filter(|(t, a)| {
                    (t.strong() || (unknown && a.family != Family::UnknownLoaderLike))
                        && a.artifact != fd.artifact
                }) {
                    consider(t, a);
                }
            }
        }
        if own_artifact(f, fd)
            && !files.iter().any(|p| f.valid_signer(p).is_some())
            && let Some(a) = anchors.confirmed_family(fd.family)
            && a.artifact != fd.artifact
        {
            consider(Tie::OwnArtifact { family: fd.family }, a);
        }
        if let ArtifactRef::Process { pid, .. } = &fd.artifact
            && let Some((t, a)) = anchors.tie_process(f, *pid)
        {
            consider(t, a);
        }
        let Some((tie, a)) = best else {
            if fd.confidence == Confidence::Medium {
                let hint = format!("Medium: would be High with {}", raise_hint(fd.rule_id));
                if !fd.reasons.contains(&hint) {
                    fd.reasons.push(hint);
                }
            }
            continue;
        };
        // Tied this way in an earlier round (detection repeats its ties
        // until nothing changes): nothing new.
        let said = format!("{} ({} on {})", tie.words(), a.rule_id, a.artifact.describe());
        if fd.reasons.iter().any(|r| r.ends_with(&said)) {
            continue;
        }
        let before = fd.confidence;
        if a.confirmed {
            fd.tie(tie.evidence());
        }
        if fd.confidence == Confidence::High {
            fd.reasons.retain(|r| !r.starts_with("Medium: would be High with"));
        }
        let lifted =
            fd.family == Family::UnknownLoaderLike && a.family != Family::UnknownLoaderLike;
        if lifted {
            fd.family = a.family;
        }
        ties.push((fd.artifact.clone(), a.artifact.clone()));
        let tied = if lifted {
            format!(" and tied to {}", a.family.name())
        } else {
            String::new()
        };
        let change = if fd.confidence == before {
            // A timestamp is a weak line: it ties, it does not raise.
            format!(
                "still {before:?}{tied} ({})",
                if a.confirmed {
                    "being written at the same time is a weak line"
                } else {
                    "what it is tied to is not High itself"
                }
            )
        } else {
            format!("raised from {before:?} to {:?}{tied}", fd.confidence)
        };
        fd.reasons.push(format!("{change}: {said}"));
    }
    ties
}

/// A strong tie of file `c` to one of `x`.
fn anchors_strong<'b>(x: &'b Anchors<'_>, c: &FileFacts) -> Option<(Tie, &'b Anchor)> {
    x.tie_file(c).filter(|(t, _)| t.strong())
}

/// Names of files and folders the findings already cover.
fn covered(out: &[Finding]) -> Vec<String> {
    let mut k: Vec<String> = Vec::new();
    for fd in out {
        k.extend(fd.target_files.iter().map(|t| paths::key(t)));
        if let ArtifactRef::File { path } | ArtifactRef::Folder { path } = &fd.artifact {
            k.push(paths::key(path));
        }
    }
    k
}

/// New findings, each with the artifact of the High finding it is tied to.
/// `anchors` are the High findings; `suspects` the Medium and High ones: a
/// copy of a Medium finding's file is found too, resting on the same
/// evidence as what it copies (never raised by being a copy).
fn new_findings(f: &Facts, anchors: &Anchors, suspects: &Anchors, out: &[Finding]) -> Vec<(Finding, ArtifactRef)> {
    let covered = covered(out);
    let mut add = Vec::new();
    for c in &f.snap.files {
        if !c.exists || c.is_dir || covered.contains(&paths::key(&c.path)) {
            continue;
        }
        let tied = anchors_strong(anchors, c)
            .or_else(|| anchors_strong(suspects, c))
            .or_else(|| anchors.tie_file(c));
        let Some((tie, a)) = tied else {
            continue;
        };
        if a.family == Family::UnknownLoaderLike {
            continue;
        }
        let n = paths::normalize(&c.path);
        let place = f.place(&n);
        if tie.strong() {
            add.push((
                Finding::new(
                    &f.host,
                    ArtifactRef::File { path: n.clone() },
                    a.family,
                    "LINK-LOADER-COPY",
                    {
                        let mut g = a.grounds.clone().with_if(a.confirmed, E::RelatedToConfirmed);
                        g.add(E::FolderShape);
                        g
                    },
                    vec![format!(
                        "{n}: {} ({} on {}): a copy of the {} loader, spread into another folder",
                        tie.words(),
                        a.rule_id,
                        a.artifact.describe(),
                        a.family.name()
                    )],
                    vec![n.clone()],
                ),
                a.artifact.clone(),
            ));
            continue;
        }
        let ext = paths::extension(&n);
        let unsigned = c.signature.eq_ignore_ascii_case("unsigned")
            || c.signature.eq_ignore_ascii_case("invalid");
        if unsigned
            && ["exe", "dll", "scr", "com"].contains(&ext.as_str())
            && (place.user_writable() || in_windows_root(&n))
            && names::looks_random(paths::stem(&n))
        {
            add.push((
                Finding::new(
                    &f.host,
                    ArtifactRef::File { path: n.clone() },
                    a.family,
                    "LINK-DROPPED-WITH",
                    Grounds::of(&[E::Timestamp, E::NameShape, E::Unsigned]),
                    vec![
                        format!(
                            "{n} is an unsigned random-named .{ext} file and {} ({} on {})",
                            tie.words(),
                            a.rule_id,
                            a.artifact.describe()
                        ),
                        format!(
                            "Medium: would be High with {}",
                            raise_hint("LINK-DROPPED-WITH")
                        ),
                    ],
                    vec![n.clone()],
                ),
                a.artifact.clone(),
            ));
        }
    }
    // A program in a user-writable folder started by the loader's process.
    for p in &f.snap.processes {
        let art = ArtifactRef::Process {
            pid: p.pid,
            image: p.image.clone(),
        };
        if out.iter().any(|x| x.artifact == art) || !f.place(&p.image).user_writable() {
            continue;
        }
        let Some((tie, a)) = anchors.tie_process(f, p.pid) else {
            continue;
        };
        if f.valid_signer(&p.image).is_some() || a.family == Family::UnknownLoaderLike {
            continue;
        }
        let image = paths::normalize(&p.image);
        let mut targets = Vec::new();
        if !covered.contains(&paths::key(&image)) {
            targets.push(image.clone());
        }
        add.push((
            Finding::new(
            &f.host,
            art,
            a.family,
            "LINK-STARTED-BY-LOADER",
            Grounds::of(&[E::RelatedToConfirmed, E::FolderShape, E::Unsigned]),
            vec![format!(
                "process {} ({image}) runs an unsigned program from a user-writable folder and {} ({} on {})",
                p.pid,
                tie.words(),
                a.rule_id,
                a.artifact.describe()
            )],
            targets,
        ),
            a.artifact.clone(),
        ));
    }
    add
}

/// Raise tied findings and add the loader's copies and children. Returns
/// each tie as (tied artifact, the High finding's artifact), for the
/// findings' `related` (the fleet pass reads the same relations).
pub(crate) fn apply(f: &Facts, out: &mut Vec<Finding>) -> Vec<(ArtifactRef, ArtifactRef)> {
    let anchors = Anchors::of(f, out, Confidence::High);
    let suspects = Anchors::of(f, out, Confidence::Medium);
    let add = new_findings(f, &anchors, &suspects, out);
    let mut ties = raise(f, &anchors, &suspects, out);
    for (x, to) in add {
        ties.push((x.artifact.clone(), to));
        out.push(x);
    }
    ties
}

/// Add each tie from [`apply`] to the tied finding's `related` (after
/// [`super::link::relate`], which rebuilds that list from shared files).
pub(crate) fn relate(ties: &[(ArtifactRef, ArtifactRef)], out: &mut [Finding]) {
    for (tied, to) in ties {
        for x in out
            .iter_mut()
            .filter(|x| &x.artifact == tied && &x.artifact != to)
        {
            if !x.related.contains(to) {
                x.related.push(to.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    const EMO_DLL: &str = r"C:\Users\bob\AppData\Local\Phxnzljad\wcgzvziqg.ljk";

    /// bob's Emotet Run value and DLL, written at `t`.
    fn emotet(t: &str) -> SnapshotBuilder {
        SnapshotBuilder::new("WS1")
            .user("bob")
            .user("ann")
            .run(
                "bob",
                "wcgzvziqg.ljk",
                &format!(r#"regsvr32.exe /s "{EMO_DLL}""#),
            )
            .file(EMO_DLL)
            .with_file(EMO_DLL, |x| {
                x.created = t.into();
                x.modified = t.into();
                x.sha256 = "e".repeat(64);
            })
    }

    #[test]
    fn a_copy_in_another_profile_is_the_loaders_and_related_to_it() {
        let copy =
            r"C:\Users\ann\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\upd.ljk";
        let s = emotet("2024-03-01T10:00:00Z")
            .file(copy)
            .with_file(copy, |x| x.sha256 = "e".repeat(64))
            .build();
        let out = detect(&s, &DetectContext::default());
        let fd = out
            .iter()
            .find(|x| x.rule_id == "LINK-LOADER-COPY")
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(
            (fd.family, fd.confidence),
            (Family::Emotet, Confidence::High)
        );
        assert_eq!(fd.target_files, vec![copy.to_string()]);
        assert!(fd.reasons[0].contains("same SHA-256"), "{:?}", fd.reasons);
        assert!(
            fd.related
                .iter()
                .any(|r| matches!(r, ArtifactRef::RegistryAutorun { value, .. } if value == "wcgzvziqg.ljk")),
            "{:?}",
            fd.related
        );
    }

    #[test]
    fn same_size_and_time_is_a_copy_only_when_the_hashes_cannot_tell() {
        let file = |path: &str, sha: &str| FileFacts {
            path: path.into(),
            exists: true,
            size: 4096,
            sha256: sha.into(),
            modified: "2024-03-01T10:00:00Z".into(),
            ..FileFacts::default()
        };
        let a = file(EMO_DLL, &"e".repeat(64));
        let other = r"C:\Users\ann\AppData\Local\Tools\x.dll";
        assert!(matches!(
            tie_files(&file(other, ""), &a),
            Some(Tie::SameSizeAndTime { .. })
        ));
        // Two known, different hashes: not a copy, only written together.
        assert!(matches!(
            tie_files(&file(other, &"0".repeat(64)), &a),
            Some(Tie::WrittenWith { .. })
        ));
    }

    #[test]
    fn the_medium_tier_is_raised_by_a_tie_and_says_what_would_raise_it() {
        // A generic Medium finding: a task loading a DLL from bob's Temp.
        let dll = r"C:\Users\bob\AppData\Local\Temp\kqz\helper.dll";
        let with = |b: SnapshotBuilder, t: &str| {
            b.task(
                r"\Helper",
                "rundll32.exe",
                &format!("{dll},Start"),
                "bob",
                &["logon"],
            )
            .file(dll)
            .with_file(dll, |x| {
                x.created = t.into();
                x.modified = t.into();
            })
            .build()
        };
        // Written three seconds after the Emotet DLL: Emotet's, but a
        // timestamp is a weak line: still Medium.
        let out = detect(
            &with(emotet("2024-03-01T10:00:00Z"), "2024-03-01T10:00:03Z"),
            &DetectContext::default(),
        );
        let task = out
            .iter()
            .find(|x| matches!(x.artifact, ArtifactRef::Task { .. }))
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(
            (task.family, task.confidence()),
            (Family::Emotet, Confidence::Medium),
            "{task:?}"
        );
        assert!(
            task.reasons.iter().any(|r| r.starts_with(
                "still Medium and tied to Emotet (being written at the same time is a weak line): it was written 3 s from"
            )),
            "{:?}",
            task.reasons
        );
        // A day apart: it stays Medium and says what would raise it.
        let out = detect(
            &with(emotet("2024-03-01T10:00:00Z"), "2024-03-02T10:00:00Z"),
            &DetectContext::default(),
        );
        let task = out
            .iter()
            .find(|x| matches!(x.artifact, ArtifactRef::Task { .. }))
            .unwrap();
        assert_eq!(
            (task.family, task.confidence),
            (Family::UnknownLoaderLike, Confidence::Medium)
        );
        assert!(
            task.reasons
                .iter()
                .any(|r| r.starts_with("Medium: would be High with")),
            "{:?}",
            task.reasons
        );
    }
}
