//! Qakbot (QBot), from Elastic's analyses, Unit 42 write-ups and DFIR
//! Report cases:
//! - `%APPDATA%\Microsoft\<Capitalised random>\<lower random>.dll` run by
//!   `regsvr32 -s` from a lower-case random Run value (written only at
//!   shutdown; the folder is empty while the bot runs);
//! - per-user config key `Software\Microsoft\<random>` holding several
//!   REG_BINARY values named with eight hex digits;
//! - a Defender exclusion for the folder;
//! - SYSTEM tasks `regsvr32 -s <dll>` once, self-deleting; lateral
//!   services running regsvr32 on a DLL copied through `C$` (+ `.dll.cfg`);
//! - first stages: `C:\ProgramData\<digits>.jpg|.png|.tmp`, new root
//!   folders (`C:\Datop\test1.test`), `rundll32 ...,Wind`;
//! - self-deletion `ping -n 6 127.0.0.1 & type calc.exe > <loader>`.

use std::collections::BTreeMap;

use super::super::command_line::Launcher;
use super::super::facts::{Facts, Launch, Source};
use super::super::names;
use super::super::paths::{self, Area};
use super::super::evidence::{Evidence as E, Grounds};
use super::super::{ArtifactRef, Family, Finding};
use super::runs_words;

/// Is this a Qakbot-shaped folder path (`%APPDATA%\Microsoft\<Xxxxx>`)?
pub(crate) fn qakbot_folder(f: &Facts, path: &str) -> Option<String> {
    let place = f.place(path);
    if place.area == Area::RoamingAppData
        && place.rel.len() == 2
        && place.rel[0].eq_ignore_ascii_case("microsoft")
        && names::qakbot_folder_shape(&place.rel[1])
        && !names::known_ms_roaming_folder(&place.rel[1])
    {
        Some(place.rel[1].clone())
    } else {
        None
    }
}

/// Is `path` named like Qakbot's first stage (TA551's delivery): a file
/// with an all-digits name directly in `C:\ProgramData`?
pub(crate) fn first_stage_name(f: &Facts, path: &str) -> bool {
    let place = f.place(path);
    let stem = paths::stem(path);
    place.area == Area::ProgramData
        && place.rel.len() == 1
        && !stem.is_empty()
        && stem.bytes().all(|b| b.is_ascii_digit())
}

const IMAGE_LIKE: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "tmp", "dat", "txt", "dot", "ooccxx", "wav", "avi",
];

