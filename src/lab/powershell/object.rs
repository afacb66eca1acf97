//! The object model: how the interpreter reaches .NET and Windows. Every
//! type, COM class, native program and facade cmdlet the engine knows is a
//! plain Rust value implementing one of the traits here, registered once in
//! the [`Registry`]; a facade is a module with a `register` function.
//!
//! - [`NetObject`]: an instance (a `RegistryKey`, a `StringBuilder`, a WMI
//!   object). Members are looked up by name, case-insensitively, at call
//!   time; `None` means "no such member" and the interpreter raises the
//!   error Windows raises (`Method invocation failed because [T] does not
//!   contain a method named 'X'.`), never a silent `$null` for a method.
//! - [`NetType`]: a type: static members (`[IO.File]::Exists`),
//!   constructors (`New-Object T args`), conversions (`[T]$x`) and
//!   instance tests (`-is`, `catch [T]`).
//! - [`ComFactory`]: `New-Object -ComObject ProgID`.
//! - [`NativeProgram`]: an executable (`reg.exe`, `schtasks.exe`), with
//!   argv, stdout, stderr and an exit code.
//! - [`Cmdlet`]: a cmdlet backed by the host model (`Get-WmiObject`),
//!   with its parameters declared in a [`CmdletSpec`] (the engine binds
//!   them as PowerShell does) and output and non-terminating errors.
//!
//! Everything runs with a [`Ctx`]: the host's Windows state (`HostState`),
//! its WinRM-level spec, the account, lab time and the host's clock, the
//! scheduled shutdown, the PowerShell version, and the console. Facades
//! keep no references into `HostState` between calls: an object holds what
//! a Windows handle would (a path, an id) and resolves it on each call,
//! which is what a handle does after the thing it names is deleted.
//!
//! Errors: a facade returns [`NetError`] for a .NET exception (the
//! interpreter wraps it as PowerShell does: `Exception calling "X" with "N"
//! argument(s): "..."` for a method, `Exception setting "X"` for a
//! property) or for a binder failure (no overload for that argument count;
//! an argument that does not convert).

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::value::Value;
use super::version::PsVersion;
use crate::lab::emulate::clixml::StderrSink;
use crate::lab::emulate::power::{PowerDesk, Shutdown};
use crate::lab::spec::HostSpec;
use crate::lab::world::{HostState, LabTime};

/// Ticks (100 ns) per millisecond.
pub const TICKS_PER_MS: i64 = 10_000;

/// What the engine and every facade act on while a command runs.
pub struct Ctx<'a> {
    /// The host's Windows state.
    pub host: &'a mut HostState,
    /// The host as WinRM knows it: name, accounts, clock skew.
    pub spec: &'a HostSpec,
    /// The account running the command, `DOMAIN\user` as Windows names it.
    pub user: String,
    /// Whether that account is an administrator on the host.
    pub admin: bool,
    /// The shutdown scheduled on the host, if any.
    pub shutdown: &'a mut Option<Shutdown>,
    /// Lab time when the command started.
    pub started: LabTime,
    /// Time the command has spent in `Start-Sleep` and other waits, in
    /// ticks: the command sees its clocks move by this much; the thread
    /// never sleeps.
    pub waited_ticks: i64,
    /// The thread's last Win32 error (`Marshal.GetLastWin32Error`), set by
    /// P/Invoke calls declared with `SetLastError = true`.
    pub last_error: u32,
    /// What to add to a lab time (as .NET ticks) to read it on the host's
    /// clock (see `host_ticks`); fixed when the command starts.
    pub clock_offset: i64,
    /// Types this run compiled with `Add-Type` (a PowerShell process keeps
    /// them until it exits).
    pub dynamic_types: Vec<Arc<dyn NetType>>,
    pub version: PsVersion,
    /// The process environment (`$env:`, `%VAR%`), by upper-case name:
    /// (name as set, value).
    pub env: indexmap::IndexMap<String, (String, String)>,
    /// What the command has written to stdout and stderr.
    pub console: Console,
}

/// The command's stdout and stderr, and what `Out-Default` holds back to
/// lay out as a table.
#[derive(Debug, Default)]
pub struct Console {
    pub stdout: String,
    pub stderr: StderrSink,
    pub formatter: super::interp::out::HostFormatter,
}

