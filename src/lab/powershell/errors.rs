//! Error records and exceptions as PowerShell makes them: the record's
//! message, where it happened, its CategoryInfo and FullyQualifiedErrorId,
//! shown as Windows PowerShell shows it on a non-interactive host (see
//! `emulate::error_record` for the layout), and as objects a script reads
//! in `catch` (`$_.Exception.Message`, `$_.FullyQualifiedErrorId`).
//! Also .NET's exception hierarchy, for `catch [System.IO.IOException]`.

use std::borrow::Cow;
use std::rc::Rc;

use super::ast::{Source, Span};
use super::object::{Ctx, Exception, NetObject, NetResult, is};
use super::value::Value;
use crate::lab::emulate::error_record::{self as layout, SourceMap};

/// Where an error happened.
#[derive(Debug, Clone)]
pub struct Position {
    pub source: Source,
    pub span: Span,
}

impl Position {
    /// `At line:L char:C`, the line, and `~` under the span.
    pub fn lines(&self) -> Vec<String> {
        SourceMap::new(&self.source).position(self.span.start as usize, self.span.end as usize)
    }
    pub fn line_number(&self) -> usize {
        self.source[..(self.span.start as usize).min(self.source.len())].matches('\n').count() + 1
    }
}

/// An error record.
#[derive(Debug, Clone)]
pub struct ErrorRecord {
    pub exception: Exception,
    /// The object the error is about (`throw $x` gives `$x`).
    pub target: Option<Value>,
    /// ErrorCategory name: `NotSpecified`, `ObjectNotFound`, ...
    pub category: &'static str,
    /// CategoryInfo's target, as text, and its type's short name.
    pub target_name: String,
    pub target_type: String,
    /// CategoryInfo's activity (the cmdlet, for cmdlet errors).
    pub activity: String,
    pub error_id: String,
    /// The command the message is prefixed with (`Get-Item : ...`).
    pub command: Option<String>,
    pub position: Option<Position>,
    /// A line a native program wrote on stderr (its text is the record).
    pub native: bool,
}

impl ErrorRecord {
    /// A record for an exception, with PowerShell's defaults.
    pub fn new(exception: Exception, category: &'static str, error_id: impl Into<String>) -> ErrorRecord {
        ErrorRecord {
            exception,
            target: None,
            category,
            target_name: String::new(),
            target_type: String::new(),
            activity: String::new(),
            error_id: error_id.into(),
            command: None,
            position: None,
            native: false,
        }
    }

    pub fn at(mut self, position: Option<Position>) -> ErrorRecord {
        if self.position.is_none() {
            self.position = position;
        }
        self
    }

    pub fn with_target_text(mut self, name: &str) -> ErrorRecord {
        self.target_name = name.to_string();
        self.target_type = "String".to_string();
        self
    }

    /// The exception's short type name (`RuntimeException`).
    pub fn reason(&self) -> &str {
        short_name(&self.exception.type_name)
    }

    /// `Category: (target:Type) [activity], Reason`.
    pub fn category_info(&self) -> String {
        format!(
            "{}: ({}:{}) [{}], {}",
            self.category,
            ellipsize(&self.target_name),
            self.target_type,
            self.activity,
            self.reason()
        )
    }

    /// The record as the console shows it, one line each, wrapped.
    pub fn lines(&self) -> Vec<String> {
        let mut message = self.exception.message.clone();
        if let Some(c) = &self.command {
            message = format!("{c} : {message}");
        }
        let position = self.position.as_ref().map(Position::lines).unwrap_or_default();
        layout::render(&message, position, &self.category_info(), &self.error_id)
    }
}

/// A CategoryInfo target as PowerShell shortens it: over 40 characters,
/// the first and last 15 around `...`.
fn ellipsize(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 40 {
        return text.to_string();
    }
    let head: String = chars[..15].iter().collect();
    let tail: String = chars[chars.len() - 15..].iter().collect();
    format!("{head}...{tail}")
}

pub fn short_name(type_name: &str) -> &str {
    type_name.rsplit('.').next().unwrap_or(type_name)
}

// ---- records PowerShell itself makes ----

/// `nope` names no command.
pub fn command_not_found(name: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(
        Exception::new(
            "System.Management.Automation.CommandNotFoundException",
            format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable \
                 program. Check the spelling of the name, or if a path was included, verify that the path is correct and \
                 try again."
            ),
        ),
        "ObjectNotFound",
        "CommandNotFoundException",
    )
    .with_target_text(name);
    r.command = Some(name.to_string());
    r.target = Some(Value::str(name));
    r
}

