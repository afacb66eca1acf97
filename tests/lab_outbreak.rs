//! The outbreak runs in the lab: infections spread over SMB as lab time
//! passes (ground truth through `Lab::truth`), SMB block rules on every
//! host stop it, hosts that are off refuse WinRM until they boot, and
//! reboots take the host away for their down time (or for good when they
//! hang). Lab time runs thousands of times faster than wall time here.
//! Loopback ranges used here: 127.70.0.0/16 .. 127.73.0.0/16.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cauterize::lab::Lab;
use cauterize::lab::outbreak::{Power, smb};
use cauterize::lab::scenario::{self, Scenario};

/// examples/lab/outbreak.yml moved to `base`, lab time at `speed`.
fn outbreak(base: &str, speed: f64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.replace("base_address: 127.74.0.1", &format!("base_address: {base}"));
    let mut s = scenario::parse_scenario(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    s.world.lab.speed = speed;
    s.world.lab.step_every = Duration::from_millis(50);
    s
}

/// Hosts with a live loader, by ground truth.
fn infected(lab: &Lab) -> BTreeSet<String> {
    lab.spec()
        .hosts
        .iter()
        .map(|h| h.name.clone())
        .filter(|n| lab.truth(n).infected())
        .collect()
}

/// Wait until lab time has advanced `lab_secs` from `from`.
async fn until_lab(lab: &Lab, from: cauterize::lab::world::LabTime, lab_secs: i64) {
    while lab.now().secs_since(from) < lab_secs {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_intervention_the_infection_grows() {
    let s = outbreak("127.70.0.1", 7200.0);
    let lab = Lab::start_world(s.spec, s.world).await.expect("lab starts");
    let t0 = lab.now();
    let first = infected(&lab);
    assert!(
        (80..=110).contains(&first.len()),
        "about a fifth infected at start: {}",
        first.len()
    );
    until_lab(&lab, t0, 3 * 3600).await;
    let later = infected(&lab);
    assert!(first.is_subset(&later), "nothing cleans itself");
    assert!(
        later.len() >= first.len() + 50,
        "three lab hours of SMB spread: {} infected at start, {} later ({})",
        first.len(),
        later.len(),
        lab.outbreak()
    );
    // Spread is recorded on the host it reached.
    let spread = later
        .difference(&first)
        .next()
        .map(|n| lab.truth(n))
        .expect("a newly infected host");
    assert!(
        spread
            .infections
            .iter()
            .any(|i| matches!(i.origin, cauterize::lab::malware::Origin::Spread { .. })),
        "{:?}",
        spread.infections
    );
    assert!(lab.census().infected >= later.len());
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smb_blocked_on_every_host_stops_the_spread() {
    let s = outbreak("127.71.0.1", 7200.0);
    let lab = Lab::start_world(s.spec, s.world).await.expect("lab starts");
    let names: Vec<String> = lab.spec().hosts.iter().map(|h| h.name.clone()).collect();
    for n in &names {
        lab.with_host(n, |state| {
            smb::block_smb(state, "Cauterize containment", &[])
        });
    }
    assert!(names.iter().all(|n| lab.truth(n).smb_blocked));
    assert_eq!(lab.census().contained, names.len());
    // Steps already under way when the rules went in are counted by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t1 = lab.now();
    let before = infected(&lab);
    let spreads = lab.outbreak().spreads.load(Ordering::Relaxed);
    let blocked = lab.outbreak().blocked.load(Ordering::Relaxed);
    until_lab(&lab, t1, 3 * 3600).await;
    let after = infected(&lab);
    assert_eq!(
        lab.outbreak().spreads.load(Ordering::Relaxed),
        spreads,
        "{}",
        lab.outbreak()
    );
    // (laptops that were off come back with what they already carried)
    let by_smb: Vec<&String> = after
        .difference(&before)
        .filter(|n| {
            lab.truth(n)
                .infections
                .iter()
                .any(|i| matches!(i.origin, cauterize::lab::malware::Origin::Spread { .. }))
        })
        .collect();
    assert!(
        by_smb.is_empty(),
        "no host infected over SMB after it was blocked: {by_smb:?}"
    );
    assert!(before.is_subset(&after));
    assert!(
        lab.outbreak().blocked.load(Ordering::Relaxed) > blocked + 50,
        "the loaders kept trying and the firewall stopped them: {}",
        lab.outbreak()
    );
    lab.stop().await;
}

const POWER: &str = "\
base_address: 127.72.0.1
lab: {speed: 3600, seed: 3, step: 20ms}
groups:
  - name: ON-1
    reboot_down: 10m
  - name: LATE-1
    offline_until: 1h
  - name: HANG-1
    reboot_hangs: true
";

async fn refuses(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

/// Poll until `addr` accepts (true) or refuses (false) connections, for at
/// most `wall`.
async fn becomes(addr: SocketAddr, accepting: bool, wall: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wall;
    loop {
        if refuses(addr).await != accepting {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_refuse_winrm_while_off_and_answer_once_booted() {
    let s =
        scenario::parse_scenario(POWER, Path::new("power.yml")).unwrap_or_else(|e| panic!("{e}"));
    let addr = |i: usize| SocketAddr::new(s.spec.hosts[i].address.into(), s.spec.hosts[i].port);
    let (on, late, hang) = (addr(0), addr(1), addr(2));
    let lab = Lab::start_world(s.spec.clone(), s.world.clone())
        .await
        .expect("lab starts");

    // Off at start; one lab hour (a wall second) later it boots, and WinRM
    // answers 30 lab seconds after that.
    assert!(refuses(late).await, "off at start");
    assert!(matches!(
        lab.truth("LATE-1").power,
        Power::Down { until: Some(_) }
    ));
    assert!(
        becomes(late, true, Duration::from_secs(10)).await,
        "it came online"
    );
    assert_eq!(lab.truth("LATE-1").power, Power::Up);

    // A reboot: refused at once, back after ten lab minutes.
    assert!(!refuses(on).await);
    let boots = lab.truth("ON-1").boot_count;
    lab.request_reboot("ON-1").expect("a running host reboots");
    assert!(
        becomes(on, false, Duration::from_secs(1)).await,
        "down while rebooting"
    );
    assert!(
        becomes(on, true, Duration::from_secs(10)).await,
        "back after its down time"
    );
    assert_eq!(lab.truth("ON-1").boot_count, boots + 1);

    // A reboot that hangs never comes back.
    lab.request_reboot("HANG-1")
        .expect("a running host reboots");
    assert!(becomes(hang, false, Duration::from_secs(1)).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(refuses(hang).await, "still down an hour and a half later");
    assert_eq!(lab.truth("HANG-1").power, Power::Hung);
    assert!(
        lab.request_reboot("HANG-1").is_err(),
        "a hung host takes no reboot request"
    );
    lab.stop().await;
}

/// Indices of the hosts a scenario infects at start.
fn seeded(s: &Scenario) -> Vec<usize> {
    s.world
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.infections.is_empty())
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn the_same_seed_builds_the_same_network() {
    let a = outbreak("127.73.0.1", 60.0);
    let b = outbreak("127.73.0.1", 60.0);
    assert_eq!(a.world, b.world);
    let infected_at_start = seeded(&a);
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab/outbreak.yml"),
    )
    .unwrap_or_default()
    .replace("seed: 7", "seed: 8");
    let c = scenario::parse_scenario(&text, Path::new("outbreak.yml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let other = seeded(&c);
    assert_eq!(infected_at_start.len(), other.len());
    assert_ne!(infected_at_start, other, "another seed picks other hosts");
}