pub(crate) fn launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    for p in &l.parsed.payloads {
        let place = f.place(&p.path);
        let fname = paths::file_name(&p.path).to_string();
        let stem = paths::stem(&p.path).to_string();
        let ext = paths::extension(&p.path);
        // Persistence folder under %APPDATA%\Microsoft.
        if place.area == Area::RoamingAppData
            && place.rel.len() == 3
            && place.rel[0].eq_ignore_ascii_case("microsoft")
        {
            let folder = &place.rel[1];
            let file_ok = names::qakbot_file_shape(&fname)
                || ((ext == "dll" || ext == "exe") && names::looks_random(&stem));
            if names::qakbot_folder_shape(folder)
                && !names::known_ms_roaming_folder(folder)
                && file_ok
                && f.valid_signer(&p.path).is_none()
            {
                let mut reasons = vec![format!(
                    "{}: random lower-case {fname} in made-up folder {folder} directly under %APPDATA%\\Microsoft, the Qakbot persistence layout",
                    runs_words(l, p)
                )];
                let mut grounds = Grounds::of(&[E::FolderShape, E::NameShape]);
                if l.is_run_value() && names::qakbot_value_name_shape(&l.name) {
                    reasons.push(format!(
                        "the Run value name {} is random lower-case letters, as Qakbot's are",
                        l.name
                    ));
                }
                if p.via == Launcher::Regsvr32 {
                    reasons.push("Qakbot registers its DLL with regsvr32 -s".to_string());
                    grounds.add(E::LaunchShape);
                }
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::Qakbot,
                    "QAK-AUTOSTART-APPDATA-MS",
                    grounds,
                    reasons,
                ));
                continue;
            }
        }
        if p.via.loads_dll() {
            // First stage in ProgramData under an image/temp extension.
            if place.area == Area::ProgramData
                && place.rel.len() == 1
                && IMAGE_LIKE.contains(&ext.as_str())
            {
                let digits = stem.bytes().all(|b| b.is_ascii_digit());
                // A system launcher loading a picture or temp file as code.
                let mut grounds = Grounds::of(&[E::FolderShape, E::DisguisedCode]);
                let mut reasons = vec![format!(
                    "{}: a DLL disguised as .{ext} directly in C:\\ProgramData, the Qakbot first-stage layout (<digits>.jpg/.png, <random>.tmp)",
                    runs_words(l, p)
                )];
                if digits {
                    reasons.push(format!("the name {stem} is all digits"));
                    grounds.add(E::NameShape);
                }
                if p.export
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case("Wind"))
                {
                    reasons
                        .push("entry point Wind is the one Qakbot's 2023 loaders used".to_string());
                    grounds.add(E::LaunchShape);
                }
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::Qakbot,
                    "QAK-PROGRAMDATA-IMAGE-DLL",
                    grounds,
                    reasons,
                ));
                continue;
            }
            // New folder at the drive root with a fake-extension DLL.
            if place.area == Area::RootFolder
                && place.rel.len() == 2
                && names::is_fake_dll_extension(&ext)
            {
                let reasons = vec![format!(
                    "{}: a DLL with the made-up extension .{ext} in a new folder {} at the drive root, the Qakbot first-stage layout (C:\\Datop, C:\\IntelCompany)",
                    runs_words(l, p),
                    place.rel[0]
                )];
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::Qakbot,
                    "QAK-ROOT-FOLDER-DLL",
                    Grounds::of(&[E::FolderShape, E::DisguisedCode]),
                    reasons,
                ));
                continue;
            }
        }
        if p.via == Launcher::Regsvr32 || p.via == Launcher::Rundll32 {
            // SYSTEM task running regsvr32 on a user-writable DLL.
            if let Source::Task(t) = l.source {
                let system = t.principal.to_ascii_lowercase().contains("system")
                    || t.principal == "S-1-5-18";
                let leaf = &l.name;
                let once = t
                    .triggers
                    .iter()
                    .any(|x| x.to_ascii_lowercase().contains("once"));
                let rand_name = (leaf.len() == 8 && leaf.bytes().all(|b| b.is_ascii_lowercase()))
                    || names::is_guid(leaf);
                if system && place.user_writable() && p.via == Launcher::Regsvr32 {
                    let mut reasons = vec![format!(
                        "{}: a SYSTEM task running regsvr32 on a DLL in a user-writable folder, as Qakbot's lateral and elevation tasks do",
                        runs_words(l, p)
                    )];
                    if once {
                        reasons.push("it runs once (Qakbot creates it with /SC ONCE /Z, deleted after it runs: its absence later proves nothing)".to_string());
                    }
                    if rand_name {
                        reasons.push(format!(
                            "the task name {leaf} is random (8 lower-case letters or a GUID)"
                        ));
                    }
                    // A SYSTEM task registering a DLL once is also what Group
                    // Policy immediate tasks and installers do: shapes only,
                    // unless the DLL's name or extension says more.
                    let grounds = Grounds::of(&[E::LaunchShape, E::FolderShape])
                        .with_if(rand_name, E::NameShape)
                        .with_if(names::is_fake_dll_extension(&paths::extension(&p.path)), E::DisguisedCode);
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Qakbot,
                        "QAK-TASK-SYSTEM-REGSVR32",
                        grounds,
                        reasons,
                    ));
                    continue;
                }
            }
            // Lateral service: regsvr32 on a DLL reached through C$ or at the drive root.
            if let Source::Service(s) = l.source {
                let via_share = l.parsed.expanded.to_ascii_lowercase().contains("$\\")
                    && l.parsed.expanded.contains("\\\\");
                if p.via == Launcher::Regsvr32
                    && (via_share || place.area == Area::DriveRoot || place.user_writable())
                {
                    let mut reasons = vec![format!(
                        "{}: a service running regsvr32 on a DLL, as Qakbot's lateral movement does",
                        runs_words(l, p)
                    )];
                    if via_share {
                        reasons.push(format!(
                            "the image path reaches the DLL through an admin share: {}",
                            s.image_path
                        ));
                    }
                    let grounds = Grounds::of(&[E::LaunchShape])
                        .with_if(via_share, E::LateralLaunch)
                        .with_if(place.area == Area::DriveRoot || place.user_writable(), E::FolderShape);
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Qakbot,
                        "QAK-SERVICE-REGSVR32",
                        grounds,
                        reasons,
                    ));
                    continue;
                }
            }
        }
    }
    // A task whose PowerShell reads its code from a registry value (DFIR Report Qbot cases).
    if let Source::Task(t) = l.source {
        let e = l.parsed.expanded.to_ascii_lowercase();
        let reads_reg = (e.contains("hkcu:") || e.contains("hklm:") || e.contains("registry::"))
            && (e.contains("gp ") || e.contains("get-itemproperty") || e.contains("getvalue("));
        if e.contains("powershell")
            && reads_reg
            && (e.contains("frombase64string")
                || e.contains("iex")
                || e.contains("invoke-expression"))
        {
            out.push(Finding::new(&f.host, l.artifact.clone(), Family::Qakbot, "QAK-TASK-REGISTRY-POWERSHELL", Grounds::of(&[E::LoaderCommand]), vec![format!(
                "task {} runs PowerShell that decodes and runs code stored in the registry ({}), as Qakbot's tasks did in DFIR Report cases; remove the registry value too",
                t.path, l.parsed.raw)], vec![]));
        }
    }
    // Self-deletion: overwrite the loader with calc.exe after a ping delay.
    let e = l.parsed.expanded.to_ascii_lowercase();
    if e.contains("ping")
        && e.contains("127.0.0.1")
        && e.contains("type ")
        && e.contains("calc.exe")
        && e.contains('>')
    {
        let after = l.parsed.expanded[e.rfind('>').unwrap_or(0) + 1..]
            .trim()
            .trim_matches('"')
            .to_string();
        let targets = if after.is_empty() {
            vec![]
        } else {
            vec![paths::normalize(&after)]
        };
        let reasons = vec![format!(
            "{} runs '{}': Qakbot's self-deletion, which overwrites its original loader with calc.exe (the file there is benign bytes at a malicious path)",
            l.what(),
            l.parsed.raw
        )];
        out.push(Finding::new(
            &f.host,
            l.artifact.clone(),
            Family::Qakbot,
            "QAK-SELFDELETE-CALC",
            // The command itself, and what it does: overwrite a file.
            Grounds::of(&[E::LoaderCommand, E::LaunchShape]),
            reasons,
            targets,
        ));
    }
}

