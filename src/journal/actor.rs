//! One journal shared by many async tasks: the connection lives on its own
//! thread and each call is a closure sent to it, run in order, its result
//! sent back. SQLite sees one writer; tokio workers never block on disk.
//!
//! Group commit: the calls queued while the thread was busy run together
//! in one transaction (each in its own savepoint, so one failing call
//! loses only its own writes) and commit with one fsync. Every caller gets
//! its answer only after that commit: an action announced through the
//! journal is on disk before the caller carries it out.

use std::sync::mpsc;
use tokio::sync::oneshot;

use super::{Journal, JournalError};

/// Most calls committed together.
const MAX_GROUP: usize = 512;

/// Called after the group's commit with whether it committed.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut Journal) -> Reply + Send>;

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

/// The journal's thread, to wait for its end: it ends once every
/// [`JournalHandle`] is dropped and the calls already sent are committed.
/// Dropping this detaches the thread.
pub struct WriterThread(std::thread::JoinHandle<()>);

impl WriterThread {
    /// Wait until the thread has ended: nothing more will be written.
    pub fn join(self) {
        let _ = self.0.join();
    }
}

impl JournalHandle {
    /// Move `journal` to a thread of its own.
    pub fn spawn(journal: Journal) -> Result<JournalHandle, JournalError> {
        Ok(Self::spawn_joinable(journal)?.0)
    }

    /// [`JournalHandle::spawn`], with the thread to wait for: what a caller
    /// needs that must know the writer is gone (a run that ended, or in
    /// tests a run killed mid-way, whose calls already sent would still be
    /// committed after the kill otherwise).
    pub fn spawn_joinable(mut journal: Journal) -> Result<(JournalHandle, WriterThread), JournalError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("cauterize-journal".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    run_group(&mut journal, jobs);
                }
            })
            .map_err(|_| JournalError::WriterGone)?;
        Ok((JournalHandle { tx }, WriterThread(thread)))
    }

    /// Run `f` on the journal and wait (asynchronously) for its result,
    /// which comes once what `f` wrote is committed.
    pub async fn call<R, F>(&self, f: F) -> Result<R, JournalError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Journal) -> Result<R, JournalError> + Send + 'static,
    {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Box::new(move |j: &mut Journal| {
                let result = f(j);
                Box::new(move |committed: Result<(), String>| {
                    let _ = done.send(match committed {
                        Ok(()) => result,
                        Err(e) => Err(JournalError::Commit(e)),
                    });
                }) as Reply
            }))
            .map_err(|_| JournalError::WriterGone)?;
        wait.await.map_err(|_| JournalError::WriterGone)?
    }
}

/// Run queued calls: alone when there is one, else in one group commit.
fn run_group(journal: &mut Journal, jobs: Vec<Job>) {
    let grouped = jobs.len() > 1 && journal.begin_batch().is_ok();
    let replies: Vec<Reply> = jobs.into_iter().map(|job| job(journal)).collect();
    let committed = if grouped {
        journal.commit_batch().map_err(|e| e.to_string())
    } else {
        Ok(())
    };
    for reply in replies {
        reply(committed.clone());
    }
}
