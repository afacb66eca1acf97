//! `New-Object -ComObject Schedule.Service`, Task Scheduler 2.0's COM API,
//! over the host's task store (`world::tasks`). As Windows does:
//! - `Connect()`, then `GetFolder(path)` (throws 0x80070002 for a folder
//!   that does not exist), `NewTask(0)` for an empty definition.
//! - A folder: `GetTask(name)`, `GetTasks(flags)` (1: hidden ones too),
//!   `GetFolders(0)` (the folders right below it),
//!   `DeleteTask(name, 0)`, `CreateFolder(path)` (0x800700B7 when it
//!   exists), `RegisterTaskDefinition(name, def, flags, user, password,
//!   logonType)`: flags 2 create (refused when it exists), 4 update
//!   (refused when it does not), 6 either; user `SYSTEM` with logon type 5
//!   (service account) runs it as `NT AUTHORITY\SYSTEM`.
//! - A definition: `RegistrationInfo` (Author, Description), `Principal`
//!   (UserId, RunLevel), `Settings` (Enabled, Hidden, StartWhenAvailable,
//!   the battery switches, ExecutionTimeLimit), `Triggers.Create(type)`
//!   (1 time, 2 daily, 8 boot, 9 logon) with StartBoundary/EndBoundary as
//!   `YYYY-MM-DDTHH:MM:SS` followed by `Z`, an offset `±HH:MM`, or nothing
//!   (the host's local time; lab hosts keep UTC), `Actions.Create(0)` (exec:
//!   Path, Arguments, WorkingDirectory). A time trigger without a
//!   StartBoundary is refused at registration (0x80041319, as Windows).
//! - A registered task: Name, Path, Enabled, State, LastTaskResult (the
//!   last run's exit code; 0x41303 before the first run), Definition.
//! - A task whose stored image was tampered with is listed, but reading
//!   its `Definition` throws 0x80041321 ("The task image is corrupt or has
//!   been tampered with"), as Windows does.
//! - Read back, a boundary is written with `Z` (the lab keeps instants,
//!   not the text registered). Boundaries are on the host's clock
//!   (`[DateTime]::UtcNow`, skew included), the store's triggers in lab
//!   time: they convert through `Ctx::host_ticks` and `Ctx::lab_time_of`,
//!   as file times do, so a deadline computed from the host's clock fires
//!   when the host's clock reaches it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use crate::lab::powershell::convert;
use crate::lab::powershell::dates;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, Registry, is, void};
use crate::lab::powershell::value::Value;
use crate::lab::world::LabTime;
use crate::lab::world::tasks::{ExecAction, Principal, Task, Trigger, TaskError, norm_folder, task_path};

const COM: &str = "System.Runtime.InteropServices.COMException";

fn com_error(message: &str) -> NetError {
    NetError::exception(COM, message.to_string())
}

fn task_error(e: &TaskError) -> NetError {
    match e {
        TaskError::NotFound(_) => com_error("The system cannot find the file specified. (Exception from HRESULT: 0x80070002)"),
        TaskError::Exists(_) => com_error("Cannot create a file when that file already exists. (Exception from HRESULT: 0x800700B7)"),
    }
}

fn arity(args: &[Value], min: usize, max: usize) -> NetResult<()> {
    if args.len() < min || args.len() > max {
        return Err(NetError::NoOverload { argc: args.len() });
    }
    Ok(())
}

/// A task boundary as Task Scheduler reads it, as .NET ticks (UTC) on the
/// host's clock; `None` when malformed.
pub fn parse_boundary(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    let ticks = dates::from_parts(
        i64::from(num(0..4)?),
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        0,
    )?;
    let offset_secs: i64 = match &s[19..] {
        "" | "Z" => 0,
        rest if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) && &rest[3..4] == ":" => {
            let h = i64::from(num(20..22)?);
            let m = i64::from(num(23..25)?);
            let v = h * 3600 + m * 60;
            if rest.starts_with('+') { v } else { -v }
        }
        _ => return None,
    };
    Some(ticks - offset_secs * dates::TICKS_PER_SEC)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of .NET ticks (UTC).
pub fn format_boundary(ticks: i64) -> String {
    let p = dates::parts(ticks);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", p.y, p.mo, p.d, p.h, p.mi, p.s)
}

#[derive(Debug, Clone, Default)]
struct TriggerDef {
    kind: i64,
    start: String,
    end: String,
    enabled: bool,
}

