//! The lab's PowerShell engine: a lab host runs the PowerShell that
//! arrives (cauterize's bootstrap, probe and runtime, and what `exec`
//! users type) with the semantics of the host's PowerShell version (2.0,
//! 5.1, and 7 where a construct differs), over facades of the host model.
//! There is no PowerShell on the machines that test cauterize; this is
//! the PowerShell host, so a defect in the PowerShell text fails a test.
//!
//! # The parser, and why hand-written
//!
//! Three candidates were judged:
//!
//! - **tree-sitter-powershell** (already a dev-dependency, parses
//!   `runtime.ps1` in `tests/powershell_compat.rs`): a good *checker*. As
//!   the engine's parser it is weak: a generated C parser with error
//!   recovery (ERROR nodes where PowerShell reports "The string is missing
//!   the terminator: '." with its id and position, which the tool must
//!   receive exactly), a concrete syntax tree of generic nodes that still
//!   needs a full lowering to an AST, and an approximation of
//!   PowerShell's expression-vs-argument modes; it would also become a
//!   run-time C dependency of the binary.
//! - **ps-parser** (crates.io; a pest grammar and a deobfuscating
//!   evaluator of "safe" operations): built for deobfuscation, not for
//!   executing scripts against a host: no version semantics, values held
//!   as Rust strings (no unpaired UTF-16 surrogates), no error records, a
//!   PEG grammar whose failures are not PowerShell's parse errors, and a
//!   young crate with heavy dependencies (ICU, regex, a logger).
//! - **A hand-written recursive-descent parser**, as PowerShell's own
//!   (System.Management.Automation.Language.Parser) is: the parser drives
//!   the scanner in expression or argument mode, as PowerShell does;
//!   errors are PowerShell's messages, ids and offsets; names are folded
//!   at parse time; there is no C and no generated code.
//!
//! The engine uses the hand-written parser ([`parser`]). A test
//! (`tests/powershell_compat.rs`) cross-checks it against
//! tree-sitter-powershell on every script cauterize sends: both parse
//! without errors, and they agree on the functions defined and the
//! commands called by name, in source order.
//!
//! # Parts, in the order a command flows
//!
//! [`cache`] (parse once per text; shared beginnings of scripts parsed
//! once), [`parser`] → [`ast`], [`interp`] (statements, errors, scopes,
//! pipelines, members), [`cmdlets`] (cmdlets that need the interpreter),
//! [`value`], [`types`], [`convert`], [`ops`], [`format`], [`dates`],
//! [`errors`] (records as Windows shows them), [`version`] (what differs
//! by version), [`session`] (environment and automatic variables),
//! [`object`] (the object model), [`dotnet`] (pure .NET types),
//! [`facades`] (Windows over the host model), [`natives`] (programs).
//!
//! # The object model (for facade authors)
//!
//! Everything the interpreter reaches beyond the language goes through
//! five traits in [`object`], each implemented by a plain Rust value and
//! registered once in the [`object::Registry`] (built on first use,
//! shared by every run; a facade is a module with
//! `pub fn register(r: &mut Registry)`, called from `facades::register`):
//!
//! - [`object::NetType`]: a .NET type. `full_name()`;
//!   `get_static`/`set_static`/`call_static` for `[T]::Member`;
//!   `construct` for `New-Object T args` (`None`: no public constructor);
//!   `convert` for `[T]$x` beyond the language's conversions;
//!   `base_types` for `-is` and `catch [Base]`; `enum_def` for enums.
//!   Register with `r.add_type(MyType)`; an enum is an
//!   [`object::EnumDef`] registered with `r.add_enum(&DEF)` and its values
//!   are `Value::Enum(&DEF, n)`.
//! - [`object::NetObject`]: an instance, held as `Value::Object(Rc<..>)`.
//!   `type_name`; `get`/`set` (properties), `call` (methods), `index`/
//!   `set_index`, `enumerate` (a collection the pipeline unrolls),
//!   `to_text` (`ToString()`), `property_names` (for `Out-Default`,
//!   `Select-Object`). Every member method returns `None` for "no such
//!   member" (the interpreter raises Windows' error: a missing method is
//!   always an error; a missing property is `$null` unless StrictMode 2);
//!   `Some(Err(NetError))` for an exception the method throws (the
//!   interpreter wraps it: `Exception calling "M" with "N" argument(s):
//!   "..."`), for `NetError::NoOverload` (argument count) or
//!   `NetError::Argument` (conversion). A method returning its own object
//!   (a fluent `Append`) returns [`object::this()`]. Objects keep no
//!   references into the host: they hold what a Windows handle holds (a
//!   path, an id) and resolve it on each call; interior mutability
//!   (`Cell`, `RefCell`) for state such as "closed".
//! - [`object::ComFactory`]: `fn(&mut Ctx) -> NetResult<Value>` for
//!   `New-Object -ComObject ProgID`; `r.add_com("Schedule.Service", f)`.
//!   An unknown ProgID gets Windows' REGDB_E_CLASSNOTREG error.
//! - [`object::NativeProgram`]: `run(&mut Ctx, argv) -> NativeOutput
//!   { stdout, stderr, exit_code }`; `r.add_native("reg.exe", p)`; found
//!   as `reg`, `reg.exe` or its System32 path. The interpreter turns
//!   stdout into string lines, stderr into NativeCommandError records (one
//!   per line under `2>&1`), and sets `$LASTEXITCODE` and `$?`.
//! - [`object::Cmdlet`]: a cmdlet over the host model. `name`,
//!   `spec(version)` (a static [`object::CmdletSpec`]: parameters with
//!   types, positions, aliases, pipeline input; per version, as PowerShell
//!   2.0 and 5.1 differ), `available(version)`, and
//!   `process(&mut Ctx, &Bound, input, &mut CmdletOutput)` called once per
//!   pipeline object (or once without input). The engine binds parameters
//!   as PowerShell does (prefixes, aliases, positions, common parameters,
//!   type conversion, binding errors). Objects go to `out.objects`;
//!   non-terminating errors to `out.errors` (the engine applies
//!   `-ErrorAction` and `$ErrorActionPreference`); a terminating error is
//!   `Err(CmdletError)`. `r.add_cmdlet(c)`, `r.add_alias("gwmi", ..)`.
//!
//! Every call gets a [`object::Ctx`]: `host: &mut HostState` (the
//! registry, files, processes, services, tasks, WMI subscriptions,
//! firewall of the host), `spec: &HostSpec` (name, accounts, WinRM
//! settings, clock skew), `user` (`DOMAIN\user`) and `admin`,
//! `version` ([`version::PsVersion`]), `env` (the session environment),
//! `console` (stdout/stderr), `now()` (lab time as the command sees it),
//! `utc_ticks()` (the host's wall clock, `[DateTime]::UtcNow`), `wait(ms)`
//! (time passes for the command: `Start-Sleep`, retry loops; the thread
//! never sleeps), and `power_desk()` (the host's scheduled shutdown).
//! Method arguments convert with [`dotnet::args::Args`], which applies
//! PowerShell's method-binder rules (a .NET `string` parameter given
//! `$null` receives `""`; `nullable_string` sees only `[NullString]::Value`
//! as null, which is what a P/Invoke facade needs to tell NULL from an
//! empty string).
//!
//! # Strings
//!
//! Values hold text as Rust strings in the lab's UTF-16 mapping
//! (`world::utf16`): an unpaired surrogate is a private-use character of
//! its own, so names pass between the engine and the host model unchanged,
//! and `.Length`, `Substring`, `IndexOf` count UTF-16 units as .NET does.
//!
//! # Versions
//!
//! [`version::PsVersion`] carries the rules that differ: 2.0 has no
//! `.Count`/`.Length` on scalars, no member enumeration, runs `foreach`
//! over `$null` once, has a call depth limit of 100, shows
//! ActionPreferenceStopException messages; 7 (.NET Core) prints doubles in
//! their shortest form and binds `String.Split(string)`. Error records are
//! shown in Windows PowerShell 5.1's layout on every version (2.0's layout
//! differs: not modelled).

