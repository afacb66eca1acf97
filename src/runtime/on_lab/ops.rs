//! runtime.ps1's service, process and WMI operations on the engine, on
//! PowerShell 2.0 and 5.1, checked against what Windows does to the host
//! (the outcome the runtime reports and the host's state afterwards).

use super::jobs::outcomes;
use crate::lab::powershell::tests::{prints, run_on};
use crate::lab::contract_host::{self as fixture, SERVICE, SVC_DLL};
use crate::lab::spec::LabSettings;
use crate::lab::world::HostState;
use crate::lab::world::services::service_key;
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::{Op, TaskAction};

const VERSIONS: [&str; 2] = ["2.0", "5.1.19041.1"];

/// The runtime contract's host with its persistence planted.
fn planted() -> (HostState, fixture::Planted) {
    let mut h = fixture::host();
    let p = fixture::plant(&mut h, LabSettings::default().start);
    (h, p)
}

fn pair(result: &str, detail: &str) -> (String, String) {
    (result.to_string(), detail.to_string())
}

/// A service lives in the registry: Win32_Service and the key under
/// `HKLM\SYSTEM\CurrentControlSet\Services` agree (Start 2 is StartMode
/// Auto, ObjectName is StartName), and a svchost service's DLL is read
/// from `Parameters\ServiceDll` as stored (REG_EXPAND_SZ, unexpanded with
/// DoNotExpandEnvironmentNames).
#[test]
fn services_are_registry_keys_that_agree_with_win32_service() {
    let script = concat!(
        "$s = Get-WmiObject Win32_Service -Filter \"Name = 'Schedule'\"\n",
        "$k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\\CurrentControlSet\\Services\\Schedule')\n",
        "$s.StartMode; $k.GetValue('Start'); $s.StartName; $k.GetValue('ObjectName'); $k.GetValue('Type')\n",
        "$k.OpenSubKey('Parameters').GetValue('ServiceDll', $null, 'DoNotExpandEnvironmentNames')\n",
        "$k.GetValueKind('ImagePath')\n",
        "@([Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\\CurrentControlSet\\Services').GetSubKeyNames() | Where-Object { $_ -eq 'WinRM' }).Count\n",
    );
    for v in VERSIONS {
        let mut h = crate::lab::powershell::tests::host().1.clone();
        let r = run_on(&mut h, v, script);
        prints(&r, &["Auto", "2", "LocalSystem", "LocalSystem", "32", r"%systemroot%\system32\schedsvc.dll", "ExpandString", "1"]);
    }
}

/// Issue 7 item 13 on the engine: DeleteService compares the ServiceDll
/// the host's registry holds; a plan made for another DLL is drift and
/// the service stays; with the planned DLL the service and its key go;
/// a second run finds it already absent.
#[test]
fn delete_service_compares_the_service_dll_the_registry_holds() {
    for v in VERSIONS {
        let (mut h, p) = planted();
        let svc = |dll: &str| job::payload(&[JobItem::Op(Op::DeleteService { name: SERVICE.into(), expected_image_path: p.svc_exe.clone().into(), expected_service_dll: dll.into() })]);
        let r = run_on(&mut h, v, &svc(r"C:\Windows\System32\other.dll"));
        assert_eq!(outcomes(&r.out), [pair("drift", &format!("ServiceDll {SVC_DLL}"))], "{v}: {}{}", r.out, r.err);
        assert!(h.services.get(SERVICE).is_some() && h.registry.key_exists(&service_key(SERVICE)), "{v}: drift deletes nothing");
        let r = run_on(&mut h, v, &svc(SVC_DLL));
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.services.get(SERVICE).is_none(), "{v}: the SCM forgot it");
        assert!(!h.registry.key_exists(&service_key(SERVICE)), "{v}: its key went with it");
        let r = run_on(&mut h, v, &svc(SVC_DLL));
        assert_eq!(outcomes(&r.out), [pair("already_absent", "")], "{v}");
    }
}

