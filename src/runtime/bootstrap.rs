//! The `-EncodedCommand` bootstrap and the stdin payload it reads.
//!
//! A WinRM command line is short (cmd.exe's 8,191 characters, about 3,000
//! script characters once UTF-16LE and base64 have doubled and grown it),
//! so the command line only ever carries [`BOOTSTRAP`]. The payload (a
//! PowerShell script of any size) travels on stdin as base64 of its UTF-8
//! bytes, which survives every console code page. This is the way Ansible's
//! WinRM connection delivers its modules.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The bootstrap script, embedded in the binary. Its first line is the
/// marker by which the lab recognises it.
pub const BOOTSTRAP: &str = include_str!("bootstrap.ps1");

/// First line of [`BOOTSTRAP`].
pub const BOOTSTRAP_MARKER: &str = "# cauterize-bootstrap v1";

/// Full path of Windows PowerShell, as winrm-rs starts it.
pub const POWERSHELL_EXE: &str =
    r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe";

/// Size of one stdin chunk sent with WinRS `Send` (raw payload bytes before
/// the SOAP layer's own base64). Kept well under the 150 KiB
/// `MaxEnvelopeSizekb` of Windows 7 / Server 2008 R2.
pub const STDIN_CHUNK_BYTES: usize = 64 * 1024;

/// The arguments after `powershell.exe` that start the bootstrap.
pub fn bootstrap_args() -> Vec<String> {
    vec![
        "-NoProfile".into(),
        "-NonInteractive".into(),
        "-ExecutionPolicy".into(),
        "Bypass".into(),
        "-EncodedCommand".into(),
        encode_command(BOOTSTRAP),
    ]
}

/// PowerShell's `-EncodedCommand` form: base64 of UTF-16LE.
pub fn encode_command(script: &str) -> String {
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    STANDARD.encode(utf16)
}

/// Reverse of [`encode_command`]; `None` when the text is not base64 of
/// UTF-16LE.
pub fn decode_command(encoded: &str) -> Option<String> {
    let bytes = STANDARD.decode(encoded.trim()).ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// The stdin bytes for a payload script: base64 of its UTF-8, in lines of
/// 76 characters (PowerShell's `$input` yields lines; the bootstrap joins
/// them), ending with a newline. The same bytes as [`PayloadChunks`]
/// sends, in one piece.
pub fn encode_payload(script: &str) -> Vec<u8> {
    PayloadChunks::new(&[script]).flatten().collect()
}

/// Script bytes per base64 line of 76 characters.
const LINE_BYTES: usize = 57;
/// One encoded line and its `\r\n`.
const LINE_WIRE_BYTES: usize = 78;
/// Whole lines per stdin chunk, as many as fit in [`STDIN_CHUNK_BYTES`].
const CHUNK_LINES: usize = STDIN_CHUNK_BYTES / LINE_WIRE_BYTES;

/// A payload's stdin made one chunk at a time (whole lines, at most
/// [`STDIN_CHUNK_BYTES`] each) from the script's parts, read in order as
/// one text: a host in flight holds the chunk being sent, never the whole
/// payload encoded, and the runtime's fixed text is never copied per host.
/// The chunks joined are exactly [`encode_payload`] of the parts joined
/// (every line but the last encodes a whole 57 bytes, so base64 of the
/// whole is base64 of the lines one after the other).
pub struct PayloadChunks<'a> {
    parts: &'a [&'a str],
    /// The part being read, and the next byte of it.
    part: usize,
    at: usize,
    /// Chunks not made yet.
    left: usize,
}

impl<'a> PayloadChunks<'a> {
    pub fn new(parts: &'a [&'a str]) -> Self {
        let bytes: usize = parts.iter().map(|p| p.len()).sum();
        let lines = bytes.div_ceil(LINE_BYTES);
        PayloadChunks { parts, part: 0, at: 0, left: lines.div_ceil(CHUNK_LINES) }
    }

    /// Fill `line` from the parts; how many bytes it got (fewer than its
    /// length only at the end).
    fn fill(&mut self, line: &mut [u8; LINE_BYTES]) -> usize {
        let mut n = 0;
        while n < LINE_BYTES && self.part < self.parts.len() {
            let rest = &self.parts[self.part].as_bytes()[self.at..];
            let take = rest.len().min(LINE_BYTES - n);
            line[n..n + take].copy_from_slice(&rest[..take]);
            n += take;
            self.at += take;
            if self.at == self.parts[self.part].len() {
                self.part += 1;
                self.at = 0;
            }
        }
        n
    }
}

