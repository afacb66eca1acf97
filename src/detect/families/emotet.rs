//! Emotet, from the documented layouts (EmoCheck scans v1-v5, Unit 42
//! infection write-ups):
//! - 2019-Feb 2020: name from a 64-word dictionary and the C: serial;
//! - Feb 2020: `Explorer\<serial-hex>` REG_BINARY holding the name;
//! - 2020: `%LOCALAPPDATA%\<SysName>\<sysname>.exe`, Run value = stem;
//! - Dec 2020+: `%LOCALAPPDATA%\[A-Za-z]{4,16}\[A-Za-z]{3,15}.<fake ext>`
//!   started by rundll32/regsvr32 (admin: service named like the file, in
//!   SysWOW64); 2022-23: random mixed-case folder and `.dll`;
//! - a PE file backdated exactly seven days against its folder.

use super::super::command_line::{Launcher, Payload};
use super::super::facts::{Facts, Launch, Source};
use super::super::link::{timestomp_reason, wow64_targets};
use super::super::names;
use super::super::paths::{self, Area};
use super::super::evidence::{Evidence as E, Grounds};
use super::super::{ArtifactRef, Confidence, Family, Finding};
use super::runs_words;

/// EmoCheck's allow-list trick: a %LOCALAPPDATA% folder name that also
/// exists under %APPDATA% or Program Files belongs to a product.
pub(crate) fn name_exists_elsewhere(
    f: &Facts,
    l_user_appdata: Option<&str>,
    folder: &str,
) -> Option<String> {
    let mut roots: Vec<String> = vec!["C:\\Program Files".into(), "C:\\Program Files (x86)".into()];
    if let Some(a) = l_user_appdata {
        roots.push(a.to_string());
    }
    roots
        .into_iter()
        .find(|r| f.has_child(r, folder))
        .map(|r| format!("{r}\\{folder}"))
}

fn user_appdata<'b>(f: &'b Facts, user: Option<&'b str>) -> Option<&'b str> {
    let u = user?;
    f.user_by_name(u).map(|p| p.appdata.as_str())
}

fn emotet_export(e: &str) -> bool {
    [
        "RunDLL",
        "Control_RunDLL",
        "ShowDialogA",
        "DllRegisterServer",
    ]
    .iter()
    .any(|x| x.eq_ignore_ascii_case(e))
        || ((4..=16).contains(&e.len()) && names::is_alpha(e))
}

fn system32_name(f: &Facts, n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    f.snap
        .system32_names
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&l))
        || names::SYSTEM_MODULE_SAMPLES.contains(&l.as_str())
}

/// Reasons every Emotet launch rule adds, each with its line of evidence.
fn push_common_reasons(
    f: &Facts,
    l: &Launch,
    p: &Payload,
    reasons: &mut Vec<String>,
    grounds: &mut Grounds,
) {
    if let Some(r) = timestomp_reason(f, &p.path) {
        reasons.push(r);
        grounds.add(E::Timestamp);
    }
    if let Some(e) = &p.export
        && emotet_export(e)
    {
        reasons.push(format!("entry point {e} is of the kind Emotet uses (RunDLL, Control_RunDLL, ShowDialogA or a random word)"));
        grounds.add(E::LaunchShape);
    }
    if l.is_run_value() {
        let fname = paths::file_name(&p.path);
        if l.name.eq_ignore_ascii_case(fname) || l.name.eq_ignore_ascii_case(paths::stem(&p.path)) {
            reasons.push(format!(
                "the Run value is named after the file ({})",
                l.name
            ));
            grounds.add(E::NameShape);
        } else if names::emotet_value_name_shape(&l.name) {
            reasons.push(format!(
                "the Run value name {} is 7-16 letters, as Emotet's are",
                l.name
            ));
            grounds.add(E::NameShape);
        }
    }
    if let Some(ff) = f.file(&p.path)
        && ff.size >= 400 * 1024 * 1024
    {
        reasons.push(format!(
            "the file is {} MB, padded as Emotet did in 2023",
            ff.size / (1024 * 1024)
        ));
        grounds.add(E::NameShape);
    }
}

