//! Collection, pass one, on the lab host: what `Invoke-CzCollect` in
//! `runtime.ps1` gathers, in the same order and with the same bounds.

use super::Run;
use super::hives::{self, ProfileInfo, data_text};
use super::iso::iso;
use crate::lab::world::paths;
use crate::lab::world::registry::RegData;
use crate::lab::world::services::{ServiceState, StartType};
use crate::lab::world::startup::read_lnk;
use crate::lab::world::tasks::{Trigger, iso_duration};
use crate::lab::world::wmi::Consumer;
use crate::runtime::ops::Bounds;

/// Class keys whose shell command a protocol, a file type or an
/// auto-elevating binary runs (fodhelper and computerdefaults:
/// `ms-settings`; eventvwr: `mscfile`; sdclt: `exefile`, `Folder`), as
/// `$script:czClassKeys` in `runtime.ps1`.
pub const CLASS_KEYS: [&str; 5] = [
    "ms-settings",
    "mscfile",
    "exefile",
    "Folder",
    "Launcher.SystemSettings",
];
/// Classes of a user hive; `HKLM_CLASSES` of the machine.
const USER_CLASSES: &str = r"Software\Classes";
const HKLM_CLASSES: &str = r"SOFTWARE\Classes";

/// The service accounts whose hives are always loaded (SYSTEM,
/// LocalService, NetworkService): their Run keys are read too.
pub const SERVICE_SIDS: [&str; 3] = ["S-1-5-18", "S-1-5-19", "S-1-5-20"];

/// Registry data as reported in `reg` residue records: binary data cut to
/// the bound (reported), and whether the text is cut.
fn residue_text(
    run: &mut Run<'_>,
    d: &RegData,
    what: &str,
    b: &Bounds,
) -> (String, &'static str, bool) {
    match d {
        RegData::Binary(bytes) if bytes.len() > b.max_binary_bytes as usize => {
            run.trunc(
                &format!("data of {what}"),
                &format!("{} bytes", b.max_binary_bytes),
            );
            (
                crate::runtime::ops::hex(&bytes[..b.max_binary_bytes as usize]),
                "REG_BINARY",
                true,
            )
        }
        _ => {
            let (text, t) = data_text(d);
            let cut = text.len() > run.max_field_bytes;
            (text, t, cut)
        }
    }
}

/// Values of a key (name, data), at most the bound (the cut reported).
fn values(run: &mut Run<'_>, path: &str, label: &str, b: &Bounds) -> Vec<(String, RegData)> {
    let Ok(vals) = run.host.registry.values(path) else {
        return Vec::new();
    };
    let max = b.max_values_per_key as usize;
    let out: Vec<(String, RegData)> = vals
        .iter()
        .take(max)
        .map(|v| (v.name.as_str().to_string(), v.data.clone()))
        .collect();
    if vals.len() > max {
        let what = format!("values under {label}");
        run.trunc(&what, &format!("{max} values"));
    }
    out
}

fn subkeys(run: &Run<'_>, path: &str) -> Vec<String> {
    run.host.registry.subkeys(path).unwrap_or_default()
}

/// Every value of a key as an autorun record.
fn autorun_values(
    run: &mut Run<'_>,
    root: &str,
    hive: &str,
    user_sid: &str,
    rel: &str,
    only: &[&str],
    b: &Bounds,
) {
    let label = format!(r"{hive}\{rel}");
    for (name, data) in values(run, &format!(r"{root}\{rel}"), &label, b) {
        if !only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            continue;
        }
        let (text, t) = data_text(&data);
        let sha = hives::data_sha256(&data);
        let cut = if text.len() > run.max_field_bytes { "1" } else { "0" };
        run.record(
            "autorun",
            &[
                ("kind", "registry"),
                ("hive", hive),
                ("key", rel),
                ("value", &name),
                ("user_sid", user_sid),
                ("command", &text),
                ("value_type", t),
                ("data_sha256", &sha),
                ("data_cut", cut),
            ],
        );
    }
}

