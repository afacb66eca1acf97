//! One journal shared by many async tasks: the connection lives on its own
//! thread and each call is a closure sent to it, run in order, its result
//! sent back. SQLite sees one writer; tokio workers never block on disk.

use std::sync::mpsc;
use tokio::sync::oneshot;

use super::{Journal, JournalError};

type Job = Box<dyn FnOnce(&mut Journal) + Send>;

/// A cloneable handle to a journal running on its own thread. The thread
/// ends when the last handle is dropped.
#[derive(Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for JournalHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalHandle")
    }
}

impl JournalHandle {
    /// Move `journal` to a thread of its own.
    pub fn spawn(mut journal: Journal) -> Result<JournalHandle, JournalError> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("cauterize-journal".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut journal);
                }
            })
            .map_err(|_| JournalError::WriterGone)?;
        Ok(JournalHandle { tx })
    }

    /// Run `f` on the journal and wait (asynchronously) for its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, JournalError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Journal) -> Result<R, JournalError> + Send + 'static,
    {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Box::new(move |j: &mut Journal| {
                let _ = done.send(f(j));
            }))
            .map_err(|_| JournalError::WriterGone)?;
        wait.await.map_err(|_| JournalError::WriterGone)?
    }
}