pub(crate) fn launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    for p in &l.parsed.payloads {
        let place = f.place(&p.path);
        let fname = paths::file_name(&p.path).to_string();
        let stem = paths::stem(&p.path).to_string();
        let ext = paths::extension(&p.path);
        if p.via.loads_dll() {
            // Dec 2020+ user layout: one folder deep in %LOCALAPPDATA%.
            if place.area == Area::LocalAppData && place.rel.len() == 2 {
                let folder = &place.rel[0];
                let elsewhere =
                    name_exists_elsewhere(f, user_appdata(f, place.user.as_deref()), folder);
                if names::emotet_folder_shape(folder)
                    && names::emotet_fake_ext_file(&fname)
                    && !names::known_product(folder)
                    && elsewhere.is_none()
                {
                    let mut reasons = vec![format!(
                        "{}: a DLL with a fake 3-letter extension (.{ext}) in folder {folder} directly under %LOCALAPPDATA%, the Emotet layout since December 2020 (folder of 4-16 letters, file of 3-15 letters)",
                        runs_words(l, p)
                    )];
                    // A system launcher loading code from a file whose
                    // extension says data: what it loads, not a shape.
                    let mut grounds =
                        Grounds::of(&[E::FolderShape, E::NameShape, E::DisguisedCode]);
                    push_common_reasons(f, l, p, &mut reasons, &mut grounds);
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Emotet,
                        "EMO-AUTOSTART-FAKEEXT",
                        grounds,
                        reasons,
                    ));
                    continue;
                }
                let folder_rand = folder.bytes().all(|b| b.is_ascii_alphanumeric())
                    && (4..=20).contains(&folder.len())
                    && names::looks_random(folder)
                    && !names::is_guid(folder);
                let stem_rand =
                    stem.bytes().all(|b| b.is_ascii_alphanumeric()) && names::looks_random(&stem);
                if folder_rand
                    && (stem_rand || names::is_fake_dll_extension(&ext))
                    && elsewhere.is_none()
                {
                    let mut reasons = vec![format!(
                        "{}: random-looking folder {folder} directly under %LOCALAPPDATA% holding random-looking {fname}, the Emotet layout of 2021-2023",
                        runs_words(l, p)
                    )];
                    let mut grounds = Grounds::of(&[E::FolderShape])
                        .with_if(stem_rand, E::NameShape)
                        .with_if(names::is_fake_dll_extension(&ext), E::DisguisedCode);
                    push_common_reasons(f, l, p, &mut reasons, &mut grounds);
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Emotet,
                        "EMO-AUTOSTART-RANDOM-DLL",
                        grounds,
                        reasons,
                    ));
                    continue;
                }
            }
            // Admin layout: SysWOW64\<folder>\<file> (command may say System32).
            if place.area == Area::System
                && place.rel.len() == 2
                && names::emotet_folder_shape(&place.rel[0])
            {
                let folder = &place.rel[0];
                let fake = names::emotet_fake_ext_file(&fname)
                    || (names::looks_random(&stem) && names::looks_random(folder));
                if fake && !names::known_product(folder) {
                    let mut reasons = vec![format!(
                        "{}: a file with {} in folder {folder} inside the system folder, the Emotet admin layout (EmoCheck v4)",
                        runs_words(l, p),
                        if names::emotet_fake_ext_file(&fname) {
                            "a fake 3-letter extension"
                        } else {
                            "a random-looking name"
                        }
                    )];
                    let mut grounds = Grounds::of(&[E::FolderShape, E::NameShape])
                        .with_if(names::is_fake_dll_extension(&ext), E::DisguisedCode);
                    if let Source::Service(s) = l.source
                        && (s.name.eq_ignore_ascii_case(&fname) || s.name.eq_ignore_ascii_case(&stem))
                    {
                        reasons.push(format!("the service is named after the file ({})", s.name));
                    }
                    let (targets, wow64) = wow64_targets(f, &p.path);
                    reasons.extend(wow64);
                    push_common_reasons(f, l, p, &mut reasons, &mut grounds);
                    let rule = if l.is_service() {
                        "EMO-SERVICE-SYSWOW64"
                    } else {
                        "EMO-AUTOSTART-SYSWOW64"
                    };
                    out.push(Finding::new(&f.host, l.artifact.clone(), Family::Emotet, rule, grounds, reasons, targets));
                    continue;
                }
            }
        }
        if p.via == Launcher::Direct && ext == "exe" {
            // 2019: dictionary names.
            if let Some((a, b)) = names::emotet_v1_two_words(&stem)
                && (place.user_writable() || place.area == Area::System)
            {
                let mut reasons = vec![format!(
                    "{}: {stem} is two words of Emotet's 2019 keyword list ({a} + {b})",
                    runs_words(l, p)
                )];
                // The word list is a name heuristic (real Windows tools join
                // two of its words); only the exact name this host's serial
                // gives is more than a shape.
                let mut grounds = Grounds::of(&[]);
                if let Some(serial) = f.snap.system_volume_serial
                    && names::emotet_v1_name(serial).eq_ignore_ascii_case(&stem)
                {
                    reasons.push(format!("it is exactly the name Emotet derives from this host's volume serial {serial:08x}"));
                    grounds.add(E::HostDerivedName);
                } else {
                    grounds.add(E::NameShape);
                }
                if place.area == Area::LocalAppData || place.area == Area::System {
                    grounds.add(E::FolderShape);
                }
                if f.valid_signer(&p.path).is_some() {
                    // A signed program (a real Windows tool whose name
                    // joins two of the words) is listed, never acted on.
                    grounds = grounds.at_most(Confidence::Low);
                } else {
                    grounds.add(E::Unsigned);
                }
                out.push(f.payload_finding(
                    l,
                    p,
                    Family::Emotet,
                    "EMO-V1-KEYWORD-EXE",
                    grounds,
                    reasons,
                ));
                continue;
            }
            // 2020: %LOCALAPPDATA%\<SysName>\<sysname>.exe, Run value = stem.
            let one_deep = (place.area == Area::LocalAppData || place.area == Area::System)
                && place.rel.len() == 2;
            if one_deep {
                let folder = &place.rel[0];
                let plain = |s: &str| {
                    (3..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
                };
                let named_after =
                    l.name.eq_ignore_ascii_case(&stem) || l.name.eq_ignore_ascii_case(&fname);
                let elsewhere =
                    name_exists_elsewhere(f, user_appdata(f, place.user.as_deref()), folder);
                let signed = f.valid_signer(&p.path);
                let sys_names = system32_name(f, folder) && system32_name(f, &stem);
                let shape = plain(folder)
                    && plain(&stem)
                    && !names::known_product(folder)
                    && elsewhere.is_none()
                    && signed.is_none();
                let admin = place.area == Area::System && (l.is_service() || l.is_process());
                if shape
                    && ((l.is_run_value() && named_after) || admin || sys_names)
                    && !folder.eq_ignore_ascii_case(&stem)
                    || shape && sys_names
                {
                    let mut reasons = vec![format!(
                        "{}: an unsigned EXE one folder deep in {} ({folder}\\{fname}), the Emotet 2020 layout",
                        runs_words(l, p),
                        if place.area == Area::System {
                            "the system folder"
                        } else {
                            "%LOCALAPPDATA%"
                        }
                    )];
                    if named_after {
                        reasons.push(format!(
                            "the Run value is named after the file ({})",
                            l.name
                        ));
                    }
                    if sys_names {
                        reasons.push(format!("both {folder} and {stem} are names of System32 modules, as Emotet picks them"));
                    }
                    let mut grounds = Grounds::of(&[E::FolderShape, E::NameShape, E::Unsigned]);
                    if let Some(r) = timestomp_reason(f, &p.path) {
                        reasons.push(r);
                        grounds.add(E::Timestamp);
                    }
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Emotet,
                        "EMO-SYSNAME-EXE",
                        grounds,
                        reasons,
                    ));
                    continue;
                }
                let explicit_unsigned = f.file(&p.path).is_some_and(|x| {
                    x.signature.eq_ignore_ascii_case("unsigned")
                        || x.signature.eq_ignore_ascii_case("invalid")
                });
                if shape
                    && folder.eq_ignore_ascii_case(&stem)
                    && (names::looks_random(&stem) || (explicit_unsigned && named_after))
                {
                    let reasons = vec![format!(
                        "{}: folder and EXE share one made-up name ({folder}\\{fname}), the Emotet 2019 layout",
                        runs_words(l, p)
                    )];
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Emotet,
                        "EMO-SAMENAME-EXE",
                        Grounds::of(&[E::FolderShape, E::NameShape]),
                        reasons,
                    ));
                    continue;
                }
            }
            // 2014 "Geodo": %APPDATA%\Microsoft\<3 letters><suffix>.exe.
            if place.area == Area::RoamingAppData
                && place.rel.len() == 2
                && place.rel[0].eq_ignore_ascii_case("microsoft")
            {
                const SUFFIXES: &[&str] = &[
                    "api32", "audio", "bios", "boot", "cap32", "common", "config", "crypt",
                    "edit32", "error", "mgr32", "serial", "setup", "share", "sock", "system",
                    "update", "video", "windows",
                ];
                let s = stem.to_ascii_lowercase();
                if s.len() > 3
                    && s.is_char_boundary(3)
                    && s[..3].bytes().all(|b| b.is_ascii_lowercase())
                    && SUFFIXES.contains(&&s[3..])
                    && f.valid_signer(&p.path).is_none()
                {
                    let reasons = vec![format!(
                        "{}: an EXE directly in %APPDATA%\\Microsoft named three letters + '{}', the Emotet (Geodo) layout of 2014",
                        runs_words(l, p),
                        &s[3..]
                    )];
                    out.push(f.payload_finding(
                        l,
                        p,
                        Family::Emotet,
                        "EMO-GEODO-APPDATA-EXE",
                        Grounds::of(&[E::FolderShape, E::NameShape]),
                        reasons,
                    ));
                }
            }
        }
    }
    // The Wi-Fi spreader's service.
    if let Source::Service(s) = l.source {
        let masq = s
            .name
            .eq_ignore_ascii_case("Windows Defender System Service")
            || s.display_name.eq_ignore_ascii_case("WinDefService");
        if masq {
            let targets: Vec<String> = l
                .parsed
                .payloads
                .iter()
                .map(|p| f.long_path(&p.path))
                .collect();
            let reasons = vec![format!(
                "service {} (display name {}) is the name Emotet's Wi-Fi spreader gives its service; the real Defender service is WinDefend; it runs {}",
                s.name, s.display_name, s.image_path
            )];
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                Family::Emotet,
                "EMO-SERVICE-WINDEFSERVICE",
                Grounds::of(&[E::NameShape]),
                reasons,
                targets,
            ));
        }
    }
}

