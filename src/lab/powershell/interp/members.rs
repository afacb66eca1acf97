//! Members of values: properties and methods of strings, arrays,
//! hashtables, numbers, dates, types, script blocks and .NET objects, and
//! the rules that differ by version:
//!
//! - 3.0 and later give every object `.Count` and `.Length` (1 for a
//!   scalar, 0 for `$null`) and enumerate members of collections
//!   (`@($a, $b).Name`, `$list.ToUpper()`); 2.0 has neither, so those are
//!   `$null` (properties) or "does not contain a method" errors.
//! - A hashtable's keys shadow its properties (`$h.Count` is the key
//!   `Count` when there is one).
//! - A property that does not exist is `$null` (an error only under
//!   `Set-StrictMode -Version 2` or later); a method that does not exist is
//!   always an error.
//! - .NET exceptions from methods are wrapped as MethodInvocationException
//!   ("Exception calling ..."), from setters as SetValueInvocationException.

use std::rc::Rc;

use super::{Flow, Interp, R};
use crate::lab::powershell::ast::Span;
use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet;
use crate::lab::powershell::errors::{self, ErrorRecord};
use crate::lab::powershell::object::{NetError, NetResult, is};
use crate::lab::powershell::types::{Prim, TypeRef};
use crate::lab::powershell::value::Value;

