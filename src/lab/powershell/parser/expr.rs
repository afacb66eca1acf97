//! Expressions: binary operators by PowerShell's precedence, the comma
//! (array) operator, unary operators and casts, members, indexes and
//! method calls, and the primaries: variables, numbers, strings (verbatim,
//! expandable, here-strings), `( )`, `$( )`, `@( )`, `@{ }` and `{ }`.

use std::sync::Arc;

use super::lex::{self, Number};
use super::{PResult, Parser};
use crate::lab::powershell::ast::*;

impl Parser<'_> {
    /// An expression in expression mode.
    pub(crate) fn expression(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.binary(1, true);
        self.leave();
        e
    }

    /// An expression in which a comma separates (method arguments).
    pub(crate) fn expression_no_comma(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.binary(1, false);
        self.leave();
        e
    }

    fn binary(&mut self, min: u8, comma: bool) -> PResult<Expr> {
        let mut left = if comma { self.array_literal()? } else { self.unary()? };
        loop {
            let save = self.c;
            self.c.skip_trivia(false);
            let Some((op, len)) = self.peek_binary() else {
                self.c = save;
                break;
            };
            if op.precedence() < min {
                self.c = save;
                break;
            }
            let op_at = self.c.pos;
            self.c.pos += len;
            self.c.skip_trivia(true);
            if self.at_expression_end() {
                return Err(self.err(
                    op_at,
                    len,
                    format!("You must provide a value expression following the '{}' operator.", &self.c.src[op_at..op_at + len]),
                    "ExpectedValueExpression",
                ));
            }
            let right = self.binary(op.precedence() + 1, comma)?;
            let span = left.span.to(right.span);
            left = Expr { span, kind: ExprKind::Binary(op, Box::new(left), Box::new(right)) };
        }
        Ok(left)
    }

    /// Whether nothing that could be an operand follows.
    fn at_expression_end(&self) -> bool {
        matches!(self.c.peek(), None | Some(')' | '}' | ']' | ';' | '|' | ','))
    }

    /// A binary operator at the cursor: (operator, length in bytes).
    fn peek_binary(&self) -> Option<(BinOp, usize)> {
        let rest = self.c.rest();
        let c = rest.chars().next()?;
        if lex::is_dash(c) {
            let after = &rest[c.len_utf8()..];
            let word_len = after.find(|ch: char| !ch.is_ascii_alphabetic()).unwrap_or(after.len());
            if word_len > 0 {
                let op = dash_operator(&after[..word_len])?;
                return Some((op, c.len_utf8() + word_len));
            }
            if after.starts_with('=') || after.starts_with(c) {
                return None;
            }
            return Some((BinOp::Sub, c.len_utf8()));
        }
        let next = rest[c.len_utf8()..].chars().next();
        match c {
            '+' if next != Some('=') && next != Some('+') => Some((BinOp::Add, 1)),
            '*' if next != Some('=') => Some((BinOp::Mul, 1)),
            '/' if next != Some('=') => Some((BinOp::Div, 1)),
            '%' if next != Some('=') => Some((BinOp::Rem, 1)),
            '.' if next == Some('.') => Some((BinOp::Range, 2)),
            _ => None,
        }
    }

    /// `a, b, c` (the comma binds tighter than every binary operator).
    fn array_literal(&mut self) -> PResult<Expr> {
        let first = self.unary()?;
        let save = self.c;
        self.c.skip_trivia(false);
        if self.c.peek() != Some(',') {
            self.c = save;
            return Ok(first);
        }
        let mut items = vec![first];
        while self.c.peek() == Some(',') {
            let at = self.c.pos;
            self.c.bump();
            self.c.skip_trivia(true);
            if self.at_expression_end() {
                return Err(self.err(at, 1, "Missing expression after ','.", "MissingExpressionAfterToken"));
            }
            items.push(self.unary()?);
            let save = self.c;
            self.c.skip_trivia(false);
            if self.c.peek() != Some(',') {
                self.c = save;
                break;
            }
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(Expr { span, kind: ExprKind::ArrayLiteral(items) })
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.unary_inner();
        self.leave();
        e
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let Some(c) = self.c.peek() else {
            return Err(self.err(start, 0, "An expression was expected after '('.", "ExpectedExpression"));
        };
        let unary = |p: &mut Self, op: UnaryOp, len: usize, text: &str| -> PResult<Expr> {
            p.c.pos += len;
            p.c.skip_trivia(true);
            if p.at_expression_end() {
                return Err(p.err(start, len, format!("Missing expression after unary operator '{text}'."), "MissingExpressionAfterOperator"));
            }
            let operand = p.unary()?;
            Ok(Expr { span: Span::new(start, operand.span.end as usize), kind: ExprKind::Unary(op, Box::new(operand)) })
        };
        if c == '!' {
            return unary(self, UnaryOp::Not, 1, "!");
        }
        if c == ',' {
            return unary(self, UnaryOp::Comma, 1, ",");
        }
        if lex::is_dash(c) {
            let after = &self.c.rest()[c.len_utf8()..];
            let word_len = after.find(|ch: char| !ch.is_ascii_alphabetic()).unwrap_or(after.len());
            let word = after[..word_len].to_ascii_lowercase();
            let len = c.len_utf8() + word_len;
            match word.as_str() {
                "not" => return unary(self, UnaryOp::Not, len, "-not"),
                "bnot" => return unary(self, UnaryOp::BNot, len, "-bnot"),
                "split" => return unary(self, UnaryOp::Split, len, "-split"),
                "join" => return unary(self, UnaryOp::Join, len, "-join"),
                "" => {}
                _ => return Err(self.unexpected()),
            }
            if after.chars().next().is_some_and(lex::is_dash) {
                return self.prefix_incdec(start, false);
            }
            // A negative number literal, or negation.
            if after.chars().next().is_some_and(|d| d.is_ascii_digit() || d == '.') {
                let save = self.c;
                self.c.pos += c.len_utf8();
                if let Some(e) = self.number_literal(true)? {
                    return self.postfix(e);
                }
                self.c = save;
            }
            return unary(self, UnaryOp::Neg, c.len_utf8(), "-");
        }
        if c == '+' {
            if self.c.peek_n(1) == Some('+') {
                return self.prefix_incdec(start, true);
            }
            return unary(self, UnaryOp::Plus, 1, "+");
        }
        if c == '[' {
            let ty = self.type_name()?;
            if self.c.starts_with("::") || (self.c.peek() == Some('.') && self.c.peek_n(1) != Some('.')) {
                let e = Expr { span: ty.span, kind: ExprKind::Type(Box::new(ty)) };
                return self.postfix(e);
            }
            let save = self.c;
            self.c.skip_trivia(false);
            if self.starts_operand() {
                let operand = self.unary()?;
                let span = Span::new(start, operand.span.end as usize);
                return Ok(Expr { span, kind: ExprKind::Convert(Box::new(ty), Box::new(operand)) });
            }
            self.c = save;
            return Ok(Expr { span: ty.span, kind: ExprKind::Type(Box::new(ty)) });
        }
        let p = self.primary()?;
        self.postfix(p)
    }

    fn prefix_incdec(&mut self, start: usize, inc: bool) -> PResult<Expr> {
        self.c.bump();
        self.c.bump();
        self.c.skip_trivia(false);
        let target = self.unary()?;
        Ok(Expr { span: Span::new(start, target.span.end as usize), kind: ExprKind::IncDec { target: Box::new(target), inc, prefix: true } })
    }

    /// Whether the cursor is at something that can start an operand (after
    /// a cast).
    pub(crate) fn starts_operand(&self) -> bool {
        let Some(c) = self.c.peek() else { return false };
        match c {
            '$' | '(' | '@' | '[' | '!' | '{' => true,
            c if lex::is_single_quote(c) || lex::is_double_quote(c) => true,
            c if c.is_ascii_digit() => true,
            '.' => self.c.peek_n(1).is_some_and(|d| d.is_ascii_digit()),
            c if lex::is_dash(c) => {
                let n = self.c.peek_n(1);
                n.is_some_and(|d| d.is_ascii_digit() || d == '$' || d == '(' || d == '.')
                    || self.c.rest()[c.len_utf8()..].to_ascii_lowercase().starts_with("not")
            }
            '+' => self.c.peek_n(1) == Some('+'),
            _ => false,
        }
    }

    /// Members, static members, indexes, method calls and postfix `++`/`--`
    /// right after an operand (no blank between).
    pub(crate) fn postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            let start = e.span.start as usize;
            if self.c.starts_with("::") {
                self.c.pos += 2;
                e = self.member_after_dot(e, true, start)?;
            } else if self.c.peek() == Some('.') && self.c.peek_n(1) != Some('.') {
                let Some(n) = self.c.peek_n(1) else {
                    return Err(self.err(self.c.pos, 1, "Missing property name after reference operator.", "MissingPropertyName"));
                };
                if !(lex::is_member_char(n) || n == '$' || n == '(' || n == '{' || lex::is_single_quote(n) || lex::is_double_quote(n)) {
                    break;
                }
                self.c.bump();
                e = self.member_after_dot(e, false, start)?;
            } else if self.c.peek() == Some('[') {
                let open = self.c.pos;
                self.c.bump();
                self.c.skip_trivia(true);
                if self.c.peek() == Some(']') {
                    return Err(self.err(open, 2, "Array index expression is missing or not valid.", "MissingArrayIndexExpression"));
                }
                let index = self.expression()?;
                self.c.skip_trivia(true);
                if !self.c.eat(']') {
                    return Err(self.err(open, 1, "Missing ']' after array index expression.", "MissingEndSquareBracket"));
                }
                e = Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Index { target: Box::new(e), index: Box::new(index) } };
            } else if self.c.starts_with("++") || self.c.starts_with("--") {
                let inc = self.c.starts_with("++");
                // `$a--$b`? Only a postfix operator when nothing operand-like follows.
                let mut probe = self.c;
                probe.pos += 2;
                if probe.peek().is_some_and(|ch| ch == '$' || ch.is_ascii_digit()) {
                    break;
                }
                self.c.pos += 2;
                e = Expr { span: Span::new(start, self.c.pos), kind: ExprKind::IncDec { target: Box::new(e), inc, prefix: false } };
            } else {
                break;
            }
        }
        Ok(e)
    }

    fn member_after_dot(&mut self, target: Expr, is_static: bool, start: usize) -> PResult<Expr> {
        let name_start = self.c.pos;
        let name = match self.c.peek() {
            Some(c) if lex::is_member_char(c) => MemberName::Name(Name::new(self.c.take_while(lex::is_member_char))),
            Some('$') => MemberName::Expr(self.variable()?),
            Some('(') => MemberName::Expr(self.primary()?),
            Some(q) if lex::is_single_quote(q) || lex::is_double_quote(q) => MemberName::Expr(self.string_literal()?),
            _ => return Err(self.err(name_start.saturating_sub(1), 1, "Missing property name after reference operator.", "MissingPropertyName")),
        };
        if self.c.peek() == Some('(') {
            let open = self.c.pos;
            self.c.bump();
            let mut args = Vec::new();
            loop {
                self.c.skip_trivia(true);
                if self.c.eat(')') {
                    break;
                }
                args.push(self.expression_no_comma()?);
                self.c.skip_trivia(true);
                if self.c.eat(',') {
                    continue;
                }
                if self.c.eat(')') {
                    break;
                }
                return Err(self.err(open, 1, "Missing closing ')' in expression.", "MissingEndParenthesisInMethodCall"));
            }
            return Ok(Expr {
                span: Span::new(start, self.c.pos),
                kind: ExprKind::Invoke { target: Box::new(target), name: Box::new(name), args, is_static },
            });
        }
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Member { target: Box::new(target), name: Box::new(name), is_static } })
    }

    /// A primary expression (no postfix).
    pub(crate) fn primary(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let Some(c) = self.c.peek() else {
            return Err(self.err(start, 0, "An expression was expected.", "ExpectedExpression"));
        };
        match c {
            '$' if self.c.peek_n(1) == Some('(') => {
                self.c.pos += 2;
                let block = self.statement_list(Some(')'))?;
                if !self.c.eat(')') {
                    return Err(self.err(start, 2, "Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression"));
                }
                Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::SubExpr(block) })
            }
            '$' => self.variable(),
            '@' => match self.c.peek_n(1) {
                Some('(') => {
                    self.c.pos += 2;
                    let block = self.statement_list(Some(')'))?;
                    if !self.c.eat(')') {
                        return Err(self.err(start, 2, "Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression"));
                    }
                    Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::ArrayExpr(block) })
                }
                Some('{') => self.hashtable(),
                Some(q) if lex::is_single_quote(q) || lex::is_double_quote(q) => self.string_literal(),
                _ => Err(self.unexpected()),
            },
            '(' => {
                self.c.bump();
                self.c.skip_trivia(true);
                if self.c.peek() == Some(')') {
                    return Err(self.err(start, 2, "An expression was expected after '('.", "ExpectedExpression"));
                }
                let stmt = self.pipeline_statement()?;
                self.c.skip_trivia(true);
                if !self.c.eat(')') {
                    return Err(self.err(self.c.pos, 1, "Missing closing ')' in expression.", "MissingEndParenthesisInExpression"));
                }
                Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Paren(Box::new(stmt)) })
            }
            '{' => self.script_block_expr(),
            q if lex::is_single_quote(q) || lex::is_double_quote(q) => self.string_literal(),
            d if d.is_ascii_digit() || (d == '.' && self.c.peek_n(1).is_some_and(|x| x.is_ascii_digit())) => {
                match self.number_literal(false)? {
                    Some(e) => Ok(e),
                    None => Err(self.unexpected()),
                }
            }
            '[' => {
                let ty = self.type_name()?;
                Ok(Expr { span: ty.span, kind: ExprKind::Type(Box::new(ty)) })
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A number literal at the cursor (`negative`: a `-` was read before
    /// it); `None` (nothing consumed) when the text is not a number
    /// standing alone.
    pub(crate) fn number_literal(&mut self, negative: bool) -> PResult<Option<Expr>> {
        let start = self.c.pos - usize::from(negative);
        let Some((n, len)) = lex::number(self.c.rest()) else { return Ok(None) };
        let after = self.c.rest()[len..].chars().next();
        if after.is_some_and(|a| a.is_alphanumeric() || a == '_') {
            return Ok(None);
        }
        self.c.pos += len;
        let kind = match (n, negative) {
            (Number::Int(v), false) => ExprKind::Int(v),
            (Number::Int(v), true) => ExprKind::Int(v.wrapping_neg()),
            (Number::Long(v), false) => ExprKind::Long(v),
            (Number::Long(v), true) => match i32::try_from(-v) {
                Ok(i) if v == 2_147_483_648 => ExprKind::Int(i),
                _ => ExprKind::Long(v.wrapping_neg()),
            },
            (Number::Double(d), false) => ExprKind::Double(d),
            (Number::Double(d), true) => ExprKind::Double(-d),
        };
        Ok(Some(Expr { span: Span::new(start, self.c.pos), kind }))
    }

    /// `{ ... }` as a value.
    pub(crate) fn script_block_expr(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        self.c.bump();
        let block = self.script_block_body(Some('}'), start + 1)?;
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::ScriptBlock(Arc::new(block)) })
    }

    /// `@{ key = value; ... }`
    fn hashtable(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        self.c.pos += 2;
        let mut entries = Vec::new();
        loop {
            self.c.skip_trivia(true);
            while self.c.eat(';') {
                self.c.skip_trivia(true);
            }
            match self.c.peek() {
                None => return Err(self.err(start, 2, "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace")),
                Some('}') => {
                    self.c.bump();
                    break;
                }
                _ => {}
            }
            let key_start = self.c.pos;
            let key = match self.c.peek() {
                Some(c) if lex::is_single_quote(c) || lex::is_double_quote(c) => self.string_literal()?,
                Some('$' | '(' | '@' | '[') => self.unary()?,
                Some(c) if c.is_ascii_digit() => match self.number_literal(false)? {
                    Some(e) => e,
                    None => self.hash_key_word()?,
                },
                Some(c) if lex::is_dash(c) => self.unary()?,
                _ => self.hash_key_word()?,
            };
            self.c.skip_trivia(false);
            if !self.c.eat('=') {
                return Err(self.err(key_start, self.c.pos.saturating_sub(key_start).max(1), "Missing '=' operator after key in hash literal.", "MissingEqualsInHashLiteral"));
            }
            self.c.skip_trivia(true);
            if matches!(self.c.peek(), None | Some('}' | ';')) {
                return Err(self.err(self.c.pos, 1, "Missing statement after '=' in hash literal.", "MissingStatementInHashLiteral"));
            }
            let value = self.statement()?;
            entries.push((key, value));
            self.c.skip_trivia(false);
            match self.c.peek() {
                Some(';' | '\n' | '\r' | '}') => {}
                None => {}
                Some(_) => return Err(self.err(self.c.pos, 1, "Missing '=' operator after key in hash literal.", "MissingEqualsInHashLiteral")),
            }
        }
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Hashtable(entries) })
    }

    fn hash_key_word(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let w = self.c.take_while(|c| !(lex::ends_word(c) || c == '=' || lex::is_single_quote(c) || lex::is_double_quote(c)));
        if w.is_empty() {
            return Err(self.err(start, 1, "Missing key before '=' in hash literal.", "MissingHashKey"));
        }
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Str(w.into()) })
    }

    // ---- variables ----

    /// `$name`, `$scope:name`, `${...}`, `$_`, `$?`, `$null`, ...
    pub(crate) fn variable(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        self.c.bump(); // $
        let var = self.variable_name(start)?;
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Var(var) })
    }

    /// The name after `$` or `@`.
    pub(crate) fn variable_name(&mut self, start: usize) -> PResult<VarRef> {
        let raw: String = match self.c.peek() {
            Some('{') => {
                self.c.bump();
                let mut name = String::new();
                loop {
                    match self.c.bump() {
                        None => return Err(self.err(start, 2, "Missing '}' at end of variable name.", "IncompleteDollarVariableReference")),
                        Some('}') => break,
                        Some('`') => {
                            if let Some(e) = self.c.bump() {
                                name.push(e);
                            }
                        }
                        Some(ch) => name.push(ch),
                    }
                }
                name
            }
            Some('?') => {
                self.c.bump();
                return Ok(VarRef { scope: VarScope::Any, name: Name::new("?"), special: Special::Question });
            }
            Some('$') | Some('^') => {
                let ch = self.c.bump().unwrap_or('$');
                return Ok(VarRef { scope: VarScope::Any, name: Name::new(&ch.to_string()), special: Special::None });
            }
            Some(ch) if lex::is_var_char(ch) => {
                let mut name = self.c.take_while(lex::is_var_char).to_string();
                // `$scope:name`
                if self.c.peek() == Some(':') && self.c.peek_n(1) != Some(':') && self.c.peek_n(1).is_some_and(|n| lex::is_var_char(n) || n == '{') {
                    self.c.bump();
                    name.push(':');
                    if self.c.peek() == Some('{') {
                        let inner = self.variable_name(start)?;
                        name.push_str(&inner.name.text);
                    } else {
                        name.push_str(self.c.take_while(lex::is_var_char));
                    }
                }
                name
            }
            _ => {
                return Err(self.err(
                    start,
                    1,
                    "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.",
                    "InvalidVariableReference",
                ));
            }
        };
        Ok(var_ref(&raw))
    }

    // ---- strings ----

    /// A string literal at the cursor: `'...'`, `"..."`, `@'...'@`,
    /// `@"..."@`.
    pub(crate) fn string_literal(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        let here = self.c.peek() == Some('@');
        if here {
            self.c.bump();
        }
        let q = self.c.bump().unwrap_or('\'');
        let kind = if lex::is_single_quote(q) {
            if here { ExprKind::Str(self.here_verbatim(start)?.into()) } else { ExprKind::Str(self.verbatim(start)?.into()) }
        } else {
            let parts = if here { self.here_expandable(start)? } else { self.expandable(start)? };
            match parts.as_slice() {
                [] => ExprKind::Str("".into()),
                [StrPart::Lit(_)] => match parts.into_iter().next() {
                    Some(StrPart::Lit(s)) => ExprKind::Str(s),
                    _ => ExprKind::Str("".into()),
                },
                _ => ExprKind::Expandable(parts),
            }
        };
        Ok(Expr { span: Span::new(start, self.c.pos), kind })
    }

    fn missing_terminator(&self, start: usize, term: &str) -> super::ParseError {
        self.err(
            start,
            self.c.src.len() - start,
            format!("The string is missing the terminator: {term}."),
            "TerminatorExpectedAtEndOfString",
        )
    }

    fn verbatim(&mut self, start: usize) -> PResult<String> {
        let mut text = String::new();
        loop {
            match self.c.bump() {
                None => return Err(self.missing_terminator(start, "'")),
                Some(q) if lex::is_single_quote(q) => {
                    if self.c.peek().is_some_and(lex::is_single_quote) {
                        self.c.bump();
                        text.push(q);
                    } else {
                        return Ok(text);
                    }
                }
                Some(ch) => text.push(ch),
            }
        }
    }

    /// The rest of the here-string header line (blanks then a newline).
    fn here_header(&mut self, start: usize, term: &str) -> PResult<()> {
        self.c.take_while(lex::is_blank);
        match self.c.peek() {
            Some('\r') => {
                self.c.bump();
                self.c.eat('\n');
                Ok(())
            }
            Some('\n') => {
                self.c.bump();
                Ok(())
            }
            None => Err(self.missing_terminator(start, term)),
            Some(_) => Err(self.err(self.c.pos, 1, "No characters are allowed after a here-string header but before the end of the line.", "UnexpectedCharactersAfterHereStringHeader")),
        }
    }

    /// Whether the cursor (at a line start) is at the here-string footer.
    fn at_footer(&self, quote: fn(char) -> bool) -> bool {
        self.c.peek().is_some_and(quote) && self.c.peek_n(1) == Some('@')
    }

    fn here_verbatim(&mut self, start: usize) -> PResult<String> {
        self.here_header(start, "'@")?;
        let mut text = String::new();
        if self.at_footer(lex::is_single_quote) {
            self.c.pos += self.c.peek().map_or(1, char::len_utf8) + 1;
            return Ok(text);
        }
        loop {
            match self.c.bump() {
                None => return Err(self.missing_terminator(start, "'@")),
                Some(nl @ ('\r' | '\n')) => {
                    let keep = text.len();
                    text.push(nl);
                    if nl == '\r' && self.c.eat('\n') {
                        text.push('\n');
                    }
                    if self.at_footer(lex::is_single_quote) {
                        self.c.pos += self.c.peek().map_or(1, char::len_utf8) + 1;
                        text.truncate(keep);
                        return Ok(text);
                    }
                }
                Some(ch) => text.push(ch),
            }
        }
    }

    fn here_expandable(&mut self, start: usize) -> PResult<Vec<StrPart>> {
        self.here_header(start, "\"@")?;
        self.string_parts(start, true)
    }

    fn expandable(&mut self, start: usize) -> PResult<Vec<StrPart>> {
        self.string_parts(start, false)
    }

    /// The parts of an expandable string up to its end (the closing quote,
    /// or the here-string footer).
    fn string_parts(&mut self, start: usize, here: bool) -> PResult<Vec<StrPart>> {
        let term = if here { "\"@" } else { "\"" };
        let mut parts = Vec::new();
        let mut text = String::new();
        if here && self.at_footer(lex::is_double_quote) {
            self.c.pos += self.c.peek().map_or(1, char::len_utf8) + 1;
            return Ok(parts);
        }
        loop {
            let Some(ch) = self.c.peek() else { return Err(self.missing_terminator(start, term)) };
            if here && (ch == '\r' || ch == '\n') {
                self.c.bump();
                let keep = text.len();
                text.push(ch);
                if ch == '\r' && self.c.eat('\n') {
                    text.push('\n');
                }
                if self.at_footer(lex::is_double_quote) {
                    self.c.pos += self.c.peek().map_or(1, char::len_utf8) + 1;
                    text.truncate(keep);
                    break;
                }
                continue;
            }
            if !here && lex::is_double_quote(ch) {
                self.c.bump();
                if self.c.peek().is_some_and(lex::is_double_quote) {
                    self.c.bump();
                    text.push(ch);
                    continue;
                }
                break;
            }
            if ch == '`' {
                self.c.bump();
                let Some(e) = self.c.bump() else { return Err(self.missing_terminator(start, term)) };
                match e {
                    '0' => text.push('\0'),
                    'a' => text.push('\u{7}'),
                    'b' => text.push('\u{8}'),
                    'f' => text.push('\u{c}'),
                    'n' => text.push('\n'),
                    'r' => text.push('\r'),
                    't' => text.push('\t'),
                    'v' => text.push('\u{b}'),
                    other => text.push(other),
                }
                continue;
            }
            if ch == '$' {
                let next = self.c.peek_n(1);
                if next == Some('(') {
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text).into()));
                    }
                    let sub_start = self.c.pos;
                    self.c.pos += 2;
                    let block = self.statement_list(Some(')'))?;
                    if !self.c.eat(')') {
                        return Err(self.err(sub_start, 2, "Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression"));
                    }
                    parts.push(StrPart::Sub(block));
                    continue;
                }
                if next.is_some_and(|n| lex::is_var_char(n) || n == '{' || n == '?' || n == '^') || (next == Some('$')) {
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text).into()));
                    }
                    let var_start = self.c.pos;
                    self.c.bump();
                    let var = self.variable_name(var_start)?;
                    parts.push(StrPart::Var(var));
                    continue;
                }
            }
            self.c.bump();
            text.push(ch);
        }
        if !text.is_empty() {
            parts.push(StrPart::Lit(text.into()));
        }
        Ok(parts)
    }

    // ---- switch clauses ----

    /// A switch clause's condition: a string, number, variable, `{ }`, or a
    /// bare word (a string).
    pub(crate) fn switch_pattern(&mut self) -> PResult<Expr> {
        let start = self.c.pos;
        match self.c.peek() {
            Some('{') => self.script_block_expr(),
            Some(c) if lex::is_single_quote(c) || lex::is_double_quote(c) || c == '$' || c == '(' || c == '@' || c == '[' => {
                let e = self.unary()?;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() => match self.number_literal(false)? {
                Some(e) => Ok(e),
                None => self.bare_word_expr(start),
            },
            Some(_) => self.bare_word_expr(start),
            None => Err(self.unexpected()),
        }
    }

    fn bare_word_expr(&mut self, start: usize) -> PResult<Expr> {
        let w = self.bare_word_text()?;
        Ok(Expr { span: Span::new(start, self.c.pos), kind: ExprKind::Str(w.into()) })
    }

    /// A bare word's text (function names, switch patterns), with backtick
    /// escapes.
    pub(crate) fn bare_word_text(&mut self) -> PResult<String> {
        let mut text = String::new();
        while let Some(c) = self.c.peek() {
            if lex::ends_word(c) || lex::is_single_quote(c) || lex::is_double_quote(c) {
                break;
            }
            if c == '`' {
                self.c.bump();
                match self.c.bump() {
                    Some(e) => text.push(e),
                    None => break,
                }
                continue;
            }
            text.push(c);
            self.c.bump();
        }
        Ok(text)
    }
}

