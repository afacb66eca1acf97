//! Compare-and-delete operations on the lab host, with the semantics of
//! `runtime.ps1`: act only when the host still shows what the plan saw,
//! else report drift with what it shows now; absent is not an error;
//! locked files go to the boot-time queue when the op allows it.

use super::Run;
use super::hives;
use super::iso::iso;
use crate::lab::world::files::{FsError, hex};
use crate::lab::world::pending::{self, PendingOp};
use crate::lab::world::processes::KillError;
use crate::lab::world::services::{Deletion, ServiceKind, ServiceState};
use crate::lab::world::wmi::Consumer;
use crate::runtime::ops::{HeldFile, Op, TaskAction};

/// Longest `observed` text in a drift (characters).
pub const OBSERVED_MAX: usize = 1024;

fn cut(s: &str) -> String {
    s.chars().take(OBSERVED_MAX).collect()
}

enum Out {
    Done,
    Absent,
    Drift(String),
    Queued,
    Failed(String),
}

fn report(run: &mut Run<'_>, o: Out) {
    let (result, detail) = match o {
        Out::Done => ("done", String::new()),
        Out::Absent => ("already_absent", String::new()),
        Out::Drift(d) => ("drift", cut(&d)),
        Out::Queued => ("queued_for_reboot", String::new()),
        Out::Failed(r) => ("failed", cut(&r)),
    };
    run.record("outcome", &[("result", result), ("detail", &detail)]);
}

/// Carry out one op and report its outcome.
pub fn apply(run: &mut Run<'_>, op: &Op) {
    let o = match op {
        Op::KillProcess {
            pid,
            expected_image,
            expected_started,
        } => kill(run, *pid, expected_image, expected_started),
        Op::DeleteRegistryValue {
            hive,
            key,
            value,
            expected_type,
            expected_data_sha256,
            ..
        } => delete_value(run, hive, key, value, expected_type, expected_data_sha256),
        Op::DeleteRegistryKey {
            hive,
            key,
            expected_digest,
            ..
        } => in_hive(run, hive, key, |run, path| delete_key(run, path, expected_digest)),
        Op::DeleteTask {
            path,
            expected_actions,
        } => delete_task(run, path, expected_actions),
        Op::DeleteService {
            name,
            expected_image_path,
            expected_service_dll,
        } => delete_service(run, name, expected_image_path, expected_service_dll),
        Op::DeleteWmiSubscription {
            filter,
            consumer,
            consumer_type,
            expected_query,
            expected_action,
        } => delete_wmi(
            run,
            filter,
            consumer,
            consumer_type,
            expected_query,
            expected_action,
        ),
        Op::DeleteFile {
            path,
            expected_sha256,
            queue_if_locked,
        } => delete_file(run, path, expected_sha256, *queue_if_locked),
        Op::QueueDeleteOnReboot {
            path,
            expected_sha256,
        } => queue(run, path, expected_sha256),
        Op::RemoveFolder { path, may_hold, .. } => remove_folder(run, path, may_hold),
    };
    report(run, o);
}

