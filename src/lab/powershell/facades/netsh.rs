//! `netsh.exe advfirewall` over the host's firewall (`world::firewall`):
//! `firewall add rule`, `firewall delete rule`, `firewall show rule`,
//! `set <profile> state on|off` and `show <profile> [state]`. The text it
//! prints is in [`netsh_text`](super::netsh_text).
//!
//! Windows' behaviour kept (Microsoft's "Netsh AdvFirewall Firewall
//! Commands", Windows 7 / Server 2008 R2, and the current
//! windows-commands `netsh advfirewall` page; texts as netsh prints them in
//! English):
//! - netsh writes everything, errors included, to stdout. Success is
//!   `Ok.` and exit 0.
//! - `add rule` needs `name=`, `dir=in|out` and `action=`; the name may not
//!   be `all`; names need not be unique (a second rule of the same name is
//!   added). Ports may be given only with `protocol=tcp|udp`.
//! - `delete rule name=X` deletes every rule of that name (narrowed by
//!   `dir=`, `profile=`, `protocol=`, `localport=`, `remoteport=`,
//!   `remoteip=`, each matching the rule's value as written) and prints
//!   `Deleted N rule(s).`; an argument only `add` takes (`action=`,
//!   `enable=`, ...) is refused with `'action' is not a valid argument for
//!   this command.` and exit 1.
//! - `delete` and `show rule` that match nothing print `No rules match the
//!   specified criteria.` and exit 1.
//! - Changing the firewall needs elevation: `The requested operation
//!   requires elevation (Run as administrator).`, exit 1. `show` does not.
//! - Keywords and argument names are case-insensitive.
//!
//! What the lab's firewall cannot hold (programs, services, local
//! addresses other than any, ICMP, `action=bypass`, edge traversal,
//! IPsec security, interface types, address keywords like `localsubnet`,
//! profile settings other than state) is valid on Windows but refused here
//! with a message saying the lab does not support it, never ignored.
//! The usage text netsh prints after a syntax error is not reproduced (the
//! lab prints its first line only); the message for an invalid value
//! ("A specified value is not valid.") and for ports without TCP/UDP are
//! the lab's wording of an error Windows also raises.

use super::netsh_text::{self, ProfileView};
use crate::lab::powershell::natives::lab_unsupported;
use crate::lab::powershell::object::{Ctx, NativeOutput, NativeProgram, Registry};
use crate::lab::world::firewall::{Direction, FirewallRule, ProfileKind, ProfileSet, Protocol, Verdict};
use crate::lab::world::netaddr::{AddressList, PortList, parse_address_list, parse_ports};

const PROGRAM: &str = "netsh.exe";

/// A netsh answer on stdout.
fn say(text: &str, exit_code: i32) -> NativeOutput {
    NativeOutput { stdout: text.to_string(), exit_code, ..Default::default() }
}

fn ok() -> NativeOutput {
    say("Ok.\r\n\r\n", 0)
}

fn elevation() -> NativeOutput {
    say("The requested operation requires elevation (Run as administrator).\r\n\r\n", 1)
}

fn no_match() -> NativeOutput {
    say("\r\nNo rules match the specified criteria.\r\n\r\n", 1)
}

fn invalid_value() -> NativeOutput {
    say("A specified value is not valid.\r\n\r\n", 1)
}

fn not_an_argument(key: &str) -> NativeOutput {
    say(&format!("'{key}' is not a valid argument for this command.\r\n\r\n"), 1)
}

fn usage(line: &str) -> NativeOutput {
    say(&format!("Usage: {line}\r\n\r\n"), 1)
}

fn not_found(args: &[String]) -> NativeOutput {
    say(&format!("The following command was not found: {}.\r\n", args.join(" ")), 1)
}

type Outcome<T> = Result<T, NativeOutput>;

/// `key=value` arguments, keys lower-cased, in order; a bare word is kept
/// with an empty key (only `show rule ... verbose` takes one).
fn pairs(args: &[String]) -> Vec<(String, String)> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
            None => (String::new(), a.clone()),
        })
        .collect()
}

/// Arguments of a rule command, checked against the names the command takes
/// on Windows (`known`) and the ones the lab models (`modelled`).
struct RuleArgs(Vec<(String, String)>);

