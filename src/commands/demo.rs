//! `cauterize demo`: the newcomer's first command. Starts an embedded lab
//! (a small simulated Windows network with a few realistic faults), then
//! runs the everyday commands against it and says what each one shows.

use crate::cli::{Cli, Command, DemoArgs};
use crate::lab::{self, HostFault, Lab, LabSpec};
use clap::Parser;

/// Run the demo; the exit code is 0 when every step ran as expected.
pub async fn run(args: &DemoArgs) -> anyhow::Result<i32> {
    let (spec, believed) = demo_spec(args);
    let dir = tempfile_dir()?;
    let inventory = dir.join("lab-inventory.yml");
    let lab = Lab::start(spec).await?;
    // The inventory holds what the operator believes: the lab password for
    // every host, including the one whose password was changed.
    super::lab::write_inventory(&believed, &inventory)?;
    let inv = inventory.display().to_string();

    say(&format!(
        "A lab of {} simulated Windows hosts is listening on loopback addresses ({}..). \
         It speaks WinRM as Windows does (NTLMv2, sealed messages). Its inventory: {inv}",
        lab.spec().hosts.len(),
        lab.spec().hosts.first().map(|h| h.address.to_string()).unwrap_or_default()
    ));
    say("Planted faults, as in a real network: one host is powered off, one has another \
         administrator password, one still runs Windows 7 with PowerShell 2.0.");

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
        "A limit pattern picks hosts by name, group or glob; each host answers for itself",
        &["exec", "-i", &inv, "-l", "WS-00*:!WS-005", "--no-progress", "--", "hostname"],
    )
    .await?;
    step(
        "Errors come back readable (PowerShell's CLIXML decoded)",
        &["exec", "-i", &inv, "-l", "WS-001", "--no-progress", "--", "Write-Error 'disk quota low'"],
    )
    .await?;

    let stats = lab.stats();
    lab.stop().await;
    say(&format!("Lab stopped. {stats}"));
    say("Next: `cauterize lab serve --hosts 50 --inventory-out lab.yml` runs a lab you can \
         point every command at; README.md explains inventories for real networks.");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(crate::exit::OK)
}

/// The demo network: `scenario::simple` plus two realistic faults, and the
/// spec the operator's inventory is written from (before the faults).
fn demo_spec(args: &DemoArgs) -> (LabSpec, LabSpec) {
    let believed = lab::scenario::simple(args.hosts.max(16), args.base_address, 5985);
    let mut spec = believed.clone();
    if let Some(host) = spec.hosts.get_mut(4) {
        host.fault = HostFault::Down;
    }
    if let Some(host) = spec.hosts.get_mut(10) {
        for account in &mut host.accounts {
            account.password = "another-local-admin-password".to_string();
        }
    }
    (spec, believed)
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
