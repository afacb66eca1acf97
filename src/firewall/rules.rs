//! The block rules of one contained host: for each direction (in, out) and
//! protocol (TCP, UDP) with blocked ports, and each address family, rules
//! whose remote address list is the complement of the exempt set (the
//! exempt set holds the operator's address as that host sees it, so it is
//! built per host), at most [`MAX_TOKENS_PER_RULE`] addresses a rule.
//!
//! Inbound rules block the host's local ports (others reaching its SMB);
//! outbound rules block those remote ports (the host reaching others').
//! WinRM's ports (5985, 5986) are never among the blocked ports: the
//! operation runs over them.

use serde::{Deserialize, Serialize};

use super::addrs::{AddrSet, Family, MAX_TOKENS_PER_RULE};
use super::naming::{EngagementId, RuleName};

/// WinRM over HTTP and HTTPS: never blocked.
pub const WINRM_PORTS: [u16; 2] = [5985, 5986];

/// Which traffic a rule sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn word(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    /// `NET_FW_RULE_DIRECTION`: 1 inbound, 2 outbound.
    pub fn com_value(self) -> u32 {
        match self {
            Direction::In => 1,
            Direction::Out => 2,
        }
    }
}

/// The protocols SMB and NetBIOS use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn word(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// IANA protocol number (the COM `Protocol` property): 6 or 17.
    pub fn number(self) -> u32 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
}

/// The ports blocked, per protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
}

impl Default for PortSpec {
    /// SMB (TCP 445), NetBIOS session (TCP 139), name (UDP 137) and
    /// datagram (UDP 138) services.
    fn default() -> Self {
        PortSpec {
            tcp: vec![445, 139],
            udp: vec![137, 138],
        }
    }
}

impl PortSpec {
    /// The ports of one protocol.
    pub fn of(&self, p: Protocol) -> &[u16] {
        match p {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    /// Refuse what must never be blocked, port 0, and repeats.
    pub fn check(&self) -> Result<(), RulesError> {
        if self.tcp.is_empty() && self.udp.is_empty() {
            return Err(RulesError::NoPorts);
        }
        for p in [Protocol::Tcp, Protocol::Udp] {
            let ports = self.of(p);
            for (i, &port) in ports.iter().enumerate() {
                if port == 0 {
                    return Err(RulesError::BadPort(p, port));
                }
                if p == Protocol::Tcp && WINRM_PORTS.contains(&port) {
                    return Err(RulesError::WinRm(port));
                }
                if ports[..i].contains(&port) {
                    return Err(RulesError::Repeated(p, port));
                }
            }
        }
        Ok(())
    }
}

/// Why rules cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("no port is blocked: containment needs at least one TCP or UDP port")]
    NoPorts,
    #[error("TCP {0} is WinRM, which the whole operation runs over: it is never blocked")]
    WinRm(u16),
    #[error("{proto} port {port} is not a port", proto = .0.word(), port = .1)]
    BadPort(Protocol, u16),
    #[error("{proto} port {port} is listed twice", proto = .0.word(), port = .1)]
    Repeated(Protocol, u16),
    #[error("no direction is blocked: containment needs `in`, `out` or both")]
    NoDirection,
}

/// One block rule, as Windows Firewall takes it (netsh `add rule` or the
/// COM `HNetCfg.FWRule`): block, every profile, enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSpec {
    pub name: String,
    pub direction: Direction,
    pub protocol: Protocol,
    pub family: Family,
    /// Inbound: the host's local ports. Outbound: the remote ports.
    pub ports: Vec<u16>,
    /// `remoteip` tokens (`a` or `a-b`), at most [`MAX_TOKENS_PER_RULE`].
    pub remote: Vec<String>,
    pub description: String,
}

impl RuleSpec {
    /// `445,139`: netsh `localport=`/`remoteport=`, COM
    /// `LocalPorts`/`RemotePorts`.
    pub fn ports_text(&self) -> String {
        join(self.ports.iter().map(u16::to_string))
    }

    /// The remote address list: netsh `remoteip=`, COM `RemoteAddresses`.
    pub fn remote_text(&self) -> String {
        join(self.remote.iter().cloned())
    }
}

fn join(it: impl Iterator<Item = String>) -> String {
    it.collect::<Vec<_>>().join(",")
}

