//! What a plan never does, whatever detection or the playbook say: kill a
//! process Windows cannot live without, delete a Windows launcher
//! (rundll32, regsvr32, ...: the target is the DLL or script it runs), delete
//! a file directly in the Windows or system folder (one narrow exception:
//! [`lateral_copy_refusal`]), or remove a folder Windows or a profile is
//! built from.

use crate::detect::evidence::Evidence;
use crate::detect::paths::{self, Area};
use crate::detect::ArtifactRef;
use crate::journal::records::StoredFinding;
use crate::runtime::snapshot::Snapshot;

/// Processes whose end crashes or logs off Windows.
const CRITICAL: &[&str] = &[
    "system",
    "smss.exe",
    "csrss.exe",
    "wininit.exe",
    "winlogon.exe",
    "services.exe",
    "lsass.exe",
    "lsaiso.exe",
    "svchost.exe",
    "fontdrvhost.exe",
    "dwm.exe",
    "registry",
    "memory compression",
];

/// Signed Windows programs that loaders use to start their payload.
const LAUNCHERS: &[&str] = &[
    "rundll32.exe",
    "regsvr32.exe",
    "mshta.exe",
    "wscript.exe",
    "cscript.exe",
    "powershell.exe",
    "pwsh.exe",
    "cmd.exe",
    "msiexec.exe",
    "explorer.exe",
    "conhost.exe",
    "schtasks.exe",
    "svchost.exe",
    "wermgr.exe",
    "dllhost.exe",
    "msbuild.exe",
    "regasm.exe",
    "regsvcs.exe",
    "installutil.exe",
    "certutil.exe",
    "bitsadmin.exe",
    "wmic.exe",
    "forfiles.exe",
];

/// Why a process must never be killed, if so.
pub fn never_kill(pid: u32, image: &str) -> Option<String> {
    let name = paths::file_name(image).to_ascii_lowercase();
    if pid <= 4 {
        return Some(format!(
            "PID {pid} is the system itself; it is never killed"
        ));
    }
    CRITICAL.contains(&name.as_str()).then(|| {
        format!("{name} is a critical Windows process: ending it crashes or logs off the host; it is never killed (the reboot ends what runs in it)")
    })
}

/// [`never_kill`] with what the scan saw of the process: a svchost.exe
/// that names no service group (`-k`) and that services.exe did not start
/// hosts no Windows service (every service host has both); it is the
/// hollowed copy a loader starts (TrickBot's, parent rundll32), and
/// ending it stops no service.
pub fn never_kill_seen(s: &Snapshot, pid: u32, image: &str) -> Option<String> {
    if hosts_no_service(s, pid) {
        return None;
    }
    never_kill(pid, image)
}

fn hosts_no_service(s: &Snapshot, pid: u32) -> bool {
    let Some(p) = s.processes.iter().find(|p| p.pid == pid) else {
        return false;
    };
    let svchost = paths::file_name(&p.image).eq_ignore_ascii_case("svchost.exe");
    let group = p
        .command_line
        .split_whitespace()
        .any(|a| a.eq_ignore_ascii_case("-k") || a.eq_ignore_ascii_case("/k"));
    let parent = s
        .processes
        .iter()
        .find(|q| q.pid == p.parent_pid && p.parent_pid != 0);
    svchost
        && !group
        && parent.is_some_and(|q| !paths::file_name(&q.image).eq_ignore_ascii_case("services.exe"))
}

/// Why a file must never be deleted, if so. Judged by where the path
/// points (`.` and `..` resolved, see [`paths::normalize`]); a path whose
/// text is not where it points (`...\AppData\Local\..\..\..\..\Windows\
/// System32\y.dll`) is never planned at all, whatever it points at: the
/// reviewer would read one place and the host would delete another.
pub fn never_delete(path: &str) -> Option<String> {
    if paths::has_relative_segments(path) {
        return Some(format!(
            "the path goes through `.` or `..` segments (or trailing periods or spaces, which Windows drops) and really points at {}: a plan never deletes a path that is not written where it points; check it and remove it by hand",
            paths::normalize(path)
        ));
    }
    let path = &paths::normalize(path);
    let name = paths::file_name(path).to_ascii_lowercase();
    if LAUNCHERS.contains(&name.as_str()) {
        return Some(format!(
            "{name} is a Windows launcher: the target is the file it runs, never the launcher itself"
        ));
    }
    if paths::is_directly_in_system(path) {
        return Some("a file directly in the Windows or system folder is never deleted by a plan; remove it by hand after review".into());
    }
    None
}

