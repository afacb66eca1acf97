//! `System.String` with .NET's semantics: indexes and lengths in UTF-16
//! units (an unpaired surrogate is one unit and survives), ordinal
//! comparisons unless a `StringComparison` says otherwise, `Split` on
//! characters or strings keeping empty entries unless told, `Trim` of
//! Unicode white space, `Replace` ordinal and case-sensitive.

use std::rc::Rc;

use super::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetResult, is};
use crate::lab::powershell::value::{Array, ElemType, Value};
use crate::lab::world::ci::fold;
use crate::lab::world::utf16;

/// .NET's `Char.IsWhiteSpace` (what `Trim()` removes).
pub fn is_white(c: char) -> bool {
    c.is_whitespace() || c == '\u{85}' || c == '\u{a0}'
}

pub fn property(s: &str, name: &str) -> Option<NetResult<Value>> {
    if is(name, "Length") {
        return Some(Ok(Value::Int(utf16::len(s) as i32)));
    }
    None
}

fn out_of_range(param: &str, message: &str) -> NetError {
    NetError::exception("System.ArgumentOutOfRangeException", format!("{message}\r\nParameter name: {param}"))
}

/// A string array from pieces.
fn string_array(parts: Vec<String>) -> Value {
    Value::Array(Rc::new(Array::new(ElemType::String, parts.into_iter().map(Value::string).collect())))
}

/// `StringComparison` from an argument: (ignore case).
fn ignore_case(v: &Value) -> bool {
    match v {
        Value::Enum(d, n) if d.full_name == "System.StringComparison" => n % 2 == 1,
        Value::Str(t) => t.to_ascii_lowercase().ends_with("ignorecase"),
        Value::Int(n) => n % 2 == 1,
        _ => false,
    }
}

fn eq_opt(a: &str, b: &str, ci: bool) -> bool {
    if ci { a.chars().map(fold).eq(b.chars().map(fold)) } else { a == b }
}

/// Byte offset of `needle` in `hay` from byte `from`.
fn find(hay: &str, needle: &str, from: usize, ci: bool) -> Option<usize> {
    if !ci {
        return hay[from..].find(needle).map(|i| i + from);
    }
    let n: Vec<char> = needle.chars().map(fold).collect();
    let mut idx = from;
    while idx <= hay.len() {
        if hay[idx..].chars().map(fold).take(n.len()).eq(n.iter().copied()) && hay[idx..].chars().count() >= n.len() {
            return Some(idx);
        }
        match hay[idx..].chars().next() {
            Some(c) => idx += c.len_utf8(),
            None => break,
        }
    }
    None
}

fn rfind(hay: &str, needle: &str, ci: bool) -> Option<usize> {
    if !ci {
        return hay.rfind(needle);
    }
    let mut last = None;
    let mut from = 0;
    while let Some(i) = find(hay, needle, from, true) {
        last = Some(i);
        from = i + hay[i..].chars().next().map_or(1, char::len_utf8);
        if from > hay.len() {
            break;
        }
    }
    last
}

/// The characters to trim: the argument's characters, or white space.
fn trim_set(a: &Args<'_>, cx: &mut Ctx<'_>) -> NetResult<Option<Vec<char>>> {
    if a.len() == 0 {
        return Ok(None);
    }
    let mut set = Vec::new();
    for i in 0..a.len() {
        let v = a.value(i);
        let items = if v.is_collection() { v.enumerate(cx).unwrap_or_default() } else { vec![v.clone()] };
        for x in items {
            match x {
                Value::Char(c) => set.extend(utf16::from_units(&[c]).chars()),
                Value::Str(s) => set.extend(s.chars()),
                other => {
                    let s = crate::lab::powershell::convert::to_string(&other, cx);
                    set.extend(s.chars());
                }
            }
        }
    }
    Ok(Some(set))
}