/// A variable reference from its written name (`script:x`, `env:Path`).
pub(crate) fn var_ref(raw: &str) -> VarRef {
    let (scope, name) = match raw.split_once(':') {
        Some((s, n)) => {
            let scope = match s.to_ascii_lowercase().as_str() {
                "global" => VarScope::Global,
                "script" => VarScope::Script,
                "local" => VarScope::Local,
                "private" => VarScope::Private,
                "env" => VarScope::Env,
                "variable" => VarScope::Variable,
                "function" => VarScope::Function,
                _ => return VarRef { scope: VarScope::Any, name: Name::new(raw), special: Special::None },
            };
            (scope, n)
        }
        None => (VarScope::Any, raw),
    };
    let lower = name.to_ascii_lowercase();
    let special = match (scope, lower.as_str()) {
        (VarScope::Any | VarScope::Global | VarScope::Local | VarScope::Script, "null") => Special::Null,
        (VarScope::Any | VarScope::Global | VarScope::Local | VarScope::Script, "true") => Special::True,
        (VarScope::Any | VarScope::Global | VarScope::Local | VarScope::Script, "false") => Special::False,
        (VarScope::Any, "_") => Special::Underscore,
        _ => Special::None,
    };
    let scope = if scope == VarScope::Variable { VarScope::Any } else { scope };
    VarRef { scope, name: Name::new(name), special }
}
