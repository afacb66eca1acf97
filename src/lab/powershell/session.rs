//! A new session on a lab host: the process environment Windows gives a
//! WinRM logon (`%SystemRoot%`, `%USERPROFILE%`, `%APPDATA%`, ...), and the
//! automatic and preference variables PowerShell defines
//! (`$PSVersionTable` by version, `$ErrorActionPreference`, `$Error`,
//! `$HOME`, `$PSHOME`, `$PID`).

use std::cell::RefCell;
use std::rc::Rc;

use super::dotnet::misc::Version;
use super::interp::Interp;
use super::interp::scope::GLOBAL;
use super::object::{Ctx, EnumDef};
use super::value::{Hashtable, Value};
use crate::lab::emulate::identity::split_user;
use crate::lab::world::Arch;

/// `System.Management.Automation.ActionPreference`.
pub static ACTION_PREFERENCE: EnumDef = EnumDef {
    full_name: "System.Management.Automation.ActionPreference",
    members: &[("SilentlyContinue", 0), ("Stop", 1), ("Continue", 2), ("Inquire", 3), ("Ignore", 4), ("Suspend", 5)],
    flags: false,
};

/// The Windows NT version of a build (`6.1` for 7601).
pub fn nt_version(build: u32) -> &'static str {
    match build {
        0..=6002 => "6.0",
        6003..=7601 => "6.1",
        7602..=9200 => "6.2",
        9201..=9600 => "6.3",
        _ => "10.0",
    }
}

/// The profile folder of the account running the command (Windows creates
/// `C:\Users\<name>` at its first logon).
pub fn user_profile_path(cx: &Ctx<'_>) -> String {
    let (_, name) = split_user(&cx.user);
    cx.host.profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.profile_path.clone()).unwrap_or_else(|| format!(r"C:\Users\{name}"))
}

