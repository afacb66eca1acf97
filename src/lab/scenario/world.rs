//! From a group's world keys to each host's [`HostWorld`]: role, OS mix,
//! shared or unique local admin password, which hosts are unpatched,
//! infected (and with which family and switches), carry look-alike
//! software, are offline at start, and how their reboots behave.
//!
//! Shares (`{percent: 20}`, `{count: 3}`) pick that many hosts of the group
//! (percent rounded to the nearest host) by a shuffle seeded from the lab
//! seed, the group's position and the key, so a scenario always builds the
//! same network.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_saphyr::{Location, Spanned};

use super::build::{BuildError, at};
use super::presets;
use super::raw::Scalar;
use super::raw_world::{RawFamily, RawInfected, RawLab, RawProfile, RawRole, RawShare, RawWorld};
use crate::lab::malware::{Family, FamilyProfile};
use crate::lab::spec::{HostSpec, HostWorld, LabSettings};
use crate::lab::world::{BenignProduct, Role};

/// Look-alike product names as a scenario writes them.
pub const PRODUCT_NAMES: &[(&str, BenignProduct)] = &[
    ("onedrive", BenignProduct::OneDrive),
    ("teams", BenignProduct::Teams),
    ("slack", BenignProduct::Slack),
    ("zoom", BenignProduct::Zoom),
    ("spotify", BenignProduct::Spotify),
    ("google_update", BenignProduct::GoogleUpdate),
    ("edge_update", BenignProduct::EdgeUpdate),
    ("adobe_acrobat_update", BenignProduct::AdobeAcrobatUpdate),
    (
        "logitech_download_assistant",
        BenignProduct::LogitechDownloadAssistant,
    ),
    ("lenovo_spectrum", BenignProduct::LenovoSpectrum),
    (
        "windows_update_run_once",
        BenignProduct::WindowsUpdateRunOnce,
    ),
    (
        "firefox_default_browser_agent",
        BenignProduct::FirefoxDefaultBrowserAgent,
    ),
];

/// `lab:` with meaning.
pub fn lab_settings(raw: Option<&RawLab>) -> Result<LabSettings, BuildError> {
    let mut lab = LabSettings::default();
    let Some(raw) = raw else { return Ok(lab) };
    if let Some(s) = &raw.speed {
        let v = number(&s.value).filter(|v| *v >= 0.001 && *v <= 1_000_000.0);
        lab.speed = v.ok_or_else(|| {
            at(
                &s.referenced,
                "speed",
                format!(
                    "`{}` is not a speed between 0.001 and 1000000 (lab seconds per wall second)",
                    s.value
                ),
            )
        })?;
    }
    if let Some(seed) = raw.seed {
        lab.seed = seed;
    }
    if let Some(s) = &raw.step {
        let d = presets::parse_duration(&s.value.to_string())
            .map_err(|m| at(&s.referenced, "step", m))?;
        if d.as_millis() < 10 {
            return Err(at(
                &s.referenced,
                "step",
                "an outbreak step every less than 10ms would only burn CPU".into(),
            ));
        }
        lab.step_every = d;
    }
    Ok(lab)
}

