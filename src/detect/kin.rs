//! Ties to a loader's High finding on the same host, and what they do:
//!
//! - **the medium tier raised**: a Medium finding whose file has the same
//!   SHA-256 as a High finding's file, the same size and last-write time
//!   (a copy, when the two hashes are not both known), that was written
//!   within seconds of one (dropped by the
//!   same run), or whose process was started by a High finding's process,
//!   becomes High (a Low one tied only by time becomes Medium); a finding
//!   of no known family takes the family of what it is tied to;
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
use super::lateral::in_windows_root;
use super::names;
use super::paths;
use super::{ArtifactRef, Confidence, Family, Finding};
use crate::runtime::snapshot::FileFacts;

/// Seconds within which two files count as written by the same run.
pub const WRITTEN_WITHIN_SECS: f64 = 5.0;

/// How a file (or process) is tied to a High finding's.
#[derive(Debug, Clone, PartialEq)]
pub enum Tie {
    SameHash { other: String },
    SameSizeAndTime { other: String },
    WrittenWith { other: String, secs: f64 },
    StartedBy { pid: u32, image: String },
}

impl Tie {
    /// Evidence enough for High on its own.
    pub fn strong(&self) -> bool {
        !matches!(self, Tie::WrittenWith { .. })
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
        }
    }
}

/// What a tie points at: the High finding's family, rule and artifact.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub family: Family,
    pub rule_id: &'static str,
    pub artifact: ArtifactRef,
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
    fn of(f: &Facts<'a>, out: &[Finding]) -> Anchors<'a> {
        let mut list = Vec::new();
        for fd in out
            .iter()
            .filter(|x| x.actionable() && x.confidence == Confidence::High)
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
            "a family's layout, a listed hash, or a tie to a loader's High finding (same hash, written within seconds, started by it)"
        }
        "LAT-WINDOWS-ROOT-COPY" | "LAT-WINDOWS-ROOT-SERVICE" => {
            "a tie to a loader's High finding on this host (same hash, written within seconds of its files) or a temporary service with a made-up name running it"
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
            "the same hash as a High finding's file, being started by a High finding's process, or being written within seconds of one"
        }
    }
}

fn raise(f: &Facts, anchors: &Anchors, out: &mut [Finding]) -> Vec<(ArtifactRef, ArtifactRef)> {
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
        for p in &files {
            if let Some(ff) = f.file(p)
                && let Some((t, a)) = anchors.tie_file(ff)
            {
                consider(t, a);
            }
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
        let before = fd.confidence;
        fd.confidence = if tie.strong() || before == Confidence::Medium {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let lifted =
            fd.family == Family::UnknownLoaderLike && a.family != Family::UnknownLoaderLike;
        if lifted {
            fd.family = a.family;
        }
        ties.push((fd.artifact.clone(), a.artifact.clone()));
        fd.reasons.push(format!(
            "raised from {before:?} to {:?}{}: {} ({} on {})",
            fd.confidence,
            if lifted {
                format!(" and tied to {}", a.family.name())
            } else {
                String::new()
            },
            tie.words(),
            a.rule_id,
            a.artifact.describe()
        ));
    }
    ties
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
fn new_findings(f: &Facts, anchors: &Anchors, out: &[Finding]) -> Vec<(Finding, ArtifactRef)> {
    let covered = covered(out);
    let mut add = Vec::new();
    for c in &f.snap.files {
        if !c.exists || c.is_dir || covered.contains(&paths::key(&c.path)) {
            continue;
        }
        let Some((tie, a)) = anchors.tie_file(c) else {
            continue;
        };
        if a.family == Family::UnknownLoaderLike {
            continue;
        }
        let n = paths::normalize(&c.path);
        let place = f.place(&n);
        if tie.strong() {
            add.push((
                f.finding(
                    ArtifactRef::File { path: n.clone() },
                    a.family,
                    "LINK-LOADER-COPY",
                    Confidence::High,
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
                f.finding(
                    ArtifactRef::File { path: n.clone() },
                    a.family,
                    "LINK-DROPPED-WITH",
                    Confidence::Medium,
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
            f.finding(
            art,
            a.family,
            "LINK-STARTED-BY-LOADER",
            Confidence::High,
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
    let anchors = Anchors::of(f, out);
    let add = new_findings(f, &anchors, out);
    let mut ties = raise(f, &anchors, out);
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
        // Written three seconds after the Emotet DLL: raised, and Emotet's.
        let out = detect(
            &with(emotet("2024-03-01T10:00:00Z"), "2024-03-01T10:00:03Z"),
            &DetectContext::default(),
        );
        let task = out
            .iter()
            .find(|x| matches!(x.artifact, ArtifactRef::Task { .. }))
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(
            (task.family, task.confidence),
            (Family::Emotet, Confidence::High),
            "{task:?}"
        );
        assert!(
            task.reasons.iter().any(|r| r.starts_with(
                "raised from Medium to High and tied to Emotet: it was written 3 s from"
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
