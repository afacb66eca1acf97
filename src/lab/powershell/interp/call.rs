//! Commands and pipelines. A command resolves as PowerShell resolves it:
//! alias, function, cmdlet, then a native program; nothing found is
//! CommandNotFoundException. A pipeline runs as stages that pass objects
//! one at a time (begin blocks, then each object through every stage,
//! then end blocks), so `Write-Host` in one stage interleaves with the
//! next stage as it does on Windows.
//!
//! Functions and script blocks bind their parameters as PowerShell does:
//! named (any unambiguous prefix), then positional in order; typed
//! parameters convert (`[string]` turns `$null` into `""`); unbound typed
//! parameters take the type's default; what is left goes to `$args`
//! (plain functions) or is an error (`[CmdletBinding()]`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::out::{Collect, Out};
use super::{ErrSink, Flow, Interp, R};
use crate::lab::powershell::ast::*;
use crate::lab::powershell::cmdlets;
use crate::lab::powershell::convert;
use crate::lab::powershell::errors::{self, ErrorRecord, Position};
use crate::lab::powershell::object::registry;
use crate::lab::powershell::types::{Prim, TypeRef};
use crate::lab::powershell::value::{Hashtable, Value};

/// One argument of a command, after evaluation.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `-Name`, `-Name:value`.
    Named { name: Arc<str>, value: Option<Value>, span: Span },
    /// A value; `text` is how it was written.
    Positional { value: Value, text: Arc<str>, span: Span },
}

/// A pipeline stage.
pub trait Stage {
    fn begin(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let _ = (it, down);
        Ok(())
    }
    /// One input object; `None` when the stage is first in its pipeline
    /// (called once).
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()>;
    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let _ = (it, down);
        Ok(())
    }
}

/// The rest of a pipeline after a stage.
pub struct Down<'s, 'o> {
    pub stages: &'s mut [Box<dyn Stage>],
    pub out: &'o mut dyn Out,
}

impl Out for Down<'_, '_> {
    fn emit(&mut self, it: &mut Interp<'_>, v: Value) -> R<()> {
        match self.stages.split_first_mut() {
            None => self.out.emit(it, v),
            Some((first, rest)) => first.process(it, Some(v), &mut Down { stages: rest, out: &mut *self.out }),
        }
    }
}

/// Send a value down a pipeline: collections one element at a time.
pub fn emit_value(it: &mut Interp<'_>, v: Value, out: &mut dyn Out) -> R<()> {
    if v.is_collection() {
        for item in v.enumerate(&mut it.cx).unwrap_or_default() {
            out.emit(it, item)?;
        }
        Ok(())
    } else {
        out.emit(it, v)
    }
}

