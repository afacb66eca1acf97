//! Cmdlets about the session and objects: New-Object (types, arrays,
//! COM), Get-Command, Set-StrictMode, Start-Sleep (lab time passes for the
//! command; the thread never sleeps), Get-Date, the variable cmdlets,
//! Invoke-Expression, Restart-Computer (this host only).

use std::cell::RefCell;
use std::rc::Rc;

use crate::lab::emulate::power::PowerAction;
use crate::lab::powershell::ast::Span;
use crate::lab::powershell::convert;
use crate::lab::powershell::dates;
use crate::lab::powershell::dotnet::misc::PsObject;
use crate::lab::powershell::errors::{self, ErrorRecord, Position};
use crate::lab::powershell::interp::call::Stage;
use crate::lab::powershell::interp::out::Out;
use crate::lab::powershell::interp::{Flow, Interp, R};
use crate::lab::powershell::object::{Bound, CmdletSpec, Exception, NetError, ParamKind as K, ParamSpec as P, registry};
use crate::lab::powershell::types::{self, Prim, TypeRef};
use crate::lab::powershell::value::{Array, DateKind, DateTime, Hashtable, Value};
use crate::lab::world::utf16;

const STR: K = K::Value("System.String");
const OBJ: K = K::Value("System.Object");

pub static NEW_OBJECT: CmdletSpec = CmdletSpec {
    name: "New-Object",
    class: "Microsoft.PowerShell.Commands.NewObjectCommand",
    params: &[
        P::at("TypeName", STR, 0),
        P { name: "ArgumentList", kind: K::Value("System.Object[]"), position: Some(1), pipeline: false, aliases: &["Args"] },
        P::named("ComObject", STR),
        P::named("Property", K::Value("System.Collections.IDictionary")),
        P::named("Strict", K::Switch),
    ],
    remaining: None,
};

pub static GET_COMMAND: CmdletSpec = CmdletSpec {
    name: "Get-Command",
    class: "Microsoft.PowerShell.Commands.GetCommandCommand",
    params: &[P::at("Name", K::Value("System.String[]"), 0), P::named("CommandType", STR), P::named("Module", K::Value("System.String[]"))],
    remaining: None,
};

pub static SET_STRICT_MODE: CmdletSpec = CmdletSpec {
    name: "Set-StrictMode",
    class: "Microsoft.PowerShell.Commands.SetStrictModeCommand",
    params: &[P::named("Version", STR), P::named("Off", K::Switch)],
    remaining: None,
};

pub static START_SLEEP: CmdletSpec = CmdletSpec {
    name: "Start-Sleep",
    class: "Microsoft.PowerShell.Commands.StartSleepCommand",
    params: &[P::at("Seconds", K::Value("System.Int32"), 0), P::named("Milliseconds", K::Value("System.Int32"))],
    remaining: None,
};

pub static GET_DATE: CmdletSpec = CmdletSpec {
    name: "Get-Date",
    class: "Microsoft.PowerShell.Commands.GetDateCommand",
    params: &[P::at("Date", K::Value("System.DateTime"), 0), P::named("Format", STR), P::named("UFormat", STR)],
    remaining: None,
};

pub static GET_VARIABLE: CmdletSpec = CmdletSpec {
    name: "Get-Variable",
    class: "Microsoft.PowerShell.Commands.GetVariableCommand",
    params: &[P::at("Name", K::Value("System.String[]"), 0), P::named("ValueOnly", K::Switch), P::named("Scope", STR)],
    remaining: None,
};

pub static SET_VARIABLE: CmdletSpec = CmdletSpec {
    name: "Set-Variable",
    class: "Microsoft.PowerShell.Commands.SetVariableCommand",
    params: &[P::at("Name", STR, 0), P::at("Value", OBJ, 1), P::named("Scope", STR), P::named("PassThru", K::Switch), P::named("Option", STR), P::named("Force", K::Switch)],
    remaining: None,
};

pub static NEW_VARIABLE: CmdletSpec = CmdletSpec {
    name: "New-Variable",
    class: "Microsoft.PowerShell.Commands.NewVariableCommand",
    params: &[P::at("Name", STR, 0), P::at("Value", OBJ, 1), P::named("Scope", STR), P::named("PassThru", K::Switch), P::named("Option", STR), P::named("Force", K::Switch)],
    remaining: None,
};

