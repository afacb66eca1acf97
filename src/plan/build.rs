//! The planner: a pure function from each host's latest snapshot and
//! findings, the inventory, the playbook and the operator's flags to each
//! host's steps: containment, the purge, the reboot in its wave, and what
//! runs after the reboot. No I/O.
//!
//! Purge rules, in order of precedence:
//! - a finding is acted on only if it is not allow-listed, its family is in
//!   scope, its host is not excluded, and it is certain (a hash matched) or
//!   at least as confident as `activate` (high by default; low never);
//! - a step is vetoed (listed inactive) if any finding behind it is
//!   allow-listed, if it would delete an excluded path or remove a
//!   mechanism that starts one, if it would kill a critical process or
//!   delete a Windows launcher ([`super::guard`]), or if the playbook turns
//!   that kind of step off;
//! - a file in use by a process the plan ends is deleted with a fallback to
//!   the boot-time queue; a file in use by a process that stays is queued
//!   for deletion at boot;
//! - a Qakbot folder (it writes its DLL there at shutdown) is denied
//!   writes before the reboot; a loader's folder is removed after the
//!   reboot when it held nothing but files the plan deletes
//!   ([`super::folders`]).
//!
//! Then containment ([`super::contain`]) adds a `contain` step to every
//! contained host, and every host the purge changes gets a `reboot` step in
//! its wave ([`super::waves`]) unless the playbook never reboots it.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::contain::{self, ContainDecision, FleetHost};
use super::derive::{self, Derived};
use super::folders;
use super::guard;
use super::model::*;
use super::roles::{self, RoleFacts};
use super::step::{Phase, Step};
use super::waves::{self, Candidate};
use crate::detect::{ArtifactRef, Confidence, Family};
use crate::firewall::EngagementId;
use crate::journal::{LatestScan, SnapshotId, StoredFinding};
use crate::playbook::{Playbook, Sections, confidence_name, glob_of};
use crate::runtime::ops::Op;
use crate::runtime::snapshot::Snapshot;

/// What the operator said on the command line, over the playbook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--activate medium|high`.
    pub activate: Option<Confidence>,
}

/// One host to plan for.
#[derive(Debug, Clone, Copy)]
pub struct HostInput<'a> {
    pub host: &'a str,
    pub snapshot_id: SnapshotId,
    pub snapshot: &'a Snapshot,
    pub findings: &'a [StoredFinding],
}

impl<'a> From<&'a LatestScan> for HostInput<'a> {
    fn from(s: &'a LatestScan) -> Self {
        HostInput {
            host: &s.host,
            snapshot_id: s.snapshot_id,
            snapshot: &s.snapshot,
            findings: &s.findings,
        }
    }
}

/// What a plan needs besides the scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// In every rule and task name containment makes.
    pub engagement: EngagementId,
    /// Every inventory host, not only those planned (an exempt host keeps
    /// SMB whether it is planned or not), with addresses resolved.
    pub fleet: Vec<FleetHost>,
}

impl Context {
    /// No inventory at hand (each planned host known by name only), and
    /// the engagement id `00000000`: for tests and tools.
    pub fn bare() -> Context {
        Context {
            engagement: EngagementId::parse("00000000").expect("a valid id"),
            fleet: vec![],
        }
    }
}

/// The effective settings.
pub fn settings(playbook: &Playbook, flags: &Flags) -> Settings {
    let mut effective = playbook.sections.clone();
    effective.purge.activate = flags.activate.unwrap_or(effective.purge.activate);
    Settings {
        playbook: playbook.source.clone(),
        playbook_sha256: playbook.sha256.clone(),
        effective,
    }
}

