//! Clock skew between a host and this machine, from the probe's
//! `utc_now` (ISO 8601, as PowerShell's `ToString('o')` prints it). Kerberos
//! refuses tickets past 5 minutes of skew. Pure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Skew past which Kerberos breaks (its default tolerance), in seconds.
pub const KERBEROS_MAX_SKEW_SECS: i64 = 300;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch of `2026-11-29T03:00:00.1234567Z` (also
/// with `+01:00` style offsets, or no fraction). `None` when malformed.
pub fn parse_iso(text: &str) -> Option<f64> {
    let t = text.trim();
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (date, rest) = t.split_once('T')?;
    let mut dparts = date.split('-');
    let (y, mo, d) = (
        num(dparts.next()?)?,
        num(dparts.next()?)?,
        num(dparts.next()?)?,
    );
    if dparts.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    // Split the time from its zone designator.
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, zone) = rest.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (zh, zm) = zone[1..].split_once(':')?;
        (c, sign * (num(zh)? * 3600 + num(zm)? * 60))
    } else {
        return None; // A local time without a zone cannot be compared.
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut tparts = hms.split(':');
    let (h, mi, s) = (
        num(tparts.next()?)?,
        num(tparts.next()?)?,
        num(tparts.next()?)?,
    );
    if tparts.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let fraction = match frac {
        Some(f) => {
            num(f)?;
            format!("0.{f}").parse::<f64>().ok()?
        }
        None => 0.0,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    Some(secs as f64 + fraction)
}

/// The civil date of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-29T03:00:00.500Z`: a time as the journal writes its own
/// (UTC, milliseconds), for "now" in reports.
pub fn format_iso(t: SystemTime) -> String {
    let ms = (unix_secs(t) * 1000.0).round() as i64;
    let (secs, ms) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// Seconds since the epoch of a local time.
fn unix_secs(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// How far the host's clock is ahead (positive) or behind (negative), in
/// whole seconds: its `utc_now` against our clock at the midpoint of the
/// command (`started_at + elapsed / 2`).
pub fn skew_secs(host_utc_now: &str, started_at: SystemTime, elapsed: Duration) -> Option<i64> {
    let host = parse_iso(host_utc_now)?;
    let local_mid = unix_secs(started_at) + elapsed.as_secs_f64() / 2.0;
    Some((host - local_mid).round() as i64)
}

/// `+3s`, `-7m12s`, `+2h05m`, `0s`.
pub fn format_skew(secs: i64) -> String {
    let sign = if secs > 0 {
        "+"
    } else if secs < 0 {
        "-"
    } else {
        ""
    };
    let a = secs.unsigned_abs();
    let body = if a < 60 {
        format!("{a}s")
    } else if a < 3600 {
        format!("{}m{:02}s", a / 60, a % 60)
    } else if a < 86_400 {
        format!("{}h{:02}m", a / 3600, (a % 3600) / 60)
    } else {
        format!("{}d{:02}h", a / 86_400, (a % 86_400) / 3600)
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_powershell_round_trip_form() {
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_iso("2000-03-01T00:00:00Z"), Some(951_868_800.0));
        let t = parse_iso("2026-11-29T03:00:00.5000000Z").unwrap();
        assert!((t - 1_795_921_200.5).abs() < 1e-6, "{t}");
        assert_eq!(
            parse_iso("2026-11-29T04:00:00+01:00"),
            parse_iso("2026-11-29T03:00:00Z")
        );
        assert_eq!(
            parse_iso("2026-11-29T02:30:00-00:30"),
            parse_iso("2026-11-29T03:00:00Z")
        );
    }

    #[test]
    fn refuses_garbage_and_zone_less_times() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-29T03:00:00",
            "2026-11-29 03:00:00Z",
            "2026-11-29T03:00:0xZ",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn skew_against_the_midpoint() {
        let start = UNIX_EPOCH + Duration::from_secs(1000);
        // The host said 1000+10+400 while we measured 1000..1020: midpoint 1010.
        assert_eq!(
            skew_secs("1970-01-01T00:23:30Z", start, Duration::from_secs(20)),
            Some(400)
        );
        assert_eq!(
            skew_secs("1970-01-01T00:16:50Z", start, Duration::from_secs(20)),
            Some(0)
        );
        assert_eq!(
            skew_secs("1970-01-01T00:16:00Z", start, Duration::from_secs(20)),
            Some(-50)
        );
        assert_eq!(skew_secs("bad", start, Duration::ZERO), None);
    }

    #[test]
    fn formats_what_it_parses() {
        assert_eq!(format_iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        for secs in [951_868_800.0, 1_795_921_200.5, 4_107_542_399.999] {
            let t = UNIX_EPOCH + Duration::from_secs_f64(secs);
            let text = format_iso(t);
            assert!((parse_iso(&text).unwrap() - secs).abs() < 1e-3, "{secs} {text}");
        }
        assert_eq!(format_iso(UNIX_EPOCH + Duration::from_secs(951_868_800)), "2000-03-01T00:00:00.000Z");
    }

    #[test]
    fn formats() {
        assert_eq!(format_skew(0), "0s");
        assert_eq!(format_skew(3), "+3s");
        assert_eq!(format_skew(-432), "-7m12s");
        assert_eq!(format_skew(7500), "+2h05m");
        assert_eq!(format_skew(-90_000), "-1d01h");
    }
}
