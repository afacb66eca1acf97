//! Compact host lists, pdsh/dshbak style: `WS-001, WS-002, WS-003, WS-007`
//! becomes `WS-[001-003,007]`, and back ([`expand`], for lists a person
//! may edit, such as a plan's). Pure.
//!
//! Names are grouped by the text around their last run of digits and by
//! that run's width (so zero padding is kept exactly); a group of one stays
//! a plain name. Groups keep the order in which they first appear.

/// A name split around its last run of ASCII digits.
struct Split<'a> {
    prefix: &'a str,
    number: u64,
    width: usize,
    suffix: &'a str,
}

/// Split `name` at its last run of digits; `None` without one (or when it
/// is too long to be a number).
fn split(name: &str) -> Option<Split<'_>> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let digits = &name[start..end];
    if digits.len() > 18 {
        return None;
    }
    Some(Split {
        prefix: &name[..start],
        number: digits.parse().ok()?,
        width: digits.len(),
        suffix: &name[end..],
    })
}

/// `1-3,7` for the sorted, deduplicated numbers, zero-padded to `width`.
fn ranges(numbers: &[u64], width: usize) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        if i == j {
            parts.push(format!("{:0width$}", numbers[i]));
        } else {
            parts.push(format!("{:0width$}-{:0width$}", numbers[i], numbers[j]));
        }
        i = j + 1;
    }
    parts.join(",")
}

/// The compact form of a list of host names.
pub fn compact<S: AsRef<str>>(names: &[S]) -> String {
    compact_parts(names).join(",")
}

/// The entries of the compact form, one per shared prefix and suffix.
pub fn compact_parts<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    // (prefix, suffix, width) -> numbers, or a plain name, in first-seen order.
    enum Entry<'a> {
        Plain(&'a str),
        Numbered {
            prefix: &'a str,
            suffix: &'a str,
            width: usize,
            numbers: Vec<u64>,
        },
    }
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for name in names {
        let name = name.as_ref();
        match split(name) {
            None => {
                if !entries
                    .iter()
                    .any(|e| matches!(e, Entry::Plain(p) if *p == name))
                {
                    entries.push(Entry::Plain(name));
                }
            }
            Some(s) => {
                let found = entries.iter_mut().find_map(|e| match e {
                    Entry::Numbered {
                        prefix,
                        suffix,
                        width,
                        numbers,
                    } if *prefix == s.prefix && *suffix == s.suffix && *width == s.width => {
                        Some(numbers)
                    }
                    _ => None,
                });
                match found {
                    Some(numbers) => numbers.push(s.number),
                    None => entries.push(Entry::Numbered {
                        prefix: s.prefix,
                        suffix: s.suffix,
                        width: s.width,
                        numbers: vec![s.number],
                    }),
                }
            }
        }
    }
    entries
        .into_iter()
        .map(|e| match e {
            Entry::Plain(p) => p.to_string(),
            Entry::Numbered {
                prefix,
                suffix,
                width,
                mut numbers,
            } => {
                numbers.sort_unstable();
                numbers.dedup();
                if numbers.len() == 1 {
                    format!("{prefix}{:0width$}{suffix}", numbers[0])
                } else {
                    format!("{prefix}[{}]{suffix}", ranges(&numbers, width))
                }
            }
        })
        .collect()
}

/// `WS-[001-040,042] (41 hosts)`, or the plain name for one host.
pub fn with_count<S: AsRef<str>>(names: &[S]) -> String {
    match names.len() {
        1 => compact(names),
        n => format!("{} ({n} hosts)", compact(names)),
    }
}

/// Most names [`expand`] gives.
pub const MAX_EXPANDED: usize = 1_000_000;

