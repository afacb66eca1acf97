//! What a script run returns, [`ScriptOutput`], and the bounded buffer that
//! collects it poll by poll. Pure: no I/O.

use std::time::{Duration, SystemTime};

/// Most output (stdout plus stderr) kept from one script: past this the
/// command is stopped and the run fails with `OutputTooLarge`.
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;

/// The result of a script that ran to its end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptOutput {
    pub stdout: String,
    /// Readable text: PowerShell's CLIXML error records already decoded.
    pub stderr: String,
    pub exit_code: i32,
    /// From starting the command to its end (shell creation excluded).
    #[serde(skip)]
    pub elapsed: Duration,
    /// Local wall-clock time when the command was started (for clock-skew
    /// estimates: the host ran it between this and `started_at + elapsed`).
    #[serde(skip)]
    pub started_at: SystemTime,
}

/// Collects output up to a cap.
#[derive(Debug)]
pub struct OutputBuffer {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    cap: usize,
}

/// The buffer went past its cap.
#[derive(Debug, PartialEq, Eq)]
pub struct OverCap(pub usize);

impl OutputBuffer {
    pub fn new(cap: usize) -> Self {
        OutputBuffer {
            stdout: Vec::new(),
            stderr: Vec::new(),
            cap,
        }
    }

    /// Add one poll's output; `Err` once the total passes the cap.
    pub fn push(&mut self, stdout: &[u8], stderr: &[u8]) -> Result<(), OverCap> {
        let total = self.stdout.len() + self.stderr.len() + stdout.len() + stderr.len();
        if total > self.cap {
            return Err(OverCap(self.cap));
        }
        self.stdout.extend_from_slice(stdout);
        self.stderr.extend_from_slice(stderr);
        Ok(())
    }

    /// The output as text.
    pub fn finish(self, exit_code: i32, started_at: SystemTime, elapsed: Duration) -> ScriptOutput {
        ScriptOutput {
            stdout: text_of(&self.stdout),
            stderr: readable_stderr(&self.stderr),
            exit_code,
            elapsed,
            started_at,
        }
    }
}

/// UTF-8 text (the shell runs in code page 65001), without a BOM; invalid
/// bytes become U+FFFD rather than failing the run.
fn text_of(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stderr as a person should read it. winrm-rs's `receive_next` already
/// decodes PowerShell's CLIXML; this is the safety net for a document that
/// slipped through (decoded again, so no `<Objs` or `_x000D__x000A_` ever
/// reaches the user), and it normalises line ends.
pub fn readable_stderr(bytes: &[u8]) -> String {
    let decoded;
    let bytes = if contains(bytes, b"<Objs") || contains(bytes, b"#< CLIXML") {
        let mut d = winrm_rs::StderrDecoder::new();
        let mut out = d.push(bytes);
        out.extend(d.finish());
        decoded = out;
        &decoded[..]
    } else {
        bytes
    };
    let text = text_of(bytes).replace("\r\n", "\n");
    // Leftover escapes of CR/LF from a partial record.
    text.replace("_x000D__x000A_", "\n")
        .replace("_x000A_", "\n")
        .replace("_x000D_", "")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Paces a polling loop against a server that answers at once with nothing
/// (a Receive normally waits up to the operation time-out for output): after
/// three quick empty polls in a row, sleep 50 ms, doubling up to 1 s.
#[derive(Debug, Default)]
pub struct PollPacer {
    quick_empty: u32,
}

impl PollPacer {
    /// A poll faster than this that brought nothing counts as quick.
    pub const QUICK: Duration = Duration::from_millis(250);

    /// How long to wait before the next poll, given how long this one took
    /// and whether it brought anything.
    pub fn delay_after(&mut self, took: Duration, progressed: bool) -> Option<Duration> {
        if progressed || took >= Self::QUICK {
            self.quick_empty = 0;
            return None;
        }
        self.quick_empty += 1;
        if self.quick_empty < 3 {
            return None;
        }
        let doublings = (self.quick_empty - 3).min(5);
        Some(Duration::from_millis(50 << doublings).min(Duration::from_secs(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_caps_total_output() {
        let mut b = OutputBuffer::new(10);
        assert!(b.push(b"12345", b"").is_ok());
        assert!(b.push(b"", b"12345").is_ok());
        assert_eq!(b.push(b"x", b""), Err(OverCap(10)));
        let out = b.finish(0, SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!(out.stdout, "12345");
        assert_eq!(out.stderr, "12345");
    }

    #[test]
    fn stdout_bom_stripped_and_invalid_utf8_survives() {
        let mut b = OutputBuffer::new(100);
        b.push(b"\xEF\xBB\xBFok \xFF\r\n", b"").unwrap();
        assert_eq!(
            b.finish(0, SystemTime::UNIX_EPOCH, Duration::ZERO).stdout,
            "ok \u{FFFD}\r\n"
        );
    }

    #[test]
    fn clixml_stderr_becomes_readable() {
        let raw = b"#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Get-Item : Cannot find path 'C:\\nope'_x000D__x000A_</S><S S=\"Error\">    + CategoryInfo : ObjectNotFound_x000D__x000A_</S></Objs>";
        let text = readable_stderr(raw);
        assert!(!text.contains("<Objs"), "{text}");
        assert!(!text.contains("_x000D_"), "{text}");
        assert!(!text.contains("CLIXML"), "{text}");
        assert!(text.contains("Cannot find path 'C:\\nope'\n"), "{text}");
        assert!(text.contains("CategoryInfo"), "{text}");
    }

    #[test]
    fn plain_stderr_is_kept() {
        assert_eq!(
            readable_stderr(b"access denied\r\nline 2"),
            "access denied\nline 2"
        );
    }

    #[test]
    fn pacer_backs_off_only_on_quick_empty_polls() {
        let mut p = PollPacer::default();
        let quick = Duration::from_millis(10);
        assert_eq!(p.delay_after(quick, false), None);
        assert_eq!(p.delay_after(quick, false), None);
        assert_eq!(p.delay_after(quick, false), Some(Duration::from_millis(50)));
        assert_eq!(
            p.delay_after(quick, false),
            Some(Duration::from_millis(100))
        );
        for _ in 0..10 {
            p.delay_after(quick, false);
        }
        assert_eq!(p.delay_after(quick, false), Some(Duration::from_secs(1)));
        assert_eq!(p.delay_after(quick, true), None, "progress resets");
        assert_eq!(
            p.delay_after(Duration::from_secs(20), false),
            None,
            "a held poll is not quick"
        );
    }
}
