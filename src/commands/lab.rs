//! `cauterize lab serve`: run the simulated network in the foreground,
//! write an inventory that reaches it, and say on stderr every few seconds
//! how the outbreak stands (lab time, infected, clean, contained, down),
//! with a summary at exit.

use crate::cli::LabServeArgs;
use crate::lab::scenario::Scenario;
use crate::lab::{self, Lab, LabSpec};
use anyhow::Context;

/// Build the lab from `--scenario` or `--hosts`, serve until Ctrl-C.
pub async fn serve(args: &LabServeArgs) -> anyhow::Result<i32> {
    let started = std::time::Instant::now();
    let mut scenario = match &args.scenario {
        Some(path) => lab::scenario::load_scenario(path)?,
        None => Scenario::derived(
            lab::scenario::simple(args.hosts, args.base_address, args.port),
            lab::LabSettings::default(),
        ),
    };
    if args.https {
        scenario.spec.hosts.iter_mut().for_each(|h| h.https = true);
    }
    if let Some(speed) = args.speed {
        scenario.world.lab.speed = speed;
    }
    if let Some(seed) = args.seed {
        scenario.world.lab.seed = seed;
    }
    let (speed, seed) = (scenario.world.lab.speed, scenario.world.lab.seed);
    let lab = Lab::start_world(scenario.spec, scenario.world).await?;
    let start_secs = started.elapsed().as_secs_f64();
    let ca_file = write_lab_inventory(&lab, &args.inventory_out)?;
    let spec = lab.spec();
    eprintln!(
        "lab: {} hosts ({} listening) on {}..{} port {}",
        spec.hosts.len(),
        listening(&lab),
        spec.hosts.first().map(|h| h.address.to_string()).unwrap_or_default(),
        spec.hosts.last().map(|h| h.address.to_string()).unwrap_or_default(),
        spec.hosts.first().map(|h| h.port).unwrap_or(args.port),
    );
    eprintln!("lab: inventory written to {}", args.inventory_out.display());
    if let Some(ca) = ca_file {
        eprintln!("lab: HTTPS hosts (port 5986) use the lab CA written to {}", ca.display());
    }
    eprintln!("lab: started in {start_secs:.1}s; lab time runs {speed}x wall time; seed {seed}");
    eprintln!("lab: try `cauterize exec -i {} -- hostname`; Ctrl-C stops the lab", args.inventory_out.display());
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut every = tokio::time::interval(SUMMARY_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            r = &mut ctrl_c => { r.context("waiting for Ctrl-C")?; break }
            _ = every.tick() => eprintln!("lab: {}", census_line(&lab)),
        }
    }
    let (census, stats) = (census_line(&lab), lab.stats());
    let outbreak = lab.outbreak().to_string();
    lab.stop().await;
    eprintln!("lab: stopped at {census}");
    eprintln!("lab: outbreak: {outbreak}");
    eprintln!("lab: WinRM: {stats}");
    Ok(crate::exit::OK)
}

/// How often the live summary is printed.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// One line: lab time (since the start) and the network's counts.
fn census_line(lab: &Lab) -> String {
    let c = lab.census();
    let t = c.now.secs_since(lab.network().clock().start()).max(0);
    format!(
        "lab time +{}h{:02}m{:02}s: {} infected, {} clean, {} contained, {} down (of {})",
        t / 3600,
        t / 60 % 60,
        t % 60,
        c.infected,
        c.clean,
        c.contained,
        c.down,
        c.hosts
    )
}

/// Hosts that answer on their WinRM port.
fn listening(lab: &Lab) -> usize {
    lab.spec()
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, h)| h.fault != lab::HostFault::WinrmDisabled && lab.network().is_up(*i))
        .count()
}

/// Write the running lab's inventory to `path`; when some hosts have
/// HTTPS, write the lab CA beside it (`<inventory>.ca.pem`, returned) and
/// reach those hosts over HTTPS with that CA.
pub fn write_lab_inventory(lab: &Lab, path: &std::path::Path) -> anyhow::Result<Option<std::path::PathBuf>> {
    let spec = lab.spec();
    if !spec.hosts.iter().any(|h| h.https) {
        return write_inventory(spec, path).map(|()| None);
    }
    let ca = lab::inventory_out::ca_file_for(path);
    std::fs::write(&ca, lab.ca_pem()).with_context(|| format!("cannot write the lab CA to {}", ca.display()))?;
    // Named relative to the inventory's folder, so the pair can move together.
    let name = ca.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(path, lab::inventory_out::inventory_yaml_with_ca(spec, &name))
        .with_context(|| format!("cannot write the lab inventory to {}", path.display()))?;
    Ok(Some(ca))
}

/// Write the lab's inventory where the user asked.
pub fn write_inventory(spec: &LabSpec, path: &std::path::Path) -> anyhow::Result<()> {
    std::fs::write(path, lab::inventory_out::inventory_yaml(spec))
        .with_context(|| format!("cannot write the lab inventory to {}", path.display()))
}
