//! `cauterize demo`: the newcomer's first command. Starts an embedded lab
//! (a small simulated Windows network with loaders, look-alike software and
//! a few realistic faults), then runs the everyday commands against it and
//! says what each one shows, with the lab's ground truth beside the scan.

use crate::cli::{Cli, Command, DemoArgs};
use crate::lab::{self, Lab, LabSpec};
use clap::Parser;

/// The demo's network (24 hosts, six infected, spreading off).
const DEMO_SCENARIO: &str = include_str!("../../examples/lab/demo.yml");

/// Run the demo; the exit code is 0 when every step ran as expected.
pub async fn run(args: &DemoArgs) -> anyhow::Result<i32> {
    let (scenario, believed) = demo_scenario(args)?;
    let dir = tempfile_dir()?;
    let inventory = dir.join("lab-inventory.yml");
    let engagement = dir.join("engagement");
    std::fs::create_dir_all(&engagement)?;
    let lab = Lab::start_world(scenario.spec, scenario.world).await?;
    // The inventory holds what the operator believes: the lab password for
    // every host, including the one whose password was changed.
    super::lab::write_inventory(&believed, &inventory)?;
    let inv = inventory.display().to_string();
    let eng = engagement.display().to_string();
    let plan_file = dir.join("plan.yml").display().to_string();

    say(&format!(
        "A lab of {} simulated Windows hosts is listening on loopback addresses ({}..). \
         It speaks WinRM as Windows does (NTLMv2, sealed messages). Its inventory: {inv}",
        lab.spec().hosts.len(),
        lab.spec().hosts.first().map(|h| h.address.to_string()).unwrap_or_default()
    ));
    say("As in a real network: one host is powered off, one has another administrator password, \
         some still run Windows 7 with PowerShell 2.0, six run Emotet, TrickBot or Qakbot, and \
         most carry real software that looks like a loader (OneDrive, Teams, Google Update...).");

    step(
        "Preflight: which hosts can be reached, with what rights, OS and clock",
        &["check", "-i", &inv, "--no-progress"],
    )
    .await?;
    step(
        "A one-off command on every host; identical output is shown once, with its hosts",
        &["exec", "-i", &inv, "--no-progress", "--", "$PSVersionTable.PSVersion.ToString()"],
    )
    .await?;
    step(
        "Errors come back readable (PowerShell's CLIXML decoded)",
        &["exec", "-i", &inv, "-l", "WS-001", "--no-progress", "--", "Write-Error 'disk quota low'"],
    )
    .await?;
    step(
        "Scan (read-only): every autostart, task, service, WMI subscription and process, judged per family",
        &["scan", "-i", &inv, "--engagement", &eng, "--no-progress"],
    )
    .await?;
    compare_with_ground_truth(&lab, &engagement)?;
    step(
        "Plan: exactly what a purge would do on each host, for review (nothing is changed)",
        &["plan", "-i", &inv, "--engagement", &eng, "-o", &plan_file],
    )
    .await?;
    say(&format!("The plan file is {plan_file} (removed when the demo ends): delete a line to skip a step."));

    let stats = lab.stats();
    lab.stop().await;
    say(&format!("Lab stopped. {stats}"));
    say("Next: `cauterize lab serve --scenario examples/lab/outbreak.yml --inventory-out lab.yml` \
         runs a 500-host outbreak you can point every command at; README.md explains inventories \
         for real networks.");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(crate::exit::OK)
}

/// The demo network from its scenario, moved to `--base-address`, and the
/// spec the operator's inventory is written from (WS-011's password differs
/// only in the lab).
fn demo_scenario(args: &DemoArgs) -> anyhow::Result<(lab::scenario::Scenario, LabSpec)> {
    let path = std::path::Path::new("examples/lab/demo.yml (built in)");
    let mut scenario = lab::scenario::parse_scenario(DEMO_SCENARIO, path)?;
    let offset = u32::from(args.base_address).wrapping_sub(u32::from(std::net::Ipv4Addr::new(127, 20, 0, 1)));
    for host in &mut scenario.spec.hosts {
        host.address = std::net::Ipv4Addr::from(u32::from(host.address).wrapping_add(offset));
    }
    let believed = scenario.spec.clone();
    if let Some(host) = scenario.spec.hosts.iter_mut().find(|h| h.name == "WS-011") {
        for account in &mut host.accounts {
            account.password = "another-local-admin-password".to_string();
        }
    }
    Ok((scenario, believed))
}

/// Findings from the journal beside the lab's ground truth, host by host.
fn compare_with_ground_truth(lab: &Lab, engagement: &std::path::Path) -> anyhow::Result<()> {
    let journal = crate::journal::Journal::open(engagement)?;
    let scans = journal.latest_scans(None)?;
    println!();
    println!("== What the scan found, beside the lab's ground truth (which cauterize cannot see)");
    println!("{:<8} {:<28} {:<28} VERDICT", "HOST", "LAB: LOADERS PRESENT", "SCAN: FAMILIES FOUND");
    let (mut agree, mut scanned) = (0, 0);
    for host in &lab.spec().hosts {
        let truth = lab.truth(&host.name);
        let mut present: Vec<String> = truth.families.iter().map(|f| format!("{f:?}")).collect();
        present.sort();
        let found: Option<Vec<String>> = scans.iter().find(|s| s.host.eq_ignore_ascii_case(&host.name)).map(|s| {
            let mut families: Vec<String> =
                s.findings.iter().filter(|f| f.allowlisted.is_none()).map(|f| format!("{:?}", f.family)).collect();
            families.sort();
            families.dedup();
            families
        });
        let verdict = match &found {
            None => "not scanned",
            Some(found) if *found == present => "agree",
            Some(_) => "DIFFER",
        };
        scanned += usize::from(found.is_some());
        agree += usize::from(verdict == "agree");
        let show = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
        let found_text = found.as_deref().map(show).unwrap_or_else(|| "(no scan)".to_string());
        println!("{:<8} {:<28} {:<28} {verdict}", host.name, show(&present), found_text);
    }
    println!("{agree} of {scanned} scanned hosts agree with the ground truth.");
    Ok(())
}

/// Run one cauterize command in-process, as a user would type it.
async fn step(title: &str, argv: &[&str]) -> anyhow::Result<()> {
    println!();
    println!("== {title}");
    println!("$ cauterize {}", argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" "));
    let cli = Cli::try_parse_from(std::iter::once("cauterize").chain(argv.iter().copied()))?;
    let code = match &cli.command {
        Command::Check(a) => super::check::run(a).await?,
        Command::Exec(a) => super::exec::run(a).await?,
        Command::Scan(a) => super::scan::run(a).await?,
        Command::Plan(a) => super::plan::run(a).await?,
        other => anyhow::bail!("the demo does not run {other:?}"),
    };
    println!("(exit code {code})");
    Ok(())
}

fn say(text: &str) {
    println!();
    println!("{text}");
}

/// Quote an argument the way a POSIX shell user would type it.
fn shell_quote(arg: &str) -> String {
    if arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./,:=".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// A private temporary folder for the demo's inventory.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cauterize-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
