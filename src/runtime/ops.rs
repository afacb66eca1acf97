//! The closed set of operations the host-side runtime carries out, and
//! what each reports. Defined once here; the PowerShell runtime
//! (`runtime.ps1`, one function per kind) and the lab
//! (`crate::lab::runtime_host`) implement exactly these, and
//! `tests/runtime_contract.rs` holds both to the same behaviour.
//!
//! Two families:
//! - [`Query`]: read-only. [`Query::Collect`] gathers the raw facts of a
//!   host (everything a loader can start from, processes, residue);
//!   [`Query::FileFacts`] then gathers facts of the files those start
//!   (the Rust side finds them by parsing command lines, see
//!   `client::collect`); [`Query::ReadFile`] reads evidence in chunks.
//! - [`Op`]: destructive and compare-and-delete. Each carries what the plan
//!   saw; the runtime acts only if the host still shows exactly that,
//!   otherwise it reports [`OpOutcome::Drift`] with what it sees now. Each
//!   is idempotent: run twice, the second run reports
//!   [`OpOutcome::AlreadyAbsent`] (or [`OpOutcome::QueuedForReboot`] again).
//!
//! Registry data is compared in its text form ([`reg_data_text`] rules):
//! REG_SZ / REG_EXPAND_SZ as stored (unexpanded), REG_MULTI_SZ joined with
//! `\n`, REG_DWORD / REG_QWORD in decimal, REG_BINARY (and anything else)
//! as lower-case hex.

use serde::{Deserialize, Serialize};

pub use super::snapshot::TaskAction;

/// Bounds of one collection: what the runtime stops at (and reports as a
/// truncation), and what the Rust side accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounds {
    /// Values read from one registry key.
    pub max_values_per_key: u32,
    /// Items of one kind (tasks, services, processes, autoruns, users,
    /// files asked for, registry residue values, WMI objects).
    pub max_items: u32,
    /// Bytes of one string field (UTF-8, before base64), both directions.
    pub max_field_bytes: u32,
    /// Bytes of REG_BINARY data reported (as hex: twice this many chars).
    pub max_binary_bytes: u32,
    /// Entries listed per folder.
    pub max_listing: u32,
    /// Files larger than this are not hashed (reported, never silent).
    pub max_hash_bytes: u64,
    /// Bytes of framed output the runtime writes in all; the Rust side
    /// refuses more.
    pub max_output_bytes: u64,
    /// Seconds the runtime may spend; then it stops collecting and
    /// reports what it did not reach.
    pub time_limit_secs: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_values_per_key: 10_000,
            max_items: 20_000,
            max_field_bytes: 2 * 1024 * 1024,
            max_binary_bytes: 4096,
            max_listing: 1000,
            max_hash_bytes: 2 * 1024 * 1024 * 1024,
            max_output_bytes: 12 * 1024 * 1024,
            time_limit_secs: 600,
        }
    }
}

/// A read-only request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "query", rename_all = "snake_case")]
pub enum Query {
    /// The raw facts of a host (no file facts: see [`Query::FileFacts`]).
    Collect { bounds: Bounds },
    /// Existence, size, SHA-256, times, signature of each path; for a
    /// folder (and for each path in `list_dirs`), its listing.
    FileFacts {
        paths: Vec<String>,
        list_dirs: Vec<String>,
        bounds: Bounds,
    },
    /// The drop-folder sweep: facts of the entries of each root (and of
    /// its subfolders, `depth` levels down), files named by nothing
    /// included; paths in `skip` (asked for by name in the same job) are
    /// left out. Each root reports at most `max_entries` entries (the cut
    /// reported); a file is hashed (and its signature read) only when its
    /// extension is one of `hash_extensions` and it is at most
    /// `max_hash_bytes` long. See [`SweepRoot`] and `runtime::sweep`.
    Sweep {
        roots: Vec<SweepRoot>,
        skip: Vec<String>,
        hash_extensions: Vec<String>,
        max_entries: u32,
        max_hash_bytes: u64,
        bounds: Bounds,
    },
    /// Up to `max_bytes` of a file from `offset` (evidence over WinRM when
    /// SMB is not available).
    ReadFile {
        path: String,
        offset: u64,
        max_bytes: u32,
    },
}

/// One folder of the drop-folder sweep ([`Query::Sweep`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRoot {
    pub path: String,
    /// Levels of subfolders entered below `path` (0: its own entries).
    pub depth: u32,
    /// When not empty, only files with one of these extensions (lower-case,
    /// no dot) are reported, and folders are entered but not reported.
    pub extensions: Vec<String>,
    /// When not 0, only files written or created within this many days
    /// before the host's clock are reported (folders as with
    /// `extensions`).
    pub recent_days: u32,
}

