//! A recursive-descent parser for the C# subset the lab compiles: `using`
//! directives, namespaces, classes and structs with attributes, constants,
//! fields, methods (`extern` ones with `[DllImport]`), and the statements
//! and expressions of C# 2.0 that helper classes use. What it does not
//! know is a compile error naming the line, never a guess.

use super::ast::*;
use super::lex::{Tok, Token};

pub struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

type P<T> = Result<T, String>;

const MODIFIERS: &[&str] = &["public", "private", "internal", "protected", "static", "extern", "const", "readonly", "unsafe", "sealed", "partial", "override", "virtual", "new"];

impl Parser {
    pub fn new(toks: Vec<Token>) -> Parser {
        Parser { toks, pos: 0 }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn line(&self) -> u32 {
        self.toks[self.pos].line
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn err<T>(&self, what: &str) -> P<T> {
        Err(format!("({}): {what}", self.line()))
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    /// Move past the token when `yes`.
    fn take(&mut self, yes: bool) -> bool {
        if yes {
            self.bump();
        }
        yes
    }
    fn eat(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        self.take(yes)
    }
    fn expect(&mut self, p: &str) -> P<()> {
        if self.eat(p) { Ok(()) } else { self.err(&format!("{p} expected")) }
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        self.take(yes)
    }
    fn ident(&mut self) -> P<String> {
        match self.bump() {
            Tok::Ident(s) => Ok(s),
            _ => {
                self.pos -= 1;
                self.err("identifier expected")
            }
        }
    }
    /// `A.B.C`.
    fn dotted(&mut self) -> P<String> {
        let mut s = self.ident()?;
        while self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            s.push('.');
            s.push_str(&self.ident()?);
        }
        Ok(s)
    }

    pub fn unit(&mut self) -> P<Unit> {
        let mut usings = Vec::new();
        let mut types = Vec::new();
        while self.eat_word("using") {
            usings.push(self.dotted()?);
            self.expect(";")?;
        }
        self.declarations("", &mut types)?;
        if !matches!(self.peek(), Tok::Eof) {
            return self.err("type or namespace definition, or end-of-file expected");
        }
        Ok(Unit { usings, types })
    }

    fn declarations(&mut self, ns: &str, types: &mut Vec<TypeDecl>) -> P<()> {
        loop {
            if self.eat_word("namespace") {
                let name = self.dotted()?;
                let full = if ns.is_empty() { name } else { format!("{ns}.{name}") };
                self.expect("{")?;
                self.declarations(&full, types)?;
                self.expect("}")?;
                continue;
            }
            if matches!(self.peek(), Tok::Eof) || self.is_punct("}") {
                return Ok(());
            }
            let attrs = self.attributes()?;
            let mods = self.modifiers();
            types.push(self.type_decl(ns, &attrs, &mods)?);
        }
    }

    fn attributes(&mut self) -> P<Vec<Attribute>> {
        let mut out = Vec::new();
        while self.eat("[") {
            loop {
                let name = self.dotted()?;
                let (mut args, mut named) = (Vec::new(), Vec::new());
                if self.eat("(") {
                    while !self.eat(")") {
                        if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Punct("=")) {
                            let n = self.ident()?;
                            self.bump();
                            named.push((n, self.expr()?));
                        } else {
                            args.push(self.expr()?);
                        }
                        if !self.eat(",") {
                            self.expect(")")?;
                            break;
                        }
                    }
                }
                out.push(Attribute { name, args, named });
                if !self.eat(",") {
                    break;
                }
            }
            self.expect("]")?;
        }
        Ok(out)
    }

    fn modifiers(&mut self) -> Vec<String> {
        let mut m = Vec::new();
        while let Tok::Ident(s) = self.peek() {
            if MODIFIERS.contains(&s.as_str()) {
                m.push(s.clone());
                self.bump();
            } else {
                break;
            }
        }
        m
    }

    fn type_decl(&mut self, ns: &str, _attrs: &[Attribute], mods: &[String]) -> P<TypeDecl> {
        let is_struct = if self.eat_word("class") {
            false
        } else if self.eat_word("struct") {
            true
        } else {
            return self.err("the cauterize lab's C# compiler knows classes and structs only");
        };
        let name = self.ident()?;
        if self.eat(":") {
            self.dotted()?;
            while self.eat(",") {
                self.dotted()?;
            }
        }
        self.expect("{")?;
        let mut decl = TypeDecl { namespace: ns.to_string(), name, is_struct, public: mods.iter().any(|m| m == "public"), fields: Vec::new(), methods: Vec::new(), nested: Vec::new() };
        while !self.eat("}") {
            let attrs = self.attributes()?;
            let line = self.line();
            let mods = self.modifiers();
            if self.is_word("class") || self.is_word("struct") {
                let nested_ns = decl.full_name();
                let mut t = self.type_decl("", &attrs, &mods)?;
                t.namespace = nested_ns;
                decl.nested.push(t);
                continue;
            }
            let has = |m: &str| mods.iter().any(|x| x == m);
            let ty = self.type_expr()?;
            if self.is_punct("(") {
                return self.err("the cauterize lab's C# compiler does not compile constructors");
            }
            let name = self.ident()?;
            if self.eat("(") {
                let params = self.params()?;
                let body = if has("extern") {
                    self.expect(";")?;
                    None
                } else {
                    Some(self.block()?)
                };
                let import = if has("extern") { Some(import_of(&attrs).ok_or_else(|| format!("({line}): an extern method needs [DllImport]"))?) } else { None };
                decl.methods.push(Method { name, public: has("public"), is_static: has("static") || has("const"), ret: ty, params, body, import, line });
                continue;
            }
            let mut first = Some(name);
            loop {
                let n = match first.take() {
                    Some(n) => n,
                    None => self.ident()?,
                };
                let init = if self.eat("=") { Some(self.expr()?) } else { None };
                decl.fields.push(Field { name: n, ty: ty.clone(), public: has("public"), is_const: has("const"), is_static: has("static") || has("const"), init });
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(";")?;
        }
        Ok(decl)
    }

    fn params(&mut self) -> P<Vec<Param>> {
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        loop {
            self.attributes()?;
            let mode = if self.eat_word("out") {
                ParamMode::Out
            } else if self.eat_word("ref") {
                ParamMode::Ref
            } else {
                ParamMode::Value
            };
            let ty = self.type_expr()?;
            let name = self.ident()?;
            out.push(Param { mode, ty, name });
            if !self.eat(",") {
                self.expect(")")?;
                return Ok(out);
            }
        }
    }

    fn type_expr(&mut self) -> P<TypeExpr> {
        let name = self.dotted()?;
        if self.is_punct("<") {
            return self.err("the cauterize lab's C# compiler does not compile generic types");
        }
        let array = if self.is_punct("[") && matches!(self.peek_at(1), Tok::Punct("]")) {
            self.bump();
            self.bump();
            true
        } else {
            false
        };
        Ok(TypeExpr { name, array })
    }

    /// A type followed by a name (a local declaration), without moving
    /// when it is not one.
    fn try_local_type(&mut self) -> Option<TypeExpr> {
        let save = self.pos;
        if let Ok(t) = self.type_expr()
            && matches!(self.peek(), Tok::Ident(_))
            && matches!(self.peek_at(1), Tok::Punct("=" | ";" | ","))
        {
            return Some(t);
        }
        self.pos = save;
        None
    }

    fn block(&mut self) -> P<Vec<Stmt>> {
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.eat("}") {
            if matches!(self.peek(), Tok::Eof) {
                return self.err("} expected");
            }
            out.push(self.stmt()?);
        }
        Ok(out)
    }

    fn stmt(&mut self) -> P<Stmt> {
        if self.is_punct("{") {
            return Ok(Stmt::Block(self.block()?));
        }
        if self.eat(";") {
            return Ok(Stmt::Empty);
        }
        if self.eat_word("if") {
            self.expect("(")?;
            let c = self.expr()?;
            self.expect(")")?;
            let then = Box::new(self.stmt()?);
            let els = if self.eat_word("else") { Some(Box::new(self.stmt()?)) } else { None };
            return Ok(Stmt::If(c, then, els));
        }
        if self.eat_word("return") {
            let v = if self.is_punct(";") { None } else { Some(self.expr()?) };
            self.expect(";")?;
            return Ok(Stmt::Return(v));
        }
        if self.eat_word("throw") {
            let v = if self.is_punct(";") { None } else { Some(self.expr()?) };
            self.expect(";")?;
            return Ok(Stmt::Throw(v));
        }
        if self.eat_word("break") {
            self.expect(";")?;
            return Ok(Stmt::Break);
        }
        if self.eat_word("continue") {
            self.expect(";")?;
            return Ok(Stmt::Continue);
        }
        if self.eat_word("try") {
            let body = self.block()?;
            let mut catches = Vec::new();
            while self.eat_word("catch") {
                let (mut ty, mut var) = (None, None);
                if self.eat("(") {
                    ty = Some(self.type_expr()?);
                    if let Tok::Ident(_) = self.peek() {
                        var = Some(self.ident()?);
                    }
                    self.expect(")")?;
                }
                catches.push((ty, var, self.block()?));
            }
            let finally = if self.eat_word("finally") { Some(self.block()?) } else { None };
            if catches.is_empty() && finally.is_none() {
                return self.err("catch or finally expected");
            }
            return Ok(Stmt::Try(body, catches, finally));
        }
        if self.eat_word("foreach") {
            self.expect("(")?;
            let ty = self.type_expr()?;
            let name = self.ident()?;
            if !self.eat_word("in") {
                return self.err("in expected");
            }
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(Stmt::Foreach(ty, name, e, Box::new(self.stmt()?)));
        }
        if self.eat_word("while") {
            self.expect("(")?;
            let c = self.expr()?;
            self.expect(")")?;
            return Ok(Stmt::While(c, Box::new(self.stmt()?)));
        }
        if self.eat_word("for") {
            self.expect("(")?;
            let init = if self.is_punct(";") { None } else { Some(Box::new(self.simple_stmt()?)) };
            self.expect(";")?;
            let cond = if self.is_punct(";") { None } else { Some(self.expr()?) };
            self.expect(";")?;
            let mut step = Vec::new();
            while !self.eat(")") {
                step.push(self.expr()?);
                if !self.eat(",") {
                    self.expect(")")?;
                    break;
                }
            }
            return Ok(Stmt::For(init, cond, step, Box::new(self.stmt()?)));
        }
        let s = self.simple_stmt()?;
        self.expect(";")?;
        Ok(s)
    }

    /// A local declaration or an expression (no `;`).
    fn simple_stmt(&mut self) -> P<Stmt> {
        if let Some(ty) = self.try_local_type() {
            let mut vars = Vec::new();
            loop {
                let n = self.ident()?;
                let init = if self.eat("=") { Some(self.expr()?) } else { None };
                vars.push((n, init));
                if !self.eat(",") {
                    break;
                }
            }
            return Ok(Stmt::Local(ty, vars));
        }
        Ok(Stmt::Expr(self.expr()?))
    }

    pub fn expr(&mut self) -> P<Expr> {
        let lhs = self.conditional()?;
        for op in ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="] {
            if self.is_punct(op) {
                self.bump();
                let rhs = self.expr()?;
                let bin: &'static str = match op {
                    "=" => "=",
                    "+=" => "+",
                    "-=" => "-",
                    "*=" => "*",
                    "/=" => "/",
                    "%=" => "%",
                    "&=" => "&",
                    "|=" => "|",
                    "^=" => "^",
                    "<<=" => "<<",
                    _ => ">>",
                };
                return Ok(Expr::Assign(bin, Box::new(lhs), Box::new(rhs)));
            }
        }
        Ok(lhs)
    }