/// Plan every host with [`Context::bare`].
pub fn build(
    hosts: &[HostInput<'_>],
    unscanned: Vec<Unscanned>,
    playbook: &Playbook,
    flags: &Flags,
) -> Plan {
    build_with(&Context::bare(), hosts, unscanned, playbook, flags)
}

/// Plan every host.
pub fn build_with(
    ctx: &Context,
    hosts: &[HostInput<'_>],
    unscanned: Vec<Unscanned>,
    playbook: &Playbook,
    flags: &Flags,
) -> Plan {
    let parts = hosts.iter().map(|h| HostPart::of(h, playbook, flags)).collect();
    build_from(ctx, parts, unscanned, playbook, flags)
}

/// What the plan keeps of one scanned host once its snapshot is let go:
/// its purge steps and what containment reads of its scan. Planning makes one
/// per host as it reads the hosts' scans one at a time, so a plan of
/// 10,000 hosts never holds their snapshots together.
#[derive(Debug, Clone)]
pub struct HostPart {
    plan: HostPlan,
    scan: contain::ScanFacts,
}

impl HostPart {
    pub fn of(input: &HostInput<'_>, playbook: &Playbook, flags: &Flags) -> HostPart {
        let activate = flags.activate.unwrap_or(playbook.purge.activate);
        HostPart {
            plan: purge_plan(input, playbook, activate),
            scan: contain::ScanFacts::from_snapshot(input.snapshot),
        }
    }

    pub fn host(&self) -> &str {
        &self.plan.host
    }

    pub fn scan(&self) -> &contain::ScanFacts {
        &self.scan
    }
}

/// Plan every host from its [`HostPart`]: containment over the whole
/// fleet, the reboot waves over every planned host.
pub fn build_from(
    ctx: &Context,
    parts: Vec<HostPart>,
    unscanned: Vec<Unscanned>,
    playbook: &Playbook,
    flags: &Flags,
) -> Plan {
    let mut fleet = ctx.fleet.clone();
    let mut known: HashSet<String> = fleet.iter().map(|h| h.name.to_lowercase()).collect();
    for name in parts.iter().map(HostPart::host).chain(unscanned.iter().map(|u| u.host.as_str())) {
        if known.insert(name.to_lowercase()) {
            fleet.push(FleetHost::named(name));
        }
    }
    let by_name: HashMap<String, &FleetHost> = fleet.iter().map(|h| (h.name.to_lowercase(), h)).collect();
    let scans: HashMap<String, &contain::ScanFacts> = parts.iter().map(|p| (p.host().to_lowercase(), &p.scan)).collect();
    let decisions = contain::decide(&fleet, &scans, playbook, ctx.engagement.clone());

    let mut plans: Vec<HostPlan> = Vec::with_capacity(parts.len());
    let mut reboots: Vec<Candidate> = Vec::new();
    for mut hp in parts.into_iter().map(|p| p.plan) {
        let groups: &[String] = by_name.get(&hp.host.to_lowercase()).map_or(&[], |h| &h.groups);
        if let Some((decision, kind)) = decisions.of(&hp.host) {
            hp.contain = decision.clone();
            hp.kind = kind.clone();
        }
        if hp.contain == ContainDecision::Contain {
            hp.items.insert(0, unfounded(Step::Contain, "contain: the engagement's SMB block rules and dead-man task".into()));
        }
        let changed = hp
            .items
            .iter()
            .any(|i| i.active && matches!(i.step.phase(), Phase::Purge | Phase::AfterReboot));
        if changed {
            match never_rebooted(playbook, &hp.host, groups) {
                Some(why) => {
                    for i in hp.items.iter_mut().filter(|i| i.active && i.step.phase() == Phase::AfterReboot) {
                        deactivate(i, "it runs after the host's reboot, which this plan does not do".into());
                    }
                    hp.no_reboot = Some(why);
                }
                None => reboots.push(Candidate {
                    host: hp.host.clone(),
                    class: hp.kind.class,
                    exempt: matches!(hp.contain, ContainDecision::Exempt(_)),
                    window: playbook.reboot.window_for(groups).map(|w| w.at.clone()),
                }),
            }
        }
        plans.push(hp);
    }
    let waves = waves::assign(&reboots, &playbook.reboot);
    let index: HashMap<String, usize> = plans
        .iter()
        .enumerate()
        .map(|(i, h)| (h.host.to_lowercase(), i))
        .collect();
    for w in &waves {
        for h in &w.hosts {
            if let Some(&i) = index.get(&h.to_lowercase()) {
                let why = format!("reboot: wave {} ({:?})", w.number, w.kind);
                plans[i].items.push(unfounded(
                    Step::Reboot {
                        wave: w.number,
                        window: w.window.clone(),
                    },
                    why,
                ));
            }
        }
    }
    for hp in &mut plans {
        order_items(hp);
    }
    Plan {
        settings: settings(playbook, flags),
        containment: decisions.plan,
        waves,
        hosts: plans,
        unscanned,
        problems: decisions.problems,
    }
}

/// Why `host` is never rebooted by the playbook, if so.
fn never_rebooted(pb: &Playbook, host: &str, groups: &[String]) -> Option<String> {
    let r = &pb.reboot;
    let by = glob_of(&r.never_hosts, host)
        .map(|p| format!("reboot.never.hosts `{p}`"))
        .or_else(|| {
            groups
                .iter()
                .find(|g| r.never_groups.iter().any(|n| n.eq_ignore_ascii_case(g)))
                .map(|g| format!("reboot.never.groups `{g}`"))
        })?;
    Some(format!(
        "never rebooted by cauterize ({by}): reboot it by hand; files queued for deletion at boot stay until then"
    ))
}

/// A step no finding calls for (`contain`, `reboot`).
fn unfounded(step: Step, why: String) -> PlanItem {
    PlanItem {
        step,
        active: true,
        rules: vec![],
        group: None,
        note: None,
        why,
        in_use_by: None,
    }
}

fn deactivate(i: &mut PlanItem, why: String) {
    i.active = false;
    i.why = format!("{why} — {}", i.why);
    i.note = Some(why);
}

/// File order: `contain`; the active steps by finding group (groups with
/// the earliest steps first), each group in execution order; the
/// `reboot`; then the inactive steps, by group.
fn order_items(hp: &mut HostPlan) {
    let mut first: Vec<((Phase, u8), usize)> = vec![((Phase::AfterReboot, u8::MAX), usize::MAX); hp.groups.len()];
    for (n, i) in hp.items.iter().enumerate() {
        if let Some(g) = i.group {
            let k = (i.step.order(), n);
            if k < first[g] {
                first[g] = k;
            }
        }
    }
    let mut by_first: Vec<usize> = (0..hp.groups.len()).collect();
    by_first.sort_by_key(|g| first[*g]);
    let mut pos = vec![0; hp.groups.len()];
    for (p, g) in by_first.into_iter().enumerate() {
        pos[g] = p;
    }
    let mut keyed: Vec<((u8, usize, (Phase, u8)), usize, PlanItem)> = std::mem::take(&mut hp.items)
        .into_iter()
        .enumerate()
        .map(|(n, i)| {
            let section = match (&i.step, i.active, i.group) {
                (Step::Contain, true, _) => 0,
                (_, true, Some(_)) => 1,
                (_, true, None) => 2,
                (_, false, _) => 3,
            };
            ((section, i.group.map_or(0, |g| pos[g]), i.step.order()), n, i)
        })
        .collect();
    keyed.sort_by_key(|(k, n, _)| (*k, *n));
    hp.items = keyed.into_iter().map(|(_, _, i)| i).collect();
}

/// A candidate step while findings are gathered.
struct Cand {
    step: Step,
    rules: Vec<String>,
    heads: Vec<String>,
    /// Some finding behind it is to be acted on.
    wanted: bool,
    /// Why findings behind it are not acted on.
    passive: Vec<String>,
    /// Why it must not be done whatever the findings say.
    vetoes: Vec<String>,
    group: usize,
}

impl Cand {
    fn new(step: Step, group: usize) -> Cand {
        Cand {
            step,
            rules: vec![],
            heads: vec![],
            wanted: false,
            passive: vec![],
            vetoes: vec![],
            group,
        }
    }

    /// Record one finding behind it.
    fn add(&mut self, f: &StoredFinding, head: &str, status: &Result<(), String>, vetoes: Vec<String>) {
        push_new(&mut self.rules, f.rule_id.clone());
        push_new(&mut self.heads, head.to_string());
        match status {
            Ok(()) => self.wanted = true,
            Err(why) => push_new(&mut self.passive, why.clone()),
        }
        for v in vetoes {
            push_new(&mut self.vetoes, v);
        }
    }

    /// The item, with `extra` vetoes (a playbook switch off).
    fn into_item(self, extra: Option<String>) -> PlanItem {
        let mut vetoes = self.vetoes;
        vetoes.extend(extra);
        let active = self.wanted && vetoes.is_empty();
        let reasons = self.heads.join(" | ");
        let note = if active {
            None
        } else if !vetoes.is_empty() {
            Some(vetoes.join("; "))
        } else {
            Some(self.passive.join("; "))
        };
        PlanItem {
            why: match &note {
                Some(n) => format!("{n} — {reasons}"),
                None => reasons,
            },
            step: self.step,
            active,
            rules: self.rules,
            group: Some(self.group),
            note,
            in_use_by: None,
        }
    }
}

fn push_new(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The findings of one host the purge acts on (not allow-listed, of the
/// playbook's families, certain or confident enough, the host not
/// excluded), each as its headline: what a verifying scan must not find
/// for the host to be clean, whether or not a step could be planned for
/// it.
pub fn acted_on(input: &HostInput<'_>, playbook: &Playbook, flags: &Flags) -> Vec<String> {
    let activate = flags.activate.unwrap_or(playbook.purge.activate);
    let host_excluded = playbook.host_excluded(input.host);
    input
        .findings
        .iter()
        .filter(|f| finding_status(f, playbook, activate, host_excluded).is_ok())
        .map(headline)
        .collect()
}

/// The findings of a known loader family (not `unknown loader-like`) on
/// what starts code on one host - an autostart, a startup item, a task, a
/// service, a WMI subscription, a running process - that the purge does
/// not act on only because they are below the playbook's confidence
/// (`activate`), as headlines. A verifying scan that finds one has not
/// shown the host clean: the family's loader may run there, untouched
/// (Dridex's side-loading layout at medium); the engine holds such a host
/// for a person. A finding on a file nothing starts (a dropped first
/// stage, a maldoc), allow-listed findings, low ones (listed only),
/// families the playbook leaves out and excluded hosts are not counted:
/// the first starts nothing, the others are the operator's decisions.
pub fn loaders_not_acted_on(input: &HostInput<'_>, playbook: &Playbook, flags: &Flags) -> Vec<String> {
    let activate = flags.activate.unwrap_or(playbook.purge.activate);
    let host_excluded = playbook.host_excluded(input.host);
    input
        .findings
        .iter()
        .filter(|f| f.family != Family::UnknownLoaderLike)
        .filter(|f| {
            matches!(
                f.artifact,
                ArtifactRef::RegistryAutorun { .. }
                    | ArtifactRef::StartupItem { .. }
                    | ArtifactRef::Task { .. }
                    | ArtifactRef::Service { .. }
                    | ArtifactRef::Wmi { .. }
                    | ArtifactRef::Process { .. }
            )
        })
        .filter(|f| matches!(not_acted_on(f, playbook, activate, host_excluded.is_some()), Err(NotActedOn::BelowActivate)))
        .map(headline)
        .collect()
}

/// Why the purge does not act on a finding, in kinds `status` can
/// tally; [`NotActedOn::why`] is the plan's own line for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotActedOn {
    HostExcluded,
    Allowlisted,
    OtherFamily,
    LowConfidence,
    BelowActivate,
}

impl NotActedOn {
    /// A short name (status's tally).
    pub fn label(self) -> &'static str {
        match self {
            NotActedOn::HostExcluded => "host excluded by the playbook",
            NotActedOn::Allowlisted => "allow-listed",
            NotActedOn::OtherFamily => "not among the playbook's families",
            NotActedOn::LowConfidence => "low confidence",
            NotActedOn::BelowActivate => "below the playbook's confidence",
        }
    }

    /// The plan's line for a finding `f` on a host excluded by
    /// `host_excluded` (the glob), if so.
    fn why(self, f: &StoredFinding, host_excluded: Option<&str>) -> String {
        match self {
            NotActedOn::HostExcluded => format!("the host is excluded by the playbook (`{}`)", host_excluded.unwrap_or_default()),
            NotActedOn::Allowlisted => format!("allow-listed: {}", f.allowlisted.as_deref().unwrap_or_default()),
            NotActedOn::OtherFamily => format!("{} is not among the playbook's families", f.family.name()),
            NotActedOn::LowConfidence => "low confidence: listed only, never acted on".into(),
            NotActedOn::BelowActivate => {
                "medium confidence: not acted on unless asked (`cauterize plan --activate medium`, or `activate: medium` in the playbook)".into()
            }
        }
    }
}

/// Whether the purge under `sections` (its effective settings: the
/// playbook with the operator's flags, as a plan keeps them) acts on
/// finding `f` of `host`, or why not.
pub fn acts_on(f: &StoredFinding, sections: &Sections, host: &str) -> Result<(), NotActedOn> {
    not_acted_on(f, sections, sections.purge.activate, sections.host_excluded(host).is_some())
}

fn not_acted_on(f: &StoredFinding, pb: &Sections, activate: Confidence, host_excluded: bool) -> Result<(), NotActedOn> {
    if host_excluded {
        return Err(NotActedOn::HostExcluded);
    }
    if f.allowlisted.is_some() {
        return Err(NotActedOn::Allowlisted);
    }
    if !pb.purge.families.contains(&f.family) {
        return Err(NotActedOn::OtherFamily);
    }
    if f.certain {
        return Ok(());
    }
    match f.confidence {
        Confidence::Low => Err(NotActedOn::LowConfidence),
        c if c < activate => Err(NotActedOn::BelowActivate),
        _ => Ok(()),
    }
}

/// Why a finding is not acted on, if so (the plan's line).
fn finding_status(
    f: &StoredFinding,
    pb: &Playbook,
    activate: Confidence,
    host_excluded: Option<&str>,
) -> Result<(), String> {
    not_acted_on(f, pb, activate, host_excluded.is_some()).map_err(|k| k.why(f, host_excluded))
}

/// `RULE (Family, high, hash match): reason; reason`.
fn headline(f: &StoredFinding) -> String {
    let certain = if f.certain { ", hash match" } else { "" };
    format!(
        "{} ({}, {}{certain}): {}",
        f.rule_id,
        f.family.name(),
        confidence_name(f.confidence),
        f.reasons.join("; ")
    )
}

/// Longest fact shown in a group heading, in characters.
const FACT_CHARS: usize = 160;

/// The one fact that decided a finding, short: its first reason without
/// the lead-in that names the artifact (`Run value X runs rundll32.exe on
/// C:\...\y.dll (entry point Z): `, which the step's own line shows), up to
/// its first `; `, at most [`FACT_CHARS`] characters.
pub fn short_fact(reasons: &[String]) -> String {
    let Some(first) = reasons.first() else {
        return String::new();
    };
    let mut fact = first.as_str();
    if let Some(r) = fact.find(" runs ")
        && let Some(c) = fact[r..].find(": ")
        && !fact[r + c + 2..].trim().is_empty()
    {
        fact = &fact[r + c + 2..];
    }
    if let Some(i) = first_top_level(fact, "; ") {
        fact = &fact[..i];
    }
    let fact = fact.trim();
    if fact.chars().count() > FACT_CHARS {
        let cut: String = fact.chars().take(FACT_CHARS).collect();
        format!("{}...", cut.trim_end())
    } else {
        fact.to_string()
    }
}

/// Where `sep` first stands outside parentheses, if it does.
fn first_top_level(text: &str, sep: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth <= 0 && text[i..].starts_with(sep) => return Some(i),
            _ => {}
        }
    }
    None
}

