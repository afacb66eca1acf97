//! Services, as the Service Control Manager keeps them. The registry is
//! where a service lives: `HKLM\SYSTEM\CurrentControlSet\Services\<name>`
//! (ImagePath, Start, Type, ObjectName, DisplayName, ErrorControl). The
//! SCM's database here (the table) holds what the SCM serves
//! (`QueryServiceConfig`, `Win32_Service`) and the run state; every SCM
//! call that adds or removes a service writes its key as CreateService and
//! DeleteService do, so the two views agree. `Parameters\ServiceDll` is
//! not the SCM's: the installer writes it into the key and svchost reads it
//! there when the service starts (`service_dll`), so it lives only in the
//! registry. `StartType as u32` is the `Start` DWORD.
//!
//! Deleting a running service only marks it for deletion (sc.exe says
//! "marked for deletion"); it goes when it stops or at the next boot.

use std::collections::BTreeMap;

use super::ci::{CiKey, CiStr, eq_ci};
use super::files::Pid;
use super::paths;
use super::registry::{RegData, Registry, hklm};

/// `HKLM\SYSTEM\CurrentControlSet\Services\<name>`.
pub fn service_key(name: &str) -> String {
    hklm(&format!(r"{}\{name}", paths::SERVICES))
}

/// The ServiceDll svchost loads for a service: `Parameters\ServiceDll`,
/// else `ServiceDll` on the service's own key (older services), as
/// stored (`%SystemRoot%` unexpanded); `None` when neither is there.
pub fn service_dll(reg: &Registry, name: &str) -> Option<String> {
    let key = service_key(name);
    [format!(r"{key}\Parameters"), key]
        .iter()
        .find_map(|k| reg.get_value(k, "ServiceDll").ok()?.as_str().map(str::to_string))
}

/// Write `Parameters\ServiceDll` as a svchost service's installer does.
pub fn set_service_dll(reg: &mut Registry, name: &str, dll: &str) {
    let key = format!(r"{}\Parameters", service_key(name));
    reg.put(&key, "ServiceDll", RegData::expand_sz(dll)).expect("HKLM is always mounted");
}

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
    /// CreateService: the service joins the database and its key is
    /// written.
    pub fn create(&mut self, s: Service, reg: &mut Registry) -> Result<(), ServiceError> {
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
        write_key(reg, &s);
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
    /// DeleteService: a stopped service and its key go now.
    pub fn delete(&mut self, name: &str, reg: &mut Registry) -> Result<Deletion, ServiceError> {
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
        self.remove(name, reg);
        Ok(Deletion::Deleted)
    }
    /// Record that a service stopped (its process is gone); a service
    /// marked for deletion goes now. Returns the pid it ran in.
    pub fn stopped(&mut self, name: &str, reg: &mut Registry) -> Option<Pid> {
        let s = self.table.get_mut(CiStr::new(name))?;
        s.state = ServiceState::Stopped;
        let pid = s.pid.take();
        if s.marked_for_delete {
            self.remove(name, reg);
        }
        pid
    }
    /// The service leaves the database and its key (with Parameters) goes.
    fn remove(&mut self, name: &str, reg: &mut Registry) {
        if let Some(s) = self.table.remove(CiStr::new(name)) {
            let _ = reg.delete_tree(&service_key(&s.name));
        }
    }
    /// Services hosted by this process.
    pub fn hosted_by(&self, pid: Pid) -> impl Iterator<Item = &Service> {
        self.table.values().filter(move |s| s.pid == Some(pid))
    }
    /// Shutdown: every service stops; marked ones are removed.
    pub fn shutdown(&mut self, reg: &mut Registry) {
        let marked: Vec<String> =
            self.table.values().filter(|s| s.marked_for_delete).map(|s| s.name.clone()).collect();
        for name in marked {
            self.remove(&name, reg);
        }
        for s in self.table.values_mut() {
            s.state = ServiceState::Stopped;
            s.pid = None;
        }
    }
}

