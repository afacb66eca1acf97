//! PowerShell's CLIXML error stream, as `powershell.exe` writes it to
//! stderr when it runs non-interactively (over WinRM, with redirected
//! handles): a `#< CLIXML` marker line, then one `<Objs>` document in which
//! every line of an error record is an `<S S="Error">` string.
//!
//! Windows PowerShell 5.1 writes the marker together with its first record
//! and the document only when it exits, so raw stderr written in between
//! (`[Console]::Error`) lands between the two. [`StderrSink`] reproduces
//! that order.

/// The line that announces a CLIXML document on stderr.
pub const MARKER: &str = "#< CLIXML\r\n";

/// The root start tag PowerShell writes.
pub const OBJS_START: &str =
    r#"<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">"#;

/// The root end tag.
pub const OBJS_END: &str = "</Objs>";

/// Escape text for a CLIXML `<S>` element the way PowerShell's serializer
/// does: XML-escape `&`, `<`, `>`; write every control character (and the
/// non-characters U+FFFE, U+FFFF) as `_xHHHH_`; and write an underscore that
/// starts `_x` as `_x005F_`, so decoders cannot mistake literal text for an
/// escape.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '_' if matches!(chars.peek(), Some('x') | Some('X')) => out.push_str("_x005F_"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("_x{:04X}_", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// One `<S S="Error">` element for one line of an error record (the line
/// without its end; `\r\n` is added, escaped, as PowerShell does).
pub fn error_line(line: &str) -> String {
    format!("<S S=\"Error\">{}_x000D__x000A_</S>", escape(line))
}

/// Where a script's stderr goes: raw text as it is written, error records
/// as CLIXML (marker at the first record, document at the end).
#[derive(Debug, Default)]
pub struct StderrSink {
    bytes: Vec<u8>,
    document: String,
    marker_written: bool,
}

impl StderrSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Raw text (`[Console]::Error.Write`), written as it comes.
    pub fn raw(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
    }

    /// One error record, already formatted as its lines.
    pub fn record(&mut self, lines: &[String]) {
        if !self.marker_written {
            self.bytes.extend_from_slice(MARKER.as_bytes());
            self.document.push_str(OBJS_START);
            self.marker_written = true;
        }
        for line in lines {
            self.document.push_str(&error_line(line));
        }
    }

    /// Whether any error record was written.
    pub fn has_records(&self) -> bool {
        self.marker_written
    }

    /// The stderr bytes once the process has exited.
    pub fn finish(mut self) -> Vec<u8> {
        if self.marker_written {
            self.document.push_str(OBJS_END);
            self.bytes.extend_from_slice(self.document.as_bytes());
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_xml_controls_and_underscore_x() {
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(escape("tab\there\r\n"), "tab_x0009_here_x000D__x000A_");
        assert_eq!(escape("_x000D_"), "_x005F_x000D_");
        assert_eq!(escape("snake_case _y"), "snake_case _y");
        assert_eq!(escape("Пётр 🦀"), "Пётр 🦀");
    }

    #[test]
    fn sink_writes_marker_first_and_document_last() {
        let mut sink = StderrSink::new();
        sink.raw("before\r\n");
        sink.record(&["boom".to_string()]);
        sink.raw("between\r\n");
        let text = String::from_utf8(sink.finish()).unwrap_or_default();
        assert_eq!(
            text,
            format!(
                "before\r\n{MARKER}between\r\n{OBJS_START}<S S=\"Error\">boom_x000D__x000A_</S>{OBJS_END}"
            )
        );
    }

    #[test]
    fn sink_without_records_is_raw_only() {
        let mut sink = StderrSink::new();
        sink.raw("x");
        assert!(!sink.has_records());
        assert_eq!(sink.finish(), b"x".to_vec());
    }
}
