//! [`collect_evidence`]: copy every file a plan deletes from one host into
//! that host's evidence ZIP, before anything is deleted.
//!
//! Fetchers are tried in the order given (SMB, then WinRM). A fetcher that
//! cannot reach the host is dropped for the rest of the host; one that
//! cannot read a particular file (access denied, in use) is skipped for
//! that file only. A rejected credential stops the host at once and is
//! never retried through another transport: the same password would be
//! rejected again, and each attempt counts towards lock-out.

use super::archive::{ArchiveError, ArchiveWriter, ENCRYPTION};
use super::fetch::{FetchErrorKind, FileFetcher, Via};
use super::manifest::{EvidenceReport, EvidenceRequest, MANIFEST_FORMAT, ManifestEntry, Verdict};
use super::names::{entry_name, now_unix, rfc3339, safe_file_name};
use crate::inventory::ResolvedHost;
use crate::transport::smb::RemotePath;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Where evidence goes: `<engagement_dir>/evidence/<host>/<run_id>.zip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDest {
    pub engagement_dir: PathBuf,
    /// Letters, digits, `.`, `-`, `_` (it becomes a file name).
    pub run_id: String,
}

/// Progress of one file, reported after every chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub via: Via,
    pub bytes: u64,
    pub total: Option<u64>,
}

/// Called with every [`Progress`].
pub type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// Knobs of a collection.
#[derive(Clone, Default)]
pub struct EvidenceOptions {
    /// Files larger than this are not stored (verdict `too_large`).
    /// `None`: no cap.
    pub max_file_bytes: Option<u64>,
    pub progress: Option<ProgressFn>,
}

/// Why a host's evidence could not be collected at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("run id {0:?} cannot be a file name: use letters, digits, `.`, `-` and `_`")]
    InvalidRunId(String),
    /// The credential was refused; nothing was retried.
    #[error("{host}: evidence not collected: {message}")]
    AuthFailed {
        host: String,
        via: Via,
        message: String,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// Copy `files` from `host` into its evidence ZIP and return the manifest.
///
/// Per-file problems (missing, unreadable, too large) are recorded in the
/// report, not returned as errors; check [`EvidenceReport::secured`]
/// before deleting a file. Duplicate paths (case-insensitive) are fetched
/// once.
pub async fn collect_evidence(
    host: &ResolvedHost,
    files: &[EvidenceRequest],
    dest: &EvidenceDest,
    fetchers: &mut [Box<dyn FileFetcher>],
    options: &EvidenceOptions,
) -> Result<EvidenceReport, EvidenceError> {
    if dest.run_id.is_empty() || safe_file_name(&dest.run_id) != dest.run_id {
        return Err(EvidenceError::InvalidRunId(dest.run_id.clone()));
    }
    let dir = dest
        .engagement_dir
        .join("evidence")
        .join(safe_file_name(&host.name));
    let mut archive = ArchiveWriter::create(&dir, &dest.run_id)?;
    let mut report = EvidenceReport {
        format: MANIFEST_FORMAT,
        host: host.name.clone(),
        address: host.address.clone(),
        run_id: dest.run_id.clone(),
        archive: archive.path().to_path_buf(),
        encryption: ENCRYPTION,
        created_at: rfc3339(now_unix()),
        fallbacks: Vec::new(),
        files: Vec::new(),
    };
    let mut down = vec![false; fetchers.len()];
    let mut seen = HashSet::new();
    for request in files {
        let mut entry = ManifestEntry {
            original_path: request.path.clone(),
            host: host.name.clone(),
            entry: None,
            fetched_at: String::new(),
            size: None,
            sha256: None,
            expected_sha256: None,
            verdict: Verdict::Failed,
            via: None,
            errors: Vec::new(),
        };
        entry.expected_sha256 = match &request.expected_sha256 {
            Some(h) if is_sha256(h) => Some(h.to_ascii_lowercase()),
            Some(_) => {
                entry
                    .errors
                    .push("the plan's hash is not a SHA-256 (64 hex digits); not compared".into());
                None
            }
            None => None,
        };
        match RemotePath::parse(&request.path) {
            Err(e) => entry.errors.push(e.to_string()),
            Ok(path) => {
                if !seen.insert(path.key()) {
                    continue;
                }
                let mut job = FileJob {
                    host: &host.name,
                    path: &path,
                    entry: &mut entry,
                    archive: &mut archive,
                    options,
                };
                if let Err(stop) = job.run(fetchers, &mut down, &mut report.fallbacks).await {
                    return Err(match stop {
                        Stop::Archive(e) => EvidenceError::Archive(e),
                        Stop::Auth(via, message) => EvidenceError::AuthFailed {
                            host: host.name.clone(),
                            via,
                            message,
                        },
                    });
                }
            }
        }
        entry.fetched_at = rfc3339(now_unix());
        report.files.push(entry);
    }
    let manifest = report.manifest_json();
    report.archive = archive.close(manifest).await?;
    Ok(report)
}

fn is_sha256(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

enum Stop {
    Archive(ArchiveError),
    Auth(Via, String),
}

impl From<ArchiveError> for Stop {
    fn from(e: ArchiveError) -> Stop {
        Stop::Archive(e)
    }
}

/// One file through the fetchers until one stores it or says it is gone.
struct FileJob<'a> {
    host: &'a str,
    path: &'a RemotePath,
    entry: &'a mut ManifestEntry,
    archive: &'a mut ArchiveWriter,
    options: &'a EvidenceOptions,
}

impl FileJob<'_> {
    async fn run(
        &mut self,
        fetchers: &mut [Box<dyn FileFetcher>],
        down: &mut [bool],
        fallbacks: &mut Vec<String>,
    ) -> Result<(), Stop> {
        let name = entry_name(self.path);
        let shown = self.path.to_string();
        for (i, fetcher) in fetchers.iter_mut().enumerate() {
            if down[i] {
                continue;
            }
            let via = fetcher.via();
            let mut stream = match fetcher.open(self.path).await {
                Ok(s) => s,
                Err(e) => {
                    let message = format!("{via}: {}", e.message);
                    match e.kind {
                        FetchErrorKind::AuthFailed => return Err(Stop::Auth(via, e.message)),
                        FetchErrorKind::NotFound => {
                            self.entry.errors.push(message);
                            self.entry.verdict = Verdict::Missing;
                            return Ok(());
                        }
                        FetchErrorKind::Unavailable => {
                            down[i] = true;
                            fallbacks.push(message.clone());
                        }
                        FetchErrorKind::Unreadable => {}
                    }
                    self.entry.errors.push(message);
                    continue;
                }
            };
            let total = stream.size();
            if let (Some(cap), Some(size)) = (self.options.max_file_bytes, total)
                && size > cap
            {
                self.too_large(via, size, cap);
                return Ok(());
            }
            self.archive.start_entry(&name, total, now_unix().0).await?;
            let mut hasher = Sha256::new();
            let mut bytes = 0u64;
            let failure = loop {
                match stream.next_chunk().await {
                    Ok(None) => break None,
                    Ok(Some(chunk)) => {
                        bytes += chunk.len() as u64;
                        if let Some(cap) = self.options.max_file_bytes
                            && bytes > cap
                        {
                            self.archive.abort_entry().await?;
                            self.too_large(via, bytes, cap);
                            return Ok(());
                        }
                        hasher.update(&chunk);
                        self.archive.write(chunk).await?;
                        if let Some(progress) = &self.options.progress {
                            progress(&Progress {
                                host: self.host,
                                path: &shown,
                                via,
                                bytes,
                                total,
                            });
                        }
                    }
                    Err(e) => break Some(e),
                }
            };
            if let Some(e) = failure {
                self.archive.abort_entry().await?;
                let message = format!("{via}: {} (after {bytes} bytes)", e.message);
                match e.kind {
                    FetchErrorKind::AuthFailed => return Err(Stop::Auth(via, e.message)),
                    FetchErrorKind::Unavailable => {
                        down[i] = true;
                        fallbacks.push(message.clone());
                    }
                    FetchErrorKind::NotFound | FetchErrorKind::Unreadable => {}
                }
                self.entry.errors.push(message);
                continue;
            }
            let sha = hex(&hasher.finalize());
            self.entry.verdict = match &self.entry.expected_sha256 {
                Some(expected) if *expected == sha => Verdict::Match,
                Some(_) => Verdict::Drift,
                None => Verdict::Unverified,
            };
            self.entry.entry = Some(name);
            self.entry.size = Some(bytes);
            self.entry.sha256 = Some(sha);
            self.entry.via = Some(via);
            return Ok(());
        }
        if self.entry.errors.is_empty() {
            self.entry
                .errors
                .push("no transport reaches this host".into());
        }
        Ok(())
    }

    fn too_large(&mut self, via: Via, size: u64, cap: u64) {
        self.entry.verdict = Verdict::TooLarge;
        self.entry.size = Some(size);
        self.entry.errors.push(format!(
            "{via}: {size} bytes or more, over the evidence cap of {cap} bytes; not stored"
        ));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