pub static REMOVE_VARIABLE: CmdletSpec = CmdletSpec {
    name: "Remove-Variable",
    class: "Microsoft.PowerShell.Commands.RemoveVariableCommand",
    params: &[P::at("Name", K::Value("System.String[]"), 0), P::named("Scope", STR), P::named("Force", K::Switch)],
    remaining: None,
};

pub static INVOKE_EXPRESSION: CmdletSpec = CmdletSpec {
    name: "Invoke-Expression",
    class: "Microsoft.PowerShell.Commands.InvokeExpressionCommand",
    params: &[P { name: "Command", kind: STR, position: Some(0), pipeline: true, aliases: &[] }],
    remaining: None,
};

pub static RESTART_COMPUTER: CmdletSpec = CmdletSpec {
    name: "Restart-Computer",
    class: "Microsoft.PowerShell.Commands.RestartComputerCommand",
    params: &[
        P::at("ComputerName", K::Value("System.String[]"), 0),
        P::at("Credential", K::Value("System.Management.Automation.PSCredential"), 1),
        P::named("Force", K::Switch),
        P::named("Wait", K::Switch),
        P::named("Timeout", K::Value("System.Int32")),
        P::named("Delay", K::Value("System.Int16")),
        P::named("AsJob", K::Switch),
        P::named("Protocol", STR),
        P::named("ThrottleLimit", K::Value("System.Int32")),
        P::named("WhatIf", K::Switch),
        P::named("Confirm", K::Switch),
    ],
    remaining: None,
};

/// A stage that runs once (first in its pipeline, or per input object).
struct Run<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>>(F);

impl<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>> Stage for Run<F> {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        (self.0)(it, item, down)
    }
}

/// A stage whose work runs once, when its pipeline first runs it (a
/// cmdlet that writes what its parameters name, whatever its input).
struct Once<F: FnMut(&mut Interp<'_>, &mut dyn Out) -> R<()>> {
    work: F,
    done: bool,
}

impl<F: FnMut(&mut Interp<'_>, &mut dyn Out) -> R<()>> Stage for Once<F> {
    fn process(&mut self, it: &mut Interp<'_>, _: Option<Value>, down: &mut dyn Out) -> R<()> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        (self.work)(it, down)
    }
}

