//! `DateTime` and `TimeSpan` arithmetic on .NET ticks (100 ns since
//! 0001-01-01), the proleptic Gregorian calendar, and .NET's standard and
//! custom date format strings (`o`, `s`, `u`, `yyyy-MM-dd HH:mm:ss`, the
//! en-US defaults). Lab hosts keep their clocks in UTC, so local time is
//! UTC with offset `+00:00`.

use super::value::{DateKind, DateTime};

pub const TICKS_PER_SEC: i64 = 10_000_000;
pub const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SEC;
/// Ticks of 9999-12-31T23:59:59.9999999.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// Days from 0001-01-01 to 1970-01-01.
pub const EPOCH_DAYS: i64 = 719_162;

/// (year, month, day) of a day number since 0001-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, shifted to the Unix epoch.
    let z = days - EPOCH_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day number since 0001-01-01 of a date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = if m > 2 { i64::from(m) - 3 } else { i64::from(m) + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + EPOCH_DAYS
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// The parts of a date: year, month, day, hour, minute, second, ticks of
/// the second.
pub struct Parts {
    pub y: i64,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
    pub frac: i64,
    /// Day of week, 0 = Sunday.
    pub dow: u32,
}

pub fn parts(ticks: i64) -> Parts {
    let days = ticks.div_euclid(TICKS_PER_DAY);
    let tod = ticks.rem_euclid(TICKS_PER_DAY);
    let (y, mo, d) = civil(days);
    let secs = tod / TICKS_PER_SEC;
    Parts {
        y,
        mo,
        d,
        h: (secs / 3600) as u32,
        mi: (secs % 3600 / 60) as u32,
        s: (secs % 60) as u32,
        frac: tod % TICKS_PER_SEC,
        dow: ((days + 1).rem_euclid(7)) as u32,
    }
}

pub fn from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac: i64) -> Option<i64> {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * TICKS_PER_DAY + i64::from(h * 3600 + mi * 60 + s) * TICKS_PER_SEC + frac)
}

/// Add months as DateTime.AddMonths (the day clamped to the month).
pub fn add_months(ticks: i64, months: i64) -> Option<i64> {
    let p = parts(ticks);
    let total = p.y * 12 + i64::from(p.mo) - 1 + months;
    let y = total.div_euclid(12);
    let mo = (total.rem_euclid(12) + 1) as u32;
    let d = p.d.min(days_in_month(y, mo));
    from_parts(y, mo, d, p.h, p.mi, p.s, p.frac)
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// `DateTime.ToString(format)` with en-US culture (the lab hosts' culture).
pub fn format(d: DateTime, fmt: &str) -> String {
    let custom = match fmt {
        "" | "G" => "M/d/yyyy h:mm:ss tt",
        "o" | "O" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "d" => "M/d/yyyy",
        "D" => "dddd, MMMM d, yyyy",
        "t" => "h:mm tt",
        "T" => "h:mm:ss tt",
        "g" => "M/d/yyyy h:mm tt",
        "f" => "dddd, MMMM d, yyyy h:mm tt",
        "F" => "dddd, MMMM d, yyyy h:mm:ss tt",
        "M" | "m" => "MMMM d",
        "Y" | "y" => "MMMM yyyy",
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        other => other,
    };
    custom_format(d, custom)
}

/// The invariant form PowerShell converts a date to text with.
pub fn invariant(d: DateTime) -> String {
    custom_format(d, "MM/dd/yyyy HH:mm:ss")
}

fn custom_format(d: DateTime, fmt: &str) -> String {
    let p = parts(d.ticks);
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        match c {
            'y' => match n {
                1 => out.push_str(&(p.y % 100).to_string()),
                2 => out.push_str(&format!("{:02}", p.y % 100)),
                _ => out.push_str(&format!("{:0width$}", p.y, width = n)),
            },
            'M' => match n {
                1 => out.push_str(&p.mo.to_string()),
                2 => out.push_str(&format!("{:02}", p.mo)),
                3 => out.push_str(&MONTHS[p.mo as usize - 1][..3]),
                _ => out.push_str(MONTHS[p.mo as usize - 1]),
            },
            'd' => match n {
                1 => out.push_str(&p.d.to_string()),
                2 => out.push_str(&format!("{:02}", p.d)),
                3 => out.push_str(&DAYS[p.dow as usize][..3]),
                _ => out.push_str(DAYS[p.dow as usize]),
            },
            'H' => out.push_str(&if n == 1 { p.h.to_string() } else { format!("{:02}", p.h) }),
            'h' => {
                let h12 = if p.h % 12 == 0 { 12 } else { p.h % 12 };
                out.push_str(&if n == 1 { h12.to_string() } else { format!("{h12:02}") });
            }
            'm' => out.push_str(&if n == 1 { p.mi.to_string() } else { format!("{:02}", p.mi) }),
            's' => out.push_str(&if n == 1 { p.s.to_string() } else { format!("{:02}", p.s) }),
            'f' | 'F' => {
                let digits = format!("{:07}", p.frac);
                let take = n.min(7);
                let mut part = digits[..take].to_string();
                if c == 'F' {
                    part = part.trim_end_matches('0').to_string();
                    if part.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                }
                out.push_str(&part);
            }
            't' => {
                let ampm = if p.h < 12 { "AM" } else { "PM" };
                out.push_str(if n == 1 { &ampm[..1] } else { ampm });
            }
            'K' => match d.kind {
                DateKind::Utc => out.push('Z'),
                DateKind::Local => out.push_str("+00:00"),
                DateKind::Unspecified => {}
            },
            'z' => out.push_str(match n {
                1 => "+0",
                2 => "+00",
                _ => "+00:00",
            }),
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    out.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            '\\' => {
                if let Some(&e) = chars.get(i + 1) {
                    out.push(e);
                }
                i += 2;
                continue;
            }
            other => {
                for _ in 0..n {
                    out.push(other);
                }
            }
        }
        i += n;
    }
    out
}

