//! cmd.exe-level commands, as a WinRM shell runs them when a client sends a
//! plain command line (pywinrm's `run_cmd`): `hostname`, `whoami`,
//! `echo`, `exit [/b] N`, `cmd /c ...`, and the external programs the lab
//! emulates (through [`CmdHost`]). Anything else is answered exactly as
//! cmd.exe answers an unknown command; never a fake success.

use super::CommandResult;

/// What cmd.exe prints for a command it cannot find.
pub fn not_recognized(name: &str) -> CommandResult {
    CommandResult {
        stdout: Vec::new(),
        stderr: format!(
            "'{name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
        )
        .into_bytes(),
        exit_code: 1,
    }
}

fn out(text: String) -> CommandResult {
    CommandResult { stdout: text.into_bytes(), ..Default::default() }
}

fn lab_refusal(what: &str) -> CommandResult {
    CommandResult {
        stderr: format!("The cauterize lab does not emulate this command line: {what}\r\n").into_bytes(),
        exit_code: 1,
        ..Default::default()
    }
}

/// Who the command runs as and where.
pub struct CmdContext<'a> {
    pub computer_name: &'a str,
    /// `whoami` output (lower-case `domain\user`).
    pub whoami: String,
}

/// What cmd.exe reaches beyond its built-ins, through the caller.
pub trait CmdHost {
    /// Run the text after `cmd /c` (which may start PowerShell).
    fn nested(&mut self, line: &str) -> CommandResult;
    /// Run the external program `name` with `args`; `None` when the lab has
    /// no such program.
    fn program(&mut self, name: &str, args: &[String]) -> Option<CommandResult>;
}

/// Run a cmd.exe command line.
pub fn run(line: &str, ctx: &CmdContext<'_>, host: &mut dyn CmdHost) -> CommandResult {
    let line = line.trim_start_matches([' ', '\t', '@']).trim_end_matches(['\r', '\n']);
    let (first, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let name = first.to_ascii_lowercase();
    if name.is_empty() {
        return CommandResult::default();
    }
    // Operators cmd.exe would act on (pipes, redirection, chaining).
    let has_operator = {
        let mut quoted = false;
        line.chars().any(|c| {
            if c == '"' {
                quoted = !quoted;
            }
            !quoted && matches!(c, '&' | '|' | '<' | '>')
        })
    };
    if has_operator && name != "cmd" && name != "cmd.exe" {
        return lab_refusal(line);
    }
    if name.starts_with("echo.") {
        let tail = &first[5..];
        return out(if rest.is_empty() { format!("{tail}\r\n") } else { format!("{tail} {rest}\r\n") });
    }
    if name == "echo" {
        if rest.trim().is_empty() {
            return out("ECHO is on.\r\n".to_string());
        }
        return match rest.trim().to_ascii_lowercase().as_str() {
            "on" | "off" => CommandResult::default(),
            _ => out(format!("{rest}\r\n")),
        };
    }
    match name.as_str() {
        "hostname" | "hostname.exe" if rest.trim().is_empty() => out(format!("{}\r\n", ctx.computer_name)),
        "hostname" | "hostname.exe" => CommandResult {
            stderr: b"sethostname: Use the Network Control Panel Applet to set hostname.\r\n".to_vec(),
            exit_code: 1,
            ..Default::default()
        },
        "whoami" | "whoami.exe" if rest.trim().is_empty() => out(format!("{}\r\n", ctx.whoami)),
        "whoami" | "whoami.exe" => lab_refusal(line),
        "exit" => {
            let mut words = rest.split_whitespace();
            let mut code = words.next();
            if code.is_some_and(|w| w.eq_ignore_ascii_case("/b")) {
                code = words.next();
            }
            let code = code.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
            CommandResult { exit_code: code as i32, ..Default::default() }
        }
        "cmd" | "cmd.exe" => {
            let mut rest = rest;
            loop {
                let trimmed = rest.trim_start();
                let (flag, after) = match trimmed.find([' ', '\t']) {
                    Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
                    None => (trimmed, ""),
                };
                let lower = flag.to_ascii_lowercase();
                if lower == "/c" || lower == "/k" {
                    let mut inner = after.trim();
                    if inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"') {
                        inner = &inner[1..inner.len() - 1];
                    }
                    return host.nested(inner);
                }
                if lower.starts_with('/') && !lower.is_empty() {
                    rest = after;
                    continue;
                }
                return lab_refusal(line);
            }
        }
        _ => {
            let args = super::launch::split_command_line(rest);
            host.program(first, &args).unwrap_or_else(|| not_recognized(first.trim_matches('"')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CmdContext<'static> {
        CmdContext { computer_name: "WS-001", whoami: "lab\\cauterize".into() }
    }

    /// Nests `cmd /c` up to 8 deep; knows one program, `exit7`.
    struct TestHost {
        depth: u32,
    }

    impl CmdHost for TestHost {
        fn nested(&mut self, line: &str) -> CommandResult {
            self.depth += 1;
            if self.depth > 8 { CommandResult::default() } else { run(line, &ctx(), self) }
        }

        fn program(&mut self, name: &str, args: &[String]) -> Option<CommandResult> {
            (name == "exit7").then(|| CommandResult { stdout: args.join("|").into_bytes(), exit_code: 7, ..Default::default() })
        }
    }

    fn run_line(line: &str) -> CommandResult {
        run(line, &ctx(), &mut TestHost { depth: 0 })
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn basics() {
        assert_eq!(text(&run_line("hostname").stdout), "WS-001\r\n");
        assert_eq!(text(&run_line("whoami").stdout), "lab\\cauterize\r\n");
        assert_eq!(text(&run_line("echo hi  there").stdout), "hi  there\r\n");
        assert_eq!(text(&run_line("echo").stdout), "ECHO is on.\r\n");
        assert_eq!(text(&run_line("echo.").stdout), "\r\n");
        assert_eq!(text(&run_line("echo Пётр 🦀").stdout), "Пётр 🦀\r\n");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(run_line("exit /b 3").exit_code, 3);
        assert_eq!(run_line("exit 7").exit_code, 7);
        assert_eq!(run_line("cmd /c exit 4").exit_code, 4);
        assert_eq!(run_line("cmd.exe /q /c \"exit /b 5\"").exit_code, 5);
        assert_eq!(run_line("exit").exit_code, 0);
    }

    #[test]
    fn unknown_commands_fail_like_cmd() {
        let r = run_line("ipconfig /all");
        assert_eq!(r.exit_code, 1);
        assert!(r.stdout.is_empty());
        assert_eq!(
            text(&r.stderr),
            "'ipconfig' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
        );
        assert_eq!(run_line("echo hi > c:\\x.txt").exit_code, 1);
        assert_eq!(run_line("whoami /all").exit_code, 1);
        assert_eq!(run_line("hostname x").exit_code, 1);
    }

    #[test]
    fn external_programs_get_their_arguments_split_as_windows_does() {
        let r = run_line("exit7 /c \"two words\" /t 5");
        assert_eq!((text(&r.stdout).as_str(), r.exit_code), ("/c|two words|/t|5", 7));
        assert_eq!(run_line("cmd /c exit7").exit_code, 7);
    }
}
