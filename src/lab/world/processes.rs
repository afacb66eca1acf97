//! Running processes: pid, parent, image, command line, user, start time,
//! the modules each has loaded (which lock those files), files it holds
//! open, and code injected into it by a loader.
//!
//! PIDs are multiples of 4 and never reused within a boot. Terminating a
//! process releases its locks at once (locks are derived from this table,
//! see `FileLocks`). Protected system processes (System, csrss, ...)
//! refuse termination. `kill_if_image` is the compare-and-kill the runtime
//! uses: it refuses when the PID now runs a different image.

use super::ci::eq_ci;
use super::files::{FileLocks, LockKind, Pid, normalize};
use super::time::LabTime;

/// Code a loader injected into a legitimate process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedCode {
    /// Malware family, e.g. `Qakbot`.
    pub family: String,
    /// The file the injected code came from, if any (may be gone).
    pub source: Option<String>,
    /// Private executable memory not backed by an image: what memory
    /// scanners see (true for classic injection and hollowing).
    pub unbacked_exec: bool,
    /// Modules that exist only in this process's memory, never on disk
    /// (TrickBot's `nworm` on a domain controller).
    pub memory_modules: Vec<String>,
}

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    /// Normalised image path (`C:\Windows\System32\rundll32.exe`); kernel
    /// processes have a bare name (`System`).
    pub image: String,
    pub command_line: String,
    /// `DOMAIN\name`, e.g. `NT AUTHORITY\SYSTEM`, `CORP\bob`.
    pub user: String,
    pub user_sid: String,
    /// Session 0 for services, 1.. for interactive users.
    pub session: u32,
    pub start_time: LabTime,
    /// Loaded DLLs (normalised paths): these files are mapped.
    pub modules: Vec<String>,
    /// Files held open without FILE_SHARE_DELETE.
    pub open_files: Vec<String>,
    pub injected: Option<InjectedCode>,
    /// Critical/protected: TerminateProcess is refused.
    pub protected: bool,
}

impl Process {
    /// A process to pass to `ProcessTable::spawn` (pid assigned there).
    pub fn new(image: &str, command_line: &str, user: &str, user_sid: &str) -> Process {
        Process {
            pid: 0,
            ppid: 0,
            image: norm(image),
            command_line: command_line.into(),
            user: user.into(),
            user_sid: user_sid.into(),
            session: 0,
            start_time: LabTime::default(),
            modules: Vec::new(),
            open_files: Vec::new(),
            injected: None,
            protected: false,
        }
    }
    pub fn with_parent(mut self, ppid: Pid) -> Process {
        self.ppid = ppid;
        self
    }
    pub fn with_session(mut self, s: u32) -> Process {
        self.session = s;
        self
    }
    pub fn with_module(mut self, dll: &str) -> Process {
        self.modules.push(norm(dll));
        self
    }
    pub fn protected(mut self) -> Process {
        self.protected = true;
        self
    }
    /// File name of the image (`rundll32.exe`).
    pub fn image_name(&self) -> &str {
        self.image.rsplit('\\').next().unwrap_or(&self.image)
    }
    /// Whether this process runs `expected` (a full path, or a file name
    /// alone), compared case-insensitively.
    pub fn image_is(&self, expected: &str) -> bool {
        if expected.contains('\\') {
            eq_ci(&self.image, &norm(expected))
        } else {
            eq_ci(self.image_name(), expected)
        }
    }
    pub fn load_module(&mut self, dll: &str) {
        let d = norm(dll);
        if !self.modules.iter().any(|m| eq_ci(m, &d)) {
            self.modules.push(d);
        }
    }
    pub fn open_file(&mut self, path: &str) {
        self.open_files.push(norm(path));
    }
}

fn norm(p: &str) -> String {
    normalize(p).unwrap_or_else(|_| p.to_string())
}

/// Why a kill was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KillError {
    #[error("no process with pid {0}")]
    NoSuchProcess(Pid),
    #[error("access denied: pid {0} is a protected process")]
    AccessDenied(Pid),
    /// The PID runs something else than the caller saw.
    #[error("pid {pid} now runs {actual}, not the expected image")]
    Drift { pid: Pid, actual: String },
}

impl KillError {
    pub fn win32_code(&self) -> u32 {
        match self {
            KillError::NoSuchProcess(_) => 87,
            KillError::AccessDenied(_) => 5,
            KillError::Drift { .. } => 0,
        }
    }
}

/// All processes of the current boot, in pid order. (A `Vec`: pids only
/// grow within a boot, so spawning appends; lookups bisect.)
#[derive(Debug, Clone)]
pub struct ProcessTable {
    next_pid: Pid,
    procs: Vec<Process>,
}

impl Default for ProcessTable {
    fn default() -> Self {
        ProcessTable::new()
    }
}

