//! File facts and reading a file on the lab host, as `Invoke-CzFileFacts`
//! and `Invoke-CzReadFile` do: each path asked for is reported as asked
//! (spelling kept), with existence, size, SHA-256 (unless larger than the
//! bound: reported), times, Authenticode status and signer; folders with
//! their entries (bounded, reported). A path with 8.3 short names
//! (`MICROS~1`) reaches the entry it names, as on Windows, and its long
//! form is reported beside it (what `GetLongPathName` gives).

use super::Run;
use super::iso::iso;
use crate::detect::paths::short_name_matches;
use crate::lab::world::files::{Content, Entry, FileSystem, hex, normalize};
use crate::runtime::ops::Bounds;

fn signature(e: &Entry) -> (&'static str, String) {
    match e.signer() {
        Some(s) if s.valid => ("valid", s.subject.to_string()),
        Some(s) => ("invalid", s.subject.to_string()),
        None => ("unsigned", String::new()),
    }
}

/// The path an entry is stored under, 8.3 short names (`MICROS~1`)
/// resolved component by component as Windows opens them.
pub fn long_name(fs: &FileSystem, path: &str) -> Option<String> {
    if fs.exists(path) {
        return Some(path.to_string());
    }
    let p = normalize(path).ok()?;
    let mut parts = p.split('\\');
    let mut cur = parts.next()?.to_string();
    for comp in parts {
        let next = format!(r"{cur}\{comp}");
        cur = if fs.exists(&next) {
            next
        } else if comp.contains('~') {
            fs.list(&cur)
                .ok()?
                .iter()
                .map(|(q, _)| q.to_string())
                .find(|q| short_name_matches(comp, q.rsplit('\\').next().unwrap_or(q)))?
        } else {
            return None;
        };
    }
    Some(cur)
}

fn one(run: &mut Run<'_>, asked: &str, list: bool, b: &Bounds) {
    entry_fact(run, asked, list, true, b.max_hash_bytes, b);
}

/// Facts of one path, as `Write-CzEntryFact` reports them: reported under
/// the name asked for, with its long form when it holds a `~` and that
/// differs; a folder's entry count (names when `list`); a file's size,
/// and when `deep` its SHA-256 (up to `max_hash` bytes, the cut reported)
/// and signature (`unknown` otherwise).
pub fn entry_fact(
    run: &mut Run<'_>,
    asked: &str,
    list: bool,
    deep: bool,
    max_hash: u64,
    b: &Bounds,
) {
    let path = asked;
    let stored = long_name(&run.host.files, asked);
    let entry = stored
        .as_deref()
        .and_then(|s| run.host.files.get(s))
        .cloned();
    let Some(e) = entry else {
        run.record("file", &[("path", path), ("exists", "0"), ("is_dir", "0")]);
        return;
    };
    let long = match stored.as_deref() {
        Some(l) if asked.contains('~') && l != asked => l.to_string(),
        _ => String::new(),
    };
    let (created, modified) = (iso(e.times.created), iso(e.times.modified));
    if e.is_dir() {
        let names: Vec<String> = run
            .host
            .files
            .list(stored.as_deref().unwrap_or(path))
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
            ("long_path", &long),
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
    let (mut sha, mut sig, mut signer) = (String::new(), "unknown", String::new());
    if deep {
        if size > max_hash {
            run.trunc(
                &format!("hash of {path} ({size} bytes)"),
                &format!("{max_hash} bytes"),
            );
        } else {
            sha = e.sha256().map(|h| hex(&h)).unwrap_or_default();
        }
        (sig, signer) = signature(&e);
    }
    run.record(
        "file",
        &[
            ("path", path),
            ("long_path", &long),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::LabTime;

    #[test]
    fn short_names_reach_the_long_entry() {
        let mut fs = FileSystem::new(LabTime::EPOCH);
        let long = r"C:\Users\u\AppData\Roaming\Microsoft\Internet Explorer\Quick Launch\8BZQKUfNh\DeviceEnroller.exe";
        fs.plant_file(long, Content::text("x"), None, LabTime::EPOCH)
            .unwrap();
        let short = r"C:\Users\u\AppData\Roaming\MICROS~1\INTERN~1\QUICKL~1\8BZQKU~1\DEVICE~1.EXE";
        assert_eq!(long_name(&fs, short).as_deref(), Some(long));
        assert_eq!(long_name(&fs, long).as_deref(), Some(long));
        assert_eq!(long_name(&fs, r"C:\Users\u\AppData\Roaming\MOZILL~1"), None);
    }
}