/// A folder candidate while findings are gathered.
struct FolderCand {
    cand: Cand,
    /// A Qakbot folder: it writes its DLL there at shutdown.
    shutdown_writer: bool,
}

/// The purge steps of one host, grouped by finding (containment and the
/// reboot are added by [`build_with`]).
fn purge_plan(input: &HostInput<'_>, pb: &Playbook, activate: Confidence) -> HostPlan {
    let s = input.snapshot;
    let host_excluded = pb.host_excluded(input.host);
    let mut cands: Vec<Cand> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut folder_cands: Vec<FolderCand> = Vec::new();
    let mut folder_index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<FindingGroup> = Vec::new();
    let mut group_index: HashMap<(String, Family, Confidence, bool), usize> = HashMap::new();
    let mut not_planned: Vec<NotPlanned> = Vec::new();
    let mut seen_not_planned: BTreeSet<(String, String)> = BTreeSet::new();

    // Copies in C:\Windows a recorded lateral install ran, by path key:
    // the service its record names.
    let tied: HashMap<String, String> = input
        .findings
        .iter()
        .flat_map(|f| f.target_files.iter().filter_map(move |t| guard::lateral_service(f, t).map(|sv| (crate::detect::paths::key(t), sv))))
        .collect();

    for f in input.findings {
        let status = finding_status(f, pb, activate, host_excluded);
        let head = headline(f);
        // One group per rule (and confidence) on a host: its first
        // finding's fact stands for the others, whose artifacts the step
        // lines show.
        let gkey = (f.rule_id.clone(), f.family, f.confidence, f.certain);
        let group = *group_index.entry(gkey).or_insert_with(|| {
            groups.push(FindingGroup {
                rule_id: f.rule_id.clone(),
                family: f.family,
                confidence: f.confidence,
                certain: f.certain,
                fact: short_fact(&f.reasons),
                findings: 0,
            });
            groups.len() - 1
        });
        groups[group].findings += 1;
        // Paths this finding's mechanism starts, excluded by the playbook.
        let excluded_targets: Vec<String> = f
            .target_files
            .iter()
            .filter_map(|t| {
                pb.path_excluded(t)
                    .map(|p| format!("it starts {t}, excluded by the playbook (`{p}`)"))
            })
            .collect();

        let mut derived: Vec<(String, Derived, bool)> = Vec::new();
        derived.push((
            f.artifact.describe(),
            derive::artifact_op(s, &f.artifact),
            true,
        ));
        for t in &f.target_files {
            let own = matches!(&f.artifact, ArtifactRef::File { path } | ArtifactRef::StartupItem { path } | ArtifactRef::Folder { path } if crate::detect::paths::key(path) == crate::detect::paths::key(t));
            if !own {
                derived.push((format!("file {t}"), derive::file_op(s, t), false));
            }
        }
        let allowlisted = f.allowlisted.as_ref().map(|a| format!("allow-listed: {a}"));
        for (what, d, is_artifact) in derived {
            match d {
                Derived::None(why) => {
                    let why = format!("{why} [{}]", f.rule_id);
                    if seen_not_planned.insert((what.clone(), why.clone())) {
                        not_planned.push(NotPlanned { what, why });
                    }
                }
                Derived::Folder(path) => {
                    let mut vetoes: Vec<String> = pb
                        .path_excluded(&path)
                        .map(|p| format!("excluded by the playbook (`{p}`)"))
                        .into_iter()
                        .collect();
                    vetoes.extend(allowlisted.clone());
                    let at = *folder_index
                        .entry(crate::detect::paths::key(&path))
                        .or_insert_with(|| {
                            folder_cands.push(FolderCand {
                                cand: Cand::new(
                                    Step::Purge(Op::RemoveFolder {
                                        path: path.clone().into(),
                                        may_hold: vec![],
                                        after_reboot: false,
                                    }),
                                    group,
                                ),
                                shutdown_writer: false,
                            });
                            folder_cands.len() - 1
                        });
                    let fc = &mut folder_cands[at];
                    fc.cand.add(f, &head, &status, vetoes);
                    fc.shutdown_writer |= f.family == Family::Qakbot && matches!(f.artifact, ArtifactRef::Folder { .. });
                }
                Derived::Step(mut step) => {
                    // The copy a recorded lateral install ran: its step
                    // names the service, for the guard and the host,
                    // whichever finding on the file asks for it.
                    if let Step::Purge(Op::DeleteFile { path, lateral_service, .. }) = &mut step
                        && let Some(service) = tied.get(&crate::detect::paths::key(path))
                    {
                        *lateral_service = service.as_str().into();
                    }
                    let mut vetoes = step_vetoes(&step, pb, s);
                    if is_artifact && !matches!(f.artifact, ArtifactRef::File { .. }) {
                        vetoes.extend(excluded_targets.iter().cloned());
                    }
                    vetoes.extend(allowlisted.clone());
                    let key = serde_json::to_string(&step).unwrap_or_default();
                    let at = *index.entry(key).or_insert_with(|| {
                        cands.push(Cand::new(step, group));
                        cands.len() - 1
                    });
                    cands[at].add(f, &head, &status, vetoes);
                }
            }
        }
    }

    let mut items: Vec<PlanItem> = cands.into_iter().map(|c| c.into_item(None)).collect();
    settle_files(&mut items, s, pb);
    let deleted: HashMap<String, String> = items
        .iter()
        .filter(|i| i.active)
        .filter_map(|i| match &i.step {
            Step::Purge(Op::DeleteFile { path, expected_sha256, .. } | Op::QueueDeleteOnReboot { path, expected_sha256, .. }) => {
                Some((crate::detect::paths::key(path), expected_sha256.clone()))
            }
            _ => None,
        })
        .collect();
    let at_boot: HashSet<String> = items
        .iter()
        .filter(|i| i.active)
        .filter_map(|i| match &i.step {
            Step::Purge(Op::QueueDeleteOnReboot { path, .. }) => Some(crate::detect::paths::key(path)),
            _ => None,
        })
        .collect();
    for fc in folder_cands {
        let Step::Purge(Op::RemoveFolder { path, .. }) = &fc.cand.step else { continue };
        let path = path.as_str().to_string();
        if fc.shutdown_writer {
            let mut deny = Cand::new(Step::DenyWrites { folder: path.clone() }, fc.cand.group);
            deny.rules = fc.cand.rules.clone();
            deny.heads = fc.cand.heads.clone();
            deny.wanted = fc.cand.wanted;
            deny.passive = fc.cand.passive.clone();
            deny.vetoes = fc.cand.vetoes.clone();
            let off = (!pb.purge.deny_shutdown_writes)
                .then(|| "the playbook does not deny writes (`deny_shutdown_writes: false`)".to_string());
            items.push(deny.into_item(off));
        }
        // A folder denied writes waits for the reboot: the deny is what
        // stops the shutdown-writer until then.
        match folders::decide(s, &path, &deleted, &at_boot, fc.shutdown_writer) {
            Ok(op) => {
                let step = Step::Purge(op);
                let off = (!pb.purge.remove_emptied_folders)
                    .then(|| "the playbook does not remove emptied folders (`remove_emptied_folders: false`)".to_string());
                let mut c = fc.cand;
                c.step = step;
                items.push(c.into_item(off));
            }
            Err(why) => {
                let what = format!("folder {path}");
                let why = format!("{why} [{}]", fc.cand.rules.join(", "));
                if seen_not_planned.insert((what.clone(), why.clone())) {
                    not_planned.push(NotPlanned { what, why });
                }
            }
        }
    }

    HostPlan {
        host: input.host.to_string(),
        snapshot_id: input.snapshot_id,
        collected_at: s.collected_at.clone(),
        kind: roles::classify(&[], &pb.roles, Some(&RoleFacts::from_snapshot(s))),
        contain: ContainDecision::Contain,
        no_reboot: None,
        groups,
        items,
        not_planned,
        truncated: cuts(&s.truncated),
        review: Vec::new(),
    }
}

