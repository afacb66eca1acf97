//! What a finding rests on, and the one place its confidence is computed.
//!
//! # The standard for "high"
//!
//! A finding is **high** (what the default playbook acts on) only when
//!
//! - it rests on at least **two independent lines of evidence** (two
//!   different [`Evidence`] kinds), **at least one of them strong** - not
//!   a name or path shape; or
//! - an exact known-bad hash from the user's list (`--hashes`) matched the
//!   file, on its own - **never for a validly signed file** (a feed that
//!   lists a signed Windows or vendor program is a mistake the tool must
//!   not act on alone).
//!
//! Weak lines are shapes: a name heuristic (random-looking, a word list, a
//! Windows or product name out of place), a folder shape (where it sits),
//! a timestamp, a launch shape (a system launcher, a SYSTEM task, a
//! run-once trigger, an export name) and a missing signature. Strong lines
//! are evidence of abuse: a relation to a confirmed finding (on this
//! scan, or on this host earlier in the operation), injected code, a loader's documented registry artifact, a launch of a known or
//! confirmed payload, code loaded from a file disguised as data, an
//! unsigned DLL side-loaded by a signed Windows program, a Windows
//! program renamed (its version information says so), a lateral
//! launch through an admin share, a service install the host recorded
//! right after a suspect source's network logon that runs the file, a
//! loader's documented command, a name
//! derived exactly from this host, a program planted where an unquoted
//! path breaks.
//!
//! Name-only or shape-only evidence - however many shapes agree - is at
//! most **medium**. Rules never choose a confidence: they state their
//! evidence (and may cap the result, e.g. at low for "list only"), and
//! [`grade`] computes it. Confidence changes later (a tie to a loader's
//! finding, a hash, the fleet) only by adding evidence.

use serde::{Deserialize, Serialize};

use super::Confidence;

/// How much one line of evidence weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A name or path shape: never enough for high on its own.
    Weak,
    /// Evidence of abuse, not of shape.
    Strong,
}

/// One independent line of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A name heuristic: random-looking, a loader's word list, a Windows
    /// or product name out of place, a value or service named after its
    /// file.
    NameShape,
    /// Where it sits: a loader's folder layout, a user-writable folder, a
    /// new folder at the drive root.
    FolderShape,
    /// A timestamp coincidence (Emotet's seven-day backdating).
    Timestamp,
    /// How it is started, by shape: a system launcher, a SYSTEM or
    /// run-once task, an export name of a kind, a service running a
    /// launcher.
    LaunchShape,
    /// Not validly signed.
    Unsigned,
    /// Tied to a confirmed (high) finding: its folder, its payload (the
    /// file a confirmed autostart starts), its process, a copy of its
    /// file, the same shape as a confirmed unit elsewhere, or a file only
    /// one family writes on a host where that family is confirmed.
    RelatedToConfirmed,
    /// Tied to a finding confirmed (high) on **this host earlier in the
    /// operation** - in the scan its reviewed plan was made from, or a
    /// re-purge round's - through a concrete link only: the same
    /// persistence (registry value, task, service, startup item) come back,
    /// a target at the exact path of a confirmed file or inside a folder
    /// confirmed as the loader's own, or a file with the SHA-256 of a
    /// confirmed unsigned file. Why it is strong: the purge removed what
    /// was confirmed, so a verifying scan sees only what a loader re-wrote
    /// (Qakbot writes its Run value at shutdown, pointing into the folder
    /// the purge denied writes to), which on its own rests on shapes;
    /// what ties it to the removed loader is the confirmed finding, not
    /// its shape. A name or folder shape alike, without the same path or
    /// hash, is no link: real software on the host is never tied.
    ConfirmedEarlier,
    /// Code injected into a signed process (a hollowed Windows program).
    InjectedCode,
    /// A loader's documented registry artifact (its configuration key,
    /// the exclusion it writes, its encoded payload in a value).
    RegistryArtifact,
    /// It launches a known or confirmed payload: a process whose image or
    /// command line runs a file a confirmed finding (not a process) names.
    PayloadLaunch,
    /// A system launcher made to load code from a file disguised as data
    /// (a DLL named `.jpg`, `.kzt`, `.dat`): what it loads, not its name.
    DisguisedCode,
    /// A DLL beside a genuine signed Windows program copied out of its
    /// install location that is not validly signed: what the program
    /// loads (side-loading), not where it sits.
    SideLoadedDll,
    /// A Windows program under another name (its version information
    /// names it): a disguise, not a resemblance of names.
    RenamedWindowsProgram,
    /// Started through an admin share (`\\host\C$\...`): lateral movement.
    LateralLaunch,
    /// The host's own record ties it to lateral movement: a service
    /// installed (System 7045) within minutes of a network logon from an
    /// infected host or an address nobody listed ran exactly this file.
    RecordedLateralInstall,
    /// A loader's documented command (self-deletion over calc.exe,
    /// PowerShell running code stored in the registry).
    LoaderCommand,
    /// Exactly the name a loader derives from this host (its volume
    /// serial): a computation, not a resemblance.
    HostDerivedName,
    /// A program planted where an unquoted path breaks (T1574.009).
    PathInterception,
    /// The user's list of known-bad SHA-256 hashes matched.
    KnownBadHash,
}