impl Interp<'_> {
    /// Run a pipeline; `$?` reflects whether its commands failed.
    pub fn run_pipeline(&mut self, p: &Pipeline, out: &mut dyn Out) -> R<()> {
        let saved = std::mem::replace(&mut self.pipeline_failed, false);
        let r = self.run_pipeline_inner(p, out);
        let failed = self.pipeline_failed;
        self.pipeline_failed = saved;
        if r.is_ok() {
            self.question = !failed;
        }
        r
    }

    fn run_pipeline_inner(&mut self, p: &Pipeline, out: &mut dyn Out) -> R<()> {
        // A lone expression.
        if let [Element::Expr(e, redirs)] = p.elements.as_slice() {
            if let ExprKind::IncDec { .. } = e.kind {
                // `$i++` as a statement writes nothing (about_Assignment_Operators).
                self.eval(e)?;
                return Ok(());
            }
            return self.with_redirections(redirs, out, |it, out| {
                if let Some(v) = it.eval_maybe_nothing(e)? {
                    emit_value(it, v, out)?;
                }
                Ok(())
            });
        }
        let mut stages: Vec<Box<dyn Stage>> = Vec::with_capacity(p.elements.len());
        let mut source: Option<&Expr> = None;
        for (i, el) in p.elements.iter().enumerate() {
            match el {
                Element::Expr(e, _) if i == 0 => source = Some(e),
                Element::Expr(e, _) => {
                    return self.fail(errors::runtime("Expressions are only allowed as the first element of a pipeline.", "ParserError", "ExpressionsMustBeFirstInPipeline"), e.span);
                }
                Element::Command(c) => {
                    let stage = match self.make_stage(c) {
                        Ok(s) => s,
                        Err(Flow::Error(e)) if !c.redirections.is_empty() => {
                            // The command's own error goes where its
                            // redirections send errors.
                            let plan = self.redirection_plan(&c.redirections)?;
                            if !(plan.errors_null || plan.merge) {
                                return Err(Flow::Error(e));
                            }
                            self.log_error(&e.record);
                            self.pipeline_failed = true;
                            if plan.merge && !plan.output_null {
                                out.emit(self, Value::Object(e.record.clone()))?;
                            }
                            return Ok(());
                        }
                        Err(f) => return Err(f),
                    };
                    let stage = if c.redirections.is_empty() {
                        stage
                    } else {
                        let plan = self.redirection_plan(&c.redirections)?;
                        Box::new(Redirected { inner: stage, plan }) as Box<dyn Stage>
                    };
                    stages.push(stage);
                }
            }
        }
        for i in 0..stages.len() {
            let (head, rest) = stages.split_at_mut(i + 1);
            head[i].begin(self, &mut Down { stages: rest, out: &mut *out })?;
        }
        match source {
            Some(e) => {
                let v = self.eval_maybe_nothing(e)?;
                if let Some(v) = v {
                    let mut down = Down { stages: &mut stages, out: &mut *out };
                    emit_value(self, v, &mut down)?;
                }
            }
            None => {
                let (head, rest) = stages.split_at_mut(1);
                head[0].process(self, None, &mut Down { stages: rest, out: &mut *out })?;
            }
        }
        for i in 0..stages.len() {
            let (head, rest) = stages.split_at_mut(i + 1);
            head[i].end(self, &mut Down { stages: rest, out: &mut *out })?;
        }
        Ok(())
    }

    /// What an element's redirections do (their targets evaluated).
    pub fn redirection_plan(&mut self, redirs: &[Redirection]) -> R<RedirPlan> {
        let mut plan = RedirPlan::default();
        for r in redirs {
            match r {
                Redirection::Merge { from: Stream::Error | Stream::All } => plan.merge = true,
                Redirection::Merge { .. } => {}
                Redirection::File { from, target, .. } => {
                    let t = self.eval(target)?;
                    if !t.is_null() {
                        return self.fail(errors::lab_unsupported("redirecting output to a file"), target.span);
                    }
                    match from {
                        Stream::Error => plan.errors_null = true,
                        Stream::All => {
                            plan.errors_null = true;
                            plan.output_null = true;
                        }
                        Stream::Output => plan.output_null = true,
                        Stream::Other(_) => {}
                    }
                }
            }
        }
        Ok(plan)
    }

    /// Run `f` with an element's redirections in effect.
    pub fn with_redirections(
        &mut self,
        redirs: &[Redirection],
        out: &mut dyn Out,
        f: impl FnOnce(&mut Interp<'_>, &mut dyn Out) -> R<()>,
    ) -> R<()> {
        if redirs.is_empty() {
            return f(self, out);
        }
        let plan = self.redirection_plan(redirs)?;
        self.with_plan(&plan, out, f)
    }

    /// Run `f` with a redirection plan in effect.
    pub fn with_plan(&mut self, plan: &RedirPlan, out: &mut dyn Out, f: impl FnOnce(&mut Interp<'_>, &mut dyn Out) -> R<()>) -> R<()> {
        let mut pushed = 0;
        let mut merge: Option<Rc<RefCell<Vec<Value>>>> = None;
        if plan.merge {
            let buf = Rc::new(RefCell::new(Vec::new()));
            self.err_sinks.push(ErrSink::Merge(buf.clone()));
            merge = Some(buf);
            pushed += 1;
        } else if plan.errors_null {
            self.err_sinks.push(ErrSink::Null);
            pushed += 1;
        }
        let r = match &merge {
            Some(buf) => {
                // Output and error records in the order they were written.
                struct Interleave(Rc<RefCell<Vec<Value>>>);
                impl Out for Interleave {
                    fn emit(&mut self, _: &mut Interp<'_>, v: Value) -> R<()> {
                        self.0.borrow_mut().push(v);
                        Ok(())
                    }
                }
                f(self, &mut Interleave(buf.clone()))
            }
            None if plan.output_null => f(self, &mut super::out::Discard),
            None => f(self, out),
        };
        for _ in 0..pushed {
            self.err_sinks.pop();
        }
        if let Some(buf) = merge {
            let items = std::mem::take(&mut *buf.borrow_mut());
            if !plan.output_null {
                for v in items {
                    out.emit(self, v)?;
                }
            }
        }
        r
    }

    /// Evaluate a command's arguments.
    pub fn eval_args(&mut self, c: &Command) -> R<Vec<Arg>> {
        let mut args = Vec::with_capacity(c.args.len());
        for a in &c.args {
            match a {
                CommandArg::Param { span, name, value, .. } => {
                    let v = match value {
                        Some(e) => Some(self.eval(e)?),
                        None => None,
                    };
                    args.push(Arg::Named { name: name.text.clone(), value: v, span: *span });
                }
                CommandArg::Value { expr, text } => {
                    if let ExprKind::Splat(var) = &expr.kind {
                        let v = self.get_var(var, expr.span)?;
                        match v {
                            Value::Hashtable(h) => {
                                let entries: Vec<(Value, Value)> = h.borrow().entries().map(|(k, v)| (k.clone(), v.clone())).collect();
                                for (k, v) in entries {
                                    let name = convert::to_string(&k, &mut self.cx);
                                    args.push(Arg::Named { name: name.into(), value: Some(v), span: expr.span });
                                }
                            }
                            other => {
                                let items = if other.is_collection() { other.enumerate(&mut self.cx).unwrap_or_default() } else { vec![other] };
                                for v in items {
                                    let text = convert::to_string(&v, &mut self.cx);
                                    args.push(Arg::Positional { value: v, text: text.into(), span: expr.span });
                                }
                            }
                        }
                        continue;
                    }
                    let v = self.eval(expr)?;
                    args.push(Arg::Positional { value: v, text: text.clone(), span: expr.span });
                }
            }
        }
        Ok(args)
    }

    /// The stage that runs a command.
    fn make_stage(&mut self, c: &Command) -> R<Box<dyn Stage>> {
        let call = self.pos(c.span);
        let (name, name_span) = match &c.name {
            CommandName::Word(n) => {
                let args = self.eval_args(c)?;
                return self.command_stage_folded(&n.text, Some(&n.folded), args, call, c.dot, c.name_span);
            }
            CommandName::Expr(e) => {
                let v = self.eval(e)?;
                match v {
                    Value::ScriptBlock(sb) => {
                        let args = self.eval_args(c)?;
                        let text: Rc<str> = Rc::from(sb.ast.text());
                        return Ok(Box::new(FunctionStage::new(sb.ast.clone(), text, args, call, c.dot, false)));
                    }
                    other => (convert::to_string(&other, &mut self.cx), e.span),
                }
            }
        };
        let args = self.eval_args(c)?;
        self.command_stage(&name, args, call, c.dot, name_span)
    }

    /// Resolve a command by name into a stage.
    pub fn command_stage(&mut self, name: &str, args: Vec<Arg>, call: Option<Position>, dot: bool, name_span: Span) -> R<Box<dyn Stage>> {
        self.command_stage_folded(name, None, args, call, dot, name_span)
    }

    /// [`command_stage`](Self::command_stage) with the name's folded form
    /// when the parser made it.
    fn command_stage_folded(&mut self, name: &str, folded: Option<&str>, args: Vec<Arg>, call: Option<Position>, dot: bool, name_span: Span) -> R<Box<dyn Stage>> {
        let folded: std::borrow::Cow<'_, str> = match folded {
            Some(f) => std::borrow::Cow::Borrowed(f),
            None => std::borrow::Cow::Owned(name.to_lowercase()),
        };
        let resolved = cmdlets::alias(&folded).or_else(|| registry().alias(&folded));
        let (lookup, lookup_folded) = match resolved {
            Some(r) => (r, std::borrow::Cow::Owned(r.to_lowercase())),
            None => (name, folded),
        };
        if let Some(f) = self.scopes.function(&lookup_folded) {
            return Ok(Box::new(FunctionStage::new(f.body.clone(), f.name.clone(), args, call, dot, f.filter)));
        }
        let args = match cmdlets::create(self, lookup, args, call.clone(), name_span)? {
            Ok(stage) => return Ok(stage),
            Err(args) => args,
        };
        if let Some(c) = registry().find_cmdlet(lookup).filter(|c| c.available(&self.cx.version)) {
            return cmdlets::facade_stage(self, c, args, call);
        }
        if let Some(p) = registry().find_native(name) {
            return Ok(Box::new(NativeStage { program: p, name: name.to_string(), args, call, input: Vec::new() }));
        }
        let record = errors::command_not_found(name).at(self.pos(name_span));
        Err(Flow::error(record))
    }

    /// Invoke a script block (in a child scope) and collect its output.
    pub fn invoke_block_collect(&mut self, sb: &Arc<ScriptBlockAst>, args: Vec<Value>, dollar_under: Option<Value>, span: Span) -> R<Vec<Value>> {
        let mut c = Collect::default();
        let args = args
            .into_iter()
            .map(|v| {
                let text = convert::to_string(&v, &mut self.cx);
                Arg::Positional { value: v, text: text.into(), span }
            })
            .collect();
        let text: Rc<str> = Rc::from(sb.text());
        let mut stage = FunctionStage::new(sb.clone(), text, args, self.pos(span), false, false);
        stage.dollar_under = dollar_under;
        stage.begin(self, &mut c)?;
        stage.process(self, None, &mut c)?;
        stage.end(self, &mut c)?;
        Ok(c.0)
    }

    /// Invoke a script block (switch conditions): its output as a value.
    pub fn invoke_block_value(&mut self, sb: &Arc<ScriptBlockAst>, args: Vec<Value>, dollar_under: Option<Value>) -> R<Value> {
        let items = self.invoke_block_collect(sb, args, dollar_under, sb.span)?;
        Ok(Self::unwrap_output(items))
    }

    /// Run a script block in the current scope with `$_` set (the body of
    /// `ForEach-Object` and `Where-Object`, which PowerShell dot-sources).
    pub fn run_block_here(&mut self, sb: &Arc<ScriptBlockAst>, dollar_under: Value, out: &mut dyn Out) -> R<()> {
        let cur = self.scopes.current;
        let saved = self.scopes.local(cur, "_").cloned();
        self.scopes.set_in(cur, "_", dollar_under, None);
        let saved_source = std::mem::replace(&mut self.source, sb.source.clone());
        let mut r = Ok(());
        for block in [&sb.begin, &sb.process, &sb.end].into_iter().flatten() {
            r = self.exec_block(block, out);
            if r.is_err() {
                break;
            }
        }
        self.source = saved_source;
        match saved {
            Some(v) => self.scopes.set_in(cur, "_", v.value, v.ty),
            None => {
                self.scopes.remove_in(cur, "_");
            }
        }
        match r {
            Err(Flow::Return) => Ok(()),
            other => other,
        }
    }
}

