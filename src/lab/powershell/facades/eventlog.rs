//! `Get-WinEvent` over the host's event logs (`world::eventlog`), as
//! Windows PowerShell 2.0 and later answer on Windows:
//!
//! - `-ListLog NAME`: the log's `EventLogConfiguration` (`LogName`,
//!   `IsEnabled`, `RecordCount`, `MaximumSizeInBytes`, `LogMode`). A log
//!   that does not exist is the error `NoMatchingLogsFound` ("There is not
//!   an event log on the localhost computer that matches ..."); the
//!   Security log for an account that is not an administrator is
//!   `LogInfoUnavailable` ("Could not retrieve information about the
//!   Security log. Error: Attempted to perform an unauthorized
//!   operation."), its inner exception an `UnauthorizedAccessException`.
//! - `-FilterHashtable @{ LogName; Id; ProviderName; StartTime; EndTime }`
//!   and `-MaxEvents N`: the matching records, newest first, at most N.
//!   None is the error `NoMatchingEventsFound` ("No events were found that
//!   match the specified selection criteria."); the Security log read by
//!   a non-administrator is an `UnauthorizedAccessException` ("Attempted to
//!   perform an unauthorized operation."). A key Windows has that the lab
//!   does not serve (Level, Keywords, UserID, Data, Path, named data) is
//!   refused loudly.
//! - Each record is an `EventLogRecord`: `Id`, `RecordId`, `LogName`,
//!   `ProviderName`, `TimeCreated` (local time), `MachineName` and
//!   `Properties`: the event's data values in its template's order, each
//!   an `EventProperty` with its `Value` (the text the writer recorded).
//!
//! `-LogName`, `-FilterXPath`, `-Path` and remote computers are not
//! served: the lab says so rather than answering wrongly.

use std::borrow::Cow;

use crate::lab::powershell::convert;
use crate::lab::powershell::object::{
    Bound, Cmdlet, CmdletError, CmdletOutput, CmdletSpec, Ctx, Exception, NetObject, NetResult, ParamKind as K, ParamSpec as P, Registry, is,
};
use crate::lab::powershell::value::{DateKind, DateTime, Value};
use crate::lab::powershell::version::PsVersion;
use crate::lab::world::eventlog::{EventRecord, LogName};

const CLASS: &str = "Microsoft.PowerShell.Commands.GetWinEventCommand";

static SPEC: CmdletSpec = CmdletSpec {
    name: "Get-WinEvent",
    class: CLASS,
    params: &[
        P::at("LogName", K::Value("System.String[]"), 0),
        P::named("ListLog", K::Value("System.String[]")),
        P::named("ListProvider", K::Value("System.String[]")),
        P::named("ProviderName", K::Value("System.String[]")),
        P::named("Path", K::Value("System.String[]")),
        P::named("FilterHashtable", K::Value("System.Collections.Hashtable[]")),
        P::named("FilterXPath", K::Value("System.String")),
        P::named("FilterXml", K::Value("System.Xml.XmlDocument")),
        P::named("MaxEvents", K::Value("System.Int64")),
        P { name: "ComputerName", kind: K::Value("System.String"), position: None, pipeline: false, aliases: &["Cn"] },
        P::named("Credential", K::Value("System.Management.Automation.PSCredential")),
        P::named("Oldest", K::Switch),
        P::named("Force", K::Switch),
    ],
    remaining: None,
};

fn err(type_name: &'static str, message: String, category: &'static str, id: &str) -> CmdletError {
    CmdletError { exception: Exception::new(type_name, message), category, error_id: id.to_string(), target: None }
}

fn unsupported(what: &str) -> CmdletError {
    err(
        "System.NotSupportedException",
        format!("The cauterize lab's PowerShell engine does not serve Get-WinEvent {what} yet."),
        "NotImplemented",
        "LabEngineUnsupported",
    )
}

fn unauthorized() -> Exception {
    Exception::new("System.UnauthorizedAccessException", "Attempted to perform an unauthorized operation.")
}

fn no_such_log(name: &str) -> CmdletError {
    err(
        "System.Exception",
        format!("There is not an event log on the localhost computer that matches \"{name}\"."),
        "ObjectNotFound",
        "NoMatchingLogsFound",
    )
}

/// Only an administrator reads the Security log (its default ACL).
fn readable(cx: &Ctx<'_>, log: LogName) -> bool {
    log != LogName::Security || cx.admin
}

