//! Stacking (Kansa's frequency analysis, done on the journal): every
//! autostart of every host, grouped by what it is across hosts (the entry
//! itself, its launcher, its folder, its hash or its signer) and counted,
//! so a person reads the rare ones first. Unsigned entries in user-writable
//! places come first, then unsigned ones, then signed ones in user-writable
//! places, then the rest; within each, those no finding explains first,
//! then the least frequent first.
//!
//! An entry is written without the user or machine it is on
//! (`%LOCALAPPDATA%\...`, `HKU\...`), so OneDrive's Run value of every user
//! of every host is one group. Groups keep their hosts as indices, so a
//! stack over 10,000 hosts stays small.
//!
//! Also the rare unexplained autostarts a person must look at: unsigned,
//! on at most `--rare-percent` of the scanned hosts, and explained by no
//! finding (rule or fleet) and no allow-list. They are listed in the plan
//! for review, never acted on. Prevalence alone is never malice, and
//! rarity alone is not either: that is why a person decides. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::detect::file_index::Files;
use super::shape;
use crate::detect::facts::{Facts, Launch, Source};
use crate::detect::paths::{self, Area};
use crate::detect::ArtifactRef;
use crate::journal::StoredFinding;
use crate::plan::ReviewItem;
use crate::runtime::snapshot::{AutorunLocation, Snapshot};

/// What entries are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// The autostart entry itself: where it is and what it runs.
    Autostart,
    /// The launcher and entry point (`rundll32.exe,startw`).
    Launcher,
    /// The payload's folder.
    Folder,
    /// The payload's SHA-256.
    Hash,
    /// The payload's signer (or `unsigned`).
    Signer,
}

impl By {
    /// Every way to group, as `--by` spells them.
    pub const NAMES: [&'static str; 5] = ["autostart", "launcher", "folder", "hash", "signer"];

    /// From its `--by` name.
    pub fn parse(name: &str) -> Option<By> {
        Some(match name {
            "autostart" => By::Autostart,
            "launcher" => By::Launcher,
            "folder" => By::Folder,
            "hash" => By::Hash,
            "signer" => By::Signer,
            _ => return None,
        })
    }
}

/// Groups listing more members than this keep only their count (a rare
/// group never has that many).
const MAX_MEMBERS: usize = 1_000;

/// Default share of scanned hosts at most on which an entry is rare.
pub const DEFAULT_RARE_PERCENT: u32 = 5;

/// One autostart entry of one host, in one grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it is grouped by (lower case, without the user or machine).
    pub key: String,
    /// Every file it runs has a valid signature.
    pub signed: bool,
    /// It runs a file from a user-writable place.
    pub user_writable: bool,
    /// It runs a file under Program Files.
    pub installed: bool,
    /// The families of the actionable findings on it (`Emotet (rule)`).
    pub explained: BTreeSet<String>,
    /// An allow-list spared it.
    pub spared: bool,
    pub artifact: ArtifactRef,
    /// Words for a person (`Run value X runs C:\...`).
    pub what: String,
}