/// `throw <value>` (or a bare `throw`: "ScriptHalted").
pub fn thrown(value: Option<Value>, text: Option<String>) -> ErrorRecord {
    match text {
        Some(m) => {
            let mut r = ErrorRecord::new(Exception::new("System.Management.Automation.RuntimeException", m.clone()), "OperationStopped", m.clone())
                .with_target_text(&m);
            if let Some(Value::Str(_)) | None = value {
            } else if let Some(v) = &value {
                r.target_type = short_name(&v.type_name()).to_string();
            }
            r.target = value;
            r
        }
        None => ErrorRecord::new(Exception::new("System.Management.Automation.RuntimeException", "ScriptHalted"), "OperationStopped", "ScriptHalted"),
    }
}

/// A .NET exception out of a method call.
pub fn method_exception(method: &str, argc: usize, inner: Exception) -> ErrorRecord {
    let id = short_name(&inner.type_name).to_string();
    let message = format!("Exception calling \"{method}\" with \"{argc}\" argument(s): \"{}\"", inner.message);
    let mut e = Exception::new("System.Management.Automation.MethodInvocationException", message);
    e.inner = Some(Box::new(inner));
    ErrorRecord::new(e, "NotSpecified", id)
}

/// A .NET exception out of a property setter.
pub fn setter_exception(property: &str, inner: Exception) -> ErrorRecord {
    let id = short_name(&inner.type_name).to_string();
    let message = format!("Exception setting \"{property}\": \"{}\"", inner.message);
    let mut e = Exception::new("System.Management.Automation.SetValueInvocationException", message);
    e.inner = Some(Box::new(inner));
    ErrorRecord::new(e, "NotSpecified", id)
}

/// A .NET exception out of a property getter.
pub fn getter_exception(property: &str, inner: Exception) -> ErrorRecord {
    let message = format!("Exception getting \"{property}\": \"{}\"", inner.message);
    let mut e = Exception::new("System.Management.Automation.GetValueInvocationException", message);
    e.inner = Some(Box::new(inner));
    ErrorRecord::new(e, "NotSpecified", "ExceptionWhenGetting")
}

/// A runtime error of the language itself (RuntimeException with an id).
pub fn runtime(message: impl Into<String>, category: &'static str, id: &str) -> ErrorRecord {
    ErrorRecord::new(Exception::new("System.Management.Automation.RuntimeException", message), category, id)
}

/// A method the object does not have.
pub fn no_method(type_name: &str, method: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(
        Exception::new(
            "System.Management.Automation.RuntimeException",
            format!("Method invocation failed because [{type_name}] does not contain a method named '{method}'."),
        ),
        "InvalidOperation",
        "MethodNotFound",
    );
    r.target_name = method.to_string();
    r.target_type = "String".into();
    r
}

/// Calling a method on `$null`.
pub fn null_method() -> ErrorRecord {
    ErrorRecord::new(
        Exception::new("System.Management.Automation.RuntimeException", "You cannot call a method on a null-valued expression."),
        "InvalidOperation",
        "InvokeMethodOnNull",
    )
}

/// Indexing `$null`.
pub fn null_index() -> ErrorRecord {
    ErrorRecord::new(
        Exception::new("System.Management.Automation.RuntimeException", "Cannot index into a null array."),
        "InvalidOperation",
        "NullArray",
    )
}

/// `No overload` from the method binder.
pub fn no_overload(method: &str, argc: usize) -> ErrorRecord {
    let mut r = ErrorRecord::new(
        Exception::new(
            "System.Management.Automation.MethodException",
            format!("Cannot find an overload for \"{method}\" and the argument count: \"{argc}\"."),
        ),
        "NotSpecified",
        "MethodCountCouldNotFindBest",
    );
    r.category = "NotSpecified";
    r
}

/// A value that does not convert to a type.
pub fn invalid_cast(value_text: &str, from_type: &str, to_type: &str, detail: Option<&str>) -> ErrorRecord {
    let message = match detail {
        Some(d) => format!("Cannot convert value \"{value_text}\" to type \"{to_type}\". Error: \"{d}\""),
        None => format!("Cannot convert the \"{value_text}\" value of type \"{from_type}\" to type \"{to_type}\"."),
    };
    let id = if detail.is_some() { "InvalidCastParseTargetInvocation" } else { "ConvertToFinalInvalidCastException" };
    let mut r = ErrorRecord::new(Exception::new("System.Management.Automation.PSInvalidCastException", message), "InvalidArgument", id);
    r.category = "InvalidArgument";
    r.target_type = String::new();
    r
}

