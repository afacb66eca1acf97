//! A small builder of [`Snapshot`]s for tests (detection's own, the
//! planner's, the lab's): users with their folders, Run values, tasks,
//! services, processes, files and registry values, with plausible
//! defaults.

use crate::runtime::snapshot::{
    Autorun, AutorunLocation, FileFacts, Process, RegistryValue, Service, Snapshot, Task,
    TaskAction, UserProfile,
};

pub const RUN_KEY: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Run";
pub const RUNONCE_KEY: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce";

/// A logged-on user's profile with the standard layout under `C:\Users`.
pub fn profile(name: &str, sid: &str) -> UserProfile {
    let root = format!("C:\\Users\\{name}");
    UserProfile {
        name: name.to_string(),
        sid: sid.to_string(),
        profile_path: root.clone(),
        appdata: format!("{root}\\AppData\\Roaming"),
        local_appdata: format!("{root}\\AppData\\Local"),
        temp: format!("{root}\\AppData\\Local\\Temp"),
        logged_on: true,
    }
}

/// Builds a [`Snapshot`].
#[derive(Debug, Clone, Default)]
pub struct SnapshotBuilder {
    snap: Snapshot,
}

impl SnapshotBuilder {
    pub fn new(host: &str) -> Self {
        SnapshotBuilder {
            snap: Snapshot {
                computer_name: host.to_string(),
                os_caption: "Microsoft Windows 10 Pro".into(),
                os_build: "19045".into(),
                ps_version: "5.1".into(),
                collected_at: "2024-01-01T00:00:00Z".into(),
                ..Snapshot::default()
            },
        }
    }

    /// Add a user with the standard profile layout under `C:\Users`.
    pub fn user(mut self, name: &str) -> Self {
        if self
            .snap
            .users
            .iter()
            .any(|u| u.name.eq_ignore_ascii_case(name))
        {
            return self;
        }
        let n = 1001 + self.snap.users.len();
        self.snap.users.push(profile(
            name,
            &format!("S-1-5-21-1004336348-1177238915-682003330-{n}"),
        ));
        self
    }

    /// The SID of a user added with [`Self::user`] (or the name itself if unknown:
    /// `HKLM`, a literal SID).
    pub fn sid_of(&self, name: &str) -> String {
        self.snap
            .users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
            .map(|u| u.sid.clone())
            .unwrap_or_else(|| name.to_string())
    }

    /// A value under a Run-family key of `hive` (a user name, a SID or `HKLM`).
    pub fn autorun(mut self, hive: &str, key: &str, value: &str, command: &str) -> Self {
        let sid = self.sid_of(hive);
        let user_sid = (!sid.eq_ignore_ascii_case("HKLM")).then(|| sid.clone());
        self.snap.autoruns.push(Autorun {
            location: AutorunLocation::RegistryValue {
                hive: sid,
                key: key.to_string(),
                value: value.to_string(),
            },
            user_sid,
            command: command.to_string(),
            value_type: "REG_SZ".into(),
            data_sha256: data_sha256("REG_SZ", command),
            data_cut: false,
        });
        self
    }

    /// A value under `...\CurrentVersion\Run` of `hive`.
    pub fn run(self, hive: &str, value: &str, command: &str) -> Self {
        self.autorun(hive, RUN_KEY, value, command)
    }

    /// A startup-folder item; `command` is the shortcut's target and arguments.
    pub fn startup(mut self, path: &str, command: &str) -> Self {
        let user_sid = self
            .snap
            .users
            .iter()
            .find(|u| {
                path.to_ascii_lowercase()
                    .starts_with(&u.profile_path.to_ascii_lowercase())
            })
            .map(|u| u.sid.clone());
        self.snap.autoruns.push(Autorun {
            location: AutorunLocation::StartupFolder {
                path: path.to_string(),
            },
            user_sid,
            command: command.to_string(),
            value_type: if path.to_ascii_lowercase().ends_with(".lnk") {
                "LNK".into()
            } else {
                "FILE".into()
            },
            data_sha256: String::new(),
            data_cut: false,
        });
        self
    }

    pub fn task_full(mut self, t: Task) -> Self {
        self.snap.tasks.push(t);
        self
    }

    /// A task with one action.
    pub fn task(
        self,
        path: &str,
        exe: &str,
        args: &str,
        principal: &str,
        triggers: &[&str],
    ) -> Self {
        self.task_full(Task {
            path: path.to_string(),
            actions: vec![TaskAction {
                path: exe.to_string().into(),
                arguments: args.to_string().into(),
                working_directory: String::new().into(),
            }],
            triggers: triggers.iter().map(|s| s.to_string()).collect(),
            author: String::new(),
            principal: principal.to_string(),
            enabled: true,
            hidden: false,
        })
    }

    pub fn service(mut self, name: &str, display: &str, image_path: &str, account: &str) -> Self {
        self.snap.services.push(Service {
            name: name.to_string(),
            display_name: display.to_string(),
            image_path: image_path.to_string(),
            start_type: "auto".into(),
            state: "running".into(),
            account: account.to_string(),
            service_dll: String::new(),
            driver: false,
        });
        self
    }

