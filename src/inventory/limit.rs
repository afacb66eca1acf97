//! `--limit` patterns, Ansible-style. Pure.
//!
//! A pattern is terms separated by `,` or `:`. A term is a host name, a
//! group name, `all`, or a glob (`ws-0*`, `dc?`) matched against host and
//! group names. A plain name also matches a host's short name (the part
//! before the first dot): `ws-013` selects `ws-013.corp.example`.
//! `!term` excludes, `&term` intersects. As in Ansible, the
//! union of the plain terms is taken first, then each `&` term intersects
//! it, then each `!` term removes from it. Names match without regard to
//! letter case (Windows names are not case-sensitive). A term that matches
//! no host is an error, so a typo never silently shrinks the run.

use super::model::ResolvedHost;
use std::fmt;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// The pattern cannot be read.
    Syntax { pattern: String, message: String },
    /// A term matches no host or group.
    NoMatch { pattern: String, term: String },
    /// Every term matched something, but nothing is left.
    Empty { pattern: String },
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::Syntax { pattern, message } => write!(f, "--limit `{pattern}`: {message}"),
            LimitError::NoMatch { pattern, term } if pattern == term => {
                write!(f, "--limit `{pattern}` matches no host or group")
            }
            LimitError::NoMatch { pattern, term } => {
                write!(f, "--limit `{pattern}`: `{term}` matches no host or group")
            }
            LimitError::Empty { pattern } => write!(f, "--limit `{pattern}` leaves no host"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Intersect,
    Exclude,
}

/// Indexes (into `hosts`, in their order) of the hosts `pattern` selects.
pub fn select(pattern: &str, hosts: &[ResolvedHost]) -> Result<Vec<usize>, LimitError> {
    let syntax = |message: String| LimitError::Syntax { pattern: pattern.to_string(), message };
    let mut terms: Vec<(Op, String)> = Vec::new();
    for raw in pattern.split([',', ':']) {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let (op, name) = match t.as_bytes()[0] {
            b'!' => (Op::Exclude, t[1..].trim()),
            b'&' => (Op::Intersect, t[1..].trim()),
            _ => (Op::Union, t),
        };
        check_term(name).map_err(|m| syntax(format!("`{t}`: {m}")))?;
        terms.push((op, name.to_lowercase()));
    }
    if terms.is_empty() {
        return Err(syntax("no host, group or glob in the pattern".into()));
    }

    let lower: Vec<(String, Vec<String>)> = hosts
        .iter()
        .map(|h| (h.name.to_lowercase(), h.groups.iter().map(|g| g.to_lowercase()).collect()))
        .collect();
    let matches = |term: &str| -> Vec<bool> {
        lower
            .iter()
            .map(|(name, groups)| {
                term == "all"
                    || glob(term, name)
                    || name.split('.').next() == Some(term)
                    || groups.iter().any(|g| glob(term, g))
            })
            .collect()
    };

    let only_filters = terms.iter().all(|(op, _)| *op != Op::Union);
    let mut selected = vec![only_filters; hosts.len()];
    for wanted in [Op::Union, Op::Intersect, Op::Exclude] {
        for (op, term) in terms.iter().filter(|(op, _)| *op == wanted) {
            let m = matches(term);
            if !m.iter().any(|x| *x) {
                let written = match op {
                    Op::Union => term.clone(),
                    Op::Intersect => format!("&{term}"),
                    Op::Exclude => format!("!{term}"),
                };
                return Err(LimitError::NoMatch { pattern: pattern.to_string(), term: written });
            }
            for (s, hit) in selected.iter_mut().zip(m) {
                *s = match op {
                    Op::Union => *s || hit,
                    Op::Intersect => *s && hit,
                    Op::Exclude => *s && !hit,
                };
            }
        }
    }
    let out: Vec<usize> = selected.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| i).collect();
    if out.is_empty() {
        return Err(LimitError::Empty { pattern: pattern.to_string() });
    }
    Ok(out)
}

