//! Pipeline cmdlets: ForEach-Object (script blocks, and 3.0's member
//! name form), Where-Object (script block, and 3.0's comparison form),
//! Select-Object, Sort-Object, Measure-Object, Out-Null, Out-String,
//! Out-Default/Out-Host. The script blocks of ForEach-Object and
//! Where-Object run in the caller's scope, as PowerShell runs them (so
//! `$sum += $_` inside one changes the caller's `$sum`).

use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::Arc;

use crate::lab::powershell::ast::{Case, CmpOp, ScriptBlockAst, Span};
use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet::misc::PsObject;
use crate::lab::powershell::errors::{self, Position};
use crate::lab::powershell::interp::call::{Stage, emit_value};
use crate::lab::powershell::interp::out::{Collect, HostFormatter, Out, ToHost};
use crate::lab::powershell::interp::{Flow, Interp, R};
use crate::lab::powershell::object::{Bound, CmdletSpec, ParamKind as K, ParamSpec as P};
use crate::lab::powershell::ops;
use crate::lab::powershell::value::{Hashtable, Value};

const OBJ: K = K::Value("System.Object");
const SB: K = K::Value("System.Management.Automation.ScriptBlock");
const INPUT: P = P { name: "InputObject", kind: K::Value("System.Management.Automation.PSObject"), position: None, pipeline: true, aliases: &[] };

pub static FOREACH_OBJECT: CmdletSpec = CmdletSpec {
    name: "ForEach-Object",
    class: "Microsoft.PowerShell.Commands.ForEachObjectCommand",
    params: &[P::at("Process", OBJ, 0), P::named("Begin", SB), P::named("End", SB), INPUT, P { name: "ArgumentList", kind: K::Value("System.Object[]"), position: None, pipeline: false, aliases: &["Args"] }],
    remaining: Some("Process"),
};

pub static WHERE_OBJECT: CmdletSpec = CmdletSpec {
    name: "Where-Object",
    class: "Microsoft.PowerShell.Commands.WhereObjectCommand",
    params: &[
        P::at("FilterScript", OBJ, 0),
        P::at("Value", OBJ, 1),
        INPUT,
        P::named("EQ", K::Switch),
        P::named("NE", K::Switch),
        P::named("GT", K::Switch),
        P::named("GE", K::Switch),
        P::named("LT", K::Switch),
        P::named("LE", K::Switch),
        P::named("Like", K::Switch),
        P::named("NotLike", K::Switch),
        P::named("Match", K::Switch),
        P::named("NotMatch", K::Switch),
        P::named("Contains", K::Switch),
        P::named("NotContains", K::Switch),
        P::named("CEQ", K::Switch),
        P::named("CNE", K::Switch),
    ],
    remaining: None,
};

pub static SELECT_OBJECT: CmdletSpec = CmdletSpec {
    name: "Select-Object",
    class: "Microsoft.PowerShell.Commands.SelectObjectCommand",
    params: &[
        P::at("Property", K::Value("System.Object[]"), 0),
        P::named("ExpandProperty", K::Value("System.String")),
        P::named("First", K::Value("System.Int32")),
        P::named("Last", K::Value("System.Int32")),
        P::named("Skip", K::Value("System.Int32")),
        P::named("Unique", K::Switch),
        P::named("Index", K::Value("System.Int32[]")),
        INPUT,
    ],
    remaining: None,
};

pub static SORT_OBJECT: CmdletSpec = CmdletSpec {
    name: "Sort-Object",
    class: "Microsoft.PowerShell.Commands.SortObjectCommand",
    params: &[P::at("Property", K::Value("System.Object[]"), 0), P::named("Descending", K::Switch), P::named("Unique", K::Switch), P::named("CaseSensitive", K::Switch), INPUT],
    remaining: None,
};

pub static MEASURE_OBJECT: CmdletSpec = CmdletSpec {
    name: "Measure-Object",
    class: "Microsoft.PowerShell.Commands.MeasureObjectCommand",
    params: &[
        P::at("Property", K::Value("System.String[]"), 0),
        P::named("Sum", K::Switch),
        P::named("Average", K::Switch),
        P::named("Maximum", K::Switch),
        P::named("Minimum", K::Switch),
        INPUT,
    ],
    remaining: None,
};