fn once<F: FnMut(&mut Interp<'_>, &mut dyn Out) -> R<()> + 'static>(work: F) -> R<Box<dyn Stage>> {
    Ok(Box::new(Once { work, done: false }))
}

/// A parameter's value as a list of strings (one value, or each of a
/// collection's).
fn strings_of(it: &mut Interp<'_>, v: &Value) -> Vec<String> {
    let items = v.enumerate(&mut it.cx).unwrap_or_else(|| vec![v.clone()]);
    items.iter().map(|x| convert::to_string(x, &mut it.cx)).collect()
}

fn cmdlet_record(spec: &CmdletSpec, ex: Exception, category: &'static str, id: &str, call: &Option<Position>) -> ErrorRecord {
    let mut r = ErrorRecord::new(ex, category, format!("{id},{}", spec.class));
    r.command = Some(spec.name.to_string());
    r.activity = spec.name.to_string();
    r.position = call.clone();
    r
}

// ---- New-Object ----

pub fn new_object(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let v = create(it, &b, &call)?;
    once(move |it: &mut Interp<'_>, down: &mut dyn Out| down.emit(it, v.clone()))
}

/// `New-Object System.String (,$chars)`, `String(char, count)`,
/// `String(char[], start, length)`: the text, or `None` for no overload.
fn string_ctor(it: &mut Interp<'_>, args: &[Value]) -> Option<String> {
    let units = |v: &Value, it: &mut Interp<'_>| -> Option<Vec<u16>> {
        let items = v.enumerate(&mut it.cx)?;
        items.iter().map(|c| convert::to_char(c, &mut it.cx).ok()).collect()
    };
    match args {
        [chars] => units(chars, it).map(|u| utf16::from_units(&u)),
        [Value::Char(c), n] => {
            let n = convert::to_i32(n, &mut it.cx).ok()?.max(0) as usize;
            Some(utf16::from_units(&vec![*c; n]))
        }
        [chars, start, len] => {
            let u = units(chars, it)?;
            let (s, n) = (convert::to_i32(start, &mut it.cx).ok()?.max(0) as usize, convert::to_i32(len, &mut it.cx).ok()?.max(0) as usize);
            u.get(s..s + n).map(utf16::from_units)
        }
        _ => None,
    }
}

fn create(it: &mut Interp<'_>, b: &Bound, call: &Option<Position>) -> R<Value> {
    let spec = &NEW_OBJECT;
    if let Some(prog) = b.get("ComObject") {
        let prog = convert::to_string(prog, &mut it.cx);
        return match registry().find_com(&prog) {
            Some(factory) => factory(&mut it.cx).map_err(|e| Flow::error(it.net_error(e, ".ctor", 0).at(call.clone()))),
            None => Err(Flow::error(cmdlet_record(
                spec,
                Exception::new(
                    "System.Runtime.InteropServices.COMException",
                    "Retrieving the COM class factory for component with CLSID {00000000-0000-0000-0000-000000000000} failed due to the following error: 80040154 Class not registered (Exception from HRESULT: 0x80040154 (REGDB_E_CLASSNOTREG)).",
                ),
                "ResourceUnavailable",
                "NoCOMClassIdentified",
                call,
            ))),
        };
    }
    let Some(name) = b.get("TypeName") else {
        return Err(Flow::error(cmdlet_record(
            spec,
            Exception::new("System.Management.Automation.ParameterBindingException", "Parameter set cannot be resolved using the specified named parameters."),
            "InvalidArgument",
            "AmbiguousParameterSet",
            call,
        )));
    };
    let name = convert::to_string(name, &mut it.cx);
    let args: Vec<Value> = match b.get("ArgumentList") {
        None => Vec::new(),
        Some(v) => v.enumerate(&mut it.cx).filter(|_| v.is_collection()).unwrap_or_else(|| vec![v.clone()]),
    };
    let Some(t) = types::resolve(&name, &it.cx.dynamic_types) else {
        return Err(Flow::error(cmdlet_record(
            spec,
            Exception::new("System.Management.Automation.PSArgumentException", format!("Cannot find type [{name}]: verify that the assembly containing this type is loaded.")),
            "InvalidType",
            "TypeNotFound",
            call,
        )));
    };
    let value = match &t {
        TypeRef::Array(elem) => {
            let n = match args.first() {
                Some(v) => convert::to_i32(v, &mut it.cx).map_err(|e| Flow::error(e.at(call.clone())))?,
                None => 0,
            };
            let n = n.max(0) as usize;
            if elem.is_prim(Prim::Byte) {
                Value::bytes(vec![0; n])
            } else {
                let default = match &**elem {
                    TypeRef::Prim(Prim::Int32) => Value::Int(0),
                    TypeRef::Prim(Prim::Int64) => Value::Long(0),
                    TypeRef::Prim(Prim::Bool) => Value::Bool(false),
                    TypeRef::Prim(Prim::Char) => Value::Char(0),
                    TypeRef::Prim(Prim::Double) => Value::Double(0.0),
                    _ => Value::Null,
                };
                Value::Array(Rc::new(Array::new(elem.as_elem(), vec![default; n])))
            }
        }
        TypeRef::Prim(Prim::PSObject | Prim::Object) => Value::object(PsObject::new("System.Management.Automation.PSCustomObject", Vec::new())),
        TypeRef::Prim(Prim::Hashtable) => Value::Hashtable(Rc::new(RefCell::new(Hashtable::new()))),
        TypeRef::Prim(Prim::DateTime) => {
            let mut n = [1i64, 1, 1, 0, 0, 0];
            for (slot, a) in n.iter_mut().zip(&args) {
                *slot = convert::to_i64(a, &mut it.cx).map_err(|e| Flow::error(e.at(call.clone())))?;
            }
            let ticks = dates::from_parts(n[0], n[1] as u32, n[2] as u32, n[3] as u32, n[4] as u32, n[5] as u32, 0);
            match ticks {
                Some(t) => Value::DateTime(DateTime { ticks: t, kind: DateKind::Unspecified }),
                None => {
                    return Err(Flow::error(ctor_error(it, spec, args.len(), Exception::new("System.ArgumentOutOfRangeException", "Year, Month, and Day parameters describe an un-representable DateTime."), call)));
                }
            }
        }
        TypeRef::Prim(Prim::String) => match string_ctor(it, &args) {
            Some(s) => Value::string(s),
            None => {
                return Err(Flow::error(cmdlet_record(
                    spec,
                    Exception::new("System.Management.Automation.MethodException", format!("Cannot find an overload for \"String\" and the argument count: \"{}\".", args.len())),
                    "InvalidOperation",
                    "ConstructorInvokedThrowException",
                    call,
                )));
            }
        },
        TypeRef::Prim(p) => {
            return Err(Flow::error(cmdlet_record(
                spec,
                Exception::new("System.Management.Automation.PSArgumentException", format!("A constructor was not found. Cannot find an appropriate constructor for type {}.", p.full_name())),
                "ObjectNotFound",
                "CannotFindAppropriateCtor",
                call,
            )));
        }
        TypeRef::Net(nt) => match nt.construct(&mut it.cx, &args) {
            Some(Ok(v)) => v,
            Some(Err(NetError::Exception(ex))) => return Err(Flow::error(ctor_error(it, spec, args.len(), ex, call))),
            Some(Err(_)) | None => {
                return Err(Flow::error(cmdlet_record(
                    spec,
                    Exception::new("System.Management.Automation.PSArgumentException", format!("A constructor was not found. Cannot find an appropriate constructor for type {}.", nt.full_name())),
                    "ObjectNotFound",
                    "CannotFindAppropriateCtor",
                    call,
                )));
            }
        },
    };
    if let Some(Value::Hashtable(props)) = b.get("Property") {
        let entries: Vec<(Value, Value)> = props.borrow().entries().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in entries {
            let name = convert::to_string(&k, &mut it.cx);
            match &value {
                Value::Object(o) => {
                    if let Some(p) = crate::lab::powershell::object::downcast::<PsObject>(o.as_ref()) {
                        p.add(&name, v);
                        continue;
                    }
                    it.set_member(value.clone(), &name, v, Span::default())?;
                }
                other => it.set_member(other.clone(), &name, v, Span::default())?,
            }
        }
    }
    Ok(value)
}

fn ctor_error(_: &Interp<'_>, spec: &CmdletSpec, argc: usize, inner: Exception, call: &Option<Position>) -> ErrorRecord {
    let message = format!("Exception calling \".ctor\" with \"{argc}\" argument(s): \"{}\"", inner.message);
    let mut ex = Exception::new("System.Management.Automation.MethodInvocationException", message);
    ex.inner = Some(Box::new(inner));
    cmdlet_record(spec, ex, "InvalidOperation", "ConstructorInvokedThrowException", call)
}

// ---- Get-Command ----

pub fn get_command(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let names = match b.get("Name") {
        Some(v) => strings_of(it, v),
        None => Vec::new(),
    };
    // `-ErrorAction SilentlyContinue` silences "not recognized", whatever
    // $ErrorActionPreference says.
    let action = super::bind::error_action(it, &b);
    once(move |it: &mut Interp<'_>, down: &mut dyn Out| {
        for n in &names {
            match command_info(it, n) {
                Some(info) => down.emit(it, info)?,
                None => {
                    let r = cmdlet_record(
                        &GET_COMMAND,
                        Exception::new(
                            "System.Management.Automation.CommandNotFoundException",
                            format!("The term '{n}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."),
                        ),
                        "ObjectNotFound",
                        "CommandNotFoundException",
                        &call,
                    )
                    .with_target_text(n);
                    it.cmdlet_error(r, action)?;
                }
            }
        }
        Ok(())
    })
}