#[derive(Debug, Clone, Default)]
struct ActionDef {
    path: String,
    arguments: String,
    working_dir: String,
}

/// An `ITaskDefinition` being written (or read back).
#[derive(Debug, Clone, Default)]
struct Def {
    author: String,
    description: String,
    user_id: String,
    run_level: i64,
    enabled: bool,
    hidden: bool,
    start_when_available: bool,
    time_limit: String,
    triggers: Vec<TriggerDef>,
    actions: Vec<ActionDef>,
}

impl Def {
    fn new() -> Def {
        Def { enabled: true, time_limit: "PT72H".into(), ..Def::default() }
    }

    fn of_task(t: &Task, cx: &Ctx<'_>) -> Def {
        let boundary = |l: LabTime| format_boundary(cx.host_ticks(l));
        let triggers = t
            .triggers
            .iter()
            .map(|tr| {
                let (kind, start, end) = match tr {
                    Trigger::Time { start, end, .. } => (1, boundary(*start), end.map(boundary)),
                    Trigger::Daily { start, end, .. } => (2, boundary(*start), end.map(boundary)),
                    Trigger::Boot { .. } => (8, String::new(), None),
                    Trigger::Logon { .. } => (9, String::new(), None),
                };
                TriggerDef { kind, start, end: end.unwrap_or_default(), enabled: true }
            })
            .collect();
        let actions = t
            .actions
            .iter()
            .map(|a| ActionDef { path: a.path.clone(), arguments: a.arguments.clone(), working_dir: a.working_dir.clone().unwrap_or_default() })
            .collect();
        Def {
            author: t.author.clone(),
            description: t.description.clone(),
            user_id: t.principal.user_id.clone(),
            run_level: i64::from(t.principal.highest),
            enabled: t.enabled,
            hidden: t.hidden,
            start_when_available: t.start_when_available,
            time_limit: "PT72H".into(),
            triggers,
            actions,
        }
    }

    /// The task the store keeps, or why Task Scheduler refuses it.
    fn to_task(&self, folder: &str, name: &str, principal: Principal, cx: &Ctx<'_>) -> NetResult<Task> {
        let now = cx.now();
        let instant = |s: &str| parse_boundary(s).and_then(|t| cx.lab_time_of(t));
        let mut t = Task::new(folder, name, principal);
        t.author = self.author.clone();
        t.description = self.description.clone();
        t.enabled = self.enabled;
        t.hidden = self.hidden;
        t.start_when_available = self.start_when_available;
        t.registered = now;
        let missing = || com_error("The task XML is missing a required element or attribute. (Exception from HRESULT: 0x80041319)");
        let bad = || com_error("The task XML contains a value which is incorrectly formatted or out of range. (Exception from HRESULT: 0x80041318)");
        for tr in self.triggers.iter().filter(|t| t.enabled) {
            let end = if tr.end.is_empty() { None } else { Some(instant(&tr.end).ok_or_else(bad)?) };
            let start = || -> NetResult<LabTime> {
                if tr.start.is_empty() {
                    return Err(missing());
                }
                instant(&tr.start).ok_or_else(bad)
            };
            t.triggers.push(match tr.kind {
                1 => Trigger::Time { start: start()?, end, repetition: None },
                2 => Trigger::Daily { start: start()?, days_interval: 1, end, repetition: None },
                8 => Trigger::Boot { repetition: None },
                _ => Trigger::Logon { user: None, repetition: None },
            });
        }
        if self.actions.is_empty() {
            return Err(missing());
        }
        for a in &self.actions {
            let mut e = ExecAction::new(&a.path, &a.arguments);
            e.working_dir = (!a.working_dir.is_empty()).then(|| a.working_dir.clone());
            t.actions.push(e);
        }
        Ok(t)
    }
}

type Shared = Rc<RefCell<Def>>;

/// `ITaskService`.
#[derive(Debug)]
struct Service;

