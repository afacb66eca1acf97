//! Containment as planned: for every inventory host, whether it gets the
//! engagement's block rules, is exempt (keeps SMB with every host, gets no
//! rules), is never contained, or is excluded; and the exempt address set
//! with the reason for each entry. Pure: addresses are resolved by the
//! caller ([`FleetHost::ips`]).
//!
//! A host is exempt when it is in an exempt inventory group, or has an
//! exempt role (known by inventory group, or by what it reports:
//! [`super::roles`]). Its inventory addresses join the exempt set; an
//! exempt host whose address is not known is a problem the plan refuses
//! (cutting a domain controller off SMB breaks the domain). The operator's
//! address is exempt too, as each host sees it: the address its latest
//! scan's own WinRM logon came from ([`ContainmentPlan::operator`]), and
//! the one its Security log shows when the rules are made
//! (`crate::fleet::operator::operator_exemption`).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;

use super::roles::{self, HostKind, RoleFacts};
use crate::runtime::snapshot::Snapshot;
use crate::firewall::rules::{RuleSpec, RulesError, host_rules};
use crate::firewall::{AddrSet, EngagementId, Span};
use crate::inventory::ResolvedHost;
use crate::playbook::{ContainSettings, Playbook, glob_of};

/// An inventory host, as containment needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetHost {
    pub name: String,
    /// Its inventory address: an IP address or a DNS name.
    pub address: String,
    /// The addresses `address` is (itself when it is an IP), once known.
    pub ips: Vec<IpAddr>,
    pub groups: Vec<String>,
}

impl FleetHost {
    /// From the inventory; a DNS name's addresses are left to resolve.
    pub fn from_inventory(h: &ResolvedHost) -> FleetHost {
        FleetHost {
            name: h.name.clone(),
            address: h.address.clone(),
            ips: h.address.parse::<IpAddr>().into_iter().collect(),
            groups: h.groups.clone(),
        }
    }

    /// A host known only by name (no inventory entry at hand).
    pub fn named(name: &str) -> FleetHost {
        FleetHost {
            name: name.to_string(),
            address: String::new(),
            ips: vec![],
            groups: vec![],
        }
    }
}

/// How containment treats one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "why", rename_all = "snake_case")]
pub enum ContainDecision {
    /// Gets the block rules.
    Contain,
    /// Keeps SMB with every host and gets no rules.
    Exempt(String),
    /// Gets no rules; the others still block it unless exempt.
    Never(String),
    /// Excluded by the playbook: nothing is done on it.
    Excluded(String),
}

impl ContainDecision {
    /// `exempt: domain controller (inventory group dcs)`, for comments.
    pub fn describe(&self) -> String {
        match self {
            ContainDecision::Contain => "contained".into(),
            ContainDecision::Exempt(w) => format!("not contained, exempt: {w}"),
            ContainDecision::Never(w) => format!("not contained: {w}"),
            ContainDecision::Excluded(w) => format!("not contained: {w}"),
        }
    }
}

/// One entry of the exempt set, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// An address, range or CIDR block.
    pub address: String,
    pub why: String,
}

/// A host and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostWhy {
    pub host: String,
    pub why: String,
}

/// Containment as planned, recorded with the plan: the rules of each
/// contained host follow from it, the playbook's `contain:` settings and
/// the operator's address as that host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainmentPlan {
    /// In every rule and task name ([`EngagementId::rule_prefix`]).
    pub engagement: EngagementId,
    /// What keeps SMB with every host.
    pub exempt: Vec<Exemption>,
    /// Inventory hosts that keep SMB and get no rules.
    pub exempt_hosts: Vec<HostWhy>,
    /// Inventory hosts that get no rules but are blocked by the others.
    pub never: Vec<HostWhy>,
    /// The operator's addresses as the contained hosts saw cauterize (their
    /// latest scan's own WinRM logon): each host's rules leave SMB open to
    /// its own. Hosts whose scan recorded none are in no entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator: Vec<OperatorSeen>,
}

/// An address of the operator as some hosts saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSeen {
    pub address: String,
    /// The hosts that saw it, in compact form (`WS-[001-004]`, one entry
    /// per shared prefix: [`crate::report::hostlist::compact_parts`]).
    pub hosts: Vec<String>,
}

