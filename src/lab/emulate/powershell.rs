//! A small, honest PowerShell emulator for lab hosts: it runs the handful
//! of statements that WinRM clients and smoke tests send (`hostname`,
//! `whoami`, `Write-Output`, `$env:COMPUTERNAME`, `$PSVersionTable`,
//! `[Console]::Error.WriteLine`, `Write-Error`, `throw`, `exit`,
//! `Restart-Computer`, native `shutdown.exe` and `$LASTEXITCODE`, ...) and
//! answers everything else with an error record: an unknown command gets
//! PowerShell's own CommandNotFoundException; a construct the emulator does
//! not implement (pipelines, assignments, blocks) gets a record saying so.
//! It never pretends to have run something it did not.
//!
//! Errors go to stderr as CLIXML, as powershell.exe writes them when run
//! non-interactively. Statements run in order; non-terminating errors let
//! the script go on; `throw` and `exit` stop it.

use super::CommandResult;
use super::binder::Arg;
use super::clixml::StderrSink;
use super::cmdlets;
use super::error_record::{self as er, SourceMap};
use super::power::PowerDesk;
use super::tokenizer::{self, StrLit, StrPart, Statement, Tok, Token};
use super::value::{self, Value};

/// Who and where the script runs.
#[derive(Debug, Clone, Copy)]
pub struct HostContext<'a> {
    /// Computer name (`hostname`, `$env:COMPUTERNAME`).
    pub computer_name: &'a str,
    /// The account, `DOMAIN\user`.
    pub user: &'a str,
    /// `$PSVersionTable.PSVersion` as text.
    pub ps_version: &'a str,
}

impl HostContext<'_> {
    /// The user part of the account.
    pub fn user_name(&self) -> &str {
        self.user.rsplit_once('\\').map(|(_, u)| u).unwrap_or(self.user)
    }

    /// The domain part (the computer name for a local account).
    pub fn user_domain(&self) -> &str {
        self.user.rsplit_once('\\').map(|(d, _)| d).unwrap_or(self.computer_name)
    }

    /// What `whoami` prints: `domain\user`, lower case.
    pub fn whoami(&self) -> String {
        format!("{}\\{}", self.user_domain(), self.user_name()).to_lowercase()
    }
}

/// How the exit code is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitRule {
    /// `powershell -EncodedCommand <script>`, and a payload run by
    /// cauterize's bootstrap (which exits 1 when `$?` is false after the
    /// payload): 1 when the last statement failed or the script threw,
    /// else 0; `exit N` wins.
    Command,
}

/// Why a statement did not complete normally.
#[derive(Debug)]
pub enum Fail {
    /// A non-terminating (or statement-terminating) error: the record is
    /// written, `$?` becomes false, the script goes on.
    Error(Vec<String>),
    /// A script-terminating error (`throw`): written, and the script stops.
    Throw(Vec<String>),
    /// Failed without an error record (a native program's non-zero exit
    /// code): `$?` becomes false, the script goes on.
    Failed,
    /// `exit N`.
    Exit(i32),
}

/// The emulator's state while a script runs.
pub struct Interp<'a> {
    pub ctx: HostContext<'a>,
    pub src: &'a str,
    map: SourceMap<'a>,
    pub stdout: String,
    pub stderr: StderrSink,
    /// The host's power (`Restart-Computer`, `shutdown.exe`).
    pub power: PowerDesk<'a>,
    /// `$LASTEXITCODE`: the exit code of the last native program.
    pub last_exit_code: Option<i32>,
}

/// Words that start statements the emulator does not implement.
const KEYWORDS: &[&str] = &[
    "if", "elseif", "else", "switch", "foreach", "for", "while", "do", "until", "function", "filter", "workflow",
    "try", "catch", "finally", "trap", "return", "break", "continue", "param", "begin", "process", "end", "class",
    "enum", "data", "dynamicparam", "using",
];

