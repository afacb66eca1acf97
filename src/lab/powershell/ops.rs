//! The operators: arithmetic with PowerShell's widening (`[int]` overflow
//! becomes `[double]`; `7 / 2` is 3.5, `6 / 2` is 3), `+` on strings,
//! arrays and hashtables, `*` repeating strings and arrays, comparisons
//! that convert the right operand to the left one's type and filter when
//! the left operand is a collection, case-insensitive unless `-c`,
//! `-like` wildcards, `-match`/`-replace`/`-split` with regular
//! expressions, `-join`, `-contains`/`-in`, `-band` and friends, ranges.
//! Sources: about_Arithmetic_Operators, about_Comparison_Operators,
//! about_Split, about_Join, about_Operators.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

use super::ast::{BinOp, Case, CmpOp};
use super::convert::{self, Num};
use super::errors::{self, ErrorRecord};
use super::object::{Ctx, Exception};
use super::value::{Array, ElemType, Hashtable, Value};
use crate::lab::world::ci::fold;

pub type OpResult = Result<Value, ErrorRecord>;

fn op_error(message: String, id: &str) -> ErrorRecord {
    errors::runtime(message, "InvalidOperation", id)
}

/// The items of an operand that is a collection.
fn items(v: &Value, cx: &mut Ctx<'_>) -> Option<Vec<Value>> {
    if v.is_collection() { v.enumerate(cx) } else { None }
}

// ---- arithmetic ----

/// The result of integer arithmetic: Int32 when it fits and both were
/// Int32-sized, else Int64, else Double (PowerShell widens on overflow).
fn int_result(v: i128, long: bool) -> Value {
    if !long {
        return match i32::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Double(v as f64),
        };
    }
    match i64::try_from(v) {
        Ok(l) => Value::Long(l),
        Err(_) => Value::Double(v as f64),
    }
}

fn is_long(v: &Value) -> bool {
    matches!(v, Value::Long(_) | Value::UInt32(_) | Value::UInt64(_))
}

fn numeric(op: BinOp, l: &Value, r: &Value, cx: &mut Ctx<'_>) -> OpResult {
    let target = match l {
        Value::Long(_) => "System.Int64",
        Value::Double(_) => "System.Double",
        _ => "System.Int32",
    };
    let a = convert::to_num(l, target, cx)?;
    let b = convert::to_num(r, target, cx)?;
    let long = is_long(l) || is_long(r) || matches!(a, Num::I(x) if i32::try_from(x).is_err()) || matches!(b, Num::I(x) if i32::try_from(x).is_err());
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let (x, y) = (i128::from(x), i128::from(y));
        return match op {
            BinOp::Add => Ok(int_result(x + y, long)),
            BinOp::Sub => Ok(int_result(x - y, long)),
            BinOp::Mul => Ok(int_result(x * y, long)),
            BinOp::Div => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                if x % y == 0 { Ok(int_result(x / y, long)) } else { Ok(Value::Double(x as f64 / y as f64)) }
            }
            BinOp::Rem => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                Ok(int_result(x % y, long))
            }
            _ => unreachable!("not arithmetic"),
        };
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(Value::Double(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(divide_by_zero());
            }
            x / y
        }
        BinOp::Rem => {
            if y == 0.0 {
                return Err(divide_by_zero());
            }
            x % y
        }
        _ => unreachable!("not arithmetic"),
    }))
}

fn divide_by_zero() -> ErrorRecord {
    let mut r = errors::runtime("Attempted to divide by zero.", "NotSpecified", "RuntimeException");
    r.exception.inner = Some(Box::new(Exception::new("System.DivideByZeroException", "Attempted to divide by zero.")));
    r
}

fn no_op(l: &Value, name: &str) -> ErrorRecord {
    let mut r = op_error(
        format!("Method invocation failed because [{}] does not contain a method named '{name}'.", l.type_name()),
        "MethodNotFound",
    );
    r.target_name = name.into();
    r.target_type = "String".into();
    r
}

