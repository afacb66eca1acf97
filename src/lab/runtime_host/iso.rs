//! Lab times as .NET prints a UTC `DateTime` with `ToString('o')`:
//! `2024-03-04T09:00:00.0000000Z`.

use crate::lab::powershell::dates;
use crate::lab::world::LabTime;
use crate::lab::world::time::TICKS_PER_SEC;

/// FILETIME ticks of 1970-01-01.
const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;

/// Days since 1970-01-01 to (year, month, day).
fn civil(days: i64) -> (i64, u32, u32) {
    dates::civil(days + dates::EPOCH_DAYS)
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
