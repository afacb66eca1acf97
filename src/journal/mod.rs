//! The engagement's journal: its state and audit log in one SQLite file,
//! `cauterize.db` in the engagement folder (`--engagement DIR`, default the
//! current directory).
//!
//! What is kept: every run (command, argv with secrets redacted, operator,
//! start and end, exit code), every host touched, every collection attempt
//! and the snapshot it returned (JSON), the findings of each snapshot, every
//! plan written (file hash, settings, each operation active or not), every
//! review of a plan file, every action carried out and its outcome, and
//! audit events. Never a secret: passwords are not given to the journal,
//! argv is redacted ([`argv`]), and transport errors are already scrubbed.
//!
//! The schema is versioned ([`schema`]); the database runs in WAL mode with
//! `synchronous=FULL` (a committed action survives a power cut, not only a
//! killed process), and every write is one IMMEDIATE transaction (it takes
//! the write lock at its start, so a second connection waits instead of
//! failing half-way). A writer holds the engagement lock ([`lock`]);
//! [`Journal::open_read_only`] does not need it. [`Journal`] is
//! synchronous; async tasks share it through [`actor::JournalHandle`], one
//! connection on its own thread that commits what is queued together
//! (group commit). The operation's records (its hosts' states, keyed
//! actions, resume) are in [`operation`]; the standing of sources of
//! lateral movement the inventory does not list in [`sources`].

pub mod actor;
pub mod argv;
pub mod lock;
pub mod operation;
mod read;
pub mod records;
pub mod schema;
pub mod sources;
mod snapshot_codec;
mod write;

#[cfg(test)]
mod tests;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use actor::{JournalHandle, WriterThread};
pub use records::*;
pub use write::sha256_hex;

/// File name of the journal inside the engagement folder.
pub const FILE_NAME: &str = "cauterize.db";

/// A journal failure, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "cannot open the journal {path}: {source}; check that the engagement folder exists and is writable (--engagement DIR)"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cannot create the engagement folder {path}: {source}; create it yourself or choose another with --engagement DIR"
    )]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the journal has schema version {found}, but this cauterize knows only up to {known}; use the newer cauterize that wrote it"
    )]
    TooNew { found: u32, known: u32 },
    #[error("journal database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal data cannot be read back ({what}): {detail}")]
    Corrupt { what: String, detail: String },
    #[error("the journal's writer thread stopped; the run cannot be recorded")]
    WriterGone,
    #[error("{0}")]
    Locked(#[from] lock::LockError),
    #[error("the journal could not commit: {0}")]
    Commit(String),
    #[error(
        "the journal {path} has schema version {found}; this cauterize reads version {known}: run a writing command (scan, plan) on the engagement first, which brings it up to date"
    )]
    NotMigrated {
        path: PathBuf,
        found: u32,
        known: u32,
    },
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: Option<PathBuf>,
    /// The engagement lock (writers only).
    lock: Option<Arc<lock::EngagementLock>>,
    /// A group commit is open ([`actor`]): writes are savepoints in it.
    batch: bool,
}

/// What the lock holder is doing (`scan`, `apply`, ...): the subcommand.
fn command_name() -> String {
    std::env::args()
        .nth(1)
        .filter(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "cauterize".into())
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Open (or create) the journal of the engagement folder `dir` for
    /// writing, creating the folder when it does not exist yet. Takes the
    /// engagement lock: a second writing cauterize on the folder is refused
    /// (see [`lock`]).
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let lock = lock::shared(dir, &command_name())?;
        if let Some(old) = &lock.took_over {
            tracing::warn!(
                "took over the engagement lock of {old}: that process ended without releasing it (killed or crashed); its operation, if any, can be continued with --resume"
            );
        }
        let path = dir.join(FILE_NAME);
        let conn = Connection::open(&path).map_err(|source| JournalError::Open {
            path: path.clone(),
            source,
        })?;
        let mut j = Self::setup(conn, Some(path))?;
        j.lock = Some(lock);
        Ok(j)
    }

    /// Open the journal of `dir` to read it only: no lock, works while a
    /// writer runs (WAL readers never block it).
    pub fn open_read_only(dir: &Path) -> Result<Journal, JournalError> {
        let path = dir.join(FILE_NAME);
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        let j = Journal {
            conn,
            path: Some(path.clone()),
            lock: None,
            batch: false,
        };
        let found = j.schema_version()?;
        let known = schema::current_version();
        if found != known {
            return Err(if found > known {
                JournalError::TooNew { found, known }
            } else {
                JournalError::NotMigrated { path, found, known }
            });
        }
        Ok(j)
    }

    /// A journal in memory (tests).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Journal, JournalError> {
        let open_err = |source| match &path {
            Some(p) => JournalError::Open {
                path: p.clone(),
                source,
            },
            None => JournalError::Sql(source),
        };
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(open_err)?;
        // WAL: readers never block the writer; another cauterize reading the
        // journal (a report) does not stop a scan. Switching a new file to
        // WAL needs it alone for a moment, and SQLite answers "busy" at
        // once rather than waiting: try again for a while.
        let started = std::time::Instant::now();
        loop {
            match conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())) {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < Duration::from_secs(30) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(open_err(e)),
            }
        }
        // FULL: each commit is on disk before the action it records runs.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        schema::migrate(&mut conn)?;
        Ok(Journal {
            conn,
            path,
            lock: None,
            batch: false,
        })
    }

    /// Where the journal is (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The engagement lock this journal holds (writers).
    pub fn lock(&self) -> Option<&lock::EngagementLock> {
        self.lock.as_deref()
    }

    /// The schema version of the open journal.
    pub fn schema_version(&self) -> Result<u32, JournalError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Run `f` as one write: its own IMMEDIATE transaction, or a savepoint
    /// of the group commit in progress (then it is durable when the group
    /// commits, which the actor waits for before answering). On error
    /// nothing of `f` stays.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        if self.batch {
            let sp = self.conn.savepoint()?;
            let out = f(&sp)?;
            sp.commit()?;
            return Ok(out);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Open a group commit (the actor's batch of queued calls).
    pub(crate) fn begin_batch(&mut self) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.batch = true;
        Ok(())
    }

    /// Commit the group (one fsync for all of it).
    pub(crate) fn commit_batch(&mut self) -> Result<(), JournalError> {
        self.batch = false;
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        Ok(())
    }
}
