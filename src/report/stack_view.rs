//! What `cauterize stack` shows: the groups of the fleet's autostarts, the
//! most suspicious first (unsigned in user-writable places, what no
//! finding explains, then the least frequent), each with its count, signature, what explains it and the
//! hosts that have it; rare unexplained groups are marked for review. Or
//! one JSON object per group. Pure: builds strings.

use super::hostlist::with_count;
use super::sanitize::{one_line, terminal_safe};
use crate::fleet::stack::{Group, Stack, rare_limit};
use serde::Serialize;

/// Host names shown per group at most (the count is always exact).
const MAX_HOSTS_SHOWN: usize = 60;

/// `17 hosts`.
fn hosts_word(n: usize) -> String {
    format!("{n} host{}", if n == 1 { "" } else { "s" })
}

/// The hosts of a group, compacted, cut past [`MAX_HOSTS_SHOWN`].
fn host_list(g: &Group) -> String {
    if g.hosts.len() <= MAX_HOSTS_SHOWN {
        with_count(&g.hosts)
    } else {
        format!(
            "{} ... and {} more",
            super::hostlist::compact(&g.hosts[..MAX_HOSTS_SHOWN]),
            g.hosts.len() - MAX_HOSTS_SHOWN
        )
    }
}

/// The human report: at most `top` groups (0: all).
pub fn render_text(stack: &Stack, top: usize, rare_percent: u32) -> String {
    let shown = if top == 0 { stack.groups.len() } else { top.min(stack.groups.len()) };
    let rare = rare_limit(stack.scanned, rare_percent);
    let by = serde_json::to_value(stack.by).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let mut out = format!(
        "stack of {} by {by}: {} group{}, the most suspicious first (unsigned, in user-writable places, unexplained, then the least frequent); rare: on at most {} ({rare_percent} %)\n",
        hosts_word(stack.scanned),
        stack.groups.len(),
        if stack.groups.len() == 1 { "" } else { "s" },
        hosts_word(rare),
    );
    for g in &stack.groups[..shown] {
        let mut traits = vec![if g.signed { "signed" } else { "unsigned" }];
        if g.user_writable {
            traits.push("user-writable");
        }
        let explained = if g.explained.is_empty() {
            if !g.signed && g.hosts.len() <= rare { "nothing explains it: REVIEW".to_string() } else { "no finding".to_string() }
        } else {
            format!("found: {}", g.explained.join(", "))
        };
        let count = if g.entries == g.hosts.len() {
            format!("{:>6} {:<5}", g.hosts.len(), if g.hosts.len() == 1 { "host" } else { "hosts" })
        } else {
            format!("{:>6} {}, {} entries", g.hosts.len(), if g.hosts.len() == 1 { "host" } else { "hosts" }, g.entries)
        };
        out.push_str(&format!(
            "\n{count}  {}  {}\n       {}\n       e.g. {}\n       on {}\n",
            traits.join(", "),
            explained,
            one_line(&g.key),
            one_line(&g.example),
            terminal_safe(&host_list(g)),
        ));
    }
    if shown < stack.groups.len() {
        out.push_str(&format!("\n... {} more groups (--top 0 for all)\n", stack.groups.len() - shown));
    }
    out
}

/// One line of `--json`.
#[derive(Debug, Serialize)]
pub struct GroupRecord<'a> {
    pub by: crate::fleet::stack::By,
    pub rank: usize,
    #[serde(flatten)]
    pub group: &'a Group,
    pub host_count: usize,
    /// Unsigned, rare and explained by nothing.
    pub review: bool,
}

/// One JSON object per group, in order (all of them).
pub fn json_lines(stack: &Stack, rare_percent: u32) -> Vec<String> {
    let rare = rare_limit(stack.scanned, rare_percent);
    stack
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            serde_json::to_string(&GroupRecord {
                by: stack.by,
                rank: i + 1,
                group: g,
                host_count: g.hosts.len(),
                review: !g.signed && g.explained.is_empty() && g.hosts.len() <= rare,
            })
            .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::stack::By;

    fn group(key: &str, hosts: &[&str], signed: bool, explained: &[&str]) -> Group {
        Group {
            key: key.into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            entries: hosts.len(),
            signed,
            user_writable: !signed,
            explained: explained.iter().map(|e| e.to_string()).collect(),
            example: format!("Run value X runs {key}"),
        }
    }

    fn stack() -> Stack {
        let many: Vec<String> = (1..=100).map(|i| format!("WS-{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        Stack {
            by: By::Autostart,
            scanned: 100,
            groups: vec![
                group("run a", &["WS-007"], false, &[]),
                group("run b", &["WS-001", "WS-002"], false, &["Emotet (rule)"]),
                group("run onedrive", &many, true, &[]),
            ],
            reviews: Default::default(),
        }
    }

    #[test]
    fn text_marks_rare_unexplained_groups_and_cuts_long_host_lists() {
        let text = render_text(&stack(), 0, 5);
        assert!(text.starts_with("stack of 100 hosts by autostart: 3 groups"), "{text}");
        assert!(text.contains("     1 host   unsigned, user-writable  nothing explains it: REVIEW\n       run a\n"), "{text}");
        assert!(text.contains("found: Emotet (rule)"), "{text}");
        assert!(text.contains("on WS-[001-060] ... and 40 more"), "{text}");
        let top = render_text(&stack(), 1, 5);
        assert!(top.ends_with("... 2 more groups (--top 0 for all)\n"), "{top}");
        assert!(!top.contains("run b"), "{top}");
    }

    #[test]
    fn json_lines_are_complete_and_flag_review() {
        let lines = json_lines(&stack(), 5);
        assert_eq!(lines.len(), 3);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["by"], "autostart");
        assert_eq!(v["rank"], 1);
        assert_eq!(v["host_count"], 1);
        assert_eq!(v["review"], true);
        assert_eq!(v["hosts"], serde_json::json!(["WS-007"]));
        let v: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(v["hosts"].as_array().unwrap().len(), 100, "JSON lists every host");
        assert_eq!(v["review"], false);
    }
}
