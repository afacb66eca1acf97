//! Tying artifacts together: an autostart -> the file it starts -> the
//! process running it; a loader's folder and its other files (Emotet
//! reuses its folder for follow-ups); injected signed processes told apart
//! by their parent; the Emotet seven-day timestomp; WOW64 path pairs.

use std::collections::BTreeSet;

use super::facts::{Facts, Source, parse_time};
use super::paths::{self, Area};
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Confidence, Family, Finding};

/// Seven days, the Emotet backdating offset.
pub const SEVEN_DAYS: f64 = 604_800.0;

/// Reason text when a file's mtime is exactly seven days (+/- 1 s) before
/// its folder's (EmoCheck scan v5).
pub(crate) fn timestomp_reason(f: &Facts, path: &str) -> Option<String> {
    let file = f.file(path)?;
    let dir = f.file(paths::parent(&file.path))?;
    let fm = parse_time(&file.modified)?;
    let dm = parse_time(&dir.modified)?;
    let diff = dm - fm;
    ((diff - SEVEN_DAYS).abs() <= 1.0).then(|| {
        format!(
            "{} was last written {} and its folder {}: exactly seven days apart, Emotet's timestomp",
            paths::file_name(&file.path),
            file.modified,
            dir.modified
        )
    })
}

/// Both WOW64 views of a path in the system folder (System32 and
/// SysWOW64); any other path alone.
pub fn wow64_variants(path: &str) -> Vec<String> {
    let n = paths::normalize(path);
    let comps: Vec<&str> = n.split('\\').collect();
    if comps.len() >= 3 && comps[1].eq_ignore_ascii_case("windows") {
        let c2 = comps[2].to_ascii_lowercase();
        if c2 == "system32" || c2 == "syswow64" || c2 == "sysnative" {
            let mut a = comps.clone();
            let mut b = comps.clone();
            a[2] = "System32";
            b[2] = "SysWOW64";
            return vec![a.join("\\"), b.join("\\")];
        }
    }
    vec![n]
}

/// The files a command naming `path` in the system folder really runs,
/// and why, as the host is: the WOW64 view that exists (a 32-bit launcher
/// started from System32 reads SysWOW64); on a host with nothing under
/// SysWOW64 (32-bit Windows), the path as written; when neither view was
/// collected, both.
pub(crate) fn wow64_targets(f: &Facts, path: &str) -> (Vec<String>, Option<String>) {
    let variants = wow64_variants(path);
    if variants.len() < 2 {
        return (variants, None);
    }
    let written = paths::normalize(path);
    let existing: Vec<String> = variants
        .iter()
        .filter(|v| f.exists_exact(v))
        .cloned()
        .collect();
    if !existing.is_empty() {
        let moved = !existing.iter().any(|e| e.eq_ignore_ascii_case(&written));
        let why = moved.then(|| {
            format!(
                "the command names {written}; the file is {} (WOW64: a 32-bit launcher started from System32 reads SysWOW64)",
                existing.join(" and ")
            )
        });
        return (existing, why);
    }
    if f.has_wow64() == Some(false) {
        return (vec![variants[0].clone()], None);
    }
    let why = format!(
        "neither {} was seen on the host: both are targets (WOW64: a 32-bit launcher started from System32 reads SysWOW64)",
        variants.join(" nor ")
    );
    (variants, Some(why))
}

