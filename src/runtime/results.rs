//! How results come back: framed lines, parsed strictly and bounded.
//!
//! ```text
//! CZBEGIN 1
//! CZR <item> <record> <field>=<base64> <field>=<base64> ...
//! ...
//! CZEND <number of CZR lines>
//! ```
//!
//! `<item>` is the index of the job item the record answers; `<record>` a
//! fixed token (`user`, `autorun`, `task`, `outcome`, ...); every value is
//! a token of [`super::wire`] (`-` for empty, base64 of UTF-8 text, `u16:`
//! and base64 of the raw UTF-16LE of a text with an unpaired surrogate, or
//! base64 of raw bytes for `chunk` data), so no host string can forge a
//! line, a field or a record, and names come back exactly (held form, see
//! [`super::host_text`]). A field may repeat (a
//! task's triggers, a folder's entries). The runtime stops writing when its
//! output budget is spent and says so with a `trunc` record; the Rust side
//! accepts at most [`Limits::max_output_bytes`], at most
//! [`Limits::max_field_bytes`] per value, [`Limits::max_records`] records
//! of one kind per item and [`Limits::max_repeats`] repeats of one field:
//! whatever is cut is reported as a [`Truncation`], never silently.
//!
//! [`Writer`] renders records exactly as `runtime.ps1` prints them (the lab
//! uses it).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::host_text;
use super::ops::Bounds;
use super::snapshot::Truncation;
use super::wire;

/// First line of the results.
pub const BEGIN: &str = "CZBEGIN 1";

/// What the Rust side accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_output_bytes: usize,
    pub max_field_bytes: usize,
    pub max_records: usize,
    pub max_repeats: usize,
    /// Cuts kept per item (the runtime's `trunc` records and those made
    /// here); the rest are counted in one more [`Truncation`].
    pub max_truncations: usize,
}

/// Cut records the runtime writes per item before it only counts them
/// (`$script:czTruncMax` in `runtime.ps1`); the Rust side keeps a little
/// more, so a well-behaved runtime's count is never lost.
pub const RUNTIME_MAX_TRUNCATIONS: usize = 100;

impl Limits {
    pub fn from_bounds(b: &Bounds) -> Limits {
        Limits {
            max_output_bytes: usize::try_from(b.max_output_bytes).unwrap_or(usize::MAX),
            max_field_bytes: b.max_field_bytes as usize,
            max_records: b.max_items as usize,
            max_repeats: (b.max_listing.max(b.max_items)) as usize,
            max_truncations: RUNTIME_MAX_TRUNCATIONS + 28,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_bounds(&Bounds::default())
    }
}

/// One value as it came: the bytes of a base64 token (UTF-8 text, or raw
/// bytes), or the code units of a `u16:` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bytes(Vec<u8>),
    Units(Vec<u16>),
}

impl Value {
    /// The text, in the held form of [`host_text`] (exact for `u16:`
    /// values; bytes that are not UTF-8, which the runtime never sends, are
    /// read lossily).
    pub fn text(&self) -> String {
        match self {
            Value::Bytes(b) => host_text::from_text(&String::from_utf8_lossy(b)),
            Value::Units(u) => host_text::from_units(u),
        }
    }
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Units(u) => u.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// One record: its item, kind and fields (values decoded, in order,
/// repeats kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub item: usize,
    pub kind: String,
    pub fields: Vec<(String, Value)>,
    /// Fields cut here to [`Limits::max_field_bytes`] (also reported as a
    /// [`Truncation`]).
    pub cut: Vec<String>,
}

impl Record {
    /// The first value of `name` as held-form text ("" when absent).
    pub fn text(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.text())
            .unwrap_or_default()
    }
    /// Every value of `name` as held-form text, in order.
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.text())
            .collect()
    }
    /// The raw bytes of `name`.
    pub fn bytes(&self, name: &str) -> Vec<u8> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.bytes())
            .unwrap_or_default()
    }
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.text(name).as_str(), "1" | "True" | "true")
    }
    pub fn num(&self, name: &str) -> u64 {
        self.text(name).trim().parse().unwrap_or(0)
    }
    /// Whether a value of `name` was cut on this side.
    pub fn was_cut(&self, name: &str) -> bool {
        self.cut.iter().any(|c| c == name)
    }
}

/// Parsed output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frames {
    pub records: Vec<Record>,
    /// Cuts made here or reported by the runtime (`trunc` records of every
    /// item).
    pub truncated: Vec<(usize, Truncation)>,
    /// `CZEND` was seen and its count matched.
    pub complete: bool,
}