/// `l + r`.
pub fn add(l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    match &l {
        Value::Null => Ok(match r {
            Value::Array(_) | Value::Bytes(_) => r,
            other => other,
        }),
        Value::Str(s) => {
            let rs = convert::to_str_value(&r, cx);
            let mut out = String::with_capacity(s.len() + rs.len());
            out.push_str(s);
            out.push_str(&rs);
            Ok(Value::string(out))
        }
        Value::Array(a) => {
            let mut v = a.items.borrow().clone();
            match items(&r, cx) {
                Some(more) => v.extend(more),
                None => v.push(r),
            }
            Ok(Value::array(v))
        }
        Value::Bytes(b) => {
            let mut v: Vec<Value> = b.borrow().iter().map(|&x| Value::Byte(x)).collect();
            match items(&r, cx) {
                Some(more) => v.extend(more),
                None => v.push(r),
            }
            Ok(Value::array(v))
        }
        Value::Hashtable(h) => match &r {
            Value::Hashtable(h2) => {
                let mut out = h.borrow().clone();
                for (k, v) in h2.borrow().entries() {
                    if out.contains(k) {
                        let ks = convert::to_string(k, cx);
                        return Err(op_error(
                            format!("Item has already been added. Key in dictionary: '{ks}'  Key being added: '{ks}'"),
                            "System.ArgumentException",
                        ));
                    }
                    out.insert(k.clone(), v.clone());
                }
                Ok(Value::Hashtable(Rc::new(RefCell::new(out))))
            }
            _ => Err(op_error("A hash table can only be added to another hash table.".into(), "AddHashTableToNonHashTable")),
        },
        Value::DateTime(d) => match &r {
            Value::TimeSpan(t) => Ok(Value::DateTime(super::value::DateTime { ticks: d.ticks + t, kind: d.kind })),
            _ => Err(no_op(&l, "op_Addition")),
        },
        Value::TimeSpan(t) => match &r {
            Value::TimeSpan(u) => Ok(Value::TimeSpan(t + u)),
            _ => Err(no_op(&l, "op_Addition")),
        },
        v if v.is_numeric() || matches!(v, Value::Bool(_) | Value::Char(_) | Value::Enum(..)) => numeric(BinOp::Add, &l, &r, cx),
        Value::Object(o) => {
            if let Some(list) = l.enumerate(cx).filter(|_| l.is_collection()) {
                let mut v = list;
                match items(&r, cx) {
                    Some(more) => v.extend(more),
                    None => v.push(r),
                }
                let _ = o;
                return Ok(Value::array(v));
            }
            Err(no_op(&l, "op_Addition"))
        }
        _ => Err(no_op(&l, "op_Addition")),
    }
}

/// `l - r`, `l * r`, `l / r`, `l % r`.
pub fn arith(op: BinOp, l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    if op == BinOp::Add {
        return add(l, r, cx);
    }
    match (&l, op) {
        (Value::Str(s), BinOp::Mul) => {
            let n = convert::to_i32(&r, cx)?;
            if n < 0 {
                return Err(op_error("The repetition count must be non-negative.".into(), "RuntimeException"));
            }
            Ok(Value::string(s.repeat(n as usize)))
        }
        (Value::Array(a), BinOp::Mul) => {
            let n = convert::to_i32(&r, cx)?.max(0) as usize;
            let base = a.items.borrow().clone();
            let mut out = Vec::with_capacity(base.len() * n);
            for _ in 0..n {
                out.extend(base.iter().cloned());
            }
            Ok(Value::array(out))
        }
        (Value::DateTime(d), BinOp::Sub) => match &r {
            Value::DateTime(e) => Ok(Value::TimeSpan(d.ticks - e.ticks)),
            Value::TimeSpan(t) => Ok(Value::DateTime(super::value::DateTime { ticks: d.ticks - t, kind: d.kind })),
            _ => Err(no_op(&l, "op_Subtraction")),
        },
        (Value::TimeSpan(t), BinOp::Sub) => match &r {
            Value::TimeSpan(u) => Ok(Value::TimeSpan(t - u)),
            _ => Err(no_op(&l, "op_Subtraction")),
        },
        (Value::Null, _) => numeric(op, &Value::Int(0), &r, cx),
        (v, _) if v.is_numeric() || matches!(v, Value::Bool(_) | Value::Char(_) | Value::Enum(..)) => numeric(op, &l, &r, cx),
        (Value::Str(_), _) => {
            // `'10' - 4`: a string that reads as a number works.
            if convert::parse_number(match &l {
                Value::Str(s) => s,
                _ => "",
            })
            .is_some()
            {
                numeric(op, &l, &r, cx)
            } else {
                Err(no_op(&l, op_method(op)))
            }
        }
        _ => Err(no_op(&l, op_method(op))),
    }
}