/// What an element's redirections do.
#[derive(Debug, Clone, Default)]
pub struct RedirPlan {
    /// `2>&1`: error records into the output, in order.
    merge: bool,
    /// `2> $null`.
    errors_null: bool,
    /// `> $null`.
    output_null: bool,
}

/// A command with its own redirections (`& reg.exe ... 2>&1`).
struct Redirected {
    inner: Box<dyn Stage>,
    plan: RedirPlan,
}

impl Stage for Redirected {
    fn begin(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let inner = &mut self.inner;
        it.with_plan(&self.plan, down, |it, out| inner.begin(it, out))
    }
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        let inner = &mut self.inner;
        it.with_plan(&self.plan, down, |it, out| inner.process(it, item, out))
    }
    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let inner = &mut self.inner;
        it.with_plan(&self.plan, down, |it, out| inner.end(it, out))
    }
}

/// A function or script block as a pipeline stage.
pub struct FunctionStage {
    body: Arc<ScriptBlockAst>,
    name: Rc<str>,
    args: Option<Vec<Arg>>,
    call: Option<Position>,
    dot: bool,
    filter: bool,
    scope: usize,
    input: Vec<Value>,
    /// `$_` for a block invoked by `ForEach-Object` / switch conditions.
    pub dollar_under: Option<Value>,
    pipeline_param: Option<(Arc<str>, Option<TypeRef>)>,
    opened: bool,
}

