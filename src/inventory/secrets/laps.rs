//! LAPS exports: a CSV with a header, one row per computer. The host column
//! is any of `ComputerName`, `hostname`, `name`, `DNSHostName` (all that
//! are present are used); the password column is `Password` or
//! `ms-Mcs-AdmPwd`; both found without regard to case. A PowerShell
//! `#TYPE` first line and a UTF-8 BOM are skipped. Pure (parsing bytes and
//! looking names up).

use std::collections::HashMap;
use zeroize::Zeroizing;

pub const HOST_COLUMNS: &[&str] = &["computername", "hostname", "name", "dnshostname"];
pub const PASSWORD_COLUMNS: &[&str] = &["password", "ms-mcs-admpwd"];

/// Why an export cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A required column is missing: what, and the columns that exist.
    Column { what: &'static str, found: Vec<String> },
    /// The CSV is malformed at this line.
    Malformed { line: u64 },
}

#[derive(Clone)]
enum Entry {
    Password(Zeroizing<String>),
    Ambiguous,
}

/// The result of looking a host up.
pub enum Lookup {
    Found(Zeroizing<String>),
    Missing,
    Ambiguous,
    Empty,
}

/// Passwords by lowercase computer name (exact, and short name of FQDNs).
pub struct Table {
    exact: HashMap<String, Entry>,
    short: HashMap<String, Entry>,
}

impl Table {
    /// Parse an export.
    pub fn parse(bytes: &[u8]) -> Result<Table, ParseError> {
        let mut bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.starts_with(b"#TYPE") {
            bytes = bytes.iter().position(|b| *b == b'\n').map_or(&[][..], |i| &bytes[i + 1..]);
        }
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(bytes);
        let headers: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect(),
            Err(e) => return Err(ParseError::Malformed { line: line_of(&e) }),
        };
        let lower: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
        let host_cols: Vec<usize> =
            (0..lower.len()).filter(|&i| HOST_COLUMNS.contains(&lower[i].as_str())).collect();
        if host_cols.is_empty() {
            return Err(ParseError::Column { what: "host", found: headers });
        }
        let Some(pw_col) = PASSWORD_COLUMNS.iter().find_map(|p| lower.iter().position(|h| h == p)) else {
            return Err(ParseError::Column { what: "password", found: headers });
        };
        let mut t = Table { exact: HashMap::new(), short: HashMap::new() };
        for rec in rdr.records() {
            let rec = rec.map_err(|e| ParseError::Malformed { line: line_of(&e) })?;
            let password = Zeroizing::new(rec.get(pw_col).unwrap_or("").to_string());
            for &c in &host_cols {
                let name = rec.get(c).unwrap_or("").to_lowercase();
                if name.is_empty() {
                    continue;
                }
                if let Some((short, _)) = name.split_once('.') {
                    add(&mut t.short, short.to_string(), &password);
                }
                add(&mut t.exact, name, &password);
            }
        }
        Ok(t)
    }

    /// The password of the host with inventory name `name` and `address`:
    /// by name, by address, by the name's short form (before the first
    /// dot), then by the short form of the export's FQDNs.
    pub fn lookup(&self, name: &str, address: &str) -> Lookup {
        let name = name.to_lowercase();
        let short = name.split('.').next().unwrap_or(&name).to_string();
        let tries = [
            self.exact.get(&name),
            self.exact.get(&address.to_lowercase()),
            self.exact.get(&short),
            self.short.get(&name),
        ];
        match tries.into_iter().flatten().next() {
            None => Lookup::Missing,
            Some(Entry::Ambiguous) => Lookup::Ambiguous,
            Some(Entry::Password(p)) if p.is_empty() => Lookup::Empty,
            Some(Entry::Password(p)) => Lookup::Found(p.clone()),
        }
    }
}

fn add(map: &mut HashMap<String, Entry>, key: String, password: &Zeroizing<String>) {
    match map.get(&key) {
        None => {
            map.insert(key, Entry::Password(password.clone()));
        }
        Some(Entry::Password(p)) if p.as_str() != password.as_str() => {
            map.insert(key, Entry::Ambiguous);
        }
        Some(_) => {}
    }
}

fn line_of(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(l: Lookup) -> Option<String> {
        match l {
            Lookup::Found(p) => Some(p.to_string()),
            _ => None,
        }
    }

    #[test]
    fn ad_export_with_type_line_and_bom() {
        let csv = "\u{feff}#TYPE Selected.Microsoft.ActiveDirectory.Management.ADComputer\n\
                   \"Name\",\"ms-Mcs-AdmPwd\"\n\"WS-001\",\"p1\"\n\"WS-002\",\"p2\"\n";
        let t = Table::parse(csv.as_bytes()).unwrap();
        assert_eq!(found(t.lookup("ws-001", "10.0.0.1")).as_deref(), Some("p1"));
        assert_eq!(found(t.lookup("ws-002.corp.example", "10.0.0.2")).as_deref(), Some("p2"));
        assert!(matches!(t.lookup("ws-003", "10.0.0.3"), Lookup::Missing));
    }

    #[test]
    fn windows_laps_columns_and_address_match() {
        let csv = "ComputerName,Account,Password\nws-001.corp.example,Administrator,p1\n10.0.0.9,Administrator,p9\n";
        let t = Table::parse(csv.as_bytes()).unwrap();
        assert_eq!(found(t.lookup("WS-001", "x")).as_deref(), Some("p1"));
        assert_eq!(found(t.lookup("kiosk", "10.0.0.9")).as_deref(), Some("p9"));
    }

    #[test]
    fn ambiguous_and_empty_rows() {
        let csv = "hostname,password\nws-1.a.example,p1\nws-1.b.example,p2\nws-2,\n";
        let t = Table::parse(csv.as_bytes()).unwrap();
        assert!(matches!(t.lookup("ws-1", ""), Lookup::Ambiguous));
        assert_eq!(found(t.lookup("ws-1.a.example", "")).as_deref(), Some("p1"));
        assert!(matches!(t.lookup("ws-2", ""), Lookup::Empty));
    }

    #[test]
    fn missing_columns_are_named() {
        let e = Table::parse(b"Computer,Secret\na,b\n").err().unwrap();
        assert_eq!(e, ParseError::Column { what: "host", found: vec!["Computer".into(), "Secret".into()] });
        let e = Table::parse(b"Name,Secret\na,b\n").err().unwrap();
        assert!(matches!(e, ParseError::Column { what: "password", .. }));
    }
}