pub mod ast;
pub mod cache;
pub mod cmdlets;
pub mod convert;
pub mod csharp;
pub mod dates;
pub mod dotnet;
pub mod errors;
pub mod facades;
pub mod format;
pub mod interp;
pub mod natives;
pub mod object;
pub mod ops;
pub mod parser;
pub mod session;
pub mod types;
pub mod value;
pub mod version;

#[cfg(test)]
pub(crate) mod tests;

use std::rc::Rc;

use crate::lab::emulate::clixml::StderrSink;
use crate::lab::emulate::error_record::{self, SourceMap};
use crate::lab::emulate::{CommandResult, Target};
use interp::out::{ToHost, flush_host};
use interp::{Flow, Interp};
use object::{Console, Ctx};
use value::Value;
use version::PsVersion;

/// Stack for the thread a script runs on: deep enough for PowerShell's
/// own call-depth limits.
const STACK_BYTES: usize = 64 << 20;

/// The message of a ParseException (`[ScriptBlock]::Create`, `iex`): the
/// position, then the message.
pub fn parse_exception_message(text: &str, e: &parser::ParseError) -> String {
    let mut lines = SourceMap::new(text).position(e.offset, e.offset + e.len);
    lines.push(e.message.clone());
    lines.join("\r\n")
}

