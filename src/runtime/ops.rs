//! The closed set of operations the host-side runtime carries out, and
//! what each reports. Defined once here; the PowerShell runtime
//! (`runtime.ps1`, one function per kind) implements exactly these; it
//! runs for real in the lab's PowerShell engine (`runtime::on_lab`,
//! `tests/runtime_contract.rs`, which also runs on a live Windows host).
//!
//! Two families:
//! - [`Query`]: read-only. [`Query::Collect`] gathers the raw facts of a
//!   host (everything a loader can start from, processes, residue);
//!   [`Query::FileFacts`] then gathers facts of the files those start
//!   (the Rust side finds them by parsing command lines, see
//!   `client::collect`); [`Query::Events`] reads what the event logs
//!   recorded of lateral movement; [`Query::ReadFile`] reads evidence in
//!   chunks.
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

pub use super::host_text::HostName;
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
    /// Registry values pass two asks for by name (see
    /// `runtime::registry_targets`): each [`RegistryRead`] is one value,
    /// or a whole key with every key under it. Answered with `reg`
    /// records; data is reported up to `bounds.max_field_bytes` in all (a
    /// value's type and the SHA-256 of its whole data always), a tree up
    /// to the limits a whole-key delete digests (64 levels, 10000 values),
    /// every cut reported.
    RegistryValues {
        reads: Vec<RegistryRead>,
        bounds: Bounds,
    },
    /// Up to `max_bytes` of a file from `offset` (evidence over WinRM when
    /// SMB is not available).
    ReadFile {
        path: String,
        offset: u64,
        max_bytes: u32,
    },
    /// What the host's event logs recorded of lateral movement (see
    /// [`EventBounds`] and `snapshot::LoggedEvent`): System 7045, Security
    /// 4624 network logons and 4698, Task Scheduler 106, each log's
    /// newest records within the window; a log that cannot be read is
    /// reported as such, never as empty.
    Events { bounds: EventBounds },
}

/// Bounds of the event-log read ([`Query::Events`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventBounds {
    /// Newest records read per log and event ID (for Security 4624, the
    /// records read before network logons are picked out of them).
    pub max_per_kind: u32,
    /// Only records of the last this many days.
    pub days: u32,
    /// Characters kept of each text a record carries (a cut is reported).
    pub max_text_chars: u32,
}

impl Default for EventBounds {
    fn default() -> Self {
        EventBounds { max_per_kind: 2000, days: 30, max_text_chars: 1024 }
    }
}

