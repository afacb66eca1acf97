//! A Windows command-line parser for autostart commands, task actions,
//! service image paths and process command lines: which program Windows
//! starts, and - when that program is a launcher (rundll32, regsvr32, cmd,
//! a script host, mshta, PowerShell, msiexec, conhost, schtasks) - which
//! file the launcher is given, read the way that launcher reads its own
//! command line. The launcher itself is never the payload.
//!
//! - [`env`]: variables expanded for the account the command runs as;
//! - [`argv`]: the program found the way CreateProcess finds it, the
//!   arguments with the CommandLineToArgvW rules;
//! - [`resolve`]: paths resolved against the working folder
//!   (GetFullPathName), bare names through the search Windows does;
//! - [`launchers`]: rundll32, regsvr32, mshta, wscript/cscript, msiexec,
//!   conhost, schtasks; [`cmd`]: `cmd /c` with its quote rule;
//!   [`powershell`]: `-File`, `-Command`, `-EncodedCommand` (decoded).
//!
//! A program copied out of System32 under another name is still known by
//! the original file name the snapshot gives it (a renamed rundll32 is
//! parsed as rundll32).

mod argv;
mod cmd;
mod env;
mod launchers;
mod powershell;
pub mod resolve;

#[cfg(test)]
mod tests;

pub use argv::{split_args, split_cmd_chain};
pub use env::Env;

use super::paths;

/// What kind of program starts the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Launcher {
    Rundll32,
    Regsvr32,
    Cmd,
    ScriptHost,
    Mshta,
    PowerShell,
    Msiexec,
    Conhost,
    Schtasks,
    /// svchost.exe hosting a service's `ServiceDll`.
    Svchost,
    /// The program is itself the payload (an EXE or a script by association).
    Direct,
}

impl Launcher {
    pub fn name(self) -> &'static str {
        match self {
            Launcher::Rundll32 => "rundll32.exe",
            Launcher::Regsvr32 => "regsvr32.exe",
            Launcher::Cmd => "cmd.exe",
            Launcher::ScriptHost => "wscript/cscript",
            Launcher::Mshta => "mshta.exe",
            Launcher::PowerShell => "powershell",
            Launcher::Msiexec => "msiexec.exe",
            Launcher::Conhost => "conhost.exe",
            Launcher::Schtasks => "schtasks.exe",
            Launcher::Svchost => "svchost.exe",
            Launcher::Direct => "direct",
        }
    }
    /// Launchers that load a DLL into themselves.
    pub fn loads_dll(self) -> bool {
        matches!(
            self,
            Launcher::Rundll32 | Launcher::Regsvr32 | Launcher::Svchost
        )
    }
}

/// A file a payload is given as an argument (IcedID's `/i:"x\license.dat"`,
/// `--key="C:\...\data"`), with the places it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// The argument's path as written (variables expanded).
    pub written: String,
    /// Full paths it can stand for, most likely first (see
    /// [`resolve::full_path`]; a relative one under the account's
    /// `%APPDATA%`, then the working folder).
    pub candidates: Vec<String>,
}

/// A file (or URL) a command ends up running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Expanded, resolved path (or a URL for mshta / scrobj / msiexec).
    pub path: String,
    /// rundll32 entry point (`RunDLL`, `#1`, ...).
    pub export: Option<String>,
    /// Arguments after the payload.
    pub args: Vec<String>,
    /// What loads or runs it.
    pub via: Launcher,
    /// Found by bare-name search (e.g. `printui.dll` -> System32).
    pub searched: bool,
    /// Files named among its arguments.
    pub data: Vec<DataFile>,
}

impl Payload {
    pub(crate) fn new(path: String, via: Launcher) -> Payload {
        Payload {
            path,
            export: None,
            args: Vec::new(),
            via,
            searched: false,
            data: Vec::new(),
        }
    }
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub raw: String,
    pub expanded: String,
    /// The program Windows starts, expanded and resolved.
    pub program: String,
    /// Its lower-case file name.
    pub program_name: String,
    /// The lower-case original file name the snapshot gives the program
    /// when it differs from its name (a renamed copy of a Windows program).
    pub original_name: Option<String>,
    /// The text after the program, as written (expanded).
    pub tail: String,
    /// Arguments, CommandLineToArgvW style.
    pub args: Vec<String>,
    pub launcher: Option<Launcher>,
    /// What the command ultimately runs (the DLL/script, never the launcher).
    pub payloads: Vec<Payload>,
    /// Inline code (encoded PowerShell, `-Command`, `vbscript:`,
    /// `javascript:`).
    pub inline_code: bool,
    /// That code as text (an `-EncodedCommand` decoded), bounded; empty
    /// when there is none or it could not be read.
    pub code: String,
    /// Commands chained inside `cmd /c`, `conhost`, `schtasks /tr`.
    pub children: Vec<Parsed>,
    /// Other paths Windows may run for this command, depending on which
    /// exist: the prefixes CreateProcess tries for an unquoted program
    /// with blanks (`C:\Program.exe`), rundll32's other reading of an
    /// unquoted DLL. Collection asks about each; parsed again with the
    /// host's facts, the one that exists is taken.
    pub alternatives: Vec<String>,
}

