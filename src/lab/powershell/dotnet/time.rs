//! Members of `DateTime` and `TimeSpan` values: parts, `Add*`,
//! `ToString(format)` (en-US), `ToUniversalTime` (lab hosts keep UTC),
//! `ToFileTime`, and the `Total*` of a span.

use super::args::Args;
use crate::lab::powershell::dates;
use crate::lab::powershell::object::{Ctx, NetError, NetResult, is};
use crate::lab::powershell::value::{DateKind, DateTime, Value};

/// .NET ticks of FILETIME zero (1601-01-01).
pub const FILETIME_EPOCH: i64 = 504_911_232_000_000_000;

/// A lab time as a `DateTime` on the host's clock (`Ctx::host_ticks`):
/// kind Utc, or Local (lab hosts run in UTC, so both hold the same ticks).
pub fn from_lab(cx: &crate::lab::powershell::object::Ctx<'_>, t: crate::lab::world::LabTime, utc: bool) -> Value {
    Value::DateTime(DateTime { ticks: cx.host_ticks(t), kind: if utc { DateKind::Utc } else { DateKind::Local } })
}

pub fn date_property(d: DateTime, name: &str) -> Option<NetResult<Value>> {
    let p = dates::parts(d.ticks);
    let n = name.to_ascii_lowercase();
    Some(Ok(match n.as_str() {
        "year" => Value::Int(p.y as i32),
        "month" => Value::Int(p.mo as i32),
        "day" => Value::Int(p.d as i32),
        "hour" => Value::Int(p.h as i32),
        "minute" => Value::Int(p.mi as i32),
        "second" => Value::Int(p.s as i32),
        "millisecond" => Value::Int((p.frac / 10_000) as i32),
        "ticks" => Value::Long(d.ticks),
        "kind" => Value::str(match d.kind {
            DateKind::Utc => "Utc",
            DateKind::Local => "Local",
            DateKind::Unspecified => "Unspecified",
        }),
        "dayofweek" => Value::str(["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][p.dow as usize]),
        "dayofyear" => Value::Int((dates::days_from_civil(p.y, p.mo, p.d) - dates::days_from_civil(p.y, 1, 1) + 1) as i32),
        "date" => Value::DateTime(DateTime { ticks: d.ticks - d.ticks.rem_euclid(dates::TICKS_PER_DAY), kind: d.kind }),
        "timeofday" => Value::TimeSpan(d.ticks.rem_euclid(dates::TICKS_PER_DAY)),
        _ => return None,
    }))
}

fn out_of_range() -> NetError {
    NetError::exception(
        "System.ArgumentOutOfRangeException",
        "The added or subtracted value results in an un-representable DateTime.\r\nParameter name: value",
    )
}

/// `DateTime.Add*`: the value in milliseconds, rounded half away from
/// zero as .NET rounds it, then added exactly.
fn add(d: DateTime, value: f64, millis_per_unit: f64) -> NetResult<Value> {
    let ms = value * millis_per_unit;
    let ms = if ms >= 0.0 { (ms + 0.5).trunc() } else { (ms - 0.5).trunc() };
    if !ms.is_finite() || ms.abs() > 3.2e14 {
        return Err(out_of_range());
    }
    add_ticks(d, ms as i64 * 10_000)
}

fn add_ticks(d: DateTime, ticks: i64) -> NetResult<Value> {
    match d.ticks.checked_add(ticks) {
        Some(t) if (0..=dates::MAX_TICKS).contains(&t) => Ok(Value::DateTime(DateTime { ticks: t, kind: d.kind })),
        _ => Err(out_of_range()),
    }
}

pub fn date_method(d: DateTime, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let n = name.to_ascii_lowercase();
    let r = (|| -> NetResult<Option<Value>> {
        Ok(Some(match n.as_str() {
            "tostring" => Value::string(dates::format(d, &if args.is_empty() { String::new() } else { a.string(0, cx)? })),
            "touniversaltime" => Value::DateTime(DateTime { ticks: d.ticks, kind: DateKind::Utc }),
            "tolocaltime" => Value::DateTime(DateTime { ticks: d.ticks, kind: DateKind::Local }),
            "tofiletime" | "tofiletimeutc" => Value::Long(d.ticks - FILETIME_EPOCH),
            "addseconds" => add(d, a.double(0, cx)?, 1000.0)?,
            "addminutes" => add(d, a.double(0, cx)?, 60_000.0)?,
            "addhours" => add(d, a.double(0, cx)?, 3_600_000.0)?,
            "adddays" => add(d, a.double(0, cx)?, 86_400_000.0)?,
            "addmilliseconds" => add(d, a.double(0, cx)?, 1.0)?,
            "addticks" => add_ticks(d, a.long(0, cx)?)?,
            "addmonths" => Value::DateTime(DateTime { ticks: dates::add_months(d.ticks, a.long(0, cx)?).ok_or_else(out_of_range)?, kind: d.kind }),
            "addyears" => Value::DateTime(DateTime { ticks: dates::add_months(d.ticks, a.long(0, cx)? * 12).ok_or_else(out_of_range)?, kind: d.kind }),
            "add" => match a.value(0) {
                Value::TimeSpan(t) => add_ticks(d, *t)?,
                _ => return Err(NetError::NoOverload { argc: args.len() }),
            },
            "subtract" => match a.value(0) {
                Value::TimeSpan(t) => add_ticks(d, -*t)?,
                Value::DateTime(e) => Value::TimeSpan(d.ticks - e.ticks),
                _ => return Err(NetError::NoOverload { argc: args.len() }),
            },
            "toshortdatestring" => Value::string(dates::format(d, "d")),
            "tolongdatestring" => Value::string(dates::format(d, "D")),
            "toshorttimestring" => Value::string(dates::format(d, "t")),
            "tolongtimestring" => Value::string(dates::format(d, "T")),
            "compareto" => match a.value(0) {
                Value::DateTime(e) => Value::Int(d.ticks.cmp(&e.ticks) as i32),
                _ => return Err(NetError::argument("Object must be of type DateTime.")),
            },
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

pub fn timespan_property(t: i64, name: &str) -> Option<NetResult<Value>> {
    let n = name.to_ascii_lowercase();
    let sec = dates::TICKS_PER_SEC;
    Some(Ok(match n.as_str() {
        "ticks" => Value::Long(t),
        "days" => Value::Int((t / dates::TICKS_PER_DAY) as i32),
        "hours" => Value::Int((t / (3600 * sec) % 24) as i32),
        "minutes" => Value::Int((t / (60 * sec) % 60) as i32),
        "seconds" => Value::Int((t / sec % 60) as i32),
        "milliseconds" => Value::Int((t / 10_000 % 1000) as i32),
        "totaldays" => Value::Double(t as f64 / dates::TICKS_PER_DAY as f64),
        "totalhours" => Value::Double(t as f64 / (3600 * sec) as f64),
        "totalminutes" => Value::Double(t as f64 / (60 * sec) as f64),
        "totalseconds" => Value::Double(t as f64 / sec as f64),
        "totalmilliseconds" => Value::Double(t as f64 / 10_000.0),
        _ => return None,
    }))
}

pub fn timespan_method(t: i64, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    Some(Ok(if is(name, "ToString") && args.is_empty() {
        Value::string(dates::timespan(t))
    } else if is(name, "Add") || is(name, "Subtract") {
        match a.value(0) {
            Value::TimeSpan(u) => Value::TimeSpan(if is(name, "Add") { t + u } else { t - u }),
            _ => return Some(Err(NetError::NoOverload { argc: args.len() })),
        }
    } else if is(name, "Negate") {
        Value::TimeSpan(-t)
    } else if is(name, "Duration") {
        Value::TimeSpan(t.abs())
    } else if is(name, "CompareTo") {
        match a.value(0) {
            Value::TimeSpan(u) => Value::Int(t.cmp(u) as i32),
            _ => return Some(Err(NetError::argument("Object must be of type TimeSpan."))),
        }
    } else {
        let _ = cx;
        return None;
    }))
}
