//! Running compiled C#: each class is a .NET type PowerShell can call
//! ([`CsType`]: public static methods, constants, nested structs), each
//! struct instance an object with value semantics ([`CsStruct`]). Method
//! bodies run in a small interpreter over the engine's values and
//! objects: calls to .NET types go to the engine's registry, `extern`
//! methods to the Win32 functions of the host ([`super::pinvoke`]).
//! Arithmetic is C#'s unchecked arithmetic on int, uint, long and byte.
//! PowerShell calls convert as PowerShell converts (`$null` to a `string`
//! parameter becomes `""`; `out`/`ref` parameters need `[ref]`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::ast::*;
use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet::misc::PsReference;
use crate::lab::powershell::errors::ExceptionObj;
use crate::lab::powershell::object::{Ctx, Exception, NetError, NetObject, NetResult, NetType, registry, void};
use crate::lab::powershell::types::{self, TypeRef};
use crate::lab::powershell::value::{Array, ElemType, Value};

/// A compiled assembly: its types and the namespaces its code imports.
#[derive(Debug)]
pub struct Program {
    pub usings: Vec<String>,
    pub types: Vec<TypeDecl>,
}

impl Program {
    /// Every type, nested ones included, by full name.
    fn all(&self) -> Vec<&TypeDecl> {
        fn walk<'a>(t: &'a TypeDecl, out: &mut Vec<&'a TypeDecl>) {
            out.push(t);
            for n in &t.nested {
                walk(n, out);
            }
        }
        let mut out = Vec::new();
        for t in &self.types {
            walk(t, &mut out);
        }
        out
    }

    fn find(&self, name: &str, from: &TypeDecl) -> Option<&TypeDecl> {
        let all = self.all();
        let nested = format!("{}.{name}", from.full_name());
        all.iter().find(|t| t.full_name() == nested).or_else(|| all.iter().find(|t| t.full_name() == name || t.name == name)).copied()
    }
}

/// A compiled class or struct as a .NET type.
pub struct CsType {
    pub program: Arc<Program>,
    /// Index path into the program's types: its full name.
    pub full_name: String,
}

impl CsType {
    fn decl(&self) -> &TypeDecl {
        self.program.all().into_iter().find(|t| t.full_name() == self.full_name).expect("compiled type")
    }
}

fn no_method(argc: usize) -> NetError {
    NetError::NoOverload { argc }
}

impl NetType for CsType {
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn get_static(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let decl = self.decl();
        let f = decl.fields.iter().find(|f| f.public && f.is_static && f.name.eq_ignore_ascii_case(name))?;
        let mut m = Machine { cx, program: &self.program, ty: decl, frames: Vec::new() };
        Some(m.field_value(f).map_err(|f| f.into_net()))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let decl = self.decl();
        let candidates: Vec<&Method> = decl.methods.iter().filter(|m| m.public && m.is_static && m.name.eq_ignore_ascii_case(name)).collect();
        if candidates.is_empty() {
            return None;
        }
        let Some(method) = candidates.iter().find(|m| m.params.len() == args.len()) else { return Some(Err(no_method(args.len()))) };
        // PowerShell's conversions; out/ref parameters take [ref].
        let mut values = Vec::with_capacity(args.len());
        for (i, (p, a)) in method.params.iter().zip(args).enumerate() {
            if p.mode != ParamMode::Value {
                let Some(r) = a.as_object().and_then(|o| o.as_any().downcast_ref::<PsReference>()) else {
                    return Some(Err(NetError::Exception(Exception::new(
                        "System.Management.Automation.MethodException",
                        format!("Argument: '{}' should be a System.Management.Automation.PSReference. Use [ref].", i + 1),
                    ))));
                };
                values.push(r.value.borrow().clone());
                continue;
            }
            match ps_convert(cx, &self.program, decl, a, &p.ty) {
                Ok(v) => values.push(v),
                Err(reason) => {
                    return Some(Err(NetError::Argument { index: i, value: convert::to_string(a, cx), target: p.ty.name.clone(), reason }));
                }
            }
        }
        let mut m = Machine { cx, program: &self.program, ty: decl, frames: Vec::new() };
        let r = m.invoke(method, &mut values);
        for (p, (a, v)) in method.params.iter().zip(args.iter().zip(values)) {
            if p.mode != ParamMode::Value
                && let Some(r) = a.as_object().and_then(|o| o.as_any().downcast_ref::<PsReference>())
            {
                *r.value.borrow_mut() = v;
            }
        }
        Some(match r {
            Ok(v) => Ok(v),
            Err(f) => Err(f.into_net()),
        })
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let decl = self.decl();
        if !decl.is_struct {
            return None;
        }
        if !args.is_empty() {
            return Some(Err(no_method(args.len())));
        }
        let m = Machine { cx, program: &self.program, ty: decl, frames: Vec::new() };
        Some(Ok(m.new_struct(decl)))
    }
}

