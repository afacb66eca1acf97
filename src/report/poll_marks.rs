//! `watch`'s polls on the report's timeline picture (pure SVG text): a
//! band under the plot with one row per watched host (all on one row,
//! `all N`, past [`MAX_ROWS`]), a hollow mark per poll not answered, a filled one per
//! poll answered, and from it a dashed line up through the plot: the
//! moment the late host was taken into the operation. Host names are text
//! content, escaped ([`super::report_html::text`]); no attribute holds
//! host text.

use std::fmt::Write as _;

use super::clock::parse_iso;
use super::report_html::text;
use super::timeline::Timeline;

/// Watched hosts drawn on a row each; more share one row.
pub const MAX_ROWS: usize = 8;

const ROW: f64 = 20.0;
const HEADER: f64 = 22.0;

/// The rows drawn: each host's name (or "watched hosts (N)") and which
/// polls are on it (indexes in `t.polls`).
fn rows(t: &Timeline) -> Vec<(String, Vec<usize>)> {
    let hosts = t.watched_hosts();
    if hosts.is_empty() {
        return Vec::new();
    }
    if hosts.len() > MAX_ROWS {
        return vec![(format!("all {}", hosts.len()), (0..t.polls.len()).collect())];
    }
    hosts
        .iter()
        .map(|h| {
            let on: Vec<usize> = (0..t.polls.len()).filter(|&i| t.polls[i].host.eq_ignore_ascii_case(h)).collect();
            (h.to_string(), on)
        })
        .collect()
}

/// The band's height (0: no poll).
pub fn height(t: &Timeline) -> f64 {
    match rows(t).len() {
        0 => 0.0,
        n => HEADER + n as f64 * ROW + 6.0,
    }
}

/// Earliest and latest poll times (seconds since the epoch), to widen the
/// picture's time span: a watch may poll long after the operation ended.
pub fn span(t: &Timeline) -> Option<(f64, f64)> {
    let times: Vec<f64> = t.polls.iter().filter_map(|p| parse_iso(&p.at)).collect();
    let first = times.iter().copied().reduce(f64::min)?;
    let last = times.iter().copied().reduce(f64::max)?;
    Some((first, last))
}

/// Where the band goes: its top, the plot's top and the left and right
/// ends of the time axis.
pub struct Frame {
    pub band_top: f64,
    pub plot_top: f64,
    pub left: f64,
    pub right: f64,
}

/// Draw the band; `x` maps a time to its abscissa.
pub fn draw(o: &mut String, t: &Timeline, f: &Frame, x: &dyn Fn(f64) -> f64) {
    let rows = rows(t);
    if rows.is_empty() {
        return;
    }
    let missed = t.polls.iter().filter(|p| !p.answered).count();
    let taken = t.polls.len() - missed;
    let _ = writeln!(
        o,
        "<g id=\"polls\"><text x=\"{}\" y=\"{}\">watch: polls of hosts never reached (hollow: not answered, {missed}; filled: answered and taken in, {taken})</text>",
        f.left,
        f.band_top + 14.0
    );
    for (r, (label, on)) in rows.iter().enumerate() {
        let cy = f.band_top + HEADER + r as f64 * ROW + ROW / 2.0;
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"{cy}\" x2=\"{}\" y2=\"{cy}\" stroke=\"#d0d7de\"/><text class=\"poll-row\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f.left,
            f.right,
            f.left - 6.0,
            cy + 4.0,
            text(&short(label))
        );
        for &i in on {
            let p = &t.polls[i];
            let Some(at) = parse_iso(&p.at) else { continue };
            let px = x(at);
            let word = if p.answered { "answered: taken into the operation" } else { "not answered" };
            if p.answered {
                let _ = writeln!(
                    o,
                    "<line class=\"taken-in\" x1=\"{px:.1}\" y1=\"{}\" x2=\"{px:.1}\" y2=\"{cy}\"/>",
                    f.plot_top
                );
            }
            let _ = writeln!(
                o,
                "<circle id=\"poll-{}\" class=\"{}\" cx=\"{px:.1}\" cy=\"{cy}\" r=\"4\"><title>{}: poll at {}, {word}</title></circle>",
                i + 1,
                if p.answered { "poll-answered" } else { "poll-missed" },
                text(&p.host),
                text(&p.at)
            );
        }
    }
    o.push_str("</g>\n");
}

/// A row's label, cut to fit the left margin (the full name is in each
/// mark's title).
fn short(label: &str) -> String {
    const MAX: usize = 8;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        let cut: String = label.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}
