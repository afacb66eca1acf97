//! From scenario text to a [`LabSpec`]: parse (unknown keys refused),
//! layer group settings over `defaults:` over built-in defaults, expand
//! name patterns, allocate addresses, and report every problem with its
//! line, column and key.

use super::presets;
use super::world;
use super::Scenario;
use super::raw::{RawAccount, RawFault, RawGroup, RawOs, RawScenario, RawSettings};
use super::{DEFAULT_BASE, LAB_DOMAIN, LAB_PASSWORD, LAB_USER, MAX_HOSTS, first_address, next_address};
use crate::lab::spec::{Account, HostFault, HostSpec, LabSpec, OsInfo, WorldSpec};
use serde_saphyr::{Error as YamlError, Location, Spanned};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

/// A problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub line: u64,
    pub column: u64,
    pub field: String,
    pub message: String,
}

pub(super) fn at(loc: &Location, field: &str, message: String) -> BuildError {
    BuildError { line: loc.line(), column: loc.column(), field: field.to_string(), message }
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 32,
            max_nodes: 1_000_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
        },
    }
}

/// Parse and build the WinRM-level hosts only.
pub fn build(text: &str) -> Result<LabSpec, BuildError> {
    build_scenario(text).map(|s| s.spec)
}

/// Parse and build the hosts and their worlds.
pub fn build_scenario(text: &str) -> Result<Scenario, BuildError> {
    let raw: RawScenario = serde_saphyr::from_str_with_options(text, options()).map_err(|e| yaml_error(&e, text))?;
    let domain = match &raw.domain {
        Some(d) if d.value.trim().is_empty() || d.value.contains(['\\', '/', '@', ' ']) => {
            return Err(at(&d.referenced, "domain", format!("`{}` is not a NetBIOS domain name", d.value)));
        }
        Some(d) => d.value.clone(),
        None => LAB_DOMAIN.to_string(),
    };
    let port = raw.port.as_ref().map(|p| p.value).unwrap_or(5985);
    if let Some(p) = raw.port.as_ref().filter(|p| p.value == 0) {
        return Err(at(&p.referenced, "port", "port 0 cannot be listened on".into()));
    }
    let base = match &raw.base_address {
        Some(b) => b
            .value
            .trim()
            .parse::<Ipv4Addr>()
            .map_err(|_| at(&b.referenced, "base_address", format!("`{}` is not an IPv4 address", b.value)))?,
        None => DEFAULT_BASE,
    };
    if raw.groups.value.is_empty() {
        return Err(at(&raw.groups.referenced, "groups", "no groups: a scenario needs at least one host".into()));
    }
    let defaults = raw.defaults.clone().unwrap_or_default();
    let lab = world::lab_settings(raw.lab.as_ref())?;
    let default_world = defaults.world();
    // (the world keys are layered on their own, below)
    let defaults = defaults.settings();
    let mut worlds = Vec::new();
    let mut hosts = Vec::new();
    let mut seen = HashSet::new();
    let mut next = first_address(base);
    for (group_index, group) in raw.groups.value.iter().enumerate() {
        let first = hosts.len();
        let settings = layer(&group.settings(), &defaults);
        let resolved = resolve(&settings, &domain)?;
        let (names, name_loc) = names(group, &raw.groups.referenced)?;
        if hosts.len() + names.len() > MAX_HOSTS {
            return Err(at(&name_loc, "name_pattern", format!("the scenario would have more than {MAX_HOSTS} hosts")));
        }
        for name in names {
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(at(&name_loc, "name", format!("host `{name}` is defined twice")));
            }
            let address = next.ok_or_else(|| {
                at(&name_loc, "base_address", format!("no addresses left after {} hosts from {base}", hosts.len()))
            })?;
            next = next_address(address);
            hosts.push(HostSpec {
                name,
                address,
                port,
                domain: domain.clone(),
                os: resolved.os.clone(),
                accounts: resolved.accounts.clone(),
                allow_unencrypted: resolved.allow_unencrypted,
                allow_basic: resolved.allow_basic,
                https: resolved.https,
                max_shells_per_user: resolved.max_shells,
                latency: resolved.latency,
                clock_skew_secs: resolved.skew_secs,
                fault: resolved.fault,
            });
        }
        let w = group.world().over(&default_world);
        let explicit_max_shells = settings.max_shells_per_user.is_some();
        worlds.extend(world::group_worlds(&w, &mut hosts[first..], first, group_index, explicit_max_shells, lab.seed)?);
    }
    Ok(Scenario { spec: LabSpec { hosts }, world: WorldSpec { lab, hosts: worlds } })
}

