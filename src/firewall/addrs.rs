//! Address sets for containment rules: IPv4 and IPv6 addresses, ranges
//! (`10.0.0.5-10.0.0.9`) and CIDR blocks (`10.1.0.0/16`, `fd00::/64`, or
//! `10.1.0.0/255.255.0.0`), merged into sorted, disjoint, non-adjacent
//! spans; the complement of a set (what a block rule lists, so that the
//! exempt addresses keep SMB: Windows Firewall block rules beat allow
//! rules, so an exemption is an address left out of the block list); and
//! the `remoteip` tokens Windows takes (`a` or `a-b`, no spaces), at most
//! [`MAX_TOKENS_PER_RULE`] per rule.
//!
//! IPv4 and IPv6 are kept apart: a rule whose list holds only IPv4 tokens
//! does not match IPv6 traffic, so each family gets rules of its own. An
//! IPv4-mapped IPv6 address (`::ffff:10.0.0.5`), or a range lying wholly
//! inside `::ffff:0:0/96`, is taken as the IPv4 address it maps: such
//! addresses never appear on the wire (RFC 4291 2.5.5.2), Windows matches
//! that traffic at its IPv4 layer.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Address entries Windows Firewall takes in one rule. Tools that manage
/// large block lists (IPBan, among others) keep to 1,000 and split the
/// rest into further rules; more is reported to fail on some versions.
pub const MAX_TOKENS_PER_RULE: usize = 1000;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The largest address of the family, as a number.
    pub fn max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// `v4` or `v6` (used in rule names).
    pub fn word(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub family: Family,
    pub first: u128,
    pub last: u128,
}

/// `::ffff:0:0/96`, the IPv4-mapped block.
const MAPPED_FIRST: u128 = 0xffff_0000_0000;
const MAPPED_LAST: u128 = 0xffff_ffff_ffff;

/// Why an address entry was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AddrError {
    pub message: String,
    pub help: String,
}

fn bad(message: String, help: &str) -> AddrError {
    AddrError {
        message,
        help: help.to_string(),
    }
}

const FORMS: &str = "write an address (10.0.0.5, fd00::5), a range (10.0.0.5-10.0.0.9), or a CIDR block (10.1.0.0/16, 10.1.0.0/255.255.0.0, fd00::/64)";

fn number(ip: IpAddr) -> (Family, u128) {
    match ip {
        IpAddr::V4(a) => (Family::V4, u32::from(a) as u128),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

impl Span {
    /// One address.
    pub fn single(ip: IpAddr) -> Span {
        let (family, n) = number(ip);
        Span {
            family,
            first: n,
            last: n,
        }
        .unmapped()
    }

    /// An IPv6 span wholly inside `::ffff:0:0/96` as the IPv4 span it maps.
    fn unmapped(self) -> Span {
        if self.family == Family::V6 && self.first >= MAPPED_FIRST && self.last <= MAPPED_LAST {
            Span {
                family: Family::V4,
                first: self.first - MAPPED_FIRST,
                last: self.last - MAPPED_FIRST,
            }
        } else {
            self
        }
    }

    /// Parse one entry: an address, `a-b`, `a/prefix` or `a/mask`.
    pub fn parse(text: &str) -> Result<Span, AddrError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("an empty address".into(), FORMS));
        }
        let lower = t.to_ascii_lowercase();
        if [
            "any",
            "*",
            "localsubnet",
            "dns",
            "dhcp",
            "wins",
            "defaultgateway",
        ]
        .contains(&lower.as_str())
        {
            return Err(bad(
                format!("`{t}` is a Windows Firewall keyword, not an address"),
                "exemptions are explicit addresses, ranges or CIDR blocks, so the plan shows exactly what keeps SMB",
            ));
        }
        if t.contains(char::is_whitespace) {
            return Err(bad(format!("`{t}` holds a space"), FORMS));
        }
        if let Some((a, b)) = t.split_once('-') {
            let a = ip(a, t)?;
            let b = ip(b, t)?;
            let ((fa, na), (fb, nb)) = (number(a), number(b));
            if fa != fb {
                return Err(bad(
                    format!("`{t}` mixes an IPv4 and an IPv6 address"),
                    "a range is of one family; write two entries",
                ));
            }
            if na > nb {
                return Err(bad(
                    format!("`{t}` ends before it starts"),
                    "write the lower address first",
                ));
            }
            return Ok(Span {
                family: fa,
                first: na,
                last: nb,
            }
            .unmapped());
        }
        if let Some((a, p)) = t.split_once('/') {
            let a = ip(a, t)?;
            let (family, n) = number(a);
            let bits = match family {
                Family::V4 => 32,
                Family::V6 => 128,
            };
            let prefix: u32 = match (p.parse::<u32>(), family) {
                (Ok(len), _) => len,
                (Err(_), Family::V4) => mask_len(p).ok_or_else(|| {
                    bad(
                        format!("`{t}`: `{p}` is neither a prefix length nor a contiguous mask"),
                        FORMS,
                    )
                })?,
                (Err(_), Family::V6) => {
                    return Err(bad(
                        format!("`{t}`: `{p}` is not a prefix length"),
                        FORMS,
                    ));
                }
            };
            if prefix > bits {
                return Err(bad(
                    format!("`{t}`: an {} prefix is at most /{bits}", family.word()),
                    FORMS,
                ));
            }
            let host_bits = bits - prefix;
            let host_mask: u128 = if host_bits == 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            // The block that holds the address (10.0.0.5/24 is 10.0.0.0/24).
            let first = n & !host_mask & family.max();
            return Ok(Span {
                family,
                first,
                last: first | host_mask,
            }
            .unmapped());
        }
        Ok(Span::single(ip(t, t)?))
    }

    /// The token Windows Firewall takes: `a` or `a-b`.
    pub fn token(&self) -> String {
        let show = |n: u128| match self.family {
            Family::V4 => Ipv4Addr::from(n as u32).to_string(),
            Family::V6 => Ipv6Addr::from(n).to_string(),
        };
        if self.first == self.last {
            show(self.first)
        } else {
            format!("{}-{}", show(self.first), show(self.last))
        }
    }

    /// Number of addresses, saturating (the whole IPv6 space is
    /// `u128::MAX`).
    pub fn len(&self) -> u128 {
        (self.last - self.first).saturating_add(1)
    }

    /// A span always holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token())
    }
}