pub static OUT_NULL: CmdletSpec = CmdletSpec { name: "Out-Null", class: "Microsoft.PowerShell.Commands.OutNullCommand", params: &[INPUT], remaining: None };

pub static OUT_STRING: CmdletSpec = CmdletSpec {
    name: "Out-String",
    class: "Microsoft.PowerShell.Commands.OutStringCommand",
    params: &[P::named("Stream", K::Switch), P::named("Width", K::Value("System.Int32")), INPUT],
    remaining: None,
};

pub static OUT_DEFAULT: CmdletSpec = CmdletSpec { name: "Out-Default", class: "Microsoft.PowerShell.Commands.Internal.Format.OutDefaultCommand", params: &[INPUT], remaining: None };

pub static OUT_HOST: CmdletSpec = CmdletSpec { name: "Out-Host", class: "Microsoft.PowerShell.Commands.OutHostCommand", params: &[P::named("Paging", K::Switch), INPUT], remaining: None };

fn script_block(v: &Value) -> Option<Arc<ScriptBlockAst>> {
    match v {
        Value::ScriptBlock(s) => Some(s.ast.clone()),
        _ => None,
    }
}

/// Run a block in the caller's scope; `return` ends just this run.
fn run_here(it: &mut Interp<'_>, sb: &Arc<ScriptBlockAst>, item: Value, down: &mut dyn Out) -> R<()> {
    it.run_block_here(sb, item, down)
}

// ---- ForEach-Object ----

struct ForEach {
    begin: Option<Arc<ScriptBlockAst>>,
    process: Vec<Arc<ScriptBlockAst>>,
    end: Option<Arc<ScriptBlockAst>>,
    member: Option<Rc<str>>,
    args: Vec<Value>,
    input: Option<Value>,
}

pub fn foreach_object(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let mut blocks: Vec<Arc<ScriptBlockAst>> = Vec::new();
    let mut member = None;
    if let Some(p) = b.get("Process") {
        let items = if p.is_collection() { p.enumerate(&mut it.cx).unwrap_or_default() } else { vec![p.clone()] };
        for v in items {
            match script_block(&v) {
                Some(sb) => blocks.push(sb),
                None if it.cx.version.v3() && blocks.is_empty() => member = Some(convert::to_str_value(&v, &mut it.cx)),
                None => {
                    let text = convert::to_string(&v, &mut it.cx);
                    let spec = &FOREACH_OBJECT;
                    return Err(Flow::error(
                        super::bind::binding_error(spec, format!("Cannot bind parameter 'Process'. Cannot convert the \"{text}\" value of type \"{}\" to type \"System.Management.Automation.ScriptBlock\".", v.type_name()), "CannotConvertArgument")
                            .at(call),
                    ));
                }
            }
        }
    }
    let mut begin = b.get("Begin").and_then(script_block);
    let mut end = b.get("End").and_then(script_block);
    if begin.is_none() && blocks.len() >= 2 {
        begin = Some(blocks.remove(0));
        if blocks.len() >= 2 && end.is_none() {
            end = blocks.pop();
        }
    }
    let args = match b.get("ArgumentList") {
        Some(v) => v.enumerate(&mut it.cx).unwrap_or_else(|| vec![v.clone()]),
        None => Vec::new(),
    };
    Ok(Box::new(ForEach { begin, process: blocks, end, member, args, input: b.get("InputObject").cloned() }))
}

impl Stage for ForEach {
    fn begin(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        match &self.begin {
            Some(b) => run_here(it, &b.clone(), Value::Null, down),
            None => Ok(()),
        }
    }

    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        let item = match item {
            Some(v) => v,
            None => self.input.clone().unwrap_or(Value::Null),
        };
        if let Some(m) = self.member.clone() {
            let span = Span::default();
            let v = if self.args.is_empty() {
                let p = it.get_member(item.clone(), &m, span)?;
                if p.is_null() {
                    // Not a property: a method with no arguments.
                    match it.call_method(item, &m, Vec::new(), span) {
                        Ok(v) => v,
                        Err(_) => Value::Null,
                    }
                } else {
                    p
                }
            } else {
                it.call_method(item, &m, self.args.clone(), span)?
            };
            if crate::lab::powershell::object::is_void(&v) {
                return Ok(());
            }
            return emit_value(it, v, down);
        }
        for sb in self.process.clone() {
            run_here(it, &sb, item.clone(), down)?;
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        match &self.end {
            Some(b) => run_here(it, &b.clone(), Value::Null, down),
            None => Ok(()),
        }
    }
}

