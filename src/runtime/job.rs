//! How a job travels to the host: as data, never as code.
//!
//! The payload is the runtime script ([`RUNTIME`], fixed text) followed by
//! a data section, a single-quoted here-string (PowerShell gives its
//! content verbatim, no `$` or backtick is interpreted) and the one fixed
//! call that runs it:
//!
//! ```text
//! <runtime.ps1>
//! $czJobData = @'
//! CZJOB 2
//! op DeleteFile
//! f path QzpcVXNlcnNc...
//! f expected_sha256 YWJj...
//! f queue_if_locked MQ==
//! '@
//! Invoke-CzRuntime $czJobData | Out-Null
//! ```
//!
//! # The job data, as both readers read it
//!
//! This is the one specification of the job data: [`parse_fields`] here
//! and `Read-CzJob` in `runtime.ps1` implement it, and the test vectors in
//! `tests/data/job-vectors.txt` (job texts and the items they read as, or
//! the line they are refused at) hold both to it.
//!
//! - The text is split at LF; one CR at the end of a line is dropped; a
//!   line that is then empty is skipped. Nothing else is trimmed.
//! - The first other line is exactly `CZJOB 2`.
//! - Every later line is exactly `op <Kind>` (an item starts) or
//!   `f <name> <value>` (a field of the last item), parts separated by one
//!   space. `<Kind>` and `<name>` are 1 to 64 of `A-Z a-z 0-9 _`; `<value>`
//!   is a token of [`super::wire`]: `-` for the empty value, else base64
//!   (of UTF-8, or after `u16:` of raw UTF-16LE). A value is never an
//!   empty token: an empty field is `f <name> -`, never `f <name> ` with a
//!   trailing space (which `Read-CzJob` once split into two parts and
//!   refused, failing every second pass of a real scan).
//! - A field before any `op` line, any other line, or a value that is not
//!   a token is refused, naming the line (1-based, counting every line).
//! - An item is its kind and its fields in order; a name may repeat (list
//!   fields such as paths, task actions and sweep roots are repeated
//!   lines, in order).
//!
//! Field names and kinds are fixed tokens of this file; which fields each
//! kind has is checked by [`decode`] (the runtime reads the ones it knows).
//! No line of the data can start with `'@` and end the here-string, and no
//! quote, `$(...)`, newline or NUL means anything. The runtime decodes with
//! `[Convert]::FromBase64String`; there is no `Invoke-Expression`, no
//! JSON, no script block built from data.

use super::contain::ContainOp;
use super::ops::{Bounds, EventBounds, HeldFile, Op, Power, Query, RegistryRead, SweepRoot, TaskAction};
use super::purge_steps::PurgeStepOp;
use super::wire;

/// The runtime script, embedded in the binary.
pub const RUNTIME: &str = include_str!("runtime.ps1");

/// First line of [`RUNTIME`]: the lab recognises the runtime by it.
pub const RUNTIME_MARKER: &str = "# cauterize-runtime v1";

/// First line of the job data.
const JOB_HEADER: &str = "CZJOB 2";
const DATA_OPEN: &str = "$czJobData = @'";
const DATA_CLOSE: &str = "'@";
const CALL: &str = "Invoke-CzRuntime $czJobData | Out-Null";

/// One unit of work in a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobItem {
    Query(Query),
    Op(Op),
    Power(Power),
    /// Containment: rules and dead-man (`super::contain`).
    Contain(ContainOp),
    /// Deny-writes and Defender steps (`super::purge_steps`).
    PurgeStep(PurgeStepOp),
}

impl JobItem {
    /// The kind token (`Collect`, `DeleteFile`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            JobItem::Query(Query::Collect { .. }) => "Collect",
            JobItem::Query(Query::FileFacts { .. }) => "FileFacts",
            JobItem::Query(Query::Sweep { .. }) => "Sweep",
            JobItem::Query(Query::RegistryValues { .. }) => "RegistryValues",
            JobItem::Query(Query::ReadFile { .. }) => "ReadFile",
            JobItem::Query(Query::Events { .. }) => "Events",
            JobItem::Op(op) => op.kind(),
            JobItem::Power(p) => p.kind(),
            JobItem::Contain(c) => c.kind(),
            JobItem::PurgeStep(p) => p.kind(),
        }
    }
}