/// The Run family, Winlogon, IFEO, AppInit of one hive root.
fn hive_autoruns(run: &mut Run<'_>, root: &str, hive: &str, user_sid: &str, b: &Bounds) {
    for rel in paths::run_key_family() {
        autorun_values(run, root, hive, user_sid, rel, &[], b);
    }
    if user_sid.is_empty() {
        autorun_values(
            run,
            root,
            hive,
            "",
            paths::WINLOGON,
            &["Shell", "Userinit"],
            b,
        );
        for n in subkeys(run, &format!(r"{root}\{}", paths::WINLOGON_NOTIFY)) {
            let rel = format!(r"{}\{n}", paths::WINLOGON_NOTIFY);
            autorun_values(run, root, hive, "", &rel, &["DLLName"], b);
        }
        for n in subkeys(run, &format!(r"{root}\{}", paths::IFEO)) {
            let rel = format!(r"{}\{n}", paths::IFEO);
            autorun_values(run, root, hive, "", &rel, &["Debugger"], b);
        }
        for rel in [paths::APPINIT, paths::APPINIT_WOW64] {
            autorun_values(run, root, hive, "", rel, &["AppInit_DLLs"], b);
        }
    } else {
        autorun_values(
            run,
            root,
            hive,
            user_sid,
            paths::WINLOGON_USER,
            &["Shell"],
            b,
        );
    }
}

/// Every value of a key as a `reg` residue record (binary data cut to
/// the bound); with `binary_only`, REG_BINARY values only.
fn residue_values(
    run: &mut Run<'_>,
    root: &str,
    hive: &str,
    rel: &str,
    binary_only: bool,
    b: &Bounds,
) {
    residue_values_as(run, root, hive, rel, rel, binary_only, b);
}

/// The values of `root\rel`, reported as the key `shown`.
fn residue_values_as(
    run: &mut Run<'_>,
    root: &str,
    hive: &str,
    rel: &str,
    shown: &str,
    binary_only: bool,
    b: &Bounds,
) {
    let label = format!(r"{hive}\{shown}");
    for (name, data) in values(run, &format!(r"{root}\{rel}"), &label, b) {
        if binary_only && !matches!(data, RegData::Binary(_)) {
            continue;
        }
        let (text, t, cut) = residue_text(run, &data, &label, b);
        let sha = hives::data_sha256(&data);
        run.record(
            "reg",
            &[
                ("hive", hive),
                ("key", shown),
                ("value", &name),
                ("value_type", t),
                ("data", &text),
                ("data_sha256", &sha),
                ("data_cut", if cut { "1" } else { "0" }),
            ],
        );
    }
}

/// Class keys whose shell command Windows runs for a protocol, a file
/// type or an auto-elevating binary (`Write-CzClassCommands`): the fixed
/// names, then every `AppX*` key, their `open` and `runas` commands.
/// `root` is the hive (or a classes hive on its own) and `classes` where
/// the classes are under it (`""` for a UsrClass.dat mounted on its own);
/// records name keys under `shown`.
fn class_commands(run: &mut Run<'_>, root: &str, hive: &str, classes: &str, shown: &str, b: &Bounds) {
    let under = |tail: &str| if classes.is_empty() { tail.to_string() } else { format!(r"{classes}\{tail}") };
    let mut names: Vec<String> = CLASS_KEYS.iter().map(|s| s.to_string()).collect();
    let listed = if classes.is_empty() { root.to_string() } else { format!(r"{root}\{classes}") };
    names.extend(
        subkeys(run, &listed)
            .into_iter()
            .filter(|n| n.len() >= 4 && n[..4].eq_ignore_ascii_case("appx")),
    );
    let max = b.max_items as usize;
    if names.len() > max {
        run.trunc(
            &format!(r"class keys under {hive}\{shown}"),
            &format!("{max} keys"),
        );
        names.truncate(max);
    }
    for n in &names {
        for verb in ["open", "runas"] {
            let tail = format!(r"{n}\shell\{verb}\command");
            residue_values_as(run, root, hive, &under(&tail), &format!(r"{shown}\{tail}"), false, b);
        }
    }
}

