//! The whole operation on a spreading outbreak of the shape of
//! examples/lab/outbreak.yml, judged by the lab's ground truth
//! ([`cauterize::lab::judge`], the lab's power history), never by the
//! tool's view: [`operate`] runs the real binary's `cauterize run --yes`
//! (scan, plan, contain, purge, reboot waves, verify, release by policy),
//! then `release --accept-unreached` for the hosts it could not reach,
//! then keeps the lab running two lab hours; [`assert_accepted`] checks
//! what the acceptance asks and [`print_figures`] prints the outcome.
//! The journal is read only for what the tool decided (the hosts it set
//! aside, the re-purge rounds each host needed, phase times, containment
//! skew). Used by tests/operation/operation_outbreak.rs (60 hosts, CI: the
//! run with containment and its negative control) and
//! benches/operation_outbreak.rs (bench/operation-outbreak.sh: 500 hosts,
//! or the 60).
#![allow(dead_code)] // each test crate uses part of the harness

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cauterize::journal::Journal;
use cauterize::lab::judge::{self, Before};
use cauterize::lab::network::history::{self, PowerChange};
use cauterize::lab::scenario;
use cauterize::lab::world::LabTime;
use cauterize::lab::{HostFault, Lab};
use super::harness::{self, LabRun, Run};

/// Most hosts down at once in the test's playbook.
pub const MAX_DOWN: usize = 6;

/// The test's playbook: the built-in rules with reboots that fit the lab
/// (a canary, then the rest, at most [`MAX_DOWN`] down at once, at most 2
/// failed reboots). The dead-man is a week (the most allowed): the lab's
/// clock runs hundreds of times faster than the tool's, and a 4-hour
/// deadline would lift containment within a minute of wall time.
/// `contain_no_host`: the negative control's playbook, which contains no
/// host: every host of the lab is named in `contain.never.hosts` by the
/// globs of its names' prefixes (a lone `*` is refused).
pub fn playbook(lab: &Lab, contain_no_host: bool) -> String {
    let never = if contain_no_host {
        let mut prefixes: Vec<String> = lab.spec().hosts.iter().map(|h| format!("{}-*", h.name.split('-').next().unwrap_or_default())).collect();
        prefixes.sort();
        prefixes.dedup();
        let globs: Vec<String> = prefixes.iter().map(|p| format!("\"{p}\"")).collect();
        format!("  never:\n    hosts: [{}]\n", globs.join(", "))
    } else {
        String::new()
    };
    super::playbooks::fast_reboots("[1, \"100%\"]", &MAX_DOWN.to_string(), "2", &format!("  dead_man: 168h\n{never}"))
}

/// Which outbreak: CI's 60 hosts at 120 times wall time, or the README's
/// 500 at 60.
#[derive(Clone, Copy)]
pub enum Size {
    Ci,
    Full,
}