const COMMON_PARAMS: &[&str] = &["Verbose", "Debug", "ErrorAction", "WarningAction", "ErrorVariable", "WarningVariable", "OutVariable", "OutBuffer"];

/// A CommandInfo for `name`, as Get-Command returns it.
fn command_info(it: &mut Interp<'_>, name: &str) -> Option<Value> {
    let folded = name.to_lowercase();
    let target = super::alias(&folded).or_else(|| registry().alias(&folded));
    let lookup = target.unwrap_or(name);
    let mut params = Hashtable::new();
    let (kind, display) = if let Some(f) = it.scopes.function(&lookup.to_lowercase()) {
        for p in &f.body.params {
            params.insert(Value::str(&p.name.text), Value::str(&p.name.text));
        }
        ("Function", f.name.to_string())
    } else if let Some(spec) = super::spec(lookup).or_else(|| registry().find_cmdlet(lookup).filter(|c| c.available(&it.cx.version)).map(|c| c.spec(&it.cx.version))) {
        for p in spec.params.iter().map(|p| p.name).chain(COMMON_PARAMS.iter().copied()) {
            params.insert(Value::str(p), Value::str(p));
        }
        ("Cmdlet", spec.name.to_string())
    } else if registry().find_native(name).is_some() {
        ("Application", name.to_string())
    } else {
        return None;
    };
    let kind = if target.is_some() { "Alias" } else { kind };
    let props = vec![
        ("Name".to_string(), Value::string(if target.is_some() { name.to_string() } else { display.clone() })),
        ("CommandType".to_string(), Value::str(kind)),
        ("Definition".to_string(), Value::string(display)),
        ("Parameters".to_string(), Value::Hashtable(Rc::new(RefCell::new(params)))),
    ];
    Some(Value::object(PsObject::new("System.Management.Automation.CommandInfo", props)))
}