impl RuleArgs {
    fn new(args: &[String], known: &[&str], modelled: &[&str], words: &[&str]) -> Outcome<RuleArgs> {
        let p = pairs(args);
        for (k, v) in &p {
            if k.is_empty() {
                if words.iter().any(|w| v.eq_ignore_ascii_case(w)) {
                    continue;
                }
                return Err(not_an_argument(v));
            }
            if !known.contains(&k.as_str()) {
                return Err(not_an_argument(k));
            }
            if !modelled.contains(&k.as_str()) {
                return Err(lab_unsupported(PROGRAM, &format!("{k}=")));
            }
        }
        Ok(RuleArgs(p))
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn word(&self, w: &str) -> bool {
        self.0.iter().any(|(k, v)| k.is_empty() && v.eq_ignore_ascii_case(w))
    }
}

fn direction(v: &str) -> Outcome<Direction> {
    match v.to_ascii_lowercase().as_str() {
        "in" => Ok(Direction::In),
        "out" => Ok(Direction::Out),
        _ => Err(invalid_value()),
    }
}

fn action(v: &str) -> Outcome<Verdict> {
    match v.to_ascii_lowercase().as_str() {
        "allow" => Ok(Verdict::Allow),
        "block" => Ok(Verdict::Block),
        "bypass" => Err(lab_unsupported(PROGRAM, "action=bypass")),
        _ => Err(invalid_value()),
    }
}

fn protocol(v: &str) -> Outcome<Protocol> {
    let l = v.to_ascii_lowercase();
    match l.as_str() {
        "tcp" | "6" => Ok(Protocol::Tcp),
        "udp" | "17" => Ok(Protocol::Udp),
        "any" => Ok(Protocol::Any),
        _ if l.starts_with("icmpv4") || l.starts_with("icmpv6") => Err(lab_unsupported(PROGRAM, &format!("protocol={v}"))),
        _ if l.parse::<u8>().is_ok() => Err(lab_unsupported(PROGRAM, &format!("protocol={v}"))),
        _ => Err(invalid_value()),
    }
}

fn profiles(v: &str) -> Outcome<ProfileSet> {
    let mut set = ProfileSet { domain: false, private: false, public: false };
    for p in v.split(',') {
        match p.trim().to_ascii_lowercase().as_str() {
            "any" => set = ProfileSet::ANY,
            "domain" => set.domain = true,
            "private" => set.private = true,
            "public" => set.public = true,
            _ => return Err(invalid_value()),
        }
    }
    Ok(set)
}

/// Port keywords Windows takes that the lab's rules cannot hold.
const PORT_KEYWORDS: &[&str] = &["rpc", "rpc-epmap", "iphttps", "teredo", "iphttpsin", "iphttpsout", "ply2disc", "mdns"];
/// Address keywords Windows takes that the lab's rules cannot hold.
const ADDRESS_KEYWORDS: &[&str] = &["localsubnet", "dns", "dhcp", "wins", "defaultgateway"];

fn ports(key: &str, v: &str) -> Outcome<PortList> {
    if v.split(',').any(|t| PORT_KEYWORDS.iter().any(|k| t.trim().eq_ignore_ascii_case(k))) {
        return Err(lab_unsupported(PROGRAM, &format!("{key}={v}")));
    }
    parse_ports(v).map_err(|_| invalid_value())
}

fn addresses(key: &str, v: &str) -> Outcome<AddressList> {
    if v.split(',').any(|t| ADDRESS_KEYWORDS.iter().any(|k| t.trim().eq_ignore_ascii_case(k))) {
        return Err(lab_unsupported(PROGRAM, &format!("{key}={v}")));
    }
    parse_address_list(v).map_err(|_| invalid_value())
}

fn yes_no(v: &str) -> Outcome<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(invalid_value()),
    }
}

/// Every argument `add rule` takes on Windows.
const ADD_KNOWN: &[&str] = &[
    "name", "dir", "action", "program", "service", "description", "enable", "profile", "localip", "remoteip", "localport", "remoteport",
    "protocol", "interfacetype", "rmtcomputergrp", "rmtusrgrp", "edge", "security",
];
const ADD_MODELLED: &[&str] = &["name", "dir", "action", "description", "enable", "profile", "localip", "remoteip", "localport", "remoteport", "protocol"];

fn add_rule(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let a = RuleArgs::new(args, ADD_KNOWN, ADD_MODELLED, &[])?;
    let (Some(name), Some(dir), Some(act)) = (a.get("name"), a.get("dir"), a.get("action")) else {
        return Err(usage("add rule name=<string> dir=in|out action=allow|block|bypass [...]"));
    };
    if name.is_empty() || name.eq_ignore_ascii_case("all") {
        return Err(invalid_value());
    }
    if a.get("localip").is_some_and(|v| !v.eq_ignore_ascii_case("any")) {
        return Err(lab_unsupported(PROGRAM, "localip= other than any"));
    }
    let mut rule = FirewallRule::new(name, direction(dir)?, action(act)?, a.get("protocol").map(protocol).transpose()?.unwrap_or(Protocol::Any));
    if let Some(v) = a.get("localport") {
        rule.local_ports = ports("localport", v)?;
    }
    if let Some(v) = a.get("remoteport") {
        rule.remote_ports = ports("remoteport", v)?;
    }
    if let Some(v) = a.get("remoteip") {
        rule.remote_addresses = addresses("remoteip", v)?;
    }
    if let Some(v) = a.get("profile") {
        rule.profiles = profiles(v)?;
    }
    if let Some(v) = a.get("enable") {
        rule.enabled = yes_no(v)?;
    }
    if let Some(v) = a.get("description") {
        rule.description = v.to_string();
    }
    if !cx.admin {
        return Err(elevation());
    }
    if rule.protocol == Protocol::Any && (!rule.local_ports.is_any() || !rule.remote_ports.is_any()) {
        return Err(say("The specified ports are valid only with protocol=tcp or protocol=udp.\r\n\r\n", 1));
    }
    cx.host.firewall.add_rule(rule).map_err(|_| invalid_value())?;
    Ok(ok())
}

