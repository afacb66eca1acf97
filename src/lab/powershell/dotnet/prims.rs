//! Static members of the language's own types (`[int]::MaxValue`,
//! `[string]::Join`, `[char]::IsDigit`, `[DateTime]::UtcNow`,
//! `[TimeSpan]::FromSeconds`, `[Array]::Sort`, `[Enum]::GetNames`,
//! `[NullString]::Value`) and the methods of numbers, booleans, chars and
//! enum values (`ToString('x2')`, `CompareTo`, `HasFlag`).

use super::args::{Args, NullString};
use crate::lab::powershell::convert;
use crate::lab::powershell::dates;
use crate::lab::powershell::format;
use crate::lab::powershell::object::{Ctx, NetError, NetResult, is};
use crate::lab::powershell::types::{Prim, TypeRef};
use crate::lab::powershell::value::{DateKind, DateTime, Value};
use crate::lab::world::utf16;

fn format_error(message: &str) -> NetError {
    NetError::exception("System.FormatException", message)
}

/// `[T]::Name` for a built-in type.
pub fn static_get(p: Prim, name: &str, cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let v = match (p, name.to_ascii_lowercase().as_str()) {
        (Prim::Int32, "maxvalue") => Value::Int(i32::MAX),
        (Prim::Int32, "minvalue") => Value::Int(i32::MIN),
        (Prim::Int64, "maxvalue") => Value::Long(i64::MAX),
        (Prim::Int64, "minvalue") => Value::Long(i64::MIN),
        (Prim::Byte, "maxvalue") => Value::Byte(u8::MAX),
        (Prim::Byte, "minvalue") => Value::Byte(0),
        (Prim::UInt32, "maxvalue") => Value::UInt32(u32::MAX),
        (Prim::UInt32, "minvalue") => Value::UInt32(0),
        (Prim::UInt64, "maxvalue") => Value::UInt64(u64::MAX),
        (Prim::UInt64, "minvalue") => Value::UInt64(0),
        (Prim::Int16, "maxvalue") => Value::Int(i32::from(i16::MAX)),
        (Prim::Int16, "minvalue") => Value::Int(i32::from(i16::MIN)),
        (Prim::Double, "maxvalue") => Value::Double(f64::MAX),
        (Prim::Double, "minvalue") => Value::Double(f64::MIN),
        (Prim::Double, "nan") => Value::Double(f64::NAN),
        (Prim::Double, "positiveinfinity") => Value::Double(f64::INFINITY),
        (Prim::Double, "negativeinfinity") => Value::Double(f64::NEG_INFINITY),
        (Prim::Double, "epsilon") => Value::Double(f64::from_bits(1)),
        (Prim::Char, "maxvalue") => Value::Char(u16::MAX),
        (Prim::Char, "minvalue") => Value::Char(0),
        (Prim::String, "empty") => Value::str(""),
        (Prim::Bool, "truestring") => Value::str("True"),
        (Prim::Bool, "falsestring") => Value::str("False"),
        (Prim::DateTime, "utcnow") => Value::DateTime(DateTime { ticks: cx.utc_ticks(), kind: DateKind::Utc }),
        (Prim::DateTime, "now") => Value::DateTime(DateTime { ticks: cx.utc_ticks(), kind: DateKind::Local }),
        (Prim::DateTime, "today") => {
            let t = cx.utc_ticks();
            Value::DateTime(DateTime { ticks: t - t.rem_euclid(dates::TICKS_PER_DAY), kind: DateKind::Local })
        }
        (Prim::DateTime, "minvalue") => Value::DateTime(DateTime { ticks: 0, kind: DateKind::Unspecified }),
        (Prim::DateTime, "maxvalue") => Value::DateTime(DateTime { ticks: dates::MAX_TICKS, kind: DateKind::Unspecified }),
        (Prim::TimeSpan, "zero") => Value::TimeSpan(0),
        (Prim::TimeSpan, "maxvalue") => Value::TimeSpan(i64::MAX),
        (Prim::TimeSpan, "minvalue") => Value::TimeSpan(i64::MIN),
        (Prim::IntPtr, "zero") => Value::Long(0),
        (Prim::IntPtr, "size") => Value::Int(8),
        (Prim::NullString, "value") if cx.version.v3() => Value::object(NullString),
        _ => return None,
    };
    Some(Ok(v))
}