// ---- Set-StrictMode ----

pub fn set_strict_mode(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let level = if b.switch("Off") {
        0
    } else {
        match b.get("Version").map(|v| convert::to_string(v, &mut it.cx)) {
            Some(v) if v.eq_ignore_ascii_case("latest") => {
                if it.cx.version.v3() {
                    3
                } else {
                    2
                }
            }
            Some(v) => match v.split('.').next().and_then(|m| m.parse::<u32>().ok()) {
                Some(m) if (1..=3).contains(&m) => m,
                _ => {
                    return Err(Flow::error(cmdlet_record(
                        &SET_STRICT_MODE,
                        Exception::new("System.Management.Automation.PSArgumentException", format!("The value {v} is not valid for the -Version parameter.")),
                        "InvalidArgument",
                        "ArgumentOutOfRange",
                        &call,
                    )));
                }
            },
            None => {
                return Err(Flow::error(cmdlet_record(
                    &SET_STRICT_MODE,
                    Exception::new("System.Management.Automation.ParameterBindingException", "Parameter set cannot be resolved using the specified named parameters."),
                    "InvalidArgument",
                    "AmbiguousParameterSet",
                    &call,
                )));
            }
        }
    };
    it.strict = level;
    Ok(Box::new(Run(|_: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| Ok(()))))
}

// ---- Start-Sleep ----

pub fn start_sleep(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let mut ms: i64 = 0;
    for (name, factor) in [("Seconds", 1000i64), ("Milliseconds", 1)] {
        if let Some(v) = b.get(name) {
            let n = convert::to_i64(v, &mut it.cx).unwrap_or(-1);
            if n < 0 {
                return Err(Flow::error(cmdlet_record(
                    &START_SLEEP,
                    Exception::new(
                        "System.Management.Automation.ParameterBindingException",
                        format!("Cannot validate argument on parameter '{name}'. The {n} argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again."),
                    ),
                    "InvalidData",
                    "ParameterArgumentValidationError",
                    &call,
                )));
            }
            ms += n * factor;
        }
    }
    Ok(Box::new(Run(move |it: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| {
        // The command's clocks move on; the lab's thread does not wait.
        it.cx.wait(ms);
        Ok(())
    })))
}

// ---- Get-Date ----

pub fn get_date(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let date = match b.get("Date") {
        Some(Value::DateTime(d)) => *d,
        _ => DateTime { ticks: it.cx.utc_ticks(), kind: DateKind::Local },
    };
    let format = b.get("Format").map(|f| convert::to_string(f, &mut it.cx));
    Ok(Box::new(Run(move |it: &mut Interp<'_>, _: Option<Value>, down: &mut dyn Out| {
        let v = match &format {
            Some(f) => Value::string(dates::format(date, f)),
            None => Value::DateTime(date),
        };
        down.emit(it, v)
    })))
}

// ---- variables ----

fn scope_index(it: &mut Interp<'_>, b: &Bound) -> usize {
    match b.get("Scope").map(|s| convert::to_string(s, &mut it.cx).to_ascii_lowercase()) {
        Some(s) if s == "global" => crate::lab::powershell::interp::scope::GLOBAL,
        Some(s) if s == "script" => it.scopes.script_scope(),
        _ => it.scopes.current,
    }
}

