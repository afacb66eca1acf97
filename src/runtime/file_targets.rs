//! Which files to ask a host about after the first pass of collection.
//!
//! Collection is two passes in one WinRM shell. Pass one brings the raw
//! autostarts, tasks, services, WMI consumers and processes; here, on the
//! Rust side, every command among them is parsed with
//! [`crate::detect::command_line`] (variables expanded for the user the
//! command belongs to, launchers such as rundll32 seen through to their
//! DLL), and pass two asks for facts of each program and payload, their
//! WOW64 twins, and listings of the folders they sit in. Also asked: the
//! ServiceDll of each service, the commands of class-key hijacks
//! (`...\shell\open\command`), the paths Defender is told to exclude,
//! and, for a payload in a user's `%LOCALAPPDATA%` or `%APPDATA%` folder
//! `X`, whether `Program Files` (both) and `%APPDATA%` hold a folder `X`
//! too (EmoCheck's cue that the folder is a product's). The runtime
//! stays thin: no command-line judgement is written twice (in Rust and in
//! PowerShell 2.0), and the parser is the tested one. The price is one
//! more command on the open shell.

use std::collections::BTreeSet;

use crate::detect::command_line::{self, Env, ParseCtx, Parsed};
use crate::detect::commands::{self, Origin};
use crate::detect::link::wow64_variants;
use crate::detect::names;
use crate::detect::paths::{self, Area};

use super::snapshot::{AutorunLocation, RegistryValue, Snapshot, UserProfile};

/// Paths to get facts for, and folders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTargets {
    pub paths: Vec<String>,
    pub list_dirs: Vec<String>,
}

struct Collector<'a> {
    snap: &'a Snapshot,
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
}

impl Collector<'_> {
    fn path(&mut self, p: &str, list_parent: bool) {
        let p = p.trim().trim_matches('"');
        if p.len() < 3 || p.as_bytes().get(1).is_none_or(|c| *c != b':') || p.contains("://") {
            return;
        }
        for v in wow64_variants(p) {
            if list_parent {
                let parent = paths::parent(&v);
                if parent.len() > 3 {
                    self.dirs.insert(parent.to_string());
                }
            }
            self.files.insert(v);
        }
    }

    fn parsed(&mut self, p: &Parsed) {
        self.path(&p.program, false);
        self.side_loads(&p.program);
        // What Windows runs instead when it exists (CreateProcess's
        // prefixes, rundll32's other reading).
        for a in &p.alternatives {
            self.path(a, false);
        }
        for pay in &p.payloads {
            self.path(&pay.path, true);
            self.side_loads(&pay.path);
            // Files the payload is given, in every form they can stand
            // for: their facts (hash included) whatever their extension.
            for d in &pay.data {
                for c in &d.candidates {
                    self.path(c, false);
                }
            }
        }
        if p.payloads.is_empty() {
            // The program is what runs: its folder matters too.
            let parent = paths::parent(&p.program).to_string();
            if !command_line::is_system_binary(&p.program) && parent.len() > 3 {
                self.dirs.insert(parent);
            }
        }
        for c in &p.children {
            self.parsed(c);
        }
    }

    /// A Windows program run from outside the system folders (Dridex's
    /// copied signed EXE): the DLLs documented as side-loaded beside such a
    /// copy are asked for by name, so a finding on them has facts to plan
    /// from (the folder's listing alone gives names, not hashes).
    fn side_loads(&mut self, program: &str) {
        let program = program.trim().trim_matches('"');
        let dir = paths::parent(program);
        if paths::is_directly_in_system(program) || dir.len() <= 3 {
            return;
        }
        let stem = paths::stem(program).to_ascii_lowercase();
        // Dridex's Run value names its copy by 8.3 short names
        // (`DEVICE~1.EXE` for DeviceEnroller.exe).
        let short = |n: &str| stem.contains('~') && paths::short_name_matches(&paths::file_name(program).to_ascii_uppercase(), &format!("{n}.exe"));
        let windows_program = names::DRIDEX_SIDELOAD_EXES.iter().any(|n| *n == stem || short(n))
            || self
                .snap
                .system32_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&stem));
        if windows_program && paths::extension(program) == "exe" {
            for dll in names::DRIDEX_SIDELOAD_DLLS {
                self.files.insert(format!("{dir}\\{dll}.dll"));
            }
        }
    }

    fn command(&mut self, cmd: &str, user: Option<&UserProfile>, cwd: Option<&str>) {
        let env = Env::for_user(user);
        let parsed = command_line::parse(
            cmd,
            &ParseCtx {
                cwd,
                ..ParseCtx::new(&env)
            },
        );
        self.parsed(&parsed);
    }
}