impl Ctx<'_> {
    /// Lab time now, as the command sees it.
    pub fn now(&self) -> LabTime {
        LabTime(self.started.0.saturating_add(self.waited_ticks.max(0) as u64))
    }

    /// The host's wall clock (`[DateTime]::UtcNow`), in .NET ticks
    /// (100 ns since 0001-01-01): real time plus the host's clock skew and
    /// the command's waits. (Lab time is the simulation's; see `now`.)
    pub fn utc_ticks(&self) -> i64 {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| (d.as_nanos() / 100) as i64)
            .unwrap_or(0);
        unix + UNIX_EPOCH_TICKS + self.spec.clock_skew_secs * 10_000_000 + self.waited_ticks
    }

    /// A lab time on the host's clock, in .NET ticks: world events (file
    /// times, boot, process starts) happened as long before the command
    /// started as they did in lab time, so the host's clock and its
    /// history agree. FILETIME zero (a missing file's time) stays 1601.
    pub fn host_ticks(&self, t: LabTime) -> i64 {
        use super::dotnet::time::FILETIME_EPOCH;
        if t.0 == 0 { FILETIME_EPOCH } else { t.0 as i64 + FILETIME_EPOCH + self.clock_offset }
    }

    /// The lab time of an instant on the host's clock (.NET ticks, UTC):
    /// the inverse of `host_ticks`; `None` before lab time zero.
    pub fn lab_time_of(&self, host_ticks: i64) -> Option<LabTime> {
        use super::dotnet::time::FILETIME_EPOCH;
        let t = host_ticks - FILETIME_EPOCH - self.clock_offset;
        (t > 0).then_some(LabTime(t as u64))
    }

    /// Let `ms` milliseconds pass for this command (Start-Sleep, waits).
    pub fn wait(&mut self, ms: i64) {
        self.waited_ticks = self.waited_ticks.saturating_add(ms.max(0).saturating_mul(TICKS_PER_MS));
    }

    /// The host's power, as `shutdown.exe` and `Restart-Computer` see it.
    pub fn power_desk(&mut self) -> PowerDesk<'_> {
        PowerDesk {
            users_logged_on: self.host.logged_on_users().next().is_some(),
            pending: self.shutdown,
            now: LabTime(self.started.0.saturating_add(self.waited_ticks.max(0) as u64)),
            computer_name: &self.spec.name,
        }
    }
}

/// .NET ticks of the Unix epoch.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// Why a member call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    /// The method threw: `type_name` is the exception's .NET type.
    Exception(Exception),
    /// No overload takes this many arguments.
    NoOverload { argc: usize },
    /// Argument `index` (0-based) does not convert to `target`.
    Argument { index: usize, value: String, target: String, reason: String },
}

/// A .NET exception.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub type_name: Cow<'static, str>,
    pub message: String,
    pub inner: Option<Box<Exception>>,
}

impl Exception {
    pub fn new(type_name: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Exception {
        Exception { type_name: type_name.into(), message: message.into(), inner: None }
    }
}

impl NetError {
    /// A .NET exception of `type_name` with `message`.
    pub fn exception(type_name: &'static str, message: impl Into<String>) -> NetError {
        NetError::Exception(Exception::new(type_name, message))
    }
    /// `System.ArgumentException`.
    pub fn argument(message: impl Into<String>) -> NetError {
        NetError::exception("System.ArgumentException", message)
    }
}

pub type NetResult<T> = Result<T, NetError>;

/// Whether a member name (as written in a script) names `member`.
pub fn is(name: &str, member: &str) -> bool {
    name.eq_ignore_ascii_case(member)
}

/// An instance of a .NET type.
pub trait NetObject: Any {
    /// The full .NET type name, e.g. `Microsoft.Win32.RegistryKey`.
    fn type_name(&self) -> Cow<'static, str>;
    /// Base types and interfaces (full names), for `-is` and `catch`.
    fn base_types(&self) -> &'static [&'static str] {
        &[]
    }
    /// A property; `None` when there is no such property.
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let _ = (cx, name);
        None
    }
    /// Set a property; `None` when there is no such property.
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let _ = (cx, name, value);
        None
    }
    /// Call a method; `None` when there is no method of that name.
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let _ = (cx, name, args);
        None
    }
    /// `ToString()`.
    fn to_text(&self, cx: &mut Ctx<'_>) -> String {
        let _ = cx;
        self.type_name().into_owned()
    }
    /// The items, when the object is a collection PowerShell enumerates
    /// (in a pipeline, `foreach`, `@()`).
    fn enumerate(&self, cx: &mut Ctx<'_>) -> Option<Vec<Value>> {
        let _ = cx;
        None
    }
    /// `$o[i]`; `None` when the type has no indexer.
    fn index(&self, cx: &mut Ctx<'_>, index: &Value) -> Option<NetResult<Value>> {
        let _ = (cx, index);
        None
    }
    /// `$o[i] = v`; `None` when the type has no settable indexer.
    fn set_index(&self, cx: &mut Ctx<'_>, index: &Value, value: Value) -> Option<NetResult<()>> {
        let _ = (cx, index, value);
        None
    }
    /// Property names, in display order (formatting, `Select-Object`).
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        Vec::new()
    }
    /// The object as a `System.IO.Stream`, when it is one.
    fn as_stream(&self) -> Option<&dyn ByteStream> {
        None
    }
    fn as_any(&self) -> &dyn Any;
}

