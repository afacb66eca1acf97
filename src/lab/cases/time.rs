//! Times in the case file (`2022-03-07T10:00:00.2Z`, UTC) as lab time, to
//! the FILETIME tick: a timestomped file keeps the exact time its case
//! gives.

use crate::lab::world::LabTime;

/// `YYYY-MM-DDTHH:MM:SS[.fraction][Z]` (UTC) as lab time.
pub fn parse_time(s: &str) -> Result<LabTime, String> {
    let bad = || format!("time {s}");
    let s2 = s.trim().trim_end_matches('Z');
    let (date, time) = s2.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || t.len() != 3 || frac.len() > 7 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // Howard Hinnant's days_from_civil.
    let (y, m, day) = (if d[1] <= 2 { d[0] - 1 } else { d[0] }, d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    let ticks: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<7}").parse().map_err(|_| bad())?
    };
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    Ok(LabTime(LabTime::from_unix_secs(secs).0 + ticks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::powershell::dates;
    use crate::lab::powershell::dotnet::time::FILETIME_EPOCH;
    use crate::lab::powershell::value::{DateKind, DateTime};
    use crate::lab::world::LabTime;

    /// A lab time as .NET prints a UTC DateTime with `ToString('o')`.
    fn iso(t: LabTime) -> String {
        dates::format(DateTime { ticks: t.0 as i64 + FILETIME_EPOCH, kind: DateKind::Utc }, "o")
    }

    #[test]
    fn times_parse_to_the_tick() {
        assert_eq!(
            iso(parse_time("2022-03-07T10:00:00.2Z").unwrap()),
            "2022-03-07T10:00:00.2000000Z"
        );
        assert_eq!(
            iso(parse_time("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29T23:59:59.0000000Z"
        );
        assert_eq!(parse_time("2024-03-04T09:00:00").unwrap(), LabTime::EPOCH);
        assert!(parse_time("yesterday").is_err());
    }
}