/// Is this residue value a class key's shell command?
fn is_class_command(r: &RegistryValue) -> bool {
    let k = r.key.to_ascii_lowercase();
    k.contains("\\classes\\") && k.ends_with("\\command") && !r.data.trim().is_empty()
}

/// Is this residue value a Defender exclusion (the path is its name)?
fn is_defender_exclusion(r: &RegistryValue) -> bool {
    let k = r.key.to_ascii_lowercase();
    k.ends_with("\\exclusions\\paths") || k.ends_with("\\exclusions\\processes")
}

/// For each file in a user's `%LOCALAPPDATA%\X\...` or `%APPDATA%\X\...`,
/// the places whose own folder `X` marks `X` as a product's.
fn product_twins(snap: &Snapshot, files: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let place = paths::classify(f, &snap.users);
        let Some(folder) = place.top_folder() else {
            continue;
        };
        if !matches!(place.area, Area::LocalAppData | Area::RoamingAppData) {
            continue;
        }
        out.insert(format!(r"C:\Program Files\{folder}"));
        out.insert(format!(r"C:\Program Files (x86)\{folder}"));
        if place.area == Area::LocalAppData
            && let Some(u) = place.user.as_deref().and_then(|n| {
                snap.users
                    .iter()
                    .find(|u| paths::file_name(&u.profile_path).eq_ignore_ascii_case(n))
            })
        {
            out.insert(format!(r"{}\{folder}", u.appdata));
        }
    }
    out
}