impl NetObject for Service {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{2faba4c7-4da9-4013-9697-20cc3fd40f85}".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Connected").then(|| Ok(Value::Bool(true)))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        Some(if is(name, "Connect") {
            arity(args, 0, 4).map(|()| void())
        } else if is(name, "GetFolder") {
            arity(args, 1, 1).and_then(|()| {
                let path = norm_folder(&convert::to_string(&args[0], cx));
                if cx.host.tasks.folder_exists(&path) {
                    Ok(Value::object(Folder { path }))
                } else {
                    Err(task_error(&TaskError::NotFound(path)))
                }
            })
        } else if is(name, "NewTask") {
            arity(args, 1, 1).map(|()| Value::object(Definition(Rc::new(RefCell::new(Def::new())))))
        } else {
            return None;
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `ITaskFolder`.
#[derive(Debug)]
struct Folder {
    path: String,
}

impl Folder {
    fn registered(&self, cx: &mut Ctx<'_>, name: &str) -> NetResult<Value> {
        let p = task_path(&self.path, name);
        match cx.host.tasks.get(&p) {
            Some(t) => Ok(Value::object(Registered(t.clone()))),
            None => Err(task_error(&TaskError::NotFound(p))),
        }
    }

    fn register(&self, cx: &mut Ctx<'_>, args: &[Value]) -> NetResult<Value> {
        arity(args, 3, 7)?;
        let name = convert::to_string(&args[0], cx);
        let Value::Object(o) = &args[1] else { return Err(NetError::argument("not a task definition")) };
        let Some(def) = o.as_any().downcast_ref::<Definition>() else { return Err(NetError::argument("not a task definition")) };
        let flags = convert::to_i64(&args[2], cx).unwrap_or(0);
        let user = args.get(3).map(|v| convert::to_string(v, cx)).unwrap_or_default();
        let logon = args.get(5).and_then(|v| convert::to_i64(v, cx).ok()).unwrap_or(0);
        let d = def.0.borrow().clone();
        let principal = if logon == 5 || ["SYSTEM", r"NT AUTHORITY\SYSTEM", "S-1-5-18"].iter().any(|s| user.eq_ignore_ascii_case(s)) {
            Principal::system()
        } else if !user.is_empty() {
            Principal::user(&user)
        } else if !d.user_id.is_empty() {
            Principal::user(&d.user_id)
        } else {
            Principal::user(cx.user.as_str())
        };
        let path = task_path(&self.path, &name);
        let exists = cx.host.tasks.get(&path).is_some();
        if flags & 6 == 2 && exists {
            return Err(task_error(&TaskError::Exists(path)));
        }
        if flags & 6 == 4 && !exists {
            return Err(task_error(&TaskError::NotFound(path)));
        }
        let mut task = d.to_task(&self.path, &name, principal, cx)?;
        task.principal.highest = task.principal.highest || d.run_level == 1;
        // As Windows does for any registration: the Task Scheduler log's
        // 106 and, where task auditing is on, the Security log's 4698,
        // with the caller as the subject.
        let (user, now) = (cx.user.clone(), cx.now());
        cx.host.register_task(task.clone(), true, &user, now).map_err(|e| task_error(&e))?;
        Ok(Value::object(Registered(task)))
    }
}

impl NetObject for Folder {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{8cfac062-a080-4c15-9a88-aa7c2af80dfc}".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Path") {
            Value::string(self.path.clone())
        } else if is(name, "Name") {
            Value::string(if self.path == "\\" { "\\".into() } else { self.path.rsplit('\\').next().unwrap_or("").to_string() })
        } else {
            return None;
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        Some(if is(name, "GetTask") {
            arity(args, 1, 1).and_then(|()| {
                let n = convert::to_string(&args[0], cx);
                self.registered(cx, &n)
            })
        } else if is(name, "GetTasks") {
            arity(args, 1, 1).map(|()| {
                let hidden = convert::to_i64(&args[0], cx).unwrap_or(0) & 1 != 0;
                let list = cx
                    .host
                    .tasks
                    .iter()
                    .filter(|t| t.folder.eq_ignore_ascii_case(&self.path) && (hidden || !t.hidden))
                    .map(|t| Value::object(Registered(t.clone())))
                    .collect();
                Value::array(list)
            })
        } else if is(name, "GetFolders") {
            arity(args, 1, 1).map(|()| Value::array(cx.host.tasks.subfolders(&self.path).into_iter().map(|path| Value::object(Folder { path })).collect()))
        } else if is(name, "DeleteTask") {
            arity(args, 1, 2).and_then(|()| {
                let n = convert::to_string(&args[0], cx);
                cx.host.tasks.delete(&task_path(&self.path, &n)).map(|_| void()).map_err(|e| task_error(&e))
            })
        } else if is(name, "CreateFolder") {
            arity(args, 1, 2).and_then(|()| {
                let n = convert::to_string(&args[0], cx);
                let path = if n.starts_with('\\') { norm_folder(&n) } else { norm_folder(&task_path(&self.path, &n)) };
                cx.host.tasks.create_folder(&path).map(|()| Value::object(Folder { path })).map_err(|e| task_error(&e))
            })
        } else if is(name, "RegisterTaskDefinition") {
            self.register(cx, args)
        } else {
            return None;
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `IRegisteredTask`: a copy of the task as registered.
#[derive(Debug)]
struct Registered(Task);

impl NetObject for Registered {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{9c86f320-dee3-4dd1-b972-a303f26b061e}".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let t = &self.0;
        Some(Ok(if is(name, "Name") {
            Value::string(t.name.clone())
        } else if is(name, "Path") {
            Value::string(t.path())
        } else if is(name, "Enabled") {
            Value::Bool(t.enabled)
        } else if is(name, "State") {
            Value::Int(if t.enabled { 3 } else { 1 })
        } else if is(name, "LastTaskResult") {
            // SCHED_S_TASK_HAS_NOT_RUN before the first run.
            Value::Int(t.last_result.unwrap_or(0x41303) as i32)
        } else if is(name, "Definition") {
            if t.tampered {
                return Some(Err(com_error("The task image is corrupt or has been tampered with. (Exception from HRESULT: 0x80041321)")));
            }
            Value::object(Definition(Rc::new(RefCell::new(Def::of_task(t, cx)))))
        } else {
            return None;
        }))
    }
    fn call(&self, _: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        is(name, "Stop").then(|| Ok(void()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `ITaskDefinition`.
#[derive(Debug)]
struct Definition(Shared);

impl NetObject for Definition {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{f5bc8fc5-536d-4f77-b852-fbc1356fdeb6}".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let part = [
            ("RegistrationInfo", Part::Info),
            ("Principal", Part::Principal),
            ("Settings", Part::Settings),
            ("Triggers", Part::Triggers),
            ("Actions", Part::Actions),
        ]
        .into_iter()
        .find(|(n, _)| is(name, n))?
        .1;
        Some(Ok(Value::object(Child { def: Rc::clone(&self.0), part })))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Info,
    Principal,
    Settings,
    Triggers,
    Actions,
    Trigger(usize),
    Action(usize),
}

/// A part of a definition (its info, principal, settings, trigger and
/// action collections, one trigger, one action), writing through to it.
#[derive(Debug)]
struct Child {
    def: Shared,
    part: Part,
}

impl Child {
    fn item(&self, part: Part) -> Value {
        Value::object(Child { def: Rc::clone(&self.def), part })
    }
}

impl NetObject for Child {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject".into()
    }
    /// The trigger and action collections enumerate.
    fn base_types(&self) -> &'static [&'static str] {
        match self.part {
            Part::Triggers | Part::Actions => &["System.Collections.IEnumerable"],
            _ => &[],
        }
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let d = self.def.borrow();
        let s = |v: &str| Some(Ok(Value::string(v.to_string())));
        match self.part {
            Part::Info if is(name, "Author") => s(&d.author),
            Part::Info if is(name, "Description") => s(&d.description),
            Part::Principal if is(name, "UserId") => s(&d.user_id),
            Part::Principal if is(name, "RunLevel") => Some(Ok(Value::Int(d.run_level as i32))),
            Part::Settings if is(name, "Enabled") => Some(Ok(Value::Bool(d.enabled))),
            Part::Settings if is(name, "Hidden") => Some(Ok(Value::Bool(d.hidden))),
            Part::Settings if is(name, "StartWhenAvailable") => Some(Ok(Value::Bool(d.start_when_available))),
            Part::Settings if is(name, "ExecutionTimeLimit") => s(&d.time_limit),
            Part::Triggers if is(name, "Count") => Some(Ok(Value::Int(d.triggers.len() as i32))),
            Part::Actions if is(name, "Count") => Some(Ok(Value::Int(d.actions.len() as i32))),
            Part::Trigger(i) => {
                let t = d.triggers.get(i)?;
                if is(name, "Type") {
                    Some(Ok(Value::Int(t.kind as i32)))
                } else if is(name, "StartBoundary") {
                    s(&t.start)
                } else if is(name, "EndBoundary") {
                    s(&t.end)
                } else if is(name, "Enabled") {
                    Some(Ok(Value::Bool(t.enabled)))
                } else {
                    None
                }
            }
            Part::Action(i) => {
                let a = d.actions.get(i)?;
                if is(name, "Type") {
                    Some(Ok(Value::Int(0)))
                } else if is(name, "Path") {
                    s(&a.path)
                } else if is(name, "Arguments") {
                    s(&a.arguments)
                } else if is(name, "WorkingDirectory") {
                    s(&a.working_dir)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let text = convert::to_string(&value, cx);
        let flag = convert::to_bool(&value);
        let num = convert::to_i64(&value, cx).unwrap_or(0);
        let mut d = self.def.borrow_mut();
        match self.part {
            Part::Info if is(name, "Author") => d.author = text,
            Part::Info if is(name, "Description") => d.description = text,
            Part::Principal if is(name, "UserId") => d.user_id = text,
            Part::Principal if is(name, "RunLevel") => d.run_level = num,
            Part::Principal if is(name, "LogonType") => {}
            Part::Settings if is(name, "Enabled") => d.enabled = flag,
            Part::Settings if is(name, "Hidden") => d.hidden = flag,
            Part::Settings if is(name, "StartWhenAvailable") => d.start_when_available = flag,
            Part::Settings if is(name, "ExecutionTimeLimit") => d.time_limit = text,
            Part::Settings if is(name, "DisallowStartIfOnBatteries") || is(name, "StopIfGoingOnBatteries") => {}
            Part::Trigger(i) => {
                let t = d.triggers.get_mut(i)?;
                if is(name, "StartBoundary") {
                    t.start = text;
                } else if is(name, "EndBoundary") {
                    t.end = text;
                } else if is(name, "Enabled") {
                    t.enabled = flag;
                } else {
                    return None;
                }
            }
            Part::Action(i) => {
                let a = d.actions.get_mut(i)?;
                if is(name, "Path") {
                    a.path = text;
                } else if is(name, "Arguments") {
                    a.arguments = text;
                } else if is(name, "WorkingDirectory") {
                    a.working_dir = text;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
        Some(Ok(()))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        match self.part {
            Part::Triggers | Part::Actions if is(name, "Create") => Some(arity(args, 1, 1).and_then(|()| {
                let kind = convert::to_i64(&args[0], cx).unwrap_or(-1);
                let mut d = self.def.borrow_mut();
                if self.part == Part::Triggers {
                    if ![1, 2, 8, 9].contains(&kind) {
                        return Err(com_error("The lab models trigger types 1, 2, 8 and 9 only."));
                    }
                    d.triggers.push(TriggerDef { kind, enabled: true, ..TriggerDef::default() });
                    Ok(self.item(Part::Trigger(d.triggers.len() - 1)))
                } else {
                    if kind != 0 {
                        return Err(com_error("The lab models exec actions (type 0) only."));
                    }
                    d.actions.push(ActionDef::default());
                    Ok(self.item(Part::Action(d.actions.len() - 1)))
                }
            })),
            Part::Triggers | Part::Actions if is(name, "Item") => Some(arity(args, 1, 1).and_then(|()| {
                let i = convert::to_i64(&args[0], cx).unwrap_or(0);
                let d = self.def.borrow();
                let len = if self.part == Part::Triggers { d.triggers.len() } else { d.actions.len() };
                if i < 1 || i as usize > len {
                    return Err(NetError::exception("System.ArgumentException", "The parameter is incorrect. (Exception from HRESULT: 0x80070057)"));
                }
                let at = i as usize - 1;
                Ok(self.item(if self.part == Part::Triggers { Part::Trigger(at) } else { Part::Action(at) }))
            })),
            Part::Triggers | Part::Actions if is(name, "Clear") => {
                let mut d = self.def.borrow_mut();
                if self.part == Part::Triggers {
                    d.triggers.clear();
                } else {
                    d.actions.clear();
                }
                Some(Ok(void()))
            }
            _ => None,
        }
    }
    fn enumerate(&self, _: &mut Ctx<'_>) -> Option<Vec<Value>> {
        let d = self.def.borrow();
        match self.part {
            Part::Triggers => Some((0..d.triggers.len()).map(|i| self.item(Part::Trigger(i))).collect()),
            Part::Actions => Some((0..d.actions.len()).map(|i| self.item(Part::Action(i))).collect()),
            _ => None,
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn service(_: &mut Ctx<'_>) -> NetResult<Value> {
    Ok(Value::object(Service))
}

pub fn register(r: &mut Registry) {
    r.add_com("Schedule.Service", service);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::powershell::tests::{prints, run_with};

    #[test]
    fn boundaries_read_as_task_scheduler_reads_them() {
        let z = parse_boundary("2024-03-04T13:00:00Z").unwrap();
        assert_eq!(parse_boundary("2024-03-04T13:00:00"), Some(z));
        assert_eq!(parse_boundary("2024-03-04T15:30:00+02:30"), Some(z));
        assert_eq!(parse_boundary("2024-03-04T10:00:00-03:00"), Some(z));
        assert_eq!(format_boundary(z), "2024-03-04T13:00:00Z");
        assert_eq!(z, LabTime::EPOCH.plus_secs(4 * 3600).0 as i64 + crate::lab::powershell::dotnet::time::FILETIME_EPOCH);
        for bad in ["", "2024-03-04 13:00:00", "2024-13-04T13:00:00Z", "2024-03-04T13:00:00+0200", "04/03/2024 13:00"] {
            assert_eq!(parse_boundary(bad), None, "{bad}");
        }
    }

    /// A SYSTEM task with a time trigger registers in a new folder, reads
    /// back, is refused without a StartBoundary, and deletes.
    #[test]
    fn a_task_registers_reads_back_and_deletes() {
        let script = r"$s = New-Object -ComObject Schedule.Service; $s.Connect()
try { $s.GetFolder('\Cz') } catch { 'no folder' }
$f = $s.GetFolder('\').CreateFolder('\Cz')
$d = $s.NewTask(0)
$d.Settings.StartWhenAvailable = $true
$t = $d.Triggers.Create(1)
$a = $d.Actions.Create(0); $a.Path = 'cmd.exe'; $a.Arguments = '/c echo'
try { [void]$f.RegisterTaskDefinition('T', $d, 6, 'SYSTEM', $null, 5) } catch { 'no start' }
$t.StartBoundary = '2024-03-04T13:00:00Z'
[void]$f.RegisterTaskDefinition('T', $d, 6, 'SYSTEM', $null, 5)
$r = $s.GetFolder('\Cz').GetTask('T')
$r.Path; $r.Enabled; $r.Definition.Triggers.Item(1).StartBoundary
foreach ($x in $r.Definition.Actions) { $x.Path + ' ' + $x.Arguments }
try { [void]$f.RegisterTaskDefinition('T', $d, 2, 'SYSTEM', $null, 5) } catch { 'exists' }
$f.DeleteTask('T', 0)
try { $f.GetTask('T') } catch { 'gone' }";
        let (r, host) = run_with("2.0", |_| {}, script);
        prints(
            &r,
            &["no folder", "no start", r"\Cz\T", "True", "2024-03-04T13:00:00Z", "cmd.exe /c echo", "exists", "gone"],
        );
        assert!(host.tasks.get(r"\Cz\T").is_none());
        assert!(host.tasks.folder_exists(r"\Cz"));
    }

    /// A task registered through the COM object is logged as any other:
    /// Task Scheduler 106 where that log is on, Security 4698 where task
    /// auditing is on, both naming the task and the caller.
    #[test]
    fn a_registration_through_the_com_object_is_in_the_hosts_logs() {
        use crate::lab::world::eventlog::LogName;
        let script = r"$s = New-Object -ComObject Schedule.Service; $s.Connect()
$d = $s.NewTask(0)
$t = $d.Triggers.Create(1); $t.StartBoundary = '2024-03-04T13:00:00Z'
$a = $d.Actions.Create(0); $a.Path = 'cmd.exe'
[void]$s.GetFolder('\').RegisterTaskDefinition('T', $d, 6, 'SYSTEM', $null, 5)";
        let (r, host) = run_with(
            "5.1",
            |h| {
                h.event_logs.audit_tasks = true;
                h.event_logs.log_mut(LogName::TaskSchedulerOperational).enabled = true;
            },
            script,
        );
        prints(&r, &[]);
        let of = |log: LogName, id: u32| -> Vec<(Option<String>, Option<String>)> {
            host.event_logs
                .log(log)
                .records()
                .filter(|e| e.event_id == id)
                .map(|e| (e.property("TaskName").map(str::to_string), e.property("SubjectUserName").or(e.property("UserContext")).map(str::to_string)))
                .collect()
        };
        let created = of(LogName::Security, 4698);
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0].0.as_deref(), Some(r"\T"));
        assert!(created[0].1.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("cauterize")), "the caller is the subject: {created:?}");
        let registered = of(LogName::TaskSchedulerOperational, 106);
        assert_eq!(registered.len(), 1, "{registered:?}");
        assert_eq!(registered[0].0.as_deref(), Some(r"\T"));
    }
}