/// `EventLogConfiguration`.
#[derive(Debug)]
struct LogConfig {
    name: &'static str,
    enabled: bool,
    records: i64,
    max_bytes: i64,
}

impl NetObject for LogConfig {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Diagnostics.Eventing.Reader.EventLogConfiguration".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let v = if is(name, "LogName") {
            Value::str(self.name)
        } else if is(name, "IsEnabled") {
            Value::Bool(self.enabled)
        } else if is(name, "RecordCount") {
            Value::Long(self.records)
        } else if is(name, "MaximumSizeInBytes") {
            Value::Long(self.max_bytes)
        } else if is(name, "LogMode") {
            Value::str("Circular")
        } else {
            return None;
        };
        Some(Ok(v))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.name.to_string()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        ["LogMode", "MaximumSizeInBytes", "RecordCount", "LogName"].iter().map(|n| Cow::Borrowed(*n)).collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `EventProperty`: one data value.
#[derive(Debug)]
struct EventProperty(String);

impl NetObject for EventProperty {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Diagnostics.Eventing.Reader.EventProperty".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Value").then(|| Ok(Value::string(self.0.clone())))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        "System.Diagnostics.Eventing.Reader.EventProperty".into()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `EventLogRecord`.
#[derive(Debug)]
struct Record {
    record: EventRecord,
    machine: String,
    /// TimeCreated on the host's clock, .NET ticks.
    ticks: i64,
}

