//! `Win32_Process`, `Win32_Service` and `Win32_SystemDriver` (root\cimv2) over the host's
//! process table and Service Control Manager, with WMI's behaviour:
//!
//! - `Win32_Process`: a caller that is not an administrator sees no
//!   `ExecutablePath` or `CommandLine` for another account's process
//!   (`$null`), and `GetOwner` and `GetOwnerSid` answer ReturnValue 2 for it; `Terminate`
//!   answers 0, or 2 (access denied: a protected process, or another
//!   account's without administrator rights); a process that has gone
//!   since the object was read throws ManagementException "Not found ".
//! - `Win32_Service` lists services, not drivers (those are
//!   `Win32_SystemDriver`); a service marked for deletion is still listed.
//! - `Win32_SystemDriver` lists kernel and file-system drivers with the
//!   same properties and methods; its `PathName` is the driver's file as
//!   WMI resolves the ImagePath (`\SystemRoot\` and a path relative to the
//!   Windows folder become `C:\Windows\...`, a `\??\` prefix goes), and
//!   `StartName` is empty.
//!   `StopService` answers 0, 2 (not an administrator) or 6 (not active);
//!   `Delete` answers 0 (a running service is only marked, and goes when it
//!   stops), 2, or 16 (already marked for deletion).
//!
//! Methods Windows has that the lab does not serve throw a lab
//! NotSupportedException naming them (never "no such method").

use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetResult};
use crate::lab::powershell::value::Value;
use crate::lab::world::files::Pid;
use crate::lab::world::services::{Service, ServiceError, ServiceKind, ServiceState, StartType};

use super::wmi::{Handle, WmiObject, cim_datetime, escape_key, not_found, out_params};

fn object(cx: &Ctx<'_>, class: &str, relpath: String, props: Vec<(&str, Value)>, view: &'static [&'static str], handle: Handle) -> WmiObject {
    WmiObject {
        class: class.into(),
        namespace: r"root\cimv2".into(),
        computer: cx.spec.name.clone(),
        relpath,
        props: props.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        view,
        handle,
    }
}

fn opt(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { Value::str(s) }
}

/// Whether the caller may see and act on a process of account `owner`.
pub(crate) fn may_touch(cx: &Ctx<'_>, owner: &str) -> bool {
    cx.admin || owner.eq_ignore_ascii_case(&cx.user)
}

/// Every process, in process-table order.
pub fn processes(cx: &Ctx<'_>) -> Vec<WmiObject> {
    cx.host
        .processes
        .iter()
        .map(|p| {
            let visible = may_touch(cx, &p.user);
            let path = if visible && p.image.contains('\\') { Value::str(&p.image) } else { Value::Null };
            let command_line = if visible { opt(&p.command_line) } else { Value::Null };
            let props = vec![
                ("Name", Value::str(p.image_name())),
                ("Caption", Value::str(p.image_name())),
                ("ProcessId", Value::Int(p.pid as i32)),
                ("ParentProcessId", Value::Int(p.ppid as i32)),
                ("Handle", Value::string(p.pid.to_string())),
                ("SessionId", Value::Int(p.session as i32)),
                ("ExecutablePath", path),
                ("CommandLine", command_line),
                ("CreationDate", Value::string(cim_datetime(cx, p.start_time))),
            ];
            let rel = format!("Win32_Process.Handle=\"{}\"", p.pid);
            object(cx, "Win32_Process", rel, props, &["ProcessId", "Name", "Handle", "CommandLine"], Handle::Process(p.pid))
        })
        .collect()
}

fn unserved(class: &str, method: &str) -> NetError {
    NetError::exception("System.NotSupportedException", format!("The cauterize lab's PowerShell engine does not serve {class}.{method} yet."))
}

/// A method of a `Win32_Process` object.
pub fn process_method(cx: &mut Ctx<'_>, pid: Pid, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
    let lower = name.to_ascii_lowercase();
    let r = match lower.as_str() {
        "terminate" => terminate(cx, pid, args),
        "getowner" => get_owner(cx, pid, args),
        "getownersid" => get_owner_sid(cx, pid, args),
        "setpriority" | "attachdebugger" | "getavailablevirtualsize" => Err(unserved("Win32_Process", name)),
        _ => return None,
    };
    Some(r)
}

fn terminate(cx: &mut Ctx<'_>, pid: Pid, args: &[Value]) -> NetResult<Value> {
    let a = Args::new(args);
    a.count(&[0, 1])?;
    let p = cx.host.processes.get(pid).ok_or_else(not_found)?;
    if p.protected || !may_touch(cx, &p.user) {
        return Ok(out_params(cx, vec![("ReturnValue", Value::Int(2))]));
    }
    let code = match cx.host.kill(pid) {
        Ok(_) => 0,
        Err(e) if e.win32_code() == 5 => 2,
        Err(_) => return Err(not_found()),
    };
    Ok(out_params(cx, vec![("ReturnValue", Value::Int(code))]))
}

fn get_owner(cx: &mut Ctx<'_>, pid: Pid, args: &[Value]) -> NetResult<Value> {
    Args::new(args).count(&[0])?;
    let p = cx.host.processes.get(pid).ok_or_else(not_found)?;
    if !may_touch(cx, &p.user) {
        return Ok(out_params(cx, vec![("ReturnValue", Value::Int(2)), ("Domain", Value::Null), ("User", Value::Null)]));
    }
    let (domain, user) = p.user.split_once('\\').unwrap_or(("", &p.user));
    let (domain, user) = (Value::str(domain), Value::str(user));
    Ok(out_params(cx, vec![("ReturnValue", Value::Int(0)), ("Domain", domain), ("User", user)]))
}

/// `GetOwnerSid`: ReturnValue 0 and the owner's SID, or 2 (access denied)
/// and no SID for another account's process when the caller is not an
/// administrator.
fn get_owner_sid(cx: &mut Ctx<'_>, pid: Pid, args: &[Value]) -> NetResult<Value> {
    Args::new(args).count(&[0])?;
    let p = cx.host.processes.get(pid).ok_or_else(not_found)?;
    if !may_touch(cx, &p.user) {
        return Ok(out_params(cx, vec![("ReturnValue", Value::Int(2)), ("Sid", Value::Null)]));
    }
    let sid = Value::str(&p.user_sid);
    Ok(out_params(cx, vec![("ReturnValue", Value::Int(0)), ("Sid", sid)]))
}

fn start_mode(s: StartType) -> &'static str {
    match s {
        StartType::Boot => "Boot",
        StartType::System => "System",
        StartType::Auto => "Auto",
        StartType::Demand => "Manual",
        StartType::Disabled => "Disabled",
    }
}