/// Cuts shown for one host in the plan: a bounded list, the rest counted.
pub const PLAN_MAX_CUTS: usize = 100;

fn cuts(t: &[crate::runtime::snapshot::Truncation]) -> Vec<String> {
    let mut out: Vec<String> = t
        .iter()
        .take(PLAN_MAX_CUTS)
        .map(|t| format!("{} (bound: {})", t.what, t.limit))
        .collect();
    if t.len() > PLAN_MAX_CUTS {
        out.push(format!(
            "{} more cuts, not listed here (the scan's snapshot in the journal lists them)",
            t.len() - PLAN_MAX_CUTS
        ));
    }
    out
}

/// Vetoes that depend on the step (and, for a kill, on what the scan saw
/// of the process).
fn step_vetoes(step: &Step, pb: &Playbook, s: &Snapshot) -> Vec<String> {
    let mut v = Vec::new();
    match step {
        Step::Purge(Op::KillProcess {
            pid,
            expected_image,
            ..
        }) => {
            if !pb.purge.kill_processes {
                v.push("the playbook does not kill processes (`kill_processes: false`)".into());
            }
            v.extend(guard::never_kill_seen(s, *pid, expected_image));
            if let Some(p) = pb.path_excluded(expected_image) {
                v.push(format!("its image is excluded by the playbook (`{p}`)"));
            }
        }
        Step::Purge(
            Op::DeleteFile { path, lateral_service, .. } | Op::QueueDeleteOnReboot { path, lateral_service, .. },
        ) => {
            v.extend(guard::never_delete_step(path, lateral_service, s));
            if let Some(p) = pb.path_excluded(path) {
                v.push(format!("excluded by the playbook (`{p}`)"));
            }
        }
        Step::RevertDefenderExclusion { .. } if !pb.purge.revert_defender_exclusions => {
            v.push("the playbook does not revert Defender exclusions (`revert_defender_exclusions: false`)".into());
        }
        _ => {}
    }
    v
}