impl ContainmentPlan {
    /// The operator's addresses each host saw, by lower-case host name.
    pub fn operator_by_host(&self) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for seen in &self.operator {
            for part in &seen.hosts {
                for h in crate::report::hostlist::expand(part).unwrap_or_else(|_| vec![part.clone()]) {
                    out.entry(h.to_lowercase()).or_default().push(seen.address.clone());
                }
            }
        }
        out
    }

    /// The exempt set, without the operator's address.
    pub fn exempt_set(&self) -> AddrSet {
        AddrSet::from_spans(self.exempt.iter().filter_map(|e| Span::parse(&e.address).ok()))
    }

    /// The rules of a host that sees the operator at `operator` (`None`
    /// only to show the rules in a plan, before any host is reached).
    pub fn rules_for(
        &self,
        settings: &ContainSettings,
        operator: Option<IpAddr>,
    ) -> Result<Vec<RuleSpec>, RulesError> {
        let mut exempt = self.exempt_set();
        if let Some(ip) = operator {
            exempt.insert(ip);
        }
        host_rules(&self.engagement, &settings.block, &settings.directions, &exempt)
    }
}

/// Every host's decision and kind, and the containment plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decisions {
    pub plan: ContainmentPlan,
    /// By lower-case host name.
    pub hosts: HashMap<String, (ContainDecision, HostKind)>,
    /// What stops the plan from being written (an exempt host whose address
    /// is not known), each with what to do.
    pub problems: Vec<String>,
}

impl Decisions {
    pub fn of(&self, host: &str) -> Option<&(ContainDecision, HostKind)> {
        self.hosts.get(&host.to_lowercase())
    }
}

/// Why `host` is exempt, if it is.
fn exemption(host: &FleetHost, kind: &HostKind, pb: &Playbook) -> Option<String> {
    let c = &pb.contain;
    if let Some(g) = host
        .groups
        .iter()
        .find(|g| c.exempt_groups.iter().any(|e| e.eq_ignore_ascii_case(g)))
    {
        return Some(format!("inventory group {g} is exempt (contain.exempt.groups)"));
    }
    c.exempt_roles
        .iter()
        .find_map(|r| kind.has(*r).map(|why| format!("{} ({why})", r.words())))
}

/// What containment reads of a host's latest scan: the facts its role is
/// judged by, and the operator's address as the host saw cauterize. A plan
/// keeps this of each host, not its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanFacts {
    pub roles: RoleFacts,
    /// Empty when the scan could not tell (see `fleet::operator`).
    pub operator_address: String,
}

impl ScanFacts {
    pub fn from_snapshot(s: &Snapshot) -> ScanFacts {
        ScanFacts {
            roles: RoleFacts::from_snapshot(s),
            operator_address: s.operator_address.clone(),
        }
    }
}

