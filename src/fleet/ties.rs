//! Lateral copies in `C:\Windows` tied by the host's own record of the
//! service that ran them (pure logic). A PsExec-style spreader writes its
//! copy through `ADMIN$` (`C:\Windows`) and starts it from a temporary
//! service it deletes once it ran; the host's rules flag such a copy
//! (`LAT-WINDOWS-ROOT-COPY`: unsigned or invalidly signed, not a file
//! Windows keeps there, nothing on the host starts it) but leave it
//! medium, never deleted, for want of a tie. The System log's 7045 of that
//! service is the tie: installed within minutes of a network logon from a
//! host carrying the infection then, or from an address nobody listed,
//! with an image path that runs exactly this file. That is evidence of
//! abuse, not of shape (`detect::evidence`), so the copy becomes high,
//! with the record in its reasons and the service it names in `related`.
//! Such a copy is the one file directly in the Windows folder a plan may
//! delete (`plan::guard::never_delete`): its step names the service, and
//! the runtime on the host deletes it only after finding that 7045 record
//! itself and checking the file's signature, name and age there.

use super::lateral::Lateral;
use super::RULE_LATERAL_COPY;
use crate::detect::command_line::{self, Env, ParseCtx};
use crate::detect::evidence::Evidence as E;
use crate::detect::{ArtifactRef, Family, Finding, Grounds, paths};
use crate::journal::SnapshotId;

/// The host rule whose findings wait for a tie.
pub const UNTIED_RULE: &str = "LAT-WINDOWS-ROOT-COPY";

/// A copy the host's rules flagged and left for a tie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untied {
    /// Inventory name (as lateral linking names hosts).
    pub host: String,
    /// The name the host gives itself (findings carry it).
    pub computer_name: String,
    pub snapshot_id: SnapshotId,
    pub path: String,
}

/// The files an image path runs, as keys (`paths::key`): the program and
/// what it loads or runs.
fn files_run(image_path: &str) -> Vec<String> {
    let env = Env::machine();
    let mut ctx = ParseCtx::new(&env);
    ctx.cwd = Some(command_line::DEFAULT_CWD);
    let parsed = command_line::parse(image_path, &ctx);
    let mut out = vec![paths::key(&parsed.program)];
    out.extend(parsed.payloads.iter().map(|p| paths::key(&p.path)));
    out
}