/// The outbreak's scenario moved to `base`.
pub fn outbreak(size: Size, base: &str) -> scenario::Scenario {
    let (file, at) = match size {
        Size::Ci => ("tests/data/outbreak-60.yml", "base_address: 127.152.0.1"),
        Size::Full => ("examples/lab/outbreak.yml", "base_address: 127.74.0.1"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(at), "{}: no `{at}`", path.display());
    let text = text.replace(at, &format!("base_address: {base}"));
    scenario::parse_scenario(&text, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// Give the loader files of each host the outbreak infects real bytes, as
/// the infection lands, until `until` resolves (see
/// [`Lab::give_loader_files_bytes`]: a real host's files can be read; the
/// lab's stand-ins, which the spread plants, cannot). `given` counts the
/// infections of each host whose files were given bytes already (the
/// ones [`Before::take`] saw); a host is touched again only when a new
/// infection lands on it, so a loader that alters its own file later
/// keeps what it did.
pub async fn with_readable_loader_files<T>(lab: &Lab, given: &mut BTreeMap<String, usize>, until: impl std::future::Future<Output = T>) -> T {
    tokio::pin!(until);
    loop {
        tokio::select! {
            out = &mut until => return out,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                for h in &lab.spec().hosts {
                    let n = lab.truth(&h.name).infections.len();
                    if n > given.get(&h.name).copied().unwrap_or(0) {
                        lab.give_loader_files_bytes(&h.name);
                        given.insert(h.name.clone(), n);
                    }
                }
            }
        }
    }
}

/// Wait until lab time is `secs` past `from`.
pub async fn until_lab(lab: &Lab, from: LabTime, secs: i64) {
    while lab.now().secs_since(from) < secs {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Seconds since midnight UTC of a journal time (`2026-12-07T21:15:51.123Z`),
/// days counted from the month's start (a run spans no month's end).
pub fn secs_of(at: &str) -> f64 {
    let num = |r: std::ops::Range<usize>| at.get(r).and_then(|s| s.parse::<f64>().ok()).unwrap_or_else(|| panic!("journal time {at}"));
    num(8..10) * 86_400.0 + num(11..13) * 3600.0 + num(14..16) * 60.0 + num(17..23)
}

/// What the journal says of the operation: each host's state and final
/// round, the first round each host had operations in, the phases'
/// times, and the containment skew.
pub struct Journaled {
    pub state: BTreeMap<String, String>,
    /// Re-purge rounds each host needed (0: its first purge was enough).
    pub round: BTreeMap<String, u32>,
    /// Reboots the tool asked each host for and saw asked (journal).
    pub reboots_asked: BTreeMap<String, usize>,
    /// (phase, seconds), in order.
    pub phases: Vec<(String, f64)>,
    /// First to last host contained, seconds (None: none was).
    pub skew: Option<f64>,
    pub contained: usize,
}

pub fn journaled(engagement: &Path) -> Journaled {
    let j = Journal::open_read_only(engagement).expect("journal");
    let op = j.latest_operation().unwrap().expect("an operation");
    let hosts = j.operation_hosts(op.id).unwrap();
    let mut reboots_asked: BTreeMap<String, usize> = BTreeMap::new();
    for a in j.operation_actions(op.id).unwrap() {
        if a.key.starts_with("reboot/") && a.key.ends_with("/ask") && matches!(a.outcome.as_deref(), Some("done")) {
            *reboots_asked.entry(a.host).or_default() += 1;
        }
    }
    let mut started: BTreeMap<String, f64> = BTreeMap::new();
    let mut phases = Vec::new();
    let mut contained_at = Vec::new();
    for e in j.operation_events(op.id).unwrap() {
        let v: serde_json::Value = serde_json::from_str(&e.message).unwrap_or_default();
        let phase = v["phase"].as_str().unwrap_or_default().to_string();
        match e.kind.as_str() {
            "phase_started" => {
                started.insert(phase, secs_of(&e.at));
            }
            "phase_finished" => {
                if let Some(s) = started.get(&phase) {
                    phases.push((phase, secs_of(&e.at) - s));
                }
            }
            "host_state" if v["state"] == "contained" => contained_at.push(secs_of(&e.at)),
            _ => {}
        }
    }
    let skew = contained_at.iter().copied().reduce(f64::max).zip(contained_at.iter().copied().reduce(f64::min)).map(|(hi, lo)| hi - lo);
    Journaled {
        state: hosts.iter().map(|h| (h.host.clone(), h.state.clone())).collect(),
        round: hosts.iter().map(|h| (h.host.clone(), h.round)).collect(),
        reboots_asked,
        phases,
        skew,
        contained: contained_at.len(),
    }
}

/// One whole operation on the outbreak, and what the lab says of it.
pub struct Operated {
    pub run: LabRun,
    pub before: Before,
    pub engagement: PathBuf,
    pub run_out: Run,
    pub release_out: Option<Run>,
    pub journal: Journaled,
    /// Hosts the lab had off or without WinRM at the start.
    pub unreachable: BTreeSet<String>,
    /// Hosts the tool set aside as unreached (or refused).
    pub unreached: BTreeSet<String>,
    /// Hosts the tool set aside for any reason (unreached, refused, left
    /// for a person, failed), accepted by hand.
    pub set_aside: BTreeSet<String>,
    /// Hosts the journal says were released (after the release by hand).
    pub released: BTreeSet<String>,
    /// What `cauterize status` printed after the run.
    pub unreached_listed: Option<String>,
    /// Lab time of the release (the end of `run` when nothing was held).
    pub released_at: LabTime,
    /// Wall seconds: the run, the release by hand.
    pub wall_run: f64,
    pub wall_release: f64,
    /// Contained hosts (SMB blocked, per the lab) when `run` ended.
    pub contained_after_run: BTreeSet<String>,
}

/// Start the outbreak at `base`, run the operation with the playbook,
/// release by hand accepting the unreached hosts, and keep the lab
/// running two lab hours after the release.
pub async fn operate(size: Size, base: &str, contain_no_host: bool) -> Operated {
    let s = outbreak(size, base);
    let run = LabRun::start_world(s.spec, s.world).await;
    let lab = &run.lab;
    let before = Before::take(lab);
    let mut given: BTreeMap<String, usize> = lab.spec().hosts.iter().map(|h| (h.name.clone(), lab.truth(&h.name).infections.len())).collect();
    let unreachable: BTreeSet<String> = lab
        .spec()
        .hosts
        .iter()
        .filter(|h| h.fault != HostFault::None || !lab.truth(&h.name).power.accepts_winrm())
        .map(|h| h.name.clone())
        .collect();
    let engagement = run.dir.path().join("engagement");
    let eng = engagement.display().to_string();
    let pb = run.write("playbook.yml", &playbook(lab, contain_no_host)).display().to_string();

    let started = Instant::now();
    let limit = match size {
        Size::Ci => harness::RUN_LIMIT,
        Size::Full => Duration::from_secs(3600),
    };
    let run_out = with_readable_loader_files(lab, &mut given, run.cauterize_within(limit, "run", &["--engagement", &eng, "-p", &pb, "--yes", "--no-progress"])).await;
    let wall_run = started.elapsed().as_secs_f64();
    println!("run: exit {} in {wall_run:.1} s\n{}\n{}", run_out.code, run_out.stdout, run_out.stderr);
    // 0 all clean and released, 2 partial, 3 nothing succeeded (the
    // negative control); 1 is a usage error.
    assert!(matches!(run_out.code, 0 | 2 | 3), "run: exit {}\n{}", run_out.code, run_out.stderr);
    let journal = journaled(&engagement);
    let unreached: BTreeSet<String> = journal
        .state
        .iter()
        .filter(|(_, s)| matches!(s.as_str(), "unreached" | "refused"))
        .map(|(h, _)| h.clone())
        .collect();
    let contained_after_run: BTreeSet<String> =
        lab.spec().hosts.iter().filter(|h| lab.truth(&h.name).smb_blocked).map(|h| h.name.clone()).collect();

    // The tool lists them (`status`, from the journal).
    let unreached_listed = if unreached.is_empty() {
        None
    } else {
        let out = harness::run(&["status", "--engagement", &eng]).await;
        Some(format!("{}{}", out.stdout, out.stderr))
    };

    // A person decides about the hosts the tool set aside (unreached, or
    // left for a person): here they are accepted by name and containment
    // is lifted. (The test then holds every reached host to the lab's
    // ground truth, accepted or not.)
    let set_aside: BTreeSet<String> = journal
        .state
        .iter()
        .filter(|(_, s)| matches!(s.as_str(), "unreached" | "refused" | "needs_person" | "reboot_failed" | "purge_failed"))
        .map(|(h, _)| h.clone())
        .collect();
    let started = Instant::now();
    let release_out = if set_aside.is_empty() {
        None
    } else {
        let mut args = vec!["--engagement", eng.as_str(), "--no-progress"];
        for h in &set_aside {
            args.extend(["--accept-unreached", h.as_str()]);
        }
        let out = with_readable_loader_files(lab, &mut given, run.cauterize_within(limit, "release", &args)).await;
        println!("release: exit {}\n{}\n{}", out.code, out.stdout, out.stderr);
        Some(out)
    };
    let wall_release = started.elapsed().as_secs_f64();
    let released: BTreeSet<String> =
        journaled(&engagement).state.into_iter().filter(|(_, s)| s == "released").map(|(h, _)| h).collect();
    let released_at = lab.now();
    until_lab(lab, released_at, 2 * 3600).await;
    Operated {
        before,
        engagement,
        run_out,
        release_out,
        journal,
        unreachable,
        unreached,
        set_aside,
        released,
        unreached_listed,
        released_at,
        wall_run,
        wall_release,
        contained_after_run,
        run,
    }
}

/// Per host, the lab's reboots since the operation began, and when the
/// first one began.
pub fn reboots(op: &Operated) -> (BTreeMap<String, usize>, BTreeMap<String, LabTime>) {
    let h = op.run.lab.power_history();
    let counts = history::reboots_since(&h, op.before.at);
    let mut first = BTreeMap::new();
    for (at, host, change) in &h {
        if *change == PowerChange::ShuttingDown && *at >= op.before.at {
            first.entry(host.clone()).or_insert(*at);
        }
    }
    (counts, first)
}

/// Hosts the operation rebooted (per the lab) that were infected after
/// their first reboot: cleaned, then infected again.
pub fn reinfected_after_cleaning(op: &Operated, after: &[judge::After]) -> BTreeMap<String, usize> {
    let (_, first) = reboots(op);
    after
        .iter()
        .filter_map(|a| {
            let f = first.get(&a.host)?;
            let n = a.infected_since.iter().filter(|t| *t > f).count();
            (n > 0).then(|| (a.host.clone(), n))
        })
        .collect()
}

/// The figures the README quotes, printed.
pub fn print_figures(op: &Operated, after: &[judge::After]) {
    let lab = &op.run.lab;
    let reached_clean = after.iter().filter(|a| !op.unreached.contains(&a.host) && clean(lab, &a.host)).count();
    let reinfected_after_release = after.iter().filter(|a| a.infected_since.iter().any(|t| *t > op.released_at)).count();
    let infected_at_end = after.iter().filter(|a| lab.truth(&a.host).infected()).count();
    println!("== outcome (the lab's ground truth)");
    println!("hosts                        {}", after.len());
    println!("infected at start            {}", op.before.infected_hosts().len());
    println!("infected by spread meanwhile {}", after.iter().filter(|a| a.infected_at_start.is_empty() && !a.infected_since.is_empty()).count());
    println!("reached and clean at end     {reached_clean} of {}", after.len() - op.unreached.len());
    println!("live loader at end           {infected_at_end} (unreached hosts included)");
    println!("re-infected after cleaning   {}", reinfected_after_cleaning(op, after).len());
    println!("re-infected after release    {reinfected_after_release}");
    println!("benign files removed         {}", after.iter().map(|a| a.benign_removed.len()).sum::<usize>());
    println!("unreached (held the release) {} {:?}", op.unreached.len(), op.unreached);
    let person: Vec<&String> = op.set_aside.difference(&op.unreached).collect();
    println!("set aside for a person       {} {:?} (tool's view; accepted by hand)", person.len(), person);
    println!("released (journal)           {}", op.released.len());
    println!("still contained at end       {}", after.iter().filter(|a| a.contained_at_end).count());
    let (counts, _) = reboots(op);
    println!("reboots                      {} on {} hosts", counts.values().sum::<usize>(), counts.len());
    println!("most down at once            {} (playbook: {MAX_DOWN})", history::most_down_at_once(&op.run.lab.power_history()).0);
    println!("hosts contained              {}", op.journal.contained);
    println!("containment skew             {}", op.journal.skew.map_or("-".into(), |s| format!("{s:.2} s")));
    for (phase, secs) in &op.journal.phases {
        println!("phase {phase:<22} {secs:.1} s");
    }
    println!("wall: run {:.1} s, release by hand {:.1} s", op.wall_run, op.wall_release);
}

/// No live loader, no malicious persistence and no malicious file (the
/// lab's truth).
pub fn clean(lab: &Lab, host: &str) -> bool {
    let t = lab.truth(host);
    t.loader_processes.is_empty() && t.persistence.is_empty() && t.files.is_empty()
}

/// Everything the acceptance asks of the operation, from ground truth.
pub fn assert_accepted(op: &Operated) {
    let lab = &op.run.lab;
    let after = judge::after(lab, &op.before);
    print_figures(op, &after);
    assert!(op.before.infected_hosts().len() >= 8, "an outbreak: {:?}", op.before.infected_hosts());

    // Unreached hosts: exactly those the lab had off or without WinRM;
    // listed, and they held the release (containment stayed on every
    // host it was put on until they were accepted).
    assert_eq!(op.unreached, op.unreachable, "the hosts set aside as unreached are those the lab had off or without WinRM");
    assert_eq!(op.run_out.code, 2, "unreached hosts make the run partial");
    let eng = op.engagement.display().to_string();
    let listed = op.unreached_listed.as_ref().expect("`status` ran");
    for h in &op.unreached {
        let line = listed.lines().find(|l| l.split_whitespace().next() == Some(h.as_str()));
        let state = line.and_then(|l| l.split_whitespace().nth(1));
        assert!(matches!(state, Some("unreached" | "refused")), "{h} is not listed as set aside by `cauterize status --engagement {eng}`:\n{listed}");
    }
    assert!(op.contained_after_run.len() >= op.journal.contained, "the release waited for the unreached hosts");

    assert!(op.journal.contained > after.len() / 2, "most hosts were contained: {}", op.journal.contained);
    let release = op.release_out.as_ref().expect("a release by hand");
    assert_eq!(release.code, 0, "release: {}\n{}", release.stdout, release.stderr);
    assert!(!op.released.is_empty(), "nothing was released");

    let (counts, _) = reboots(op);
    for a in &after {
        let h = a.host.as_str();
        assert!(a.benign_removed.is_empty(), "{h}: benign files removed or changed: {:?}", a.benign_removed);
        // Containment gone wherever it was released.
        assert!(!(a.contained_at_end && op.released.contains(h)), "{h}: released, and still contained per the lab");
        if op.unreached.contains(h) {
            continue;
        }
        let t = lab.truth(h);
        assert!(
            clean(lab, h),
            "{h} (infected at start: {:?}) reached and not clean per the lab: loaders {:?}, persistence {:?}, files {:?}; the tool says {}",
            a.infected_at_start,
            t.loader_processes,
            t.persistence,
            t.files,
            op.journal.state[h]
        );
        // Rebooted once for its first purge, plus at most once per re-purge
        // round it needed, and exactly as often as the tool asked.
        let got = counts.get(h).copied().unwrap_or(0);
        let asked = op.journal.reboots_asked.get(h).copied().unwrap_or(0);
        let round = op.journal.round.get(h).copied().unwrap_or(0) as usize;
        assert_eq!(got, asked, "{h}: rebooted {got} times per the lab, the tool asked {asked} times");
        assert!(got <= round + 1, "{h}: rebooted {got} times per the lab for {round} re-purge round(s)");
        if !a.infected_at_start.is_empty() {
            assert!(got >= 1, "{h}: infected at start and never rebooted");
        }
    }
    // Nothing came back: no host infected after it was cleaned, none after
    // the release (two lab hours later).
    let again = reinfected_after_cleaning(op, &after);
    assert!(again.is_empty(), "infected again after their reboot: {again:?}");
    let late: Vec<&str> = after.iter().filter(|a| a.infected_since.iter().any(|t| *t > op.released_at)).map(|a| a.host.as_str()).collect();
    assert!(late.is_empty(), "infected after the release: {late:?}");

    // Wave limits held, per the lab's reboot history: never more hosts
    // down at once than the playbook allows, and the canary came back
    // before anyone else went down.
    let power = lab.power_history();
    let (most, when) = history::most_down_at_once(&power);
    assert!(most <= MAX_DOWN, "{most} hosts down at once at {when:?}, the playbook allows {MAX_DOWN}");
    let mut downs = power.iter().filter(|(at, _, c)| *c == PowerChange::ShuttingDown && *at >= op.before.at);
    let canary = downs.next().expect("reboots happened");
    let back = power.iter().find(|(at, h, c)| *c == PowerChange::WinRmUp && h == &canary.1 && *at >= canary.0).expect("the canary came back");
    if let Some(second) = downs.next() {
        assert!(second.0 >= back.0, "{} went down at {:?}, before the canary {} was back at {:?}", second.1, second.0, canary.1, back.0);
    }
}

