//! File facts and reading a file on the lab host, as `Invoke-CzFileFacts`
//! and `Invoke-CzReadFile` do: each path asked for is reported as asked
//! (spelling kept), with existence, size, SHA-256 (unless larger than the
//! bound: reported), times, Authenticode status and signer; folders with
//! their entries (bounded, reported).

use super::Run;
use super::iso::iso;
use crate::lab::world::files::{Content, Entry, hex};
use crate::runtime::ops::Bounds;

fn signature(e: &Entry) -> (&'static str, String) {
    match e.signer() {
        Some(s) if s.valid => ("valid", s.subject.to_string()),
        Some(s) => ("invalid", s.subject.to_string()),
        None => ("unsigned", String::new()),
    }
}

fn one(run: &mut Run<'_>, path: &str, list: bool, b: &Bounds) {
    let entry = run.host.files.get(path).cloned();
    let Some(e) = entry else {
        run.record("file", &[("path", path), ("exists", "0"), ("is_dir", "0")]);
        return;
    };
    let (created, modified) = (iso(e.times.created), iso(e.times.modified));
    if e.is_dir() {
        let names: Vec<String> = run
            .host
            .files
            .list(path)
            .map(|l| {
                l.iter()
                    .map(|(p, _)| p.rsplit('\\').next().unwrap_or(p).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let max = b.max_listing as usize;
        let count = names.len().to_string();
        let mut f: Vec<(&str, &str)> = vec![
            ("path", path),
            ("exists", "1"),
            ("is_dir", "1"),
            ("created", &created),
            ("modified", &modified),
            ("entries", &count),
        ];
        if list {
            f.extend(names.iter().take(max).map(|n| ("entry", n.as_str())));
        }
        run.record("file", &f);
        if list && names.len() > max {
            run.trunc(&format!("listing of {path}"), &format!("{max} entries"));
        }
        return;
    }
    let size = e.size();
    let sha = if size > b.max_hash_bytes {
        run.trunc(
            &format!("hash of {path} ({size} bytes)"),
            &format!("{} bytes", b.max_hash_bytes),
        );
        String::new()
    } else {
        e.sha256().map(|h| hex(&h)).unwrap_or_default()
    };
    let (sig, signer) = signature(&e);
    run.record(
        "file",
        &[
            ("path", path),
            ("exists", "1"),
            ("is_dir", "0"),
            ("size", &size.to_string()),
            ("sha256", &sha),
            ("created", &created),
            ("modified", &modified),
            ("signature", sig),
            ("signer", &signer),
        ],
    );
}

/// File facts for `paths`, then listings of `list_dirs` not already
/// reported.
pub fn file_facts(run: &mut Run<'_>, paths: &[String], list_dirs: &[String], b: &Bounds) {
    let mut done: Vec<String> = Vec::new();
    for p in paths {
        let list = list_dirs.iter().any(|d| d.eq_ignore_ascii_case(p));
        one(run, p, list, b);
        done.push(p.to_lowercase());
    }
    for d in list_dirs {
        if !done.contains(&d.to_lowercase()) {
            one(run, d, true, b);
            done.push(d.to_lowercase());
        }
    }
}

/// Up to `max_bytes` from `offset`.
pub fn read_file(run: &mut Run<'_>, path: &str, offset: u64, max_bytes: u32) {
    let Some(e) = run.host.files.get(path).cloned() else {
        run.error(&format!("Could not find file '{path}'."));
        return;
    };
    let Some(data) = e.file().map(|f| f.content.clone()) else {
        run.error(&format!("'{path}' is a directory."));
        return;
    };
    let Content::Bytes(bytes) = data else {
        run.error(&format!(
            "the lab holds only the size and hash of '{path}', not its bytes"
        ));
        return;
    };
    let size = bytes.len() as u64;
    let start = offset.min(size) as usize;
    let end = (offset.saturating_add(u64::from(max_bytes))).min(size) as usize;
    let eof = if end as u64 == size { "1" } else { "0" };
    let item = run.item;
    run.out.raw(
        item,
        "chunk",
        &[
            ("path", path.as_bytes()),
            ("offset", offset.to_string().as_bytes()),
            ("size", size.to_string().as_bytes()),
            ("data", &bytes[start..end]),
            ("eof", eof.as_bytes()),
        ],
    );
}
