//! The host the runtime contract is tested on: a baseline Windows 10 host
//! with a logged-on user (`alice`) and a user who is not logged on and has
//! a non-ASCII name (`Пётр`), and one of each thing collection must find,
//! some with hostile names. Used by the runtime's tests on the lab
//! (`runtime::on_lab`) and by `tests/runtime_contract.rs` (which plants the
//! same on a real host). Lab arrangement only: it knows no cauterize type.

use crate::lab::world::registry::{RegData, hklm};
use crate::lab::world::startup::{LnkTarget, place_lnk};
use crate::lab::world::tasks::{ExecAction, Principal, Task, Trigger};
use crate::lab::world::wmi::{Consumer, EventFilter};
use crate::lab::world::{
    BaselineSpec, Content, HostState, LabTime, Os, Role, Service, StartType, UserSpec, paths,
};

/// A string that is code in every quoting PowerShell has, plus a newline,
/// a right-to-left override and Cyrillic.
pub const HOSTILE: &str = "'; $(Stop-Computer) `whoami` \"x\" & y | z\r\n@'\u{202e}Пётр";

/// Names and paths of what [`plant`] put on the host.
#[derive(Debug, Clone)]
pub struct Planted {
    pub alice_sid: String,
    pub petr_sid: String,
    pub folder: String,
    pub machine_exe: String,
    pub alice_exe: String,
    pub petr_dll: String,
    pub task_exe: String,
    pub svc_exe: String,
    pub wmi_exe: String,
    pub lnk_target: String,
    pub lnk_path: String,
    pub locked_exe: String,
    pub locked_pid: u32,
    pub hostile_exe: String,
}

pub const TASK_PATH: &str = r"\CzTest\Hidden";
pub const SERVICE: &str = "CzTestSvc";
pub const FILTER: &str = "CzFilter";
pub const CONSUMER: &str = "CzConsumer";
pub const RUN: &str = paths::RUN;

/// A DLL nothing names: only the drop-folder sweep (C:\ProgramData and
/// its first level) reports it.
pub const STRAY_DLL: &str = r"C:\ProgramData\CzTest\stray.dll";
/// An EXE in a folder with a long name, and the HKLM Run value `CzShort`
/// naming it by the folder's 8.3 short name (the lab's; a live host prints
/// its own).
pub const LONG_EXE: &str = r"C:\ProgramData\CzTest\Long Folder Name\long.exe";
pub const SHORT_EXE: &str = r"C:\ProgramData\CzTest\LONGFO~1\long.exe";
/// `Parameters\ServiceDll` of the test service.
pub const SVC_DLL: &str = r"C:\ProgramData\CzTest\svc.dll";
/// The command of alice's `Software\Classes\ms-settings\shell\open\command`.
pub const UAC_EXE: &str = r"C:\ProgramData\CzTest\uac.exe";
pub const CLASS_COMMAND_KEY: &str = r"Software\Classes\ms-settings\shell\open\command";
/// Run value `CzSystem` in the SYSTEM hive (`HKU\S-1-5-18`).
pub const SYSTEM_EXE: &str = r"C:\ProgramData\CzTest\system.exe";
/// A folder named only by a Defender path exclusion, holding one file.
pub const EXCLUDED_DIR: &str = r"C:\ProgramData\CzTest\Excluded";

/// A clean baseline host with the two users.
pub fn host() -> HostState {
    let spec = BaselineSpec::new(
        "WS-CZ",
        Os::win10_22h2(),
        Role::Workstation,
        vec![
            UserSpec::domain("alice", true),
            UserSpec::domain("Пётр", false),
        ],
    );
    HostState::baseline(&spec)
}

fn file(h: &mut HostState, path: &str, text: &str, now: LabTime) {
    h.files
        .create_dir_all(crate::lab::world::files::parent(path).unwrap_or("C:"), now)
        .ok();
    h.files
        .plant_file(path, Content::text(text), None, now)
        .ok();
}