pub(crate) fn host(f: &Facts, out: &mut Vec<Finding>) {
    // Config keys: Software\Microsoft\<random> with 8-hex REG_BINARY values.
    let mut keys: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in &f.snap.registry {
        let comps: Vec<&str> = r.key.split('\\').filter(|c| !c.is_empty()).collect();
        if comps.len() == 3
            && comps[0].eq_ignore_ascii_case("software")
            && comps[1].eq_ignore_ascii_case("microsoft")
            && !names::known_ms_software_key(comps[2])
            && names::is_hex8(&r.value)
            && r.value_type.eq_ignore_ascii_case("REG_BINARY")
        {
            keys.entry((r.hive.clone(), r.key.clone()))
                .or_default()
                .push(r.value.clone());
        }
    }
    let mut config_hives: Vec<String> = Vec::new();
    for ((hive, key), vals) in keys {
        let grounds = Grounds::of(&[E::RegistryArtifact]).with_if(vals.len() >= 2, E::NameShape);
        config_hives.push(hive.clone());
        let reasons = vec![format!(
            "key {hive}\\{key} holds {} REG_BINARY value(s) named with eight hex digits ({}): Qakbot's encrypted per-user configuration",
            vals.len(),
            vals.join(", ")
        )];
        out.push(Finding::new(
            &f.host,
            ArtifactRef::RegistryKey { hive, key },
            Family::Qakbot,
            "QAK-CONFIG-KEY",
            grounds,
            reasons,
            vec![],
        ));
    }
    // Defender exclusions naming a Qakbot-shaped folder.
    let mut excluded: Vec<String> = Vec::new();
    for r in &f.snap.registry {
        if !r.key.to_ascii_lowercase().ends_with("exclusions\\paths") {
            continue;
        }
        if let Some(folder) = qakbot_folder(f, &r.value) {
            excluded.push(paths::key(&r.value));
            let reasons = vec![format!(
                "Defender exclusion {} under {}\\{} names {folder}, a made-up folder directly under %APPDATA%\\Microsoft: Qakbot excludes its persistence folder when running as SYSTEM; revert it",
                r.value, r.hive, r.key
            )];
            out.push(Finding::new(
                &f.host,
                ArtifactRef::RegistryValue {
                    hive: r.hive.clone(),
                    key: r.key.clone(),
                    value: r.value.clone(),
                },
                Family::Qakbot,
                "QAK-DEFENDER-EXCLUSION",
                Grounds::of(&[E::RegistryArtifact, E::FolderShape]),
                reasons,
                vec![],
            ));
        }
    }
    for ff in &f.snap.files {
        if !ff.exists {
            continue;
        }
        let place = f.place(&ff.path);
        if ff.is_dir {
            let Some(folder) = qakbot_folder(f, &ff.path) else {
                continue;
            };
            let entries = f.dir_entries(&ff.path);
            let empty = ff.entries == 0 && entries.is_empty();
            let qak_files: Vec<&String> = entries
                .iter()
                .filter(|e| names::qakbot_file_shape(paths::file_name(e)))
                .collect();
            let has_excl = excluded.contains(&paths::key(&ff.path));
            let user_sid = place
                .user
                .as_deref()
                .and_then(|u| f.user_by_name(u))
                .map(|u| u.sid.clone());
            let has_cfg = user_sid
                .as_ref()
                .is_some_and(|s| config_hives.iter().any(|h| h.eq_ignore_ascii_case(s)));
            if !(empty || !qak_files.is_empty() || has_excl || has_cfg) {
                continue;
            }
            let mut reasons = vec![format!(
                "{} is a made-up folder ({folder}) directly under %APPDATA%\\Microsoft, the Qakbot persistence folder",
                ff.path
            )];
            if empty {
                reasons.push("it is empty: Qakbot writes its DLL there only at shutdown and deletes it at start-up".to_string());
            }
            if !qak_files.is_empty() {
                reasons.push(format!(
                    "it holds random lower-case {}",
                    qak_files
                        .iter()
                        .map(|e| paths::file_name(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if has_excl {
                reasons.push("Defender is told to exclude it".to_string());
            }
            if has_cfg {
                reasons.push("the same user has a Qakbot configuration key".to_string());
            }
            let grounds = Grounds::of(&[E::FolderShape])
                .with_if(!qak_files.is_empty(), E::NameShape)
                .with_if(has_excl || has_cfg, E::RegistryArtifact);
            let mut targets = vec![paths::normalize(&ff.path)];
            targets.extend(entries.iter().cloned());
            out.push(Finding::new(
                &f.host,
                ArtifactRef::Folder {
                    path: paths::normalize(&ff.path),
                },
                Family::Qakbot,
                "QAK-APPDATA-MS-FOLDER",
                grounds,
                reasons,
                targets,
            ));
            continue;
        }
        let ext = paths::extension(&ff.path);
        // Lateral copy with its .dll.cfg companion.
        if ext == "dll"
            && (place.area == Area::DriveRoot || place.user_writable())
            && f.exists(&format!("{}.cfg", ff.path))
        {
            out.push(Finding::new(
                &f.host,
                ArtifactRef::File { path: paths::normalize(&ff.path) },
                Family::Qakbot,
                "QAK-DLL-CFG-PAIR",
                Grounds::of(&[E::NameShape, E::FolderShape]),
                vec![format!("{} has a {}.cfg companion: Qakbot's lateral copy loads its configuration from it", ff.path, paths::file_name(&ff.path))],
                vec![paths::normalize(&ff.path), paths::normalize(&format!("{}.cfg", ff.path))],
            ));
            continue;
        }
        if ["jpg", "png", "gif"].contains(&ext.as_str()) && first_stage_name(f, &ff.path) {
            out.push(Finding::new(
                &f.host,
                ArtifactRef::File { path: paths::normalize(&ff.path) },
                Family::Qakbot,
                "QAK-PROGRAMDATA-IMAGE-DLL",
                Grounds::of(&[E::NameShape, E::FolderShape]),
                vec![format!("{} is a digits-only .{ext} directly in C:\\ProgramData, where Qakbot's first stage drops its DLL", ff.path)],
                vec![paths::normalize(&ff.path)],
            ));
        }
    }
}
