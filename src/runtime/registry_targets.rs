//! Which registry values collection should read beyond its first pass:
//! each value an autostart's code reads (`detect::registry_refs`, with
//! `HKCU` resolved to the hive of the account it runs as), so that a
//! payload kept in the registry has its data in the snapshot, is judged
//! and is removed by a compare-and-delete of that data.
//!
//! Design only: `runtime.ps1` does not read these yet (it will, through
//! the lab's PowerShell engine: see the README's status), so
//! `client::collect` does not send them. Pure: no I/O.

use crate::detect::command_line::{self, Env, ParseCtx};
use crate::detect::commands;
use crate::detect::registry_refs;

use super::snapshot::Snapshot;

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