/// A group's settings over the defaults, key by key.
fn layer(group: &RawSettings, defaults: &RawSettings) -> RawSettings {
    RawSettings {
        os: group.os.clone().or_else(|| defaults.os.clone()),
        accounts: group.accounts.clone().or_else(|| defaults.accounts.clone()),
        latency: group.latency.clone().or_else(|| defaults.latency.clone()),
        clock_skew: group.clock_skew.clone().or_else(|| defaults.clock_skew.clone()),
        allow_unencrypted: group.allow_unencrypted.or(defaults.allow_unencrypted),
        allow_basic: group.allow_basic.or(defaults.allow_basic),
        https: group.https.or(defaults.https),
        max_shells_per_user: group.max_shells_per_user.or(defaults.max_shells_per_user),
        fault: group.fault.or(defaults.fault),
        // The world keys are layered on their own (`RawWorld::over`).
        ..RawSettings::default()
    }
}

/// Settings with meaning.
struct Resolved {
    os: OsInfo,
    accounts: Vec<Account>,
    allow_unencrypted: bool,
    allow_basic: bool,
    https: bool,
    max_shells: u32,
    latency: Duration,
    skew_secs: i64,
    fault: HostFault,
}

fn resolve(s: &RawSettings, domain: &str) -> Result<Resolved, BuildError> {
    let os = match &s.os {
        None => presets::preset("win10").unwrap_or_else(|| OsInfo { caption: String::new(), build: String::new(), ps_version: String::new() }),
        Some(Spanned { value: RawOs::Preset(name), referenced, .. }) => presets::preset(name).ok_or_else(|| {
            at(referenced, "os", format!("unknown OS preset `{name}`; expected one of: {}, or {{caption, build, ps_version}}", presets::PRESET_NAMES.join(", ")))
        })?,
        Some(Spanned { value: RawOs::Custom { caption, build, ps_version }, referenced, .. }) => {
            if caption.trim().is_empty() || build.trim().is_empty() || ps_version.trim().is_empty() {
                return Err(at(referenced, "os", "caption, build and ps_version must not be empty".into()));
            }
            OsInfo { caption: caption.clone(), build: build.clone(), ps_version: ps_version.clone() }
        }
    };
    let accounts = match &s.accounts {
        None => vec![Account { domain: domain.into(), user: LAB_USER.into(), password: LAB_PASSWORD.into(), admin: true }],
        Some(list) if list.value.is_empty() => {
            return Err(at(&list.referenced, "accounts", "a host needs at least one account".into()));
        }
        Some(list) => list.value.iter().map(|a| account(a, domain, &list.referenced)).collect::<Result<_, _>>()?,
    };
    let latency = match &s.latency {
        Some(l) => presets::parse_duration(&l.value.to_string()).map_err(|m| at(&l.referenced, "latency", m))?,
        None => Duration::ZERO,
    };
    let skew_secs = match &s.clock_skew {
        Some(c) => presets::parse_millis(&c.value.to_string(), true).map_err(|m| at(&c.referenced, "clock_skew", m))? / 1000,
        None => 0,
    };
    Ok(Resolved {
        max_shells: s.max_shells_per_user.unwrap_or_else(|| presets::default_max_shells(&os)),
        os,
        accounts,
        allow_unencrypted: s.allow_unencrypted.unwrap_or(false),
        allow_basic: s.allow_basic.unwrap_or(false),
        https: s.https.unwrap_or(false),
        latency,
        skew_secs,
        fault: match s.fault.unwrap_or(RawFault::None) {
            RawFault::None => HostFault::None,
            RawFault::Down => HostFault::Down,
            RawFault::WinrmDisabled => HostFault::WinrmDisabled,
            RawFault::HangReceive => HostFault::HangReceive,
        },
    })
}

fn account(a: &RawAccount, domain: &str, loc: &Location) -> Result<Account, BuildError> {
    if a.user.trim().is_empty() || a.user.contains(['\\', '@', '/']) {
        return Err(at(loc, "accounts", format!("`{}` is not a plain user name (give the domain in `domain:`)", a.user)));
    }
    if a.password.is_empty() {
        return Err(at(loc, "accounts", format!("account `{}` has an empty password", a.user)));
    }
    Ok(Account {
        domain: a.domain.clone().unwrap_or_else(|| domain.to_string()),
        user: a.user.clone(),
        password: a.password.clone(),
        admin: a.admin,
    })
}

