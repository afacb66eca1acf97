//! Hash propagation: a file (or a registry value's data) the per-host rules
//! are sure of on one host (a high finding, or a hash from `--hashes`)
//! makes every unit with the same SHA-256 on any host a finding of the same
//! family, whose reason names the host and rule it came from. Units are
//! never signed files or launchers ([`super::units`]), so a copied signed
//! Windows program never spreads a verdict to System32. A hash that two
//! families claim spreads neither. Pure.

use std::collections::HashMap;

use super::judge::{Lift, UnitRef};
use super::units::HostUnits;
use super::Source;
use crate::detect::{Evidence, Family, Grounds};

/// Where a hash's verdict comes from.
#[derive(Debug, Clone, Copy)]
struct Seed {
    family: Family,
    at: UnitRef,
    /// Another family claims the same hash: it spreads nothing.
    contested: bool,
}

/// Every unit that shares the hash of a high verdict and is not already
/// high itself, lifted to that verdict's family.
pub fn propagate(hosts: &[HostUnits]) -> Vec<Lift> {
    let mut seeds: HashMap<&str, Seed> = HashMap::new();
    for (h, host) in hosts.iter().enumerate() {
        for (u, unit) in host.units.iter().enumerate() {
            let (Some(sha), Some(v)) = (unit.sha256.as_deref(), unit.verdict.as_ref()) else { continue };
            if !v.is_high() {
                continue;
            }
            seeds
                .entry(sha)
                .and_modify(|s| s.contested |= s.family != v.family)
                .or_insert(Seed { family: v.family, at: UnitRef { host: h, unit: u }, contested: false });
        }
    }
    let mut lifts = Vec::new();
    for (h, host) in hosts.iter().enumerate() {
        for (u, unit) in host.units.iter().enumerate() {
            let Some(sha) = unit.sha256.as_deref() else { continue };
            let Some(seed) = seeds.get(sha).filter(|s| !s.contested) else { continue };
            if unit.verdict.as_ref().is_some_and(|v| v.is_high()) {
                continue;
            }
            if unit.verdict.as_ref().is_some_and(|v| v.family != seed.family && v.family != Family::UnknownLoaderLike) {
                // A rule named another family: not this hash's to settle.
                continue;
            }
            let from_host = &hosts[seed.at.host];
            let from = &from_host.units[seed.at.unit];
            let verdict = from.verdict.as_ref().expect("a seed has a verdict");
            let held = match &unit.payload {
                Some(p) => format!("{} has", p.path),
                None => "its data has".to_string(),
            };
            let origin = match &from.payload {
                Some(p) => format!("the {} payload {}", seed.family.name(), p.path),
                None => format!("the {} data of {}", seed.family.name(), from.what),
            };
            lifts.push(Lift {
                at: UnitRef { host: h, unit: u },
                family: seed.family,
                // The same bytes as a confirmed payload: an exact known-bad
                // hash (units are never signed files).
                grounds: Grounds::of(&[Evidence::KnownBadHash, Evidence::RelatedToConfirmed]),
                source: Source::HashPropagation,
                reasons: vec![format!(
                    "{held} the SHA-256 {}... of {origin} on {} ({}, {}{})",
                    &sha[..sha.len().min(16)],
                    from_host.host,
                    verdict.rule,
                    crate::report::scan_view::confidence_word(verdict.confidence),
                    if verdict.certain { ", hash list" } else { "" }
                )],
                from: seed.at,
            });
        }
    }
    lifts
}
