//! Reading single setting values (ports, durations, transport, auth,
//! certificate checks, proxies, addresses) with errors that say what was
//! expected. Pure.

use super::error::{suggest, ErrorKind, InventoryError, Position};
use super::model::{AuthKind, CertValidation, Scheme};
use super::raw::{CertValue, Loose};
use std::path::Path;
use std::time::Duration;

/// A TCP port, 1-65535.
pub fn port(v: &Loose, at: Position) -> Result<u16, InventoryError> {
    let n = match v {
        Loose::Int(i) => Some(*i),
        Loose::Str(s) => s.trim().parse::<i128>().ok(),
        Loose::Float(_) | Loose::Bool(_) => None,
    };
    match n.and_then(|n| u16::try_from(n).ok()).filter(|n| *n != 0) {
        Some(p) => Ok(p),
        None => Err(InventoryError::at(
            ErrorKind::BadPort,
            at,
            format!("bad port `{v}`: expected a whole number from 1 to 65535"),
            "WinRM listens on 5985 (http) or 5986 (https); omit `port` to use the default for the transport",
        )),
    }
}

/// A duration: `500ms`, `10s`, `2m`, `1h`, or a plain number of seconds.
/// Must be more than zero.
pub fn duration(v: &Loose, key: &str, at: Position) -> Result<Duration, InventoryError> {
    let parsed = match v {
        Loose::Int(i) => u64::try_from(*i).map(Duration::from_secs).map_err(|_| "it is negative".to_string()),
        Loose::Str(s) => parse_duration(s),
        Loose::Float(_) => Err("fractions are not accepted; use milliseconds (`1500ms`)".to_string()),
        Loose::Bool(_) => Err("it is a boolean".to_string()),
    };
    match parsed {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(bad_duration(v, key, at, "it must be more than zero")),
        Err(why) => Err(bad_duration(v, key, at, &why)),
    }
}

fn bad_duration(v: &Loose, key: &str, at: Position, why: &str) -> InventoryError {
    InventoryError::at(
        ErrorKind::BadDuration,
        at,
        format!("bad duration `{v}` for `{key}` ({why}): expected a number followed by ms, s, m or h, or a plain number of seconds"),
        "write for example `500ms`, `10s`, `2m`, `1h` or `30`",
    )
}

/// `<digits><unit>` with unit ms, s, m or h; or digits alone (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err("it does not start with a number".into());
    }
    let n: u64 = digits.parse().map_err(|_| "the number is too large".to_string())?;
    let ms_per = match unit.trim() {
        "" | "s" => 1_000,
        "ms" => 1,
        "m" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown unit `{other}`")),
    };
    n.checked_mul(ms_per).map(Duration::from_millis).ok_or_else(|| "the number is too large".to_string())
}

/// A duration the way the inventory writes it (`500ms`, `10s`, `2m`, `1h`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

/// `transport:` value.
pub fn scheme(v: &str, at: Position) -> Result<Scheme, InventoryError> {
    match v {
        "http" => Ok(Scheme::Http),
        "https" => Ok(Scheme::Https),
        other => Err(unknown_word("transport", other, &["http", "https"], at)),
    }
}

/// `auth:` value.
pub fn auth(v: &str, at: Position) -> Result<AuthKind, InventoryError> {
    match v {
        "ntlm" => Ok(AuthKind::Ntlm),
        "kerberos" => Ok(AuthKind::Kerberos),
        "basic" => Ok(AuthKind::Basic),
        other => Err(unknown_word("auth", other, &["ntlm", "kerberos", "basic"], at)),
    }
}

fn unknown_word(key: &str, v: &str, valid: &[&str], at: Position) -> InventoryError {
    let help = match suggest(v, valid.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? (values are lowercase)"),
        None => format!("write one of: {}", valid.join(", ")),
    };
    InventoryError::at(
        ErrorKind::BadValue,
        at,
        format!("unknown {key} `{v}`: expected one of {}", valid.join(", ")),
        help,
    )
}

/// `cert_validation:` value; a relative `ca_file` is taken from the
/// inventory's directory.
pub fn cert(v: &CertValue, base_dir: &Path, at: Position) -> Result<CertValidation, InventoryError> {
    match v {
        CertValue::Word(w) if w == "verify" => Ok(CertValidation::Verify),
        CertValue::Word(w) if w == "ignore" => Ok(CertValidation::Ignore),
        CertValue::CaFile(p) if !p.trim().is_empty() => Ok(CertValidation::CaFile(base_dir.join(p))),
        CertValue::CaFile(_) => Err(InventoryError::at(
            ErrorKind::BadValue,
            at,
            "empty `ca_file`: expected the path of a PEM file with the CA certificates",
            "write `cert_validation: {ca_file: certs/corp-ca.pem}` (relative to the inventory)",
        )),
        CertValue::Word(w) => Err(InventoryError::at(
            ErrorKind::BadValue,
            at,
            format!("unknown cert_validation `{w}`: expected `verify`, `ignore` or `{{ca_file: PATH}}`"),
            "`verify` checks against the system roots; `{ca_file: corp-ca.pem}` against your CA; `ignore` turns checking off",
        )),
    }
}