fn op_method(op: BinOp) -> &'static str {
    match op {
        BinOp::Sub => "op_Subtraction",
        BinOp::Mul => "op_Multiply",
        BinOp::Div => "op_Division",
        BinOp::Rem => "op_Modulus",
        _ => "op_Addition",
    }
}

/// `-band`, `-bor`, `-bxor`, `-shl`, `-shr`.
pub fn bitwise(op: BinOp, l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    if let (Value::Enum(d, a), Value::Enum(_, b)) = (&l, &r) {
        let v = match op {
            BinOp::BAnd => a & b,
            BinOp::BOr => a | b,
            BinOp::BXor => a ^ b,
            _ => return Err(no_op(&l, "op_LeftShift")),
        };
        return Ok(Value::Enum(d, v));
    }
    let long = is_long(&l) || is_long(&r);
    let a = convert::to_i64(&l, cx)?;
    let b = convert::to_i64(&r, cx)?;
    let v = match op {
        BinOp::BAnd => a & b,
        BinOp::BOr => a | b,
        BinOp::BXor => a ^ b,
        BinOp::Shl => {
            if long {
                a.wrapping_shl(b as u32 & 63)
            } else {
                i64::from((a as i32).wrapping_shl(b as u32 & 31))
            }
        }
        BinOp::Shr => {
            if long {
                a.wrapping_shr(b as u32 & 63)
            } else {
                i64::from((a as i32).wrapping_shr(b as u32 & 31))
            }
        }
        _ => unreachable!("not bitwise"),
    };
    if let Value::Enum(d, _) = l {
        return Ok(Value::Enum(d, v));
    }
    Ok(if long { Value::Long(v) } else { Value::Int(v as i32) })
}

/// `a..b`: integers from a to b, either direction.
pub fn range(l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    let a = convert::to_i32(&l, cx)?;
    let b = convert::to_i32(&r, cx)?;
    let len = (i64::from(a) - i64::from(b)).unsigned_abs() + 1;
    if len > 50_000_000 {
        return Err(op_error("The range is too large for the lab's PowerShell engine.".into(), "RangeTooLarge"));
    }
    let v: Vec<Value> = if a <= b { (a..=b).map(Value::Int).collect() } else { (b..=a).rev().map(Value::Int).collect() };
    Ok(Value::Array(Rc::new(Array::new(ElemType::Int, v))))
}

// ---- comparison ----

/// Compare two strings as PowerShell does (culture-insensitive here:
/// characters folded to upper case when `ci`).
pub fn cmp_str(a: &str, b: &str, ci: bool) -> Ordering {
    if ci { crate::lab::world::ci::cmp_ci(a, b) } else { a.cmp(b) }
}