impl SweepRoot {
    /// A filtered root reports files only (see the fields).
    pub fn filtered(&self) -> bool {
        !self.extensions.is_empty() || self.recent_days > 0
    }
}

/// A destructive, compare-and-delete operation. Field names are what the
/// plan file shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// End a process, if `pid` still runs `expected_image` (full path or
    /// file name, case-insensitive) and, when given, started at
    /// `expected_started` (the snapshot's `started`, guards PID reuse).
    KillProcess {
        pid: u32,
        expected_image: String,
        #[serde(default)]
        expected_started: String,
    },
    /// Delete a value, if it still has this type and data. `hive` is `HKLM`
    /// or a user's SID; a user hive that is not loaded is loaded under a
    /// temporary key for the operation and always unloaded again.
    DeleteRegistryValue {
        hive: String,
        key: String,
        value: String,
        expected_type: String,
        expected_data: String,
    },
    /// Delete a scheduled task (hidden ones too), if its exec actions are
    /// still exactly these.
    DeleteTask {
        path: String,
        expected_actions: Vec<TaskAction>,
    },
    /// Stop and delete a service, if its ImagePath is still this. A service
    /// that cannot stop now is marked for deletion: `QueuedForReboot`.
    DeleteService {
        name: String,
        expected_image_path: String,
    },
    /// Remove a WMI permanent subscription in `root\subscription`: the
    /// bindings between the filter and the consumer, then the consumer and
    /// the filter, if the filter's query and the consumer's action are
    /// still these. `consumer_type` is the consumer class
    /// (`CommandLineEventConsumer`, ...).
    DeleteWmiSubscription {
        filter: String,
        consumer: String,
        consumer_type: String,
        expected_query: String,
        expected_action: String,
    },
    /// Delete a whole key (its subkeys too) - a loader's configuration
    /// key, a UAC-bypass class key - if it still holds exactly the values
    /// the scan saw: the same value names (`subkey\\name`, `(default)` for
    /// the unnamed value, relative to `key`) and the same data, compared
    /// through [`registry_tree_digest`]. `hive` as for
    /// [`Op::DeleteRegistryValue`]. Not yet carried out by `runtime.ps1`
    /// (it reports "unknown operation" until the PowerShell engine lands).
    DeleteRegistryKey {
        hive: String,
        key: String,
        expected_values: Vec<String>,
        expected_digest: String,
    },
    /// Delete a file if its SHA-256 is still this (lower-case hex). When it
    /// is locked and `queue_if_locked`, it is queued for deletion at boot
    /// instead (`QueuedForReboot`).
    DeleteFile {
        path: String,
        expected_sha256: String,
        #[serde(default)]
        queue_if_locked: bool,
    },
    /// Queue a file for deletion at the next boot
    /// (PendingFileRenameOperations through MoveFileEx), if its SHA-256 is
    /// still this. Queuing twice does not add a second entry.
    QueueDeleteOnReboot {
        path: String,
        expected_sha256: String,
    },
}

impl Op {
    /// The name of the operation kind (also its tag in the job framing).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::KillProcess { .. } => "KillProcess",
            Op::DeleteRegistryValue { .. } => "DeleteRegistryValue",
            Op::DeleteRegistryKey { .. } => "DeleteRegistryKey",
            Op::DeleteTask { .. } => "DeleteTask",
            Op::DeleteService { .. } => "DeleteService",
            Op::DeleteWmiSubscription { .. } => "DeleteWmiSubscription",
            Op::DeleteFile { .. } => "DeleteFile",
            Op::QueueDeleteOnReboot { .. } => "QueueDeleteOnReboot",
        }
    }
}

/// What one [`Op`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpOutcome {
    /// Carried out.
    Done,
    /// Nothing to do: already gone (a second run, or the loader removed it).
    AlreadyAbsent,
    /// The host no longer shows what the plan saw; nothing was done.
    /// `observed` says what it shows now.
    Drift { observed: String },
    /// Locked or in use: it goes at the next boot.
    QueuedForReboot,
    /// Could not be done, and why (access denied, ...).
    Failed { reason: String },
}

/// What [`Query::ReadFile`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileChunk {
    pub path: String,
    pub offset: u64,
    pub data: Vec<u8>,
    /// Size of the whole file.
    pub size: u64,
    /// `offset + data.len() == size`.
    pub eof: bool,
}

