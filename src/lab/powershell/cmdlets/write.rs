//! Write-Output, Write-Host, Write-Error, Write-Warning, Write-Verbose,
//! Write-Debug, Write-Progress.

use super::bind;
use crate::lab::powershell::convert;
use crate::lab::powershell::errors::{ErrorRecord, Position};
use crate::lab::powershell::interp::call::{Stage, emit_value};
use crate::lab::powershell::interp::out::{Out, flush_host};
use crate::lab::powershell::interp::{ActionPref, Interp, R};
use crate::lab::powershell::object::{Bound, CmdletSpec, Exception, ParamKind as K, ParamSpec as P};
use crate::lab::powershell::value::Value;

const OBJ: K = K::Value("System.Object");
const STR: K = K::Value("System.String");

pub static WRITE_OUTPUT: CmdletSpec = CmdletSpec {
    name: "Write-Output",
    class: "Microsoft.PowerShell.Commands.WriteOutputCommand",
    params: &[P { name: "InputObject", kind: K::Value("System.Management.Automation.PSObject[]"), position: Some(0), pipeline: true, aliases: &[] }, P::named("NoEnumerate", K::Switch)],
    remaining: Some("InputObject"),
};

pub static WRITE_HOST: CmdletSpec = CmdletSpec {
    name: "Write-Host",
    class: "Microsoft.PowerShell.Commands.WriteHostCommand",
    params: &[
        P::at("Object", OBJ, 0),
        P::named("NoNewline", K::Switch),
        P::named("Separator", OBJ),
        P::named("ForegroundColor", K::Value("System.ConsoleColor")),
        P::named("BackgroundColor", K::Value("System.ConsoleColor")),
    ],
    remaining: Some("Object"),
};

pub static WRITE_ERROR: CmdletSpec = CmdletSpec {
    name: "Write-Error",
    class: "Microsoft.PowerShell.Commands.WriteErrorCommand",
    params: &[
        P::at("Message", STR, 0),
        P::named("Exception", K::Value("System.Exception")),
        P::named("ErrorRecord", K::Value("System.Management.Automation.ErrorRecord")),
        P::named("Category", K::Value("System.Management.Automation.ErrorCategory")),
        P::named("ErrorId", STR),
        P::named("TargetObject", OBJ),
        P::named("RecommendedAction", STR),
        P::named("CategoryActivity", STR),
        P::named("CategoryReason", STR),
        P::named("CategoryTargetName", STR),
        P::named("CategoryTargetType", STR),
    ],
    remaining: None,
};

pub static WRITE_WARNING: CmdletSpec = CmdletSpec {
    name: "Write-Warning",
    class: "Microsoft.PowerShell.Commands.WriteWarningCommand",
    params: &[P::at("Message", STR, 0)],
    remaining: None,
};

pub static WRITE_VERBOSE: CmdletSpec = CmdletSpec {
    name: "Write-Verbose",
    class: "Microsoft.PowerShell.Commands.WriteVerboseCommand",
    params: &[P::at("Message", STR, 0)],
    remaining: None,
};

pub static WRITE_DEBUG: CmdletSpec = CmdletSpec {
    name: "Write-Debug",
    class: "Microsoft.PowerShell.Commands.WriteDebugCommand",
    params: &[P::at("Message", STR, 0)],
    remaining: None,
};

pub static WRITE_PROGRESS: CmdletSpec = CmdletSpec {
    name: "Write-Progress",
    class: "Microsoft.PowerShell.Commands.WriteProgressCommand",
    params: &[
        P::at("Activity", STR, 0),
        P::at("Status", STR, 1),
        P::at("Id", K::Value("System.Int32"), 2),
        P::named("PercentComplete", K::Value("System.Int32")),
        P::named("SecondsRemaining", K::Value("System.Int32")),
        P::named("CurrentOperation", STR),
        P::named("ParentId", K::Value("System.Int32")),
        P::named("Completed", K::Switch),
    ],
    remaining: None,
};

/// A stage that does its work once, when it is first run.
struct Once<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>>(F);

impl<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>> Stage for Once<F> {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        (self.0)(it, item, down)
    }
}

pub fn write_output(_: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let no_enum = b.switch("NoEnumerate");
    let given = b.get("InputObject").cloned();
    Ok(Box::new(Once(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let v = match (&item, &given) {
            (Some(v), _) => v.clone(),
            (None, Some(g)) => g.clone(),
            (None, None) => return Ok(()),
        };
        // `Write-Output 1, 2` binds an array: enumerated unless
        // -NoEnumerate; a single argument is passed as it is.
        match (&v, item.is_none()) {
            (Value::Array(a), true) if a.items.borrow().len() == 1 && !no_enum => {
                let inner = a.items.borrow()[0].clone();
                emit_value(it, inner, down)
            }
            _ if no_enum => down.emit(it, v),
            _ => emit_value(it, v, down),
        }
    })))
}

