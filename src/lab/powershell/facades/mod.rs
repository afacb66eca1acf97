//! Windows facades: the parts of Windows that read and change the host
//! model (`HostState`), one module per facade, each registering its
//! types, COM classes, cmdlets and programs in the object-model registry.
//! Phase 1 has the registry (`Microsoft.Win32.Registry`); WMI is
//! `Get-WmiObject` ([`wmi`], its classes in [`wmi_cimv2`] and
//! [`wmi_subscription`], `-Filter` in [`wql`]); the native programs are
//! in `natives`.

pub mod registry;
pub mod wmi;
pub mod wmi_cimv2;
pub mod wmi_subscription;
pub mod wql;

use super::object::Registry;

pub fn register(r: &mut Registry) {
    registry::register(r);
    wmi::register(r);
}
