//! `New-Object -ComObject WScript.Shell` and its `CreateShortcut`, over
//! the host's shell links (`world::startup::LnkTarget`). As the Windows
//! Script Host does: the name must end with `.lnk` or `.url` ("The
//! shortcut pathname must end with .lnk or .url."); an existing link is
//! read (TargetPath with environment variables expanded, Arguments,
//! WorkingDirectory); a missing one is an empty shortcut; `Save()` writes
//! the link (the folder must exist and allow writing).

use std::borrow::Cow;
use std::cell::RefCell;

use super::fs::{self, fs_error};
use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, Registry, is, void};
use crate::lab::powershell::session;
use crate::lab::powershell::value::Value;
use crate::lab::world::files::Content;
use crate::lab::world::startup::{LnkTarget, read_lnk};

/// The `WScript.Shell` object.
#[derive(Debug)]
struct Shell;

impl NetObject for Shell {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{41904400-be18-11d3-a28b-00104bd35090}".into()
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "CreateShortcut") {
            let [p] = args else { return Some(Err(NetError::NoOverload { argc: args.len() })) };
            let p = convert::to_string(p, cx);
            return Some(Shortcut::open(cx, &p).map(Value::object));
        }
        if is(name, "ExpandEnvironmentStrings") {
            let t = convert::to_string(args.first().unwrap_or(&Value::Null), cx);
            return Some(Ok(Value::string(session::expand_env(cx, &t))));
        }
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A shell link (`IWshShortcut`).
#[derive(Debug)]
struct Shortcut {
    full_name: String,
    world: String,
    link: RefCell<LnkTarget>,
}

impl Shortcut {
    fn open(cx: &mut Ctx<'_>, p: &str) -> NetResult<Shortcut> {
        let lower = p.to_ascii_lowercase();
        if !(lower.ends_with(".lnk") || lower.ends_with(".url")) {
            return Err(NetError::exception("System.Runtime.InteropServices.COMException", "The shortcut pathname must end with .lnk or .url."));
        }
        let r = fs::resolve(cx, p)?;
        let link = read_lnk(&cx.host.files, &r.world).unwrap_or_else(|| LnkTarget::new("", ""));
        Ok(Shortcut { full_name: r.full, world: r.world, link: RefCell::new(link) })
    }
}

impl NetObject for Shortcut {
    fn type_name(&self) -> Cow<'static, str> {
        "System.__ComObject#{a548b8e4-51d5-4661-8824-daa1d893dfb2}".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let l = self.link.borrow();
        Some(Ok(if is(name, "TargetPath") {
            Value::string(session::expand_env(cx, &l.target))
        } else if is(name, "Arguments") {
            Value::string(l.arguments.clone())
        } else if is(name, "WorkingDirectory") {
            Value::string(l.working_dir.clone())
        } else if is(name, "FullName") {
            Value::string(self.full_name.clone())
        } else if is(name, "Description") || is(name, "Hotkey") || is(name, "RelativePath") {
            Value::str("")
        } else if is(name, "IconLocation") {
            Value::str(",0")
        } else if is(name, "WindowStyle") {
            Value::Int(1)
        } else {
            return None;
        }))
    }
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        let text = convert::to_string(&value, cx);
        let mut l = self.link.borrow_mut();
        if is(name, "TargetPath") {
            l.target = text;
        } else if is(name, "Arguments") {
            l.arguments = text;
        } else if is(name, "WorkingDirectory") {
            l.working_dir = text;
        } else if is(name, "Description") || is(name, "IconLocation") || is(name, "Hotkey") || is(name, "WindowStyle") {
        } else {
            return None;
        }
        Some(Ok(()))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "Save") {
            return None;
        }
        let bytes = self.link.borrow().encode();
        let now = cx.now();
        Some(cx.host.write_file(&self.world, Content::bytes(bytes), now).map(|()| void()).map_err(|e| fs_error(&e, &self.full_name)))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn shell(_: &mut Ctx<'_>) -> NetResult<Value> {
    Ok(Value::object(Shell))
}

pub fn register(r: &mut Registry) {
    r.add_com("WScript.Shell", shell);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, run_with, v5};
    use crate::lab::world::startup::{LnkTarget, place_lnk};

    /// A startup shortcut reads back as WScript.Shell gives it; a missing
    /// link is empty; a name without .lnk is refused with WSH's message;
    /// Save writes a link the next CreateShortcut reads.
    #[test]
    fn shortcuts_read_and_save() {
        let dir = r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp";
        let prepare = |h: &mut crate::lab::world::HostState| {
            let l = LnkTarget { target: r"%APPDATA%\x\run.exe".into(), arguments: "-q".into(), working_dir: r"C:\x".into() };
            place_lnk(&mut h.files, dir, "Run.lnk", &l, crate::lab::world::LabTime(0)).expect("plant");
        };
        let script = format!(
            "$s = New-Object -ComObject WScript.Shell; $l = $s.CreateShortcut('{dir}\\Run.lnk'); $l.TargetPath; $l.Arguments; $l.WorkingDirectory; \
             $n = $s.CreateShortcut('{dir}\\New.lnk'); '[' + $n.TargetPath + ']'; $n.TargetPath = 'C:\\y.exe'; $n.Save(); $s.CreateShortcut('{dir}\\New.lnk').TargetPath"
        );
        let (r, world) = run_with("5.1.19041.1", prepare, &script);
        assert!(r.err.is_empty(), "{}", r.err);
        assert_eq!(r.lines(), [r"C:\Users\cauterize\AppData\Roaming\x\run.exe", "-q", r"C:\x", "[]", r"C:\y.exe"]);
        assert!(world.files.is_file(&format!(r"{dir}\New.lnk")));
        let r = v5("(New-Object -ComObject WScript.Shell).CreateShortcut('C:\\x.txt')");
        assert!(r.flat().contains("The shortcut pathname must end with .lnk or .url."), "{}", r.err);
        prints(&v5("(New-Object -ComObject WScript.Shell).ExpandEnvironmentStrings('%SystemRoot%')"), &[r"C:\Windows"]);
    }
}
