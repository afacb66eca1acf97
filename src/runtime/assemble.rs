//! Records to Rust values: the record kinds and fields each job item
//! answers with (the contract `runtime.ps1` and the lab both print).
//!
//! | item | record | fields |
//! |---|---|---|
//! | Collect | `host` | computer_name os_caption os_build ps_version collected_at volume_serial |
//! | | `user` | name sid profile_path appdata local_appdata temp logged_on |
//! | | `autorun` | kind (`registry`/`startup`) hive key value path user_sid command value_type data_sha256 data_cut |
//! | | `service` | name display_name image_path start_type state account service_dll |
//! | | `task` | path author principal enabled hidden trigger* action_path* action_arguments* action_working_directory* |
//! | | `wmi` | filter_name query consumer_name consumer_type action |
//! | | `process` | pid parent_pid image command_line user started |
//! | | `reg` | hive key value value_type data data_sha256 data_cut |
//! | | `sys32` | name* |
//! | | `serves` | domain_role share* printer* |
//! | RegistryValues | `reg` | as above |
//! | FileFacts, Sweep | `file` | path long_path exists is_dir size sha256 created modified signature signer original_name entries entry* |
//! | Events | `event` | log event_id record_id at, then by event: service image_path account (7045), source_address account logon_type (4624), task user (4698, 106) |
//! | | `evlog` | log event_id state detail read cut oldest read_at |
//! | ReadFile | `chunk` | path offset size data (raw bytes) eof |
//! | any Op | `outcome` | result (`done`/`already_absent`/`drift`/`queued_for_reboot`/`failed`) detail |
//! | any | `trunc` | what limit |
//! | any | `error` | reason (the item could not run at all) |
//!
//! `*` marks a repeated field. Flags are `1`/`0`; numbers decimal.

use super::ops::{FileChunk, OpOutcome};
use super::results::{Frames, Record};
use super::snapshot::{
    Autorun, AutorunLocation, EventKind, EventLogRead, FileFacts, LoggedEvent, Process,
    RegistryValue, Service, Snapshot, Task, TaskAction, Truncation, UserProfile,
    WmiSubscription,
};

