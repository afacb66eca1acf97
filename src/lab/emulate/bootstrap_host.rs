//! Until the Windows facades the runtime needs exist (phase 2 of the
//! PowerShell engine), a bootstrap whose payload is cauterize's runtime is
//! carried out by the Rust twins of `lab::runtime_host` instead of the
//! engine, unless every operation of its job is one whose Windows parts the
//! engine has ([`ENGINE_KINDS`]: the firewall's and Task Scheduler's COM
//! APIs): those run the real `runtime.ps1`. Every other bootstrap payload
//! (the probe, `exec` scripts) runs in the engine.

use super::{CommandResult, Target};
use crate::lab::runtime_host;
use base64::Engine;

/// The runtime twin's answer when the bootstrap's stdin carries the
/// runtime; `None` for any other payload.
pub fn runtime_twin(t: &mut Target<'_>, stdin: &[u8]) -> Option<CommandResult> {
    let payload = stdin_payload(stdin)?;
    if !runtime_host::is_runtime(&payload) || runs_in_engine(&payload) {
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

/// Job kinds the engine carries out through its facades (`HNetCfg.FwPolicy2`,
/// `Schedule.Service`).
pub const ENGINE_KINDS: [&str; 3] = ["Contain", "ExtendDeadman", "Release"];

/// Whether every `op <Kind>` line of the payload's job data names one of
/// [`ENGINE_KINDS`] (and there is at least one).
fn runs_in_engine(payload: &str) -> bool {
    let Some((_, data)) = payload.rsplit_once("\n$czJobData = @'\n") else { return false };
    let kinds: Vec<&str> = data.lines().take_while(|l| !l.starts_with("'@")).filter_map(|l| l.strip_prefix("op ")).collect();
    !kinds.is_empty() && kinds.iter().all(|k| ENGINE_KINDS.contains(&k.trim_end_matches('\r')))
}
