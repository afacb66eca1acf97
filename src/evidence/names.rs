//! Names on the analyst's side, all derived from hostile data and so all
//! made safe here: ZIP entry names from Windows paths (`C:\Users\bob\a.dll`
//! → `C/Users/bob/a.dll`, never absolute, never `..`), folder and file
//! names from host names and run ids, and UTC time stamps. Pure.

use crate::transport::smb::RemotePath;
use std::time::{SystemTime, UNIX_EPOCH};

/// The ZIP entry of a checked path: drive letter, then the components,
/// `/`-separated. [`RemotePath`] has already refused `.`, `..`, empty
/// names, `:` and control characters, so this cannot escape the
/// extraction folder.
pub fn entry_name(path: &RemotePath) -> String {
    let mut name = path.drive().to_string();
    for c in path.components() {
        name.push('/');
        name.push_str(c);
    }
    name
}

/// A file or folder name made from `text`: letters, digits, `.`, `-` and
/// `_` kept, anything else `_`; never empty, `.` or `..`; at most 100
/// characters.
pub fn safe_file_name(text: &str) -> String {
    let mut s: String = text
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        s = format!("_{s}");
    }
    s
}

/// Seconds and nanoseconds since the Unix epoch, now.
pub fn now_unix() -> (i64, u32) {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => (0, 0),
    }
}

/// Civil (year, month, day, hour, minute, second) in UTC.
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (tod / 3600) as u32,
        (tod % 3600 / 60) as u32,
        (tod % 60) as u32,
    )
}

/// RFC 3339 UTC with milliseconds: `2026-11-29T03:04:05.123Z`.
pub fn rfc3339((secs, nanos): (i64, u32)) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        nanos / 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_mirror_the_windows_path() {
        let p = RemotePath::parse(r"c:\Users\bob\AppData\Local\Xyzabc\abc.dll").unwrap();
        assert_eq!(entry_name(&p), "C/Users/bob/AppData/Local/Xyzabc/abc.dll");
        let p = RemotePath::parse(r"\\?\D:\Пользователи\😀.exe").unwrap();
        assert_eq!(entry_name(&p), "D/Пользователи/😀.exe");
    }

    #[test]
    fn file_names_cannot_escape() {
        assert_eq!(safe_file_name("ws-01.corp.local"), "ws-01.corp.local");
        assert_eq!(safe_file_name("../../etc"), ".._.._etc");
        assert_eq!(safe_file_name(".."), "_..");
        assert_eq!(safe_file_name(""), "_");
        assert_eq!(safe_file_name("a/b\\c:d"), "a_b_c_d");
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(rfc3339((0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339((1_709_542_800, 123_456_789)),
            "2024-03-04T09:00:00.123Z"
        );
        assert_eq!(rfc3339((951_782_400, 0)), "2000-02-29T00:00:00.000Z");
    }
}