/// One read of [`Query::RegistryValues`]. `hive` is `HKLM` or a SID;
/// `value` is a value's name (`(default)` also finds the unnamed value)
/// when `tree` is false, empty when `tree` reads every value of `key` and
/// of the keys under it (what [`Op::DeleteRegistryKey`]'s digest covers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RegistryRead {
    pub hive: String,
    pub key: String,
    pub value: String,
    pub tree: bool,
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
/// plan file shows. Every text that came from the host is a [`HostName`]:
/// exact (an unpaired surrogate survives), shown and written to the plan
/// in its shown form (`\u{D800}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// End a process, if `pid` still runs `expected_image` (full path or
    /// file name, case-insensitive) and, when given, started at
    /// `expected_started` (the snapshot's `started`, guards PID reuse).
    KillProcess {
        pid: u32,
        expected_image: HostName,
        #[serde(default)]
        expected_started: String,
    },
    /// Delete a value, if it still has this type and its whole data still
    /// has this SHA-256 ([`reg_data_sha256`], computed on the host, so a
    /// value that collection showed only in part is compared whole).
    /// `hive` is `HKLM` or a user's SID; a user hive that is not loaded is
    /// loaded under a temporary key for the operation and always unloaded
    /// again. `data` is what the scan showed of the data, for the reviewer
    /// (not compared, not sent to the host): cut when `data_cut`.
    DeleteRegistryValue {
        hive: String,
        key: HostName,
        value: HostName,
        expected_type: String,
        expected_data_sha256: String,
        data: HostName,
        #[serde(default, skip_serializing_if = "is_false")]
        data_cut: bool,
    },
    /// Delete a scheduled task (hidden ones too), if its exec actions are
    /// still exactly these.
    DeleteTask {
        path: HostName,
        expected_actions: Vec<TaskAction>,
    },
    /// Stop and delete a service, if its ImagePath and its ServiceDll
    /// (empty: none) are still these: every svchost-hosted service shares
    /// one ImagePath, the DLL is what tells them apart. A service that
    /// cannot stop now is marked for deletion: `QueuedForReboot`.
    DeleteService {
        name: HostName,
        expected_image_path: HostName,
        #[serde(default)]
        expected_service_dll: HostName,
    },
    /// Remove a WMI permanent subscription in `root\subscription`: the
    /// bindings between the filter and the consumer, then the consumer and
    /// the filter, if the filter's query and the consumer's action are
    /// still these. `consumer_type` is the consumer class
    /// (`CommandLineEventConsumer`, ...).
    DeleteWmiSubscription {
        filter: HostName,
        consumer: HostName,
        consumer_type: String,
        expected_query: HostName,
        expected_action: HostName,
    },
    /// Delete a whole key (its subkeys too) - a loader's configuration
    /// key, a UAC-bypass class key - if it still holds exactly the values
    /// the scan saw: the same value names (`subkey\\name`, `(default)` for
    /// the unnamed value, relative to `key`, for the reviewer) and the same
    /// names, types and data, compared through [`registry_tree_digest`].
    /// `hive` as for [`Op::DeleteRegistryValue`]. The runtime refuses, on
    /// its own, a key right under a hive's root, anything under HKLM's
    /// SYSTEM, SAM, SECURITY, HARDWARE and BCD, and the keys Windows and
    /// its programs are built on (`Software\Microsoft`, the Run keys, ...).
    DeleteRegistryKey {
        hive: String,
        key: HostName,
        expected_values: Vec<HostName>,
        expected_digest: String,
    },
    /// Delete a file if its SHA-256 is still this (lower-case hex). When it
    /// is locked and `queue_if_locked`, it is queued for deletion at boot
    /// instead (`QueuedForReboot`). `lateral_service`: only for a copy
    /// directly in the Windows folder that a recorded service install ties
    /// to lateral movement (`FLEET-LATERAL-COPY`), the name of that
    /// service; the runtime deletes a file there only when the host's own
    /// System 7045 record of that service runs exactly this path and the
    /// file is not validly signed, not named like a file Windows keeps,
    /// and newer than Windows' install (`Get-CzUnsafeReason`).
    DeleteFile {
        path: HostName,
        expected_sha256: String,
        #[serde(default)]
        queue_if_locked: bool,
        #[serde(default, skip_serializing_if = "is_no_name")]
        lateral_service: HostName,
    },
    /// Queue a file for deletion at the next boot
    /// (PendingFileRenameOperations through MoveFileEx), if its SHA-256 is
    /// still this. Queuing twice does not add a second entry.
    /// `lateral_service` as for [`Op::DeleteFile`].
    QueueDeleteOnReboot {
        path: HostName,
        expected_sha256: String,
        #[serde(default, skip_serializing_if = "is_no_name")]
        lateral_service: HostName,
    },
    /// Remove a loader's folder once its files are gone: only if it is
    /// empty, or holds nothing but files of `may_hold` (by name, each with
    /// that SHA-256; they are deleted first), never a folder holding a
    /// subfolder or anything else (drift), never a folder that is, or is
    /// reached through, a junction or symbolic link. The folder itself is
    /// removed with a non-recursive delete, so what appears meanwhile
    /// keeps it. `after_reboot` is the plan's: the step runs after the
    /// host's reboot (a folder the purge denied writes to, or one whose
    /// files go at boot); it stays home (not sent to the host).
    RemoveFolder {
        path: HostName,
        may_hold: Vec<HeldFile>,
        #[serde(default, skip_serializing_if = "is_false")]
        after_reboot: bool,
    },
}

/// A file a folder may still hold when [`Op::RemoveFolder`] removes it:
/// one the plan deletes (its name in the folder, and the SHA-256 the scan
/// saw).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldFile {
    pub name: String,
    pub sha256: String,
}

impl Op {
    /// The name of the operation kind (also its tag in the job framing).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::KillProcess { .. } => "KillProcess",
            Op::DeleteRegistryValue { .. } => "DeleteRegistryValue",
            Op::DeleteTask { .. } => "DeleteTask",
            Op::DeleteService { .. } => "DeleteService",
            Op::DeleteWmiSubscription { .. } => "DeleteWmiSubscription",
            Op::DeleteRegistryKey { .. } => "DeleteRegistryKey",
            Op::DeleteFile { .. } => "DeleteFile",
            Op::QueueDeleteOnReboot { .. } => "QueueDeleteOnReboot",
            Op::RemoveFolder { .. } => "RemoveFolder",
        }
    }
}