impl FunctionStage {
    pub fn new(body: Arc<ScriptBlockAst>, name: Rc<str>, args: Vec<Arg>, call: Option<Position>, dot: bool, filter: bool) -> FunctionStage {
        FunctionStage { body, name, args: Some(args), call, dot, filter, scope: 0, input: Vec::new(), dollar_under: None, pipeline_param: None, opened: false }
    }

    /// Run `f` inside the function's scope and frame.
    fn inside(&mut self, it: &mut Interp<'_>, f: impl FnOnce(&mut Interp<'_>, &Arc<ScriptBlockAst>) -> R<()>) -> R<()> {
        let saved_scope = it.scopes.current;
        let saved_source = std::mem::replace(&mut it.source, self.body.source.clone());
        it.scopes.current = self.scope;
        let pushed = it.push_frame(self.name.clone(), self.call.clone(), true);
        let r = match pushed {
            Ok(()) => {
                let r = f(it, &self.body);
                it.pop_frame();
                r
            }
            Err(e) => Err(e),
        };
        it.scopes.current = saved_scope;
        it.source = saved_source;
        match r {
            Err(Flow::Return) => Ok(()),
            other => other,
        }
    }

    fn close(&mut self, it: &mut Interp<'_>) {
        if self.opened && !self.dot {
            it.scopes.close(self.scope);
        }
        self.opened = false;
    }
}