/// Every argument `delete rule` takes on Windows.
const DELETE_KNOWN: &[&str] = &["name", "dir", "profile", "program", "service", "localip", "remoteip", "localport", "remoteport", "protocol"];
const DELETE_MODELLED: &[&str] = &["name", "dir", "profile", "localip", "remoteip", "localport", "remoteport", "protocol"];

/// What `delete rule` narrows by, parsed.
struct Narrowing {
    dir: Option<Direction>,
    profiles: Option<ProfileSet>,
    protocol: Option<Protocol>,
    local_ports: Option<PortList>,
    remote_ports: Option<PortList>,
    remote_addresses: Option<AddressList>,
}

impl Narrowing {
    fn of(a: &RuleArgs) -> Outcome<Narrowing> {
        if a.get("localip").is_some_and(|v| !v.eq_ignore_ascii_case("any")) {
            return Err(lab_unsupported(PROGRAM, "localip= other than any"));
        }
        Ok(Narrowing {
            dir: a.get("dir").map(direction).transpose()?,
            profiles: a.get("profile").map(profiles).transpose()?,
            protocol: a.get("protocol").map(protocol).transpose()?,
            local_ports: a.get("localport").map(|v| ports("localport", v)).transpose()?,
            remote_ports: a.get("remoteport").map(|v| ports("remoteport", v)).transpose()?,
            remote_addresses: a.get("remoteip").map(|v| addresses("remoteip", v)).transpose()?,
        })
    }
    fn matches(&self, r: &FirewallRule) -> bool {
        self.dir.is_none_or(|d| d == r.direction)
            && self.profiles.is_none_or(|p| p == r.profiles)
            && self.protocol.is_none_or(|p| p == r.protocol)
            && self.local_ports.as_ref().is_none_or(|p| *p == r.local_ports)
            && self.remote_ports.as_ref().is_none_or(|p| *p == r.remote_ports)
            && self.remote_addresses.as_ref().is_none_or(|p| *p == r.remote_addresses)
    }
}

fn named(r: &FirewallRule, name: &str) -> bool {
    name.eq_ignore_ascii_case("all") || r.name.eq_ignore_ascii_case(name)
}

fn delete_rule(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let a = RuleArgs::new(args, DELETE_KNOWN, DELETE_MODELLED, &[])?;
    let Some(name) = a.get("name") else {
        return Err(usage("delete rule name=<string> [dir=in|out] [profile=...] [...]"));
    };
    let n = Narrowing::of(&a)?;
    if !cx.admin {
        return Err(elevation());
    }
    let deleted = cx.host.firewall.delete_rules_where(|r| named(r, name) && n.matches(r));
    if deleted == 0 {
        return Err(no_match());
    }
    Ok(say(&format!("\r\nDeleted {deleted} rule(s).\r\nOk.\r\n\r\n"), 0))
}

const SHOW_KNOWN: &[&str] = &["name", "dir", "profile", "type", "status"];
const SHOW_MODELLED: &[&str] = &["name", "dir", "profile", "status"];

fn show_rule(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let a = RuleArgs::new(args, SHOW_KNOWN, SHOW_MODELLED, &["verbose"])?;
    let Some(name) = a.get("name") else {
        return Err(usage("show rule name=all|<string> [dir=in|out] [profile=...] [verbose]"));
    };
    let dir = a.get("dir").map(direction).transpose()?;
    let wanted = a.get("profile").map(profiles).transpose()?;
    let status = a.get("status").map(|v| match v.to_ascii_lowercase().as_str() {
        "enabled" => Ok(true),
        "disabled" => Ok(false),
        _ => Err(invalid_value()),
    });
    let status = status.transpose()?;
    let hit = |r: &&FirewallRule| {
        named(r, name)
            && dir.is_none_or(|d| d == r.direction)
            && status.is_none_or(|s| s == r.enabled)
            && wanted.is_none_or(|w| (w.domain && r.profiles.domain) || (w.private && r.profiles.private) || (w.public && r.profiles.public))
    };
    let rules: Vec<&FirewallRule> = cx.host.firewall.rules().iter().filter(hit).collect();
    if rules.is_empty() {
        return Err(no_match());
    }
    Ok(say(&netsh_text::rules(&rules, a.word("verbose")), 0))
}

