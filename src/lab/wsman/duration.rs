//! `xs:duration` values as WS-Management uses them (`OperationTimeout`
//! `PT20S`, `IdleTimeOut` `PT7200.000S`, `P0DT0H0M0S`), parsed and printed.

use std::time::Duration;

/// Parse a non-negative `xs:duration` with days, hours, minutes and
/// (fractional) seconds. Years and months are refused (their length is not
/// fixed), as is a negative duration (`PT-1S`, `-PT1S`): Windows faults on
/// those. Values are capped at about 68 years, so nothing overflows.
pub fn parse(text: &str) -> Option<Duration> {
    let rest = text.trim().strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return None;
            }
            (date, Some(time))
        }
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }
    let mut millis: u64 = 0;
    for (value, unit) in fields(date)? {
        match unit {
            'D' => millis = millis.checked_add(whole(value)?.checked_mul(86_400_000)?)?,
            _ => return None,
        }
    }
    for (value, unit) in fields(time.unwrap_or(""))? {
        let add = match unit {
            'H' => whole(value)?.checked_mul(3_600_000)?,
            'M' => whole(value)?.checked_mul(60_000)?,
            'S' => seconds_as_millis(value)?,
            _ => return None,
        };
        millis = millis.checked_add(add)?;
    }
    (millis <= u64::from(u32::MAX) * 500).then(|| Duration::from_millis(millis))
}

/// Print a duration the way Windows prints `IdleTimeOut` (`PT7200.000S`).
pub fn format_seconds(d: Duration) -> String {
    format!("PT{}.{:03}S", d.as_secs(), d.subsec_millis())
}

/// Split `20H5M3.5S` into `[("20",'H'), ("5",'M'), ("3.5",'S')]`, units in
/// order and each at most once.
fn fields(text: &str) -> Option<Vec<(&str, char)>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            let value = &text[start..i];
            if value.is_empty() || out.iter().any(|&(_, u)| u == c) {
                return None;
            }
            out.push((value, c));
            start = i + 1;
        }
    }
    (start == text.len()).then_some(out)
}

fn whole(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn seconds_as_millis(value: &str) -> Option<u64> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let int = whole(int)?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ms = 0u64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += u64::from(b - b'0') * [100, 10, 1][i];
    }
    int.checked_mul(1000)?.checked_add(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_clients_send_parses() {
        assert_eq!(parse("PT20S"), Some(Duration::from_secs(20)));
        assert_eq!(parse("PT60.000S"), Some(Duration::from_secs(60)));
        assert_eq!(parse("PT0.5S"), Some(Duration::from_millis(500)));
        assert_eq!(parse("P0DT0H1M0S"), Some(Duration::from_secs(60)));
        assert_eq!(parse("P1D"), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn invalid_durations_are_refused() {
        for bad in [
            "", "P", "PT", "PT-1S", "-PT1S", "20", "PTS", "P1Y", "PT1S1S", "PT1.5M", "PT1X",
            "PT1S ",
        ] {
            // "PT1S " trims to a valid value; everything else is refused.
            if bad == "PT1S " {
                assert!(parse(bad).is_some());
            } else {
                assert_eq!(parse(bad), None, "{bad}");
            }
        }
        assert_eq!(parse("PT99999999999999999999S"), None);
    }

    #[test]
    fn idle_timeout_is_printed_like_windows() {
        assert_eq!(format_seconds(Duration::from_secs(7200)), "PT7200.000S");
    }
}