impl Evidence {
    pub fn strength(self) -> Strength {
        use Evidence::*;
        match self {
            NameShape | FolderShape | Timestamp | LaunchShape | Unsigned => Strength::Weak,
            RelatedToConfirmed | ConfirmedEarlier | InjectedCode | RegistryArtifact | PayloadLaunch
            | DisguisedCode | SideLoadedDll | RenamedWindowsProgram | LateralLaunch | RecordedLateralInstall | LoaderCommand | HostDerivedName
            | PathInterception | KnownBadHash => Strength::Strong,
        }
    }

    pub fn is_strong(self) -> bool {
        self.strength() == Strength::Strong
    }

    /// A few words for reports.
    pub fn words(self) -> &'static str {
        use Evidence::*;
        match self {
            NameShape => "name shape",
            FolderShape => "folder shape",
            Timestamp => "timestamp",
            LaunchShape => "launch shape",
            Unsigned => "not signed",
            RelatedToConfirmed => "tied to a confirmed finding",
            ConfirmedEarlier => "tied to a finding confirmed on this host earlier in the operation",
            InjectedCode => "injected code",
            RegistryArtifact => "loader's registry artifact",
            PayloadLaunch => "launches a known payload",
            DisguisedCode => "code loaded from a disguised file",
            SideLoadedDll => "loads an unsigned DLL beside a signed Windows program",
            RenamedWindowsProgram => "a renamed Windows program",
            LateralLaunch => "started through an admin share",
            RecordedLateralInstall => "run by a service a suspect source installed (System 7045)",
            LoaderCommand => "loader's documented command",
            HostDerivedName => "name derived from this host",
            PathInterception => "unquoted-path interception",
            KnownBadHash => "known-bad hash",
        }
    }
}

/// What a rule states: its evidence and, at most, how far it may go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounds {
    /// Distinct kinds, sorted.
    pub evidence: Vec<Evidence>,
    /// The rule's own cap (low: list only). Never raises.
    pub ceiling: Confidence,
    /// The file the finding is about is validly signed (a hash alone is
    /// then not enough).
    pub signed: bool,
}

impl Grounds {
    pub fn of(evidence: &[Evidence]) -> Grounds {
        let mut g = Grounds {
            evidence: Vec::new(),
            ceiling: Confidence::High,
            signed: false,
        };
        for e in evidence {
            g.add(*e);
        }
        g
    }

    /// Listed only, whatever the evidence (a rule's "low").
    pub fn at_most(mut self, c: Confidence) -> Grounds {
        self.ceiling = self.ceiling.min(c);
        self
    }

