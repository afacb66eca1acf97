//! Placing a documented case on a simulated host: each fact of the case
//! becomes what Windows would hold: Run values in HKLM or in the right
//! user's hive (mounted for a logged-on user, the NTUSER.DAT of one who is
//! not), Startup `.lnk` shortcuts, scheduled tasks with their triggers
//! and actions, services (start type, state, ServiceDll), running processes (parents related as the case says, the DLL
//! a launcher loads mapped), files with size, hash, signer and times (a
//! timestomped DLL keeps the case's time), folders with the names the case
//! lists, Defender exclusions and other registry values, and the C: volume
//! serial. The first user of a case is logged on, the others are not.

use std::collections::HashMap;

use super::spec::{Case, TaskSpec};
use super::time::parse_time;
use crate::lab::world::files::{Attrs, Content, Entry, EntryKind, FileData, Signer, Times, VersionInfo, parent};
use crate::lab::world::launch;
use crate::lab::world::registry::{RegData, hklm};
use crate::lab::world::startup::{LnkTarget, place_lnk};
use crate::lab::world::tasks::{
    ExecAction, Principal, Repetition, Task, Trigger, parse_iso_duration,
};
use crate::lab::world::users::Profile;
use crate::lab::world::services::{ServiceKind, ServiceState, set_service_dll};
use crate::lab::world::{HostState, LabTime, Process, Service, StartType, UserSpec};

/// Default Run key, relative to the hive.
const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

/// The case's users as the lab creates them: domain accounts, the first
/// logged on, the others not (their hives stay offline NTUSER.DAT files).
pub fn users(case: &Case) -> Vec<UserSpec> {
    case.users()
        .iter()
        .enumerate()
        .map(|(i, u)| UserSpec::domain(u, i == 0))
        .collect()
}

/// Place everything the case describes on `h`, at lab time `now`.
pub fn place(case: &Case, h: &mut HostState, now: LabTime) -> Result<(), String> {
    let c = &case.host;
    if let Some(s) = c.serial {
        h.volume_serial = s;
    }
    for d in &c.dirs {
        h.files
            .create_dir_all(&d.path, now)
            .map_err(|e| format!("folder {}: {e}", d.path))?;
        for name in &d.listing {
            let p = format!(r"{}\{name}", d.path);
            if !c.files.iter().any(|f| f.path.eq_ignore_ascii_case(&p)) {
                plant(h, &case.id, &p, None, None, None, None, None, now)?;
            }
        }
    }
    for f in &c.files {
        plant(
            h,
            &case.id,
            &f.path,
            f.signer.as_deref(),
            f.size,
            f.sha256.as_deref(),
            f.modified.as_deref(),
            f.original_name.as_deref(),
            now,
        )?;
        if let Some(c) = &f.created {
            let t = parse_time(c)?;
            let e = h.files.get(&f.path).ok_or(format!("file {}", f.path))?;
            let times = Times { created: t, ..e.times };
            h.files
                .set_times(&f.path, times)
                .map_err(|e| format!("file {}: {e}", f.path))?;
        }
    }
    for r in &c.run {
        let key = r.key.as_deref().unwrap_or(RUN_KEY);
        let data = if r.command.contains('%') {
            RegData::expand_sz(r.command.clone())
        } else {
            RegData::sz(r.command.clone())
        };
        put(h, &r.hive, key, &r.value, data)?;
    }
    for r in &c.registry {
        put(h, &r.hive, &r.key, &r.value, reg_data(&r.ty, &r.data)?)?;
    }
    for s in &c.startup {
        let (target, args) = launch::split_command(&s.command, &h.files);
        let dir = parent(&s.path).ok_or_else(|| format!("startup item {}", s.path))?;
        let name = s.path.rsplit('\\').next().unwrap_or(&s.path);
        place_lnk(
            &mut h.files,
            dir,
            name,
            &LnkTarget::new(&target, &args),
            now,
        )
        .map_err(|e| format!("startup item {}: {e}", s.path))?;
    }
    for t in &c.tasks {
        let task = task(h, t, now)?;
        h.tasks
            .register(task, true)
            .map_err(|e| format!("task {}: {e}", t.path))?;
    }
    for s in &c.services {
        let start = start_type(s.start.as_deref())
            .map_err(|e| format!("service {}: {e}", s.name))?;
        let mut svc = Service::new(&s.name, &s.display, &s.image, start);
        svc.account = s.account.clone();
        if s.dll.is_some() {
            svc.kind = ServiceKind::ShareProcess;
        }
        // An automatic service runs; one started on demand or disabled is
        // stopped, as a clean host shows them.
        svc.state = if start <= StartType::Auto {
            ServiceState::Running
        } else {
            ServiceState::Stopped
        };
        h.services
            .create(svc, &mut h.registry)
            .map_err(|e| format!("service {}: {e}", s.name))?;
        if let Some(dll) = &s.dll {
            set_service_dll(&mut h.registry, &s.name, dll);
        }
    }
    processes(case, h, now)?;
    // Folder times last: planting a file in a folder touches it.
    for d in &c.dirs {
        if let Some(m) = &d.modified {
            let t = parse_time(m)?;
            let e = h.files.get(&d.path).ok_or(format!("folder {}", d.path))?;
            let times = Times {
                modified: t,
                ..e.times
            };
            h.files
                .set_times(&d.path, times)
                .map_err(|e| format!("folder {}: {e}", d.path))?;
        }
    }
    Ok(())
}

