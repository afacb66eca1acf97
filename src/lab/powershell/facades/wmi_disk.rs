//! `Win32_LogicalDisk` (root\cimv2): the host's one fixed disk, `C:`, as
//! WMI describes it. `VolumeSerialNumber` is the volume serial in eight
//! upper-case hex digits (`A4B2C3D1`, what `vol C:` prints as
//! `A4B2-C3D1`), `DriveType` 3 (local disk) as a UInt32, `FileSystem`
//! NTFS. The lab models no disk capacity: `Size` and `FreeSpace` are a
//! fixed 127 GB disk, half free, so that scripts reading them get numbers
//! of WMI's type (UInt64) rather than a missing property.

use crate::lab::powershell::object::Ctx;
use crate::lab::powershell::value::Value;

use super::wmi::{Handle, WmiObject};

const SIZE: u64 = 136_363_114_496;

/// The disks, by DeviceID.
pub fn logical_disks(cx: &Ctx<'_>) -> Vec<WmiObject> {
    let props = vec![
        ("DeviceID", Value::str("C:")),
        ("Caption", Value::str("C:")),
        ("Name", Value::str("C:")),
        ("DriveType", Value::UInt32(3)),
        ("MediaType", Value::UInt32(12)),
        ("FileSystem", Value::str("NTFS")),
        ("VolumeName", Value::str("")),
        ("VolumeSerialNumber", Value::string(format!("{:08X}", cx.host.volume_serial))),
        ("Size", Value::UInt64(SIZE)),
        ("FreeSpace", Value::UInt64(SIZE / 2)),
        ("ProviderName", Value::Null),
    ];
    vec![WmiObject {
        class: "Win32_LogicalDisk".into(),
        namespace: r"root\cimv2".into(),
        computer: cx.spec.name.clone(),
        relpath: "Win32_LogicalDisk.DeviceID=\"C:\"".into(),
        props: props.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        view: &["DeviceID", "DriveType", "ProviderName", "FreeSpace", "Size", "VolumeName"],
        handle: Handle::None,
    }]
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, run_with};

    /// The serial as WMI gives it, and how runtime.ps1 reads it back into
    /// the number (`[Convert]::ToUInt32($hex, 16)`), on 2.0 and 5.1.
    #[test]
    fn the_system_disk_carries_the_volume_serial() {
        let script = concat!(
            "$d = @(Get-WmiObject -Class Win32_LogicalDisk -Filter \"DeviceID = 'C:'\")\n",
            "$d.Count; $d[0].DeviceID; $d[0].VolumeSerialNumber; [string][Convert]::ToUInt32([string]$d[0].VolumeSerialNumber, 16)\n",
            "$d[0].DriveType.GetType().FullName; $env:SystemDrive\n",
        );
        for v in ["2.0", "5.1.19041.1"] {
            let (r, _) = run_with(v, |h| h.volume_serial = 0xA4B2_C3D1, script);
            prints(&r, &["1", "C:", "A4B2C3D1", &0xA4B2_C3D1u32.to_string(), "System.UInt32", "C:"]);
            let (r, _) = run_with(v, |h| h.volume_serial = 0x0000_00FE, "(Get-WmiObject Win32_LogicalDisk).VolumeSerialNumber");
            prints(&r, &["000000FE"]);
        }
    }
}