/// `String.Split` separators: characters (a `char`, a `char[]`, or a
/// string's characters when PowerShell converts a string to `char[]`), or
/// strings (with a StringSplitOptions argument).
fn split(s: &str, a: &Args<'_>, cx: &mut Ctx<'_>) -> NetResult<Value> {
    let mut remove_empty = false;
    let mut count = usize::MAX;
    let mut seps: Vec<String> = Vec::new();
    let mut by_string = false;
    for i in 0..a.len() {
        match a.value(i) {
            Value::Enum(d, n) if d.full_name == "System.StringSplitOptions" => remove_empty = *n == 1,
            Value::Int(n) if i > 0 => count = (*n).max(0) as usize,
            Value::Char(c) => seps.push(utf16::from_units(&[*c])),
            // Windows PowerShell binds a string to Split(params char[]):
            // each character separates; PowerShell 7 (.NET Core) binds
            // Split(string): the whole string separates.
            Value::Str(t) if i == 0 && cx.version.dotnet_core() => seps.push(t.to_string()),
            Value::Str(t) if i == 0 => seps.extend(t.chars().map(|c| c.to_string())),
            Value::Str(t) if t.eq_ignore_ascii_case("RemoveEmptyEntries") => remove_empty = true,
            Value::Str(t) if t.eq_ignore_ascii_case("None") => {}
            v if v.is_collection() && i == 0 => {
                for x in v.enumerate(cx).unwrap_or_default() {
                    match x {
                        Value::Char(c) => seps.push(utf16::from_units(&[c])),
                        Value::Str(t) => {
                            by_string = true;
                            seps.push(t.to_string());
                        }
                        other => seps.push(crate::lab::powershell::convert::to_string(&other, cx)),
                    }
                }
            }
            Value::Null if i == 0 => {}
            other => {
                let t = crate::lab::powershell::convert::to_string(other, cx);
                seps.push(t);
            }
        }
    }
    let _ = by_string;
    let mut parts = Vec::new();
    if seps.is_empty() || seps.iter().all(String::is_empty) {
        // No separators: split on white space.
        let mut cur = String::new();
        for c in s.chars() {
            if is_white(c) {
                parts.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        parts.push(cur);
    } else {
        let mut rest = s;
        loop {
            if parts.len() + 1 >= count {
                parts.push(rest.to_string());
                break;
            }
            let hit = seps.iter().filter(|p| !p.is_empty()).filter_map(|p| rest.find(p.as_str()).map(|i| (i, p.len()))).min_by_key(|(i, l)| (*i, usize::MAX - l));
            match hit {
                Some((i, l)) => {
                    parts.push(rest[..i].to_string());
                    rest = &rest[i + l..];
                }
                None => {
                    parts.push(rest.to_string());
                    break;
                }
            }
        }
    }
    if remove_empty {
        parts.retain(|p| !p.is_empty());
    }
    Ok(string_array(parts))
}

/// A string's method; `None` when String has no such method.
pub fn method(s: &str, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let n = a.len();
    let r = (|| -> NetResult<Option<Value>> {
        Ok(Some(if is(name, "Trim") || is(name, "TrimStart") || is(name, "TrimEnd") {
            let set = trim_set(&a, cx)?;
            let f = |c: char| match &set {
                Some(cs) => cs.contains(&c),
                None => is_white(c),
            };
            Value::str(if is(name, "Trim") {
                s.trim_matches(f)
            } else if is(name, "TrimStart") {
                s.trim_start_matches(f)
            } else {
                s.trim_end_matches(f)
            })
        } else if is(name, "ToUpper") || is(name, "ToUpperInvariant") {
            Value::string(s.to_uppercase())
        } else if is(name, "ToLower") || is(name, "ToLowerInvariant") {
            Value::string(s.to_lowercase())
        } else if is(name, "Split") {
            split(s, &a, cx)?
        } else if is(name, "Substring") {
            let units = utf16::units(s);
            let start = a.int(0, cx)?;
            if start < 0 || start as usize > units.len() {
                return Err(out_of_range("startIndex", "startIndex cannot be larger than length of string."));
            }
            let len = if n > 1 { a.int(1, cx)? } else { (units.len() - start as usize) as i32 };
            if len < 0 || start as usize + len as usize > units.len() {
                return Err(out_of_range("length", "Index and length must refer to a location within the string."));
            }
            Value::string(utf16::from_units(&units[start as usize..start as usize + len as usize]))
        } else if is(name, "IndexOf") || is(name, "LastIndexOf") {
            let needle = match a.value(0) {
                Value::Char(c) => utf16::from_units(&[*c]),
                _ => a.string(0, cx)?,
            };
            let ci = (1..n).any(|i| ignore_case(a.value(i)));
            let mut from = 0usize;
            if n > 1 && !matches!(a.value(1), Value::Enum(..)) && is(name, "IndexOf") {
                let f = a.int(1, cx)?;
                from = utf16::byte_offset(s, f.max(0) as usize).ok_or_else(|| out_of_range("startIndex", "Index was out of range. Must be non-negative and less than the size of the collection."))?;
            }
            let found = if is(name, "IndexOf") { find(s, &needle, from, ci) } else { rfind(s, &needle, ci) };
            Value::Int(found.map_or(-1, |b| utf16::index_of_byte(s, b) as i32))
        } else if is(name, "IndexOfAny") {
            let set = trim_set(&a, cx)?.unwrap_or_default();
            Value::Int(s.char_indices().find(|(_, c)| set.contains(c)).map_or(-1, |(b, _)| utf16::index_of_byte(s, b) as i32))
        } else if is(name, "Contains") {
            let needle = a.string(0, cx)?;
            let ci = n > 1 && ignore_case(a.value(1));
            Value::Bool(find(s, &needle, 0, ci).is_some())
        } else if is(name, "StartsWith") || is(name, "EndsWith") {
            let needle = match a.value(0) {
                Value::Char(c) => utf16::from_units(&[*c]),
                _ => a.string(0, cx)?,
            };
            let ci = n > 1 && ignore_case(a.value(1));
            let slen = s.chars().count();
            let nlen = needle.chars().count();
            Value::Bool(if nlen > slen {
                false
            } else if is(name, "StartsWith") {
                let head: String = s.chars().take(nlen).collect();
                eq_opt(&head, &needle, ci)
            } else {
                let tail: String = s.chars().skip(slen - nlen).collect();
                eq_opt(&tail, &needle, ci)
            })
        } else if is(name, "Replace") {
            if n != 2 {
                return Err(NetError::NoOverload { argc: n });
            }
            let (from, to) = match (a.value(0), a.value(1)) {
                (Value::Char(x), Value::Char(y)) => (utf16::from_units(&[*x]), utf16::from_units(&[*y])),
                _ => (a.string(0, cx)?, a.string(1, cx)?),
            };
            if from.is_empty() {
                return Err(NetError::argument("String cannot be of zero length.\r\nParameter name: oldValue"));
            }
            Value::string(s.replace(&from, &to))
        } else if is(name, "Insert") {
            let at = a.int(0, cx)?;
            let text = a.string(1, cx)?;
            let b = utf16::byte_offset(s, at.max(0) as usize).ok_or_else(|| out_of_range("startIndex", "Specified argument was out of the range of valid values."))?;
            Value::string(format!("{}{text}{}", &s[..b], &s[b..]))
        } else if is(name, "Remove") {
            let units = utf16::units(s);
            let start = a.int(0, cx)?.max(0) as usize;
            let len = if n > 1 { a.int(1, cx)?.max(0) as usize } else { units.len().saturating_sub(start) };
            if start + len > units.len() {
                return Err(out_of_range("count", "Index and count must refer to a location within the string."));
            }
            let mut out = units[..start].to_vec();
            out.extend_from_slice(&units[start + len..]);
            Value::string(utf16::from_units(&out))
        } else if is(name, "PadLeft") || is(name, "PadRight") {
            let width = a.int(0, cx)?.max(0) as usize;
            let ch = if n > 1 {
                match a.value(1) {
                    Value::Char(c) => utf16::from_units(&[*c]),
                    v => crate::lab::powershell::convert::to_string(v, cx),
                }
            } else {
                " ".into()
            };
            let len = utf16::len(s);
            let pad = ch.repeat(width.saturating_sub(len));
            Value::string(if is(name, "PadLeft") { format!("{pad}{s}") } else { format!("{s}{pad}") })
        } else if is(name, "ToCharArray") {
            let units = utf16::units(s);
            Value::Array(Rc::new(Array::new(ElemType::Char, units.into_iter().map(Value::Char).collect())))
        } else if is(name, "Equals") {
            let other = a.string(0, cx)?;
            let ci = n > 1 && ignore_case(a.value(1));
            Value::Bool(eq_opt(s, &other, ci))
        } else if is(name, "CompareTo") {
            let other = a.string(0, cx)?;
            Value::Int(crate::lab::powershell::ops::cmp_str(s, &other, true) as i32)
        } else if is(name, "ToString") {
            Value::str(s)
        } else if is(name, "Normalize") || is(name, "Clone") {
            Value::str(s)
        } else if is(name, "GetHashCode") {
            Value::Int(s.bytes().fold(5381i32, |h, b| h.wrapping_mul(33) ^ i32::from(b)))
        } else {
            return Ok(None);
        }))
    })();
    match r {
        Ok(Some(v)) => Some(Ok(v)),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}
