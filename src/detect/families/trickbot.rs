//! TrickBot, from Unit 42 write-ups, Sigma and community remediation lists:
//! - EXE era: `%APPDATA%\<Word><10 digits>\<rand>.exe` started by a task
//!   (one through `launcher.bat`), or a campaign folder like `FWinTools`;
//! - DLL era: `%APPDATA%\<words-words><6 upper alnum>\<rand>.<fake ext>`
//!   and `%APPDATA%\<rand>.<fake ext>` run by `rundll32 <file>,StartW`;
//!   TA551's `C:\Users\Public\<rand>.dll` via regsvr32;
//! - masquerading task names, `NewService*`/`Service-Log*` worm services,
//!   a Run value in the SYSTEM profile, legacy `.job` files, the
//!   `AppX82a6...` UAC-bypass key, wermgr.exe injected from rundll32.

use super::super::command_line::Launcher;
use super::super::facts::{Facts, Launch, Source};
use super::super::names;
use super::super::paths::{self, Area};
use super::super::evidence::{Evidence as E, Grounds};
use super::super::{ArtifactRef, Confidence, Family, Finding};
use super::runs_words;

const MASQ_TASKS: &[&str] = &[
    "msnetcs",
    "msntcs",
    "sysnetsf",
    "mssystemwatcher",
    "netsys",
    "windotnet",
    "cleanmemorywintask",
    "defragwinsystask",
];
const LEGACY_JOBS: &[&str] = &["trickbot", "bot", "drivers update"];
const WORM_FILES: &[&str] = &[
    "c:\\stsvc.exe",
    "c:\\mswvc.exe",
    "c:\\mtwvc.exe",
    "c:\\smver.exe",
    "c:\\windows\\mssvca.exe",
];
const UAC_APPX: &str = "appx82a6gwre4fdg3bt635tn5ctqjf8msdd2";

/// A TrickBot campaign folder among the path's components (in a user area).
fn campaign_folder(f: &Facts, path: &str) -> Option<(String, &'static str)> {
    let place = f.place(path);
    if !matches!(
        place.area,
        Area::RoamingAppData | Area::LocalAppData | Area::UserProfile | Area::ProgramData
    ) {
        return None;
    }
    let n = place.rel.len();
    for c in place.rel.iter().take(n.saturating_sub(1)) {
        if names::trickbot_gtag_folder(c) {
            return Some((
                c.clone(),
                "a word and ten digits, TrickBot's EXE-era folder (Identities1159371911, Comboboot7559513311)",
            ));
        }
        if names::trickbot_words_suffix_folder(c) {
            return Some((
                c.clone(),
                "hyphenated words and six upper-case letters/digits, TrickBot's DLL-era folder (wise-toolsZ7RZBV)",
            ));
        }
    }
    None
}

