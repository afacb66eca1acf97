//! The WQL `WHERE` subset `Get-WmiObject -Filter` takes: comparisons of a
//! property with a literal (`=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`,
//! `LIKE`, `IS [NOT] NULL`) joined by `AND`, `OR`, `NOT` and brackets.
//! String comparison is case-insensitive, as WMI's is; `LIKE` takes `%`,
//! `_` and `[...]`. A filter that does not parse, or names a property the
//! class does not have, is WMI's "Invalid query" (the caller raises it).

use crate::lab::powershell::value::Value;

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// A comparison operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Cmp(String, Op, Lit),
    IsNull(String, bool),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
    LParen,
    RParen,
}

fn lex(text: &str) -> Option<Vec<Tok>> {
    let c: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '\'' || ch == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let x = *c.get(i)?;
                if x == '\\' {
                    s.push(*c.get(i + 1)?);
                    i += 2;
                } else if x == ch {
                    i += 1;
                    break;
                } else {
                    s.push(x);
                    i += 1;
                }
            }
            out.push(Tok::Str(s));
        } else if ch.is_ascii_digit() || (ch == '-' && c.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(c[start..i].iter().collect::<String>().parse().ok()?));
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else if ch == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if ch == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else {
            let two: String = c[i..(i + 2).min(c.len())].iter().collect();
            let sym = ["<>", "!=", "<=", ">="].into_iter().find(|s| *s == two).or_else(|| ["=", "<", ">"].into_iter().find(|s| s.starts_with(ch)))?;
            i += sym.len();
            out.push(Tok::Sym(sym));
        }
    }
    Some(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }
    fn or(&mut self) -> Option<Filter> {
        let mut l = self.and()?;
        while self.peek_word("OR") {
            self.at += 1;
            l = Filter::Or(Box::new(l), Box::new(self.and()?));
        }
        Some(l)
    }
    fn and(&mut self) -> Option<Filter> {
        let mut l = self.unary()?;
        while self.peek_word("AND") {
            self.at += 1;
            l = Filter::And(Box::new(l), Box::new(self.unary()?));
        }
        Some(l)
    }
    fn unary(&mut self) -> Option<Filter> {
        if self.peek_word("NOT") {
            self.at += 1;
            return Some(Filter::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.at) == Some(&Tok::LParen) {
            self.at += 1;
            let f = self.or()?;
            (self.toks.get(self.at) == Some(&Tok::RParen)).then_some(())?;
            self.at += 1;
            return Some(f);
        }
        let Some(Tok::Word(prop)) = self.toks.get(self.at).cloned() else { return None };
        self.at += 1;
        if self.peek_word("IS") {
            self.at += 1;
            let not = self.peek_word("NOT");
            if not {
                self.at += 1;
            }
            self.peek_word("NULL").then_some(())?;
            self.at += 1;
            return Some(Filter::IsNull(prop, !not));
        }
        let op = match self.toks.get(self.at)? {
            Tok::Sym("=") => Op::Eq,
            Tok::Sym("<>") | Tok::Sym("!=") => Op::Ne,
            Tok::Sym("<") => Op::Lt,
            Tok::Sym(">") => Op::Gt,
            Tok::Sym("<=") => Op::Le,
            Tok::Sym(">=") => Op::Ge,
            Tok::Word(w) if w.eq_ignore_ascii_case("LIKE") => Op::Like,
            _ => return None,
        };
        self.at += 1;
        let lit = match self.toks.get(self.at)? {
            Tok::Str(s) => Lit::Str(s.clone()),
            Tok::Num(n) => Lit::Num(*n),
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => Lit::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => Lit::Bool(false),
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => Lit::Null,
            _ => return None,
        };
        self.at += 1;
        Some(Filter::Cmp(prop, op, lit))
    }
}

/// Parse a `-Filter` text; `None` is "Invalid query".
pub fn parse(text: &str) -> Option<Filter> {
    let mut p = Parser { toks: lex(text)?, at: 0 };
    let f = p.or()?;
    (p.at == p.toks.len()).then_some(f)
}