impl Frames {
    /// Records answering item `i`.
    pub fn of(&self, i: usize) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.item == i)
    }
    /// Truncations for item `i`.
    pub fn truncations(&self, i: usize) -> Vec<Truncation> {
        self.truncated
            .iter()
            .filter(|(n, _)| *n == i)
            .map(|(_, t)| t.clone())
            .collect()
    }
}

/// Output that is not the runtime's framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("runtime output line {line}: {reason}")]
pub struct FrameError {
    pub line: usize,
    pub reason: String,
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parse output strictly: every non-empty line is a frame line, records
/// name an item of the job, values are base64. Bounds cut and report;
/// malformed lines are refused.
pub fn parse(stdout: &str, items: usize, limits: &Limits) -> Result<Frames, FrameError> {
    let mut frames = Frames::default();
    let mut cuts: HashMap<usize, usize> = HashMap::new();
    let mut text = stdout;
    if text.len() > limits.max_output_bytes {
        let mut cut = limits.max_output_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let end = text[..cut].rfind('\n').map_or(0, |i| i + 1);
        text = &text[..end];
        note(&mut frames, &mut cuts, limits, (
            0,
            Truncation {
                what: format!("runtime output ({} bytes)", stdout.len()),
                limit: format!("{} bytes", limits.max_output_bytes),
            },
        ));
    }
    let mut begun = false;
    let mut ended = false;
    let mut per_kind: HashMap<(usize, String), usize> = HashMap::new();
    let mut counted = 0usize;
    for (idx, raw) in text.split('\n').enumerate() {
        let n = idx + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: &str| FrameError {
            line: n,
            reason: reason.to_string(),
        };
        if ended {
            return Err(bad("output after CZEND"));
        }
        if !begun {
            if line != BEGIN {
                return Err(bad("expected CZBEGIN 1 (is this the cauterize runtime?)"));
            }
            begun = true;
            continue;
        }
        if let Some(count) = line.strip_prefix("CZEND ") {
            let c: usize = count
                .trim()
                .parse()
                .map_err(|_| bad("CZEND without a count"))?;
            if c != counted {
                return Err(bad("CZEND count does not match the records"));
            }
            ended = true;
            continue;
        }
        let mut parts = line.split(' ');
        if parts.next() != Some("CZR") {
            return Err(bad("not a CZR record line"));
        }
        let item: usize = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("record without an item index"))?;
        if item >= items {
            return Err(bad("record for an item the job does not have"));
        }
        let kind = parts
            .next()
            .filter(|k| is_token(k))
            .ok_or_else(|| bad("record without a kind"))?;
        counted += 1;
        let mut rec = Record {
            item,
            kind: kind.to_string(),
            fields: Vec::new(),
            cut: Vec::new(),
        };
        let mut repeats: HashMap<&str, usize> = HashMap::new();
        for part in parts {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| bad("field without '='"))?;
            if !is_token(name) {
                return Err(bad("bad field name"));
            }
            let r = repeats.entry(name).or_default();
            *r += 1;
            if *r > limits.max_repeats {
                if *r == limits.max_repeats + 1 {
                    note(&mut frames, &mut cuts, limits, (
                        item,
                        Truncation {
                            what: format!("repeated field {name} of a {kind} record"),
                            limit: format!("{} values", limits.max_repeats),
                        },
                    ));
                }
                continue;
            }
            let bytes = decode_bounded(value, limits.max_field_bytes)
                .map_err(|e| bad(&e.to_string()))?;
            if bytes.1 {
                rec.cut.push(name.to_string());
                note(&mut frames, &mut cuts, limits, (
                    item,
                    Truncation {
                        what: format!("field {name} of a {kind} record"),
                        limit: format!("{} bytes", limits.max_field_bytes),
                    },
                ));
            }
            rec.fields.push((name.to_string(), bytes.0));
        }
        if kind == "trunc" {
            note(&mut frames, &mut cuts, limits, (
                item,
                Truncation {
                    what: rec.text("what"),
                    limit: rec.text("limit"),
                },
            ));
            continue;
        }
        let seen = per_kind.entry((item, kind.to_string())).or_default();
        *seen += 1;
        if *seen > limits.max_records {
            if *seen == limits.max_records + 1 {
                note(&mut frames, &mut cuts, limits, (
                    item,
                    Truncation {
                        what: format!("{kind} records"),
                        limit: format!("{} records", limits.max_records),
                    },
                ));
            }
            continue;
        }
        frames.records.push(rec);
    }
    if !begun && !text.trim().is_empty() {
        return Err(FrameError {
            line: 1,
            reason: "no CZBEGIN line".into(),
        });
    }
    let mut over: Vec<(usize, usize)> = cuts
        .into_iter()
        .filter(|(_, n)| *n > limits.max_truncations)
        .map(|(i, n)| (i, n - limits.max_truncations))
        .collect();
    over.sort_unstable();
    for (item, n) in over {
        frames.truncated.push((
            item,
            Truncation {
                what: format!("{n} more cuts of this item, not listed"),
                limit: format!("{} cuts listed an item", limits.max_truncations),
            },
        ));
    }
    frames.complete = ended;
    Ok(frames)
}

