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
/// them), ending with a newline.
pub fn encode_payload(script: &str) -> Vec<u8> {
    let encoded = STANDARD.encode(script.as_bytes());
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 76 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

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

    #[test]
    fn garbage_payload_is_refused() {
        assert_eq!(decode_payload(b"not base64 !!!"), None);
        assert_eq!(decode_command("@@@"), None);
    }
}
