//! Parameter binding for the emulated cmdlets, as PowerShell does it:
//! named parameters by unambiguous prefix (`-s` is `-Seconds`), switches,
//! `-Name:value`, then positional arguments in order, with the leftovers
//! going to a `ValueFromRemainingArguments` parameter when there is one.

use super::error_record as er;
use super::value::Value;

/// How a parameter takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Switch,
    /// Takes a value; the .NET type name is for error messages.
    Value(&'static str),
}

/// A cmdlet's parameters.
#[derive(Debug)]
pub struct CmdletSpec {
    pub name: &'static str,
    /// The implementing class, for FullyQualifiedErrorId.
    pub class: &'static str,
    pub params: &'static [(&'static str, Kind)],
    /// Parameters bound by position, in order.
    pub positional: &'static [&'static str],
    /// The parameter that takes all remaining positional arguments.
    pub remaining: Option<&'static str>,
}

/// Common parameters every cmdlet accepts (and the emulator ignores).
const COMMON: &[(&str, Kind)] = &[
    ("ErrorAction", Kind::Value("System.Management.Automation.ActionPreference")),
    ("WarningAction", Kind::Value("System.Management.Automation.ActionPreference")),
    ("ErrorVariable", Kind::Value("System.String")),
    ("WarningVariable", Kind::Value("System.String")),
    ("OutVariable", Kind::Value("System.String")),
    ("OutBuffer", Kind::Value("System.Int32")),
    ("Verbose", Kind::Switch),
    ("Debug", Kind::Switch),
];

/// One argument as written on the command line.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `-Name` or `-Name:value`; the span is the parameter token.
    Param { name: String, inline: Option<Value>, span: (usize, usize) },
    /// A value; `text` is how it reads in an error message.
    Value { value: Value, text: String },
}

/// Parameters after binding, by their full names.
#[derive(Debug, Default)]
pub struct Bound {
    pub values: Vec<(&'static str, Value)>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn switch(&self, name: &str) -> bool {
        match self.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Null) | None => false,
            Some(_) => true,
        }
    }
}

/// Bind arguments; `position` gives the position message for a span.
pub fn bind(
    spec: &CmdletSpec,
    args: Vec<Arg>,
    position: &dyn Fn(usize, usize) -> Vec<String>,
    whole: (usize, usize),
) -> Result<Bound, Vec<String>> {
    let mut bound = Bound::default();
    let mut positional: Vec<(Value, String)> = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        match arg {
            Arg::Value { value, text } => positional.push((value, text)),
            Arg::Param { name, inline, span } => {
                let (full, kind) = resolve(spec, &name)
                    .ok_or_else(|| er::parameter_not_found(spec.name, spec.class, &name, position(span.0, span.1)))?;
                let value = match (kind, inline) {
                    (_, Some(v)) => v,
                    (Kind::Switch, None) => Value::Bool(true),
                    (Kind::Value(ty), None) => match args.peek() {
                        Some(Arg::Value { .. }) => match args.next() {
                            Some(Arg::Value { value, .. }) => value,
                            _ => Value::Null,
                        },
                        _ => return Err(er::missing_argument(spec.name, spec.class, full, ty, position(span.0, span.1))),
                    },
                };
                bound.values.push((full, value));
            }
        }
    }
    let free: Vec<&'static str> = spec.positional.iter().copied().filter(|p| bound.get(p).is_none()).collect();
    let mut free = free.into_iter();
    let mut rest = Vec::new();
    let mut in_rest = false;
    for (value, text) in positional {
        if !in_rest {
            match free.next() {
                Some(slot) if Some(slot) == spec.remaining => {
                    in_rest = true;
                    rest.push(value);
                    continue;
                }
                Some(slot) => {
                    bound.values.push((slot, value));
                    continue;
                }
                None => {}
            }
        }
        if in_rest || spec.remaining.is_some_and(|r| bound.get(r).is_none()) {
            in_rest = true;
            rest.push(value);
        } else {
            return Err(er::positional_not_found(spec.name, spec.class, &text, position(whole.0, whole.1)));
        }
    }
    if let Some(remaining) = spec.remaining
        && !rest.is_empty() {
            let value = if rest.len() == 1 { rest.pop().unwrap_or(Value::Null) } else { Value::Array(rest) };
            bound.values.push((remaining, value));
        }
    Ok(bound)
}

/// A parameter by exact name, else by unique prefix.
fn resolve(spec: &CmdletSpec, name: &str) -> Option<(&'static str, Kind)> {
    let all = || spec.params.iter().chain(COMMON.iter());
    if let Some(&(n, k)) = all().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some((n, k));
    }
    let lower = name.to_ascii_lowercase();
    let mut matches = all().filter(|(n, _)| n.to_ascii_lowercase().starts_with(&lower));
    match (matches.next(), matches.next()) {
        (Some(&(n, k)), None) if !name.is_empty() => Some((n, k)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLEEP: CmdletSpec = CmdletSpec {
        name: "Start-Sleep",
        class: "Microsoft.PowerShell.Commands.StartSleepCommand",
        params: &[("Seconds", Kind::Value("System.Int32")), ("Milliseconds", Kind::Value("System.Int32"))],
        positional: &["Seconds"],
        remaining: None,
    };

    fn val(s: &str) -> Arg {
        Arg::Value { value: Value::Str(s.into()), text: s.into() }
    }

    fn param(s: &str) -> Arg {
        Arg::Param { name: s.into(), inline: None, span: (0, 0) }
    }

    fn nowhere(_: usize, _: usize) -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn prefixes_and_positions_bind() {
        let b = bind(&SLEEP, vec![param("s"), val("3")], &nowhere, (0, 0)).unwrap_or_default();
        assert_eq!(b.get("Seconds"), Some(&Value::Str("3".into())));
        let b = bind(&SLEEP, vec![val("4")], &nowhere, (0, 0)).unwrap_or_default();
        assert_eq!(b.get("Seconds"), Some(&Value::Str("4".into())));
    }

    #[test]
    fn unknown_missing_and_extra_arguments_are_errors() {
        let e = bind(&SLEEP, vec![param("Foo")], &nowhere, (0, 0)).err().unwrap_or_default();
        assert!(e[0].contains("matches parameter name 'Foo'"), "{e:?}");
        let e = bind(&SLEEP, vec![param("Seconds")], &nowhere, (0, 0)).err().unwrap_or_default();
        assert!(e[0].contains("Missing an argument for parameter 'Seconds'"), "{e:?}");
        let e = bind(&SLEEP, vec![val("1"), val("2")], &nowhere, (0, 0)).err().unwrap_or_default();
        assert!(e[0].contains("accepts argument '2'"), "{e:?}");
    }
}