pub(crate) fn launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    for p in &l.parsed.payloads {
        let place = f.place(&p.path);
        let fname = paths::file_name(&p.path).to_string();
        let stem = paths::stem(&p.path).to_string();
        let ext = paths::extension(&p.path);
        let target = f.long_path(&p.path);
        if let Some((folder, why)) = campaign_folder(f, &p.path) {
            let mut reasons = vec![format!("{}: folder {folder} is {why}", runs_words(l, p))];
            let mut targets = vec![target.clone()];
            let mut grounds = Grounds::of(&[E::FolderShape])
                .with_if(names::is_fake_dll_extension(&ext) && p.via.loads_dll(), E::DisguisedCode)
                .with_if(p.export.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("StartW")), E::LaunchShape);
            if ext == "bat" || ext == "cmd" {
                grounds.add(E::LaunchShape);
                reasons.push(
                    "the task goes through a batch file, as TrickBot's launcher.bat does"
                        .to_string(),
                );
                targets.extend(
                    f.dir_entries(paths::parent(&target))
                        .into_iter()
                        .filter(|e| paths::extension(e) == "exe"),
                );
            }
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::TrickBot,
                "TRK-CAMPAIGN-FOLDER",
                grounds,
                reasons,
                targets,
            ));
            continue;
        }
        if p.via == Launcher::Rundll32
            && p.export
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("StartW"))
            && place.user_writable()
        {
            let grounds = Grounds::of(&[E::LaunchShape])
                .with_if(place.area == Area::RoamingAppData, E::FolderShape)
                .with_if(names::is_fake_dll_extension(&ext), E::DisguisedCode);
            let reasons = vec![format!(
                "{}: entry point StartW on a file in a user-writable folder, how TrickBot's DLL era starts",
                runs_words(l, p)
            )];
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::TrickBot,
                "TRK-RUNDLL32-STARTW",
                grounds,
                reasons,
                vec![target],
            ));
            continue;
        }
        if p.via.loads_dll()
            && place.area == Area::RoamingAppData
            && place.rel.len() == 1
            && names::is_fake_dll_extension(&ext)
            && names::is_alpha(&stem)
            && (5..=16).contains(&stem.len())
        {
            let reasons = vec![format!(
                "{}: a DLL with the made-up extension .{ext} directly in %APPDATA%, TrickBot's 2021 layout (aeygwtpv.nao)",
                runs_words(l, p)
            )];
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::TrickBot,
                "TRK-APPDATA-FAKEEXT",
                Grounds::of(&[E::FolderShape, E::NameShape, E::DisguisedCode]),
                reasons,
                vec![target],
            ));
            continue;
        }
        if p.via.loads_dll() && place.area == Area::Public && place.rel.len() == 1 {
            let reasons = vec![format!(
                "{}: a DLL directly in C:\\Users\\Public, TA551's TrickBot first stage",
                runs_words(l, p)
            )];
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::TrickBot,
                "TRK-PUBLIC-DLL",
                Grounds::of(&[E::FolderShape]),
                reasons,
                vec![target],
            ));
            continue;
        }
        if p.via == Launcher::Direct
            && ext == "exe"
            && place.area == Area::RoamingAppData
            && place.rel.len() == 2
            && l.is_task()
        {
            let folder = &place.rel[0];
            let random_exe =
                stem.bytes().all(|b| b.is_ascii_alphanumeric()) && names::looks_random(&stem);
            if random_exe
                && !names::known_product(folder)
                && !folder.eq_ignore_ascii_case("microsoft")
                && f.valid_signer(&p.path).is_none()
            {
                let reasons = vec![format!(
                    "{}: an unsigned random-named EXE ({fname}) one folder deep in %APPDATA% ({folder}), TrickBot's EXE-era layout (FWinTools\\mtxoci73a.exe)",
                    runs_words(l, p)
                )];
                out.push(Finding::new(
                    &f.host,
                    l.artifact.clone(),
                    Family::TrickBot,
                    "TRK-APPDATA-RANDOM-EXE",
                    Grounds::of(&[E::FolderShape, E::NameShape, E::Unsigned]),
                    reasons,
                    vec![target],
                ));
                continue;
            }
        }
        if (ext == "bat" || ext == "cmd")
            && fname.eq_ignore_ascii_case("launcher.bat")
            && place.user_writable()
            && l.is_task()
        {
            let mut targets = vec![target.clone()];
            targets.extend(
                f.dir_entries(paths::parent(&target))
                    .into_iter()
                    .filter(|e| paths::extension(e) == "exe"),
            );
            let reasons = vec![format!(
                "{}: a task running launcher.bat from a user-writable folder, how TrickBot (2021) started its EXE",
                runs_words(l, p)
            )];
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::TrickBot,
                "TRK-TASK-LAUNCHER-BAT",
                Grounds::of(&[E::NameShape, E::FolderShape]),
                reasons,
                targets,
            ));
            continue;
        }
    }
    let targets: Vec<String> = l
        .parsed
        .payloads
        .iter()
        .map(|p| f.long_path(&p.path))
        .collect();
    let user_writable = l
        .parsed
        .payloads
        .iter()
        .any(|p| f.place(&p.path).user_writable());
    match l.source {
        Source::Task(t) => {
            let leaf = l.name.to_ascii_lowercase();
            let leaf_nojob = leaf.strip_suffix(".job").unwrap_or(&leaf);
            if MASQ_TASKS.contains(&leaf.as_str()) {
                let grounds = if user_writable {
                    Grounds::of(&[E::NameShape, E::FolderShape])
                } else {
                    Grounds::of(&[E::NameShape]).at_most(Confidence::Low)
                };
                out.push(Finding::new(&f.host, l.artifact.clone(), Family::TrickBot, "TRK-TASK-MASQUERADE", grounds, vec![format!(
                    "task name {} is one TrickBot used to pass as Windows (msnetcs, sysnetsf, WinDotNet, ...); it runs {}", t.path, l.parsed.raw)], targets.clone()));
            } else if LEGACY_JOBS.contains(&leaf_nojob) {
                out.push(Finding::new(&f.host, l.artifact.clone(), Family::TrickBot, "TRK-LEGACY-JOB", Grounds::of(&[E::NameShape]), vec![format!(
                    "task {} has a name of TrickBot's 2016 jobs (TrickBot, Bot, Drivers update); it runs {}", t.path, l.parsed.raw)], targets.clone()));
            }
        }
        Source::Service(s) => {
            let d = s.display_name.to_ascii_lowercase();
            if d.starts_with("newservice") || d.starts_with("service-log") {
                out.push(Finding::new(&f.host, l.artifact.clone(), Family::TrickBot, "TRK-WORM-SERVICE", Grounds::of(&[E::NameShape]), vec![format!(
                    "service {} has display name {}, as TrickBot's worm services do (NewService*, Service-Log*); it runs {}", s.name, s.display_name, s.image_path)], targets.clone()));
            }
        }
        Source::Autorun(_)
            if l.hive().is_some_and(|h| {
                h.eq_ignore_ascii_case("S-1-5-18") || h.eq_ignore_ascii_case(".DEFAULT")
            }) && l.is_run_value() =>
        {
            let lname = l.name.to_ascii_lowercase();
            let odd = user_writable
                || l.parsed.payloads.iter().any(|p| {
                    f.place(&p.path)
                        .user
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case("systemprofile"))
                });
            if lname == "mttvca" || odd {
                // A Run value in the SYSTEM profile is a launch Windows
                // itself never makes; the value name is a shape.
                let grounds = Grounds::of(&[E::LaunchShape])
                    .with_if(lname == "mttvca", E::NameShape)
                    .with_if(odd, E::FolderShape);
                out.push(Finding::new(&f.host, l.artifact.clone(), Family::TrickBot, "TRK-SYSTEM-PROFILE-RUN", grounds, vec![format!(
                    "a Run value ({}) in the SYSTEM profile (HKU\\S-1-5-18) starting {}: TrickBot plants one there (mttvca)", l.name, l.parsed.raw)], targets.clone()));
            }
        }
        _ => {}
    }
}