/// A `System.IO.Stream` as its readers see it (`ComputeHash(Stream)`,
/// `StreamReader`, `CopyTo`).
pub trait ByteStream {
    /// Read from the current position to the end, moving the position.
    fn read_to_end(&self, cx: &mut Ctx<'_>) -> NetResult<Vec<u8>>;
    /// The SHA-256 of what [`read_to_end`](Self::read_to_end) would read
    /// (a file the lab holds only as size and hash answers from the hash).
    fn sha256_to_end(&self, cx: &mut Ctx<'_>) -> NetResult<[u8; 32]> {
        use sha2::Digest;
        Ok(sha2::Sha256::digest(self.read_to_end(cx)?).into())
    }
}

/// A .NET type.
pub trait NetType: Send + Sync + 'static {
    /// Full name, e.g. `System.IO.File`.
    fn full_name(&self) -> &str;
    /// Base types and interfaces, for `-is` and `catch [Base]`.
    fn base_types(&self) -> &'static [&'static str] {
        &[]
    }
    fn get_static(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let _ = (cx, name);
        None
    }
    fn set_static(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let _ = (cx, name, value);
        None
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let _ = (cx, name, args);
        None
    }
    /// `New-Object T args`; `None` when the type has no public constructor.
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let _ = (cx, args);
        None
    }
    /// `[T]$v` for values the engine's own conversions do not cover.
    fn convert(&self, cx: &mut Ctx<'_>, value: &Value) -> Option<NetResult<Value>> {
        let _ = (cx, value);
        None
    }
    /// An enum type's definition.
    fn enum_def(&self) -> Option<&'static EnumDef> {
        None
    }
}

/// An enum: its name and members.
#[derive(Debug)]
pub struct EnumDef {
    pub full_name: &'static str,
    pub members: &'static [(&'static str, i64)],
    /// `[Flags]`: a value prints as `A, B`.
    pub flags: bool,
}

impl EnumDef {
    pub fn value_of(&self, name: &str) -> Option<i64> {
        self.members.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.trim())).map(|(_, v)| *v)
    }
    /// How .NET prints a value: its name, flags joined by `, `, else the
    /// number.
    pub fn name_of(&self, value: i64) -> String {
        if let Some((n, _)) = self.members.iter().find(|(_, v)| *v == value) {
            return (*n).to_string();
        }
        if self.flags && value != 0 {
            let mut rest = value;
            let mut names = Vec::new();
            for (n, v) in self.members.iter().rev() {
                if *v != 0 && rest & v == *v {
                    names.push(*n);
                    rest &= !v;
                }
            }
            if rest == 0 {
                names.reverse();
                return names.join(", ");
            }
        }
        value.to_string()
    }
}

/// The type of an enum.
pub struct EnumType(pub &'static EnumDef);

impl NetType for EnumType {
    fn full_name(&self) -> &str {
        self.0.full_name
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Enum", "System.ValueType"]
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        self.0.value_of(name).map(|v| Ok(Value::Enum(self.0, v)))
    }
    fn enum_def(&self) -> Option<&'static EnumDef> {
        Some(self.0)
    }
}