pub fn write_host(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let separator = match b.get("Separator") {
        Some(s) => convert::to_string(s, &mut it.cx),
        None => " ".to_string(),
    };
    let no_newline = b.switch("NoNewline");
    let given = b.get("Object").cloned();
    Ok(Box::new(Once(move |it: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out| {
        let v = item.or_else(|| given.clone()).unwrap_or(Value::Null);
        let items = if v.is_collection() { v.enumerate(&mut it.cx).unwrap_or_default() } else { vec![v] };
        let texts: Vec<String> = items.iter().map(|x| host_text(x, it)).collect();
        let mut text = texts.join(&separator);
        if !no_newline {
            text.push_str("\r\n");
        }
        flush_host(&mut it.cx);
        it.cx.console.stdout.push_str(&text);
        Ok(())
    })))
}

/// Write-Host's text of an item (nested collections joined by spaces).
fn host_text(v: &Value, it: &mut Interp<'_>) -> String {
    convert::to_string(v, &mut it.cx)
}

pub fn write_error(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let action = bind::error_action(it, &b);
    let message = match b.get("Message") {
        Some(m) => convert::to_string(m, &mut it.cx),
        None => match b.get("Exception") {
            Some(e) => crate::lab::powershell::convert::to_string(&it.get_member_lossy(e.clone(), "Message"), &mut it.cx),
            None => String::new(),
        },
    };
    let category: &'static str = match b.get("Category") {
        Some(c) => category_name(&convert::to_string(c, &mut it.cx)),
        None => "NotSpecified",
    };
    let error_id = match b.get("ErrorId") {
        Some(i) => convert::to_string(i, &mut it.cx),
        None => "Microsoft.PowerShell.Commands.WriteErrorException".to_string(),
    };
    let given_record = b.get("ErrorRecord").cloned();
    let target = b.get("TargetObject").cloned();
    let frame = it.frames.last().cloned();
    Ok(Box::new(Once(move |it: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| {
        let mut r = match &given_record {
            Some(Value::Object(o)) => crate::lab::powershell::object::downcast::<ErrorRecord>(o.as_ref()).cloned().unwrap_or_else(|| base(&message, category, &error_id)),
            _ => base(&message, category, &error_id),
        };
        if given_record.is_none() {
            r.activity = "Write-Error".into();
            if let Some(t) = &target {
                r.target_name = convert::to_string(t, &mut it.cx);
                r.target_type = crate::lab::powershell::errors::short_name(&t.type_name()).to_string();
                r.target = Some(t.clone());
            }
            if let Some(f) = &frame {
                r.command = Some(f.name.to_string());
                r.position = if f.is_function { f.call.clone() } else { None };
            }
        }
        it.cmdlet_error(r, action)
    })))
}

fn base(message: &str, category: &'static str, id: &str) -> ErrorRecord {
    ErrorRecord::new(Exception::new("Microsoft.PowerShell.Commands.WriteErrorException", message), category, id)
}

/// ErrorCategory names.
fn category_name(text: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "NotSpecified", "OpenError", "CloseError", "DeviceError", "DeadlockDetected", "InvalidArgument", "InvalidData", "InvalidOperation",
        "InvalidResult", "InvalidType", "MetadataError", "NotImplemented", "NotInstalled", "ObjectNotFound", "OperationStopped",
        "OperationTimeout", "SyntaxError", "ParserError", "PermissionDenied", "ResourceBusy", "ResourceExists", "ResourceUnavailable",
        "ReadError", "WriteError", "FromStdErr", "SecurityError", "ProtocolError", "ConnectionError", "AuthenticationError",
        "LimitsExceeded", "QuotaExceeded", "NotEnabled",
    ];
    NAMES.iter().find(|n| n.eq_ignore_ascii_case(text.trim())).copied().unwrap_or("NotSpecified")
}

pub fn write_warning(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let message = b.get("Message").map(|m| convert::to_string(m, &mut it.cx));
    Ok(Box::new(Once(move |it: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out| {
        let text = match (&message, item) {
            (Some(m), _) => m.clone(),
            (None, Some(v)) => convert::to_string(&v, &mut it.cx),
            (None, None) => String::new(),
        };
        let pref = it.scopes.lookup("warningpreference").map(|v| v.value.clone());
        let quiet = pref.is_some_and(|p| {
            let t = convert::to_string(&p, &mut it.cx);
            matches!(ActionPref::parse(&t), Some(ActionPref::SilentlyContinue | ActionPref::Ignore))
        });
        if !quiet {
            flush_host(&mut it.cx);
            it.cx.console.stdout.push_str(&format!("WARNING: {text}\r\n"));
        }
        Ok(())
    })))
}

/// Write-Verbose and Write-Debug: silent at their default preferences.
pub fn write_quiet(_: &mut Interp<'_>, _: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    Ok(Box::new(Once(|_: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| Ok(()))))
}

/// Write-Progress: a non-interactive host shows no progress.
pub fn write_progress(_: &mut Interp<'_>, _: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    Ok(Box::new(Once(|_: &mut Interp<'_>, _: Option<Value>, _: &mut dyn Out| Ok(()))))
}