/// A running own-process service is stopped (its process ends) and then
/// deleted: done, the key and the process gone.
#[test]
fn delete_service_stops_a_running_service_first() {
    use crate::lab::world::processes::Process;
    use crate::lab::world::services::ServiceState;
    let now = LabSettings::default().start;
    for v in VERSIONS {
        let (mut h, p) = planted();
        let pid = h.processes.spawn(Process::new(&p.svc_exe, &p.svc_exe, r"NT AUTHORITY\SYSTEM", "S-1-5-18"), now);
        let s = h.services.get_mut(SERVICE).expect("planted");
        s.state = ServiceState::Running;
        s.pid = Some(pid);
        let job = job::payload(&[JobItem::Op(Op::DeleteService { name: SERVICE.into(), expected_image_path: p.svc_exe.clone().into(), expected_service_dll: SVC_DLL.into() })]);
        let r = run_on(&mut h, v, &job);
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.processes.get(pid).is_none(), "{v}: the service's process ended");
        assert!(h.services.get(SERVICE).is_none() && !h.registry.key_exists(&service_key(SERVICE)), "{v}");
    }
}

/// A process's start time as the scan reports it and the plan carries
/// it: its CreationDate (microseconds), in UTC, round-trip format; and
/// `Process.StartTime` (100 ns), which must name the same instant.
fn started(h: &mut HostState, pid: u32) -> String {
    let script = format!(concat!(
        "$w = [System.Management.ManagementDateTimeConverter]::ToDateTime((Get-WmiObject Win32_Process -Filter 'ProcessId = {pid}').CreationDate)\n",
        "$w.ToUniversalTime().ToString('o')\n",
        "[System.Diagnostics.Process]::GetProcessById({pid}).StartTime.ToUniversalTime().ToString('o')\n",
    ), pid = pid);
    let r = run_on(h, "5.1.19041.1", &script);
    assert!(r.err.is_empty() && r.lines().len() == 2, "{}{}", r.out, r.err);
    let (wmi, dotnet) = (r.lines()[0], r.lines()[1]);
    assert_eq!(wmi[..26], dotnet[..26], "CreationDate and StartTime disagree");
    wmi.to_string()
}

fn kill(pid: u32, image: &str, started: &str) -> String {
    job::payload(&[JobItem::Op(Op::KillProcess { pid, expected_image: image.into(), expected_started: started.into() })])
}

/// KillProcess on the engine kills the process the plan saw (image and
/// CreationDate through ManagementDateTimeConverter agree with the plan),
/// and a second run finds it already absent. Before the Process facade
/// existed the engine answered already_absent while the process ran.
#[test]
fn kill_process_kills_the_process_the_plan_saw() {
    for v in VERSIONS {
        let (mut h, p) = planted();
        let at = started(&mut h, p.locked_pid);
        assert!(at.ends_with('Z') && at.len() == 28, "{at}");
        let r = run_on(&mut h, v, &kill(p.locked_pid, &p.locked_exe, &at));
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.processes.get(p.locked_pid).is_none(), "{v}: killed");
        let r = run_on(&mut h, v, &kill(p.locked_pid, &p.locked_exe, &at));
        assert_eq!(outcomes(&r.out), [pair("already_absent", "")], "{v}");
    }
}

/// Issue 7 item 12 on the engine: the planned process exited and its PID
/// now runs another process of the same image, started later. The
/// runtime opens the process, re-reads its CreationDate and refuses
/// (drift naming the new start time); the new process keeps running.
#[test]
fn a_reused_pid_is_not_killed() {
    use crate::lab::world::processes::Process;
    let now = LabSettings::default().start;
    for v in VERSIONS {
        let (mut h, p) = planted();
        let planned = started(&mut h, p.locked_pid);
        h.kill(p.locked_pid).expect("the planned process exits");
        let later = crate::lab::world::LabTime(now.0 + 600 * 10_000_000);
        let again = Process::new(&p.locked_exe, &p.locked_exe, r"CORP\alice", &p.alice_sid);
        h.processes.spawn_reusing(again, p.locked_pid, later).expect("the PID is free");
        let now_started = started(&mut h, p.locked_pid);
        assert_ne!(planned, now_started);
        let r = run_on(&mut h, v, &kill(p.locked_pid, &p.locked_exe, &planned));
        let detail = format!("pid {} ({}) started {now_started}", p.locked_pid, p.locked_exe);
        assert_eq!(outcomes(&r.out), [pair("drift", &detail)], "{v}: {}{}", r.out, r.err);
        assert!(h.processes.get(p.locked_pid).is_some_and(|q| q.start_time == later), "{v}: the new process runs on");
    }
}