/// What a term may contain: name characters and the globs `*` and `?`.
fn check_term(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("`!` or `&` must be followed by a name".into());
    }
    if t.starts_with('~') {
        return Err("regular expressions (`~`) are not supported; use a glob such as `ws-0*`".into());
    }
    if t.starts_with('@') {
        return Err("reading names from a file (`@file`) is not supported; join them with commas".into());
    }
    if t.contains(['[', ']']) {
        return Err("subscripts and character classes (`[...]`) are not supported; use `*` and `?`".into());
    }
    if let Some(c) = t.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?'))) {
        return Err(format!("`{c}` cannot appear in a name; names use letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

/// Glob match with `*` (any run) and `?` (one character); both sides are
/// already lowercase.
fn glob(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::model::*;

    fn host(name: &str, groups: &[&str]) -> ResolvedHost {
        ResolvedHost {
            name: name.into(),
            address: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            settings: ConnectionSettings::defaults_with("ir"),
        }
    }

    fn hosts() -> Vec<ResolvedHost> {
        vec![
            host("dc01", &["critical", "servers"]),
            host("ws-011", &["finance", "workstations"]),
            host("ws-012", &["workstations"]),
            host("ws-013", &["finance", "kiosks", "workstations"]),
            host("fs01", &["critical", "servers"]),
        ]
    }

    fn names(pattern: &str) -> Vec<String> {
        let h = hosts();
        select(pattern, &h).unwrap().into_iter().map(|i| h[i].name.clone()).collect()
    }

    #[test]
    fn group_minus_host() {
        assert_eq!(names("workstations:!ws-013"), ["ws-011", "ws-012"]);
    }

    #[test]
    fn union_keeps_inventory_order() {
        assert_eq!(names("critical,dc01"), ["dc01", "fs01"]);
        assert_eq!(names("ws-012,dc01"), ["dc01", "ws-012"]);
    }

    #[test]
    fn glob_and_intersection() {
        assert_eq!(names("ws-*:&finance"), ["ws-011", "ws-013"]);
        assert_eq!(names("ws-01?"), ["ws-011", "ws-012", "ws-013"]);
        assert_eq!(names("*"), names("all"));
    }

    #[test]
    fn ansible_order_union_then_intersect_then_exclude() {
        // Written in any order, the result is the same.
        assert_eq!(names("!ws-013,&finance,workstations"), ["ws-011"]);
        assert_eq!(names("workstations,&finance,!ws-013"), ["ws-011"]);
    }

    #[test]
    fn short_names_match_fqdns() {
        let h = vec![host("ws-013.corp.example", &["workstations"]), host("ws-014.corp.example", &["workstations"])];
        let got: Vec<usize> = select("workstations:!ws-013", &h).unwrap();
        assert_eq!(got, [1]);
        assert!(select("ws-01", &h).is_err(), "a short name is not a prefix");
    }

    #[test]
    fn only_exclusions_start_from_all() {
        assert_eq!(names("!workstations"), ["dc01", "fs01"]);
    }

    #[test]
    fn case_insensitive_and_globbed_groups() {
        assert_eq!(names("DC01,Fin*"), ["dc01", "ws-011", "ws-013"]);
    }

    #[test]
    fn term_matching_nothing_is_named() {
        let e = select("workstations:!ws-099", &hosts()).unwrap_err();
        assert_eq!(e, LimitError::NoMatch { pattern: "workstations:!ws-099".into(), term: "!ws-099".into() });
        assert_eq!(e.to_string(), "--limit `workstations:!ws-099`: `!ws-099` matches no host or group");
        let e = select("ws-9*", &hosts()).unwrap_err();
        assert_eq!(e.to_string(), "--limit `ws-9*` matches no host or group");
    }

    #[test]
    fn empty_result_and_bad_syntax() {
        assert_eq!(select("dc01:!dc01", &hosts()).unwrap_err(), LimitError::Empty { pattern: "dc01:!dc01".into() });
        for bad in ["", " , ", "~ws.*", "ws[0:2]", "@hosts.txt", "!", "dc 01"] {
            assert!(matches!(select(bad, &hosts()), Err(LimitError::Syntax { .. })), "{bad:?}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob("ws-*", "ws-001"));
        assert!(glob("*.corp.example", "ws-1.corp.example"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("?", "x"));
        assert!(!glob("ws", "ws-1"));
    }
}
