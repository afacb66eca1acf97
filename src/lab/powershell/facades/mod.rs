//! Windows facades: the parts of Windows that read and change the host
//! model (`HostState`), one module per facade, each registering its
//! types, COM classes, cmdlets and programs in the object-model registry.
//! Native programs of the lab's own (hostname, whoami, shutdown, cmd) are
//! in `natives`.
//!
//! Registration is this one list: a new facade is a module and one line.
//! Registry side and files: [`registry`] (`Microsoft.Win32.Registry`),
//! [`reg_exe`] (`reg.exe load/unload`), [`fs`] (`System.IO`), [`acl`]
//! (folder ACLs: `GetAccessControl`, `FileSystemAccessRule`),
//! [`defender`] (exclusions, `Remove-MpPreference`),
//! [`wscript`] (`WScript.Shell` shortcuts), [`authenticode`]
//! (`Get-AuthenticodeSignature`), [`kernel32`] (the Win32 file functions
//! P/Invoke reaches). Processes: [`dotnet_process`]
//! (`System.Diagnostics.Process`). Firewall and tasks: [`firewall`]
//! (`HNetCfg.FwPolicy2`), [`taskschd`] (`Schedule.Service`). Management
//! side: [`wmi`] (`Get-WmiObject`), its classes in [`wmi_cimv2`],
//! [`wmi_disk`] and [`wmi_subscription`], `-Filter` in [`wql`], CIM
//! datetimes in [`dotnet_management`].

pub mod acl;
pub mod authenticode;
pub mod defender;
pub mod dotnet_management;
pub mod dotnet_process;
pub mod firewall;
pub mod fs;
pub mod kernel32;
pub mod reg_exe;
pub mod taskschd;
pub mod registry;
pub mod wmi;
pub mod wmi_cimv2;
pub mod wmi_disk;
pub mod wmi_subscription;
pub mod wql;
pub mod wscript;

use super::object::Registry;

pub fn register(r: &mut Registry) {
    acl::register(r);
    authenticode::register(r);
    defender::register(r);
    dotnet_management::register(r);
    dotnet_process::register(r);
    firewall::register(r);
    taskschd::register(r);
    fs::register(r);
    kernel32::register(r);
    reg_exe::register(r);
    registry::register(r);
    wscript::register(r);
    wmi::register(r);
}
