//! The report as one self-contained HTML page (pure: a [`Report`] in, a
//! string out): inline CSS and SVG, nothing fetched, no script. Host data
//! is hostile (names and command lines come from infected machines):
//! every text goes through [`text`] (control characters and unpaired
//! surrogates shown as `\u{..}`, then HTML-escaped, quotes included), no
//! host text is put in an attribute, and the page's Content-Security-Policy
//! allows nothing but its own style sheet (by hash): no script runs, no
//! image or font is fetched, even if something slipped through. Per-host
//! detail opens with `<details>`, which needs no script.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::clock::parse_iso;
use super::engagement_report::{ActionKind, ActionLine, HostDetail, Report};
use super::plain::human;
use super::poll_marks;
use super::sanitize::terminal_safe;
use super::timeline::Timeline;

/// The page's style sheet (its hash is in the CSP).
const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;margin:4px 0 8px}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0}
.counts div{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:90px}
.counts dt{font-size:12px;color:#57606a}.counts dd{margin:0;font-size:22px;font-weight:600}
.bad{color:#b3261e}.ok{color:#1a7f37}.warn{color:#9a6700}
details.host{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:4px 10px}
details.host>summary{cursor:pointer;font-weight:600}
details.host.held{border-color:#b3261e}
.why,.pre{white-space:pre-wrap;word-break:break-all}
code,.mono{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px;word-break:break-all}
ul{margin:2px 0 6px;padding-left:20px}
svg{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px}
svg text{font:12px system-ui,sans-serif;fill:#57606a}
.s-contained{stroke:#0969da}.s-infected{stroke:#b3261e}.s-rebooting{stroke:#9a6700}.s-verified{stroke:#1a7f37}
.f-contained{fill:#0969da}.f-infected{fill:#b3261e}.f-rebooting{fill:#9a6700}.f-verified{fill:#1a7f37}
.poll-missed{fill:#fff;stroke:#57606a;stroke-width:1.5}.poll-answered{fill:#1a7f37;stroke:#1a7f37}
.taken-in{stroke:#1a7f37;stroke-width:1.5;stroke-dasharray:4 3}svg text.poll-row{font-size:11px}
footer{margin-top:24px;color:#57606a;font-size:12px}
";

/// The Content-Security-Policy of the page: nothing but its style sheet.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

/// Host or journal text, safe as HTML text and inside a quoted attribute:
/// control characters, bidi overrides and unpaired surrogates shown as
/// `\u{..}` ([`terminal_safe`]), then `& < > " '` escaped.
pub fn text(s: &str) -> String {
    let safe = terminal_safe(s);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut o = String::with_capacity(16_384 + r.hosts.len() * 2048);
    let title = match &r.status.operation {
        Some(op) => format!("cauterize report: operation {} ({})", op.id, op.command),
        None => "cauterize report".to_string(),
    };
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style></head>\n<body>\n",
        content_security_policy(),
        text(&title)
    );
    head(&mut o, r, &title);
    summary(&mut o, r);
    sources(&mut o, r);
    let _ = write!(o, "<section id=\"timeline\"><h2>Timeline</h2>\n{}</section>\n", timeline_svg(&r.timeline));
    hosts(&mut o, r);
    provenance(&mut o, r);
    let _ = write!(
        o,
        "<footer>Generated {} from the engagement's journal alone (cauterize.db); host names, paths and reasons \
         come from the hosts and are shown as text.</footer>\n</body></html>\n",
        text(&r.generated_at)
    );
    o
}

fn head(o: &mut String, r: &Report, title: &str) {
    let _ = writeln!(o, "<header><h1>{}</h1>", text(title));
    let Some(op) = &r.status.operation else {
        o.push_str("<p>No operation in this engagement yet.</p></header>\n");
        return;
    };
    let took = match (&op.ended_at, parse_iso(&op.started_at)) {
        (Some(e), Some(s)) => parse_iso(e).map(|e| format!(" ({})", human(Duration::from_secs_f64((e - s).max(0.0))))),
        _ => None,
    };
    let _ = write!(
        o,
        "<p>Status <strong id=\"op-status\">{}</strong>; started {}{}{}{}.</p>\n",
        text(&op.status),
        text(&op.started_at),
        op.ended_at.as_deref().map(|e| format!(", ended {}", text(e))).unwrap_or_default(),
        took.unwrap_or_default(),
        op.exit_code.map(|c| format!(", exit code {c}")).unwrap_or_default()
    );
    if let Some(next) = &op.next {
        let _ = writeln!(o, "<p class=\"warn\">Next: <span class=\"why\">{}</span></p>", text(next));
    }
    o.push_str("</header>\n");
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.summary;
    o.push_str("<section id=\"summary\"><h2>Summary</h2>\n<dl class=\"counts\">\n");
    let counts: [(&str, &str, usize, &str); 10] = [
        ("hosts", "hosts", s.hosts, ""),
        ("infected", "infected (planned)", s.infected, "bad"),
        ("contained", "contained now", s.contained, ""),
        ("removed", "operations carried out", s.removed, ""),
        ("queued", "queued for boot", s.queued, ""),
        ("rebooted", "rebooted", s.rebooted, ""),
        ("verified", "verified clean", s.verified, "ok"),
        ("held", "holding the release", s.held, "bad"),
        ("needs-person", "need a person", s.needs_person, "bad"),
        ("not-done", "actions not done", s.not_done, "warn"),
    ];
    for (id, label, n, class) in counts {
        let class = if n > 0 && !class.is_empty() { format!(" class=\"{class}\"") } else { String::new() };
        let _ = writeln!(o, "<div><dt>{label}</dt><dd id=\"count-{id}\"{class}>{n}</dd></div>");
    }
    o.push_str("</dl>\n<h3>Phases</h3>\n<table id=\"phases\"><tr><th>phase</th><th>through</th><th>set aside</th></tr>\n");
    for p in &r.status.phases {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            p.phase, p.through, p.set_aside
        );
    }
    o.push_str("</table>\n</section>\n");
}

/// The unlisted sources of lateral movement: a held one holds the release
/// of every host; resolved and accepted ones say how, who and when.
fn sources(o: &mut String, r: &Report) {
    if r.status.sources.is_empty() {
        return;
    }
    o.push_str("<section id=\"sources\"><h2>Unlisted sources of lateral movement</h2>\n<table>\n<tr><th>address</th><th>standing</th><th>reached</th><th>since</th><th>by</th><th>why</th></tr>\n");
    for x in &r.status.sources {
        let class = if x.state == "held" { " class=\"bad\"" } else { "" };
        let _ = writeln!(
            o,
            "<tr><td class=\"mono\">{}</td><td{class}>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td class=\"why\">{}</td></tr>",
            text(&x.address),
            text(&x.state),
            text(&x.hosts.join(", ")),
            text(&x.at),
            text(&x.operator),
            text(&x.command),
            text(&x.detail)
        );
    }
    o.push_str("</table>\n</section>\n");
}

/// The series drawn, in order, with their labels.
const SERIES: [(&str, &str); 4] =
    [("contained", "contained"), ("infected", "infected"), ("rebooting", "rebooting"), ("verified", "verified clean")];

/// The timeline as an SVG step chart: hosts (0 to all) against time; under
/// it, `watch`'s polls of the hosts never reached ([`poll_marks`]).
pub fn timeline_svg(t: &Timeline) -> String {
    let times: Vec<f64> = t.points.iter().map(|p| parse_iso(&p.at).unwrap_or(f64::NAN)).collect();
    if t.points.is_empty() || times.iter().any(|x| x.is_nan()) {
        return "<p id=\"no-timeline\">The journal holds no timed host moves for this operation.</p>\n".into();
    }
    let band = poll_marks::height(t);
    let (w, left, right, top, ph) = (960.0, 64.0, 20.0, 16.0, 208.0);
    let (pw, h) = (w - left - right, top + ph + 56.0 + band);
    // The picture spans the moves and the polls (a watch may poll after
    // the operation's end); the counts hold their last value meanwhile.
    let (polls_first, polls_last) = poll_marks::span(t).unwrap_or((times[0], times[times.len() - 1]));
    let t0 = times[0].min(polls_first);
    let t_end = times[times.len() - 1].max(polls_last);
    let span = (t_end - t0).max(0.001);
    let max = t.hosts.max(1) as f64;
    let x = |secs: f64| left + (secs - t0) / span * pw;
    let y = |n: usize| top + ph - n as f64 / max * ph;
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg id=\"timeline-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"timeline-title\">\n\
         <title id=\"timeline-title\">Hosts contained, infected, rebooting and verified clean over the operation</title>\n"
    );
    // Axes and the hosts' scale.
    let _ = writeln!(
        o,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"#8c959f\"/><line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#8c959f\"/>",
        b = top + ph,
        r = left + pw
    );
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        left - 6.0,
        top + 4.0,
        t.hosts,
        left - 6.0,
        top + ph + 4.0
    );
    let first = t.polls.first().filter(|p| parse_iso(&p.at).is_some_and(|at| at < times[0])).map_or(&t.points[0].at, |p| &p.at);
    let last = t.polls.last().filter(|p| parse_iso(&p.at).is_some_and(|at| at > times[times.len() - 1])).map_or(&t.points[t.points.len() - 1].at, |p| &p.at);
    let _ = writeln!(
        o,
        "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} (+{})</text>",
        top + ph + 16.0,
        text(first),
        left + pw,
        top + ph + 16.0,
        text(last),
        human(Duration::from_secs_f64(span.max(0.0)))
    );
    for (i, (key, label)) in SERIES.iter().enumerate() {
        let count = |p: &super::timeline::TimelinePoint| match *key {
            "contained" => p.contained,
            "infected" => p.infected,
            "rebooting" => p.rebooting,
            _ => p.verified,
        };
        let mut path = String::new();
        for (j, p) in t.points.iter().enumerate() {
            let (px, py) = (x(times[j]), y(count(p)));
            if j > 0 {
                let prev = y(count(&t.points[j - 1]));
                let _ = write!(path, " {px:.1},{prev:.1}");
            }
            let _ = write!(path, " {px:.1},{py:.1}");
        }
        if t_end > times[times.len() - 1] {
            let _ = write!(path, " {:.1},{:.1}", x(t_end), y(count(&t.points[t.points.len() - 1])));
        }
        let _ = writeln!(
            o,
            "<polyline id=\"series-{key}\" class=\"s-{key}\" fill=\"none\" stroke-width=\"2\" points=\"{}\"/>",
            path.trim_start()
        );
        let lx = left + i as f64 * 170.0;
        let ly = top + ph + 42.0;
        let end = count(&t.points[t.points.len() - 1]);
        let _ = writeln!(
            o,
            "<rect class=\"f-{key}\" x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"{ly}\">{label}: {end}</text>",
            ly - 10.0,
            lx + 16.0
        );
    }
    let frame = poll_marks::Frame {
        band_top: top + ph + 52.0,
        plot_top: top,
        left,
        right: left + pw,
    };
    poll_marks::draw(&mut o, t, &frame, &x);
    o.push_str("</svg>\n");
    o
}

fn hosts(o: &mut String, r: &Report) {
    o.push_str("<section id=\"hosts\"><h2>Hosts</h2>\n");
    if r.hosts.is_empty() {
        o.push_str("<p>No host in this operation.</p></section>\n");
        return;
    }
    o.push_str(
        "<table id=\"host-table\"><tr><th>host</th><th>state</th><th>contained</th><th>findings (latest scan)</th>\
         <th>carried out</th><th>queued</th><th>reboots</th><th>verified</th><th>holds release</th><th>why</th></tr>\n",
    );
    for h in &r.hosts {
        let s = &h.status;
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}{}</td><td>{}</td><td>{}</td><td class=\"why\">{}</td></tr>",
            text(&s.host),
            text(&s.state),
            yes(s.contained),
            s.findings,
            s.purged,
            s.queued,
            s.reboots_asked,
            if s.rebooted { " (back)" } else { "" },
            yes(s.verified),
            yes(s.held),
            text(s.why.as_deref().unwrap_or(""))
        );
    }
    o.push_str("</table>\n");
    for (i, h) in r.hosts.iter().enumerate() {
        host_detail(o, i + 1, h);
    }
    o.push_str("</section>\n");
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "-" }
}

fn host_detail(o: &mut String, index: usize, h: &HostDetail) {
    let s = &h.status;
    // Hosts that need attention are open from the start.
    let open = if s.held || s.needs_person { " open" } else { "" };
    let held = if s.held { " held" } else { "" };
    let _ = writeln!(
        o,
        "<details id=\"host-{index}\" class=\"host{held}\"{open}><summary>{} <span class=\"mono\">{}</span>: {}{}</summary>",
        text(&s.host),
        text(&h.address),
        text(&s.state),
        if s.held { " <span class=\"bad\">(holds the release)</span>" } else { "" }
    );
    let _ = writeln!(
        o,
        "<p>Role {}; round {}; contained: {}; rebooted: {}; verified clean: {}.</p>",
        text(&h.role),
        s.round,
        yes(s.contained),
        yes(s.rebooted),
        yes(s.verified)
    );
    if let Some(why) = &s.why {
        let _ = writeln!(o, "<p>Why: <span class=\"why\">{}</span></p>", text(why));
    }
    if s.in_flight > 0 {
        let _ = writeln!(
            o,
            "<p class=\"warn\">{} action(s) begun whose end the journal never got (the run was stopped, or is running them now).</p>",
            s.in_flight
        );
    }
    polls(o, h);
    let _ = writeln!(o, "<h3>Found when the plan was made ({})</h3>", h.found.len());
    if h.found.is_empty() {
        o.push_str("<p>Nothing.</p>\n");
    } else {
        o.push_str("<ul class=\"found\">\n");
        for f in &h.found {
            let _ = write!(
                o,
                "<li><strong>{}</strong> <span class=\"mono\">{}</span> ({}, {} confidence{}){}",
                text(&f.family),
                text(&f.what),
                text(&f.rule),
                text(&f.confidence),
                if f.certain { ", known-bad hash" } else { "" },
                f.allowlisted
                    .as_deref()
                    .map(|a| format!(" <em>allow-listed, kept: {}</em>", text(a)))
                    .unwrap_or_default()
            );
            list(o, "reason", &f.reasons);
            list(o, "file", &f.files);
            o.push_str("</li>\n");
        }
        o.push_str("</ul>\n");
    }
    if !h.evidence.is_empty() {
        o.push_str("<h3>Kept as evidence</h3>\n<ul class=\"evidence\">\n");
        for e in &h.evidence {
            let _ = write!(
                o,
                "<li>{}: {}{}",
                text(&e.round),
                e.archive
                    .as_deref()
                    .map(|a| format!("ZIP <span class=\"mono\">{}</span>", text(a)))
                    .unwrap_or_else(|| "no archive".into()),
                outcome_word(e.outcome.as_deref())
            );
            if let Some(err) = &e.error {
                let _ = write!(o, " <span class=\"bad why\">{}</span>", text(err));
            }
            list(o, "secured", &e.secured);
            list(o, "not secured", &e.problems);
            o.push_str("</li>\n");
        }
        o.push_str("</ul>\n");
    }
    let groups: [(&str, fn(&ActionLine) -> bool); 5] = [
        ("Not done (failed, skipped, or the host had changed)", |a| a.not_done()),
        ("Removed or stopped", |a| a.kind == ActionKind::Remove && matches!(a.outcome.as_deref(), Some("done" | "already_absent"))),
        ("Queued for deletion at boot", |a| a.outcome.as_deref() == Some("queued")),
        ("Begun, end not recorded", |a| a.outcome.is_none()),
        ("Containment, reboot, verification, release", |a| {
            a.kind != ActionKind::Remove && a.kind != ActionKind::Evidence && matches!(a.outcome.as_deref(), Some("done" | "already_absent"))
        }),
    ];
    for (label, pick) in groups {
        let picked: Vec<&ActionLine> = h.actions.iter().filter(|a| pick(a)).collect();
        if picked.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "<h3>{label} ({})</h3>\n<table class=\"actions\"><tr><th>phase</th><th>what</th><th>SHA-256</th><th>outcome</th><th>when</th><th>detail</th></tr>",
            picked.len()
        );
        for a in picked {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"why\">{}</td></tr>",
                text(&a.phase),
                text(&a.what),
                text(a.sha256.as_deref().unwrap_or("")),
                text(a.outcome.as_deref().unwrap_or("no end recorded")),
                text(a.ended_at.as_deref().unwrap_or(&a.started_at)),
                text(a.detail.as_deref().unwrap_or(""))
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("</details>\n");
}

/// `watch`'s polls of a host the operation never reached.
fn polls(o: &mut String, h: &HostDetail) {
    if h.polls.is_empty() {
        return;
    }
    let answered = h.polls.iter().filter(|p| p.answered).count();
    let _ = writeln!(
        o,
        "<h3>Polled by watch ({}, {answered} answered)</h3>\n<table class=\"polls\"><tr><th>poll</th><th>when</th><th>answered</th><th>what</th></tr>",
        h.polls.len()
    );
    for p in &h.polls {
        let _ = writeln!(
            o,
            "<tr><td class=\"n\">{}</td><td>{}</td><td{}>{}</td><td class=\"why\">{}</td></tr>",
            p.number,
            text(&p.at),
            if p.answered { " class=\"ok\"" } else { "" },
            if p.answered { "yes: taken in" } else { "no" },
            text(&p.what)
        );
    }
    o.push_str("</table>\n");
}

fn outcome_word(outcome: Option<&str>) -> String {
    match outcome {
        Some("done") => String::new(),
        Some(o) => format!(" ({})", text(o)),
        None => " (end not recorded)".into(),
    }
}

fn list(o: &mut String, label: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(o, "<ul class=\"{label}\">");
    for i in items {
        let _ = write!(o, "<li class=\"pre\">{}</li>", text(i));
    }
    o.push_str("</ul>");
}

fn provenance(o: &mut String, r: &Report) {
    o.push_str("<section id=\"provenance\"><h2>Plan, playbook and runs</h2>\n<table>\n");
    if let Some(op) = &r.status.operation {
        let row = |o: &mut String, k: &str, v: &str| {
            let _ = writeln!(o, "<tr><th>{k}</th><td class=\"mono\">{}</td></tr>", text(v));
        };
        row(o, "operation", &format!("{} ({})", op.id, op.command));
        row(o, "plan", &op.plan_id.map(|p| p.to_string()).unwrap_or_else(|| "none".into()));
        row(o, "plan file SHA-256 (as reviewed)", op.plan_sha256.as_deref().unwrap_or("-"));
        row(o, "playbook SHA-256", op.playbook_sha256.as_deref().unwrap_or("-"));
        if let Some(id) = &r.engagement_id {
            row(o, "engagement id", id);
        }
    }
    o.push_str("</table>\n<h3>Runs</h3>\n<table id=\"runs\"><tr><th>run</th><th>command</th><th>operator</th><th>started</th><th>ended</th><th>exit</th><th>command line (secrets redacted)</th><th>version</th></tr>\n");
    for run in &r.runs {
        let _ = writeln!(
            o,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            run.id,
            text(&run.command),
            text(&run.operator),
            text(&run.started_at),
            text(run.ended_at.as_deref().unwrap_or("running or stopped")),
            run.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            text(&run.argv.join(" ")),
            text(&run.version)
        );
    }
    o.push_str("</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::super::engagement_report::fixture::EVIL_HOST;
    use super::super::engagement_report::{build, fixture};
    use super::*;

    fn page() -> String {
        render(&build(&fixture::input()))
    }

    #[test]
    fn text_escapes_markup_quotes_controls_and_lone_surrogates() {
        assert_eq!(text("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(text(r#"a "b" 'c' & d"#), "a &quot;b&quot; &#39;c&#39; &amp; d");
        assert_eq!(text("l1\r\nl2"), "l1\nl2");
        assert_eq!(text("x\u{1b}[2J\u{202E}"), "x\\u{1b}[2J\\u{202e}");
        let lone = crate::runtime::host_text::from_units(&[0x78, 0xDC00]);
        assert_eq!(text(&lone), "x\\u{DC00}");
    }

    #[test]
    fn hostile_host_data_appears_only_as_text() {
        let html = page();
        // The page's only tags are its own: no script at all, and the
        // hostile names are escaped wherever they appear.
        assert!(!html.to_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"));
        assert!(html.contains("scheduled task \\&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(html.contains("its action runs &quot;regsvr32&quot; &#39;x&#39;\nsecond line a\\u{D800}b \\u{1b}[2J"));
        assert!(html.contains("access denied to a\\u{D800}b"));
        // An unlisted source that holds the release, in its own section.
        assert!(html.contains("<section id=\"sources\"><h2>Unlisted sources of lateral movement</h2>"), "{html}");
        assert!(html.contains("<td class=\"bad\">held</td>") && html.contains("not in the inventory &lt;script&gt;alert(3)&lt;/script&gt;"), "{html}");
        assert!(!html.contains('\u{1b}'));
        // No host text inside an attribute: every attribute value is the
        // page's own (ids are numbered, not named after hosts).
        assert!(html.contains("<details id=\"host-2\" class=\"host held\" open>"), "{html}");
    }

    #[test]
    fn the_page_allows_no_script_and_fetches_nothing() {
        let html = page();
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert!(html.contains(&format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">")));
        // The hash is of the style sheet the page carries.
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        assert!(html.contains(&format!("<style>{CSS}</style>")) && csp.contains(&hash));
        for fetch in ["http://", "https://", " src=\"", "href=\"", "url("] {
            let outside_svg_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(!outside_svg_ns.contains(fetch), "{fetch} in the page");
        }
    }

/// The number in the summary box `count-{id}`.
    fn count(html: &str, id: &str) -> Option<usize> {
        let after = html.split(&format!("<dd id=\"count-{id}\"")).nth(1)?;
        let cell = after.split("</dd>").next()?;
        cell.rsplit('>').next()?.parse().ok()
    }

    #[test]
    fn counts_and_per_host_detail_are_shown() {
        let html = page();
        for (id, n) in [("hosts", 3), ("infected", 2), ("contained", 2), ("removed", 2), ("queued", 1), ("verified", 1), ("held", 2)] {
            assert_eq!(count(&html, id), Some(n), "count {id}");
        }
        assert_eq!(html.matches("<details id=\"host-").count(), 3);
        assert!(html.contains("ZIP <span class=\"mono\">/case/evidence/WS-001/r0.zip</span>"));
        assert!(html.contains(&"ab".repeat(32)), "the SHA-256 of the deleted file");
        assert!(html.contains("<h3>Queued for deletion at boot (1)</h3>"));
        assert!(html.contains("<h3>Not done (failed, skipped, or the host had changed) (1)</h3>"));
        assert!(html.contains("alice@IR-LAPTOP") && html.contains(&"34".repeat(32)) && html.contains(&"12".repeat(32)));
    }

    #[test]
    fn the_timeline_is_drawn_with_its_four_series() {
        let html = page();
        assert!(html.contains("<svg id=\"timeline-chart\""));
        for s in ["contained", "infected", "rebooting", "verified"] {
            assert!(html.contains(&format!("<polyline id=\"series-{s}\"")), "{s}");
        }
        // 3 hosts: the verified line ends at 1 host, a third of the way up
        // the plot (top 16, height 208: y = 16 + 208 - 208/3).
        let verified = html.split("<polyline id=\"series-verified\"").nth(1).unwrap();
        let points = verified.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        let last_y: f64 = points.split(' ').last().unwrap().split(',').nth(1).unwrap().parse().unwrap();
        assert!((last_y - (16.0 + 208.0 - 208.0 / 3.0)).abs() < 0.1, "{points}");
        assert!(html.contains("verified clean: 1</text>"));
    }

    #[test]
    fn watchs_polls_are_listed_and_drawn_with_the_moment_a_host_was_taken_in() {
        let mut input = fixture::input();
        input.events.extend([
            fixture::polled("2026-01-01T00:25:00.000Z", "WS-003", "watch: poll 1 not answered (connection refused); next poll in 30s"),
            fixture::polled("2026-01-01T00:25:30.000Z", EVIL_HOST, "watch: poll 1 not answered (<script>alert(4)</script>); next poll in 30s"),
            fixture::polled("2026-01-01T00:26:00.000Z", "WS-003", "watch: poll 2 answered (booted 2026-01-01T00:25:40Z): taking it into the operation"),
        ]);
        let html = render(&build(&input));
        // Per watched host: its polls, when, answered or not.
        assert!(html.contains("<h3>Polled by watch (2, 1 answered)</h3>"), "{html}");
        assert!(html.contains("<tr><td class=\"n\">2</td><td>2026-01-01T00:26:00.000Z</td><td class=\"ok\">yes: taken in</td>"), "{html}");
        assert!(html.contains("<h3>Polled by watch (1, 0 answered)</h3>"), "{html}");
        // In the picture: a row per watched host, a mark per poll, and the
        // taking-in drawn from the answered mark up through the plot.
        let svg = html.split("<svg id=\"timeline-chart\"").nth(1).unwrap().split("</svg>").next().unwrap();
        assert_eq!(svg.matches("class=\"poll-missed\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"poll-answered\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("<line class=\"taken-in\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("<text class=\"poll-row\"").count(), 2, "{svg}");
        // The polls come after the operation's end (00:20): the picture
        // spans them, the last one at the right end of the axis (x 940),
        // where the counts are carried on.
        assert!(svg.contains("<circle id=\"poll-3\" class=\"poll-answered\" cx=\"940.0\""), "{svg}");
        assert!(svg.contains("2026-01-01T00:26:00.000Z (+26m"), "{svg}");
        let verified = svg.split("<polyline id=\"series-verified\"").nth(1).unwrap();
        assert!(verified.split("points=\"").nth(1).unwrap().split('"').next().unwrap().ends_with(" 940.0,154.7"), "{verified}");
        // Host text only as escaped text, in the picture too.
        assert!(svg.contains("<title>&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;: poll at"), "{svg}");
        assert!(html.contains("not answered (&lt;script&gt;alert(4)&lt;/script&gt;)"));
        assert!(!html.to_lowercase().contains("<script") && !html.contains("<img"));
    }

    #[test]
    fn past_eight_watched_hosts_the_polls_share_one_row() {
        let mut t = build(&fixture::input()).timeline;
        for i in 0..9 {
            t.polls.push(super::super::timeline::TimelinePoll { at: format!("2026-01-01T00:1{i}:00.000Z"), host: format!("WS-1{i}"), answered: i == 4 });
        }
        let svg = timeline_svg(&t);
        assert_eq!(svg.matches("<text class=\"poll-row\"").count(), 1, "{svg}");
        assert!(svg.contains(">all 9</text>"), "{svg}");
        assert_eq!(svg.matches("<circle id=\"poll-").count(), 9);
        assert!(timeline_svg(&build(&fixture::input()).timeline).matches("poll-").count() == 0, "no watch, no band");
    }

    #[test]
    fn no_timed_moves_say_so_instead_of_drawing() {
        assert!(timeline_svg(&Timeline::default()).contains("no-timeline"));
    }
}
