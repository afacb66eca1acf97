//! What the evidence ZIP holds, file by file: the manifest (`manifest.json`
//! inside the ZIP, also returned to the caller as [`EvidenceReport`]).

use super::fetch::Via;
use serde::Serialize;
use std::path::PathBuf;

/// Format tag of `manifest.json`.
pub const MANIFEST_FORMAT: &str = "cauterize-evidence/1";

/// A file the plan will delete, and the hash the plan saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    /// The Windows path (`C:\Users\bob\AppData\...`).
    pub path: String,
    /// Lower- or upper-case hex SHA-256 from the plan, if it has one.
    pub expected_sha256: Option<String>,
}

impl EvidenceRequest {
    pub fn new(path: &str, expected_sha256: Option<&str>) -> EvidenceRequest {
        EvidenceRequest {
            path: path.to_string(),
            expected_sha256: expected_sha256.map(str::to_string),
        }
    }
}

/// The fate of one requested file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Stored, and its hash is the one the plan saw.
    Match,
    /// Stored, but its hash differs from the plan's: the file changed
    /// since the scan (kept anyway; the delete will report drift).
    Drift,
    /// Stored; the plan had no hash to compare with.
    Unverified,
    /// Not on the host (every transport that was asked says so).
    Missing,
    /// Larger than the configured cap: not stored.
    TooLarge,
    /// Could not be read by any transport; `error` says why.
    Failed,
}

impl Verdict {
    /// A copy is in the ZIP.
    pub fn is_stored(self) -> bool {
        matches!(self, Verdict::Match | Verdict::Drift | Verdict::Unverified)
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestEntry {
    /// The path as the plan gave it.
    pub original_path: String,
    /// Host (inventory name).
    pub host: String,
    /// Name inside the ZIP when stored.
    pub entry: Option<String>,
    /// When the copy was completed (or given up), RFC 3339 UTC.
    pub fetched_at: String,
    /// Bytes stored (the file's size), when stored.
    pub size: Option<u64>,
    /// SHA-256 of the stored bytes, lower-case hex.
    pub sha256: Option<String>,
    /// The plan's hash, lower-case hex.
    pub expected_sha256: Option<String>,
    pub verdict: Verdict,
    /// Transport the stored copy came through.
    pub via: Option<Via>,
    /// Why it is not stored (or what failed before the transport that
    /// worked), one message per attempt.
    pub errors: Vec<String>,
}

/// The result of [`super::collect_evidence`] for one host: the archive and
/// its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceReport {
    pub format: &'static str,
    /// Host (inventory name) and the address it was reached at.
    pub host: String,
    pub address: String,
    pub run_id: String,
    /// The ZIP (entries encrypted with ZipCrypto, password `infected`).
    pub archive: PathBuf,
    /// How entries are protected, for a person reading the manifest.
    pub encryption: &'static str,
    pub created_at: String,
    /// Transports given up on for this host, and why (`smb: ...`).
    pub fallbacks: Vec<String>,
    pub files: Vec<ManifestEntry>,
}

impl EvidenceReport {
    /// The entry of `path` (case-insensitive, as Windows paths are).
    pub fn entry(&self, path: &str) -> Option<&ManifestEntry> {
        let key = path.to_lowercase();
        self.files
            .iter()
            .find(|e| e.original_path.to_lowercase() == key)
    }

    /// Safe to delete `path` as far as evidence goes: a copy is stored, or
    /// the file is already gone.
    pub fn secured(&self, path: &str) -> bool {
        self.entry(path)
            .is_some_and(|e| e.verdict.is_stored() || e.verdict == Verdict::Missing)
    }

    /// Every requested file is secured.
    pub fn all_secured(&self) -> bool {
        self.files
            .iter()
            .all(|e| e.verdict.is_stored() || e.verdict == Verdict::Missing)
    }

    /// The manifest as stored in the ZIP (pretty JSON).
    pub fn manifest_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}
