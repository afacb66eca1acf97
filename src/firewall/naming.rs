//! Names of what containment leaves on a host: its firewall rules and its
//! dead-man task. One prefix (`cauterize`) and the engagement id in every
//! name, a fixed grammar after it, so that release finds exactly the rules
//! of this engagement (never another engagement's, never the customer's)
//! and can tell them apart by parsing the name alone.
//!
//! Windows' limits, which every name here keeps far below: a rule name or
//! description holds no `|` and at most 10,000 characters, `all` is a
//! reserved rule name, and rule names need not be unique (netsh `delete
//! rule name=X` removes every rule of that name: one reason the names
//! carry the engagement id). A task name is at most 238 characters.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::addrs::Family;
use super::rules::{Direction, Protocol};

/// First word of every name cauterize gives a rule or a task.
pub const PREFIX: &str = "cauterize";

/// The id of an engagement: 8 lower-case hex digits, in every rule and
/// task name it makes on a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EngagementId(String);

impl EngagementId {
    /// An id as written (`1a2b3c4d`).
    pub fn parse(s: &str) -> Result<EngagementId, String> {
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(EngagementId(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not an engagement id (8 lower-case hex digits)"
            ))
        }
    }

    /// The id of the engagement whose journal's first run started at
    /// `started_at` by `operator`: the same for every plan and operation
    /// of that engagement (the first run never changes), different between
    /// engagements.
    pub fn derive(started_at: &str, operator: &str) -> EngagementId {
        let h = crate::journal::sha256_hex(format!("cauterize engagement\n{started_at}\n{operator}").as_bytes());
        EngagementId(h[..8].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `cauterize-1a2b3c4d`: the start of every rule name of the engagement.
    pub fn rule_prefix(&self) -> String {
        format!("{PREFIX}-{}", self.0)
    }

    /// The dead-man task: `\Cauterize\Release-1a2b3c4d` (SYSTEM, removes
    /// the engagement's rules at its deadline unless extended).
    pub fn dead_man_task(&self) -> String {
        format!("\\Cauterize\\Release-{}", self.0)
    }

    /// The description written on every rule.
    pub fn rule_description(&self) -> String {
        format!(
            "cauterize engagement {}: blocks SMB while the network is cleaned; removed at release, or by the task {} at its deadline",
            self.0,
            self.dead_man_task()
        )
    }
}

impl TryFrom<String> for EngagementId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        EngagementId::parse(&s)
    }
}

impl From<EngagementId> for String {
    fn from(e: EngagementId) -> String {
        e.0
    }
}

impl fmt::Display for EngagementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of one block rule:
/// `cauterize-<engagement>-smb-<in|out>-<tcp|udp>-<v4|v6>-<n>`, `n`
/// counting from 1 the rules one address list was split into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleName {
    pub engagement: EngagementId,
    pub direction: Direction,
    pub protocol: Protocol,
    pub family: Family,
    pub index: u32,
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-smb-{}-{}-{}-{}",
            self.engagement.rule_prefix(),
            self.direction.word(),
            self.protocol.word(),
            self.family.word(),
            self.index
        )
    }
}

impl RuleName {
    /// Read a rule name back; `None` for any name this grammar did not
    /// make (the customer's rules, another tool's, a near miss).
    pub fn parse(name: &str) -> Option<RuleName> {
        let rest = name.strip_prefix(PREFIX)?.strip_prefix('-')?;
        let mut parts = rest.split('-');
        let engagement = EngagementId::parse(parts.next()?).ok()?;
        if parts.next()? != "smb" {
            return None;
        }
        let direction = match parts.next()? {
            "in" => Direction::In,
            "out" => Direction::Out,
            _ => return None,
        };
        let protocol = match parts.next()? {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => return None,
        };
        let family = match parts.next()? {
            "v4" => Family::V4,
            "v6" => Family::V6,
            _ => return None,
        };
        let n = parts.next()?;
        if parts.next().is_some() || n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index: u32 = n.parse().ok()?;
        Some(RuleName {
            engagement,
            direction,
            protocol,
            family,
            index,
        })
    }

    /// The .NET regular expression (`-cmatch`, case-sensitive) that
    /// matches exactly the names [`RuleName::parse`] reads as rules of
    /// `id`: what the host side (release and the dead-man, which runs
    /// without cauterize) removes. The index has at most 9 digits, so it
    /// always fits the parser's `u32`.
    pub fn pattern(id: &EngagementId) -> String {
        format!(r"\A{}-smb-(in|out)-(tcp|udp)-v[46]-[1-9][0-9]{{0,8}}\z", id.rule_prefix())
    }