/// `l -eq r` for a scalar `l`: `r` converted to `l`'s type.
pub fn equals(l: &Value, r: &Value, ci: bool, cx: &mut Ctx<'_>) -> bool {
    match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Str(a), _) => {
            let b = convert::to_str_value(r, cx);
            cmp_str(a, &b, ci) == Ordering::Equal
        }
        (Value::Bool(a), _) => *a == r.is_true_lossy(),
        (Value::Char(a), _) => match convert::to_char(r, cx) {
            Ok(b) => {
                if ci {
                    let (x, y) = (crate::lab::world::utf16::from_units(&[*a]), crate::lab::world::utf16::from_units(&[b]));
                    cmp_str(&x, &y, true) == Ordering::Equal
                } else {
                    *a == b
                }
            }
            Err(_) => false,
        },
        (Value::DateTime(a), Value::DateTime(b)) => a.ticks == b.ticks,
        (Value::DateTime(a), _) => matches!(convert::convert(r, &super::types::TypeRef::Prim(super::types::Prim::DateTime), cx), Ok(Value::DateTime(b)) if b.ticks == a.ticks),
        (Value::TimeSpan(a), Value::TimeSpan(b)) => a == b,
        (Value::Enum(d, a), _) => match r {
            Value::Str(s) => d.value_of(s).is_some_and(|b| b == *a) || convert::parse_number(s).is_some_and(|n| n.as_f64() == *a as f64),
            other => convert::to_i64(other, cx).is_ok_and(|b| b == *a),
        },
        (a, _) if a.is_numeric() => {
            if let Value::Str(s) = r
                && convert::parse_number(s).is_none()
            {
                return false;
            }
            match (convert::to_num(a, "System.Double", cx), convert::to_num(r, "System.Double", cx)) {
                (Ok(Num::I(x)), Ok(Num::I(y))) => x == y,
                (Ok(x), Ok(y)) => x.as_f64() == y.as_f64(),
                _ => false,
            }
        }
        (Value::Hashtable(a), Value::Hashtable(b)) => Rc::ptr_eq(a, b),
        (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b),
        (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b) || a.to_text(cx) == b.to_text(cx) && a.type_name() == b.type_name(),
        (Value::Type(a), Value::Type(b)) => a.full_name().eq_ignore_ascii_case(&b.full_name()),
        (Value::ScriptBlock(a), Value::ScriptBlock(b)) => Rc::ptr_eq(a, b),
        _ => false,
    }
}

/// `l -lt r` and friends for a scalar `l`: the ordering of `l` and `r`
/// converted to `l`'s type.
pub fn order(l: &Value, r: &Value, ci: bool, cx: &mut Ctx<'_>) -> Result<Ordering, ErrorRecord> {
    let fail = |cx: &mut Ctx<'_>| {
        let ls = convert::to_string(l, cx);
        let rs = convert::to_string(r, cx);
        op_error(
            format!("Cannot compare \"{ls}\" to \"{rs}\" because the objects are not the same type or the object \"{ls}\" does not implement \"IComparable\"."),
            "NotIcomparable",
        )
    };
    Ok(match (l, r) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Str(a), _) => {
            let b = convert::to_str_value(r, cx);
            cmp_str(a, &b, ci)
        }
        (Value::DateTime(a), Value::DateTime(b)) => a.ticks.cmp(&b.ticks),
        (Value::DateTime(a), _) => match convert::convert(r, &super::types::TypeRef::Prim(super::types::Prim::DateTime), cx)? {
            Value::DateTime(b) => a.ticks.cmp(&b.ticks),
            _ => return Err(fail(cx)),
        },
        (Value::TimeSpan(a), Value::TimeSpan(b)) => a.cmp(b),
        (Value::Bool(a), _) => a.cmp(&r.is_true_lossy()),
        (Value::Char(a), _) => a.cmp(&convert::to_char(r, cx)?),
        (a, _) if a.is_numeric() || matches!(a, Value::Enum(..)) => {
            let x = convert::to_num(a, "System.Double", cx)?;
            let y = match convert::to_num(r, &l.type_name(), cx) {
                Ok(y) => y,
                Err(e) => return Err(e),
            };
            match (x, y) {
                (Num::I(p), Num::I(q)) => p.cmp(&q),
                (p, q) => p.as_f64().partial_cmp(&q.as_f64()).unwrap_or(Ordering::Equal),
            }
        }
        _ => return Err(fail(cx)),
    })
}

/// The regex for a pattern, compiled once per process: every script runs
/// on a thread of its own, so a per-thread cache compiled each pattern
/// again in every script. Shared as `Arc`, so the regex's pool of search
/// caches is shared too (a clone of a `Regex` starts an empty pool).
pub fn regex(pattern: &str, ci: bool) -> Result<Arc<Regex>, ErrorRecord> {
    static CACHE: OnceLock<Mutex<HashMap<(String, bool), Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (pattern.to_string(), ci);
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(r.clone());
    }
    let translated = dotnet_pattern(pattern);
    let full = if ci { format!("(?i){translated}") } else { translated };
    match Regex::new(&full) {
        Ok(r) => {
            let r = Arc::new(r);
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            if c.len() > 512 {
                c.clear();
            }
            c.insert(key, r.clone());
            Ok(r)
        }
        Err(e) => {
            let mut rec = errors::runtime(
                format!("The regular expression pattern {pattern} is not valid (or uses a .NET feature the lab's regex engine lacks: lookaround, backreferences): {e}"),
                "InvalidOperation",
                "InvalidRegularExpression",
            );
            rec.target_name = pattern.to_string();
            rec.target_type = "String".into();
            Err(rec)
        }
    }
}