/// Decide containment for every host of `fleet`, with what the scans
/// report (`scans`, by lower-case name).
pub fn decide(
    fleet: &[FleetHost],
    scans: &HashMap<String, &ScanFacts>,
    pb: &Playbook,
    engagement: EngagementId,
) -> Decisions {
    let c = &pb.contain;
    let mut plan = ContainmentPlan {
        engagement,
        exempt: c
            .exempt_addresses
            .iter()
            .map(|a| Exemption {
                address: a.clone(),
                why: "playbook (contain.exempt.addresses)".into(),
            })
            .collect(),
        exempt_hosts: vec![],
        never: vec![],
        operator: vec![],
    };
    let mut hosts = HashMap::new();
    let mut problems = Vec::new();
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    for h in fleet {
        let facts = scans.get(&h.name.to_lowercase()).map(|s| &s.roles);
        let kind = roles::classify(&h.groups, &pb.roles, facts);
        let decision = if let Some(why) = exemption(h, &kind, pb) {
            if h.ips.is_empty() {
                problems.push(format!(
                    "{} is exempt from containment ({why}) but its address is not known{}: give its IP address in the inventory (`address:`) or list it in the playbook's contain.exempt.addresses; otherwise every host would block its SMB",
                    h.name,
                    if h.address.is_empty() { String::new() } else { format!(" (`{}` does not resolve from here)", h.address) }
                ));
            }
            for ip in &h.ips {
                plan.exempt.push(Exemption {
                    address: ip.to_string(),
                    why: format!("{}: {why}", h.name),
                });
            }
            plan.exempt_hosts.push(HostWhy {
                host: h.name.clone(),
                why: why.clone(),
            });
            ContainDecision::Exempt(why)
        } else if let Some(p) = pb.host_excluded(&h.name) {
            ContainDecision::Excluded(format!("excluded by the playbook (`{p}`)"))
        } else if let Some(why) = glob_of(&c.never_hosts, &h.name)
            .map(|p| format!("never contained (contain.never.hosts `{p}`)"))
            .or_else(|| {
                h.groups
                    .iter()
                    .find(|g| c.never_groups.iter().any(|n| n.eq_ignore_ascii_case(g)))
                    .map(|g| format!("never contained (contain.never.groups `{g}`)"))
            })
        {
            plan.never.push(HostWhy {
                host: h.name.clone(),
                why: why.clone(),
            });
            ContainDecision::Never(why)
        } else {
            ContainDecision::Contain
        };
        if decision == ContainDecision::Contain
            && let Some(address) = scans.get(&h.name.to_lowercase()).map(|s| s.operator_address.as_str()).filter(|a| !a.is_empty())
        {
            match seen.iter_mut().find(|(a, _)| a == address) {
                Some((_, names)) => names.push(h.name.clone()),
                None => seen.push((address.to_string(), vec![h.name.clone()])),
            }
        }
        hosts.insert(h.name.to_lowercase(), (decision, kind));
    }
    seen.sort();
    plan.operator = seen
        .into_iter()
        .map(|(address, names)| OperatorSeen { address, hosts: crate::report::hostlist::compact_parts(&names) })
        .collect();
    Decisions {
        plan,
        hosts,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::firewall::Family;

    fn host(name: &str, ip: &str, groups: &[&str]) -> FleetHost {
        FleetHost {
            name: name.into(),
            address: ip.into(),
            ips: ip.parse().into_iter().collect(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn engagement() -> EngagementId {
        EngagementId::parse("abcdef01").unwrap()
    }

    fn pb(text: &str) -> Playbook {
        crate::playbook::parse(text, std::path::Path::new("pb.yml")).unwrap()
    }

    #[test]
    fn exempt_roles_groups_and_addresses_keep_smb() {
        let fleet = vec![
            host("DC-01", "10.0.0.5", &["domain_controllers"]),
            host("DC-02", "10.0.0.6", &[]),
            host("FS-01", "10.0.1.5", &["file_servers"]),
            host("SQL-01", "10.0.2.5", &["critical"]),
            host("WS-001", "10.0.9.1", &["workstations"]),
            host("HMI-01", "10.0.8.1", &[]),
            host("WS-002", "10.0.9.2", &[]),
        ];
        let dc2 = SnapshotBuilder::new("DC-02")
            .service("NTDS", "Active Directory Domain Services", r"C:\Windows\System32\lsass.exe", "LocalSystem")
            .build();
        let dc2 = ScanFacts::from_snapshot(&dc2);
        let snaps: HashMap<String, &ScanFacts> = [("dc-02".to_string(), &dc2)].into();
        let pb = pb("playbook: 1\ncontain:\n  exempt: {addresses: [192.168.7.0/24], groups: [critical]}\n  never: {hosts: ['hmi-*']}\nexclude:\n  hosts: [ws-002]\n");
        let d = decide(&fleet, &snaps, &pb, engagement());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        let decision = |h: &str| d.of(h).unwrap().0.clone();
        assert_eq!(decision("DC-01"), ContainDecision::Exempt("domain controller (inventory group domain_controllers)".into()));
        assert!(matches!(decision("DC-02"), ContainDecision::Exempt(w) if w.contains("NTDS")));
        assert!(matches!(decision("FS-01"), ContainDecision::Exempt(w) if w.starts_with("file server")));
        assert!(matches!(decision("SQL-01"), ContainDecision::Exempt(w) if w.contains("contain.exempt.groups")));
        assert_eq!(decision("WS-001"), ContainDecision::Contain);
        assert!(matches!(decision("HMI-01"), ContainDecision::Never(w) if w.contains("hmi-*")));
        assert!(matches!(decision("WS-002"), ContainDecision::Excluded(_)));
        let set = d.plan.exempt_set();
        for ip in ["10.0.0.5", "10.0.0.6", "10.0.1.5", "10.0.2.5", "192.168.7.200"] {
            assert!(set.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.9.1", "10.0.8.1", "10.0.9.2"] {
            assert!(!set.contains(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(d.plan.exempt[0].why, "playbook (contain.exempt.addresses)");
        assert!(d.plan.exempt.iter().any(|e| e.address == "10.0.0.5" && e.why.starts_with("DC-01: domain controller")));
        assert_eq!(d.plan.exempt_hosts.len(), 4);
        assert_eq!(d.plan.never.len(), 1);
    }

    #[test]
    fn an_exempt_host_without_an_address_is_a_problem() {
        let mut dc = host("DC-01", "", &["domain_controllers"]);
        dc.address = "dc01.corp.example".into();
        let d = decide(&[dc], &HashMap::new(), &Playbook::builtin(), engagement());
        assert_eq!(d.problems.len(), 1);
        assert!(d.problems[0].contains("dc01.corp.example") && d.problems[0].contains("address:"), "{:?}", d.problems);
    }

    #[test]
    fn rules_leave_out_the_exempt_set_and_the_operator() {
        let d = decide(&[host("DC-01", "10.0.0.5", &["domain_controllers"])], &HashMap::new(), &Playbook::builtin(), engagement());
        let c = ContainSettings::default();
        let rules = d.plan.rules_for(&c, Some("10.9.9.9".parse().unwrap())).unwrap();
        assert_eq!(rules.len(), 8);
        let v4 = rules.iter().find(|r| r.family == Family::V4).unwrap();
        assert_eq!(v4.remote, ["0.0.0.0-10.0.0.4", "10.0.0.6-10.9.9.8", "10.9.9.10-255.255.255.255"]);
        assert!(v4.name.starts_with("cauterize-abcdef01-smb-"));
        let shown = d.plan.rules_for(&c, None).unwrap();
        assert_eq!(shown.iter().find(|r| r.family == Family::V4).unwrap().remote.len(), 2);
    }

    #[test]
    fn each_contained_host_keeps_smb_to_the_operator_as_it_saw_cauterize() {
        use crate::detect::builder::SnapshotBuilder;
        let fleet = vec![
            host("WS-001", "10.0.9.1", &[]),
            host("WS-002", "10.0.9.2", &[]),
            host("WS-003", "10.0.9.3", &[]),
            host("DC-01", "10.0.0.5", &["domain_controllers"]),
        ];
        let seen = |name: &str, at: &str| {
            let mut s = SnapshotBuilder::new(name).build();
            s.operator_address = at.into();
            ScanFacts::from_snapshot(&s)
        };
        let (a, b, c, dc) = (seen("WS-001", "192.0.2.7"), seen("WS-002", "192.0.2.7"), seen("WS-003", ""), seen("DC-01", "192.0.2.7"));
        let snaps: HashMap<String, &ScanFacts> =
            [("ws-001".to_string(), &a), ("ws-002".to_string(), &b), ("ws-003".to_string(), &c), ("dc-01".to_string(), &dc)].into();
        let d = decide(&fleet, &snaps, &Playbook::builtin(), engagement());
        // The exempt DC gets no rules: only contained hosts are listed.
        assert_eq!(d.plan.operator, [OperatorSeen { address: "192.0.2.7".into(), hosts: vec!["WS-[001-002]".into()] }]);
        let by_host = d.plan.operator_by_host();
        assert_eq!(by_host.get("ws-002").map(Vec::as_slice), Some(&["192.0.2.7".to_string()][..]));
        assert!(!by_host.contains_key("ws-003"), "its scan recorded none");
        // Not in the shared exempt set: another host's view is not this one's.
        assert!(!d.plan.exempt_set().contains("192.0.2.7".parse().unwrap()));
    }
}
