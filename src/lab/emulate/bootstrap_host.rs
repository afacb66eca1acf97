//! Until the Windows facades the runtime needs exist (phase 2 of the
//! PowerShell engine), a bootstrap whose payload is cauterize's runtime is
//! carried out by the Rust twins of `lab::runtime_host` instead of the
//! engine. Every other bootstrap payload (the probe, `exec` scripts) runs
//! in the engine.

use super::{CommandResult, Target};
use crate::lab::runtime_host;
use crate::runtime::bootstrap;

/// The runtime twin's answer when the bootstrap's stdin carries the
/// runtime; `None` for any other payload.
pub fn runtime_twin(t: &mut Target<'_>, stdin: &[u8]) -> Option<CommandResult> {
    let payload = bootstrap::decode_payload(stdin)?;
    if !runtime_host::is_runtime(&payload) {
        return None;
    }
    Some(CommandResult { stdout: runtime_host::run(&payload, t.world, t.now).into_bytes(), ..Default::default() })
}