fn kill(run: &mut Run<'_>, pid: u32, image: &str, started: &str) -> Out {
    let Some(p) = run.host.processes.get(pid) else {
        return Out::Absent;
    };
    if !p.image_is(image) {
        return Out::Drift(format!("pid {pid} runs {}", p.image));
    }
    let s = iso(p.start_time);
    if !started.is_empty() && s != started {
        return Out::Drift(format!("pid {pid} ({}) started {s}", p.image));
    }
    match run.host.kill(pid) {
        Ok(_) => Out::Done,
        Err(KillError::NoSuchProcess(_)) => Out::Absent,
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn delete_value(
    run: &mut Run<'_>,
    hive: &str,
    key: &str,
    value: &str,
    ty: &str,
    sha: &str,
) -> Out {
    in_hive(run, hive, key, |run, path| compare_delete_value(run, path, value, ty, sha))
}

/// Run `act` on the host-model path of `key` in `hive` (HKLM, a service
/// account's SID, or a user's SID: their hive mounted for the op and
/// unmounted again).
fn in_hive(run: &mut Run<'_>, hive: &str, key: &str, act: impl FnOnce(&mut Run<'_>, &str) -> Out) -> Out {
    if hive.eq_ignore_ascii_case("HKLM") {
        return act(run, &format!(r"HKLM\{key}"));
    }
    // Service accounts' hives are always loaded; they have no profile.
    if let Some(sid) = super::collect::SERVICE_SIDS
        .iter()
        .find(|s| s.eq_ignore_ascii_case(hive))
    {
        return act(run, &format!(r"HKU\{sid}\{key}"));
    }
    let Some(p) = hives::profile(run.host, hive) else {
        return Out::Failed(format!("no user profile with SID {hive}"));
    };
    // A user's classes live in UsrClass.dat: for a user who is not
    // logged on, that file is loaded and the key is under its root.
    let classes = crate::lab::world::registry::USER_CLASSES;
    let in_classes = key.len() > classes.len() && key[..classes.len()].eq_ignore_ascii_case(classes) && key.as_bytes()[classes.len()] == b'\\';
    let (m, rel) = if in_classes {
        (hives::mount_classes(run.host, &p), &key[classes.len() + 1..])
    } else {
        (hives::mount(run.host, &p), key)
    };
    let m = match m {
        Ok(m) => m,
        Err(e) => return Out::Failed(e),
    };
    let o = act(run, &format!(r"{}\{rel}", m.root));
    match hives::unmount(run.host, m) {
        Ok(()) => o,
        Err(e) => Out::Failed(e),
    }
}

/// A whole key, if its tree still has `digest`. Keys right under a hive's
/// root are refused (runtime.ps1 refuses more: the lab's plans never name
/// such keys).
fn delete_key(run: &mut Run<'_>, path: &str, digest: &str) -> Out {
    let parts: Vec<&str> = path.split('\\').collect();
    let depth = if parts.first().is_some_and(|r| r.eq_ignore_ascii_case("HKU")) { parts.len() - 2 } else { parts.len() - 1 };
    if depth < 2 || parts.iter().any(|p| p.is_empty()) {
        return Out::Failed(format!("the key {path} is right under the hive root or has an empty part: never deleted whole"));
    }
    let Ok(k) = run.host.registry.key(path) else {
        return Out::Absent;
    };
    let mut values = Vec::new();
    tree_values(k, "", &mut values);
    let now = crate::runtime::ops::registry_tree_digest(&values);
    if !now.eq_ignore_ascii_case(digest) {
        return Out::Drift(format!("the key holds {} values (digest {now})", values.len()));
    }
    match run.host.registry.delete_tree(path) {
        Ok(()) => Out::Done,
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn tree_values(k: &crate::lab::world::registry::RegKey, sub: &str, out: &mut Vec<crate::runtime::ops::TreeValue>) {
    for v in k.values() {
        out.push(crate::runtime::ops::TreeValue {
            subkey: sub.into(),
            name: v.name.as_str().into(),
            value_type: hives::data_text(&v.data).1.to_string(),
            data_sha256: hives::data_sha256(&v.data),
        });
    }
    for name in k.subkey_names() {
        if let Some(c) = k.subkey(name) {
            let rel = if sub.is_empty() { name.to_string() } else { format!(r"{sub}\{name}") };
            tree_values(c, &rel, out);
        }
    }
}

fn compare_delete_value(run: &mut Run<'_>, path: &str, value: &str, ty: &str, sha: &str) -> Out {
    let Ok(d) = run.host.registry.get_value(path, value) else {
        return Out::Absent;
    };
    let (text, t) = hives::data_text(d);
    let now = hives::data_sha256(d);
    if t != ty || !now.eq_ignore_ascii_case(sha) {
        return Out::Drift(format!("{t} sha256 {now} {text}"));
    }
    match run.host.registry.delete_value(path, value) {
        Ok(_) => Out::Done,
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn actions_text(a: &[TaskAction]) -> String {
    a.iter()
        .map(|x| format!("[{}] [{}] [{}]", x.path, x.arguments, x.working_directory))
        .collect::<Vec<_>>()
        .join("; ")
}

fn delete_task(run: &mut Run<'_>, path: &str, expected: &[TaskAction]) -> Out {
    let Some(t) = run.host.tasks.get(path) else {
        return Out::Absent;
    };
    let now: Vec<TaskAction> = t
        .actions
        .iter()
        .map(|a| TaskAction {
            path: a.path.clone().into(),
            arguments: a.arguments.clone().into(),
            working_directory: a.working_dir.clone().unwrap_or_default().into(),
        })
        .collect();
    if now != expected {
        return Out::Drift(format!("actions {}", actions_text(&now)));
    }
    match run.host.tasks.delete(path) {
        Ok(_) => Out::Done,
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn delete_service(run: &mut Run<'_>, name: &str, image_path: &str, service_dll: &str) -> Out {
    let Some(s) = run.host.services.get(name).cloned() else {
        return Out::Absent;
    };
    if s.image_path != image_path {
        return Out::Drift(format!("ImagePath {}", s.image_path));
    }
    let dll = crate::lab::world::services::service_dll(&run.host.registry, name).unwrap_or_default();
    if dll != service_dll {
        return Out::Drift(format!("ServiceDll {dll}"));
    }
    if s.marked_for_delete {
        return Out::Queued;
    }
    if s.state == ServiceState::Running {
        // Stop it: an own process ends with its service; a shared host
        // process lives on without it.
        match (s.kind, s.pid) {
            (ServiceKind::OwnProcess, Some(pid)) => {
                let _ = run.host.kill(pid);
            }
            _ => {
                run.host.services.stopped(name, &mut run.host.registry);
            }
        }
    }
    if run.host.services.get(name).is_none() {
        return Out::Done; // it went when it stopped (it was marked before)
    }
    match run.host.services.delete(name, &mut run.host.registry) {
        Ok(Deletion::Deleted) => Out::Done,
        Ok(Deletion::Marked) => Out::Queued,
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn consumer_action(c: &Consumer) -> String {
    match c {
        Consumer::CommandLine {
            command_line_template,
            executable_path,
            ..
        } => {
            if command_line_template.is_empty() {
                executable_path.clone().unwrap_or_default()
            } else {
                command_line_template.clone()
            }
        }
        Consumer::ActiveScript { script_text, .. } => script_text.clone(),
    }
}

fn delete_wmi(
    run: &mut Run<'_>,
    filter: &str,
    consumer: &str,
    class: &str,
    query: &str,
    action: &str,
) -> Out {
    let w = &run.host.wmi;
    let f = w
        .filters
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(filter))
        .cloned();
    let c = w
        .consumers
        .iter()
        .find(|c| c.class().eq_ignore_ascii_case(class) && c.name().eq_ignore_ascii_case(consumer))
        .cloned();
    if let Some(f) = &f
        && f.query != query
    {
        return Out::Drift(format!("filter query {}", f.query));
    }
    if let Some(c) = &c
        && consumer_action(c) != action
    {
        return Out::Drift(format!("consumer action {}", consumer_action(c)));
    }
    let frel = f.as_ref().map(|f| f.rel_path());
    let crel = c.as_ref().map(|c| c.rel_path());
    let before = w.bindings.len();
    let w = &mut run.host.wmi;
    w.bindings.retain(|b| {
        let fm = frel
            .as_ref()
            .is_some_and(|r| b.filter.eq_ignore_ascii_case(r))
            || super::collect::rel_name(&b.filter).eq_ignore_ascii_case(filter);
        let cm = crel
            .as_ref()
            .is_some_and(|r| b.consumer.eq_ignore_ascii_case(r))
            || (super::collect::rel_name(&b.consumer).eq_ignore_ascii_case(consumer)
                && b.consumer
                    .split('.')
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case(class)));
        !(fm && cm)
    });
    let removed_bindings = before - w.bindings.len();
    // A filter or consumer another binding still uses stays (runtime.ps1
    // does the same).
    let filter_used = w.bindings.iter().any(|b| {
        frel.as_ref().is_some_and(|r| b.filter.eq_ignore_ascii_case(r))
            || super::collect::rel_name(&b.filter).eq_ignore_ascii_case(filter)
    });
    let consumer_used = w.bindings.iter().any(|b| {
        crel.as_ref().is_some_and(|r| b.consumer.eq_ignore_ascii_case(r))
            || (super::collect::rel_name(&b.consumer).eq_ignore_ascii_case(consumer)
                && b.consumer
                    .split('.')
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case(class)))
    });
    let rc = !consumer_used && w.remove_consumer(class, consumer).is_some();
    let rf = !filter_used && w.remove_filter(filter).is_some();
    if removed_bindings == 0 && !rc && !rf {
        Out::Absent
    } else {
        Out::Done
    }
}

/// Hash check shared by DeleteFile and QueueDeleteOnReboot: `Err` is the
/// outcome to report.
fn check_file(run: &Run<'_>, path: &str, sha: &str) -> Result<(), Out> {
    let Some(e) = run.host.files.get(path) else {
        return Err(Out::Absent);
    };
    if e.is_dir() {
        return Err(Out::Failed(format!("'{path}' is a directory")));
    }
    let now = e.sha256().map(|h| hex(&h)).unwrap_or_default();
    if !now.eq_ignore_ascii_case(sha) {
        return Err(Out::Drift(format!("sha256 {now}")));
    }
    Ok(())
}

fn queued(run: &Run<'_>, path: &str) -> bool {
    let norm = crate::lab::world::files::normalize(path).unwrap_or_else(|_| path.to_string());
    run.host
        .pending_renames()
        .iter()
        .any(|p| p.destination.is_none() && p.source.eq_ignore_ascii_case(&norm))
}

fn enqueue(run: &mut Run<'_>, path: &str) -> Out {
    if queued(run, path) {
        return Out::Queued;
    }
    let norm = crate::lab::world::files::normalize(path).unwrap_or_else(|_| path.to_string());
    match run.host.queue_pending(&PendingOp::delete(&norm)) {
        Ok(()) => Out::Queued,
        Err(e) => Out::Failed(format!("MoveFileEx: {e}")),
    }
}

fn delete_file(run: &mut Run<'_>, path: &str, sha: &str, queue_if_locked: bool) -> Out {
    if let Err(o) = check_file(run, path, sha) {
        return o;
    }
    // A read-only attribute does not protect a file from deletion here.
    if let Some(e) = run.host.files.get(path).cloned()
        && e.attrs.readonly
    {
        let mut a = e.attrs;
        a.readonly = false;
        let _ = run.host.files.set_attrs(path, a);
    }
    let now = run.now;
    match run.host.delete_file(path, now) {
        Ok(_) => Out::Done,
        Err(FsError::FileNotFound(_)) => Out::Absent,
        Err(e @ (FsError::AccessDenied(_) | FsError::SharingViolation(..))) => {
            if queue_if_locked {
                enqueue(run, path)
            } else {
                Out::Failed(format!("locked: {e}"))
            }
        }
        Err(e) => Out::Failed(e.to_string()),
    }
}

fn queue(run: &mut Run<'_>, path: &str, sha: &str) -> Out {
    if let Err(o) = check_file(run, path, sha) {
        return o;
    }
    let _ = pending::read(&run.host.registry);
    enqueue(run, path)
}

/// A loader's folder, if it holds nothing but `may_hold` files with their
/// SHA-256 (deleted first); never a subfolder or anything else (drift);
/// the folder itself only when empty then.
fn remove_folder(run: &mut Run<'_>, path: &str, may_hold: &[HeldFile]) -> Out {
    let listing: Vec<(String, crate::lab::world::files::Entry)> = match run.host.files.list(path) {
        Ok(l) => l.into_iter().map(|(k, e)| (k.to_string(), e.clone())).collect(),
        Err(FsError::PathNotFound(_)) => return Out::Absent,
        Err(FsError::InvalidName(_)) => return Out::Drift(format!("a file, not a folder, is at {path}")),
        Err(e) => return Out::Failed(e.to_string()),
    };
    let mut held = Vec::new();
    let mut other = Vec::new();
    for (full, e) in &listing {
        let name = crate::lab::world::files::file_name(full);
        let want = may_hold.iter().find(|h| h.name.eq_ignore_ascii_case(name));
        match (e.is_dir(), want, e.sha256()) {
            (true, _, _) => other.push(format!("{name} (a folder)")),
            (false, Some(h), Some(sha)) if hex(&sha).eq_ignore_ascii_case(&h.sha256) => held.push(full.clone()),
            (false, Some(_), Some(sha)) => other.push(format!("{name} (sha256 {})", hex(&sha))),
            _ => other.push(name.to_string()),
        }
    }
    if !other.is_empty() {
        return Out::Drift(format!("the folder holds {}, which the plan does not delete: it stays", other.join(", ")));
    }
    let now = run.now;
    for f in held {
        if let Err(e) = run.host.delete_file(&f, now) {
            return Out::Failed(format!("cannot delete {f}: {e} The folder stays."));
        }
    }
    match run.host.files.remove_dir(path, now) {
        Ok(()) => Out::Done,
        Err(e) => Out::Failed(format!("cannot remove {path}: {e}")),
    }
}