impl NetObject for Record {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Diagnostics.Eventing.Reader.EventLogRecord".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Diagnostics.Eventing.Reader.EventRecord"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let r = &self.record;
        let v = if is(name, "Id") {
            Value::Int(r.event_id as i32)
        } else if is(name, "RecordId") {
            Value::Long(r.record_id as i64)
        } else if is(name, "LogName") {
            Value::str(r.log.name())
        } else if is(name, "ProviderName") {
            Value::string(r.provider.clone())
        } else if is(name, "MachineName") {
            Value::string(self.machine.clone())
        } else if is(name, "TimeCreated") {
            Value::DateTime(DateTime { ticks: self.ticks, kind: DateKind::Local })
        } else if is(name, "Properties") {
            Value::array(r.properties.iter().map(|(_, v)| Value::object(EventProperty(v.clone()))).collect())
        } else {
            return None;
        };
        Some(Ok(v))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        "System.Diagnostics.Eventing.Reader.EventLogRecord".into()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        ["TimeCreated", "Id", "ProviderName"].iter().map(|n| Cow::Borrowed(*n)).collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The values of a hashtable entry (one value or an array of them).
fn many(cx: &mut Ctx<'_>, v: &Value) -> Vec<Value> {
    v.enumerate(cx).unwrap_or_else(|| vec![v.clone()])
}

/// A date from the hashtable, as .NET ticks on the host's clock.
fn ticks_of(v: &Value, key: &str) -> Result<i64, CmdletError> {
    match v {
        Value::DateTime(d) => Ok(d.ticks),
        _ => Err(err(
            "System.Management.Automation.ParameterBindingException",
            format!("The {key} value of the hash table is not a DateTime."),
            "InvalidArgument",
            "InvalidArgument",
        )),
    }
}

/// One `-FilterHashtable` query.
struct Query {
    logs: Vec<LogName>,
    ids: Vec<u32>,
    providers: Vec<String>,
    start: Option<i64>,
    end: Option<i64>,
}

fn query(cx: &mut Ctx<'_>, table: &Value) -> Result<Query, CmdletError> {
    let Value::Hashtable(h) = table else {
        return Err(unsupported("with a -FilterHashtable that is not a hash table"));
    };
    let entries: Vec<(String, Value)> = h.borrow().entries().map(|(k, v)| (convert::to_string(k, cx), v.clone())).collect();
    let mut q = Query { logs: Vec::new(), ids: Vec::new(), providers: Vec::new(), start: None, end: None };
    for (key, value) in entries {
        match key.to_ascii_lowercase().as_str() {
            "logname" => {
                for v in many(cx, &value) {
                    let name = convert::to_string(&v, cx);
                    q.logs.push(LogName::parse(&name).ok_or_else(|| no_such_log(&name))?);
                }
            }
            "id" => {
                for v in many(cx, &value) {
                    let id = convert::to_u32(&v, cx).map_err(|_| unsupported("with an Id that is not a number"))?;
                    q.ids.push(id);
                }
            }
            "providername" => {
                for v in many(cx, &value) {
                    q.providers.push(convert::to_string(&v, cx));
                }
            }
            "starttime" => q.start = Some(ticks_of(&value, "StartTime")?),
            "endtime" => q.end = Some(ticks_of(&value, "EndTime")?),
            _ => return Err(unsupported(&format!("with the hash table key {key}"))),
        }
    }
    if q.logs.is_empty() {
        return Err(unsupported("with a hash table that names no LogName"));
    }
    Ok(q)
}

struct GetWinEvent;

impl Cmdlet for GetWinEvent {
    fn name(&self) -> &'static str {
        "Get-WinEvent"
    }
    fn spec(&self, _: &PsVersion) -> &'static CmdletSpec {
        &SPEC
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, _: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError> {
        for served_not in ["LogName", "ListProvider", "ProviderName", "Path", "FilterXPath", "FilterXml", "ComputerName", "Credential", "Oldest"] {
            if args.get(served_not).is_some() {
                return Err(unsupported(&format!("-{served_not}")));
            }
        }
        if let Some(list) = args.get("ListLog") {
            for v in many(cx, list) {
                let name = convert::to_string(&v, cx);
                let Some(log) = LogName::parse(&name) else {
                    out.errors.push(no_such_log(&name));
                    continue;
                };
                if !readable(cx, log) {
                    out.errors.push(CmdletError {
                        exception: Exception {
                            type_name: "System.Exception".into(),
                            message: format!("Could not retrieve information about the {} log. Error: Attempted to perform an unauthorized operation.", log.name()),
                            inner: Some(Box::new(unauthorized())),
                        },
                        category: "NotSpecified",
                        error_id: "LogInfoUnavailable".into(),
                        target: None,
                    });
                    continue;
                }
                let l = cx.host.event_logs.log(log);
                out.objects.push(Value::object(LogConfig {
                    name: log.name(),
                    enabled: l.enabled,
                    records: l.len() as i64,
                    max_bytes: l.capacity() as i64 * 1024,
                }));
            }
            return Ok(());
        }
        let Some(tables) = args.get("FilterHashtable") else {
            return Err(unsupported("without -ListLog or -FilterHashtable"));
        };
        let max = match args.get("MaxEvents") {
            Some(v) => convert::to_i64(v, cx).map_err(|_| unsupported("with a -MaxEvents that is not a number"))?,
            None => i64::MAX,
        };
        if max < 1 {
            return Err(err(
                "System.Management.Automation.ParameterBindingValidationException",
                format!("Cannot validate argument on parameter 'MaxEvents'. The {max} argument is less than the minimum allowed range of 1."),
                "InvalidData",
                "ParameterArgumentValidationError",
            ));
        }
        let mut found: Vec<Record> = Vec::new();
        for table in many(cx, tables) {
            let q = query(cx, &table)?;
            if let Some(l) = q.logs.iter().find(|l| !readable(cx, **l)) {
                let _ = l;
                return Err(CmdletError { exception: unauthorized(), category: "NotSpecified", error_id: "System.UnauthorizedAccessException".into(), target: None });
            }
            for log in &q.logs {
                for r in cx.host.event_logs.log(*log).records() {
                    let ticks = cx.host_ticks(r.time_created);
                    let keep = (q.ids.is_empty() || q.ids.contains(&r.event_id))
                        && (q.providers.is_empty() || q.providers.iter().any(|p| p.eq_ignore_ascii_case(&r.provider)))
                        && q.start.is_none_or(|s| ticks >= s)
                        && q.end.is_none_or(|e| ticks <= e);
                    if keep {
                        found.push(Record { record: r.clone(), machine: cx.spec.name.clone(), ticks });
                    }
                }
            }
        }
        if found.is_empty() {
            out.errors.push(err(
                "System.Exception",
                "No events were found that match the specified selection criteria.".into(),
                "ObjectNotFound",
                "NoMatchingEventsFound",
            ));
            return Ok(());
        }
        // Newest first, as Windows reads a log by default.
        found.sort_by(|a, b| b.ticks.cmp(&a.ticks).then(b.record.record_id.cmp(&a.record.record_id)));
        found.truncate(usize::try_from(max).unwrap_or(usize::MAX));
        out.objects.extend(found.into_iter().map(Value::object));
        Ok(())
    }
}

pub fn register(r: &mut Registry) {
    r.add_cmdlet(GetWinEvent);
}