fn parse_num(p: Prim, s: &str, cx: &mut Ctx<'_>) -> NetResult<Value> {
    let t = s.trim();
    let bad = || format_error("Input string was not in a correct format.");
    if t.is_empty() || t.starts_with("0x") || t.starts_with("0X") {
        return Err(bad());
    }
    let v = Value::string(t.to_string());
    let r = match p {
        Prim::Int32 => {
            if t.contains(['.', 'e', 'E']) {
                return Err(bad());
            }
            convert::to_i32(&v, cx).map(Value::Int)
        }
        Prim::Int64 => {
            if t.contains(['.', 'e', 'E']) {
                return Err(bad());
            }
            convert::to_i64(&v, cx).map(Value::Long)
        }
        Prim::UInt32 => convert::to_u32(&v, cx).map(Value::UInt32),
        Prim::UInt64 => convert::to_u64(&v, cx).map(Value::UInt64),
        Prim::Byte => convert::to_u8(&v, cx).map(Value::Byte),
        _ => convert::to_f64(&v, cx).map(Value::Double),
    };
    r.map_err(|e| if e.exception.message.contains("too large") { NetError::exception("System.OverflowException", "Value was either too large or too small for an Int32.") } else { bad() })
}

/// `[T]::Name(args)` for a built-in type.
pub fn static_call(p: Prim, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let lname = name.to_ascii_lowercase();
    let r = (|| -> NetResult<Option<Value>> {
        Ok(Some(match (p, lname.as_str()) {
            (Prim::Int32 | Prim::Int64 | Prim::UInt32 | Prim::UInt64 | Prim::Byte | Prim::Double | Prim::Int16, "parse") => {
                let s = a.string(0, cx)?;
                parse_num(p, &s, cx)?
            }
            (Prim::Bool, "parse") => {
                let s = a.string(0, cx)?;
                match s.trim().to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(format_error("String was not recognized as a valid Boolean.")),
                }
            }
            (Prim::String, "join") => {
                let sep = a.string(0, cx)?;
                let items: Vec<Value> = if args.len() == 2 && a.value(1).is_collection() {
                    a.value(1).enumerate(cx).unwrap_or_default()
                } else {
                    args[1..].to_vec()
                };
                let texts: Vec<String> = items.iter().map(|v| convert::to_string(v, cx)).collect();
                Value::string(texts.join(&sep))
            }
            (Prim::String, "isnullorempty") => Value::Bool(a.value(0).is_null() || matches!(a.value(0), Value::Str(s) if s.is_empty())),
            (Prim::String, "isnullorwhitespace") => Value::Bool(match a.value(0) {
                Value::Null => true,
                v => convert::to_string(v, cx).chars().all(super::string::is_white),
            }),
            (Prim::String, "format") => {
                let fmt = a.string(0, cx)?;
                let rest: Vec<Value> = if args.len() == 2 && a.value(1).is_collection() { a.value(1).enumerate(cx).unwrap_or_default() } else { args[1..].to_vec() };
                format::composite(&fmt, &rest, cx).map(Value::string).map_err(|_| format_error("Input string was not in a correct format."))?
            }
            (Prim::String, "concat") => {
                let items: Vec<Value> = if args.len() == 1 && a.value(0).is_collection() { a.value(0).enumerate(cx).unwrap_or_default() } else { args.to_vec() };
                Value::string(items.iter().map(|v| convert::to_string(v, cx)).collect())
            }
            (Prim::String, "compare") => {
                let (x, y) = (a.string(0, cx)?, a.string(1, cx)?);
                let ci = args.len() > 2 && match a.value(2) {
                    Value::Bool(b) => *b,
                    other => convert::to_string(other, cx).to_ascii_lowercase().ends_with("ignorecase"),
                };
                Value::Int(crate::lab::powershell::ops::cmp_str(&x, &y, ci) as i32)
            }
            (Prim::String, "equals") => {
                let (x, y) = (a.string(0, cx)?, a.string(1, cx)?);
                let ci = args.len() > 2 && convert::to_string(a.value(2), cx).to_ascii_lowercase().ends_with("ignorecase");
                Value::Bool(crate::lab::powershell::ops::cmp_str(&x, &y, ci) == std::cmp::Ordering::Equal)
            }
            (Prim::Char, f) if f.starts_with("is") || f == "toupper" || f == "tolower" => {
                let c = match a.value(0) {
                    Value::Str(s) => {
                        let units = utf16::units(s);
                        let i = if args.len() > 1 { a.int(1, cx)?.max(0) as usize } else { 0 };
                        *units.get(i).ok_or_else(|| NetError::exception("System.ArgumentOutOfRangeException", "Index was out of range."))?
                    }
                    v => convert::to_char(v, cx).map_err(|e| NetError::Argument { index: 0, value: String::new(), target: "System.Char".into(), reason: e.exception.message })?,
                };
                let ch = char::from_u32(u32::from(c));
                let test = |f: fn(char) -> bool| Value::Bool(ch.is_some_and(f));
                match f {
                    "isdigit" => test(|c| c.is_ascii_digit() || c.is_numeric() && c.to_digit(10).is_some()),
                    "isletter" => test(char::is_alphabetic),
                    "isletterordigit" => test(char::is_alphanumeric),
                    "iswhitespace" => test(super::string::is_white),
                    "isupper" => test(char::is_uppercase),
                    "islower" => test(char::is_lowercase),
                    "iscontrol" => test(char::is_control),
                    "isnumber" => test(char::is_numeric),
                    "ispunctuation" => test(|c| c.is_ascii_punctuation()),
                    "issurrogate" => Value::Bool((0xD800..0xE000).contains(&c)),
                    "ishighsurrogate" => Value::Bool((0xD800..0xDC00).contains(&c)),
                    "islowsurrogate" => Value::Bool((0xDC00..0xE000).contains(&c)),
                    "toupper" => Value::Char(ch.map(crate::lab::world::ci::fold).map(|u| utf16::char_units(u).0[0]).unwrap_or(c)),
                    "tolower" => Value::Char(ch.and_then(|x| x.to_lowercase().next()).map(|u| utf16::char_units(u).0[0]).unwrap_or(c)),
                    _ => return Ok(None),
                }
            }
            (Prim::Char, "convertfromutf32") => {
                let n = a.int(0, cx)?;
                match char::from_u32(n as u32) {
                    Some(c) if !(0xD800..0xE000).contains(&n) => Value::string(c.to_string()),
                    _ => return Err(NetError::exception("System.ArgumentOutOfRangeException", "A valid UTF32 value is between 0x000000 and 0x10ffff, inclusive, and should not include surrogate codepoint values (0x00d800 ~ 0x00dfff).\r\nParameter name: utf32")),
                }
            }
            (Prim::DateTime, "parse") => {
                let s = a.string(0, cx)?;
                Value::DateTime(dates::parse(&s).ok_or_else(|| format_error("String was not recognized as a valid DateTime."))?)
            }
            (Prim::DateTime, "parseexact") => {
                let s = a.string(0, cx)?;
                let fmt = a.string(1, cx)?;
                let d = dates::parse(&s).filter(|d| dates::format(*d, &fmt) == s.trim() || fmt == "o" || fmt == "O");
                Value::DateTime(d.ok_or_else(|| format_error("String was not recognized as a valid DateTime."))?)
            }
            (Prim::DateTime, "specifykind") => {
                let Value::DateTime(d) = a.value(0) else { return Err(NetError::NoOverload { argc: args.len() }) };
                let kind = match convert::to_string(a.value(1), cx).to_ascii_lowercase().as_str() {
                    "utc" | "1" => DateKind::Utc,
                    "local" | "2" => DateKind::Local,
                    _ => DateKind::Unspecified,
                };
                Value::DateTime(DateTime { ticks: d.ticks, kind })
            }
            (Prim::DateTime, "fromfiletime" | "fromfiletimeutc") => {
                let ft = a.long(0, cx)?;
                let kind = if lname == "fromfiletime" { DateKind::Local } else { DateKind::Utc };
                Value::DateTime(DateTime { ticks: ft + 504_911_232_000_000_000, kind })
            }
            (Prim::DateTime, "daysinmonth") => Value::Int(dates::days_in_month(a.long(0, cx)?, a.int(1, cx)? as u32) as i32),
            (Prim::DateTime, "isleapyear") => Value::Bool(dates::days_in_month(a.long(0, cx)?, 2) == 29),
            (Prim::TimeSpan, f) if f.starts_with("from") => {
                let n = a.double(0, cx)?;
                let unit = match f {
                    "fromdays" => dates::TICKS_PER_DAY as f64,
                    "fromhours" => 3600.0 * dates::TICKS_PER_SEC as f64,
                    "fromminutes" => 60.0 * dates::TICKS_PER_SEC as f64,
                    "fromseconds" => dates::TICKS_PER_SEC as f64,
                    "frommilliseconds" => 10_000.0,
                    "fromticks" => 1.0,
                    _ => return Ok(None),
                };
                Value::TimeSpan((n * unit).round() as i64)
            }
            (Prim::TimeSpan, "parse") => {
                let s = a.string(0, cx)?;
                Value::TimeSpan(dates::parse_timespan(&s).ok_or_else(|| format_error("String was not recognized as a valid TimeSpan."))?)
            }
            (Prim::Array, _) => return Ok(super::collections::array_static(name, args, cx).transpose()?),
            (Prim::Enum, "getnames" | "getvalues" | "parse" | "isdefined" | "toobject") => {
                let Value::Type(TypeRef::Net(t)) = a.value(0) else { return Err(NetError::argument("Type provided must be an Enum.\r\nParameter name: enumType")) };
                let Some(def) = t.enum_def() else { return Err(NetError::argument("Type provided must be an Enum.\r\nParameter name: enumType")) };
                match lname.as_str() {
                    "getnames" => Value::string_array(def.members.iter().map(|(n, _)| n.to_string()).collect()),
                    "getvalues" => Value::array(def.members.iter().map(|(_, v)| Value::Enum(def, *v)).collect()),
                    "isdefined" => {
                        let v = a.value(1);
                        Value::Bool(match v {
                            Value::Str(s) => def.members.iter().any(|(n, _)| *n == &**s),
                            other => convert::to_i64(other, cx).is_ok_and(|n| def.members.iter().any(|(_, x)| *x == n)),
                        })
                    }
                    "toobject" => Value::Enum(def, a.long(1, cx)?),
                    _ => {
                        let s = a.string(1, cx)?;
                        let mut total = 0;
                        for part in s.split(',') {
                            total |= def.value_of(part).ok_or_else(|| NetError::argument(format!("Requested value '{}' was not found.", part.trim())))?;
                        }
                        Value::Enum(def, total)
                    }
                }
            }
            (Prim::Object, "referenceequals") => Value::Bool(match (a.value(0), a.value(1)) {
                (Value::Null, Value::Null) => true,
                (Value::Object(x), Value::Object(y)) => std::rc::Rc::ptr_eq(x, y),
                (Value::Array(x), Value::Array(y)) => std::rc::Rc::ptr_eq(x, y),
                (Value::Hashtable(x), Value::Hashtable(y)) => std::rc::Rc::ptr_eq(x, y),
                _ => false,
            }),
            (Prim::Type, "gettype") => {
                let n = a.string(0, cx)?;
                match crate::lab::powershell::types::resolve(&n, &[]) {
                    Some(t) => Value::Type(t),
                    None => Value::Null,
                }
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

/// Methods of numbers, booleans, chars and enum values.
pub fn value_method(v: &Value, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    if is(name, "ToString") {
        if let (Some(Value::Str(fmt)), true) = (args.first(), v.is_numeric() || matches!(v, Value::Enum(..))) {
            if let Value::Enum(d, n) = v {
                let text = match fmt.to_ascii_lowercase().as_str() {
                    "d" => n.to_string(),
                    "x" => format!("{n:08X}"),
                    _ => d.name_of(*n),
                };
                return Some(Ok(Value::string(text)));
            }
            return format::number(v, fmt, cx.version.dotnet_core()).map(|s| Ok(Value::string(s)));
        }
        if args.is_empty() || args.len() == 1 {
            return Some(Ok(Value::string(match v {
                Value::Double(d) => format::double(*d, cx.version.dotnet_core()),
                other => convert::to_string(other, cx),
            })));
        }
        return None;
    }
    if is(name, "CompareTo") && args.len() == 1 {
        return Some(crate::lab::powershell::ops::order(v, a.value(0), false, cx).map(|o| Value::Int(o as i32)).map_err(|e| NetError::argument(e.exception.message)));
    }
    if is(name, "HasFlag")
        && let Value::Enum(_, n) = v
    {
        let f = match a.value(0) {
            Value::Enum(_, f) => *f,
            other => convert::to_i64(other, cx).unwrap_or(0),
        };
        return Some(Ok(Value::Bool(n & f == f)));
    }
    None
}