// ---- Where-Object ----

enum Filter {
    Script(Arc<ScriptBlockAst>),
    Compare { property: Rc<str>, op: CmpOp, case: Case, value: Value },
}

struct Where {
    filter: Filter,
}

pub fn where_object(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let Some(f) = b.get("FilterScript").cloned() else {
        return Err(Flow::error(super::bind::binding_error(&WHERE_OBJECT, "Cannot process command because of one or more missing mandatory parameters: FilterScript.".into(), "MissingMandatoryParameter").at(call)));
    };
    if let Some(sb) = script_block(&f) {
        return Ok(Box::new(Where { filter: Filter::Script(sb) }));
    }
    if !it.cx.version.v3() {
        return Err(Flow::error(super::bind::binding_error(&WHERE_OBJECT, "Cannot bind parameter 'FilterScript'. Cannot convert the value to type \"System.Management.Automation.ScriptBlock\".".into(), "CannotConvertArgument").at(call)));
    }
    let property = convert::to_str_value(&f, &mut it.cx);
    let ops = [
        ("EQ", CmpOp::Eq, Case::Insensitive),
        ("NE", CmpOp::Ne, Case::Insensitive),
        ("GT", CmpOp::Gt, Case::Insensitive),
        ("GE", CmpOp::Ge, Case::Insensitive),
        ("LT", CmpOp::Lt, Case::Insensitive),
        ("LE", CmpOp::Le, Case::Insensitive),
        ("Like", CmpOp::Like, Case::Insensitive),
        ("NotLike", CmpOp::NotLike, Case::Insensitive),
        ("Match", CmpOp::Match, Case::Insensitive),
        ("NotMatch", CmpOp::NotMatch, Case::Insensitive),
        ("Contains", CmpOp::Contains, Case::Insensitive),
        ("NotContains", CmpOp::NotContains, Case::Insensitive),
        ("CEQ", CmpOp::Eq, Case::Sensitive),
        ("CNE", CmpOp::Ne, Case::Sensitive),
    ];
    let (op, case) = ops.iter().find(|(n, _, _)| b.switch(n)).map(|(_, o, c)| (*o, *c)).unwrap_or((CmpOp::Eq, Case::Insensitive));
    let value = b.get("Value").cloned().unwrap_or(Value::Bool(true));
    Ok(Box::new(Where { filter: Filter::Compare { property, op, case, value } }))
}

impl Stage for Where {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        let Some(item) = item else { return Ok(()) };
        let keep = match &self.filter {
            Filter::Script(sb) => {
                let mut c = Collect::default();
                run_here(it, &sb.clone(), item.clone(), &mut c)?;
                Interp::unwrap_output(c.0).is_true_lossy()
            }
            Filter::Compare { property, op, case, value } => {
                let p = it.get_member(item.clone(), property, Span::default())?;
                let mut m = None;
                match ops::compare(*op, *case, p, value.clone(), &mut m, &mut it.cx) {
                    Ok(v) => v.is_true_lossy(),
                    Err(_) => false,
                }
            }
        };
        if keep { down.emit(it, item) } else { Ok(()) }
    }
}

// ---- Select-Object ----

struct Select {
    properties: Vec<(Rc<str>, Option<Arc<ScriptBlockAst>>)>,
    expand: Option<Rc<str>>,
    first: Option<usize>,
    last: Option<usize>,
    skip: usize,
    unique: bool,
    seen: Vec<Value>,
    buffer: Vec<Value>,
    count: usize,
}