impl ProcessTable {
    pub fn new() -> ProcessTable {
        ProcessTable {
            next_pid: 4,
            procs: Vec::new(),
        }
    }
    /// Start a process; returns its new pid.
    pub fn spawn(&mut self, mut p: Process, now: LabTime) -> Pid {
        let pid = self.next_pid;
        // System is 4; user-mode pids start higher and step irregularly
        // (but deterministically), never repeating within a boot.
        self.next_pid = if pid == 4 {
            88
        } else {
            pid + 4 * (1 + (pid / 4) % 7)
        };
        p.pid = pid;
        p.start_time = now;
        self.procs.push(p);
        pid
    }
    /// Start a process on a PID an exited process freed: Windows reuses
    /// PIDs (the lab's own numbering never does within a boot, so a
    /// scenario that needs a reused PID asks for it). `None` while `pid`
    /// still runs something.
    pub fn spawn_reusing(&mut self, mut p: Process, pid: Pid, now: LabTime) -> Option<Pid> {
        let at = self.procs.binary_search_by_key(&pid, |q| q.pid).err()?;
        p.pid = pid;
        p.start_time = now;
        self.procs.insert(at, p);
        Some(pid)
    }
    fn index(&self, pid: Pid) -> Option<usize> {
        self.procs.binary_search_by_key(&pid, |p| p.pid).ok()
    }
    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.index(pid).map(|i| &self.procs[i])
    }
    pub fn get_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.index(pid).map(move |i| &mut self.procs[i])
    }
    /// By pid order.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.procs.iter()
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Process> {
        self.procs.iter_mut()
    }
    pub fn len(&self) -> usize {
        self.procs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }
    /// Processes whose image file name is `name` (`explorer.exe`).
    pub fn by_image_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Process> + 'a {
        self.procs
            .iter()
            .filter(move |p| eq_ci(p.image_name(), name))
    }
    pub fn children(&self, pid: Pid) -> impl Iterator<Item = &Process> {
        self.procs
            .iter()
            .filter(move |p| p.ppid == pid && p.pid != pid)
    }
    /// TerminateProcess.
    pub fn kill(&mut self, pid: Pid) -> Result<Process, KillError> {
        match self.index(pid) {
            None => Err(KillError::NoSuchProcess(pid)),
            Some(i) if self.procs[i].protected => Err(KillError::AccessDenied(pid)),
            Some(i) => Ok(self.procs.remove(i)),
        }
    }
    /// Kill only if the pid still runs `expected_image` (full path or
    /// file name, any case).
    pub fn kill_if_image(&mut self, pid: Pid, expected_image: &str) -> Result<Process, KillError> {
        let p = self.get(pid).ok_or(KillError::NoSuchProcess(pid))?;
        if !p.image_is(expected_image) {
            return Err(KillError::Drift {
                pid,
                actual: p.image.clone(),
            });
        }
        self.kill(pid)
    }
    /// Shutdown: every process ends; the next boot numbers pids afresh.
    pub fn shutdown(&mut self) -> Vec<Process> {
        self.next_pid = 4;
        std::mem::take(&mut self.procs)
    }
}

impl FileLocks for ProcessTable {
    fn lock_on(&self, path: &str) -> Option<(LockKind, Pid)> {
        let mut found = None;
        for p in &self.procs {
            if p.open_files.iter().any(|f| eq_ci(f, path)) {
                return Some((LockKind::Open, p.pid));
            }
            if found.is_none()
                && (eq_ci(&p.image, path) || p.modules.iter().any(|m| eq_ci(m, path)))
            {
                found = Some((LockKind::Mapped, p.pid));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::files::{Content, FileSystem, FsError};

    #[test]
    fn locked_file_is_released_when_its_process_is_killed() {
        let t = LabTime::EPOCH;
        let mut fs = FileSystem::new(t);
        let dll = r"C:\Users\bob\AppData\Local\Phxnzljad\wcgzvziqg.ljk";
        fs.plant_file(dll, Content::synthetic("e", 500 << 20), None, t)
            .unwrap();
        let mut procs = ProcessTable::new();
        let pid = procs.spawn(
            Process::new(
                r"C:\Windows\SysWOW64\regsvr32.exe",
                &format!("regsvr32.exe /s {dll}"),
                r"CORP\bob",
                "S-1-5-21-1-2-3-1001",
            )
            .with_module(&dll.to_lowercase()),
            t,
        );
        assert!(matches!(
            fs.delete_file(dll, t, &procs),
            Err(FsError::AccessDenied(_))
        ));
        assert!(matches!(
            procs.kill_if_image(pid, "rundll32.exe"),
            Err(KillError::Drift { .. })
        ));
        assert!(fs.exists(dll));
        procs
            .kill_if_image(pid, r"c:\windows\syswow64\REGSVR32.EXE")
            .unwrap();
        fs.delete_file(dll, t, &procs).unwrap();
        assert!(matches!(procs.kill(pid), Err(KillError::NoSuchProcess(_))));
    }

    #[test]
    fn pids_are_unique_within_a_boot_and_protected_refuse() {
        let t = LabTime::EPOCH;
        let mut procs = ProcessTable::new();
        let sys = procs.spawn(
            Process::new("System", "", r"NT AUTHORITY\SYSTEM", "S-1-5-18").protected(),
            t,
        );
        assert_eq!(sys, 4);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let p = procs.spawn(
                Process::new(r"C:\Windows\System32\cmd.exe", "cmd", "u", "s"),
                t,
            );
            assert_eq!(p % 4, 0);
            assert!(seen.insert(p));
            procs.kill(p).unwrap();
        }
        assert_eq!(procs.kill(4).unwrap_err().win32_code(), 5);
        assert_eq!(procs.by_image_name("SYSTEM").count(), 1);
        assert_eq!(procs.shutdown().len(), 1);
        assert!(procs.is_empty());
    }
}
