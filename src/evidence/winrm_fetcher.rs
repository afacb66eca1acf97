//! The WinRM [`FileFetcher`], for hosts whose SMB port is closed (or
//! blocked by containment): the host runtime's `ReadFile` query, one chunk
//! per call ([`crate::runtime::read_file`]), the file opened sharing reads,
//! writes and deletes as on SMB.
//!
//! Each chunk is a separate runtime job (a shell, a PowerShell start), so
//! chunks are large (4 MiB by default, about 5.5 MB of base64 on the wire;
//! the runtime's output cap is 12 MB).

use super::fetch::{FetchError, FetchErrorKind, FileFetcher, FileStream, Via};
use crate::runtime::RuntimeError;
use crate::runtime::ops::FileChunk;
use crate::transport::smb::RemotePath;
use crate::transport::{ErrorKind, HostTarget};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

/// Default bytes per `ReadFile` call.
pub const DEFAULT_CHUNK_BYTES: u32 = 4 * 1024 * 1024;

/// Reads files through the host runtime over WinRM.
pub struct WinrmFetcher {
    target: HostTarget,
    chunk_bytes: u32,
    cancel: CancellationToken,
    /// Set after a failure that makes WinRM useless for this host.
    failed: Option<FetchError>,
    /// A call has succeeded: the credential is good.
    logged_on: bool,
}

impl WinrmFetcher {
    pub fn new(target: HostTarget, cancel: CancellationToken) -> WinrmFetcher {
        WinrmFetcher {
            target,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            cancel,
            failed: None,
            logged_on: false,
        }
    }

    /// Bytes per call (at least 64 KiB).
    pub fn with_chunk_bytes(mut self, bytes: u32) -> WinrmFetcher {
        self.chunk_bytes = bytes.max(64 * 1024);
        self
    }

    async fn read(&mut self, path: &str, offset: u64) -> Result<FileChunk, FetchError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut retried = false;
        loop {
            let r = crate::runtime::read_file(
                &self.target,
                path,
                offset,
                self.chunk_bytes,
                &self.cancel,
            )
            .await;
            let e = match r {
                Ok(chunk) => {
                    self.logged_on = true;
                    return Ok(chunk);
                }
                Err(e) => classify(&e),
            };
            // A 401 after this credential has already worked is a dropped
            // NTLM connection, not a wrong password: a read is safe to
            // repeat, once. The credential is not in doubt, so a second
            // failure only makes WinRM unavailable.
            let e = match e.kind {
                FetchErrorKind::AuthFailed if self.logged_on && !retried => {
                    retried = true;
                    continue;
                }
                FetchErrorKind::AuthFailed if self.logged_on => {
                    FetchError::new(FetchErrorKind::Unavailable, e.message)
                }
                _ => e,
            };
            if matches!(
                e.kind,
                FetchErrorKind::AuthFailed | FetchErrorKind::Unavailable
            ) {
                self.failed = Some(e.clone());
            }
            return Err(e);
        }
    }
}

/// Sort a runtime failure by what evidence collection does next.
pub fn classify(e: &RuntimeError) -> FetchError {
    let kind = match e {
        RuntimeError::Transport(t) => match t.kind() {
            ErrorKind::AuthFailed => FetchErrorKind::AuthFailed,
            ErrorKind::OutputTooLarge => FetchErrorKind::Unreadable,
            _ => FetchErrorKind::Unavailable,
        },
        RuntimeError::ItemFailed { reason, .. } if is_not_found(reason) => FetchErrorKind::NotFound,
        RuntimeError::ItemFailed { .. } => FetchErrorKind::Unreadable,
        RuntimeError::Frame(_) | RuntimeError::NotRun { .. } | RuntimeError::TimedOut(_) | RuntimeError::Power(_) => {
            FetchErrorKind::Unavailable
        }
    };
    FetchError::new(kind, e.to_string())
}

/// .NET's messages for a missing file or folder (`FileNotFoundException`,
/// `DirectoryNotFoundException`), which the runtime passes on.
fn is_not_found(reason: &str) -> bool {
    reason.contains("Could not find file") || reason.contains("Could not find a part of the path")
}

impl FileFetcher for WinrmFetcher {
    fn via(&self) -> Via {
        Via::Winrm
    }

    fn open<'a>(
        &'a mut self,
        path: &'a RemotePath,
    ) -> BoxFuture<'a, Result<Box<dyn FileStream + 'a>, FetchError>> {
        async move {
            let shown = path.to_string();
            let first = self.read(&shown, 0).await?;
            Ok(Box::new(WinrmStream {
                fetcher: self,
                path: shown,
                size: first.size,
                next: first.offset + first.data.len() as u64,
                pending: Some(first),
            }) as Box<dyn FileStream + 'a>)
        }
        .boxed()
    }
}

struct WinrmStream<'a> {
    fetcher: &'a mut WinrmFetcher,
    path: String,
    size: u64,
    next: u64,
    /// The chunk the open already read, handed out first.
    pending: Option<FileChunk>,
}

impl WinrmStream<'_> {
    async fn next(&mut self) -> Result<Option<Vec<u8>>, FetchError> {
        let chunk = match self.pending.take() {
            Some(c) => c,
            None if self.next >= self.size => return Ok(None),
            None => {
                let c = self.fetcher.read(&self.path, self.next).await?;
                if c.size != self.size {
                    return Err(FetchError::new(
                        FetchErrorKind::Unreadable,
                        format!(
                            "{}: the file changed size during the copy ({} -> {} bytes)",
                            self.path, self.size, c.size
                        ),
                    ));
                }
                if c.data.is_empty() && !c.eof {
                    return Err(FetchError::new(
                        FetchErrorKind::Unreadable,
                        format!(
                            "{}: the host returned no data at offset {}",
                            self.path, self.next
                        ),
                    ));
                }
                self.next += c.data.len() as u64;
                c
            }
        };
        if chunk.eof {
            // Nothing more to read, whatever size said.
            self.size = self.next;
        }
        Ok((!chunk.data.is_empty()).then_some(chunk.data))
    }
}

impl FileStream for WinrmStream<'_> {
    fn size(&self) -> Option<u64> {
        Some(self.size)
    }

    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, FetchError>> {
        async move { self.next().await }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_missing_and_other_item_failures_are_unreadable() {
        let nf = RuntimeError::ItemFailed {
            what: "read file",
            reason: r"Could not find file 'C:\x.dll'.".into(),
        };
        assert_eq!(classify(&nf).kind, FetchErrorKind::NotFound);
        let dir = RuntimeError::ItemFailed {
            what: "read file",
            reason: r"Could not find a part of the path 'C:\nope\x.dll'.".into(),
        };
        assert_eq!(classify(&dir).kind, FetchErrorKind::NotFound);
        let denied = RuntimeError::ItemFailed {
            what: "read file",
            reason: r"Access to the path 'C:\x.dll' is denied.".into(),
        };
        assert_eq!(classify(&denied).kind, FetchErrorKind::Unreadable);
        let auth = RuntimeError::Transport(crate::transport::TransportError::AuthFailed {
            credential: "lab".into(),
            detail: "HTTP 401".into(),
        });
        assert_eq!(classify(&auth).kind, FetchErrorKind::AuthFailed);
        let down = RuntimeError::Transport(crate::transport::TransportError::Unreachable {
            address: "10.0.0.5".into(),
            port: 5985,
            detail: "connection refused".into(),
        });
        assert_eq!(classify(&down).kind, FetchErrorKind::Unavailable);
    }
}
