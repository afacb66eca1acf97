//! Parameter binding for cmdlets, as PowerShell does it: named parameters
//! by name, alias or unambiguous prefix (`-s` is `-Seconds`), switches,
//! `-Name:value`, then positional arguments by position, the leftovers to
//! a ValueFromRemainingArguments parameter when there is one; values
//! converted to the parameter's type. The common parameters (-ErrorAction
//! and friends) bind too. Failures are ParameterBindingException records
//! with PowerShell's messages and ids.

use super::super::convert;
use super::super::errors::ErrorRecord;
use super::super::interp::call::Arg;
use super::super::interp::{ActionPref, Flow, Interp, R};
use super::super::object::{Bound, CmdletSpec, Exception, ParamKind, ParamSpec};
use super::super::types;
use super::super::value::Value;
use crate::lab::powershell::ast::Span;

/// The common parameters every cmdlet has.
const COMMON: &[ParamSpec] = &[
    ParamSpec { name: "ErrorAction", kind: ParamKind::Value("System.Management.Automation.ActionPreference"), position: None, pipeline: false, aliases: &["ea"] },
    ParamSpec { name: "WarningAction", kind: ParamKind::Value("System.Management.Automation.ActionPreference"), position: None, pipeline: false, aliases: &["wa"] },
    ParamSpec { name: "ErrorVariable", kind: ParamKind::Value("System.String"), position: None, pipeline: false, aliases: &["ev"] },
    ParamSpec { name: "WarningVariable", kind: ParamKind::Value("System.String"), position: None, pipeline: false, aliases: &["wv"] },
    ParamSpec { name: "OutVariable", kind: ParamKind::Value("System.String"), position: None, pipeline: false, aliases: &["ov"] },
    ParamSpec { name: "OutBuffer", kind: ParamKind::Value("System.Int32"), position: None, pipeline: false, aliases: &["ob"] },
    ParamSpec { name: "Verbose", kind: ParamKind::Switch, position: None, pipeline: false, aliases: &["vb"] },
    ParamSpec { name: "Debug", kind: ParamKind::Switch, position: None, pipeline: false, aliases: &["db"] },
];

/// A ParameterBindingException for cmdlet `spec`.
pub fn binding_error(spec: &CmdletSpec, message: String, id: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(
        Exception::new("System.Management.Automation.ParameterBindingException", message),
        "InvalidArgument",
        format!("{id},{}", spec.class),
    );
    r.command = Some(spec.name.to_string());
    r.activity = spec.name.to_string();
    r
}

fn find<'a>(spec: &'a CmdletSpec, name: &str) -> Result<&'a ParamSpec, Vec<&'a ParamSpec>> {
    let lower = name.to_ascii_lowercase();
    let all = spec.params.iter().chain(COMMON.iter());
    let mut prefix = Vec::new();
    for p in all {
        if p.name.eq_ignore_ascii_case(&lower) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(&lower)) {
            return Ok(p);
        }
        if p.name.to_ascii_lowercase().starts_with(&lower) {
            prefix.push(p);
        }
    }
    if prefix.len() == 1 { Ok(prefix[0]) } else { Err(prefix) }
}

