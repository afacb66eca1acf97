//! The interpreter: walks the syntax tree with PowerShell's semantics.
//!
//! - Statements run in order; a failing statement is handled as
//!   PowerShell's ExceptionHandlingOps.CheckActionPreference does: `$?`
//!   becomes false, the record goes to `$Error`, then a `trap` of the
//!   running script block handles it, or an enclosing `try` gets it, or
//!   `throw`/`-ErrorAction Stop` errors propagate (script-terminating), or
//!   `$ErrorActionPreference` decides (Stop propagates, SilentlyContinue
//!   hides it, Continue writes it to the error stream and goes on).
//! - Output streams through pipelines object by object ([`out`]); a
//!   statement's output goes to its function's output, and at the top to
//!   `Out-Default` (the host's text).
//! - Scopes are dynamic ([`scope`]); commands resolve as alias, function,
//!   cmdlet, native program ([`call`]).
//!
//! Parts: this file (the run, statements, errors), [`expr`] (expressions,
//! assignments), [`members`] (properties and methods of values, version
//! rules), [`call`] (commands, functions, parameter binding, pipelines),
//! [`out`] (output sinks and Out-Default's text).

pub mod call;
pub mod expr;
pub mod members;
pub mod out;
pub mod scope;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::ast::*;
use super::dotnet::collections::ArrayList;
use super::errors::{self, ErrorRecord, Position};
use super::object::Ctx;
use super::value::Value;
use out::Out;
use scope::{Scopes, GLOBAL};

/// Why execution left the normal path.
#[derive(Debug)]
pub enum Flow {
    Break(Option<Rc<str>>),
    Continue(Option<Rc<str>>),
    Return,
    Exit(i32),
    /// A terminating error on its way up.
    Error(Box<RtError>),
    /// The lab stopped the script (it ran too long); nothing catches this.
    Abort(Rc<ErrorRecord>),
}

/// A terminating error: the record, and how it may be handled.
#[derive(Debug)]
pub struct RtError {
    pub record: Rc<ErrorRecord>,
    /// From a `throw` statement (script-terminating).
    pub thrown: bool,
    /// Stopped by `-ErrorAction Stop` / `$ErrorActionPreference = 'Stop'`.
    pub stop: bool,
    /// Already added to `$Error`.
    pub logged: bool,
}

pub type R<T> = Result<T, Flow>;

impl Flow {
    pub fn error(record: ErrorRecord) -> Flow {
        Flow::Error(Box::new(RtError { record: Rc::new(record), thrown: false, stop: false, logged: false }))
    }
}

/// `$ErrorActionPreference` and `-ErrorAction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionPref {
    Continue,
    Stop,
    SilentlyContinue,
    Ignore,
    Inquire,
}

impl ActionPref {
    pub fn parse(text: &str) -> Option<ActionPref> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "continue" | "2" => ActionPref::Continue,
            "stop" | "1" => ActionPref::Stop,
            "silentlycontinue" | "0" => ActionPref::SilentlyContinue,
            "ignore" | "4" => ActionPref::Ignore,
            "inquire" | "3" => ActionPref::Inquire,
            _ => return None,
        })
    }
}

/// Where error records go.
#[derive(Debug, Clone)]
pub enum ErrSink {
    /// The host's error stream (stderr, as CLIXML).
    Host,
    /// `2> $null`.
    Null,
    /// `2>&1`: into the output, in order.
    Merge(Rc<RefCell<Vec<Value>>>),
}

/// One invocation of a function or script block.
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: u32,
    /// The command's name as errors show it (`f`, or the script text).
    pub name: Rc<str>,
    /// Where it was called from.
    pub call: Option<Position>,
    pub is_function: bool,
}

/// Longest a script may run on a lab host, in real time, before the lab
/// stops it (a runaway loop must not hold the host for ever).
pub const TIME_LIMIT_SECS: u64 = 120;

pub struct Interp<'a> {
    pub cx: Ctx<'a>,
    pub scopes: Scopes,
    /// `$?`.
    pub question: bool,
    /// A command of the running pipeline wrote an error or failed (what
    /// `$?` becomes after it).
    pub pipeline_failed: bool,
    pub err_sinks: Vec<ErrSink>,
    traps: Vec<(u32, Arc<Vec<Trap>>)>,
    pub frames: Vec<Frame>,
    next_frame: u32,
    /// Inside a `try` body: statement errors go to its `catch`.
    pub in_try: u32,
    /// `Set-StrictMode -Version` (0: off).
    pub strict: u32,
    /// `$Error`.
    pub error_list: Rc<ArrayList>,
    /// The text of the script block running now (for error positions).
    pub source: Source,
    /// The C# sources `Add-Type` compiled in this session (the same
    /// source again is a no-op, as PowerShell caches it).
    pub added_sources: Vec<String>,
    steps: u32,
    started: Instant,
}