/// The properties `Win32_Service` and `Win32_SystemDriver` share, for
/// one entry of the Service Control Manager: its file as the class shows
/// it, its account and its type as WMI words them.
fn scm_props(s: &Service, path: String, start_name: &str, kind: &str) -> Vec<(&'static str, Value)> {
    let running = s.state == ServiceState::Running;
    vec![
        ("Name", Value::str(&s.name)),
        ("DisplayName", Value::str(&s.display_name)),
        ("Caption", Value::str(&s.display_name)),
        ("Description", opt(&s.description)),
        ("PathName", Value::str(&path)),
        ("StartMode", Value::str(start_mode(s.start))),
        ("State", Value::str(if running { "Running" } else { "Stopped" })),
        ("Started", Value::Bool(running)),
        ("AcceptStop", Value::Bool(running)),
        ("StartName", Value::str(start_name)),
        ("ServiceType", Value::str(kind)),
        ("Status", Value::str("OK")),
    ]
}

/// Every service (drivers are not services to WMI), by name.
pub fn services(cx: &Ctx<'_>) -> Vec<WmiObject> {
    cx.host
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::OwnProcess | ServiceKind::ShareProcess))
        .map(|s| {
            let running = s.state == ServiceState::Running;
            let kind = if s.kind == ServiceKind::OwnProcess { "Own Process" } else { "Share Process" };
            let mut props = scm_props(s, s.image_path.clone(), &s.account, kind);
            props.push(("ProcessId", Value::Int(s.pid.filter(|_| running).unwrap_or(0) as i32)));
            let rel = format!("Win32_Service.Name=\"{}\"", escape_key(&s.name));
            object(cx, "Win32_Service", rel, props, &["ExitCode", "Name", "ProcessId", "StartMode", "State", "Status"], Handle::Service(s.name.clone()))
        })
        .collect()
}

