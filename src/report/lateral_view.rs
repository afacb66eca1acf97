//! The lateral movement the hosts' event logs show (`fleet::lateral`), as
//! `scan` prints it after its summary: which infected host reached which
//! host and when, what each reach installed, and the source addresses the
//! inventory does not list (each holds the release of containment: an
//! infected machine nobody listed). Host text is made terminal-safe.

use serde::Serialize;

use super::sanitize::one_line;
use crate::evidence::names::rfc3339;
use crate::fleet::lateral::{Lateral, Origin, Reach};

/// A time on the operator's clock (seconds since 1970) as RFC 3339 UTC.
fn when(secs: f64) -> String {
    let whole = secs.floor();
    rfc3339((whole as i64, ((secs - whole) * 1e9) as u32))
}

fn origin(o: &Origin) -> String {
    match o {
        Origin::Host(h) => one_line(h),
        Origin::Unlisted(a) => format!("unlisted address {}", one_line(a)),
    }
}

fn reach_line(r: &Reach) -> String {
    format!(
        "{} <- {} at {}: {}, {:.0} s after a network logon as {}",
        one_line(&r.to),
        origin(&r.from),
        when(r.at),
        one_line(&r.what),
        r.after_logon,
        one_line(&r.account)
    )
}

/// The text section; empty when the logs link nothing.
pub fn render(l: &Lateral) -> String {
    if l.reaches.is_empty() && l.unreadable_times == 0 {
        return String::new();
    }
    let mut out = String::from("---- lateral movement (from the hosts' event logs) ----\n");
    for r in &l.reached {
        out.push_str(&format!(
            "{} was reached from infected {} at {}\n",
            one_line(&r.host),
            one_line(&r.from),
            when(r.at)
        ));
    }
    for u in &l.unlisted {
        let hosts: Vec<String> = u.hosts.iter().map(|h| one_line(h)).collect();
        out.push_str(&format!(
            "source {} is not in the inventory: it reached {} (first at {}); find and scan that machine: it holds the release of containment\n",
            one_line(&u.address),
            hosts.join(", "),
            when(u.first_at)
        ));
    }
    out.push_str(&format!("every reach, in time order ({}):\n", l.reaches.len()));
    for r in &l.reaches {
        out.push_str(&format!("  {}\n", reach_line(r)));
    }
    if l.unreadable_times > 0 {
        out.push_str(&format!("{} event(s) with a time that did not parse were left out\n", l.unreadable_times));
    }
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Record<'a> {
    record: &'static str,
    #[serde(flatten)]
    lateral: &'a Lateral,
}

/// One JSON line (`"record": "lateral"`), or none when nothing linked.
pub fn json_line(l: &Lateral) -> Option<String> {
    if l.reaches.is_empty() {
        return None;
    }
    serde_json::to_string(&Record { record: "lateral", lateral: l }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::lateral::{Reached, Unlisted};

    #[test]
    fn a_reach_names_its_source_host_time_and_what_it_installed() {
        let at = 1_709_287_205.0; // 2024-03-01T10:00:05Z
        let l = Lateral {
            reaches: vec![Reach {
                from: Origin::Host("WS-001".into()),
                to: "WS-002".into(),
                at,
                after_logon: 5.0,
                account: "WS-002\\Administrator".into(),
                what: "service abcdefg (C:\\Windows\\abcdefg.exe)\u{1b}[2J".into(),
                record: "System 7045".into(),
                image_path: "C:\\Windows\\abcdefg.exe".into(),
                service: "abcdefg".into(),
                suspect: true,
            }],
            reached: vec![Reached { host: "WS-002".into(), at, from: "WS-001".into() }],
            unlisted: vec![Unlisted { address: "10.9.9.9".into(), first_at: at, hosts: vec!["WS-003".into()] }],
            unreadable_times: 0,
        };
        let text = render(&l);
        assert!(text.contains("WS-002 was reached from infected WS-001 at 2024-03-01T10:00:05.000Z"), "{text}");
        assert!(text.contains("source 10.9.9.9 is not in the inventory: it reached WS-003"), "{text}");
        assert!(text.contains("WS-002 <- WS-001 at 2024-03-01T10:00:05.000Z: service abcdefg"), "{text}");
        assert!(!text.contains('\u{1b}'), "host text is made terminal-safe: {text:?}");
        assert!(json_line(&l).unwrap().contains(r#""record":"lateral""#));
        assert_eq!(render(&Lateral::default()), "");
    }
}
