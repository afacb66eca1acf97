//! `cauterize demo`: the newcomer's first command. Starts an embedded lab
//! (a simulated Windows network of 250 hosts, 24 running a loader, most
//! with real software that looks like one, four that cannot be reached),
//! then runs the whole operation against it through the very commands an
//! operator types (`run --yes`: scan, plan, contain, purge, reboot waves,
//! verify after boot, release by policy; then `release --accept-unreached`
//! by hand for the hosts it could not reach, and `report`), with the
//! phases' progress shown. It ends with the lab's ground truth beside the
//! tool's own view: counts over the network, the hosts a person looks at
//! (infected at the start, set aside, or wrong) line by line, and every
//! host in `ground-truth.json`; and it judges the outcome
//! ([`outcome`]): exit 0 when every infected host it reached is clean per
//! the lab, nothing came back, no benign file was removed and containment
//! was lifted; 2, saying
//! why, when not. Its folder (engagement, inventory, playbook, plan,
//! report, ground truth) is kept.

mod outcome;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use crate::cli::{Cli, Command, DemoArgs};
use crate::lab::{self, Lab, LabSpec};
use clap::Parser;
use outcome::HostView;

/// The demo's network (250 hosts, 24 infected, spreading off, lab time 20
/// times wall time).
const DEMO_SCENARIO: &str = include_str!("../../examples/lab/demo.yml");

/// The host whose administrator password the demo changes in the lab only.
const WRONG_PASSWORD_HOST: &str = "WS-011";

