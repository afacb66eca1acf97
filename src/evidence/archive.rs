//! The evidence ZIP of one host for one run, written on its own thread
//! (deflate and disk writes stay off the async workers) while chunks
//! stream in, so a 500 MB file never sits in memory.
//!
//! Entries are deflated at level 1 (fast: packed payloads barely compress,
//! and zero padding, which loaders add to get past sandbox size limits,
//! shrinks a thousandfold at any level; measured 600 MB of padding in 2 s,
//! 600 MB of incompressible data at about 40 MB/s) and encrypted with
//! ZipCrypto under the password `infected`, the field's convention:
//! antivirus leaves the archive alone, and `unzip -P infected`, 7-Zip,
//! Python's `zipfile` and sandboxes open it (Info-ZIP `unzip` and Python's
//! `zipfile` cannot open WinZip AES entries). ZipCrypto is weak
//! cryptography; it is a safety catch against accidental execution and
//! scanning, not secrecy. `manifest.json` is stored unencrypted: it holds
//! no malware bytes, and hashes and paths can be read (and triaged) without
//! extracting anything dangerous.
//!
//! The archive is written as `<name>.zip.partial` and renamed when
//! complete, so a `.zip` is always whole; an existing `.zip` is never
//! overwritten (a second collection in one run gets `<run-id>-2.zip`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use zip::unstable::write::FileOptionsExt;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The password of every evidence entry.
pub const PASSWORD: &str = "infected";
/// How the entries are protected (for the manifest).
pub const ENCRYPTION: &str =
    "ZipCrypto (traditional PKWARE), password \"infected\"; manifest.json unencrypted";
/// Name of the manifest entry.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// Entries at least this large (or of unknown size) are written as ZIP64.
const ZIP64_FROM: u64 = 0xF000_0000;
/// Chunks queued between the fetch and the writer thread.
const QUEUE: usize = 8;
/// The writer's buffer before the file: one write a 64 KB. Every host in
/// the purge at once has an archive open (256 with the default forks), so
/// this is paid that many times over.
const WRITE_BUFFER: usize = 64 * 1024;

/// A failure writing the archive (disk full, permissions, ...): collection
/// of this host stops.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write evidence archive {path}: {message}")]
pub struct ArchiveError {
    pub path: PathBuf,
    pub message: String,
}

enum Cmd {
    Start {
        name: String,
        large: bool,
        modified: DateTime,
    },
    Data(Vec<u8>),
    Abort,
    Close {
        manifest: Vec<u8>,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// The writer side; the thread owns the `ZipWriter`.
pub struct ArchiveWriter {
    tx: Option<mpsc::Sender<Cmd>>,
    failure: Arc<Mutex<Option<String>>>,
    partial: PathBuf,
    path: PathBuf,
}

impl ArchiveWriter {
    /// Create `dir/<stem>.zip.partial` (creating `dir`), choosing a stem
    /// whose `.zip` does not exist yet.
    pub fn create(dir: &Path, stem: &str) -> Result<ArchiveWriter, ArchiveError> {
        let err = |path: &Path, e: io::Error| ArchiveError {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let (path, partial, file) = (1..1000)
            .find_map(|n| {
                let name = if n == 1 {
                    stem.to_string()
                } else {
                    format!("{stem}-{n}")
                };
                let path = dir.join(format!("{name}.zip"));
                let partial = dir.join(format!("{name}.zip.partial"));
                if path.exists() {
                    return None;
                }
                create_new(&partial).ok().map(|f| (path, partial, f))
            })
            .ok_or_else(|| {
                err(
                    &dir.join(format!("{stem}.zip")),
                    io::Error::other("no free archive name"),
                )
            })?;
        let failure = Arc::new(Mutex::new(None));
        let (tx, rx) = mpsc::channel(QUEUE);
        let slot = failure.clone();
        let thread_partial = partial.clone();
        std::thread::Builder::new()
            .name("evidence-zip".into())
            .spawn(move || run(file, rx, slot, thread_partial))
            .map_err(|e| err(&partial, e))?;
        Ok(ArchiveWriter {
            tx: Some(tx),
            failure,
            partial,
            path,
        })
    }

    /// Where the finished archive will be.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn failed(&self) -> ArchiveError {
        let message = self
            .failure
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_else(|| "the archive writer stopped".into());
        ArchiveError {
            path: self.partial.clone(),
            message,
        }
    }

    async fn send(&mut self, cmd: Cmd) -> Result<(), ArchiveError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(cmd).await.is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.failed()) }
    }

    /// Begin an encrypted entry. `size` (if known) decides ZIP64.
    pub async fn start_entry(
        &mut self,
        name: &str,
        size: Option<u64>,
        unix_secs: i64,
    ) -> Result<(), ArchiveError> {
        let large = size.is_none_or(|s| s >= ZIP64_FROM);
        self.send(Cmd::Start {
            name: name.to_string(),
            large,
            modified: dos_time(unix_secs),
        })
        .await
    }

    /// Append to the current entry.
    pub async fn write(&mut self, chunk: Vec<u8>) -> Result<(), ArchiveError> {
        self.send(Cmd::Data(chunk)).await
    }

    /// Drop the current entry (its transfer failed).
    pub async fn abort_entry(&mut self) -> Result<(), ArchiveError> {
        self.send(Cmd::Abort).await
    }

    /// Add the unencrypted manifest, finish the archive and rename it to
    /// its final name, which is returned.
    pub async fn close(mut self, manifest: Vec<u8>) -> Result<PathBuf, ArchiveError> {
        let (reply, answer) = oneshot::channel();
        self.send(Cmd::Close { manifest, reply }).await?;
        match answer.await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                return Err(ArchiveError {
                    path: self.partial.clone(),
                    message,
                });
            }
            Err(_) => return Err(self.failed()),
        }
        self.tx = None;
        std::fs::rename(&self.partial, &self.path).map_err(|e| ArchiveError {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(self.path.clone())
    }
}

