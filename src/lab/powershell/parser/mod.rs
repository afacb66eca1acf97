//! A hand-written recursive-descent parser for PowerShell, as PowerShell's
//! own parser is (System.Management.Automation.Language.Parser): it reads
//! statements, and switches between expression mode (`$a -eq 1`) and
//! argument mode (`Get-Item -Path C:\x`) by context, the way PowerShell's
//! tokenizer does. Errors carry PowerShell's messages and error ids
//! (`TerminatorExpectedAtEndOfString`, `MissingEndCurlyBrace`, ...) and the
//! offset PowerShell reports them at.
//!
//! Parts: [`lex`] (characters, trivia, numbers), this file (script blocks
//! and statements), `expr` (expressions, strings), `command` (commands and
//! their arguments).

mod command;
mod expr;
pub mod lex;

use std::sync::Arc;

use super::ast::*;
use lex::Cursor;

/// A syntax error, as PowerShell's ParseError: where, what, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub id: &'static str,
}

pub type PResult<T> = Result<T, ParseError>;

/// Deepest nesting the parser follows (hostile input cannot overflow the
/// stack; PowerShell itself gives up far deeper, at its own stack limit).
const MAX_DEPTH: u32 = 256;

pub struct Parser<'s> {
    pub(crate) c: Cursor<'s>,
    pub(crate) source: Source,
    depth: u32,
    /// A `trap` just parsed, for the statement list to collect.
    pending_trap: Option<Trap>,
}

/// Parse a whole script into a script block.
pub fn parse_script(source: Source) -> PResult<Arc<ScriptBlockAst>> {
    let src: &str = &source;
    let mut p = Parser { c: Cursor::new(src), source: source.clone(), depth: 0, pending_trap: None };
    let block = p.script_block_body(None, 0)?;
    Ok(Arc::new(block))
}

/// Parse the statements of a script from byte `start` to the end (the rest
/// of a script whose beginning was parsed before; see `cache`).
pub fn parse_statements_from(source: Source, start: usize) -> PResult<Block> {
    let src: &str = &source;
    let mut p = Parser { c: Cursor { src, pos: start }, source: source.clone(), depth: 0, pending_trap: None };
    p.statement_list(None)
}

/// Where each top-level statement of a script starts and where its first
/// token ends (for the parse cache: a statement boundary is safe to split
/// at only when the next statement's first token is fully read).
pub fn top_level_marks(block: &ScriptBlockAst) -> Option<Vec<(u32, u32)>> {
    if !block.params.is_empty() || block.begin.is_some() || block.process.is_some() {
        return None;
    }
    let end = block.end.as_ref()?;
    if !end.traps.is_empty() {
        return None;
    }
    Some(end.statements.iter().map(|s| (s.span.start, s.span.end)).collect())
}

impl<'s> Parser<'s> {
    pub(crate) fn err(&self, offset: usize, len: usize, message: impl Into<String>, id: &'static str) -> ParseError {
        ParseError { offset, len, message: message.into(), id }
    }