pub fn select_object(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let mut properties = Vec::new();
    if let Some(p) = b.get("Property") {
        let items = if p.is_collection() { p.enumerate(&mut it.cx).unwrap_or_default() } else { vec![p.clone()] };
        for v in items {
            match &v {
                Value::Hashtable(h) => {
                    let h = h.borrow();
                    let name = h.get_str("Name").or_else(|| h.get_str("n")).or_else(|| h.get_str("Label")).or_else(|| h.get_str("l")).cloned().unwrap_or(Value::Null);
                    let expr = h.get_str("Expression").or_else(|| h.get_str("e")).cloned().unwrap_or(Value::Null);
                    let name = convert::to_str_value(&name, &mut it.cx);
                    match expr {
                        Value::ScriptBlock(sb) => properties.push((name, Some(sb.ast.clone()))),
                        other => properties.push((convert::to_str_value(&other, &mut it.cx), None)),
                    }
                }
                other => properties.push((convert::to_str_value(other, &mut it.cx), None)),
            }
        }
    }
    let int = |it: &mut Interp<'_>, n: &str| -> Option<usize> { b.get(n).and_then(|v| convert::to_i32(v, &mut it.cx).ok()).map(|n| n.max(0) as usize) };
    Ok(Box::new(Select {
        properties,
        expand: b.get("ExpandProperty").map(|v| convert::to_str_value(v, &mut it.cx)),
        first: int(it, "First"),
        last: int(it, "Last"),
        skip: int(it, "Skip").unwrap_or(0),
        unique: b.switch("Unique"),
        seen: Vec::new(),
        buffer: Vec::new(),
        count: 0,
    }))
}

impl Select {
    fn shape(&self, it: &mut Interp<'_>, item: Value) -> R<Vec<Value>> {
        if let Some(e) = &self.expand {
            let v = it.get_member(item, e, Span::default())?;
            return Ok(if v.is_collection() { v.enumerate(&mut it.cx).unwrap_or_default() } else { vec![v] });
        }
        if self.properties.is_empty() {
            return Ok(vec![item]);
        }
        let mut props = Vec::new();
        for (name, expr) in &self.properties {
            let v = match expr {
                Some(sb) => {
                    let mut c = Collect::default();
                    it.run_block_here(sb, item.clone(), &mut c)?;
                    Interp::unwrap_output(c.0)
                }
                None => it.get_member(item.clone(), name, Span::default())?,
            };
            props.push((name.to_string(), v));
        }
        Ok(vec![Value::object(PsObject::new("Selected.System.Management.Automation.PSCustomObject", props))])
    }
}

impl Stage for Select {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        let Some(item) = item else { return Ok(()) };
        if self.unique {
            if self.seen.iter().any(|s| ops::equals(s, &item, false, &mut it.cx)) {
                return Ok(());
            }
            self.seen.push(item.clone());
        }
        if self.last.is_some() {
            self.buffer.push(item);
            return Ok(());
        }
        self.count += 1;
        if self.count <= self.skip {
            return Ok(());
        }
        if let Some(f) = self.first
            && self.count - self.skip > f
        {
            return Ok(());
        }
        for v in self.shape(it, item)? {
            down.emit(it, v)?;
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        if let Some(n) = self.last {
            let items = std::mem::take(&mut self.buffer);
            let start = items.len().saturating_sub(n);
            for item in items.into_iter().skip(start) {
                for v in self.shape(it, item)? {
                    down.emit(it, v)?;
                }
            }
        }
        Ok(())
    }
}

// ---- Sort-Object ----

struct Sort {
    properties: Vec<Rc<str>>,
    descending: bool,
    unique: bool,
    ci: bool,
    items: Vec<Value>,
}

pub fn sort_object(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let properties = match b.get("Property") {
        Some(p) => p.enumerate(&mut it.cx).unwrap_or_else(|| vec![p.clone()]).iter().map(|v| convert::to_str_value(v, &mut it.cx)).collect(),
        None => Vec::new(),
    };
    Ok(Box::new(Sort { properties, descending: b.switch("Descending"), unique: b.switch("Unique"), ci: !b.switch("CaseSensitive"), items: Vec::new() }))
}