impl Drop for ArchiveWriter {
    /// Abandoned before [`close`](ArchiveWriter::close) (a refused logon,
    /// a failed write): the half archive goes now, not when the thread
    /// notices.
    fn drop(&mut self) {
        if self.tx.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// The evidence file is readable by its owner only (it holds malware).
fn create_new(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).read(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn dos_time(unix_secs: i64) -> DateTime {
    let (y, mo, d, h, mi, s) = super::names::civil(unix_secs);
    u16::try_from(y)
        .ok()
        .and_then(|y| {
            DateTime::from_date_and_time(y, mo as u8, d as u8, h as u8, mi as u8, s as u8).ok()
        })
        .unwrap_or_default()
}

/// The thread: apply commands until Close (then reply) or until the
/// sender is dropped (then the partial archive is removed).
fn run(
    file: File,
    mut rx: mpsc::Receiver<Cmd>,
    failure: Arc<Mutex<Option<String>>>,
    partial: PathBuf,
) {
    let mut zip = ZipWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file));
    let mut in_entry = false;
    while let Some(cmd) = rx.blocking_recv() {
        let result = match cmd {
            Cmd::Start {
                name,
                large,
                modified,
            } => {
                in_entry = true;
                SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .compression_level(Some(1))
                    .large_file(large)
                    .last_modified_time(modified)
                    .unix_permissions(0o600)
                    .with_deprecated_encryption(PASSWORD.as_bytes())
                    .and_then(|options| zip.start_file(name, options))
                    .map_err(|e| e.to_string())
            }
            Cmd::Data(chunk) => zip.write_all(&chunk).map_err(|e| e.to_string()),
            Cmd::Abort => {
                let r = if in_entry {
                    zip.abort_file().map_err(|e| e.to_string())
                } else {
                    Ok(())
                };
                in_entry = false;
                r
            }
            Cmd::Close { manifest, reply } => {
                let result = close(zip, &manifest);
                if result.is_err() {
                    let _ = std::fs::remove_file(&partial);
                }
                let _ = reply.send(result);
                return;
            }
        };
        if let Err(message) = result {
            if let Ok(mut slot) = failure.lock() {
                *slot = Some(message);
            }
            break;
        }
    }
    // Abandoned (or failed): no half archive is left behind.
    drop(zip);
    let _ = std::fs::remove_file(&partial);
}

fn close(mut zip: ZipWriter<BufWriter<File>>, manifest: &[u8]) -> Result<(), String> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    zip.start_file(MANIFEST_ENTRY, options)
        .map_err(|e| e.to_string())?;
    zip.write_all(manifest).map_err(|e| e.to_string())?;
    let mut out = zip.finish().map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    out.get_ref().sync_all().map_err(|e| e.to_string())
}