fn ip(s: &str, whole: &str) -> Result<IpAddr, AddrError> {
    let s = s.trim();
    if s.contains('%') {
        return Err(bad(
            format!("`{whole}`: a zone index (`%...`) is not accepted"),
            "write the address without its zone",
        ));
    }
    s.parse::<IpAddr>()
        .map_err(|_| bad(format!("`{whole}`: `{s}` is not an IP address"), FORMS))
}

/// The prefix length of a dotted IPv4 mask, if it is contiguous.
fn mask_len(m: &str) -> Option<u32> {
    let m: Ipv4Addr = m.parse().ok()?;
    let n = u32::from(m);
    let len = n.leading_ones();
    (n.checked_shl(len).unwrap_or(0) == 0).then_some(len)
}

/// A set of addresses of both families: sorted, disjoint, non-adjacent
/// spans per family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrSet {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl AddrSet {
    /// The empty set.
    pub fn new() -> AddrSet {
        AddrSet::default()
    }

    /// The set of these spans, merged.
    pub fn from_spans(spans: impl IntoIterator<Item = Span>) -> AddrSet {
        let mut s = AddrSet::new();
        s.extend(spans);
        s
    }

    /// Parse entries (addresses, ranges, CIDR blocks) into one set.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AddrSet, AddrError> {
        let spans = entries
            .iter()
            .map(|e| Span::parse(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddrSet::from_spans(spans))
    }

    fn list(&self, f: Family) -> &Vec<(u128, u128)> {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    fn list_mut(&mut self, f: Family) -> &mut Vec<(u128, u128)> {
        match f {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    /// Add spans, keeping the set merged.
    pub fn extend(&mut self, spans: impl IntoIterator<Item = Span>) {
        for sp in spans {
            self.list_mut(sp.family).push((sp.first, sp.last));
        }
        self.v4 = merge(std::mem::take(&mut self.v4));
        self.v6 = merge(std::mem::take(&mut self.v6));
    }

    /// Add one address.
    pub fn insert(&mut self, ip: IpAddr) {
        self.extend([Span::single(ip)]);
    }

    /// The union of two sets.
    pub fn union(&self, other: &AddrSet) -> AddrSet {
        AddrSet::from_spans(self.spans().into_iter().chain(other.spans()))
    }

    /// Does the set hold `ip`?
    pub fn contains(&self, ip: IpAddr) -> bool {
        let s = Span::single(ip);
        let list = self.list(s.family);
        let i = list.partition_point(|(_, last)| *last < s.first);
        list.get(i).is_some_and(|(first, _)| *first <= s.first)
    }

    /// Every span, IPv4 first, each family in address order.
    pub fn spans(&self) -> Vec<Span> {
        self.family_spans(Family::V4)
            .into_iter()
            .chain(self.family_spans(Family::V6))
            .collect()
    }

    /// The spans of one family, in address order.
    pub fn family_spans(&self, family: Family) -> Vec<Span> {
        self.list(family)
            .iter()
            .map(|&(first, last)| Span {
                family,
                first,
                last,
            })
            .collect()
    }

    /// No address of `family` is in the set.
    pub fn is_empty_in(&self, family: Family) -> bool {
        self.list(family).is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Every address (of both families) that is not in the set.
    pub fn complement(&self) -> AddrSet {
        AddrSet {
            v4: complement(&self.v4, Family::V4.max()),
            v6: complement(&self.v6, Family::V6.max()),
        }
    }

    /// The `remoteip` tokens of one family, in address order.
    pub fn tokens(&self, family: Family) -> Vec<String> {
        self.family_spans(family).iter().map(Span::token).collect()
    }
}

/// Sort and coalesce overlapping or adjacent spans.
fn merge(mut v: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (first, last) in v {
        match out.last_mut() {
            // Overlapping or adjacent (`prev.last + 1 == first`, without
            // overflow at the top of the space).
            Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// The gaps between merged spans within `[0, max]`.
fn complement(spans: &[(u128, u128)], max: u128) -> Vec<(u128, u128)> {
    let mut out = Vec::with_capacity(spans.len() + 1);
    // The first address not yet covered; `None` once `max` is covered.
    let mut next = Some(0u128);
    for &(first, last) in spans {
        let Some(n) = next else { break };
        if first > n {
            out.push((n, first - 1));
        }
        next = if last >= max { None } else { Some(last + 1) };
    }
    if let Some(n) = next {
        out.push((n, max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(entries: &[&str]) -> AddrSet {
        AddrSet::parse(entries).unwrap_or_else(|e| panic!("{entries:?}: {e}"))
    }

    fn v4(s: &AddrSet) -> Vec<String> {
        s.tokens(Family::V4)
    }

    fn v6(s: &AddrSet) -> Vec<String> {
        s.tokens(Family::V6)
    }

    #[test]
    fn entries_parse_in_every_form() {
        let s = set(&[
            "10.0.0.5",
            "10.1.0.0/16",
            "10.4.0.7/255.255.255.0",
            "10.3.0.1-10.3.0.9",
            "fd00::5",
            "fd01::/64",
        ]);
        assert_eq!(
            v4(&s),
            [
                "10.0.0.5",
                "10.1.0.0-10.1.255.255",
                "10.3.0.1-10.3.0.9",
                "10.4.0.0-10.4.0.255"
            ]
        );
        assert_eq!(v6(&s), ["fd00::5", "fd01::-fd01::ffff:ffff:ffff:ffff"]);
        assert!(s.contains("10.1.200.3".parse().unwrap()));
        assert!(!s.contains("10.0.0.6".parse().unwrap()));
        assert!(s.contains("fd01::1".parse().unwrap()));
        assert!(!s.contains("fd00::6".parse().unwrap()));
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        for (entry, says) in [
            ("", "empty"),
            ("any", "keyword"),
            ("LocalSubnet", "keyword"),
            ("10.0.0.9-10.0.0.1", "ends before it starts"),
            ("10.0.0.1-fd00::1", "mixes"),
            ("10.0.0.0/33", "at most /32"),
            ("fd00::/129", "at most /128"),
            ("10.0.0.0/255.0.255.0", "contiguous mask"),
            ("fd00::/ffff::", "not a prefix length"),
            ("10.0.0.256", "not an IP address"),
            ("fe80::1%12", "zone"),
            ("10.0.0.1 - 10.0.0.2", "space"),
            ("host.corp.example", "not an IP address"),
        ] {
            let e = Span::parse(entry).expect_err(entry);
            assert!(e.message.contains(says), "{entry}: {e}");
            assert!(!e.help.is_empty());
        }
    }

    #[test]
    fn overlapping_and_adjacent_ranges_merge() {
        let s = set(&[
            "10.0.0.10-10.0.0.20",
            "10.0.0.15-10.0.0.30",
            "10.0.0.31",
            "10.0.0.33",
            "10.0.0.0/28",
        ]);
        assert_eq!(v4(&s), ["10.0.0.0-10.0.0.31", "10.0.0.33"]);
        // Containment: a span inside another disappears.
        let s = set(&["10.0.0.0/8", "10.9.9.9", "10.255.255.255"]);
        assert_eq!(v4(&s), ["10.0.0.0-10.255.255.255"]);
        // Duplicates.
        let s = set(&["fd00::1", "fd00::1", "fd00::2"]);
        assert_eq!(v6(&s), ["fd00::1-fd00::2"]);
    }

    #[test]
    fn the_complement_of_the_empty_set_is_everything() {
        let c = AddrSet::new().complement();
        assert_eq!(v4(&c), ["0.0.0.0-255.255.255.255"]);
        assert_eq!(v6(&c), ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]);
    }

    #[test]
    fn the_ends_of_the_space_are_handled() {
        let c = set(&["0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]).complement();
        assert_eq!(v4(&c), ["0.0.0.1-255.255.255.254"]);
        assert_eq!(v6(&c), ["::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"]);
        let c = set(&["0.0.0.0-0.0.0.1"]).complement();
        assert_eq!(v4(&c), ["0.0.0.2-255.255.255.255"]);
        let c = set(&["255.255.255.254-255.255.255.255"]).complement();
        assert_eq!(v4(&c), ["0.0.0.0-255.255.255.253"]);
    }

    #[test]
    fn an_exempt_set_covering_everything_leaves_nothing_to_block() {
        let c = set(&["0.0.0.0/0", "::/0"]).complement();
        assert!(c.is_empty(), "{c:?}");
        let c = set(&["0.0.0.0-127.255.255.255", "128.0.0.0/1"]).complement();
        assert!(c.is_empty_in(Family::V4));
        assert_eq!(v6(&c).len(), 1);
    }

    #[test]
    fn complement_leaves_out_exactly_the_exempt_addresses() {
        let exempt = set(&["10.0.0.5", "10.0.0.7-10.0.0.9", "192.168.1.0/24", "fd00::1"]);
        let c = exempt.complement();
        assert_eq!(
            v4(&c),
            [
                "0.0.0.0-10.0.0.4",
                "10.0.0.6",
                "10.0.0.10-192.168.0.255",
                "192.168.2.0-255.255.255.255"
            ]
        );
        assert_eq!(
            v6(&c),
            ["::-fd00::", "fd00::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
        );
        for probe in ["10.0.0.5", "10.0.0.8", "192.168.1.77", "fd00::1"] {
            let ip: IpAddr = probe.parse().unwrap();
            assert!(exempt.contains(ip) && !c.contains(ip), "{probe}");
        }
        for probe in ["10.0.0.6", "0.0.0.0", "255.255.255.255", "::", "fd00::2"] {
            let ip: IpAddr = probe.parse().unwrap();
            assert!(!exempt.contains(ip) && c.contains(ip), "{probe}");
        }
        // The complement of the complement is the set again.
        assert_eq!(c.complement(), exempt);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        let s = set(&["::ffff:10.0.0.5", "::ffff:10.1.0.0/112", "::ffff:10.2.0.1-::ffff:10.2.0.3"]);
        assert_eq!(
            v4(&s),
            ["10.0.0.5", "10.1.0.0-10.1.255.255", "10.2.0.1-10.2.0.3"]
        );
        assert!(s.is_empty_in(Family::V6));
        assert_eq!(v6(&s.complement()).len(), 1);
        // A block reaching beyond the mapped range stays IPv6.
        let s = set(&["::/64"]);
        assert!(s.is_empty_in(Family::V4));
        assert_eq!(v6(&s), ["::-::ffff:ffff:ffff:ffff"]);
        assert!(Span::single("::ffff:1.2.3.4".parse().unwrap()).family == Family::V4);
    }

    #[test]
    fn host_bits_are_cleared_and_zero_prefixes_cover_everything() {
        assert_eq!(v4(&set(&["10.0.0.77/24"])), ["10.0.0.0-10.0.0.255"]);
        assert_eq!(v4(&set(&["1.2.3.4/0"])), ["0.0.0.0-255.255.255.255"]);
        assert_eq!(v4(&set(&["1.2.3.4/32"])), ["1.2.3.4"]);
        assert_eq!(v4(&set(&["1.2.3.4/255.255.255.255"])), ["1.2.3.4"]);
        assert_eq!(v4(&set(&["1.2.3.4/0.0.0.0"])), ["0.0.0.0-255.255.255.255"]);
        assert_eq!(v6(&set(&["fd00::1/128"])), ["fd00::1"]);
        assert_eq!(
            v6(&set(&["fd00::1/0"])),
            ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
        );
    }

    #[test]
    fn union_and_lengths() {
        let a = set(&["10.0.0.0/30"]);
        let b = set(&["10.0.0.4", "fd00::/127"]);
        let u = a.union(&b);
        assert_eq!(v4(&u), ["10.0.0.0-10.0.0.4"]);
        assert_eq!(u.family_spans(Family::V4)[0].len(), 5);
        assert_eq!(u.family_spans(Family::V6)[0].len(), 2);
        let all = set(&["::/0"]).family_spans(Family::V6)[0];
        assert_eq!(all.len(), u128::MAX);
    }
}
