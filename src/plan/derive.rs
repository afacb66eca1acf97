//! From one finding to the step that removes what it is about, each
//! carrying what the scan saw (compare-and-delete), or to the reason no
//! step can. Pure lookups in the host's snapshot. A folder becomes a
//! candidate that [`super::folders`] decides once the host's file steps are
//! known.

use super::step::Step;
use crate::detect::{ArtifactRef, paths};
use crate::runtime::ops::{Op, TreeValue, registry_tree_digest};
use crate::runtime::snapshot::{AutorunLocation, FileFacts, Process, Snapshot};

/// What a finding's artifact (or one of its files) turns into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    Step(Step),
    /// A folder (normalized path), removed only once what it holds is gone.
    Folder(String),
    /// No step; why.
    None(String),
}

impl Derived {
    fn op(op: Op) -> Derived {
        Derived::Step(Step::Purge(op))
    }
}

/// The lists Defender reads exclusions from, under a store's `Exclusions`
/// key.
const EXCLUSION_LISTS: &[&str] = &["paths", "extensions", "processes", "temporarypaths"];

/// Is `key` a Defender (or MSE/SCEP) exclusion list, and is it a policy
/// one? `None` when it is not an exclusion list.
pub fn exclusion_list(key: &str) -> Option<bool> {
    let k = key.to_ascii_lowercase().replace('/', "\\");
    let (store, list) = k.rsplit_once("\\exclusions\\")?;
    if !EXCLUSION_LISTS.contains(&list) {
        return None;
    }
    let store = store.trim_start_matches("software\\");
    let policy = store.starts_with("policies\\");
    let store = store.trim_start_matches("policies\\");
    matches!(store, "microsoft\\windows defender" | "microsoft\\microsoft antimalware").then_some(policy)
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The facts of a file, by path (WOW64 views and case folded).
pub fn file_facts<'a>(s: &'a Snapshot, path: &str) -> Option<&'a FileFacts> {
    let k = paths::key(path);
    // A file asked for by its 8.3 short name is known by its long one too;
    // of the WOW64 views (same key), the one that exists.
    let named = |f: &&FileFacts| {
        paths::key(&f.path) == k || (!f.long_path.is_empty() && paths::key(&f.long_path) == k)
    };
    let mut found = s.files.iter().filter(named);
    let first = found.clone().next();
    found.find(|f| f.exists).or(first)
}

/// The op for the artifact itself (not its files). A file artifact is
/// handled by [`file_op`].
pub fn artifact_op(s: &Snapshot, a: &ArtifactRef) -> Derived {
    match a {
        ArtifactRef::RegistryAutorun { hive, key, value } => registry_op(s, hive, key, value),
        ArtifactRef::RegistryValue { hive, key, value } => match exclusion_list(key) {
            Some(false) => match s.registry.iter().find(|r| same(&r.hive, hive) && same(&r.key, key) && same(&r.value, value)) {
                Some(r) => Derived::Step(Step::RevertDefenderExclusion {
                    hive: r.hive.clone(),
                    key: r.key.clone(),
                    value: r.value.clone(),
                }),
                None => Derived::None("the scan's snapshot has no such Defender exclusion".into()),
            },
            // A policy exclusion is a plain registry value: compare-and-delete
            // it (a Group Policy that sets it puts it back at its next
            // refresh: the report says so).
            _ => registry_op(s, hive, key, value),
        },
        ArtifactRef::Task { path } => match s.tasks.iter().find(|t| same(&t.path, path)) {
            Some(t) => Derived::op(Op::DeleteTask {
                path: t.path.clone().into(),
                expected_actions: t.actions.clone(),
            }),
            None => Derived::None("the scan's snapshot has no such task".into()),
        },
        ArtifactRef::Service { name } => match s.services.iter().find(|x| same(&x.name, name)) {
            Some(x) => Derived::op(Op::DeleteService {
                name: x.name.clone().into(),
                expected_image_path: x.image_path.clone().into(),
                expected_service_dll: x.service_dll.clone().into(),
            }),
            None => Derived::None("the scan's snapshot has no such service".into()),
        },
        ArtifactRef::Wmi { filter, consumer } => {
            match s.wmi.iter().find(|w| same(&w.filter_name, filter) && same(&w.consumer_name, consumer)) {
                Some(w) => Derived::op(Op::DeleteWmiSubscription {
                    filter: w.filter_name.clone().into(),
                    consumer: w.consumer_name.clone().into(),
                    consumer_type: w.consumer_type.clone(),
                    expected_query: w.query.clone().into(),
                    expected_action: w.action.clone().into(),
                }),
                None => Derived::None("the scan's snapshot has no such WMI subscription".into()),
            }
        }
        ArtifactRef::Process { pid, image } => match s.processes.iter().find(|p| p.pid == *pid) {
            Some(p) => Derived::op(Op::KillProcess {
                pid: p.pid,
                expected_image: (if p.image.is_empty() { image.clone() } else { p.image.clone() }).into(),
                expected_started: p.started.clone(),
            }),
            None => Derived::None(format!("the scan's snapshot has no process {pid}")),
        },
        ArtifactRef::StartupItem { path } | ArtifactRef::File { path } => file_op(s, path),
        ArtifactRef::Folder { path } => Derived::Folder(paths::normalize(path)),
        ArtifactRef::RegistryKey { hive, key } => registry_key_op(s, hive, key),
    }
}

