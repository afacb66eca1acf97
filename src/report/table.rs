//! Plain aligned text tables. Pure.

use super::sanitize::one_line;

/// Columns left-aligned, two spaces apart, the last one unpadded. Cells are
/// made terminal-safe and single-line.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let clean: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..cols)
                .map(|i| one_line(r.get(i).map_or("", String::as_str)))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &clean {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(cell);
            if i + 1 < cols {
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers);
    for row in &clean {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let t = render(
            &["HOST", "PS"],
            &[
                vec!["WS-001".into(), "5.1".into()],
                vec!["dc".into(), "2.0".into()],
            ],
        );
        assert_eq!(t, "HOST    PS\nWS-001  5.1\ndc      2.0\n");
    }

    #[test]
    fn unicode_width_by_chars_and_missing_cells() {
        let t = render(&["A", "B", "C"], &[vec!["Пётр".into()]]);
        assert_eq!(t, "A     B  C\nПётр\n");
    }

    #[test]
    fn hostile_cells_are_neutralised() {
        let t = render(&["OS"], &[vec!["Win\x1b[31m\r\nX".into()]]);
        assert!(!t.contains('\x1b'));
        assert_eq!(t.lines().count(), 2);
    }
}