/// Merge findings about the same artifact: one per (artifact, family) with
/// the strongest rule, reasons and targets united; an "unknown loader-like"
/// finding gives way to a family finding on the same artifact.
pub(crate) fn merge(v: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in v {
        if let Some(e) = out
            .iter_mut()
            .find(|e| e.artifact == f.artifact && e.family == f.family)
        {
            if f.confidence > e.confidence {
                e.rule_id = f.rule_id;
            }
            // Two rules on one artifact are two lines of evidence.
            e.unite_grounds(&f.grounds);
            e.certain |= f.certain;
            for r in f.reasons {
                if !e.reasons.contains(&r) {
                    e.reasons.push(r);
                }
            }
            for t in f.target_files {
                if !e
                    .target_files
                    .iter()
                    .any(|x| paths::key(x) == paths::key(&t))
                {
                    e.target_files.push(t);
                }
            }
            continue;
        }
        out.push(f);
    }
    let family_arts: BTreeSet<ArtifactRef> = out
        .iter()
        .filter(|f| f.family != Family::UnknownLoaderLike)
        .map(|f| f.artifact.clone())
        .collect();
    out.retain(|f| {
        f.family != Family::UnknownLoaderLike || !family_arts.contains(&f.artifact) || f.certain
    });
    // Two families on one artifact: keep the stronger, note the other.
    let mut keep = vec![true; out.len()];
    for i in 0..out.len() {
        for j in 0..out.len() {
            if i != j
                && keep[i]
                && keep[j]
                && out[i].artifact == out[j].artifact
                && out[j].confidence > out[i].confidence
                && !out[i].certain
            {
                keep[i] = false;
                let note = format!(
                    "also matched {} rule {} ({:?})",
                    out[i].family.name(),
                    out[i].rule_id,
                    out[i].confidence
                );
                out[j].reasons.push(note);
            }
        }
    }
    out.into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(f, _)| f)
        .collect()
}

fn has_target(out: &[Finding], path: &str) -> bool {
    let k = paths::key(path);
    out.iter().any(|f| {
        f.target_files.iter().any(|t| paths::key(t) == k)
            || matches!(&f.artifact, ArtifactRef::File { path } if paths::key(path) == k)
    })
}

/// A loader's folder is hostile as a whole: flag the folder and the other
/// files in it (Emotet reuses its folder for follow-up payloads; Qakbot's
/// and Dridex's folders hold only their kit).
pub(crate) fn follow_ups(f: &Facts, out: &mut Vec<Finding>) {
    let mut add: Vec<Finding> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for fd in out.iter() {
        if !fd.actionable() || fd.confidence < Confidence::Medium {
            continue;
        }
        let (rule_folder, rule_file) = match fd.family {
            Family::Emotet => ("EMO-FOLDER-HOSTILE", "EMO-FOLDER-REUSE"),
            Family::Qakbot => ("QAK-FOLDER", "QAK-FOLDER-FILE"),
            Family::TrickBot => ("TRK-FOLDER", "TRK-FOLDER-FILE"),
            Family::IcedId => ("ICE-FOLDER", "ICE-FOLDER-FILE"),
            Family::Dridex => ("DRX-FOLDER", "DRX-FOLDER-FILE"),
            Family::UnknownLoaderLike => continue,
        };
        for t in &fd.target_files {
            // A target that is the folder of another target is not a file.
            if fd
                .target_files
                .iter()
                .any(|o| paths::key(paths::parent(o)) == paths::key(t))
                || f.file(t).is_some_and(|x| x.is_dir)
            {
                continue;
            }
            if !loader_folder(f, fd.family, t) {
                continue;
            }
            let folder = paths::parent(&f.long_path(t)).to_string();
            if !seen.insert(paths::key(&folder)) {
                continue;
            }
            // Entries the snapshot has no facts of (listed by name only)
            // and subfolders are named on the folder's finding, never
            // called files.
            let entries = f.dir_entries(&folder);
            let named_only = |pred: fn(Option<&crate::runtime::snapshot::FileFacts>) -> bool| {
                entries
                    .iter()
                    .filter(|e| pred(f.file(e)))
                    .map(|e| paths::file_name(e).to_string())
                    .collect::<Vec<_>>()
            };
            let subfolders = named_only(|x| x.is_some_and(|x| x.is_dir));
            let unknown = named_only(|x| x.is_none());
            if !out.iter().any(|x| matches!(&x.artifact, ArtifactRef::Folder { path } if paths::key(path) == paths::key(&folder))) {
                let mut reasons = vec![format!("{folder} holds {} ({}); a loader's folder is hostile as a whole", paths::file_name(t), fd.rule_id)];
                if !subfolders.is_empty() {
                    reasons.push(format!("it holds subfolder(s) {}", subfolders.join(", ")));
                }
                if !unknown.is_empty() {
                    reasons.push(format!(
                        "it also lists {} (no facts collected of them: nothing to act on until a scan sees them)",
                        unknown.join(", ")
                    ));
                }
                add.push(Finding::new(
                    &f.host,
                    ArtifactRef::Folder { path: folder.clone() },
                    fd.family,
                    rule_folder,
                    fd.grounds().clone(),
                    reasons,
                    vec![folder.clone()],
                ));
            }
            for e in entries {
                if has_target(out, &e)
                    || has_target(&add, &e)
                    || f.file(&e).is_none_or(|x| x.is_dir)
                {
                    continue;
                }
                let why = if fd.family == Family::Emotet {
                    "Emotet reuses its folder for follow-up payloads (Cobalt Strike, IcedID, TrickBot, Qakbot)".to_string()
                } else {
                    format!("it is in the {} folder", fd.family.name())
                };
                // In a confirmed (high) loader's own folder: related to a
                // confirmed finding, a strong line beside the folder shape.
                // Beside a medium one: the shape only.
                let confirmed = fd.confidence == Confidence::High;
                let mut reasons = vec![format!(
                    "{} shares folder {folder} with {} ({}): {why}",
                    paths::file_name(&e),
                    paths::file_name(t),
                    fd.rule_id
                )];
                if confirmed {
                    reasons.push(format!(
                        "{} is a confirmed (high) finding: its folder's other files are tied to it",
                        paths::file_name(t)
                    ));
                }
                add.push(Finding::new(
                    &f.host,
                    ArtifactRef::File { path: e.clone() },
                    fd.family,
                    rule_file,
                    Grounds::of(&[E::FolderShape]).with_if(confirmed, E::RelatedToConfirmed),
                    reasons,
                    vec![e.clone()],
                ));
            }
        }
    }
    out.extend(add);
}

