//! Host ranges in entry names: `ws-[001:250].corp.example` (zero-padding
//! kept), `lab-[a:f]` (letters), `srv-[1:10:2]` (step). Several ranges in
//! one name expand to every combination. Pure.

/// Why a name could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError {
    pub message: String,
    pub help: String,
    /// The expansion would exceed the host cap (not a syntax problem).
    pub too_many: bool,
}

fn bad(message: String, help: &str) -> RangeError {
    RangeError { message, help: help.to_string(), too_many: false }
}

const RANGE_HELP: &str = "write `[START:END]` or `[START:END:STEP]`, e.g. `ws-[001:250]`, `lab-[a:f]`, `srv-[1:9:2]`";

/// One piece of a name: literal text or the values of one range.
#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Range(Vec<String>),
}

/// Whether the name contains a range (or a stray bracket).
pub fn has_range(name: &str) -> bool {
    name.contains('[') || name.contains(']')
}

/// Expand `name` into host names, refusing more than `max` of them.
pub fn expand(name: &str, max: usize) -> Result<Vec<String>, RangeError> {
    let parts = parse(name, max)?;
    let mut total: usize = 1;
    for p in &parts {
        if let Part::Range(v) = p {
            total = total.saturating_mul(v.len());
        }
    }
    if total > max {
        return Err(RangeError {
            message: format!("`{name}` expands to {total} hosts; at most {max} more fit in this inventory"),
            help: "one inventory holds at most 100000 hosts; split it, or use a narrower range".into(),
            too_many: true,
        });
    }
    let mut out = vec![String::new()];
    for p in parts {
        out = match p {
            Part::Text(t) => out.into_iter().map(|s| s + &t).collect(),
            Part::Range(vals) => out.iter().flat_map(|s| vals.iter().map(move |v| format!("{s}{v}"))).collect(),
        };
    }
    Ok(out)
}

fn parse(name: &str, max: usize) -> Result<Vec<Part>, RangeError> {
    let mut parts = Vec::new();
    let mut rest = name;
    while let Some(open) = rest.find(['[', ']']) {
        if rest[open..].starts_with(']') {
            return Err(bad(format!("`{name}` has a `]` without a `[` before it"), RANGE_HELP));
        }
        let after = &rest[open + 1..];
        let close = after.find(']').ok_or_else(|| bad(format!("`{name}` has a `[` that is never closed"), RANGE_HELP))?;
        let inner = &after[..close];
        if inner.contains('[') {
            return Err(bad(format!("`{name}` has nested `[`"), RANGE_HELP));
        }
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        parts.push(Part::Range(range_values(name, inner, max)?));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

/// The values of one `[start:end(:step)]`.
fn range_values(name: &str, inner: &str, max: usize) -> Result<Vec<String>, RangeError> {
    let fields: Vec<&str> = inner.split(':').collect();
    let (start, end, step) = match fields.as_slice() {
        [s, e] => (*s, *e, None),
        [s, e, st] => (*s, *e, Some(*st)),
        _ => return Err(bad(format!("`[{inner}]` in `{name}` is not a range"), RANGE_HELP)),
    };
    let step = match step {
        None => 1,
        Some(st) => match st.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad(format!("step `{st}` in `{name}` is not a whole number above zero"), RANGE_HELP)),
        },
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    if digits(start) && digits(end) {
        let width = if start.len() > 1 && start.starts_with('0') { start.len() } else { 0 };
        if width > 0 && end.len() != width {
            return Err(bad(
                format!("zero-padded range `[{inner}]` in `{name}` has ends of different widths"),
                "give both ends the same number of digits, e.g. `[001:250]`",
            ));
        }
        let (a, b) = match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(bad(format!("range `[{inner}]` in `{name}` has a number that is too large"), RANGE_HELP)),
        };
        check_order(name, inner, a, b)?;
        let count = (b - a) / step + 1;
        if count > max as u64 {
            return Err(RangeError {
                message: format!("`{name}` expands to {count} hosts; at most {max} more fit in this inventory"),
                help: "one inventory holds at most 100000 hosts; split it, or use a narrower range".into(),
                too_many: true,
            });
        }
        Ok((0..count).map(|i| format!("{:0width$}", a + i * step)).collect())
    } else if letter(start) && letter(end) {
        let (a, b) = (start.as_bytes()[0], end.as_bytes()[0]);
        if a.is_ascii_lowercase() != b.is_ascii_lowercase() {
            return Err(bad(format!("letter range `[{inner}]` in `{name}` mixes cases"), "write `[a:f]` or `[A:F]`"));
        }
        check_order(name, inner, u64::from(a), u64::from(b))?;
        Ok((a..=b).step_by(usize::try_from(step).unwrap_or(usize::MAX)).map(|c| char::from(c).to_string()).collect())
    } else {
        Err(bad(
            format!("range `[{inner}]` in `{name}` is malformed: expected two numbers or two letters"),
            RANGE_HELP,
        ))
    }
}

fn check_order(name: &str, inner: &str, a: u64, b: u64) -> Result<(), RangeError> {
    if a > b {
        return Err(bad(
            format!("range `[{inner}]` in `{name}` expands to nothing: its start is after its end"),
            "write the smaller end first, e.g. `[1:5]`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ranges_keep_padding() {
        let v = expand("ws-[001:003].corp.example", 100).unwrap();
        assert_eq!(v, ["ws-001.corp.example", "ws-002.corp.example", "ws-003.corp.example"]);
        assert_eq!(expand("h[8:10]", 100).unwrap(), ["h8", "h9", "h10"]);
        assert_eq!(expand("ws-[001:250]", 1000).unwrap().len(), 250);
    }

    #[test]
    fn letters_steps_and_products() {
        assert_eq!(expand("lab-[a:c]", 100).unwrap(), ["lab-a", "lab-b", "lab-c"]);
        assert_eq!(expand("s[1:10:4]", 100).unwrap(), ["s1", "s5", "s9"]);
        assert_eq!(expand("r[1:2]-[a:b]", 100).unwrap(), ["r1-a", "r1-b", "r2-a", "r2-b"]);
        assert_eq!(expand("plain", 100).unwrap(), ["plain"]);
    }

    #[test]
    fn empty_and_malformed_ranges_are_errors() {
        let e = expand("ws-[5:1]", 100).unwrap_err();
        assert!(e.message.contains("expands to nothing"), "{}", e.message);
        for bad in ["ws-[1-5]", "ws-[1:5", "ws-1:5]", "ws-[a:5]", "ws-[1:5:0]", "ws-[01:100]", "ws-[a:C]", "ws-[]"] {
            let e = expand(bad, 100).unwrap_err();
            assert!(!e.too_many, "{bad}");
        }
    }

    #[test]
    fn expansion_is_capped() {
        let e = expand("ws-[1:1000000]", 100_000).unwrap_err();
        assert!(e.too_many);
        assert!(e.message.contains("1000000 hosts"));
        let e = expand("a[1:1000]b[1:1000]", 100_000).unwrap_err();
        assert!(e.too_many);
        assert!(expand("ws-[1:18446744073709551615]", 100_000).unwrap_err().too_many);
    }
}
