//! The cmdlets the engine implements itself (those that need the
//! interpreter: script blocks, variables, the pipeline, output), their
//! aliases, and the stage that runs a facade cmdlet from the object-model
//! registry. Each cmdlet declares a `CmdletSpec` (so binding, `Get-Command`
//! and errors use PowerShell's names) and builds a pipeline stage.
//!
//! Parts: [`bind`] (parameter binding), [`write`] (Write-*),
//! [`pipeline`] (ForEach-Object, Where-Object, Select-Object, Sort-Object,
//! Measure-Object, Out-*), [`session`] (New-Object, Get-Command,
//! Set-StrictMode, variables, Invoke-Expression, Start-Sleep, Get-Date,
//! Restart-Computer), [`paths`] (Split-Path, Join-Path, Get-Item).

pub mod bind;
mod paths;
mod pipeline;
mod session;
mod write;

use std::sync::Arc;

use super::ast::Span;
use super::errors::{ErrorRecord, Position};
use super::interp::call::{Arg, Stage};
use super::interp::out::Out;
use super::interp::{ActionPref, Interp, R};
use super::object::{Bound, Cmdlet, CmdletOutput, CmdletSpec};
use super::value::Value;

/// How an engine cmdlet is built once its parameters are bound.
pub type Ctor = fn(&mut Interp<'_>, Bound, Option<Position>) -> R<Box<dyn Stage>>;

/// Every engine cmdlet.
fn table() -> &'static [(&'static CmdletSpec, Ctor)] {
    TABLE
}

static TABLE: &[(&CmdletSpec, Ctor)] = &[
        (&write::WRITE_OUTPUT, write::write_output),
        (&write::WRITE_HOST, write::write_host),
        (&write::WRITE_ERROR, write::write_error),
        (&write::WRITE_WARNING, write::write_warning),
        (&write::WRITE_VERBOSE, write::write_quiet),
        (&write::WRITE_DEBUG, write::write_quiet),
        (&write::WRITE_PROGRESS, write::write_progress),
        (&pipeline::FOREACH_OBJECT, pipeline::foreach_object),
        (&pipeline::WHERE_OBJECT, pipeline::where_object),
        (&pipeline::SELECT_OBJECT, pipeline::select_object),
        (&pipeline::SORT_OBJECT, pipeline::sort_object),
        (&pipeline::MEASURE_OBJECT, pipeline::measure_object),
        (&pipeline::OUT_NULL, pipeline::out_null),
        (&pipeline::OUT_STRING, pipeline::out_string),
        (&pipeline::OUT_DEFAULT, pipeline::out_default),
        (&pipeline::OUT_HOST, pipeline::out_default),
        (&session::NEW_OBJECT, session::new_object),
        (&session::GET_COMMAND, session::get_command),
        (&session::SET_STRICT_MODE, session::set_strict_mode),
        (&session::START_SLEEP, session::start_sleep),
        (&session::GET_DATE, session::get_date),
        (&session::GET_VARIABLE, session::get_variable),
        (&session::SET_VARIABLE, session::set_variable),
        (&session::NEW_VARIABLE, session::set_variable),
        (&session::REMOVE_VARIABLE, session::remove_variable),
        (&session::INVOKE_EXPRESSION, session::invoke_expression),
        (&session::RESTART_COMPUTER, session::restart_computer),
        (&paths::SPLIT_PATH, paths::split_path),
        (&paths::JOIN_PATH, paths::join_path),
        (&paths::GET_ITEM, paths::get_item),
        (&crate::lab::powershell::csharp::ADD_TYPE, crate::lab::powershell::csharp::add_type),
];

/// The engine's built-in aliases (Windows PowerShell's defaults).
pub fn alias(folded: &str) -> Option<&'static str> {
    Some(match folded {
        "%" | "foreach" => "ForEach-Object",
        "?" | "where" => "Where-Object",
        "echo" | "write" => "Write-Output",
        "select" => "Select-Object",
        "sort" => "Sort-Object",
        "measure" => "Measure-Object",
        "sleep" => "Start-Sleep",
        "gcm" => "Get-Command",
        "iex" => "Invoke-Expression",
        "gi" => "Get-Item",
        "gv" => "Get-Variable",
        "sv" | "set" => "Set-Variable",
        "nv" => "New-Variable",
        "rv" => "Remove-Variable",
        "oh" => "Out-Host",
        _ => return None,
    })
}

/// An engine cmdlet's spec by name.
pub fn spec(name: &str) -> Option<&'static CmdletSpec> {
    table().iter().find(|(s, _)| s.name.eq_ignore_ascii_case(name)).map(|(s, _)| *s)
}

/// Build the stage for engine cmdlet `name`; `None` when the engine has
/// no such cmdlet.
/// The stage of engine cmdlet `name`; its arguments back when there is
/// no such cmdlet.
pub fn create(it: &mut Interp<'_>, name: &str, args: Vec<Arg>, call: Option<Position>, _span: Span) -> R<Result<Box<dyn Stage>, Vec<Arg>>> {
    let Some((spec, ctor)) = table().iter().find(|(s, _)| s.name.eq_ignore_ascii_case(name)) else { return Ok(Err(args)) };
    let bound = bind::bind(it, spec, args)?;
    ctor(it, bound, call).map(Ok)
}

/// A cmdlet's error record: `Name : message`, at the call.
pub fn record(spec: &CmdletSpec, e: &super::object::CmdletError, call: &Option<Position>) -> ErrorRecord {
    let mut r = ErrorRecord::new(e.exception.clone(), e.category, format!("{},{}", e.error_id, spec.class));
    r.command = Some(spec.name.to_string());
    r.activity = spec.name.to_string();
    if let Some(t) = &e.target {
        r.target_name = t.clone();
        r.target_type = "String".into();
    }
    r.position = call.clone();
    r
}

/// The stage that runs a facade cmdlet.
pub fn facade_stage(it: &mut Interp<'_>, c: Arc<dyn Cmdlet>, args: Vec<Arg>, call: Option<Position>) -> R<Box<dyn Stage>> {
    let spec = c.spec(&it.cx.version);
    let bound = bind::bind(it, spec, args)?;
    let action = bind::error_action(it, &bound);
    Ok(Box::new(FacadeStage { cmdlet: c, bound, call, action, had_input: false }))
}

struct FacadeStage {
    cmdlet: Arc<dyn Cmdlet>,
    bound: Bound,
    call: Option<Position>,
    action: Option<ActionPref>,
    had_input: bool,
}

impl Stage for FacadeStage {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        self.had_input |= item.is_some();
        let mut out = CmdletOutput::default();
        let r = self.cmdlet.process(&mut it.cx, &self.bound, item.as_ref(), &mut out);
        for v in out.objects {
            down.emit(it, v)?;
        }
        let spec = self.cmdlet.spec(&it.cx.version);
        for e in &out.errors {
            it.cmdlet_error(record(spec, e, &self.call), self.action)?;
        }
        if let Err(e) = r {
            it.pipeline_failed = true;
            return Err(super::interp::Flow::error(record(spec, &e, &self.call)));
        }
        Ok(())
    }
}