/// A value PowerShell passes, as the parameter's type.
fn ps_convert(cx: &mut Ctx<'_>, program: &Program, from: &TypeDecl, v: &Value, ty: &TypeExpr) -> Result<Value, String> {
    if program.find(&ty.name, from).is_some() {
        return Ok(v.clone());
    }
    match prim_type(ty) {
        Some(t) => convert::convert(v, &t, cx).map_err(|e| e.exception.message),
        None => Ok(v.clone()),
    }
}

/// The engine type of a C# primitive type name.
fn prim_type(ty: &TypeExpr) -> Option<TypeRef> {
    let n = match ty.name.as_str() {
        "int" | "uint" | "long" | "ulong" | "short" | "ushort" | "byte" | "sbyte" | "bool" | "string" | "char" | "double" | "float" | "object" => ty.name.clone(),
        "Int32" | "UInt32" | "Int64" | "Byte" | "Boolean" | "String" | "Char" | "System.Int32" | "System.UInt32" | "System.String" => ty.name.clone(),
        _ => return None,
    };
    types::resolve(&if ty.array { format!("{n}[]") } else { n }, &[])
}

/// A struct instance (value semantics: copied when assigned).
#[derive(Debug)]
pub struct CsStruct {
    pub type_name: String,
    pub fields: RefCell<Vec<(String, TypeExpr, Value)>>,
}

impl CsStruct {
    fn copy(&self) -> CsStruct {
        let fields = self.fields.borrow().iter().map(|(n, t, v)| (n.clone(), t.clone(), copy_value(v))).collect();
        CsStruct { type_name: self.type_name.clone(), fields: RefCell::new(fields) }
    }
    pub fn field(&self, name: &str) -> Option<Value> {
        self.fields.borrow().iter().find(|(n, _, _)| n == name).map(|(_, _, v)| v.clone())
    }
    pub fn set_field(&self, name: &str, v: Value) -> bool {
        let mut f = self.fields.borrow_mut();
        match f.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, t, slot)) => {
                *slot = coerce(&v, t);
                true
            }
            None => false,
        }
    }
    /// The size `Marshal.SizeOf` gives (sequential layout, natural
    /// alignment).
    pub fn size(&self) -> i32 {
        let mut off = 0i32;
        let mut align = 1i32;
        for (_, t, _) in self.fields.borrow().iter() {
            let s = prim_size(t);
            off = (off + s - 1) / s * s + s;
            align = align.max(s);
        }
        (off + align - 1) / align * align
    }
}

fn prim_size(t: &TypeExpr) -> i32 {
    match t.name.as_str() {
        "byte" | "sbyte" | "bool" => 1,
        "short" | "ushort" | "char" => 2,
        "long" | "ulong" | "double" | "IntPtr" => 8,
        _ => 4,
    }
}

impl NetObject for CsStruct {
    fn type_name(&self) -> Cow<'static, str> {
        self.type_name.clone().into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.ValueType"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        self.fields.borrow().iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, _, v)| Ok(v.clone()))
    }
    fn set(&self, _: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let n = self.fields.borrow().iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(n, _, _)| n.clone())?;
        self.set_field(&n, value);
        Some(Ok(()))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        self.fields.borrow().iter().map(|(n, _, _)| Cow::Owned(n.clone())).collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A struct value is copied on assignment; anything else is shared.
fn copy_value(v: &Value) -> Value {
    match v.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>()) {
        Some(s) => Value::object(s.copy()),
        None => v.clone(),
    }
}

/// An integer value as i128 (None for non-integers).
fn int_of(v: &Value) -> Option<i128> {
    Some(match v {
        Value::Int(n) => i128::from(*n),
        Value::Long(n) => i128::from(*n),
        Value::UInt32(n) => i128::from(*n),
        Value::UInt64(n) => i128::from(*n),
        Value::Byte(n) => i128::from(*n),
        Value::Char(n) => i128::from(*n),
        Value::Enum(_, n) => i128::from(*n),
        _ => return None,
    })
}

/// A value stored into a variable, field or parameter of type `t`
/// (C#'s unchecked conversions).
fn coerce(v: &Value, t: &TypeExpr) -> Value {
    if t.array {
        return v.clone();
    }
    let Some(n) = int_of(v) else { return copy_value(v) };
    match t.name.as_str() {
        "int" | "Int32" => Value::Int(n as i32),
        "uint" | "UInt32" => Value::UInt32(n as u32),
        "long" | "Int64" => Value::Long(n as i64),
        "ulong" | "UInt64" => Value::UInt64(n as u64),
        "byte" | "Byte" => Value::Byte(n as u8),
        "char" | "Char" => Value::Char(n as u16),
        "short" => Value::Int(i32::from(n as i16)),
        "ushort" => Value::Int(i32::from(n as u16)),
        "IntPtr" => Value::Long(n as i64),
        _ => v.clone(),
    }
}

