//! The job-data test vectors (`tests/data/job-vectors.txt`, whose header
//! describes the format): read here once, for every reader of job data
//! that a test holds to them (the Rust reader in `tests/job_vectors.rs`;
//! `Read-CzJob` through the lab's PowerShell engine).
#![allow(dead_code)]

/// The vectors file.
pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/job-vectors.txt");

/// One item a job must read as: its kind and fields in order, each value
/// as UTF-16 code units (exact: unpaired surrogates included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: String,
    pub fields: Vec<(String, Vec<u16>)>,
}

/// What a reader must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Items(Vec<Item>),
    /// Refused, naming this line.
    Refused(usize),
}

#[derive(Debug, Clone)]
pub struct Vector {
    pub name: String,
    /// A real operation: decoded as one and encoded back to `job`.
    pub typed: bool,
    pub job: String,
    pub expect: Expect,
}

/// Every vector of the file; panics with the file's line on a malformed
/// one (the file is test data).
pub fn load() -> Vec<Vector> {
    let text = std::fs::read_to_string(PATH).expect("tests/data/job-vectors.txt");
    parse(&text)
}

fn parse(text: &str) -> Vec<Vector> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        i += 1;
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let head = l
            .strip_prefix("vector ")
            .unwrap_or_else(|| panic!("line {i}: expected `vector <name>`"));
        let (name, typed) = match head.strip_suffix(" typed") {
            Some(n) => (n, true),
            None => (head, false),
        };
        assert_eq!(lines[i], "job:", "line {}", i + 1);
        i += 1;
        let mut job = Vec::new();
        while lines[i] != "items:" && !lines[i].starts_with("refused at line ") {
            let l = lines[i];
            job.push(match l.strip_suffix("\\r") {
                Some(s) => format!("{s}\r"),
                None => l.to_string(),
            });
            i += 1;
        }
        let expect = if let Some(n) = lines[i].strip_prefix("refused at line ") {
            i += 1;
            Expect::Refused(n.parse().expect("line number"))
        } else {
            i += 1;
            let mut items: Vec<Item> = Vec::new();
            while lines[i] != "end" {
                let l = lines[i];
                if let Some(kind) = l.strip_prefix("op ") {
                    items.push(Item {
                        kind: kind.into(),
                        fields: Vec::new(),
                    });
                } else {
                    let rest = l
                        .strip_prefix("f ")
                        .unwrap_or_else(|| panic!("line {}: expected op or f", i + 1));
                    let (n, v) = rest.split_once(' ').expect("f <name> \"<value>\"");
                    let item = items.last_mut().expect("a field after an op");
                    item.fields.push((n.into(), unquote(v, i + 1)));
                }
                i += 1;
            }
            Expect::Items(items)
        };
        assert_eq!(lines[i], "end", "line {}", i + 1);
        i += 1;
        out.push(Vector {
            name: name.into(),
            typed,
            job: job.join("\n"),
            expect,
        });
    }
    out
}

/// A quoted value of the file as UTF-16 code units.
pub fn unquote(q: &str, line: usize) -> Vec<u16> {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("line {line}: value not quoted"));
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0u16; 2];
            out.extend_from_slice(c.encode_utf16(&mut b));
            continue;
        }
        match chars.next() {
            Some('\\') => out.push(u16::from(b'\\')),
            Some('"') => out.push(u16::from(b'"')),
            Some('n') => out.push(u16::from(b'\n')),
            Some('r') => out.push(u16::from(b'\r')),
            Some('t') => out.push(u16::from(b'\t')),
            Some('u') => {
                assert_eq!(chars.next(), Some('{'), "line {line}: \\u{{HEX}}");
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push(u16::from_str_radix(&hex, 16).expect("hex code unit"));
            }
            other => panic!("line {line}: unknown escape \\{other:?}"),
        }
    }
    out
}