/// Is the folder of `target` the loader's own folder (safe to treat as
/// hostile as a whole)? Only the documented made-up folder shapes; never a
/// product, Windows or Office folder, a drive root folder or a profile root.
fn loader_folder(f: &Facts, family: Family, target: &str) -> bool {
    use super::names;
    let place = f.place(target);
    let n = place.rel.len();
    if n < 2 {
        return false;
    }
    let folder = place.rel[n - 2].as_str();
    let plain = folder.bytes().all(|b| b.is_ascii_alphanumeric()) && !names::known_product(folder);
    match family {
        Family::Emotet => match place.area {
            Area::LocalAppData => n == 2 && plain,
            Area::System => {
                n == 2
                    && names::emotet_folder_shape(folder)
                    && !names::known_system_subdir(folder)
                    && !names::known_product(folder)
            }
            _ => false,
        },
        Family::Qakbot => super::families::qakbot_folder(f, paths::parent(target)).is_some(),
        Family::TrickBot => {
            names::trickbot_gtag_folder(folder) || names::trickbot_words_suffix_folder(folder)
        }
        Family::IcedId => {
            matches!(place.area, Area::LocalAppData | Area::RoamingAppData)
                && n == 2
                && plain
                && !folder.eq_ignore_ascii_case("microsoft")
                && (paths::extension(target) == "dll"
                    || paths::file_name(target).eq_ignore_ascii_case("license.dat"))
        }
        Family::Dridex | Family::UnknownLoaderLike => false,
    }
}

const INJECT_TARGETS: &[&str] = &[
    "explorer.exe",
    "mobsync.exe",
    "msra.exe",
    "onedrivesetup.exe",
    "iexplore.exe",
    "wermgr.exe",
    "svchost.exe",
];