/// Keep a cut, at most [`Limits::max_truncations`] per item: a host that
/// reports a cut per value (or a hostile one) cannot flood the snapshot,
/// the journal or the plan; the rest are counted.
fn note(
    frames: &mut Frames,
    cuts: &mut HashMap<usize, usize>,
    limits: &Limits,
    (item, t): (usize, Truncation),
) {
    let n = cuts.entry(item).or_default();
    *n += 1;
    if *n <= limits.max_truncations {
        frames.truncated.push((item, t));
    }
}

/// Decode a value token, at most `cap` bytes of it: returns the value and
/// whether it was cut. Only the needed prefix of a long value is decoded.
fn decode_bounded(token: &str, cap: usize) -> Result<(Value, bool), wire::TokenError> {
    if token == wire::EMPTY {
        return Ok((Value::Bytes(Vec::new()), false));
    }
    let (wide, b64) = match token.strip_prefix(wire::WIDE) {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    // A u16: value is cut at a whole code unit.
    let cap = if wide { cap & !1 } else { cap };
    let full = b64.len() / 4 * 3;
    let (mut b, cut) = if full <= cap.saturating_add(3) {
        let whole = if wide {
            wire::decode_units(token)?
                .iter()
                .flat_map(|u| u.to_le_bytes())
                .collect()
        } else {
            wire::decode_bytes(token)?
        };
        let cut = whole.len() > cap;
        (whole, cut)
    } else {
        // A value this long is cut anyway: decode only a prefix, sliced as
        // bytes (hostile output may hold raw non-ASCII text there, and a
        // string slice inside a character panics).
        let take = cap.div_ceil(3) * 4;
        let b = STANDARD
            .decode(&b64.as_bytes()[..take.min(b64.len())])
            .map_err(|_| wire::TokenError::Base64)?;
        (b, true)
    };
    b.truncate(cap);
    Ok(if wide {
        let units = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        (Value::Units(units), cut)
    } else {
        (Value::Bytes(b), cut)
    })
}

/// Renders records as the PowerShell runtime prints them, within an output
/// budget (then one `trunc` record, and nothing more).
#[derive(Debug)]
pub struct Writer {
    out: String,
    budget: usize,
    records: usize,
    cut: bool,
}

/// Bytes kept back for the final `trunc` record and `CZEND`.
const RESERVE: usize = 512;

impl Writer {
    pub fn new(max_output_bytes: u64) -> Writer {
        let mut out = String::from(BEGIN);
        out.push_str("\r\n");
        Writer {
            out,
            budget: usize::try_from(max_output_bytes).unwrap_or(usize::MAX),
            records: 0,
            cut: false,
        }
    }

    /// The line for one record: each field and its value token.
    fn line(item: usize, kind: &str, fields: &[(&str, String)]) -> String {
        let mut l = format!("CZR {item} {kind}");
        for (k, v) in fields {
            l.push(' ');
            l.push_str(k);
            l.push('=');
            l.push_str(v);
        }
        l.push_str("\r\n");
        l
    }

    /// Write a record of text fields (real text: the lab's strings); false
    /// once the budget is spent.
    pub fn record(&mut self, item: usize, kind: &str, fields: &[(&str, &str)]) -> bool {
        let f: Vec<(&str, String)> = fields
            .iter()
            .map(|(k, v)| (*k, wire::encode_text(v)))
            .collect();
        self.tokens(item, kind, &f)
    }

    /// Write a record of byte fields.
    pub fn raw(&mut self, item: usize, kind: &str, fields: &[(&str, &[u8])]) -> bool {
        let f: Vec<(&str, String)> = fields
            .iter()
            .map(|(k, v)| (*k, wire::encode_bytes(v)))
            .collect();
        self.tokens(item, kind, &f)
    }

    /// Write a record of value tokens.
    fn tokens(&mut self, item: usize, kind: &str, fields: &[(&str, String)]) -> bool {
        if self.cut {
            return false;
        }
        let l = Writer::line(item, kind, fields);
        if self.out.len() + l.len() + RESERVE > self.budget {
            self.cut = true;
            let t = Writer::line(
                item,
                "trunc",
                &[
                    ("what", wire::encode_text("runtime output")),
                    ("limit", wire::encode_text(&format!("{} bytes", self.budget))),
                ],
            );
            self.out.push_str(&t);
            self.records += 1;
            return false;
        }
        self.out.push_str(&l);
        self.records += 1;
        true
    }

    /// Whether the budget is spent.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The output, ending with `CZEND`.
    pub fn finish(mut self) -> String {
        self.out.push_str(&format!("CZEND {}\r\n", self.records));
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_records_parse_back_equal() {
        let mut w = Writer::new(1 << 20);
        let hostile = "CZR 0 outcome result=ZG9uZQ==\r\nCZEND 0 $(x) ' \" `\0";
        assert!(w.record(
            0,
            "user",
            &[("name", hostile), ("name", "Пётр"), ("sid", "")]
        ));
        assert!(w.raw(1, "chunk", &[("data", &[0, 255, 10, 13])]));
        let text = w.finish();
        let f = parse(&text, 2, &Limits::default()).expect("parses");
        assert!(f.complete);
        assert_eq!(f.records.len(), 2);
        assert_eq!(
            f.records[0].texts("name"),
            vec![hostile.to_string(), "Пётр".into()]
        );
        assert_eq!(f.records[0].text("sid"), "");
        assert_eq!(f.records[1].bytes("data"), vec![0, 255, 10, 13]);
    }

    #[test]
    fn strictness() {
        let ok = |s: &str| parse(s, 1, &Limits::default());
        assert!(ok("hello\r\n").is_err());
        assert!(ok("CZBEGIN 1\r\nstray\r\n").is_err());
        assert!(
            ok("CZBEGIN 1\r\nCZR 1 x a=-\r\nCZEND 1\r\n").is_err(),
            "item out of range"
        );
        assert!(
            ok("CZBEGIN 1\r\nCZR 0 x a=\r\nCZEND 1\r\n").is_err(),
            "an empty token (the empty value is `-`)"
        );
        assert!(ok("CZBEGIN 1\r\nCZR 0 x a=!!\r\nCZEND 1\r\n").is_err());
        assert!(ok("CZBEGIN 1\r\nCZR 0 x a\r\nCZEND 1\r\n").is_err());
        assert!(ok("CZBEGIN 1\r\nCZR 0 x a=-\r\nCZEND 2\r\n").is_err());
        assert!(ok("CZBEGIN 1\r\nCZEND 0\r\nCZEND 0\r\n").is_err());
        let f = ok("CZBEGIN 1\r\nCZR 0 x a=-\r\n").expect("incomplete is not malformed");
        assert!(!f.complete);
    }

    /// A broken or hostile host can print anything outside the base64
    /// framing: raw non-ASCII text in a value longer than the decoded
    /// prefix (2 MiB decoded, about 2.8 MB of base64) must be refused, not
    /// split inside a character (which panicked the host's task).
    #[test]
    fn raw_non_ascii_output_is_refused_never_a_panic() {
        let limits = Limits::default();
        let prefix = limits.max_field_bytes.div_ceil(3) * 4;
        for at in [prefix - 1, prefix - 2, prefix, 10] {
            for raw in ["é", "🦀", "Пётр"] {
                let mut value = "A".repeat(at);
                while value.len() < prefix + 64 {
                    value.push_str(raw);
                }
                let out = format!("CZBEGIN 1\r\nCZR 0 file path={value}\r\nCZEND 1\r\n");
                let r = std::panic::catch_unwind(|| parse(&out, 1, &limits))
                    .unwrap_or_else(|_| panic!("parse panicked on raw {raw:?} at byte {at}"));
                // Raw text inside the decoded prefix is refused; past it
                // the value is cut unread (and reported as cut).
                match r {
                    Err(e) => assert_eq!(e.line, 2, "{e}"),
                    Ok(f) => assert!(
                        at >= prefix && f.truncations(0).iter().any(|t| t.what.contains("field path")),
                        "raw {raw:?} at byte {at} read as a value"
                    ),
                }
            }
        }
        // A whole output of raw text over the output bound: cut at a line
        // (here: to nothing), reported, never complete.
        let big = "ü".repeat(limits.max_output_bytes);
        let f = parse(&big, 1, &limits).expect("cut, not malformed");
        assert!(!f.complete && f.records.is_empty());
        assert!(f.truncations(0).iter().any(|t| t.what.starts_with("runtime output")));
        let framed = format!("CZBEGIN 1\r\nCZR 0 file path={}\r\nCZEND 1\r\n", "ü".repeat(1000));
        assert!(parse(&framed, 1, &limits).is_err());
        // A long u16: value with raw text inside its decoded prefix.
        let u16_value = format!(
            "CZBEGIN 1\r\nCZR 0 file path=u16:{}é{}\r\nCZEND 1\r\n",
            "A".repeat(11),
            "A".repeat(prefix + 4)
        );
        assert!(parse(&u16_value, 1, &limits).is_err());
    }

    /// Issue 7 item 17: cut records are capped per item, the rest counted.
    #[test]
    fn cut_records_are_capped_per_item_and_counted() {
        let limits = Limits::default();
        let mut w = Writer::new(u64::MAX);
        for i in 0..10_000 {
            w.record(0, "trunc", &[("what", &format!("values under key {i}")), ("limit", "1 values")]);
        }
        w.record(1, "trunc", &[("what", "one"), ("limit", "x")]);
        let f = parse(&w.finish(), 2, &limits).expect("parses");
        let t0 = f.truncations(0);
        assert_eq!(t0.len(), limits.max_truncations + 1);
        assert_eq!(
            t0.last().map(|t| t.what.as_str()),
            Some(format!("{} more cuts of this item, not listed", 10_000 - limits.max_truncations).as_str())
        );
        assert_eq!(f.truncations(1).len(), 1);
        // The runtime's own cap and its count pass whole.
        assert!(limits.max_truncations > RUNTIME_MAX_TRUNCATIONS);
    }

    #[test]
    fn bounds_cut_and_report() {
        let limits = Limits {
            max_output_bytes: 1 << 20,
            max_field_bytes: 10,
            max_records: 3,
            max_repeats: 2,
            ..Limits::default()
        };
        let mut w = Writer::new(1 << 20);
        for _ in 0..5 {
            w.record(
                0,
                "svc",
                &[
                    ("name", "0123456789abcdef"),
                    ("e", "1"),
                    ("e", "2"),
                    ("e", "3"),
                ],
            );
        }
        let f = parse(&w.finish(), 1, &limits).expect("parses");
        assert_eq!(f.records.len(), 3);
        assert_eq!(f.records[0].text("name"), "0123456789");
        assert_eq!(f.records[0].texts("e").len(), 2);
        let whats: Vec<String> = f.truncations(0).into_iter().map(|t| t.what).collect();
        assert!(whats.iter().any(|w| w.contains("field name")));
        assert!(whats.iter().any(|w| w.contains("repeated field e")));
        assert!(whats.iter().any(|w| w == "svc records"));
        // 100,000 values of one key: cut to the record bound, reported.
        let mut w = Writer::new(u64::MAX);
        for i in 0..100_000 {
            w.record(0, "autorun", &[("value", &i.to_string())]);
        }
        let f = parse(&w.finish(), 1, &Limits::default()).expect("parses");
        assert_eq!(f.records.len(), Limits::default().max_records);
        assert!(f.truncations(0).iter().any(|t| t.what == "autorun records"));
        // Output over the cap is cut at a line and reported.
        let mut w = Writer::new(u64::MAX);
        for i in 0..1000 {
            w.record(0, "p", &[("n", &i.to_string())]);
        }
        let text = w.finish();
        let small = Limits {
            max_output_bytes: 1000,
            ..Limits::default()
        };
        let f = parse(&text, 1, &small).expect("parses");
        assert!(!f.complete);
        assert!(f.records.len() < 1000 && !f.records.is_empty());
        assert!(
            f.truncations(0)
                .iter()
                .any(|t| t.what.starts_with("runtime output"))
        );
        // The writer's own budget: one trunc record, then nothing.
        let mut w = Writer::new(2000);
        let mut n = 0;
        while w.record(0, "p", &[("n", "xxxxxxxxxxxxxxxxxxxxxxxx")]) {
            n += 1;
        }
        assert!(!w.record(0, "p", &[]));
        let f = parse(&w.finish(), 1, &Limits::default()).expect("parses");
        assert!(f.complete);
        assert_eq!(f.records.len(), n);
        assert_eq!(f.truncations(0)[0].what, "runtime output");
    }
}
