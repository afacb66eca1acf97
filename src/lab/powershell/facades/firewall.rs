//! `New-Object -ComObject HNetCfg.FwPolicy2` and `HNetCfg.FWRule`, the
//! Windows Firewall's COM API (Vista and later), over the host's firewall
//! (`world::firewall`). As Windows does:
//! - `CurrentProfileTypes` is the bit of the active profile (1 domain,
//!   2 private, 4 public); `FirewallEnabled(type)` says whether that
//!   profile is on; `LocalPolicyModifyState` is 1 (`GP_OVERRIDE`) when
//!   Group Policy's AllowLocalPolicyMerge is off in the active profile,
//!   2 (`INBOUND_BLOCKED`) when inbound is blocked always, else 0.
//! - `Rules` enumerates copies of the rules; `Item(name)` gives the first
//!   rule of that name or throws (0x80070002); `Add(rule)` adds a copy of a
//!   new `HNetCfg.FWRule`; `Remove(name)` removes ONE rule of that name
//!   (names need not be unique), and nothing when there is none.
//! - A rule reads back its remote addresses as Windows writes them: `*`
//!   for any, a single IPv4 address as `a/255.255.255.255`, a single IPv6
//!   one as `a/128`, ranges as `a-b`; ports as `445,139` or `*`.
//! - Ports may be set only on a TCP or UDP rule (`E_INVALIDARG` otherwise);
//!   a remote address list Windows would refuse is refused the same way.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, Registry, is, void};
use crate::lab::powershell::value::Value;
use crate::lab::world::firewall::{Direction, FirewallRule, ProfileKind, ProfileSet, Protocol, RuleSource, Verdict};
use crate::lab::world::netaddr::{AddressList, PortList, parse_address_list, parse_ports};

const COM: &str = "System.Runtime.InteropServices.COMException";
/// `NET_FW_PROFILE2_ALL`.
const ALL_PROFILES: i64 = 0x7FFF_FFFF;

fn invalid_arg() -> NetError {
    NetError::exception("System.ArgumentException", "Value does not fall within the expected range.")
}

fn not_found() -> NetError {
    NetError::exception(COM, "The system cannot find the file specified. (Exception from HRESULT: 0x80070002)")
}

fn profile_bit(p: ProfileKind) -> i64 {
    match p {
        ProfileKind::Domain => 1,
        ProfileKind::Private => 2,
        ProfileKind::Public => 4,
    }
}

/// `INetFwPolicy2`.
#[derive(Debug)]
struct Policy;

