//! Unknown loader-like persistence: what no family rule claims but looks
//! like a loader - an autostart that makes a system launcher (rundll32,
//! regsvr32, a script host, mshta, PowerShell) load or run a file from a
//! user-writable folder, inline code, an unsigned random-named EXE in a
//! user folder, IFEO/Winlogon hijacks, blanket Defender exclusions and
//! UAC-bypass class keys, kernel drivers loaded from user-writable
//! folders. Low or Medium: a family rule, a hash or a tie to
//! a loader's finding (`kin`) makes it sure. One exception is High on its
//! own: a program planted where an unquoted path breaks (Windows runs
//! `C:\Program.exe` instead of the `C:\Program Files\...` program that
//! also exists; MITRE ATT&CK T1574.009).

use super::command_line::Launcher;
use super::facts::{Facts, Source};
use super::names;
use super::paths::{self, Area};
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Confidence, Family, Finding};
use crate::runtime::snapshot::AutorunLocation;

const SCRIPT_EXTS: &[&str] = &["vbs", "vbe", "js", "jse", "wsf", "hta", "ps1", "bat", "cmd"];

/// The program an unquoted command meant, when Windows runs a shorter
/// prefix of it instead (`C:\Program.exe` for `C:\Program Files\...`):
/// both exist, and the one run is not validly signed.
fn unquoted_path_hijack(f: &Facts, l: &super::facts::Launch) -> Option<String> {
    let p = &l.parsed;
    if p.expanded.trim_start().starts_with('"') || !f.exists(&p.program) {
        return None;
    }
    let run = p.program.to_ascii_lowercase();
    let stem = run.strip_suffix(".exe").unwrap_or(&run).to_string();
    // A validly signed program at the break is some product's own.
    if f.valid_signer(&p.program).is_some() {
        return None;
    }
    p.alternatives
        .iter()
        .find(|a| {
            let la = a.to_ascii_lowercase();
            la.len() > run.len() && la.starts_with(&format!("{stem} ")) && f.exists(a)
        })
        .cloned()
}

