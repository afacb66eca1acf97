//! Evidence: before anything is deleted, a copy of each file the plan
//! deletes is pulled off the host (over SMB through the admin shares; over
//! WinRM when SMB is not reachable) into one ZIP per host per run,
//! `<engagement>/evidence/<host>/<run-id>.zip`, entries encrypted with the
//! password `infected` (the field's convention, so the analyst's
//! antivirus leaves it alone), with a `manifest.json`: SHA-256, original
//! path, host, time, size, transport, the plan's hash and a verdict
//! (match, drift, missing, ...).
//!
//! - [`collect_evidence`] is the entry point; the purge calls it first and
//!   deletes only what [`EvidenceReport::secured`] says is safe.
//! - [`FileFetcher`] is one transport's way of reading files:
//!   [`SmbFetcher`] first, [`WinrmFetcher`] (the runtime's `ReadFile`) as
//!   the fallback.
//! - [`archive`] writes the ZIP (format and encryption choices there).

pub mod archive;
mod collect;
pub mod fetch;
mod manifest;
pub mod names;
mod smb_fetcher;
mod winrm_fetcher;

pub use archive::{ArchiveError, PASSWORD};
pub use collect::{
    EvidenceDest, EvidenceError, EvidenceOptions, Progress, ProgressFn, collect_evidence,
};
pub use fetch::{FetchError, FetchErrorKind, FileFetcher, FileStream, Via};
pub use manifest::{EvidenceReport, EvidenceRequest, MANIFEST_FORMAT, ManifestEntry, Verdict};
pub use smb_fetcher::SmbFetcher;
pub use winrm_fetcher::{DEFAULT_CHUNK_BYTES, WinrmFetcher};

use crate::transport::HostTarget;
use crate::transport::smb::{SmbCredential, SmbOptions};
use tokio_util::sync::CancellationToken;

/// The usual fetchers for one host: SMB through its admin shares, then
/// WinRM through `target` (whose credential should be `smb_credential`'s).
pub fn standard_fetchers(
    target: &HostTarget,
    smb_credential: SmbCredential,
    smb: SmbOptions,
    cancel: CancellationToken,
) -> Vec<Box<dyn FileFetcher>> {
    vec![
        Box::new(SmbFetcher::new(&target.host.address, smb_credential, smb)),
        Box::new(WinrmFetcher::new(target.clone(), cancel)),
    ]
}