/// Why job data could not be read (the lab reads it as the runtime does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job data line {line}: {reason}")]
pub struct JobError {
    pub line: usize,
    pub reason: String,
}

/// The whole payload for these items: runtime, data section, call, as one
/// text (tests and the lab's own checks; the transport sends [`Payload`]).
pub fn payload(items: &[JobItem]) -> String {
    Payload::of(items).parts().concat()
}

/// A job's payload in two parts: the runtime's fixed text and the job's
/// own (data section and call). The transport encodes them one after the
/// other, so a host in flight never holds a copy of the runtime.
pub struct Payload {
    /// Everything after [`RUNTIME`].
    job: String,
}

impl Payload {
    pub fn of(items: &[JobItem]) -> Self {
        let data = encode(items);
        let mut job = String::with_capacity(data.len() + 64);
        if !RUNTIME.ends_with('\n') {
            job.push('\n');
        }
        job.push_str(DATA_OPEN);
        job.push('\n');
        job.push_str(&data);
        job.push_str(DATA_CLOSE);
        job.push('\n');
        job.push_str(CALL);
        job.push('\n');
        Payload { job }
    }

    /// The script's text, in order.
    pub fn parts(&self) -> [&str; 2] {
        [RUNTIME, &self.job]
    }
}

/// The job data lines (header, then `op` and `f` lines), each ending `\n`.
pub fn encode(items: &[JobItem]) -> String {
    let mut out = String::from(JOB_HEADER);
    out.push('\n');
    for item in items {
        out.push_str("op ");
        out.push_str(item.kind());
        out.push('\n');
        for (name, value) in fields(item) {
            out.push_str("f ");
            out.push_str(name);
            out.push(' ');
            out.push_str(&wire::encode_held(&value));
            out.push('\n');
        }
    }
    out
}