/// The service whose recorded install ties the copy at `path` to lateral
/// movement, if finding `f` is such a tie: the fleet's
/// `FLEET-LATERAL-COPY` on exactly that file, resting on the host's own
/// record of the install (`RecordedLateralInstall`), which names the
/// service (`related`). Only a file directly in `C:\Windows` is a
/// lateral copy (`ADMIN$`).
pub fn lateral_service(f: &StoredFinding, path: &str) -> Option<String> {
    let k = paths::key(path);
    let tied = f.rule_id == crate::fleet::RULE_LATERAL_COPY
        && f.evidence.contains(&Evidence::RecordedLateralInstall)
        && f.target_files.iter().any(|t| paths::key(t) == k)
        && crate::detect::lateral::in_windows_root(path);
    if !tied {
        return None;
    }
    f.related.iter().find_map(|a| match a {
        ArtifactRef::Service { name } if !name.is_empty() => Some(name.clone()),
        _ => None,
    })
}

/// Why a plan must not delete `path` as the tied lateral copy of the
/// install of `service` ([`lateral_service`]), if so; `None` for a path
/// that is not directly in `C:\Windows` (the other rules judge it). The
/// one file directly in the Windows folder a plan deletes is a copy a
/// recorded lateral install ran, and only when, as the scan saw it: it
/// was not validly signed; its name is not one Windows keeps there; no
/// program or library of its name is in System32 (a Windows file's name);
/// and it was hashed (compare-and-delete). Never anything in or below
/// System32, SysWOW64 or Sysnative. The runtime checks all of this again
/// on the host, with the 7045 record itself and the file's age against
/// Windows' install (`Get-CzUnsafeReason`).
pub fn lateral_copy_refusal(path: &str, service: &str, s: &Snapshot) -> Option<String> {
    if paths::has_relative_segments(path) || !crate::detect::lateral::in_windows_root(path) {
        return None;
    }
    let name = paths::file_name(path).to_ascii_lowercase();
    if service.is_empty() {
        return Some("a file directly in the Windows folder is deleted only as the copy a recorded lateral install ran (FLEET-LATERAL-COPY); remove it by hand after review".into());
    }
    if crate::detect::lateral::WINDOWS_ROOT_FILES.contains(&name.as_str()) {
        return Some(format!("{name} is a file Windows keeps in its folder: never deleted by a plan"));
    }
    let stem = paths::stem(&name).to_ascii_lowercase();
    if s.system32_names.iter().any(|n| n.eq_ignore_ascii_case(&stem)) {
        return Some(format!("System32 holds a program or library named {stem}: a name of Windows' own, never deleted from the Windows folder by a plan"));
    }
    match crate::plan::derive::file_facts(s, path).map(|f| f.signature.to_ascii_lowercase()) {
        Some(sig) if sig == "unsigned" || sig == "invalid" => None,
        Some(sig) => Some(format!("its signature reads `{sig}`: only a copy not validly signed is deleted from the Windows folder")),
        None => Some("the scan has no facts of this file: a file in the Windows folder is deleted only as the scan saw it".into()),
    }
}

/// [`never_delete`] for a plan's step: a tied lateral copy directly in the
/// Windows folder (`service`, see [`lateral_service`]) is judged by
/// [`lateral_copy_refusal`] instead of the blanket rule for that folder.
pub fn never_delete_step(path: &str, service: &str, s: &Snapshot) -> Option<String> {
    if !service.is_empty() && !paths::has_relative_segments(path) && crate::detect::lateral::in_windows_root(path) {
        let name = paths::file_name(path).to_ascii_lowercase();
        if LAUNCHERS.contains(&name.as_str()) {
            return never_delete(path);
        }
        return lateral_copy_refusal(path, service, s);
    }
    never_delete(path)
}

/// Folder names that are part of Windows or of every profile: never
/// removed, whatever a finding says.
const NEVER_REMOVED: &[&str] = &[
    "microsoft",
    "windows",
    "temp",
    "start menu",
    "programs",
    "startup",
    "packages",
    "appdata",
    "local",
    "locallow",
    "roaming",
    "desktop",
    "documents",
    "downloads",
    "public",
    "programdata",
    "program files",
    "program files (x86)",
    "users",
    "system32",
    "syswow64",
    "sysnative",
    "config",
    "systemprofile",
    "drivers",
    "spool",
    "wbem",
    "tasks",
    "catroot",
    "catroot2",
    "logfiles",
    "winevt",
    "grouppolicy",
    "windowspowershell",
    "sru",
    "spp",
    "en-us",
];

