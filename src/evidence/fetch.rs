//! How evidence bytes leave a host: a [`FileFetcher`] per transport (SMB
//! first, WinRM as the fallback), each opening files as [`FileStream`]s.
//! Failures are classed by what [`super::collect_evidence`] does next
//! ([`FetchErrorKind`]).

use crate::transport::smb::{RemotePath, SmbError, SmbErrorKind};
use futures::future::BoxFuture;
use serde::Serialize;
use std::fmt;

/// The transport a file came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Smb,
    Winrm,
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Via::Smb => "smb",
            Via::Winrm => "winrm",
        })
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// This transport cannot reach the host (port filtered, share missing,
    /// connection lost): use the next fetcher for this and later files.
    Unavailable,
    /// The credential was rejected: stop, never retry (lock-out).
    AuthFailed,
    /// The file is not there.
    NotFound,
    /// This file cannot be read this way (access denied, in use, a
    /// folder, a name the transport cannot carry): try the next fetcher
    /// for this file only.
    Unreadable,
}

/// A failure of one fetcher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub kind: FetchErrorKind,
    pub message: String,
}

impl FetchError {
    pub fn new(kind: FetchErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
        }
    }
}

impl From<SmbError> for FetchError {
    fn from(e: SmbError) -> FetchError {
        let kind = match e.kind {
            SmbErrorKind::AuthFailed => FetchErrorKind::AuthFailed,
            SmbErrorKind::NotFound => FetchErrorKind::NotFound,
            k if k.is_transport_down() => FetchErrorKind::Unavailable,
            _ => FetchErrorKind::Unreadable,
        };
        FetchError::new(kind, e.message)
    }
}

/// One transport's way of reading files from one host. Connects lazily,
/// on the first [`open`](FileFetcher::open), and at most once with a
/// given credential.
pub trait FileFetcher: Send {
    /// Which transport this is (recorded per file in the manifest).
    fn via(&self) -> Via;

    /// Open `path` for reading.
    fn open<'a>(
        &'a mut self,
        path: &'a RemotePath,
    ) -> BoxFuture<'a, Result<Box<dyn FileStream + 'a>, FetchError>>;
}

/// An open file, read front to back.
pub trait FileStream: Send {
    /// The file's size, when the transport knows it up front.
    fn size(&self) -> Option<u64>;

    /// The next chunk, or `None` at the end.
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, FetchError>>;
}
