//! The pending file-rename queue (MoveFileEx with
//! MOVEFILE_DELAY_UNTIL_REBOOT), stored exactly as Windows stores it: the
//! REG_MULTI_SZ `PendingFileRenameOperations` under
//! `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`, as ordered
//! pairs of strings: source `\??\C:\path`, then destination `\??\C:\new`
//! (prefixed `!` for MOVEFILE_REPLACE_EXISTING) or an EMPTY string for
//! delete. smss.exe runs the queue early in boot, before any service or
//! Run key starts, ignoring failures, then removes the value.
//!
//! Because destinations may be empty strings, the raw value cannot be
//! split at the first double NUL: it is parsed by its length
//! (`from_raw_utf16`).

use super::files::{FileLocks, FileSystem, FsError, normalize};
use super::paths;
use super::registry::{RegData, RegError, Registry, hklm};
use super::time::LabTime;

/// One queued operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOp {
    /// DOS path (`C:\...`), without the `\??\` prefix.
    pub source: String,
    /// None: delete the source.
    pub destination: Option<String>,
    /// MOVEFILE_REPLACE_EXISTING (`!` prefix on the destination).
    pub replace_existing: bool,
}

impl PendingOp {
    pub fn delete(path: &str) -> PendingOp {
        PendingOp {
            source: path.into(),
            destination: None,
            replace_existing: false,
        }
    }
    pub fn rename(from: &str, to: &str, replace_existing: bool) -> PendingOp {
        PendingOp {
            source: from.into(),
            destination: Some(to.into()),
            replace_existing,
        }
    }
}

/// The REG_MULTI_SZ strings for a list of operations.
pub fn encode(ops: &[PendingOp]) -> Vec<String> {
    let mut v = Vec::with_capacity(ops.len() * 2);
    for op in ops {
        v.push(format!(r"\??\{}", op.source));
        v.push(match &op.destination {
            None => String::new(),
            Some(d) if op.replace_existing => format!(r"!\??\{d}"),
            Some(d) => format!(r"\??\{d}"),
        });
    }
    v
}