/// Decide, for each file, between delete (with or without the boot-queue
/// fallback) and queue-for-boot, from which processes have it in use and
/// which of those the plan ends.
fn settle_files(items: &mut [PlanItem], s: &Snapshot, pb: &Playbook) {
    let queue = pb.purge.queue_locked_files;
    let killed: BTreeSet<u32> = items
        .iter()
        .filter(|i| i.active)
        .filter_map(|i| match &i.step {
            Step::Purge(Op::KillProcess { pid, .. }) => Some(*pid),
            _ => None,
        })
        .collect();
    for item in items.iter_mut() {
        let Step::Purge(Op::DeleteFile {
            path,
            expected_sha256,
            lateral_service,
            ..
        }) = &item.step
        else {
            continue;
        };
        let (path, sha, service) = (path.clone(), expected_sha256.clone(), lateral_service.clone());
        let users = derive::users_of(s, path.as_str());
        let delete = |path: crate::runtime::host_text::HostName, sha: String| {
            Step::Purge(Op::DeleteFile {
                path,
                expected_sha256: sha,
                queue_if_locked: queue,
                lateral_service: service.clone(),
            })
        };
        let Some(first) = users.first() else {
            item.step = delete(path, sha);
            continue;
        };
        item.in_use_by = Some((first.pid, first.image.clone()));
        let survivors = users.iter().any(|p| !killed.contains(&p.pid));
        let who = users
            .iter()
            .map(|p| format!("PID {} ({})", p.pid, crate::detect::paths::file_name(&p.image)))
            .collect::<Vec<_>>()
            .join(", ");
        let note = match (survivors, queue) {
            (false, true) => format!("in use by {who}, ended first; queued for deletion at boot if still locked"),
            (false, false) => format!("in use by {who}, ended first; fails if still locked (`queue_locked_files: false`)"),
            (true, true) => format!("in use by {who}, which this plan does not end: queued for deletion at boot"),
            (true, false) => format!("in use by {who}, which this plan does not end; fails while locked (`queue_locked_files: false`)"),
        };
        item.step = if survivors && queue {
            Step::Purge(Op::QueueDeleteOnReboot {
                path,
                expected_sha256: sha,
                lateral_service: service.clone(),
            })
        } else {
            delete(path, sha)
        };
        if item.active {
            item.why = format!("{note} — {}", item.why);
            item.note = Some(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::short_fact;

    #[test]
    fn the_fact_drops_the_lead_in_and_the_rest() {
        let r = |s: &str| vec![s.to_string()];
        assert_eq!(
            short_fact(&r(r"Run value msntcs runs rundll32.exe on C:\Users\dave\AppData\Roaming\cloud-webB92WX4\WPRyhK.tdg (entry point StartW): folder cloud-webB92WX4 is hyphenated words and six upper-case letters/digits, TrickBot's DLL-era folder (wise-toolsZ7RZBV)")),
            "folder cloud-webB92WX4 is hyphenated words and six upper-case letters/digits, TrickBot's DLL-era folder (wise-toolsZ7RZBV)"
        );
        assert_eq!(
            short_fact(&r(r"process 256 (rundll32.exe) runs rundll32.exe on C:\Windows\SysWOW64\Ttbjoah\r.xpq (entry point RunDLL): a file with a fake 3-letter extension in folder Ttbjoah inside the system folder; WOW64: both views")),
            "a file with a fake 3-letter extension in folder Ttbjoah inside the system folder"
        );
        // No lead-in: the reason itself, up to its first `; ` outside
        // parentheses.
        assert_eq!(short_fact(&r("it is empty; and more")), "it is empty");
        assert_eq!(
            short_fact(&r("the hollowed process it lives in (end the process; not the program); more")),
            "the hollowed process it lives in (end the process; not the program)"
        );
        // Long: cut.
        let long = short_fact(&r(&"word ".repeat(100)));
        assert!(long.ends_with("...") && long.chars().count() <= 163, "{long}");
        assert_eq!(short_fact(&[]), "");
        // A lead-in with nothing after it stays whole.
        assert_eq!(short_fact(&r("Run value x runs y.exe: ")), "Run value x runs y.exe:");
    }
}