/// The start type a case's word names (`auto` when none).
fn start_type(word: Option<&str>) -> Result<StartType, String> {
    Ok(match word.unwrap_or("auto") {
        "boot" => StartType::Boot,
        "system" => StartType::System,
        "auto" => StartType::Auto,
        "demand" => StartType::Demand,
        "disabled" => StartType::Disabled,
        other => {
            return Err(format!(
                "start type {other} (boot, system, auto, demand or disabled)"
            ));
        }
    })
}

/// A file: unsigned 300,000 bytes unless the case says otherwise; a given
/// time is set as the timestomp sets it (created and written); a given
/// original name is its version resource's `OriginalFilename`.
#[allow(clippy::too_many_arguments)]
fn plant(
    h: &mut HostState,
    id: &str,
    path: &str,
    signer: Option<&str>,
    size: Option<u64>,
    sha256: Option<&str>,
    modified: Option<&str>,
    original_name: Option<&str>,
    now: LabTime,
) -> Result<(), String> {
    let size = size.unwrap_or(300_000);
    let content = match sha256 {
        Some(hex) => Content::Opaque {
            size,
            sha256: unhex(hex)?
                .try_into()
                .map_err(|_| format!("sha256 of {path} is not 32 bytes"))?,
        },
        None => Content::synthetic(&format!("{id}:{path}"), size),
    };
    let t = match modified {
        Some(m) => parse_time(m)?,
        None => now,
    };
    let entry = Entry {
        times: Times::all(t),
        attrs: Attrs::default(),
        kind: EntryKind::File(FileData {
            content,
            signer: signer.map(Signer::valid),
            version: original_name.map(|o| {
                std::sync::Arc::new(VersionInfo {
                    original_filename: o.into(),
                    ..VersionInfo::default()
                })
            }),
        }),
    };
    h.files
        .plant(path, entry, now)
        .map(|_| ())
        .map_err(|e| format!("file {path}: {e}"))
}

/// The SID of a case's hive word (`HKLM` gives None), or why not.
fn hive_sid(h: &HostState, hive: &str) -> Result<Option<String>, String> {
    if hive.eq_ignore_ascii_case("HKLM") {
        return Ok(None);
    }
    if hive.starts_with("S-1-") {
        return Ok(Some(hive.to_string()));
    }
    h.profile_by_name(hive)
        .map(|p| Some(p.sid.clone()))
        .ok_or_else(|| format!("no user {hive} on the host"))
}

/// Set a value: in HKLM, in a mounted user hive through `HKU`, or in the
/// NTUSER.DAT of a user who is not logged on.
fn put(h: &mut HostState, hive: &str, key: &str, value: &str, data: RegData) -> Result<(), String> {
    let name = if value == "(default)" { "" } else { value };
    let r = match hive_sid(h, hive)? {
        None => h.registry.put(&hklm(key), name, data),
        Some(sid) => match h.registry.mount_of(&sid).map(str::to_string) {
            Some(m) => h.registry.put(&format!(r"HKU\{m}\{key}"), name, data),
            None => {
                let hv = h
                    .registry
                    .user_hive_mut(&sid)
                    .ok_or_else(|| format!("no hive for {sid}"))?;
                hv.root.create(key).set(name, data);
                Ok(())
            }
        },
    };
    r.map_err(|e| format!(r"registry {hive}\{key}\{value}: {e}"))
}

fn reg_data(ty: &str, data: &str) -> Result<RegData, String> {
    let num = |s: &str| {
        let s = s.trim();
        match s.strip_prefix("0x") {
            Some(x) => u64::from_str_radix(x, 16),
            None => s.parse(),
        }
        .map_err(|e| format!("{ty} {s}: {e}"))
    };
    Ok(match ty {
        "REG_SZ" => RegData::sz(data),
        "REG_EXPAND_SZ" => RegData::expand_sz(data),
        "REG_MULTI_SZ" => RegData::MultiSz(data.split('\n').map(String::from).collect()),
        "REG_DWORD" => RegData::Dword(num(data)? as u32),
        "REG_QWORD" => RegData::Qword(num(data)?),
        "REG_BINARY" => RegData::Binary(unhex(data)?),
        other => return Err(format!("registry type {other}")),
    })
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd hex {s}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex {s}: {e}")))
        .collect()
}