/// `proxy:` value: `socks5://host:port` or `socks5h://host:port`. A user or
/// password in it is refused: the inventory holds no secret in clear, and
/// the value is printed (`cauterize inventory`, errors); the proxy's logon
/// is a `proxy_credential:`, whose password comes by reference.
pub fn proxy(v: &str, at: Position) -> Result<String, InventoryError> {
    let rest = v.strip_prefix("socks5://").or_else(|| v.strip_prefix("socks5h://"));
    if let Some(r) = rest
        && r.contains('@')
    {
        let scheme = if v.starts_with("socks5h") { "socks5h" } else { "socks5" };
        let host = r.rsplit_once('@').map_or("", |(_, h)| h);
        // The value itself is never repeated: it holds a secret.
        return Err(InventoryError::at(
            ErrorKind::BadValue,
            at,
            "`proxy:` holds a user or password (`user:password@`); a secret is never written in the inventory".to_string(),
            format!(
                "write `proxy: {scheme}://{host}` and `proxy_credential: NAME`, naming an entry of `credentials:` whose password comes from env, file, command or prompt"
            ),
        ));
    }
    let ok = rest.is_some_and(|r| {
        r.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0) && !r.contains('/')
        })
    });
    if ok {
        Ok(v.to_string())
    } else {
        Err(InventoryError::at(
            ErrorKind::BadValue,
            at,
            format!("bad proxy `{v}`: expected `socks5://HOST:PORT` or `socks5h://HOST:PORT`"),
            "for example `socks5://127.0.0.1:1080` (an `ssh -D 1080` tunnel); socks5h resolves names on the proxy",
        ))
    }
}

/// `address:` value: an IP address or a DNS name.
pub fn address(v: &str, at: Position) -> Result<String, InventoryError> {
    let v = v.trim();
    let bad = v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '/' || c == ',');
    if bad {
        return Err(InventoryError::at(
            ErrorKind::BadValue,
            at,
            format!("bad address `{v}`: expected an IP address or a DNS name"),
            "write only the address (`10.0.0.5`, `fe80::1`, `dc01.corp.example`); the port goes in `port:`",
        ));
    }
    Ok(v.trim_start_matches('[').trim_end_matches(']').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Position {
        Position::new(1, 1)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("10 sec").is_err());
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
        assert_eq!(duration(&Loose::Int(5), "connect_timeout", p()), Ok(Duration::from_secs(5)));
        let e = duration(&Loose::Str("0s".into()), "connect_timeout", p()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadDuration);
        assert!(e.message.contains("more than zero"));
        let e = duration(&Loose::Float(1.5), "command_timeout", p()).unwrap_err();
        assert!(e.message.contains("fractions"));
    }

    #[test]
    fn ports() {
        assert_eq!(port(&Loose::Int(5986), p()), Ok(5986));
        assert_eq!(port(&Loose::Str("5985".into()), p()), Ok(5985));
        for bad in [Loose::Int(0), Loose::Int(70000), Loose::Int(-1), Loose::Str("http".into()), Loose::Bool(true)] {
            let e = port(&bad, p()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadPort);
            assert!(e.message.contains("expected a whole number from 1 to 65535"));
        }
    }

    #[test]
    fn words() {
        assert_eq!(scheme("https", p()), Ok(Scheme::Https));
        let e = scheme("htps", p()).unwrap_err();
        assert!(e.message.contains("unknown transport `htps`: expected one of http, https"));
        assert!(e.help.contains("did you mean `https`"), "{}", e.help);
        assert_eq!(auth("kerberos", p()), Ok(AuthKind::Kerberos));
        let e = auth("negotiate", p()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadValue);
        assert!(e.message.contains("expected one of ntlm, kerberos, basic"));
    }

    #[test]
    fn certs_proxies_addresses() {
        let d = Path::new("/inv");
        assert_eq!(cert(&CertValue::Word("verify".into()), d, p()), Ok(CertValidation::Verify));
        assert_eq!(
            cert(&CertValue::CaFile("ca.pem".into()), d, p()),
            Ok(CertValidation::CaFile("/inv/ca.pem".into()))
        );
        assert!(cert(&CertValue::Word("off".into()), d, p()).is_err());
        assert!(proxy("socks5://127.0.0.1:1080", p()).is_ok());
        assert!(proxy("socks5h://jump:1080", p()).is_ok());
        assert!(proxy("http://proxy:3128", p()).is_err());
        assert!(proxy("socks5://host", p()).is_err());
        // Issue 7 item 16: a password in the URL is refused, and never
        // repeated in the error.
        let e = proxy("socks5://jump:S3cret!@jump.corp:1080", p()).unwrap_err().to_string();
        assert!(!e.contains("S3cret"), "{e}");
        assert!(e.contains("proxy_credential") && e.contains("socks5://jump.corp:1080"), "{e}");
        assert!(proxy("socks5h://jump@jump.corp:1080", p()).is_err());
        assert_eq!(address("10.0.0.5", p()), Ok("10.0.0.5".into()));
        assert_eq!(address("[fe80::1]", p()), Ok("fe80::1".into()));
        assert!(address("10.0.0.5:5985/wsman", p()).is_err());
    }
}