/// The host names of a group and where they were written.
fn names(group: &RawGroup, groups_loc: &Location) -> Result<(Vec<String>, Location), BuildError> {
    let (list, loc, field) = match (&group.name, &group.name_pattern) {
        (Some(n), None) => (vec![n.value.trim().to_string()], n.referenced, "name"),
        (None, Some(p)) => (expand(&p.value).map_err(|m| at(&p.referenced, "name_pattern", m))?, p.referenced, "name_pattern"),
        (Some(n), Some(_)) => return Err(at(&n.referenced, "name", "give `name` or `name_pattern`, not both".into())),
        (None, None) => return Err(at(groups_loc, "groups", "a group needs `name` or `name_pattern`".into())),
    };
    for name in &list {
        if let Some(problem) = name_problem(name) {
            return Err(at(&loc, field, format!("`{name}` {problem}")));
        }
    }
    Ok((list, loc))
}

/// Why a computer name is unusable, if it is.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.chars().count() > 15 {
        Some("is longer than the 15 characters of a NetBIOS computer name")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Some("may only hold letters, digits, `-` and `_`")
    } else if name.chars().all(|c| c.is_ascii_digit()) {
        Some("is all digits, which Windows refuses as a computer name")
    } else {
        None
    }
}

/// Expand one `[START:END]` range (zero padding kept from START).
pub fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let help = "write one `[START:END]` range, e.g. `WS-[001:250]`";
    let (Some(open), Some(close)) = (pattern.find('['), pattern.find(']')) else {
        return Err(format!("`{pattern}` has no `[START:END]` range; {help}, or use `name:` for one host"));
    };
    if close < open || pattern[close + 1..].contains(['[', ']']) || pattern[..open].contains(']') {
        return Err(format!("`{pattern}` is not a single range; {help}"));
    }
    let inner = &pattern[open + 1..close];
    let Some((a, b)) = inner.split_once(':') else { return Err(format!("`{pattern}`: {help}")) };
    let numeric = |s: &str| !s.is_empty() && s.len() <= 9 && s.chars().all(|c| c.is_ascii_digit());
    if !numeric(a) || !numeric(b) {
        return Err(format!("`{pattern}`: the range bounds must be numbers; {help}"));
    }
    let (start, end): (u64, u64) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
    if end < start {
        return Err(format!("`{pattern}`: the range ends before it starts"));
    }
    if end - start >= MAX_HOSTS as u64 {
        return Err(format!("`{pattern}` names more than {MAX_HOSTS} hosts"));
    }
    let width = a.len();
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    Ok((start..=end).map(|n| format!("{prefix}{n:0width$}{suffix}")).collect())
}

/// The key written at or just before a position, for parser errors that
/// name none.
fn key_at(text: &str, line: u64, column: u64) -> String {
    let Some(l) = text.lines().nth(line.saturating_sub(1) as usize) else { return String::new() };
    let upto: String = l.chars().take(column.saturating_sub(1) as usize).collect();
    let head = match upto.rfind(':') {
        Some(i) => &upto[..i],
        None => return String::new(),
    };
    let key: String = head.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    key.chars().rev().collect()
}

/// Translate a parser error.
fn yaml_error(err: &YamlError, text: &str) -> BuildError {
    let err = err.without_snippet();
    let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
    let field_here = || key_at(text, line, column);
    let (field, message) = match err {
        YamlError::SerdeUnknownField { field, expected, .. } => {
            (field.clone(), format!("unknown key; expected one of: {}", expected.join(", ")))
        }
        YamlError::SerdeMissingField { field, .. } => (field.to_string(), "missing key".to_string()),
        YamlError::SerdeUnknownVariant { variant, expected, .. } => {
            (field_here(), format!("unknown value `{variant}`; expected one of: {}", expected.join(", ")))
        }
        YamlError::SerdeInvalidType { unexpected, expected, .. } | YamlError::SerdeInvalidValue { unexpected, expected, .. } => {
            (field_here(), format!("found {unexpected}, expected {expected}"))
        }
        other => {
            let text = other.to_string();
            let suffix = format!(" at line {line}, column {column}");
            (field_here(), text.strip_suffix(&suffix).unwrap_or(&text).to_string())
        }
    };
    BuildError { line, column, field, message }
}