/// Plant everything on `h`.
pub fn plant(h: &mut HostState, now: LabTime) -> Planted {
    let sid_of = |h: &HostState, n: &str| {
        h.profile_by_name(n)
            .map(|p| p.sid.clone())
            .unwrap_or_default()
    };
    let (alice_sid, petr_sid) = (sid_of(h, "alice"), sid_of(h, "Пётр"));
    let petr_home = h
        .profile_by_name("Пётр")
        .map(|p| p.profile_path.clone())
        .unwrap_or_default();
    let alice_home = h
        .profile_by_name("alice")
        .map(|p| p.profile_path.clone())
        .unwrap_or_default();
    let folder = r"C:\ProgramData\CzTest".to_string();
    let p = Planted {
        machine_exe: format!(r"{folder}\machine.exe"),
        alice_exe: format!(r"{alice_home}\AppData\Roaming\CzTest\alice.exe"),
        petr_dll: format!(r"{petr_home}\AppData\Local\CzTest\petr.dll"),
        task_exe: format!(r"{folder}\task.exe"),
        svc_exe: format!(r"{folder}\svc.exe"),
        wmi_exe: format!(r"{folder}\wmi.exe"),
        lnk_target: format!(r"{folder}\lnk target.exe"),
        lnk_path: format!(
            r"{petr_home}\AppData\Roaming\{}\CzStartup.lnk",
            paths::USER_STARTUP_UNDER_APPDATA
        ),
        locked_exe: format!(r"{folder}\locked.exe"),
        hostile_exe: format!(r"{folder}\hostile.exe"),
        locked_pid: 0,
        folder,
        alice_sid,
        petr_sid,
    };
    for (path, text) in [
        (&p.machine_exe, "machine"),
        (&p.alice_exe, "alice"),
        (&p.petr_dll, "petr"),
        (&p.task_exe, "task"),
        (&p.svc_exe, "svc"),
        (&p.wmi_exe, "wmi"),
        (&p.lnk_target, "lnk"),
        (&p.locked_exe, "locked"),
        (&p.hostile_exe, "hostile"),
    ] {
        file(h, path, text, now);
    }
    for (path, text) in [
        (STRAY_DLL, "stray"),
        (LONG_EXE, "long"),
        (SVC_DLL, "svcdll"),
        (UAC_EXE, "uac"),
        (SYSTEM_EXE, "system"),
    ] {
        file(h, path, text, now);
    }
    file(h, &format!(r"{EXCLUDED_DIR}\inside.txt"), "inside", now);
    let _ = h
        .registry
        .put(&hklm(RUN), "CzShort", RegData::sz(SHORT_EXE));
    let _ = h.registry.put(
        &hklm(paths::DEFENDER_EXCLUSION_PATHS),
        EXCLUDED_DIR,
        RegData::Dword(0),
    );
    let _ = h.registry.put(
        &format!(r"HKU\{}\{CLASS_COMMAND_KEY}", p.alice_sid),
        "",
        RegData::sz(UAC_EXE),
    );
    let _ = h.registry.put(
        &format!(r"HKU\S-1-5-18\{RUN}"),
        "CzSystem",
        RegData::sz(SYSTEM_EXE),
    );
    let _ = h
        .registry
        .put(&hklm(RUN), "CzMachine", RegData::sz(p.machine_exe.clone()));
    let _ = h.registry.put(
        &hklm(RUN),
        HOSTILE,
        RegData::sz(format!("\"{}\" {HOSTILE}", p.hostile_exe)),
    );
    let _ = h.registry.put(
        &format!(r"HKU\{}\{RUN}", p.alice_sid),
        "CzAlice",
        RegData::expand_sz(r"%APPDATA%\CzTest\alice.exe"),
    );
    if let Some(hive) = h.registry.user_hive_mut(&p.petr_sid) {
        hive.root.create(RUN).set(
            "CzPetr",
            RegData::expand_sz(r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#),
        );
        hive.root
            .create(r"Software\Microsoft\Czxyzq")
            .set("a1b2c3", RegData::Binary(vec![0xde, 0xad, 0xbe, 0xef]));
    }
    let mut task = Task::new(r"\CzTest", "Hidden", Principal::system())
        .with_action(ExecAction::new(&p.task_exe, "/x"))
        .with_trigger(Trigger::Boot { repetition: None })
        .with_author("CzTest");
    task.hidden = true;
    let _ = h.tasks.register(task, true);
    let svc = Service::new(SERVICE, "Cz Test Service", &p.svc_exe, StartType::Auto);
    let _ = h.services.create(svc, &mut h.registry);
    crate::lab::world::services::set_service_dll(&mut h.registry, SERVICE, SVC_DLL);
    h.wmi.subscribe(
        EventFilter::new(FILTER, "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'"),
        Consumer::CommandLine { name: CONSUMER.into(), command_line_template: p.wmi_exe.clone(), executable_path: None },
    );
    let dir = crate::lab::world::files::parent(&p.lnk_path)
        .unwrap_or("C:")
        .to_string();
    let _ = h.files.create_dir_all(&dir, now);
    let _ = place_lnk(
        &mut h.files,
        &dir,
        "CzStartup.lnk",
        &LnkTarget::new(&p.lnk_target, "--hostile \"a b\""),
        now,
    );
    let pid = h
        .start_command(&p.locked_exe, &p.alice_sid, 0, now)
        .unwrap_or(0);
    Planted {
        locked_pid: pid,
        ..p
    }
}