/// `%VAR%` expansion with the session's environment (unknown names stay).
pub fn expand_env(cx: &Ctx<'_>, text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        let after = &rest[i + 1..];
        match after.find('%') {
            Some(j) => {
                let name = &after[..j];
                match cx.env.get(&name.to_uppercase()) {
                    Some((_, v)) if !name.is_empty() => {
                        out.push_str(&rest[..i]);
                        out.push_str(v);
                        rest = &after[j + 1..];
                    }
                    _ => {
                        out.push_str(&rest[..=i]);
                        rest = after;
                    }
                }
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The environment of a WinRM logon on the host.
pub fn environment(cx: &Ctx<'_>) -> indexmap::IndexMap<String, (String, String)> {
    let (domain, name) = split_user(&cx.user);
    let profile = user_profile_path(cx);
    let x64 = matches!(cx.host.os.arch, Arch::X64);
    let mut vars: Vec<(&str, String)> = vec![
        ("ALLUSERSPROFILE", r"C:\ProgramData".into()),
        ("APPDATA", format!(r"{profile}\AppData\Roaming")),
        ("COMPUTERNAME", cx.spec.name.clone()),
        ("ComSpec", r"C:\Windows\system32\cmd.exe".into()),
        ("HOMEDRIVE", "C:".into()),
        ("HOMEPATH", profile.trim_start_matches("C:").to_string()),
        ("LOCALAPPDATA", format!(r"{profile}\AppData\Local")),
        ("NUMBER_OF_PROCESSORS", "2".into()),
        ("OS", "Windows_NT".into()),
        (
            "Path",
            r"C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem;C:\Windows\System32\WindowsPowerShell\v1.0\".into(),
        ),
        ("PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC;.CPL".into()),
        ("PROCESSOR_ARCHITECTURE", if x64 { "AMD64" } else { "x86" }.into()),
        ("ProgramData", r"C:\ProgramData".into()),
        ("ProgramFiles", r"C:\Program Files".into()),
        ("PSModulePath", r"C:\Windows\system32\WindowsPowerShell\v1.0\Modules\".into()),
        ("PUBLIC", r"C:\Users\Public".into()),
        ("SystemDrive", "C:".into()),
        ("SystemRoot", r"C:\Windows".into()),
        ("TEMP", format!(r"{profile}\AppData\Local\Temp")),
        ("TMP", format!(r"{profile}\AppData\Local\Temp")),
        ("USERDOMAIN", domain.to_string()),
        ("USERNAME", name.to_string()),
        ("USERPROFILE", profile.clone()),
        ("windir", r"C:\Windows".into()),
    ];
    if x64 {
        vars.push(("ProgramFiles(x86)", r"C:\Program Files (x86)".into()));
        vars.push(("ProgramW6432", r"C:\Program Files".into()));
        vars.push(("CommonProgramFiles(x86)", r"C:\Program Files (x86)\Common Files".into()));
    }
    vars.into_iter().map(|(n, v)| (n.to_uppercase(), (n.to_string(), v))).collect()
}

/// `$PSVersionTable` for the host's version.
fn version_table(cx: &Ctx<'_>) -> Value {
    let v = &cx.version;
    let mut h = Hashtable::new();
    let mut put = |k: &str, val: Value| h.insert(Value::str(k), val);
    put("PSVersion", Value::object(Version::parse(&v.text)));
    if v.major >= 5 {
        put("PSEdition", Value::str(if v.major >= 6 { "Core" } else { "Desktop" }));
    }
    if v.major < 6 {
        put("CLRVersion", Value::object(Version::parse(if v.major >= 3 { "4.0.30319.42000" } else { "2.0.50727.5420" })));
        put("BuildVersion", Value::object(Version::parse(if v.major >= 5 { "10.0.19041.1" } else { "6.1.7601.17514" })));
    }
    put("WSManStackVersion", Value::object(Version::parse(if v.major >= 3 { "3.0" } else { "2.0" })));
    put("PSRemotingProtocolVersion", Value::object(Version::parse(if v.major >= 3 { "2.3" } else { "2.1" })));
    put("SerializationVersion", Value::object(Version::parse("1.1.0.1")));
    Value::Hashtable(Rc::new(RefCell::new(h)))
}

/// Define the session's variables.
pub fn initialize(it: &mut Interp<'_>) {
    let profile = user_profile_path(&it.cx);
    let table = version_table(&it.cx);
    let set = |it: &mut Interp<'_>, n: &str, v: Value| it.scopes.set_in(GLOBAL, n, v, None);
    set(it, "erroractionpreference", Value::Enum(&ACTION_PREFERENCE, 2));
    set(it, "warningpreference", Value::Enum(&ACTION_PREFERENCE, 2));
    set(it, "verbosepreference", Value::Enum(&ACTION_PREFERENCE, 0));
    set(it, "debugpreference", Value::Enum(&ACTION_PREFERENCE, 0));
    set(it, "progresspreference", Value::Enum(&ACTION_PREFERENCE, 2));
    set(it, "confirmpreference", Value::str("High"));
    set(it, "whatifpreference", Value::Bool(false));
    set(it, "psversiontable", table);
    set(it, "pshome", Value::str(r"C:\Windows\System32\WindowsPowerShell\v1.0"));
    set(it, "home", Value::string(profile));
    set(it, "pid", Value::Int(4812));
    set(it, "shellid", Value::str("Microsoft.PowerShell"));
    set(it, "psculture", Value::str("en-US"));
    set(it, "psuiculture", Value::str("en-US"));
    set(it, "nestedpromptlevel", Value::Int(0));
    set(it, "maximumhistorycount", Value::Int(if it.cx.version.v3() { 4096 } else { 64 }));
    let errors = Value::Object(it.error_list.clone());
    set(it, "error", errors);
    set(it, "args", Value::array(Vec::new()));
    set(it, "input", Value::array(Vec::new()));
}