/// .NET pattern syntax to Rust's: `(?<name>` is accepted by both; `\Z`
/// (end or before a final newline) becomes `\n?\z`.
fn dotnet_pattern(p: &str) -> String {
    p.replace(r"\Z", r"\n?\z")
}

/// .NET replacement syntax (`$1`, `${name}`, `$&`, `$$`) to Rust's.
pub fn dotnet_replacement(r: &str) -> String {
    let chars: Vec<char> = r.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n == '$' {
                out.push_str("$$");
                i += 2;
                continue;
            }
            if n == '&' {
                out.push_str("${0}");
                i += 2;
                continue;
            }
            if n.is_ascii_digit() {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let num: String = chars[i + 1..j].iter().collect();
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            }
            if n == '{' {
                if let Some(close) = chars[i..].iter().position(|&c| c == '}') {
                    let name: String = chars[i..=i + close].iter().collect();
                    out.push_str(&name);
                    i += close + 1;
                    continue;
                }
            }
            out.push_str("$$");
            i += 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// PowerShell's wildcard match (`*`, `?`, `[a-z]`, backtick escapes).
pub fn like(text: &str, pattern: &str, ci: bool) -> bool {
    let t: Vec<char> = text.chars().map(|c| if ci { fold(c) } else { c }).collect();
    let p: Vec<char> = pattern.chars().map(|c| if ci { fold(c) } else { c }).collect();
    like_at(&t, &p)
}

fn like_at(t: &[char], p: &[char]) -> bool {
    // Iterative matching with backtracking on the last `*`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class_match(&p[pi..], t[ti]) {
                        if ok {
                            ti += 1;
                            pi += next;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                }
                '`' if pi + 1 < p.len() => {
                    if p[pi + 1] == t[ti] {
                        ti += 1;
                        pi += 2;
                        continue;
                    }
                }
                c => {
                    if c == t[ti] {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `[abc]`/`[a-z]` at the start of `p`: (matches, length of the class).
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let close = p.iter().skip(1).position(|&x| x == ']')? + 1;
    let body = &p[1..close];
    let mut i = 0;
    let mut ok = false;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            if body[i] <= c && c <= body[i + 2] {
                ok = true;
            }
            i += 3;
        } else {
            if body[i] == c {
                ok = true;
            }
            i += 1;
        }
    }
    Some((ok, close + 1))
}

/// The result of a comparison operator; `matches` receives `$Matches`
/// after a scalar `-match` that matched.
pub fn compare(op: CmpOp, case: Case, l: Value, r: Value, matches: &mut Option<Value>, cx: &mut Ctx<'_>) -> OpResult {
    let ci = case == Case::Insensitive;
    match op {
        CmpOp::Contains | CmpOp::NotContains => {
            let list = items(&l, cx).unwrap_or_else(|| vec![l.clone()]);
            let found = list.iter().any(|x| equals(x, &r, ci, cx));
            return Ok(Value::Bool(found == (op == CmpOp::Contains)));
        }
        CmpOp::In | CmpOp::NotIn => {
            if !cx.version.has_v3_operators() {
                return Err(op_error("The '-in' operator does not exist in PowerShell 2.0.".into(), "UnexpectedToken"));
            }
            let list = items(&r, cx).unwrap_or_else(|| vec![r.clone()]);
            let found = list.iter().any(|x| equals(x, &l, ci, cx));
            return Ok(Value::Bool(found == (op == CmpOp::In)));
        }
        CmpOp::Replace => return replace(l, r, ci, cx),
        CmpOp::Split => return split(l, r, ci, cx),
        CmpOp::Join => return join(l, r, cx),
        _ => {}
    }
    if let Some(list) = items(&l, cx) {
        // A collection on the left filters it.
        let mut out = Vec::new();
        let mut ignored = None;
        for x in list {
            if scalar_compare(op, ci, &x, &r, &mut ignored, cx)? {
                out.push(x);
            }
        }
        return Ok(Value::array(out));
    }
    Ok(Value::Bool(scalar_compare(op, ci, &l, &r, matches, cx)?))
}

fn scalar_compare(op: CmpOp, ci: bool, l: &Value, r: &Value, matches: &mut Option<Value>, cx: &mut Ctx<'_>) -> Result<bool, ErrorRecord> {
    Ok(match op {
        CmpOp::Eq => equals(l, r, ci, cx),
        CmpOp::Ne => !equals(l, r, ci, cx),
        CmpOp::Gt => order(l, r, ci, cx)? == Ordering::Greater,
        CmpOp::Ge => order(l, r, ci, cx)? != Ordering::Less,
        CmpOp::Lt => order(l, r, ci, cx)? == Ordering::Less,
        CmpOp::Le => order(l, r, ci, cx)? != Ordering::Greater,
        CmpOp::Like | CmpOp::NotLike => {
            let t = convert::to_str_value(l, cx);
            let p = convert::to_str_value(r, cx);
            like(&t, &p, ci) == (op == CmpOp::Like)
        }
        CmpOp::Match | CmpOp::NotMatch => {
            let t = convert::to_str_value(l, cx);
            let p = convert::to_str_value(r, cx);
            let re = regex(&p, ci)?;
            match re.captures(&t) {
                Some(caps) => {
                    if op == CmpOp::Match {
                        let mut h = Hashtable::new();
                        for (i, name) in re.capture_names().enumerate() {
                            if let Some(m) = caps.get(i) {
                                let key = match name {
                                    Some(n) => Value::str(n),
                                    None => Value::Int(i as i32),
                                };
                                h.insert(key, Value::str(m.as_str()));
                            }
                        }
                        *matches = Some(Value::Hashtable(Rc::new(RefCell::new(h))));
                    }
                    op == CmpOp::Match
                }
                None => op == CmpOp::NotMatch,
            }
        }
        _ => false,
    })
}

/// `l -replace pattern[, replacement]`.
fn replace(l: Value, r: Value, ci: bool, cx: &mut Ctx<'_>) -> OpResult {
    let parts = items(&r, cx).unwrap_or_else(|| vec![r.clone()]);
    let (pattern, replacement) = match parts.as_slice() {
        [p] => (convert::to_string(p, cx), String::new()),
        [p, rep] => (convert::to_string(p, cx), convert::to_string(rep, cx)),
        _ => {
            return Err(op_error(
                "The -replace operator allows only two elements to follow it, not 3.".replace('3', &parts.len().to_string()),
                "BadReplaceArgument",
            ));
        }
    };
    let re = regex(&pattern, ci)?;
    let rep = dotnet_replacement(&replacement);
    let one = |v: &Value, cx: &mut Ctx<'_>| -> Value {
        let t = convert::to_str_value(v, cx);
        Value::string(re.replace_all(&t, rep.as_str()).into_owned())
    };
    match items(&l, cx) {
        Some(list) => Ok(Value::array(list.iter().map(|x| one(x, cx)).collect())),
        None => Ok(one(&l, cx)),
    }
}

