//! Pipelines, assignments and commands: what mode a pipeline element is
//! read in (an expression when it starts like one, else a command), and a
//! command's arguments in argument mode, where a bare word is a string,
//! `-Name` a parameter, and `$x.Prop`, `(...)`, `'...'` are values.

use super::lex;
use super::{PResult, Parser};
use crate::lab::powershell::ast::*;

impl Parser<'_> {
    /// A pipeline, or an assignment whose value is a statement.
    pub(crate) fn pipeline_statement(&mut self) -> PResult<Stmt> {
        self.enter()?;
        let r = self.pipeline_statement_inner();
        self.leave();
        r
    }

    fn pipeline_statement_inner(&mut self) -> PResult<Stmt> {
        let start = self.c.pos;
        let first = if self.starts_expression_element() {
            let e = self.expression()?;
            let save = self.c;
            self.c.skip_trivia(false);
            if let Some((op, len)) = self.assignment_operator() {
                if !assignable(&e) {
                    return Err(self.err(
                        e.span.start as usize,
                        (e.span.end - e.span.start) as usize,
                        "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                        "InvalidLeftHandSide",
                    ));
                }
                let op_at = self.c.pos;
                self.c.pos += len;
                self.c.skip_trivia(true);
                if matches!(self.c.peek(), None | Some(')' | '}' | ';')) {
                    return Err(self.err(
                        op_at,
                        len,
                        format!("You must provide a value expression on the right-hand side of the '{}' operator.", op.text()),
                        "ExpectedValueExpression",
                    ));
                }
                let value = self.statement()?;
                return Ok(Stmt { span: Span::new(start, self.c.pos), kind: StmtKind::Assign { target: e, op, value: Box::new(value) } });
            }
            self.c = save;
            let redirs = self.redirections()?;
            Element::Expr(e, redirs)
        } else {
            Element::Command(self.command()?)
        };
        let mut elements = vec![first];
        loop {
            let save = self.c;
            self.c.skip_trivia(false);
            if self.c.peek() == Some('|') && self.c.peek_n(1) != Some('|') {
                let bar = self.c.pos;
                self.c.bump();
                self.c.skip_trivia(true);
                if matches!(self.c.peek(), None | Some(')' | '}' | ';' | '|')) {
                    return Err(self.err(bar, 1, "An empty pipe element is not allowed.", "EmptyPipeElement"));
                }
                if self.starts_expression_element() && !self.c.peek().is_some_and(|c| c.is_ascii_digit()) {
                    let at = self.c.pos;
                    let e = self.expression()?;
                    return Err(self.err(at, (e.span.end as usize).saturating_sub(at), "Expressions are only allowed as the first element of a pipeline.", "ExpressionsMustBeFirstInPipeline"));
                }
                elements.push(Element::Command(self.command()?));
            } else {
                self.c = save;
                break;
            }
        }
        Ok(Stmt { span: Span::new(start, self.c.pos), kind: StmtKind::Pipeline(Pipeline { span: Span::new(start, self.c.pos), elements }) })
    }

    fn assignment_operator(&self) -> Option<(AssignOp, usize)> {
        let rest = self.c.rest();
        let mut chars = rest.chars();
        let c = chars.next()?;
        let n = chars.next();
        if c == '=' {
            return Some((AssignOp::Set, 1));
        }
        if n != Some('=') {
            return None;
        }
        let op = match c {
            '+' => AssignOp::Add,
            '*' => AssignOp::Mul,
            '/' => AssignOp::Div,
            '%' => AssignOp::Rem,
            c if lex::is_dash(c) => AssignOp::Sub,
            _ => return None,
        };
        Some((op, c.len_utf8() + 1))
    }

    /// Whether the pipeline element at the cursor is read as an expression
    /// (it starts like a value) rather than a command.
    pub(crate) fn starts_expression_element(&self) -> bool {
        let Some(c) = self.c.peek() else { return false };
        match c {
            '$' | '(' | '@' | '[' | '{' | '!' | ',' => true,
            c if lex::is_single_quote(c) || lex::is_double_quote(c) => true,
            c if c.is_ascii_digit() => self.number_stands_alone(0),
            '.' => self.c.peek_n(1).is_some_and(|d| d.is_ascii_digit()) && self.number_stands_alone(0),
            c if lex::is_dash(c) => {
                let after = &self.c.rest()[c.len_utf8()..];
                let n = after.chars().next();
                if n.is_some_and(|d| d.is_ascii_digit() || d == '.') {
                    return self.number_stands_alone(c.len_utf8());
                }
                if n.is_some_and(lex::is_dash) {
                    return true;
                }
                let w: String = after.chars().take_while(|ch| ch.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
                matches!(w.as_str(), "not" | "bnot" | "split" | "join")
            }
            '+' => self.c.peek_n(1) == Some('+'),
            _ => false,
        }
    }

    /// Whether a number at `offset` from the cursor is a whole token.
    fn number_stands_alone(&self, offset: usize) -> bool {
        let rest = &self.c.rest()[offset..];
        match lex::number(rest) {
            Some((_, len)) => rest[len..].chars().next().is_none_or(|a| !(a.is_alphanumeric() || a == '_' || a == '\\' || a == ':')),
            None => false,
        }
    }

    /// A command: its name (a bare word, or `&`/`.` and an expression) and
    /// its arguments.
    pub(crate) fn command(&mut self) -> PResult<Command> {
        let start = self.c.pos;
        let mut dot = false;
        let invoke = if self.c.peek() == Some('&') && self.c.peek_n(1) != Some('&') {
            self.c.bump();
            true
        } else if self.c.peek() == Some('.') && self.c.peek_n(1).is_some_and(|n| lex::is_blank(n) || n == '$' || n == '{' || n == '(' || lex::is_single_quote(n) || lex::is_double_quote(n)) {
            self.c.bump();
            dot = true;
            true
        } else {
            false
        };
        if invoke {
            self.c.skip_trivia(false);
        }
        let name_start = self.c.pos;
        let name = match self.c.peek() {
            None | Some('\n' | '\r' | ';' | '|' | ')' | '}') => {
                return Err(self.err(start, 1, "Missing expression after '&' in pipeline element.", "MissingExpression"));
            }
            Some(c) if invoke && (c == '$' || c == '(' || c == '{' || c == '@' || lex::is_single_quote(c) || lex::is_double_quote(c)) => {
                let e = self.argument_element()?;
                match e.kind {
                    ExprKind::Str(ref s) => CommandName::Word(Name::new(s)),
                    _ => CommandName::Expr(e),
                }
            }
            Some(c) if lex::is_single_quote(c) || lex::is_double_quote(c) => return Err(self.unexpected()),
            Some(_) => {
                let w = self.bare_word_text()?;
                if w.is_empty() {
                    return Err(self.unexpected());
                }
                CommandName::Word(Name::new(&w))
            }
        };
        let name_span = Span::new(name_start, self.c.pos);
        let mut args = Vec::new();
        let mut redirections = Vec::new();
        loop {
            self.c.skip_trivia(false);
            let Some(c) = self.c.peek() else { break };
            if matches!(c, '\n' | '\r' | ';' | ')' | '}' | '|') {
                break;
            }
            if c == '&' {
                if self.c.peek_n(1) == Some('&') {
                    return Err(self.err(self.c.pos, 2, "The token '&&' is not a valid statement separator in this version.", "InvalidEndOfLine"));
                }
                return Err(self.err(self.c.pos, 1, "The ampersand (&) character is not allowed. The & operator is reserved for future use; wrap an ampersand in double quotation marks (\"&\") to pass it as part of a string.", "AmpersandNotAllowed"));
            }
            if self.at_redirection() {
                redirections.extend(self.redirections()?);
                continue;
            }
            if lex::is_dash(c) && self.c.peek_n(1).is_some_and(|n| n.is_alphabetic() || n == '_' || n == '?') {
                let p_start = self.c.pos;
                self.c.bump();
                let pname = self.c.take_while(|ch| !(lex::ends_word(ch) || ch == ':')).to_string();
                let colon = self.c.eat(':');
                let value = if colon {
                    self.c.skip_trivia(false);
                    Some(self.argument()?.0)
                } else {
                    None
                };
                args.push(CommandArg::Param { span: Span::new(p_start, self.c.pos), name: Name::new(&pname), value, colon });
                continue;
            }
            if lex::is_dash(c) && self.c.peek_n(1).is_some_and(lex::is_dash) && self.c.peek_n(2) == Some('%') {
                return Err(self.err(self.c.pos, 3, "The lab's PowerShell engine does not support the stop-parsing token '--%'.", "StopParsingNotSupported"));
            }
            let before = self.c.pos;
            let (expr, text) = self.argument()?;
            if self.c.pos == before {
                return Err(self.unexpected());
            }
            args.push(CommandArg::Value { expr, text: text.into() });
        }
        Ok(Command { span: Span::new(start, self.c.pos), name, name_span, dot, args, redirections })
    }

    /// One argument value, with `a, b, c` lists: the expression and the
    /// text it was written as.
    pub(crate) fn argument(&mut self) -> PResult<(Expr, String)> {
        let start = self.c.pos;
        let first = self.argument_element()?;
        let mut probe = self.c;
        probe.skip_trivia(false);
        if probe.peek() != Some(',') {
            let text = self.c.src[start..self.c.pos].to_string();
            return Ok((first, text));
        }
        let mut items = vec![first];
        loop {
            let mut probe = self.c;
            probe.skip_trivia(false);
            if probe.peek() != Some(',') {
                break;
            }
            self.c = probe;
            self.c.bump();
            self.c.skip_trivia(true);
            if matches!(self.c.peek(), None | Some('\n' | '\r' | ';' | ')' | '}' | '|')) {
                return Err(self.err(self.c.pos.saturating_sub(1), 1, "Missing argument in parameter list.", "MissingArgument"));
            }
            items.push(self.argument_element()?);
        }
        let span = Span::new(start, self.c.pos);
        Ok((Expr { span, kind: ExprKind::ArrayLiteral(items) }, self.c.src[start..self.c.pos].to_string()))
    }

    /// One element of an argument in argument mode.
    pub(crate) fn argument_element(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let Some(c) = self.c.peek() else { return Err(self.unexpected()) };
        let valued = match c {
            '$' | '(' => true,
            '@' => match self.c.peek_n(1) {
                Some('(' | '{') => true,
                Some(q) if lex::is_single_quote(q) || lex::is_double_quote(q) => true,
                Some(n) if lex::is_var_char(n) => {
                    self.c.bump();
                    let var = self.variable_name(start)?;
                    return Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Splat(var) });
                }
                _ => false,
            },
            '{' => return self.script_block_expr(),
            q if lex::is_single_quote(q) || lex::is_double_quote(q) => true,
            _ => false,
        };
        // `$x` and quoted strings may run on into one word (`$dir\x.txt`).
        let mergeable = (c == '$' && self.c.peek_n(1) != Some('(')) || lex::is_single_quote(c) || lex::is_double_quote(c);
        if valued {
            let e = self.primary()?;
            let e = self.postfix(e)?;
            if self.continues_word() && mergeable {
                // `$dir\file.txt`, `'a'b`: one string made of the pieces.
                self.c.pos = start;
                return self.bare_word_argument();
            }
            return Ok(e);
        }
        if c.is_ascii_digit() || c == '.' || lex::is_dash(c) {
            let neg = lex::is_dash(c);
            let save = self.c;
            if neg {
                self.c.bump();
            }
            if self.c.peek().is_some_and(|d| d.is_ascii_digit() || d == '.')
                && let Some(e) = self.number_literal(neg)?
                && !self.continues_word()
            {
                return Ok(e);
            }
            self.c = save;
        }
        self.bare_word_argument()
    }

    /// Whether the cursor continues the current argument's word.
    fn continues_word(&self) -> bool {
        self.c.peek().is_some_and(|c| !(lex::ends_word(c) || c == '>'))
    }

    /// A bare word in argument mode: a string, expandable when it holds
    /// `$var` or `$(...)`, with quoted pieces joined in.
    fn bare_word_argument(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let mut parts: Vec<StrPart> = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.c.peek() {
            if lex::ends_word(c) || c == '>' {
                break;
            }
            if c == '`' {
                self.c.bump();
                match self.c.bump() {
                    Some('\n' | '\r') | None => break,
                    Some(e) => text.push(e),
                }
                continue;
            }
            if lex::is_single_quote(c) || lex::is_double_quote(c) {
                let s = self.string_literal()?;
                match s.kind {
                    ExprKind::Str(t) => text.push_str(&t),
                    ExprKind::Expandable(ps) => {
                        if !text.is_empty() {
                            parts.push(StrPart::Lit(std::mem::take(&mut text).into()));
                        }
                        parts.extend(ps);
                    }
                    _ => {}
                }
                continue;
            }
            if c == '$' && self.c.peek_n(1).is_some_and(|n| lex::is_var_char(n) || n == '{' || n == '(' || n == '?') {
                if !text.is_empty() {
                    parts.push(StrPart::Lit(std::mem::take(&mut text).into()));
                }
                if self.c.peek_n(1) == Some('(') {
                    let sub = self.c.pos;
                    self.c.pos += 2;
                    let block = self.statement_list(Some(')'))?;
                    if !self.c.eat(')') {
                        return Err(self.err(sub, 2, "Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression"));
                    }
                    parts.push(StrPart::Sub(block));
                } else {
                    let vs = self.c.pos;
                    self.c.bump();
                    parts.push(StrPart::Var(self.variable_name(vs)?));
                }
                continue;
            }
            text.push(c);
            self.c.bump();
        }
        let span = Span::new(start, self.c.pos);
        if parts.is_empty() {
            return Ok(Expr { span, kind: ExprKind::Str(text.into()) });
        }
        if !text.is_empty() {
            parts.push(StrPart::Lit(text.into()));
        }
        Ok(Expr { span, kind: ExprKind::Expandable(parts) })
    }

    fn at_redirection(&self) -> bool {
        let mut chars = self.c.rest().chars();
        match (chars.next(), chars.next()) {
            (Some('>'), _) => true,
            (Some('*' | '1'..='6'), Some('>')) => true,
            _ => false,
        }
    }

    /// Redirections at the cursor: `2>&1`, `> $null`, `2>> file`.
    fn redirections(&mut self) -> PResult<Vec<Redirection>> {
        let mut out = Vec::new();
        loop {
            let save = self.c;
            self.c.skip_trivia(false);
            if !self.at_redirection() {
                self.c = save;
                break;
            }
            let at = self.c.pos;
            let from = match self.c.peek() {
                Some('>') => Stream::Output,
                Some('*') => {
                    self.c.bump();
                    Stream::All
                }
                Some('1') => {
                    self.c.bump();
                    Stream::Output
                }
                Some('2') => {
                    self.c.bump();
                    Stream::Error
                }
                Some(d) => {
                    self.c.bump();
                    Stream::Other(d as u8 - b'0')
                }
                None => break,
            };
            self.c.bump(); // >
            if self.c.starts_with("&1") {
                self.c.pos += 2;
                out.push(Redirection::Merge { from });
                continue;
            }
            if self.c.peek() == Some('&') {
                return Err(self.err(at, self.c.pos - at + 1, "The lab's PowerShell engine supports only '&1' as a merge target.", "RedirectionNotSupported"));
            }
            let append = self.c.eat('>');
            self.c.skip_trivia(false);
            if matches!(self.c.peek(), None | Some('\n' | '\r' | ';' | '|' | ')' | '}')) {
                return Err(self.err(at, self.c.pos - at, "Missing file specification after redirection operator.", "MissingFileSpecification"));
            }
            let target = self.argument_element()?;
            out.push(Redirection::File { from, append, target });
        }
        Ok(out)
    }
}

/// Whether an expression can be assigned to.
fn assignable(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Var(v) => !matches!(v.special, Special::True | Special::False | Special::Question),
        ExprKind::Member { .. } | ExprKind::Index { .. } => true,
        ExprKind::Convert(_, inner) => matches!(inner.kind, ExprKind::Var(_)),
        ExprKind::ArrayLiteral(items) => items.iter().all(assignable),
        _ => false,
    }
}
