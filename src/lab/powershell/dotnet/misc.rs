//! Small .NET pieces: PSCustomObject, `System.Version`, `Guid`,
//! `Environment` (machine name, OS version, folders, `%VAR%` expansion),
//! `Console` (Out and Error writers, OutputEncoding), `GC`.

use std::borrow::Cow;
use std::cell::RefCell;

use super::args::Args;
use crate::lab::powershell::convert;
use crate::lab::powershell::interp::out::flush_host;
use crate::lab::powershell::object::{Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::Value;

// ---- PSCustomObject ----

/// A PSCustomObject: named properties in order.
#[derive(Debug)]
pub struct PsObject {
    type_name: &'static str,
    props: RefCell<Vec<(String, Value)>>,
}

impl PsObject {
    pub fn new(type_name: &'static str, props: Vec<(String, Value)>) -> PsObject {
        PsObject { type_name, props: RefCell::new(props) }
    }
    /// Add or replace a property.
    pub fn add(&self, name: &str, v: Value) {
        let mut p = self.props.borrow_mut();
        match p.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(slot) => slot.1 = v,
            None => p.push((name.to_string(), v)),
        }
    }
}

impl NetObject for PsObject {
    fn type_name(&self) -> Cow<'static, str> {
        self.type_name.into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Management.Automation.PSCustomObject", "System.Object"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        self.props.borrow().iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| Ok(v.clone()))
    }
    fn set(&self, _: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let mut p = self.props.borrow_mut();
        let slot = p.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        slot.1 = value;
        Some(Ok(()))
    }
    fn to_text(&self, cx: &mut Ctx<'_>) -> String {
        let props = self.props.borrow().clone();
        let parts: Vec<String> = props.iter().map(|(n, v)| format!("{n}={}", convert::to_string(v, cx))).collect();
        format!("@{{{}}}", parts.join("; "))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        self.props.borrow().iter().map(|(n, _)| Cow::Owned(n.clone())).collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---- Version ----

/// `System.Version` (`$PSVersionTable.PSVersion` on Windows PowerShell;
/// a SemanticVersion on 7, shown the same way here).
#[derive(Debug, Clone)]
pub struct Version {
    pub parts: [i32; 4],
    pub semantic: bool,
}

impl Version {
    /// From text (`5.1.19041.1`, `2.0`): missing parts are -1 as in .NET.
    pub fn parse(text: &str) -> Version {
        let mut parts = [-1; 4];
        for (slot, p) in parts.iter_mut().zip(text.split(['.', '-', '+'])) {
            if let Ok(n) = p.parse() {
                *slot = n;
            }
        }
        let major = parts[0];
        Version { parts, semantic: major >= 6 }
    }
}

impl NetObject for Version {
    fn type_name(&self) -> Cow<'static, str> {
        if self.semantic { "System.Management.Automation.SemanticVersion".into() } else { "System.Version".into() }
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let p = self.parts;
        Some(Ok(Value::Int(if is(name, "Major") {
            p[0]
        } else if is(name, "Minor") {
            p[1]
        } else if is(name, "Build") || is(name, "Patch") {
            if self.semantic { p[2].max(0) } else { p[2] }
        } else if is(name, "Revision") {
            p[3]
        } else {
            return None;
        })))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        let n = if self.semantic { 3 } else { self.parts.iter().take_while(|&&x| x >= 0).count().max(2) };
        self.parts.iter().take(n).map(|x| x.max(&0).to_string()).collect::<Vec<_>>().join(".")
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ToString") && args.is_empty() {
            return Some(Ok(Value::string(self.to_text(cx))));
        }
        None
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        if self.semantic {
            vec!["Major".into(), "Minor".into(), "Patch".into(), "PreReleaseLabel".into(), "BuildLabel".into()]
        } else {
            vec!["Major".into(), "Minor".into(), "Build".into(), "Revision".into()]
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct VersionType;

impl NetType for VersionType {
    fn full_name(&self) -> &str {
        "System.Version"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let text = match args {
            [v] => convert::to_string(v, cx),
            many => many.iter().map(|v| convert::to_string(v, cx)).collect::<Vec<_>>().join("."),
        };
        Some(Ok(Value::object(Version { semantic: false, ..Version::parse(&text) })))
    }
    fn convert(&self, cx: &mut Ctx<'_>, value: &Value) -> Option<NetResult<Value>> {
        let text = convert::to_string(value, cx);
        Some(Ok(Value::object(Version { semantic: false, ..Version::parse(&text) })))
    }
}

// ---- Guid ----

#[derive(Debug, Clone, Copy)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    fn text(&self, fmt: &str) -> String {
        let h: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        let dashed = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
        match fmt {
            "N" | "n" => h,
            "B" | "b" => format!("{{{dashed}}}"),
            "P" | "p" => format!("({dashed})"),
            _ => dashed,
        }
    }
}

