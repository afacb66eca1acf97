//! Values in the PowerShell emulator and how PowerShell's default output
//! formatting prints them.

/// A value the emulator can produce.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    /// `$PSVersionTable.PSVersion` (a `System.Version`, or a
    /// `SemanticVersion` on PowerShell 7), from its text.
    Version(String),
    /// `$PSVersionTable` itself.
    VersionTable,
    /// `[Console]::Out` (false) or `[Console]::Error` (true).
    Writer { stderr: bool },
    Array(Vec<Value>),
}

impl Value {
    /// `[string]$value`: what `-join`, string expansion and `Write-Host`
    /// make of it.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => format_double(*d),
            Value::Str(s) => s.clone(),
            Value::Version(v) => v.clone(),
            Value::VersionTable => "System.Collections.Hashtable".to_string(),
            Value::Writer { .. } => "System.IO.TextWriter".to_string(),
            Value::Array(items) => items.iter().map(Value::to_text).collect::<Vec<_>>().join(" "),
        }
    }

    /// Flatten arrays into the pipeline's stream of objects.
    pub fn flatten_into(self, out: &mut Vec<Value>) {
        match self {
            Value::Array(items) => items.into_iter().for_each(|v| v.flatten_into(out)),
            v => out.push(v),
        }
    }
}

/// A double as PowerShell prints it (`1.5`, `1`, `-0.25`).
fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".to_string()
    } else if d.is_infinite() {
        if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{d}")
    }
}

/// The numeric parts of a version text, `-1` for missing ones (as
/// `System.Version` reports `2.0`).
pub fn version_parts(text: &str) -> [i64; 4] {
    let mut parts = [-1i64; 4];
    for (slot, piece) in parts.iter_mut().zip(text.split(['.', '-', '+'])) {
        if let Ok(n) = piece.parse::<i64>() {
            *slot = n;
        }
    }
    parts
}

/// A member of a version: `Major`, `Minor`, `Build`/`Patch`, `Revision`.
pub fn version_member(text: &str, member: &str) -> Option<Value> {
    let parts = version_parts(text);
    let idx = match member.to_ascii_lowercase().as_str() {
        "major" => 0,
        "minor" => 1,
        "build" | "patch" => 2,
        "revision" => 3,
        _ => return None,
    };
    Some(Value::Int(parts[idx]))
}

/// Pad a table row's cells to PowerShell's column widths (each column one
/// wider than its widest cell, plus the separating space); the last cell is
/// not padded.
fn table_row(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i + 1 == cells.len() {
            line.push_str(cell);
        } else {
            let w = widths.get(i).copied().unwrap_or(0);
            line.push_str(&format!("{cell:<w$} "));
        }
    }
    line.trim_end().to_string()
}

/// Lines of the table that `Out-Default` prints for versions.
fn version_table(versions: &[&str]) -> Vec<String> {
    let semantic = versions.iter().any(|v| v.split('.').count() == 3 && !v.starts_with("2.") && !v.starts_with("3.") && !v.starts_with("4.") && !v.starts_with("5."));
    let headers: Vec<String> = if semantic {
        ["Major", "Minor", "Patch", "PreReleaseLabel", "BuildLabel"].iter().map(|s| s.to_string()).collect()
    } else {
        ["Major", "Minor", "Build", "Revision"].iter().map(|s| s.to_string()).collect()
    };
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            let p = version_parts(v);
            if semantic {
                vec![p[0].to_string(), p[1].to_string(), p[2].max(0).to_string(), String::new(), String::new()]
            } else {
                p.iter().map(|n| n.to_string()).collect()
            }
        })
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([headers[i].len()]).max().unwrap_or(0).max(6))
        .collect();
    let dashes: Vec<String> = headers.iter().map(|h| "-".repeat(h.len())).collect();
    let mut lines = vec![String::new(), table_row(&headers, &widths), table_row(&dashes, &widths)];
    lines.extend(rows.iter().map(|r| table_row(r, &widths)));
    lines.push(String::new());
    lines.push(String::new());
    lines
}

/// Format a statement's output objects as `Out-Default` prints them, each
/// line ended by `\r\n`.
pub fn format_output(values: Vec<Value>) -> String {
    let mut flat = Vec::new();
    for v in values {
        v.flatten_into(&mut flat);
    }
    let mut out = String::new();
    let mut i = 0;
    while i < flat.len() {
        if let Value::Version(_) = &flat[i] {
            let mut versions = Vec::new();
            while let Some(Value::Version(v)) = flat.get(i) {
                versions.push(v.as_str());
                i += 1;
            }
            for line in version_table(&versions) {
                out.push_str(&line);
                out.push_str("\r\n");
            }
            continue;
        }
        match &flat[i] {
            Value::Null => {}
            v => {
                out.push_str(&v.to_text());
                out.push_str("\r\n");
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_table_looks_like_powershell_5() {
        assert_eq!(
            format_output(vec![Value::Version("5.1.19041.1".into())]),
            "\r\nMajor  Minor  Build  Revision\r\n-----  -----  -----  --------\r\n5      1      19041  1\r\n\r\n\r\n"
        );
    }

    #[test]
    fn version_2_has_minus_one_parts() {
        assert_eq!(version_parts("2.0"), [2, 0, -1, -1]);
        assert_eq!(version_member("2.0", "Major"), Some(Value::Int(2)));
        assert!(format_output(vec![Value::Version("2.0".into())]).contains("2      0      -1     -1\r\n"));
    }

    #[test]
    fn scalars_print_one_a_line_and_null_prints_nothing() {
        let out = format_output(vec![
            Value::Str("a".into()),
            Value::Null,
            Value::Array(vec![Value::Int(1), Value::Bool(true)]),
            Value::Double(1.5),
        ]);
        assert_eq!(out, "a\r\n1\r\nTrue\r\n1.5\r\n");
    }
}