/// The classes of a user who is not logged on: their UsrClass.dat loaded
/// on its own (and always unloaded), as `Write-CzOfflineClasses`.
fn offline_classes(run: &mut Run<'_>, p: &ProfileInfo, b: &Bounds) {
    let what = format!("classes of {} ({}, UsrClass.dat)", p.name, p.sid);
    match hives::mount_classes(run.host, p) {
        Ok(m) => {
            class_commands(run, &m.root, &p.sid, "", USER_CLASSES, b);
            if let Err(e) = hives::unmount(run.host, m) {
                run.trunc(&format!("{what}: {e}"), "hive left loaded");
            }
        }
        Err(e) => run.trunc(&format!("{what} not read: {e}"), "hive not loadable"),
    }
}

/// Residue of one user hive: binary values directly under
/// `Software\Microsoft\<key>`, and the values of `...\Explorer`.
fn user_residue(run: &mut Run<'_>, root: &str, sid: &str, b: &Bounds) {
    for sub in subkeys(run, &format!(r"{root}\Software\Microsoft")) {
        residue_values(
            run,
            root,
            sid,
            &format!(r"Software\Microsoft\{sub}"),
            true,
            b,
        );
    }
    residue_values(run, root, sid, paths::EXPLORER_USER, false, b);
}

fn startup_folder(run: &mut Run<'_>, dir: &str, user_sid: &str, b: &Bounds) {
    let entries: Vec<(String, bool)> = match run.host.files.list(dir) {
        Ok(list) => list
            .iter()
            .map(|(p, e)| (p.to_string(), e.is_dir()))
            .collect(),
        Err(_) => return,
    };
    let max = b.max_listing as usize;
    if entries.len() > max {
        run.trunc(&format!("startup folder {dir}"), &format!("{max} entries"));
    }
    for (path, is_dir) in entries.into_iter().take(max) {
        if is_dir {
            continue;
        }
        let (command, t) = match read_lnk(&run.host.files, &path) {
            Some(l) => {
                let target = if l.target.contains(' ') {
                    format!("\"{}\"", l.target)
                } else {
                    l.target.clone()
                };
                let cmd = if l.arguments.is_empty() {
                    target
                } else {
                    format!("{target} {}", l.arguments)
                };
                (cmd, "LNK")
            }
            None => (path.clone(), "FILE"),
        };
        run.record(
            "autorun",
            &[
                ("kind", "startup"),
                ("path", &path),
                ("user_sid", user_sid),
                ("command", &command),
                ("value_type", t),
            ],
        );
    }
}

fn start_type(s: StartType) -> &'static str {
    match s {
        StartType::Boot => "boot",
        StartType::System => "system",
        StartType::Auto => "auto",
        StartType::Demand => "demand",
        StartType::Disabled => "disabled",
    }
}

fn trigger(t: &Trigger) -> String {
    let (name, rep) = match t {
        Trigger::Logon { repetition, .. } => ("logon", repetition),
        Trigger::Boot { repetition } => ("boot", repetition),
        Trigger::Time { repetition, .. } => ("once", repetition),
        Trigger::Daily { repetition, .. } => ("daily", repetition),
    };
    match rep {
        Some(r) => format!("{name} repeat {}", iso_duration(r.interval_secs)),
        None => name.to_string(),
    }
}

