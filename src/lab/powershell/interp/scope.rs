//! Scopes and variables, with PowerShell's dynamic scoping: a function or
//! script block runs in a new scope whose parent is the scope it was called
//! from; reading `$x` walks up that chain; assigning `$x` sets it in the
//! current scope (creating a local copy, never changing the parent's);
//! `$script:x` is the nearest script scope and `$global:x` the root. A
//! variable declared with a type (`[int]$n = 1`, typed parameters) keeps
//! converting what is assigned to it. (about_Scopes,
//! about_Variables.)
//!
//! Scopes live in an arena because pipelines interleave them: in
//! `f | g`, `g`'s scope is not a child of `f`'s although both are open.

use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::lab::powershell::ast::ScriptBlockAst;
use crate::lab::powershell::types::TypeRef;
use crate::lab::powershell::value::Value;

/// A variable: its value and, when declared with one, its type.
#[derive(Debug, Clone)]
pub struct Var {
    pub value: Value,
    pub ty: Option<TypeRef>,
}

/// A function defined with `function` or `filter`.
#[derive(Debug)]
pub struct Function {
    pub name: Rc<str>,
    pub body: std::sync::Arc<ScriptBlockAst>,
    pub filter: bool,
}

#[derive(Debug, Default)]
pub struct Scope {
    vars: FxHashMap<Arc<str>, Var>,
    funcs: FxHashMap<Box<str>, Rc<Function>>,
    parent: Option<usize>,
    /// A script's scope (what `$script:` names).
    script: bool,
}

pub struct Scopes {
    list: Vec<Option<Scope>>,
    free: Vec<usize>,
    /// Emptied variable tables of closed scopes, kept for the next scope
    /// (a function call opens one; allocating its table each time showed
    /// in profiles).
    spare: Vec<FxHashMap<Arc<str>, Var>>,
    /// The scope code runs in now.
    pub current: usize,
}

pub const GLOBAL: usize = 0;

impl Scopes {
    pub fn new() -> Scopes {
        Scopes { list: vec![Some(Scope { script: true, ..Scope::default() })], free: Vec::new(), spare: Vec::new(), current: GLOBAL }
    }

    fn get(&self, i: usize) -> &Scope {
        self.list[i].as_ref().expect("live scope")
    }

    fn get_mut(&mut self, i: usize) -> &mut Scope {
        self.list[i].as_mut().expect("live scope")
    }

    /// A new scope under `parent`; `script` marks a script's scope.
    pub fn open(&mut self, parent: usize, script: bool) -> usize {
        let vars = self.spare.pop().unwrap_or_default();
        let scope = Scope { vars, parent: Some(parent), script, ..Scope::default() };
        match self.free.pop() {
            Some(i) => {
                self.list[i] = Some(scope);
                i
            }
            None => {
                self.list.push(Some(scope));
                self.list.len() - 1
            }
        }
    }

    /// Drop a scope opened with [`open`].
    pub fn close(&mut self, i: usize) {
        if i != GLOBAL {
            if let Some(mut scope) = self.list[i].take()
                && self.spare.len() < 64
                && scope.vars.capacity() <= 64
            {
                scope.vars.clear();
                self.spare.push(scope.vars);
            }
            self.free.push(i);
        }
    }

    /// How many scopes are open (a recursion bound).
    pub fn depth(&self) -> usize {
        let mut n = 0;
        let mut i = Some(self.current);
        while let Some(s) = i {
            n += 1;
            i = self.get(s).parent;
        }
        n
    }

    /// The nearest script scope from the current one.
    pub fn script_scope(&self) -> usize {
        let mut i = self.current;
        loop {
            let s = self.get(i);
            if s.script {
                return i;
            }
            match s.parent {
                Some(p) => i = p,
                None => return GLOBAL,
            }
        }
    }

    /// `$name` (folded), looked up from scope `from` upwards.
    pub fn lookup_from(&self, from: usize, name: &str) -> Option<&Var> {
        let mut i = Some(from);
        while let Some(s) = i {
            let scope = self.get(s);
            if let Some(v) = scope.vars.get(name) {
                return Some(v);
            }
            i = scope.parent;
        }
        None
    }

    pub fn lookup(&self, name: &str) -> Option<&Var> {
        self.lookup_from(self.current, name)
    }

    /// A variable in exactly scope `s`.
    pub fn local(&self, s: usize, name: &str) -> Option<&Var> {
        self.get(s).vars.get(name)
    }

    pub fn local_mut(&mut self, s: usize, name: &str) -> Option<&mut Var> {
        self.get_mut(s).vars.get_mut(name)
    }

    /// Set (or create) `name` in scope `s` with an optional type
    /// constraint (the caller has converted the value).
    pub fn set_in(&mut self, s: usize, name: &str, value: Value, ty: Option<TypeRef>) {
        self.set_with(s, name, || key(name), value, ty)
    }

    /// [`set_in`](Self::set_in) with the name as the syntax tree holds
    /// it (a new variable shares its text instead of copying it).
    pub fn set_named(&mut self, s: usize, name: &Arc<str>, value: Value, ty: Option<TypeRef>) {
        self.set_with(s, name, || name.clone(), value, ty)
    }

    fn set_with(&mut self, s: usize, name: &str, new_key: impl FnOnce() -> Arc<str>, value: Value, ty: Option<TypeRef>) {
        let scope = self.get_mut(s);
        match scope.vars.get_mut(name) {
            Some(v) => {
                v.value = value;
                if ty.is_some() {
                    v.ty = ty;
                }
            }
            None => {
                scope.vars.insert(new_key(), Var { value, ty });
            }
        }
    }

    /// Remove `name` from scope `s`.
    pub fn remove_in(&mut self, s: usize, name: &str) -> bool {
        self.get_mut(s).vars.remove(name).is_some()
    }

    /// A function by folded name, from the current scope upwards.
    pub fn function(&self, name: &str) -> Option<Rc<Function>> {
        let mut i = Some(self.current);
        while let Some(s) = i {
            let scope = self.get(s);
            if let Some(f) = scope.funcs.get(name) {
                return Some(f.clone());
            }
            i = scope.parent;
        }
        None
    }

    pub fn define_function(&mut self, s: usize, name: &str, f: Rc<Function>) {
        self.get_mut(s).funcs.insert(name.into(), f);
    }

    /// Names of the variables visible from the current scope.
    pub fn visible_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut i = Some(self.current);
        while let Some(s) = i {
            let scope = self.get(s);
            for k in scope.vars.keys() {
                if !out.iter().any(|o| o == &**k) {
                    out.push(k.to_string());
                }
            }
            i = scope.parent;
        }
        out
    }
}

/// A variable name as a table key: the automatic variables the engine
/// sets on every call or pipeline item share one copy per thread.
fn key(name: &str) -> Arc<str> {
    thread_local! {
        static COMMON: Vec<Arc<str>> = ["_", "args", "input", "psboundparameters", "matches", "this", "erroractionpreference"].into_iter().map(Arc::from).collect();
    }
    COMMON.with(|c| c.iter().find(|k| &***k == name).cloned()).unwrap_or_else(|| Arc::from(name))
}
