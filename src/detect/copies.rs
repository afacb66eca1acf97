//! Windows programs that run other code, copied (or renamed) out of
//! System32 into a folder a user can write: a copied certutil, rundll32,
//! regsvr32, mshta or wermgr, under its own name or another. The copy is
//! known by its signer (Microsoft Windows signs only what Windows ships)
//! and by the original file name in its version information against the
//! path it sits at; a program merely *named* like one of them outside
//! System32 is a masquerade. The copy itself is a target (Windows' own
//! stays in System32), and what it runs is parsed as that program would
//! parse it (`command_line` reads a renamed rundll32 as rundll32).
//!
//! Written from: MITRE ATT&CK T1036.003 (Masquerading: Rename System
//! Utilities) and T1218 (System Binary Proxy Execution); the Sigma rules
//! "System File Execution Location Anomaly" and "Potential Defense
//! Evasion Via Rename Of Highly Relevant Binaries" (which key on the
//! original file name, not the path); the LOLBAS project's pages for the
//! programs listed. A renamed copy (its version information names
//! another file) is a disguise, a strong line of evidence: started by an
//! autostart it is High. A copy under its own name is where it sits, a
//! shape: Medium at most (and listed only when it is signed, see
//! `signed`), until a tie to a loader's finding raises it. A copy nothing
//! starts is at most Medium.

use super::facts::Facts;
use super::paths::{self, Area};
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Family, Finding};

/// Windows programs that run, load or fetch other code (lower-case file
/// names), which loaders copy to escape rules keyed on their path.
pub const PROXY_PROGRAMS: &[&str] = &[
    "rundll32.exe",
    "regsvr32.exe",
    "mshta.exe",
    "certutil.exe",
    "wermgr.exe",
    "msiexec.exe",
    "cmd.exe",
    "powershell.exe",
    "wscript.exe",
    "cscript.exe",
    "bitsadmin.exe",
    "msbuild.exe",
    "installutil.exe",
    "regasm.exe",
    "regsvcs.exe",
    "cmstp.exe",
    "odbcconf.exe",
    "mavinject.exe",
    "wmic.exe",
    "forfiles.exe",
    "svchost.exe",
    "dllhost.exe",
    "control.exe",
    "msxsl.exe",
    "curl.exe",
];

/// Where such a program belongs: directly in System32 (or its WOW64 view)
/// or, for the .NET tools, the Framework folders.
fn at_home(path: &str) -> bool {
    let k = paths::key(path);
    paths::is_directly_in_system(path) || k.contains(r"\microsoft.net\framework")
}

/// What a file is, if it is one of [`PROXY_PROGRAMS`] outside its home
/// folder in a place a user (or a loader) can write: its identity and why.
fn copy_of(f: &Facts, path: &str) -> Option<(String, String, Grounds)> {
    if path.is_empty() || at_home(path) {
        return None;
    }
    let place = f.place(path);
    let writable = place.user_writable()
        || matches!(place.area, Area::System | Area::Windows)
            && !paths::is_directly_in_system(path);
    if !writable {
        return None;
    }
    let name = paths::file_name(path).to_ascii_lowercase();
    let original = f.original_name(path).map(|o| o.to_ascii_lowercase());
    let identity = original.clone().unwrap_or(name.clone());
    if !PROXY_PROGRAMS.contains(&identity.as_str()) {
        return None;
    }
    let signer = f.valid_signer(path);
    let windows_signed =
        signer.is_some_and(|s| s.to_ascii_lowercase().starts_with("microsoft windows"));
    let facts = f.file(path).filter(|x| x.exists);
    // A signed copy under its own name is where it sits (a shape); a
    // renamed one is a disguise.
    let (why, grounds) = match (&original, windows_signed) {
        (Some(o), _) if *o != name => (
            format!(
                "{path} is a renamed copy of Windows' {o} (its version information names it so)"
            ),
            Grounds::of(&[E::RenamedWindowsProgram, E::FolderShape]),
        ),
        (_, true) => (
            format!(
                "{path} is a copy of Windows' {identity} (signed {}) outside System32",
                signer.unwrap_or_default()
            ),
            Grounds::of(&[E::FolderShape]),
        ),
        _ if facts.is_some_and(|x| {
            x.signature.eq_ignore_ascii_case("unsigned")
                || x.signature.eq_ignore_ascii_case("invalid")
        }) =>
        {
            (
                format!(
                    "{path} is named like Windows' {identity} but is not signed by Microsoft: a masquerade"
                ),
                Grounds::of(&[E::NameShape, E::Unsigned, E::FolderShape]),
            )
        }
        _ => (
            format!(
                "{path} is named like Windows' {identity} but sits outside System32 (no signature facts)"
            ),
            Grounds::of(&[E::NameShape]),
        ),
    };
    Some((identity, why, grounds))
}