/// The folder an autostart starts in when it names none: Run values
/// (explorer's), tasks without a working directory, services and WMI
/// consumers all start in System32.
pub const DEFAULT_CWD: &str = r"C:\Windows\System32";

/// Longest inline code kept, in characters.
pub const MAX_CODE_CHARS: usize = 64 * 1024;

/// Context for parsing: environment, working folder, and what the
/// snapshot knows of files.
#[derive(Clone, Copy)]
pub struct ParseCtx<'a> {
    pub env: &'a Env,
    /// The folder the command starts in (a task's working directory, or
    /// the default of its mechanism); variables are expanded.
    pub cwd: Option<&'a str>,
    /// Does the snapshot show this path existing?
    pub exists: &'a dyn Fn(&str) -> bool,
    /// The original file name (PE version information) the snapshot
    /// gives a file, if any.
    pub original_name: &'a dyn Fn(&str) -> Option<String>,
}

/// For a [`ParseCtx`] that knows no files.
pub fn nothing_exists(_: &str) -> bool {
    false
}

/// For a [`ParseCtx`] that knows no original names.
pub fn no_original_name(_: &str) -> Option<String> {
    None
}

impl<'a> ParseCtx<'a> {
    /// A context with `env` only: no working folder, no file known.
    pub fn new(env: &'a Env) -> ParseCtx<'a> {
        ParseCtx {
            env,
            cwd: None,
            exists: &nothing_exists,
            original_name: &no_original_name,
        }
    }
}

/// System binaries that resolve from a bare name into System32.
pub(crate) const SYSTEM_BINARIES: &[&str] = &[
    "rundll32",
    "regsvr32",
    "cmd",
    "wscript",
    "cscript",
    "mshta",
    "powershell",
    "msiexec",
    "conhost",
    "schtasks",
    "ping",
    "reg",
    "sc",
    "net",
    "net1",
    "wmic",
    "certutil",
    "bitsadmin",
    "timeout",
    "taskkill",
    "forfiles",
    "odbcconf",
    "control",
    "wermgr",
    "mobsync",
    "msra",
    "svchost",
    "dllhost",
    "werfault",
    "notepad",
    "calc",
    "whoami",
    "nltest",
    "userinit",
    "taskhostw",
    "sihost",
    "ctfmon",
];

const CMD_BUILTINS: &[&str] = &[
    "echo", "type", "del", "erase", "set", "copy", "move", "ren", "rename", "if", "for", "goto",
    "exit", "cd", "chdir", "md", "mkdir", "rd", "rmdir", "cls", "pause", "rem", "setlocal",
    "endlocal", "pushd", "popd", "title", "ver", "vol", "dir", "attrib",
];

/// The launcher a program is, by its (original) file name.
pub fn launcher_of(name: &str) -> Launcher {
    let name = name.to_ascii_lowercase();
    let base = name.strip_suffix(".exe").unwrap_or(&name);
    match base {
        "rundll32" => Launcher::Rundll32,
        "regsvr32" => Launcher::Regsvr32,
        "cmd" => Launcher::Cmd,
        "wscript" | "cscript" => Launcher::ScriptHost,
        "mshta" => Launcher::Mshta,
        "powershell" | "pwsh" | "powershell_ise" => Launcher::PowerShell,
        "msiexec" => Launcher::Msiexec,
        "conhost" => Launcher::Conhost,
        "schtasks" => Launcher::Schtasks,
        _ => Launcher::Direct,
    }
}

/// Is this program a Windows binary in its home folder (never a payload)?
pub fn is_system_binary(path: &str) -> bool {
    let name = paths::file_name(path).to_ascii_lowercase();
    let base = name.strip_suffix(".exe").unwrap_or(&name);
    (SYSTEM_BINARIES.contains(&base) || base == "explorer") && paths::is_directly_in_system(path)
}

/// A service's ImagePath as a command line: `\SystemRoot\` and a
/// leading `system32\` (as the SCM stores driver-style paths) made full.
pub fn service_command(image_path: &str) -> String {
    let cmd = image_path.replace("\\SystemRoot\\", "C:\\Windows\\");
    if cmd.to_ascii_lowercase().starts_with("system32\\") {
        format!("C:\\Windows\\{cmd}")
    } else {
        cmd
    }
}

/// Parse a command line.
pub fn parse(cmd: &str, ctx: &ParseCtx) -> Parsed {
    let cwd = ctx.cwd.map(|c| ctx.env.expand(c));
    let ctx = ParseCtx {
        cwd: cwd.as_deref().filter(|c| !c.trim().is_empty()),
        ..*ctx
    };
    parse_depth(cmd, &ctx, 0)
}

/// Deepest nesting of `cmd /c`, `conhost`, `schtasks /tr` followed.
const MAX_DEPTH: usize = 4;

fn parse_depth(cmd: &str, ctx: &ParseCtx, depth: usize) -> Parsed {
    let expanded = ctx.env.expand(cmd.trim());
    let mut alternatives = Vec::new();
    let (prog_raw, rest) = argv::split_program(&expanded, ctx, &mut alternatives);
    let program = resolve::program(&prog_raw, ctx);
    alternatives.retain(|a| !a.eq_ignore_ascii_case(&program));
    let mut program_name = paths::file_name(&program).to_ascii_lowercase();
    if !program_name.contains('.') && SYSTEM_BINARIES.contains(&program_name.as_str()) {
        program_name.push_str(".exe");
    }
    let original_name = (ctx.original_name)(&program)
        .map(|o| o.to_ascii_lowercase())
        .filter(|o| !o.is_empty() && *o != program_name);
    let args = split_args(rest);
    let mut p = Parsed {
        raw: cmd.to_string(),
        expanded: expanded.clone(),
        program: program.clone(),
        program_name: program_name.clone(),
        original_name: original_name.clone(),
        tail: rest.to_string(),
        args: args.clone(),
        alternatives,
        ..Parsed::default()
    };
    if program.is_empty() {
        return p;
    }
    let builtin = CMD_BUILTINS.contains(&program_name.as_str());
    let l = launcher_of(original_name.as_deref().unwrap_or(&program_name));
    p.launcher = Some(l);
    match l {
        Launcher::Rundll32 => launchers::rundll32(&mut p, rest, ctx),
        Launcher::Regsvr32 => launchers::regsvr32(&mut p, ctx),
        Launcher::Cmd if depth < MAX_DEPTH => cmd::parse(&mut p, rest, ctx, depth),
        Launcher::ScriptHost => launchers::script_host(&mut p, ctx),
        Launcher::Mshta => launchers::mshta(&mut p, rest, ctx),
        Launcher::PowerShell => powershell::parse(&mut p, ctx),
        Launcher::Msiexec => launchers::msiexec(&mut p, ctx),
        Launcher::Conhost if depth < MAX_DEPTH => launchers::conhost(&mut p, rest, ctx, depth),
        Launcher::Schtasks if depth < MAX_DEPTH => launchers::schtasks(&mut p, ctx, depth),
        Launcher::Cmd | Launcher::Conhost | Launcher::Schtasks => {}
        // The DLL svchost.exe hosts is in the service's registry key, not
        // its command line (`facts` adds it); never returned by `launcher_of`.
        Launcher::Svchost => {}
        Launcher::Direct => {
            // A Windows program's name outside its home folder is a
            // payload like any other (a copy is judged by the rules).
            if !builtin && !is_system_binary(&program) {
                let mut pay = Payload::new(program, l);
                pay.data = launchers::data_files(&args, ctx);
                pay.args = args;
                p.payloads.push(pay);
            }
        }
    }
    p
}

/// Parse a nested command (`cmd /c`, `conhost`, `schtasks /tr`) and take
/// in what it runs.
fn adopt(p: &mut Parsed, text: &str, ctx: &ParseCtx, depth: usize) {
    let child = parse_depth(text, ctx, depth + 1);
    p.payloads.extend(child.payloads.iter().cloned());
    p.inline_code |= child.inline_code;
    if p.code.is_empty() {
        p.code = child.code.clone();
    }
    p.alternatives.extend(child.alternatives.iter().cloned());
    p.children.push(child);
}