pub(crate) fn host(f: &Facts, out: &mut Vec<Finding>) {
    // The UAC-bypass class key, as a whole: one finding per hive, naming
    // every value seen under it (removed with its subkeys).
    let mut appx: Vec<(String, String, Vec<String>)> = Vec::new();
    for r in &f.snap.registry {
        let k = r.key.to_ascii_lowercase();
        let Some(i) = k.find(UAC_APPX) else { continue };
        let root = r.key[..i + UAC_APPX.len()].to_string();
        let words = format!(
            "{}\\{}: {}",
            &r.key[(i + UAC_APPX.len()).min(r.key.len())..].trim_start_matches('\\'),
            super::super::value_name(&r.value),
            super::super::describe_value(&r.value, &r.data)
        );
        match appx
            .iter_mut()
            .find(|(h, k, _)| h.eq_ignore_ascii_case(&r.hive) && k.eq_ignore_ascii_case(&root))
        {
            Some((_, _, v)) => v.push(words),
            None => appx.push((r.hive.clone(), root, vec![words])),
        }
    }
    for (hive, key, values) in appx {
        let mut reasons = vec![format!(
            "{hive}\\{key} is TrickBot's UAC-bypass class key (AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2), which WSReset.exe runs elevated"
        )];
        reasons.extend(values);
        out.push(Finding::new(
            &f.host,
            ArtifactRef::RegistryKey { hive, key },
            Family::TrickBot,
            "TRK-UAC-APPX-KEY",
            // The exact documented key name, and an elevating handler
            // overridden under it.
            Grounds::of(&[E::RegistryArtifact, E::LaunchShape]),
            reasons,
            vec![],
        ));
    }
    for ff in &f.snap.files {
        if !ff.exists {
            continue;
        }
        let n = paths::normalize(&ff.path);
        let lower = n.to_ascii_lowercase();
        if !ff.is_dir && WORM_FILES.contains(&lower.as_str()) {
            out.push(Finding::new(&f.host, ArtifactRef::File { path: n.clone() }, Family::TrickBot, "TRK-WORM-FILE", Grounds::of(&[E::NameShape, E::FolderShape]), vec![format!(
                "{n} is a file name TrickBot's worm modules drop at the drive root or in C:\\Windows")], vec![n.clone()]));
            continue;
        }
        if !ff.is_dir && lower.starts_with("c:\\windows\\tasks\\") && lower.ends_with(".job") {
            let leaf = paths::stem(&n).to_ascii_lowercase();
            if LEGACY_JOBS.contains(&leaf.as_str()) {
                out.push(Finding::new(
                    &f.host,
                    ArtifactRef::File { path: n.clone() },
                    Family::TrickBot,
                    "TRK-LEGACY-JOB",
                    Grounds::of(&[E::NameShape]),
                    vec![format!(
                        "{n} is a legacy task file named like TrickBot's 2016 jobs"
                    )],
                    vec![n.clone()],
                ));
            }
            continue;
        }
        if !ff.is_dir
            && let Some((folder, why)) = campaign_folder(f, &n)
        {
            out.push(Finding::new(
                &f.host,
                ArtifactRef::File { path: n.clone() },
                Family::TrickBot,
                "TRK-CAMPAIGN-FOLDER",
                Grounds::of(&[E::FolderShape]),
                vec![format!("{n} is in folder {folder}: {why}")],
                vec![n.clone()],
            ));
        }
    }
}