pub(crate) fn host(f: &Facts, out: &mut Vec<Finding>) {
    // Feb 2020: Explorer\<serial-hex> REG_BINARY.
    for r in &f.snap.registry {
        let k = r.key.to_ascii_lowercase();
        let explorer = k == "software\\microsoft\\windows\\currentversion\\explorer"
            || k == "software\\wow6432node\\microsoft\\windows\\currentversion\\explorer";
        if !explorer || !r.value_type.eq_ignore_ascii_case("REG_BINARY") {
            continue;
        }
        let v = r.value.trim();
        if v.is_empty() || v.len() > 8 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let art = ArtifactRef::RegistryValue {
            hive: r.hive.clone(),
            key: r.key.clone(),
            value: r.value.clone(),
        };
        let exact = f
            .snap
            .system_volume_serial
            .map(|s| format!("{s:x}").eq_ignore_ascii_case(v));
        let (grounds, mut reasons) = match exact {
            Some(true) => (
                Grounds::of(&[E::RegistryArtifact, E::HostDerivedName]),
                vec![format!(
                    "binary value {v} under {}\\{} is named after this host's C: volume serial, where Emotet (February 2020) stores its encoded file name",
                    r.hive, r.key
                )],
            ),
            Some(false) => continue,
            None if v.len() >= 5 => (
                Grounds::of(&[E::RegistryArtifact]),
                vec![format!(
                    "binary value {v} under {}\\{} has a hex volume-serial-like name, where Emotet (February 2020) stores its encoded file name",
                    r.hive, r.key
                )],
            ),
            None => continue,
        };
        if let (Some(serial), Some(name)) = (f.snap.system_volume_serial, decode_hex(&r.data)) {
            let key = serial.to_le_bytes();
            let dec: String = name
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .filter(|c| *c > 0x20 && *c < 0x7e)
                .map(|c| c as char)
                .collect();
            if !dec.is_empty() {
                reasons.push(format!("decoded with the serial it names the file {dec}"));
            }
        }
        reasons.push("delete the value only; the Explorer key itself is Windows'".to_string());
        out.push(Finding::new(
            &f.host,
            art,
            Family::Emotet,
            "EMO-REG-EXPLORER-SERIAL",
            grounds,
            reasons,
            vec![],
        ));
    }
    for ff in &f.snap.files {
        if ff.is_dir || !ff.exists {
            continue;
        }
        let place = f.place(&ff.path);
        let stem = paths::stem(&ff.path).to_string();
        let ext = paths::extension(&ff.path);
        let art = ArtifactRef::File {
            path: paths::normalize(&ff.path),
        };
        // Timestomp (EmoCheck v5).
        if (place.user_writable() || place.area == Area::System && place.rel.len() >= 2)
            && ext != "lnk"
            && let Some(r) = timestomp_reason(f, &ff.path)
        {
            // Programs and Emotet's made-up extensions; never a data
            // file an updater rewrites on a schedule.
            let pe_like = ["exe", "dll"].contains(&ext.as_str())
                || (!DATA_EXTS.contains(&ext.as_str())
                    && (names::emotet_fake_ext_file(paths::file_name(&ff.path))
                        || names::is_fake_dll_extension(&ext)));
            // A timestamp is a coincidence a weekly updater can make: a
            // weak line, and none at all on a file validly signed.
            if pe_like && f.valid_signer(&ff.path).is_none() {
                out.push(Finding::new(
                    &f.host,
                    art.clone(),
                    Family::Emotet,
                    "EMO-TIMESTOMP-7D",
                    Grounds::of(&[E::Timestamp]),
                    vec![r],
                    vec![paths::normalize(&ff.path)],
                ));
                continue;
            }
        }
        // 2019 dictionary name anywhere a loader writes.
        if ext == "exe"
            && (place.user_writable() || place.area == Area::System && place.rel.len() == 1)
            && let Some(serial) = f.snap.system_volume_serial
            && names::emotet_v1_name(serial).eq_ignore_ascii_case(&stem)
        {
            let grounds = Grounds::of(&[E::HostDerivedName, E::FolderShape]).with_if(
                !ff.signature.eq_ignore_ascii_case("valid"),
                E::Unsigned,
            );
            out.push(Finding::new(&f.host, art.clone(), Family::Emotet, "EMO-V1-KEYWORD-EXE", grounds, vec![format!(
                        "{} is exactly the name Emotet derives from this host's volume serial {serial:08x}", ff.path)], vec![paths::normalize(&ff.path)]));
            continue;
        }
        // Initial-stage residue.
        let fname = paths::file_name(&ff.path);
        let residue = match place.area {
            Area::UserProfile if place.rel.len() == 1 => {
                ((ext == "ocx" || ext == "dll") && names::is_alpha(&stem) && stem.len() <= 12)
                    || (ext == "exe"
                        && (1..=4).contains(&stem.len())
                        && stem.bytes().all(|b| b.is_ascii_digit()))
            }
            Area::DriveRoot => ext == "ocx" && names::is_alpha(&stem),
            Area::ProgramData if place.rel.len() == 1 => {
                ["bat", "vbs", "dll", "js"].contains(&ext.as_str())
                    && stem.bytes().all(|b| b.is_ascii_alphanumeric())
                    && names::looks_random(&stem)
            }
            Area::UserTemp if place.rel.len() == 1 => {
                ext == "vbs"
                    && stem.bytes().all(|b| b.is_ascii_alphanumeric())
                    && names::looks_random(&stem)
            }
            _ => false,
        };
        if residue && f.valid_signer(&ff.path).is_none() {
            out.push(Finding::new(&f.host, art.clone(), Family::Emotet, "EMO-INITIAL-RESIDUE", Grounds::of(&[E::FolderShape, E::NameShape]), vec![format!(
                "{fname} sits directly in {} - where Emotet's first stages were dropped (short .ocx/.dll name, 1-4 digit .exe, random .bat/.vbs/.dll in ProgramData, random .vbs in Temp)",
                match place.area { Area::DriveRoot => "the drive root", Area::ProgramData => "C:\\ProgramData", Area::UserTemp => "%TEMP%", _ => "the user profile folder" }
            )], vec![paths::normalize(&ff.path)]));
            continue;
        }
        // Admin 2020 layout seen on disk: SysWOW64\<folder>\<name>.exe, not signed by Microsoft.
        if place.area == Area::System
            && place.rel.len() == 2
            && ext == "exe"
            && paths::normalize(&ff.path)
                .to_ascii_lowercase()
                .contains("\\syswow64\\")
        {
            let folder = &place.rel[0];
            let ms = ff.signature.eq_ignore_ascii_case("valid")
                && ff.signer.to_ascii_lowercase().contains("microsoft");
            let unsigned = ff.signature.eq_ignore_ascii_case("unsigned")
                || ff.signature.eq_ignore_ascii_case("invalid");
            let plain = folder.bytes().all(|b| b.is_ascii_alphanumeric())
                && stem.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ms
                && plain
                && !names::known_system_subdir(folder)
                && (unsigned || (system32_name(f, folder) && system32_name(f, &stem)))
            {
                out.push(Finding::new(&f.host, art.clone(), Family::Emotet, "EMO-SYSNAME-EXE", Grounds::of(&[E::FolderShape, E::NameShape]), vec![format!(
                    "{} is an EXE not signed by Microsoft ({}) in a SysWOW64 subfolder, the Emotet 2020 admin layout", ff.path, if ff.signature.is_empty() { "no signature facts" } else { ff.signature.as_str() })], vec![paths::normalize(&ff.path)]));
            }
        }
    }
}

/// Extensions of data files programs rewrite on schedules (lower-case):
/// a seven-day coincidence on one of them says nothing.
const DATA_EXTS: &[&str] = &[
    "dat", "tmp", "log", "txt", "ini", "xml", "json", "cfg", "db", "bak", "etl", "csv", "lock",
    "manifest", "config", "cache", "jsonl", "sqlite",
];

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let t: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if t.is_empty() || !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
        .collect()
}
