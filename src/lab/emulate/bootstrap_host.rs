//! Until the Windows facades the runtime needs exist (phase 2 of the
//! PowerShell engine), a bootstrap whose payload is cauterize's runtime is
//! carried out by the Rust twins of `lab::runtime_host` instead of the
//! engine. Every other bootstrap payload (the probe, `exec` scripts, and
//! runtime jobs whose items the twin does not implement: the reboot
//! phase's power requests) runs in the engine.

use super::{CommandResult, Target};
use crate::lab::runtime_host;
use base64::Engine;

/// The runtime twin's answer when the bootstrap's stdin carries the
/// runtime; `None` for any other payload.
pub fn runtime_twin(t: &mut Target<'_>, stdin: &[u8]) -> Option<CommandResult> {
    let payload = stdin_payload(stdin)?;
    if !runtime_host::is_runtime(&payload) || !runtime_host::twin_runs(&payload) {
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
