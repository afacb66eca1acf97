//! Dridex (Unit 42 2020-09-07, 2021-03-22): three autostarts at once (Run
//! value with 8.3 short names, a hidden task authored "Microsoft" repeating
//! every 30 minutes, a Startup shortcut), each starting a genuine signed
//! Windows EXE copied into a random folder deep in `%APPDATA%`, next to the
//! malicious DLL it side-loads (XmlLite, WTSAPI32, VERSION, DUI70, FVEWIZ).
//! The target is the DLL and the folder - never the signed EXE alone.

use super::super::command_line::Launcher;
use super::super::facts::{Facts, Launch, Source};
use super::super::names;
use super::super::paths::{self, Area};
use super::super::evidence::{Evidence as E, Grounds};
use super::super::{Family, Finding};
use super::runs_words;

fn odd_folder(name: &str) -> bool {
    let alnum = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric());
    let mixed = name.bytes().any(|b| b.is_ascii_digit())
        || (name.bytes().any(|b| b.is_ascii_uppercase())
            && name.bytes().skip(1).any(|b| b.is_ascii_uppercase()));
    alnum
        && !names::known_product(name)
        && (names::looks_random(name) || name.len() <= 3 || mixed && name.len() <= 14)
}

fn system_exe_name(f: &Facts, stem: &str) -> bool {
    let s = stem.to_ascii_lowercase();
    names::DRIDEX_SIDELOAD_EXES.contains(&s.as_str())
        || f.snap
            .system32_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&s))
        || (s.contains('~')
            && names::DRIDEX_SIDELOAD_EXES.iter().any(|n| {
                paths::short_name_matches(
                    &format!("{}.exe", s.to_ascii_uppercase()),
                    &format!("{n}.exe"),
                )
            }))
}

pub(crate) fn launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    for p in &l.parsed.payloads {
        if p.via != Launcher::Direct || paths::extension(&p.path) != "exe" {
            continue;
        }
        let long = f.long_path(&p.path);
        let place = f.place(&long);
        if !matches!(place.area, Area::RoamingAppData | Area::LocalAppData) || place.rel.len() < 2 {
            continue;
        }
        let folder = place.rel[place.rel.len() - 2].clone();
        let stem = paths::stem(&long).to_string();
        let signer = f.valid_signer(&long);
        let signed_ms = signer.is_some_and(|s| s.to_ascii_lowercase().contains("microsoft"));
        let sys_name = system_exe_name(f, &stem);
        let ms_task = matches!(l.source, Source::Task(t) if t.author.eq_ignore_ascii_case("microsoft") && t.triggers.iter().any(|x| x.contains("PT30M")));
        if !(signed_ms || sys_name || ms_task)
            || !odd_folder(&folder)
            || (signer.is_some() && !signed_ms)
        {
            continue;
        }
        let dir = paths::parent(&long).to_string();
        let dlls: Vec<String> = f
            .dir_entries(&dir)
            .into_iter()
            .filter(|e| paths::extension(e) == "dll")
            .collect();
        let known_dll = dlls.iter().any(|d| {
            names::DRIDEX_SIDELOAD_DLLS.contains(&paths::stem(d).to_ascii_lowercase().as_str())
        });
        // What the program loads: a DLL beside a genuine Windows program
        // that is not validly signed (Windows' own DLLs all are; a
        // per-user install of a Microsoft tool ships signed ones).
        let rogue: Vec<&String> = dlls
            .iter()
            .filter(|d| {
                f.file(d).is_some_and(|x| {
                    x.exists
                        && (x.signature.eq_ignore_ascii_case("unsigned")
                            || x.signature.eq_ignore_ascii_case("invalid"))
                })
            })
            .collect();
        let mut grounds = Grounds::of(&[E::FolderShape])
            .with_if(sys_name || known_dll, E::NameShape)
            .with_if(ms_task || l.parsed.raw.contains('~'), E::LaunchShape)
            .with_if(signed_ms && !rogue.is_empty(), E::SideLoadedDll);
        let mut reasons = vec![format!(
            "{}: a Windows program ({}) copied out of System32 into odd folder {folder} inside {}, the Dridex side-loading layout",
            runs_words(l, p),
            paths::file_name(&long),
            paths::parent(&dir)
        )];
        if l.parsed.raw.contains('~') {
            reasons.push(format!(
                "the command uses 8.3 short names ({}), as Dridex's Run value does",
                l.parsed.raw.trim()
            ));
        }
        if signed_ms {
            reasons.push(format!("the EXE is genuinely signed ({}): it is the launcher, the DLL next to it is the payload", signer.unwrap_or_default()));
        }
        if !dlls.is_empty() {
            reasons.push(format!(
                "DLL(s) beside it: {}",
                dlls.iter()
                    .map(|d| paths::file_name(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if signed_ms && !rogue.is_empty() {
            reasons.push(format!(
                "it loads what sits beside it, and {} not validly signed: a genuine Windows program does not ship unsigned DLLs",
                rogue
                    .iter()
                    .map(|d| format!("{} is", paths::file_name(d)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Source::Task(t) = l.source {
            if t.author.eq_ignore_ascii_case("microsoft") {
                reasons.push("the task claims author Microsoft".to_string());
            }
            if t.triggers.iter().any(|x| x.contains("PT30M")) {
                reasons.push("the task repeats every 30 minutes (Dridex's relaunch)".to_string());
            }
        }
        if signer.is_some() && rogue.is_empty() {
            // A signed program beside signed (or unread) DLLs, outside its
            // install location: where it sits is no evidence of abuse.
            grounds = grounds.at_most(super::super::Confidence::Low);
        }
        let mut targets = dlls.clone();
        targets.push(dir.clone());
        out.push(Finding::new(
            &f.host,
            l.artifact.clone(),
            Family::Dridex,
            "DRX-SIDELOAD-COPIED-EXE",
            grounds,
            reasons,
            targets,
        ));
    }
}