/// `[Foo]` names no type.
pub fn type_not_found(name: &str, v2: bool) -> ErrorRecord {
    let message = if v2 {
        format!("Unable to find type [{name}]: make sure that the assembly containing this type is loaded.")
    } else {
        format!("Unable to find type [{name}].")
    };
    let mut r = runtime(message, "InvalidOperation", "TypeNotFound");
    r.target_name = name.to_string();
    r.target_type = "TypeName".into();
    r
}

/// A property that cannot be set (no such property).
pub fn property_not_found(name: &str, type_name: &str) -> ErrorRecord {
    let mut r = runtime(
        format!("The property '{name}' cannot be found on this object. Verify that the property exists and can be set."),
        "InvalidOperation",
        "PropertyAssignmentException",
    );
    r.target_type = String::new();
    let _ = type_name;
    r
}

/// A record of a line a native program wrote on stderr.
pub fn native_stderr(command: &str, line: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(Exception::new("System.Management.Automation.RemoteException", line), "NotSpecified", "NativeCommandError")
        .with_target_text(line);
    r.command = Some(command.to_string());
    r.native = true;
    r.target = Some(Value::str(line));
    r
}

/// Something the lab's engine does not implement: it says so instead of
/// pretending (a real host would have run it).
pub fn lab_unsupported(what: &str) -> ErrorRecord {
    ErrorRecord::new(
        Exception::new("System.NotSupportedException", format!("The cauterize lab's PowerShell engine does not support this: {what}")),
        "NotImplemented",
        "LabEngineUnsupported",
    )
}

// ---- the exception hierarchy ----

/// The base type of a .NET exception type.
pub fn base_exception(type_name: &str) -> Option<&'static str> {
    let t = type_name.to_ascii_lowercase();
    let t = t.strip_prefix("system.").unwrap_or(&t);
    Some(match t {
        "exception" => return None,
        "systemexception" | "applicationexception" => "System.Exception",
        "argumentnullexception" | "argumentoutofrangeexception" => "System.ArgumentException",
        "io.filenotfoundexception" | "io.directorynotfoundexception" | "io.pathtoolongexception" | "io.endofstreamexception" | "io.drivenotfoundexception" => {
            "System.IO.IOException"
        }
        "objectdisposedexception" => "System.InvalidOperationException",
        "overflowexception" | "dividebyzeroexception" => "System.ArithmeticException",
        "componentmodel.win32exception" | "runtime.interopservices.comexception" => "System.Runtime.InteropServices.ExternalException",
        "collections.generic.keynotfoundexception" => "System.SystemException",
        "management.automation.methodinvocationexception" => "System.Management.Automation.MethodException",
        "management.automation.getvalueinvocationexception" | "management.automation.setvalueinvocationexception" => {
            "System.Management.Automation.ExtendedTypeSystemException"
        }
        "management.automation.methodexception" | "management.automation.extendedtypesystemexception" => "System.Management.Automation.RuntimeException",
        "management.automation.itemnotfoundexception" | "management.automation.drivenotfoundexception" => "System.Management.Automation.SessionStateException",
        "management.automation.commandnotfoundexception"
        | "management.automation.parameterbindingexception"
        | "management.automation.sessionstateexception"
        | "management.automation.actionpreferencestopexception"
        | "management.automation.psinvalidcastexception"
        | "management.automation.parseexception"
        | "management.automation.pipelinestoppedexception"
        | "management.automation.psargumentexception"
        | "management.automation.psinvalidoperationexception"
        | "management.automation.remoteexception" => "System.Management.Automation.RuntimeException",
        "management.automation.runtimeexception" => "System.SystemException",
        "management.managementexception" => "System.SystemException",
        _ => "System.SystemException",
    })
}

/// Whether exception type `t` is `base` or derives from it.
pub fn exception_is(t: &str, base: &str) -> bool {
    let mut cur: Cow<'_, str> = Cow::Borrowed(t);
    for _ in 0..16 {
        if cur.eq_ignore_ascii_case(base) || cur.to_ascii_lowercase().strip_prefix("system.") == Some(&base.to_ascii_lowercase()) {
            return true;
        }
        match base_exception(&cur) {
            Some(b) => cur = Cow::Borrowed(b),
            None => return false,
        }
    }
    false
}