pub(crate) fn check(f: &Facts, out: &mut Vec<Finding>) {
    for l in &f.launches {
        let in_startup_folder = matches!(l.source, Source::Autorun(a) if matches!(a.location, AutorunLocation::StartupFolder { .. }));
        let key = match l.source {
            Source::Autorun(a) => match &a.location {
                AutorunLocation::RegistryValue { key, .. } => key.to_ascii_lowercase(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        let hijack = key.contains("image file execution options") || key.contains("winlogon");
        for p in &l.parsed.payloads {
            let place = f.place(&p.path);
            let ext = paths::extension(&p.path);
            let remote = p.path.to_ascii_lowercase().starts_with("http");
            let what = super::families::runs_words(l, p);
            if remote {
                out.push(Finding::new(
                    &f.host,
                    l.artifact.clone(),
                    Family::UnknownLoaderLike,
                    "GEN-REMOTE-SCRIPT",
                    if l.autostart {
                        Grounds::of(&[E::LaunchShape])
                    } else {
                        Grounds::of(&[E::LaunchShape]).at_most(Confidence::Low)
                    },
                    vec![format!(
                        "{what}: code fetched from the network at every start"
                    )],
                    vec![],
                ));
                continue;
            }
            if !place.user_writable() {
                continue;
            }
            // Unknown loader-like: at most medium on its own; a family
            // rule, a hash or a tie to a loader's finding makes it sure.
            let cap = if l.autostart {
                Confidence::Medium
            } else {
                Confidence::Low
            };
            if let Source::Service(svc) = l.source
                && svc.driver
            {
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::UnknownLoaderLike,
                    "GEN-DRIVER-USERWRITABLE",
                    // Where it sits and how it starts: shapes (medium).
                    Grounds::of(&[E::FolderShape, E::LaunchShape]),
                    vec![format!(
                        "{what}: a kernel driver loaded from a user-writable folder (Windows keeps drivers in System32\\drivers)"
                    )],
                ));
                continue;
            }
            if p.via.loads_dll() {
                let mut reasons = vec![format!(
                    "{what}: a system launcher loading a DLL from a user-writable folder"
                )];
                let mut grounds = Grounds::of(&[E::LaunchShape, E::FolderShape]);
                if names::is_fake_dll_extension(&ext) {
                    reasons.push(format!("the DLL has a non-DLL extension (.{ext})"));
                    grounds.add(E::DisguisedCode);
                }
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::UnknownLoaderLike,
                    "GEN-LOLBIN-USERWRITABLE",
                    grounds.at_most(cap),
                    reasons,
                ));
                continue;
            }
            let script = matches!(
                p.via,
                Launcher::ScriptHost | Launcher::Mshta | Launcher::PowerShell
            ) || SCRIPT_EXTS.contains(&ext.as_str());
            if script {
                let cap = if in_startup_folder && p.via == Launcher::Direct {
                    Confidence::Low
                } else {
                    cap
                };
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::UnknownLoaderLike,
                    "GEN-SCRIPT-USERWRITABLE",
                    Grounds::of(&[E::LaunchShape, E::FolderShape]).at_most(cap),
                    vec![format!(
                        "{what}: a script in a user-writable folder started at every logon or boot"
                    )],
                ));
                continue;
            }
            if p.via == Launcher::Direct
                && l.autostart
                && (ext == "exe" || ext == "scr" || ext == "com" || ext == "pif")
            {
                let unsigned = f.valid_signer(&p.path).is_none();
                if hijack && unsigned {
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::UnknownLoaderLike,
                        "GEN-HIJACK-USERWRITABLE",
                        Grounds::of(&[E::LaunchShape, E::FolderShape, E::Unsigned]),
                        vec![format!(
                            "{what}: a Winlogon/IFEO entry pointing into a user-writable folder"
                        )],
                    ));
                    continue;
                }
                let folder = if place.rel.len() >= 2 {
                    place.rel[place.rel.len() - 2].clone()
                } else {
                    String::new()
                };
                let stem = paths::stem(&p.path);
                let explicit_unsigned = f.file(&p.path).is_some_and(|x| {
                    x.signature.eq_ignore_ascii_case("unsigned")
                        || x.signature.eq_ignore_ascii_case("invalid")
                });
                if explicit_unsigned
                    && (names::looks_random(stem)
                        || (!folder.is_empty() && names::looks_random(&folder)))
                    && !names::known_product(&folder)
                {
                    out.push(f.payload_finding(l, p, Family::UnknownLoaderLike, "GEN-RANDOM-EXE-USERWRITABLE", Grounds::of(&[E::NameShape, E::FolderShape, E::Unsigned]).at_most(Confidence::Low), vec![format!("{what}: an EXE with a random-looking name in a user-writable folder, not validly signed")]));
                }
            }
        }
        if let Some(meant) = unquoted_path_hijack(f, l) {
            let prog = f.long_path(&l.parsed.program);
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::UnknownLoaderLike,
                "GEN-UNQUOTED-PATH-HIJACK",
                // Planted at the break, and not validly signed.
                Grounds::of(&[E::PathInterception, E::Unsigned]),
                vec![
                    format!(
                        "{} names {meant} without quotes; Windows tries each prefix before a blank first and runs {prog}, which exists",
                        l.what()
                    ),
                    "a program planted where an unquoted path breaks is path interception (MITRE ATT&CK T1574.009)".to_string(),
                ],
                vec![prog],
            ));
        }
        if l.parsed.inline_code && l.autostart {
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::UnknownLoaderLike,
                "GEN-INLINE-CODE",
                Grounds::of(&[E::LaunchShape]),
                vec![format!(
                    "{} runs inline code ({}) at every start",
                    l.what(),
                    l.parsed.raw
                )],
                vec![],
            ));
        }
    }
    for r in &f.snap.registry {
        let k = r.key.to_ascii_lowercase();
        if k.ends_with("exclusions\\paths") {
            let place = f.place(&r.value);
            let broad = place.user_writable() && place.rel.is_empty();
            let random = place.user_writable() && place.rel.iter().any(|c| names::looks_random(c));
            let whole_drive = paths::normalize(&r.value).len() <= 3 && r.value.contains(':');
            if broad || random || whole_drive {
                out.push(Finding::new(
                    &f.host,
                    ArtifactRef::RegistryValue {
                        hive: r.hive.clone(),
                        key: r.key.clone(),
                        value: r.value.clone(),
                    },
                    Family::UnknownLoaderLike,
                    "GEN-DEFENDER-EXCLUSION",
                    if whole_drive || random {
                        Grounds::of(&[E::FolderShape])
                    } else {
                        Grounds::of(&[E::FolderShape]).at_most(Confidence::Low)
                    },
                    vec![format!(
                        "Defender is told to skip {} ({}): loaders hide their folders this way",
                        r.value,
                        if whole_drive {
                            "a whole drive"
                        } else if broad {
                            "a whole user-writable root"
                        } else {
                            "a random-looking user-writable folder"
                        }
                    )],
                    vec![],
                ));
            }
        }
        let uac = [
            "software\\classes\\ms-settings\\shell\\open\\command",
            "software\\classes\\mscfile\\shell\\open\\command",
            "software\\classes\\exefile\\shell\\open\\command",
            "software\\classes\\folder\\shell\\open\\command",
        ];
        if uac.iter().any(|u| k.ends_with(u))
            && !r.hive.eq_ignore_ascii_case("HKLM")
            && !r.data.trim().is_empty()
            && !r.value.eq_ignore_ascii_case("DelegateExecute")
        {
            out.push(Finding::new(
                &f.host,
                ArtifactRef::RegistryValue {
                    hive: r.hive.clone(),
                    key: r.key.clone(),
                    value: r.value.clone(),
                },
                Family::UnknownLoaderLike,
                "GEN-UAC-BYPASS-KEY",
                Grounds::of(&[E::RegistryArtifact]),
                vec![format!(
                    "per-user {}\\{} overrides an auto-elevating handler with '{}': a UAC bypass",
                    r.hive, r.key, r.data
                )],
                vec![],
            ));
        }
    }
    let _ = Area::Other;
}