/// The worlds of one group's hosts (`hosts`, whose OS the `os_mix` may
/// change), group number `group` (0-based) of the file.
pub fn group_worlds(
    w: &RawWorld,
    hosts: &mut [HostSpec],
    first_index: usize,
    group: usize,
    explicit_max_shells: bool,
    seed: u64,
) -> Result<Vec<HostWorld>, BuildError> {
    let n = hosts.len();
    let rng = |key: u64| {
        StdRng::seed_from_u64(
            seed ^ (group as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ key.wrapping_mul(0xC2B2_AE3D_27D4_EB4F),
        )
    };
    if let Some(mix) = &w.os_mix {
        os_mix(mix, hosts, explicit_max_shells, &mut rng(1))?;
    }
    let mut worlds: Vec<HostWorld> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| HostWorld::derived(h, first_index + i))
        .collect();
    if let Some(r) = &w.role {
        let role = role(r.value);
        for world in worlds.iter_mut() {
            world.role = role;
            // Nobody works at a server's console.
            if role.is_server() {
                world.users.iter_mut().for_each(|u| u.logged_on = false);
            } else if let Some(u) = world.users.get_mut(1) {
                u.logged_on = true;
            }
        }
    }
    if let Some(p) = &w.local_admin_password {
        if p.value.is_empty() {
            return Err(at(
                &p.referenced,
                "local_admin_password",
                "the password is empty".into(),
            ));
        }
        worlds
            .iter_mut()
            .for_each(|h| h.local_admin_password = p.value.clone());
    }
    if let Some(s) = &w.ms17_010_unpatched {
        for i in pick(n, s, "ms17_010_unpatched", &mut rng(2))? {
            worlds[i].ms17_010_patched = false;
        }
    }
    if let Some(s) = &w.domain_admin_logged_on {
        for i in pick(n, s, "domain_admin_logged_on", &mut rng(3))? {
            worlds[i].domain_admin_logged_on = true;
        }
    }
    if let Some(s) = &w.task_history {
        for i in pick(n, s, "task_history", &mut rng(6))? {
            worlds[i].task_history = true;
        }
    }
    if let Some(open) = w.smb_open {
        worlds.iter_mut().for_each(|h| h.smb_open = open);
    }
    if let Some(d) = &w.offline_until {
        let secs = secs(d, "offline_until")?;
        worlds
            .iter_mut()
            .for_each(|h| h.online_after_secs = Some(secs));
    }
    if let Some(d) = &w.reboot_down {
        let secs = secs(d, "reboot_down")?;
        worlds.iter_mut().for_each(|h| h.reboot_down_secs = secs);
    }
    if let Some(d) = &w.winrm_delay {
        let secs = secs(d, "winrm_delay")?;
        worlds.iter_mut().for_each(|h| h.winrm_delay_secs = secs);
    }
    if let Some(hangs) = w.reboot_hangs {
        worlds.iter_mut().for_each(|h| h.reboot_hangs = hangs);
    }
    if let Some(fails) = w.reboot_fails {
        worlds.iter_mut().for_each(|h| h.reboot_fails = fails);
    }
    if let Some(b) = &w.benign {
        benign(b, &mut worlds, &mut rng(4))?;
    }
    if let Some(inf) = &w.infected {
        infected(inf, &mut worlds, &mut rng(5))?;
    }
    Ok(worlds)
}

fn role(r: RawRole) -> Role {
    match r {
        RawRole::Workstation => Role::Workstation,
        RawRole::Server => Role::Server,
        RawRole::DomainController => Role::DomainController,
        RawRole::FileServer => Role::FileServer,
        RawRole::PrintServer => Role::PrintServer,
    }
}

fn number(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(f) => Some(*f),
        Scalar::Str(t) => t.trim().trim_end_matches('%').trim().parse().ok(),
    }
    .filter(|v: &f64| v.is_finite())
}

fn percent(s: &Scalar, loc: &Location, field: &str) -> Result<f64, BuildError> {
    number(s)
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| {
            at(
                loc,
                field,
                format!("`{s}` is not a percentage from 0 to 100"),
            )
        })
}

fn secs(d: &Spanned<Scalar>, field: &str) -> Result<u64, BuildError> {
    presets::parse_duration(&d.value.to_string())
        .map(|d| d.as_secs())
        .map_err(|m| at(&d.referenced, field, m))
}

