//! Where things live on Windows: every registry and file-system location
//! the world, the malware and the runtime refer to, documented in one
//! place. Registry paths are relative to their hive root (`HKLM` or a user
//! hive, `HKU\<SID>` / `HKCU`).

/// `HKLM\SYSTEM\CurrentControlSet\Services\<name>`: one key per service
/// (ImagePath, Start, Type, ObjectName, DisplayName; Parameters\ServiceDll).
pub const SERVICES: &str = r"SYSTEM\CurrentControlSet\Services";

/// `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`: holds the
/// `PendingFileRenameOperations` REG_MULTI_SZ (MoveFileEx
/// MOVEFILE_DELAY_UNTIL_REBOOT), run by smss.exe early in boot.
/// The shares the Server service makes at start, one value each.
pub const LANMAN_SHARES: &str = r"SYSTEM\CurrentControlSet\Services\LanmanServer\Shares";
/// The spooler's print queues, one key each.
pub const PRINTERS: &str = r"SYSTEM\CurrentControlSet\Control\Print\Printers";
pub const SESSION_MANAGER: &str = r"SYSTEM\CurrentControlSet\Control\Session Manager";
pub const PENDING_RENAMES_VALUE: &str = "PendingFileRenameOperations";
/// Windows appends to this one instead when it exists.
pub const PENDING_RENAMES2_VALUE: &str = "PendingFileRenameOperations2";

/// Run-key family (same relative path under HKLM and under each user
/// hive).
pub const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
pub const RUN_ONCE: &str = r"Software\Microsoft\Windows\CurrentVersion\RunOnce";
pub const RUN_WOW64: &str = r"Software\Wow6432Node\Microsoft\Windows\CurrentVersion\Run";
pub const RUN_ONCE_WOW64: &str = r"Software\Wow6432Node\Microsoft\Windows\CurrentVersion\RunOnce";
pub const POLICIES_EXPLORER_RUN: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run";

/// Every Run-key path a collector must read, relative to a hive root. The
/// Wow6432Node twins exist only under HKLM on a real system (HKCU's
/// Software is shared), but listing them for user hives is harmless and
/// catches a loader that writes there anyway.
pub fn run_key_family() -> [&'static str; 5] {
    [
        RUN,
        RUN_ONCE,
        RUN_WOW64,
        RUN_ONCE_WOW64,
        POLICIES_EXPLORER_RUN,
    ]
}

/// `HKLM\...\Winlogon`: values `Shell` (default `explorer.exe`),
/// `Userinit` (default `C:\Windows\system32\userinit.exe,`); subkey
/// `Notify\<name>` (legacy Winlogon notification packages: `DLLName`).
pub const WINLOGON: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon";
pub const WINLOGON_NOTIFY: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\Notify";
/// Per-user `Shell` override is also honoured at this path in a user hive.
pub const WINLOGON_USER: &str = r"Software\Microsoft\Windows NT\CurrentVersion\Winlogon";

/// `HKLM\...\Image File Execution Options\<exe name>`: value `Debugger`
/// makes Windows start the debugger instead of the image.
pub const IFEO: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options";

/// `HKLM\...\Windows`: `AppInit_DLLs` (REG_SZ, list) and
/// `LoadAppInit_DLLs` (REG_DWORD). Twin under Wow6432Node.
pub const APPINIT: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows";
pub const APPINIT_WOW64: &str = r"SOFTWARE\Wow6432Node\Microsoft\Windows NT\CurrentVersion\Windows";

/// Windows Defender path exclusions: value name = excluded path, REG_DWORD 0.
pub const DEFENDER_EXCLUSION_PATHS: &str = r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths";
pub const DEFENDER_EXCLUSION_PROCESSES: &str =
    r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Processes";

/// Profile list: `<SID>` subkeys with `ProfileImagePath`.
pub const PROFILE_LIST: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";

/// Computer name as Windows stores it.
pub const COMPUTER_NAME: &str = r"SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName";

/// OS identity (`ProductName`, `CurrentBuild`).
pub const CURRENT_VERSION: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion";

/// Firewall policy as stored by the local store (the lab keeps the firewall
/// as a table, see `firewall.rs`; this is where Windows keeps it).
pub const FIREWALL_POLICY: &str =
    r"SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy";

/// Emotet (Feb 2020) per-user residue: `HKCU\<this>\<volume-serial-hex>`
/// REG_BINARY holding its encoded file name.
pub const EXPLORER_USER: &str = r"Software\Microsoft\Windows\CurrentVersion\Explorer";

/// Scheduled-task cache (tasks are kept as a table, see `tasks.rs`).
pub const TASK_CACHE_TREE: &str =
    r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree";

// ---- file system ----

pub const WINDOWS: &str = r"C:\Windows";
pub const SYSTEM32: &str = r"C:\Windows\System32";
pub const SYSWOW64: &str = r"C:\Windows\SysWOW64";
pub const WINDOWS_TEMP: &str = r"C:\Windows\Temp";
pub const TASKS_DIR: &str = r"C:\Windows\System32\Tasks";
pub const PROGRAM_DATA: &str = r"C:\ProgramData";
pub const PROGRAM_FILES: &str = r"C:\Program Files";
pub const PROGRAM_FILES_X86: &str = r"C:\Program Files (x86)";
pub const USERS: &str = r"C:\Users";
pub const PUBLIC: &str = r"C:\Users\Public";
pub const SYSTEM_PROFILE: &str = r"C:\Windows\System32\config\systemprofile";

/// All-users Startup folder (note the capital T Windows uses here).
pub const COMMON_STARTUP: &str = r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp";
/// Per-user Startup folder, relative to `%APPDATA%`.
pub const USER_STARTUP_UNDER_APPDATA: &str = r"Microsoft\Windows\Start Menu\Programs\Startup";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_family_has_five_distinct_paths() {
        let f = run_key_family();
        for (i, a) in f.iter().enumerate() {
            for b in &f[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(
            f.iter()
                .any(|p| p.contains("Wow6432Node") && p.ends_with("RunOnce"))
        );
        assert!(f.contains(&POLICIES_EXPLORER_RUN));
    }
}