/// How a statement ended.
pub enum Flow {
    Return(Value),
    Break,
    Continue,
    /// An exception: the exception object.
    Throw(Exception),
}

impl Flow {
    fn into_net(self) -> NetError {
        match self {
            Flow::Throw(e) => NetError::Exception(e),
            _ => NetError::Exception(Exception::new("System.InvalidProgramException", "break or continue outside a loop")),
        }
    }
}

fn throw<T>(type_name: &'static str, message: impl Into<String>) -> Result<T, Flow> {
    Err(Flow::Throw(Exception::new(type_name, message)))
}

fn net(e: NetError, name: &str, argc: usize) -> Flow {
    Flow::Throw(match e {
        NetError::Exception(x) => x,
        NetError::NoOverload { argc: n } => Exception::new("System.MissingMethodException", format!("No overload of '{name}' takes {n} arguments.")),
        NetError::Argument { reason, .. } => Exception::new("System.ArgumentException", format!("{reason} ({name}, {argc} arguments)")),
    })
}

type X<T> = Result<T, Flow>;

/// Where an assignment or an `out`/`ref` argument writes.
enum Place {
    Local(usize, usize),
    Field(Value, String),
}

/// One method activation.
pub struct Machine<'m, 'c, 'cx> {
    pub cx: &'m mut Ctx<'cx>,
    pub program: &'c Program,
    pub ty: &'c TypeDecl,
    /// Scopes of locals: (name, type, value).
    frames: Vec<Vec<(String, TypeExpr, Value)>>,
}

impl<'m, 'c, 'cx> Machine<'m, 'c, 'cx> {
    /// Run a method with these argument values (out/ref ones written back
    /// into `args`).
    pub fn invoke(&mut self, m: &'c Method, args: &mut [Value]) -> X<Value> {
        if let Some(imp) = &m.import {
            let entry = if imp.entry.is_empty() { m.name.clone() } else { imp.entry.clone() };
            return super::pinvoke::call(self.cx, &imp.dll, &entry, m, args, imp.set_last_error).map_err(Flow::Throw);
        }
        let saved = std::mem::take(&mut self.frames);
        self.frames.push(m.params.iter().zip(args.iter()).map(|(p, v)| (p.name.clone(), p.ty.clone(), coerce(v, &p.ty))).collect());
        let body = m.body.as_deref().unwrap_or(&[]);
        let r = self.block(body);
        let params = self.frames.first().cloned().unwrap_or_default();
        self.frames = saved;
        for ((p, slot), (_, _, v)) in m.params.iter().zip(args.iter_mut()).zip(params) {
            if p.mode != ParamMode::Value {
                *slot = v;
            }
        }
        match r {
            Ok(()) => Ok(if m.ret.name == "void" { void() } else { Value::Null }),
            Err(Flow::Return(v)) => Ok(coerce(&v, &m.ret)),
            Err(f) => Err(f),
        }
    }

    fn new_struct(&self, decl: &TypeDecl) -> Value {
        let fields = decl.fields.iter().filter(|f| !f.is_static).map(|f| (f.name.clone(), f.ty.clone(), default_of(&f.ty))).collect();
        Value::object(CsStruct { type_name: decl.full_name(), fields: RefCell::new(fields) })
    }

    fn field_value(&mut self, f: &'c Field) -> X<Value> {
        match &f.init {
            Some(e) => {
                let v = self.eval(e)?;
                Ok(coerce(&v, &f.ty))
            }
            None => Ok(default_of(&f.ty)),
        }
    }

    fn block(&mut self, stmts: &'c [Stmt]) -> X<()> {
        self.frames.push(Vec::new());
        let r = stmts.iter().try_for_each(|s| self.stmt(s));
        self.frames.pop();
        r
    }

