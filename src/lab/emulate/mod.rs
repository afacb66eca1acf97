//! What a lab host does with a command received over WinRM.
//!
//! - PowerShell (`-EncodedCommand`, `-Command`, `-Command -` reading the
//!   script from stdin) runs in the lab's PowerShell engine
//!   (`lab::powershell`), with stdin as `$input`: cauterize's bootstrap
//!   runs for real (reads its payload from stdin, `[ScriptBlock]::Create`,
//!   `& $czBlock`, its exit-code rule); so do the runtime it carries, the
//!   probe and `exec` scripts.
//! - Plain command lines get cmd.exe's behaviour for `hostname`, `whoami`,
//!   `echo`, `exit`, `cmd /c` ([`cmd`]) and the host's programs;
//!   anything else is answered as an unrecognised command, never a fake
//!   success.
//! - `shutdown.exe` and `Restart-Computer` schedule a restart or power-off
//!   on the host ([`power`]); the network carries it out when lab time
//!   reaches it.
//!
//! Output is UTF-8 (the lab's shells run with code page 65001).

pub mod clixml;
pub mod cmd;
pub mod error_record;
pub mod identity;
pub mod launch;
pub mod power;

#[cfg(test)]
pub(crate) mod tests;

use super::powershell;
use super::powershell::object::{Ctx, registry};
use super::spec::HostSpec;
use super::world::{HostState, LabTime};
use launch::{Launch, Script};
use power::{PowerDesk, Shutdown};

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
        Launch::PowerShell(Script::Encoded(Some(s))) => launch::reads_input(&s),
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

/// The account a request runs as: (`DOMAIN\user` as Windows names it,
/// whether it is an administrator).
fn account(host: &HostSpec, user: &str) -> (String, bool) {
    (identity::qualified(host, user), identity::find_account(host, user).is_some_and(|a| a.admin))
}

/// Run a command on the target host (which the command may read and
/// change).
pub fn execute(target: &mut Target<'_>, request: &CommandRequest<'_>) -> CommandResult {
    let launched = launch::classify(request.command, request.args);
    let (user, admin) = account(target.host, request.user);
    run_launch(target, &user, admin, request.stdin, launched, 0)
}

/// Run a program's command line on the target host as `user`, with no
/// input: what the Task Scheduler starts. PowerShell runs its
/// `-EncodedCommand` or `-Command` text (decoded as powershell.exe does);
/// anything else runs as cmd.exe would run that line.
pub fn run_command_line(target: &mut Target<'_>, user: &str, admin: bool, line: &str) -> CommandResult {
    run_launch(target, user, admin, b"", launch::classify(line, &[]), 0)
}

/// The lines PowerShell reads from stdin as `$input`.
fn stdin_lines(stdin: &[u8]) -> Vec<String> {
    // Valid UTF-8 (the usual case) is checked by the fast validator.
    let text = match std::str::from_utf8(stdin) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(stdin),
    };
    let mut lines: Vec<String> = text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn run_launch(t: &mut Target<'_>, user: &str, admin: bool, stdin: &[u8], launched: Launch, depth: u32) -> CommandResult {
    match launched {
        Launch::PowerShell(Script::Encoded(Some(script))) => powershell::run(t, user, admin, &script, &stdin_lines(stdin)),
        Launch::PowerShell(Script::Command(script)) => powershell::run(t, user, admin, &script, &stdin_lines(stdin)),
        Launch::PowerShell(Script::Stdin) => {
            // `powershell -Command -` runs what arrives on stdin, as text.
            let script = String::from_utf8_lossy(stdin).into_owned();
            powershell::run(t, user, admin, &script, &[])
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
        Launch::Cmd(line) => run_cmd(t, user, admin, &line, depth),
    }
}

fn run_cmd(t: &mut Target<'_>, user: &str, admin: bool, line: &str, depth: u32) -> CommandResult {
    let cmd_ctx = cmd::CmdContext { computer_name: &t.host.name.clone(), whoami: user.to_lowercase() };
    cmd::run(line, &cmd_ctx, &mut CmdBridge { t, user, admin, depth })
}

/// `cmd.exe /c ...` started from PowerShell: the same cmd.exe, on the
/// engine's host.
pub fn cmd_from_powershell(cx: &mut Ctx<'_>, line: &str) -> CommandResult {
    let now = cx.now();
    let user = cx.user.clone();
    let admin = cx.admin;
    let mut t = Target { host: cx.spec, world: &mut *cx.host, shutdown: &mut *cx.shutdown, now };
    let full = format!("cmd {line}");
    run_cmd(&mut t, &user, admin, &full, 1)
}

/// cmd.exe's way out to the host: `cmd /c` nesting and external programs.
struct CmdBridge<'t, 'a> {
    t: &'t mut Target<'a>,
    user: &'t str,
    admin: bool,
    depth: u32,
}

impl cmd::CmdHost for CmdBridge<'_, '_> {
    fn nested(&mut self, inner: &str) -> CommandResult {
        if self.depth >= MAX_NESTING {
            return CommandResult {
                stderr: b"The cauterize lab refuses cmd /c nested this deep.\r\n".to_vec(),
                exit_code: 1,
                ..Default::default()
            };
        }
        run_launch(self.t, self.user, self.admin, b"", launch::classify(inner, &[]), self.depth + 1)
    }

    fn program(&mut self, name: &str, args: &[String]) -> Option<CommandResult> {
        let program = registry().find_native(name)?;
        let t = &mut *self.t;
        let out = powershell::with_ctx(t, self.user, self.admin, |cx| program.run(cx, args));
        Some(CommandResult { stdout: out.stdout.into_bytes(), stderr: out.stderr.into_bytes(), exit_code: out.exit_code })
    }
}