/// `System.Diagnostics.Process` as .NET behaves: an unknown PID is an
/// ArgumentException; once `Handle` is open the object is that process,
/// so after it exits `HasExited` is true and `Kill()` throws
/// InvalidOperationException; a
/// protected process cannot be opened (Win32Exception, access denied);
/// after `Dispose()` nothing is associated with the object.
#[test]
fn process_objects_follow_their_handle_as_dotnet_does() {
    use crate::lab::world::processes::Process;
    let now = LabSettings::default().start;
    for v in VERSIONS {
        let (mut h, p) = planted();
        let guard = h.processes.spawn(Process::new(r"C:\Windows\System32\czguard.exe", "", r"NT AUTHORITY\SYSTEM", "S-1-5-18").protected(), now);
        let pid = p.locked_pid;
        let script = format!(concat!(
            "try {{ [void][System.Diagnostics.Process]::GetProcessById(999999) }} catch {{ $_.Exception.InnerException.Message }}\n",
            "$p = [System.Diagnostics.Process]::GetProcessById({pid}); [void]$p.Handle; $p.HasExited; $p.ProcessName\n",
            "[void](Get-WmiObject Win32_Process -Filter 'ProcessId = {pid}').Terminate()\n",
            "$p.HasExited\n",
            "try {{ $p.Kill() }} catch {{ $_.Exception.InnerException.GetType().FullName; $_.Exception.InnerException.Message }}\n",
            "$g = [System.Diagnostics.Process]::GetProcessById({guard}); $g.Id\n",
            "try {{ $g.Kill() }} catch {{ $_.Exception.InnerException.GetType().FullName; $_.Exception.InnerException.Message }}\n",
            "$p.Dispose(); try {{ $p.Id }} catch {{ $_.Exception.InnerException.Message }}\n",
            "@([System.Diagnostics.Process]::GetProcesses() | Where-Object {{ $_.Id -eq {guard} }}).Count\n",
        ), pid = pid, guard = guard);
        let r = run_on(&mut h, v, &script);
        prints(&r, &[
            "Process with an Id of 999999 is not running.",
            "False",
            "locked",
            "True",
            "System.InvalidOperationException",
            &format!("Cannot process request because the process ({pid}) has exited."),
            &guard.to_string(),
            "System.ComponentModel.Win32Exception",
            "Access is denied",
            "No process is associated with this object.",
            "1",
        ]);
        assert!(h.processes.get(guard).is_some(), "{v}: the protected process runs on");
    }
}

/// Issue 7 item 11 on the engine: a filter bound to two consumers. Removing
/// one subscription removes its binding and its consumer; the filter and
/// the other binding stay. Asked again, nothing is left to remove
/// (already absent). Removing the other subscription then removes the
/// filter too, now that nothing uses it.
#[test]
fn a_filter_shared_by_two_consumers_stays_until_its_last_binding_goes() {
    use crate::lab::world::wmi::{Binding, Consumer};
    for v in VERSIONS {
        let (mut h, p) = planted();
        let filter = h.wmi.filters.iter().find(|f| f.name == fixture::FILTER).cloned().expect("fixture filter");
        let other_exe = r"C:\Windows\System32\other.exe";
        let other = Consumer::CommandLine { name: "CzOther".into(), command_line_template: other_exe.into(), executable_path: None };
        h.wmi.put_consumer(other.clone());
        h.wmi.put_binding(Binding::new(&filter, &other));
        let remove = |consumer: &str, action: &str| {
            job::payload(&[JobItem::Op(Op::DeleteWmiSubscription {
                filter: fixture::FILTER.into(),
                consumer: consumer.into(),
                consumer_type: "CommandLineEventConsumer".into(),
                expected_query: filter.query.clone().into(),
                expected_action: action.into(),
            })])
        };
        let r = run_on(&mut h, v, &remove(fixture::CONSUMER, &p.wmi_exe));
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.wmi.filters.iter().any(|f| f.name == fixture::FILTER), "{v}: the shared filter stays");
        assert!(h.wmi.consumers.iter().all(|c| c.name() != fixture::CONSUMER), "{v}: the consumer goes");
        let ours: Vec<_> = h.wmi.bindings.iter().filter(|b| b.filter.contains(fixture::FILTER)).collect();
        assert!(ours.len() == 1 && ours[0].consumer.contains("CzOther"), "{v}: the other binding stays: {ours:?}");
        let r = run_on(&mut h, v, &remove(fixture::CONSUMER, &p.wmi_exe));
        assert_eq!(outcomes(&r.out), [pair("already_absent", "")], "{v}: {}{}", r.out, r.err);
        let r = run_on(&mut h, v, &remove("CzOther", other_exe));
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.wmi.filters.iter().all(|f| f.name != fixture::FILTER), "{v}: unused now, the filter goes");
        assert!(h.wmi.consumers.iter().all(|c| c.name() != "CzOther"), "{v}");
        assert!(h.wmi.bindings.iter().all(|b| !b.filter.contains(fixture::FILTER)), "{v}");
    }
}