/// The copies a suspect source's recorded service install ties, as the
/// fleet's findings (inventory name, snapshot, finding), each copy once.
pub fn tie(lateral: &Lateral, untied: &[Untied]) -> Vec<(String, SnapshotId, Finding)> {
    let mut out: Vec<(String, SnapshotId, Finding)> = Vec::new();
    for r in lateral.reaches.iter().filter(|r| r.suspect && !r.image_path.is_empty()) {
        let runs = files_run(&r.image_path);
        for u in untied.iter().filter(|u| u.host.eq_ignore_ascii_case(&r.to) && runs.contains(&paths::key(&u.path))) {
            if out.iter().any(|(h, _, f)| h == &u.host && f.target_files.first() == Some(&u.path)) {
                continue;
            }
            let source = match &r.from {
                super::lateral::Origin::Host(h) => format!("{h}, infected by then"),
                super::lateral::Origin::Unlisted(a) => format!("{a}, an address the inventory does not list"),
            };
            let reasons = vec![
                format!(
                    "{} directly in C:\\Windows, not validly signed, is what the {} ran: {} at {} (on the operator's clock), {:.0} s after a network logon as {} from {source}",
                    u.path,
                    r.what,
                    r.record,
                    crate::evidence::names::rfc3339((r.at.floor() as i64, 0)),
                    r.after_logon,
                    r.account
                ),
                "the host's own record ties it to lateral movement: the plan deletes it (evidence first), and the host checks that record, its signature, name and age again before it does".to_string(),
            ];
            let grounds = Grounds::of(&[E::Unsigned, E::FolderShape, E::RecordedLateralInstall]);
            let mut finding = Finding::new(
                &u.computer_name,
                ArtifactRef::File { path: u.path.clone() },
                Family::UnknownLoaderLike,
                RULE_LATERAL_COPY,
                grounds,
                reasons,
                vec![u.path.clone()],
            );
            if !r.service.is_empty() {
                finding.related.push(ArtifactRef::Service { name: r.service.clone() });
            }
            out.push((u.host.clone(), u.snapshot_id, finding));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Confidence;
    use crate::fleet::lateral::{Context, EventKind, HostEvent, link};

    fn ev(host: &str, at: &str, kind: EventKind) -> HostEvent {
        HostEvent { host: host.into(), at: at.into(), kind, record: "x".into() }
    }

    fn untied(host: &str, path: &str) -> Untied {
        Untied { host: host.into(), computer_name: host.into(), snapshot_id: 7, path: path.into() }
    }

    fn lateral(source: &str, image_path: &str) -> Lateral {
        let events = vec![
            ev("WS-002", "2024-03-01T10:00:00Z", EventKind::NetworkLogon { source_address: source.into(), account: r"WS-002\Administrator".into(), logon_type: 3 }),
            HostEvent {
                record: "System 7045".into(),
                ..ev("WS-002", "2024-03-01T10:00:04Z", EventKind::ServiceInstalled { service: "qzkwtrb".into(), image_path: image_path.into(), account: "LocalSystem".into() })
            },
        ];
        let mut ctx = Context { window_secs: super::super::lateral::DEFAULT_WINDOW_SECS, ..Context::default() };
        ctx.addresses.insert("10.0.0.1".into(), "WS-001".into());
        ctx.addresses.insert("10.0.0.3".into(), "WS-003".into());
        ctx.infected.insert("WS-001".into(), None);
        link(&events, &ctx)
    }

    #[test]
    fn the_copy_a_suspect_sources_service_ran_is_high_and_nothing_else_is() {
        let copy = r"C:\Windows\qzkwtrb.exe";
        let files = [untied("WS-002", copy), untied("WS-002", r"C:\Windows\other.exe"), untied("WS-003", copy)];
        // From an infected host, and from an address nobody listed; the
        // image path written with %SystemRoot%.
        for (source, said) in [("10.0.0.1", "from WS-001, infected by then"), ("10.9.9.9", "from 10.9.9.9, an address the inventory does not list")] {
            let tied = tie(&lateral(source, r"%SystemRoot%\qzkwtrb.exe"), &files);
            assert_eq!(tied.len(), 1, "{tied:#?}");
            let (host, sid, f) = &tied[0];
            assert_eq!((host.as_str(), *sid, f.confidence()), ("WS-002", 7, Confidence::High));
            assert_eq!(f.artifact, ArtifactRef::File { path: copy.into() });
            assert!(f.reasons[0].contains("service qzkwtrb (%SystemRoot%\\qzkwtrb.exe) ran: System 7045 at 2024-03-01T10:00:04.000Z"), "{}", f.reasons[0]);
            assert!(f.reasons[0].contains(said), "{}", f.reasons[0]);
            assert_eq!(f.related, vec![ArtifactRef::Service { name: "qzkwtrb".into() }], "the service its 7045 names");
        }
        // A launcher's payload is what it runs.
        let tied = tie(&lateral("10.0.0.1", r"rundll32.exe C:\Windows\qzkwtrb.exe,Start"), &files);
        assert_eq!(tied.len(), 1, "{tied:#?}");
    }

    #[test]
    fn a_clean_sources_install_or_another_file_ties_nothing() {
        let files = [untied("WS-002", r"C:\Windows\qzkwtrb.exe")];
        assert!(tie(&lateral("10.0.0.3", r"C:\Windows\qzkwtrb.exe"), &files).is_empty(), "WS-003 is not infected: an admin's install");
        assert!(tie(&lateral("10.0.0.1", r"C:\Windows\other.exe"), &files).is_empty());
        assert!(tie(&lateral("10.0.0.1", r"C:\Windows\qzkwtrb.exe"), &[]).is_empty());
    }
}
