//! Expressions and assignments: literals, variables (`$env:`, `$script:`,
//! automatic variables), operators, casts, arrays (`@()`, `,`), hashtables,
//! subexpressions, indexes, `++`/`--`, and assignment with its operators,
//! typed variables and destructuring (`$a, $b = 1, 2`).

use std::cell::RefCell;
use std::rc::Rc;

use super::out::{Collect, Discard};
use super::{Flow, Interp, R};
use crate::lab::powershell::dotnet::misc::PsReference;
use crate::lab::powershell::ast::*;
use crate::lab::powershell::convert;
use crate::lab::powershell::errors;
use crate::lab::powershell::ops;
use crate::lab::powershell::types::{self, Prim, TypeRef};
use crate::lab::powershell::value::{Hashtable, ScriptBlock, Value};

impl Interp<'_> {
    /// An operator error (a RuntimeException record) at a span.
    pub fn op_fail<T>(&self, r: Result<T, errors::ErrorRecord>, span: Span) -> R<T> {
        r.map_err(|e| Flow::error(e.at(self.pos(span))))
    }

    /// A value from output: nothing is `$null`, one object is itself, more
    /// are an `object[]`.
    pub fn unwrap_output(mut items: Vec<Value>) -> Value {
        match items.len() {
            0 => Value::Null,
            1 => items.pop().unwrap_or(Value::Null),
            _ => Value::array(items),
        }
    }

    /// Evaluate an expression.
    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        Ok(self.eval_maybe_nothing(e)?.unwrap_or(Value::Null))
    }

    /// Evaluate, telling "wrote nothing" (a command or `$( )` with no
    /// output: PowerShell's AutomationNull) from `$null`.
    pub fn eval_maybe_nothing(&mut self, e: &Expr) -> R<Option<Value>> {
        Ok(Some(match &e.kind {
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Long(n) => Value::Long(*n),
            ExprKind::Double(d) => Value::Double(*d),
            ExprKind::Str(s) => Value::Str(Rc::from(&**s)),
            ExprKind::Expandable(parts) => Value::string(self.expand(parts)?),
            ExprKind::Var(v) => self.get_var(v, e.span)?,
            ExprKind::Splat(v) => self.get_var(v, e.span)?,
            ExprKind::ArrayLiteral(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i)?);
                }
                Value::array(out)
            }
            ExprKind::ArrayExpr(block) => {
                let items = self.collect_block(block)?;
                Value::array(items)
            }
            ExprKind::SubExpr(block) => {
                let items = self.collect_block(block)?;
                if items.is_empty() {
                    return Ok(None);
                }
                Self::unwrap_output(items)
            }
            ExprKind::Paren(stmt) => return self.paren(stmt),
            ExprKind::Hashtable(entries) => {
                let mut h = Hashtable::new();
                for (k, v) in entries {
                    let key = self.eval(k)?;
                    let value = self.statement_value(v)?;
                    if h.contains(&key) {
                        let ks = convert::to_string(&key, &mut self.cx);
                        return self.fail(
                            errors::runtime(format!("Duplicate keys '{ks}' are not allowed in hash literals."), "ParserError", "DuplicateKeyInHashLiteral"),
                            k.span,
                        );
                    }
                    h.insert(key, value);
                }
                Value::Hashtable(Rc::new(RefCell::new(h)))
            }
            ExprKind::ScriptBlock(ast) => Value::ScriptBlock(Rc::new(ScriptBlock { ast: ast.clone() })),
            ExprKind::Unary(op, operand) => self.unary(*op, operand, e.span)?,
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span)?,
            ExprKind::Convert(ty, inner) if ty.text.eq_ignore_ascii_case("ref") => {
                let v = self.eval(inner)?;
                if v.as_object().is_some_and(|o| o.as_any().is::<PsReference>()) {
                    return Ok(Some(v));
                }
                let var = if let ExprKind::Var(var) = &inner.kind { Some(var.clone()) } else { None };
                Value::object(PsReference { value: RefCell::new(v), var })
            }
            ExprKind::Convert(ty, inner) => {
                let t = self.resolve_type(ty)?;
                let v = self.eval(inner)?;
                if t.is_prim(Prim::Void) {
                    // Nothing at all, not `$null`: `[void]$list.Add(1)`
                    // inside a function adds nothing to its output.
                    return Ok(None);
                }
                let r = convert::convert(&v, &t, &mut self.cx);
                self.op_fail(r, e.span)?
            }
            ExprKind::Type(ty) => Value::Type(self.resolve_type(ty)?),
            ExprKind::Member { target, name, is_static } => {
                let t = self.eval(target)?;
                let n = self.member_name(name)?;
                if *is_static {
                    self.static_member(&t, &n, e.span)?
                } else {
                    self.get_member(t, &n, e.span)?
                }
            }
            ExprKind::Invoke { target, name, args, is_static } => {
                let t = self.eval(target)?;
                let n = self.member_name(name)?;
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a)?);
                }
                let refs: Vec<Value> = values.iter().filter(|v| v.as_object().is_some_and(|o| o.as_any().is::<PsReference>())).cloned().collect();
                let r = if *is_static { self.call_static(&t, &n, values, e.span)? } else { self.call_method(t, &n, values, e.span)? };
                for rv in &refs {
                    self.write_through(rv, e.span)?;
                }
                if crate::lab::powershell::object::is_void(&r) {
                    return Ok(None);
                }
                r
            }
            ExprKind::Index { target, index } => {
                let t = self.eval(target)?;
                let i = self.eval(index)?;
                self.index(t, i, e.span)?
            }
            ExprKind::IncDec { target, inc, prefix } => {
                let old = self.eval(target)?;
                let r = ops::arith(if *inc { BinOp::Add } else { BinOp::Sub }, old.clone(), Value::Int(1), &mut self.cx);
                let new = self.op_fail(r, e.span)?;
                self.store(target, new.clone(), e.span)?;
                if *prefix { new } else { old }
            }
        }))
    }

    /// `( ... )`: an assignment's value, an expression's value as is, or a
    /// pipeline's output.
    fn paren(&mut self, stmt: &Stmt) -> R<Option<Value>> {
        match &stmt.kind {
            StmtKind::Assign { target, op, value } => {
                let v = self.assign(target, *op, value)?;
                Ok(Some(v))
            }
            StmtKind::Pipeline(p) if p.elements.len() == 1 && matches!(&p.elements[0], Element::Expr(_, r) if r.is_empty()) => {
                let Element::Expr(e, _) = &p.elements[0] else { return Ok(None) };
                self.eval_maybe_nothing(e)
            }
            _ => {
                let mut c = Collect::default();
                self.exec_stmt(stmt, &mut c)?;
                if c.0.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Self::unwrap_output(c.0)))
            }
        }
    }

    /// The output of a block, collected.
    pub fn collect_block(&mut self, block: &Block) -> R<Vec<Value>> {
        let mut c = Collect::default();
        self.exec_block(block, &mut c)?;
        Ok(c.0)
    }

    /// The value a statement gives an assignment: an expression's value as
    /// is (`$a = @(1)` keeps the array), a command's output unwrapped.
    pub fn statement_value(&mut self, s: &Stmt) -> R<Value> {
        if let StmtKind::Pipeline(p) = &s.kind {
            return self.pipeline_value(p);
        }
        if let StmtKind::Assign { target, op, value } = &s.kind {
            self.assign(target, *op, value)?;
            return Ok(Value::Null);
        }
        let mut c = Collect::default();
        match self.exec_stmt(s, &mut c) {
            Ok(()) => {}
            Err(Flow::Error(e)) => {
                self.on_error(e, &mut Discard)?;
            }
            Err(f) => return Err(f),
        }
        Ok(Self::unwrap_output(c.0))
    }

    /// A pipeline's value (as for an assignment or a condition).
    pub fn pipeline_value(&mut self, p: &Pipeline) -> R<Value> {
        if let [Element::Expr(e, r)] = p.elements.as_slice()
            && r.is_empty()
        {
            let v = self.eval(e)?;
            self.question = true;
            return Ok(v);
        }
        let items = self.pipeline_items(p)?;
        Ok(Self::unwrap_output(items))
    }

    /// A pipeline's output objects.
    pub fn pipeline_items(&mut self, p: &Pipeline) -> R<Vec<Value>> {
        let mut c = Collect::default();
        self.run_pipeline(p, &mut c)?;
        Ok(c.0)
    }

    /// An expandable string's text.
    fn expand(&mut self, parts: &[StrPart]) -> R<String> {
        let mut out = String::new();
        for p in parts {
            match p {
                StrPart::Lit(t) => out.push_str(t),
                StrPart::Var(v) => {
                    let val = self.get_var(v, Span::default())?;
                    out.push_str(&convert::to_string(&val, &mut self.cx));
                }
                StrPart::Sub(block) => {
                    let items = self.collect_block(block)?;
                    let texts: Vec<String> = items.iter().map(|i| convert::to_string(i, &mut self.cx)).collect();
                    out.push_str(&texts.join(" "));
                }
            }
        }
        Ok(out)
    }

    /// A member's name: as written, or an expression's text.
    fn member_name<'e>(&mut self, n: &'e MemberName) -> R<std::borrow::Cow<'e, str>> {
        match n {
            MemberName::Name(n) => Ok(std::borrow::Cow::Borrowed(&n.text)),
            MemberName::Expr(e) => {
                let v = self.eval(e)?;
                Ok(std::borrow::Cow::Owned(convert::to_string(&v, &mut self.cx)))
            }
        }
    }

    /// Resolve a type name (cached in the tree when it is a static type).
    pub fn resolve_type(&mut self, tn: &TypeName) -> R<TypeRef> {
        if let Some(Some(t)) = tn.resolved.get() {
            return Ok(t.clone());
        }
        if let Some(t) = types::resolve(&tn.text, &[]) {
            let _ = tn.resolved.set(Some(t.clone()));
            return Ok(t);
        }
        match types::resolve(&tn.text, &self.cx.dynamic_types) {
            Some(t) => Ok(t),
            None => self.fail(errors::type_not_found(&tn.text, !self.cx.version.v3()), tn.span),
        }
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> R<Value> {
        let v = self.eval(operand)?;
        let r = match op {
            UnaryOp::Not => Ok(Value::Bool(!v.is_true_lossy())),
            UnaryOp::Neg => ops::negate(v, &mut self.cx),
            UnaryOp::Plus => match v {
                Value::Str(_) => convert::to_num(&v, "System.Int32", &mut self.cx).map(|n| match n {
                    convert::Num::I(i) => i32::try_from(i).map_or(Value::Long(i), Value::Int),
                    convert::Num::U(u) => Value::UInt64(u),
                    convert::Num::F(f) => Value::Double(f),
                }),
                other => Ok(other),
            },
            UnaryOp::BNot => ops::bnot(v, &mut self.cx),
            UnaryOp::Split => ops::split_unary(v, &mut self.cx),
            UnaryOp::Join => ops::join(v, Value::str(""), &mut self.cx),
            UnaryOp::Comma => Ok(Value::array(vec![v])),
        };
        self.op_fail(r, span)
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, span: Span) -> R<Value> {
        match op {
            BinOp::And => {
                let a = self.eval(l)?.is_true_lossy();
                return Ok(Value::Bool(a && self.eval(r)?.is_true_lossy()));
            }
            BinOp::Or => {
                let a = self.eval(l)?.is_true_lossy();
                return Ok(Value::Bool(a || self.eval(r)?.is_true_lossy()));
            }
            _ => {}
        }
        let a = self.eval(l)?;
        let b = self.eval(r)?;
        let result = match op {
            BinOp::Xor => Ok(Value::Bool(a.is_true_lossy() != b.is_true_lossy())),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => ops::arith(op, a, b, &mut self.cx),
            BinOp::BAnd | BinOp::BOr | BinOp::BXor | BinOp::Shl | BinOp::Shr => ops::bitwise(op, a, b, &mut self.cx),
            BinOp::Range => ops::range(a, b, &mut self.cx),
            BinOp::Format => ops::format(a, b, &mut self.cx),
            BinOp::Is | BinOp::IsNot => {
                let t = self.type_operand(&b, r.span)?;
                let is = types::is_instance(&a, &t);
                Ok(Value::Bool(is == (op == BinOp::Is)))
            }
            BinOp::As => {
                let t = self.type_operand(&b, r.span)?;
                Ok(if a.is_null() { Value::Null } else { convert::convert(&a, &t, &mut self.cx).unwrap_or(Value::Null) })
            }
            BinOp::Cmp(c, case) => {
                let mut m = None;
                let res = ops::compare(c, case, a, b, &mut m, &mut self.cx);
                if let Some(m) = m {
                    self.scopes.set_in(self.scopes.current, "matches", m, None);
                }
                res
            }
            BinOp::And | BinOp::Or => unreachable!("handled above"),
        };
        self.op_fail(result, span)
    }

    /// The type on the right of `-is`/`-as`: a type, or a type name.
    fn type_operand(&mut self, v: &Value, span: Span) -> R<TypeRef> {
        match v {
            Value::Type(t) => Ok(t.clone()),
            other => {
                let name = convert::to_string(other, &mut self.cx);
                match types::resolve(&name, &self.cx.dynamic_types) {
                    Some(t) => Ok(t),
                    None => self.fail(errors::type_not_found(&name, !self.cx.version.v3()), span),
                }
            }
        }
    }

    // ---- variables ----

    /// `$name`.
    pub fn get_var(&mut self, v: &VarRef, span: Span) -> R<Value> {
        match v.special {
            Special::Null => return Ok(Value::Null),
            Special::True => return Ok(Value::Bool(true)),
            Special::False => return Ok(Value::Bool(false)),
            Special::Question => return Ok(Value::Bool(self.question)),
            Special::Underscore | Special::None => {}
        }
        let name = &*v.name.folded;
        let found = match v.scope {
            VarScope::Env => {
                return Ok(match self.cx.env.get(&v.name.text.to_uppercase()) {
                    Some((_, val)) => Value::str(val),
                    None => Value::Null,
                });
            }
            VarScope::Global => self.scopes.local(super::scope::GLOBAL, name),
            VarScope::Script => {
                let s = self.scopes.script_scope();
                self.scopes.lookup_from(s, name)
            }
            VarScope::Local | VarScope::Private => self.scopes.local(self.scopes.current, name),
            VarScope::Function => {
                return Ok(match self.scopes.function(name) {
                    Some(f) => Value::ScriptBlock(Rc::new(ScriptBlock { ast: f.body.clone() })),
                    None => Value::Null,
                });
            }
            VarScope::Any | VarScope::Variable => {
                let found = self.scopes.lookup(name);
                if found.is_none() && name == "psitem" && self.cx.version.v3() {
                    self.scopes.lookup("_")
                } else {
                    found
                }
            }
        };
        match found {
            Some(var) => Ok(var.value.clone()),
            None => {
                if self.strict >= 1 {
                    let mut r = errors::runtime(
                        format!("The variable '${}' cannot be retrieved because it has not been set.", v.name.text),
                        "InvalidOperation",
                        "VariableIsUndefined",
                    );
                    r.target_name = v.name.text.to_string();
                    r.target_type = "String".into();
                    return self.fail(r, span);
                }
                Ok(Value::Null)
            }
        }
    }

    /// Assign to a variable, honouring its scope and type.
    pub fn set_var(&mut self, v: &VarRef, value: Value, span: Span) -> R<()> {
        match v.special {
            Special::Null => return Ok(()),
            Special::True | Special::False | Special::Question => {
                return self.fail(
                    errors::runtime(format!("Cannot overwrite variable {} because it is read-only or constant.", v.name.text), "WriteError", "VariableNotWritable"),
                    span,
                );
            }
            _ => {}
        }
        let name = &*v.name.folded;
        let scope = match v.scope {
            VarScope::Env => {
                let text = convert::to_string(&value, &mut self.cx);
                let key = v.name.text.to_uppercase();
                if value.is_null() || text.is_empty() {
                    self.cx.env.shift_remove(&key);
                } else {
                    self.cx.env.insert(key, (v.name.text.to_string(), text));
                }
                return Ok(());
            }
            VarScope::Global => super::scope::GLOBAL,
            VarScope::Script => self.scopes.script_scope(),
            VarScope::Function => return self.fail(errors::lab_unsupported("assigning to $function:"), span),
            _ => self.scopes.current,
        };
        let ty = self.scopes.local(scope, name).and_then(|var| var.ty.clone());
        let value = match &ty {
            Some(t) => {
                let r = convert::convert(&value, t, &mut self.cx);
                self.op_fail(r, span)?
            }
            None => value,
        };
        self.scopes.set_named(scope, &v.name.folded, value, None);
        Ok(())
    }

    /// An assignment statement; returns the value assigned.
    pub fn assign(&mut self, target: &Expr, op: AssignOp, value: &Stmt) -> R<Value> {
        let mut v = if let ExprKind::Var(var) = &target.kind
            && var.special == Special::Null
            && op == AssignOp::Set
        {
            // `$null = ...`: run it for its effects, discard the value.
            if let StmtKind::Pipeline(p) = &value.kind {
                self.run_pipeline(p, &mut Discard)?;
                return Ok(Value::Null);
            }
            self.statement_value(value)?
        } else {
            self.statement_value(value)?
        };
        if op != AssignOp::Set {
            let current = self.eval(target)?;
            let bop = match op {
                AssignOp::Add => BinOp::Add,
                AssignOp::Sub => BinOp::Sub,
                AssignOp::Mul => BinOp::Mul,
                AssignOp::Div => BinOp::Div,
                AssignOp::Rem => BinOp::Rem,
                AssignOp::Set => unreachable!("plain assignment"),
            };
            let r = ops::arith(bop, current, v, &mut self.cx);
            v = self.op_fail(r, target.span)?;
        }
        self.store(target, v.clone(), target.span)?;
        Ok(v)
    }

    /// After a method call or a `.Value` assignment: a `[ref]` made from a
    /// variable writes its value back into it.
    pub fn write_through(&mut self, r: &Value, span: Span) -> R<()> {
        if let Some(pr) = r.as_object().and_then(|o| o.as_any().downcast_ref::<PsReference>())
            && let Some(var) = &pr.var
        {
            let v = pr.value.borrow().clone();
            self.set_var(var, v, span)?;
        }
        Ok(())
    }

    /// Store a value into an assignable expression.
    pub fn store(&mut self, target: &Expr, v: Value, span: Span) -> R<()> {
        match &target.kind {
            ExprKind::Var(var) => self.set_var(var, v, span),
            ExprKind::Convert(ty, inner) => {
                let t = self.resolve_type(ty)?;
                let ExprKind::Var(var) = &inner.kind else {
                    return self.fail(errors::lab_unsupported("a cast on the left of an assignment"), span);
                };
                let r = convert::convert(&v, &t, &mut self.cx);
                let value = self.op_fail(r, span)?;
                let scope = match var.scope {
                    VarScope::Global => super::scope::GLOBAL,
                    VarScope::Script => self.scopes.script_scope(),
                    _ => self.scopes.current,
                };
                self.scopes.set_named(scope, &var.name.folded, value, Some(t));
                Ok(())
            }
            ExprKind::Member { target: obj, name, is_static } => {
                let o = self.eval(obj)?;
                let n = self.member_name(name)?;
                if *is_static {
                    self.set_static(&o, &n, v, span)
                } else {
                    self.set_member(o, &n, v, span)
                }
            }
            ExprKind::Index { target: obj, index } => {
                let o = self.eval(obj)?;
                let i = self.eval(index)?;
                self.set_index(o, i, v, span)
            }
            ExprKind::ArrayLiteral(targets) => {
                let mut items = if v.is_collection() { v.enumerate(&mut self.cx).unwrap_or_default() } else { vec![v] };
                let n = targets.len();
                for (i, t) in targets.iter().enumerate() {
                    let value = if i + 1 == n {
                        let rest: Vec<Value> = items.drain(..).collect();
                        match rest.len() {
                            0 => Value::Null,
                            1 => rest.into_iter().next().unwrap_or(Value::Null),
                            _ => Value::array(rest),
                        }
                    } else if items.is_empty() {
                        Value::Null
                    } else {
                        items.remove(0)
                    };
                    self.store(t, value, span)?;
                }
                Ok(())
            }
            _ => self.fail(
                errors::runtime(
                    "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                    "ParserError",
                    "InvalidLeftHandSide",
                ),
                span,
            ),
        }
    }

    // ---- indexes ----

    /// `$x[i]`.
    pub fn index(&mut self, target: Value, i: Value, span: Span) -> R<Value> {
        // `$a[1, 2]`: a slice.
        if i.is_collection() && !matches!(target, Value::Hashtable(_)) {
            let idx = i.enumerate(&mut self.cx).unwrap_or_default();
            let mut out = Vec::new();
            for x in idx {
                let v = self.index(target.clone(), x, span)?;
                if !v.is_null() {
                    out.push(v);
                }
            }
            return Ok(Value::array(out));
        }
        match &target {
            Value::Null => {
                if self.cx.version.v3() && self.strict == 0 {
                    return self.fail(errors::null_index(), span);
                }
                self.fail(errors::null_index(), span)
            }
            Value::Array(a) => {
                let n = self.int_index(&i, span)?;
                let items = a.items.borrow();
                Ok(at(n, items.len()).map(|k| items[k].clone()).unwrap_or(Value::Null))
            }
            Value::Bytes(b) => {
                let n = self.int_index(&i, span)?;
                let b = b.borrow();
                Ok(at(n, b.len()).map(|k| Value::Byte(b[k])).unwrap_or(Value::Null))
            }
            Value::Str(s) => {
                let n = self.int_index(&i, span)?;
                let units = crate::lab::world::utf16::units(s);
                Ok(at(n, units.len()).map(|k| Value::Char(units[k])).unwrap_or(Value::Null))
            }
            Value::Hashtable(h) => {
                if i.is_collection() {
                    let keys = i.enumerate(&mut self.cx).unwrap_or_default();
                    let h = h.borrow();
                    let vals: Vec<Value> = keys.iter().filter_map(|k| h.get(k).cloned()).collect();
                    return Ok(Value::array(vals));
                }
                Ok(h.borrow().get(&i).cloned().unwrap_or(Value::Null))
            }
            Value::Object(o) => match o.index(&mut self.cx, &i) {
                Some(r) => self.net(r, "Item", 1, span),
                None => self.fail(
                    errors::runtime(format!("Unable to index into an object of type {}.", target.type_name()), "InvalidOperation", "CannotIndex"),
                    span,
                ),
            },
            other => {
                // A scalar: `$x[0]` is the scalar itself on 3.0 and later.
                let n = self.int_index(&i, span)?;
                if self.cx.version.v3() && (n == 0 || n == -1) {
                    return Ok(other.clone());
                }
                self.fail(
                    errors::runtime(format!("Unable to index into an object of type {}.", other.type_name()), "InvalidOperation", "CannotIndex"),
                    span,
                )
            }
        }
    }

    fn int_index(&mut self, i: &Value, span: Span) -> R<i64> {
        let r = convert::to_i64(i, &mut self.cx);
        self.op_fail(r, span)
    }

    /// `$x[i] = v`.
    pub fn set_index(&mut self, target: Value, i: Value, v: Value, span: Span) -> R<()> {
        match &target {
            Value::Hashtable(h) => {
                h.borrow_mut().insert(i, v);
                Ok(())
            }
            Value::Array(a) => {
                let n = self.int_index(&i, span)?;
                let len = a.items.borrow().len();
                let Some(k) = at(n, len) else {
                    return self.fail(errors::runtime("Index was outside the bounds of the array.", "OperationStopped", "System.IndexOutOfRangeException"), span);
                };
                let elem = a.elem.clone();
                let value = match elem {
                    crate::lab::powershell::value::ElemType::Object => v,
                    crate::lab::powershell::value::ElemType::String => Value::Str(convert::to_str_value(&v, &mut self.cx)),
                    other => {
                        let t = match other {
                            crate::lab::powershell::value::ElemType::Int => TypeRef::Prim(Prim::Int32),
                            crate::lab::powershell::value::ElemType::Long => TypeRef::Prim(Prim::Int64),
                            crate::lab::powershell::value::ElemType::Char => TypeRef::Prim(Prim::Char),
                            crate::lab::powershell::value::ElemType::Double => TypeRef::Prim(Prim::Double),
                            crate::lab::powershell::value::ElemType::Bool => TypeRef::Prim(Prim::Bool),
                            crate::lab::powershell::value::ElemType::Other(t) => t,
                            _ => TypeRef::Prim(Prim::Object),
                        };
                        let r = convert::convert(&v, &t, &mut self.cx);
                        self.op_fail(r, span)?
                    }
                };
                a.items.borrow_mut()[k] = value;
                Ok(())
            }
            Value::Bytes(b) => {
                let n = self.int_index(&i, span)?;
                let r = convert::to_u8(&v, &mut self.cx);
                let byte = self.op_fail(r, span)?;
                let len = b.borrow().len();
                match at(n, len) {
                    Some(k) => {
                        b.borrow_mut()[k] = byte;
                        Ok(())
                    }
                    None => self.fail(errors::runtime("Index was outside the bounds of the array.", "OperationStopped", "System.IndexOutOfRangeException"), span),
                }
            }
            Value::Object(o) => match o.set_index(&mut self.cx, &i, v) {
                Some(r) => self.net(r.map(|()| Value::Null), "Item", 2, span).map(|_| ()),
                None => self.fail(errors::runtime(format!("Unable to index into an object of type {}.", target.type_name()), "InvalidOperation", "CannotIndex"), span),
            },
            Value::Null => self.fail(errors::null_index(), span),
            other => self.fail(errors::runtime(format!("Unable to index into an object of type {}.", other.type_name()), "InvalidOperation", "CannotIndex"), span),
        }
    }
}

/// Index `n` (negative from the end) into a collection of `len`.
fn at(n: i64, len: usize) -> Option<usize> {
    let k = if n < 0 { len as i64 + n } else { n };
    (k >= 0 && (k as usize) < len).then_some(k as usize)
}
