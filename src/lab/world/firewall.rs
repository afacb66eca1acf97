//! Windows Firewall with Advanced Security: three profiles (domain,
//! private, public), each on or off with its default inbound and outbound
//! action, the active profile, rules, and the decision a packet gets.
//!
//! Precedence, as documented by Microsoft: a profile that is off allows
//! everything; `blockinboundalways` blocks every inbound connection; a
//! matching block rule beats any matching allow rule (no rule ordering);
//! with no matching rule the profile default applies (inbound block,
//! outbound allow out of the box). When Group Policy sets
//! AllowLocalPolicyMerge to false for a profile, locally defined rules have
//! no effect there. One active profile per host (Windows can have one per
//! adapter; the lab hosts have one adapter). IPv4 decisions only.

use std::net::Ipv4Addr;

use super::ci::eq_ci;
use super::netaddr::{AddressList, PortList};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProfileKind {
    Domain,
    Private,
    Public,
}

/// Settings of one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileSettings {
    pub enabled: bool,
    pub default_inbound: Verdict,
    pub default_outbound: Verdict,
    /// GP's AllowLocalPolicyMerge (true unless a GPO forbids it).
    pub allow_local_policy_merge: bool,
    /// `firewallpolicy blockinboundalways`.
    pub block_inbound_always: bool,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings {
            enabled: true,
            default_inbound: Verdict::Block,
            default_outbound: Verdict::Allow,
            allow_local_policy_merge: true,
            block_inbound_always: false,
        }
    }
}

/// Which profiles a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileSet {
    pub domain: bool,
    pub private: bool,
    pub public: bool,
}

impl ProfileSet {
    pub const ANY: ProfileSet = ProfileSet {
        domain: true,
        private: true,
        public: true,
    };
    pub fn has(&self, p: ProfileKind) -> bool {
        match p {
            ProfileKind::Domain => self.domain,
            ProfileKind::Private => self.private,
            ProfileKind::Public => self.public,
        }
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// The local store (netsh, the runtime).
    Local,
    /// A GPO.
    GroupPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallRule {
    pub name: String,
    pub description: String,
    pub group: String,
    pub direction: Direction,
    pub action: Verdict,
    pub protocol: Protocol,
    pub local_ports: PortList,
    pub remote_ports: PortList,
    pub remote_addresses: AddressList,
    pub enabled: bool,
    pub profiles: ProfileSet,
    pub source: RuleSource,
}

impl FirewallRule {
    /// An enabled local rule for all profiles, any ports and addresses.
    pub fn new(
        name: &str,
        direction: Direction,
        action: Verdict,
        protocol: Protocol,
    ) -> FirewallRule {
        FirewallRule {
            name: name.into(),
            description: String::new(),
            group: String::new(),
            direction,
            action,
            protocol,
            local_ports: PortList::Any,
            remote_ports: PortList::Any,
            remote_addresses: AddressList::Any,
            enabled: true,
            profiles: ProfileSet::ANY,
            source: RuleSource::Local,
        }
    }
    /// What netsh refuses: name `all` or empty; ports without TCP/UDP.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || eq_ci(&self.name, "all") {
            return Err(format!("invalid rule name {:?}", self.name));
        }
        if self.protocol == Protocol::Any
            && (!self.local_ports.is_any() || !self.remote_ports.is_any())
        {
            return Err("ports may be given only with protocol TCP or UDP".into());
        }
        Ok(())
    }
    fn matches(
        &self,
        dir: Direction,
        proto: Protocol,
        local_port: u16,
        remote: Ipv4Addr,
        remote_port: u16,
    ) -> bool {
        self.direction == dir
            && (self.protocol == Protocol::Any || self.protocol == proto)
            && self.local_ports.contains(local_port)
            && self.remote_ports.contains(remote_port)
            && self.remote_addresses.contains(remote)
    }
}

/// Why a packet got its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    ProfileOff,
    BlockInboundAlways,
    BlockRule(String),
    AllowRule(String),
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: Reason,
}

#[derive(Debug, Clone)]
pub struct Firewall {
    pub domain: ProfileSettings,
    pub private: ProfileSettings,
    pub public: ProfileSettings,
    pub active: ProfileKind,
    rules: Vec<FirewallRule>,
}

impl Default for Firewall {
    fn default() -> Self {
        Firewall::new(ProfileKind::Domain)
    }
}