/// How many of `n` hosts a percentage or count means.
fn share_count(
    n: usize,
    percent_of: Option<f64>,
    count: Option<u64>,
    loc: &Location,
    field: &str,
) -> Result<usize, BuildError> {
    match (percent_of, count) {
        (Some(p), None) => Ok(((n as f64) * p / 100.0).round() as usize),
        (None, Some(c)) if c as usize <= n => Ok(c as usize),
        (None, Some(c)) => Err(at(
            loc,
            field,
            format!("count {c} is more than the group's {n} hosts"),
        )),
        _ => Err(at(
            loc,
            field,
            "give `percent` or `count`, one of them".into(),
        )),
    }
}

/// How many of `n` hosts a `percent:`/`count:` pair of keys means.
fn counted(
    n: usize,
    pct: Option<&Spanned<Scalar>>,
    count: Option<&Spanned<u64>>,
    loc: &Location,
    field: &str,
) -> Result<usize, BuildError> {
    let pct = pct
        .map(|p| percent(&p.value, &p.referenced, "percent"))
        .transpose()?;
    share_count(n, pct, count.map(|c| c.value), loc, field)
}

/// `k` of `n` indices, in a seeded random order.
fn choose(n: usize, k: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    all.shuffle(rng);
    all.truncate(k);
    all
}

fn pick(
    n: usize,
    s: &Spanned<RawShare>,
    field: &str,
    rng: &mut StdRng,
) -> Result<Vec<usize>, BuildError> {
    let k = match &s.value {
        RawShare::All(true) => n,
        RawShare::All(false) => 0,
        RawShare::Percent(p) => share_count(
            n,
            Some(percent(p, &s.referenced, field)?),
            None,
            &s.referenced,
            field,
        )?,
        RawShare::Count(c) => share_count(n, None, Some(*c), &s.referenced, field)?,
    };
    Ok(choose(n, k, rng))
}

/// Give the group's hosts OSes by share: counts by largest remainder, hosts
/// by a seeded shuffle; shares short of 100% leave the rest on `os`.
fn os_mix(
    mix: &Spanned<std::collections::BTreeMap<String, Scalar>>,
    hosts: &mut [HostSpec],
    explicit_max_shells: bool,
    rng: &mut StdRng,
) -> Result<(), BuildError> {
    let loc = &mix.referenced;
    let mut parts = Vec::new();
    for (name, p) in &mix.value {
        let os = presets::preset(name).ok_or_else(|| {
            at(
                loc,
                "os_mix",
                format!(
                    "unknown OS preset `{name}`; expected one of: {}",
                    presets::PRESET_NAMES.join(", ")
                ),
            )
        })?;
        parts.push((os, percent(p, loc, "os_mix")?));
    }
    let total: f64 = parts.iter().map(|(_, p)| p).sum();
    if total > 100.0 + 1e-9 {
        return Err(at(
            loc,
            "os_mix",
            format!("the shares add up to {total}%, more than 100%"),
        ));
    }
    let n = hosts.len();
    let exact: Vec<f64> = parts.iter().map(|(_, p)| n as f64 * p / 100.0).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let target = (n as f64 * total / 100.0).round() as usize;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(target.saturating_sub(counts.iter().sum()))
    {
        counts[i] += 1;
    }
    let order = choose(n, n, rng);
    let mut next = order.into_iter();
    for ((os, _), count) in parts.iter().zip(counts) {
        for i in next.by_ref().take(count) {
            hosts[i].os = os.clone();
            if !explicit_max_shells {
                hosts[i].max_shells_per_user = presets::default_max_shells(os);
            }
        }
    }
    Ok(())
}

