//! What a lab host does when cauterize's bootstrap arrives: read the
//! payload from stdin as the bootstrap does, answer the probe from the host
//! model, and run any other payload through the PowerShell emulator with
//! the bootstrap's exit-code rule.

use super::CommandResult;
use super::clixml::StderrSink;
use super::clock;
use super::error_record::{self as er, SourceMap};
use super::identity;
use super::powershell::{self, ExitRule, HostContext};
use super::tokenizer;
use crate::lab::spec::HostSpec;
use crate::runtime::{bootstrap, probe};

/// The facts the probe would print on this host for this user.
pub fn probe_facts(host: &HostSpec, user: &str) -> probe::ProbeFacts {
    probe::ProbeFacts {
        hostname: host.name.clone(),
        user: user.to_string(),
        is_admin: identity::find_account(host, user).is_some_and(|a| a.admin),
        os_caption: host.os.caption.clone(),
        os_build: host.os.build.clone(),
        ps_version: host.os.ps_version.clone(),
        utc_now: clock::host_now(host.clock_skew_secs),
        max_shells_per_user: Some(host.max_shells_per_user),
    }
}

/// Run the bootstrap with this stdin.
pub fn run(host: &HostSpec, user: &str, stdin: &[u8]) -> CommandResult {
    let Some(payload) = bootstrap::decode_payload(stdin) else {
        return bad_payload();
    };
    if payload.trim_start_matches('\u{feff}').starts_with(probe::PROBE_MARKER) {
        return CommandResult { stdout: probe::render(&probe_facts(host, user)).into_bytes(), ..Default::default() };
    }
    if let Err(e) = tokenizer::tokenize(&payload) {
        return unparsable_payload(&payload, &e);
    }
    let ctx = HostContext { computer_name: &host.name, user, ps_version: &host.os.ps_version };
    powershell::run(&payload, ctx, ExitRule::Bootstrap)
}

/// The position message for an expression of the bootstrap.
fn bootstrap_position(expression: &str) -> Vec<String> {
    let src = bootstrap::BOOTSTRAP;
    let start = src.find(expression).unwrap_or(0);
    SourceMap::new(src).position(start, start + expression.len())
}

/// A payload that does not parse: `[ScriptBlock]::Create` throws, which is
/// only statement-terminating under the bootstrap's
/// `$ErrorActionPreference = 'Continue'`, so the bootstrap goes on to
/// `exit 0`. (The real bootstrap hides the failure in its exit code; the
/// lab reproduces that rather than paper over it.)
fn unparsable_payload(payload: &str, e: &tokenizer::ParseError) -> CommandResult {
    let mut inner = SourceMap::new(payload).position(e.offset, e.offset + e.len);
    inner.push(e.message.clone());
    let mut sink = StderrSink::new();
    sink.record(&er::method_exception("Create", 1, &inner.join("\r\n"), "ParseException", bootstrap_position("[ScriptBlock]::Create($czSource)")));
    CommandResult { stdout: Vec::new(), stderr: sink.finish(), exit_code: 0 }
}

/// Stdin that is not base64 of UTF-8: the bootstrap's
/// `[Convert]::FromBase64String` throws under `$ErrorActionPreference =
/// 'Stop'`, which ends powershell.exe with exit code 1.
fn bad_payload() -> CommandResult {
    let position = bootstrap_position("[System.Convert]::FromBase64String($czEncoded)");
    let mut sink = StderrSink::new();
    sink.record(&er::method_exception(
        "FromBase64String",
        1,
        "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding \
         characters, or an illegal character among the padding characters. ",
        "FormatException",
        position,
    ));
    CommandResult { stdout: Vec::new(), stderr: sink.finish(), exit_code: 1 }
}