    /// A running kernel driver (`Win32_SystemDriver`): `image_path` is
    /// its file as WMI resolves it, and it has no account.
    pub fn driver(mut self, name: &str, image_path: &str) -> Self {
        self.snap.services.push(Service {
            name: name.to_string(),
            display_name: name.to_string(),
            image_path: image_path.to_string(),
            start_type: "system".into(),
            state: "running".into(),
            account: String::new(),
            service_dll: String::new(),
            driver: true,
        });
        self
    }

    /// The last service added hosts this DLL (`Parameters\ServiceDll`).
    pub fn service_dll(mut self, dll: &str) -> Self {
        if let Some(s) = self.snap.services.last_mut() {
            s.service_dll = dll.to_string();
        }
        self
    }

    pub fn process(
        mut self,
        pid: u32,
        parent_pid: u32,
        image: &str,
        command_line: &str,
        user: &str,
    ) -> Self {
        self.snap.processes.push(Process {
            pid,
            parent_pid,
            image: image.to_string(),
            command_line: command_line.to_string(),
            user: user.to_string(),
            started: "2024-01-01T00:00:00Z".into(),
        });
        self
    }

    /// An existing, unsigned file of 300 KB.
    pub fn file(self, path: &str) -> Self {
        self.file_full(FileFacts {
            path: path.to_string(),
            exists: true,
            size: 300_000,
            created: "2024-01-01T00:00:00Z".into(),
            modified: "2024-01-01T00:00:00Z".into(),
            signature: "unsigned".into(),
            ..FileFacts::default()
        })
    }

    /// An existing file with a valid signature by `signer`.
    pub fn signed_file(self, path: &str, signer: &str) -> Self {
        self.file_full(FileFacts {
            path: path.to_string(),
            exists: true,
            size: 300_000,
            created: "2024-01-01T00:00:00Z".into(),
            modified: "2024-01-01T00:00:00Z".into(),
            signature: "valid".into(),
            signer: signer.to_string(),
            ..FileFacts::default()
        })
    }

    /// A file signed by `signer` in System32 (at `path`) whose SysWOW64
    /// twin collection asked for and found missing, the twin's facts
    /// first or last (`twin_first`).
    pub fn signed_with_missing_wow64_twin(self, path: &str, signer: &str, twin_first: bool) -> Self {
        let twin = FileFacts {
            path: crate::detect::link::wow64_variants(path)[1].clone(),
            ..FileFacts::default()
        };
        if twin_first {
            self.file_full(twin).signed_file(path, signer)
        } else {
            self.signed_file(path, signer).file_full(twin)
        }
    }

    /// An existing folder with these entry names.
    pub fn dir(self, path: &str, listing: &[&str]) -> Self {
        self.file_full(FileFacts {
            path: path.to_string(),
            exists: true,
            is_dir: true,
            entries: listing.len() as u32,
            listing: listing.iter().map(|s| s.to_string()).collect(),
            created: "2024-01-01T00:00:00Z".into(),
            modified: "2024-01-01T00:00:00Z".into(),
            ..FileFacts::default()
        })
    }

    /// Add or replace the facts of a path.
    pub fn file_full(mut self, f: FileFacts) -> Self {
        self.snap
            .files
            .retain(|x| !x.path.eq_ignore_ascii_case(&f.path));
        self.snap.files.push(f);
        self
    }

    /// Change facts of a path already added.
    pub fn with_file(mut self, path: &str, edit: impl FnOnce(&mut FileFacts)) -> Self {
        if let Some(f) = self
            .snap
            .files
            .iter_mut()
            .find(|x| x.path.eq_ignore_ascii_case(path))
        {
            edit(f);
        }
        self
    }

    /// A registry value of interest; `hive` is a user name, a SID or `HKLM`.
    pub fn reg(mut self, hive: &str, key: &str, value: &str, value_type: &str, data: &str) -> Self {
        let hive = self.sid_of(hive);
        self.snap.registry.push(RegistryValue {
            hive,
            key: key.to_string(),
            value: value.to_string(),
            value_type: value_type.to_string(),
            data: data.to_string(),
            data_sha256: data_sha256(value_type, data),
            data_cut: false,
        });
        self
    }

    pub fn volume_serial(mut self, serial: u32) -> Self {
        self.snap.system_volume_serial = Some(serial);
        self
    }

    pub fn build(self) -> Snapshot {
        self.snap
    }
}

/// The SHA-256 the host would report for data shown as `text` (the text
/// forms of `runtime::ops::reg_data_text` read back).
pub fn data_sha256(value_type: &str, text: &str) -> String {
    use crate::runtime::ops::reg_data_sha256;
    match value_type {
        "REG_MULTI_SZ" => {
            let v: Vec<String> = text.split('\n').map(str::to_string).collect();
            reg_data_sha256(value_type, &v, 0, &[])
        }
        "REG_DWORD" | "REG_QWORD" => reg_data_sha256(value_type, &[], text.parse().unwrap_or(0), &[]),
        "REG_SZ" | "REG_EXPAND_SZ" => reg_data_sha256(value_type, &[text.to_string()], 0, &[]),
        _ => {
            let bytes: Vec<u8> = text
                .as_bytes()
                .chunks(2)
                .filter_map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
                .collect();
            reg_data_sha256(value_type, &[], 0, &bytes)
        }
    }
}