// ---- records and exceptions as objects ----

impl NetObject for ErrorRecord {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.ErrorRecord".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Exception") {
            Value::object(ExceptionObj { exception: self.exception.clone(), record: Some(Rc::new(self.clone())) })
        } else if is(name, "FullyQualifiedErrorId") {
            Value::string(self.error_id.clone())
        } else if is(name, "TargetObject") {
            self.target.clone().unwrap_or(Value::Null)
        } else if is(name, "CategoryInfo") {
            Value::object(CategoryInfo(self.clone()))
        } else if is(name, "InvocationInfo") {
            match &self.position {
                Some(p) => Value::object(InvocationInfo(p.clone())),
                None => Value::Null,
            }
        } else if is(name, "ErrorDetails") || is(name, "ScriptStackTrace") {
            Value::Null
        } else {
            return None;
        }))
    }
    fn call(&self, _: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ToString") && args.is_empty() {
            return Some(Ok(Value::string(self.exception.message.clone())));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.exception.message.clone()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Exception".into(), "TargetObject".into(), "CategoryInfo".into(), "FullyQualifiedErrorId".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// An exception object (`$_.Exception`).
#[derive(Debug, Clone)]
pub struct ExceptionObj {
    pub exception: Exception,
    pub record: Option<Rc<ErrorRecord>>,
}

impl NetObject for ExceptionObj {
    fn type_name(&self) -> Cow<'static, str> {
        self.exception.type_name.clone()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Exception"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Message") {
            Value::string(self.exception.message.clone())
        } else if is(name, "InnerException") {
            match &self.exception.inner {
                Some(i) => Value::object(ExceptionObj { exception: (**i).clone(), record: None }),
                None => Value::Null,
            }
        } else if is(name, "ErrorRecord") {
            match &self.record {
                Some(r) => Value::Object(r.clone()),
                None => Value::Null,
            }
        } else if is(name, "HResult") {
            Value::Int(-2146233087)
        } else if is(name, "StackTrace") || is(name, "Source") || is(name, "HelpLink") {
            Value::Null
        } else {
            return None;
        }))
    }
    fn call(&self, _: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ToString") && args.is_empty() {
            return Some(Ok(Value::string(format!("{}: {}", self.exception.type_name, self.exception.message))));
        }
        if is(name, "GetBaseException") && args.is_empty() {
            let mut e = self.exception.clone();
            while let Some(i) = e.inner.take() {
                e = *i;
            }
            return Some(Ok(Value::object(ExceptionObj { exception: e, record: None })));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        format!("{}: {}", self.exception.type_name, self.exception.message)
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Message".into(), "InnerException".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct CategoryInfo(ErrorRecord);

impl NetObject for CategoryInfo {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.ErrorCategoryInfo".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Category") {
            Value::str(self.0.category)
        } else if is(name, "Reason") {
            Value::str(self.0.reason())
        } else if is(name, "TargetName") {
            Value::string(self.0.target_name.clone())
        } else if is(name, "TargetType") {
            Value::string(self.0.target_type.clone())
        } else if is(name, "Activity") {
            Value::string(self.0.activity.clone())
        } else {
            return None;
        }))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.0.category_info()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct InvocationInfo(Position);

impl NetObject for InvocationInfo {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.InvocationInfo".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "ScriptLineNumber") {
            Value::Int(self.0.line_number() as i32)
        } else if is(name, "PositionMessage") {
            Value::string(self.0.lines().join("\n"))
        } else if is(name, "Line") {
            let start = self.0.span.start as usize;
            let src = &self.0.source;
            let ls = src[..start.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
            let le = src[ls..].find('\n').map_or(src.len(), |i| ls + i);
            Value::str(src[ls..le].trim_end_matches('\r'))
        } else {
            return None;
        }))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_hierarchy_matches_dotnet() {
        assert!(exception_is("System.IO.FileNotFoundException", "System.IO.IOException"));
        assert!(exception_is("System.IO.FileNotFoundException", "System.Exception"));
        assert!(exception_is("System.Management.Automation.MethodInvocationException", "System.Management.Automation.RuntimeException"));
        assert!(!exception_is("System.IO.IOException", "System.IO.FileNotFoundException"));
        assert!(exception_is("System.ArgumentNullException", "ArgumentException"));
    }
}
