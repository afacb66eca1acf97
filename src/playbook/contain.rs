//! `contain:`: the SMB block rules put on every in-scope host before the
//! purge, what keeps SMB (exempt addresses, groups and roles; the
//! operator's address always), hosts never contained, the dead-man task
//! that lifts the rules by itself, and whether the purge may start while
//! a host could not be contained.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::fields::{Fields, duration_text};
use super::located::LocatedError;
use super::raw::RawContain;
use super::roles::Role;
use crate::firewall::rules::{Direction, PortSpec, RulesError, WINRM_PORTS};
use crate::firewall::{AddrSet, Span};

/// The validated `contain:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainSettings {
    /// Ports blocked (default TCP 445, 139; UDP 137, 138). Never WinRM's.
    pub block: PortSpec,
    /// Default both.
    pub directions: Vec<Direction>,
    /// Addresses, ranges and CIDR blocks that keep SMB with every host.
    pub exempt_addresses: Vec<String>,
    /// Inventory groups whose hosts keep SMB with every host and get no
    /// rules themselves.
    pub exempt_groups: Vec<String>,
    /// Roles whose hosts are exempt like `exempt_groups` (default domain
    /// controllers, file and print servers).
    pub exempt_roles: Vec<Role>,
    /// Hosts (globs) and groups that never get rules (their addresses are
    /// still blocked by the others unless exempt).
    pub never_hosts: Vec<String>,
    pub never_groups: Vec<String>,
    /// When the dead-man task removes the rules if the operation stops
    /// extending it (default 4h).
    #[serde(with = "duration_text")]
    pub dead_man: Duration,
    /// How often a running operation pushes the deadline back (default 30m).
    #[serde(with = "duration_text")]
    pub extend_every: Duration,
    /// The purge starts even though some hosts could not be contained;
    /// they hold the release (default true).
    pub purge_if_uncontained: bool,
}

impl Default for ContainSettings {
    fn default() -> Self {
        ContainSettings {
            block: PortSpec::default(),
            directions: vec![Direction::In, Direction::Out],
            exempt_addresses: vec![],
            exempt_groups: vec![],
            exempt_roles: vec![Role::DomainController, Role::FileServer, Role::PrintServer],
            never_hosts: vec![],
            never_groups: vec![],
            dead_man: Duration::from_secs(4 * 3600),
            extend_every: Duration::from_secs(30 * 60),
            purge_if_uncontained: true,
        }
    }
}

impl ContainSettings {
    /// The exempt addresses as a set (checked when the playbook was read).
    pub fn exempt_set(&self) -> AddrSet {
        AddrSet::from_spans(self.exempt_addresses.iter().filter_map(|a| Span::parse(a).ok()))
    }
}

const DIRECTIONS: &[(&str, Direction)] = &[("in", Direction::In), ("out", Direction::Out)];

pub(super) fn check(raw: Option<RawContain>, f: Fields<'_>) -> Result<ContainSettings, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = ContainSettings::default();
    let block = match &raw.block {
        None => d.block,
        Some(b) => {
            let ports = |v: &Option<serde_saphyr::Spanned<Vec<serde_saphyr::Spanned<u32>>>>, field: &str, winrm: bool| {
                let mut out: Vec<u16> = Vec::new();
                for p in v.iter().flat_map(|l| &l.value) {
                    let allowed = if winrm {
                        "ports 1 to 65535, each once, never 5985 or 5986 (WinRM, which the operation runs over)"
                    } else {
                        "ports 1 to 65535, each once"
                    };
                    let n = u16::try_from(p.value).ok().filter(|n| *n != 0).ok_or_else(|| {
                        f.error(&p.referenced, field, format!("{} is not a port", p.value), allowed)
                    })?;
                    if winrm && WINRM_PORTS.contains(&n) {
                        return Err(f.error(&p.referenced, field, format!("{n} is WinRM, which the whole operation runs over: it is never blocked"), allowed));
                    }
                    if out.contains(&n) {
                        return Err(f.error(&p.referenced, field, format!("{n} is listed twice"), allowed));
                    }
                    out.push(n);
                }
                Ok(out)
            };
            let spec = PortSpec {
                tcp: ports(&b.value.tcp, "contain.block.tcp", true)?,
                udp: ports(&b.value.udp, "contain.block.udp", false)?,
            };
            if let Err(RulesError::NoPorts) = spec.check() {
                return Err(f.error(&b.referenced, "contain.block", "no port is blocked", "`tcp:` and `udp:` lists of ports; the default is tcp: [445, 139], udp: [137, 138]"));
            }
            spec
        }
    };
    let allowed = "[in, out] (default), [in] or [out]";
    let directions = match (&raw.directions, f.word_list(&raw.directions, "contain.directions", DIRECTIONS, allowed)?) {
        (Some(l), Some(v)) if v.is_empty() => {
            return Err(f.error(&l.referenced, "contain.directions", "no direction", allowed));
        }
        (_, Some(v)) => v,
        (_, None) => d.directions,
    };
    let exempt = raw.exempt.unwrap_or_default();
    let mut exempt_addresses = Vec::new();
    for a in exempt.addresses.iter().flat_map(|l| &l.value) {
        Span::parse(&a.value).map_err(|e| f.error(&a.referenced, "contain.exempt.addresses", e.message, e.help))?;
        exempt_addresses.push(a.value.trim().to_string());
    }
    let exempt_roles = f
        .word_list(&exempt.roles, "contain.exempt.roles", Role::WORDS, "each role once")?
        .unwrap_or(d.exempt_roles);
    let never = raw.never.unwrap_or_default();
    let dead_man = f.duration(
        &raw.dead_man,
        "contain.dead_man",
        d.dead_man,
        (Duration::from_secs(15 * 60), Duration::from_secs(7 * 24 * 3600)),
    )?;
    let extend_every = f.duration(
        &raw.extend_every,
        "contain.extend_every",
        d.extend_every,
        (Duration::from_secs(60), Duration::from_secs(24 * 3600)),
    )?;
    if extend_every * 2 > dead_man {
        let message = format!(
            "extending every {} leaves too little margin before a {} dead-man deadline",
            crate::inventory::format_duration(extend_every),
            crate::inventory::format_duration(dead_man)
        );
        let allowed = "at most half of `dead_man`, so one missed extension does not lift the rules";
        let Some(at) = raw.extend_every.as_ref().or(raw.dead_man.as_ref()) else {
            return Err(LocatedError::whole(f.file, message, allowed));
        };
        return Err(f.error(
            &at.referenced,
            "contain.extend_every",
            message,
            allowed,
        ));
    }
    Ok(ContainSettings {
        block,
        directions,
        exempt_addresses,
        exempt_groups: f.names(&exempt.groups, "contain.exempt.groups")?,
        exempt_roles,
        never_hosts: f.globs(&never.hosts, "contain.never.hosts", "host")?,
        never_groups: f.names(&never.groups, "contain.never.groups")?,
        dead_man,
        extend_every,
        purge_if_uncontained: raw.purge_if_uncontained.unwrap_or(d.purge_if_uncontained),
    })
}
