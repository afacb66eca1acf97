//! `System.Diagnostics.Process` over the host's process table, as .NET
//! Framework behaves on Windows:
//!
//! - `GetProcessById(id)` only checks that the PID runs something now
//!   (else ArgumentException "Process with an Id of N is not running.");
//!   it opens nothing. `GetProcesses()` lists every process.
//! - `Handle` opens the process (PROCESS_ALL_ACCESS) and the object keeps
//!   that handle: from then on every member acts on *that* process, even
//!   if it exits (Windows never reuses a PID while a handle is open, and
//!   a reused PID is another process). Without a cached handle each member
//!   opens whatever runs at the PID at that moment.
//! - Opening a protected process, or another user's without being an
//!   administrator, is Win32Exception "Access is denied"; acting on an
//!   exited process is InvalidOperationException "Cannot process request
//!   because the process (N) has exited." (`Kill`, `StartTime`, `Handle`);
//!   `HasExited` says true.
//! - `Kill()` is TerminateProcess (services hosted in it stop);
//!   `WaitForExit(ms)` returns whether the process has exited, letting the
//!   command's clock run `ms` when it has not; `Dispose()`/`Close()` drop
//!   the handle, after which members throw "No process is associated with
//!   this object."
//!
//! A process is told apart from a later one on the same PID by its start
//! time (CreationDate).

use std::borrow::Cow;
use std::cell::Cell;

use super::wmi_cimv2::may_touch;
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::dotnet::time;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::Value;
use crate::lab::world::LabTime;
use crate::lab::world::files::Pid;
use crate::lab::world::processes::Process;

const TYPE: &str = "System.Diagnostics.Process";

/// A `Process` object: a PID, and the process its cached handle holds.
struct ProcessObj {
    pid: Pid,
    /// The start time of the process the cached handle refers to.
    handle: Cell<Option<LabTime>>,
    disposed: Cell<bool>,
}

fn exited(pid: Pid) -> NetError {
    NetError::exception("System.InvalidOperationException", format!("Cannot process request because the process ({pid}) has exited."))
}

fn access_denied() -> NetError {
    NetError::exception("System.ComponentModel.Win32Exception", "Access is denied")
}

fn no_process() -> NetError {
    NetError::exception("System.InvalidOperationException", "No process is associated with this object.")
}

impl ProcessObj {
    fn new(pid: Pid) -> ProcessObj {
        ProcessObj { pid, handle: Cell::new(None), disposed: Cell::new(false) }
    }

    /// The process this object acts on now: the one its handle holds, or
    /// whatever runs at the PID; `None` when that has exited.
    fn target<'c>(&self, cx: &'c Ctx<'_>) -> Option<&'c Process> {
        let p = cx.host.processes.get(self.pid)?;
        match self.handle.get() {
            Some(started) if p.start_time != started => None,
            _ => Some(p),
        }
    }

    /// OpenProcess: the target, or why it cannot be opened.
    fn open<'c>(&self, cx: &'c Ctx<'_>) -> NetResult<&'c Process> {
        let p = self.target(cx).ok_or_else(|| exited(self.pid))?;
        if p.protected || !may_touch(cx, &p.user) { Err(access_denied()) } else { Ok(p) }
    }

    fn get_inner(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "id" => Ok(Value::Int(self.pid as i32)),
            "handle" => self.open(cx).map(|p| p.start_time).map(|started| {
                self.handle.set(Some(started));
                Value::Long(0x400 + i64::from(self.pid))
            }),
            "hasexited" => match self.target(cx) {
                None => Ok(Value::Bool(true)),
                Some(_) => self.open(cx).map(|_| Value::Bool(false)),
            },
            "starttime" => self.open(cx).map(|p| p.start_time).map(|t| time::from_lab(cx, t, false)),
            "processname" => self.target(cx).map(|p| Value::string(base_name(p.image_name()))).ok_or_else(|| {
                NetError::exception("System.InvalidOperationException", "Process has exited, so the requested information is not available.")
            }),
            // PowerShell's script property: `$this.MainModule.FileName`,
            // `$null` when the module cannot be read.
            "path" => Ok(self.open(cx).map(|p| Value::string(p.image.clone())).unwrap_or(Value::Null)),
            _ => return None,
        })
    }

    fn call_inner(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "kill" => a.count(&[0]).and_then(|_| {
                self.open(cx)?;
                cx.host.kill(self.pid).map_err(|_| access_denied())?;
                Ok(void())
            }),
            "waitforexit" => a.count(&[0, 1]).and_then(|_| {
                if self.target(cx).is_none() {
                    return Ok(if a.is_empty() { void() } else { Value::Bool(true) });
                }
                if a.is_empty() {
                    return Err(NetError::exception("System.NotSupportedException", "the lab's WaitForExit() would wait forever on a process that runs"));
                }
                let ms = a.int(0, cx)?;
                cx.wait(i64::from(ms.max(0)));
                Ok(Value::Bool(false))
            }),
            "refresh" => a.count(&[0]).map(|_| void()),
            _ => return None,
        })
    }
}

/// The image name without its extension, as `ProcessName` gives it.
fn base_name(image: &str) -> String {
    match image.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => image.to_string(),
    }
}

impl NetObject for ProcessObj {
    fn type_name(&self) -> Cow<'static, str> {
        TYPE.into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.ComponentModel.Component", "System.MarshalByRefObject", "System.IDisposable"]
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let r = self.get_inner(cx, name)?;
        Some(if self.disposed.get() { Err(no_process()) } else { r })
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Dispose") || is(name, "Close") {
            self.handle.set(None);
            self.disposed.set(true);
            return Some(Args::new(args).count(&[0]).map(|_| void()));
        }
        if self.disposed.get() {
            return self.call_inner(cx, name, args).map(|_| Err(no_process()));
        }
        self.call_inner(cx, name, args)
    }
    fn to_text(&self, cx: &mut Ctx<'_>) -> String {
        match self.target(cx) {
            Some(p) => format!("{TYPE} ({})", base_name(p.image_name())),
            None => TYPE.to_string(),
        }
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Id".into(), "ProcessName".into(), "Handle".into(), "HasExited".into(), "StartTime".into(), "Path".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct ProcessType;

impl NetType for ProcessType {
    fn full_name(&self) -> &str {
        TYPE
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        if is(name, "GetProcessById") {
            return Some(a.count(&[1]).and_then(|_| {
                let id = a.int(0, cx)?;
                match u32::try_from(id).ok().filter(|pid| cx.host.processes.get(*pid).is_some()) {
                    Some(pid) => Ok(Value::object(ProcessObj::new(pid))),
                    None => Err(NetError::argument(format!("Process with an Id of {id} is not running."))),
                }
            }));
        }
        if is(name, "GetProcesses") {
            return Some(a.count(&[0]).map(|_| Value::array(cx.host.processes.iter().map(|p| Value::object(ProcessObj::new(p.pid))).collect())));
        }
        None
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(ProcessType);
}
