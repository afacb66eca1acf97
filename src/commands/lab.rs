//! `cauterize lab serve`: run the simulated network in the foreground and
//! write an inventory that reaches it.

use crate::cli::LabServeArgs;
use crate::lab::{self, Lab, LabSpec};
use anyhow::Context;

/// Build the lab from `--scenario` or `--hosts`, serve until Ctrl-C.
pub async fn serve(args: &LabServeArgs) -> anyhow::Result<i32> {
    let mut spec = match &args.scenario {
        Some(path) => lab::scenario::load(path)?,
        None => lab::scenario::simple(args.hosts, args.base_address, args.port),
    };
    if args.https {
        spec.hosts.iter_mut().for_each(|h| h.https = true);
    }
    let lab = Lab::start(spec).await?;
    let ca_file = write_lab_inventory(&lab, &args.inventory_out)?;
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
    if let Some(ca) = ca_file {
        eprintln!("lab: HTTPS hosts (port 5986) use the lab CA written to {}", ca.display());
    }
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