/// The values CreateService writes under the service's key.
fn write_key(reg: &mut Registry, s: &Service) {
    let key = service_key(&s.name);
    reg.create_key(&key).expect("HKLM is always mounted");
    let k = reg.key_mut(&key).expect("just created");
    k.set("Type", RegData::Dword(s.kind as u32));
    k.set("Start", RegData::Dword(s.start as u32));
    k.set("ErrorControl", RegData::Dword(1));
    k.set("ImagePath", RegData::expand_sz(&s.image_path));
    k.set("DisplayName", RegData::sz(&s.display_name));
    k.set("ObjectName", RegData::sz(&s.account));
    if !s.description.is_empty() {
        k.set("Description", RegData::sz(&s.description));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_of_running_service_marks_it() {
        let mut sv = Services::new();
        let mut reg = Registry::new();
        let mut s = Service::new(
            "wcgzvziqg",
            "wcgzvziqg",
            r"C:\Windows\SysWOW64\rundll32.exe C:\Windows\SysWOW64\Phx\wcgzvziqg.ljk,RunDLL",
            StartType::Auto,
        );
        s.state = ServiceState::Running;
        s.pid = Some(1000);
        sv.create(s.clone(), &mut reg).unwrap();
        assert_eq!(sv.create(s, &mut reg).unwrap_err().win32_code(), 1073);
        assert_eq!(sv.delete("WCGZVZIQG", &mut reg).unwrap(), Deletion::Marked);
        assert_eq!(sv.delete("wcgzvziqg", &mut reg).unwrap_err().win32_code(), 1072);
        // marked, the key stays until the service stops
        assert!(reg.key_exists(&service_key("wcgzvziqg")));
        assert_eq!(sv.stopped("wcgzvziqg", &mut reg), Some(1000));
        assert!(!reg.key_exists(&service_key("wcgzvziqg")));
        assert!(sv.get("wcgzvziqg").is_none());
        assert_eq!(sv.delete("wcgzvziqg", &mut reg).unwrap_err().win32_code(), 1060);
        assert_eq!(StartType::Auto as u32, 2);
    }

    #[test]
    fn create_writes_the_key_windows_keeps_and_delete_removes_it_with_parameters() {
        let mut sv = Services::new();
        let mut reg = Registry::new();
        let mut s = Service::new("Svc1", "Service One", r"%SystemRoot%\system32\svchost.exe -k netsvcs", StartType::Auto);
        s.kind = ServiceKind::ShareProcess;
        s.account = r"NT AUTHORITY\LocalService".into();
        sv.create(s, &mut reg).unwrap();
        set_service_dll(&mut reg, "Svc1", r"%SystemRoot%\system32\one.dll");
        let key = r"HKLM\SYSTEM\CurrentControlSet\Services\svc1";
        assert_eq!(reg.get_value(key, "ImagePath").unwrap(), &RegData::expand_sz(r"%SystemRoot%\system32\svchost.exe -k netsvcs"));
        assert_eq!(reg.get_value(key, "Start").unwrap(), &RegData::Dword(2));
        assert_eq!(reg.get_value(key, "Type").unwrap(), &RegData::Dword(0x20));
        assert_eq!(reg.get_value(key, "ObjectName").unwrap(), &RegData::sz(r"NT AUTHORITY\LocalService"));
        assert_eq!(reg.get_value(key, "DisplayName").unwrap(), &RegData::sz("Service One"));
        assert_eq!(service_dll(&reg, "SVC1").as_deref(), Some(r"%SystemRoot%\system32\one.dll"));
        // an older service keeps ServiceDll on its own key
        reg.delete_tree(&format!(r"{key}\Parameters")).unwrap();
        reg.put(key, "ServiceDll", RegData::expand_sz(r"C:\old.dll")).unwrap();
        assert_eq!(service_dll(&reg, "svc1").as_deref(), Some(r"C:\old.dll"));
        assert_eq!(sv.delete("svc1", &mut reg).unwrap(), Deletion::Deleted);
        assert!(!reg.key_exists(key));
        assert_eq!(service_dll(&reg, "svc1"), None);
    }
}
