//! The fleet's judgement over every host's units: hash propagation first,
//! then cluster lift (which counts what propagation made high), each lift
//! turned into findings the planner reads like any rule's: one on the
//! mechanism (or file, or value) whose target is the payload, and one per
//! process that runs the payload (so the plan ends it before deleting the
//! file). Pure.

use serde::Serialize;

use super::units::HostUnits;
use super::{RULE_HASH, RULE_SHAPE, Source};
use crate::detect::{ArtifactRef, Confidence, Family, Finding, Grounds};
use crate::journal::SnapshotId;

/// One unit of one host, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitRef {
    pub host: usize,
    pub unit: usize,
}

/// A unit the fleet lifted to a family, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lift {
    pub at: UnitRef,
    pub family: Family,
    /// What the lift rests on; its confidence is computed from it (the
    /// standard in `detect::evidence`).
    pub grounds: Grounds,
    pub source: Source,
    pub reasons: Vec<String>,
    /// The unit whose verdict it comes from.
    pub from: UnitRef,
}

impl Lift {
    pub fn confidence(&self) -> Confidence {
        self.grounds.grade()
    }
}

/// Findings per source, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub hash_propagation: usize,
    pub cluster_lift: usize,
}

/// What the fleet found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    pub lifts: Vec<Lift>,
}

/// Judge the network: hash propagation, then cluster lift.
pub fn judge(hosts: &[HostUnits]) -> Judgement {
    let mut lifts = super::propagate::propagate(hosts);
    let clustered = super::cluster::lift(hosts, &lifts);
    lifts.extend(clustered);
    Judgement { lifts }
}