fn delete_task(path: &str, actions: &[(&str, &str, &str)]) -> String {
    let expected_actions = actions
        .iter()
        .map(|(p, a, w)| TaskAction { path: (*p).into(), arguments: (*a).into(), working_directory: (*w).into() })
        .collect();
    job::payload(&[JobItem::Op(Op::DeleteTask { path: path.into(), expected_actions })])
}

/// DeleteTask through runtime.ps1 on the engine (the Schedule.Service
/// facade), on 2.0 and 5.1: a task whose actions differ from the plan's
/// is drift naming what it runs now, and stays; with the planned actions
/// (an empty working directory included, issue 7 item 1's empty field)
/// it is deleted and its folder stays; a second run finds it already
/// absent.
#[test]
fn delete_task_deletes_only_the_task_the_plan_saw() {
    for v in VERSIONS {
        let (mut h, p) = planted();
        let r = run_on(&mut h, v, &delete_task(fixture::TASK_PATH, &[(&p.task_exe, "/y", "")]));
        let now = format!("actions [{}] [/x] []", p.task_exe);
        assert_eq!(outcomes(&r.out), [pair("drift", &now)], "{v}: {}{}", r.out, r.err);
        assert!(h.tasks.get(fixture::TASK_PATH).is_some(), "{v}: drift deletes nothing");
        let planned = delete_task(fixture::TASK_PATH, &[(&p.task_exe, "/x", "")]);
        let r = run_on(&mut h, v, &planned);
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.tasks.get(fixture::TASK_PATH).is_none(), "{v}: deleted");
        assert!(h.tasks.folder_exists(r"\CzTest"), "{v}: the folder stays");
        let r = run_on(&mut h, v, &planned);
        assert_eq!(outcomes(&r.out), [pair("already_absent", "")], "{v}");
    }
}

/// runtime.ps1 collected Win32_Service only, and WMI lists no driver
/// there, so a kernel driver a loader installed was never seen, and a
/// DeleteService of one answered already_absent while it stayed. Now
/// collection reads Win32_SystemDriver too (on 2.0 and 5.1): the driver
/// is a service record marked `driver`, its image the file WMI resolves
/// (`\??\` dropped); the ordinary services are still there, unmarked; and
/// DeleteService finds the driver, stops it and deletes it.
#[test]
fn kernel_drivers_are_collected_and_deleted() {
    use crate::lab::world::services::{Service, ServiceKind, ServiceState, StartType};
    use crate::runtime::ops::Query;
    use crate::runtime::{Bounds, assemble};
    for v in VERSIONS {
        let (mut h, _) = planted();
        let mut d = Service::new("czdrv", "Cz Driver", r"\??\C:\ProgramData\CzTest\czdrv.sys", StartType::System);
        d.kind = ServiceKind::KernelDriver;
        d.state = ServiceState::Running;
        h.services.create(d, &mut h.registry).expect("driver");
        let frames = super::jobs::run_items(&mut h, v, &[JobItem::Query(Query::Collect { bounds: Bounds::default() })]);
        let s = assemble::snapshot(&frames, 0);
        let drv = s.services.iter().find(|x| x.name == "czdrv").unwrap_or_else(|| panic!("{v}: the driver is missed"));
        assert!(drv.driver, "{v}");
        assert_eq!((drv.image_path.as_str(), drv.start_type.as_str(), drv.state.as_str()), (r"C:\ProgramData\CzTest\czdrv.sys", "system", "running"), "{v}");
        assert!(s.services.iter().any(|x| x.name == SERVICE && !x.driver), "{v}");
        let op = Op::DeleteService { name: "czdrv".into(), expected_image_path: drv.image_path.as_str().into(), expected_service_dll: "".into() };
        let r = run_on(&mut h, v, &job::payload(&[JobItem::Op(op)]));
        assert_eq!(outcomes(&r.out), [pair("done", "")], "{v}: {}{}", r.out, r.err);
        assert!(h.services.get("czdrv").is_none(), "{v}: deleted");
    }
}