/// `allprofiles`, `currentprofile`, ... to the profiles it names.
fn profile_word(cx: &Ctx<'_>, w: &str) -> Option<Vec<ProfileKind>> {
    Some(match w.to_ascii_lowercase().as_str() {
        "allprofiles" => vec![ProfileKind::Domain, ProfileKind::Private, ProfileKind::Public],
        "currentprofile" => vec![cx.host.firewall.active],
        "domainprofile" => vec![ProfileKind::Domain],
        "privateprofile" => vec![ProfileKind::Private],
        "publicprofile" => vec![ProfileKind::Public],
        _ => return None,
    })
}

/// `advfirewall set <profile> state on|off`.
fn set_profiles(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let Some(which) = args.get(2).and_then(|w| profile_word(cx, w)) else {
        return Err(match args.get(2).map(|w| w.to_ascii_lowercase()) {
            Some(w) if ["global", "file", "store"].contains(&w.as_str()) => lab_unsupported(PROGRAM, &format!("advfirewall set {w}")),
            _ => not_found(args),
        });
    };
    let (Some(setting), Some(value), None) = (args.get(3), args.get(4), args.get(5)) else {
        return Err(usage("set allprofiles|currentprofile|domainprofile|privateprofile|publicprofile state on|off|notconfigured"));
    };
    if !setting.eq_ignore_ascii_case("state") {
        return Err(lab_unsupported(PROGRAM, &format!("advfirewall set <profile> {setting}")));
    }
    let on = match value.to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        "notconfigured" => return Err(lab_unsupported(PROGRAM, "state notconfigured (a Group Policy store setting)")),
        _ => return Err(invalid_value()),
    };
    if !cx.admin {
        return Err(elevation());
    }
    for p in which {
        cx.host.firewall.profile_mut(p).enabled = on;
    }
    Ok(ok())
}

/// `advfirewall show <profile> [state]`.
fn show_profiles(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let Some(which) = args.get(2).and_then(|w| profile_word(cx, w)) else {
        return Err(match args.get(2).map(|w| w.to_ascii_lowercase()) {
            Some(w) if ["global", "store"].contains(&w.as_str()) => lab_unsupported(PROGRAM, &format!("advfirewall show {w}")),
            _ => not_found(args),
        });
    };
    let state_only = match args.get(3).map(|w| w.to_ascii_lowercase()) {
        None => false,
        Some(w) if w == "state" && args.len() == 4 => true,
        Some(w) if ["firewallpolicy", "settings", "logging"].contains(&w.as_str()) => {
            return Err(lab_unsupported(PROGRAM, &format!("advfirewall show <profile> {w}")));
        }
        Some(_) => return Err(not_found(args)),
    };
    let fw = &cx.host.firewall;
    let views: Vec<ProfileView> = which.into_iter().map(|k| ProfileView { kind: k, settings: *fw.profile(k) }).collect();
    Ok(say(&netsh_text::profiles(&views, state_only), 0))
}

/// The `advfirewall firewall` context.
fn firewall_context(cx: &mut Ctx<'_>, args: &[String]) -> Outcome<NativeOutput> {
    let verb = args.get(2).map(|v| v.to_ascii_lowercase()).unwrap_or_default();
    let object = args.get(3).map(|v| v.to_ascii_lowercase()).unwrap_or_default();
    let rest = args.get(4..).unwrap_or(&[]);
    match (verb.as_str(), object.as_str()) {
        ("add", "rule") => add_rule(cx, rest),
        ("delete", "rule") => delete_rule(cx, rest),
        ("show", "rule") => show_rule(cx, rest),
        ("set", "rule") | ("dump", _) | ("help" | "?", _) => Err(lab_unsupported(PROGRAM, &format!("advfirewall firewall {verb}"))),
        _ => Err(not_found(args)),
    }
}

struct Netsh;

impl NativeProgram for Netsh {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        let context = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
        if context != "advfirewall" {
            return lab_unsupported(PROGRAM, if context.is_empty() { "an interactive session" } else { context.as_str() });
        }
        let sub = args.get(1).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
        let r = match sub.as_str() {
            "firewall" => firewall_context(cx, args),
            "set" => set_profiles(cx, args),
            "show" => show_profiles(cx, args),
            "consec" | "dump" | "export" | "help" | "?" | "import" | "mainmode" | "monitor" | "reset" | "" => {
                Err(lab_unsupported(PROGRAM, &format!("advfirewall {sub}")))
            }
            _ => Err(not_found(args)),
        };
        r.unwrap_or_else(|e| e)
    }
}

pub fn register(r: &mut Registry) {
    r.add_native("netsh.exe", Netsh);
}

#[cfg(test)]
mod tests;