fn bounds_fields(b: &Bounds, out: &mut Vec<(&'static str, String)>) {
    out.push(("max_values_per_key", b.max_values_per_key.to_string()));
    out.push(("max_items", b.max_items.to_string()));
    out.push(("max_field_bytes", b.max_field_bytes.to_string()));
    out.push(("max_binary_bytes", b.max_binary_bytes.to_string()));
    out.push(("max_listing", b.max_listing.to_string()));
    out.push(("max_hash_bytes", b.max_hash_bytes.to_string()));
    out.push(("max_output_bytes", b.max_output_bytes.to_string()));
    out.push(("time_limit_secs", b.time_limit_secs.to_string()));
}

/// The (name, value) fields of an item, in order.
fn fields(item: &JobItem) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = Vec::new();
    match item {
        JobItem::Contain(c) => f = c.fields(),
        JobItem::PurgeStep(p) => f = p.fields(),
        JobItem::Query(Query::Collect { bounds }) => bounds_fields(bounds, &mut f),
        JobItem::Query(Query::FileFacts {
            paths,
            list_dirs,
            bounds,
        }) => {
            bounds_fields(bounds, &mut f);
            f.extend(paths.iter().map(|p| ("path", p.clone())));
            f.extend(list_dirs.iter().map(|p| ("list_dir", p.clone())));
        }
        JobItem::Query(Query::Sweep {
            roots,
            skip,
            hash_extensions,
            max_entries,
            max_hash_bytes,
            bounds,
        }) => {
            bounds_fields(bounds, &mut f);
            f.extend(skip.iter().map(|p| ("skip", p.clone())));
            f.push(("max_entries", max_entries.to_string()));
            f.push(("sweep_hash_bytes", max_hash_bytes.to_string()));
            f.extend(
                hash_extensions
                    .iter()
                    .map(|e| ("hash_extension", e.clone())),
            );
            // One root is four fields, in this order; extensions joined by
            // commas (an extension never holds one).
            for r in roots {
                f.push(("root_path", r.path.clone()));
                f.push(("root_depth", r.depth.to_string()));
                f.push(("root_extensions", r.extensions.join(",")));
                f.push(("root_recent_days", r.recent_days.to_string()));
            }
        }
        JobItem::Query(Query::RegistryValues { reads, bounds }) => {
            bounds_fields(bounds, &mut f);
            // One read is four fields, in this order.
            for r in reads {
                f.push(("read_hive", r.hive.clone()));
                f.push(("read_key", r.key.clone()));
                f.push(("read_value", r.value.clone()));
                f.push(("read_tree", if r.tree { "1" } else { "0" }.to_string()));
            }
        }
        JobItem::Query(Query::ReadFile {
            path,
            offset,
            max_bytes,
        }) => {
            f.push(("path", path.clone()));
            f.push(("offset", offset.to_string()));
            f.push(("max_bytes", max_bytes.to_string()));
        }
        JobItem::Query(Query::Events { bounds }) => {
            f.push(("max_per_kind", bounds.max_per_kind.to_string()));
            f.push(("days", bounds.days.to_string()));
            f.push(("max_text_chars", bounds.max_text_chars.to_string()));
        }
        JobItem::Op(op) => match op {
            Op::KillProcess {
                pid,
                expected_image,
                expected_started,
            } => {
                f.push(("pid", pid.to_string()));
                f.push(("expected_image", expected_image.as_str().to_owned()));
                f.push(("expected_started", expected_started.clone()));
            }
            // `data` and `data_cut` are for the reviewer: they stay home.
            Op::DeleteRegistryValue {
                hive,
                key,
                value,
                expected_type,
                expected_data_sha256,
                ..
            } => {
                f.push(("hive", hive.clone()));
                f.push(("key", key.as_str().to_owned()));
                f.push(("value", value.as_str().to_owned()));
                f.push(("expected_type", expected_type.clone()));
                f.push(("expected_data_sha256", expected_data_sha256.clone()));
            }
            Op::DeleteRegistryKey {
                hive,
                key,
                expected_values,
                expected_digest,
            } => {
                f.push(("hive", hive.clone()));
                f.push(("key", key.as_str().to_owned()));
                for v in expected_values {
                    f.push(("expected_value", v.as_str().to_owned()));
                }
                f.push(("expected_digest", expected_digest.clone()));
            }
            Op::DeleteTask {
                path,
                expected_actions,
            } => {
                f.push(("path", path.as_str().to_owned()));
                f.push(("action_count", expected_actions.len().to_string()));
                for a in expected_actions {
                    f.push(("action_path", a.path.as_str().to_owned()));
                    f.push(("action_arguments", a.arguments.as_str().to_owned()));
                    f.push(("action_working_directory", a.working_directory.as_str().to_owned()));
                }
            }
            Op::DeleteService {
                name,
                expected_image_path,
                expected_service_dll,
            } => {
                f.push(("name", name.as_str().to_owned()));
                f.push(("expected_image_path", expected_image_path.as_str().to_owned()));
                f.push(("expected_service_dll", expected_service_dll.as_str().to_owned()));
            }
            Op::DeleteWmiSubscription {
                filter,
                consumer,
                consumer_type,
                expected_query,
                expected_action,
            } => {
                f.push(("filter", filter.as_str().to_owned()));
                f.push(("consumer", consumer.as_str().to_owned()));
                f.push(("consumer_type", consumer_type.clone()));
                f.push(("expected_query", expected_query.as_str().to_owned()));
                f.push(("expected_action", expected_action.as_str().to_owned()));
            }
            Op::DeleteFile {
                path,
                expected_sha256,
                queue_if_locked,
                lateral_service,
            } => {
                f.push(("path", path.as_str().to_owned()));
                f.push(("expected_sha256", expected_sha256.clone()));
                f.push((
                    "queue_if_locked",
                    if *queue_if_locked { "1" } else { "0" }.to_string(),
                ));
                if !lateral_service.is_empty() {
                    f.push(("lateral_service", lateral_service.as_str().to_owned()));
                }
            }
            Op::QueueDeleteOnReboot {
                path,
                expected_sha256,
                lateral_service,
            } => {
                f.push(("path", path.as_str().to_owned()));
                f.push(("expected_sha256", expected_sha256.clone()));
                if !lateral_service.is_empty() {
                    f.push(("lateral_service", lateral_service.as_str().to_owned()));
                }
            }
            // One held file is two fields, in this order. `after_reboot`
            // is the plan's: it stays home.
            Op::RemoveFolder { path, may_hold, .. } => {
                f.push(("path", path.as_str().to_owned()));
                for h in may_hold {
                    f.push(("held_name", h.name.clone()));
                    f.push(("held_sha256", h.sha256.clone()));
                }
            }
        },
        JobItem::Power(p) => match p {
            Power::BootTime | Power::AbortReboot | Power::LoggedOnUsers => {}
            Power::Reboot {
                countdown_secs,
                message,
                reason,
                files,
            } => {
                f.push(("countdown_secs", countdown_secs.to_string()));
                f.push(("message", message.clone()));
                f.push(("reason", reason.clone()));
                f.extend(files.iter().map(|p| ("file", p.clone())));
            }
        },
    }
    f
}