/// Processes: one that runs a flagged file is flagged with it; a signed
/// Windows process whose parent is rundll32/regsvr32 (or that is a lone
/// 32-bit explorer, or an argument-less msra/mobsync/wermgr on a host with
/// Qakbot evidence) is an injected loader.
pub(crate) fn processes(f: &Facts, out: &mut Vec<Finding>) {
    let mut add: Vec<Finding> = Vec::new();
    let qak_users: BTreeSet<String> = out
        .iter()
        .filter(|x| x.family == Family::Qakbot && x.actionable())
        .filter_map(|x| finding_user(f, x))
        .collect();
    let qak_any = out
        .iter()
        .any(|x| x.family == Family::Qakbot && x.actionable());
    for l in &f.launches {
        let Source::Process(p) = l.source else {
            continue;
        };
        if out.iter().any(|x| x.artifact == l.artifact) {
            continue;
        }
        // 1. Runs a flagged file.
        let mut hit: Option<&Finding> = None;
        let mut keys: Vec<String> = l
            .parsed
            .payloads
            .iter()
            .map(|x| paths::key(&x.path))
            .collect();
        keys.push(paths::key(&p.image));
        for fd in out.iter().filter(|x| x.actionable()) {
            if fd
                .target_files
                .iter()
                .any(|t| keys.contains(&paths::key(t)))
            {
                hit = Some(fd);
                break;
            }
        }
        if let Some(fd) = hit {
            // It runs what the finding is about: the finding's evidence,
            // and a launch of a payload when that one is confirmed.
            let grounds = fd
                .grounds()
                .clone()
                .with_if(fd.confidence == Confidence::High, E::PayloadLaunch);
            add.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                fd.family,
                "LINK-PROCESS-RUNS-TARGET",
                grounds,
                vec![format!(
                    "process {} ({}) runs {} flagged by {} on {}",
                    p.pid,
                    p.command_line,
                    fd.target_files.join(", "),
                    fd.rule_id,
                    fd.artifact.describe()
                )],
                fd.target_files.clone(),
            ));
            continue;
        }
        // 2. Injected signed processes.
        let name = paths::file_name(&p.image).to_ascii_lowercase();
        if !INJECT_TARGETS.contains(&name.as_str()) {
            continue;
        }
        let parent = f
            .snap
            .processes
            .iter()
            .find(|q| q.pid == p.parent_pid && p.parent_pid != 0);
        let parent_name = parent
            .map(|q| paths::file_name(&q.image).to_ascii_lowercase())
            .unwrap_or_default();
        let user_q = l.user.as_ref().map(|u| u.name.to_ascii_lowercase());
        let qak_here = user_q.as_ref().is_some_and(|u| qak_users.contains(u)) || qak_any;
        if parent_name == "rundll32.exe" || parent_name == "regsvr32.exe" {
            let q = parent.expect("parent exists");
            let parent_launch = f
                .launches
                .iter()
                .find(|x| matches!(x.source, Source::Process(pp) if pp.pid == q.pid));
            let parent_targets: Vec<String> = parent_launch
                .map(|x| {
                    x.parsed
                        .payloads
                        .iter()
                        .map(|y| f.long_path(&y.path))
                        .collect()
                })
                .unwrap_or_default();
            let parent_family = out
                .iter()
                .filter(|x| {
                    x.actionable()
                        && x.target_files.iter().any(|t| {
                            parent_targets
                                .iter()
                                .any(|pt| paths::key(pt) == paths::key(t))
                        })
                })
                .map(|x| x.family)
                .find(|fam| *fam != Family::UnknownLoaderLike);
            let (family, rule) = match parent_family {
                Some(Family::TrickBot) => (Family::TrickBot, "TRK-INJECTED-PROCESS"),
                Some(Family::Qakbot) => (Family::Qakbot, "QAK-INJECTED-PROCESS"),
                Some(other) => (other, "LINK-INJECTED-PROCESS"),
                None if (name == "wermgr.exe" || name == "svchost.exe")
                    && parent_name == "rundll32.exe"
                    && !qak_here =>
                {
                    (Family::TrickBot, "TRK-WERMGR-CHILD-OF-RUNDLL32")
                }
                None if parent_name == "regsvr32.exe" || qak_here || name != "wermgr.exe" => {
                    (Family::Qakbot, "QAK-INJECTED-PROCESS")
                }
                None => (Family::TrickBot, "TRK-WERMGR-CHILD-OF-RUNDLL32"),
            };
            let reasons = vec![format!(
                "{} (pid {}) is a signed Windows process started by {} (pid {}: {}): loaders inject into such a child ({}); end this pid, not every {name}",
                p.image,
                p.pid,
                parent_name,
                q.pid,
                q.command_line,
                if family == Family::TrickBot {
                    "TrickBot uses wermgr.exe/svchost.exe"
                } else {
                    "Qakbot uses explorer, mobsync, msra, OneDriveSetup, iexplore, wermgr"
                }
            )];
            // A signed Windows child of rundll32/regsvr32: the injection
            // target (injected code), started by a system launcher.
            add.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                family,
                rule,
                Grounds::of(&[E::InjectedCode, E::LaunchShape]),
                reasons,
                parent_targets.clone(),
            ));
            let parent_art = ArtifactRef::Process {
                pid: q.pid,
                image: q.image.clone(),
            };
            if !out
                .iter()
                .any(|x| x.artifact == parent_art && x.family == family)
            {
                add.push(Finding::new(
                    &f.host,
                    parent_art,
                    family,
                    "LINK-PARENT-OF-INJECTED",
                    Grounds::of(&[E::InjectedCode, E::LaunchShape]),
                    vec![format!(
                        "{} (pid {}) started {} (pid {}), the {} injection pattern; it loads {}",
                        q.image,
                        q.pid,
                        p.image,
                        p.pid,
                        family.name(),
                        parent_targets.join(", ")
                    )],
                    parent_targets,
                ));
            }
            continue;
        }
        // Qakbot is 32-bit: it hollows the SysWOW64 copy, which a user
        // starting the tool from the shell on 64-bit Windows never gets.
        let wow64_image = paths::normalize(&p.image)
            .to_ascii_lowercase()
            .contains("\\syswow64\\");
        let wow_explorer = name == "explorer.exe" && wow64_image;
        let no_args = l.parsed.args.is_empty();
        let odd_parent = parent.is_none()
            || ![
                "svchost.exe",
                "services.exe",
                "explorer.exe",
                "userinit.exe",
                "winlogon.exe",
            ]
            .contains(&parent_name.as_str());
        if wow_explorer && qak_here {
            add.push(Finding::new(&f.host, l.artifact.clone(), Family::Qakbot, "QAK-INJECTED-PROCESS", Grounds::of(&[E::InjectedCode, E::LaunchShape]), vec![format!(
                "{} (pid {}) is the 32-bit explorer, not the shell; Qakbot starts it to inject into, and this host shows Qakbot persistence", p.image, p.pid)], vec![]));
        } else if ["msra.exe", "mobsync.exe", "wermgr.exe", "onedrivesetup.exe"]
            .contains(&name.as_str())
            && no_args
            && (odd_parent || wow64_image)
            && qak_here
        {
            add.push(Finding::new(&f.host, l.artifact.clone(), Family::Qakbot, "QAK-INJECTED-PROCESS", Grounds::of(&[E::InjectedCode, E::LaunchShape]), vec![format!(
                "{} (pid {}) runs without arguments under {}{} on a host with Qakbot persistence: the hollowed process Qakbot lives in (end the process; the signed file is Windows')",
                p.image, p.pid, if parent.is_none() { "no living parent".to_string() } else { parent_name.clone() },
                if wow64_image { ", a 32-bit copy as Qakbot's hollowing uses" } else { "" })], vec![]));
        } else if wow_explorer && odd_parent {
            add.push(Finding::new(&f.host, l.artifact.clone(), Family::UnknownLoaderLike, "GEN-WOW64-EXPLORER", Grounds::of(&[E::InjectedCode]).at_most(Confidence::Low), vec![format!(
                "{} (pid {}) is a 32-bit explorer.exe not started by the shell; loaders start it to inject into", p.image, p.pid)], vec![]));
        }
    }
    out.extend(add);
}