    fn stmt(&mut self, s: &'c Stmt) -> X<()> {
        match s {
            Stmt::Block(b) => self.block(b),
            Stmt::Empty => Ok(()),
            Stmt::Local(ty, vars) => {
                for (name, init) in vars {
                    let v = match init {
                        Some(e) => {
                            let v = self.eval(e)?;
                            coerce(&v, ty)
                        }
                        None => self.default_for(ty),
                    };
                    self.frames.last_mut().expect("a scope").push((name.clone(), ty.clone(), v));
                }
                Ok(())
            }
            Stmt::Expr(e) => self.eval(e).map(|_| ()),
            Stmt::If(c, a, b) => {
                if self.truth(c)? {
                    self.stmt(a)
                } else if let Some(b) = b {
                    self.stmt(b)
                } else {
                    Ok(())
                }
            }
            Stmt::Return(v) => {
                let v = match v {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                Err(Flow::Return(v))
            }
            Stmt::Throw(Some(e)) => {
                let v = self.eval(e)?;
                match v.as_object().and_then(|o| o.as_any().downcast_ref::<ExceptionObj>()) {
                    Some(x) => Err(Flow::Throw(x.exception.clone())),
                    None => throw("System.NullReferenceException", "Object reference not set to an instance of an object."),
                }
            }
            Stmt::Throw(None) => throw("System.InvalidProgramException", "rethrow outside a catch block"),
            Stmt::Break => Err(Flow::Break),
            Stmt::Continue => Err(Flow::Continue),
            Stmt::Try(body, catches, finally) => {
                let mut r = self.block(body);
                if let Err(Flow::Throw(ex)) = &r {
                    let ex = ex.clone();
                    for (ty, var, handler) in catches {
                        let caught = ty.as_ref().is_none_or(|t| self.catches(&ex.type_name, &t.name));
                        if caught {
                            self.frames.push(Vec::new());
                            if let Some(v) = var {
                                let obj = Value::object(ExceptionObj { exception: ex.clone(), record: None });
                                self.frames.last_mut().expect("scope").push((v.clone(), TypeExpr { name: "Exception".into(), array: false }, obj));
                            }
                            r = handler.iter().try_for_each(|s| self.stmt(s));
                            self.frames.pop();
                            break;
                        }
                    }
                }
                if let Some(f) = finally {
                    self.block(f)?;
                }
                r
            }
            Stmt::Foreach(ty, name, e, body) => {
                let v = self.eval(e)?;
                let items = match &v {
                    Value::Null => return throw("System.NullReferenceException", "Object reference not set to an instance of an object."),
                    v => v.enumerate(self.cx).unwrap_or_default(),
                };
                for item in items {
                    self.frames.push(vec![(name.clone(), ty.clone(), coerce(&item, ty))]);
                    let r = self.stmt(body);
                    self.frames.pop();
                    match r {
                        Ok(()) | Err(Flow::Continue) => {}
                        Err(Flow::Break) => break,
                        Err(f) => return Err(f),
                    }
                }
                Ok(())
            }
            Stmt::While(c, body) => {
                while self.truth(c)? {
                    match self.stmt(body) {
                        Ok(()) | Err(Flow::Continue) => {}
                        Err(Flow::Break) => break,
                        Err(f) => return Err(f),
                    }
                }
                Ok(())
            }
            Stmt::For(init, cond, step, body) => {
                self.frames.push(Vec::new());
                let r = (|| {
                    if let Some(i) = init {
                        self.stmt(i)?;
                    }
                    loop {
                        if let Some(c) = cond
                            && !self.truth(c)?
                        {
                            break;
                        }
                        match self.stmt(body) {
                            Ok(()) | Err(Flow::Continue) => {}
                            Err(Flow::Break) => break,
                            Err(f) => return Err(f),
                        }
                        for s in step {
                            self.eval(s)?;
                        }
                    }
                    Ok(())
                })();
                self.frames.pop();
                r
            }
        }
    }

    fn truth(&mut self, e: &'c Expr) -> X<bool> {
        Ok(matches!(self.eval(e)?, Value::Bool(true)))
    }

    fn default_for(&self, ty: &TypeExpr) -> Value {
        if !ty.array
            && let Some(d) = self.program.find(&ty.name, self.ty)
            && d.is_struct
        {
            return self.new_struct(d);
        }
        default_of(ty)
    }

    /// A type name as written in this code, as a full .NET name (the
    /// `using` namespaces tried in order).
    fn full_type_name(&self, name: &str) -> String {
        let short = name.rsplit('.').next().unwrap_or(name);
        if matches!(short, "Exception") && !name.contains('.') {
            return "System.Exception".into();
        }
        self.resolve_net(name).map(|t| t.full_name().to_string()).unwrap_or_else(|| name.to_string())
    }

    /// Whether `catch (T)` catches an exception of type `thrown`: `T` as
    /// written, in `System`, or in a `using` namespace.
    fn catches(&self, thrown: &str, written: &str) -> bool {
        use crate::lab::powershell::errors::exception_is;
        if exception_is(thrown, written) || exception_is(thrown, &self.full_type_name(written)) {
            return true;
        }
        !written.contains('.') && (exception_is(thrown, &format!("System.{written}")) || self.program.usings.iter().any(|u| exception_is(thrown, &format!("{u}.{written}"))))
    }

    fn resolve_net(&self, name: &str) -> Option<Arc<dyn NetType>> {
        let reg = registry();
        if let Some(t) = reg.find_type(name) {
            return Some(t);
        }
        self.program.usings.iter().find_map(|u| reg.find_type(&format!("{u}.{name}")))
    }

    fn lookup(&self, name: &str) -> Option<(usize, usize)> {
        for (fi, f) in self.frames.iter().enumerate().rev() {
            if let Some(i) = f.iter().rposition(|(n, _, _)| n == name) {
                return Some((fi, i));
            }
        }
        None
    }

    fn place(&mut self, e: &'c Expr) -> X<Place> {
        match e {
            Expr::Name(n) => match self.lookup(n) {
                Some((f, i)) => Ok(Place::Local(f, i)),
                None => throw("System.InvalidProgramException", format!("'{n}' is not a local variable")),
            },
            Expr::Member(target, n) => {
                let t = self.eval_ref(target)?;
                Ok(Place::Field(t, n.clone()))
            }
            _ => throw("System.InvalidProgramException", "the left-hand side of an assignment must be a variable or a field"),
        }
    }

    /// Evaluate without copying a struct (a field access writes into it).
    fn eval_ref(&mut self, e: &'c Expr) -> X<Value> {
        if let Expr::Name(n) = e
            && let Some((f, i)) = self.lookup(n)
        {
            return Ok(self.frames[f][i].2.clone());
        }
        self.eval(e)
    }

    fn read(&mut self, p: &Place) -> X<Value> {
        match p {
            Place::Local(f, i) => Ok(self.frames[*f][*i].2.clone()),
            Place::Field(t, n) => self.member(t.clone(), n),
        }
    }

    fn write(&mut self, p: &Place, v: Value) -> X<()> {
        match p {
            Place::Local(f, i) => {
                let t = self.frames[*f][*i].1.clone();
                self.frames[*f][*i].2 = coerce(&v, &t);
                Ok(())
            }
            Place::Field(t, n) => {
                if let Some(s) = t.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>())
                    && s.set_field(n, v.clone())
                {
                    return Ok(());
                }
                match t {
                    Value::Object(o) => match o.set(self.cx, n, v) {
                        Some(r) => r.map_err(|e| net(e, n, 1)),
                        None => throw("System.MissingMemberException", format!("'{n}' is not a settable member")),
                    },
                    _ => throw("System.NullReferenceException", "Object reference not set to an instance of an object."),
                }
            }
        }
    }