/// One host's entries in the grouping `by`.
pub fn entries(snap: &Snapshot, findings: &[StoredFinding], by: By) -> Vec<Entry> {
    let f = Facts::new(snap);
    let known = Files::of(snap);
    let mut out = Vec::new();
    for l in f.launches.iter().filter(|l| l.autostart) {
        let files: Vec<String> = l
            .parsed
            .payloads
            .iter()
            .filter(|p| !p.path.to_ascii_lowercase().starts_with("http"))
            .map(|p| f.long_path(&p.path))
            .collect();
        // One entry of `files` under `key`.
        let entry = |key: String, files: &[String]| {
            let (signed, user_writable, installed) = traits(&f, &known, files);
            let (explained, spared) = judged(findings, &l.artifact, files);
            Entry {
                key,
                signed,
                user_writable,
                installed,
                explained,
                spared,
                artifact: l.artifact.clone(),
                what: describe(l, files),
            }
        };
        if by == By::Autostart {
            out.push(entry(autostart_key(&f, l), &files));
            continue;
        }
        for (p, file) in l.parsed.payloads.iter().zip(&files) {
            let facts = known.get(file).filter(|x| x.exists);
            let key = match by {
                By::Launcher => match &p.export {
                    Some(e) => format!("{},{}", p.via.name(), e.to_lowercase()),
                    None => p.via.name().to_string(),
                },
                By::Folder => shape::portable(&f.place(paths::parent(file)), paths::parent(file)),
                By::Hash => match facts {
                    Some(x) if !x.sha256.is_empty() => x.sha256.to_ascii_lowercase(),
                    Some(_) => "(not hashed)".into(),
                    None => "(file not found)".into(),
                },
                _ => match facts {
                    Some(x) if x.signature.eq_ignore_ascii_case("valid") => x.signer.to_lowercase(),
                    Some(x) if x.signature.eq_ignore_ascii_case("unsigned") || x.signature.is_empty() => {
                        "unsigned".into()
                    }
                    Some(x) => format!("{} signature: {}", x.signature.to_lowercase(), x.signer.to_lowercase()),
                    None => "(file not found)".into(),
                },
            };
            out.push(entry(key, std::slice::from_ref(file)));
        }
    }
    out
}

/// (every file signed, any file user-writable, any under Program Files).
fn traits(f: &Facts, known: &Files, files: &[String]) -> (bool, bool, bool) {
    let signed = !files.is_empty() && files.iter().all(|p| known.signed(p));
    let places: Vec<_> = files.iter().map(|p| f.place(p)).collect();
    (
        signed,
        places.iter().any(|p| p.user_writable()),
        places.iter().any(|p| p.area == Area::ProgramFiles),
    )
}

/// The actionable findings' families on an artifact or its files (with
/// their source), and whether an allow-list spared it.
fn judged(findings: &[StoredFinding], artifact: &ArtifactRef, files: &[String]) -> (BTreeSet<String>, bool) {
    let keys: Vec<String> = files.iter().map(|p| paths::key(p)).collect();
    let mut explained = BTreeSet::new();
    let mut spared = false;
    for fd in findings {
        let on = fd.artifact == *artifact
            || fd.target_files.iter().any(|t| keys.contains(&paths::key(t)))
            || matches!(&fd.artifact, ArtifactRef::File { path } if keys.contains(&paths::key(path)));
        if !on {
            continue;
        }
        if fd.allowlisted.is_some() {
            spared = true;
        } else {
            explained.insert(format!("{} ({})", fd.family.name(), super::Source::of(&fd.rule_id).label()));
        }
    }
    (explained, spared)
}

/// `Run value X runs C:\...; ...`.
fn describe(l: &Launch, files: &[String]) -> String {
    if files.is_empty() {
        l.what()
    } else {
        format!("{} runs {}", l.what(), files.join(", "))
    }
}

/// The entry, written the same way on every host: kind, place and command,
/// each user's folders written as variables.
fn autostart_key(f: &Facts, l: &Launch) -> String {
    let portable = |text: &str| portable_text(f, text);
    match l.source {
        Source::Autorun(a) => match &a.location {
            AutorunLocation::RegistryValue { hive, key, value } => format!(
                "run {}\\{}\\{} = {}",
                shape::hive(hive).to_lowercase(),
                key.to_lowercase(),
                value.to_lowercase(),
                portable(&a.command)
            ),
            AutorunLocation::StartupFolder { path } => format!(
                "startup {} = {}",
                shape::portable(&f.place(path), path),
                portable(&a.command)
            ),
        },
        Source::Task(t) => {
            let actions: Vec<String> = t
                .actions
                .iter()
                .map(|a| portable(&format!("{} {}", a.path.trim(), a.arguments.trim())))
                .collect();
            format!("task {} = {}", t.path.to_lowercase(), actions.join(" ; "))
        }
        Source::Service(s) => {
            let mut k = format!("service {} = {}", s.name.to_lowercase(), portable(&s.image_path));
            if !s.service_dll.is_empty() {
                k.push_str(&format!(" (ServiceDll {})", portable(&s.service_dll)));
            }
            k
        }
        Source::Wmi(w) => format!(
            "wmi {} -> {} = {}",
            w.filter_name.to_lowercase(),
            w.consumer_name.to_lowercase(),
            portable(&w.action)
        ),
        Source::Process(p) => format!("process {}", portable(&p.image)),
    }
}

