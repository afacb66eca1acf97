//! `cauterize lab serve`: run the simulated network in the foreground and
//! write an inventory that reaches it.

use crate::cli::LabServeArgs;
use crate::lab::{self, Lab, LabSpec};
use anyhow::Context;

/// Build the lab from `--scenario` or `--hosts`, serve until Ctrl-C.
pub async fn serve(args: &LabServeArgs) -> anyhow::Result<i32> {
    let spec = match &args.scenario {
        Some(path) => lab::scenario::load(path)?,
        None => lab::scenario::simple(args.hosts, args.base_address, args.port),
    };
    let lab = Lab::start(spec).await?;
    write_inventory(lab.spec(), &args.inventory_out)?;
    let spec = lab.spec();
    eprintln!(
        "lab: {} hosts ({} listening) on {}..{} port {}",
        spec.hosts.len(),
        listening(spec),
        spec.hosts.first().map(|h| h.address.to_string()).unwrap_or_default(),
        spec.hosts.last().map(|h| h.address.to_string()).unwrap_or_default(),
        spec.hosts.first().map(|h| h.port).unwrap_or(args.port),
    );
    eprintln!("lab: inventory written to {}", args.inventory_out.display());
    eprintln!("lab: try `cauterize exec -i {} -- hostname`; Ctrl-C stops the lab", args.inventory_out.display());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    let stats = lab.stats();
    lab.stop().await;
    eprintln!("lab: stopped. {stats}");
    Ok(crate::exit::OK)
}

/// Hosts that answer on their WinRM port.
fn listening(spec: &LabSpec) -> usize {
    spec.hosts
        .iter()
        .filter(|h| !matches!(h.fault, lab::HostFault::Down | lab::HostFault::WinrmDisabled))
        .count()
}

/// Write the lab's inventory where the user asked.
pub fn write_inventory(spec: &LabSpec, path: &std::path::Path) -> anyhow::Result<()> {
    std::fs::write(path, lab::inventory_out::inventory_yaml(spec))
        .with_context(|| format!("cannot write the lab inventory to {}", path.display()))
}
