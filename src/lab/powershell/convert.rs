//! PowerShell's conversions (LanguagePrimitives.ConvertTo): what `[int]`,
//! `[string]`, `-as`, parameter binding and .NET method arguments do to a
//! value. Integers from doubles round half to even (`[int]2.5` is 2);
//! strings become numbers when they read as one (`" 0x10 "` is 16);
//! `[string]$null` is `""`; an array becomes a string joined by spaces.

use std::rc::Rc;

use super::errors::{self, ErrorRecord};
use super::dates;
use super::format;
use super::object::Ctx;
use super::parser::lex::{self, Number};
use super::types::{Prim, TypeRef};
use super::value::{Array, DateKind, DateTime, ElemType, Value};
use crate::lab::world::utf16;

pub type Conv<T> = Result<T, ErrorRecord>;

/// `[string]$v`.
pub fn to_string(v: &Value, cx: &mut Ctx<'_>) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Long(n) => n.to_string(),
        Value::Byte(n) => n.to_string(),
        Value::UInt32(n) => n.to_string(),
        Value::UInt64(n) => n.to_string(),
        Value::Double(d) => format::double(*d, cx.version.dotnet_core()),
        Value::Char(c) => utf16::from_units(&[*c]),
        Value::Str(s) => String::from(&**s),
        Value::Array(a) => {
            let items = a.items.borrow().clone();
            items.iter().map(|i| to_string(i, cx)).collect::<Vec<_>>().join(" ")
        }
        Value::Bytes(b) => b.borrow().iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" "),
        Value::Hashtable(_) => "System.Collections.Hashtable".to_string(),
        Value::ScriptBlock(s) => s.ast.text().to_string(),
        Value::DateTime(d) => dates::invariant(*d),
        Value::TimeSpan(t) => dates::timespan(*t),
        Value::Enum(d, n) => d.name_of(*n),
        Value::Type(t) => t.full_name(),
        Value::Object(o) => o.to_text(cx),
    }
}

/// A string value (shares the text when it already is one).
pub fn to_str_value(v: &Value, cx: &mut Ctx<'_>) -> Rc<str> {
    match v {
        Value::Str(s) => s.clone(),
        other => Rc::from(to_string(other, cx)),
    }
}

/// LanguagePrimitives.IsTrue.
pub fn to_bool(v: &Value) -> bool {
    v.is_true_lossy()
}

/// A number: the value as PowerShell reads it for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::U(u) => u as f64,
            Num::F(f) => f,
        }
    }
}