impl Filter {
    /// Every property the filter names.
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Filter::Cmp(p, _, _) | Filter::IsNull(p, _) => vec![p.as_str()],
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut v = a.properties();
                v.extend(b.properties());
                v
            }
            Filter::Not(a) => a.properties(),
        }
    }

    /// Whether an object whose property `prop` reads as `get(prop)`
    /// passes. A comparison with a NULL property is false, as in SQL.
    pub fn matches(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(get) && b.matches(get),
            Filter::Or(a, b) => a.matches(get) || b.matches(get),
            Filter::Not(a) => !a.matches(get),
            Filter::IsNull(p, want_null) => get(p).is_null() == *want_null,
            Filter::Cmp(p, op, lit) => compare(&get(p), op, lit),
        }
    }
}

fn compare(v: &Value, op: &Op, lit: &Lit) -> bool {
    use std::cmp::Ordering;
    let ord = match (v, lit) {
        (Value::Null, _) | (_, Lit::Null) => return false,
        (Value::Bool(b), Lit::Bool(l)) => b.cmp(l),
        (Value::Int(n), Lit::Num(l)) => f64::from(*n).partial_cmp(l).unwrap_or(Ordering::Less),
        (Value::Long(n), Lit::Num(l)) => (*n as f64).partial_cmp(l).unwrap_or(Ordering::Less),
        (Value::Str(s), Lit::Str(l)) => {
            let s = s.to_string();
            if *op == Op::Like {
                return like(&s.to_lowercase().chars().collect::<Vec<_>>(), &l.to_lowercase().chars().collect::<Vec<_>>());
            }
            s.to_lowercase().cmp(&l.to_lowercase())
        }
        (Value::Str(s), Lit::Num(l)) => match s.to_string().parse::<f64>() {
            Ok(n) => n.partial_cmp(l).unwrap_or(Ordering::Less),
            Err(_) => return false,
        },
        _ => return false,
    };
    match op {
        Op::Eq => ord.is_eq(),
        Op::Ne => ord.is_ne(),
        Op::Lt => ord.is_lt(),
        Op::Gt => ord.is_gt(),
        Op::Le => ord.is_le(),
        Op::Ge => ord.is_ge(),
        Op::Like => false,
    }
}

/// WQL LIKE: `%` any run, `_` one character, `[abc]`/`[a-z]`/`[^a]` a set.
fn like(s: &[char], p: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('%') => (0..=s.len()).any(|i| like(&s[i..], &p[1..])),
        Some('_') => !s.is_empty() && like(&s[1..], &p[1..]),
        Some('[') => {
            let Some(end) = p.iter().position(|c| *c == ']') else { return !s.is_empty() && s[0] == '[' && like(&s[1..], &p[1..]) };
            let Some(&c) = s.first() else { return false };
            let mut set = &p[1..end];
            let negate = set.first() == Some(&'^');
            if negate {
                set = &set[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != negate && like(&s[1..], &p[end + 1..])
        }
        Some(x) => s.first() == Some(x) && like(&s[1..], &p[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str) -> Value {
        match name.to_ascii_lowercase().as_str() {
            "processid" => Value::Int(1234),
            "name" => Value::str("Rundll32.EXE"),
            "commandline" => Value::Null,
            _ => Value::Null,
        }
    }

    #[test]
    fn comparisons_and_logic_as_wmi_evaluates_them() {
        let yes = ["ProcessId = 1234", "processid=1234", "Name = 'rundll32.exe'", "Name like 'rund%'", "Name LIKE '_undll32.[e]xe'", "ProcessId > 10 AND NOT Name = 'x'", "(ProcessId < 0) OR Name <> 'x'", "CommandLine IS NULL", "Name = \"RUNDLL32.exe\""];
        for f in yes {
            assert!(parse(f).expect(f).matches(&obj), "{f}");
        }
        // A NULL property compares false with anything (SQL's rule, WQL's too).
        let no = ["ProcessId = 4", "Name like 'x%'", "CommandLine = ''", "CommandLine <> ''", "CommandLine IS NOT NULL", "Name like '[^r]%'"];
        for f in no {
            assert!(!parse(f).expect(f).matches(&obj), "{f}");
        }
    }

    #[test]
    fn malformed_filters_are_invalid_queries() {
        for f in ["ProcessId =", "= 3", "Name = 'open", "ProcessId = 3 AND", "(Name = 'a'", "Name == 'a'"] {
            assert!(parse(f).is_none(), "{f}");
        }
        assert_eq!(parse("A = 1 and (B like 'x' or C is null)").unwrap().properties(), vec!["A", "B", "C"]);
    }
}