impl NetObject for Guid {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Guid".into()
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ToString") {
            let fmt = args.first().map(|v| convert::to_string(v, cx)).unwrap_or_default();
            return Some(Ok(Value::string(self.text(&fmt))));
        }
        if is(name, "ToByteArray") {
            return Some(Ok(Value::bytes(self.0.to_vec())));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.text("D")
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Guid".into()]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Guid").then(|| Ok(Value::string(self.text("D"))))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct GuidType;

impl NetType for GuidType {
    fn full_name(&self) -> &str {
        "System.Guid"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Empty").then(|| Ok(Value::object(Guid([0; 16]))))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "NewGuid") {
            let mut b = *uuid::Uuid::new_v4().as_bytes();
            b[6] = (b[6] & 0x0F) | 0x40;
            return Some(Ok(Value::object(Guid(b))));
        }
        if is(name, "Parse") {
            let s = convert::to_string(args.first().unwrap_or(&Value::Null), cx);
            return Some(match uuid::Uuid::parse_str(s.trim_matches(['{', '}', '(', ')'])) {
                Ok(u) => Ok(Value::object(Guid(*u.as_bytes()))),
                Err(_) => Err(NetError::exception("System.FormatException", "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")),
            });
        }
        None
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        self.call_static(cx, "Parse", args)
    }
}

// ---- Environment ----

/// `Environment.SpecialFolder`.
pub static SPECIAL_FOLDER: EnumDef = EnumDef {
    full_name: "System.Environment+SpecialFolder",
    members: &[
        ("Desktop", 0),
        ("Programs", 2),
        ("Personal", 5),
        ("MyDocuments", 5),
        ("Startup", 7),
        ("ApplicationData", 26),
        ("CommonApplicationData", 35),
        ("LocalApplicationData", 28),
        ("Windows", 36),
        ("System", 37),
        ("ProgramFiles", 38),
        ("SystemX86", 41),
        ("ProgramFilesX86", 42),
        ("CommonStartup", 24),
        ("UserProfile", 40),
    ],
    flags: false,
};

/// The folder for a SpecialFolder value, for the current user.
fn special_folder(cx: &mut Ctx<'_>, v: &Value) -> String {
    let n = match v {
        Value::Enum(_, n) => *n,
        Value::Str(s) => SPECIAL_FOLDER.value_of(s).unwrap_or(-1),
        other => convert::to_i64(other, cx).unwrap_or(-1),
    };
    let profile = crate::lab::powershell::session::user_profile_path(cx);
    match n {
        36 => r"C:\Windows".into(),
        37 => r"C:\Windows\system32".into(),
        41 => r"C:\Windows\SysWOW64".into(),
        38 => r"C:\Program Files".into(),
        42 => r"C:\Program Files (x86)".into(),
        35 => r"C:\ProgramData".into(),
        24 => r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp".into(),
        26 => format!(r"{profile}\AppData\Roaming"),
        28 => format!(r"{profile}\AppData\Local"),
        7 => format!(r"{profile}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup"),
        2 => format!(r"{profile}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs"),
        0 => format!(r"{profile}\Desktop"),
        5 => format!(r"{profile}\Documents"),
        40 => profile,
        _ => String::new(),
    }
}

/// `Environment.OSVersion`.
#[derive(Debug)]
struct OperatingSystem {
    version: String,
}

impl NetObject for OperatingSystem {
    fn type_name(&self) -> Cow<'static, str> {
        "System.OperatingSystem".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Version") {
            Value::object(Version { semantic: false, ..Version::parse(&self.version) })
        } else if is(name, "VersionString") {
            Value::string(format!("Microsoft Windows NT {}", self.version))
        } else if is(name, "Platform") {
            Value::str("Win32NT")
        } else if is(name, "ServicePack") {
            Value::str("")
        } else {
            return None;
        }))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        format!("Microsoft Windows NT {}", self.version)
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Platform".into(), "ServicePack".into(), "Version".into(), "VersionString".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct EnvironmentType;

impl NetType for EnvironmentType {
    fn full_name(&self) -> &str {
        "System.Environment"
    }
    fn get_static(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let (_, user) = crate::lab::emulate::identity::split_user(&cx.user);
        let user = user.to_string();
        Some(Ok(if is(name, "MachineName") {
            Value::string(cx.spec.name.clone())
        } else if is(name, "UserName") {
            Value::string(user)
        } else if is(name, "UserDomainName") {
            let (d, _) = crate::lab::emulate::identity::split_user(&cx.user);
            Value::string(d.to_string())
        } else if is(name, "NewLine") {
            Value::str("\r\n")
        } else if is(name, "OSVersion") {
            let build = cx.host.os.build;
            let version = crate::lab::powershell::session::nt_version(build);
            Value::object(OperatingSystem { version: format!("{version}.{build}.0") })
        } else if is(name, "Is64BitOperatingSystem") || is(name, "Is64BitProcess") {
            Value::Bool(matches!(cx.host.os.arch, crate::lab::world::Arch::X64))
        } else if is(name, "ProcessorCount") {
            Value::Int(2)
        } else if is(name, "SystemDirectory") {
            Value::str(r"C:\Windows\system32")
        } else if is(name, "CurrentDirectory") {
            Value::string(crate::lab::powershell::session::user_profile_path(cx))
        } else if is(name, "TickCount") {
            Value::Int((cx.now().0.saturating_sub(cx.host.boot_time.0) / 10_000) as i32)
        } else if is(name, "UserInteractive") {
            Value::Bool(false)
        } else {
            return None;
        }))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        if is(name, "ExpandEnvironmentVariables") {
            let text = match a.value(0) {
                Value::Null => return Some(Err(NetError::exception("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: name"))),
                v => convert::to_string(v, cx),
            };
            return Some(Ok(Value::string(crate::lab::powershell::session::expand_env(cx, &text))));
        }
        if is(name, "GetFolderPath") {
            let v = a.value(0).clone();
            return Some(Ok(Value::string(special_folder(cx, &v))));
        }
        if is(name, "GetEnvironmentVariable") {
            let n = convert::to_string(a.value(0), cx);
            let expanded = crate::lab::powershell::session::expand_env(cx, &format!("%{n}%"));
            return Some(Ok(if expanded == format!("%{n}%") { Value::Null } else { Value::string(expanded) }));
        }
        None
    }
}

