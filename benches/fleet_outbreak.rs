//! A benchmark, not a test (`cargo bench --bench fleet_outbreak`, which
//! bench/fleet-outbreak.sh runs): the fleet's judgement on the lab's
//! 500-host outbreak (examples/lab/outbreak.yml) after three lab hours of
//! spreading, scanned through the real binary. Prints findings by source
//! (rule, hash propagation, cluster lift), the host-family pairs the
//! per-host rules miss and how many the fleet finds (against the lab's
//! ground truth, taken before the scan starts, so an infection that lands
//! during the scan is not counted as a miss), the items the fleet lifted
//! that are not malware by the ground truth (must be 0: the run exits 1
//! otherwise), and the top of `cauterize stack`. The lab's loaders are all
//! of eras the rules were written from, so an Emotet build no rule knows
//! (`tests/common/variant.rs`, shared with tests/fleet_lab.rs, which
//! asserts the same claims on 8 hosts) is also planted on every tenth
//! workstation: on half of those with the bytes of a lab host's Emotet DLL,
//! on the other half rebuilt (its own hash, the same shape). Loopback
//! range: 127.95.0.0/16.

#[path = "../tests/common/harness.rs"]
mod harness;
#[path = "../tests/common/variant.rs"]
mod variant;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use cauterize::detect::ArtifactRef;
use cauterize::fleet::Source;
use cauterize::journal::Journal;
use cauterize::lab::malware::{Artifact, Family};
use cauterize::lab::scenario;
use cauterize::lab::{HostTruth, Lab};
use harness::LabRun;
use variant::{Variant, folder, hex};

/// Lab seconds per wall second: three lab hours of spreading take 18 s.
const SPEED: f64 = 600.0;
const SPREAD_LAB_SECS: i64 = 3 * 3600;

/// What the ground truth says is malware on a host: paths, tasks,
/// services, registry value names and live pids of every family.
#[derive(Default)]
struct Malware {
    paths: BTreeSet<String>,
    tasks: BTreeSet<String>,
    services: BTreeSet<String>,
    values: BTreeSet<String>,
    pids: BTreeSet<u32>,
}

fn malware(t: &HostTruth) -> Malware {
    let mut m = Malware::default();
    for p in t.presence.families.values() {
        m.paths.extend(p.files.iter().map(|f| f.to_lowercase()));
        m.pids.extend(p.live_pids.iter().copied());
        for a in p.persistence.iter().chain(&p.other) {
            match &a.what {
                Artifact::File { path } | Artifact::Dir { path } => {
                    m.paths.insert(path.to_lowercase());
                }
                Artifact::Task { path } => {
                    m.tasks.insert(path.trim_start_matches('\\').to_lowercase());
                }
                Artifact::Service { name } => {
                    m.services.insert(name.to_lowercase());
                }
                Artifact::RegValue { name, .. } => {
                    m.values.insert(name.to_lowercase());
                }
                Artifact::RegKey { key, .. } => {
                    m.values.insert(key.to_lowercase());
                }
            }
        }
    }
    m
}