/// The reason of an `error` record for item `i`, if any.
pub fn item_error(frames: &Frames, i: usize) -> Option<String> {
    frames
        .of(i)
        .find(|r| r.kind == "error")
        .map(|r| r.text("reason"))
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// The snapshot (without file facts) from a Collect item's records.
pub fn snapshot(frames: &Frames, i: usize) -> Snapshot {
    let mut s = Snapshot {
        truncated: frames.truncations(i),
        ..Snapshot::default()
    };
    for r in frames.of(i) {
        match r.kind.as_str() {
            "host" => {
                s.computer_name = r.text("computer_name");
                s.os_caption = r.text("os_caption");
                s.os_build = r.text("os_build");
                s.ps_version = r.text("ps_version");
                s.collected_at = r.text("collected_at");
                s.system_volume_serial = r.text("volume_serial").trim().parse().ok();
            }
            "user" => s.users.push(UserProfile {
                name: r.text("name"),
                sid: r.text("sid"),
                profile_path: r.text("profile_path"),
                appdata: r.text("appdata"),
                local_appdata: r.text("local_appdata"),
                temp: r.text("temp"),
                logged_on: r.flag("logged_on"),
            }),
            "autorun" => s.autoruns.push(autorun(r)),
            "service" => s.services.push(Service {
                name: r.text("name"),
                display_name: r.text("display_name"),
                image_path: r.text("image_path"),
                start_type: r.text("start_type"),
                state: r.text("state"),
                account: r.text("account"),
                service_dll: r.text("service_dll"),
                driver: r.flag("driver"),
            }),
            "task" => s.tasks.push(task(r)),
            "wmi" => s.wmi.push(WmiSubscription {
                filter_name: r.text("filter_name"),
                query: r.text("query"),
                consumer_name: r.text("consumer_name"),
                consumer_type: r.text("consumer_type"),
                action: r.text("action"),
            }),
            "process" => s.processes.push(Process {
                pid: r.num("pid") as u32,
                parent_pid: r.num("parent_pid") as u32,
                image: r.text("image"),
                command_line: r.text("command_line"),
                user: r.text("user"),
                started: r.text("started"),
            }),
            "reg" => s.registry.push(reg_value(r)),
            "sys32" => s.system32_names.extend(r.texts("name")),
            "serves" => {
                s.serves = Some(super::snapshot::Serves {
                    domain_role: r.text("domain_role").trim().parse().ok(),
                    shares: r.texts("share"),
                    printers: r.texts("printer"),
                })
            }
            _ => {}
        }
    }
    s
}

fn reg_value(r: &Record) -> RegistryValue {
    RegistryValue {
        hive: r.text("hive"),
        key: r.text("key"),
        value: r.text("value"),
        value_type: r.text("value_type"),
        data: r.text("data"),
        data_sha256: r.text("data_sha256"),
        data_cut: r.flag("data_cut") || r.was_cut("data"),
    }
}

/// Registry values from a RegistryValues item's records.
pub fn registry(frames: &Frames, i: usize) -> Vec<RegistryValue> {
    frames.of(i).filter(|r| r.kind == "reg").map(reg_value).collect()
}

/// The events and how each log was read, from an Events item's records.
/// A record that is not one of the four events, or lacks what its event
/// carries, is left out and reported (host data is parsed strictly).
pub fn events(frames: &Frames, i: usize) -> (Vec<LoggedEvent>, Vec<EventLogRead>, Vec<Truncation>) {
    let (mut events, mut logs, mut cuts) = (Vec::new(), Vec::new(), frames.truncations(i));
    for r in frames.of(i) {
        match r.kind.as_str() {
            "evlog" => logs.push(EventLogRead {
                log: r.text("log"),
                event_id: r.num("event_id") as u32,
                state: r.text("state"),
                detail: r.text("detail"),
                read: r.num("read") as u32,
                cut: r.flag("cut"),
                oldest: r.text("oldest"),
                read_at: r.text("read_at"),
            }),
            "event" => match event(r) {
                Ok(e) => events.push(e),
                Err(why) => cuts.push(Truncation {
                    what: format!("an event record of {} left out: {why}", r.text("log")),
                    limit: "malformed".into(),
                }),
            },
            _ => {}
        }
    }
    (events, logs, cuts)
}

fn event(r: &Record) -> Result<LoggedEvent, String> {
    let need = |name: &str| {
        let v = r.text(name);
        if v.is_empty() { Err(format!("no {name}")) } else { Ok(v) }
    };
    let event_id: u32 = need("event_id")?.parse().map_err(|_| "event_id is not a number".to_string())?;
    let record_id: u64 = need("record_id")?.parse().map_err(|_| "record_id is not a number".to_string())?;
    let (log, at) = (need("log")?, need("at")?);
    let kind = match (log.as_str(), event_id) {
        ("System", 7045) => EventKind::ServiceInstalled {
            service: need("service")?,
            image_path: r.text("image_path"),
            account: r.text("account"),
        },
        ("Security", 4624) => {
            let logon_type = need("logon_type")?.parse().map_err(|_| "logon_type is not a number".to_string())?;
            EventKind::NetworkLogon { source_address: r.text("source_address"), account: r.text("account"), logon_type }
        }
        ("Security", 4698) | ("Microsoft-Windows-TaskScheduler/Operational", 106) => {
            EventKind::TaskRegistered { task: need("task")?, user: r.text("user") }
        }
        _ => return Err(format!("event {event_id} of that log is not one collected")),
    };
    Ok(LoggedEvent { log, event_id, record_id, at, kind })
}

fn autorun(r: &Record) -> Autorun {
    let location = if r.text("kind") == "startup" {
        AutorunLocation::StartupFolder {
            path: r.text("path"),
        }
    } else {
        AutorunLocation::RegistryValue {
            hive: r.text("hive"),
            key: r.text("key"),
            value: r.text("value"),
        }
    };
    Autorun {
        location,
        user_sid: opt(r.text("user_sid")),
        command: r.text("command"),
        value_type: r.text("value_type"),
        data_sha256: r.text("data_sha256"),
        data_cut: r.flag("data_cut") || r.was_cut("command"),
    }
}

fn task(r: &Record) -> Task {
    let (p, a, w) = (
        r.texts("action_path"),
        r.texts("action_arguments"),
        r.texts("action_working_directory"),
    );
    let actions = p
        .iter()
        .enumerate()
        .map(|(n, path)| TaskAction {
            path: path.clone().into(),
            arguments: a.get(n).cloned().unwrap_or_default().into(),
            working_directory: w.get(n).cloned().unwrap_or_default().into(),
        })
        .collect();
    Task {
        path: r.text("path"),
        actions,
        triggers: r.texts("trigger"),
        author: r.text("author"),
        principal: r.text("principal"),
        enabled: r.flag("enabled"),
        hidden: r.flag("hidden"),
    }
}

/// File facts from a FileFacts (or Sweep) item's records.
pub fn files(frames: &Frames, i: usize) -> Vec<FileFacts> {
    frames
        .of(i)
        .filter(|r| r.kind == "file")
        .map(|r| FileFacts {
            path: r.text("path"),
            long_path: r.text("long_path"),
            swept: false,
            exists: r.flag("exists"),
            is_dir: r.flag("is_dir"),
            size: r.num("size"),
            sha256: r.text("sha256"),
            created: r.text("created"),
            modified: r.text("modified"),
            signature: r.text("signature"),
            signer: r.text("signer"),
            original_name: r.text("original_name"),
            entries: r.num("entries") as u32,
            listing: r.texts("entry"),
        })
        .collect()
}

/// The chunk of a ReadFile item.
pub fn chunk(frames: &Frames, i: usize) -> Option<FileChunk> {
    frames.of(i).find(|r| r.kind == "chunk").map(|r| FileChunk {
        path: r.text("path"),
        offset: r.num("offset"),
        data: r.bytes("data"),
        size: r.num("size"),
        eof: r.flag("eof"),
    })
}

/// The outcome of an Op item; `None` when the runtime never reported one.
pub fn outcome(frames: &Frames, i: usize) -> Option<OpOutcome> {
    if let Some(reason) = item_error(frames, i) {
        return Some(OpOutcome::Failed { reason });
    }
    let r = frames.of(i).find(|r| r.kind == "outcome")?;
    let detail = r.text("detail");
    Some(match r.text("result").as_str() {
        "done" => OpOutcome::Done,
        "already_absent" => OpOutcome::AlreadyAbsent,
        "drift" => OpOutcome::Drift { observed: detail },
        "queued_for_reboot" => OpOutcome::QueuedForReboot,
        "failed" => OpOutcome::Failed { reason: detail },
        other => OpOutcome::Failed {
            reason: format!("unknown outcome '{other}' from the runtime: {detail}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::job::{self, JobItem};
    use crate::runtime::ops::{HostName, Op};
    use crate::runtime::results::{Limits, parse};
    use crate::runtime::wire;

    /// A file the host names with an unpaired surrogate comes back in the
    /// held form, distinct from its U+FFFD look-alike, and an operation on
    /// it goes back to the host as the very same code units.
    #[test]
    fn a_name_with_an_unpaired_surrogate_goes_back_to_the_host_exactly() {
        let units: Vec<u16> = r"C:\ProgramData\e"
            .encode_utf16()
            .chain([0xDBFF])
            .chain(".exe".encode_utf16())
            .collect();
        let token = wire::encode_units(&units);
        assert!(token.starts_with("u16:"));
        let out = format!(
            "CZBEGIN 1\r\nCZR 0 file path={token} exists=MQ== is_dir=MA== sha256=-\r\nCZR 0 file path={} exists=MQ== is_dir=MA== sha256=-\r\nCZEND 2\r\n",
            wire::encode_text("C:\\ProgramData\\e\u{fffd}.exe")
        );
        let f = files(&parse(&out, 1, &Limits::default()).unwrap(), 0);
        assert_eq!(f.len(), 2);
        assert_ne!(f[0].path, f[1].path, "never folded into U+FFFD");
        let path = HostName::from(f[0].path.as_str());
        assert_eq!(path.to_string(), r"C:\ProgramData\e\u{DBFF}.exe");
        let op = Op::DeleteFile {
            path,
            expected_sha256: "ab".into(),
            queue_if_locked: false,
            lateral_service: Default::default(),
        };
        let data = job::encode(&[JobItem::Op(op)]);
        assert!(data.contains(&format!("f path {token}\n")), "{data}");
    }

    /// Event records are host data: one that is not among the events
    /// collected, or lacks what its event carries, is left out and said so;
    /// the others decode.
    #[test]
    fn event_records_are_decoded_strictly() {
        let t = wire::encode_text;
        let rec = |fields: &[(&str, &str)]| {
            let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", t(v))).collect();
            format!("CZR 0 event {}\r\n", f.join(" "))
        };
        let good = rec(&[("log", "System"), ("event_id", "7045"), ("record_id", "9"), ("at", "2024-03-01T10:00:05.0000000Z"), ("service", "abc"), ("image_path", "x.exe"), ("account", "LocalSystem")]);
        let unknown = rec(&[("log", "System"), ("event_id", "7036"), ("record_id", "10"), ("at", "2024-03-01T10:00:05Z"), ("service", "abc")]);
        let no_type = rec(&[("log", "Security"), ("event_id", "4624"), ("record_id", "11"), ("at", "2024-03-01T10:00:05Z"), ("source_address", "10.0.0.1")]);
        let bad_id = rec(&[("log", "Security"), ("event_id", "4624"), ("record_id", "x"), ("at", "2024-03-01T10:00:05Z"), ("logon_type", "3")]);
        let log = rec(&[("log", "Security"), ("event_id", "4624"), ("state", "denied"), ("detail", "Attempted to perform an unauthorized operation."), ("read", "0"), ("cut", "0")]).replace(" event ", " evlog ");
        let out = format!("CZBEGIN 1\r\n{good}{unknown}{no_type}{bad_id}{log}CZEND 5\r\n");
        let (events, logs, cuts) = events(&parse(&out, 1, &Limits::default()).unwrap(), 0);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, EventKind::ServiceInstalled { service: "abc".into(), image_path: "x.exe".into(), account: "LocalSystem".into() });
        assert_eq!((events[0].record_id, events[0].event_id), (9, 7045));
        let why: Vec<&str> = cuts.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            why,
            [
                "an event record of System left out: event 7036 of that log is not one collected",
                "an event record of Security left out: no logon_type",
                "an event record of Security left out: record_id is not a number",
            ]
        );
        assert_eq!((logs[0].state.as_str(), logs[0].read, logs[0].cut), ("denied", 0, false));
    }
}