impl Stage for FunctionStage {
    fn begin(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        self.scope = if self.dot { it.scopes.current } else { it.scopes.open(it.scopes.current, false) };
        self.opened = true;
        let args = self.args.take().unwrap_or_default();
        let name = self.name.clone();
        let dollar_under = self.dollar_under.clone();
        let mut pipeline_param = None;
        // Dot-sourced, the block sets them in its caller's scope, where
        // the caller's own text may read them.
        let reads = if self.dot { Reads { bound: true, args: true } } else { self.body.reads() };
        let r = self.inside(it, |it, body| {
            if let Some(v) = dollar_under {
                it.scopes.set_in(it.scopes.current, "_", v, None);
            }
            pipeline_param = bind_params(it, body, &name, args, reads)?;
            match &body.begin {
                Some(b) => it.exec_block(b, down),
                None => Ok(()),
            }
        });
        self.pipeline_param = pipeline_param;
        if r.is_err() {
            self.close(it);
        }
        r
    }

    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        let has_process = self.body.process.is_some() || (self.filter && self.body.end.is_some());
        if !has_process {
            if let Some(v) = item {
                self.input.push(v);
            }
            return Ok(());
        }
        let filter = self.filter;
        let param = self.pipeline_param.clone();
        let r = self.inside(it, |it, body| {
            let cur = it.scopes.current;
            if let Some(v) = &item {
                it.scopes.set_in(cur, "_", v.clone(), None);
                if let Some((name, ty)) = &param {
                    let value = match ty {
                        Some(t) => {
                            let r = convert::convert(v, t, &mut it.cx);
                            it.op_fail(r, body.span)?
                        }
                        None => v.clone(),
                    };
                    it.scopes.set_named(cur, name, value, ty.clone());
                }
            }
            let block = if filter && body.process.is_none() { body.end.as_ref() } else { body.process.as_ref() };
            match block {
                Some(b) => it.exec_block(b, down),
                None => Ok(()),
            }
        });
        if r.is_err() {
            self.close(it);
        }
        r
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        if !self.opened {
            return Ok(());
        }
        let runs_end = !(self.filter && self.body.process.is_none());
        let input = std::mem::take(&mut self.input);
        let r = if runs_end {
            self.inside(it, |it, body| {
                let cur = it.scopes.current;
                it.scopes.set_in(cur, "input", Value::array(input), None);
                match &body.end {
                    Some(b) => it.exec_block(b, down),
                    None => Ok(()),
                }
            })
        } else {
            Ok(())
        };
        self.close(it);
        r
    }
}

