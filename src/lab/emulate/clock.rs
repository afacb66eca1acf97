//! A lab host's clock: real time plus the host's skew, printed as .NET's
//! round-trip format (`DateTime.UtcNow.ToString('o')`,
//! `2026-11-29T03:04:05.1234567Z`). Plain std, no date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Ticks (100 ns) per second.
const TICKS: i128 = 10_000_000;

/// Now on a host whose clock is `skew_secs` ahead (negative: behind).
pub fn host_now(skew_secs: i64) -> String {
    let ticks = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_nanos() / 100) as i128,
        Err(e) => -((e.duration().as_nanos() / 100) as i128),
    };
    format_o(ticks + i128::from(skew_secs) * TICKS)
}

/// Format 100 ns ticks since the Unix epoch, clamped to years 1..=9999 as
/// `DateTime` is.
pub fn format_o(ticks_since_epoch: i128) -> String {
    // 0001-01-01 and 9999-12-31T23:59:59.9999999 relative to 1970.
    const MIN: i128 = -62_135_596_800 * TICKS;
    const MAX: i128 = 253_402_300_800 * TICKS - 1;
    let ticks = ticks_since_epoch.clamp(MIN, MAX);
    let secs = ticks.div_euclid(TICKS);
    let frac = ticks.rem_euclid(TICKS);
    let days = secs.div_euclid(86_400) as i64;
    let tod = secs.rem_euclid(86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parse the 'o' form back to ticks since the epoch (tests and tools that
/// compare clocks); `None` when it is not that form.
pub fn parse_o(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    if b.len() != 28 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[27] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, frac) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..27)?);
    // days_from_civil
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = i128::from(days) * 86_400 + i128::from(hh * 3600 + mm * 60 + ss);
    Some(secs * TICKS + i128::from(frac))
}

/// Ticks for a duration (convenience for tests).
pub fn ticks(d: Duration) -> i128 {
    (d.as_nanos() / 100) as i128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_dotnet_round_trip() {
        assert_eq!(format_o(0), "1970-01-01T00:00:00.0000000Z");
        // 2026-11-29T03:04:05.1234567Z
        let t = 1_795_921_445 * TICKS + 1_234_567;
        assert_eq!(format_o(t), "2026-11-29T03:04:05.1234567Z");
        assert_eq!(parse_o("2026-11-29T03:04:05.1234567Z"), Some(t));
        assert_eq!(format_o(-1), "1969-12-31T23:59:59.9999999Z");
        assert_eq!(format_o(i128::MAX), "9999-12-31T23:59:59.9999999Z");
        assert_eq!(format_o(i128::MIN), "0001-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn skew_moves_the_clock() {
        let now = parse_o(&host_now(0)).unwrap_or(0);
        let ahead = parse_o(&host_now(3600)).unwrap_or(0);
        let diff = ahead - now - 3600 * TICKS;
        assert!(diff.abs() < 5 * TICKS, "{diff}");
        assert!(ticks(Duration::from_secs(1)) == TICKS);
    }
}
