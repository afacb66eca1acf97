//! Path cmdlets: Split-Path and Join-Path (text operations on Windows
//! paths, as the FileSystem provider does them), and Get-Item for the WSMan
//! drive (`WSMan:\localhost\Shell\MaxShellsPerUser`, which the probe reads;
//! the drive needs an administrator). Get-Item on other providers belongs
//! to the file-system and registry facades.

use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet::misc::PsObject;
use crate::lab::powershell::errors::{self, ErrorRecord, Position};
use crate::lab::powershell::interp::call::Stage;
use crate::lab::powershell::interp::out::Out;
use crate::lab::powershell::interp::{Flow, Interp, R};
use crate::lab::powershell::object::{Bound, CmdletSpec, Exception, ParamKind as K, ParamSpec as P};
use crate::lab::powershell::value::Value;

const PATHS: K = K::Value("System.String[]");

pub static SPLIT_PATH: CmdletSpec = CmdletSpec {
    name: "Split-Path",
    class: "Microsoft.PowerShell.Commands.SplitPathCommand",
    params: &[
        P { name: "Path", kind: PATHS, position: Some(0), pipeline: true, aliases: &[] },
        P::named("LiteralPath", PATHS),
        P::named("Leaf", K::Switch),
        P::named("Parent", K::Switch),
        P::named("Qualifier", K::Switch),
        P::named("NoQualifier", K::Switch),
        P::named("IsAbsolute", K::Switch),
        P::named("Resolve", K::Switch),
    ],
    remaining: None,
};

pub static JOIN_PATH: CmdletSpec = CmdletSpec {
    name: "Join-Path",
    class: "Microsoft.PowerShell.Commands.JoinPathCommand",
    params: &[
        P { name: "Path", kind: PATHS, position: Some(0), pipeline: true, aliases: &[] },
        P::at("ChildPath", K::Value("System.String"), 1),
        P::named("Resolve", K::Switch),
    ],
    remaining: None,
};

pub static GET_ITEM: CmdletSpec = CmdletSpec {
    name: "Get-Item",
    class: "Microsoft.PowerShell.Commands.GetItemCommand",
    params: &[
        P { name: "Path", kind: PATHS, position: Some(0), pipeline: true, aliases: &[] },
        P::named("LiteralPath", PATHS),
        P::named("Force", K::Switch),
        P::named("Filter", K::Value("System.String")),
        P::named("Include", PATHS),
        P::named("Exclude", PATHS),
    ],
    remaining: None,
};

struct Each<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>>(F);

impl<F: FnMut(&mut Interp<'_>, Option<Value>, &mut dyn Out) -> R<()>> Stage for Each<F> {
    fn process(&mut self, it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out) -> R<()> {
        (self.0)(it, item, down)
    }
}

fn strings(it: &mut Interp<'_>, v: &Value) -> Vec<String> {
    let items = if v.is_collection() { v.enumerate(&mut it.cx).unwrap_or_default() } else { vec![v.clone()] };
    items.iter().map(|x| convert::to_string(x, &mut it.cx)).collect()
}

/// `C:` of `C:\x`, or `""`.
fn qualifier(path: &str) -> &str {
    match path.find(':') {
        Some(i) if !path[..i].contains('\\') => &path[..=i],
        _ => "",
    }
}

/// The parent of a path, as Split-Path gives it.
pub fn parent(path: &str) -> String {
    let p = path.trim_end_matches('\\');
    let q = qualifier(p);
    let rest = &p[q.len()..];
    match rest.rfind('\\') {
        Some(0) if !q.is_empty() => format!("{q}\\"),
        Some(0) => "\\".into(),
        Some(i) => format!("{q}{}", &rest[..i]),
        None if rest.is_empty() => String::new(),
        None => q.to_string(),
    }
}

/// The last part of a path.
pub fn leaf(path: &str) -> String {
    let p = path.trim_end_matches('\\');
    let q = qualifier(p);
    let rest = &p[q.len()..];
    rest.rsplit('\\').next().unwrap_or(rest).to_string()
}

pub fn split_path(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let given = b.get("Path").or_else(|| b.get("LiteralPath")).cloned();
    let mode = if b.switch("Leaf") {
        1
    } else if b.switch("Qualifier") {
        2
    } else if b.switch("NoQualifier") {
        3
    } else if b.switch("IsAbsolute") {
        4
    } else {
        0
    };
    let _ = it;
    Ok(Box::new(Each(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let Some(v) = item.or_else(|| given.clone()) else { return Ok(()) };
        for p in strings(it, &v) {
            let out = match mode {
                1 => Value::string(leaf(&p)),
                2 => Value::string(qualifier(&p).to_string()),
                3 => Value::string(p[qualifier(&p).len()..].to_string()),
                4 => Value::Bool(p.starts_with("\\\\") || (p.len() > 2 && qualifier(&p).len() == 2 && p[2..].starts_with('\\'))),
                _ => Value::string(parent(&p)),
            };
            down.emit(it, out)?;
        }
        Ok(())
    })))
}