impl Interp<'_> {
    /// A facade's result as the interpreter raises it.
    pub fn net(&self, r: NetResult<Value>, member: &str, argc: usize, span: Span) -> R<Value> {
        r.map_err(|e| Flow::error(self.net_error(e, member, argc).at(self.pos(span))))
    }

    pub fn net_error(&self, e: NetError, member: &str, argc: usize) -> ErrorRecord {
        match e {
            NetError::Exception(ex) => errors::method_exception(member, argc, ex),
            NetError::NoOverload { argc } => errors::no_overload(member, argc),
            NetError::Argument { index, value, target, reason } => {
                let mut r = errors::runtime(
                    format!(
                        "Cannot convert argument \"{}\", with value: \"{value}\", for \"{member}\" to type \"{target}\": \"{reason}\"",
                        arg_name(index)
                    ),
                    "NotSpecified",
                    "MethodArgumentConversionInvalidCastArgument",
                );
                r.exception.type_name = "System.Management.Automation.MethodException".into();
                r
            }
        }
    }

    // ---- properties ----

    /// `$v.Name`.
    pub fn get_member(&mut self, v: Value, name: &str, span: Span) -> R<Value> {
        let v3 = self.cx.version.v3();
        let found: Option<NetResult<Value>> = match &v {
            Value::Null => {
                if v3 && (is(name, "Count") || is(name, "Length")) {
                    return Ok(Value::Int(0));
                }
                return self.missing_property(&v, name, span);
            }
            Value::Hashtable(h) => {
                if let Some(x) = h.borrow().get_str(name) {
                    return Ok(x.clone());
                }
                dotnet::collections::hashtable_property(&h.borrow(), name)
            }
            Value::Str(s) => dotnet::string::property(s, name),
            Value::Array(a) => {
                let len = a.items.borrow().len() as i32;
                if is(name, "Length") || is(name, "Count") {
                    Some(Ok(Value::Int(len)))
                } else if is(name, "LongLength") {
                    Some(Ok(Value::Long(i64::from(len))))
                } else if is(name, "Rank") {
                    Some(Ok(Value::Int(1)))
                } else if is(name, "IsFixedSize") || is(name, "IsReadOnly") || is(name, "IsSynchronized") {
                    Some(Ok(Value::Bool(is(name, "IsFixedSize"))))
                } else {
                    None
                }
            }
            Value::Bytes(b) => {
                let len = b.borrow().len() as i32;
                if is(name, "Length") || is(name, "Count") {
                    Some(Ok(Value::Int(len)))
                } else if is(name, "LongLength") {
                    Some(Ok(Value::Long(i64::from(len))))
                } else {
                    None
                }
            }
            Value::Object(o) => {
                let o = o.clone();
                o.get(&mut self.cx, name)
            }
            Value::DateTime(d) => dotnet::time::date_property(*d, name),
            Value::TimeSpan(t) => dotnet::time::timespan_property(*t, name),
            Value::Type(t) => type_property(t, name),
            Value::Enum(_, n) if is(name, "value__") => Some(Ok(Value::Long(*n))),
            Value::ScriptBlock(sb) if is(name, "Ast") || is(name, "File") => {
                let _ = sb;
                Some(Ok(Value::Null))
            }
            _ => None,
        };
        if let Some(r) = found {
            return r.map_err(|e| match e {
                NetError::Exception(ex) => Flow::error(errors::getter_exception(name, ex).at(self.pos(span))),
                other => Flow::error(self.net_error(other, name, 0).at(self.pos(span))),
            });
        }
        // Member enumeration (3.0+): the property of each element.
        if v3 && v.is_collection() {
            let items = v.enumerate(&mut self.cx).unwrap_or_default();
            let mut out = Vec::new();
            for item in items {
                let x = self.get_member(item, name, span)?;
                match x {
                    Value::Null => {}
                    other if other.is_collection() => out.extend(other.enumerate(&mut self.cx).unwrap_or_default()),
                    other => out.push(other),
                }
            }
            return Ok(match out.len() {
                0 => Value::Null,
                1 => out.pop().unwrap_or(Value::Null),
                _ => Value::array(out),
            });
        }
        // 3.0+: `.Count` and `.Length` of a scalar is 1.
        if v3 && (is(name, "Count") || is(name, "Length")) {
            return Ok(Value::Int(1));
        }
        self.missing_property(&v, name, span)
    }

    /// A property's value, `$null` when it cannot be read.
    pub fn get_member_lossy(&mut self, v: Value, name: &str) -> Value {
        self.get_member(v, name, Span::default()).unwrap_or(Value::Null)
    }

    fn missing_property(&self, v: &Value, name: &str, span: Span) -> R<Value> {
        if self.strict >= 2 {
            let mut r = errors::runtime(
                format!("The property '{name}' cannot be found on this object. Verify that the property exists."),
                "InvalidOperation",
                "PropertyNotFoundStrict",
            );
            r.target_name = name.to_string();
            r.target_type = "String".into();
            let _ = v;
            return self.fail(r, span);
        }
        Ok(Value::Null)
    }

    /// `$v.Name = x`.
    pub fn set_member(&mut self, v: Value, name: &str, x: Value, span: Span) -> R<()> {
        match &v {
            Value::Hashtable(h) => {
                h.borrow_mut().insert(Value::str(name), x);
                Ok(())
            }
            Value::Object(o) => {
                let o = o.clone();
                match o.set(&mut self.cx, name, x) {
                    Some(Ok(())) => self.write_through(&v, span),
                    Some(Err(NetError::Exception(ex))) => self.fail(errors::setter_exception(name, ex), span),
                    Some(Err(other)) => Err(Flow::error(self.net_error(other, name, 1).at(self.pos(span)))),
                    None => self.fail(errors::property_not_found(name, &v.type_name()), span),
                }
            }
            Value::Null => self.fail(errors::property_not_found(name, "null"), span),
            other => self.fail(errors::property_not_found(name, &other.type_name()), span),
        }
    }

    // ---- methods ----

    /// `$v.Name(args)`.
    pub fn call_method(&mut self, v: Value, name: &str, args: Vec<Value>, span: Span) -> R<Value> {
        let argc = args.len();
        if is(name, "GetType") && argc == 0 && !v.is_null() {
            return Ok(Value::Type(type_of(&v)));
        }
        let found: Option<NetResult<Value>> = match &v {
            Value::Null => return self.fail(errors::null_method(), span),
            Value::Str(s) => dotnet::string::method(s, name, &args, &mut self.cx),
            Value::Hashtable(h) => dotnet::collections::hashtable_method(h, name, &args, &mut self.cx),
            Value::Array(_) | Value::Bytes(_) => dotnet::collections::array_method(&v, name, &args, &mut self.cx),
            Value::ScriptBlock(sb) => {
                if is(name, "Invoke") || is(name, "InvokeReturnAsIs") {
                    let sb = sb.ast.clone();
                    let items = self.invoke_block_collect(&sb, args, None, span)?;
                    return Ok(if is(name, "Invoke") { Value::array(items) } else { Self::unwrap_output(items) });
                }
                if is(name, "ToString") && argc == 0 {
                    return Ok(Value::str(sb.ast.text()));
                }
                if is(name, "GetNewClosure") && argc == 0 {
                    return Ok(v.clone());
                }
                None
            }
            Value::Object(o) => {
                let o = o.clone();
                match o.call(&mut self.cx, name, &args) {
                    Some(Ok(Value::Object(r))) if r.as_any().is::<crate::lab::powershell::object::This>() => return Ok(v.clone()),
                    other => other,
                }
            }
            Value::DateTime(d) => dotnet::time::date_method(*d, name, &args, &mut self.cx),
            Value::TimeSpan(t) => dotnet::time::timespan_method(*t, name, &args, &mut self.cx),
            Value::Type(t) => self.type_method(t, name, &args),
            other => dotnet::prims::value_method(other, name, &args, &mut self.cx),
        };
        if let Some(r) = found {
            return self.net(r, name, argc, span);
        }
        if is(name, "ToString") && argc == 0 {
            return Ok(Value::string(convert::to_string(&v, &mut self.cx)));
        }
        if is(name, "Equals") && argc == 1 {
            return Ok(Value::Bool(crate::lab::powershell::ops::equals(&v, &args[0], false, &mut self.cx)));
        }
        if is(name, "GetHashCode") && argc == 0 {
            return Ok(Value::Int(0));
        }
        // Member enumeration of methods (3.0+).
        if self.cx.version.v3() && v.is_collection() {
            let items = v.enumerate(&mut self.cx).unwrap_or_default();
            let mut out = Vec::new();
            for item in items {
                let x = self.call_method(item, name, args.clone(), span)?;
                if !x.is_null() && !crate::lab::powershell::object::is_void(&x) {
                    out.push(x);
                }
            }
            return Ok(Self::unwrap_output(out));
        }
        let mut r = errors::no_method(&v.type_name(), name);
        if !self.cx.version.v3() {
            r.exception.message = r.exception.message.replace("does not contain", "doesn't contain");
        }
        self.fail(r, span)
    }

    fn type_method(&mut self, t: &TypeRef, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ToString") && args.is_empty() {
            return Some(Ok(Value::string(t.full_name())));
        }
        if is(name, "IsInstanceOfType") && args.len() == 1 {
            return Some(Ok(Value::Bool(crate::lab::powershell::types::is_instance(&args[0], t))));
        }
        if is(name, "GetEnumNames") && args.is_empty()
            && let TypeRef::Net(nt) = t
            && let Some(def) = nt.enum_def()
        {
            return Some(Ok(Value::string_array(def.members.iter().map(|(n, _)| n.to_string()).collect())));
        }
        None
    }

    // ---- static members ----

    /// `[T]::Name`.
    pub fn static_member(&mut self, t: &Value, name: &str, span: Span) -> R<Value> {
        let Value::Type(ty) = t else {
            return self.fail(errors::lab_unsupported("'::' on a value that is not a type"), span);
        };
        let found = match ty {
            TypeRef::Prim(p) => dotnet::prims::static_get(*p, name, &mut self.cx),
            TypeRef::Net(nt) => {
                let nt = nt.clone();
                nt.get_static(&mut self.cx, name)
            }
            TypeRef::Array(_) => None,
        };
        match found {
            Some(r) => self.net(r, name, 0, span),
            None => {
                if self.strict >= 2 {
                    return self.missing_property(t, name, span);
                }
                Ok(Value::Null)
            }
        }
    }

    /// `[T]::Name = x`.
    pub fn set_static(&mut self, t: &Value, name: &str, x: Value, span: Span) -> R<()> {
        let Value::Type(ty) = t else {
            return self.fail(errors::lab_unsupported("'::' on a value that is not a type"), span);
        };
        let found = match ty {
            TypeRef::Net(nt) => {
                let nt = nt.clone();
                nt.set_static(&mut self.cx, name, x)
            }
            _ => None,
        };
        match found {
            Some(Ok(())) => Ok(()),
            Some(Err(NetError::Exception(ex))) => self.fail(errors::setter_exception(name, ex), span),
            Some(Err(other)) => Err(Flow::error(self.net_error(other, name, 1).at(self.pos(span)))),
            None => self.fail(errors::property_not_found(name, &ty.full_name()), span),
        }
    }

    /// `[T]::Name(args)`.
    pub fn call_static(&mut self, t: &Value, name: &str, args: Vec<Value>, span: Span) -> R<Value> {
        let Value::Type(ty) = t else {
            return self.fail(errors::lab_unsupported("'::' on a value that is not a type"), span);
        };
        if ty.is_prim(Prim::ScriptBlock) && is(name, "Create") {
            return self.scriptblock_create(&args, span);
        }
        let found = match ty {
            TypeRef::Prim(p) => dotnet::prims::static_call(*p, name, &args, &mut self.cx),
            TypeRef::Net(nt) => {
                let nt = nt.clone();
                nt.call_static(&mut self.cx, name, &args)
            }
            TypeRef::Array(_) => None,
        };
        match found {
            Some(r) => self.net(r, name, args.len(), span),
            None => {
                let mut r = errors::no_method(&ty.full_name(), name);
                if !self.cx.version.v3() {
                    r.exception.message = r.exception.message.replace("does not contain", "doesn't contain");
                }
                self.fail(r, span)
            }
        }
    }

    /// `[ScriptBlock]::Create($text)`: parse; a syntax error is a
    /// MethodInvocationException wrapping the ParseException.
    fn scriptblock_create(&mut self, args: &[Value], span: Span) -> R<Value> {
        if args.len() != 1 {
            return self.fail(errors::no_overload("Create", args.len()), span);
        }
        let text = convert::to_string(&args[0], &mut self.cx);
        match crate::lab::powershell::cache::parse(&text) {
            Ok(ast) => Ok(Value::ScriptBlock(Rc::new(crate::lab::powershell::value::ScriptBlock { ast }))),
            Err(e) => {
                let ex = crate::lab::powershell::object::Exception::new(
                    "System.Management.Automation.ParseException",
                    crate::lab::powershell::parse_exception_message(&text, &e),
                );
                self.fail(errors::method_exception("Create", 1, ex), span)
            }
        }
    }
}

