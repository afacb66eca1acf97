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
//! - `shutdown.exe` (from cmd or PowerShell) and `Restart-Computer`
//!   schedule a restart or power-off on the host ([`power`],
//!   [`programs`]); the network carries it out when lab time reaches it.
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
pub mod power;
pub mod powershell;
pub mod programs;
pub mod tokenizer;
pub mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_power;

use super::spec::HostSpec;
use super::world::{HostState, LabTime};
use launch::{Launch, Script};
use power::{PowerDesk, Shutdown};
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
/// settings), its simulated Windows state, the shutdown scheduled on it
/// (if any), and lab time now.
pub struct Target<'a> {
    pub host: &'a HostSpec,
    pub world: &'a mut HostState,
    pub shutdown: &'a mut Option<Shutdown>,
    pub now: LabTime,
}

impl Target<'_> {
    /// The host's power as a command sees it.
    pub fn power_desk(&mut self) -> PowerDesk<'_> {
        PowerDesk {
            users_logged_on: self.world.logged_on_users().next().is_some(),
            pending: self.shutdown,
            now: self.now,
            computer_name: &self.host.name,
        }
    }
}

/// Run a command on the target host (which the command may read and
/// change).
pub fn execute(target: &mut Target<'_>, request: &CommandRequest<'_>) -> CommandResult {
    let launched = launch::classify(request.command, request.args);
    run_launch(target, request, launched, 0)
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
            powershell::run(&script, ctx, t.power_desk(), ExitRule::Command)
        }
        Launch::PowerShell(Script::Stdin) => {
            // `powershell -Command -` runs what arrives on stdin, as text.
            let script = String::from_utf8_lossy(request.stdin);
            powershell::run(&script, ctx, t.power_desk(), ExitRule::Command)
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
            cmd::run(&line, &cmd_ctx, &mut CmdBridge { t, request, depth })
        }
    }
}

/// cmd.exe's way out to the host: `cmd /c` nesting and external programs.
struct CmdBridge<'t, 'a, 'r> {
    t: &'t mut Target<'a>,
    request: &'r CommandRequest<'r>,
    depth: u32,
}

impl cmd::CmdHost for CmdBridge<'_, '_, '_> {
    fn nested(&mut self, inner: &str) -> CommandResult {
        if self.depth >= MAX_NESTING {
            return CommandResult {
                stderr: b"The cauterize lab refuses cmd /c nested this deep.\r\n".to_vec(),
                exit_code: 1,
                ..Default::default()
            };
        }
        run_launch(self.t, self.request, launch::classify(inner, &[]), self.depth + 1)
    }

    fn program(&mut self, name: &str, args: &[String]) -> Option<CommandResult> {
        programs::run(name, args, &mut self.t.power_desk())
    }
}