/// A process that launches a confirmed payload: its image, or a file its
/// command line loads, is a target of a High finding about something other
/// than a process (the autostart that starts it, the file itself). That is
/// the strong line "launches a known payload" - what lets the signed
/// program guard ([`super::signed`]) end a rundll32 running a confirmed
/// DLL. Only a finding on another artifact confirms: a process never
/// confirms itself. Returns whether any finding gained the line (the
/// caller repeats its passes until nothing changes: a payload confirmed by
/// a later tie confirms its process then).
pub(crate) fn confirmed_launches(f: &Facts, out: &mut [Finding]) -> bool {
    // (file key, why it is confirmed) of every High non-process finding.
    let mut confirmed: Vec<(String, String)> = Vec::new();
    for fd in out.iter().filter(|x| {
        x.actionable()
            && x.confidence == Confidence::High
            && !matches!(x.artifact, ArtifactRef::Process { .. })
    }) {
        let mut files = fd.target_files.clone();
        if let ArtifactRef::File { path } = &fd.artifact {
            files.push(path.clone());
        }
        for t in files {
            let key = paths::key(&f.long_path(&t));
            if !confirmed.iter().any(|(k, _)| *k == key) {
                confirmed.push((key, format!("{} on {}", fd.rule_id, fd.artifact.describe())));
            }
        }
    }
    let mut changed = false;
    for fd in out.iter_mut() {
        let ArtifactRef::Process { pid, .. } = fd.artifact else {
            continue;
        };
        if !fd.actionable() || fd.grounds().has(E::PayloadLaunch) {
            continue;
        }
        let Some(l) = f
            .launches
            .iter()
            .find(|l| matches!(l.source, Source::Process(p) if p.pid == pid))
        else {
            continue;
        };
        let Source::Process(p) = l.source else {
            continue;
        };
        let mut runs: Vec<String> = l.parsed.payloads.iter().map(|x| x.path.clone()).collect();
        runs.push(p.image.clone());
        let hit = runs.iter().find_map(|r| {
            let key = paths::key(&f.long_path(r));
            confirmed
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, why)| (paths::normalize(&f.long_path(r)), why.clone()))
        });
        if let Some((file, why)) = hit {
            fd.tie(E::PayloadLaunch);
            fd.reasons.push(format!(
                "process {pid} launches {file}, a confirmed (high) payload ({why})"
            ));
            changed = true;
        }
    }
    changed
}

