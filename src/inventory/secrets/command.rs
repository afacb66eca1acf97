//! Running a password command: argv directly (no shell), stdin closed,
//! stdout and stderr captured, stopped after a time-out. Returns what the
//! program printed on stdout, in memory that is wiped on drop.

use std::io::{self, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Most stdout bytes kept (a password is far shorter).
const MAX_STDOUT: u64 = 64 * 1024;
/// Most stderr bytes kept, for the error message.
const MAX_STDERR: u64 = 16 * 1024;

#[derive(Debug)]
pub enum RunError {
    Spawn(io::Error),
    Failed { status: ExitStatus, stderr_tail: String },
    Timeout,
}

/// Run `argv` and return its stdout. `argv` must not be empty.
pub fn run(argv: &[String], timeout: Duration) -> Result<Zeroizing<Vec<u8>>, RunError> {
    let (program, args) = argv.split_first().ok_or_else(|| RunError::Spawn(io::ErrorKind::InvalidInput.into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let stdout = collect(child.stdout.take(), MAX_STDOUT);
    let stderr = collect(child.stderr.take(), MAX_STDERR);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout);
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Spawn(e));
            }
        }
    };
    // A grandchild may keep the pipes open; do not wait for it forever.
    let grace = Duration::from_secs(2);
    let out = stdout.recv_timeout(grace).unwrap_or_default();
    if !status.success() {
        let err = stderr.recv_timeout(grace).unwrap_or_default();
        return Err(RunError::Failed { status, stderr_tail: last_line(&err) });
    }
    Ok(out)
}

/// Read a pipe to its end on a thread, keeping at most `max` bytes.
fn collect<R: Read + Send + 'static>(pipe: Option<R>, max: u64) -> mpsc::Receiver<Zeroizing<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::with_capacity(8192));
        if let Some(mut p) = pipe {
            let _ = (&mut p).take(max).read_to_end(&mut buf);
            let _ = io::copy(&mut p, &mut io::sink());
        }
        let _ = tx.send(buf);
    });
    rx
}

/// The last non-empty line of stderr, shortened, for the error message.
fn last_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    let mut short: String = line.chars().take(200).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}
