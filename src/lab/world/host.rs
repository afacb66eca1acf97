//! `HostState`: everything one simulated Windows host is: identity, OS and
//! patch level, local administrator password, profiles and who is logged
//! on, boot time and count, and its registry, files, services, tasks, WMI
//! subscriptions, processes and firewall. The pending file-rename queue is
//! kept where Windows keeps it (in the registry, see `pending`).
//!
//! The methods here are the operations that span parts (a delete that must
//! ask the process table about locks, a kill that stops the services in
//! that process, logon, shutdown and boot). Each part can also be used
//! directly.

use std::net::Ipv4Addr;

use super::ci::eq_ci;
use super::eventlog::EventLogs;
use super::files::{Content, Entry, FsError, Pid};
use super::firewall::Firewall;
use super::launch;
use super::os::{Os, Role};
use super::pending::{self, PendingOp};
use super::processes::{KillError, Process, ProcessTable};
use super::registry::{RegError, Registry};
use super::services::{Service, ServiceError, ServiceKind, ServiceState, Services, StartType};
use super::tasks::{Principal, Task, TaskError, TaskScheduler};
use super::time::LabTime;
use super::users::{self, Profile, SYSTEM_SID};
use super::wmi::WmiSubscriptions;

/// One host.
#[derive(Debug, Clone)]
pub struct HostState {
    /// NetBIOS computer name.
    pub name: String,
    /// NetBIOS domain or workgroup.
    pub domain: String,
    pub address: Ipv4Addr,
    pub role: Role,
    pub os: Os,
    /// Installed updates (`KB4012212`, ...).
    pub patches: Vec<String>,
    /// MS17-010 (EternalBlue) fixed.
    pub ms17_010_patched: bool,
    /// Local Administrator password (shared passwords let worms move).
    pub local_admin_password: String,
    /// C: volume serial (Emotet and Qakbot derive names from it).
    pub volume_serial: u32,
    /// Real user profiles (SYSTEM is `Profile::system()`, not listed).
    pub profiles: Vec<Profile>,
    pub boot_time: LabTime,
    pub boot_count: u32,
    pub registry: Registry,
    pub files: super::files::FileSystem,
    pub services: Services,
    pub tasks: TaskScheduler,
    pub wmi: WmiSubscriptions,
    pub processes: ProcessTable,
    pub firewall: Firewall,
    /// System, Security and the Task Scheduler log.
    pub event_logs: EventLogs,
    /// The machine SID's sub-authorities (local accounts are
    /// `S-1-5-21-a-b-c-RID`; the built-in Administrator is RID 500).
    pub machine_authority: [u32; 3],
}

/// What a boot did.
#[derive(Debug, Clone, Default)]
pub struct BootReport {
    pub renames: Vec<(PendingOp, Result<(), FsError>)>,
    /// Paths of tasks the scheduler deleted as expired.
    pub expired_tasks: Vec<String>,
    pub services_started: Vec<String>,
    /// Auto-start services that could not start, and why.
    pub services_failed: Vec<(String, String)>,
}

/// Why a command could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("image not found: {0}")]
    ImageNotFound(String),
    #[error("DLL not found: {0}")]
    DllNotFound(String),
}

impl HostState {
    /// A host with nothing on it (see `baseline` for a real install).
    pub fn empty(
        name: &str,
        domain: &str,
        address: Ipv4Addr,
        role: Role,
        os: Os,
        now: LabTime,
    ) -> HostState {
        HostState {
            name: name.into(),
            domain: domain.into(),
            address,
            role,
            os,
            patches: Vec::new(),
            ms17_010_patched: false,
            local_admin_password: String::new(),
            volume_serial: 0,
            profiles: Vec::new(),
            boot_time: now,
            boot_count: 1,
            registry: Registry::new(),
            files: super::files::FileSystem::new(now),
            services: Services::new(),
            tasks: TaskScheduler::new(),
            wmi: WmiSubscriptions::default(),
            processes: ProcessTable::new(),
            firewall: Firewall::default(),
            event_logs: EventLogs::default(),
            machine_authority: [0; 3],
        }
    }