    /// "Unexpected token 'x' in expression or statement." at the cursor.
    pub(crate) fn unexpected(&self) -> ParseError {
        let mut probe = self.c;
        let start = probe.pos;
        let tok = token_text(&mut probe);
        self.err(
            start,
            tok.len().max(1),
            format!("Unexpected token '{tok}' in expression or statement."),
            "UnexpectedToken",
        )
    }

    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(self.c.pos, 1, "The script is nested too deeply to parse.", "ScriptTooComplicated"));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- script blocks ----

    /// The inside of a script block up to `close` (`}`), or to the end of
    /// the text for a whole script. `open` is the offset after `{`.
    pub(crate) fn script_block_body(&mut self, close: Option<char>, open: usize) -> PResult<ScriptBlockAst> {
        self.enter()?;
        let start = self.c.pos;
        let mut cmdlet_binding = false;
        let mut params = Vec::new();
        // [CmdletBinding()] and other attributes, then param(...).
        let save = self.c;
        self.c.skip_trivia(true);
        let mut attrs_seen = false;
        while self.c.peek() == Some('[') {
            let attr_start = self.c.pos;
            let name = self.attribute_name()?;
            match name {
                Some(n) => {
                    attrs_seen = true;
                    if n.eq_ignore_ascii_case("cmdletbinding") {
                        cmdlet_binding = true;
                    }
                    self.c.skip_trivia(true);
                }
                None => {
                    self.c.pos = attr_start;
                    break;
                }
            }
        }
        if self.c.at_keyword("param") {
            let mut probe = self.c;
            probe.pos += 5;
            probe.skip_trivia(true);
            if probe.peek() == Some('(') {
                self.c = probe;
                self.c.bump();
                params = self.param_list(')')?;
                if !params.is_empty() && cmdlet_binding {
                    // nothing more to record
                }
            } else if attrs_seen {
                return Err(self.unexpected());
            } else {
                self.c = save;
            }
        } else if attrs_seen {
            self.c = save;
            cmdlet_binding = false;
        } else {
            self.c = save;
        }
        // Named blocks?
        let mut probe = self.c;
        probe.skip_trivia(true);
        let named = ["begin", "process", "end", "dynamicparam"].iter().any(|kw| {
            if !probe.at_keyword(kw) {
                return false;
            }
            let mut q = probe;
            q.pos += kw.len();
            q.skip_trivia(true);
            q.peek() == Some('{')
        });
        let (mut begin, mut process, mut end) = (None, None, None);
        if named {
            loop {
                self.c.skip_trivia(true);
                while self.c.eat(';') {
                    self.c.skip_trivia(true);
                }
                if self.c.at_end() || Some(self.c.peek().unwrap_or('\0')) == close {
                    break;
                }
                let kw_start = self.c.pos;
                let kw = self.c.word_ahead().to_ascii_lowercase();
                if !matches!(kw.as_str(), "begin" | "process" | "end" | "dynamicparam") {
                    return Err(self.unexpected());
                }
                self.c.pos += kw.len();
                self.c.skip_trivia(true);
                if !self.c.eat('{') {
                    return Err(self.err(kw_start, kw.len(), format!("Missing statement block after '{kw}'."), "MissingNamedStatementBlock"));
                }
                let block = self.block_after_brace(kw_start)?;
                match kw.as_str() {
                    "begin" => begin = Some(block),
                    "process" => process = Some(block),
                    "end" => end = Some(block),
                    _ => {
                        return Err(self.err(kw_start, kw.len(), "The lab's PowerShell engine does not support dynamicparam.", "DynamicParamNotSupported"));
                    }
                }
            }
        } else {
            end = Some(self.statement_list(close)?);
        }
        let body_end = self.c.pos;
        if let Some(cl) = close {
            if !self.c.eat(cl) {
                return Err(self.err(open.saturating_sub(1), 1, "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace"));
            }
        } else if !self.c.at_end() {
            return Err(self.unexpected());
        }
        self.leave();
        Ok(ScriptBlockAst {
            span: Span::new(open.saturating_sub(close.map_or(0, |_| 1)), self.c.pos),
            source: self.source.clone(),
            params,
            cmdlet_binding,
            begin,
            process,
            end,
            body_span: Span::new(start, body_end),
            reads: Default::default(),
        })
    }

    /// `{ statements }` after its `{` (at `open`), consuming the `}`.
    pub(crate) fn block_after_brace(&mut self, open: usize) -> PResult<Block> {
        let block = self.statement_list(Some('}'))?;
        if !self.c.eat('}') {
            return Err(self.err(open, 1, "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace"));
        }
        Ok(block)
    }

    /// `{ ... }` for a statement that requires one; `after` names the
    /// statement for the error.
    pub(crate) fn required_block(&mut self, after: &str, at: usize) -> PResult<Block> {
        self.c.skip_trivia(true);
        let open = self.c.pos;
        if !self.c.eat('{') {
            return Err(self.err(at, self.c.pos.saturating_sub(at).max(1), format!("Missing statement block after {after}."), "MissingStatementBlock"));
        }
        self.block_after_brace(open)
    }

    /// Statements up to `close` (not consumed) or the end of the text.
    pub(crate) fn statement_list(&mut self, close: Option<char>) -> PResult<Block> {
        self.enter()?;
        let mut block = Block::default();
        let mut traps = Vec::new();
        loop {
            self.c.skip_trivia(true);
            while self.c.eat(';') {
                self.c.skip_trivia(true);
            }
            let Some(ch) = self.c.peek() else { break };
            if Some(ch) == close {
                break;
            }
            if matches!(ch, ')' | '}') {
                if close.is_none() || close == Some(')') || close == Some('}') {
                    return Err(self.unexpected());
                }
            }
            let stmt = self.statement()?;
            match stmt.kind {
                StmtKind::TrapDecl => traps.extend(self.pending_trap.take()),
                _ => block.statements.push(stmt),
            }
            // A statement ends at a newline, `;`, a closer or the end.
            self.c.skip_trivia(false);
            match self.c.peek() {
                None | Some('\n') | Some('\r') | Some(';') => {}
                Some(c) if Some(c) == close || c == '}' || c == ')' => {}
                Some(_) => return Err(self.unexpected()),
            }
        }
        self.leave();
        block.traps = Arc::new(traps);
        Ok(block)
    }

    // ---- statements ----

    pub(crate) fn statement(&mut self) -> PResult<Stmt> {
        let start = self.c.pos;
        // `:label` before a loop.
        let mut label = None;
        if self.c.peek() == Some(':') && self.c.peek_n(1).is_some_and(lex::is_var_char) {
            self.c.bump();
            let name = self.c.take_while(lex::is_var_char);
            label = Some(Box::<str>::from(name.to_lowercase()));
            self.c.skip_trivia(true);
        }
        let kw = self.c.word_ahead().to_ascii_lowercase();
        let is_kw = |k: &str| kw == k && self.c.at_keyword(k);
        let kind = if is_kw("if") {
            self.if_statement()?
        } else if is_kw("while") {
            self.c.pos += 5;
            let cond = self.paren_condition("while", start)?;
            let body = self.required_block("while ( condition )", start)?;
            StmtKind::While { label, cond, body }
        } else if is_kw("do") {
            self.do_statement(label, start)?
        } else if is_kw("for") {
            self.for_statement(label, start)?
        } else if is_kw("foreach") {
            self.foreach_statement(label, start)?
        } else if is_kw("switch") {
            self.switch_statement(label, start)?
        } else if is_kw("function") || is_kw("filter") {
            self.function_statement(kw == "filter", start)?
        } else if is_kw("return") {
            self.c.pos += 6;
            StmtKind::Return(self.optional_pipeline()?)
        } else if is_kw("throw") {
            self.c.pos += 5;
            StmtKind::Throw(self.optional_pipeline()?)
        } else if is_kw("exit") {
            self.c.pos += 4;
            StmtKind::Exit(self.optional_pipeline()?)
        } else if is_kw("break") || is_kw("continue") {
            self.c.pos += kw.len();
            self.c.skip_trivia(false);
            let target = match self.c.peek() {
                None | Some('\n' | '\r' | ';' | '}' | ')') => None,
                Some(_) => Some(self.command_word_or_expr()?),
            };
            if kw == "break" { StmtKind::Break(target) } else { StmtKind::Continue(target) }
        } else if is_kw("try") {
            self.try_statement(start)?
        } else if is_kw("trap") {
            self.trap_statement(start)?
        } else if ["class", "enum", "using", "workflow", "configuration", "data", "dynamicparam", "param"].iter().any(|k| is_kw(k)) {
            return Err(self.err(start, kw.len(), format!("The lab's PowerShell engine does not support the '{kw}' statement."), "StatementNotSupported"));
        } else {
            return self.pipeline_statement();
        };
        Ok(Stmt { span: Span::new(start, self.c.pos), kind })
    }

    /// The optional pipeline after `return`, `throw`, `exit`.
    fn optional_pipeline(&mut self) -> PResult<Option<Pipeline>> {
        self.c.skip_trivia(false);
        match self.c.peek() {
            None | Some('\n' | '\r' | ';' | '}' | ')') => Ok(None),
            Some(_) => Ok(Some(self.pipeline_of_statement()?)),
        }
    }

    /// A pipeline or assignment statement, as a pipeline (an assignment
    /// becomes `( assignment )`, which has the assigned value).
    pub(crate) fn pipeline_of_statement(&mut self) -> PResult<Pipeline> {
        let stmt = self.pipeline_statement()?;
        Ok(match stmt.kind {
            StmtKind::Pipeline(p) => p,
            other => {
                let span = stmt.span;
                let inner = Stmt { span, kind: other };
                Pipeline { span, elements: vec![Element::Expr(Expr { span, kind: ExprKind::Paren(Box::new(inner)) }, Vec::new())] }
            }
        })
    }

    /// `( pipeline )` after a keyword.
    fn paren_condition(&mut self, kw: &str, start: usize) -> PResult<Pipeline> {
        self.c.skip_trivia(true);
        if !self.c.eat('(') {
            return Err(self.err(self.c.pos, 1, format!("Missing opening '(' after keyword '{kw}'."), "MissingOpenParenthesisAfterKeyword"));
        }
        self.c.skip_trivia(true);
        if self.c.peek() == Some(')') {
            return Err(self.err(start, self.c.pos - start + 1, format!("Missing condition in {kw} statement after '{kw} ('."), "MissingConditionInStatement"));
        }
        let p = self.pipeline_of_statement()?;
        self.c.skip_trivia(true);
        if !self.c.eat(')') {
            return Err(self.err(self.c.pos, 1, format!("Missing closing ')' after expression in '{kw}' statement."), "MissingEndParenthesisAfterStatement"));
        }
        Ok(p)
    }

    fn if_statement(&mut self) -> PResult<StmtKind> {
        let start = self.c.pos;
        self.c.pos += 2;
        let mut clauses = Vec::new();
        let cond = self.paren_condition("if", start)?;
        let body = self.required_block("if ( condition )", start)?;
        clauses.push((cond, body));
        let mut else_ = None;
        loop {
            let save = self.c;
            self.c.skip_trivia(true);
            if self.c.at_keyword("elseif") {
                let at = self.c.pos;
                self.c.pos += 6;
                let cond = self.paren_condition("elseif", at)?;
                let body = self.required_block("elseif ( condition )", at)?;
                clauses.push((cond, body));
            } else if self.c.at_keyword("else") {
                let at = self.c.pos;
                self.c.pos += 4;
                else_ = Some(self.required_block("else", at)?);
                break;
            } else {
                self.c = save;
                break;
            }
        }
        Ok(StmtKind::If { clauses, else_ })
    }

    fn do_statement(&mut self, label: Option<Box<str>>, start: usize) -> PResult<StmtKind> {
        self.c.pos += 2;
        let body = self.required_block("do", start)?;
        self.c.skip_trivia(true);
        let until = if self.c.at_keyword("while") {
            self.c.pos += 5;
            false
        } else if self.c.at_keyword("until") {
            self.c.pos += 5;
            true
        } else {
            return Err(self.err(self.c.pos, 1, "Missing while or until keyword in do loop.", "MissingWhileOrUntilInDoWhile"));
        };
        let cond = self.paren_condition(if until { "until" } else { "while" }, start)?;
        Ok(StmtKind::DoWhile { label, body, cond, until })
    }

    fn for_statement(&mut self, label: Option<Box<str>>, start: usize) -> PResult<StmtKind> {
        self.c.pos += 3;
        self.c.skip_trivia(true);
        if !self.c.eat('(') {
            return Err(self.err(self.c.pos, 1, "Missing opening '(' after keyword 'for'.", "MissingOpenParenthesisAfterKeyword"));
        }
        let part = |p: &mut Self, end: char| -> PResult<Option<Stmt>> {
            p.c.skip_trivia(true);
            if p.c.peek() == Some(end) || (end == ';' && p.c.peek() == Some(')')) {
                return Ok(None);
            }
            Ok(Some(p.pipeline_statement()?))
        };
        let init = part(self, ';')?;
        self.c.skip_trivia(true);
        self.c.eat(';');
        let cond = part(self, ';')?.map(|s| stmt_as_pipeline(s));
        self.c.skip_trivia(true);
        self.c.eat(';');
        let step = part(self, ')')?;
        self.c.skip_trivia(true);
        if !self.c.eat(')') {
            return Err(self.err(self.c.pos, 1, "Missing closing ')' after expression in 'for' statement.", "MissingEndParenthesisAfterStatement"));
        }
        let body = self.required_block("for ( ... )", start)?;
        Ok(StmtKind::For { label, init: init.map(Box::new), cond, step: step.map(Box::new), body })
    }

    fn foreach_statement(&mut self, label: Option<Box<str>>, start: usize) -> PResult<StmtKind> {
        self.c.pos += 7;
        self.c.skip_trivia(true);
        if !self.c.eat('(') {
            return Err(self.err(self.c.pos, 1, "Missing opening '(' after keyword 'foreach'.", "MissingOpenParenthesisAfterKeyword"));
        }
        self.c.skip_trivia(true);
        if self.c.peek() != Some('$') {
            return Err(self.err(self.c.pos, 1, "Missing variable name after foreach.", "MissingVariableNameAfterForeach"));
        }
        let var_expr = self.variable()?;
        let ExprKind::Var(var) = var_expr.kind else {
            return Err(self.err(var_expr.span.start as usize, 1, "Missing variable name after foreach.", "MissingVariableNameAfterForeach"));
        };
        self.c.skip_trivia(true);
        if !self.c.at_keyword("in") {
            return Err(self.err(self.c.pos, 1, "Missing 'in' after variable in foreach loop.", "MissingInInForeach"));
        }
        self.c.pos += 2;
        self.c.skip_trivia(true);
        let input = self.pipeline_of_statement()?;
        self.c.skip_trivia(true);
        if !self.c.eat(')') {
            return Err(self.err(self.c.pos, 1, "Missing closing ')' after expression in 'foreach' statement.", "MissingEndParenthesisAfterStatement"));
        }
        let body = self.required_block("foreach ( ... )", start)?;
        Ok(StmtKind::Foreach { label, var, input, body })
    }

    fn switch_statement(&mut self, label: Option<Box<str>>, start: usize) -> PResult<StmtKind> {
        self.c.pos += 6;
        let (mut regex, mut wildcard, mut exact, mut case_sensitive) = (false, false, false, false);
        loop {
            self.c.skip_trivia(true);
            if self.c.peek().is_some_and(lex::is_dash) {
                let at = self.c.pos;
                self.c.bump();
                let flag = self.c.take_while(lex::is_var_char).to_ascii_lowercase();
                match flag.as_str() {
                    "regex" => regex = true,
                    "wildcard" => wildcard = true,
                    "exact" => exact = true,
                    "casesensitive" => case_sensitive = true,
                    _ => return Err(self.err(at, flag.len() + 1, format!("The lab's PowerShell engine does not support the switch option '-{flag}'."), "InvalidSwitchFlag")),
                }
            } else {
                break;
            }
        }
        let input = self.paren_condition("switch", start)?;
        self.c.skip_trivia(true);
        let open = self.c.pos;
        if !self.c.eat('{') {
            return Err(self.err(start, self.c.pos - start, "Missing opening '{' in switch statement.", "MissingCurlyBraceInSwitchStatement"));
        }
        let mut clauses = Vec::new();
        let mut default = None;
        loop {
            self.c.skip_trivia(true);
            while self.c.eat(';') {
                self.c.skip_trivia(true);
            }
            match self.c.peek() {
                None => return Err(self.err(open, 1, "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace")),
                Some('}') => {
                    self.c.bump();
                    break;
                }
                _ => {}
            }
            let clause_start = self.c.pos;
            if self.c.at_keyword("default") {
                let mut probe = self.c;
                probe.pos += 7;
                probe.skip_trivia(true);
                if probe.peek() == Some('{') {
                    self.c = probe;
                    let o = self.c.pos;
                    self.c.bump();
                    default = Some(self.block_after_brace(o)?);
                    continue;
                }
            }
            let pattern = self.switch_pattern()?;
            self.c.skip_trivia(true);
            let o = self.c.pos;
            if !self.c.eat('{') {
                return Err(self.err(clause_start, self.c.pos - clause_start, "Missing statement block in switch statement clause.", "MissingSwitchStatementClause"));
            }
            clauses.push((pattern, self.block_after_brace(o)?));
        }
        Ok(StmtKind::Switch(Box::new(Switch { label, regex, wildcard, exact, case_sensitive, input, clauses, default })))
    }

    fn function_statement(&mut self, filter: bool, start: usize) -> PResult<StmtKind> {
        self.c.pos += if filter { 6 } else { 8 };
        self.c.skip_trivia(true);
        let name_start = self.c.pos;
        let name = self.bare_word_text()?;
        if name.is_empty() {
            return Err(self.err(name_start, 1, "Missing name after function keyword.", "MissingNameAfterKeyword"));
        }
        self.c.skip_trivia(true);
        let mut params = Vec::new();
        if self.c.eat('(') {
            params = self.param_list(')')?;
            self.c.skip_trivia(true);
        }
        let open = self.c.pos;
        if !self.c.eat('{') {
            return Err(self.err(start, self.c.pos - start, "Missing function body in function declaration.", "MissingFunctionBody"));
        }
        let mut body = self.script_block_body(Some('}'), open + 1)?;
        if !params.is_empty() {
            if !body.params.is_empty() {
                return Err(self.err(start, 8, "A function cannot have both a parameter list and a param block.", "OnlyOneParameterListAllowed"));
            }
            body.params = params;
        }
        Ok(StmtKind::Function { name: Name::new(&name), filter, body: Arc::new(body) })
    }

    fn try_statement(&mut self, start: usize) -> PResult<StmtKind> {
        self.c.pos += 3;
        let body = self.required_block("try", start)?;
        let mut catches = Vec::new();
        let mut finally = None;
        loop {
            let save = self.c;
            self.c.skip_trivia(true);
            if self.c.at_keyword("catch") {
                let at = self.c.pos;
                self.c.pos += 5;
                let mut types = Vec::new();
                loop {
                    self.c.skip_trivia(true);
                    if self.c.peek() != Some('[') {
                        break;
                    }
                    types.push(self.type_name()?);
                    self.c.skip_trivia(true);
                    if !self.c.eat(',') {
                        break;
                    }
                }
                let body = self.required_block("catch", at)?;
                catches.push(Catch { span: Span::new(at, self.c.pos), types, body });
            } else if self.c.at_keyword("finally") {
                let at = self.c.pos;
                self.c.pos += 7;
                finally = Some(self.required_block("finally", at)?);
                break;
            } else {
                self.c = save;
                break;
            }
        }
        if catches.is_empty() && finally.is_none() {
            return Err(self.err(start, 3, "The Try statement is missing its Catch or Finally block.", "MissingCatchOrFinally"));
        }
        Ok(StmtKind::Try { body, catches, finally })
    }

    fn trap_statement(&mut self, start: usize) -> PResult<StmtKind> {
        self.c.pos += 4;
        self.c.skip_trivia(true);
        let mut types = Vec::new();
        if self.c.peek() == Some('[') {
            types.push(self.type_name()?);
        }
        let body = self.required_block("trap", start)?;
        self.pending_trap = Some(Trap { span: Span::new(start, self.c.pos), types, body });
        Ok(StmtKind::TrapDecl)
    }

    /// A `break`/`continue` label: a bare word or an expression.
    fn command_word_or_expr(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        if self.c.peek().is_some_and(lex::is_var_char) {
            let w = self.c.take_while(lex::is_var_char);
            return Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Str(w.to_lowercase().into()) });
        }
        self.expression()
    }

    // ---- parameters ----

    /// `name` of `[name(...)]` when the bracket holds an attribute (not a
    /// type), consuming it; `None` (nothing consumed) for a type literal.
    fn attribute_name(&mut self) -> PResult<Option<String>> {
        let save = self.c;
        self.c.bump(); // [
        self.c.skip_trivia(false);
        let name = self.c.take_while(|c| lex::is_member_char(c) || c == '.').to_string();
        self.c.skip_trivia(false);
        if name.is_empty() || self.c.peek() != Some('(') {
            self.c = save;
            return Ok(None);
        }
        // Skip the attribute's arguments (balanced parentheses).
        let open = self.c.pos;
        let mut depth = 0usize;
        loop {
            match self.c.peek() {
                None => return Err(self.err(open, 1, "Missing closing ')' in expression.", "MissingEndParenthesisInExpression")),
                Some('(') => depth += 1,
                Some(')') => {
                    depth -= 1;
                    if depth == 0 {
                        self.c.bump();
                        break;
                    }
                }
                Some(q) if lex::is_single_quote(q) || lex::is_double_quote(q) => {
                    self.string_literal()?;
                    continue;
                }
                _ => {}
            }
            self.c.bump();
        }
        self.c.skip_trivia(false);
        if !self.c.eat(']') {
            return Err(self.err(save.pos, 1, "Missing ] at end of attribute or type literal.", "EndSquareBracketExpectedAtEndOfAttribute"));
        }
        let _ = &self.source;
        Ok(Some(name))
    }

    /// The arguments text of the attribute just read by [`attribute_name`]
    /// are ignored except for `[Parameter(...)]`, which is re-read here.
    fn parameter_attribute(&mut self, param: &mut Param) -> PResult<bool> {
        let save = self.c;
        self.c.bump();
        self.c.skip_trivia(false);
        let name = self.c.take_while(|c| lex::is_member_char(c) || c == '.').to_string();
        if !name.eq_ignore_ascii_case("parameter") && !name.eq_ignore_ascii_case("System.Management.Automation.Parameter") {
            self.c = save;
            return Ok(false);
        }
        self.c.skip_trivia(false);
        if !self.c.eat('(') {
            self.c = save;
            return Ok(false);
        }
        let mut pos = 0u32;
        loop {
            self.c.skip_trivia(true);
            if self.c.eat(')') {
                break;
            }
            let key = self.c.take_while(lex::is_member_char).to_ascii_lowercase();
            self.c.skip_trivia(true);
            let value = if self.c.eat('=') {
                self.c.skip_trivia(true);
                Some(self.expression()?)
            } else {
                None
            };
            let truthy = match value.as_ref().map(|e| &e.kind) {
                None => true,
                Some(ExprKind::Var(v)) => v.special == Special::True,
                Some(ExprKind::Int(n)) => {
                    pos = *n as u32;
                    *n != 0
                }
                _ => true,
            };
            match key.as_str() {
                "mandatory" => param.mandatory = truthy,
                "position" => param.position = Some(pos),
                "valuefrompipeline" => param.from_pipeline = truthy,
                "valuefromremainingarguments" => param.from_remaining = truthy,
                _ => {}
            }
            self.c.skip_trivia(true);
            if !self.c.eat(',') {
                self.c.skip_trivia(true);
                if !self.c.eat(')') {
                    return Err(self.err(self.c.pos, 1, "Missing closing ')' in expression.", "MissingEndParenthesisInExpression"));
                }
                break;
            }
        }
        self.c.skip_trivia(false);
        if !self.c.eat(']') {
            return Err(self.err(save.pos, 1, "Missing ] at end of attribute or type literal.", "EndSquareBracketExpectedAtEndOfAttribute"));
        }
        Ok(true)
    }

    /// Parameters up to `close` (consumed): `[type] $name = default, ...`.
    pub(crate) fn param_list(&mut self, close: char) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        loop {
            self.c.skip_trivia(true);
            if self.c.eat(close) {
                break;
            }
            let start = self.c.pos;
            let mut param = Param {
                span: Span::default(),
                name: Name::new(""),
                ty: None,
                default: None,
                mandatory: false,
                position: None,
                from_pipeline: false,
                from_remaining: false,
                switch: false,
            };
            while self.c.peek() == Some('[') {
                if self.parameter_attribute(&mut param)? {
                    self.c.skip_trivia(true);
                    continue;
                }
                if self.attribute_name()?.is_some() {
                    self.c.skip_trivia(true);
                    continue;
                }
                let ty = self.type_name()?;
                if ty.text.eq_ignore_ascii_case("switch") || ty.text.eq_ignore_ascii_case("System.Management.Automation.SwitchParameter") {
                    param.switch = true;
                }
                param.ty = Some(ty);
                self.c.skip_trivia(true);
            }
            if self.c.peek() != Some('$') {
                return Err(self.err(self.c.pos, 1, "Missing variable name in parameter list.", "InvalidFunctionParameter"));
            }
            let v = self.variable()?;
            let ExprKind::Var(var) = v.kind else {
                return Err(self.err(start, 1, "Missing variable name in parameter list.", "InvalidFunctionParameter"));
            };
            param.name = var.name;
            self.c.skip_trivia(true);
            if self.c.eat('=') {
                self.c.skip_trivia(true);
                param.default = Some(self.expression()?);
                self.c.skip_trivia(true);
            }
            param.span = Span::new(start, self.c.pos);
            params.push(param);
            if self.c.eat(',') {
                continue;
            }
            self.c.skip_trivia(true);
            if !self.c.eat(close) {
                return Err(self.err(self.c.pos, 1, format!("Missing closing '{close}' in parameter list."), "MissingEndParenthesisInFunctionParameterList"));
            }
            break;
        }
        Ok(params)
    }

    /// `[Type.Name[]]` at `[`.
    pub(crate) fn type_name(&mut self) -> PResult<TypeName> {
        let open = self.c.pos;
        self.c.bump();
        let mut depth = 1usize;
        let start = self.c.pos;
        loop {
            match self.c.peek() {
                None | Some('\n' | '\r') => {
                    return Err(self.err(open, 1, "Missing ] at end of attribute or type literal.", "EndSquareBracketExpectedAtEndOfAttribute"));
                }
                Some('[') => depth += 1,
                Some(']') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            self.c.bump();
        }
        let text = self.c.src[start..self.c.pos].trim().to_string();
        self.c.bump();
        if text.is_empty() {
            return Err(self.err(open, 2, "Missing type name after '['.", "MissingTypename"));
        }
        Ok(TypeName::new(&text, Span::new(open, self.c.pos)))
    }
}

/// A statement used where a pipeline is expected (a `for` condition).
fn stmt_as_pipeline(s: Stmt) -> Pipeline {
    match s.kind {
        StmtKind::Pipeline(p) => p,
        other => {
            let span = s.span;
            Pipeline { span, elements: vec![Element::Expr(Expr { span, kind: ExprKind::Paren(Box::new(Stmt { span, kind: other })) }, Vec::new())] }
        }
    }
}

/// The text of the token at the cursor, for "Unexpected token" messages.
fn token_text<'s>(c: &mut Cursor<'s>) -> &'s str {
    let start = c.pos;
    match c.peek() {
        None => "",
        Some(ch) if lex::ends_word(ch) || matches!(ch, '[' | ']' | '=' | '.') => {
            c.bump();
            &c.src[start..c.pos]
        }
        Some(_) => {
            let w = c.word_ahead();
            if w.is_empty() {
                c.bump();
                &c.src[start..c.pos]
            } else {
                w
            }
        }
    }
}