/// A command or path without the users it names: each snapshot user's
/// folders (and any `C:\Users\<name>`) written as variables, lower case,
/// blanks collapsed.
fn portable_text(f: &Facts, text: &str) -> String {
    let mut t = text.to_lowercase();
    for u in &f.snap.users {
        for (dir, var) in [
            (&u.temp, "%temp%"),
            (&u.local_appdata, "%localappdata%"),
            (&u.appdata, "%appdata%"),
            (&u.profile_path, "%userprofile%"),
        ] {
            if !dir.is_empty() {
                t = t.replace(&dir.to_lowercase(), var);
            }
        }
    }
    // Profiles the snapshot does not list.
    while let Some(at) = t.find("c:\\users\\") {
        let rest = &t[at + 9..];
        let end = rest.find(['\\', '"', ' ']).unwrap_or(rest.len());
        t = format!("{}%userprofile%{}", &t[..at], &rest[end..]);
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One member of a group, kept for review (unsigned entries only).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    host: u32,
    what: String,
    explained: bool,
    spared: bool,
    installed: bool,
}

/// A group while hosts are added.
#[derive(Debug, Default)]
struct Acc {
    hosts: Vec<u32>,
    entries: usize,
    signed: bool,
    user_writable: bool,
    explained: BTreeSet<String>,
    example: String,
    members: Vec<Member>,
    members_cut: bool,
}

/// Builds a stack one host at a time.
#[derive(Debug)]
pub struct Stacker {
    by: By,
    hosts: Vec<String>,
    index: HashMap<String, usize>,
    keys: Vec<String>,
    groups: Vec<Acc>,
}

/// One group of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// What its entries share.
    pub key: String,
    /// Hosts that have it, in scan order.
    pub hosts: Vec<String>,
    /// Entries (a host can have it more than once: one per user).
    pub entries: usize,
    /// Every entry's files are validly signed.
    pub signed: bool,
    /// Some entry runs a file from a user-writable place.
    pub user_writable: bool,
    /// Families findings gave its entries (`Emotet (rule)`).
    pub explained: Vec<String>,
    /// One entry, in words.
    pub example: String,
}

/// A whole stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    pub by: By,
    /// Hosts with a snapshot.
    pub scanned: usize,
    /// Least suspicious last (see the module doc for the order).
    pub groups: Vec<Group>,
    /// Review items per host (from the autostart grouping only).
    #[serde(skip)]
    pub reviews: BTreeMap<String, Vec<ReviewItem>>,
}

impl Stacker {
    pub fn new(by: By) -> Stacker {
        Stacker { by, hosts: Vec::new(), index: HashMap::new(), keys: Vec::new(), groups: Vec::new() }
    }

    /// Add one host's latest snapshot and its findings.
    pub fn add_host(&mut self, host: &str, snap: &Snapshot, findings: &[StoredFinding]) {
        let h = self.hosts.len() as u32;
        self.hosts.push(host.to_string());
        for e in entries(snap, findings, self.by) {
            let next = self.groups.len();
            let at = *self.index.entry(e.key.clone()).or_insert(next);
            if at == next {
                self.keys.push(e.key.clone());
                self.groups.push(Acc { signed: true, example: e.what.clone(), ..Acc::default() });
            }
            let g = &mut self.groups[at];
            if g.hosts.last() != Some(&h) {
                g.hosts.push(h);
            }
            g.entries += 1;
            g.signed &= e.signed;
            g.user_writable |= e.user_writable;
            g.explained.extend(e.explained.iter().cloned());
            if !e.signed {
                if g.members.len() < MAX_MEMBERS {
                    g.members.push(Member {
                        host: h,
                        what: e.what,
                        explained: !e.explained.is_empty(),
                        spared: e.spared,
                        installed: e.installed,
                    });
                } else {
                    g.members_cut = true;
                }
            }
        }
    }