/// A driver's ImagePath as `Win32_SystemDriver.PathName` shows it: the
/// file, resolved as the kernel loads it.
fn driver_path(image: &str) -> String {
    const WINDOWS: &str = r"C:\Windows";
    let p = image.strip_prefix(r"\??\").unwrap_or(image);
    let lower = p.to_ascii_lowercase();
    for root in [r"\systemroot\", r"%systemroot%\"] {
        if let Some(rest) = lower.strip_prefix(root).map(|r| &p[p.len() - r.len()..]) {
            return format!(r"{WINDOWS}\{rest}");
        }
    }
    let absolute = p.starts_with('\\') || p.as_bytes().get(1) == Some(&b':');
    if absolute || p.is_empty() { p.to_string() } else { format!(r"{WINDOWS}\{p}") }
}

/// Every kernel and file-system driver, by name.
pub fn drivers(cx: &Ctx<'_>) -> Vec<WmiObject> {
    cx.host
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::KernelDriver | ServiceKind::FileSystemDriver))
        .map(|s| {
            let kind = if s.kind == ServiceKind::KernelDriver { "Kernel Driver" } else { "File System Driver" };
            let props = scm_props(s, driver_path(&s.image_path), "", kind);
            let rel = format!("Win32_SystemDriver.Name=\"{}\"", escape_key(&s.name));
            object(cx, "Win32_SystemDriver", rel, props, &["Name", "StartMode", "State", "Status"], Handle::Service(s.name.clone()))
        })
        .collect()
}

/// A method of a `Win32_Service` object.
pub fn service_method(cx: &mut Ctx<'_>, name: &str, method: &str, args: &[Value]) -> Option<NetResult<Value>> {
    let r = match method.to_ascii_lowercase().as_str() {
        "stopservice" => Args::new(args).count(&[0]).and_then(|_| stop_service(cx, name)),
        "delete" => Args::new(args).count(&[0]).and_then(|_| delete_service(cx, name)),
        "startservice" | "pauseservice" | "resumeservice" | "change" | "changestartmode" | "interrogateservice" | "usercontrolservice" => Err(unserved("Win32_Service", method)),
        _ => return None,
    };
    Some(r.map(|code| out_params(cx, vec![("ReturnValue", Value::Int(code))])))
}

fn stop_service(cx: &mut Ctx<'_>, name: &str) -> NetResult<i32> {
    let s = cx.host.services.get(name).ok_or_else(not_found)?;
    if !cx.admin {
        return Ok(2);
    }
    if s.state != ServiceState::Running {
        return Ok(6);
    }
    let own = s.kind == ServiceKind::OwnProcess;
    // An own-process service's process exits when the service stops; a
    // shared svchost goes on hosting the others.
    if let Some(pid) = cx.host.services.stopped(name, &mut cx.host.registry)
        && own
        && cx.host.services.hosted_by(pid).next().is_none()
    {
        let _ = cx.host.processes.kill(pid);
    }
    Ok(0)
}