/// Parse a date as `[DateTime]'...'` does (invariant culture): ISO 8601
/// (`2024-03-04`, `2024-03-04T09:00:00Z`, with fractions), and
/// `MM/dd/yyyy [HH:mm[:ss]]`.
pub fn parse(text: &str) -> Option<DateTime> {
    let t = text.trim();
    let b = t.as_bytes();
    let num = |s: &str| s.parse::<u32>().ok();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let y = num(&t[0..4])? as i64;
        let mo = num(&t[5..7])?;
        let d = num(&t[8..10])?;
        let mut rest = &t[10..];
        let (mut h, mut mi, mut s, mut frac) = (0, 0, 0, 0i64);
        let mut kind = DateKind::Unspecified;
        if let Some(r) = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' ')) {
            if r.len() < 5 {
                return None;
            }
            h = num(&r[0..2])?;
            mi = num(&r[3..5])?;
            rest = &r[5..];
            if let Some(r2) = rest.strip_prefix(':') {
                s = num(r2.get(0..2)?)?;
                rest = &r2[2..];
                if let Some(r3) = rest.strip_prefix('.') {
                    let digits: String = r3.chars().take_while(|c| c.is_ascii_digit()).collect();
                    let padded = format!("{:0<7}", &digits[..digits.len().min(7)]);
                    frac = padded.parse().ok()?;
                    rest = &r3[digits.len()..];
                }
            }
        }
        if rest == "Z" {
            kind = DateKind::Utc;
        } else if rest.starts_with('+') || rest.starts_with('-') {
            // An offset: converted to local time (the lab's local is UTC).
            let sign: i64 = if rest.starts_with('-') { -1 } else { 1 };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
            let ticks = from_parts(y, mo, d, h, mi, s, frac)? - sign * (oh * 3600 + om * 60) * TICKS_PER_SEC;
            return Some(DateTime { ticks, kind: DateKind::Local });
        } else if !rest.is_empty() {
            return None;
        }
        return Some(DateTime { ticks: from_parts(y, mo, d, h, mi, s, frac)?, kind });
    }
    // MM/dd/yyyy [HH:mm[:ss]]
    let (date, time) = match t.split_once(' ') {
        Some((a, b)) => (a, Some(b.trim())),
        None => (t, None),
    };
    let mut dp = date.split('/');
    let mo = num(dp.next()?)?;
    let d = num(dp.next()?)?;
    let y = num(dp.next()?)? as i64;
    if dp.next().is_some() {
        return None;
    }
    let (mut h, mut mi, mut s) = (0, 0, 0);
    if let Some(tm) = time {
        let (clock, ampm) = match tm.rsplit_once(' ') {
            Some((c, a)) if a.eq_ignore_ascii_case("AM") || a.eq_ignore_ascii_case("PM") => (c, Some(a.to_ascii_uppercase())),
            _ => (tm, None),
        };
        let mut tp = clock.split(':');
        h = num(tp.next()?)?;
        mi = num(tp.next()?)?;
        if let Some(sv) = tp.next() {
            s = num(sv)?;
        }
        match ampm.as_deref() {
            Some("PM") if h < 12 => h += 12,
            Some("AM") if h == 12 => h = 0,
            _ => {}
        }
    }
    Some(DateTime { ticks: from_parts(y, mo, d, h, mi, s, 0)?, kind: DateKind::Unspecified })
}

