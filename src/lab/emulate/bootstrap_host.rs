//! What a lab host does when cauterize's bootstrap arrives: read the
//! payload from stdin as the bootstrap does, answer the probe from the host
//! model, carry out the host-side runtime's job on the host's Windows
//! state (`lab::runtime_host`), and run any other payload through the
//! PowerShell emulator with the bootstrap's exit-code rule.

use super::CommandResult;
use super::clock;
use super::error_record::SourceMap;
use super::identity;
use super::powershell::{self, ExitRule, HostContext};
use super::tokenizer;
use super::Target;
use crate::lab::spec::HostSpec;
use crate::lab::world::HostState;
use crate::lab::runtime_host;
use crate::runtime::{bootstrap, probe};

/// The facts the probe would print on this host for this user: who and
/// the WinRM quota from the host's spec, the OS from its Windows state.
/// The clock is the host's wall clock (real time plus its skew), which is
/// what clock-skew checks compare; lab time is the simulation's.
pub fn probe_facts(host: &HostSpec, world: &HostState, user: &str) -> probe::ProbeFacts {
    probe::ProbeFacts {
        hostname: host.name.clone(),
        user: user.to_string(),
        is_admin: identity::find_account(host, user).is_some_and(|a| a.admin),
        os_caption: world.os.caption.clone(),
        os_build: world.os.build.to_string(),
        ps_version: world.os.ps_version.clone(),
        utc_now: clock::host_now(host.clock_skew_secs),
        max_shells_per_user: Some(host.max_shells_per_user),
    }
}

/// Run the bootstrap with this stdin.
pub fn run(t: &mut Target<'_>, user: &str, stdin: &[u8]) -> CommandResult {
    let host = t.host;
    let Some(payload) = bootstrap::decode_payload(stdin) else {
        return bad_payload();
    };
    if payload.trim_start_matches('\u{feff}').starts_with(probe::PROBE_MARKER) {
        return CommandResult { stdout: probe::render(&probe_facts(host, t.world, user)).into_bytes(), ..Default::default() };
    }
    if runtime_host::is_runtime(&payload) {
        // The host-side runtime: its job is carried out on the host's
        // Windows state with the PowerShell runtime's semantics.
        return CommandResult { stdout: runtime_host::run(&payload, t.world, t.now).into_bytes(), ..Default::default() };
    }
    if let Err(e) = tokenizer::tokenize(&payload) {
        return unparsable_payload(&payload, &e);
    }
    let ps_version = t.world.os.ps_version.clone();
    let ctx = HostContext { computer_name: &host.name, user, ps_version: &ps_version };
    powershell::run(&payload, ctx, t.power_desk(), ExitRule::Command)
}

/// What the bootstrap's `catch` prints when it cannot read the payload: one
/// raw line on stderr (`[Console]::Error.WriteLine`), then `exit 1`.
fn unreadable(message: &str) -> CommandResult {
    let line = format!("cauterize bootstrap: the payload could not be read: {message}\r\n");
    CommandResult { stdout: Vec::new(), stderr: line.into_bytes(), exit_code: 1 }
}

/// A payload that does not parse: `[ScriptBlock]::Create` throws inside the
/// bootstrap's `try`, whose `catch` reports it and exits 1.
fn unparsable_payload(payload: &str, e: &tokenizer::ParseError) -> CommandResult {
    let mut inner = SourceMap::new(payload).position(e.offset, e.offset + e.len);
    inner.push(e.message.clone());
    unreadable(&format!("Exception calling \"Create\" with \"1\" argument(s): \"{}\"", inner.join(" ")))
}

/// Stdin that is not base64 of UTF-8: `[Convert]::FromBase64String` throws
/// inside the bootstrap's `try`, whose `catch` reports it and exits 1.
fn bad_payload() -> CommandResult {
    unreadable(
        "Exception calling \"FromBase64String\" with \"1\" argument(s): \"The input is not a valid Base-64 \
         string as it contains a non-base 64 character, more than two padding characters, or an illegal \
         character among the padding characters. \"",
    )
}