fn benign(
    b: &Spanned<super::raw_world::RawBenign>,
    worlds: &mut [HostWorld],
    rng: &mut StdRng,
) -> Result<(), BuildError> {
    let loc = &b.referenced;
    let b = &b.value;
    let mut products = Vec::new();
    for name in &b.products.value {
        let p = PRODUCT_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, p)| *p);
        let names: Vec<&str> = PRODUCT_NAMES.iter().map(|(n, _)| *n).collect();
        products.push(p.ok_or_else(|| {
            at(
                &b.products.referenced,
                "products",
                format!(
                    "unknown product `{name}`; expected one of: {}",
                    names.join(", ")
                ),
            )
        })?);
    }
    if products.is_empty() {
        return Err(at(
            &b.products.referenced,
            "products",
            "name at least one product".into(),
        ));
    }
    let k = counted(worlds.len(), b.percent.as_ref(), b.count.as_ref(), loc, "benign")?;
    let per_host = match &b.per_host {
        Some(p) if p.value == 0 || p.value as usize > products.len() => {
            return Err(at(
                &p.referenced,
                "per_host",
                format!(
                    "per_host must be from 1 to the {} products listed",
                    products.len()
                ),
            ));
        }
        Some(p) => p.value as usize,
        None => products.len(),
    };
    for i in choose(worlds.len(), k, rng) {
        let mut mine = products.clone();
        mine.shuffle(rng);
        mine.truncate(per_host);
        mine.sort();
        worlds[i].benign = mine;
    }
    Ok(())
}

fn infected(
    inf: &Spanned<RawInfected>,
    worlds: &mut [HostWorld],
    rng: &mut StdRng,
) -> Result<(), BuildError> {
    let loc = &inf.referenced;
    let inf = &inf.value;
    if inf.families.value.is_empty() {
        return Err(at(
            &inf.families.referenced,
            "families",
            "name at least one family: emotet, trickbot, qakbot, dridex, icedid".into(),
        ));
    }
    let k = counted(worlds.len(), inf.percent.as_ref(), inf.count.as_ref(), loc, "infected")?;
    let profiles: Vec<FamilyProfile> = inf
        .families
        .value
        .iter()
        .map(|f| profile(*f, inf.profile.as_ref()))
        .collect::<Result<_, _>>()?;
    for (turn, i) in choose(worlds.len(), k, rng).into_iter().enumerate() {
        worlds[i]
            .infections
            .push(profiles[turn % profiles.len()].clone());
    }
    Ok(())
}

/// A family's documented profile with the scenario's switches.
fn profile(f: RawFamily, sw: Option<&RawProfile>) -> Result<FamilyProfile, BuildError> {
    let family = match f {
        RawFamily::Emotet => Family::Emotet,
        RawFamily::Trickbot => Family::TrickBot,
        RawFamily::Qakbot => Family::Qakbot,
        RawFamily::Dridex => Family::Dridex,
        RawFamily::Icedid => Family::IcedId,
    };
    let mut p = FamilyProfile::documented(family);
    let Some(sw) = sw else { return Ok(p) };
    let set = |field: &mut bool, v: Option<bool>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut p.watchdog, sw.watchdog);
    set(&mut p.shutdown_persistence, sw.shutdown_persistence);
    set(&mut p.injection, sw.injection);
    set(&mut p.lock_files, sw.lock_files);
    set(&mut p.registry_payload, sw.registry_payload);
    set(&mut p.admin_service, sw.admin_service);
    set(&mut p.defender_exclusion, sw.defender_exclusion);
    set(&mut p.all_users_when_elevated, sw.all_users_when_elevated);
    set(&mut p.corrupt_on_disk, sw.corrupt_on_disk);
    set(&mut p.padding, sw.padding);
    set(&mut p.first_stage_residue, sw.first_stage_residue);
    set(&mut p.svchost_hollowing, sw.svchost_hollowing);
    set(&mut p.uac_bypass_key, sw.uac_bypass_key);
    set(&mut p.nworm, sw.nworm);
    set(&mut p.system_task, sw.system_task);
    set(&mut p.other_profiles, sw.other_profiles);
    set(&mut p.spread, sw.spread);
    if let Some(d) = &sw.spread_interval {
        p.spread_interval_secs = secs(d, "spread_interval")?.max(1);
    }
    if let Some(d) = &sw.task_interval {
        p.task_interval_secs = Some(secs(d, "task_interval")?.max(1));
    }
    Ok(p)
}
