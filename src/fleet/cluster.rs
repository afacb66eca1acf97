//! Cluster lift: autostarts across hosts that share a shape with one the
//! fleet is sure of (a high rule finding, or one hash propagation made
//! high) are lifted to its family, at the confidence the shared evidence
//! supports, with the reason ("same shape as the Qakbot scheduled task
//! \X on WS-041: ...").
//!
//! The shape has four features ([`super::units::Shape`]): the payload's
//! path shape, the mechanism's name shape, the launcher and entry point,
//! and the exact size of the unsigned payload. The path shape must agree
//! (a cluster explains a payload where its members keep theirs), and one
//! more feature at least: two agreeing features lift at medium (listed in
//! the plan, not acted on unless asked), three or four at high - but only
//! when the payload's exact size is one of them: path, name and launcher
//! are shapes, and shapes alone are at most medium (`detect::evidence`). A
//! cluster lifts only what it explains: an autostart that two families' shapes fit
//! equally is left alone, as is one a rule gave another family, and
//! signed, allow-listed and installed-product items are never units at
//! all. A lifted item does not lift others in turn. Pure.

use std::collections::{HashMap, HashSet};

use super::judge::{Lift, UnitRef};
use super::units::{HostUnits, Shape};
use super::Source;
use crate::detect::{Evidence, Family, Grounds};

/// Features (of four) that must agree for a medium lift.
const MEDIUM_AT: usize = 2;
/// Features (of four) that must agree for a high lift.
const HIGH_AT: usize = 3;

/// A shape the fleet is sure of, and one place it was seen.
struct Known<'a> {
    family: Family,
    shape: &'a Shape,
    at: UnitRef,
}

/// The features of `shape` that agree with `known` (location first), each
/// with the line of evidence it is: the path, name and launcher are
/// shapes; the exact size of an unsigned payload is a relation to the
/// confirmed one (a rebuilt copy of it), the one strong line a cluster
/// has - so a lift is high only when the size agrees too.
fn agreeing(shape: &Shape, known: &Shape) -> Vec<(String, Evidence)> {
    let mut out = Vec::new();
    if shape.location == known.location {
        out.push((format!("payload path {}", shape.location), Evidence::FolderShape));
    }
    if shape.mechanism == known.mechanism {
        out.push((shape.mechanism.clone(), Evidence::NameShape));
    }
    if shape.launch == known.launch {
        out.push((format!("started by {}", shape.launch), Evidence::LaunchShape));
    }
    if let (Some(a), Some(b)) = (shape.size, known.size)
        && a == b
    {
        out.push((format!("unsigned, {a} bytes"), Evidence::RelatedToConfirmed));
    }
    out
}

/// Lift the autostarts that share a shape with a high one. `propagated`
/// are the lifts hash propagation made: they count as high here, and are
/// not lifted again.
pub fn lift(hosts: &[HostUnits], propagated: &[Lift]) -> Vec<Lift> {
    let by_hash: HashMap<UnitRef, Family> = propagated.iter().map(|l| (l.at, l.family)).collect();
    // The known shapes, by payload path shape; one per distinct shape and family.
    let mut known: HashMap<&str, Vec<Known<'_>>> = HashMap::new();
    let mut distinct: HashSet<(&Shape, Family)> = HashSet::new();
    for (h, host) in hosts.iter().enumerate() {
        for (u, unit) in host.units.iter().enumerate() {
            let Some(shape) = &unit.shape else { continue };
            let at = UnitRef { host: h, unit: u };
            let family = match (&unit.verdict, by_hash.get(&at)) {
                (Some(v), _) if v.is_high() => v.family,
                (_, Some(f)) => *f,
                _ => continue,
            };
            if distinct.insert((shape, family)) {
                known.entry(shape.location.as_str()).or_default().push(Known { family, shape, at });
            }
        }
    }
    let mut lifts = Vec::new();
    for (h, host) in hosts.iter().enumerate() {
        for (u, unit) in host.units.iter().enumerate() {
            let Some(shape) = &unit.shape else { continue };
            let at = UnitRef { host: h, unit: u };
            if by_hash.contains_key(&at) || unit.verdict.as_ref().is_some_and(|v| v.is_high()) {
                continue;
            }
            let Some(candidates) = known.get(shape.location.as_str()) else { continue };
            // The best-fitting known shapes; ties across families settle nothing.
            let mut best: Vec<(&Known<'_>, Vec<(String, Evidence)>)> = Vec::new();
            for k in candidates {
                let features = agreeing(shape, k.shape);
                let top = best.first().map_or(0, |(_, f)| f.len());
                if features.len() > top {
                    best = vec![(k, features)];
                } else if features.len() == top && top > 0 {
                    best.push((k, features));
                }
            }
            let Some((k, features)) = best.first() else { continue };
            if features.len() < MEDIUM_AT || best.iter().any(|(o, _)| o.family != k.family) {
                continue;
            }
            if unit
                .verdict
                .as_ref()
                .is_some_and(|v| v.family != k.family && v.family != Family::UnknownLoaderLike)
            {
                continue;
            }
            let from_host = &hosts[k.at.host];
            let from = &from_host.units[k.at.unit];
            let evidence: Vec<Evidence> = features.iter().map(|(_, e)| *e).collect();
            let grounds = if features.len() >= HIGH_AT {
                Grounds::of(&evidence)
            } else {
                Grounds::of(&evidence).at_most(crate::detect::Confidence::Medium)
            };
            let features: Vec<String> = features.iter().map(|(w, _)| w.clone()).collect();
            let why = match (&from.verdict, by_hash.contains_key(&k.at)) {
                (Some(v), _) if v.is_high() => v.rule.clone(),
                _ => "hash propagation".into(),
            };
            lifts.push(Lift {
                at,
                family: k.family,
                grounds,
                source: Source::ClusterLift,
                reasons: vec![format!(
                    "same shape as the {} {} on {} ({why}): {} of 4 features agree: {}",
                    k.family.name(),
                    from.what,
                    from_host.host,
                    features.len(),
                    features.join("; ")
                )],
                from: k.at,
            });
        }
    }
    lifts
}