/// `l -split pattern[, max]`.
fn split(l: Value, r: Value, ci: bool, cx: &mut Ctx<'_>) -> OpResult {
    let parts = items(&r, cx).unwrap_or_else(|| vec![r.clone()]);
    let pattern = convert::to_string(parts.first().unwrap_or(&Value::Null), cx);
    let max = match parts.get(1) {
        Some(m) => convert::to_i32(m, cx)?,
        None => 0,
    };
    let re = regex(&pattern, ci)?;
    let inputs = items(&l, cx).unwrap_or_else(|| vec![l.clone()]);
    let mut out = Vec::new();
    for input in inputs {
        let t = convert::to_str_value(&input, cx);
        split_one(&t, &re, max, &mut out);
    }
    Ok(Value::Array(Rc::new(Array::new(ElemType::String, out))))
}

fn split_one(text: &str, re: &Regex, max: i32, out: &mut Vec<Value>) {
    let mut last = 0;
    let mut n = 1;
    for caps in re.captures_iter(text) {
        if max > 0 && n >= max {
            break;
        }
        let Some(m) = caps.get(0) else { continue };
        if m.start() == 0 && m.end() == 0 {
            continue;
        }
        out.push(Value::str(&text[last..m.start()]));
        // Captured groups are returned too (about_Split).
        for g in caps.iter().skip(1).flatten() {
            out.push(Value::str(g.as_str()));
        }
        last = m.end();
        n += 1;
    }
    out.push(Value::str(&text[last..]));
}