/// Run a script on a host as `powershell.exe -Command` (or
/// `-EncodedCommand`) runs it over WinRM: output formatted by Out-Default
/// on stdout, error records as CLIXML on stderr, the exit code from
/// `exit N`, else 1 when the script failed or its last statement did.
/// `user` is the account as Windows names it; `input` is `$input` (the
/// lines of stdin).
pub fn run(target: &mut Target<'_>, user: &str, admin: bool, script: &str, input: &[String]) -> CommandResult {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new().name("lab-powershell".into()).stack_size(STACK_BYTES).spawn_scoped(s, || run_here(target, user, admin, script, input));
        match worker.map(|h| h.join()) {
            Ok(Ok(r)) => r,
            _ => CommandResult {
                stderr: b"The cauterize lab's PowerShell engine failed while running this script.\r\n".to_vec(),
                exit_code: 1,
                ..Default::default()
            },
        }
    })
}

/// The context a command runs with on a target host.
fn ctx_for<'a>(target: &'a mut Target<'_>, user: &str, admin: bool) -> Ctx<'a> {
    let version = PsVersion::parse(&target.world.os.ps_version);
    let mut cx = Ctx {
        host: &mut *target.world,
        spec: target.host,
        user: user.to_string(),
        admin,
        shutdown: &mut *target.shutdown,
        started: target.now,
        waited_ticks: 0,
        last_error: 0,
        clock_offset: 0,
        dynamic_types: Vec::new(),
        version,
        env: Default::default(),
        console: Console::default(),
    };
    cx.env = session::environment(&cx);
    cx.clock_offset = history_offset(&cx, target.now);
    cx
}

/// What to add to a lab time to read it on the host's clock: fixed the
/// first time a command runs in this process (the wall clock then, less
/// lab time then) plus the host's clock skew, so that one event reads the
/// same time in every command, as it does on Windows (a process's
/// CreationDate at the scan is its CreationDate at the kill), while the
/// host's history stays as far behind its wall clock as it is in lab time.
/// Taking the offset afresh per command made the same event's time move
/// with real time between commands.
fn history_offset(cx: &object::Ctx<'_>, now: crate::lab::world::LabTime) -> i64 {
    static ANCHOR: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let skew = cx.spec.clock_skew_secs * 10_000_000;
    let anchor = *ANCHOR.get_or_init(|| cx.utc_ticks() - skew - (now.0 as i64 + dotnet::time::FILETIME_EPOCH));
    anchor + skew
}

/// Run `f` with a context on the target host (native programs started by
/// cmd.exe).
pub fn with_ctx<R>(target: &mut Target<'_>, user: &str, admin: bool, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let mut cx = ctx_for(target, user, admin);
    f(&mut cx)
}

/// [`run`] on the calling thread.
pub fn run_here(target: &mut Target<'_>, user: &str, admin: bool, script: &str, input: &[String]) -> CommandResult {
    let cx = ctx_for(target, user, admin);
    let ast = match cache::parse(script) {
        Ok(a) => a,
        Err(e) => {
            let mut sink = StderrSink::new();
            let position = SourceMap::new(script).position(e.offset, e.offset + e.len);
            sink.record(&error_record::parse_error(&e.message, e.id, position));
            return CommandResult { stdout: Vec::new(), stderr: sink.finish(), exit_code: 1 };
        }
    };
    let mut it = Interp::new(cx, ast.source.clone());
    let lines: Vec<Value> = input.iter().map(|l| Value::str(l)).collect();
    it.scopes.set_in(interp::scope::GLOBAL, "input", Value::array(lines), None);
    let name: Rc<str> = Rc::from(script);
    let code = match it.push_frame(name, None, false) {
        Ok(()) => {
            let r = run_blocks(&mut it, &ast);
            it.pop_frame();
            match r {
                Ok(()) | Err(Flow::Return) | Err(Flow::Break(_)) | Err(Flow::Continue(_)) => i32::from(!it.question),
                Err(Flow::Exit(n)) => n,
                Err(Flow::Error(e)) => {
                    if !e.logged {
                        it.log_error(&e.record);
                    }
                    it.write_error(e.record.clone());
                    1
                }
                Err(Flow::Abort(record)) => {
                    it.write_error(record);
                    1
                }
            }
        }
        Err(_) => 1,
    };
    flush_host(&mut it.cx);
    let console = std::mem::take(&mut it.cx.console);
    CommandResult { stdout: console.stdout.into_bytes(), stderr: console.stderr.finish(), exit_code: code }
}

/// The script's blocks, output to the host.
fn run_blocks(it: &mut Interp<'_>, ast: &ast::ScriptBlockAst) -> interp::R<()> {
    for block in [&ast.begin, &ast.process, &ast.end].into_iter().flatten() {
        it.exec_block(block, &mut ToHost)?;
    }
    Ok(())
}