    // ---- what Windows records as it changes ----

    /// Install a service through the Service Control Manager: it exists,
    /// and the System log has its 7045 record.
    pub fn install_service(&mut self, s: Service, now: LabTime) -> Result<(), ServiceError> {
        let record = (
            s.display_name.clone(),
            s.image_path.clone(),
            s.kind.event_text(),
            s.start.event_text(),
            s.account.clone(),
        );
        self.services.create(s, &mut self.registry)?;
        let (name, image, kind, start, account) = record;
        self.event_logs
            .service_installed(now, &name, &image, kind, start, &account);
        Ok(())
    }

    /// Register a task as `user_context` (`DOMAIN\user`) does: it exists,
    /// and the Task Scheduler log has its 106 record when that log is on,
    /// the Security log its 4698 where task auditing is on.
    pub fn register_task(
        &mut self,
        t: Task,
        replace: bool,
        user_context: &str,
        now: LabTime,
    ) -> Result<(), TaskError> {
        let path = t.path();
        self.tasks.register(t, replace)?;
        self.event_logs.task_registered(now, &path, user_context);
        let (domain, user) = user_context.split_once('\\').unwrap_or(("", user_context));
        let sid = if user.eq_ignore_ascii_case("SYSTEM") {
            SYSTEM_SID.to_string()
        } else if user.eq_ignore_ascii_case("Administrator") && domain.eq_ignore_ascii_case(&self.name) {
            self.local_admin_sid()
        } else {
            self.profile_by_name(user).map_or_else(|| "S-1-0-0".to_string(), |p| p.sid.clone())
        };
        self.event_logs.task_created(now, &sid, user, domain, &path);
        Ok(())
    }

    /// The built-in local Administrator's SID.
    pub fn local_admin_sid(&self) -> String {
        users::sid(self.machine_authority, 500)
    }

    // ---- users ----

