//! The SMB [`FileFetcher`]: one session per host, opened on first use
//! (so a host whose files are all skipped is never logged on to), and
//! given up for good after an unreachable port or a refused logon.

use super::fetch::{FetchError, FetchErrorKind, FileFetcher, FileStream, Via};
use crate::transport::smb::{
    RemotePath, SmbCredential, SmbErrorKind, SmbFile, SmbOptions, SmbSession,
};
use futures::FutureExt;
use futures::future::BoxFuture;

/// Reads files through the host's admin shares.
pub struct SmbFetcher {
    address: String,
    credential: SmbCredential,
    options: SmbOptions,
    state: State,
}

enum State {
    NotConnected,
    Connected(Box<SmbSession>),
    /// Connecting failed; the same answer for every later file.
    Failed(FetchError),
}

impl SmbFetcher {
    /// A fetcher for the host at `address` (IP or DNS name, no port).
    pub fn new(address: &str, credential: SmbCredential, options: SmbOptions) -> SmbFetcher {
        SmbFetcher {
            address: address.to_string(),
            credential,
            options,
            state: State::NotConnected,
        }
    }

    /// The session, if connected (to report signing and encryption).
    pub fn session(&self) -> Option<&SmbSession> {
        match &self.state {
            State::Connected(s) => Some(s),
            _ => None,
        }
    }

    async fn session_mut(&mut self) -> Result<&mut SmbSession, FetchError> {
        if let State::NotConnected = self.state {
            self.state = match SmbSession::connect(&self.address, &self.credential, &self.options)
                .await
            {
                Ok(s) => {
                    let p = s.protection();
                    tracing::debug!(target = s.target(), dialect = %p.dialect, signed = p.signed, encrypted = p.encrypted, "SMB session");
                    State::Connected(Box::new(s))
                }
                Err(e) => State::Failed(e.into()),
            };
        }
        match &mut self.state {
            State::Connected(s) => Ok(s),
            State::Failed(e) => Err(e.clone()),
            State::NotConnected => Err(FetchError::new(
                FetchErrorKind::Unavailable,
                "not connected",
            )),
        }
    }

    async fn open_file(&mut self, path: &RemotePath) -> Result<SmbFile, FetchError> {
        let session = self.session_mut().await?;
        match session.open(path).await {
            Ok(f) => Ok(f),
            Err(e) => {
                // A lost connection ends the session; a missing share does
                // not (another share may still serve other paths).
                let dead = e.kind == SmbErrorKind::ConnectionLost;
                let e = FetchError::from(e);
                if dead {
                    self.state = State::Failed(e.clone());
                }
                Err(e)
            }
        }
    }
}

impl FileFetcher for SmbFetcher {
    fn via(&self) -> Via {
        Via::Smb
    }

    fn open<'a>(
        &'a mut self,
        path: &'a RemotePath,
    ) -> BoxFuture<'a, Result<Box<dyn FileStream + 'a>, FetchError>> {
        async move {
            let file = self.open_file(path).await?;
            Ok(Box::new(SmbStream(file)) as Box<dyn FileStream + 'a>)
        }
        .boxed()
    }
}

struct SmbStream(SmbFile);

impl FileStream for SmbStream {
    fn size(&self) -> Option<u64> {
        Some(self.0.size())
    }

    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, FetchError>> {
        async move { self.0.next_chunk().await.map_err(FetchError::from) }.boxed()
    }
}