impl Stage for Sort {
    fn process(&mut self, _: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out) -> R<()> {
        if let Some(v) = item {
            self.items.push(v);
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let items = std::mem::take(&mut self.items);
        let mut keyed = Vec::with_capacity(items.len());
        for v in items {
            let mut keys = Vec::new();
            if self.properties.is_empty() {
                keys.push(v.clone());
            } else {
                for p in &self.properties {
                    keys.push(it.get_member(v.clone(), p, Span::default())?);
                }
            }
            keyed.push((keys, v));
        }
        let ci = self.ci;
        let cx = &mut it.cx;
        keyed.sort_by(|a, b| {
            for (x, y) in a.0.iter().zip(&b.0) {
                let o = ops::order(x, y, ci, cx).unwrap_or(Ordering::Equal);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        if self.descending {
            keyed.reverse();
        }
        let mut out: Vec<Value> = Vec::new();
        for (keys, v) in keyed {
            if self.unique && out.last().is_some_and(|l| ops::equals(l, &v, ci, &mut it.cx)) {
                let _ = keys;
                continue;
            }
            out.push(v);
        }
        for v in out {
            down.emit(it, v)?;
        }
        Ok(())
    }
}

// ---- Measure-Object ----

struct Measure {
    property: Option<Rc<str>>,
    want: [bool; 4],
    items: Vec<Value>,
}

pub fn measure_object(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let property = b.get("Property").map(|p| convert::to_str_value(p, &mut it.cx));
    Ok(Box::new(Measure { property, want: [b.switch("Sum"), b.switch("Average"), b.switch("Maximum"), b.switch("Minimum")], items: Vec::new() }))
}

impl Stage for Measure {
    fn process(&mut self, _: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out) -> R<()> {
        if let Some(v) = item {
            self.items.push(v);
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let mut nums = Vec::new();
        for v in std::mem::take(&mut self.items) {
            let x = match &self.property {
                Some(p) => it.get_member(v, p, Span::default())?,
                None => v,
            };
            if self.want.iter().any(|w| *w) {
                match convert::to_f64(&x, &mut it.cx) {
                    Ok(f) => nums.push(f),
                    Err(e) => return Err(Flow::error(e)),
                }
            } else {
                nums.push(0.0);
            }
        }
        let count = nums.len();
        let num = |b: bool, f: &dyn Fn(&[f64]) -> f64| if b && count > 0 { Value::Double(f(&nums)) } else { Value::Null };
        let props = vec![
            ("Count".to_string(), Value::Int(count as i32)),
            ("Average".to_string(), num(self.want[1], &|n| n.iter().sum::<f64>() / n.len() as f64)),
            ("Sum".to_string(), num(self.want[0], &|n| n.iter().sum())),
            ("Maximum".to_string(), num(self.want[2], &|n| n.iter().cloned().fold(f64::MIN, f64::max))),
            ("Minimum".to_string(), num(self.want[3], &|n| n.iter().cloned().fold(f64::MAX, f64::min))),
            ("Property".to_string(), self.property.as_ref().map(|p| Value::Str(p.clone())).unwrap_or(Value::Null)),
        ];
        down.emit(it, Value::object(PsObject::new("Microsoft.PowerShell.Commands.GenericMeasureInfo", props)))
    }
}

// ---- Out-* ----

struct Sink<F: FnMut(&mut Interp<'_>, Value, &mut dyn Out) -> R<()>> {
    each: F,
}

impl<F: FnMut(&mut Interp<'_>, Value, &mut dyn Out) -> R<()>> Stage for Sink<F> {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        match item {
            Some(v) => (self.each)(it, v, down),
            None => Ok(()),
        }
    }
}

pub fn out_null(_: &mut Interp<'_>, _: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    Ok(Box::new(Sink { each: |_: &mut Interp<'_>, _: Value, _: &mut dyn Out| Ok(()) }))
}

pub fn out_default(_: &mut Interp<'_>, _: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    Ok(Box::new(Sink { each: |it: &mut Interp<'_>, v: Value, _: &mut dyn Out| ToHost.emit(it, v) }))
}

struct OutString {
    stream: bool,
    items: Vec<Value>,
}

pub fn out_string(_: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    Ok(Box::new(OutString { stream: b.switch("Stream"), items: Vec::new() }))
}

impl Stage for OutString {
    fn process(&mut self, _: &mut Interp<'_>, item: Option<Value>, _: &mut dyn Out) -> R<()> {
        if let Some(v) = item {
            self.items.push(v);
        }
        Ok(())
    }

    fn end(&mut self, it: &mut Interp<'_>, down: &mut dyn Out) -> R<()> {
        let text = HostFormatter::text_of(std::mem::take(&mut self.items), &mut it.cx);
        if self.stream {
            for line in text.split("\r\n").collect::<Vec<_>>().iter().rev().skip(1).rev() {
                down.emit(it, Value::str(line))?;
            }
            return Ok(());
        }
        down.emit(it, Value::string(text))
    }
}

#[allow(dead_code)]
fn unused(_: Hashtable) {
    let _ = errors::null_method;
}