    /// A profile by SID (S-1-5-18 gives the SYSTEM profile).
    /// The SID a task's principal runs as: SYSTEM, or the profile it
    /// names (by `DOMAIN\user`, SID or bare name); SYSTEM when none does.
    pub fn principal_sid(&self, p: &Principal) -> String {
        if p.is_system() {
            return SYSTEM_SID.into();
        }
        self.profiles
            .iter()
            .find(|u| eq_ci(&u.qualified(), &p.user_id) || eq_ci(&u.sid, &p.user_id) || eq_ci(&u.name, &p.user_id))
            .map(|u| u.sid.clone())
            .unwrap_or_else(|| SYSTEM_SID.into())
    }
    pub fn profile(&self, sid: &str) -> Option<Profile> {
        if sid == SYSTEM_SID {
            return Some(Profile::system());
        }
        self.profiles.iter().find(|p| eq_ci(&p.sid, sid)).cloned()
    }
    pub fn profile_by_name(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| eq_ci(&p.name, name))
    }
    pub fn logged_on_users(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().filter(|p| p.logged_on)
    }
    /// The session a process started as `sid` runs in: the user's own
    /// interactive session while they are logged on (profile index + 1;
    /// the first is the console's, 1), else session 0, where Windows runs
    /// services and what a task or service starts as a user who is not
    /// logged on.
    pub fn session_of(&self, sid: &str) -> u32 {
        self.profiles
            .iter()
            .position(|p| p.logged_on && eq_ci(&p.sid, sid))
            .map_or(0, |i| i as u32 + 1)
    }
    /// Expand `%VARS%` as the user with this SID (None: system only).
    pub fn expand(&self, text: &str, sid: Option<&str>) -> String {
        let p = sid.and_then(|s| self.profile(s));
        users::expand_for(text, p.as_ref(), self.os.arch)
    }

    /// Logon: mount the hive at HKU\<SID>, start userinit then explorer.
    pub fn logon(&mut self, sid: &str, now: LabTime) -> Result<Pid, RegError> {
        let idx = self
            .profiles
            .iter()
            .position(|p| eq_ci(&p.sid, sid))
            .ok_or_else(|| RegError::KeyNotFound(sid.to_string()))?;
        if !self.registry.is_loaded(sid) {
            self.registry.load_user(sid)?;
        }
        self.profiles[idx].logged_on = true;
        let p = self.profiles[idx].clone();
        let session = idx as u32 + 1;
        let winlogon = self
            .processes
            .by_image_name("winlogon.exe")
            .map(|w| w.pid)
            .next()
            .unwrap_or(0);
        let ui = self.processes.spawn(
            Process::new(
                r"C:\Windows\System32\userinit.exe",
                r"C:\Windows\system32\userinit.exe",
                &p.qualified(),
                &p.sid,
            )
            .with_parent(winlogon)
            .with_session(session),
            now,
        );
        let ex = self.processes.spawn(
            Process::new(
                r"C:\Windows\explorer.exe",
                r"C:\Windows\Explorer.EXE",
                &p.qualified(),
                &p.sid,
            )
            .with_parent(ui)
            .with_session(session),
            now,
        );
        let _ = self.processes.kill(ui); // userinit exits once the shell runs
        Ok(ex)
    }

    /// Logoff: the user's processes end, the hive is unloaded.
    pub fn logoff(&mut self, sid: &str) -> Vec<Process> {
        let pids: Vec<Pid> = self
            .processes
            .iter()
            .filter(|p| eq_ci(&p.user_sid, sid) && p.session != 0)
            .map(|p| p.pid)
            .collect();
        let killed = pids
            .into_iter()
            .filter_map(|pid| self.kill(pid).ok())
            .collect();
        self.registry.unload_user(sid);
        if let Some(p) = self.profiles.iter_mut().find(|p| eq_ci(&p.sid, sid)) {
            p.logged_on = false;
        }
        killed
    }

    // ---- files, with locks from the process table ----

    pub fn delete_file(&mut self, path: &str, now: LabTime) -> Result<Entry, FsError> {
        self.files.delete_file(path, now, &self.processes)
    }
    pub fn rename(
        &mut self,
        from: &str,
        to: &str,
        replace: bool,
        now: LabTime,
    ) -> Result<(), FsError> {
        self.files.rename(from, to, replace, now, &self.processes)
    }
    pub fn write_file(
        &mut self,
        path: &str,
        content: Content,
        now: LabTime,
    ) -> Result<(), FsError> {
        self.files.write_file(path, content, now, &self.processes)
    }
    /// A write by an account with `token` (its folder's ACEs decide).
    pub fn write_file_as(
        &mut self,
        path: &str,
        content: Content,
        now: LabTime,
        token: &super::acl::Token,
    ) -> Result<(), FsError> {
        self.files.write_file_as(path, content, now, &self.processes, token)
    }
    pub fn remove_tree(&mut self, path: &str, now: LabTime) -> Vec<FsError> {
        self.files.remove_tree(path, now, &self.processes)
    }

    // ---- processes ----

    /// TerminateProcess; services hosted in it stop (and go, if marked).
    pub fn kill(&mut self, pid: Pid) -> Result<Process, KillError> {
        let p = self.processes.kill(pid)?;
        let hosted: Vec<String> = self
            .services
            .hosted_by(pid)
            .map(|s| s.name.clone())
            .collect();
        for s in hosted {
            self.services.stopped(&s, &mut self.registry);
        }
        Ok(p)
    }
    /// Compare-and-kill: refuses when the pid runs another image.
    pub fn kill_if_image(&mut self, pid: Pid, expected_image: &str) -> Result<Process, KillError> {
        let p = self
            .processes
            .get(pid)
            .ok_or(KillError::NoSuchProcess(pid))?;
        if !p.image_is(expected_image) {
            return Err(KillError::Drift {
                pid,
                actual: p.image.clone(),
            });
        }
        self.kill(pid)
    }

    /// Start a command line as `user` (a SID), the way a Run key, task or
    /// service starts it: expand variables for that user, find the image,
    /// and for rundll32/regsvr32 load the DLL (which must exist).
    pub fn start_command(
        &mut self,
        command_line: &str,
        sid: &str,
        parent: Pid,
        now: LabTime,
    ) -> Result<Pid, StartError> {
        let profile = self.profile(sid).unwrap_or_else(Profile::system);
        let cmd = users::expand_for(command_line, Some(&profile), self.os.arch);
        let (img, args) = launch::split_command(&cmd, &self.files);
        let image = launch::resolve_image(&img, &self.files)
            .ok_or(StartError::ImageNotFound(img.clone()))?;
        let mut proc =
            Process::new(&image, &cmd, &profile.qualified(), &profile.sid).with_parent(parent);
        proc.session = self.session_of(sid);
        if let Some(dll) = launch::launcher_dll(&img, &args) {
            let d = launch::resolve_dll(&dll, &self.files).ok_or(StartError::DllNotFound(dll))?;
            proc.load_module(&d);
        }
        Ok(self.processes.spawn(proc, now))
    }

    // ---- pending renames ----

    /// MoveFileEx(..., MOVEFILE_DELAY_UNTIL_REBOOT).
    pub fn queue_pending(&mut self, op: &PendingOp) -> Result<(), RegError> {
        pending::append(&mut self.registry, op)
    }
    pub fn pending_renames(&self) -> Vec<PendingOp> {
        pending::read(&self.registry).unwrap_or_default()
    }

    // ---- shutdown and boot ----

    /// Everything stops: users are logged off, every process ends, and
    /// services marked for deletion go. Returns the processes that ended
    /// (a shutdown hook of malware runs before this).
    pub fn shutdown(&mut self) -> Vec<Process> {
        for p in self.profiles.iter_mut() {
            p.logged_on = false;
        }
        let sids: Vec<String> = self.profiles.iter().map(|p| p.sid.clone()).collect();
        for s in sids {
            self.registry.unload_user(&s);
        }
        self.services.shutdown(&mut self.registry);
        // A PowerShell action not yet run ends with its process.
        self.tasks.take_started();
        self.processes.shutdown()
    }

    /// Boot: the pending-rename queue runs first (smss), expired tasks go,
    /// the core processes start, then auto-start services. Nobody is
    /// logged on afterwards; Run keys and logon tasks are started by the
    /// lab when users log on.
    pub fn boot(&mut self, now: LabTime) -> BootReport {
        let mut rep = BootReport::default();
        self.boot_count += 1;
        self.boot_time = now;
        let ops = pending::take(&mut self.registry);
        rep.renames = pending::execute(&ops, &mut self.files, now, &self.processes);
        rep.expired_tasks = self
            .tasks
            .sweep_expired(now)
            .iter()
            .map(|t| t.path())
            .collect();
        self.start_core(now);
        let _ = self.registry.load_user(SYSTEM_SID);
        self.start_auto_services(now, &mut rep);
        rep
    }

    /// Shutdown then boot at `now`.
    pub fn reboot(&mut self, now: LabTime) -> BootReport {
        self.shutdown();
        self.boot(now)
    }

    fn start_core(&mut self, now: LabTime) {
        let sys = r"NT AUTHORITY\SYSTEM";
        let s32 = |n: &str| format!(r"C:\Windows\System32\{n}");
        let system = self
            .processes
            .spawn(Process::new("System", "", sys, SYSTEM_SID).protected(), now);
        let smss = self.processes.spawn(
            Process::new(
                &s32("smss.exe"),
                r"\SystemRoot\System32\smss.exe",
                sys,
                SYSTEM_SID,
            )
            .with_parent(system)
            .protected(),
            now,
        );
        let csrss_cmd = r"%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16";
        for session in [0, 1] {
            self.processes.spawn(
                Process::new(&s32("csrss.exe"), csrss_cmd, sys, SYSTEM_SID)
                    .with_parent(smss)
                    .with_session(session)
                    .protected(),
                now,
            );
        }
        let wininit = self.processes.spawn(
            Process::new(&s32("wininit.exe"), "wininit.exe", sys, SYSTEM_SID)
                .with_parent(smss)
                .protected(),
            now,
        );
        self.processes.spawn(
            Process::new(&s32("winlogon.exe"), "winlogon.exe", sys, SYSTEM_SID)
                .with_parent(smss)
                .with_session(1),
            now,
        );
        self.processes.spawn(
            Process::new(
                &s32("services.exe"),
                r"C:\Windows\system32\services.exe",
                sys,
                SYSTEM_SID,
            )
            .with_parent(wininit)
            .protected(),
            now,
        );
        self.processes.spawn(
            Process::new(
                &s32("lsass.exe"),
                r"C:\Windows\system32\lsass.exe",
                sys,
                SYSTEM_SID,
            )
            .with_parent(wininit)
            .protected(),
            now,
        );
    }

    fn start_auto_services(&mut self, now: LabTime, rep: &mut BootReport) {
        let services_pid = self
            .processes
            .by_image_name("services.exe")
            .map(|p| p.pid)
            .next()
            .unwrap_or(0);
        let auto: Vec<String> = self
            .services
            .iter()
            .filter(|s| {
                matches!(
                    s.start,
                    StartType::Auto | StartType::Boot | StartType::System
                ) && s.state == ServiceState::Stopped
            })
            .map(|s| s.name.clone())
            .collect();
        for name in auto {
            match self.start_service(&name, services_pid, now) {
                Ok(_) => rep.services_started.push(name),
                Err(e) => rep.services_failed.push((name, e.to_string())),
            }
        }
    }

    /// Start one service: share-process services join (or create) their
    /// `svchost -k <group>` and load their ServiceDll; own-process ones run
    /// their ImagePath (for rundll32/regsvr32 the DLL must exist).
    pub fn start_service(
        &mut self,
        name: &str,
        parent: Pid,
        now: LabTime,
    ) -> Result<Pid, StartError> {
        let s = self
            .services
            .get(name)
            .cloned()
            .ok_or_else(|| StartError::ImageNotFound(name.into()))?;
        if matches!(
            s.kind,
            ServiceKind::KernelDriver | ServiceKind::FileSystemDriver
        ) {
            let drv = self.expand(&s.image_path, None);
            let ok = launch::resolve_dll(&drv, &self.files).is_some();
            if !ok {
                return Err(StartError::ImageNotFound(drv));
            }
            if let Some(sv) = self.services.get_mut(name) {
                sv.state = ServiceState::Running;
            }
            return Ok(4);
        }
        let cmd = self.expand(&s.image_path, None);
        let dll = super::services::service_dll(&self.registry, name);
        let pid = match (s.kind, &dll) {
            (ServiceKind::ShareProcess, Some(dll)) => {
                let dll = self.expand(dll, None);
                let d =
                    launch::resolve_dll(&dll, &self.files).ok_or(StartError::DllNotFound(dll))?;
                let existing = self
                    .processes
                    .iter()
                    .find(|p| eq_ci(&p.command_line, &cmd))
                    .map(|p| p.pid);
                let pid = match existing {
                    Some(p) => p,
                    None => self.start_command(&cmd, SYSTEM_SID, parent, now)?,
                };
                if let Some(p) = self.processes.get_mut(pid) {
                    p.load_module(&d);
                }
                pid
            }
            _ => self.start_command(&cmd, SYSTEM_SID, parent, now)?,
        };
        if let Some(sv) = self.services.get_mut(name) {
            sv.state = ServiceState::Running;
            sv.pid = Some(pid);
        }
        Ok(pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::files::Signer;
    use crate::lab::world::os::Role;
    use crate::lab::world::services::Service;

    fn host() -> HostState {
        let t = LabTime::EPOCH;
        let mut h = HostState::empty(
            "WS-1",
            "CORP",
            Ipv4Addr::new(127, 0, 1, 1),
            Role::Workstation,
            Os::win10_22h2(),
            t,
        );
        for n in [
            "rundll32.exe",
            "regsvr32.exe",
            "svchost.exe",
            "userinit.exe",
            "cmd.exe",
        ] {
            h.files
                .plant_file(
                    &format!(r"C:\Windows\System32\{n}"),
                    Content::synthetic(n, 60_000),
                    Some(Signer::valid("Microsoft Windows")),
                    t,
                )
                .unwrap();
        }
        h.files
            .plant_file(
                r"C:\Windows\explorer.exe",
                Content::synthetic("explorer", 1),
                Some(Signer::valid("Microsoft Windows")),
                t,
            )
            .unwrap();
        let p = Profile::new("Пётр", "CORP", "S-1-5-21-9-9-9-1104");
        h.registry
            .add_user_hive(&p.sid, &p.ntuser_dat(), Default::default());
        h.profiles.push(p);
        h
    }

    #[test]
    fn started_loader_locks_its_dll_until_killed_then_boot_queue_runs() {
        let t = LabTime::EPOCH;
        let mut h = host();
        let dll = r"C:\Users\Пётр\AppData\Local\Phxnzljad\wcgzvziqg.ljk";
        h.files
            .plant_file(dll, Content::synthetic("emo", 500 << 20), None, t)
            .unwrap();
        let sid = "S-1-5-21-9-9-9-1104";
        h.logon(sid, t).unwrap();
        assert_eq!(h.logged_on_users().count(), 1);
        let pid = h
            .start_command(
                r"rundll32.exe %LOCALAPPDATA%\Phxnzljad\wcgzvziqg.ljk,RunDLL",
                sid,
                0,
                t,
            )
            .unwrap();
        assert_eq!(h.processes.get(pid).unwrap().user, r"CORP\Пётр");
        assert!(matches!(
            h.delete_file(dll, t),
            Err(FsError::AccessDenied(_))
        ));
        h.queue_pending(&PendingOp::delete(dll)).unwrap();
        assert!(matches!(
            h.kill_if_image(pid, "regsvr32.exe"),
            Err(KillError::Drift { .. })
        ));
        let rep = h.reboot(t.plus_secs(120));
        assert_eq!(rep.renames.len(), 1);
        assert!(rep.renames[0].1.is_ok());
        assert!(!h.files.exists(dll));
        assert!(h.pending_renames().is_empty());
        assert_eq!(h.boot_count, 2);
        assert_eq!(h.logged_on_users().count(), 0);
        assert!(
            h.processes
                .get(pid)
                .is_none_or(|p| p.image_name() != "rundll32.exe")
        );
        // missing DLL: rundll32 does not start
        assert!(matches!(
            h.start_command(r"rundll32.exe C:\gone.dll,X", sid, 0, t),
            Err(StartError::DllNotFound(_))
        ));
    }

    #[test]
    fn services_start_at_boot_and_die_with_their_process() {
        let t = LabTime::EPOCH;
        let mut h = host();
        h.files
            .plant_file(
                r"C:\Windows\SysWOW64\Xyz\abc.dll",
                Content::text("mz"),
                None,
                t,
            )
            .unwrap();
        h.files
            .plant_file(
                r"C:\Windows\SysWOW64\rundll32.exe",
                Content::text("mz"),
                None,
                t,
            )
            .unwrap();
        h.services
            .create(Service::new(
                "abc",
                "abc",
                r"C:\Windows\SysWOW64\rundll32.exe C:\Windows\SysWOW64\Xyz\abc.dll,RunDLL",
                StartType::Auto,
            ), &mut h.registry)
            .unwrap();
        h.services
            .create(Service::new(
                "gone",
                "gone",
                r"C:\nope\x.exe",
                StartType::Auto,
            ), &mut h.registry)
            .unwrap();
        let rep = h.boot(t);
        assert_eq!(rep.services_started, vec!["abc".to_string()]);
        assert_eq!(rep.services_failed.len(), 1);
        let pid = h.services.get("abc").unwrap().pid.unwrap();
        assert!(
            h.processes
                .get(pid)
                .unwrap()
                .modules
                .iter()
                .any(|m| m.ends_with("abc.dll"))
        );
        assert_eq!(
            h.services.delete("abc", &mut h.registry).unwrap(),
            super::super::services::Deletion::Marked
        );
        h.kill(pid).unwrap();
        assert!(h.services.get("abc").is_none());
        h.delete_file(r"C:\Windows\SysWOW64\Xyz\abc.dll", t)
            .unwrap();
        assert_eq!(h.processes.kill(4).unwrap_err().win32_code(), 5);
    }
}