/// The names of a compact list (what [`compact`] writes): entries
/// separated by commas outside brackets, each a plain name or
/// `prefix[ranges]suffix` where ranges are `n` or `a-b`, zero-padded to
/// one width.
pub fn expand(text: &str) -> Result<Vec<String>, String> {
    let mut entries: Vec<&str> = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '[' if depth == 0 => depth = 1,
            '[' => return Err(format!("`{text}`: a bracket inside a bracket")),
            ']' if depth == 1 => depth = 0,
            ']' => return Err(format!("`{text}`: `]` without `[`")),
            ',' if depth == 0 => {
                entries.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("`{text}`: `[` without `]`"));
    }
    entries.push(&text[start..]);
    let mut out = Vec::new();
    for e in entries {
        let e = e.trim();
        if e.is_empty() {
            return Err(format!("`{text}`: an empty entry"));
        }
        let Some(open) = e.find('[') else {
            out.push(e.to_string());
            continue;
        };
        let close = e.find(']').unwrap_or(e.len());
        let (prefix, inner, suffix) = (&e[..open], &e[open + 1..close], &e[close + 1..]);
        if suffix.contains('[') {
            return Err(format!("`{e}`: one bracket per entry"));
        }
        for part in inner.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (a.trim(), b.trim());
            let digits = |x: &str| !x.is_empty() && x.len() <= 18 && x.bytes().all(|c| c.is_ascii_digit());
            if !digits(a) || !digits(b) || a.len() != b.len() {
                return Err(format!("`{e}`: `{part}` is not `n` or `a-b` (digits of one width)"));
            }
            let (x, y): (u64, u64) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
            if x > y {
                return Err(format!("`{e}`: `{part}` ends before it starts"));
            }
            if out.len() as u64 + (y - x + 1) > MAX_EXPANDED as u64 {
                return Err(format!("`{text}` names more than {MAX_EXPANDED} hosts"));
            }
            let width = a.len();
            for n in x..=y {
                out.push(format!("{prefix}{n:0width$}{suffix}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_reverses_compact() {
        for names in [
            vec!["WS-001", "WS-002", "WS-003", "WS-007", "FS-01", "dc01", "ws3.corp", "ws1.corp"],
            vec!["h8", "h9", "h10", "h11", "h01", "h1"],
            vec!["r1-n01", "r1-n02", "r2-n01", "plain"],
        ] {
            let c = compact(&names);
            let mut back = expand(&c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            back.sort();
            want.sort();
            assert_eq!(back, want, "{c}");
        }
        assert_eq!(expand("WS-[001-003,007].corp").unwrap(), ["WS-001.corp", "WS-002.corp", "WS-003.corp", "WS-007.corp"]);
        for bad in ["WS-[001-003", "WS-001]", "WS-[1-02]", "WS-[3-1]", "WS-[a-b]", "a,,b", "WS-[[1]]", "x[1]y[2]", "h[0-9999999]"] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }

    fn ws(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
        range.map(|i| format!("WS-{i:03}")).collect()
    }

    #[test]
    fn ranges_and_gaps() {
        let mut names = ws(1..=40);
        names.push("WS-042".into());
        assert_eq!(compact(&names), "WS-[001-040,042]");
        assert_eq!(with_count(&names), "WS-[001-040,042] (41 hosts)");
    }

    #[test]
    fn single_names_stay_plain() {
        assert_eq!(compact(&["dc01"]), "dc01");
        assert_eq!(with_count(&["dc01"]), "dc01");
        assert_eq!(
            compact(&["fileserver", "dc01", "dc02"]),
            "fileserver,dc[01-02]"
        );
    }

    #[test]
    fn unsorted_duplicates_and_suffixes() {
        assert_eq!(
            compact(&["ws3.corp", "ws1.corp", "ws2.corp", "ws1.corp"]),
            "ws[1-3].corp"
        );
        assert_eq!(compact(&["a", "a"]), "a");
    }

    #[test]
    fn widths_are_not_mixed() {
        // 9 and 10 differ in width, so they cannot share a bracket.
        assert_eq!(compact(&["h8", "h9", "h10", "h11"]), "h[8-9],h[10-11]");
        assert_eq!(compact(&["h01", "h1"]), "h01,h1");
    }

    #[test]
    fn last_digit_run_counts() {
        assert_eq!(
            compact(&["r1-n01", "r1-n02", "r2-n01"]),
            "r1-n[01-02],r2-n01"
        );
        assert_eq!(
            compact(&["x99999999999999999999999"]),
            "x99999999999999999999999"
        );
    }
}