/// Bind a function's parameters in the current (new) scope, and set
/// `$args` and `$PSBoundParameters` where `reads` says they can be read.
/// Returns the parameter that takes pipeline input, if any.
fn bind_params(it: &mut Interp<'_>, body: &Arc<ScriptBlockAst>, fname: &str, args: Vec<Arg>, reads: Reads) -> R<Option<(Arc<str>, Option<TypeRef>)>> {
    let params = &body.params;
    let advanced = body.cmdlet_binding || params.iter().any(|p| p.mandatory || p.position.is_some() || p.from_pipeline);
    let mut bound: Vec<Option<Value>> = vec![None; params.len()];
    let mut extra: Vec<Value> = Vec::new();
    let mut positionals: Vec<(Value, Span)> = Vec::new();
    let mut bound_params = Hashtable::new();
    let mut i = 0;
    let args_vec = args;
    while i < args_vec.len() {
        match &args_vec[i] {
            Arg::Named { name, value, span } => {
                let lower = name.to_lowercase();
                let matches: Vec<usize> = params.iter().enumerate().filter(|(_, p)| p.name.folded.starts_with(&lower)).map(|(k, _)| k).collect();
                let exact = params.iter().position(|p| *p.name.folded == *lower);
                let target = exact.or(if matches.len() == 1 { Some(matches[0]) } else { None });
                match target {
                    Some(k) => {
                        let p = &params[k];
                        let v = if p.switch {
                            value.clone().unwrap_or(Value::Bool(true))
                        } else if let Some(v) = value {
                            v.clone()
                        } else {
                            match args_vec.get(i + 1) {
                                Some(Arg::Positional { value, .. }) => {
                                    i += 1;
                                    value.clone()
                                }
                                _ => {
                                    let ty = p.ty.as_ref().map(|t| t.text.to_string()).unwrap_or_else(|| "System.Object".into());
                                    return it.fail(binding_error(fname, &format!("Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.", p.name.text, type_display(&ty)), "MissingArgument"), *span);
                                }
                            }
                        };
                        bound[k] = Some(v);
                    }
                    None if matches.len() > 1 => {
                        let names: Vec<String> = matches.iter().map(|&k| format!("-{}", params[k].name.text)).collect();
                        return it.fail(
                            binding_error(fname, &format!("Parameter cannot be processed because the parameter name '{name}' is ambiguous. Possible matches include: {}.", names.join(" ")), "AmbiguousParameter"),
                            *span,
                        );
                    }
                    None => {
                        if advanced {
                            if is_common(&lower) {
                                if lower.starts_with("erroraction") || lower == "ea" {
                                    let v = match value {
                                        Some(v) => v.clone(),
                                        None => match args_vec.get(i + 1) {
                                            Some(Arg::Positional { value, .. }) => {
                                                i += 1;
                                                value.clone()
                                            }
                                            _ => Value::Null,
                                        },
                                    };
                                    let cur = it.scopes.current;
                                    it.scopes.set_in(cur, "erroractionpreference", v, None);
                                } else if value.is_none()
                                    && !matches!(lower.as_str(), "verbose" | "vb" | "debug" | "db")
                                    && matches!(args_vec.get(i + 1), Some(Arg::Positional { .. }))
                                {
                                    i += 1;
                                }
                            } else {
                                return it.fail(binding_error(fname, &format!("A parameter cannot be found that matches parameter name '{name}'."), "NamedParameterNotFound"), *span);
                            }
                        } else {
                            extra.push(Value::string(format!("-{name}")));
                            if let Some(v) = value {
                                extra.push(v.clone());
                            }
                        }
                    }
                }
            }
            Arg::Positional { value, span, .. } => positionals.push((value.clone(), *span)),
        }
        i += 1;
    }
    // Positional binding: declared positions first, else declaration order.
    let mut order: Vec<usize> = (0..params.len()).filter(|&k| !params[k].switch).collect();
    if advanced {
        order.retain(|&k| params[k].position.is_some() || !body.cmdlet_binding);
        order.sort_by_key(|&k| params[k].position.unwrap_or(u32::MAX));
    }
    let mut pos_iter = positionals.into_iter();
    for k in order {
        if bound[k].is_some() || params[k].from_remaining {
            continue;
        }
        match pos_iter.next() {
            Some((v, _)) => bound[k] = Some(v),
            None => break,
        }
    }
    let leftover: Vec<(Value, Span)> = pos_iter.collect();
    if let Some(k) = params.iter().position(|p| p.from_remaining) {
        let vals: Vec<Value> = leftover.iter().map(|(v, _)| v.clone()).collect();
        if !vals.is_empty() && bound[k].is_none() {
            bound[k] = Some(Value::array(vals));
        }
    } else if advanced && let Some((v, span)) = leftover.first() {
        let text = convert::to_string(v, &mut it.cx);
        return it.fail(binding_error(fname, &format!("A positional parameter cannot be found that accepts argument '{text}'."), "PositionalParameterNotFound"), *span);
    } else {
        extra.extend(leftover.into_iter().map(|(v, _)| v));
    }
    let cur = it.scopes.current;
    let mut pipeline_param = None;
    for (k, p) in params.iter().enumerate() {
        let ty = match &p.ty {
            Some(t) => Some(it.resolve_type(t)?),
            None => None,
        };
        let value = match bound[k].take() {
            Some(v) => {
                if reads.bound {
                    bound_params.insert(Value::str(&p.name.text), v.clone());
                }
                match &ty {
                    Some(t) => match convert::convert(&v, t, &mut it.cx) {
                        Ok(v) => v,
                        Err(e) => {
                            let text = convert::to_string(&v, &mut it.cx);
                            let detail = e.exception.message.clone();
                            let _ = text;
                            return it.fail(
                                binding_error(
                                    fname,
                                    &format!("Cannot process argument transformation on parameter '{}'. {detail}", p.name.text),
                                    "ParameterArgumentTransformationError",
                                ),
                                p.span,
                            );
                        }
                    },
                    None => v,
                }
            }
            None => {
                if p.mandatory {
                    return it.fail(
                        binding_error(fname, &format!("Cannot process command because of one or more missing mandatory parameters: {}.", p.name.text), "MissingMandatoryParameter"),
                        p.span,
                    );
                }
                let v = match &p.default {
                    Some(d) => it.eval(d)?,
                    None => Value::Null,
                };
                match &ty {
                    Some(t) if !(v.is_null() && matches!(t, TypeRef::Prim(Prim::Object | Prim::PSObject | Prim::Array | Prim::Hashtable | Prim::ScriptBlock) | TypeRef::Array(_) | TypeRef::Net(_))) => {
                        let r = convert::convert(&v, t, &mut it.cx);
                        it.op_fail(r, p.span)?
                    }
                    _ => v,
                }
            }
        };
        if p.from_pipeline {
            pipeline_param = Some((p.name.folded.clone(), ty.clone()));
        }
        it.scopes.set_named(cur, &p.name.folded, value, ty);
    }
    if reads.args {
        it.scopes.set_in(cur, "args", Value::array(extra), None);
    }
    if reads.bound {
        it.scopes.set_in(cur, "psboundparameters", Value::Hashtable(Rc::new(RefCell::new(bound_params))), None);
    }
    Ok(pipeline_param)
}

