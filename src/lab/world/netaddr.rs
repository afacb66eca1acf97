//! Address and port lists as netsh advfirewall writes them
//! (`10.0.0.1-10.0.0.4,10.0.0.9,192.168.0.0/16`, `137-139,445`), IPv4
//! ranges, and `complement`: the "block everything except these"
//! computation. Windows Firewall block rules beat allow rules, so an
//! exemption is made by leaving the exempt addresses out of the block
//! rule's remote address list, never by an allow rule.
//!
//! IPv6 tokens are parsed (so a rule written with both families loads) and
//! kept as ranges, but the lab's decisions are IPv4 only.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An inclusive IPv4 range, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Range {
    pub start: u32,
    pub end: u32,
}

impl Ipv4Range {
    /// Every IPv4 address.
    pub const ALL: Ipv4Range = Ipv4Range {
        start: 0,
        end: u32::MAX,
    };

    pub fn new(a: Ipv4Addr, b: Ipv4Addr) -> Option<Ipv4Range> {
        let (s, e) = (u32::from(a), u32::from(b));
        (s <= e).then_some(Ipv4Range { start: s, end: e })
    }
    pub fn single(a: Ipv4Addr) -> Ipv4Range {
        let v = u32::from(a);
        Ipv4Range { start: v, end: v }
    }
    /// `a.b.c.d/prefix` (host bits are masked off, as netsh does).
    pub fn cidr(a: Ipv4Addr, prefix: u8) -> Option<Ipv4Range> {
        if prefix > 32 {
            return None;
        }
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let s = u32::from(a) & mask;
        Some(Ipv4Range {
            start: s,
            end: s | !mask,
        })
    }
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        (self.start..=self.end).contains(&u32::from(a))
    }
}

impl fmt::Display for Ipv4Range {
    /// netsh form: `a.b.c.d` for one address, `a-b` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", Ipv4Addr::from(self.start))
        } else {
            write!(
                f,
                "{}-{}",
                Ipv4Addr::from(self.start),
                Ipv4Addr::from(self.end)
            )
        }
    }
}

/// Sort and merge overlapping and adjacent ranges.
pub fn merge(ranges: &[Ipv4Range]) -> Vec<Ipv4Range> {
    let mut v = ranges.to_vec();
    v.sort();
    let mut out: Vec<Ipv4Range> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(1) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Every IPv4 address NOT in `exempt`, as few sorted ranges as possible.
/// Empty exempt set: `[0.0.0.0-255.255.255.255]`; exempting everything:
/// empty (a block rule with no addresses must then not be written).
pub fn complement(exempt: &[Ipv4Range]) -> Vec<Ipv4Range> {
    let mut out = Vec::new();
    let mut next: u64 = 0; // first address not yet covered
    for r in merge(exempt) {
        if u64::from(r.start) > next {
            out.push(Ipv4Range {
                start: next as u32,
                end: r.start - 1,
            });
        }
        next = u64::from(r.end) + 1;
    }
    if next <= u64::from(u32::MAX) {
        out.push(Ipv4Range {
            start: next as u32,
            end: u32::MAX,
        });
    }
    out
}

/// netsh `remoteip=` text for ranges (`any` is never produced here).
pub fn format_ranges(ranges: &[Ipv4Range]) -> String {
    ranges
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A parsed `remoteip=` / `localip=` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressList {
    Any,
    List {
        v4: Vec<Ipv4Range>,
        v6: Vec<(u128, u128)>,
    },
}

impl AddressList {
    pub fn v4(ranges: Vec<Ipv4Range>) -> AddressList {
        AddressList::List {
            v4: merge(&ranges),
            v6: Vec::new(),
        }
    }
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        match self {
            AddressList::Any => true,
            AddressList::List { v4, .. } => v4.iter().any(|r| r.contains(a)),
        }
    }
}

impl fmt::Display for AddressList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressList::Any => f.write_str("any"),
            AddressList::List { v4, v6 } => {
                let mut parts: Vec<String> = v4.iter().map(|r| r.to_string()).collect();
                parts.extend(v6.iter().map(|(s, e)| {
                    if s == e {
                        Ipv6Addr::from(*s).to_string()
                    } else {
                        format!("{}-{}", Ipv6Addr::from(*s), Ipv6Addr::from(*e))
                    }
                }));
                f.write_str(&parts.join(","))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {token:?} in {input:?}")]
pub struct ParseError {
    pub what: &'static str,
    pub token: String,
    pub input: String,
}

/// Parse a netsh address list: `any`, or a comma list of addresses,
/// ranges `a-b`, subnets `a/len` or `a/mask`, IPv4 or IPv6. Keywords
/// (`localsubnet`, `dns`, ...) are not modelled and are refused.
pub fn parse_address_list(s: &str) -> Result<AddressList, ParseError> {
    let err = |t: &str| ParseError {
        what: "address",
        token: t.to_string(),
        input: s.to_string(),
    };
    let t = s.trim();
    if t.eq_ignore_ascii_case("any") || t == "*" {
        return Ok(AddressList::Any);
    }
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for tok in t.split(',') {
        let tok = tok.trim();
        if tok.is_empty() {
            return Err(err(tok));
        }
        if let Some((a, b)) = tok.split_once('-') {
            let (a, b) = (a.trim(), b.trim());
            if let (Ok(a), Ok(b)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
                v4.push(Ipv4Range::new(a, b).ok_or_else(|| err(tok))?);
            } else if let (Ok(a), Ok(b)) = (a.parse::<Ipv6Addr>(), b.parse::<Ipv6Addr>()) {
                let (a, b) = (u128::from(a), u128::from(b));
                if a > b {
                    return Err(err(tok));
                }
                v6.push((a, b));
            } else {
                return Err(err(tok));
            }
        } else if let Some((a, p)) = tok.split_once('/') {
            if let Ok(a) = a.parse::<Ipv4Addr>() {
                let prefix = if p.contains('.') {
                    let m = u32::from(p.parse::<Ipv4Addr>().map_err(|_| err(tok))?);
                    if m.leading_ones() + m.trailing_zeros() != 32 {
                        return Err(err(tok));
                    }
                    m.leading_ones() as u8
                } else {
                    p.parse::<u8>().map_err(|_| err(tok))?
                };
                v4.push(Ipv4Range::cidr(a, prefix).ok_or_else(|| err(tok))?);
            } else if let Ok(a) = a.parse::<Ipv6Addr>() {
                let prefix: u32 = p.parse().map_err(|_| err(tok))?;
                if prefix > 128 {
                    return Err(err(tok));
                }
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix)
                };
                let s = u128::from(a) & mask;
                v6.push((s, s | !mask));
            } else {
                return Err(err(tok));
            }
        } else if let Ok(a) = tok.parse::<Ipv4Addr>() {
            v4.push(Ipv4Range::single(a));
        } else if let Ok(a) = tok.parse::<Ipv6Addr>() {
            v6.push((u128::from(a), u128::from(a)));
        } else {
            return Err(err(tok));
        }
    }
    Ok(AddressList::List { v4: merge(&v4), v6 })
}

