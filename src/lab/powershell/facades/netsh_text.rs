//! The English text `netsh advfirewall` prints for `firewall show rule`
//! and `show <profile>`: a value column at 38 characters, a line of 70
//! dashes under each heading, a blank line before each block and `Ok.`
//! after the last (Windows 7 through 11 print this layout; admins read it,
//! tools must not parse it, since it is translated on other languages).
//!
//! The lab's firewall keeps addresses as ranges: a single address reads
//! back as `a/32` as netsh shows it, any other range as `a-b` (netsh shows a
//! subnet given as `a/len` as such; the lab cannot tell the two apart).
//! Profile fields the lab does not model print Windows' defaults.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::lab::world::firewall::{Direction, FirewallRule, ProfileKind, ProfileSettings, Protocol, RuleSource, Verdict};
use crate::lab::world::netaddr::{AddressList, PortList};

const DASHES: &str = "----------------------------------------------------------------------";

fn field(out: &mut String, label: &str, value: &str) {
    let _ = write!(out, "{label:<38}{value}\r\n");
}

fn addresses(a: &AddressList) -> String {
    match a {
        AddressList::Any => "Any".into(),
        AddressList::List { v4, v6 } => {
            let mut parts: Vec<String> = v4
                .iter()
                .map(|r| if r.start == r.end { format!("{}/32", Ipv4Addr::from(r.start)) } else { r.to_string() })
                .collect();
            parts.extend(v6.iter().map(|&(s, e)| {
                if s == e { format!("{}/128", Ipv6Addr::from(s)) } else { format!("{}-{}", Ipv6Addr::from(s), Ipv6Addr::from(e)) }
            }));
            parts.join(",")
        }
    }
}

fn ports(p: &PortList) -> String {
    if p.is_any() { "Any".into() } else { p.to_string() }
}

fn profile_list(r: &FirewallRule) -> String {
    let p = &r.profiles;
    let names: Vec<&str> = [(p.domain, "Domain"), (p.private, "Private"), (p.public, "Public")].into_iter().filter(|(on, _)| *on).map(|(_, n)| n).collect();
    names.join(",")
}

/// `show rule` blocks for `rules`, then `Ok.`.
pub fn rules(rules: &[&FirewallRule], verbose: bool) -> String {
    let mut out = String::new();
    for r in rules {
        out.push_str("\r\n");
        field(&mut out, "Rule Name:", &r.name);
        out.push_str(DASHES);
        out.push_str("\r\n");
        if verbose {
            field(&mut out, "Description:", &r.description);
        }
        field(&mut out, "Enabled:", if r.enabled { "Yes" } else { "No" });
        field(&mut out, "Direction:", if r.direction == Direction::In { "In" } else { "Out" });
        field(&mut out, "Profiles:", &profile_list(r));
        field(&mut out, "Grouping:", &r.group);
        field(&mut out, "LocalIP:", "Any");
        field(&mut out, "RemoteIP:", &addresses(&r.remote_addresses));
        field(
            &mut out,
            "Protocol:",
            match r.protocol {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
                Protocol::Any => "Any",
            },
        );
        if r.protocol != Protocol::Any {
            field(&mut out, "LocalPort:", &ports(&r.local_ports));
            field(&mut out, "RemotePort:", &ports(&r.remote_ports));
        }
        field(&mut out, "Edge traversal:", "No");
        if verbose {
            field(&mut out, "InterfaceTypes:", "Any");
            field(&mut out, "Security:", "NotRequired");
            field(&mut out, "Rule source:", if r.source == RuleSource::GroupPolicy { "Group Policy" } else { "Local Setting" });
        }
        field(&mut out, "Action:", if r.action == Verdict::Block { "Block" } else { "Allow" });
    }
    out.push_str("\r\nOk.\r\n\r\n");
    out
}

/// One profile's settings, as `show <profile>` reads them.
pub struct ProfileView {
    pub kind: ProfileKind,
    pub settings: ProfileSettings,
}

fn verdict(v: Verdict) -> &'static str {
    if v == Verdict::Block { "Block" } else { "Allow" }
}

/// `show allprofiles` (and the others) blocks, then `Ok.`.
pub fn profiles(views: &[ProfileView], state_only: bool) -> String {
    let mut out = String::new();
    for v in views {
        let name = match v.kind {
            ProfileKind::Domain => "Domain",
            ProfileKind::Private => "Private",
            ProfileKind::Public => "Public",
        };
        let s = &v.settings;
        let _ = write!(out, "\r\n{name} Profile Settings: \r\n{DASHES}\r\n");
        field(&mut out, "State", if s.enabled { "ON" } else { "OFF" });
        if state_only {
            out.push_str("\r\n");
            continue;
        }
        let inbound = if s.block_inbound_always { "BlockInboundAlways".to_string() } else { format!("{}Inbound", verdict(s.default_inbound)) };
        field(&mut out, "Firewall Policy", &format!("{inbound},{}Outbound", verdict(s.default_outbound)));
        field(&mut out, "LocalFirewallRules", "N/A (GPO-store only)");
        field(&mut out, "LocalConSecRules", "N/A (GPO-store only)");
        field(&mut out, "InboundUserNotification", "Disable");
        field(&mut out, "RemoteManagement", "Disable");
        field(&mut out, "UnicastResponseToMulticast", "Enable");
        out.push_str("\r\nLogging:\r\n");
        field(&mut out, "LogAllowedConnections", "Disable");
        field(&mut out, "LogDroppedConnections", "Disable");
        field(&mut out, "FileName", r"%systemroot%\system32\LogFiles\Firewall\pfirewall.log");
        field(&mut out, "MaxFileSize", "4096");
        out.push_str("\r\n");
    }
    out.push_str("Ok.\r\n\r\n");
    out
}
