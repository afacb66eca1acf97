//! Lateral copies directly under `C:\Windows`: PsExec-style spreaders
//! (TrickBot's worm modules, Emotet's and Qakbot's admin-share movement)
//! write their copy through `ADMIN$` - which is `C:\Windows` - and start
//! it from a temporary service that is deleted once it has run (MITRE
//! ATT&CK T1021.002 SMB/Windows Admin Shares and T1569.002 Service
//! Execution; CISA alert AA20-280A on Emotet's spreading; Microsoft's
//! PsExec documentation for `PSEXESVC.exe`, the benign twin).
//!
//! `C:\Windows` holds Windows itself, so deleting there follows a
//! written safety rule. A file directly under `C:\Windows` is flagged
//! only when all of these hold:
//! 1. it is an executable (`.exe`, `.dll`, `.scr`, `.com`) - or any file a
//!    service or task of this host runs from there;
//! 2. the snapshot read its signature and it is not valid (Windows' own
//!    files there, and PsExec's `PSEXESVC.exe`, are validly signed);
//! 3. its name is not one of the files Windows keeps there;
//! 4. nothing that is not itself a finding starts it (a product's service
//!    or task naming it spares it).
//!
//! Such a file is Medium: listed, never deleted, until a tie to a High
//! finding of a loader on the same host makes it High (same hash: the copy
//! installs the loader when its service runs; see `kin`). A service or
//! task with a made-up name running it (the copy's temporary service still
//! present) is one more shape - an unsigned file, its folder, its
//! launcher, made-up names - and shapes alone stay Medium
//! (`detect::evidence`). Even High, only the copy a recorded service
//! install ties (`fleet::ties`, `FLEET-LATERAL-COPY`) is ever deleted from
//! `C:\Windows`: the plan's guard and the runtime on the host refuse
//! every other file there (`plan::guard::lateral_copy_refusal`).

use super::facts::{Facts, Source};
use super::names;
use super::paths;
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Family, Finding};

/// Files Windows keeps directly in `C:\Windows` (lower-case). The plan's
/// guard (`plan::guard`) never deletes one of these names there either.
pub(crate) const WINDOWS_ROOT_FILES: &[&str] = &[
    "bfsvc.exe",
    "explorer.exe",
    "helppane.exe",
    "hh.exe",
    "notepad.exe",
    "regedit.exe",
    "splwow64.exe",
    "winhlp32.exe",
    "write.exe",
    "twain_32.dll",
    "twain.dll",
];

const EXEC_EXTS: &[&str] = &["exe", "dll", "scr", "com"];

/// Is `path` a file directly in `C:\Windows`?
pub(crate) fn in_windows_root(path: &str) -> bool {
    paths::parent(&paths::key(path)).eq_ignore_ascii_case(r"c:\windows")
}

/// Rules 1-3 of the safety rule; `Some(words)` on the file's facts.
fn candidate(f: &Facts, path: &str, run_by_service: bool) -> Option<String> {
    if !in_windows_root(path) {
        return None;
    }
    let name = paths::file_name(path).to_ascii_lowercase();
    if WINDOWS_ROOT_FILES.contains(&name.as_str()) {
        return None;
    }
    let ext = paths::extension(path);
    if !run_by_service && !EXEC_EXTS.contains(&ext.as_str()) {
        return None;
    }
    let ff = f.file(path).filter(|x| x.exists && !x.is_dir)?;
    let sig = ff.signature.to_ascii_lowercase();
    if sig != "unsigned" && sig != "invalid" {
        return None;
    }
    let random = names::looks_random(paths::stem(path));
    Some(format!(
        "{} is {} {} directly in C:\\Windows{}, where a copy through ADMIN$ lands",
        paths::normalize(path),
        if sig == "unsigned" {
            "an unsigned"
        } else {
            "an invalidly signed"
        },
        if ext.is_empty() {
            "file".to_string()
        } else {
            format!(".{ext} file")
        },
        if random {
            " with a random-looking name"
        } else {
            ""
        }
    ))
}

