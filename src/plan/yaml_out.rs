//! Writing YAML that a person reviews and a parser reads back exactly.
//! Every string in a plan came from a possibly hostile host, so:
//! - scalars are always quoted: single quotes when the text is plainly
//!   printable (backslashes stay readable), double quotes with escapes
//!   otherwise; line breaks, control characters, bidirectional overrides
//!   and invisible characters are escaped, never written raw (a reviewer
//!   sees exactly what the operation compares);
//! - comments are made single-line and such characters shown as `\u{..}`,
//!   so no text can end a comment and start an operation.

use serde_json::Value;

use crate::runtime::host_text;

/// Characters written as escapes: they could break a line, hide text or
/// reorder it on screen, or they are private-use characters (the held
/// form of an unpaired surrogate, `runtime::host_text`).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{fff9}'..='\u{fffb}'
                | '\u{f0000}'..='\u{10ffff}'
        )
}

/// A quoted YAML scalar for `s`.
pub fn string(s: &str) -> String {
    if !s.chars().any(hidden) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) && (c as u32) > 0xffff => {
                out.push_str(&format!("\\U{:08x}", c as u32))
            }
            c if hidden(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Comment text: one line, hidden characters shown (a host text's
/// unpaired surrogate as `\u{D800}`), bounded.
pub fn comment(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, c) in host_text::shown(text).chars().enumerate() {
        if n >= max_chars {
            out.push_str(" [...]");
            break;
        }
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Sort keys: `op` first, then names, then `expected_*`, then options and
/// lists, then when the step runs (`after_reboot`).
fn key_rank(k: &str) -> (u8, &str) {
    let r = match k {
        "op" => 0,
        "queue_if_locked" | "may_hold" | "window" => 3,
        "after_reboot" => 4,
        k if k.starts_with("expected_") => 2,
        _ => 1,
    };
    (r, k)
}

/// One-line flow YAML of a JSON value.
pub fn flow(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by_key(|k| key_rank(k));
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    let value = &o[k];
                    // `op: delete_file` reads better plain; it is a fixed token.
                    let v = match (k.as_str(), value) {
                        ("op", Value::String(s))
                            if s.chars().all(|c| c.is_ascii_lowercase() || c == '_') =>
                        {
                            s.clone()
                        }
                        _ => flow(value),
                    };
                    format!("{k}: {v}")
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Block YAML of a JSON value at `indent` spaces: mappings one key a line
/// (nested mappings indented below their key), everything else in flow
/// style on its key's line. Keys keep their order.
pub fn block(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    let Value::Object(map) = v else {
        out.push_str(&format!("{}{}\n", " ".repeat(indent), flow(v)));
        return out;
    };
    for (k, val) in map {
        match val {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{}{k}:\n", " ".repeat(indent)));
                out.push_str(&block(val, indent + 2));
            }
            _ => out.push_str(&format!("{}{k}: {}\n", " ".repeat(indent), flow(val))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_round_trip_exactly() {
        let cases = [
            r"C:\Users\bob\AppData\Roaming\x.dll",
            "it's",
            "a\nb",
            "- {op: kill_process, pid: 1}",
            "# not a comment",
            "tab\there",
            "\u{202e}lld.exe",
            "zero\u{200b}width",
            "emoji 🦀 Пётр",
            "\"quoted\" \\",
            "  spaces  ",
            "",
            "null",
            "true",
            "\u{85}nel",
            "held \u{10d800} form",
        ];
        for c in cases {
            let yaml = format!("v: {}\n", string(c));
            assert!(!yaml.trim_end().contains('\n'), "{yaml:?}");
            let back: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{c:?}: {e}\n{yaml}"));
            assert_eq!(back["v"], c, "{yaml}");
        }
    }

    #[test]
    fn comments_stay_one_line_and_show_hidden_characters() {
        let c = comment("evil\n- {op: delete_file}\u{202e}", 200);
        assert!(!c.contains('\n'));
        assert!(c.contains("\\u{a}") && c.contains("\\u{202e}"), "{c}");
        assert!(comment(&"x".repeat(50), 10).ends_with("[...]"));
    }

    #[test]
    fn block_nests_mappings_and_reads_back() {
        let v = serde_json::json!({"a": 1, "b": {"c": [1, 2], "d": {"e": "x y"}}, "f": {}});
        let text = block(&v, 2);
        assert_eq!(text, "  a: 1\n  b:\n    c: [1, 2]\n    d:\n      e: 'x y'\n  f: {}\n");
        let back: serde_json::Value = serde_saphyr::from_str(&format!("root:\n{text}")).unwrap();
        assert_eq!(back["root"], v);
    }

    #[test]
    fn flow_puts_op_first_and_expected_after() {
        let v = serde_json::json!({"op": "delete_file", "queue_if_locked": true, "expected_sha256": "ab", "path": "C:\\x"});
        assert_eq!(
            flow(&v),
            r"{op: delete_file, path: 'C:\x', expected_sha256: 'ab', queue_if_locked: true}"
        );
    }
}