/// The demo's playbook: the built-in rules with reboots that fit a demo (a
/// canary, then five, then the rest; no pause between waves; a 5-second
/// countdown on the lab's sped-up clock; no settle before the verifying
/// scan, as the lab's users log on again as soon as a host is back).
const DEMO_PLAYBOOK: &str = "# The playbook `cauterize demo` runs with: the built-in one's rules, with
# reboot waves that fit a demo. `cauterize plan --help` and the built-in
# playbooks/default.yml document every setting.
playbook: 1
reboot:
  waves: [1, 5, \"100%\"]
  pause: 0s
  countdown: 5s
  return_timeout: 2m
  failure_budget: 0
verify:
  settle: 0s
";

/// Run the demo; the exit code is 0 when the outcome is right.
pub async fn run(args: &DemoArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let dir = demo_dir(args.dir.as_deref())?;
    let (scenario, believed) = demo_scenario(args)?;
    let speed = scenario.world.lab.speed;
    let lab = Lab::start_world(scenario.spec, scenario.world).await?;
    let code = operate_and_judge(&lab, &believed, &dir, (started, speed)).await;
    let stats = lab.stats();
    lab.stop().await;
    say(&format!("Lab stopped. {stats}"));
    code
}

/// Everything between the lab's start and its stop.
async fn operate_and_judge(lab: &Lab, believed: &LabSpec, dir: &Path, (started, speed): (Instant, f64)) -> anyhow::Result<i32> {
    let inventory = dir.join("lab-inventory.yml");
    let engagement = dir.join("engagement");
    let playbook = dir.join("playbook.yml");
    let report = dir.join("report.html");
    let truth_file = dir.join("ground-truth.json");
    // The inventory holds what the operator believes: the lab password for
    // every host, including the one whose password was changed.
    super::lab::write_inventory(believed, &inventory)?;
    std::fs::write(&playbook, DEMO_PLAYBOOK).with_context(|| format!("cannot write {}", playbook.display()))?;
    let before = Before::take(lab);
    let (inv, eng, pb) = (show(&inventory), show(&engagement), show(&playbook));

    let hosts = &lab.spec().hosts;
    say(&format!(
        "A lab of {} simulated Windows hosts is listening on loopback addresses ({} to {}), \
         speaking WinRM as Windows does (NTLMv2, sealed messages); its clock runs {speed} times \
         faster, so a reboot takes seconds. As in a real network: {} powered off, \
         {WRONG_PASSWORD_HOST} has another administrator password, {} still run Windows 7 with \
         PowerShell 2.0, {} run a loader ({}), and most carry real software that looks like one \
         (OneDrive, Teams, Google Update...). Everything the demo writes stays in {}.",
        hosts.len(),
        hosts.first().map(|h| h.address.to_string()).unwrap_or_default(),
        hosts.last().map(|h| h.address.to_string()).unwrap_or_default(),
        match down_hosts(lab).as_slice() {
            [one] => format!("{one} is"),
            many => format!("{} are", many.join(", ")),
        },
        hosts.iter().filter(|h| h.os.ps_version.starts_with("2.")).count(),
        before.infected.values().filter(|f| !f.is_empty()).count(),
        before.infected.values().flatten().collect::<std::collections::BTreeSet<_>>().into_iter().cloned().collect::<Vec<_>>().join(", "),
        dir.display()
    ));
    step(
        "The whole operation in one command: scan, plan, then (--yes) contain, purge, reboot in waves, verify after boot, release by policy",
        &["run", "-i", &inv, "--engagement", &eng, "-p", &pb, "--yes", "--progress-every", "2"],
    )
    .await?;
    let held = unreached_hosts(&engagement)?;
    if !held.is_empty() {
        say(&format!(
            "{} could not be reached and hold the release (containment stays until every host is \
             handled). A person decides: here the lab says they are not infected, so they are \
             accepted by name and containment is lifted.",
            held.join(", ")
        ));
        let mut argv = vec!["release", "-i", &inv, "--engagement", &eng];
        for h in &held {
            argv.extend(["--accept-unreached", h.as_str()]);
        }
        step("Release by hand, accepting the unreached hosts", &argv).await?;
    }
    step(
        "The report: one self-contained HTML page, from the journal alone",
        &["report", "--engagement", &eng, "-o", &show(&report)],
    )
    .await?;

    let views = after_views(lab, &before, &engagement)?;
    let json = serde_json::to_string_pretty(&views)? + "\n";
    std::fs::write(&truth_file, json).with_context(|| format!("cannot write {}", truth_file.display()))?;
    println!();
    println!("== The lab's ground truth (which cauterize cannot see) beside the tool's own view");
    print!("{}", outcome::render_counts(&views));
    println!();
    println!(
        "Hosts infected at the start, set aside, or wrong (every host, both views: {}):",
        truth_file.display()
    );
    print!("{}", outcome::render_table(views.iter().filter(|v| outcome::notable(v))));
    let problems = outcome::problems(&views);
    let cleaned = views.iter().filter(|v| !v.infected_at_start.is_empty() && !v.unreached() && v.clean_at_end).count();
    println!();
    println!("Report: {}", report.display());
    println!("Engagement (journal, evidence, plan): {}", engagement.display());
    println!("Demo folder (kept): {}", dir.display());
    println!("Took {:.0} s.", started.elapsed().as_secs_f64());
    if problems.is_empty() {
        println!(
            "Outcome right: every infected host reached ({cleaned}) is clean per the lab, none was infected again, no benign file was removed, containment was lifted."
        );
        Ok(crate::exit::OK)
    } else {
        println!("Outcome WRONG:");
        for p in &problems {
            println!("  {p}");
        }
        Ok(crate::exit::PARTIAL)
    }
}

/// What the lab says before the operation: loaders running, files (path
/// → SHA-256), the files loaders planted, and the time.
struct Before {
    infected: BTreeMap<String, Vec<String>>,
    files: BTreeMap<String, BTreeMap<String, String>>,
    loader_files: BTreeMap<String, Vec<String>>,
    at: lab::world::LabTime,
}

impl Before {
    /// The lab's ground truth now. Loaders' files get real bytes first (the
    /// lab keeps only the size and hash of its stand-ins, which no evidence
    /// copy can be made of; a real host's files can be read).
    fn take(lab: &Lab) -> Before {
        let mut infected = BTreeMap::new();
        let mut loader_files = BTreeMap::new();
        for host in &lab.spec().hosts {
            let files = lab.give_loader_files_bytes(&host.name);
            let truth = lab.truth(&host.name);
            let mut families: Vec<String> = truth.live_families.iter().map(|f| format!("{f:?}")).collect();
            families.sort();
            infected.insert(host.name.clone(), families);
            loader_files.insert(host.name.clone(), loader_paths(&truth, &files));
        }
        Before {
            infected,
            files: lab.file_hashes(),
            loader_files,
            at: lab.now(),
        }
    }
}

/// What the loaders placed on a host as the lab says (lower case): their
/// payloads and residue (`files`), the files of their persistence (a
/// Startup .lnk) and their folders (a path ending in `\`: anything under
/// it is theirs).
fn loader_paths(truth: &lab::network::HostTruth, files: &[String]) -> Vec<String> {
    let placed = truth.presence.families.values().flat_map(|p| p.persistence.iter().chain(&p.other));
    let mut paths: Vec<String> = files.to_vec();
    for a in placed {
        match &a.what {
            lab::malware::Artifact::File { path } => paths.push(path.clone()),
            lab::malware::Artifact::Dir { path } => paths.push(format!("{}\\", path.trim_end_matches('\\'))),
            _ => {}
        }
    }
    paths.iter().map(|p| p.to_lowercase()).collect()
}

/// Whether `path` (lower case) is one the loaders placed.
fn placed_by_loader(path: &str, loader: &[String]) -> bool {
    loader.iter().any(|l| if l.ends_with('\\') { path.starts_with(l.as_str()) } else { path == l })
}

/// Each host as the lab sees it now and the journal says.
fn after_views(lab: &Lab, before: &Before, engagement: &Path) -> anyhow::Result<Vec<HostView>> {
    let journal = super::status::open(engagement)?;
    let status = crate::report::status_view::build(&super::status::read(&journal)?, None, None);
    let after = lab.file_hashes();
    let mut views = Vec::new();
    for host in &lab.spec().hosts {
        let truth = lab.truth(&host.name);
        let loader_files = &before.loader_files[&host.name];
        let benign_removed = before.files[&host.name]
            .iter()
            .filter(|(path, sha)| after[&host.name].get(*path) != Some(*sha) && !placed_by_loader(path, loader_files))
            .map(|(path, _)| path.clone())
            .collect();
        let tool = status.hosts.iter().find(|s| s.host.eq_ignore_ascii_case(&host.name));
        views.push(HostView {
            host: host.name.clone(),
            infected_at_start: before.infected[&host.name].clone(),
            clean_at_end: truth.presence.is_neutralised(),
            reinfected: truth.infections.iter().any(|r| r.at > before.at),
            contained_at_end: truth.smb_blocked,
            benign_removed,
            tool_state: tool.map_or_else(|| "not in the operation".to_string(), |t| t.state.clone()),
            tool_why: tool.and_then(|t| t.why.clone()),
        });
    }
    Ok(views)
}

/// Hosts the journal's latest operation set aside as unreached or refused.
fn unreached_hosts(engagement: &Path) -> anyhow::Result<Vec<String>> {
    let journal = super::status::open(engagement)?;
    let Some(op) = journal.latest_operation()? else {
        return Ok(Vec::new());
    };
    Ok(journal
        .operation_hosts(op.id)?
        .into_iter()
        .filter(|h| matches!(h.state.as_str(), "unreached" | "refused"))
        .map(|h| h.host)
        .collect())
}

/// The hosts the scenario powers off.
fn down_hosts(lab: &Lab) -> Vec<String> {
    lab.spec().hosts.iter().filter(|h| h.fault == lab::HostFault::Down).map(|h| h.name.clone()).collect()
}

/// The demo network from its scenario, moved to `--base-address` (on
/// consecutive usable addresses from it, as the scenario places them), and
/// the spec the operator's inventory is written from (one host's password
/// differs only in the lab).
fn demo_scenario(args: &DemoArgs) -> anyhow::Result<(lab::scenario::Scenario, LabSpec)> {
    let path = Path::new("examples/lab/demo.yml (built in)");
    let mut scenario = lab::scenario::parse_scenario(DEMO_SCENARIO, path)?;
    if !args.base_address.is_loopback() {
        anyhow::bail!("--base-address {}: the demo's lab listens on loopback addresses only (127.x.y.z)", args.base_address);
    }
    let mut next = lab::scenario::first_address(args.base_address);
    let count = scenario.spec.hosts.len();
    for host in &mut scenario.spec.hosts {
        let Some(address) = next else {
            anyhow::bail!(
                "--base-address {}: no room for the demo's {count} hosts after it; give a lower one (127.20.0.1 by default)",
                args.base_address
            );
        };
        host.address = address;
        next = lab::scenario::next_address(address).filter(|a| a.is_loopback());
    }
    let believed = scenario.spec.clone();
    if let Some(host) = scenario.spec.hosts.iter_mut().find(|h| h.name == WRONG_PASSWORD_HOST) {
        for account in &mut host.accounts {
            account.password = "another-local-admin-password".to_string();
        }
    }
    Ok((scenario, believed))
}

/// Run one cauterize command in-process, as a user would type it.
async fn step(title: &str, argv: &[&str]) -> anyhow::Result<i32> {
    println!();
    println!("== {title}");
    println!("$ cauterize {}", argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" "));
    let cli = Cli::try_parse_from(std::iter::once("cauterize").chain(argv.iter().copied()))?;
    let code = match &cli.command {
        Command::Run(a) => super::operate::run(a).await?,
        Command::Release(a) => super::operate::release(a).await?,
        Command::Report(a) => super::report::run(a)?,
        other => anyhow::bail!("the demo does not run {other:?}"),
    };
    println!("(exit code {code})");
    Ok(code)
}

fn say(text: &str) {
    println!();
    println!("{text}");
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Quote an argument the way a POSIX shell user would type it.
fn shell_quote(arg: &str) -> String {
    if arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./,:=".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The folder the demo writes to and keeps: `--dir` (created; refused if
/// it already holds an engagement), else a new one in the system's
/// temporary folder.
fn demo_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match given {
        Some(d) => d.to_path_buf(),
        None => {
            let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            std::env::temp_dir().join(format!("cauterize-demo-{secs}-{}", std::process::id()))
        }
    };
    if dir.join("engagement").exists() {
        anyhow::bail!(
            "{} already holds a demo's engagement: give another --dir (or remove that folder)",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    Ok(dir)
}