pub(crate) fn check(f: &Facts, out: &mut Vec<Finding>) {
    let mut named: Vec<String> = Vec::new();
    // Run by a service or task: the lateral movement's own finding.
    for l in &f.launches {
        let runner = matches!(l.source, Source::Service(_) | Source::Task(_));
        for p in &l.parsed.payloads {
            if !in_windows_root(&p.path) {
                continue;
            }
            named.push(paths::key(&p.path));
            if !runner {
                continue;
            }
            let Some(what) = candidate(f, &p.path, true) else {
                continue;
            };
            // A spreader's temporary service has a made-up name, or runs
            // a made-up file; a product's service that runs an unsigned
            // file of its own there is listed, not removed.
            let made_up = names::looks_random(&l.name) || names::looks_random(paths::stem(&p.path));
            let mut reasons = vec![
                format!("{} runs it: {what}", l.what()),
                "a service or task starting an unsigned program copied into C:\\Windows is how PsExec-style lateral movement runs its copy".to_string(),
            ];
            if !made_up {
                reasons.push("neither the name of what starts it nor the file's looks made up: listed, not removed".to_string());
            }
            out.push(f.payload_finding(
                l,
                p,
                Family::UnknownLoaderLike,
                "LAT-WINDOWS-ROOT-SERVICE",
                Grounds::of(&[E::Unsigned, E::FolderShape, E::LaunchShape])
                    .with_if(made_up, E::NameShape),
                reasons,
            ));
        }
    }
    // Nothing starts it (the temporary service is gone): Medium until tied.
    for ff in &f.snap.files {
        if named.contains(&paths::key(&ff.path)) {
            continue;
        }
        let Some(what) = candidate(f, &ff.path, false) else {
            continue;
        };
        let n = paths::normalize(&ff.path);
        out.push(Finding::new(
            &f.host,
            ArtifactRef::File { path: n.clone() },
            Family::UnknownLoaderLike,
            "LAT-WINDOWS-ROOT-COPY",
            Grounds::of(&[E::Unsigned, E::FolderShape]),
            vec![
                what,
                "listed, not deleted: C:\\Windows is Windows' own folder, so this needs a tie to a loader on this host (same hash as its file, or written within seconds of it) before it is removed".to_string(),
            ],
            vec![n],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Confidence;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    #[test]
    fn windows_own_files_and_signed_tools_under_c_windows_stay() {
        let mut b = SnapshotBuilder::new("WS1");
        // Windows' own files, signed.
        for n in WINDOWS_ROOT_FILES.iter().filter(|n| n.ends_with(".exe")) {
            b = b.signed_file(&format!(r"C:\Windows\{n}"), "Microsoft Windows");
        }
        // PsExec's service and Python's launcher, signed by their
        // publishers, left by an admin's tools.
        b = b
            .signed_file(r"C:\Windows\PSEXESVC.exe", "Microsoft Corporation")
            .signed_file(r"C:\Windows\py.exe", "Python Software Foundation");
        // An unsigned Windows-root file Windows' own list names, and a
        // non-executable unsigned file.
        b = b
            .file(r"C:\Windows\twain_32.dll")
            .file(r"C:\Windows\setupact.log");
        // A signed vendor tool directly under C:\Windows, run by its service.
        b = b
            .signed_file(r"C:\Windows\LTSvcMon.exe", "ConnectWise, LLC")
            .service(
                "LTSvcMon",
                "LabTech Monitoring",
                r"C:\Windows\LTSvcMon.exe",
                "LocalSystem",
            );
        let out = detect(&b.build(), &DetectContext::default());
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn an_unsigned_copy_is_medium_alone_and_with_the_service_that_runs_it() {
        let copy = r"C:\Windows\qzkwtrb.exe";
        let s = SnapshotBuilder::new("WS1").file(copy).build();
        let out = detect(&s, &DetectContext::default());
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(
            (out[0].rule_id, out[0].confidence),
            ("LAT-WINDOWS-ROOT-COPY", Confidence::Medium)
        );
        let s = SnapshotBuilder::new("WS1")
            .file(copy)
            .service("hvkqwz", "hvkqwz", copy, "LocalSystem")
            .build();
        let out = detect(&s, &DetectContext::default());
        let fd = out
            .iter()
            .find(|x| x.rule_id == "LAT-WINDOWS-ROOT-SERVICE")
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(fd.confidence(), Confidence::Medium, "shapes only: {fd:#?}");
        assert_eq!(fd.target_files, vec![copy.to_string()]);
    }
}
