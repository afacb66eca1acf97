//! Named operating systems for scenarios, and the duration syntax
//! (`50ms`, `2s`, `5m`, `1h`, negative for clock skew).

use crate::lab::spec::OsInfo;
use std::time::Duration;

/// Preset names, for messages.
pub const PRESET_NAMES: &[&str] = &["win7", "win2008r2", "win10", "win11", "win2016", "win2019", "win2022"];

/// An OS preset by name (case-insensitive).
pub fn preset(name: &str) -> Option<OsInfo> {
    let (caption, build, ps) = match name.to_ascii_lowercase().as_str() {
        "win7" => ("Microsoft Windows 7 Professional", "7601", "2.0"),
        "win2008r2" => ("Microsoft Windows Server 2008 R2 Standard", "7601", "2.0"),
        "win10" => ("Microsoft Windows 10 Enterprise", "19045", "5.1.19041.1"),
        "win11" => ("Microsoft Windows 11 Enterprise", "22631", "5.1.22621.2506"),
        "win2016" => ("Microsoft Windows Server 2016 Standard", "14393", "5.1.14393.0"),
        "win2019" => ("Microsoft Windows Server 2019 Standard", "17763", "5.1.17763.1"),
        "win2022" => ("Microsoft Windows Server 2022 Standard", "20348", "5.1.20348.1"),
        _ => return None,
    };
    Some(OsInfo { caption: caption.into(), build: build.into(), ps_version: ps.into() })
}

/// WinRM's `MaxShellsPerUser` for an OS: 5 on WinRM 2.0 (the PowerShell
/// 2.0 generation), 30 since.
pub fn default_max_shells(os: &OsInfo) -> u32 {
    if os.ps_version.starts_with("2.") { 5 } else { 30 }
}

/// A duration in milliseconds from `50ms`, `2s`, `5m`, `1h` (and a leading
/// `-` when `signed`); a bare `0` is accepted.
pub fn parse_millis(text: &str, signed: bool) -> Result<i64, String> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) if signed => (true, b),
        Some(_) => return Err(format!("`{t}` is negative; a duration here is at least 0")),
        None => (false, t),
    };
    let digits_end = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
    let (num, unit) = body.split_at(digits_end);
    let n: i64 = num.parse().map_err(|_| format!("`{t}` is not a duration; write e.g. 50ms, 2s, 5m, 1h"))?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "" if n == 0 => 1,
        "" => return Err(format!("`{t}` has no unit; write e.g. {n}ms or {n}s")),
        _ => return Err(format!("`{t}` has an unknown unit `{unit}`; use ms, s, m or h")),
    };
    let ms = n.checked_mul(factor).filter(|ms| *ms <= 10 * 365 * 86_400_000).ok_or_else(|| format!("`{t}` is too long"))?;
    Ok(if neg { -ms } else { ms })
}

/// A non-negative duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_millis(text, false).map(|ms| Duration::from_millis(ms.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_shell_limits() {
        for name in PRESET_NAMES {
            assert!(preset(name).is_some(), "{name}");
        }
        let w7 = preset("Win7").unwrap_or_else(|| OsInfo { caption: String::new(), build: String::new(), ps_version: String::new() });
        assert_eq!((w7.build.as_str(), w7.ps_version.as_str(), default_max_shells(&w7)), ("7601", "2.0", 5));
        assert_eq!(preset("win10").map(|o| default_max_shells(&o)), Some(30));
        assert_eq!(preset("dos"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_millis("-300s", true), Ok(-300_000));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("99999999999999h").is_err());
    }
}
