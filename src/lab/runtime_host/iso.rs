//! Lab times as .NET prints a UTC `DateTime` with `ToString('o')`:
//! `2024-03-04T09:00:00.0000000Z`.

use crate::lab::world::LabTime;
use crate::lab::world::time::TICKS_PER_SEC;

/// FILETIME ticks of 1970-01-01.
const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's
/// civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
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

/// The round-trip (`o`) form of a lab time, UTC.
pub fn iso(t: LabTime) -> String {
    let ticks = t.0 as i128 - UNIX_EPOCH_TICKS as i128;
    let per = TICKS_PER_SEC as i128;
    let secs = ticks.div_euclid(per) as i64;
    let frac = ticks.rem_euclid(per) as u64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_dotnet() {
        assert_eq!(iso(LabTime::EPOCH), "2024-03-04T09:00:00.0000000Z");
        assert_eq!(
            iso(LabTime::from_unix_secs(0)),
            "1970-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            iso(LabTime(UNIX_EPOCH_TICKS + 951_782_400 * TICKS_PER_SEC + 5)),
            "2000-02-29T00:00:00.0000005Z"
        );
    }
}
