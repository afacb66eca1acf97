//! The preflight probe that `cauterize check` runs on each host, and the
//! strict parser of what it prints.
//!
//! The probe prints one fact a line, `CZPROBE <name> <base64 of UTF-8>`, so
//! non-ASCII values (a Cyrillic account name) survive any code page, and a
//! hostile value cannot forge a line of its own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;

/// The probe script, embedded in the binary. Its first line is the marker
/// by which the lab recognises it.
pub const PROBE: &str = include_str!("probe.ps1");

/// First line of [`PROBE`].
pub const PROBE_MARKER: &str = "# cauterize-probe v1";

/// Longest probe output accepted, in bytes: a real probe prints well under
/// 2 KiB.
pub const MAX_PROBE_OUTPUT: usize = 64 * 1024;

/// Facts a probe reports about one host.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ProbeFacts {
    pub hostname: String,
    pub user: String,
    pub is_admin: bool,
    pub os_caption: String,
    pub os_build: String,
    pub ps_version: String,
    /// The host's clock (UTC, ISO 8601 round-trip form) when the probe ran.
    pub utc_now: String,
    /// WinRM `MaxShellsPerUser`; `None` when the host would not tell.
    pub max_shells_per_user: Option<u32>,
}

/// Why probe output was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("probe output is {0} bytes, more than the {MAX_PROBE_OUTPUT} accepted")]
    TooLarge(usize),
    #[error("probe output line {line}: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("probe output lacks the fact '{0}'")]
    Missing(&'static str),
}

/// Render facts the way the PowerShell probe prints them (used by the lab,
/// which answers the probe from its host model).
pub fn render(facts: &ProbeFacts) -> String {
    let mut out = String::new();
    let mut put = |name: &str, value: &str| {
        out.push_str("CZPROBE ");
        out.push_str(name);
        out.push(' ');
        out.push_str(&STANDARD.encode(value.as_bytes()));
        out.push_str("\r\n");
    };
    put("utc_now", &facts.utc_now);
    put("hostname", &facts.hostname);
    put("user", &facts.user);
    put("is_admin", if facts.is_admin { "True" } else { "False" });
    put("os_caption", &facts.os_caption);
    put("os_build", &facts.os_build);
    put("ps_version", &facts.ps_version);
    let shells = facts.max_shells_per_user.map(|n| n.to_string()).unwrap_or_default();
    put("max_shells_per_user", &shells);
    out
}

/// Parse probe output strictly: every non-empty line must be a fact line;
/// unknown names are ignored (a newer probe), duplicates refused.
pub fn parse(stdout: &str) -> Result<ProbeFacts, ProbeError> {
    if stdout.len() > MAX_PROBE_OUTPUT {
        return Err(ProbeError::TooLarge(stdout.len()));
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (idx, raw) in stdout.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: &str| ProbeError::BadLine { line: idx + 1, reason: reason.to_string() };
        let mut parts = line.splitn(3, ' ');
        if parts.next() != Some("CZPROBE") {
            return Err(bad("not a CZPROBE fact line"));
        }
        let name = parts.next().filter(|n| !n.is_empty()).ok_or_else(|| bad("no fact name"))?;
        let value = parts.next().unwrap_or("");
        let bytes = STANDARD.decode(value).map_err(|_| bad("value is not base64"))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("value is not UTF-8"))?;
        if seen.insert(name.to_string(), text).is_some() {
            return Err(bad("fact given twice"));
        }
    }
    let mut take = |name: &'static str| seen.remove(name).ok_or(ProbeError::Missing(name));
    let is_admin = take("is_admin")?;
    let shells = take("max_shells_per_user")?;
    Ok(ProbeFacts {
        hostname: take("hostname")?,
        user: take("user")?,
        is_admin: is_admin.eq_ignore_ascii_case("true"),
        os_caption: take("os_caption")?,
        os_build: take("os_build")?,
        ps_version: take("ps_version")?,
        utc_now: take("utc_now")?,
        max_shells_per_user: shells.trim().parse().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProbeFacts {
        ProbeFacts {
            hostname: "WS-001".into(),
            user: "CORP\\Пётр".into(),
            is_admin: true,
            os_caption: "Microsoft Windows 7 Professional".into(),
            os_build: "7601".into(),
            ps_version: "2.0".into(),
            utc_now: "2026-11-29T03:00:00.0000000Z".into(),
            max_shells_per_user: Some(5),
        }
    }

    #[test]
    fn render_then_parse_round_trips() {
        assert_eq!(parse(&render(&sample())), Ok(sample()));
    }

    #[test]
    fn probe_script_starts_with_marker() {
        assert!(PROBE.starts_with(PROBE_MARKER));
    }

    #[test]
    fn stray_line_and_duplicates_are_refused() {
        let mut text = render(&sample());
        text.push_str("hello\r\n");
        assert!(matches!(parse(&text), Err(ProbeError::BadLine { .. })));
        let twice = format!("{}{}", render(&sample()), render(&sample()));
        assert!(matches!(parse(&twice), Err(ProbeError::BadLine { .. })));
    }

    #[test]
    fn missing_fact_is_named() {
        let text: String = render(&sample()).lines().filter(|l| !l.contains(" hostname ")).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse(&text), Err(ProbeError::Missing("hostname")));
    }
}