/// The number a string reads as (trimmed; `0x` hex, decimals, exponents,
/// `kb`..`pb`); `None` when it does not read as one. `""` reads as 0.
pub fn parse_number(s: &str) -> Option<Num> {
    let t = s.trim();
    if t.is_empty() {
        return Some(Num::I(0));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (n, len) = lex::number(body)?;
    if len != body.len() {
        // `1,000` and other culture forms are not numbers here.
        return None;
    }
    Some(match (n, neg) {
        (Number::Int(i), false) => Num::I(i64::from(i)),
        (Number::Int(i), true) => Num::I(-i64::from(i)),
        (Number::Long(l), false) => Num::I(l),
        (Number::Long(l), true) => Num::I(l.wrapping_neg()),
        (Number::Double(d), false) => Num::F(d),
        (Number::Double(d), true) => Num::F(-d),
    })
}

/// The number a value is, for arithmetic and numeric conversions.
pub fn to_num(v: &Value, to: &str, cx: &mut Ctx<'_>) -> Conv<Num> {
    Ok(match v {
        Value::Null => Num::I(0),
        Value::Bool(b) => Num::I(i64::from(*b)),
        Value::Int(n) => Num::I(i64::from(*n)),
        Value::Long(n) => Num::I(*n),
        Value::Byte(n) => Num::I(i64::from(*n)),
        Value::UInt32(n) => Num::I(i64::from(*n)),
        Value::UInt64(n) => Num::U(*n),
        Value::Double(d) => Num::F(*d),
        Value::Char(c) => Num::I(i64::from(*c)),
        Value::Enum(_, n) => Num::I(*n),
        Value::Str(s) => match parse_number(s) {
            Some(n) => n,
            None => return Err(errors::invalid_cast(s, "System.String", to, Some("Input string was not in a correct format."))),
        },
        other => {
            let text = to_string(other, cx);
            return Err(errors::invalid_cast(&text, &other.type_name(), to, None));
        }
    })
}

fn overflow(v: &Value, to: &str, cx: &mut Ctx<'_>) -> ErrorRecord {
    let text = to_string(v, cx);
    errors::invalid_cast(&text, &v.type_name(), to, Some(&format!("Value was either too large or too small for {}.", short(to))))
}

fn short(t: &str) -> String {
    let s = t.rsplit('.').next().unwrap_or(t);
    let article = if s.starts_with(['I', 'U', 'A', 'E', 'O']) { "an" } else { "a" };
    format!("{article} {s}")
}

/// An integer in `[min, max]` from a value (doubles round half to even).
fn to_int_in(v: &Value, min: i128, max: i128, to: &str, cx: &mut Ctx<'_>) -> Conv<i128> {
    let n = to_num(v, to, cx)?;
    let i: i128 = match n {
        Num::I(i) => i128::from(i),
        Num::U(u) => i128::from(u),
        Num::F(f) => {
            if !f.is_finite() {
                return Err(overflow(v, to, cx));
            }
            lex::round_half_even(f) as i128
        }
    };
    if i < min || i > max {
        return Err(overflow(v, to, cx));
    }
    Ok(i)
}

pub fn to_i32(v: &Value, cx: &mut Ctx<'_>) -> Conv<i32> {
    if let Value::Int(n) = v {
        return Ok(*n);
    }
    Ok(to_int_in(v, i128::from(i32::MIN), i128::from(i32::MAX), "System.Int32", cx)? as i32)
}

pub fn to_i64(v: &Value, cx: &mut Ctx<'_>) -> Conv<i64> {
    Ok(to_int_in(v, i128::from(i64::MIN), i128::from(i64::MAX), "System.Int64", cx)? as i64)
}

pub fn to_u32(v: &Value, cx: &mut Ctx<'_>) -> Conv<u32> {
    Ok(to_int_in(v, 0, i128::from(u32::MAX), "System.UInt32", cx)? as u32)
}

pub fn to_u64(v: &Value, cx: &mut Ctx<'_>) -> Conv<u64> {
    Ok(to_int_in(v, 0, i128::from(u64::MAX), "System.UInt64", cx)? as u64)
}

pub fn to_u8(v: &Value, cx: &mut Ctx<'_>) -> Conv<u8> {
    Ok(to_int_in(v, 0, 255, "System.Byte", cx)? as u8)
}

pub fn to_f64(v: &Value, cx: &mut Ctx<'_>) -> Conv<f64> {
    Ok(to_num(v, "System.Double", cx)?.as_f64())
}

/// `[char]$v`: a code, or a one-character string.
pub fn to_char(v: &Value, cx: &mut Ctx<'_>) -> Conv<u16> {
    match v {
        Value::Char(c) => Ok(*c),
        Value::Str(s) => {
            let units = utf16::units(s);
            if units.len() == 1 {
                Ok(units[0])
            } else {
                Err(errors::invalid_cast(s, "System.String", "System.Char", Some("String must be exactly one character long.")))
            }
        }
        Value::Null => Ok(0),
        other => Ok(to_int_in(other, 0, 65535, "System.Char", cx)? as u16),
    }
}

/// `[T]$v`.
pub fn convert(v: &Value, t: &TypeRef, cx: &mut Ctx<'_>) -> Conv<Value> {
    match t {
        TypeRef::Prim(p) => convert_prim(v, *p, cx),
        TypeRef::Array(elem) => convert_array(v, elem, cx),
        TypeRef::Net(nt) => {
            if super::types::is_instance(v, t) {
                return Ok(v.clone());
            }
            if let Some(def) = nt.enum_def() {
                return convert_enum(v, def, cx);
            }
            if let Some(r) = nt.convert(cx, v) {
                return r.map_err(|e| match e {
                    super::object::NetError::Exception(ex) => {
                        let text = to_string(v, cx);
                        errors::invalid_cast(&text, &v.type_name(), nt.full_name(), Some(&ex.message))
                    }
                    _ => {
                        let text = to_string(v, cx);
                        errors::invalid_cast(&text, &v.type_name(), nt.full_name(), None)
                    }
                });
            }
            if v.is_null() {
                return Ok(Value::Null);
            }
            let text = to_string(v, cx);
            Err(errors::invalid_cast(&text, &v.type_name(), nt.full_name(), None))
        }
    }
}

fn convert_enum(v: &Value, def: &'static super::object::EnumDef, cx: &mut Ctx<'_>) -> Conv<Value> {
    match v {
        Value::Enum(_, n) => Ok(Value::Enum(def, *n)),
        Value::Str(s) => {
            let mut total = 0i64;
            for part in s.split(',') {
                match def.value_of(part) {
                    Some(n) => total |= n,
                    None => {
                        let names: Vec<&str> = def.members.iter().map(|(n, _)| *n).collect();
                        return Err(errors::invalid_cast(
                            s,
                            "System.String",
                            def.full_name,
                            Some(&format!(
                                "Unable to match the identifier name {} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}",
                                part.trim(),
                                names.join(", ")
                            )),
                        ));
                    }
                }
            }
            Ok(Value::Enum(def, total))
        }
        other => Ok(Value::Enum(def, to_i64(other, cx)?)),
    }
}

fn convert_prim(v: &Value, p: Prim, cx: &mut Ctx<'_>) -> Conv<Value> {
    Ok(match p {
        Prim::Object | Prim::PSObject => v.clone(),
        Prim::String => Value::Str(to_str_value(v, cx)),
        Prim::Bool | Prim::Switch => Value::Bool(to_bool(v)),
        Prim::Int32 => Value::Int(to_i32(v, cx)?),
        Prim::Int64 => Value::Long(to_i64(v, cx)?),
        Prim::Int16 => Value::Int(to_int_in(v, i128::from(i16::MIN), i128::from(i16::MAX), "System.Int16", cx)? as i32),
        Prim::UInt16 => Value::Int(to_int_in(v, 0, 65535, "System.UInt16", cx)? as i32),
        Prim::SByte => Value::Int(to_int_in(v, -128, 127, "System.SByte", cx)? as i32),
        Prim::Byte => Value::Byte(to_u8(v, cx)?),
        Prim::UInt32 => Value::UInt32(to_u32(v, cx)?),
        Prim::UInt64 => Value::UInt64(to_u64(v, cx)?),
        Prim::Double | Prim::Single | Prim::Decimal => Value::Double(to_f64(v, cx)?),
        Prim::Char => Value::Char(to_char(v, cx)?),
        Prim::Void => Value::Null,
        Prim::IntPtr => Value::Long(to_i64(v, cx)?),
        Prim::NullString => Value::Null,
        Prim::Hashtable => match v {
            Value::Hashtable(_) => v.clone(),
            Value::Null => Value::Null,
            other => return Err(cannot(other, "System.Collections.Hashtable", cx)),
        },
        Prim::ScriptBlock => match v {
            Value::ScriptBlock(_) | Value::Null => v.clone(),
            other => return Err(cannot(other, "System.Management.Automation.ScriptBlock", cx)),
        },
        Prim::Type => match v {
            Value::Type(_) => v.clone(),
            Value::Str(s) => match super::types::resolve(s, &cx.dynamic_types) {
                Some(t) => Value::Type(t),
                None => return Err(errors::invalid_cast(s, "System.String", "System.Type", Some(&format!("Unable to find type [{s}]")))),
            },
            other => return Err(cannot(other, "System.Type", cx)),
        },
        Prim::DateTime => match v {
            Value::DateTime(_) => v.clone(),
            Value::Long(t) => Value::DateTime(DateTime { ticks: *t, kind: DateKind::Unspecified }),
            Value::Int(t) => Value::DateTime(DateTime { ticks: i64::from(*t), kind: DateKind::Unspecified }),
            Value::Str(s) => match dates::parse(s) {
                Some(d) => Value::DateTime(d),
                None => {
                    return Err(errors::invalid_cast(
                        s,
                        "System.String",
                        "System.DateTime",
                        Some("String was not recognized as a valid DateTime."),
                    ));
                }
            },
            Value::Null => Value::DateTime(DateTime { ticks: 0, kind: DateKind::Unspecified }),
            other => return Err(cannot(other, "System.DateTime", cx)),
        },
        Prim::TimeSpan => match v {
            Value::TimeSpan(_) => v.clone(),
            Value::Int(_) | Value::Long(_) => Value::TimeSpan(to_i64(v, cx)?),
            Value::Str(s) => match dates::parse_timespan(s) {
                Some(t) => Value::TimeSpan(t),
                None => return Err(errors::invalid_cast(s, "System.String", "System.TimeSpan", Some("String was not recognized as a valid TimeSpan."))),
            },
            other => return Err(cannot(other, "System.TimeSpan", cx)),
        },
        Prim::Array => match v {
            Value::Array(_) | Value::Bytes(_) => v.clone(),
            Value::Null => Value::Null,
            other => Value::array(vec![other.clone()]),
        },
        Prim::Enum | Prim::ValueType | Prim::Exception => {
            if super::types::is_instance(v, &TypeRef::Prim(p)) {
                v.clone()
            } else {
                return Err(cannot(v, p.full_name(), cx));
            }
        }
    })
}

fn cannot(v: &Value, to: &str, cx: &mut Ctx<'_>) -> ErrorRecord {
    let text = to_string(v, cx);
    errors::invalid_cast(&text, &v.type_name(), to, None)
}

/// `[T[]]$v`: each element converted; a scalar becomes a one-element array.
fn convert_array(v: &Value, elem: &TypeRef, cx: &mut Ctx<'_>) -> Conv<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let items: Vec<Value> = match v {
        Value::Str(_) | Value::Hashtable(_) => vec![v.clone()],
        other => other.enumerate(cx).unwrap_or_else(|| vec![other.clone()]),
    };
    if elem.is_prim(Prim::Byte) {
        if let Value::Bytes(b) = v {
            return Ok(Value::Bytes(b.clone()));
        }
        let mut out = Vec::with_capacity(items.len());
        for i in &items {
            out.push(to_u8(i, cx)?);
        }
        return Ok(Value::bytes(out));
    }
    let mut out = Vec::with_capacity(items.len());
    for i in &items {
        out.push(convert(i, elem, cx)?);
    }
    Ok(Value::Array(Rc::new(Array::new(elem.as_elem(), out))))
}

/// How a .NET method receives an argument of type string: `$null` becomes
/// `""` (PowerShell's method binder converts with LanguagePrimitives, as
/// for `[string]$null`; only `[NullString]::Value` passes a null).
pub fn method_string(v: &Value, cx: &mut Ctx<'_>) -> String {
    to_string(v, cx)
}

/// How to show a value in a conversion error.
pub fn display(v: &Value, cx: &mut Ctx<'_>) -> String {
    to_string(v, cx)
}

/// The element kind of an array built from these values.
pub fn elem_kind(_items: &[Value]) -> ElemType {
    ElemType::Object
}