impl Judgement {
    /// Lifts by source.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for l in &self.lifts {
            match l.source {
                Source::HashPropagation => c.hash_propagation += 1,
                Source::ClusterLift => c.cluster_lift += 1,
                Source::Rule => {}
            }
        }
        c
    }

    /// The findings of each host that has any (inventory name, snapshot,
    /// findings), in host order.
    pub fn findings(&self, hosts: &[HostUnits]) -> Vec<(String, SnapshotId, Vec<Finding>)> {
        let mut out: Vec<(String, SnapshotId, Vec<Finding>)> = Vec::new();
        let mut lifts: Vec<&Lift> = self.lifts.iter().collect();
        lifts.sort_by_key(|l| (l.at.host, l.at.unit));
        for l in lifts {
            let host = &hosts[l.at.host];
            let unit = &host.units[l.at.unit];
            if out.last().is_none_or(|(h, _, _)| *h != host.host) {
                out.push((host.host.clone(), host.snapshot_id, Vec::new()));
            }
            let found = &mut out.last_mut().expect("pushed above").2;
            let rule_id = match l.source {
                Source::HashPropagation => RULE_HASH,
                _ => RULE_SHAPE,
            };
            let finding = |artifact: ArtifactRef, reasons: Vec<String>, target_files: Vec<String>| {
                Finding::new(&host.computer_name, artifact, l.family, rule_id, l.grounds.clone(), reasons, target_files)
            };
            let targets: Vec<String> = unit.payload.iter().map(|p| p.path.clone()).collect();
            let mut main = finding(unit.artifact.clone(), l.reasons.clone(), targets);
            for (pid, image) in &unit.processes {
                let process = ArtifactRef::Process { pid: *pid, image: image.clone() };
                main.related.push(process.clone());
                if found.iter().any(|f| f.artifact == process) {
                    continue;
                }
                let runs = unit.payload.as_ref().map_or("it", |p| p.path.as_str());
                let mut reasons = vec![format!("runs {runs}")];
                reasons.extend(l.reasons.iter().cloned());
                found.push(finding(process, reasons, Vec::new()));
            }
            found.push(main);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};
    use crate::fleet::units::of_host;
    use crate::journal::StoredFinding;
    use crate::runtime::snapshot::Snapshot;

    const SHA_A: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const SHA_B: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    /// A host as the fleet sees it, after per-host detection.
    fn host(s: &Snapshot) -> HostUnits {
        let f: Vec<StoredFinding> = detect(s, &DetectContext::default()).iter().map(StoredFinding::from).collect();
        of_host(&s.computer_name, 1, s, &f)
    }

    /// Emotet as the rules know it (2021: a DLL with a fake extension in a
    /// random LOCALAPPDATA folder, Run value, rundll32 and an export).
    fn known_emotet(name: &str, sha: &str) -> SnapshotBuilder {
        let dll = r"C:\Users\bob\AppData\Local\Gmkdfrtoqz\ohwqpx.kzt";
        SnapshotBuilder::new(name)
            .user("bob")
            .run("bob", "Xlhbtqwzfe", &format!(r#"C:\Windows\SysWOW64\rundll32.exe "{dll}",RunDLL"#))
            .file(dll)
            .with_file(dll, |f| f.sha256 = sha.into())
    }

    /// A variant no family rule knows (only the generic rule's medium): a
    /// SYSTEM task in a made-up folder starting a DLL under ProgramData
    /// with rundll32 and an export.
    fn variant(b: SnapshotBuilder, folder: &str, file: &str, sha: &str, size: u64) -> SnapshotBuilder {
        let dll = format!(r"C:\ProgramData\{folder}\{file}.dat");
        b.task(
            &format!(r"\Microsoft\Windows\{folder}\{folder}Sync"),
            r"C:\Windows\System32\rundll32.exe",
            &format!(r#""{dll}",Sbsu"#),
            r"NT AUTHORITY\SYSTEM",
            &["boot"],
        )
        .file(&dll)
        .with_file(&dll, |f| {
            f.sha256 = sha.into();
            f.size = size;
        })
    }

    #[test]
    fn a_hash_the_rules_are_sure_of_spreads_to_every_host_with_it() {
        // WS-001: the known Emotet. WS-002: the same DLL, but under the
        // variant's persistence, which no rule claims for Emotet.
        let hosts = vec![
            host(&known_emotet("WS-001", SHA_A).build()),
            host(&variant(SnapshotBuilder::new("WS-002").user("bob"), "Qvxt", "qvxtmsd", SHA_A, 412_032).build()),
        ];
        let v = &hosts[1].units.iter().find(|u| u.what.starts_with("scheduled task")).unwrap().verdict;
        assert!(v.as_ref().is_none_or(|v| v.family == Family::UnknownLoaderLike && !v.is_high()), "{v:?}");
        let j = judge(&hosts);
        assert_eq!(j.counts(), Counts { hash_propagation: 1, cluster_lift: 0 });
        let found = j.findings(&hosts);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "WS-002");
        let f = &found[0].2[0];
        assert_eq!((f.family, f.confidence(), f.rule_id), (Family::Emotet, Confidence::High, RULE_HASH));
        assert_eq!(f.artifact, ArtifactRef::Task { path: r"\Microsoft\Windows\Qvxt\QvxtSync".into() });
        assert_eq!(f.target_files, vec![r"C:\ProgramData\Qvxt\qvxtmsd.dat".to_string()]);
        assert!(
            f.reasons[0].contains("the Emotet payload C:\\Users\\bob\\AppData\\Local\\Gmkdfrtoqz\\ohwqpx.kzt on WS-001 (EMO-"),
            "{:?}",
            f.reasons
        );
    }

    #[test]
    fn a_signed_copy_never_carries_a_verdict() {
        // Dridex-style: a signed Windows program copied next to its DLL.
        // Even if a rule flagged the mechanism high, the signed EXE's hash
        // (the same as System32's) spreads nothing.
        let exe = r"C:\Users\bob\AppData\Roaming\Xyzzy\SystemPropertiesPerformance.exe";
        let a = SnapshotBuilder::new("WS-001")
            .user("bob")
            .run("bob", "Xyzzy", exe)
            .signed_file(exe, "Microsoft Windows")
            .with_file(exe, |f| f.sha256 = SHA_B.into())
            .build();
        let b = SnapshotBuilder::new("WS-002")
            .signed_file(r"C:\Windows\System32\SystemPropertiesPerformance.exe", "Microsoft Windows")
            .with_file(r"C:\Windows\System32\SystemPropertiesPerformance.exe", |f| f.sha256 = SHA_B.into())
            .build();
        let hosts = vec![host(&a), host(&b)];
        assert!(hosts.iter().all(|h| h.units.is_empty()), "{hosts:?}");
        assert!(judge(&hosts).lifts.is_empty());
    }

    #[test]
    fn a_variant_with_its_own_hash_is_lifted_by_its_shape_and_a_look_alike_is_not() {
        let hosts = vec![
            // The known Emotet alone (on the same host as the variant, the
            // host's own rules would tie the copy by its hash: no lift).
            host(&known_emotet("WS-000", SHA_A).build()),
            // The variant shares the known DLL's hash here: propagation.
            host(&variant(SnapshotBuilder::new("WS-001").user("bob"), "Qvxt", "qvxtmsd", SHA_A, 412_032).build()),
            // Elsewhere it was rebuilt (another hash) but keeps its shape
            // and size: cluster lift, at high (four features agree).
            host(&variant(SnapshotBuilder::new("WS-002").user("bob"), "Jkrw", "jkrwpzt", SHA_B, 412_032).build()),
            // Same shape, other size: three features, still high.
            host(
                &variant(SnapshotBuilder::new("WS-003").user("bob"), "Pqwz", "pqwzvvb", "33".repeat(32).as_str(), 99_999)
                    .build(),
            ),
            // An unsigned in-house tool under ProgramData run by a task:
            // another path shape (an EXE), so nothing explains it: not lifted.
            host(
                &SnapshotBuilder::new("WS-004")
                    .task(r"\Contoso\Inventory", r"C:\ProgramData\Contoso\agent.exe", "", r"NT AUTHORITY\SYSTEM", &["boot"])
                    .file(r"C:\ProgramData\Contoso\agent.exe")
                    .build(),
            ),
        ];
        let j = judge(&hosts);
        let by: Vec<(&str, Source, Confidence)> = j
            .lifts
            .iter()
            .map(|l| (hosts[l.at.host].host.as_str(), l.source, l.confidence()))
            .collect();
        assert_eq!(
            by,
            [
                ("WS-001", Source::HashPropagation, Confidence::High),
                ("WS-002", Source::ClusterLift, Confidence::High),
                // Path, name and launcher agree but not the size: shapes
                // only, medium by the standard.
                ("WS-003", Source::ClusterLift, Confidence::Medium),
            ]
        );
        let two = &j.lifts[1];
        assert!(two.reasons[0].starts_with("same shape as the Emotet scheduled task \\Microsoft\\Windows\\Qvxt\\QvxtSync on WS-001 (hash propagation): 4 of 4"), "{:?}", two.reasons);
        assert!(j.lifts[2].reasons[0].contains("3 of 4"), "{:?}", j.lifts[2].reasons);
    }

    #[test]
    fn two_features_lift_at_medium_and_a_process_running_the_payload_is_ended_with_it() {
        let a = variant(known_emotet("WS-001", SHA_A), "Qvxt", "qvxtmsd", SHA_A, 412_032).build();
        // Same path shape and launcher, but a Run value instead of a task,
        // of another size: two features.
        let dll = r"C:\ProgramData\Hhtk\hhtkqq.dat";
        let b = SnapshotBuilder::new("WS-002")
            .user("bob")
            .run("HKLM", "Hhtk", &format!(r#"C:\Windows\System32\rundll32.exe "{dll}",Sbsu"#))
            .file(dll)
            .process(4242, 600, r"C:\Windows\System32\rundll32.exe", &format!(r#"rundll32.exe "{dll}",Sbsu"#), "SYSTEM")
            .build();
        let hosts = vec![host(&a), host(&b)];
        let j = judge(&hosts);
        let lift = j.lifts.iter().find(|l| hosts[l.at.host].host == "WS-002").expect("lifted");
        assert_eq!((lift.source, lift.confidence()), (Source::ClusterLift, Confidence::Medium));
        let found = j.findings(&hosts);
        let ws2 = &found.iter().find(|(h, _, _)| h == "WS-002").unwrap().2;
        assert_eq!(ws2.len(), 2, "{ws2:#?}");
        assert_eq!(ws2[0].artifact, ArtifactRef::Process { pid: 4242, image: r"C:\Windows\System32\rundll32.exe".into() });
        assert!(ws2[0].target_files.is_empty(), "kill only");
        assert_eq!(ws2[1].target_files, vec![dll.to_string()]);
    }

    #[test]
    fn a_shape_two_families_fit_equally_is_left_alone() {
        let mk = |name: &str, task: &str, sha: &str| {
            variant(SnapshotBuilder::new(name).user("bob"), task, "abcdefg", sha, 50_000)
        };
        let mut hosts = vec![
            host(&mk("WS-001", "Aaaa", SHA_A).build()),
            host(&mk("WS-002", "Bbbb", SHA_B).build()),
            host(&mk("WS-003", "Cccc", &"33".repeat(32)).build()),
        ];
        // Pretend two rules were sure, of two families.
        for (h, family) in [(0, Family::Emotet), (1, Family::Qakbot)] {
            hosts[h].units[0].verdict = Some(crate::fleet::units::Verdict {
                family,
                confidence: Confidence::High,
                certain: false,
                rule: "TEST".into(),
            });
        }
        assert!(judge(&hosts).lifts.is_empty(), "{:?}", judge(&hosts).lifts);
    }
}