/// Bind `args` to `spec`'s parameters.
pub fn bind(it: &mut Interp<'_>, spec: &'static CmdletSpec, args: Vec<Arg>) -> R<Bound> {
    let mut bound = Bound::default();
    let mut positional: Vec<(Value, std::sync::Arc<str>, Span)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match &args[i] {
            Arg::Named { name, value, span } => {
                let p = match find(spec, name) {
                    Ok(p) => p,
                    Err(many) if many.len() > 1 => {
                        let names: Vec<String> = many.iter().map(|p| format!("-{}", p.name)).collect();
                        return it.fail(
                            binding_error(
                                spec,
                                format!("Parameter cannot be processed because the parameter name '{name}' is ambiguous. Possible matches include: {}.", names.join(" ")),
                                "AmbiguousParameter",
                            ),
                            *span,
                        );
                    }
                    Err(_) => {
                        return it.fail(binding_error(spec, format!("A parameter cannot be found that matches parameter name '{name}'."), "NamedParameterNotFound"), *span);
                    }
                };
                let v = match (p.kind, value) {
                    (ParamKind::Switch, Some(v)) => Value::Bool(v.is_true_lossy()),
                    (ParamKind::Switch, None) => Value::Bool(true),
                    (ParamKind::Value(_), Some(v)) => v.clone(),
                    (ParamKind::Value(ty), None) => match args.get(i + 1) {
                        Some(Arg::Positional { value, .. }) => {
                            i += 1;
                            value.clone()
                        }
                        _ => {
                            return it.fail(
                                binding_error(spec, format!("Missing an argument for parameter '{}'. Specify a parameter of type '{ty}' and try again.", p.name), "MissingArgument"),
                                *span,
                            );
                        }
                    },
                };
                let v = convert_param(it, spec, p, v, *span)?;
                if bound.get(p.name).is_some() {
                    return it.fail(
                        binding_error(spec, format!("Cannot bind parameter because parameter '{}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", p.name), "ParameterAlreadyBound"),
                        *span,
                    );
                }
                bound.set(p.name, v);
            }
            Arg::Positional { value, text, span } => positional.push((value.clone(), text.clone(), *span)),
        }
        i += 1;
    }
    let mut slots: Vec<&ParamSpec> = spec.params.iter().filter(|p| p.position.is_some() && bound.get(p.name).is_none()).collect();
    slots.sort_by_key(|p| p.position);
    let mut slots = slots.into_iter();
    let mut rest = Vec::new();
    for (v, text, span) in positional {
        match slots.next() {
            Some(p) => {
                let v = convert_param(it, spec, p, v, span)?;
                bound.set(p.name, v);
            }
            None => rest.push((v, text, span)),
        }
    }
    if !rest.is_empty() {
        match spec.remaining.and_then(|r| spec.params.iter().find(|p| p.name == r)) {
            Some(p) => {
                let mut items: Vec<Value> = match bound.get(p.name) {
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                items.extend(rest.into_iter().map(|(v, _, _)| v));
                bound.set(p.name, Value::array(items));
            }
            None => {
                let (_, text, span) = &rest[0];
                return it.fail(
                    binding_error(spec, format!("A positional parameter cannot be found that accepts argument '{text}'."), "PositionalParameterNotFound"),
                    *span,
                );
            }
        }
    }
    Ok(bound)
}

/// Convert a value to a parameter's type.
fn convert_param(it: &mut Interp<'_>, spec: &CmdletSpec, p: &ParamSpec, v: Value, span: Span) -> R<Value> {
    let ParamKind::Value(ty) = p.kind else { return Ok(v) };
    if p.name == "ErrorAction" || p.name == "WarningAction" {
        let t = convert::to_string(&v, &mut it.cx);
        if ActionPref::parse(&t).is_none() {
            return it.fail(
                binding_error(
                    spec,
                    format!("Cannot bind parameter '{}'. Cannot convert value \"{t}\" to type \"{ty}\". Error: \"Unable to match the identifier name {t} to a valid enumerator name. Specify one of the following enumerator names and try again:\nSilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend\"", p.name),
                    "CannotConvertArgumentNoMessage",
                ),
                span,
            );
        }
        return Ok(v);
    }
    let elem = ty.strip_suffix("[]");
    let Some(t) = types::resolve(elem.unwrap_or(ty), &[]) else { return Ok(v) };
    if matches!(t, types::TypeRef::Prim(types::Prim::Object | types::Prim::PSObject)) {
        return Ok(v);
    }
    let target = if elem.is_some() { types::TypeRef::Array(std::sync::Arc::new(t)) } else { t };
    match convert::convert(&v, &target, &mut it.cx) {
        Ok(x) => Ok(x),
        Err(e) => {
            let text = convert::to_string(&v, &mut it.cx);
            let detail = match e.exception.message.split_once("Error: ") {
                Some((_, d)) => format!(" Error: {d}"),
                None => String::new(),
            };
            Err(Flow::error(
                binding_error(spec, format!("Cannot bind parameter '{}'. Cannot convert value \"{text}\" to type \"{ty}\".{detail}", p.name), "CannotConvertArgumentNoMessage")
                    .at(it.pos(span)),
            ))
        }
    }
}

/// The `-ErrorAction` given to a cmdlet, if any.
pub fn error_action(it: &mut Interp<'_>, bound: &Bound) -> Option<ActionPref> {
    let v = bound.get("ErrorAction")?.clone();
    ActionPref::parse(&convert::to_string(&v, &mut it.cx))
}