/// The job data inside a payload (between the here-string's delimiters),
/// as the runtime would receive it; `None` if the payload has no data
/// section.
pub fn data_section(payload: &str) -> Option<&str> {
    let open = payload.rfind(&format!("\n{DATA_OPEN}\n"))? + DATA_OPEN.len() + 2;
    let rest = &payload[open..];
    let close = rest.find(&format!("\n{DATA_CLOSE}\n"))?;
    Some(&rest[..close + 1])
}

/// An item as read (see the module documentation): its kind and its
/// fields in order (texts in the held form of `host_text`: exact), before
/// any check of which fields the kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    /// The line of its `op`, 1-based.
    pub line: usize,
    pub kind: String,
    pub fields: Vec<(String, String)>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Read job data into items and fields, exactly as `Read-CzJob` does (the
/// module documentation is the specification).
pub fn parse_fields(data: &str) -> Result<Vec<RawItem>, JobError> {
    let mut items: Vec<RawItem> = Vec::new();
    let mut header = false;
    for (i, line) in data.split('\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let err = |reason: &str| JobError {
            line: n,
            reason: reason.to_string(),
        };
        if !header {
            if line != JOB_HEADER {
                return Err(err("expected the CZJOB 2 header"));
            }
            header = true;
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["op", kind] if is_name(kind) => items.push(RawItem {
                line: n,
                kind: kind.to_string(),
                fields: Vec::new(),
            }),
            ["f", name, value] if is_name(name) => {
                let text = wire::decode_held(value).map_err(|e| err(&e.to_string()))?;
                let cur = items.last_mut().ok_or_else(|| err("a field before any op"))?;
                cur.fields.push((name.to_string(), text));
            }
            _ => return Err(err("a line is neither `op <Kind>` nor `f <name> <value>`")),
        }
    }
    if !header {
        return Err(JobError {
            line: 0,
            reason: "no CZJOB 2 header".into(),
        });
    }
    Ok(items)
}

/// Read job data back into items (what the runtime's parser does; the lab
/// uses it). Strict: on top of [`parse_fields`], unknown kinds or fields,
/// bad numbers and missing fields are refused with the line.
pub fn decode(data: &str) -> Result<Vec<JobItem>, JobError> {
    parse_fields(data)?
        .into_iter()
        .map(|r| build(r.line, &r.kind, &r.fields))
        .collect()
}

/// Field access for [`decode`].
struct Fields<'a> {
    line: usize,
    f: &'a [(String, String)],
}

impl Fields<'_> {
    fn err(&self, reason: String) -> JobError {
        JobError {
            line: self.line,
            reason,
        }
    }
    fn one(&self, name: &str) -> Result<String, JobError> {
        let mut it = self.f.iter().filter(|(k, _)| k == name);
        let v = it
            .next()
            .ok_or_else(|| self.err(format!("missing field {name}")))?;
        if it.next().is_some() {
            return Err(self.err(format!("field {name} given twice")));
        }
        Ok(v.1.clone())
    }
    /// A field given at most once; empty when absent.
    fn maybe(&self, name: &str) -> Result<String, JobError> {
        match self.all(name).len() {
            0 => Ok(String::new()),
            _ => self.one(name),
        }
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.f
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, JobError> {
        self.one(name)?
            .parse()
            .map_err(|_| self.err(format!("field {name} is not a number")))
    }
    fn only(&self, allowed: &[&str]) -> Result<(), JobError> {
        match self.f.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(self.err(format!("unknown field {k}"))),
            None => Ok(()),
        }
    }
    fn bounds(&self) -> Result<Bounds, JobError> {
        Ok(Bounds {
            max_values_per_key: self.num("max_values_per_key")?,
            max_items: self.num("max_items")?,
            max_field_bytes: self.num("max_field_bytes")?,
            max_binary_bytes: self.num("max_binary_bytes")?,
            max_listing: self.num("max_listing")?,
            max_hash_bytes: self.num("max_hash_bytes")?,
            max_output_bytes: self.num("max_output_bytes")?,
            time_limit_secs: self.num("time_limit_secs")?,
        })
    }
}