    pub fn eval(&mut self, e: &'c Expr) -> X<Value> {
        Ok(match e {
            Expr::Int { value, unsigned, long } => match (unsigned, long) {
                (false, false) => Value::Int(*value as i32),
                (true, false) => Value::UInt32(*value as u32),
                (false, true) => Value::Long(*value as i64),
                (true, true) => Value::UInt64(*value),
            },
            Expr::Str(s) => Value::str(s),
            Expr::Char(c) => Value::Char(*c),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Null => Value::Null,
            Expr::Name(n) => {
                if let Some((f, i)) = self.lookup(n) {
                    return Ok(copy_value(&self.frames[f][i].2));
                }
                if let Some(f) = self.ty.fields.iter().find(|f| f.name == *n && f.is_static) {
                    return self.field_value(f);
                }
                return throw("System.InvalidProgramException", format!("The name '{n}' does not exist in the current context"));
            }
            Expr::Member(target, name) => {
                if let Some(v) = self.static_member(target, name)? {
                    return Ok(v);
                }
                let t = self.eval_ref(target)?;
                copy_value(&self.member(t, name)?)
            }
            Expr::Index(target, index) => {
                let t = self.eval(target)?;
                let i = self.eval(index)?;
                let n = int_of(&i).unwrap_or(-1);
                let items = t.enumerate(self.cx).unwrap_or_default();
                match usize::try_from(n).ok().and_then(|n| items.get(n)) {
                    Some(v) => v.clone(),
                    None => return throw("System.IndexOutOfRangeException", "Index was outside the bounds of the array."),
                }
            }
            Expr::Call(target, args) => return self.call(target, args),
            Expr::New(ty, args) => {
                if let Some(d) = self.program.find(&ty.name, self.ty)
                    && d.is_struct
                {
                    return Ok(self.new_struct(d));
                }
                let values = self.arg_values(args)?;
                let Some(t) = self.resolve_net(&ty.name) else {
                    return throw("System.TypeLoadException", format!("The type or namespace name '{}' could not be found", ty.name));
                };
                match t.construct(self.cx, &values) {
                    Some(r) => r.map_err(|e| net(e, ".ctor", values.len()))?,
                    None => return throw("System.MissingMethodException", format!("'{}' has no public constructor", ty.name)),
                }
            }
            Expr::NewArray(ty, n) => {
                let n = int_of(&self.eval(n)?).unwrap_or(0).max(0) as usize;
                if ty.name == "byte" {
                    Value::bytes(vec![0; n])
                } else {
                    let elem = TypeExpr { name: ty.name.clone(), array: false };
                    Value::Array(Rc::new(Array::new(ElemType::Object, vec![default_of(&elem); n])))
                }
            }
            Expr::Cast(ty, inner) => {
                let v = self.eval(inner)?;
                coerce(&v, ty)
            }
            Expr::TypeOf(ty) => {
                if let Some(d) = self.program.find(&ty.name, self.ty) {
                    return Ok(Value::string(d.full_name()));
                }
                match self.resolve_net(&ty.name) {
                    Some(t) => Value::Type(TypeRef::Net(t)),
                    None => return throw("System.TypeLoadException", format!("The type or namespace name '{}' could not be found", ty.name)),
                }
            }
            Expr::Unary(op, inner) => {
                let v = self.eval(inner)?;
                match (*op, &v) {
                    ("!", Value::Bool(b)) => Value::Bool(!b),
                    ("~", Value::UInt32(n)) => Value::UInt32(!n),
                    ("~", Value::Long(n)) => Value::Long(!n),
                    ("~", Value::UInt64(n)) => Value::UInt64(!n),
                    ("~", other) => Value::Int(!(int_of(other).unwrap_or(0) as i32)),
                    ("-", Value::Long(n)) => Value::Long(n.wrapping_neg()),
                    ("-", other) => Value::Int((int_of(other).unwrap_or(0) as i32).wrapping_neg()),
                    ("+", other) => other.clone(),
                    _ => return throw("System.InvalidProgramException", format!("operator {op} cannot be applied here")),
                }
            }
            Expr::Binary(op, a, b) => {
                if *op == "&&" {
                    return Ok(Value::Bool(self.truth(a)? && self.truth(b)?));
                }
                if *op == "||" {
                    return Ok(Value::Bool(self.truth(a)? || self.truth(b)?));
                }
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                binary(op, &x, &y, self.cx)?
            }
            Expr::Assign(op, target, value) => {
                let p = self.place(target)?;
                let v = self.eval(value)?;
                let v = if *op == "=" {
                    v
                } else {
                    let cur = self.read(&p)?;
                    binary(op, &cur, &v, self.cx)?
                };
                self.write(&p, v.clone())?;
                v
            }
            Expr::Step(target, by, prefix) => {
                let p = self.place(target)?;
                let old = self.read(&p)?;
                let new = binary("+", &old, &Value::Int(*by as i32), self.cx)?;
                self.write(&p, new.clone())?;
                if *prefix { new } else { old }
            }
            Expr::Cond(c, a, b) => {
                if self.truth(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Is(v, ty) | Expr::As(v, ty) => {
                let x = self.eval(v)?;
                let full = self.full_type_name(&ty.name);
                let yes = match &x {
                    Value::Null => false,
                    Value::Object(o) => o.type_name().eq_ignore_ascii_case(&full) || o.base_types().iter().any(|b| b.eq_ignore_ascii_case(&full)),
                    other => types::resolve(&full, &[]).is_some_and(|t| types::is_instance(other, &t)),
                };
                if matches!(e, Expr::Is(..)) {
                    Value::Bool(yes)
                } else if yes {
                    x
                } else {
                    Value::Null
                }
            }
        })
    }

    /// `Type.Member` for a type name (an enum value, a constant, a static
    /// property); `None` when `target` is not a type.
    fn static_member(&mut self, target: &'c Expr, name: &str) -> X<Option<Value>> {
        let Some(tname) = type_path(target) else { return Ok(None) };
        if self.lookup(tname.split('.').next().unwrap_or("")).is_some() {
            return Ok(None);
        }
        if let Some(d) = self.program.find(&tname, self.ty) {
            let Some(f) = d.fields.iter().find(|f| f.is_static && f.name == name) else {
                return throw("System.MissingFieldException", format!("'{tname}' does not contain a definition for '{name}'"));
            };
            let mut m = Machine { cx: &mut *self.cx, program: self.program, ty: d, frames: Vec::new() };
            return m.field_value(f).map(Some);
        }
        if tname == "IntPtr" || tname == "System.IntPtr" {
            if name == "Zero" {
                return Ok(Some(Value::Long(0)));
            }
            if name == "Size" {
                return Ok(Some(Value::Int(8)));
            }
        }
        let Some(t) = self.resolve_net(&tname) else { return Ok(None) };
        match t.get_static(self.cx, name) {
            Some(r) => r.map(Some).map_err(|e| net(e, name, 0)),
            None => throw("System.MissingMemberException", format!("'{tname}' does not contain a definition for '{name}'")),
        }
    }

    fn member(&mut self, t: Value, name: &str) -> X<Value> {
        if let Some(s) = t.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>())
            && let Some(v) = s.field(name)
        {
            return Ok(v);
        }
        let r = match &t {
            Value::Null => return throw("System.NullReferenceException", "Object reference not set to an instance of an object."),
            Value::Object(o) => o.get(self.cx, name),
            Value::Str(s) => crate::lab::powershell::dotnet::string::property(s, name),
            Value::Bytes(b) if name == "Length" => Some(Ok(Value::Int(b.borrow().len() as i32))),
            Value::Array(a) if name == "Length" => Some(Ok(Value::Int(a.items.borrow().len() as i32))),
            _ => None,
        };
        match r {
            Some(r) => r.map_err(|e| net(e, name, 0)),
            None => throw("System.MissingMemberException", format!("'{}' does not contain a definition for '{name}'", t.type_name())),
        }
    }

    fn arg_values(&mut self, args: &'c [Arg]) -> X<Vec<Value>> {
        args.iter().map(|a| self.eval(&a.expr)).collect()
    }

    fn call(&mut self, target: &'c Expr, args: &'c [Arg]) -> X<Value> {
        // A method of this type (or a nested type's).
        if let Expr::Name(n) = target {
            let candidates: Vec<&'c Method> = self.ty.methods.iter().filter(|m| m.name == *n && m.params.len() == args.len()).collect();
            if candidates.is_empty() {
                return throw("System.MissingMethodException", format!("The name '{n}' does not exist in the current context"));
            }
            let mut values = self.arg_values(args)?;
            let m = pick(&candidates, &values);
            let r = self.invoke(m, &mut values)?;
            self.write_back(args, values)?;
            return Ok(r);
        }
        let Expr::Member(on, name) = target else { return throw("System.InvalidProgramException", "method name expected") };
        // `Marshal.SizeOf(typeof(S))` / `Marshal.SizeOf(s)` of a compiled struct.
        if name == "SizeOf"
            && type_path(on).is_some_and(|t| t.ends_with("Marshal"))
            && let [a] = args
        {
            if let Expr::TypeOf(t) = &a.expr
                && let Some(d) = self.program.find(&t.name, self.ty)
            {
                let s = self.new_struct(d);
                return Ok(Value::Int(s.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>()).map_or(0, CsStruct::size)));
            }
            let v = self.eval(&a.expr)?;
            if let Some(s) = v.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>()) {
                return Ok(Value::Int(s.size()));
            }
        }
        if let Some(tname) = type_path(on)
            && self.lookup(tname.split('.').next().unwrap_or("")).is_none()
        {
            if let Some(d) = self.program.find(&tname, self.ty) {
                let candidates: Vec<&'c Method> = d.methods.iter().filter(|m| m.name == *name && m.params.len() == args.len()).collect();
                if candidates.is_empty() {
                    return throw("System.MissingMethodException", format!("'{tname}' does not contain a definition for '{name}'"));
                }
                let mut values = self.arg_values(args)?;
                let m = pick(&candidates, &values);
                let mut inner = Machine { cx: &mut *self.cx, program: self.program, ty: d, frames: Vec::new() };
                let r = inner.invoke(m, &mut values)?;
                self.write_back(args, values)?;
                return Ok(r);
            }
            if let Some(t) = self.resolve_net(&tname) {
                let values = self.arg_values(args)?;
                if (tname == "string" || tname == "String" || tname == "System.String") && name == "Equals" {
                    return string_equals(&values, self.cx);
                }
                return match t.call_static(self.cx, name, &values) {
                    Some(r) => r.map_err(|e| net(e, name, values.len())),
                    None => throw("System.MissingMethodException", format!("'{tname}' does not contain a definition for '{name}'")),
                };
            }
            if tname == "string" || tname == "String" {
                let values = self.arg_values(args)?;
                return match name.as_str() {
                    "Equals" => string_equals(&values, self.cx),
                    "IsNullOrEmpty" => Ok(Value::Bool(values.first().is_none_or(|v| v.is_null() || matches!(v, Value::Str(s) if s.is_empty())))),
                    "Concat" => Ok(Value::string(values.iter().map(|v| convert::to_string(v, self.cx)).collect::<String>())),
                    _ => throw("System.MissingMethodException", format!("'string' does not contain a definition for '{name}' in the cauterize lab's C#")),
                };
            }
        }
        let t = self.eval_ref(on)?;
        let values = self.arg_values(args)?;
        let r = match &t {
            Value::Null => return throw("System.NullReferenceException", "Object reference not set to an instance of an object."),
            Value::Object(o) => o.call(self.cx, name, &values),
            Value::Str(s) => crate::lab::powershell::dotnet::string::method(s, name, &values, self.cx),
            other => crate::lab::powershell::dotnet::prims::value_method(other, name, &values, self.cx),
        };
        match r {
            Some(Ok(v)) if crate::lab::powershell::object::is_this(&v) => Ok(t),
            Some(r) => r.map_err(|e| net(e, name, values.len())),
            None if name == "ToString" && values.is_empty() => Ok(Value::string(convert::to_string(&t, self.cx))),
            None => throw("System.MissingMethodException", format!("'{}' does not contain a definition for '{name}'", t.type_name())),
        }
    }

    /// After a call: `out`/`ref` arguments written back to their places.
    fn write_back(&mut self, args: &'c [Arg], values: Vec<Value>) -> X<()> {
        for (a, v) in args.iter().zip(values) {
            if a.mode != ParamMode::Value {
                let p = self.place(&a.expr)?;
                self.write(&p, v)?;
            }
        }
        Ok(())
    }
}

