//! Services, as the Service Control Manager keeps them. Windows stores each
//! under `HKLM\SYSTEM\CurrentControlSet\Services\<name>` (ImagePath, Start,
//! Type, ObjectName, DisplayName, Parameters\ServiceDll); the lab keeps
//! them as a table here instead of as registry keys, with the same fields
//! and numbers (`StartType as u32` is the `Start` DWORD).
//!
//! Deleting a running service only marks it for deletion (sc.exe says
//! "marked for deletion"); it goes when it stops or at the next boot.

use std::collections::BTreeMap;

use super::ci::{CiKey, CiStr, eq_ci};
use super::files::Pid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StartType {
    Boot = 0,
    System = 1,
    Auto = 2,
    Demand = 3,
    Disabled = 4,
}

/// The `Type` DWORD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    KernelDriver = 1,
    FileSystemDriver = 2,
    OwnProcess = 0x10,
    ShareProcess = 0x20,
}

impl StartType {
    /// The start type as the System log's 7045 record writes it.
    pub fn event_text(self) -> &'static str {
        match self {
            StartType::Boot => "boot start",
            StartType::System => "system start",
            StartType::Auto => "auto start",
            StartType::Demand => "demand start",
            StartType::Disabled => "disabled",
        }
    }
}

impl ServiceKind {
    /// The service type as the System log's 7045 record writes it.
    pub fn event_text(self) -> &'static str {
        match self {
            ServiceKind::KernelDriver => "kernel mode driver",
            ServiceKind::FileSystemDriver => "file system driver",
            ServiceKind::OwnProcess | ServiceKind::ShareProcess => "user mode service",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    Running,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Key name, e.g. `gupdate`.
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// `ImagePath` as written (may hold quotes, arguments, `%SystemRoot%`).
    pub image_path: String,
    pub start: StartType,
    pub kind: ServiceKind,
    pub state: ServiceState,
    /// `ObjectName`: `LocalSystem`, `NT AUTHORITY\LocalService`, ...
    pub account: String,
    /// `Parameters\ServiceDll` of svchost-hosted services.
    pub service_dll: Option<String>,
    /// Process running the service, when running.
    pub pid: Option<Pid>,
    pub marked_for_delete: bool,
}

impl Service {
    /// An own-process, stopped, LocalSystem service.
    pub fn new(name: &str, display: &str, image_path: &str, start: StartType) -> Service {
        Service {
            name: name.into(),
            display_name: display.into(),
            description: String::new(),
            image_path: image_path.into(),
            start,
            kind: ServiceKind::OwnProcess,
            state: ServiceState::Stopped,
            account: "LocalSystem".into(),
            service_dll: None,
            pid: None,
            marked_for_delete: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("the specified service does not exist: {0}")]
    DoesNotExist(String),
    #[error("the specified service already exists: {0}")]
    Exists(String),
    #[error("the display name already exists: {0}")]
    DuplicateName(String),
    #[error("the specified service has been marked for deletion: {0}")]
    MarkedForDelete(String),
}

impl ServiceError {
    pub fn win32_code(&self) -> u32 {
        match self {
            ServiceError::DoesNotExist(_) => 1060,
            ServiceError::Exists(_) => 1073,
            ServiceError::DuplicateName(_) => 1078,
            ServiceError::MarkedForDelete(_) => 1072,
        }
    }
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// Running: removed when it stops or at boot.
    Marked,
}

#[derive(Debug, Clone, Default)]
pub struct Services {
    table: BTreeMap<CiKey, Service>,
}

impl Services {
    pub fn new() -> Services {
        Services::default()
    }
    /// CreateService.
    pub fn create(&mut self, s: Service) -> Result<(), ServiceError> {
        if let Some(old) = self.table.get(CiStr::new(&s.name)) {
            return Err(if old.marked_for_delete {
                ServiceError::MarkedForDelete(s.name)
            } else {
                ServiceError::Exists(s.name)
            });
        }
        if self
            .table
            .values()
            .any(|o| eq_ci(&o.display_name, &s.display_name) || eq_ci(&o.name, &s.display_name))
        {
            return Err(ServiceError::DuplicateName(s.display_name));
        }
        self.table.insert(CiKey::new(&s.name), s);
        Ok(())
    }
    pub fn get(&self, name: &str) -> Option<&Service> {
        self.table.get(CiStr::new(name))
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Service> {
        self.table.get_mut(CiStr::new(name))
    }
    /// In name order.
    pub fn iter(&self) -> impl Iterator<Item = &Service> {
        self.table.values()
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Service> {
        self.table.values_mut()
    }
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
    /// DeleteService.
    pub fn delete(&mut self, name: &str) -> Result<Deletion, ServiceError> {
        let s = self
            .table
            .get_mut(CiStr::new(name))
            .ok_or_else(|| ServiceError::DoesNotExist(name.into()))?;
        if s.marked_for_delete {
            return Err(ServiceError::MarkedForDelete(name.into()));
        }
        if s.state == ServiceState::Running {
            s.marked_for_delete = true;
            return Ok(Deletion::Marked);
        }
        self.table.remove(CiStr::new(name));
        Ok(Deletion::Deleted)
    }
    /// Record that a service stopped (its process is gone); a service
    /// marked for deletion goes now. Returns the pid it ran in.
    pub fn stopped(&mut self, name: &str) -> Option<Pid> {
        let s = self.table.get_mut(CiStr::new(name))?;
        s.state = ServiceState::Stopped;
        let pid = s.pid.take();
        if s.marked_for_delete {
            self.table.remove(CiStr::new(name));
        }
        pid
    }
    /// Services hosted by this process.
    pub fn hosted_by(&self, pid: Pid) -> impl Iterator<Item = &Service> {
        self.table.values().filter(move |s| s.pid == Some(pid))
    }
    /// Shutdown: every service stops; marked ones are removed.
    pub fn shutdown(&mut self) {
        self.table.retain(|_, s| !s.marked_for_delete);
        for s in self.table.values_mut() {
            s.state = ServiceState::Stopped;
            s.pid = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_of_running_service_marks_it() {
        let mut sv = Services::new();
        let mut s = Service::new(
            "wcgzvziqg",
            "wcgzvziqg",
            r"C:\Windows\SysWOW64\rundll32.exe C:\Windows\SysWOW64\Phx\wcgzvziqg.ljk,RunDLL",
            StartType::Auto,
        );
        s.state = ServiceState::Running;
        s.pid = Some(1000);
        sv.create(s.clone()).unwrap();
        assert_eq!(sv.create(s).unwrap_err().win32_code(), 1073);
        assert_eq!(sv.delete("WCGZVZIQG").unwrap(), Deletion::Marked);
        assert_eq!(sv.delete("wcgzvziqg").unwrap_err().win32_code(), 1072);
        assert_eq!(sv.stopped("wcgzvziqg"), Some(1000));
        assert!(sv.get("wcgzvziqg").is_none());
        assert_eq!(sv.delete("wcgzvziqg").unwrap_err().win32_code(), 1060);
        assert_eq!(StartType::Auto as u32, 2);
    }
}