pub fn get_variable(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let names = match b.get("Name") {
        Some(v) => strings_of(it, v),
        None => it.scopes.visible_names(),
    };
    let value_only = b.switch("ValueOnly");
    once(move |it: &mut Interp<'_>, down: &mut dyn Out| {
        for n in &names {
            match it.scopes.lookup(&n.to_lowercase()).map(|v| v.value.clone()) {
                Some(v) if value_only => down.emit(it, v)?,
                Some(v) => {
                    let o = PsObject::new("System.Management.Automation.PSVariable", vec![("Name".into(), Value::str(n)), ("Value".into(), v)]);
                    down.emit(it, Value::object(o))?;
                }
                None => {
                    let r = cmdlet_record(
                        &GET_VARIABLE,
                        Exception::new("System.Management.Automation.ItemNotFoundException", format!("Cannot find a variable with the name '{n}'.")),
                        "ObjectNotFound",
                        "VariableNotFound",
                        &call,
                    )
                    .with_target_text(n);
                    it.cmdlet_error(r, None)?;
                }
            }
        }
        Ok(())
    })
}

pub fn set_variable(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let name = b.get("Name").map(|n| convert::to_string(n, &mut it.cx)).unwrap_or_default().to_lowercase();
    let value = b.get("Value").cloned().unwrap_or(Value::Null);
    let scope = scope_index(it, &b);
    let pass = b.switch("PassThru");
    Ok(Box::new(Run(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let v = item.unwrap_or_else(|| value.clone());
        it.scopes.set_in(scope, &name, v.clone(), None);
        if pass {
            down.emit(it, v)?;
        }
        Ok(())
    })))
}

pub fn remove_variable(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let names: Vec<String> = match b.get("Name") {
        Some(v) => strings_of(it, v).iter().map(|n| n.to_lowercase()).collect(),
        None => Vec::new(),
    };
    let scope = scope_index(it, &b);
    Ok(Box::new(Run(move |it: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| {
        for n in &names {
            it.scopes.remove_in(scope, n);
        }
        Ok(())
    })))
}

// ---- Invoke-Expression ----

pub fn invoke_expression(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let given = b.get("Command").map(|c| convert::to_string(c, &mut it.cx));
    Ok(Box::new(Run(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let text = match (&given, item) {
            (Some(t), _) => t.clone(),
            (None, Some(v)) => convert::to_string(&v, &mut it.cx),
            (None, None) => return Ok(()),
        };
        match crate::lab::powershell::cache::parse(&text) {
            Ok(root) => {
                let saved = std::mem::replace(&mut it.source, root.source.clone());
                let r = match &root.end {
                    Some(block) => it.exec_block(block, down),
                    None => Ok(()),
                };
                it.source = saved;
                r
            }
            Err(e) => {
                let ex = Exception::new("System.Management.Automation.ParseException", crate::lab::powershell::parse_exception_message(&text, &e));
                let mut r = cmdlet_record(&INVOKE_EXPRESSION, ex, "ParserError", e.id, &call);
                r.command = Some("Invoke-Expression".into());
                Err(Flow::error(r))
            }
        }
    })))
}

// ---- Restart-Computer ----

/// Restart-Computer parameters the lab does not emulate.
const RESTART_UNSUPPORTED: &[&str] = &["Credential", "Wait", "Timeout", "Delay", "AsJob", "Protocol", "ThrottleLimit", "WhatIf", "Confirm"];

pub fn restart_computer(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    if let Some(p) = RESTART_UNSUPPORTED.iter().find(|p| b.get(p).is_some_and(|v| !matches!(v, Value::Bool(false)))) {
        return Err(Flow::error(errors::lab_unsupported(&format!("Restart-Computer -{p}")).at(call)));
    }
    let names = match b.get("ComputerName") {
        Some(v) => strings_of(it, v),
        None => Vec::new(),
    };
    let force = b.switch("Force");
    Ok(Box::new(Run(move |it: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| {
        let mut desk = it.cx.power_desk();
        if names.iter().any(|n| !desk.is_self(n)) {
            // Another computer: the lab runs commands on one host at a time.
            return Err(Flow::error(errors::lab_unsupported("Restart-Computer on another computer").at(call.clone())));
        }
        match desk.schedule(PowerAction::Restart, 0, force, "") {
            Ok(()) => Ok(()),
            Err(e) => {
                let computer = it.cx.spec.name.clone();
                let mut r = cmdlet_record(
                    &RESTART_COMPUTER,
                    Exception::new(
                        "System.InvalidOperationException",
                        format!("Failed to restart the computer {computer} with the following error message: {}", e.message()),
                    ),
                    "OperationStopped",
                    "RestartcomputerFailed",
                    &call,
                );
                r.target_name = computer.clone();
                r.target_type = "String".into();
                it.cmdlet_error(r, None)
            }
        }
    })))
}