/// Run a script on a host whose power is `power`; stdout and stderr are
/// UTF-8 (the lab's shells run with code page 65001).
pub fn run(script: &str, ctx: HostContext<'_>, power: PowerDesk<'_>, rule: ExitRule) -> CommandResult {
    let mut interp = Interp::new(script, ctx, power);
    let statements = match tokenizer::tokenize(script) {
        Ok(s) => s,
        Err(e) => {
            let pos = interp.map.position(e.offset, e.offset + e.len);
            interp.stderr.record(&er::parse_error(&e.message, e.id, pos));
            return interp.finish(1);
        }
    };
    let mut last_ok = true;
    for st in &statements {
        match interp.statement(st) {
            Ok(values) => {
                interp.stdout.push_str(&value::format_output(values));
                last_ok = true;
            }
            Err(Fail::Error(lines)) => {
                interp.stderr.record(&lines);
                last_ok = false;
            }
            Err(Fail::Failed) => last_ok = false,
            Err(Fail::Throw(lines)) => {
                interp.stderr.record(&lines);
                return interp.finish(1);
            }
            Err(Fail::Exit(code)) => return interp.finish(code),
        }
    }
    let code = match rule {
        ExitRule::Command if !last_ok => 1,
        _ => 0,
    };
    interp.finish(code)
}

/// A statement's tokens and span, for error messages.
pub struct Span<'t> {
    pub tokens: &'t [Token],
    pub start: usize,
    pub end: usize,
}

impl<'a> Interp<'a> {
    fn new(src: &'a str, ctx: HostContext<'a>, power: PowerDesk<'a>) -> Self {
        Interp {
            ctx,
            src,
            map: SourceMap::new(src),
            stdout: String::new(),
            stderr: StderrSink::new(),
            power,
            last_exit_code: None,
        }
    }

    fn finish(self, exit_code: i32) -> CommandResult {
        CommandResult { stdout: self.stdout.into_bytes(), stderr: self.stderr.finish(), exit_code }
    }

    /// The position message for a span of the script.
    pub fn position(&self, start: usize, end: usize) -> Vec<String> {
        self.map.position(start, end)
    }

    /// An "unsupported" error for a span.
    pub fn unsupported(&self, start: usize, end: usize) -> Fail {
        let text = self.src.get(start..end).unwrap_or("").trim();
        let text: String = text.chars().take(200).collect();
        Fail::Error(er::unsupported(&text, self.position(start, end)))
    }

    fn statement(&mut self, st: &Statement) -> Result<Vec<Value>, Fail> {
        self.pipeline(&Span { tokens: &st.tokens, start: st.start, end: st.end })
    }