    fn conditional(&mut self) -> P<Expr> {
        let c = self.binary(0)?;
        if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    fn binary(&mut self, level: usize) -> P<Expr> {
        const LEVELS: &[&[&str]] = &[&["||"], &["&&"], &["|"], &["^"], &["&"], &["==", "!="], &["<", ">", "<=", ">="], &["<<", ">>"], &["+", "-"], &["*", "/", "%"]];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            if level == 6 && (self.is_word("is") || self.is_word("as")) {
                let is = self.is_word("is");
                self.bump();
                let t = self.type_expr()?;
                lhs = if is { Expr::Is(Box::new(lhs), t) } else { Expr::As(Box::new(lhs), t) };
                continue;
            }
            let Some(op) = LEVELS[level].iter().find(|o| self.is_punct(o)) else { return Ok(lhs) };
            self.bump();
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> P<Expr> {
        for op in ["!", "~", "-", "+"] {
            if self.is_punct(op) {
                self.bump();
                let e = self.unary()?;
                return Ok(Expr::Unary(op, Box::new(e)));
            }
        }
        if self.eat("++") {
            return Ok(Expr::Step(Box::new(self.unary()?), 1, true));
        }
        if self.eat("--") {
            return Ok(Expr::Step(Box::new(self.unary()?), -1, true));
        }
        // `(T)x`: a type in parentheses followed by what starts an operand.
        if self.is_punct("(") {
            let save = self.pos;
            self.bump();
            if let Ok(t) = self.type_expr()
                && self.eat(")")
                && (matches!(self.peek(), Tok::Ident(_) | Tok::Int { .. } | Tok::Str(_) | Tok::Char(_)) || self.is_punct("(") || self.is_punct("~") || self.is_punct("!"))
            {
                let e = self.unary()?;
                return Ok(Expr::Cast(t, Box::new(e)));
            }
            self.pos = save;
        }
        self.postfix()
    }

    fn args(&mut self) -> P<Vec<Arg>> {
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        loop {
            let mode = if self.eat_word("out") {
                ParamMode::Out
            } else if self.eat_word("ref") {
                ParamMode::Ref
            } else {
                ParamMode::Value
            };
            out.push(Arg { mode, expr: self.expr()? });
            if !self.eat(",") {
                self.expect(")")?;
                return Ok(out);
            }
        }
    }

    fn postfix(&mut self) -> P<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat(".") {
                let n = self.ident()?;
                e = Expr::Member(Box::new(e), n);
            } else if self.eat("(") {
                e = Expr::Call(Box::new(e), self.args()?);
            } else if self.eat("[") {
                let i = self.expr()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else if self.eat("++") {
                e = Expr::Step(Box::new(e), 1, false);
            } else if self.eat("--") {
                e = Expr::Step(Box::new(e), -1, false);
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> P<Expr> {
        match self.bump() {
            Tok::Int { value, unsigned, long } => Ok(Expr::Int { value, unsigned, long }),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Char(c) => Ok(Expr::Char(c)),
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "null" => Ok(Expr::Null),
                "typeof" => {
                    self.expect("(")?;
                    let t = self.type_expr()?;
                    self.expect(")")?;
                    Ok(Expr::TypeOf(t))
                }
                "new" => {
                    let name = self.dotted()?;
                    if self.eat("[") {
                        let n = self.expr()?;
                        self.expect("]")?;
                        return Ok(Expr::NewArray(TypeExpr { name, array: false }, Box::new(n)));
                    }
                    self.expect("(")?;
                    Ok(Expr::New(TypeExpr { name, array: false }, self.args()?))
                }
                _ => Ok(Expr::Name(w)),
            },
            _ => {
                self.pos -= 1;
                self.err("invalid expression term")
            }
        }
    }
}

/// `[DllImport("kernel32.dll", SetLastError = true, EntryPoint = "X")]`.
fn import_of(attrs: &[Attribute]) -> Option<Import> {
    let a = attrs.iter().find(|a| a.name == "DllImport" || a.name.ends_with(".DllImport") || a.name == "DllImportAttribute")?;
    let Some(Expr::Str(dll)) = a.args.first() else { return None };
    let mut imp = Import { dll: dll.clone(), entry: String::new(), set_last_error: false };
    for (n, v) in &a.named {
        match (n.as_str(), v) {
            ("EntryPoint", Expr::Str(s)) => imp.entry = s.clone(),
            ("SetLastError", Expr::Bool(b)) => imp.set_last_error = *b,
            _ => {}
        }
    }
    Some(imp)
}