/// A parsed `localport=` / `remoteport=` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortList {
    Any,
    /// Inclusive ranges.
    List(Vec<(u16, u16)>),
}

impl PortList {
    pub fn ports(ps: &[u16]) -> PortList {
        PortList::List(ps.iter().map(|&p| (p, p)).collect())
    }
    pub fn contains(&self, port: u16) -> bool {
        match self {
            PortList::Any => true,
            PortList::List(v) => v.iter().any(|&(a, b)| (a..=b).contains(&port)),
        }
    }
    pub fn is_any(&self) -> bool {
        matches!(self, PortList::Any)
    }
}

impl fmt::Display for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortList::Any => f.write_str("any"),
            PortList::List(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|&(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

/// Parse `any` or a comma list of ports and ranges (`137-139,445`).
pub fn parse_ports(s: &str) -> Result<PortList, ParseError> {
    let err = |t: &str| ParseError {
        what: "port",
        token: t.to_string(),
        input: s.to_string(),
    };
    let t = s.trim();
    if t.eq_ignore_ascii_case("any") {
        return Ok(PortList::Any);
    }
    let mut v = Vec::new();
    for tok in t.split(',') {
        let tok = tok.trim();
        let (a, b) = tok.split_once('-').unwrap_or((tok, tok));
        let a: u16 = a.trim().parse().map_err(|_| err(tok))?;
        let b: u16 = b.trim().parse().map_err(|_| err(tok))?;
        if a > b {
            return Err(err(tok));
        }
        v.push((a, b));
    }
    Ok(PortList::List(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    fn r(a: &str, b: &str) -> Ipv4Range {
        Ipv4Range::new(ip(a), ip(b)).unwrap()
    }

    #[test]
    fn parse_netsh_lists() {
        let l = parse_address_list("10.0.0.1-10.0.0.4, 10.0.0.9,192.168.0.0/16").unwrap();
        assert_eq!(
            l,
            AddressList::List {
                v4: vec![
                    r("10.0.0.1", "10.0.0.4"),
                    r("10.0.0.9", "10.0.0.9"),
                    r("192.168.0.0", "192.168.255.255")
                ],
                v6: vec![]
            }
        );
        assert!(
            l.contains(ip("10.0.0.3"))
                && !l.contains(ip("10.0.0.5"))
                && l.contains(ip("192.168.7.7"))
        );
        assert_eq!(
            l.to_string(),
            "10.0.0.1-10.0.0.4,10.0.0.9,192.168.0.0-192.168.255.255"
        );
        assert_eq!(parse_address_list(" ANY ").unwrap(), AddressList::Any);
        assert_eq!(
            parse_address_list("10.1.2.3/255.255.255.0").unwrap(),
            AddressList::v4(vec![r("10.1.2.0", "10.1.2.255")])
        );
        assert_eq!(
            parse_address_list("0.0.0.0/0").unwrap(),
            AddressList::v4(vec![Ipv4Range::ALL])
        );
        // adjacent entries merge
        assert_eq!(
            parse_address_list("10.0.0.1,10.0.0.2-10.0.0.3").unwrap(),
            AddressList::v4(vec![r("10.0.0.1", "10.0.0.3")])
        );
        let six = parse_address_list("10.0.0.1,::-fe80::,2001:db8::/32").unwrap();
        let AddressList::List { v6, .. } = &six else {
            panic!()
        };
        assert_eq!(v6.len(), 2);
        for bad in [
            "",
            "10.0.0.4-10.0.0.1",
            "10.0.0.1,",
            "localsubnet",
            "10.0.0.0/33",
            "10.0.0.0/255.0.255.0",
            "1.2.3",
            "10.0.0.1-::1",
        ] {
            assert!(parse_address_list(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_ports("137-139, 445").unwrap(),
            PortList::List(vec![(137, 139), (445, 445)])
        );
        assert!(
            parse_ports("445").unwrap().contains(445) && !parse_ports("445").unwrap().contains(444)
        );
        assert_eq!(parse_ports("Any").unwrap(), PortList::Any);
        for bad in ["", "70000", "9-1", "RPC"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn complement_edge_cases() {
        assert_eq!(complement(&[]), vec![Ipv4Range::ALL]);
        assert_eq!(complement(&[Ipv4Range::ALL]), vec![]);
        assert_eq!(
            complement(&[Ipv4Range::single(ip("0.0.0.0"))]),
            vec![r("0.0.0.1", "255.255.255.255")]
        );
        assert_eq!(
            complement(&[Ipv4Range::single(ip("255.255.255.255"))]),
            vec![r("0.0.0.0", "255.255.255.254")]
        );
        assert_eq!(
            complement(&[
                Ipv4Range::single(ip("0.0.0.0")),
                Ipv4Range::single(ip("255.255.255.255"))
            ]),
            vec![r("0.0.0.1", "255.255.255.254")]
        );
        assert_eq!(
            format_ranges(&complement(&[Ipv4Range::single(ip("10.0.0.5"))])),
            "0.0.0.0-10.0.0.4,10.0.0.6-255.255.255.255"
        );
        // adjacent exemptions leave no gap between them
        assert_eq!(
            complement(&[r("10.0.0.1", "10.0.0.4"), r("10.0.0.5", "10.0.0.9")]),
            vec![r("0.0.0.0", "10.0.0.0"), r("10.0.0.10", "255.255.255.255")]
        );
        // overlapping and unsorted
        assert_eq!(
            complement(&[
                r("10.0.0.8", "10.0.0.20"),
                r("10.0.0.1", "10.0.0.9"),
                Ipv4Range::single(ip("10.0.0.3"))
            ]),
            vec![r("0.0.0.0", "10.0.0.0"), r("10.0.0.21", "255.255.255.255")]
        );
        // gap of exactly one address
        assert_eq!(
            complement(&[r("0.0.0.0", "10.0.0.4"), r("10.0.0.6", "255.255.255.255")]),
            vec![Ipv4Range::single(ip("10.0.0.5"))]
        );
        // complement is an involution on merged sets, and disjoint from the input
        let ex = vec![
            r("1.0.0.0", "1.0.0.255"),
            Ipv4Range::single(ip("8.8.8.8")),
            r("192.168.0.0", "192.168.255.255"),
        ];
        let c = complement(&ex);
        assert_eq!(complement(&c), merge(&ex));
        for probe in [
            "1.0.0.7",
            "8.8.8.8",
            "192.168.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "8.8.8.9",
            "1.0.1.0",
        ] {
            let a = ip(probe);
            assert_ne!(
                ex.iter().any(|x| x.contains(a)),
                c.iter().any(|x| x.contains(a)),
                "{probe}"
            );
        }
    }
}