impl Firewall {
    /// All profiles on with Windows' defaults, no rules.
    pub fn new(active: ProfileKind) -> Firewall {
        Firewall {
            domain: ProfileSettings::default(),
            private: ProfileSettings::default(),
            public: ProfileSettings::default(),
            active,
            rules: Vec::new(),
        }
    }
    pub fn profile(&self, p: ProfileKind) -> &ProfileSettings {
        match p {
            ProfileKind::Domain => &self.domain,
            ProfileKind::Private => &self.private,
            ProfileKind::Public => &self.public,
        }
    }
    pub fn profile_mut(&mut self, p: ProfileKind) -> &mut ProfileSettings {
        match p {
            ProfileKind::Domain => &mut self.domain,
            ProfileKind::Private => &mut self.private,
            ProfileKind::Public => &mut self.public,
        }
    }
    pub fn rules(&self) -> &[FirewallRule] {
        &self.rules
    }
    /// `netsh advfirewall firewall add rule` (duplicate names are allowed,
    /// as netsh allows them).
    pub fn add_rule(&mut self, r: FirewallRule) -> Result<(), String> {
        r.validate()?;
        self.rules.push(r);
        Ok(())
    }
    /// `delete rule name=<name> [dir=...]`: deletes all matches; returns
    /// how many (netsh says "No rules match" for 0).
    pub fn delete_rules(&mut self, name: &str, dir: Option<Direction>) -> usize {
        self.delete_rules_where(|r| eq_ci(&r.name, name) && dir.is_none_or(|d| d == r.direction))
    }
    /// Deletes every rule `doomed` picks (netsh's `delete rule` with its
    /// narrowing arguments: protocol, ports, addresses, profile); returns
    /// how many.
    pub fn delete_rules_where(&mut self, mut doomed: impl FnMut(&FirewallRule) -> bool) -> usize {
        let before = self.rules.len();
        self.rules.retain(|r| !doomed(r));
        before - self.rules.len()
    }
    /// COM `INetFwRules::Remove`: removes the first rule of that name
    /// (one only, where netsh's `delete rule` removes all); whether one was.
    pub fn remove_first_named(&mut self, name: &str) -> bool {
        match self.rules.iter().position(|r| eq_ci(&r.name, name)) {
            Some(i) => {
                self.rules.remove(i);
                true
            }
            None => false,
        }
    }
    pub fn rules_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a FirewallRule> + 'a {
        self.rules.iter().filter(move |r| eq_ci(&r.name, name))
    }
    /// `set rule group=<g> new enable=yes|no`; returns how many changed.
    pub fn set_group_enabled(&mut self, group: &str, enabled: bool) -> usize {
        let mut n = 0;
        for r in self.rules.iter_mut().filter(|r| eq_ci(&r.group, group)) {
            r.enabled = enabled;
            n += 1;
        }
        n
    }

    /// The verdict for a connection.
    pub fn decide(
        &self,
        dir: Direction,
        proto: Protocol,
        local_port: u16,
        remote: Ipv4Addr,
        remote_port: u16,
    ) -> Verdict {
        self.decide_explained(dir, proto, local_port, remote, remote_port)
            .verdict
    }

    /// The verdict and the rule or setting that decided it.
    pub fn decide_explained(
        &self,
        dir: Direction,
        proto: Protocol,
        local_port: u16,
        remote: Ipv4Addr,
        remote_port: u16,
    ) -> Decision {
        let prof = self.profile(self.active);
        if !prof.enabled {
            return Decision {
                verdict: Verdict::Allow,
                reason: Reason::ProfileOff,
            };
        }
        if dir == Direction::In && prof.block_inbound_always {
            return Decision {
                verdict: Verdict::Block,
                reason: Reason::BlockInboundAlways,
            };
        }
        let effective = self.rules.iter().filter(|r| {
            r.enabled
                && r.profiles.has(self.active)
                && (r.source == RuleSource::GroupPolicy || prof.allow_local_policy_merge)
                && r.matches(dir, proto, local_port, remote, remote_port)
        });
        let mut allow = None;
        for r in effective {
            match r.action {
                Verdict::Block => {
                    return Decision {
                        verdict: Verdict::Block,
                        reason: Reason::BlockRule(r.name.clone()),
                    };
                }
                Verdict::Allow => allow = allow.or(Some(r.name.clone())),
            }
        }
        if let Some(n) = allow {
            return Decision {
                verdict: Verdict::Allow,
                reason: Reason::AllowRule(n),
            };
        }
        let verdict = match dir {
            Direction::In => prof.default_inbound,
            Direction::Out => prof.default_outbound,
        };
        Decision {
            verdict,
            reason: Reason::Default,
        }
    }

    /// Windows' default rule for WinRM (`Windows Remote Management (HTTP-In)`).
    pub fn winrm_default_rule() -> FirewallRule {
        let mut r = FirewallRule::new(
            "Windows Remote Management (HTTP-In)",
            Direction::In,
            Verdict::Allow,
            Protocol::Tcp,
        );
        r.local_ports = PortList::ports(&[5985]);
        r.group = "Windows Remote Management".into();
        r.description =
            "Inbound rule for Windows Remote Management via WS-Management. [TCP 5985]".into();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::netaddr::{Ipv4Range, complement, parse_address_list};
    use Direction::{In, Out};
    use Protocol::{Tcp, Udp};
    use Verdict::{Allow, Block};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// Each (direction, protocol, local port, remote address, remote
    /// port) is decided as given.
    fn expect(fw: &Firewall, cases: &[(Direction, Protocol, u16, Ipv4Addr, u16, Verdict)]) {
        for &(d, p, lp, a, rp, v) in cases {
            assert_eq!(
                fw.decide(d, p, lp, a, rp),
                v,
                "{d:?} {p:?} {lp} -> {a}:{rp}"
            );
        }
    }

    fn smb_block(dir: Direction, remote: AddressList) -> FirewallRule {
        let mut r = FirewallRule::new("cauterize-smb-tcp", dir, Verdict::Block, Protocol::Tcp);
        match dir {
            Direction::In => r.local_ports = PortList::ports(&[139, 445]),
            Direction::Out => r.remote_ports = PortList::ports(&[139, 445]),
        }
        r.remote_addresses = remote;
        r
    }

    /// Allow TCP in to one local port.
    fn allow_in(name: &str, port: u16) -> FirewallRule {
        let mut r = FirewallRule::new(name, In, Allow, Tcp);
        r.local_ports = PortList::ports(&[port]);
        r
    }

    fn host_fw() -> Firewall {
        let mut fw = Firewall::new(ProfileKind::Domain);
        fw.add_rule(Firewall::winrm_default_rule()).unwrap();
        fw.add_rule(allow_in("File and Printer Sharing (SMB-In)", 445))
            .unwrap();
        fw
    }

    #[test]
    fn block_beats_allow_and_defaults() {
        let mut fw = host_fw();
        let peer = ip("10.0.0.20");
        expect(
            &fw,
            &[
                (In, Tcp, 445, peer, 50000, Allow),
                (In, Tcp, 3389, peer, 50000, Block),
                (Out, Tcp, 50000, peer, 445, Allow),
            ],
        );
        fw.add_rule(smb_block(Direction::In, AddressList::Any))
            .unwrap();
        let d = fw.decide_explained(Direction::In, Protocol::Tcp, 445, peer, 50000);
        assert_eq!(
            d,
            Decision {
                verdict: Verdict::Block,
                reason: Reason::BlockRule("cauterize-smb-tcp".into())
            }
        );
        // an allow rule added later for the same traffic does not win
        let mut allow =
            FirewallRule::new("admin allow", Direction::In, Verdict::Allow, Protocol::Any);
        allow.remote_addresses = AddressList::v4(vec![Ipv4Range::single(peer)]);
        fw.add_rule(allow).unwrap();
        expect(
            &fw,
            &[
                (In, Tcp, 445, peer, 50000, Block),
                (In, Tcp, 5985, peer, 50000, Allow),
            ],
        );
        assert_eq!(fw.delete_rules("CAUTERIZE-SMB-TCP", None), 1);
        expect(&fw, &[(In, Tcp, 445, peer, 50000, Allow)]);
        let mut outd = fw.clone();
        outd.domain.default_outbound = Verdict::Block;
        expect(&outd, &[(Out, Tcp, 50000, peer, 443, Block)]);
    }

    #[test]
    fn exemption_by_complement_lets_dc_through_not_peer() {
        let mut fw = host_fw();
        let dc = ip("10.0.0.5");
        let operator = ip("10.0.9.1");
        let exempt = [Ipv4Range::single(dc), Ipv4Range::single(operator)];
        let remote = AddressList::v4(complement(&exempt));
        fw.add_rule(smb_block(Direction::Out, remote.clone()))
            .unwrap();
        fw.add_rule(smb_block(Direction::In, remote)).unwrap();
        expect(
            &fw,
            &[
                (Out, Tcp, 50123, dc, 445, Allow),
                (Out, Tcp, 50123, ip("10.0.0.6"), 445, Block),
                (Out, Tcp, 50123, ip("10.0.0.4"), 139, Block),
                (In, Tcp, 445, operator, 50000, Allow),
                (In, Tcp, 445, ip("0.0.0.0"), 50000, Block),
                (In, Tcp, 445, ip("255.255.255.255"), 50000, Block),
                (Out, Tcp, 50123, ip("10.0.0.6"), 443, Allow),
            ],
        );
    }

    #[test]
    fn udp_vs_tcp_and_port_ranges() {
        let mut fw = Firewall::new(ProfileKind::Domain);
        let mut udp = FirewallRule::new("nb-udp", Direction::Out, Verdict::Block, Protocol::Udp);
        udp.remote_ports = PortList::List(vec![(137, 138)]);
        fw.add_rule(udp).unwrap();
        let p = ip("10.0.0.7");
        expect(
            &fw,
            &[
                (Out, Udp, 5000, p, 137, Block),
                (Out, Udp, 5000, p, 138, Block),
                (Out, Udp, 5000, p, 139, Allow),
                (Out, Tcp, 5000, p, 137, Allow),
            ],
        );
        let mut bad = FirewallRule::new("x", Direction::Out, Verdict::Block, Protocol::Any);
        bad.remote_ports = PortList::ports(&[445]);
        assert!(fw.add_rule(bad).is_err());
        assert!(
            fw.add_rule(FirewallRule::new(
                "all",
                Direction::Out,
                Verdict::Block,
                Protocol::Any
            ))
            .is_err()
        );
        // address ranges in a rule
        let mut r = FirewallRule::new("range", Direction::Out, Verdict::Block, Protocol::Tcp);
        r.remote_addresses = parse_address_list("10.1.0.1-10.1.0.4,10.2.0.0/16").unwrap();
        fw.add_rule(r).unwrap();
        for (a, v) in [
            ("10.1.0.1", Verdict::Block),
            ("10.1.0.4", Verdict::Block),
            ("10.1.0.5", Verdict::Allow),
            ("10.2.255.255", Verdict::Block),
            ("10.3.0.0", Verdict::Allow),
        ] {
            assert_eq!(
                fw.decide(Direction::Out, Protocol::Tcp, 1, ip(a), 80),
                v,
                "{a}"
            );
        }
    }

    #[test]
    fn disabled_profile_and_inactive_profiles() {
        let mut fw = host_fw();
        fw.add_rule(smb_block(Direction::In, AddressList::Any))
            .unwrap();
        let peer = ip("10.0.0.20");
        fw.domain.enabled = false;
        let d = fw.decide_explained(Direction::In, Protocol::Tcp, 445, peer, 1);
        assert_eq!(d.reason, Reason::ProfileOff);
        assert_eq!(d.verdict, Verdict::Allow);
        expect(&fw, &[(In, Tcp, 3389, peer, 1, Allow)]);
        fw.domain.enabled = true;
        fw.delete_rules("cauterize-smb-tcp", Some(Direction::In));
        let mut r = smb_block(Direction::In, AddressList::Any);
        r.profiles = ProfileSet {
            domain: false,
            private: false,
            public: true,
        };
        fw.add_rule(r).unwrap();
        expect(&fw, &[(In, Tcp, 445, peer, 1, Allow)]);
        fw.active = ProfileKind::Public;
        expect(&fw, &[(In, Tcp, 445, peer, 1, Block)]);
        fw.public.block_inbound_always = true;
        expect(&fw, &[(In, Tcp, 5985, peer, 1, Block)]);
    }

    #[test]
    fn gp_no_merge_makes_local_rules_void() {
        let mut fw = Firewall::new(ProfileKind::Domain);
        fw.add_rule(smb_block(Direction::Out, AddressList::Any))
            .unwrap();
        let mut gp = allow_in("GPO allow web", 443);
        gp.source = RuleSource::GroupPolicy;
        fw.add_rule(gp).unwrap();
        let peer = ip("10.0.0.20");
        expect(&fw, &[(Out, Tcp, 1, peer, 445, Block)]);
        fw.domain.allow_local_policy_merge = false;
        expect(
            &fw,
            &[
                (Out, Tcp, 1, peer, 445, Allow),
                (In, Tcp, 443, peer, 1, Allow),
            ],
        );
        fw.active = ProfileKind::Private;
        expect(&fw, &[(Out, Tcp, 1, peer, 445, Block)]);
    }
}
