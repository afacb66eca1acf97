//! The layout of PowerShell error records as Windows PowerShell 5.1 prints
//! them on a non-interactive host (the NormalView: message, position,
//! CategoryInfo, FullyQualifiedErrorId, then a line holding one space),
//! wrapped at the 120-column buffer width that a WinRM shell gives
//! powershell.exe. The records themselves are made by the PowerShell
//! engine (`lab::powershell::errors`).

/// Width at which PowerShell wraps error lines over WinRM.
pub const HOST_WIDTH: usize = 120;

/// Line and column lookup for a script (precomputed line starts, so each
/// lookup is a binary search).
#[derive(Debug)]
pub struct SourceMap<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { src, line_starts }
    }

    /// The position message for a span: `At line:L char:C`, the line
    /// (leading blanks trimmed) and `~` under the span.
    pub fn position(&self, start: usize, end: usize) -> Vec<String> {
        let start = start.min(self.src.len());
        let line_idx = self.line_starts.partition_point(|&s| s <= start).saturating_sub(1);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let line_end = self.line_starts.get(line_idx + 1).map(|e| e - 1).unwrap_or(self.src.len());
        let line = self.src.get(line_start..line_end).unwrap_or("").trim_end_matches('\r');
        let col = self.src.get(line_start..start).map(|p| p.chars().count()).unwrap_or(0);
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        let span_end = end.min(line_start + line.len()).max(start);
        let width = self.src.get(start..span_end).map(|s| s.chars().count()).unwrap_or(0).max(1);
        vec![
            format!("At line:{} char:{}", line_idx + 1, col + 1),
            format!("+ {trimmed}"),
            format!("+ {}{}", " ".repeat(col.saturating_sub(indent)), "~".repeat(width)),
        ]
    }
}

/// CategoryInfo, FullyQualifiedErrorId and the closing blank line.
fn trailer(category: &str, error_id: &str) -> Vec<String> {
    vec![
        format!("    + CategoryInfo          : {category}"),
        format!("    + FullyQualifiedErrorId : {error_id}"),
        " ".to_string(),
    ]
}

/// Assemble and wrap a record.
fn record(message: Vec<String>, position: Vec<String>, category: &str, error_id: &str) -> Vec<String> {
    let lines = message.into_iter().chain(position).chain(trailer(category, error_id));
    lines.flat_map(|l| wrap(&l, HOST_WIDTH)).collect()
}

/// A record's lines: the message (each of its lines), the position
/// message, CategoryInfo and FullyQualifiedErrorId, wrapped.
pub fn render(message: &str, position: Vec<String>, category_info: &str, error_id: &str) -> Vec<String> {
    let message: Vec<String> = message.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect();
    record(message, position, category_info, error_id)
}

/// Split a line the way the console host wraps it: at most `width`
/// characters a line, broken after a space where there is one.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width || width == 0 {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = &chars[..];
    while rest.len() > width {
        let cut = rest[..width].iter().rposition(|&c| c == ' ').map(|i| i + 1).filter(|&i| i > 0).unwrap_or(width);
        out.push(rest[..cut].iter().collect());
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest.iter().collect());
    }
    out
}

/// The script does not parse; nothing ran.
pub fn parse_error(message: &str, error_id: &str, position: Vec<String>) -> Vec<String> {
    let mut lines = position;
    lines.push(message.to_string());
    lines.into_iter()
        .chain(trailer("ParserError: (:) [], ParentContainsErrorRecordException", error_id))
        .flat_map(|l| wrap(&l, HOST_WIDTH))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_names_line_and_column_and_underlines_the_span() {
        let src = "echo 1\n    foo bar\n";
        let map = SourceMap::new(src);
        let start = src.find("foo").unwrap_or(0);
        assert_eq!(map.position(start, start + 3), vec!["At line:2 char:5", "+ foo bar", "+ ~~~"]);
    }

    #[test]
    fn records_wrap_at_host_width_and_end_with_a_blank_line() {
        let lines = render(&"word ".repeat(40), vec!["At line:1 char:1".into()], "NotSpecified: (:) [], RuntimeException", "Id");
        assert!(lines.iter().all(|l| l.chars().count() <= HOST_WIDTH), "{lines:?}");
        assert!(lines[0].ends_with("word "), "broken after a space: {lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some(" "));
        assert!(lines.contains(&"    + FullyQualifiedErrorId : Id".to_string()));
    }

    #[test]
    fn wrap_breaks_long_words_hard() {
        let long = "x".repeat(250);
        assert_eq!(wrap(&long, 120).iter().map(|l| l.len()).collect::<Vec<_>>(), vec![120, 120, 10]);
    }

}