fn delete_service(cx: &mut Ctx<'_>, name: &str) -> NetResult<i32> {
    if cx.host.services.get(name).is_none() {
        return Err(not_found());
    }
    if !cx.admin {
        return Ok(2);
    }
    match cx.host.services.delete(name, &mut cx.host.registry) {
        Ok(_) => Ok(0),
        Err(ServiceError::MarkedForDelete(_)) => Ok(16),
        Err(_) => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, run_with};
    use crate::lab::world::HostState;
    use crate::lab::world::processes::Process;
    use crate::lab::world::services::{Service, ServiceState, StartType};

    fn plant(w: &mut HostState) {
        let now = w.boot_time;
        let pid = w.processes.spawn(Process::new(r"C:\Users\bob\AppData\Roaming\x\evil.exe", r#""C:\Users\bob\AppData\Roaming\x\evil.exe" -k"#, r"CORP\bob", "S-1-5-21-1-2-3-1001"), now);
        let guard = w.processes.spawn(Process::new(r"C:\Windows\System32\czguard.exe", "", r"NT AUTHORITY\SYSTEM", "S-1-5-18").protected(), now);
        assert!(pid > 0 && guard > 0);
        let mut s = Service::new("EvilSvc", "Evil Service", r"C:\ProgramData\evil\svc.exe", StartType::Auto);
        s.state = ServiceState::Running;
        s.pid = Some(pid);
        w.services.create(s, &mut w.registry).expect("fresh service");
        w.services.create(Service::new("IdleSvc", "Idle Service", r"C:\idle.exe", StartType::Demand), &mut w.registry).expect("fresh service");
    }

    fn v5(script: &str) -> (crate::lab::powershell::tests::Run, HostState) {
        run_with("5.1.19041.1", plant, script)
    }

    /// WMI properties are case-insensitive and typed as WMI types them.
    #[test]
    fn processes_read_with_case_insensitive_properties_and_wql_filter() {
        let (r, _) = v5(concat!(
            "$p = @(Get-WmiObject -Class Win32_Process -Filter \"name = 'EVIL.exe'\"); $p.Count; $p[0].executablepath; $p[0].COMMANDLINE; ",
            "$p[0].__CLASS; $p[0].CreationDate.Length; $o = $p[0].GetOwner(); $o.ReturnValue; $o.Domain + '\\' + $o.User; ",
            "$id = $p[0].ProcessId; @(Get-WmiObject Win32_Process -Filter ('ProcessId = ' + $id)).Count; @(Get-WmiObject Win32_Process -Filter 'ProcessId = 1').Count"
        ));
        prints(&r, &["1", r"C:\Users\bob\AppData\Roaming\x\evil.exe", r#""C:\Users\bob\AppData\Roaming\x\evil.exe" -k"#, "Win32_Process", "25", "0", r"CORP\bob", "1", "0"]);
    }

    /// `Get-WmiObject : Invalid query "select * from Win32_Process where Nope = 1"`.
    #[test]
    fn a_filter_on_a_missing_property_is_an_invalid_query() {
        let (r, _) = v5("Get-WmiObject Win32_Process -Filter 'Nope = 1' -ErrorAction Stop");
        assert!(r.flat().contains(r#"Invalid query "select * from Win32_Process where Nope = 1""#), "{}", r.err);
        let (r, _) = v5("Get-WmiObject Win32_Process -Filter 'ProcessId =' -ErrorAction Stop");
        assert!(r.flat().contains("Invalid query"), "{}", r.err);
    }

    /// Terminate: 0 on success, 2 for a protected process; a process gone
    /// since it was read is ManagementException "Not found ".
    #[test]
    fn terminate_kills_refuses_protected_and_reports_gone() {
        let (r, w) = v5(concat!(
            "$p = Get-WmiObject Win32_Process -Filter \"Name = 'evil.exe'\"; $p.Terminate().ReturnValue; ",
            "(Get-WmiObject Win32_Process -Filter \"Name = 'czguard.exe'\").Terminate().ReturnValue; ",
            "try { $p.Terminate() } catch { $_.Exception.InnerException.GetType().FullName + ': ' + $_.Exception.InnerException.Message }"
        ));
        prints(&r, &["0", "2", "System.Management.ManagementException: Not found "]);
        assert_eq!(w.processes.by_image_name("evil.exe").count(), 0);
        assert_eq!(w.processes.by_image_name("czguard.exe").count(), 1);
    }

    #[test]
    fn services_list_with_wmi_names_for_start_mode_and_state() {
        let (r, _) = v5(concat!(
            "$s = @(Get-WmiObject -Class Win32_Service | Where-Object { $_.Name -eq 'evilsvc' })[0]; ",
            "$s.PathName; $s.StartMode; $s.State; $s.StartName; $s.ProcessId -gt 0; ",
            "$i = Get-WmiObject Win32_Service -Filter \"Name='IdleSvc'\"; $i.StartMode; $i.State; $i.ProcessId"
        ));
        prints(&r, &[r"C:\ProgramData\evil\svc.exe", "Auto", "Running", "LocalSystem", "True", "Manual", "Stopped", "0"]);
    }

    /// StopService on a stopped service is 6 (Service Not Active); Delete
    /// of a running service marks it (0) and a second Delete answers 16
    /// (Service Marked For Deletion); it goes when it stops, and its own
    /// process exits with it.
    #[test]
    fn stop_and_delete_service_return_codes() {
        let (r, w) = v5(concat!(
            "$i = Get-WmiObject Win32_Service -Filter \"Name='IdleSvc'\"; $i.StopService().ReturnValue; $i.Delete().ReturnValue; ",
            "$s = Get-WmiObject Win32_Service -Filter \"Name='EvilSvc'\"; $s.Delete().ReturnValue; $s.Delete().ReturnValue; ",
            "@(Get-WmiObject Win32_Service -Filter \"Name='EvilSvc'\").Count; $s.StopService().ReturnValue; @(Get-WmiObject Win32_Service -Filter \"Name='EvilSvc'\").Count; ",
            "try { $s.Delete() } catch { $_.Exception.InnerException.Message }"
        ));
        prints(&r, &["6", "0", "0", "16", "1", "0", "0", "Not found "]);
        assert!(w.services.get("IdleSvc").is_none() && w.services.get("EvilSvc").is_none());
        assert_eq!(w.processes.by_image_name("evil.exe").count(), 0);
    }

    #[test]
    fn unserved_methods_say_so() {
        let (r, _) = v5("(Get-WmiObject Win32_Service -Filter \"Name='IdleSvc'\").StartService()");
        assert!(r.flat().contains("does not serve Win32_Service.StartService yet"), "{}", r.err);
        let (r, _) = v5("(Get-WmiObject Win32_Service -Filter \"Name='IdleSvc'\").Nope()");
        assert!(r.flat().contains("does not contain a method named 'Nope'"), "{}", r.err);
    }
}