impl Iterator for PayloadChunks<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut out = Vec::with_capacity(CHUNK_LINES * LINE_WIRE_BYTES);
        let mut line = [0u8; LINE_BYTES];
        let mut encoded = [0u8; 76];
        for _ in 0..CHUNK_LINES {
            let n = self.fill(&mut line);
            if n == 0 {
                break;
            }
            let len = STANDARD
                .encode_slice(&line[..n], &mut encoded)
                .expect("57 bytes encode to 76 characters");
            out.extend_from_slice(&encoded[..len]);
            out.extend_from_slice(b"\r\n");
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for PayloadChunks<'_> {}

/// Reverse of [`encode_payload`], as the bootstrap does it: join the lines,
/// trim, base64-decode, UTF-8-decode.
pub fn decode_payload(stdin: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(stdin).ok()?;
    let joined: String = text.split(['\r', '\n']).collect::<Vec<_>>().join("");
    let bytes = STANDARD.decode(joined.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_starts_with_its_marker_and_stays_small() {
        assert!(BOOTSTRAP.starts_with(BOOTSTRAP_MARKER));
        // The command-line ceiling is ~8,191 characters through cmd.exe.
        let line = format!("{POWERSHELL_EXE} {}", bootstrap_args().join(" "));
        assert!(line.len() < 4000, "bootstrap command line is {} chars", line.len());
    }

    #[test]
    fn encoded_command_round_trips_non_ascii() {
        let script = "Write-Output 'Пётр 🦀 naïve'";
        assert_eq!(decode_command(&encode_command(script)).as_deref(), Some(script));
    }

    #[test]
    fn payload_round_trips_and_is_ascii_lines() {
        let script = "Write-Output 'é'\n".repeat(5000);
        let stdin = encode_payload(&script);
        assert!(stdin.iter().all(|b| b.is_ascii()));
        assert!(stdin.split(|b| *b == b'\n').all(|l| l.len() <= 77));
        assert_eq!(decode_payload(&stdin).as_deref(), Some(script.as_str()));
    }

    /// Chunked from parts, the stdin is the one-piece encoding of the
    /// parts joined, at every length around a line's and a chunk's edge,
    /// and with parts split mid-line and mid-character.
    #[test]
    fn chunks_from_parts_are_the_whole_payload_encoded() {
        let text = "Write-Output 'Пётр 🦀'\n".repeat(9000);
        let line = LINE_BYTES;
        let chunk = CHUNK_LINES * LINE_BYTES;
        for len in [0, 1, 2, 3, line - 1, line, line + 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5] {
            let whole = &text.as_bytes()[..len];
            let expected = {
                let encoded = STANDARD.encode(whole);
                let mut out = Vec::new();
                for l in encoded.as_bytes().chunks(76) {
                    out.extend_from_slice(l);
                    out.extend_from_slice(b"\r\n");
                }
                out
            };
            // Split the bytes into three parts anywhere (as str, at char
            // boundaries nearest a third).
            let s = String::from_utf8_lossy(whole).into_owned();
            if s.len() != len {
                continue;
            }
            let a = (0..=len / 3).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
            let b = (a..=2 * len / 3).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(a);
            let parts = [&s[..a], &s[a..b], "", &s[b..]];
            let chunks: Vec<Vec<u8>> = PayloadChunks::new(&parts).collect();
            assert_eq!(chunks.len(), PayloadChunks::new(&parts).len(), "len {len}");
            assert!(chunks.iter().all(|c| c.len() <= STDIN_CHUNK_BYTES && c.ends_with(b"\r\n")), "len {len}");
            assert_eq!(chunks.concat(), expected, "len {len}");
            assert_eq!(encode_payload(&s), expected, "len {len}");
        }
    }

    #[test]
    fn garbage_payload_is_refused() {
        assert_eq!(decode_payload(b"not base64 !!!"), None);
        assert_eq!(decode_command("@@@"), None);
    }
}