fn users(run: &mut Run<'_>, b: &Bounds) -> Vec<ProfileInfo> {
    let list = hives::profiles(run.host);
    for p in &list {
        let base = &p.profile_path;
        run.record(
            "user",
            &[
                ("name", &p.name),
                ("sid", &p.sid),
                ("profile_path", base),
                ("appdata", &format!(r"{base}\AppData\Roaming")),
                ("local_appdata", &format!(r"{base}\AppData\Local")),
                ("temp", &format!(r"{base}\AppData\Local\Temp")),
                ("logged_on", if p.logged_on { "1" } else { "0" }),
            ],
        );
    }
    let _ = b;
    list
}

fn tasks(run: &mut Run<'_>) {
    let tasks: Vec<_> = run.host.tasks.iter().cloned().collect();
    for t in tasks {
        let path = t.path();
        let mut f: Vec<(&str, String)> = vec![
            ("path", path),
            ("author", t.author.clone()),
            ("principal", t.principal.user_id.clone()),
            ("enabled", if t.enabled { "1" } else { "0" }.into()),
            ("hidden", if t.hidden { "1" } else { "0" }.into()),
        ];
        f.extend(t.triggers.iter().map(|x| ("trigger", trigger(x))));
        for a in &t.actions {
            f.push(("action_path", a.path.clone()));
            f.push(("action_arguments", a.arguments.clone()));
            f.push((
                "action_working_directory",
                a.working_dir.clone().unwrap_or_default(),
            ));
        }
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run.record("task", &refs);
    }
}

fn wmi(run: &mut Run<'_>) {
    let w = run.host.wmi.clone();
    let action = |c: &Consumer| match c {
        Consumer::CommandLine {
            command_line_template,
            executable_path,
            ..
        } => {
            if command_line_template.is_empty() {
                executable_path.clone().unwrap_or_default()
            } else {
                command_line_template.clone()
            }
        }
        Consumer::ActiveScript { script_text, .. } => script_text.clone(),
    };
    let mut bound = Vec::new();
    for b in &w.bindings {
        let f = w
            .filters
            .iter()
            .find(|f| f.rel_path().eq_ignore_ascii_case(&b.filter));
        let c = w
            .consumers
            .iter()
            .find(|c| c.rel_path().eq_ignore_ascii_case(&b.consumer));
        if let Some(c) = c {
            bound.push(c.rel_path());
        }
        let fname = f
            .map(|f| f.name.clone())
            .unwrap_or_else(|| rel_name(&b.filter));
        let cname = c
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| rel_name(&b.consumer));
        let ctype = c
            .map(|c| c.class().to_string())
            .unwrap_or_else(|| b.consumer.split('.').next().unwrap_or("").to_string());
        run.record(
            "wmi",
            &[
                ("filter_name", &fname),
                ("query", &f.map(|f| f.query.clone()).unwrap_or_default()),
                ("consumer_name", &cname),
                ("consumer_type", &ctype),
                ("action", &c.map(action).unwrap_or_default()),
            ],
        );
    }
    for c in w
        .consumers
        .iter()
        .filter(|c| !bound.iter().any(|b| b.eq_ignore_ascii_case(&c.rel_path())))
    {
        run.record(
            "wmi",
            &[
                ("filter_name", ""),
                ("query", ""),
                ("consumer_name", c.name()),
                ("consumer_type", c.class()),
                ("action", &action(c)),
            ],
        );
    }
}

