//! What a lab host does with a command received over WinRM.
//!
//! - cauterize's bootstrap (PowerShell with `-EncodedCommand` whose script
//!   starts with [`BOOTSTRAP_MARKER`](crate::runtime::bootstrap::BOOTSTRAP_MARKER))
//!   reads its payload from stdin; the probe payload is answered from the
//!   host model, other payloads run in the PowerShell emulator
//!   ([`bootstrap_host`]).
//! - Any other `powershell -EncodedCommand` / `-Command` script runs in the
//!   small PowerShell emulator ([`powershell`]), errors as CLIXML on stderr.
//! - Plain command lines get cmd.exe's behaviour for `hostname`, `whoami`,
//!   `echo`, `exit`, `cmd /c` ([`cmd`]); anything else is answered as an
//!   unrecognised command, never a fake success.
//!
//! Output is UTF-8 (the lab's shells run with code page 65001).

mod binder;
pub mod bootstrap_host;
pub mod clixml;
pub mod clock;
pub mod cmd;
mod cmdlets;
pub mod error_record;
pub mod identity;
pub mod launch;
pub mod powershell;
pub mod tokenizer;
pub mod value;

#[cfg(test)]
mod tests;

use super::spec::HostSpec;
use super::world::{HostState, LabTime};
use launch::{Launch, Script};
use powershell::{ExitRule, HostContext};

/// One command as the WinRM shell received it.
#[derive(Debug, Clone)]
pub struct CommandRequest<'a> {
    /// The executable as sent in `rsp:Command` (e.g. `hostname`, or the
    /// PowerShell path).
    pub command: &'a str,
    /// `rsp:Arguments`, in order.
    pub args: &'a [String],
    /// The authenticated account, `DOMAIN\user`.
    pub user: &'a str,
    /// Everything sent on stdin (empty when nothing was sent).
    pub stdin: &'a [u8],
}

/// What the command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandResult {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// How deep `cmd /c cmd /c ...` may nest before the lab refuses.
const MAX_NESTING: u32 = 8;

/// Whether this command reads stdin until end of stream before it can run
/// (the bootstrap does; `hostname` does not).
pub fn wants_stdin(command: &str, args: &[String]) -> bool {
    match launch::classify(command, args) {
        Launch::PowerShell(Script::Encoded(Some(s))) => launch::is_bootstrap(&s),
        Launch::PowerShell(Script::Stdin) => true,
        _ => false,
    }
}

/// What a command runs on: the host's WinRM-level spec (accounts, WinRM
/// settings), its simulated Windows state, and lab time now.
pub struct Target<'a> {
    pub host: &'a HostSpec,
    pub world: &'a mut HostState,
    pub now: LabTime,
}

/// Run a command on the host: `host` is its WinRM-level spec, `world` its
/// Windows state (which the command may read and change), `now` lab time.
pub fn execute(host: &HostSpec, world: &mut HostState, now: LabTime, request: &CommandRequest<'_>) -> CommandResult {
    let launched = launch::classify(request.command, request.args);
    let mut target = Target { host, world, now };
    run_launch(&mut target, request, launched, 0)
}

fn run_launch(t: &mut Target<'_>, request: &CommandRequest<'_>, launched: Launch, depth: u32) -> CommandResult {
    let host = t.host;
    let user = identity::qualified(host, request.user);
    let ps_version = t.world.os.ps_version.clone();
    let ctx = HostContext { computer_name: &host.name, user: &user, ps_version: &ps_version };
    match launched {
        Launch::PowerShell(Script::Encoded(Some(script))) if launch::is_bootstrap(&script) => {
            bootstrap_host::run(t, &user, request.stdin)
        }
        Launch::PowerShell(Script::Encoded(Some(script))) | Launch::PowerShell(Script::Command(script)) => {
            powershell::run(&script, ctx, ExitRule::Command)
        }
        Launch::PowerShell(Script::Stdin) => {
            // `powershell -Command -` runs what arrives on stdin, as text.
            let script = String::from_utf8_lossy(request.stdin);
            powershell::run(&script, ctx, ExitRule::Command)
        }
        Launch::PowerShell(Script::Encoded(None)) => CommandResult {
            stderr: b"Cannot process the command because the value specified with -EncodedCommand is not properly \
                      encoded. The value must be Base64 encoded.\r\n"
                .to_vec(),
            exit_code: 1,
            ..Default::default()
        },
        Launch::PowerShellOther => CommandResult {
            stderr: b"The cauterize lab runs PowerShell only with -EncodedCommand or -Command.\r\n".to_vec(),
            exit_code: 1,
            ..Default::default()
        },
        Launch::Cmd(line) => {
            let cmd_ctx = cmd::CmdContext { computer_name: &host.name, whoami: ctx.whoami() };
            let mut nested = |inner: &str| {
                if depth >= MAX_NESTING {
                    return CommandResult {
                        stderr: b"The cauterize lab refuses cmd /c nested this deep.\r\n".to_vec(),
                        exit_code: 1,
                        ..Default::default()
                    };
                }
                run_launch(t, request, launch::classify(inner, &[]), depth + 1)
            };
            cmd::run(&line, &cmd_ctx, &mut nested)
        }
    }
}
