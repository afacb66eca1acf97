//! What a lab host does with a command: cauterize's bootstrap and probe are
//! recognised and answered from the host model; other commands get a small,
//! honest emulation; anything else is answered as an unrecognised command,
//! never a fake success.
//!
//! STUB: only `hostname` is emulated so far (see the emulation helper).

use super::spec::HostSpec;

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

/// Whether this command reads stdin until end of stream before it can run
/// (the bootstrap does; `hostname` does not).
pub fn wants_stdin(command: &str, args: &[String]) -> bool {
    let _ = (command, args);
    false
}

/// Run a command on the host model.
pub fn execute(host: &HostSpec, request: &CommandRequest<'_>) -> CommandResult {
    if request.command.trim().eq_ignore_ascii_case("hostname") {
        return CommandResult { stdout: format!("{}\r\n", host.name).into_bytes(), ..Default::default() };
    }
    CommandResult { stderr: b"not emulated yet\r\n".to_vec(), exit_code: 1, ..Default::default() }
}