/// `New-Object -ComObject ProgID`.
pub type ComFactory = fn(&mut Ctx<'_>) -> NetResult<Value>;

/// What a native program printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NativeOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// An executable on the host.
pub trait NativeProgram: Send + Sync {
    /// Run with `args` (as the program's argv after its name).
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput;
}

/// How a cmdlet parameter takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Switch,
    /// A value of this .NET type (named in binding errors).
    Value(&'static str),
}

/// One parameter of a cmdlet.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Position for positional binding.
    pub position: Option<u8>,
    /// Takes pipeline input (by value).
    pub pipeline: bool,
    /// Other names (`-Recurse` has `-s`; `-Class` `-ClassName`).
    pub aliases: &'static [&'static str],
}

impl ParamSpec {
    pub const fn named(name: &'static str, kind: ParamKind) -> ParamSpec {
        ParamSpec { name, kind, position: None, pipeline: false, aliases: &[] }
    }
    pub const fn at(name: &'static str, kind: ParamKind, position: u8) -> ParamSpec {
        ParamSpec { name, kind, position: Some(position), pipeline: false, aliases: &[] }
    }
}

/// A cmdlet's name, implementing class (for error ids) and parameters.
#[derive(Debug)]
pub struct CmdletSpec {
    pub name: &'static str,
    pub class: &'static str,
    pub params: &'static [ParamSpec],
    /// The parameter that takes positional arguments left over.
    pub remaining: Option<&'static str>,
}

/// Parameters after binding.
#[derive(Debug, Default, Clone)]
pub struct Bound {
    pub values: Vec<(&'static str, Value)>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
    pub fn switch(&self, name: &str) -> bool {
        self.get(name).is_some_and(Value::is_true_lossy)
    }
    pub fn set(&mut self, name: &'static str, v: Value) {
        self.values.retain(|(n, _)| *n != name);
        self.values.push((name, v));
    }
}

/// A non-terminating error a cmdlet writes.
#[derive(Debug, Clone)]
pub struct CmdletError {
    pub exception: Exception,
    /// `ObjectNotFound`, `InvalidArgument`, ... (ErrorCategory name).
    pub category: &'static str,
    /// The id before the `,` and the cmdlet class.
    pub error_id: String,
    /// What the error is about, as CategoryInfo shows it.
    pub target: Option<String>,
}

/// What a cmdlet produced.
#[derive(Debug, Default)]
pub struct CmdletOutput {
    pub objects: Vec<Value>,
    pub errors: Vec<CmdletError>,
}

/// A cmdlet backed by the host model.
pub trait Cmdlet: Send + Sync {
    /// The cmdlet's name (`Get-WmiObject`).
    fn name(&self) -> &'static str;
    /// Its parameters on this PowerShell version (PowerShell 2.0's
    /// Get-AuthenticodeSignature has no -LiteralPath, for example).
    fn spec(&self, version: &PsVersion) -> &'static CmdletSpec;
    /// Whether this PowerShell version has the cmdlet at all.
    fn available(&self, version: &PsVersion) -> bool {
        let _ = version;
        true
    }
    /// Run once per pipeline input object (`input` is `Some`), or once
    /// without input. A terminating error is returned as `Err`.
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, input: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError>;
}

/// Every type, COM class, native program and facade cmdlet the engine
/// knows, by name (case-insensitive).
#[derive(Default)]
pub struct Registry {
    types: HashMap<String, Arc<dyn NetType>>,
    com: HashMap<String, ComFactory>,
    natives: HashMap<String, Arc<dyn NativeProgram>>,
    cmdlets: HashMap<String, Arc<dyn Cmdlet>>,
    aliases: HashMap<String, &'static str>,
}

impl Registry {
    /// Register a type under its full name.
    pub fn add_type(&mut self, t: impl NetType) {
        self.types.insert(t.full_name().to_ascii_lowercase(), Arc::new(t));
    }
    /// Register an enum type.
    pub fn add_enum(&mut self, def: &'static EnumDef) {
        self.add_type(EnumType(def));
    }
    pub fn add_com(&mut self, prog_id: &str, f: ComFactory) {
        self.com.insert(prog_id.to_ascii_lowercase(), f);
    }
    /// Register a program under its file name (`reg.exe`); it is found as
    /// `reg`, `reg.exe` and by its System32 path.
    pub fn add_native(&mut self, exe: &str, p: impl NativeProgram + 'static) {
        self.natives.insert(exe.to_ascii_lowercase(), Arc::new(p));
    }
    pub fn add_cmdlet(&mut self, c: impl Cmdlet + 'static) {
        self.cmdlets.insert(c.name().to_ascii_lowercase(), Arc::new(c));
    }
    /// An alias for a command (`gwmi` for `Get-WmiObject`).
    pub fn add_alias(&mut self, alias: &str, command: &'static str) {
        self.aliases.insert(alias.to_ascii_lowercase(), command);
    }