    /// Add `e` when `cond`.
    pub fn with_if(mut self, cond: bool, e: Evidence) -> Grounds {
        if cond {
            self.add(e);
        }
        self
    }

    pub fn add(&mut self, e: Evidence) {
        if let Err(i) = self.evidence.binary_search(&e) {
            self.evidence.insert(i, e);
        }
    }

    pub fn has(&self, e: Evidence) -> bool {
        self.evidence.contains(&e)
    }

    /// Everything both rest on; the looser cap wins (the stronger rule's
    /// cap governs its own evidence).
    pub fn unite(&mut self, other: &Grounds) {
        for e in &other.evidence {
            self.add(*e);
        }
        self.ceiling = self.ceiling.max(other.ceiling);
        self.signed |= other.signed;
    }

    pub fn grade(&self) -> Confidence {
        grade(&self.evidence, self.signed).min(self.ceiling)
    }

    /// The evidence in words, strong first: `injected code; folder shape`.
    pub fn words(&self) -> String {
        let mut v: Vec<Evidence> = self.evidence.clone();
        v.sort_by_key(|e| (!e.is_strong(), *e));
        v.iter().map(|e| e.words()).collect::<Vec<_>>().join("; ")
    }
}

/// The standard (see the module doc): the confidence `evidence` earns.
pub fn grade(evidence: &[Evidence], signed: bool) -> Confidence {
    if evidence.contains(&Evidence::KnownBadHash) && !signed {
        return Confidence::High;
    }
    let mut kinds: Vec<Evidence> = evidence
        .iter()
        .copied()
        .filter(|e| !(signed && *e == Evidence::KnownBadHash))
        .collect();
    kinds.sort();
    kinds.dedup();
    let strong = kinds.iter().any(|e| e.is_strong());
    match kinds.len() {
        0 => Confidence::Low,
        n if n >= 2 && strong => Confidence::High,
        _ => Confidence::Medium,
    }
}

#[cfg(test)]
mod tests {
    use super::Evidence::*;
    use super::*;

    #[test]
    fn shapes_alone_are_at_most_medium_however_many() {
        assert_eq!(
            grade(&[NameShape, FolderShape, Timestamp, LaunchShape, Unsigned], false),
            Confidence::Medium
        );
        assert_eq!(grade(&[NameShape], false), Confidence::Medium);
        assert_eq!(grade(&[], false), Confidence::Low);
    }

    #[test]
    fn high_needs_two_lines_one_strong() {
        assert_eq!(grade(&[InjectedCode], false), Confidence::Medium);
        assert_eq!(grade(&[InjectedCode, InjectedCode], false), Confidence::Medium, "one line counted once");
        assert_eq!(grade(&[InjectedCode, LaunchShape], false), Confidence::High);
        assert_eq!(grade(&[RegistryArtifact, PayloadLaunch], false), Confidence::High);
    }

    #[test]
    fn a_hash_alone_is_high_except_on_a_signed_file() {
        assert_eq!(grade(&[KnownBadHash], false), Confidence::High);
        assert_eq!(grade(&[KnownBadHash], true), Confidence::Low);
        assert_eq!(grade(&[KnownBadHash, NameShape], true), Confidence::Medium);
        assert_eq!(grade(&[KnownBadHash, NameShape, InjectedCode], true), Confidence::High);
    }

    #[test]
    fn a_ceiling_only_lowers() {
        let g = Grounds::of(&[InjectedCode, FolderShape]).at_most(Confidence::Low);
        assert_eq!(g.grade(), Confidence::Low);
        let mut g = Grounds::of(&[NameShape]);
        assert_eq!(g.grade(), Confidence::Medium);
        g.add(RelatedToConfirmed);
        assert_eq!(g.grade(), Confidence::High);
        assert_eq!(g.words(), "tied to a confirmed finding; name shape");
    }
}