/// The profile a case's account word names (SYSTEM and unknown words give
/// the SYSTEM profile).
fn account(h: &HostState, who: &str) -> Profile {
    let name = who.rsplit('\\').next().unwrap_or(who);
    h.profile_by_name(name)
        .cloned()
        .unwrap_or_else(Profile::system)
}

fn task(h: &HostState, t: &TaskSpec, now: LabTime) -> Result<Task, String> {
    let (folder, name) = match t.path.rfind('\\') {
        Some(0) | None => ("\\", t.path.trim_start_matches('\\')),
        Some(i) => (&t.path[..i], &t.path[i + 1..]),
    };
    let principal = if t.principal.to_ascii_lowercase().contains("system") {
        Principal::system()
    } else {
        let p = account(h, &t.principal);
        Principal::user(&if p.is_system() {
            t.principal.clone()
        } else {
            p.qualified()
        })
    };
    let mut task = Task::new(folder, name, principal).with_author(&t.author);
    let first = (t.exe.as_str(), t.args.as_str(), t.workdir.as_str());
    let more = t
        .more_actions
        .iter()
        .map(|a| (a.exe.as_str(), a.args.as_str(), a.workdir.as_str()));
    for (exe, args, workdir) in std::iter::once(first).chain(more) {
        let mut action = ExecAction::new(exe, args);
        action.working_dir = (!workdir.is_empty()).then(|| workdir.to_string());
        task = task.with_action(action);
    }
    task.hidden = t.hidden;
    task.registered = now;
    for word in &t.triggers {
        let (head, rest) = word.split_once(' ').unwrap_or((word, ""));
        let trigger = match head {
            "logon" => Trigger::Logon {
                user: None,
                repetition: None,
            },
            "boot" => Trigger::Boot { repetition: None },
            "daily" => Trigger::Daily {
                start: now,
                days_interval: 1,
                end: None,
                repetition: None,
            },
            // Weekly: what Task Scheduler's weekly trigger on one day
            // does, every seven days (the time of day is not modelled).
            "weekly" => Trigger::Daily {
                start: now,
                days_interval: 7,
                end: None,
                repetition: None,
            },
            "once" => Trigger::Time {
                start: if rest.is_empty() {
                    now
                } else {
                    parse_time(rest)?
                },
                end: None,
                repetition: None,
            },
            "repeat" => {
                let r = Repetition {
                    interval_secs: parse_iso_duration(rest)
                        .ok_or_else(|| format!("task {}: duration {rest}", t.path))?,
                    duration_secs: None,
                };
                // The repetition of the trigger before it; alone, what
                // `schtasks /SC MINUTE|HOURLY` makes: a time trigger.
                match task.triggers.last_mut() {
                    Some(
                        Trigger::Logon { repetition, .. }
                        | Trigger::Boot { repetition }
                        | Trigger::Time { repetition, .. }
                        | Trigger::Daily { repetition, .. },
                    ) if repetition.is_none() => {
                        *repetition = Some(r);
                        continue;
                    }
                    _ => Trigger::Time {
                        start: now,
                        end: None,
                        repetition: Some(r),
                    },
                }
            }
            other => return Err(format!("task {}: trigger {other}", t.path)),
        };
        task.triggers.push(trigger);
    }
    Ok(task)
}

/// Start the case's processes: a parent the case names is the process
/// started for it; any other parent is the user's shell (explorer.exe).
/// A launcher's DLL, when on disk, is mapped (and so locked).
fn processes(case: &Case, h: &mut HostState, now: LabTime) -> Result<(), String> {
    let mut pids: HashMap<u32, u32> = HashMap::new();
    let mut left: Vec<_> = case.host.processes.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        let mut later = Vec::new();
        for p in left {
            let in_case = case.host.processes.iter().any(|q| q.pid == p.ppid);
            if in_case && !pids.contains_key(&p.ppid) {
                later.push(p);
                continue;
            }
            let user = account(h, &p.user);
            let ppid = match pids.get(&p.ppid) {
                Some(&x) => x,
                None => h
                    .processes
                    .iter()
                    .find(|x| {
                        x.image_name().eq_ignore_ascii_case("explorer.exe")
                            && x.user_sid == user.sid
                    })
                    .map_or(4, |x| x.pid),
            };
            let session = h.session_of(&user.sid);
            let mut proc = Process::new(&p.image, &p.cmd, &user.qualified(), &user.sid)
                .with_parent(ppid)
                .with_session(session);
            let (img, args) = launch::split_command(&p.cmd, &h.files);
            if let Some(dll) =
                launch::launcher_dll(&img, &args).and_then(|d| launch::resolve_dll(&d, &h.files))
            {
                proc.load_module(&dll);
            }
            pids.insert(p.pid, h.processes.spawn(proc, now));
        }
        if later.len() == before {
            return Err(format!("{}: processes whose parents form a loop", case.id));
        }
        left = later;
    }
    Ok(())
}