impl NetObject for Policy {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{98325047-c671-4174-8d81-defcd3f03186}".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let fw = &cx.host.firewall;
        let active = fw.profile(fw.active);
        Some(Ok(if is(name, "CurrentProfileTypes") {
            Value::Int(profile_bit(fw.active) as i32)
        } else if is(name, "LocalPolicyModifyState") {
            Value::Int(if !active.allow_local_policy_merge {
                1
            } else if active.block_inbound_always {
                2
            } else {
                0
            })
        } else if is(name, "Rules") {
            Value::object(Rules)
        } else {
            return None;
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "FirewallEnabled") {
            return None;
        }
        let [t] = args else { return Some(Err(NetError::NoOverload { argc: args.len() })) };
        let bit = convert::to_i64(t, cx).unwrap_or(0);
        let fw = &cx.host.firewall;
        let profile = [ProfileKind::Domain, ProfileKind::Private, ProfileKind::Public]
            .into_iter()
            .find(|p| profile_bit(*p) == bit);
        Some(match profile {
            Some(p) => Ok(Value::Bool(fw.profile(p).enabled)),
            None => Err(invalid_arg()),
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `INetFwRules`.
#[derive(Debug)]
struct Rules;

impl NetObject for Rules {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{9c4c6277-5027-441e-afae-ca1f542da009}".into()
    }
    /// `foreach` and `@()` enumerate it, as they do a COM collection.
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Collections.IEnumerable"]
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Count").then(|| Ok(Value::Int(cx.host.firewall.rules().len() as i32)))
    }
    fn enumerate(&self, cx: &mut Ctx<'_>) -> Option<Vec<Value>> {
        Some(cx.host.firewall.rules().iter().map(|r| Value::object(Rule::copy_of(r))).collect())
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let [arg] = args else {
            return (is(name, "Item") || is(name, "Add") || is(name, "Remove")).then_some(Err(NetError::NoOverload { argc: args.len() }));
        };
        if is(name, "Add") {
            let Value::Object(o) = arg else { return Some(Err(invalid_arg())) };
            let Some(rule) = o.as_any().downcast_ref::<Rule>() else { return Some(Err(invalid_arg())) };
            let r = rule.rule.borrow().clone();
            return Some(cx.host.firewall.add_rule(r).map(|()| void()).map_err(|_| invalid_arg()));
        }
        let n = convert::to_string(arg, cx);
        if is(name, "Item") {
            let found = cx.host.firewall.rules_named(&n).next().cloned();
            return Some(found.map(|r| Value::object(Rule::copy_of(&r))).ok_or_else(not_found));
        }
        if is(name, "Remove") {
            cx.host.firewall.remove_first_named(&n);
            return Some(Ok(void()));
        }
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `INetFwRule`: a new rule (`HNetCfg.FWRule`, writable until added) or a
/// copy of one the firewall holds (read-only here: the runtime never
/// changes a rule in place).
#[derive(Debug)]
struct Rule {
    rule: RefCell<FirewallRule>,
    held: bool,
}

impl Rule {
    fn copy_of(r: &FirewallRule) -> Rule {
        Rule { rule: RefCell::new(r.clone()), held: true }
    }
}

/// A remote address list as Windows writes it back.
fn addresses_text(a: &AddressList) -> String {
    match a {
        AddressList::Any => "*".into(),
        AddressList::List { v4, v6 } => {
            let mut parts: Vec<String> = v4
                .iter()
                .map(|r| {
                    if r.start == r.end {
                        format!("{}/255.255.255.255", Ipv4Addr::from(r.start))
                    } else {
                        format!("{}-{}", Ipv4Addr::from(r.start), Ipv4Addr::from(r.end))
                    }
                })
                .collect();
            parts.extend(v6.iter().map(|&(s, e)| {
                if s == e {
                    format!("{}/128", Ipv6Addr::from(s))
                } else {
                    format!("{}-{}", Ipv6Addr::from(s), Ipv6Addr::from(e))
                }
            }));
            parts.join(",")
        }
    }
}

fn ports_text(p: &PortList) -> String {
    if p.is_any() { "*".into() } else { p.to_string() }
}

impl NetObject for Rule {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{af230d27-baba-4e42-aced-f524f22cfce2}".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let r = self.rule.borrow();
        Some(Ok(if is(name, "Name") {
            Value::string(r.name.clone())
        } else if is(name, "Description") {
            Value::string(r.description.clone())
        } else if is(name, "Grouping") {
            Value::string(r.group.clone())
        } else if is(name, "Direction") {
            Value::Int(if r.direction == Direction::In { 1 } else { 2 })
        } else if is(name, "Protocol") {
            Value::Int(match r.protocol {
                Protocol::Tcp => 6,
                Protocol::Udp => 17,
                Protocol::Any => 256,
            })
        } else if is(name, "LocalPorts") {
            Value::string(ports_text(&r.local_ports))
        } else if is(name, "RemotePorts") {
            Value::string(ports_text(&r.remote_ports))
        } else if is(name, "RemoteAddresses") {
            Value::string(addresses_text(&r.remote_addresses))
        } else if is(name, "Action") {
            Value::Int(if r.action == Verdict::Block { 0 } else { 1 })
        } else if is(name, "Enabled") {
            Value::Bool(r.enabled)
        } else if is(name, "Profiles") {
            let p = &r.profiles;
            if p.domain && p.private && p.public {
                Value::Int(ALL_PROFILES as i32)
            } else {
                Value::Int((i32::from(p.domain)) | (i32::from(p.private) << 1) | (i32::from(p.public) << 2))
            }
        } else {
            return None;
        }))
    }
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        if self.held {
            return Some(Err(NetError::exception(COM, "the lab's rule copies are read-only")));
        }
        let text = convert::to_string(&value, cx);
        let num = convert::to_i64(&value, cx).ok();
        let mut r = self.rule.borrow_mut();
        let ok: NetResult<()> = if is(name, "Name") {
            r.name = text;
            Ok(())
        } else if is(name, "Description") {
            r.description = text;
            Ok(())
        } else if is(name, "Grouping") {
            r.group = text;
            Ok(())
        } else if is(name, "Direction") {
            match num {
                Some(1) => Ok(r.direction = Direction::In),
                Some(2) => Ok(r.direction = Direction::Out),
                _ => Err(invalid_arg()),
            }
        } else if is(name, "Protocol") {
            match num {
                Some(6) => Ok(r.protocol = Protocol::Tcp),
                Some(17) => Ok(r.protocol = Protocol::Udp),
                Some(256) => Ok(r.protocol = Protocol::Any),
                _ => Err(invalid_arg()),
            }
        } else if is(name, "LocalPorts") || is(name, "RemotePorts") {
            if r.protocol == Protocol::Any {
                Err(invalid_arg())
            } else {
                let t = if text == "*" { "any" } else { text.as_str() };
                match parse_ports(t) {
                    Ok(p) if is(name, "LocalPorts") => Ok(r.local_ports = p),
                    Ok(p) => Ok(r.remote_ports = p),
                    Err(_) => Err(invalid_arg()),
                }
            }
        } else if is(name, "RemoteAddresses") {
            match parse_address_list(&text) {
                Ok(a) => Ok(r.remote_addresses = a),
                Err(_) => Err(invalid_arg()),
            }
        } else if is(name, "Action") {
            match num {
                Some(0) => Ok(r.action = Verdict::Block),
                Some(1) => Ok(r.action = Verdict::Allow),
                _ => Err(invalid_arg()),
            }
        } else if is(name, "Enabled") {
            r.enabled = convert::to_bool(&value);
            Ok(())
        } else if is(name, "Profiles") {
            match num {
                Some(n) if n == ALL_PROFILES || (1..=7).contains(&n) => {
                    r.profiles = ProfileSet { domain: n & 1 != 0, private: n & 2 != 0, public: n & 4 != 0 };
                    Ok(())
                }
                _ => Err(invalid_arg()),
            }
        } else {
            return None;
        };
        Some(ok)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn policy(_: &mut Ctx<'_>) -> NetResult<Value> {
    Ok(Value::object(Policy))
}

/// A new rule as `HNetCfg.FWRule` makes it: inbound, allow, any protocol,
/// every profile, enabled, no name.
fn new_rule(_: &mut Ctx<'_>) -> NetResult<Value> {
    let mut r = FirewallRule::new("", Direction::In, Verdict::Allow, Protocol::Any);
    r.source = RuleSource::Local;
    Ok(Value::object(Rule { rule: RefCell::new(r), held: false }))
}

pub fn register(r: &mut Registry) {
    r.add_com("HNetCfg.FwPolicy2", policy);
    r.add_com("HNetCfg.FWRule", new_rule);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, run_with};
    use crate::lab::world::firewall::{FirewallRule, Protocol, Verdict};
    use crate::lab::world::netaddr::PortList;

    /// A rule made through COM blocks what it says; it reads back as
    /// Windows writes it; Remove takes one rule of a name at a time. Counts
    /// are relative to the rules the host had (Windows' defaults and a
    /// customer rule), which stay.
    #[test]
    fn rules_are_added_read_back_and_removed_one_at_a_time() {
        let script = "$fw = New-Object -ComObject HNetCfg.FwPolicy2
$n0 = @($fw.Rules).Count
foreach ($i in 1, 2) {
  $r = New-Object -ComObject HNetCfg.FWRule
  $r.Name = 'block-smb'; $r.Direction = 1; $r.Protocol = 6; $r.LocalPorts = '445,139'
  $r.RemoteAddresses = '10.0.0.5,10.0.0.7-10.0.0.9,fd00::1'; $r.Action = 0; $r.Profiles = 2147483647; $r.Enabled = $true
  $fw.Rules.Add($r)
}
$x = $fw.Rules.Item('block-smb'); $x.RemoteAddresses; $x.LocalPorts; $x.Direction; $x.Action; $x.Profiles
$fw.CurrentProfileTypes; $fw.FirewallEnabled(1); $fw.LocalPolicyModifyState
@($fw.Rules).Count - $n0
$fw.Rules.Remove('block-smb'); @($fw.Rules).Count - $n0
$fw.Rules.Remove('block-smb'); @($fw.Rules).Count - $n0
$fw.Rules.Remove('block-smb'); @($fw.Rules).Count - $n0
try { $fw.Rules.Item('block-smb') } catch { 'not found' }
$y = New-Object -ComObject HNetCfg.FWRule
try { $y.LocalPorts = '445' } catch { 'ports need tcp or udp' }";
        let mut before = Vec::new();
        let (r, host) = run_with("2.0", |h| {
            let mut allow = FirewallRule::new("customer smb", crate::lab::world::firewall::Direction::In, Verdict::Allow, Protocol::Tcp);
            allow.local_ports = PortList::ports(&[445]);
            h.firewall.add_rule(allow).unwrap();
            before = h.firewall.rules().iter().map(|r| r.name.clone()).collect();
        }, script);
        prints(
            &r,
            &[
                "10.0.0.5/255.255.255.255,10.0.0.7-10.0.0.9,fd00::1/128",
                "445,139",
                "1",
                "0",
                "2147483647",
                "1",
                "True",
                "0",
                "2",
                "1",
                "0",
                "0",
                "not found",
                "ports need tcp or udp",
            ],
        );
        let after: Vec<String> = host.firewall.rules().iter().map(|r| r.name.clone()).collect();
        assert_eq!(after, before);
        assert!(after.iter().any(|n| n == "customer smb"));
    }
}
