//! From one finding to the operations that remove what it is about, each
//! carrying what the scan saw (compare-and-delete), or to the reason no
//! operation can. Pure lookups in the host's snapshot.

use crate::detect::{ArtifactRef, paths};
use crate::runtime::ops::{Op, TreeValue, registry_tree_digest};
use crate::runtime::snapshot::{AutorunLocation, FileFacts, Process, Snapshot};

/// What a finding's artifact (or one of its files) turns into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    Op(Op),
    /// No operation; why.
    None(String),
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
        ArtifactRef::RegistryAutorun { hive, key, value } | ArtifactRef::RegistryValue { hive, key, value } => {
            registry_op(s, hive, key, value)
        }
        ArtifactRef::Task { path } => match s.tasks.iter().find(|t| same(&t.path, path)) {
            Some(t) => Derived::Op(Op::DeleteTask {
                path: t.path.clone(),
                expected_actions: t.actions.clone(),
            }),
            None => Derived::None("the scan's snapshot has no such task".into()),
        },
        ArtifactRef::Service { name } => match s.services.iter().find(|x| same(&x.name, name)) {
            Some(x) => Derived::Op(Op::DeleteService {
                name: x.name.clone(),
                expected_image_path: x.image_path.clone(),
            }),
            None => Derived::None("the scan's snapshot has no such service".into()),
        },
        ArtifactRef::Wmi { filter, consumer } => {
            match s.wmi.iter().find(|w| same(&w.filter_name, filter) && same(&w.consumer_name, consumer)) {
                Some(w) => Derived::Op(Op::DeleteWmiSubscription {
                    filter: w.filter_name.clone(),
                    consumer: w.consumer_name.clone(),
                    consumer_type: w.consumer_type.clone(),
                    expected_query: w.query.clone(),
                    expected_action: w.action.clone(),
                }),
                None => Derived::None("the scan's snapshot has no such WMI subscription".into()),
            }
        }
        ArtifactRef::Process { pid, image } => match s.processes.iter().find(|p| p.pid == *pid) {
            Some(p) => Derived::Op(Op::KillProcess {
                pid: p.pid,
                expected_image: if p.image.is_empty() { image.clone() } else { p.image.clone() },
                expected_started: p.started.clone(),
            }),
            None => Derived::None(format!("the scan's snapshot has no process {pid}")),
        },
        ArtifactRef::StartupItem { path } | ArtifactRef::File { path } => file_op(s, path),
        ArtifactRef::Folder { .. } => Derived::None(
            "a folder is not removed as a whole (there is no folder operation): each file in it is a finding of its own, planned where the scan hashed it; the emptied folder stays".into(),
        ),
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
                subkey: have[want.len()..].join("\\"),
                name: r.value.clone(),
                value_type: r.value_type.clone(),
                data: r.data.clone(),
            })
        })
        .collect();
    if values.is_empty() {
        return Derived::None(
            "the scan saw no value under this key: compare-and-delete needs what it holds; re-scan"
                .into(),
        );
    }
    Derived::Op(Op::DeleteRegistryKey {
        hive: hive.to_string(),
        key: key.to_string(),
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
            return Derived::Op(Op::DeleteRegistryValue {
                hive: h.clone(),
                key: k.clone(),
                value: v.clone(),
                expected_type: a.value_type.clone(),
                expected_data: a.command.clone(),
            });
        }
    }
    match s
        .registry
        .iter()
        .find(|r| same(&r.hive, hive) && same(&r.key, key) && same(&r.value, value))
    {
        Some(r) => Derived::Op(Op::DeleteRegistryValue {
            hive: r.hive.clone(),
            key: r.key.clone(),
            value: r.value.clone(),
            expected_type: r.value_type.clone(),
            expected_data: r.data.clone(),
        }),
        None => Derived::None("the scan's snapshot has no such registry value".into()),
    }
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
        return Derived::None(
            "a folder is not removed as a whole (there is no folder operation): each file in it is a finding of its own, planned where the scan hashed it; the emptied folder stays".into(),
        );
    }
    if f.sha256.len() != 64 {
        return Derived::None(
            "the scan could not hash this file (unreadable, or larger than the hashing bound): compare-and-delete needs its SHA-256; re-scan, or remove it by hand".into(),
        );
    }
    Derived::Op(Op::DeleteFile {
        path: f.path.clone(),
        expected_sha256: f.sha256.to_ascii_lowercase(),
        queue_if_locked: false,
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