/// `string.Equals(a, b[, comparison])`: ordinal, or ordinal ignoring case
/// (odd StringComparison values).
fn string_equals(values: &[Value], cx: &mut Ctx<'_>) -> X<Value> {
    let text = |v: &Value, cx: &mut Ctx<'_>| if v.is_null() { None } else { Some(convert::to_string(v, cx)) };
    let (a, b) = (text(values.first().unwrap_or(&Value::Null), cx), text(values.get(1).unwrap_or(&Value::Null), cx));
    let ci = values.get(2).and_then(int_of).is_some_and(|n| n % 2 == 1);
    Ok(Value::Bool(match (a, b) {
        (Some(a), Some(b)) if ci => crate::lab::world::ci::eq_ci(&a, &b),
        (a, b) => a == b,
    }))
}

/// The overload whose parameter types fit the values best.
fn pick<'c>(candidates: &[&'c Method], values: &[Value]) -> &'c Method {
    let score = |m: &Method| -> usize {
        m.params
            .iter()
            .zip(values)
            .filter(|(p, v)| match v.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>()) {
                Some(s) => s.type_name.ends_with(&p.ty.name),
                None => matches!((p.ty.name.as_str(), v), ("byte", Value::Byte(_)) | ("int", Value::Int(_)) | ("uint", Value::UInt32(_)) | ("string", Value::Str(_)) | ("long", Value::Long(_))),
            })
            .count()
    };
    candidates.iter().copied().max_by_key(|m| score(m)).expect("a candidate")
}