    /// Is `name` a rule of engagement `id`?
    pub fn is_of(name: &str, id: &EngagementId) -> bool {
        RuleName::parse(name).is_some_and(|r| &r.engagement == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> EngagementId {
        EngagementId::parse("1a2b3c4d").unwrap()
    }

    #[test]
    fn engagement_ids_are_stable_and_distinct() {
        let a = EngagementId::derive("2024-03-04T09:00:00.000Z", "alice@laptop");
        assert_eq!(a, EngagementId::derive("2024-03-04T09:00:00.000Z", "alice@laptop"));
        assert_ne!(a, EngagementId::derive("2024-03-04T09:00:00.001Z", "alice@laptop"));
        assert_ne!(a, EngagementId::derive("2024-03-04T09:00:00.000Z", "bob@laptop"));
        assert!(EngagementId::parse(a.as_str()).is_ok());
        for bad in ["", "1a2b3c4", "1a2b3c4d5", "1A2B3C4D", "1a2b3c4g", "1a2b-c4d"] {
            assert!(EngagementId::parse(bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&id()).unwrap();
        assert_eq!(json, "\"1a2b3c4d\"");
        assert!(serde_json::from_str::<EngagementId>("\"XYZ\"").is_err());
    }

    #[test]
    fn rule_names_round_trip_and_stay_within_windows_limits() {
        let n = RuleName {
            engagement: id(),
            direction: Direction::Out,
            protocol: Protocol::Udp,
            family: Family::V6,
            index: 12,
        };
        let s = n.to_string();
        assert_eq!(s, "cauterize-1a2b3c4d-smb-out-udp-v6-12");
        assert_eq!(RuleName::parse(&s), Some(n));
        assert!(!s.contains('|') && s.len() < 10_000 && !s.eq_ignore_ascii_case("all"));
        assert!(RuleName::is_of(&s, &id()));
        assert!(!RuleName::is_of(&s, &EngagementId::parse("00000000").unwrap()));
        let d = id().rule_description();
        assert!(!d.contains('|') && d.len() < 10_000, "{d}");
        assert!(id().dead_man_task().len() <= 238);
    }

    /// The host's pattern and the parser agree on every name, ours and
    /// near misses alike.
    #[test]
    fn the_host_pattern_matches_exactly_what_the_parser_reads() {
        let pattern = RuleName::pattern(&id());
        assert_eq!(pattern, r"\Acauterize-1a2b3c4d-smb-(in|out)-(tcp|udp)-v[46]-[1-9][0-9]{0,8}\z");
        // .NET's \A and \z are Rust's too.
        let re = regex::Regex::new(&pattern).unwrap();
        let mut names = vec![
            "cauterize-1a2b3c4d-smb-in-tcp-v4-1".to_string(),
            "cauterize-1a2b3c4d-smb-out-udp-v6-999999999".into(),
            "cauterize-1a2b3c4d-smb-out-udp-v6-1000000000".into(),
            "cauterize-00000000-smb-in-tcp-v4-1".into(),
            "cauterize-1a2b3c4d-smb-in-tcp-v4-1\n".into(),
            "xcauterize-1a2b3c4d-smb-in-tcp-v4-1".into(),
        ];
        names.extend(OTHERS.iter().map(|s| s.to_string()));
        for n in &names {
            let parsed = RuleName::is_of(n, &id()) && RuleName::parse(n).is_some_and(|r| r.index < 1_000_000_000);
            assert_eq!(re.is_match(n), parsed, "{n:?}");
        }
    }

    const OTHERS: [&str; 16] = [
        "File and Printer Sharing (SMB-In)",
        "cauterize",
        "cauterize-1a2b3c4d",
        "cauterize-1a2b3c4d-smb-in-tcp-v4",
        "cauterize-1a2b3c4d-smb-in-tcp-v4-0",
        "cauterize-1a2b3c4d-smb-in-tcp-v4-01",
        "cauterize-1a2b3c4d-smb-in-tcp-v4-1-x",
        "cauterize-1a2b3c4d-smb-in-tcp-v5-1",
        "cauterize-1a2b3c4d-smb-up-tcp-v4-1",
        "cauterize-1a2b3c4d-smb-in-icmp-v4-1",
        "cauterize-1A2B3C4D-smb-in-tcp-v4-1",
        "Cauterize-1a2b3c4d-smb-in-tcp-v4-1",
        "cauterize-1a2b3c4d-rdp-in-tcp-v4-1",
        " cauterize-1a2b3c4d-smb-in-tcp-v4-1",
        "cauterize-1a2b3c4d-smb-in-tcp-v4-1 ",
        "cauterize-1a2b3c4d-smb-in-tcp-v4-99999999999",
    ];

    #[test]
    fn other_rules_are_never_taken_for_ours() {
        for other in OTHERS {
            assert_eq!(RuleName::parse(other), None, "{other}");
        }
    }
}