/// A power request: what the reboot phase asks of a host. Not
/// compare-and-delete (nothing the plan saw is compared); each is safe to
/// send again. `runtime.ps1` carries them out with `Get-WmiObject` and
/// `shutdown.exe`; [`super::power`] reads their answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "power", rename_all = "snake_case")]
pub enum Power {
    /// `Win32_OperatingSystem.LastBootUpTime`, as WMI gives it (a CIM
    /// datetime with the host's UTC offset at that moment).
    BootTime,
    /// Read back, of `files` (the files the purge deleted or queued for
    /// deletion at boot), which are gone and which the pending file-rename
    /// queue deletes at boot, then
    /// `shutdown.exe /r /t <countdown_secs> /c <message> /d <reason>`.
    Reboot {
        countdown_secs: u32,
        message: String,
        /// shutdown.exe's `/d` reason (`p:2:18`: planned, operating
        /// system, security fix).
        reason: String,
        files: Vec<String>,
    },
    /// `shutdown.exe /a`: cancel a countdown.
    AbortReboot,
    /// The users with an interactive session (console or Remote Desktop,
    /// active or disconnected), from the owners of the processes outside
    /// session 0.
    LoggedOnUsers,
}

impl Power {
    /// The name of the request kind (its tag in the job framing).
    pub fn kind(&self) -> &'static str {
        match self {
            Power::BootTime => "BootTime",
            Power::Reboot { .. } => "Reboot",
            Power::AbortReboot => "AbortReboot",
            Power::LoggedOnUsers => "LoggedOnUsers",
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

/// The bytes whose SHA-256 stands for a value's data (what `runtime.ps1`'s
/// `ConvertTo-CzRegBytes` hashes): REG_SZ / REG_EXPAND_SZ as the UTF-16LE
/// code units of the string as stored (unexpanded, no terminating NUL;
/// `strings` in the held form of `host_text`, so exact), REG_MULTI_SZ each
/// string's code units followed by one NUL unit, REG_DWORD / REG_QWORD as
/// 4 / 8 bytes little-endian, anything else its raw bytes.
pub fn reg_data_bytes(value_type: &str, strings: &[String], number: u64, bytes: &[u8]) -> Vec<u8> {
    let units = |s: &str| -> Vec<u8> {
        super::host_text::units(s)
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect()
    };
    match value_type {
        "REG_SZ" | "REG_EXPAND_SZ" => strings.first().map(|s| units(s)).unwrap_or_default(),
        "REG_MULTI_SZ" => strings
            .iter()
            .flat_map(|s| {
                let mut b = units(s);
                b.extend([0, 0]);
                b
            })
            .collect(),
        "REG_DWORD" => (number as u32).to_le_bytes().to_vec(),
        "REG_QWORD" => number.to_le_bytes().to_vec(),
        _ => bytes.to_vec(),
    }
}

/// Lower-case hex SHA-256 of [`reg_data_bytes`].
pub fn reg_data_sha256(value_type: &str, strings: &[String], number: u64, bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(reg_data_bytes(value_type, strings, number, bytes)))
}

/// [`reg_data_sha256`] of a one-string value (REG_SZ, REG_EXPAND_SZ).
pub fn reg_string_sha256(value_type: &str, text: &str) -> String {
    reg_data_sha256(value_type, &[text.to_string()], 0, &[])
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_no_name(n: &HostName) -> bool {
    n.is_empty()
}

/// One value of a registry tree, for [`registry_tree_digest`]: the
/// subkey relative to the tree's key (`""` for the key itself), the value
/// name (`""` for the unnamed one), both in the held form of `host_text`
/// (exact), its type and the [`reg_data_sha256`] of its whole data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeValue {
    pub subkey: HostName,
    pub name: HostName,
    pub value_type: String,
    pub data_sha256: String,
}

impl TreeValue {
    /// `subkey\name` as [`Op::DeleteRegistryKey`] lists it (`(default)`
    /// for the unnamed value).
    pub fn label(&self) -> HostName {
        let name = if self.name.is_empty() {
            "(default)"
        } else {
            self.name.as_str()
        };
        if self.subkey.is_empty() {
            name.into()
        } else {
            format!("{}\\{name}", self.subkey.as_str()).into()
        }
    }
}

/// The digest [`Op::DeleteRegistryKey`] compares: SHA-256 (lower-case hex)
/// of one line per value, `subkey<TAB>name<TAB>type<TAB>data_sha256`
/// (value names exactly as the registry stores them: it returns the stored
/// case to the scan and to the delete alike; the subkey path with ASCII
/// `A`-`Z` lowered, because key names are case-insensitive and a scan
/// names a key as it asked for it, `shell\open\command`, while the delete
/// walks the stored names, `Shell\open\command`; other case differences
/// read as drift, never as a match), the lines sorted by their UTF-16
/// code units (.NET's ordinal order) and joined with LF, hashed as UTF-16LE
/// code units (so a name with an unpaired surrogate is hashed exactly, as
/// `runtime.ps1`'s `ConvertTo-CzUnits` gives them).
pub fn registry_tree_digest(values: &[TreeValue]) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<Vec<u16>> = values
        .iter()
        .map(|v| {
            let mut l: Vec<u16> = super::host_text::units(v.subkey.as_str())
                .into_iter()
                .map(|u| if (0x41..=0x5A).contains(&u) { u + 0x20 } else { u })
                .collect();
            l.push(u16::from(b'\t'));
            l.extend(super::host_text::units(v.name.as_str()));
            for t in [&v.value_type, &v.data_sha256] {
                l.push(u16::from(b'\t'));
                l.extend(t.encode_utf16());
            }
            l
        })
        .collect();
    lines.sort();
    let joined = lines.join(&u16::from(b'\n'));
    let bytes: Vec<u8> = joined.iter().flat_map(|u| u.to_le_bytes()).collect();
    hex(&Sha256::digest(&bytes))
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
            lateral_service: Default::default(),
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
    fn a_tree_digest_ignores_order_but_not_names_or_data() {
        let v = |k: &str, n: &str, d: &str| TreeValue {
            subkey: k.into(),
            name: n.into(),
            value_type: "REG_BINARY".into(),
            data_sha256: d.repeat(32),
        };
        let a = registry_tree_digest(&[v("", "1a2b3c4d", "0f"), v("", "9f8e7d6c", "01")]);
        let b = registry_tree_digest(&[v("", "9f8e7d6c", "01"), v("", "1a2b3c4d", "0f")]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        for other in [
            vec![v("", "1a2b3c4d", "0e"), v("", "9f8e7d6c", "01")],
            vec![v("", "1a2b3c4d", "0f")],
            vec![v("x", "1a2b3c4d", "0f"), v("", "9f8e7d6c", "01")],
            vec![v("", "1A2B3C4D", "0f"), v("", "9f8e7d6c", "01")],
        ] {
            assert_ne!(a, registry_tree_digest(&other), "{other:?}");
        }
        // A subkey path's ASCII case does not count (the scan names a key
        // as it asked for it); a value name's does, and non-ASCII case does.
        let tree = |k: &str, n: &str| registry_tree_digest(&[v(k, n, "0f")]);
        assert_eq!(tree(r"Shell\Open\command", "x"), tree(r"shell\open\COMMAND", "x"));
        assert_ne!(tree(r"shell", "X"), tree(r"shell", "x"));
        assert_ne!(tree("\u{C9}", "x"), tree("\u{E9}", "x"));
        // The documented line form, as UTF-16LE: one known digest.
        let one = registry_tree_digest(&[TreeValue {
            subkey: r"Shell\Open\Command".into(),
            name: HostName::default(),
            value_type: "REG_SZ".into(),
            data_sha256: "ab".repeat(32),
        }]);
        let line = format!("shell\\open\\command\t\tREG_SZ\t{}", "ab".repeat(32));
        let le: Vec<u8> = line.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        use sha2::{Digest, Sha256};
        assert_eq!(one, hex(&Sha256::digest(&le)));
        assert_eq!(
            v(r"Shell\open\command", "", "").label().as_str(),
            r"Shell\open\command\(default)"
        );
        // An unpaired surrogate is hashed as its own code unit, not U+FFFD.
        let held = crate::runtime::host_text::from_units(&[0xD800, u16::from(b'x')]);
        let fffd = crate::runtime::host_text::from_units(&[0xFFFD, u16::from(b'x')]);
        assert_ne!(
            registry_tree_digest(&[v("", &held, "0f")]),
            registry_tree_digest(&[v("", &fffd, "0f")])
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

    #[test]
    fn registry_hash_forms() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(reg_data_bytes("REG_SZ", &s(&["aé"]), 0, &[]), vec![0x61, 0, 0xe9, 0]);
        assert_eq!(
            reg_data_bytes("REG_MULTI_SZ", &s(&["a", ""]), 0, &[]),
            vec![0x61, 0, 0, 0, 0, 0]
        );
        assert_eq!(reg_data_bytes("REG_DWORD", &[], 0x0102_0304, &[]), vec![4, 3, 2, 1]);
        assert_eq!(reg_data_bytes("REG_QWORD", &[], 1, &[]).len(), 8);
        assert_eq!(reg_data_bytes("REG_BINARY", &[], 0, &[9, 8]), vec![9, 8]);
        // An unpaired surrogate is hashed as itself, not as U+FFFD.
        let lone = crate::runtime::host_text::from_units(&[0xD800]);
        assert_eq!(reg_data_bytes("REG_SZ", &[lone], 0, &[]), vec![0x00, 0xD8]);
        assert_eq!(
            reg_data_sha256("REG_SZ", &[], 0, &[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