impl<'a> Interp<'a> {
    pub fn new(cx: Ctx<'a>, source: Source) -> Interp<'a> {
        let mut it = Interp {
            cx,
            scopes: Scopes::new(),
            question: true,
            pipeline_failed: false,
            err_sinks: vec![ErrSink::Host],
            traps: Vec::new(),
            frames: Vec::new(),
            next_frame: 1,
            in_try: 0,
            strict: 0,
            error_list: Rc::new(ArrayList::default()),
            source,
            added_sources: Vec::new(),
            steps: 0,
            started: Instant::now(),
        };
        super::session::initialize(&mut it);
        it
    }

    /// The position of a span in the running script block.
    pub fn pos(&self, span: Span) -> Option<Position> {
        Some(Position { source: self.source.clone(), span })
    }

    /// A terminating error at a span.
    pub fn fail<T>(&self, record: ErrorRecord, span: Span) -> R<T> {
        Err(Flow::error(record.at(self.pos(span))))
    }

    pub fn frame_id(&self) -> u32 {
        self.frames.last().map_or(0, |f| f.id)
    }

    pub fn push_frame(&mut self, name: Rc<str>, call: Option<Position>, is_function: bool) -> R<()> {
        let limit = if self.cx.version.v3() { 400 } else { 100 };
        if self.frames.iter().filter(|f| f.is_function).count() >= limit && is_function {
            let mut r = errors::runtime(
                format!("The script failed due to call depth overflow.  The call depth reached {} and the maximum is {limit}.", limit + 1),
                "InvalidOperation",
                "CallDepthOverflow",
            );
            r.exception.type_name = "System.Management.Automation.ScriptCallDepthException".into();
            return Err(Flow::error(r.at(call)));
        }
        let id = self.next_frame;
        self.next_frame += 1;
        self.frames.push(Frame { id, name, call, is_function });
        Ok(())
    }

    pub fn pop_frame(&mut self) {
        let id = self.frame_id();
        while self.traps.last().is_some_and(|(f, _)| *f == id) {
            self.traps.pop();
        }
        self.frames.pop();
    }

    /// Count a step; stop a script that has run too long.
    fn tick(&mut self) -> R<()> {
        self.steps = self.steps.wrapping_add(1);
        if self.steps % 4096 == 0 && self.started.elapsed().as_secs() >= TIME_LIMIT_SECS {
            return Err(Flow::Abort(Rc::new(errors::runtime(
                format!("The cauterize lab stopped this script: it ran for more than {TIME_LIMIT_SECS} seconds."),
                "OperationTimeout",
                "LabTimeLimit",
            ))));
        }
        Ok(())
    }

    // ---- blocks and statements ----

    /// Run a statement list, handling each statement's errors.
    pub fn exec_block(&mut self, block: &Block, out: &mut dyn Out) -> R<()> {
        let pushed = !block.traps.is_empty();
        if pushed {
            self.traps.push((self.frame_id(), block.traps.clone()));
        }
        let r = self.exec_statements(&block.statements, out);
        if pushed {
            self.traps.pop();
        }
        r
    }

    fn exec_statements(&mut self, statements: &[Stmt], out: &mut dyn Out) -> R<()> {
        for s in statements {
            self.tick()?;
            match self.exec_stmt(s, out) {
                Ok(()) => {}
                Err(Flow::Error(e)) => self.on_error(e, out)?,
                Err(f) => return Err(f),
            }
        }
        Ok(())
    }

    /// PowerShell's CheckActionPreference for an error at statement level.
    pub fn on_error(&mut self, mut e: Box<RtError>, out: &mut dyn Out) -> R<()> {
        self.question = false;
        if !e.logged {
            self.log_error(&e.record);
            e.logged = true;
        }
        if let Some(trap) = self.find_trap(&e.record) {
            return self.run_trap(trap, e, out);
        }
        if self.in_try > 0 || e.thrown || e.stop {
            return Err(Flow::Error(e));
        }
        match self.error_action() {
            ActionPref::Stop => {
                let record = self.stopped(&e.record);
                Err(Flow::Error(Box::new(RtError { record, thrown: false, stop: true, logged: true })))
            }
            ActionPref::SilentlyContinue | ActionPref::Ignore => Ok(()),
            ActionPref::Continue | ActionPref::Inquire => {
                self.write_error(e.record.clone());
                Ok(())
            }
        }
    }

    /// The record a Stop preference propagates: on 2.0 an
    /// ActionPreferenceStopException whose message says why; on 3.0 and
    /// later the original record.
    pub fn stopped(&self, record: &Rc<ErrorRecord>) -> Rc<ErrorRecord> {
        if self.cx.version.v3() {
            return record.clone();
        }
        let mut r = (**record).clone();
        let inner = r.exception.clone();
        r.exception = super::object::Exception::new(
            "System.Management.Automation.ActionPreferenceStopException",
            format!(
                "Command execution stopped because the preference variable \"ErrorActionPreference\" or common parameter is set to Stop: {}",
                inner.message
            ),
        );
        r.exception.inner = Some(Box::new(inner));
        Rc::new(r)
    }

    /// `$ErrorActionPreference` as it reads now.
    pub fn error_action(&mut self) -> ActionPref {
        match self.scopes.lookup("erroractionpreference").map(|v| v.value.clone()) {
            Some(Value::Enum(_, n)) => ActionPref::parse(&n.to_string()).unwrap_or(ActionPref::Continue),
            Some(v) => {
                let t = super::convert::to_string(&v, &mut self.cx);
                ActionPref::parse(&t).unwrap_or(ActionPref::Continue)
            }
            None => ActionPref::Continue,
        }
    }

    /// Add a record to `$Error` (newest first, at most 256).
    pub fn log_error(&mut self, record: &Rc<ErrorRecord>) {
        let mut items = self.error_list.items.borrow_mut();
        items.insert(0, Value::Object(record.clone()));
        items.truncate(256);
    }

    /// Write a record to the error stream in effect.
    pub fn write_error(&mut self, record: Rc<ErrorRecord>) {
        match self.err_sinks.last().cloned().unwrap_or(ErrSink::Host) {
            ErrSink::Host => {
                let lines = record.lines();
                self.cx.console.stderr.record(&lines);
            }
            ErrSink::Null => {}
            ErrSink::Merge(buf) => buf.borrow_mut().push(Value::Object(record)),
        }
    }

    /// A non-terminating error a cmdlet writes, with its `-ErrorAction`.
    pub fn cmdlet_error(&mut self, record: ErrorRecord, action: Option<ActionPref>) -> R<()> {
        self.pipeline_failed = true;
        self.question = false;
        let pref = match action {
            Some(a) => a,
            None => self.error_action(),
        };
        let record = Rc::new(record);
        if pref != ActionPref::Ignore {
            self.log_error(&record);
        }
        match pref {
            ActionPref::Stop => {
                let record = self.stopped(&record);
                Err(Flow::Error(Box::new(RtError { record, thrown: false, stop: true, logged: true })))
            }
            ActionPref::SilentlyContinue | ActionPref::Ignore => Ok(()),
            _ => {
                self.write_error(record);
                Ok(())
            }
        }
    }

    fn find_trap(&self, record: &ErrorRecord) -> Option<(Arc<Vec<Trap>>, usize)> {
        let id = self.frame_id();
        for (frame, traps) in self.traps.iter().rev() {
            if *frame != id {
                break;
            }
            // The most specific matching trap of the innermost block.
            let mut best: Option<usize> = None;
            for (i, t) in traps.iter().enumerate() {
                if t.types.is_empty() {
                    if best.is_none() {
                        best = Some(i);
                    }
                } else if t.types.iter().any(|ty| record_is(record, &ty.text)) {
                    best = Some(i);
                }
            }
            if let Some(i) = best {
                return Some((traps.clone(), i));
            }
        }
        None
    }

    fn run_trap(&mut self, (traps, i): (Arc<Vec<Trap>>, usize), e: Box<RtError>, out: &mut dyn Out) -> R<()> {
        let trap = &traps[i];
        let parent = self.scopes.current;
        let s = self.scopes.open(parent, false);
        self.scopes.current = s;
        self.scopes.set_in(s, "_", Value::Object(e.record.clone()), None);
        let r = self.exec_block(&trap.body, out);
        self.scopes.current = parent;
        self.scopes.close(s);
        match r {
            Ok(()) => {
                self.write_error(e.record.clone());
                Ok(())
            }
            Err(Flow::Continue(_)) => Ok(()),
            Err(Flow::Break(_)) => Err(Flow::Error(Box::new(RtError { stop: true, ..*e }))),
            Err(other) => Err(other),
        }
    }

    pub fn exec_stmt(&mut self, s: &Stmt, out: &mut dyn Out) -> R<()> {
        match &s.kind {
            StmtKind::Pipeline(p) => self.run_pipeline(p, out),
            StmtKind::Assign { target, op, value } => {
                self.assign(target, *op, value)?;
                self.question = true;
                Ok(())
            }
            StmtKind::If { clauses, else_ } => {
                for (cond, body) in clauses {
                    if self.condition(cond)? {
                        return self.exec_block(body, out);
                    }
                }
                match else_ {
                    Some(b) => self.exec_block(b, out),
                    None => Ok(()),
                }
            }
            StmtKind::While { label, cond, body } => {
                loop {
                    if !self.condition(cond)? {
                        break;
                    }
                    match loop_control(self.exec_block(body, out), label)? {
                        Loop::Break => break,
                        Loop::Next => {}
                    }
                }
                Ok(())
            }
            StmtKind::DoWhile { label, body, cond, until } => {
                loop {
                    match loop_control(self.exec_block(body, out), label)? {
                        Loop::Break => break,
                        Loop::Next => {}
                    }
                    if self.condition(cond)? == *until {
                        break;
                    }
                }
                Ok(())
            }
            StmtKind::For { label, init, cond, step, body } => {
                if let Some(i) = init {
                    self.exec_stmt(i, &mut out::Discard)?;
                }
                loop {
                    if let Some(c) = cond
                        && !self.condition(c)?
                    {
                        break;
                    }
                    match loop_control(self.exec_block(body, out), label)? {
                        Loop::Break => break,
                        Loop::Next => {}
                    }
                    if let Some(st) = step {
                        self.exec_stmt(st, &mut out::Discard)?;
                    }
                }
                Ok(())
            }
            StmtKind::Foreach { label, var, input, body } => self.foreach(label, var, input, body, out),
            StmtKind::Switch(sw) => self.switch(sw, out),
            StmtKind::Try { body, catches, finally } => self.try_catch(body, catches, finally.as_ref(), out),
            StmtKind::Function { name, filter, body } => {
                let (scope, bare) = match name.folded.split_once(':') {
                    Some(("global", n)) => (GLOBAL, n),
                    Some(("script", n)) => (self.scopes.script_scope(), n),
                    Some(("local", n)) => (self.scopes.current, n),
                    _ => (self.scopes.current, &*name.folded),
                };
                let display = name.text.rsplit(':').next().unwrap_or(&name.text);
                let f = scope::Function { name: display.into(), body: body.clone(), filter: *filter };
                self.scopes.define_function(scope, bare, Rc::new(f));
                Ok(())
            }
            StmtKind::Return(p) => {
                if let Some(p) = p {
                    self.run_pipeline(p, out)?;
                }
                Err(Flow::Return)
            }
            StmtKind::Break(label) => {
                let l = self.label(label.as_ref())?;
                Err(Flow::Break(l))
            }
            StmtKind::Continue(label) => {
                let l = self.label(label.as_ref())?;
                Err(Flow::Continue(l))
            }
            StmtKind::Throw(p) => self.throw(p.as_ref(), s.span),
            StmtKind::Exit(p) => {
                let code = match p {
                    None => 0,
                    Some(p) => {
                        let v = self.pipeline_value(p)?;
                        match super::convert::to_i32(&v, &mut self.cx) {
                            Ok(n) => n,
                            Err(_) => 0,
                        }
                    }
                };
                Err(Flow::Exit(code))
            }
            StmtKind::TrapDecl => Ok(()),
            StmtKind::Include(block) => self.exec_statements(&block.statements, out),
        }
    }

    fn label(&mut self, e: Option<&Expr>) -> R<Option<Rc<str>>> {
        match e {
            None => Ok(None),
            Some(e) => {
                let v = self.eval(e)?;
                let t = super::convert::to_string(&v, &mut self.cx).to_lowercase();
                Ok(Some(Rc::from(t)))
            }
        }
    }

    /// `if`/`while` conditions: the pipeline's value, as a truth.
    fn condition(&mut self, p: &Pipeline) -> R<bool> {
        let v = self.pipeline_value(p)?;
        Ok(v.is_true_lossy())
    }

    fn throw(&mut self, p: Option<&Pipeline>, span: Span) -> R<()> {
        let value = match p {
            Some(p) => Some(self.pipeline_value(p)?),
            None => None,
        };
        let record = match value {
            None | Some(Value::Null) => errors::thrown(None, None),
            Some(Value::Object(o)) if o.as_any().is::<ErrorRecord>() => {
                let r = super::object::downcast::<ErrorRecord>(o.as_ref()).cloned().unwrap_or_else(|| errors::thrown(None, None));
                r
            }
            Some(Value::Object(o)) if o.as_any().is::<errors::ExceptionObj>() => {
                let ex = super::object::downcast::<errors::ExceptionObj>(o.as_ref()).map(|x| x.exception.clone());
                match ex {
                    Some(ex) => {
                        let id = errors::short_name(&ex.type_name).to_string();
                        let mut r = ErrorRecord::new(ex, "OperationStopped", id);
                        r.target = None;
                        r
                    }
                    None => errors::thrown(None, None),
                }
            }
            Some(v) => {
                let text = super::convert::to_string(&v, &mut self.cx);
                errors::thrown(Some(v), Some(text))
            }
        };
        let record = record.at(self.pos(span));
        Err(Flow::Error(Box::new(RtError { record: Rc::new(record), thrown: true, stop: false, logged: false })))
    }

    fn foreach(&mut self, label: &Option<Box<str>>, var: &VarRef, input: &Pipeline, body: &Block, out: &mut dyn Out) -> R<()> {
        let items = match input.elements.as_slice() {
            [Element::Expr(e, r)] if r.is_empty() => match self.eval_maybe_nothing(e)? {
                // A command or `$( )` that wrote nothing: no iteration.
                None => Vec::new(),
                // PowerShell 2.0 runs the body once for $null; 3.0 and later
                // do not (about_Foreach; "Windows PowerShell 3.0 ... does not
                // iterate over $null").
                Some(Value::Null) if !self.cx.version.v3() => vec![Value::Null],
                Some(Value::Null) => Vec::new(),
                Some(other) => {
                    if other.is_collection() {
                        other.enumerate(&mut self.cx).unwrap_or_default()
                    } else {
                        vec![other]
                    }
                }
            },
            _ => self.pipeline_items(input)?,
        };
        self.question = true;
        for item in items {
            self.tick()?;
            self.set_var(var, item, input.span)?;
            match loop_control(self.exec_block(body, out), label)? {
                Loop::Break => break,
                Loop::Next => {}
            }
        }
        Ok(())
    }

    fn switch(&mut self, sw: &Switch, out: &mut dyn Out) -> R<()> {
        let v = self.pipeline_value(&sw.input)?;
        let items = match &v {
            Value::Null => vec![Value::Null],
            other if other.is_collection() => other.enumerate(&mut self.cx).unwrap_or_default(),
            other => vec![other.clone()],
        };
        let saved = self.scopes.local(self.scopes.current, "_").cloned();
        let mut result = Ok(());
        for item in items {
            self.scopes.set_in(self.scopes.current, "_", item.clone(), None);
            match self.switch_item(sw, &item, out) {
                Ok(SwitchStep::Stop) => break,
                Ok(_) => {}
                Err(f) => {
                    result = Err(f);
                    break;
                }
            }
        }
        let cur = self.scopes.current;
        match saved {
            Some(v) => self.scopes.set_in(cur, "_", v.value, v.ty),
            None => {
                self.scopes.remove_in(cur, "_");
            }
        }
        result
    }

    /// Run the clauses that match one item (or the default when none does).
    fn switch_item(&mut self, sw: &Switch, item: &Value, out: &mut dyn Out) -> R<SwitchStep> {
        let mut matched = false;
        for (pattern, body) in &sw.clauses {
            if !self.switch_matches(sw, pattern, item)? {
                continue;
            }
            matched = true;
            match switch_step(self.exec_block(body, out), &sw.label)? {
                SwitchStep::NextClause => {}
                other => return Ok(other),
            }
        }
        match &sw.default {
            Some(d) if !matched => switch_step(self.exec_block(d, out), &sw.label),
            _ => Ok(SwitchStep::NextClause),
        }
    }

    fn switch_matches(&mut self, sw: &Switch, pattern: &Expr, item: &Value) -> R<bool> {
        if let ExprKind::ScriptBlock(sb) = &pattern.kind {
            let v = self.invoke_block_value(sb, vec![], Some(item.clone()))?;
            return Ok(v.is_true_lossy());
        }
        let p = self.eval(pattern)?;
        let ci = !sw.case_sensitive;
        if sw.regex {
            let t = super::convert::to_string(item, &mut self.cx);
            let pat = super::convert::to_string(&p, &mut self.cx);
            let mut m = None;
            let r = super::ops::compare(CmpOp::Match, if ci { Case::Insensitive } else { Case::Sensitive }, Value::string(t), Value::string(pat), &mut m, &mut self.cx)
                .map_err(|e| Flow::error(e.at(self.pos(pattern.span))))?;
            if let Some(m) = m {
                self.scopes.set_in(self.scopes.current, "matches", m, None);
            }
            return Ok(r.is_true_lossy());
        }
        if sw.wildcard {
            let t = super::convert::to_string(item, &mut self.cx);
            let pat = super::convert::to_string(&p, &mut self.cx);
            return Ok(super::ops::like(&t, &pat, ci));
        }
        Ok(super::ops::equals(item, &p, ci, &mut self.cx))
    }

    fn try_catch(&mut self, body: &Block, catches: &[Catch], finally: Option<&Block>, out: &mut dyn Out) -> R<()> {
        self.in_try += 1;
        let r = self.exec_block(body, out);
        self.in_try -= 1;
        let r = match r {
            Err(Flow::Error(e)) => match catches.iter().find(|c| c.types.is_empty() || c.types.iter().any(|t| record_is(&e.record, &t.text))) {
                Some(c) => {
                    let cur = self.scopes.current;
                    let saved = self.scopes.local(cur, "_").cloned();
                    self.scopes.set_in(cur, "_", Value::Object(e.record.clone()), None);
                    let r = self.exec_block(&c.body, out);
                    let cur = self.scopes.current;
                    match saved {
                        Some(v) => self.scopes.set_in(cur, "_", v.value, v.ty),
                        None => {
                            self.scopes.remove_in(cur, "_");
                        }
                    }
                    r
                }
                None => Err(Flow::Error(e)),
            },
            other => other,
        };
        if let Some(f) = finally {
            let saved_q = self.question;
            self.exec_block(f, out)?;
            self.question = saved_q;
        }
        r
    }
}

/// Whether an error record's exception (or one it wraps) is of type
/// `name` (or derives from it).
pub fn record_is(record: &ErrorRecord, name: &str) -> bool {
    let mut e = Some(&record.exception);
    while let Some(ex) = e {
        if errors::exception_is(&ex.type_name, name) {
            return true;
        }
        e = ex.inner.as_deref();
    }
    false
}

enum Loop {
    Next,
    Break,
}

/// What a `switch` does after a clause's body: try the next clause, go on
/// with the next item (`continue`), or stop (`break`).
enum SwitchStep {
    NextClause,
    NextItem,
    Stop,
}

fn switch_step(r: R<()>, label: &Option<Box<str>>) -> R<SwitchStep> {
    match r {
        Ok(()) => Ok(SwitchStep::NextClause),
        Err(Flow::Break(l)) if l.is_none() || l.as_deref() == label.as_deref() => Ok(SwitchStep::Stop),
        Err(Flow::Continue(l)) if l.is_none() || l.as_deref() == label.as_deref() => Ok(SwitchStep::NextItem),
        Err(f) => Err(f),
    }
}

/// What a loop does with its body's flow.
fn loop_control(r: R<()>, label: &Option<Box<str>>) -> R<Loop> {
    match r {
        Ok(()) => Ok(Loop::Next),
        Err(Flow::Break(None)) => Ok(Loop::Break),
        Err(Flow::Continue(None)) => Ok(Loop::Next),
        Err(Flow::Break(Some(l))) if label.as_deref() == Some(&*l) => Ok(Loop::Break),
        Err(Flow::Continue(Some(l))) if label.as_deref() == Some(&*l) => Ok(Loop::Next),
        Err(f) => Err(f),
    }
}
