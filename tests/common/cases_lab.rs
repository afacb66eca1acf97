//! Cases of the project's case format (`lab::cases`) on lab hosts, for
//! the tests that run a case file through the real runtime path
//! (`cases_on_lab`, `benign_baseline`): one Windows 10 host per case with
//! the case placed on it, WinRM targets for every host, collection over
//! WinRM (retried when it failed, as collection is read-only), and
//! detection plus the planner with a playbook for one collected host.
#![allow(dead_code)] // each test crate uses part of it

use std::net::Ipv4Addr;
use std::time::Duration;

use cauterize::detect::{DetectContext, Finding, detect};
use cauterize::inventory::{
    ConnectionSettings, CredentialSpec, Inventory, ResolvedHost, SecretSource,
};
use cauterize::journal::StoredFinding;
use cauterize::lab::cases::place;
use cauterize::lab::cases::spec::Case;
use cauterize::lab::world::UserSpec;
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use cauterize::plan::{Flags, HostInput, HostPlan};
use cauterize::runtime::ops::Bounds;
use cauterize::runtime::snapshot::Snapshot;
use cauterize::transport::{HostTarget, prepare};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::targets::Fixed;

/// A WinRM target for every host of the lab, in spec order.
pub fn targets(spec: &lab::LabSpec) -> Vec<HostTarget> {
    let settings = ConnectionSettings {
        command_timeout: Duration::from_secs(600),
        ..ConnectionSettings::defaults_with("admin")
    };
    let inventory = Inventory {
        hosts: spec
            .hosts
            .iter()
            .map(|h| ResolvedHost {
                name: h.name.clone(),
                address: h.address.to_string(),
                groups: vec![],
                settings: settings.clone(),
            })
            .collect(),
        credentials: vec![CredentialSpec {
            name: "admin".into(),
            user: lab::scenario::LAB_USER.into(),
            domain: lab::scenario::LAB_DOMAIN.into(),
            source: SecretSource::Prompt,
        }],
        ..Default::default()
    };
    prepare(
        &inventory,
        &mut Fixed(lab::scenario::LAB_PASSWORD.to_string()),
    )
    .hosts
    .into_iter()
    .map(|t| t.expect("target prepared"))
    .collect()
}

/// One lab host per case (Windows 10, the lab admin's profile plus the
/// case's users), each case placed on its host. Returns the lab and the
/// host name of each case.
pub async fn lab_with(cases: &[&Case], base: Ipv4Addr) -> (Lab, Vec<String>) {
    let mut spec = lab::scenario::simple(cases.len() as u32, base, 5985);
    let win10 = lab::scenario::presets::preset("win10").expect("win10 preset");
    for h in &mut spec.hosts {
        h.os = win10.clone();
    }
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    for (w, c) in world.hosts.iter_mut().zip(cases) {
        let admin: Vec<UserSpec> = w.users.iter().take(1).cloned().collect();
        w.users = admin.into_iter().chain(place::users(c)).collect();
    }
    let names: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
    let lab = Lab::start_world(spec, world).await.expect("lab starts");
    let now = lab.now();
    for (c, name) in cases.iter().zip(&names) {
        lab.with_host(name, |h| place::place(c, h, now))
            .unwrap_or_else(|e| panic!("{}: cannot be placed: {e}", c.id));
    }
    (lab, names)
}

/// Collection is read-only, so a call that failed is safely made again
/// (at most twice); what failed is returned to be shown. (Under many
/// concurrent sessions winrm-rs now and then sends a sealed request on a
/// connection that lost its NTLM session and reports a 401 rather than
/// resending.)
pub async fn collect(
    t: &HostTarget,
    cancel: &CancellationToken,
) -> (
    Result<Snapshot, cauterize::runtime::RuntimeError>,
    Vec<String>,
) {
    let mut retried = Vec::new();
    loop {
        match cauterize::runtime::collect(t, &Bounds::default(), cancel).await {
            Err(e) if retried.len() < 2 => retried.push(e.to_string()),
            r => return (r, retried),
        }
    }
}

/// Collect every host of `lab` over WinRM (16 at a time), each retried
/// as [`collect`] does; returns, in spec order, each host's snapshot and
/// the errors of the calls that were made again. A host that cannot be
/// collected fails the test, naming its case.
pub async fn collect_all(lab: &Lab, cases: &[&Case]) -> Vec<(Snapshot, Vec<String>)> {
    let targets = targets(lab.spec());
    let cancel = CancellationToken::new();
    let mut snaps: Vec<(usize, Snapshot, Vec<String>)> =
        futures::stream::iter(targets.iter().enumerate())
            .map(|(i, t)| {
                let cancel = cancel.clone();
                async move {
                    let (s, retried) = collect(t, &cancel).await;
                    let s = s.unwrap_or_else(|e| panic!("{} collects: {e}", cases[i].id));
                    (i, s, retried)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
    snaps.sort_by_key(|(i, _, _)| *i);
    snaps.into_iter().map(|(_, s, r)| (s, r)).collect()
}

/// Detection and the plan of one collected host.
pub fn judge(
    name: &str,
    snap: &Snapshot,
    ctx: &DetectContext,
    pb: &cauterize::playbook::Playbook,
) -> (Vec<Finding>, HostPlan) {
    let found = detect(snap, ctx);
    let stored: Vec<StoredFinding> = found.iter().map(StoredFinding::from).collect();
    let input = HostInput {
        host: name,
        snapshot_id: 1,
        snapshot: snap,
        findings: &stored,
    };
    let mut plan = cauterize::plan::build(&[input], vec![], pb, &Flags::default());
    (found, plan.hosts.remove(0))
}

/// The steps a finding calls for that the plan would carry out
/// (containment and the reboot are every host's, so not counted), one
/// line each with why.
pub fn active_ops(p: &HostPlan) -> Vec<String> {
    p.items
        .iter()
        .filter(|i| i.active && i.group.is_some())
        .map(|i| format!("{:?}: {}", i.step, i.why))
        .collect()
}

/// The shipped default playbook.
pub fn default_playbook() -> cauterize::playbook::Playbook {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/default.yml");
    cauterize::playbook::load(&path).expect("the default playbook loads")
}
