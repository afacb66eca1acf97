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
//! The schema is versioned ([`schema`]); the database runs in WAL mode and
//! every write is one transaction. [`Journal`] is synchronous; async tasks
//! share it through [`actor::JournalHandle`], one connection on its own
//! thread.

pub mod actor;
pub mod argv;
mod read;
pub mod records;
pub mod schema;
mod write;

#[cfg(test)]
mod tests;

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use actor::JournalHandle;
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
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Open (or create) the journal of the engagement folder `dir`,
    /// creating the folder when it does not exist yet.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let path = dir.join(FILE_NAME);
        let conn = Connection::open(&path).map_err(|source| JournalError::Open {
            path: path.clone(),
            source,
        })?;
        Self::setup(conn, Some(path))
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
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        // WAL: readers never block the writer; another cauterize reading the
        // journal (a report) does not stop a scan.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        schema::migrate(&mut conn)?;
        Ok(Journal { conn, path })
    }

    /// Where the journal is (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open journal.
    pub fn schema_version(&self) -> Result<u32, JournalError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}
