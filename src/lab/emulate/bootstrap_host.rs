//! Until the Windows facades the runtime needs all exist (phase 2 of the
//! PowerShell engine), some runtime jobs are carried out by the Rust twins
//! of `lab::runtime_host` instead of the engine: those with an item the
//! engine's facades cannot serve yet (collection, which still goes with
//! the twin; task deletes; registry-key deletes and folder removals) and
//! kills: a kill compares the CreationDate the scan saw, and while the
//! twin collects, that is in lab time, not on the host's clock the engine
//! reads. A job of file facts, sweeps, file reads, registry-value, file,
//! service and WMI subscription deletes, boot-queued deletes and
//! containment (the firewall's and Task Scheduler's COM APIs) runs
//! runtime.ps1 in the engine, like every other payload (the probe, `exec`
//! scripts).

use super::{CommandResult, Target};
use crate::lab::runtime_host;
use base64::Engine;

/// The operations runtime.ps1 carries out on the engine today (containment
/// through the `HNetCfg.FwPolicy2` and `Schedule.Service` facades).
const ON_THE_ENGINE: &[&str] = &[
    "FileFacts",
    "Sweep",
    "ReadFile",
    "DeleteRegistryValue",
    "DeleteFile",
    "QueueDeleteOnReboot",
    "DeleteService",
    "DeleteWmiSubscription",
    "Contain",
    "ExtendDeadman",
    "Release",
    "DenyWrites",
    "RemoveDenyWrites",
    "RevertDefenderExclusion",
];

/// The kinds of the job items in a runtime payload (its `op <Kind>` lines).
fn job_kinds(payload: &str) -> Vec<&str> {
    payload.lines().filter_map(|l| l.strip_prefix("op ")).map(str::trim_end).collect()
}

/// The runtime twin's answer when the bootstrap's stdin carries the
/// runtime with a job the engine cannot carry out yet; `None` for any
/// other payload (the engine runs it).
pub fn runtime_twin(t: &mut Target<'_>, stdin: &[u8]) -> Option<CommandResult> {
    let payload = stdin_payload(stdin)?;
    if !runtime_host::is_runtime(&payload) {
        return None;
    }
    let kinds = job_kinds(&payload);
    if !kinds.is_empty() && kinds.iter().all(|k| ON_THE_ENGINE.contains(k)) {
        return None;
    }
    Some(CommandResult { stdout: runtime_host::run(&payload, t.world, t.now).into_bytes(), ..Default::default() })
}

/// The script a bootstrap would run from `stdin`, read as the bootstrap
/// script itself reads it (its lines joined, base64 of UTF-8); `None` for
/// anything else, which then goes to the engine like any other input.
fn stdin_payload(stdin: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(stdin).ok()?;
    let joined: String = text.split(['\r', '\n']).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(joined.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::job_kinds;

    #[test]
    fn job_kinds_are_read_from_the_op_lines() {
        // A job as the runtime reads it: `op` lines, each followed by its
        // fields; a field whose value starts with "op " is not an op line.
        let p = "CZJOB 2\nop FileFacts\nf paths op x\nop Collect\nf max_items 100\n";
        assert_eq!(job_kinds(&p), ["FileFacts", "Collect"]);
    }
}