/// `Join-Path a b`: one separator between them.
pub fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        return b.to_string();
    }
    if b.is_empty() {
        return a.to_string();
    }
    format!("{}\\{}", a.trim_end_matches(['\\', '/']), b.trim_start_matches(['\\', '/']))
}

pub fn join_path(it: &mut Interp<'_>, b: Bound, _: Option<Position>) -> R<Box<dyn Stage>> {
    let given = b.get("Path").cloned();
    let child = b.get("ChildPath").map(|c| convert::to_string(c, &mut it.cx)).unwrap_or_default();
    Ok(Box::new(Each(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let Some(v) = item.or_else(|| given.clone()) else { return Ok(()) };
        for p in strings(it, &v) {
            down.emit(it, Value::string(join(&p, &child)))?;
        }
        Ok(())
    })))
}

fn item_error(message: String, category: &'static str, id: &str, target: &str, call: &Option<Position>) -> ErrorRecord {
    let ex_type = if id == "PathNotFound" { "System.Management.Automation.ItemNotFoundException" } else { "System.UnauthorizedAccessException" };
    let mut r = ErrorRecord::new(Exception::new(ex_type, message), category, format!("{id},Microsoft.PowerShell.Commands.GetItemCommand"));
    r.command = Some("Get-Item".into());
    r.activity = "Get-Item".into();
    r.target_name = target.to_string();
    r.target_type = "String".into();
    r.position = call.clone();
    r
}

pub fn get_item(it: &mut Interp<'_>, b: Bound, call: Option<Position>) -> R<Box<dyn Stage>> {
    let action = super::bind::error_action(it, &b);
    let given = b.get("Path").or_else(|| b.get("LiteralPath")).cloned();
    Ok(Box::new(Each(move |it: &mut Interp<'_>, item: Option<Value>, down: &mut dyn Out| {
        let Some(v) = item.or_else(|| given.clone()) else { return Ok(()) };
        for p in strings(it, &v) {
            let Some(rest) = p.strip_prefix("WSMan:").or_else(|| p.strip_prefix("wsman:")).or_else(|| p.strip_prefix("WSMAN:")) else {
                return Err(Flow::error(errors::lab_unsupported(&format!("Get-Item on '{p}' (the file-system and registry providers are facades not built yet)")).at(call.clone())));
            };
            if !it.cx.admin {
                let r = item_error("Access is denied. ".into(), "PermissionDenied", "System.UnauthorizedAccessException", &p, &call);
                it.cmdlet_error(r, action)?;
                continue;
            }
            let key = rest.trim_start_matches('\\').to_ascii_lowercase();
            let value = match key.as_str() {
                "localhost\\shell\\maxshellsperuser" => Some(("MaxShellsPerUser", it.cx.spec.max_shells_per_user.to_string())),
                "localhost\\service\\allowunencrypted" => Some(("AllowUnencrypted", if it.cx.spec.allow_unencrypted { "true" } else { "false" }.to_string())),
                "localhost\\service\\auth\\basic" => Some(("Basic", if it.cx.spec.allow_basic { "true" } else { "false" }.to_string())),
                _ => None,
            };
            match value {
                Some((name, value)) => {
                    let o = PsObject::new(
                        "Microsoft.WSMan.Management.WSManConfigLeafElement",
                        vec![("WSManConfig".into(), Value::string(parent(&p))), ("Name".into(), Value::str(name)), ("Value".into(), Value::string(value)), ("Type".into(), Value::str("System.String"))],
                    );
                    down.emit(it, Value::object(o))?;
                }
                None => {
                    let r = item_error(format!("Cannot find path '{p}' because it does not exist."), "ObjectNotFound", "PathNotFound", &p, &call);
                    it.cmdlet_error(r, action)?;
                }
            }
        }
        Ok(())
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_like_the_filesystem_provider() {
        assert_eq!(parent(r"C:\Users\bob\NTUSER.DAT"), r"C:\Users\bob");
        assert_eq!(parent(r"C:\Users"), r"C:\");
        assert_eq!(parent(r"C:\"), "");
        assert_eq!(leaf(r"C:\Users\bob"), "bob");
        assert_eq!(leaf(r"C:\Users\bob\"), "bob");
        assert_eq!(join(r"C:\Users\bob", "NTUSER.DAT"), r"C:\Users\bob\NTUSER.DAT");
        assert_eq!(join(r"C:\Users\bob\", r"\x"), r"C:\Users\bob\x");
    }
}