pub(crate) fn check(f: &Facts, out: &mut Vec<Finding>) {
    let mut started: Vec<String> = Vec::new();
    for l in &f.launches {
        let prog = &l.parsed.program;
        let Some((identity, why, mut grounds)) = copy_of(f, prog) else {
            continue;
        };
        started.push(paths::key(prog));
        let mut targets = vec![f.long_path(prog)];
        let runs: Vec<String> = l
            .parsed
            .payloads
            .iter()
            .filter(|p| !p.path.contains("://") && paths::key(&p.path) != paths::key(prog))
            .map(|p| f.long_path(&p.path))
            .collect();
        let mut reasons = vec![format!("{} starts {prog}: {why}", l.what())];
        if !runs.is_empty() {
            reasons.push(format!(
                "read as {identity} reads its command line, it runs {}",
                runs.join(", ")
            ));
        }
        reasons.push(
            "loaders copy Windows programs out of System32 so rules keyed on their path miss them; the copy is removed, Windows' own stays"
                .to_string(),
        );
        if l.autostart {
            grounds.add(E::LaunchShape);
        }
        targets.extend(runs);
        out.push(Finding::new(
            &f.host,
            l.artifact.clone(),
            Family::UnknownLoaderLike,
            "GEN-COPIED-WINDOWS-PROGRAM",
            grounds,
            reasons,
            targets,
        ));
    }
    // A copy nothing starts: in the wrong place, not yet seen running.
    for ff in &f.snap.files {
        if ff.is_dir || !ff.exists || started.contains(&paths::key(&ff.path)) {
            continue;
        }
        let Some((_, why, grounds)) = copy_of(f, &ff.path) else {
            continue;
        };
        // Named like one, with no signature facts: nothing to go on.
        if grounds.evidence == [E::NameShape] {
            continue;
        }
        let n = paths::normalize(&ff.path);
        out.push(Finding::new(
            &f.host,
            ArtifactRef::File { path: n.clone() },
            Family::UnknownLoaderLike,
            "GEN-COPIED-WINDOWS-PROGRAM",
            grounds.at_most(super::Confidence::Medium),
            vec![
                format!("{why}; nothing collected starts it"),
                "High when tied to a loader's finding on this host (same hash, written with it, started by it)".to_string(),
            ],
            vec![n],
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::Confidence;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};
    use crate::runtime::snapshot::FileFacts;

    fn copied(path: &str, signer: &str, original: &str) -> FileFacts {
        FileFacts {
            path: path.into(),
            exists: true,
            size: 70_000,
            sha256: "c".repeat(64),
            signature: if signer.is_empty() {
                "unsigned"
            } else {
                "valid"
            }
            .into(),
            signer: signer.into(),
            original_name: original.into(),
            ..FileFacts::default()
        }
    }

    #[test]
    fn a_renamed_rundll32_in_temp_and_what_it_runs() {
        let copy = r"C:\Users\bob\AppData\Local\Temp\svcupd.exe";
        let dll = r"C:\Users\bob\AppData\Local\Temp\k3.bin";
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "svcupd", &format!("{copy} {dll},Start"))
            .file_full(copied(copy, "Microsoft Windows", "RUNDLL32.EXE"))
            .file(dll)
            .build();
        let out = detect(&s, &DetectContext::default());
        let fd = out
            .iter()
            .find(|x| x.rule_id == "GEN-COPIED-WINDOWS-PROGRAM")
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(fd.confidence, Confidence::High);
        assert!(fd.target_files.iter().any(|t| t.eq_ignore_ascii_case(copy)));
        assert!(
            fd.target_files.iter().any(|t| t.eq_ignore_ascii_case(dll)),
            "{fd:?}"
        );
        assert!(
            fd.reasons
                .join(" ")
                .contains("renamed copy of Windows' rundll32.exe")
        );
    }

    #[test]
    fn copies_named_as_windows_names_them_and_the_real_ones_stay_quiet() {
        // A signed certutil copy in ProgramData that nothing starts: where
        // it sits is all there is, and it is signed: listed only.
        let s = SnapshotBuilder::new("WS1")
            .file_full(copied(
                r"C:\ProgramData\certutil.exe",
                "Microsoft Windows",
                "CertUtil.exe",
            ))
            .build();
        let out = detect(&s, &DetectContext::default());
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].confidence(), Confidence::Low);
        assert!(out[0].reasons.join(" ").contains("validly signed"), "{out:#?}");
        // Windows' own, in System32, and a different signed program in
        // Temp (DismHost.exe, which Windows runs from there) are quiet.
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .file_full(copied(r"C:\Windows\System32\certutil.exe", "Microsoft Windows", "CertUtil.exe"))
            .file_full(copied(
                r"C:\Users\bob\AppData\Local\Temp\6C1B2E3A-1111-2222-3333-444455556666\DismHost.exe",
                "Microsoft Windows",
                "DismHost.exe",
            ))
            .process(
                900,
                4,
                r"C:\Users\bob\AppData\Local\Temp\6C1B2E3A-1111-2222-3333-444455556666\DismHost.exe",
                r#""C:\Users\bob\AppData\Local\Temp\6C1B2E3A-1111-2222-3333-444455556666\DismHost.exe" {GUID}"#,
                "bob",
            )
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.is_empty(), "{out:#?}");
        // A running program named wermgr.exe in AppData without Microsoft's
        // signature: a masquerade, but a name and a place are shapes:
        // medium until something ties it to a loader.
        let fake = r"C:\Users\bob\AppData\Roaming\wermgr.exe";
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .process(901, 4, fake, fake, "bob")
            .file(fake)
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(
            out.iter().any(|x| x.rule_id == "GEN-COPIED-WINDOWS-PROGRAM"
                && x.confidence() == Confidence::Medium
                && x.reasons.join(" ").contains("masquerade")),
            "{out:#?}"
        );
    }
}
