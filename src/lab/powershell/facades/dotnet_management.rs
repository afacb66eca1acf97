//! `System.Management.ManagementDateTimeConverter`: WMI's CIM datetime
//! text (`yyyymmddHHMMSS.mmmmmmsUUU`, `UUU` the UTC offset in minutes)
//! to and from `DateTime`, as .NET Framework's System.Management does it
//! (Windows PowerShell loads that assembly on 2.0 and 5.1):
//!
//! - `ToDateTime(dmtf)`: the text must be 25 characters; a field of
//!   asterisks takes `DateTime.MinValue`'s part; the time is moved from
//!   the text's offset to the host's local time; the result's Kind is
//!   Unspecified (it is built with `new DateTime(y, m, d, h, mi, s)`).
//!   Anything malformed is `ArgumentOutOfRangeException` for `dmtfDate`.
//! - `ToDmtfDateTime(date)`: the date's local offset (`+000` on a UTC
//!   date), the microseconds in six digits, the offset signed and padded
//!   to three digits (`-300`, `+060`).
//!
//! Lab hosts keep their clocks in UTC, so the local offset is zero.

use crate::lab::powershell::convert;
use crate::lab::powershell::dates::{self, TICKS_PER_DAY};
use crate::lab::powershell::object::{Ctx, NetError, NetResult, NetType, Registry, is};
use crate::lab::powershell::value::{DateKind, DateTime, Value};

const TICKS_PER_MINUTE: i64 = 600_000_000;

/// The host's offset from UTC at `ticks`, in minutes (lab hosts run in UTC).
fn local_offset_minutes(_ticks: i64) -> i64 {
    0
}

fn out_of_range(param: &str) -> NetError {
    NetError::exception("System.ArgumentOutOfRangeException", format!("Specified argument was out of the range of valid values.\r\nParameter name: {param}"))
}

