//! The engagement lock: one writing cauterize per engagement folder.
//!
//! A writer (scan, plan, apply, run, contain, release) holds an exclusive
//! OS lock on `cauterize.lock` in the engagement folder for as long as it
//! runs, and writes who it is into the file (host, PID, start time,
//! command). A second writer is refused with that holder named. The OS
//! drops the lock when its process dies however it dies (kill -9
//! included), so a lock whose holder is gone is simply taken: the file
//! still names the old holder, and the new one says it took over.
//! Read-only commands (a status view) never take it.
//!
//! Inside one process the lock is shared: every journal opened on the same
//! folder holds the same lock, released when the last one closes.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// File name of the lock inside the engagement folder.
pub const LOCK_FILE: &str = "cauterize.lock";

/// Who holds (or held) the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cauterize {} (PID {} on {}, started {})",
            self.command, self.pid, self.host, self.started_at
        )
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the engagement {dir} is in use by {holder}; wait for it to end (or stop it), then run this again. Read-only commands such as `cauterize status` work meanwhile"
    )]
    Held { dir: PathBuf, holder: Holder },
    #[error(
        "the engagement {dir} is locked by another cauterize that did not say who it is ({path}); wait for it to end, then run this again"
    )]
    HeldUnknown { dir: PathBuf, path: PathBuf },
    #[error("cannot lock the engagement {dir} ({path}): {source}; check that the folder is writable")]
    Io {
        dir: PathBuf,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A held engagement lock; released when dropped.
#[derive(Debug)]
pub struct EngagementLock {
    file: File,
    path: PathBuf,
    holder: Holder,
    /// The previous holder, when its process ended without releasing the
    /// lock (killed, crashed, power lost).
    pub took_over: Option<Holder>,
}

impl EngagementLock {
    /// Take the lock of the engagement folder `dir` for `command`.
    pub fn acquire(dir: &Path, command: &str) -> Result<EngagementLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            dir: dir.to_path_buf(),
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(match read_holder(&mut file) {
                    Some(holder) => LockError::Held {
                        dir: dir.to_path_buf(),
                        holder,
                    },
                    None => LockError::HeldUnknown {
                        dir: dir.to_path_buf(),
                        path,
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let took_over = read_holder(&mut file);
        let holder = Holder {
            host: crate::journal::argv::machine(),
            pid: std::process::id(),
            started_at: crate::evidence::names::rfc3339(crate::evidence::names::now_unix()),
            command: command.to_string(),
        };
        let text = serde_json::to_string(&holder).unwrap_or_default();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        Ok(EngagementLock {
            file,
            path,
            holder,
            took_over,
        })
    }

    /// Who holds it: this process.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for EngagementLock {
    fn drop(&mut self) {
        // An empty file says nobody holds it; the OS lock goes with the
        // file handle.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(64 * 1024).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Locks this process holds, by folder.
static HELD: Mutex<Option<HashMap<PathBuf, Weak<EngagementLock>>>> = Mutex::new(None);

/// The lock of `dir` for this process: the one already held (another
/// journal of this process has the folder open), or a new one.
pub fn shared(dir: &Path, command: &str) -> Result<Arc<EngagementLock>, LockError> {
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    let map = held.get_or_insert_with(HashMap::new);
    if let Some(lock) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(lock);
    }
    let lock = Arc::new(EngagementLock::acquire(dir, command)?);
    map.insert(key, Arc::downgrade(&lock));
    Ok(lock)
}

/// Say that every lock this process holds is released (its file emptied),
/// for a process about to exit without running destructors
/// (`std::process::exit`): the next holder then takes it without a
/// "taken over" warning. The OS releases the locks themselves at exit.
pub fn clear_on_exit() {
    let held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    for lock in held.iter().flat_map(|m| m.values()).filter_map(Weak::upgrade) {
        let _ = lock.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = EngagementLock::acquire(dir.path(), "apply").unwrap();
        assert!(first.took_over.is_none());
        // A second handle on the file is what another process has.
        let err = EngagementLock::acquire(dir.path(), "scan").unwrap_err();
        let text = err.to_string();
        match err {
            LockError::Held { holder, .. } => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.command, "apply");
                assert_eq!(&holder, first.holder());
            }
            other => panic!("not refused by holder: {other}"),
        }
        assert!(text.contains(&format!("PID {}", std::process::id())), "{text}");
        assert!(text.contains("cauterize apply"), "{text}");
        drop(first);
        // Released: the next writer takes it without a take-over.
        let again = EngagementLock::acquire(dir.path(), "scan").unwrap();
        assert!(again.took_over.is_none());
    }

    #[test]
    fn a_lock_whose_holder_is_gone_is_taken_over_saying_so() {
        let dir = tempfile::tempdir().unwrap();
        // A holder killed with -9 leaves its name in the file and no OS
        // lock (the kernel dropped it with the process).
        let gone = Holder {
            host: "laptop-7".into(),
            pid: 999_999,
            started_at: "2024-05-01T10:00:00Z".into(),
            command: "apply".into(),
        };
        std::fs::write(dir.path().join(LOCK_FILE), serde_json::to_string(&gone).unwrap()).unwrap();
        let lock = EngagementLock::acquire(dir.path(), "apply").unwrap();
        assert_eq!(lock.took_over.as_ref(), Some(&gone));
        let written: Holder = serde_json::from_str(&std::fs::read_to_string(lock.path()).unwrap()).unwrap();
        assert_eq!(written.pid, std::process::id());
    }

    #[test]
    fn journals_of_one_process_share_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let a = shared(dir.path(), "plan").unwrap();
        let b = shared(dir.path(), "plan").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        // Released with the last one.
        assert!(EngagementLock::acquire(dir.path(), "scan").is_ok());
    }
}