// ---- Console ----

/// `[Console]::Out` / `[Console]::Error`.
#[derive(Debug)]
struct Writer {
    error: bool,
}

fn write(cx: &mut Ctx<'_>, error: bool, text: &str) {
    if error {
        cx.console.stderr.raw(text);
    } else {
        flush_host(cx);
        cx.console.stdout.push_str(text);
    }
}

/// What `Console.Write(x)` writes for a value: .NET's ToString.
fn console_text(cx: &mut Ctx<'_>, args: &[Value]) -> NetResult<String> {
    match args {
        [] => Ok(String::new()),
        [v] => Ok(crate::lab::powershell::format::dotnet_text(v, "", cx)),
        [fmt, rest @ ..] => {
            let f = convert::to_string(fmt, cx);
            crate::lab::powershell::format::composite(&f, rest, cx).map_err(|_| NetError::exception("System.FormatException", "Input string was not in a correct format."))
        }
    }
}

impl NetObject for Writer {
    fn type_name(&self) -> Cow<'static, str> {
        "System.IO.TextWriter+SyncTextWriter".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.TextWriter"]
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Write") || is(name, "WriteLine") {
            let mut text = match console_text(cx, args) {
                Ok(t) => t,
                Err(e) => return Some(Err(e)),
            };
            if is(name, "WriteLine") {
                text.push_str("\r\n");
            }
            write(cx, self.error, &text);
            return Some(Ok(void()));
        }
        if is(name, "Flush") || is(name, "Close") || is(name, "Dispose") {
            return Some(Ok(void()));
        }
        None
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "NewLine").then(|| Ok(Value::str("\r\n")))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct ConsoleType;

impl NetType for ConsoleType {
    fn full_name(&self) -> &str {
        "System.Console"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Out") {
            Some(Ok(Value::object(Writer { error: false })))
        } else if is(name, "Error") {
            Some(Ok(Value::object(Writer { error: true })))
        } else if is(name, "OutputEncoding") || is(name, "InputEncoding") {
            Some(Ok(Value::object(super::text::Encoding(super::text::Codec::Utf8 { bom: false, strict: false }))))
        } else if is(name, "IsOutputRedirected") || is(name, "IsErrorRedirected") || is(name, "IsInputRedirected") {
            Some(Ok(Value::Bool(true)))
        } else {
            None
        }
    }
    fn set_static(&self, _: &mut Ctx<'_>, name: &str, _: Value) -> Option<NetResult<()>> {
        // The lab's shells already run with UTF-8 (code page 65001).
        (is(name, "OutputEncoding") || is(name, "InputEncoding")).then_some(Ok(()))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        Writer { error: false }.call(cx, name, args)
    }
}

// ---- GC ----

struct GcType;

impl NetType for GcType {
    fn full_name(&self) -> &str {
        "System.GC"
    }
    fn call_static(&self, _: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        (is(name, "Collect") || is(name, "WaitForPendingFinalizers")).then(|| Ok(void()))
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "MaxGeneration").then(|| Ok(Value::Int(2)))
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(VersionType);
    r.add_type(GuidType);
    r.add_type(EnvironmentType);
    r.add_enum(&SPECIAL_FOLDER);
    r.add_type(ConsoleType);
    r.add_type(GcType);
}

// ---- [ref] ----

/// `[ref]$x` (`System.Management.Automation.PSReference`): .NET methods
/// with `out`/`ref` parameters write through it, and the interpreter
/// writes the result back into the variable it was made from.
#[derive(Debug)]
pub struct PsReference {
    pub value: RefCell<Value>,
    pub var: Option<crate::lab::powershell::ast::VarRef>,
}

impl NetObject for PsReference {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.PSReference".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Value").then(|| Ok(self.value.borrow().clone()))
    }
    fn set(&self, _: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        if !is(name, "Value") {
            return None;
        }
        *self.value.borrow_mut() = value;
        Some(Ok(()))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Value".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