/// One numeric field of the text, or `default` when it is all asterisks.
fn field(text: &str, at: usize, len: usize, default: i64) -> Option<i64> {
    let s = text.get(at..at + len)?;
    if s.bytes().all(|b| b == b'*') {
        return Some(default);
    }
    // Int32.Parse: an optional sign, then digits.
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `ToDateTime`: .NET ticks (Kind Unspecified) of a CIM datetime.
pub fn to_date_time(dmtf: &str) -> NetResult<DateTime> {
    let bad = || out_of_range("dmtfDate");
    if dmtf.len() != 25 || !dmtf.is_ascii() {
        return Err(bad());
    }
    let y = field(dmtf, 0, 4, 1).ok_or_else(bad)?;
    let mo = field(dmtf, 4, 2, 1).ok_or_else(bad)?;
    let d = field(dmtf, 6, 2, 1).ok_or_else(bad)?;
    let h = field(dmtf, 8, 2, 0).ok_or_else(bad)?;
    let mi = field(dmtf, 10, 2, 0).ok_or_else(bad)?;
    let s = field(dmtf, 12, 2, 0).ok_or_else(bad)?;
    let micros = field(dmtf, 15, 6, 0).ok_or_else(bad)?;
    // The offset is the sign and three digits; `***` means none given.
    let offset = if &dmtf[22..25] == "***" { None } else { Some(field(dmtf, 21, 4, 0).ok_or_else(bad)?) };
    if [y, mo, d, h, mi, s, micros].iter().any(|v| *v < 0) {
        return Err(bad());
    }
    let ticks = dates::from_parts(y, mo as u32, d as u32, h as u32, mi as u32, s as u32, 0)
        .ok_or_else(|| NetError::exception("System.ArgumentOutOfRangeException", "Year, Month, and Day parameters describe an un-representable DateTime."))?;
    let mut ticks = ticks + micros * 10;
    if let Some(offset) = offset {
        ticks += (local_offset_minutes(ticks) - offset) * TICKS_PER_MINUTE;
    }
    if !(0..=dates::MAX_TICKS).contains(&ticks) {
        return Err(bad());
    }
    Ok(DateTime { ticks, kind: DateKind::Unspecified })
}

/// `ToDmtfDateTime`: the CIM datetime of a `DateTime`, in its local time.
pub fn to_dmtf(date: DateTime) -> String {
    let offset = if date.kind == DateKind::Utc { 0 } else { local_offset_minutes(date.ticks) };
    let p = dates::parts(date.ticks);
    let micros = date.ticks.rem_euclid(TICKS_PER_DAY) % 10_000_000 / 10;
    let sign = if offset < 0 { '-' } else { '+' };
    format!("{:04}{:02}{:02}{:02}{:02}{:02}.{:06}{sign}{:03}", p.y, p.mo, p.d, p.h, p.mi, p.s, micros, offset.abs())
}

struct ConverterType;

impl NetType for ConverterType {
    fn full_name(&self) -> &str {
        "System.Management.ManagementDateTimeConverter"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let one = |args: &[Value]| if args.len() == 1 { Ok(()) } else { Err(NetError::NoOverload { argc: args.len() }) };
        if is(name, "ToDateTime") {
            return Some(one(args).and_then(|_| match &args[0] {
                Value::Null => Err(out_of_range("dmtfDate")),
                v => to_date_time(&convert::to_string(v, cx)).map(Value::DateTime),
            }));
        }
        if is(name, "ToDmtfDateTime") {
            return Some(one(args).and_then(|_| match &args[0] {
                Value::DateTime(d) => Ok(Value::string(to_dmtf(*d))),
                v => {
                    let text = convert::to_string(v, cx);
                    let d = dates::parse(&text).ok_or_else(|| NetError::Argument { index: 0, value: text, target: "System.DateTime".into(), reason: "not a date".into() })?;
                    Ok(Value::string(to_dmtf(d)))
                }
            }));
        }
        None
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(ConverterType);
}

#[cfg(test)]
mod tests {
    use super::{to_date_time, to_dmtf};
    use crate::lab::powershell::dates;
    use crate::lab::powershell::tests::{prints, run_with};
    use crate::lab::powershell::value::{DateKind, DateTime};

    fn ticks(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        dates::from_parts(y, mo, d, h, mi, s, 0).expect("date")
    }

    /// The offset is minutes east of UTC: `-300` is US Eastern, so 09:21
    /// there is 14:21 on the (UTC) host; asterisks take MinValue's parts.
    #[test]
    fn cim_text_moves_from_its_offset_to_local_time() {
        let d = to_date_time("20261207092127.500000-300").expect("parses");
        assert_eq!(d, DateTime { ticks: ticks(2026, 12, 7, 14, 21, 27) + 5_000_000, kind: DateKind::Unspecified });
        assert_eq!(to_date_time("20261207092127.000000+060").expect("parses").ticks, ticks(2026, 12, 7, 8, 21, 27));
        assert_eq!(to_date_time("20261207092127.000000+***").expect("parses").ticks, ticks(2026, 12, 7, 9, 21, 27));
        assert_eq!(to_date_time("********092127.000000+000").expect("parses").ticks, ticks(1, 1, 1, 9, 21, 27));
        for bad in ["", "2026120709212.000000+000", "2026120709212x.000000+000", "20261307092127.000000+000", "20261207092127.000000+000 "] {
            assert!(to_date_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_become_cim_text_with_microseconds_and_a_signed_offset() {
        let d = DateTime { ticks: ticks(2026, 12, 7, 9, 21, 27) + 1_234_567, kind: DateKind::Local };
        assert_eq!(to_dmtf(d), "20261207092127.123456+000");
        assert_eq!(to_dmtf(DateTime { kind: DateKind::Utc, ..d }), "20261207092127.123456+000");
        assert_eq!(to_date_time(&to_dmtf(d)).expect("round trip").ticks, d.ticks - 7);
    }

    /// Through the engine on both versions, as runtime.ps1 calls it on a
    /// Win32_Process's CreationDate; `$null` is out of range.
    #[test]
    fn the_converter_is_there_on_2_0_and_5_1() {
        let script = concat!(
            "$d = [System.Management.ManagementDateTimeConverter]::ToDateTime('20261207092127.500000-300')\n",
            "$d.ToString('yyyy-MM-dd HH:mm:ss.fff'); $d.Kind\n",
            "[System.Management.ManagementDateTimeConverter]::ToDmtfDateTime($d)\n",
            "try { [System.Management.ManagementDateTimeConverter]::ToDateTime($null) } catch { $_.Exception.InnerException.GetType().FullName }\n",
        );
        for v in ["2.0", "5.1.19041.1"] {
            let (r, _) = run_with(v, |_| {}, script);
            prints(&r, &["2026-12-07 14:21:27.500", "Unspecified", "20261207142127.500000+000", "System.ArgumentOutOfRangeException"]);
        }
    }
}