/// The rules of one host: every address outside `exempt` loses the
/// blocked ports in each of `directions`. `exempt` must already hold the
/// operator's address as this host sees it. A family whose every address is
/// exempt gets no rule (nothing to block).
pub fn host_rules(
    engagement: &EngagementId,
    ports: &PortSpec,
    directions: &[Direction],
    exempt: &AddrSet,
) -> Result<Vec<RuleSpec>, RulesError> {
    ports.check()?;
    if directions.is_empty() {
        return Err(RulesError::NoDirection);
    }
    let blocked = exempt.complement();
    let mut out = Vec::new();
    for &direction in directions {
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            let p = ports.of(protocol);
            if p.is_empty() {
                continue;
            }
            for family in [Family::V4, Family::V6] {
                let tokens = blocked.tokens(family);
                for (i, chunk) in tokens.chunks(MAX_TOKENS_PER_RULE).enumerate() {
                    let name = RuleName {
                        engagement: engagement.clone(),
                        direction,
                        protocol,
                        family,
                        index: i as u32 + 1,
                    };
                    out.push(RuleSpec {
                        name: name.to_string(),
                        direction,
                        protocol,
                        family,
                        ports: p.to_vec(),
                        remote: chunk.to_vec(),
                        description: engagement.rule_description(),
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::addrs::Span;

    fn id() -> EngagementId {
        EngagementId::parse("0badc0de").unwrap()
    }

    fn both() -> Vec<Direction> {
        vec![Direction::In, Direction::Out]
    }

    #[test]
    fn default_ports_make_eight_rules_none_touching_winrm() {
        let exempt = AddrSet::parse(&["10.0.0.5", "fd00::5"]).unwrap();
        let rules = host_rules(&id(), &PortSpec::default(), &both(), &exempt).unwrap();
        // in/out x tcp/udp x v4/v6, one chunk each.
        assert_eq!(rules.len(), 8);
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"cauterize-0badc0de-smb-in-tcp-v4-1"), "{names:?}");
        assert!(names.contains(&"cauterize-0badc0de-smb-out-udp-v6-1"), "{names:?}");
        for r in &rules {
            assert!(RuleName::is_of(&r.name, &id()), "{}", r.name);
            for w in WINRM_PORTS {
                assert!(!r.ports.contains(&w), "{r:?}");
            }
            let tcp = r.protocol == Protocol::Tcp;
            assert_eq!(r.ports_text(), if tcp { "445,139" } else { "137,138" });
            match r.family {
                Family::V4 => assert_eq!(r.remote_text(), "0.0.0.0-10.0.0.4,10.0.0.6-255.255.255.255"),
                Family::V6 => assert_eq!(r.remote_text(), "::-fd00::4,fd00::6-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            }
            assert!(!r.remote_text().contains(' '));
        }
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len());
    }

    #[test]
    fn winrm_and_bad_ports_are_refused() {
        let e = AddrSet::new();
        for (ports, err) in [
            (PortSpec { tcp: vec![445, 5985], udp: vec![] }, RulesError::WinRm(5985)),
            (PortSpec { tcp: vec![5986], udp: vec![] }, RulesError::WinRm(5986)),
            (PortSpec { tcp: vec![], udp: vec![] }, RulesError::NoPorts),
            (PortSpec { tcp: vec![0], udp: vec![] }, RulesError::BadPort(Protocol::Tcp, 0)),
            (PortSpec { tcp: vec![445, 445], udp: vec![] }, RulesError::Repeated(Protocol::Tcp, 445)),
        ] {
            assert_eq!(host_rules(&id(), &ports, &both(), &e), Err(err));
        }
        // UDP 5985 is not WinRM.
        assert!(PortSpec { tcp: vec![], udp: vec![5985] }.check().is_ok());
        assert_eq!(host_rules(&id(), &PortSpec::default(), &[], &e), Err(RulesError::NoDirection));
    }

    #[test]
    fn long_lists_are_split_at_one_thousand_addresses() {
        // 2,500 single exempt addresses, every other one: 2,501 gaps.
        let spans = (0..2500u128).map(|i| Span {
            family: Family::V4,
            first: 0x0a00_0000 + 2 * i + 1,
            last: 0x0a00_0000 + 2 * i + 1,
        });
        let exempt = AddrSet::from_spans(spans);
        let ports = PortSpec { tcp: vec![445], udp: vec![] };
        let rules = host_rules(&id(), &ports, &[Direction::In], &exempt).unwrap();
        let v4: Vec<&RuleSpec> = rules.iter().filter(|r| r.family == Family::V4).collect();
        assert_eq!(v4.len(), 3);
        assert_eq!(
            v4.iter().map(|r| r.remote.len()).collect::<Vec<_>>(),
            [1000, 1000, 501]
        );
        assert_eq!(
            v4.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            [
                "cauterize-0badc0de-smb-in-tcp-v4-1",
                "cauterize-0badc0de-smb-in-tcp-v4-2",
                "cauterize-0badc0de-smb-in-tcp-v4-3"
            ]
        );
        // The chunks together are the whole complement, in order.
        let all: Vec<String> = v4.iter().flat_map(|r| r.remote.clone()).collect();
        assert_eq!(all, exempt.complement().tokens(Family::V4));
        // IPv6 is untouched: one rule for all of it.
        assert_eq!(rules.iter().filter(|r| r.family == Family::V6).count(), 1);
    }

    #[test]
    fn an_exempt_family_gets_no_rule() {
        let exempt = AddrSet::parse(&["0.0.0.0/0"]).unwrap();
        let rules = host_rules(&id(), &PortSpec::default(), &both(), &exempt).unwrap();
        assert_eq!(rules.len(), 4);
        assert!(rules.iter().all(|r| r.family == Family::V6));
        let everything = AddrSet::parse(&["0.0.0.0/0", "::/0"]).unwrap();
        assert!(host_rules(&id(), &PortSpec::default(), &both(), &everything).unwrap().is_empty());
    }
}