/// Parse the REG_MULTI_SZ strings into operations.
pub fn parse(strings: &[String]) -> Result<Vec<PendingOp>, String> {
    if !strings.len().is_multiple_of(2) {
        return Err(format!("odd number of strings ({})", strings.len()));
    }
    let strip = |s: &str| s.strip_prefix(r"\??\").unwrap_or(s).to_string();
    strings
        .chunks(2)
        .map(|pair| {
            if pair[0].is_empty() {
                return Err("empty source".to_string());
            }
            let (dest, replace) = match pair[1].as_str() {
                "" => (None, false),
                d => match d.strip_prefix('!') {
                    Some(d) => (Some(strip(d)), true),
                    None => (Some(strip(d)), false),
                },
            };
            Ok(PendingOp {
                source: strip(&pair[0]),
                destination: dest,
                replace_existing: replace,
            })
        })
        .collect()
}

/// The raw value bytes as UTF-16 code units: each string NUL-terminated,
/// then one more NUL.
pub fn to_raw_utf16(strings: &[String]) -> Vec<u16> {
    let mut v = Vec::new();
    for s in strings {
        v.extend(s.encode_utf16());
        v.push(0);
    }
    v.push(0);
    v
}

/// Split a raw REG_MULTI_SZ by its length (empty strings kept).
pub fn from_raw_utf16(raw: &[u16]) -> Vec<String> {
    if raw.len() <= 1 {
        return Vec::new();
    }
    let body = match raw {
        [rest @ .., 0, 0] => {
            // drop the list terminator, keep the last string's NUL
            let mut b = rest.to_vec();
            b.push(0);
            b
        }
        [rest @ .., 0] => rest.iter().copied().chain([0]).collect(),
        other => other.iter().copied().chain([0]).collect(),
    };
    let mut out: Vec<String> = body
        .split(|&c| c == 0)
        .map(String::from_utf16_lossy)
        .collect();
    out.pop(); // after the last string's NUL
    out
}

fn key() -> String {
    hklm(paths::SESSION_MANAGER)
}

fn read_value(reg: &Registry, name: &str) -> Result<Vec<PendingOp>, String> {
    match reg.get_value(&key(), name) {
        Ok(RegData::MultiSz(v)) => parse(v),
        Ok(other) => Err(format!("unexpected type {}", other.kind().name())),
        Err(_) => Ok(Vec::new()),
    }
}

/// Read the queue: PendingFileRenameOperations, then
/// PendingFileRenameOperations2 (empty when neither exists).
pub fn read(reg: &Registry) -> Result<Vec<PendingOp>, String> {
    let mut ops = read_value(reg, paths::PENDING_RENAMES_VALUE)?;
    ops.extend(read_value(reg, paths::PENDING_RENAMES2_VALUE)?);
    Ok(ops)
}

/// Append one operation, as MoveFileEx does: to
/// PendingFileRenameOperations2 when that value exists, else to
/// PendingFileRenameOperations (created if absent).
pub fn append(reg: &mut Registry, op: &PendingOp) -> Result<(), RegError> {
    let k = key();
    let name = if reg.get_value(&k, paths::PENDING_RENAMES2_VALUE).is_ok() { paths::PENDING_RENAMES2_VALUE } else { paths::PENDING_RENAMES_VALUE };
    let mut strings = match reg.get_value(&k, name) {
        Ok(RegData::MultiSz(v)) => v.clone(),
        _ => Vec::new(),
    };
    strings.extend(encode(std::slice::from_ref(op)));
    reg.put(&k, name, RegData::MultiSz(strings))
}

/// Remove both values and return what was queued, in the order smss runs
/// it (what smss does at boot).
pub fn take(reg: &mut Registry) -> Vec<PendingOp> {
    let ops = read(reg).unwrap_or_default();
    let _ = reg.delete_value(&key(), paths::PENDING_RENAMES_VALUE);
    let _ = reg.delete_value(&key(), paths::PENDING_RENAMES2_VALUE);
    ops
}

/// Carry out the operations in order (no process runs this early, but a
/// lock table can be given for tests); each result is reported.
pub fn execute(
    ops: &[PendingOp],
    fs: &mut FileSystem,
    now: LabTime,
    locks: &dyn FileLocks,
) -> Vec<(PendingOp, Result<(), FsError>)> {
    ops.iter()
        .map(|op| {
            let r = (|| {
                let src = normalize(&op.source)?;
                match &op.destination {
                    None if fs.is_dir(&src) => fs.remove_dir(&src, now),
                    None => fs.delete_file(&src, now, locks).map(|_| ()),
                    Some(d) => fs.rename(&src, d, op.replace_existing, now, locks),
                }
            })();
            (op.clone(), r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::files::{Content, NoLocks};

    #[test]
    fn append_parse_round_trip_in_windows_form() {
        let mut reg = Registry::new();
        assert!(read(&reg).unwrap().is_empty());
        let ops = [
            PendingOp::delete(r"C:\Users\bob\AppData\Local\Phx\wcgzvziqg.ljk"),
            PendingOp::rename(r"C:\x\a.dll", r"C:\x\a.old", true),
            PendingOp::delete(r"C:\Users\bob\AppData\Local\Phx"),
            PendingOp::rename(r"C:\x\b.dll", r"C:\x\b.old", false),
        ];
        for op in &ops {
            append(&mut reg, op).unwrap();
        }
        let RegData::MultiSz(strings) = reg
            .get_value(
                r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager",
                "PendingFileRenameOperations",
            )
            .unwrap()
        else {
            panic!("not REG_MULTI_SZ")
        };
        assert_eq!(
            strings[0],
            r"\??\C:\Users\bob\AppData\Local\Phx\wcgzvziqg.ljk"
        );
        assert_eq!(strings[1], "");
        assert_eq!(strings[3], r"!\??\C:\x\a.old");
        assert_eq!(strings[7], r"\??\C:\x\b.old");
        // raw bytes: empty destinations make double NULs inside the value
        let raw = to_raw_utf16(strings);
        let s0: Vec<u16> = r"\??\C:\Users\bob\AppData\Local\Phx\wcgzvziqg.ljk"
            .encode_utf16()
            .collect();
        assert_eq!(&raw[s0.len()..s0.len() + 2], &[0, 0]);
        assert_eq!(&raw[raw.len() - 2..], &[0, 0]);
        assert_eq!(&from_raw_utf16(&raw), strings);
        assert_eq!(read(&reg).unwrap(), ops);
        // a trailing delete ends in three NULs and still round-trips
        let tail = encode(&[PendingOp::delete(r"C:\a")]);
        let raw = to_raw_utf16(&tail);
        assert_eq!(&raw[raw.len() - 3..], &[0, 0, 0]);
        assert_eq!(
            parse(&from_raw_utf16(&raw)).unwrap(),
            vec![PendingOp::delete(r"C:\a")]
        );
        assert!(parse(&["\\??\\C:\\a".to_string()]).is_err());
        assert_eq!(take(&mut reg), ops);
        assert!(read(&reg).unwrap().is_empty());
    }

    #[test]
    fn execute_runs_in_order() {
        let t = LabTime::EPOCH;
        let mut fs = FileSystem::new(t);
        fs.plant_file(r"C:\D\f.dll", Content::text("a"), None, t)
            .unwrap();
        fs.plant_file(r"C:\D\g.dll", Content::text("b"), None, t)
            .unwrap();
        let ops = vec![
            PendingOp::delete(r"C:\D"), // fails: not empty yet
            PendingOp::delete(r"C:\D\f.dll"),
            PendingOp::rename(r"C:\D\g.dll", r"C:\g.old", false),
            PendingOp::delete(r"C:\D"),
            PendingOp::delete(r"C:\nope"),
        ];
        let res = execute(&ops, &mut fs, t, &NoLocks);
        let ok: Vec<bool> = res.iter().map(|(_, r)| r.is_ok()).collect();
        assert_eq!(ok, [false, true, true, true, false]);
        assert!(!fs.exists(r"C:\D") && fs.is_file(r"C:\g.old"));
    }

    /// MoveFileEx appends to PendingFileRenameOperations2 when it exists,
    /// else to PendingFileRenameOperations; smss runs the first, then the
    /// second, and removes both.
    #[test]
    fn append_goes_to_the_second_value_when_it_exists() {
        let mut reg = Registry::new();
        append(&mut reg, &PendingOp::delete(r"C:\a.dll")).unwrap();
        let k = key();
        reg.put(&k, paths::PENDING_RENAMES2_VALUE, RegData::MultiSz(vec![r"\??\C:\b.dll".into(), String::new()])).unwrap();
        append(&mut reg, &PendingOp::delete(r"C:\c.dll")).unwrap();
        assert_eq!(reg.get_value(&k, paths::PENDING_RENAMES_VALUE).unwrap(), &RegData::MultiSz(vec![r"\??\C:\a.dll".into(), String::new()]));
        let sources: Vec<String> = take(&mut reg).into_iter().map(|o| o.source).collect();
        assert_eq!(sources, [r"C:\a.dll", r"C:\b.dll", r"C:\c.dll"]);
        assert!(reg.get_value(&k, paths::PENDING_RENAMES2_VALUE).is_err());
    }
}