/// The user a finding belongs to (profile folder name, lower-case).
fn finding_user(f: &Facts, x: &Finding) -> Option<String> {
    for t in &x.target_files {
        if let Some(u) = f.place(t).user {
            return Some(u.to_ascii_lowercase());
        }
    }
    let path = match &x.artifact {
        ArtifactRef::File { path }
        | ArtifactRef::Folder { path }
        | ArtifactRef::StartupItem { path } => Some(path.clone()),
        ArtifactRef::RegistryValue { hive, key, value }
            if key.to_ascii_lowercase().contains("exclusions") =>
        {
            let _ = hive;
            Some(value.clone())
        }
        _ => None,
    };
    if let Some(p) = path
        && let Some(u) = f.place(&p).user
    {
        return Some(u.to_ascii_lowercase());
    }
    let hive = match &x.artifact {
        ArtifactRef::RegistryAutorun { hive, .. }
        | ArtifactRef::RegistryValue { hive, .. }
        | ArtifactRef::RegistryKey { hive, .. } => Some(hive),
        _ => None,
    }?;
    f.user_by_sid(hive)
        .map(|u| paths::file_name(&u.profile_path).to_ascii_lowercase())
}

/// Fill `related`: findings that share a target, a finding whose file or
/// folder another one starts, and Qakbot pieces of the same user (folder,
/// exclusion, config key, injected process).
pub(crate) fn relate(f: &Facts, out: &mut [Finding]) {
    let n = out.len();
    let keys: Vec<BTreeSet<String>> = out
        .iter()
        .map(|x| {
            let mut s: BTreeSet<String> = x.target_files.iter().map(|t| paths::key(t)).collect();
            match &x.artifact {
                ArtifactRef::File { path } | ArtifactRef::Folder { path } => {
                    s.insert(paths::key(path));
                }
                ArtifactRef::RegistryValue { key, value, .. }
                    if key.to_ascii_lowercase().contains("exclusions\\paths") =>
                {
                    s.insert(paths::key(value));
                }
                _ => {}
            }
            s
        })
        .collect();
    let parents: Vec<BTreeSet<String>> = keys
        .iter()
        .map(|s| s.iter().map(|k| paths::parent(k).to_string()).collect())
        .collect();
    let users: Vec<Option<String>> = out.iter().map(|x| finding_user(f, x)).collect();
    let mut rel: Vec<Vec<ArtifactRef>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i == j || out[i].artifact == out[j].artifact {
                continue;
            }
            let share = !keys[i].is_disjoint(&keys[j])
                || !keys[i].is_disjoint(&parents[j])
                || !keys[j].is_disjoint(&parents[i]);
            let qak = out[i].family == Family::Qakbot
                && out[j].family == Family::Qakbot
                && users[i].is_some()
                && users[i] == users[j];
            if (share || qak) && !rel[i].contains(&out[j].artifact) {
                rel[i].push(out[j].artifact.clone());
            }
        }
    }
    for (x, r) in out.iter_mut().zip(rel) {
        x.related = r;
    }
}