fn is_common(lower: &str) -> bool {
    ["erroraction", "ea", "warningaction", "wa", "errorvariable", "ev", "warningvariable", "wv", "outvariable", "ov", "outbuffer", "ob", "verbose", "vb", "debug", "db", "informationaction", "ia", "informationvariable", "iv", "pipelinevariable", "pv"]
        .iter()
        .any(|c| c.starts_with(lower) && lower.len() >= 2)
}

fn type_display(t: &str) -> String {
    match crate::lab::powershell::types::resolve(t, &[]) {
        Some(r) => r.full_name(),
        None => t.to_string(),
    }
}

/// A ParameterBindingException record for function `f`.
pub fn binding_error(f: &str, message: &str, id: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(
        crate::lab::powershell::object::Exception::new("System.Management.Automation.ParameterBindingException", message),
        "InvalidArgument",
        format!("{id},{f}"),
    );
    r.command = Some(f.to_string());
    r.activity = f.to_string();
    r
}

/// A native program as a pipeline stage: input becomes its stdin (not
/// used by the lab's programs), its stdout lines are output, its stderr
/// lines error records, and its exit code `$LASTEXITCODE`.
struct NativeStage {
    program: Arc<dyn crate::lab::powershell::object::NativeProgram>,
    name: String,
    args: Vec<Arg>,
    call: Option<Position>,
    input: Vec<Value>,
}