    /// A statement or the inside of `( ... )`.
    fn pipeline(&mut self, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
        let Some(first) = span.tokens.first() else { return Ok(Vec::new()) };
        match &first.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("exit") => self.exit(span),
            Tok::Word(w) if w.eq_ignore_ascii_case("throw") => self.throw(span),
            Tok::Word(w) if KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) => {
                Err(self.unsupported(span.start, span.end))
            }
            Tok::Word(w) if parse_number(w).is_none() => self.command(w, first, &span.tokens[1..], span),
            Tok::Other('&') => match span.tokens.get(1) {
                Some(t @ Token { tok: Tok::Str(s), .. }) => {
                    let name = self.string(s, t)?;
                    self.command(&name, t, &span.tokens[2..], span)
                }
                Some(t @ Token { tok: Tok::Word(w), .. }) => self.command(w, t, &span.tokens[2..], span),
                _ => Err(self.unsupported(span.start, span.end)),
            },
            _ => {
                let mut i = 0;
                let v = self.expression(span.tokens, &mut i)?;
                if i != span.tokens.len() {
                    return Err(self.unsupported(span.start, span.end));
                }
                if matches!(v, Value::VersionTable | Value::Writer { .. }) {
                    return Err(self.unsupported(span.start, span.end));
                }
                Ok(vec![v])
            }
        }
    }

    fn exit(&mut self, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
        if span.tokens.len() == 1 {
            return Err(Fail::Exit(0));
        }
        let mut i = 1;
        let v = self.expression(span.tokens, &mut i)?;
        if i != span.tokens.len() {
            return Err(self.unsupported(span.start, span.end));
        }
        match as_int(&v) {
            Some(n) => Err(Fail::Exit(n as i32)),
            None => Err(self.unsupported(span.start, span.end)),
        }
    }

    fn throw(&mut self, span: &Span<'_>) -> Result<Vec<Value>, Fail> {
        let position = self.position(span.start, span.end);
        if span.tokens.len() == 1 {
            return Err(Fail::Throw(er::thrown(None, position)));
        }
        let mut i = 1;
        let v = self.expression(span.tokens, &mut i)?;
        if i != span.tokens.len() {
            return Err(self.unsupported(span.start, span.end));
        }
        Err(Fail::Throw(er::thrown(Some(&v.to_text()), position)))
    }

    /// A command and its arguments.
    fn command(&mut self, name: &str, name_tok: &Token, tokens: &[Token], span: &Span<'_>) -> Result<Vec<Value>, Fail> {
        let args = self.arguments(tokens, span)?;
        match cmdlets::run(self, name, args, span) {
            Some(result) => result,
            None => Err(Fail::Error(er::command_not_found(name, self.position(name_tok.start, name_tok.end)))),
        }
    }

    /// Command-mode arguments.
    fn arguments(&mut self, tokens: &[Token], span: &Span<'_>) -> Result<Vec<Arg>, Fail> {
        let mut args = Vec::new();
        let mut i = 0;
        while let Some(t) = tokens.get(i) {
            if let Tok::Word(w) = &t.tok
                && let Some(name) = parameter_name(w) {
                    i += 1;
                    let (name, inline) = match name.split_once(':') {
                        Some((n, v)) if !v.is_empty() => {
                            // `-Confirm:$false`: the variable's value.
                            let value = v.strip_prefix('$').and_then(|var| self.variable(var));
                            (n.to_string(), Some(value.unwrap_or_else(|| word_value(v))))
                        }
                        Some((n, _)) => {
                            // `-Name:` followed by a value token.
                            let v = self.argument_value(tokens, &mut i, span)?;
                            (n.to_string(), Some(v.0))
                        }
                        None => (name.to_string(), None),
                    };
                    args.push(Arg::Param { name, inline, span: (t.start, t.end) });
                    continue;
                }
            let (first, text) = self.argument_value(tokens, &mut i, span)?;
            let mut items = vec![first];
            while matches!(tokens.get(i).map(|t| &t.tok), Some(Tok::Comma)) {
                i += 1;
                items.push(self.argument_value(tokens, &mut i, span)?.0);
            }
            let value = if items.len() == 1 { items.pop().unwrap_or(Value::Null) } else { Value::Array(items) };
            args.push(Arg::Value { value, text });
        }
        Ok(args)
    }

    /// One argument value: a variable or expression with its members, or
    /// adjacent words and strings joined into one string.
    fn argument_value(&mut self, tokens: &[Token], i: &mut usize, span: &Span<'_>) -> Result<(Value, String), Fail> {
        let Some(t) = tokens.get(*i) else { return Err(self.unsupported(span.start, span.end)) };
        let start = t.start;
        match &t.tok {
            Tok::Var(_) | Tok::Type(_) | Tok::LParen => {
                let v = self.postfix_primary(tokens, i)?;
                let end = tokens.get(i.saturating_sub(1)).map(|t| t.end).unwrap_or(start);
                Ok((v, self.src.get(start..end).unwrap_or("").to_string()))
            }
            Tok::Word(_) | Tok::Str(_) => {
                let mut text = String::new();
                let mut count = 0;
                let mut single_word = None;
                while let Some(t) = tokens.get(*i) {
                    if count > 0 && t.space_before {
                        break;
                    }
                    match &t.tok {
                        Tok::Word(w) => {
                            single_word = if count == 0 { Some(w.clone()) } else { None };
                            text.push_str(w);
                        }
                        Tok::Str(s) => {
                            single_word = None;
                            text.push_str(&self.string(s, t)?);
                        }
                        _ => break,
                    }
                    count += 1;
                    *i += 1;
                }
                let value = match single_word.filter(|_| count == 1) {
                    Some(w) => word_value(&w),
                    None => Value::Str(text.clone()),
                };
                Ok((value, text))
            }
            _ => Err(self.unsupported(span.start, span.end)),
        }
    }

    /// Expression mode: a primary with members, or a comma list of them.
    pub fn expression(&mut self, tokens: &[Token], i: &mut usize) -> Result<Value, Fail> {
        let first = self.postfix_primary(tokens, i)?;
        if !matches!(tokens.get(*i).map(|t| &t.tok), Some(Tok::Comma)) {
            return Ok(first);
        }
        let mut items = vec![first];
        while matches!(tokens.get(*i).map(|t| &t.tok), Some(Tok::Comma)) {
            *i += 1;
            items.push(self.postfix_primary(tokens, i)?);
        }
        Ok(Value::Array(items))
    }

    /// A primary followed by `.Member`, `.Method(args)` and `::Static`.
    fn postfix_primary(&mut self, tokens: &[Token], i: &mut usize) -> Result<Value, Fail> {
        let Some(t) = tokens.get(*i) else {
            let end = tokens.last().map(|t| t.end).unwrap_or(0);
            return Err(self.unsupported(tokens.first().map(|t| t.start).unwrap_or(0), end));
        };
        let start = t.start;
        *i += 1;
        let mut value = match &t.tok {
            Tok::Str(s) => Value::Str(self.string(s, t)?),
            Tok::Word(w) => match parse_number(w) {
                Some(v) => v,
                None => return Err(self.unsupported(t.start, t.end)),
            },
            Tok::Var(name) => match self.variable(name) {
                Some(v) => v,
                None => return Err(self.unsupported(t.start, t.end)),
            },
            Tok::Type(ty) => return self.static_member(ty, tokens, i, start),
            Tok::LParen => {
                let close = matching_paren(tokens, *i - 1).ok_or_else(|| self.unsupported(t.start, t.end))?;
                let inner = &tokens[*i..close];
                let span = Span {
                    tokens: inner,
                    start: inner.first().map(|t| t.start).unwrap_or(t.start),
                    end: inner.last().map(|t| t.end).unwrap_or(t.end),
                };
                *i = close + 1;
                let mut values = self.pipeline(&span)?;
                match values.len() {
                    0 => Value::Null,
                    1 => values.pop().unwrap_or(Value::Null),
                    _ => Value::Array(values),
                }
            }
            _ => return Err(self.unsupported(t.start, t.end)),
        };
        while matches!(tokens.get(*i).map(|t| &t.tok), Some(Tok::Dot)) {
            let member = match tokens.get(*i + 1) {
                Some(Token { tok: Tok::Word(m), .. }) => m.clone(),
                _ => return Err(self.unsupported(start, tokens[*i].end)),
            };
            *i += 2;
            let call_args = self.call_arguments(tokens, i)?;
            let end = tokens.get(i.saturating_sub(1)).map(|t| t.end).unwrap_or(start);
            value = self.member(value, &member, call_args, start, end)?;
        }
        Ok(value)
    }

    /// `(a, b)` right after a method name; `None` when it is a property.
    fn call_arguments(&mut self, tokens: &[Token], i: &mut usize) -> Result<Option<Vec<Value>>, Fail> {
        match tokens.get(*i) {
            Some(t @ Token { tok: Tok::LParen, space_before: false, .. }) => {
                let close = matching_paren(tokens, *i).ok_or_else(|| self.unsupported(t.start, t.end))?;
                let inner = &tokens[*i + 1..close];
                *i = close + 1;
                let mut args = Vec::new();
                let mut j = 0;
                while j < inner.len() {
                    args.push(self.postfix_primary(inner, &mut j)?);
                    match inner.get(j).map(|t| &t.tok) {
                        Some(Tok::Comma) => j += 1,
                        None => {}
                        Some(_) => return Err(self.unsupported(t.start, tokens[close].end)),
                    }
                }
                Ok(Some(args))
            }
            _ => Ok(None),
        }
    }

    /// `[Type]::Member` and `[Type]::Method(args)`, then further members.
    fn static_member(&mut self, ty: &str, tokens: &[Token], i: &mut usize, start: usize) -> Result<Value, Fail> {
        let (Some(Tok::ColonColon), Some(Tok::Word(member))) =
            (tokens.get(*i).map(|t| &t.tok), tokens.get(*i + 1).map(|t| &t.tok))
        else {
            let end = tokens.get(*i).map(|t| t.end).unwrap_or(start);
            return Err(self.unsupported(start, end));
        };
        let member = member.to_ascii_lowercase();
        *i += 2;
        let args = self.call_arguments(tokens, i)?;
        let end = tokens.get(i.saturating_sub(1)).map(|t| t.end).unwrap_or(start);
        let ty = ty.to_ascii_lowercase();
        let ty = ty.strip_prefix("system.").unwrap_or(&ty);
        let mut value = match (ty, member.as_str(), args) {
            ("environment", "machinename", None) => Value::Str(self.ctx.computer_name.to_string()),
            ("environment", "username", None) => Value::Str(self.ctx.user_name().to_string()),
            ("environment", "userdomainname", None) => Value::Str(self.ctx.user_domain().to_string()),
            ("environment", "newline", None) => Value::Str("\r\n".to_string()),
            ("console", "out", None) => Value::Writer { stderr: false },
            ("console", "error", None) => Value::Writer { stderr: true },
            ("console", m @ ("writeline" | "write"), Some(args)) => {
                self.write_to(false, m == "writeline", &args, start, end)?;
                Value::Null
            }
            _ => return Err(self.unsupported(start, end)),
        };
        while matches!(tokens.get(*i).map(|t| &t.tok), Some(Tok::Dot)) {
            let member = match tokens.get(*i + 1) {
                Some(Token { tok: Tok::Word(m), .. }) => m.clone(),
                _ => return Err(self.unsupported(start, tokens[*i].end)),
            };
            *i += 2;
            let call_args = self.call_arguments(tokens, i)?;
            let end = tokens.get(i.saturating_sub(1)).map(|t| t.end).unwrap_or(start);
            value = self.member(value, &member, call_args, start, end)?;
        }
        Ok(value)
    }

    /// A property (`args` None) or method of a value.
    fn member(&mut self, value: Value, member: &str, args: Option<Vec<Value>>, start: usize, end: usize) -> Result<Value, Fail> {
        let lower = member.to_ascii_lowercase();
        match (&value, lower.as_str(), args) {
            (Value::Writer { stderr }, m @ ("writeline" | "write"), Some(args)) => {
                self.write_to(*stderr, m == "writeline", &args, start, end)?;
                Ok(Value::Null)
            }
            (Value::VersionTable, "psversion", None) => Ok(Value::Version(self.ctx.ps_version.to_string())),
            (Value::Version(v), m, None) => {
                value::version_member(v, m).ok_or_else(|| self.unsupported(start, end))
            }
            (Value::Str(s), "length", None) => Ok(Value::Int(s.encode_utf16().count() as i64)),
            (Value::Str(s), "toupper", Some(a)) if a.is_empty() => Ok(Value::Str(s.to_uppercase())),
            (Value::Str(s), "tolower", Some(a)) if a.is_empty() => Ok(Value::Str(s.to_lowercase())),
            (Value::Str(s), "trim", Some(a)) if a.is_empty() => Ok(Value::Str(s.trim().to_string())),
            (Value::Null | Value::VersionTable | Value::Writer { .. }, _, _) => Err(self.unsupported(start, end)),
            (v, "tostring", Some(a)) if a.is_empty() => Ok(Value::Str(v.to_text())),
            _ => Err(self.unsupported(start, end)),
        }
    }

    /// `[Console]::Out.WriteLine(x)` / `[Console]::Error.Write(x)`.
    fn write_to(&mut self, stderr: bool, line: bool, args: &[Value], start: usize, end: usize) -> Result<(), Fail> {
        if args.len() > 1 {
            return Err(self.unsupported(start, end));
        }
        let mut text = args.first().map(Value::to_text).unwrap_or_default();
        if line {
            text.push_str("\r\n");
        }
        if stderr {
            self.stderr.raw(&text);
        } else {
            self.stdout.push_str(&text);
        }
        Ok(())
    }

    /// The value of `$name`, if the emulator knows it.
    fn variable(&self, name: &str) -> Option<Value> {
        let lower = name.to_ascii_lowercase();
        if let Some(var) = lower.strip_prefix("env:") {
            let value = match var {
                "computername" => self.ctx.computer_name.to_string(),
                "username" => self.ctx.user_name().to_string(),
                "userdomain" => self.ctx.user_domain().to_string(),
                "systemroot" | "windir" => r"C:\Windows".to_string(),
                "os" => "Windows_NT".to_string(),
                "processor_architecture" => "AMD64".to_string(),
                // Not in the host model: unset, as PowerShell reports it.
                _ => return Some(Value::Null),
            };
            return Some(Value::Str(value));
        }
        match lower.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            "psversiontable" => Some(Value::VersionTable),
            "lastexitcode" => Some(self.last_exit_code.map_or(Value::Null, |c| Value::Int(i64::from(c)))),
            _ => None,
        }
    }

    /// A string literal's value, expanding variables in double quotes.
    pub fn string(&self, s: &StrLit, tok: &Token) -> Result<String, Fail> {
        match s {
            StrLit::Single(text) => Ok(text.clone()),
            StrLit::Double(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        StrPart::Lit(t) => out.push_str(t),
                        StrPart::Var(name) => match self.variable(name) {
                            Some(Value::VersionTable) | None => return Err(self.unsupported(tok.start, tok.end)),
                            Some(v) => out.push_str(&v.to_text()),
                        },
                        StrPart::SubExpr(_) => return Err(self.unsupported(tok.start, tok.end)),
                    }
                }
                Ok(out)
            }
        }
    }
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (idx, t) in tokens.iter().enumerate().skip(open) {
        match t.tok {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(idx);
                }
            }
            _ => {}
        }
    }
    None
}

