//! Native programs a lab host has: `hostname.exe`, `whoami.exe`,
//! `shutdown.exe` (the lab's power model) and `cmd.exe` (the lab's cmd.exe
//! emulation, which can start PowerShell again). A facade program (reg.exe,
//! schtasks.exe, netsh.exe, icacls.exe) registers the same way.

use crate::lab::emulate::{self, CommandResult, power};
use crate::lab::powershell::object::{Ctx, NativeOutput, NativeProgram, Registry};

fn output(r: CommandResult) -> NativeOutput {
    NativeOutput {
        stdout: String::from_utf8_lossy(&r.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&r.stderr).into_owned(),
        exit_code: r.exit_code,
    }
}

/// What a program prints for something valid on Windows that the lab's
/// copy does not do: an error naming it, never a silent success.
pub fn lab_unsupported(program: &str, what: &str) -> NativeOutput {
    NativeOutput { stderr: format!("The cauterize lab's {program} does not support '{what}'.\r\n"), exit_code: 1, ..Default::default() }
}

struct Hostname;

impl NativeProgram for Hostname {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        if !args.is_empty() {
            return NativeOutput { stderr: "sethostname: Use the Network Control Panel Applet to set hostname.\r\n".into(), exit_code: 1, ..Default::default() };
        }
        NativeOutput { stdout: format!("{}\r\n", cx.spec.name), ..Default::default() }
    }
}

struct Whoami;

impl NativeProgram for Whoami {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        if let Some(a) = args.first() {
            return lab_unsupported("whoami.exe", a);
        }
        NativeOutput { stdout: format!("{}\r\n", cx.user.to_lowercase()), ..Default::default() }
    }
}

struct Shutdown;

impl NativeProgram for Shutdown {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        output(power::shutdown_exe(args, &mut cx.power_desk()))
    }
}

struct Cmd;

impl NativeProgram for Cmd {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        let line = args.join(" ");
        output(emulate::cmd_from_powershell(cx, &line))
    }
}

pub fn register(r: &mut Registry) {
    r.add_native("hostname.exe", Hostname);
    r.add_native("whoami.exe", Whoami);
    r.add_native("shutdown.exe", Shutdown);
    r.add_native("cmd.exe", Cmd);
}
