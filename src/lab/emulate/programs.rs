//! External programs a lab host runs beyond cmd.exe's built-ins and
//! PowerShell's cmdlets, found as Windows finds them: by bare name (with
//! or without `.exe`) on the PATH, or by their full path in System32.
//! Today: `shutdown.exe` ([`power`]).

use super::CommandResult;
use super::power::{self, PowerDesk};

/// Run the program `name` with `args`; `None` when the lab has no such
/// program (the caller answers as Windows does for an unknown command).
pub fn run(name: &str, args: &[String], desk: &mut PowerDesk<'_>) -> Option<CommandResult> {
    match program(name)? {
        Program::Shutdown => Some(power::shutdown_exe(args, desk)),
    }
}

/// The programs the lab emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Shutdown,
}

/// Folders a full path may name (System32, and how 32-bit processes see it).
const SYSTEM_FOLDERS: &[&str] = &[
    r"c:\windows\system32",
    r"c:\windows\syswow64",
    r"c:\windows\sysnative",
    r"%systemroot%\system32",
    r"%windir%\system32",
];

fn program(name: &str) -> Option<Program> {
    let name = name
        .trim_matches('"')
        .to_ascii_lowercase()
        .replace('/', "\\");
    let (folder, file) = match name.rsplit_once('\\') {
        Some((folder, file)) => (Some(folder), file),
        None => (None, name.as_str()),
    };
    if folder.is_some_and(|f| !SYSTEM_FOLDERS.contains(&f)) {
        return None;
    }
    match file.strip_suffix(".exe").unwrap_or(file) {
        "shutdown" => Some(Program::Shutdown),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_by_name_or_system_path_only() {
        for name in [
            "shutdown",
            "SHUTDOWN.EXE",
            r"C:\Windows\System32\shutdown.exe",
            "\"c:/windows/system32/shutdown\"",
        ] {
            assert_eq!(program(name), Some(Program::Shutdown), "{name}");
        }
        for name in [r"C:\Temp\shutdown.exe", "shutdownx", "ipconfig"] {
            assert_eq!(program(name), None, "{name}");
        }
    }
}