const BOUNDS: [&str; 8] = [
    "max_values_per_key",
    "max_items",
    "max_field_bytes",
    "max_binary_bytes",
    "max_listing",
    "max_hash_bytes",
    "max_output_bytes",
    "time_limit_secs",
];

fn build(line: usize, kind: &str, f: &[(String, String)]) -> Result<JobItem, JobError> {
    let x = Fields { line, f };
    let with_bounds = |extra: &[&'static str]| -> Vec<&'static str> {
        BOUNDS
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect()
    };
    Ok(match kind {
        "Collect" => {
            x.only(&BOUNDS)?;
            JobItem::Query(Query::Collect {
                bounds: x.bounds()?,
            })
        }
        "FileFacts" => {
            x.only(&with_bounds(&["path", "list_dir"]))?;
            JobItem::Query(Query::FileFacts {
                paths: x.all("path"),
                list_dirs: x.all("list_dir"),
                bounds: x.bounds()?,
            })
        }
        "RegistryValues" => {
            x.only(&with_bounds(&["read_hive", "read_key", "read_value", "read_tree"]))?;
            let (h, k, v, t) = (
                x.all("read_hive"),
                x.all("read_key"),
                x.all("read_value"),
                x.all("read_tree"),
            );
            if k.len() != h.len() || v.len() != h.len() || t.len() != h.len() {
                return Err(x.err("registry read fields do not come in fours".into()));
            }
            let mut reads = Vec::with_capacity(h.len());
            for (i, hive) in h.into_iter().enumerate() {
                let tree = match t[i].as_str() {
                    "1" => true,
                    "0" => false,
                    other => return Err(x.err(format!("read_tree is {other:?}, not 0 or 1"))),
                };
                reads.push(RegistryRead {
                    hive,
                    key: k[i].clone(),
                    value: v[i].clone(),
                    tree,
                });
            }
            JobItem::Query(Query::RegistryValues {
                reads,
                bounds: x.bounds()?,
            })
        }
        "Sweep" => {
            x.only(&with_bounds(&[
                "skip",
                "max_entries",
                "sweep_hash_bytes",
                "hash_extension",
                "root_path",
                "root_depth",
                "root_extensions",
                "root_recent_days",
            ]))?;
            let (p, d, e, s) = (
                x.all("root_path"),
                x.all("root_depth"),
                x.all("root_extensions"),
                x.all("root_recent_days"),
            );
            if d.len() != p.len() || e.len() != p.len() || s.len() != p.len() {
                return Err(x.err("sweep root fields do not come in fours".into()));
            }
            let mut roots = Vec::with_capacity(p.len());
            for (i, path) in p.into_iter().enumerate() {
                roots.push(SweepRoot {
                    path,
                    depth: d[i]
                        .parse()
                        .map_err(|_| x.err("field root_depth is not a number".into()))?,
                    extensions: e[i]
                        .split(',')
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect(),
                    recent_days: s[i]
                        .parse()
                        .map_err(|_| x.err("field root_recent_days is not a number".into()))?,
                });
            }
            JobItem::Query(Query::Sweep {
                roots,
                skip: x.all("skip"),
                hash_extensions: x.all("hash_extension"),
                max_entries: x.num("max_entries")?,
                max_hash_bytes: x.num("sweep_hash_bytes")?,
                bounds: x.bounds()?,
            })
        }
        "ReadFile" => {
            x.only(&["path", "offset", "max_bytes"])?;
            JobItem::Query(Query::ReadFile {
                path: x.one("path")?,
                offset: x.num("offset")?,
                max_bytes: x.num("max_bytes")?,
            })
        }
        "Events" => {
            x.only(&["max_per_kind", "days", "max_text_chars"])?;
            JobItem::Query(Query::Events {
                bounds: EventBounds {
                    max_per_kind: x.num("max_per_kind")?,
                    days: x.num("days")?,
                    max_text_chars: x.num("max_text_chars")?,
                },
            })
        }
        "KillProcess" => {
            x.only(&["pid", "expected_image", "expected_started"])?;
            JobItem::Op(Op::KillProcess {
                pid: x.num("pid")?,
                expected_image: x.one("expected_image")?.into(),
                expected_started: x.one("expected_started")?,
            })
        }
        "DeleteRegistryValue" => {
            x.only(&[
                "hive",
                "key",
                "value",
                "expected_type",
                "expected_data_sha256",
            ])?;
            JobItem::Op(Op::DeleteRegistryValue {
                hive: x.one("hive")?,
                key: x.one("key")?.into(),
                value: x.one("value")?.into(),
                expected_type: x.one("expected_type")?,
                expected_data_sha256: x.one("expected_data_sha256")?,
                data: Default::default(),
                data_cut: false,
            })
        }
        "DeleteRegistryKey" => {
            x.only(&["hive", "key", "expected_value", "expected_digest"])?;
            JobItem::Op(Op::DeleteRegistryKey {
                hive: x.one("hive")?,
                key: x.one("key")?.into(),
                expected_values: x.all("expected_value").into_iter().map(Into::into).collect(),
                expected_digest: x.one("expected_digest")?,
            })
        }
        "DeleteTask" => {
            x.only(&[
                "path",
                "action_count",
                "action_path",
                "action_arguments",
                "action_working_directory",
            ])?;
            let count: usize = x.num("action_count")?;
            let (p, a, w) = (
                x.all("action_path"),
                x.all("action_arguments"),
                x.all("action_working_directory"),
            );
            if p.len() != count || a.len() != count || w.len() != count {
                return Err(x.err("task action fields do not match action_count".into()));
            }
            let expected_actions = (0..count)
                .map(|i| TaskAction {
                    path: p[i].clone().into(),
                    arguments: a[i].clone().into(),
                    working_directory: w[i].clone().into(),
                })
                .collect();
            JobItem::Op(Op::DeleteTask {
                path: x.one("path")?.into(),
                expected_actions,
            })
        }
        "DeleteService" => {
            x.only(&["name", "expected_image_path", "expected_service_dll"])?;
            JobItem::Op(Op::DeleteService {
                name: x.one("name")?.into(),
                expected_image_path: x.one("expected_image_path")?.into(),
                expected_service_dll: x.one("expected_service_dll")?.into(),
            })
        }
        "DeleteWmiSubscription" => {
            x.only(&[
                "filter",
                "consumer",
                "consumer_type",
                "expected_query",
                "expected_action",
            ])?;
            JobItem::Op(Op::DeleteWmiSubscription {
                filter: x.one("filter")?.into(),
                consumer: x.one("consumer")?.into(),
                consumer_type: x.one("consumer_type")?,
                expected_query: x.one("expected_query")?.into(),
                expected_action: x.one("expected_action")?.into(),
            })
        }
        "DeleteFile" => {
            x.only(&["path", "expected_sha256", "queue_if_locked", "lateral_service"])?;
            JobItem::Op(Op::DeleteFile {
                path: x.one("path")?.into(),
                expected_sha256: x.one("expected_sha256")?,
                queue_if_locked: x.one("queue_if_locked")? == "1",
                lateral_service: x.maybe("lateral_service")?.into(),
            })
        }
        "QueueDeleteOnReboot" => {
            x.only(&["path", "expected_sha256", "lateral_service"])?;
            JobItem::Op(Op::QueueDeleteOnReboot {
                path: x.one("path")?.into(),
                expected_sha256: x.one("expected_sha256")?,
                lateral_service: x.maybe("lateral_service")?.into(),
            })
        }
        "BootTime" => {
            x.only(&[])?;
            JobItem::Power(Power::BootTime)
        }
        "AbortReboot" => {
            x.only(&[])?;
            JobItem::Power(Power::AbortReboot)
        }
        "LoggedOnUsers" => {
            x.only(&[])?;
            JobItem::Power(Power::LoggedOnUsers)
        }
        "Reboot" => {
            x.only(&["countdown_secs", "message", "reason", "file"])?;
            JobItem::Power(Power::Reboot {
                countdown_secs: x.num("countdown_secs")?,
                message: x.one("message")?,
                reason: x.one("reason")?,
                files: x.all("file"),
            })
        }
        "Contain" | "ExtendDeadman" | "Release" => {
            x.only(ContainOp::allowed_fields(kind))?;
            JobItem::Contain(ContainOp::from_fields(kind, &|n| x.all(n)).map_err(|e| x.err(e))?)
        }
        "DenyWrites" | "RemoveDenyWrites" | "RevertDefenderExclusion" => {
            x.only(PurgeStepOp::allowed_fields(kind))?;
            JobItem::PurgeStep(PurgeStepOp::from_fields(kind, &|n| x.all(n)).map_err(|e| x.err(e))?)
        }
        "RemoveFolder" => {
            x.only(&["path", "held_name", "held_sha256"])?;
            let (names, shas) = (x.all("held_name"), x.all("held_sha256"));
            if names.len() != shas.len() {
                return Err(x.err("held file fields do not come in pairs".into()));
            }
            JobItem::Op(Op::RemoveFolder {
                path: x.one("path")?.into(),
                may_hold: names
                    .into_iter()
                    .zip(shas)
                    .map(|(name, sha256)| HeldFile { name, sha256 })
                    .collect(),
                after_reboot: false,
            })
        }
        other => return Err(x.err(format!("unknown operation {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hostile() -> Vec<String> {
        vec![
            "'; Remove-Item C:\\ -Recurse; '".into(),
            "\"$(Stop-Computer)\" `whoami` ${env:x} @'\n'@\n#".into(),
            "a\r\nb\nc\0d; e | f & g".into(),
            "Пётр 🦀 \u{202e}gnp.exe".into(),
            "x".repeat(1024 * 1024),
            String::new(),
        ]
    }

    fn all_kinds(s: &str) -> Vec<JobItem> {
        let b = Bounds::default();
        vec![
            JobItem::Query(Query::Collect { bounds: b.clone() }),
            JobItem::Query(Query::Events { bounds: EventBounds { max_per_kind: 7, days: 2, max_text_chars: 64 } }),
            JobItem::Query(Query::FileFacts {
                paths: vec![s.into(), "b".into()],
                list_dirs: vec![s.into()],
                bounds: b.clone(),
            }),
            JobItem::Query(Query::RegistryValues {
                reads: vec![
                    RegistryRead { hive: "HKLM".into(), key: s.into(), value: s.into(), tree: false },
                    RegistryRead { hive: "S-1-5-18".into(), key: "k".into(), value: String::new(), tree: true },
                ],
                bounds: b,
            }),
            JobItem::Query(Query::Sweep {
                roots: vec![
                    SweepRoot {
                        path: s.into(),
                        depth: 1,
                        extensions: vec![],
                        recent_days: 0,
                    },
                    SweepRoot {
                        path: "r".into(),
                        depth: 0,
                        extensions: vec!["exe".into(), "dll".into()],
                        recent_days: 90,
                    },
                ],
                skip: vec![s.into()],
                hash_extensions: vec!["exe".into()],
                max_entries: 5,
                max_hash_bytes: 6,
                bounds: Bounds::default(),
            }),
            JobItem::Query(Query::ReadFile {
                path: s.into(),
                offset: 7,
                max_bytes: 9,
            }),
            JobItem::Op(Op::KillProcess {
                pid: 4,
                expected_image: s.into(),
                expected_started: s.into(),
            }),
            JobItem::Op(Op::DeleteRegistryValue {
                hive: s.into(),
                key: s.into(),
                value: s.into(),
                expected_type: "REG_SZ".into(),
                expected_data_sha256: s.into(),
                data: Default::default(),
                data_cut: false,
            }),
            JobItem::Op(Op::DeleteRegistryKey {
                hive: s.into(),
                key: s.into(),
                expected_values: vec![s.into(), "(default)".into()],
                expected_digest: s.into(),
            }),
            JobItem::Op(Op::DeleteTask {
                path: s.into(),
                expected_actions: vec![
                    TaskAction {
                        path: s.into(),
                        arguments: s.into(),
                        working_directory: String::new().into(),
                    },
                    TaskAction {
                        path: "p".into(),
                        arguments: String::new().into(),
                        working_directory: s.into(),
                    },
                ],
            }),
            JobItem::Op(Op::DeleteService {
                name: s.into(),
                expected_image_path: s.into(),
                expected_service_dll: s.into(),
            }),
            JobItem::Op(Op::DeleteWmiSubscription {
                filter: s.into(),
                consumer: s.into(),
                consumer_type: "CommandLineEventConsumer".into(),
                expected_query: s.into(),
                expected_action: s.into(),
            }),
            JobItem::Op(Op::DeleteFile {
                path: s.into(),
                expected_sha256: s.into(),
                queue_if_locked: true,
                lateral_service: s.into(),
            }),
            JobItem::Op(Op::DeleteFile {
                path: s.into(),
                expected_sha256: s.into(),
                queue_if_locked: false,
                lateral_service: Default::default(),
            }),
            JobItem::Op(Op::QueueDeleteOnReboot {
                path: s.into(),
                expected_sha256: s.into(),
                lateral_service: s.into(),
            }),
            JobItem::Power(Power::BootTime),
            JobItem::Power(Power::Reboot {
                countdown_secs: 300,
                message: s.into(),
                reason: "p:2:18".into(),
                files: vec![s.into(), "b".into()],
            }),
            JobItem::Power(Power::AbortReboot),
            JobItem::Power(Power::LoggedOnUsers),
            JobItem::Op(Op::RemoveFolder {
                path: s.into(),
                may_hold: vec![
                    HeldFile { name: s.into(), sha256: "a".repeat(64) },
                    HeldFile { name: "x.cfg".into(), sha256: s.into() },
                ],
                after_reboot: false,
            }),
            JobItem::Op(Op::RemoveFolder {
                path: s.into(),
                may_hold: vec![],
                after_reboot: false,
            }),
        ]
    }

    #[test]
    fn every_kind_round_trips_hostile_values_through_the_payload() {
        for s in hostile() {
            let items = all_kinds(&s);
            let p = payload(&items);
            assert!(p.starts_with(RUNTIME_MARKER));
            let data = data_section(&p).expect("data section");
            // No data line can close the here-string or carry code.
            for line in data.lines() {
                assert!(!line.starts_with("'@"));
                assert!(
                    line.chars()
                        .all(|c| c.is_ascii_alphanumeric() || " +/=_-:".contains(c)),
                    "{line:.80}"
                );
            }
            assert_eq!(decode(data).expect("decodes"), items);
        }
    }

    /// `after_reboot` is the plan's: it is never sent, so it reads back
    /// false; held files whose fields do not pair up are refused.
    #[test]
    fn remove_folder_sends_its_held_files_in_pairs() {
        let op = Op::RemoveFolder { path: "C:\\d".into(), may_hold: vec![], after_reboot: true };
        let text = encode(&[JobItem::Op(op)]);
        assert!(!text.contains("after_reboot"), "{text}");
        let back = decode(&text).expect("decodes");
        let [JobItem::Op(Op::RemoveFolder { after_reboot, .. })] = back.as_slice() else { panic!("{back:?}") };
        assert!(!after_reboot);
        let e = decode("CZJOB 2\nop RemoveFolder\nf path eA==\nf held_name eA==\n").unwrap_err();
        assert!(e.to_string().contains("pairs"), "{e}");
    }

    #[test]
    fn bad_job_data_is_refused_with_its_line() {
        assert!(decode("op Collect\n").is_err());
        let e = decode("CZJOB 2\nop Nope\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(decode("CZJOB 2\nf path eA==\n").is_err());
        assert!(decode("CZJOB 2\nop DeleteService\nf name !!\n").is_err());
        assert!(
            decode("CZJOB 2\nop DeleteService\nf name eA==\n").is_err(),
            "missing field"
        );
        assert!(
            decode(
                "CZJOB 2\nop DeleteService\nf name eA==\nf expected_image_path eA==\nf x eA==\n"
            )
            .is_err()
        );
    }
}
