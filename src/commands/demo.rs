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

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use crate::cli::{Cli, Command, DemoArgs};
use crate::lab::judge::Before;
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

/// Each host as the lab sees it now ([`lab::judge::after`]) and the
/// journal says.
fn after_views(lab: &Lab, before: &Before, engagement: &Path) -> anyhow::Result<Vec<HostView>> {
    let journal = super::status::open(engagement)?;
    let status = crate::report::status_view::build(&super::status::read(&journal)?, None, None);
    Ok(lab::judge::after(lab, before)
        .into_iter()
        .map(|truth| {
            let tool = status.hosts.iter().find(|s| s.host.eq_ignore_ascii_case(&truth.host));
            HostView {
                reinfected: !truth.infected_since.is_empty(),
                host: truth.host,
                infected_at_start: truth.infected_at_start,
                clean_at_end: truth.clean_at_end,
                contained_at_end: truth.contained_at_end,
                benign_removed: truth.benign_removed,
                tool_state: tool.map_or_else(|| "not in the operation".to_string(), |t| t.state.clone()),
                tool_why: tool.and_then(|t| t.why.clone()),
            }
        })
        .collect())
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
