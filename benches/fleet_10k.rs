//! A benchmark, not a test (`cargo bench --bench fleet_10k`, which
//! bench/fleet-10k.sh runs): the fleet's passes over a journal of 10,000
//! hosts. A 40-host lab (loaders on a quarter of the hosts, real products
//! on most) is scanned through the real binary; its snapshots are then
//! recorded 250 times over under 10,000 host names (each copy of a loader's
//! file gets a hash of its own, as loaders draw them), and the two passes
//! run over that journal: the judgement `scan` runs after its hosts (in
//! this process, its time and the growth of this process's peak memory),
//! and `cauterize stack` (the binary: its time and peak memory). Loopback
//! range: 127.96.0.0/16.

#[path = "../tests/common/harness.rs"]
mod harness;

use std::path::Path;
use std::time::Instant;

use cauterize::detect::{DetectContext, detect};
use cauterize::journal::{Journal, ScanResult};
use cauterize::lab::malware::{Family, FamilyProfile};
use cauterize::lab::world::benign::BenignProduct;
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use harness::LabRun;

const LAB_HOSTS: usize = 40;
const FLEET: usize = 10_000;

/// This process's peak resident memory so far, in MB.
fn peak_mb() -> f64 {
    harness::peak_rss() as f64 / 1e6
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    harness::raise_fd_limit();
    let spec = lab::scenario::simple(LAB_HOSTS as u32, std::net::Ipv4Addr::new(127, 96, 0, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    let families = [Family::Emotet, Family::TrickBot, Family::Qakbot, Family::Dridex, Family::IcedId];
    for (i, w) in world.hosts.iter_mut().enumerate() {
        if i % 4 == 0 {
            w.infections.push(FamilyProfile::documented(families[i / 4 % families.len()]).without_spread());
        }
        if i % 5 != 0 {
            w.benign.extend([BenignProduct::OneDrive, BenignProduct::Teams, BenignProduct::GoogleUpdate, BenignProduct::Zoom]);
        }
    }
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&spec)).unwrap();
    let run = LabRun { lab, dir, inventory };
    let small = run.dir.path().join("small");
    let scan = run.cauterize("scan", &["--engagement", &small.display().to_string(), "--json"]).await;
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let scans = Journal::open(&small).unwrap().latest_scans(None).unwrap();
    assert_eq!(scans.len(), LAB_HOSTS);
    let body: usize = scans.iter().map(|s| serde_json::to_string(&s.snapshot).unwrap().len()).sum();
    println!("lab snapshots: {LAB_HOSTS}, {:.0} KB of JSON each on average", body as f64 / LAB_HOSTS as f64 / 1024.0);
    let units: Vec<_> = scans
        .iter()
        .map(|s| cauterize::fleet::units::of_host(&s.host, s.snapshot_id, &s.snapshot, &s.findings))
        .collect();
    let count: usize = units.iter().map(|h| h.units.len()).sum();
    let text: usize = units
        .iter()
        .flat_map(|h| &h.units)
        .map(|u| u.what.len() + u.sha256.as_ref().map_or(0, String::len) + u.payload.as_ref().map_or(0, |p| p.path.len())
            + u.shape.as_ref().map_or(0, |s| s.location.len() + s.mechanism.len() + s.launch.len()))
        .sum();
    println!("units the fleet keeps: {:.1} per host, {:.0} bytes of text each", count as f64 / LAB_HOSTS as f64, text as f64 / count.max(1) as f64);
    for u in units.iter().take(2).flat_map(|h| &h.units) {
        println!("    {}", u.what);
    }

    // 10,000 hosts: every lab snapshot 250 times, loader files re-hashed.
    let big = run.dir.path().join("big");
    let started = Instant::now();
    {
        let mut j = Journal::open(&big).unwrap();
        let r = j.begin_run("scan", &[]).unwrap();
        for i in 0..FLEET {
            let mut snap = scans[i % LAB_HOSTS].snapshot.clone();
            let name = format!("WS-{i:05}");
            snap.computer_name = name.clone();
            for f in &mut snap.files {
                if f.signature != "valid" && !f.sha256.is_empty() {
                    f.sha256 = cauterize::journal::sha256_hex(format!("{}{i}", f.sha256).as_bytes());
                }
            }
            let findings = detect(&snap, &DetectContext::default());
            j.record_scan(r, &name, "10.0.0.1", 1, ScanResult::Collected { snapshot: &snap, findings: &findings }).unwrap();
        }
        j.end_run(r, 0).unwrap();
    }
    let size = std::fs::metadata(big.join("cauterize.db")).map(|m| m.len()).unwrap_or(0);
    println!("journal of {FLEET} hosts written in {:.1} s ({:.0} MB)", started.elapsed().as_secs_f64(), size as f64 / 1e6);

    let before = peak_mb();
    let started = Instant::now();
    let mut j = Journal::open(&big).unwrap();
    let outcome = cauterize::fleet::pass::judge_journal(&mut j).unwrap();
    let judge_secs = started.elapsed().as_secs_f64();
    let after = peak_mb();
    println!(
        "fleet judgement over {} hosts: {judge_secs:.1} s; peak memory of this process {before:.0} MB before, {after:.0} MB after; lifted: {:?}",
        outcome.hosts, outcome.counts
    );
    assert_eq!(outcome.hosts, FLEET);

    let eng = big.display().to_string();
    let stack = Path::new("/usr/bin/time");
    let out = tokio::process::Command::new(stack)
        .args(["-f", "%e s, %M KB peak", harness::bin().to_str().unwrap(), "stack", "--engagement", &eng, "--top", "3"])
        .output()
        .await
        .expect("/usr/bin/time runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("cauterize stack over {FLEET} hosts: {}", stderr.lines().last().unwrap_or(""));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.status.success(), "{stderr}");
}