    /// A type by full name (`System.` may be left out, as in PowerShell).
    pub fn find_type(&self, name: &str) -> Option<Arc<dyn NetType>> {
        let lower = name.to_ascii_lowercase();
        self.types.get(&lower).or_else(|| self.types.get(&format!("system.{lower}"))).cloned()
    }
    pub fn find_com(&self, prog_id: &str) -> Option<ComFactory> {
        self.com.get(&prog_id.to_ascii_lowercase()).copied()
    }
    /// A native program by the name a command used: bare (`reg`,
    /// `reg.exe`) or a full path in System32.
    pub fn find_native(&self, name: &str) -> Option<Arc<dyn NativeProgram>> {
        let n = name.trim_matches('"').to_ascii_lowercase().replace('/', "\\");
        let (folder, file) = match n.rsplit_once('\\') {
            Some((f, file)) => (Some(f.to_string()), file.to_string()),
            None => (None, n.clone()),
        };
        if let Some(f) = folder
            && !SYSTEM_FOLDERS.contains(&f.as_str())
        {
            return None;
        }
        let exe = if file.ends_with(".exe") { file } else { format!("{file}.exe") };
        self.natives.get(&exe).cloned()
    }
    pub fn find_cmdlet(&self, name: &str) -> Option<Arc<dyn Cmdlet>> {
        let lower = name.to_ascii_lowercase();
        let key = self.aliases.get(&lower).map(|a| a.to_ascii_lowercase()).unwrap_or(lower);
        self.cmdlets.get(&key).cloned()
    }
    /// The command an alias stands for.
    pub fn alias(&self, name: &str) -> Option<&'static str> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.aliases.get(&name.to_ascii_lowercase()).copied();
        }
        self.aliases.get(name).copied()
    }
}

/// Folders a full program path may name (System32, and how 32-bit
/// processes see it).
const SYSTEM_FOLDERS: &[&str] = &[
    r"c:\windows\system32",
    r"c:\windows\syswow64",
    r"c:\windows\sysnative",
    r"%systemroot%\system32",
    r"%windir%\system32",
];

/// The registry every engine run uses: built once.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::default();
        super::dotnet::register(&mut r);
        super::facades::register(&mut r);
        super::natives::register(&mut r);
        r
    })
}

/// What a method returns when it returns its own object (a fluent
/// `StringBuilder.Append`): the interpreter gives the caller the receiver.
#[derive(Debug)]
pub struct This;

impl NetObject for This {
    fn type_name(&self) -> Cow<'static, str> {
        "this".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The value a method returns to mean "the object itself".
pub fn this() -> Value {
    Value::object(This)
}

/// Whether a method's result is [`this()`].
pub fn is_this(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.as_any().is::<This>())
}

/// What a `void` method returns: the interpreter writes nothing, not
/// `$null` (`$list.Clear()` inside a function adds nothing to its output,
/// while a method that returns a null reference writes `$null`).
#[derive(Debug)]
pub struct Void;

impl NetObject for Void {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Void".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The value a `void` method returns.
pub fn void() -> Value {
    Value::object(Void)
}

/// Whether a method's result is [`void()`].
pub fn is_void(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.as_any().is::<Void>())
}

/// Downcast an object to a concrete facade type.
pub fn downcast<T: 'static>(o: &dyn NetObject) -> Option<&T> {
    o.as_any().downcast_ref::<T>()
}