/// Why a folder must never be removed by a plan, if so: the root of a
/// drive or profile, anything under Windows or Program Files, a folder
/// every Windows or profile has, a path not written where it points.
pub fn never_remove_folder(folder: &str, s: &Snapshot) -> Option<String> {
    if paths::has_relative_segments(folder) {
        return Some(format!(
            "the path goes through `.` or `..` segments (or trailing periods or spaces) and really points at {}: a plan never removes a folder that is not written where it points",
            paths::normalize(folder)
        ));
    }
    let place = paths::classify(folder, &s.users);
    let name = paths::file_name(folder).to_ascii_lowercase();
    if place.rel.is_empty() {
        return Some(format!("{folder} is {} itself, never removed", place.root));
    }
    if matches!(place.area, Area::Windows | Area::ProgramFiles | Area::Other) {
        return Some(format!(
            "{folder} is under the Windows or Program Files folder (or not a local path): a plan never removes such a folder; remove it by hand after review"
        ));
    }
    if NEVER_REMOVED.contains(&name.as_str()) {
        return Some(format!("{name} is a folder Windows or every profile has: never removed"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchers_and_critical_processes_are_protected() {
        assert!(never_delete(r"C:\Windows\System32\rundll32.exe").is_some());
        assert!(never_delete(r"C:\Users\bob\AppData\Roaming\Microsoft\rundll32.exe").is_some());
        assert!(never_delete(r"C:\Windows\SysWOW64\kernel32.dll").is_some());
        assert!(never_delete(r"C:\Windows\SysWOW64\Mqbvdfzt\mqbvdf.kxe").is_none());
        assert!(never_delete(r"C:\Users\bob\AppData\Local\Tools\helper.dll").is_none());
        // Issue 7 item 7: dot segments never hide a protected place.
        let sneaky = r"C:\Users\x\AppData\Local\..\..\..\..\Windows\System32\y.dll";
        let why = never_delete(sneaky).expect("refused");
        assert!(why.contains(r"C:\Windows\System32\y.dll"), "{why}");
        assert!(never_delete(r"C:\Users\x\AppData\Local\.\Tools\h.dll").is_some());
        assert!(never_delete(r"C:\Windows\System32.\y.dll").is_some());
        assert!(never_delete(r"C:\Users\x\AppData\Local\Tools\h.dll.").is_some());
        assert!(never_kill(4, "System").is_some());
        assert!(never_kill(612, r"C:\Windows\System32\lsass.exe").is_some());
        assert!(never_kill(4242, r"C:\Windows\System32\rundll32.exe").is_none());
        assert!(never_kill(4242, r"C:\Windows\explorer.exe").is_none());
    }

    #[test]
    fn only_a_svchost_outside_the_service_manager_may_be_killed() {
        use crate::detect::builder::SnapshotBuilder;
        let svc = r"C:\Windows\System32\svchost.exe";
        let s = SnapshotBuilder::new("H")
            .process(
                600,
                4,
                r"C:\Windows\System32\services.exe",
                "services.exe",
                "SYSTEM",
            )
            .process(700, 600, svc, "svchost.exe -k netsvcs -p", "SYSTEM")
            .process(710, 600, svc, "svchost.exe", "SYSTEM")
            .process(
                800,
                0,
                r"C:\Windows\SysWOW64\rundll32.exe",
                "rundll32.exe x.dll,StartW",
                "bob",
            )
            .process(810, 800, svc, "svchost.exe", "bob")
            .process(820, 800, svc, "svchost.exe -k netsvcs", "bob")
            .process(830, 999, svc, "svchost.exe", "bob")
            .build();
        for (pid, killable) in [
            (700, false),
            (710, false),
            (810, true),
            (820, false),
            (830, false),
        ] {
            assert_eq!(
                never_kill_seen(&s, pid, svc).is_none(),
                killable,
                "pid {pid}"
            );
        }
    }

    #[test]
    fn windows_and_profile_folders_are_never_removed() {
        use crate::detect::builder::SnapshotBuilder;
        let s = SnapshotBuilder::new("H").user("bob").build();
        for f in [
            r"C:\Users\bob\AppData\Local\Qzvx\..",
            r"C:\Users\bob\AppData\Local",
            r"C:\Users\bob\AppData\Roaming\Microsoft",
            r"C:\Windows\System32\drivers",
            r"C:\Windows\Fonts",
            r"C:\Program Files\Contoso",
            r"C:\ProgramData",
            r"C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
        ] {
            assert!(never_remove_folder(f, &s).is_some(), "{f}");
        }
        for f in [
            r"C:\Users\bob\AppData\Local\Qzvxbnm",
            r"C:\Users\bob\AppData\Roaming\Microsoft\Xyzabcd",
            r"C:\Windows\SysWOW64\Ttbjoah",
            r"C:\ProgramData\Rjkwqzt",
            r"C:\Datop",
        ] {
            assert_eq!(never_remove_folder(f, &s), None, "{f}");
        }
    }
}