/// The delete of a whole key, with every value the scan saw under it
/// (compare-and-delete on their names and a digest of their data).
fn registry_key_op(s: &Snapshot, hive: &str, key: &str) -> Derived {
    let comps = |k: &str| -> Vec<String> {
        k.split('\\')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let want = comps(key);
    let values: Vec<TreeValue> = s
        .registry
        .iter()
        .filter(|r| same(&r.hive, hive))
        .filter_map(|r| {
            let have = comps(&r.key);
            let under = have.len() >= want.len()
                && want
                    .iter()
                    .zip(&have)
                    .all(|(a, b)| a.to_lowercase() == b.to_lowercase());
            under.then(|| TreeValue {
                subkey: have[want.len()..].join("\\").into(),
                name: r.value.as_str().into(),
                value_type: r.value_type.clone(),
                data_sha256: r.data_sha256.clone(),
            })
        })
        .collect();
    if values.is_empty() {
        return Derived::None(
            "the scan saw no value under this key: compare-and-delete needs what it holds; re-scan"
                .into(),
        );
    }
    if values.iter().any(|v| v.data_sha256.len() != 64) {
        return Derived::None(
            "the scan has no digest of some value's data under this key (a snapshot from an older version): re-scan"
                .into(),
        );
    }
    Derived::op(Op::DeleteRegistryKey {
        hive: hive.to_string(),
        key: key.into(),
        expected_values: values.iter().map(TreeValue::label).collect(),
        expected_digest: registry_tree_digest(&values),
    })
}

fn registry_op(s: &Snapshot, hive: &str, key: &str, value: &str) -> Derived {
    for a in &s.autoruns {
        if let AutorunLocation::RegistryValue {
            hive: h,
            key: k,
            value: v,
        } = &a.location
            && same(h, hive)
            && same(k, key)
            && same(v, value)
        {
            return value_op(h, k, v, &a.value_type, &a.command, &a.data_sha256, a.data_cut);
        }
    }
    match s
        .registry
        .iter()
        .find(|r| same(&r.hive, hive) && same(&r.key, key) && same(&r.value, value))
    {
        Some(r) => value_op(
            &r.hive,
            &r.key,
            &r.value,
            &r.value_type,
            &r.data,
            &r.data_sha256,
            r.data_cut,
        ),
        None => Derived::None("the scan's snapshot has no such registry value".into()),
    }
}

/// The delete of one value: compared by the SHA-256 of its whole data,
/// which the host computed (so a value the scan showed cut is still
/// deleted exactly); the data as shown goes into the plan for review.
fn value_op(
    hive: &str,
    key: &str,
    value: &str,
    value_type: &str,
    data: &str,
    sha: &str,
    cut: bool,
) -> Derived {
    if sha.len() != 64 {
        return Derived::None(
            "the scan has no SHA-256 of this value's data (a scan made before cauterize compared values by hash): re-scan".into(),
        );
    }
    Derived::op(Op::DeleteRegistryValue {
        hive: hive.to_string(),
        key: key.into(),
        value: value.into(),
        expected_type: value_type.to_string(),
        expected_data_sha256: sha.to_ascii_lowercase(),
        data: data.into(),
        data_cut: cut,
    })
}

/// The delete of one file, with the hash the scan saw. `queue_if_locked`
/// is decided later (it depends on which processes the plan ends).
pub fn file_op(s: &Snapshot, path: &str) -> Derived {
    let Some(f) = file_facts(s, path) else {
        return Derived::None("the scan has no facts of this file (not collected)".into());
    };
    if !f.exists {
        return Derived::None("the file did not exist when the scan ran".into());
    }
    if f.is_dir {
        return Derived::Folder(paths::normalize(&f.path));
    }
    if f.sha256.len() != 64 {
        return Derived::None(
            "the scan could not hash this file (unreadable, or larger than the hashing bound): compare-and-delete needs its SHA-256; re-scan, or remove it by hand".into(),
        );
    }
    Derived::op(Op::DeleteFile {
        path: f.path.clone().into(),
        expected_sha256: f.sha256.to_ascii_lowercase(),
        queue_if_locked: false,
        lateral_service: Default::default(),
    })
}

/// Processes that have `path` in use at scan time: running it as their
/// image, or naming it on their command line (a DLL under rundll32).
pub fn users_of<'a>(s: &'a Snapshot, path: &str) -> Vec<&'a Process> {
    let k = paths::key(path);
    let variants: Vec<String> = crate::detect::link::wow64_variants(path)
        .into_iter()
        .map(|v| v.to_lowercase())
        .collect();
    s.processes
        .iter()
        .filter(|p| {
            paths::key(&p.image) == k || {
                let cl = p.command_line.to_lowercase();
                variants.iter().any(|v| cl.contains(v.as_str()))
            }
        })
        .collect()
}