    /// The stack, sorted; rare unsigned unexplained autostarts (on at most
    /// `rare_percent` of the hosts, and at least on one) become review
    /// items when grouping by autostart.
    pub fn finish(self, rare_percent: u32) -> Stack {
        let scanned = self.hosts.len();
        let rare = rare_limit(scanned, rare_percent);
        let mut reviews: BTreeMap<String, Vec<ReviewItem>> = BTreeMap::new();
        let mut groups: Vec<Group> = Vec::with_capacity(self.groups.len());
        for (key, g) in self.keys.into_iter().zip(self.groups) {
            if self.by == By::Autostart && !g.signed && g.hosts.len() <= rare && !g.members_cut {
                for m in g.members.iter().filter(|m| !m.explained && !m.spared && !m.installed) {
                    reviews.entry(self.hosts[m.host as usize].clone()).or_default().push(ReviewItem {
                        what: m.what.clone(),
                        why: format!(
                            "review: unsigned, on {} of {scanned} scanned host{} (rare: at most {rare}, {rare_percent} %), and no finding explains it",
                            g.hosts.len(),
                            if scanned == 1 { "" } else { "s" },
                        ),
                        reached: false,
                    });
                }
            }
            groups.push(Group {
                key,
                hosts: g.hosts.iter().map(|&h| self.hosts[h as usize].clone()).collect(),
                entries: g.entries,
                signed: g.signed,
                user_writable: g.user_writable,
                explained: g.explained.into_iter().collect(),
                example: g.example,
            });
        }
        groups.sort_by(|a, b| {
            (tier(a), !a.explained.is_empty(), a.hosts.len(), &a.key).cmp(&(
                tier(b),
                !b.explained.is_empty(),
                b.hosts.len(),
                &b.key,
            ))
        });
        Stack { by: self.by, scanned, groups, reviews }
    }
}

/// 0: unsigned and user-writable, 1: unsigned, 2: signed in a
/// user-writable place, 3: signed.
fn tier(g: &Group) -> u8 {
    match (g.signed, g.user_writable) {
        (false, true) => 0,
        (false, false) => 1,
        (true, true) => 2,
        (true, false) => 3,
    }
}