/// What pass two should ask about, for a first-pass snapshot.
pub fn file_targets(snap: &Snapshot) -> FileTargets {
    let mut c = Collector {
        snap,
        files: BTreeSet::new(),
        dirs: BTreeSet::new(),
    };
    for cmd in commands::commands(snap) {
        match cmd.origin {
            Origin::Autorun(a) => {
                if let AutorunLocation::StartupFolder { path } = &a.location {
                    c.path(path, true);
                }
            }
            Origin::Service(s) if !s.service_dll.trim().is_empty() => {
                let dll = Env::for_user(None).expand(s.service_dll.trim());
                let system =
                    command_line::is_system_binary(&dll) || paths::is_directly_in_system(&dll);
                c.path(&dll, !system);
            }
            Origin::Process(p) => c.path(&p.image, false),
            _ => {}
        }
        c.command(&cmd.text, cmd.user.as_ref(), cmd.cwd.as_deref());
    }
    for r in &snap.registry {
        if is_class_command(r) {
            let user = commands::user_by_sid(snap, &r.hive);
            c.command(&r.data, user.as_ref(), None);
        } else if is_defender_exclusion(r) {
            // A folder (listed when it is one) or a file.
            c.path(&r.value, true);
            let v = r.value.trim().trim_matches('"');
            if v.as_bytes().get(1) == Some(&b':') && v.len() > 3 {
                c.dirs.insert(paths::normalize(v));
            }
        }
    }
    let twins = product_twins(snap, &c.files);
    c.files.extend(twins);
    FileTargets {
        paths: c.files.into_iter().collect(),
        list_dirs: c.dirs.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::snapshot::{Autorun, Task, TaskAction};

    #[test]
    fn per_user_payloads_wow64_twins_and_folders() {
        let petr = UserProfile {
            name: "Пётр".into(),
            sid: "S-1-5-21-1-2-3-1104".into(),
            profile_path: r"C:\Users\Пётр".into(),
            appdata: r"C:\Users\Пётр\AppData\Roaming".into(),
            local_appdata: r"C:\Users\Пётр\AppData\Local".into(),
            temp: r"C:\Users\Пётр\AppData\Local\Temp".into(),
            logged_on: false,
        };
        let snap = Snapshot {
            users: vec![petr.clone()],
            autoruns: vec![Autorun {
                location: AutorunLocation::RegistryValue {
                    hive: petr.sid.clone(),
                    key: r"Software\Microsoft\Windows\CurrentVersion\Run".into(),
                    value: "x".into(),
                },
                user_sid: Some(petr.sid.clone()),
                command: r"C:\Windows\system32\rundll32.exe %LOCALAPPDATA%\Phx\wcg.ljk,RunDLL"
                    .into(),
                value_type: "REG_EXPAND_SZ".into(),
                data_sha256: String::new(),
                data_cut: false,
            }],
            tasks: vec![Task {
                path: r"\Upd".into(),
                actions: vec![TaskAction {
                    path: r"C:\Program Files\Some App\up.exe".into(),
                    arguments: "/q".into(),
                    working_directory: String::new().into(),
                }],
                triggers: vec![],
                author: String::new(),
                principal: "SYSTEM".into(),
                enabled: true,
                hidden: true,
            }],
            ..Snapshot::default()
        };
        let t = file_targets(&snap);
        let has = |p: &str| t.paths.iter().any(|x| x.eq_ignore_ascii_case(p));
        assert!(
            has(r"C:\Users\Пётр\AppData\Local\Phx\wcg.ljk"),
            "{:?}",
            t.paths
        );
        assert!(
            has(r"C:\Windows\System32\rundll32.exe") && has(r"C:\Windows\SysWOW64\rundll32.exe")
        );
        assert!(has(r"C:\Program Files\Some App\up.exe"));
        assert!(
            t.list_dirs
                .iter()
                .any(|d| d.eq_ignore_ascii_case(r"C:\Users\Пётр\AppData\Local\Phx"))
        );
    }
}

#[cfg(test)]
mod issue11_tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;

    #[test]
    fn data_files_in_every_form_and_the_programs_windows_may_run_instead() {
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            // IcedID as SYSTEM: license.dat relative to SYSTEM's %APPDATA%.
            .task(
                r"\{6D3A9F21-7C44-4E0B-9A51-2B8E3C7D1F60}",
                r"C:\Windows\SysWOW64\rundll32.exe",
                r#""C:\Windows\System32\config\systemprofile\AppData\Local\Ipvofa\rdxqmb.dll",update /i:"StoneRiver\license.dat""#,
                r"NT AUTHORITY\SYSTEM",
                &["logon"],
            )
            // An unquoted service path: Windows tries C:\Program.exe first.
            .service(
                "VendorSync",
                "Vendor Sync",
                r"C:\Program Files\Vendor Sync\vsync.exe -service",
                "LocalSystem",
            )
            // rundll32's other reading of an unquoted DLL with a blank.
            .run("bob", "x", r"rundll32.exe C:\Tools\a.dll Start x,y")
            .build();
        let t = file_targets(&s);
        let has = |p: &str| t.paths.iter().any(|x| x.eq_ignore_ascii_case(p));
        for view in ["System32", "SysWOW64"] {
            assert!(
                has(&format!(
                    r"C:\Windows\{view}\config\systemprofile\AppData\Roaming\StoneRiver\license.dat"
                )),
                "{view}: {:?}",
                t.paths
            );
        }
        assert!(has(r"C:\Program.exe"), "{:?}", t.paths);
        assert!(has(r"C:\Program Files\Vendor.exe"), "{:?}", t.paths);
        assert!(has(r"C:\Program Files\Vendor Sync\vsync.exe"));
        assert!(
            has(r"C:\Tools\a.dll") && has(r"C:\Tools\a.dll Start x"),
            "{:?}",
            t.paths
        );
    }

    #[test]
    fn a_copied_windows_program_named_by_short_names_has_its_side_loaded_dlls_asked_for() {
        // Dridex's Run value: the copy's 8.3 path (DRX-01).
        let dir = r"C:\Users\bob\AppData\Roaming\MICROS~1\INTERN~1\QUICKL~1\USERPI~1\TaskBar\8BZQKU~1";
        let s = SnapshotBuilder::new("WS1").user("bob").run("bob", "Fnszvpxso", &format!(r"{dir}\DEVICE~1.EXE")).build();
        let t = file_targets(&s);
        assert!(t.paths.iter().any(|p| p.eq_ignore_ascii_case(&format!(r"{dir}\XmlLite.dll"))), "{:?}", t.paths);
        // A short name that stands for no such program asks for nothing.
        let s = SnapshotBuilder::new("WS1").user("bob").run("bob", "Tool", &format!(r"{dir}\MYTOOL~1.EXE")).build();
        assert!(!file_targets(&s).paths.iter().any(|p| p.to_ascii_lowercase().ends_with("xmllite.dll")));
    }
}