/// `A.B.C` as a dotted name, when `e` is only names.
fn type_path(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.clone()),
        Expr::Member(t, n) => type_path(t).map(|p| format!("{p}.{n}")),
        _ => None,
    }
}

/// The zero value of a type.
fn default_of(ty: &TypeExpr) -> Value {
    if ty.array {
        return Value::Null;
    }
    match ty.name.as_str() {
        "int" | "short" | "ushort" | "Int32" => Value::Int(0),
        "uint" | "UInt32" => Value::UInt32(0),
        "long" | "IntPtr" | "Int64" => Value::Long(0),
        "ulong" | "UInt64" => Value::UInt64(0),
        "byte" | "Byte" => Value::Byte(0),
        "char" => Value::Char(0),
        "bool" | "Boolean" => Value::Bool(false),
        _ => Value::Null,
    }
}

/// C#'s binary operators on the engine's values.
fn binary(op: &str, x: &Value, y: &Value, cx: &mut Ctx<'_>) -> X<Value> {
    if op == "+" && (matches!(x, Value::Str(_)) || matches!(y, Value::Str(_))) {
        let s = |v: &Value, cx: &mut Ctx<'_>| if v.is_null() { String::new() } else { convert::to_string(v, cx) };
        return Ok(Value::string(format!("{}{}", s(x, cx), s(y, cx))));
    }
    if op == "==" || op == "!=" {
        let eq = match (int_of(x), int_of(y)) {
            (Some(a), Some(b)) => a == b,
            _ => match (x, y) {
                (Value::Null, Value::Null) => true,
                (Value::Null, _) | (_, Value::Null) => false,
                (Value::Str(a), Value::Str(b)) => a == b,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
                _ => false,
            },
        };
        return Ok(Value::Bool(if op == "==" { eq } else { !eq }));
    }
    if let (Value::Bool(a), Value::Bool(b)) = (x, y) {
        return Ok(Value::Bool(match op {
            "&" => *a && *b,
            "|" => *a || *b,
            "^" => a != b,
            _ => return throw("System.InvalidProgramException", format!("operator {op} cannot be applied to bool")),
        }));
    }
    let (Some(a), Some(b)) = (int_of(x), int_of(y)) else {
        return throw("System.InvalidProgramException", format!("operator {op} cannot be applied to {} and {}", x.type_name(), y.type_name()));
    };
    let r = match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" | "%" if b == 0 => return throw("System.DivideByZeroException", "Attempted to divide by zero."),
        "/" => a / b,
        "%" => a % b,
        "&" => a & b,
        "|" => a | b,
        "^" => a ^ b,
        "<<" => a << (b & 63),
        ">>" => a >> (b & 63),
        "<" => return Ok(Value::Bool(a < b)),
        ">" => return Ok(Value::Bool(a > b)),
        "<=" => return Ok(Value::Bool(a <= b)),
        ">=" => return Ok(Value::Bool(a >= b)),
        _ => return throw("System.InvalidProgramException", format!("unknown operator {op}")),
    };
    // The result type: C#'s numeric promotion (byte and char to int;
    // int with uint to long).
    let kind = |v: &Value| match v {
        Value::UInt64(_) => 4,
        Value::Long(_) => 3,
        Value::UInt32(_) => 2,
        _ => 1,
    };
    let (kx, ky) = (kind(x), kind(y));
    Ok(match kx.max(ky) {
        4 => Value::UInt64(r as u64),
        3 => Value::Long(r as i64),
        2 if kx == ky || op == "<<" || op == ">>" => Value::UInt32(r as u32),
        2 => Value::Long(r as i64),
        _ => Value::Int(r as i32),
    })
}