/// Unary `-split`: on runs of whitespace, empty pieces dropped.
pub fn split_unary(v: Value, cx: &mut Ctx<'_>) -> OpResult {
    let inputs = items(&v, cx).unwrap_or_else(|| vec![v.clone()]);
    let mut out = Vec::new();
    for input in inputs {
        let t = convert::to_str_value(&input, cx);
        out.extend(t.split_whitespace().map(Value::str));
    }
    Ok(Value::Array(Rc::new(Array::new(ElemType::String, out))))
}

/// `l -join sep`.
pub fn join(l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    let sep = convert::to_string(&r, cx);
    let list = items(&l, cx).unwrap_or_else(|| vec![l.clone()]);
    let texts: Vec<String> = list.iter().map(|x| convert::to_string(x, cx)).collect();
    Ok(Value::string(texts.join(&sep)))
}

/// `-not`, `-bnot`, unary minus and plus.
pub fn negate(v: Value, cx: &mut Ctx<'_>) -> OpResult {
    match v {
        Value::Int(n) => Ok(match n.checked_neg() {
            Some(m) => Value::Int(m),
            None => Value::Long(-i64::from(n)),
        }),
        Value::Long(n) => Ok(n.checked_neg().map_or(Value::Double(-(n as f64)), Value::Long)),
        Value::Double(d) => Ok(Value::Double(-d)),
        Value::TimeSpan(t) => Ok(Value::TimeSpan(-t)),
        other => numeric(BinOp::Sub, &Value::Int(0), &other, cx),
    }
}

pub fn bnot(v: Value, cx: &mut Ctx<'_>) -> OpResult {
    match v {
        Value::Long(n) => Ok(Value::Long(!n)),
        Value::Enum(d, n) => Ok(Value::Enum(d, !n)),
        other => {
            let n = convert::to_i64(&other, cx)?;
            match i32::try_from(n) {
                Ok(i) => Ok(Value::Int(!i)),
                Err(_) => Ok(Value::Long(!n)),
            }
        }
    }
}

/// `-f`.
pub fn format(l: Value, r: Value, cx: &mut Ctx<'_>) -> OpResult {
    let fmt = convert::to_string(&l, cx);
    let args = items(&r, cx).unwrap_or_else(|| vec![r.clone()]);
    super::format::composite(&fmt, &args, cx).map(Value::string).map_err(|e| {
        let msg = match e {
            super::format::FormatError::BadFormat => "Input string was not in a correct format.",
            super::format::FormatError::BadIndex => {
                "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
            }
        };
        let mut rec = errors::runtime(format!("Error formatting a string: {msg}."), "InvalidOperation", "FormatError");
        rec.target_name = fmt.clone();
        rec.target_type = "String".into();
        rec
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(like("Report.TXT", "*.txt", true));
        assert!(!like("Report.TXT", "*.txt", false));
        assert!(like("abc", "a?c", true));
        assert!(like("b", "[a-c]", true));
        assert!(!like("d", "[a-c]", true));
        assert!(like("a*b", "a`*b", true));
        assert!(!like("axb", "a`*b", true));
        assert!(like("", "*", true));
        assert!(like("aXbXc", "a*b*c", true));
    }

    #[test]
    fn replacement_syntax() {
        assert_eq!(dotnet_replacement("$1a"), "${1}a");
        assert_eq!(dotnet_replacement("${name}!"), "${name}!");
        assert_eq!(dotnet_replacement("$$"), "$$");
        assert_eq!(dotnet_replacement("[$&]"), "[${0}]");
    }
}