/// Is what a finding names malware by the ground truth?
fn is_malware(m: &Malware, artifact: &ArtifactRef, targets: &[String]) -> bool {
    let path_known = |p: &str| m.paths.contains(&p.to_lowercase());
    let artifact_known = match artifact {
        ArtifactRef::File { path } | ArtifactRef::StartupItem { path } | ArtifactRef::Folder { path } => path_known(path),
        ArtifactRef::Task { path } => m.tasks.contains(&path.trim_start_matches('\\').to_lowercase()),
        ArtifactRef::Service { name } => m.services.contains(&name.to_lowercase()),
        ArtifactRef::RegistryAutorun { value, .. } | ArtifactRef::RegistryValue { value, .. } => {
            m.values.contains(&value.to_lowercase())
        }
        ArtifactRef::RegistryKey { key, .. } => m.values.contains(&key.to_lowercase()),
        ArtifactRef::Process { pid, .. } => m.pids.contains(pid),
        ArtifactRef::Wmi { .. } => false,
    };
    artifact_known && targets.iter().all(|t| path_known(t))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    harness::raise_fd_limit();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml");
    let text = std::fs::read_to_string(&path).unwrap().replace("base_address: 127.74.0.1", "base_address: 127.95.0.1");
    let mut s = scenario::parse_scenario(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    s.world.lab.speed = SPEED;
    s.world.lab.step_every = Duration::from_millis(100);
    let inventory_spec = s.spec.clone();
    let lab = Lab::start_world(s.spec, s.world).await.expect("lab starts");
    let t0 = lab.now();
    while lab.now().secs_since(t0) < SPREAD_LAB_SECS {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<String> = lab.spec().hosts.iter().map(|h| h.name.clone()).collect();
    // The variant, beside the lab's loaders.
    let (donor, dll) = names
        .iter()
        .find_map(|n| lab.truth(n).files.iter().find(|(f, _)| *f == Family::Emotet).map(|(_, p)| (n.clone(), p.clone())))
        .expect("an Emotet host");
    let (shared, size) = lab.with_host(&donor, |h| {
        let e = h.files.get(&dll).expect("on disk");
        (hex(e.sha256().expect("a file")), e.size())
    });
    let now = lab.now();
    let mut variants: Vec<(String, Variant, bool)> = Vec::new();
    for (i, n) in names.iter().enumerate().filter(|(_, n)| n.starts_with("WS-") && n[3..].parse::<u32>().is_ok_and(|k| k % 10 == 0)) {
        let carries = variants.len() % 2 == 0;
        let sha = if carries { shared.clone() } else { cauterize::journal::sha256_hex(format!("rebuilt {i}").as_bytes()) };
        let v = Variant::new(&folder(i));
        let case = v.case(&sha, size);
        lab.with_host(n, |h| cauterize::lab::cases::place::place(&case, h, now)).unwrap_or_else(|e| panic!("{n}: {e}"));
        variants.push((n.clone(), v, carries));
    }
    // Ground truth before the scan: the pairs it must see.
    let before: BTreeMap<String, BTreeSet<Family>> =
        names.iter().map(|n| (n.clone(), lab.truth(n).families.into_iter().collect())).collect();
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, cauterize::lab::inventory_out::inventory_yaml(&inventory_spec)).unwrap();
    let run = LabRun { lab, dir, inventory };
    let eng = run.dir.path().join("case").display().to_string();
    let started = Instant::now();
    let scan = run.cauterize("scan", &["--engagement", &eng, "--forks", "64"]).await;
    let scan_secs = started.elapsed().as_secs_f64();
    println!("scan: exit {} in {scan_secs:.1} s\n{}", scan.code, scan.stdout.lines().take(14).collect::<Vec<_>>().join("\n"));

    let journal = Journal::open(Path::new(&eng)).unwrap();
    let scans = journal.latest_scans(None).unwrap();
    let mut by_source: BTreeMap<Source, (usize, BTreeSet<String>)> = BTreeMap::new();
    let (mut pairs, mut missed, mut fleet_found) = (0, 0, 0);
    let mut missed_list = Vec::new();
    let mut benign_lifted = Vec::new();
    for s in &scans {
        let truth = run.lab.truth(&s.host);
        let mut m = malware(&truth);
        // The planted variant is malware too (the lab knows it as a case).
        for (_, v, _) in variants.iter().filter(|(h, _, _)| h == &s.host) {
            m.paths.insert(v.dll.to_lowercase());
            m.tasks.insert(v.task.trim_start_matches('\\').to_lowercase());
        }
        let mut rule_families = BTreeSet::new();
        let mut fleet_families = BTreeSet::new();
        for f in s.findings.iter().filter(|f| f.allowlisted.is_none()) {
            let source = Source::of(&f.rule_id);
            let e = by_source.entry(source).or_default();
            e.0 += 1;
            e.1.insert(s.host.clone());
            if source == Source::Rule {
                rule_families.insert(f.family.name());
            } else {
                fleet_families.insert(f.family.name());
                if !is_malware(&m, &f.artifact, &f.target_files) {
                    benign_lifted.push(format!("{}: {} {}: {}", s.host, f.rule_id, f.artifact.describe(), f.reasons.join("; ")));
                }
            }
        }
        for family in before.get(&s.host).into_iter().flatten() {
            pairs += 1;
            if !rule_families.contains(family.name()) {
                missed += 1;
                let by_fleet = fleet_families.contains(family.name());
                fleet_found += usize::from(by_fleet);
                missed_list.push(format!("{} {}{}", s.host, family.name(), if by_fleet { " (found by the fleet)" } else { "" }));
            }
        }
    }
    println!("\nhosts scanned: {} of {}", scans.len(), names.len());
    for (source, (n, hosts)) in &by_source {
        println!("findings by {:<17} {n:>6} on {} hosts", source.label(), hosts.len());
    }
    println!("host-family pairs present before the scan, on scanned hosts: {pairs}");
    println!("  missed by the per-host rules: {missed}; of those found by the fleet: {fleet_found}");
    for m in missed_list.iter().take(20) {
        println!("    {m}");
    }
    // The planted variant: missed by the rules, found by the fleet?
    let (mut v_missed, mut v_hash, mut v_shape) = (0, 0, 0);
    for (host, v, _) in &variants {
        let Some(s) = scans.iter().find(|s| &s.host == host) else { continue };
        let on_dll = |f: &&cauterize::journal::StoredFinding| f.target_files.iter().any(|t| t.eq_ignore_ascii_case(&v.dll));
        let ruled = s.findings.iter().filter(on_dll).any(|f| Source::of(&f.rule_id) == Source::Rule && f.family != cauterize::detect::Family::UnknownLoaderLike);
        if ruled {
            continue;
        }
        v_missed += 1;
        match s.findings.iter().filter(on_dll).find(|f| Source::of(&f.rule_id) != Source::Rule && f.family == cauterize::detect::Family::Emotet).map(|f| Source::of(&f.rule_id)) {
            Some(Source::HashPropagation) => v_hash += 1,
            Some(Source::ClusterLift) => v_shape += 1,
            _ => {}
        }
    }
    println!(
        "planted variant on {} hosts ({} carrying {donor}'s Emotet bytes): missed by the rules on {v_missed}; found by hash propagation on {v_hash}, by cluster lift on {v_shape}",
        variants.len(),
        variants.iter().filter(|v| v.2).count()
    );
    println!("items the fleet lifted that the ground truth says are not malware: {}", benign_lifted.len());
    for b in &benign_lifted {
        println!("    {b}");
    }
    let stack = harness::run(&["stack", "--engagement", &eng, "--top", "8"]).await;
    println!("\n$ cauterize stack --top 8\n{}", stack.stdout);
    let by_hash = harness::run(&["stack", "--engagement", &eng, "--by", "hash", "--top", "5"]).await;
    println!("$ cauterize stack --by hash --top 5\n{}", by_hash.stdout);
    if !benign_lifted.is_empty() {
        eprintln!("FAILED: the fleet lifted {} items that are not malware (listed above)", benign_lifted.len());
        std::process::exit(1);
    }
}