/// `TimeSpan.ToString()`: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn timespan(ticks: i64) -> String {
    let neg = ticks < 0;
    let t = ticks.unsigned_abs() as i64;
    let days = t / TICKS_PER_DAY;
    let rem = t % TICKS_PER_DAY;
    let secs = rem / TICKS_PER_SEC;
    let frac = rem % TICKS_PER_SEC;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// Parse `[d.]hh:mm[:ss[.fffffff]]` or a number of days.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (days, clock) = match t.split_once('.') {
        Some((d, rest)) if !d.contains(':') => (d.parse::<i64>().ok()?, rest),
        _ => (0, t),
    };
    if !clock.contains(':') {
        let d: i64 = clock.parse().ok()?;
        let v = d * TICKS_PER_DAY;
        return Some(if neg { -v } else { v });
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, format!("{:0<7}", &f[..f.len().min(7)]).parse::<i64>().ok()?),
        None => (clock, 0),
    };
    let mut p = hms.split(':');
    let h: i64 = p.next()?.parse().ok()?;
    let m: i64 = p.next()?.parse().ok()?;
    let s: i64 = p.next().map_or(Some(0), |v| v.parse().ok())?;
    let v = days * TICKS_PER_DAY + (h * 3600 + m * 60 + s) * TICKS_PER_SEC + frac;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac: i64) -> DateTime {
        DateTime { ticks: from_parts(y, mo, d, h, mi, s, frac).unwrap_or(0), kind: DateKind::Utc }
    }

    #[test]
    fn round_trip_format_is_dotnet_o() {
        let d = utc(2026, 11, 29, 3, 4, 5, 1_234_567);
        assert_eq!(format(d, "o"), "2026-11-29T03:04:05.1234567Z");
        assert_eq!(parse("2026-11-29T03:04:05.1234567Z"), Some(d));
        assert_eq!(format(DateTime { kind: DateKind::Unspecified, ..d }, "o"), "2026-11-29T03:04:05.1234567");
    }

    #[test]
    fn epoch_and_calendar() {
        assert_eq!(from_parts(1970, 1, 1, 0, 0, 0, 0), Some(621_355_968_000_000_000));
        assert_eq!(from_parts(2024, 2, 29, 0, 0, 0, 0).map(|t| parts(t).d), Some(29));
        assert_eq!(from_parts(2023, 2, 29, 0, 0, 0, 0), None);
        // 2024-03-04 was a Monday.
        assert_eq!(from_parts(2024, 3, 4, 0, 0, 0, 0).map(|t| parts(t).dow), Some(1));
    }

    #[test]
    fn en_us_and_invariant_forms() {
        let d = utc(2024, 3, 4, 15, 7, 9, 0);
        assert_eq!(format(d, ""), "3/4/2024 3:07:09 PM");
        assert_eq!(invariant(d), "03/04/2024 15:07:09");
        assert_eq!(format(d, "yyyyMMdd-HHmm"), "20240304-1507");
        assert_eq!(format(d, "dddd, MMMM d"), "Monday, March 4");
    }

    #[test]
    fn timespans() {
        assert_eq!(timespan(90 * TICKS_PER_SEC), "00:01:30");
        assert_eq!(timespan(TICKS_PER_DAY + 5), "1.00:00:00.0000005");
        assert_eq!(parse_timespan("01:30:00"), Some(5400 * TICKS_PER_SEC));
    }
}
