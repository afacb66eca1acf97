//! `powershell.exe` / `pwsh.exe` command lines, read as PowerShell reads
//! them (`powershell -?`, about_PowerShell_exe): parameters start with
//! `-` or `/` and may be shortened to any prefix (`-e`, `-enc` and `-ec`
//! are `-EncodedCommand`, `-c` is `-Command`, `-f` is `-File`, `-ex` and
//! `-ep` are `-ExecutionPolicy`, `-w` is `-WindowStyle`); `-File` takes a
//! script against `-WorkingDirectory` or the working folder, the rest
//! being its arguments; `-Command` and `-EncodedCommand` (base64 of
//! UTF-16LE, decoded here) take everything after them as code. The first
//! positional argument is `-Command` for Windows PowerShell and `-File`
//! for PowerShell 7.

use base64::Engine;

use super::super::paths;
use super::launchers::data_files;
use super::{Launcher, MAX_CODE_CHARS, ParseCtx, Parsed, Payload, resolve};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    Command,
    EncodedCommand,
    File,
    WorkingDirectory,
    /// Takes a value that does not matter here.
    Value,
    Switch,
}

/// Parameter names in the order PowerShell prefers them for a prefix.
const PARAMS: &[(&str, Param)] = &[
    ("command", Param::Command),
    ("encodedcommand", Param::EncodedCommand),
    ("file", Param::File),
    ("executionpolicy", Param::Value),
    ("windowstyle", Param::Value),
    ("version", Param::Value),
    ("noprofile", Param::Switch),
    ("nologo", Param::Switch),
    ("noninteractive", Param::Switch),
    ("noexit", Param::Switch),
    ("inputformat", Param::Value),
    ("outputformat", Param::Value),
    ("configurationname", Param::Value),
    ("psconsolefile", Param::Value),
    ("workingdirectory", Param::WorkingDirectory),
    ("sta", Param::Switch),
    ("mta", Param::Switch),
    ("settingsfile", Param::Value),
    ("custompipename", Param::Value),
    ("encodedarguments", Param::Value),
    ("login", Param::Switch),
    ("interactive", Param::Switch),
    ("help", Param::Switch),
];

/// Documented short forms that are not prefixes.
const ALIASES: &[(&str, Param)] = &[
    ("ec", Param::EncodedCommand),
    ("ep", Param::Value),
    ("wd", Param::WorkingDirectory),
    ("ea", Param::Value),
];

fn param(name: &str) -> Param {
    let n = name.to_ascii_lowercase();
    if let Some((_, p)) = ALIASES.iter().find(|(a, _)| *a == n) {
        return *p;
    }
    PARAMS
        .iter()
        .find(|(full, _)| full.starts_with(&n))
        .map_or(Param::Switch, |(_, p)| *p)
}

/// The text of an `-EncodedCommand` argument: base64 of UTF-16LE.
pub fn decode_encoded_command(b64: &str) -> Option<String> {
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .ok()?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

fn bounded(s: &str) -> String {
    s.chars().take(MAX_CODE_CHARS).collect()
}

pub(super) fn parse(p: &mut Parsed, ctx: &ParseCtx) {
    let pwsh = p.program_name.starts_with("pwsh");
    let args = p.args.clone();
    let mut workdir: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let name = a.strip_prefix('-').or_else(|| a.strip_prefix('/'));
        let kind = match name {
            Some("") => Param::Command, // `-`: commands from stdin
            Some(n) => param(n),
            None if pwsh => Param::File,
            None => Param::Command,
        };
        let value_at = if name.is_some() { i + 1 } else { i };
        match kind {
            Param::File => {
                let Some(f) = args.get(value_at) else { return };
                let wd = workdir.as_deref().or(ctx.cwd);
                let cx = ParseCtx { cwd: wd, ..*ctx };
                let mut pay = Payload::new(resolve::file(f, &cx), Launcher::PowerShell);
                pay.args = args[value_at + 1..].to_vec();
                pay.data = data_files(&pay.args, &cx);
                p.payloads.push(pay);
                return;
            }
            Param::Command => {
                p.inline_code = true;
                let code = args[value_at.min(args.len())..].join(" ");
                p.code = bounded(&code);
                script_in_code(p, &code, ctx);
                return;
            }
            Param::EncodedCommand => {
                p.inline_code = true;
                if let Some(code) = args.get(value_at).and_then(|b| decode_encoded_command(b)) {
                    p.code = bounded(&code);
                    script_in_code(p, &code, ctx);
                }
                return;
            }
            Param::WorkingDirectory => {
                workdir = args.get(value_at).map(|w| resolve::full_path(w, ctx.cwd));
                i = value_at + 1;
            }
            Param::Value => i = value_at + 1,
            Param::Switch => i += 1,
        }
    }
}

/// A script file that inline code runs by path (`& 'C:\x\a.ps1'`,
/// `. C:\x\a.ps1`, or a bare path as the whole command): the payload.
fn script_in_code(p: &mut Parsed, code: &str, ctx: &ParseCtx) {
    let t = code.trim().trim_start_matches(['&', '.']).trim();
    let t = t.trim_matches(['\'', '"']);
    let first = if t.starts_with(['\'', '"']) {
        t
    } else {
        t.split_whitespace().next().unwrap_or("")
    };
    let first = first.trim_matches(['\'', '"', ';']);
    if paths::extension(first) == "ps1" && resolve::path_like(first) {
        p.payloads.push(Payload::new(
            resolve::file(first, ctx),
            Launcher::PowerShell,
        ));
    }
}