impl Stage for NativeStage {
    fn process(&mut self, _: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out) -> R<()> {
        if let Some(v) = item {
            self.input.push(v);
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let mut argv = Vec::new();
        for a in &self.args {
            match a {
                Arg::Named { name, value: None, .. } => argv.push(format!("-{name}")),
                Arg::Named { name, value: Some(v), .. } => {
                    let t = convert::to_string(v, &mut it.cx);
                    argv.push(format!("-{name}:{t}"));
                }
                Arg::Positional { value, .. } => {
                    if value.is_collection() {
                        for v in value.enumerate(&mut it.cx).unwrap_or_default() {
                            argv.push(convert::to_string(&v, &mut it.cx));
                        }
                    } else {
                        argv.push(convert::to_string(value, &mut it.cx));
                    }
                }
            }
        }
        let result = self.program.run(&mut it.cx, &argv);
        it.scopes.set_in(super::scope::GLOBAL, "lastexitcode", Value::Int(result.exit_code), None);
        let stdout = result.stdout.replace("\r\n", "\n");
        let mut lines: Vec<&str> = stdout.split('\n').collect();
        if lines.last() == Some(&"") {
            lines.pop();
        }
        for line in lines {
            down.emit(it, Value::str(line))?;
        }
        let stderr = result.stderr.trim_end();
        if !stderr.is_empty() {
            let command = self.name.trim_matches('"').to_string();
            match it.err_sinks.last().cloned() {
                Some(ErrSink::Merge(buf)) => {
                    for line in stderr.lines() {
                        let mut r = errors::native_stderr(&command, line.trim_end_matches('\r'));
                        r.position = self.call.clone();
                        buf.borrow_mut().push(Value::object(r));
                    }
                }
                _ => {
                    let mut r = errors::native_stderr(&command, &stderr.replace("\r\n", "\n"));
                    r.position = self.call.clone();
                    let first = stderr.lines().next().unwrap_or("").to_string();
                    r.target_name = first;
                    let rc = Rc::new(r);
                    it.log_error(&rc);
                    it.write_error(rc);
                }
            }
        }
        if result.exit_code != 0 {
            it.pipeline_failed = true;
        }
        Ok(())
    }
}