/// `-Name` (a parameter) as opposed to `-5` or `-` (values).
fn parameter_name(word: &str) -> Option<&str> {
    let rest = word.strip_prefix('-')?;
    rest.chars().next().filter(|c| c.is_alphabetic() || *c == '_').map(|_| rest)
}

/// A bare word in argument mode: a number when it reads as one.
fn word_value(word: &str) -> Value {
    parse_number(word).unwrap_or_else(|| Value::Str(word.to_string()))
}

/// PowerShell number literals: decimal integers, `0x` hex, decimals with a
/// point or exponent.
pub fn parse_number(word: &str) -> Option<Value> {
    let (neg, body) = match word.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, word),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let n = i64::from_str_radix(hex, 16).ok()?;
        return Some(Value::Int(if neg { n.checked_neg()? } else { n }));
    }
    let starts_numeric = body.starts_with(|c: char| c.is_ascii_digit())
        || (body.starts_with('.') && body[1..].starts_with(|c: char| c.is_ascii_digit()));
    if !starts_numeric || !body.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
        return None;
    }
    if let Ok(n) = word.parse::<i64>() {
        return Some(Value::Int(n));
    }
    word.parse::<f64>().ok().map(Value::Double)
}

/// An integer from a value (`exit`, `Start-Sleep`).
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::Double(d) if d.is_finite() => Some(d.round() as i64),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}