/// The most hosts a rare entry is on: `percent` of `scanned`, at least one.
pub fn rare_limit(scanned: usize, percent: u32) -> usize {
    (scanned * percent as usize / 100).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    fn host(name: &str, user: &str, extra: impl FnOnce(SnapshotBuilder) -> SnapshotBuilder) -> (String, Snapshot) {
        let onedrive = format!(r"C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe");
        let b = SnapshotBuilder::new(name)
            .user(user)
            .run(user, "OneDrive", &format!(r#""{onedrive}" /background"#))
            .signed_file(&onedrive, "Microsoft Corporation")
            .service("Spooler", "Print Spooler", r"C:\Windows\System32\spoolsv.exe", "LocalSystem")
            .signed_file(r"C:\Windows\System32\spoolsv.exe", "Microsoft Windows");
        (name.to_string(), extra(b).build())
    }

    fn stack(hosts: &[(String, Snapshot)], by: By, percent: u32) -> Stack {
        let mut s = Stacker::new(by);
        for (name, snap) in hosts {
            let f: Vec<StoredFinding> = detect(snap, &DetectContext::default()).iter().map(StoredFinding::from).collect();
            s.add_host(name, snap, &f);
        }
        s.finish(percent)
    }

    fn fleet() -> Vec<(String, Snapshot)> {
        let mut hosts: Vec<(String, Snapshot)> = (1..=20)
            .map(|i| host(&format!("WS-{i:03}"), if i % 2 == 0 { "bob" } else { "alice" }, |b| b))
            .collect();
        // One host has an unsigned, unexplained autostart in a user folder.
        hosts[6] = host("WS-007", "bob", |b| {
            b.task(r"\Inventory", r"C:\Users\bob\Tools\inv.exe", "/quiet", "bob", &["logon"])
                .file(r"C:\Users\bob\Tools\inv.exe")
        });
        hosts
    }

    #[test]
    fn rare_unsigned_user_writable_entries_come_first_and_users_do_not_split_groups() {
        let s = stack(&fleet(), By::Autostart, 5);
        assert_eq!(s.scanned, 20);
        assert_eq!(s.groups.len(), 3, "{:#?}", s.groups);
        let first = &s.groups[0];
        assert_eq!(first.hosts, ["WS-007"]);
        assert!(!first.signed && first.user_writable);
        assert_eq!(first.key, r"task \inventory = %userprofile%\tools\inv.exe /quiet");
        // OneDrive of alice and bob: one group on 20 hosts, signed in a
        // user-writable place; the spooler last (signed, system).
        assert_eq!(s.groups[1].hosts.len(), 20);
        assert_eq!(s.groups[1].key, r#"run hku\software\microsoft\windows\currentversion\run\onedrive = "%localappdata%\microsoft\onedrive\onedrive.exe" /background"#);
        assert!(s.groups[1].signed && s.groups[1].user_writable);
        assert!(s.groups[2].key.starts_with("service spooler"), "{:?}", s.groups[2]);
    }

    #[test]
    fn rare_unexplained_unsigned_autostarts_become_review_items() {
        let s = stack(&fleet(), By::Autostart, 5);
        assert_eq!(s.reviews.len(), 1, "{:?}", s.reviews);
        let items = &s.reviews["WS-007"];
        assert_eq!(items.len(), 1);
        assert!(items[0].what.starts_with(r"scheduled task \Inventory runs C:\Users\bob\Tools\inv.exe"), "{items:?}");
        assert!(items[0].why.contains("on 1 of 20 scanned hosts (rare: at most 1, 5 %)"), "{items:?}");
        // Not rare any more on a fleet where 2 of 20 is under the limit of
        // 10 %... is rare: and at 4 % of 20 it is still one host.
        assert_eq!(rare_limit(20, 4), 1);
        assert_eq!(rare_limit(20, 10), 2);
        assert_eq!(rare_limit(10_000, 5), 500);
        // Explained by a finding: not for review.
        let mut hosts = fleet();
        hosts[6] = host("WS-007", "bob", |b| {
            b.run("bob", "Updater", r"rundll32.exe C:\Users\bob\AppData\Local\Tools\helper.dll,Start")
                .file(r"C:\Users\bob\AppData\Local\Tools\helper.dll")
        });
        let s = stack(&hosts, By::Autostart, 5);
        assert!(s.reviews.is_empty(), "{:?}", s.reviews);
        assert_eq!(s.groups[0].explained, ["unknown loader-like (rule)"]);
    }

    #[test]
    fn grouping_by_launcher_folder_hash_and_signer() {
        let hosts = fleet();
        let s = stack(&hosts, By::Signer, 5);
        let keys: Vec<(&str, usize)> = s.groups.iter().map(|g| (g.key.as_str(), g.hosts.len())).collect();
        assert_eq!(keys, [("unsigned", 1), ("microsoft corporation", 20), ("microsoft windows", 20)]);
        let s = stack(&hosts, By::Folder, 5);
        assert_eq!(s.groups[0].key, r"%userprofile%\tools");
        assert!(s.groups.iter().any(|g| g.key == r"%localappdata%\microsoft\onedrive" && g.hosts.len() == 20));
        let s = stack(&hosts, By::Hash, 5);
        assert_eq!(s.groups[0].key, "(not hashed)", "the builder's files carry no hash");
        let s = stack(&hosts, By::Launcher, 5);
        assert_eq!(s.groups[0].key, "direct");
        assert!(s.reviews.is_empty(), "review items come from the autostart grouping only");
    }
}