/// `Name="x"` of a WMI relative path, unescaped.
pub fn rel_name(rel: &str) -> String {
    let Some(i) = rel.find("Name=\"") else {
        return String::new();
    };
    let inner = &rel[i + 6..];
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// Collection, pass one.
pub fn collect(run: &mut Run<'_>, b: &Bounds) {
    let serial = run.host.volume_serial.to_string();
    let (name, caption, build, ps, now) = (
        run.host.name.clone(),
        run.host.os.caption.clone(),
        run.host.os.build.to_string(),
        run.host.os.ps_version.clone(),
        iso(run.now),
    );
    run.record(
        "host",
        &[
            ("computer_name", &name),
            ("os_caption", &caption),
            ("os_build", &build),
            ("ps_version", &ps),
            ("collected_at", &now),
            ("volume_serial", &serial),
        ],
    );
    let profiles = users(run, b);
    hive_autoruns(run, "HKLM", "HKLM", "", b);
    for p in &profiles {
        match hives::mount(run.host, p) {
            Ok(m) => {
                hive_autoruns(run, &m.root, &p.sid, &p.sid, b);
                if p.logged_on {
                    class_commands(run, &m.root, &p.sid, USER_CLASSES, USER_CLASSES, b);
                }
                user_residue(run, &m.root, &p.sid, b);
                if let Err(e) = hives::unmount(run.host, m) {
                    run.trunc(
                        &format!("user hive of {} ({}): {e}", p.name, p.sid),
                        "hive left loaded",
                    );
                }
            }
            Err(e) => run.trunc(
                &format!("user hive of {} ({}) not read: {e}", p.name, p.sid),
                "hive not loadable",
            ),
        }
        // A user who is not logged on: their classes from UsrClass.dat.
        if !p.logged_on {
            offline_classes(run, p, b);
        }
    }
    for sid in SERVICE_SIDS {
        let root = format!(r"HKU\{sid}");
        if run.host.registry.key_exists(&root) {
            hive_autoruns(run, &root, sid, sid, b);
            class_commands(run, &root, sid, USER_CLASSES, USER_CLASSES, b);
        }
    }
    class_commands(run, "HKLM", "HKLM", HKLM_CLASSES, HKLM_CLASSES, b);
    for p in &profiles {
        let dir = format!(
            r"{}\AppData\Roaming\{}",
            p.profile_path,
            paths::USER_STARTUP_UNDER_APPDATA
        );
        startup_folder(run, &dir, &p.sid, b);
    }
    startup_folder(run, paths::COMMON_STARTUP, "", b);
    let services: Vec<_> = run.host.services.iter().cloned().collect();
    for s in services {
        let state = if s.state == ServiceState::Running {
            "running"
        } else {
            "stopped"
        };
        run.record(
            "service",
            &[
                ("name", &s.name),
                ("display_name", &s.display_name),
                ("image_path", &s.image_path),
                ("start_type", start_type(s.start)),
                ("state", state),
                ("account", &s.account),
                ("service_dll", crate::lab::world::services::service_dll(&run.host.registry, &s.name).as_deref().unwrap_or("")),
            ],
        );
    }
    tasks(run);
    wmi(run);
    let procs: Vec<_> = run.host.processes.iter().cloned().collect();
    for p in procs {
        run.record(
            "process",
            &[
                ("pid", &p.pid.to_string()),
                ("parent_pid", &p.ppid.to_string()),
                ("image", &p.image),
                ("command_line", &p.command_line),
                ("user", &p.user),
                ("started", &iso(p.start_time)),
            ],
        );
    }
    for rel in [
        paths::DEFENDER_EXCLUSION_PATHS,
        paths::DEFENDER_EXCLUSION_PROCESSES,
    ] {
        residue_values(run, "HKLM", "HKLM", rel, false, b);
    }
    system32(run, b);
}

fn system32(run: &mut Run<'_>, b: &Bounds) {
    let mut names: Vec<String> = match run.host.files.list(paths::SYSTEM32) {
        Ok(l) => l
            .iter()
            .filter(|(_, e)| !e.is_dir())
            .filter_map(|(p, _)| {
                let n = p.rsplit('\\').next()?.to_lowercase();
                let stem = n.strip_suffix(".exe").or_else(|| n.strip_suffix(".dll"))?;
                Some(stem.to_string())
            })
            .collect(),
        Err(_) => return,
    };
    let max = b.max_items as usize;
    if names.len() > max {
        names.truncate(max);
        run.trunc(r"names in C:\Windows\System32", &format!("{max} names"));
    }
    let f: Vec<(&str, &str)> = names.iter().map(|n| ("name", n.as_str())).collect();
    run.record("sys32", &f);
}