/// The text form of registry data that collection reports and
/// compare-and-delete compares (see the module documentation). `strings`
/// are the value's strings (one for REG_SZ), `number` its integer, `bytes`
/// its raw bytes; the one matching `value_type` is used.
pub fn reg_data_text(value_type: &str, strings: &[String], number: u64, bytes: &[u8]) -> String {
    match value_type {
        "REG_SZ" | "REG_EXPAND_SZ" => strings.first().cloned().unwrap_or_default(),
        "REG_MULTI_SZ" => strings.join("\n"),
        "REG_DWORD" | "REG_QWORD" => number.to_string(),
        _ => hex(bytes),
    }
}

/// One value of a registry tree, for [`registry_tree_digest`]: the
/// subkey relative to the tree's key (`""` for the key itself), the value
/// name (`""` for the unnamed one), its type and its data in the
/// [`reg_data_text`] form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeValue {
    pub subkey: String,
    pub name: String,
    pub value_type: String,
    pub data: String,
}

impl TreeValue {
    /// `subkey\name` as [`Op::DeleteRegistryKey`] lists it (`(default)`
    /// for the unnamed value).
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() {
            "(default)"
        } else {
            &self.name
        };
        if self.subkey.is_empty() {
            name.to_string()
        } else {
            format!("{}\\{name}", self.subkey)
        }
    }
}

/// The digest [`Op::DeleteRegistryKey`] compares: SHA-256 (lower-case hex)
/// of one line per value, `subkey<TAB>name<TAB>type<TAB>data`, subkey and
/// name lower-cased (the registry ignores their case), the lines sorted
/// (ordinal) and joined with `\n`, as UTF-8. The runtime computes the same
/// over what the host holds under the key.
pub fn registry_tree_digest(values: &[TreeValue]) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "{}\t{}\t{}\t{}",
                v.subkey.to_lowercase(),
                v.name.to_lowercase(),
                v.value_type,
                v.data
            )
        })
        .collect();
    lines.sort();
    hex(&Sha256::digest(lines.join("\n").as_bytes()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_serialise_with_their_kind_tag() {
        let op = Op::DeleteFile {
            path: r"C:\x".into(),
            expected_sha256: "ab".into(),
            queue_if_locked: true,
        };
        let j = serde_json::to_value(&op).expect("serialises");
        assert_eq!(j["op"], "delete_file");
        assert_eq!(op.kind(), "DeleteFile");
        let back: Op = serde_json::from_value(j).expect("parses");
        assert_eq!(back, op);
        let o = serde_json::to_value(OpOutcome::Drift {
            observed: "x".into(),
        })
        .expect("serialises");
        assert_eq!(o["outcome"], "drift");
    }

    #[test]
    fn a_tree_digest_ignores_order_and_name_case_but_not_data() {
        let v = |k: &str, n: &str, d: &str| TreeValue {
            subkey: k.into(),
            name: n.into(),
            value_type: "REG_BINARY".into(),
            data: d.into(),
        };
        let a = registry_tree_digest(&[v("", "1a2b3c4d", "00ff"), v("", "9f8e7d6c", "01")]);
        let b = registry_tree_digest(&[v("", "9F8E7D6C", "01"), v("", "1A2B3C4D", "00ff")]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            registry_tree_digest(&[v("", "1a2b3c4d", "00fe"), v("", "9f8e7d6c", "01")])
        );
        assert_ne!(a, registry_tree_digest(&[v("", "1a2b3c4d", "00ff")]));
        assert_ne!(
            a,
            registry_tree_digest(&[v("x", "1a2b3c4d", "00ff"), v("", "9f8e7d6c", "01")])
        );
        // The documented line form: one known digest.
        let one = registry_tree_digest(&[TreeValue {
            subkey: r"Shell\Open\Command".into(),
            name: String::new(),
            value_type: "REG_SZ".into(),
            data: "x.exe".into(),
        }]);
        use sha2::{Digest, Sha256};
        assert_eq!(
            one,
            hex(&Sha256::digest(
                "shell\\open\\command\t\tREG_SZ\tx.exe".as_bytes()
            ))
        );
        assert_eq!(
            v(r"Shell\open\command", "", "").label(),
            r"Shell\open\command\(default)"
        );
    }

    #[test]
    fn registry_text_forms() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(reg_data_text("REG_SZ", &s(&["a b"]), 0, &[]), "a b");
        assert_eq!(
            reg_data_text("REG_MULTI_SZ", &s(&["a", "", "b"]), 0, &[]),
            "a\n\nb"
        );
        assert_eq!(
            reg_data_text("REG_DWORD", &[], 4_294_967_295, &[]),
            "4294967295"
        );
        assert_eq!(reg_data_text("REG_BINARY", &[], 0, &[0, 0xab]), "00ab");
    }
}
