//! Registry values a command reads, from its code (a decoded
//! `-EncodedCommand`, `-Command` text, a cmd line): PowerShell's
//! `Get-ItemProperty`/`gp` with `.name` or `-Name`, `Get-ItemPropertyValue`,
//! `(Get-Item ...).GetValue('name')`, `[Microsoft.Win32.Registry]` opened
//! keys with `GetValue`, and `reg query <key> /v <name>`. A loader keeps
//! its next stage in such a value and starts it from a task or Run value
//! that decodes and runs what it reads (DFIR Report Qbot cases; Sigma
//! "Potential Qakbot Registry Activity" for a campaign's own key).

/// One value a command reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegRef {
    /// `HKCU` (the hive of the account the command runs as) or `HKLM`.
    pub hive: &'static str,
    /// The key below the hive, as written.
    pub key: String,
    /// The value name (`""` for the unnamed one).
    pub value: String,
}

/// Registry path prefixes and the hive they name.
const PREFIXES: &[(&str, &str)] = &[
    ("registry::hkey_current_user\\", "HKCU"),
    ("registry::hkey_local_machine\\", "HKLM"),
    ("registry::hkcu\\", "HKCU"),
    ("registry::hklm\\", "HKLM"),
    ("hkey_current_user\\", "HKCU"),
    ("hkey_local_machine\\", "HKLM"),
    ("hkcu:\\", "HKCU"),
    ("hklm:\\", "HKLM"),
    ("hkcu\\", "HKCU"),
    ("hklm\\", "HKLM"),
];

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '$'
}

/// A quoted or bare token at the start of `s` (after blanks).
fn token(s: &str) -> Option<String> {
    let s = s.trim_start();
    let mut chars = s.chars();
    let q = chars.next()?;
    if q == '\'' || q == '"' {
        let end = s[1..].find(q)?;
        return Some(s[1..1 + end].to_string());
    }
    let t: String = s.chars().take_while(|c| is_name_char(*c)).collect();
    (!t.is_empty()).then_some(t)
}

/// The value name read after a key path, within the same statement.
fn value_after(rest: &str) -> Option<String> {
    let stmt_end = rest.find([';', '\n', '|']).unwrap_or(rest.len()).min(400);
    let stmt = &rest[..stmt_end];
    let lower = stmt.to_ascii_lowercase();
    // (gp 'HKCU:\...').name  /  ('...').'name'
    let trimmed = stmt.trim_start_matches(['\'', '"']).trim_start();
    if let Some(after) = trimmed.strip_prefix(')').map(str::trim_start)
        && let Some(a) = after.strip_prefix('.')
        && let Some(t) = token(a)
        && !t.eq_ignore_ascii_case("GetValue")
    {
        return Some(t);
    }
    for marker in ["getvalue(", "-name ", "-n ", "/v "] {
        if let Some(i) = lower.find(marker) {
            return token(&stmt[i + marker.len()..]);
        }
    }
    None
}

/// Every registry value `code` reads.
pub fn references(code: &str) -> Vec<RegRef> {
    let lower = code.to_ascii_lowercase();
    let mut out: Vec<RegRef> = Vec::new();
    let mut from = 0;
    while from < lower.len() {
        let hit = PREFIXES
            .iter()
            .filter_map(|(p, h)| lower[from..].find(p).map(|i| (from + i, p.len(), *h)))
            .min_by_key(|(i, len, _)| (*i, usize::MAX - len));
        let Some((at, plen, hive)) = hit else { break };
        from = at + plen;
        // The path ends at the quote that opened it, else at a blank or
        // a closing parenthesis.
        let quote = code[..at]
            .chars()
            .last()
            .filter(|c| *c == '\'' || *c == '"');
        let body = &code[at + plen..];
        let end = match quote {
            Some(q) => body.find(q).unwrap_or(body.len()),
            None => body
                .find(|c: char| c.is_whitespace() || c == ')' || c == ';' || c == '\'' || c == '"')
                .unwrap_or(body.len()),
        };
        let key = body[..end].trim_end_matches('\\').to_string();
        if key.is_empty() {
            continue;
        }
        let rest = &body[end..];
        let Some(value) = value_after(rest) else {
            continue;
        };
        let r = RegRef { hive, key, value };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Does `code` run what it reads (decode and execute)?
pub fn runs_what_it_reads(code: &str) -> bool {
    let l = code.to_ascii_lowercase();
    l.contains("iex")
        || l.contains("invoke-expression")
        || l.contains("scriptblock]::create")
        || l.contains(".invoke(")
        || l.contains("frombase64string")
        || l.contains("assembly]::load")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_and_reg_forms() {
        let r = references(
            "IEX ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String((gp 'HKCU:\\SOFTWARE\\Wow6432Node\\Qxvbnt').rfklgq)))",
        );
        assert_eq!(
            r,
            vec![RegRef {
                hive: "HKCU",
                key: r"SOFTWARE\Wow6432Node\Qxvbnt".into(),
                value: "rfklgq".into()
            }]
        );
        let r = references(
            r#"$x = Get-ItemPropertyValue -Path "HKCU:\Software\Zmxkq" -Name 'data'; iex $x"#,
        );
        assert_eq!(
            (r[0].key.as_str(), r[0].value.as_str()),
            (r"Software\Zmxkq", "data")
        );
        let r =
            references(r#"(Get-Item 'Registry::HKEY_CURRENT_USER\Software\Abc').GetValue('run')"#);
        assert_eq!((r[0].hive, r[0].value.as_str()), ("HKCU", "run"));
        let r = references(r"reg query HKLM\SOFTWARE\Kpqz /v cfg");
        assert_eq!(
            (r[0].hive, r[0].key.as_str(), r[0].value.as_str()),
            ("HKLM", r"SOFTWARE\Kpqz", "cfg")
        );
        // A key named without a value read is not a value reference.
        assert!(references(r"Remove-Item HKCU:\Software\Old").is_empty());
        assert!(runs_what_it_reads("iex (gp x).y") && !runs_what_it_reads("Write-Host hi"));
    }
}
