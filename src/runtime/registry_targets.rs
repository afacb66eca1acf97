//! Which registry values collection reads in its second pass
//! ([`reads`], sent by `client::collect` as `Query::RegistryValues`):
//!
//! - each value an autostart's code reads (`detect::registry_refs`, with
//!   `HKCU` resolved to the hive of the account it runs as), so that a
//!   payload kept in the registry has its data in the snapshot, is judged
//!   and is removed by a compare-and-delete of that data;
//! - every value of each key the first pass's findings would delete whole
//!   (a loader's configuration key, a UAC-bypass class key) and of every
//!   key under it: exactly what `Op::DeleteRegistryKey`'s digest covers,
//!   so the plan's digest is the host's, and the journal keeps each value
//!   the delete removes.
//!
//! [`merge`] puts the answers into the snapshot. Pure: no I/O.

use crate::detect::command_line::{self, Env, ParseCtx};
use crate::detect::registry_refs;
use crate::detect::{self, ArtifactRef, DetectContext, commands};

use super::ops::RegistryRead;
use super::snapshot::{RegistryValue, Snapshot};

/// One value to read: `hive` is `HKLM` or a user's SID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ValueRef {
    pub hive: String,
    pub key: String,
    pub value: String,
}

/// The values the autostarts of `snap` read.
pub fn referenced_values(snap: &Snapshot) -> Vec<ValueRef> {
    let mut out: Vec<ValueRef> = Vec::new();
    for c in commands::commands(snap) {
        if matches!(c.origin, commands::Origin::Process(_)) {
            continue;
        }
        let env = Env::for_user(c.user.as_ref());
        let parsed = command_line::parse(
            &c.text,
            &ParseCtx {
                cwd: c.cwd.as_deref(),
                ..ParseCtx::new(&env)
            },
        );
        let text = format!("{}\n{}", parsed.code, parsed.expanded);
        for r in registry_refs::references(&text) {
            let hive = match r.hive {
                "HKLM" => "HKLM".to_string(),
                _ => match &c.user {
                    Some(u) => u.sid.clone(),
                    None => continue,
                },
            };
            let v = ValueRef {
                hive,
                key: r.key,
                value: r.value,
            };
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out.sort();
    out
}

/// The keys the findings on `snap` delete whole (judged with no context:
/// the keys' own rules need none).
pub fn deleted_keys(snap: &Snapshot) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = detect::detect(snap, &DetectContext::default())
        .into_iter()
        .filter_map(|f| match f.artifact {
            ArtifactRef::RegistryKey { hive, key } => Some((hive, key)),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Everything pass two reads from the registry of `snap`'s host: the
/// values autostarts read, then the trees of the keys deleted whole.
pub fn reads(snap: &Snapshot) -> Vec<RegistryRead> {
    let values = referenced_values(snap).into_iter().map(|v| RegistryRead {
        hive: v.hive,
        key: v.key,
        value: v.value,
        tree: false,
    });
    let trees = deleted_keys(snap).into_iter().map(|(hive, key)| RegistryRead {
        hive,
        key,
        value: String::new(),
        tree: true,
    });
    values.chain(trees).collect()
}

/// Put the values pass two read into the snapshot's registry: one read
/// again replaces what pass one reported of it (pass two reads more of its
/// data), a new one is added.
pub fn merge(into: &mut Vec<RegistryValue>, read: Vec<RegistryValue>) {
    let same = |a: &RegistryValue, b: &RegistryValue| {
        a.hive.eq_ignore_ascii_case(&b.hive)
            && a.key.trim_matches('\\').eq_ignore_ascii_case(b.key.trim_matches('\\'))
            && a.value.eq_ignore_ascii_case(&b.value)
    };
    for v in read {
        match into.iter_mut().find(|x| same(x, &v)) {
            Some(x) => *x = v,
            None => into.push(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;

    #[test]
    fn values_read_by_autostarts_in_the_hive_they_run_with() {
        let code = "IEX (gp 'HKCU:\\Software\\Qxvbnt').rfklgq";
        let utf16: Vec<u8> = code.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, utf16);
        let b = SnapshotBuilder::new("WS1").user("bob");
        let sid = b.sid_of("bob");
        let s = b
            .run("bob", "x", &format!("powershell -w hidden -enc {b64}"))
            .task(
                r"\t",
                "powershell.exe",
                "-c \"iex (gp HKLM:\\SOFTWARE\\Kq).v\"",
                "SYSTEM",
                &[],
            )
            .task(
                r"\s",
                "powershell.exe",
                "-c \"iex (gp HKCU:\\Software\\Sys).w\"",
                "SYSTEM",
                &[],
            )
            .build();
        let v = referenced_values(&s);
        let want = |h: &str, k: &str, n: &str| ValueRef {
            hive: h.into(),
            key: k.into(),
            value: n.into(),
        };
        assert!(
            v.contains(&want(&sid, r"Software\Qxvbnt", "rfklgq")),
            "{v:?}"
        );
        assert!(v.contains(&want("HKLM", r"SOFTWARE\Kq", "v")), "{v:?}");
        // HKCU of a SYSTEM task is SYSTEM's hive.
        assert!(v.contains(&want("S-1-5-18", r"Software\Sys", "w")), "{v:?}");
        assert_eq!(v.len(), 3);
    }
}