/// `$v.GetType()`.
pub fn type_of(v: &Value) -> TypeRef {
    match v {
        Value::Bool(_) => TypeRef::Prim(Prim::Bool),
        Value::Int(_) => TypeRef::Prim(Prim::Int32),
        Value::Long(_) => TypeRef::Prim(Prim::Int64),
        Value::Double(_) => TypeRef::Prim(Prim::Double),
        Value::Byte(_) => TypeRef::Prim(Prim::Byte),
        Value::UInt32(_) => TypeRef::Prim(Prim::UInt32),
        Value::UInt64(_) => TypeRef::Prim(Prim::UInt64),
        Value::Char(_) => TypeRef::Prim(Prim::Char),
        Value::Str(_) => TypeRef::Prim(Prim::String),
        Value::Array(a) => TypeRef::Array(std::sync::Arc::new(match &a.elem {
            crate::lab::powershell::value::ElemType::Object => TypeRef::Prim(Prim::Object),
            crate::lab::powershell::value::ElemType::String => TypeRef::Prim(Prim::String),
            crate::lab::powershell::value::ElemType::Int => TypeRef::Prim(Prim::Int32),
            crate::lab::powershell::value::ElemType::Long => TypeRef::Prim(Prim::Int64),
            crate::lab::powershell::value::ElemType::Char => TypeRef::Prim(Prim::Char),
            crate::lab::powershell::value::ElemType::Double => TypeRef::Prim(Prim::Double),
            crate::lab::powershell::value::ElemType::Bool => TypeRef::Prim(Prim::Bool),
            crate::lab::powershell::value::ElemType::Other(t) => t.clone(),
        })),
        Value::Bytes(_) => TypeRef::Array(std::sync::Arc::new(TypeRef::Prim(Prim::Byte))),
        Value::Hashtable(_) => TypeRef::Prim(Prim::Hashtable),
        Value::ScriptBlock(_) => TypeRef::Prim(Prim::ScriptBlock),
        Value::DateTime(_) => TypeRef::Prim(Prim::DateTime),
        Value::TimeSpan(_) => TypeRef::Prim(Prim::TimeSpan),
        Value::Type(_) => TypeRef::Prim(Prim::Type),
        Value::Enum(d, _) => TypeRef::Net(std::sync::Arc::new(crate::lab::powershell::object::EnumType(d))),
        Value::Object(o) => match crate::lab::powershell::types::resolve(&o.type_name(), &[]) {
            Some(t) => t,
            None => TypeRef::Net(std::sync::Arc::new(NamedType(o.type_name().into_owned()))),
        },
        Value::Null => TypeRef::Prim(Prim::Object),
    }
}

/// A type known only by name (the type of an object whose type is not
/// registered).
struct NamedType(String);

impl crate::lab::powershell::object::NetType for NamedType {
    fn full_name(&self) -> &str {
        &self.0
    }
}

fn type_property(t: &TypeRef, name: &str) -> Option<NetResult<Value>> {
    let full = t.full_name();
    Some(Ok(if is(name, "FullName") || is(name, "AssemblyQualifiedName") {
        Value::string(full)
    } else if is(name, "Name") {
        Value::string(full.rsplit('.').next().unwrap_or(&full).to_string())
    } else if is(name, "Namespace") {
        Value::string(full.rsplit_once('.').map(|(a, _)| a.to_string()).unwrap_or_default())
    } else if is(name, "IsArray") {
        Value::Bool(matches!(t, TypeRef::Array(_)))
    } else if is(name, "IsEnum") {
        Value::Bool(matches!(t, TypeRef::Net(n) if n.enum_def().is_some()))
    } else {
        return None;
    }))
}

/// "first", "second", ... as the method binder names arguments.
fn arg_name(i: usize) -> String {
    format!("{}", i + 1)
}
