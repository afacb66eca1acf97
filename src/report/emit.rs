//! Writing reports to stdout without panicking when the reader goes away
//! (`cauterize exec --json ... | head`): a closed pipe ends the output
//! quietly; the run itself goes on and its exit code still counts.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout is gone; later writes are skipped.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Write `text` to stdout as is, flushed. Returns false when stdout is gone.
pub fn stdout_text(text: &str) -> bool {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    let ok = out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok();
    if !ok {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
    ok
}

/// Write one line (a newline is added).
pub fn stdout_line(line: &str) -> bool {
    stdout_text(&format!("{line}\n"))
}
