//! `System.Diagnostics.FileVersionInfo`: the static `GetVersionInfo(path)`
//! over the host's files, as .NET reads a file's version resource. A file
//! without one (not a PE image) still gives an object, its string
//! properties `$null` on .NET Framework and empty on .NET (PowerShell 7);
//! a missing path (or a folder) throws FileNotFoundException whose message
//! is the path. The lab's files carry their version resource as
//! [`VersionInfo`] (a copy keeps it, a rewrite drops it).

use std::borrow::Cow;

use super::{entry, follow, path_arg, resolve};
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, is};
use crate::lab::powershell::value::Value;
use crate::lab::world::files::VersionInfo;

/// A FileVersionInfo as read from one file.
#[derive(Debug)]
struct FileVersion {
    file_name: String,
    info: Option<VersionInfo>,
    /// .NET (PowerShell 7) gives '' where .NET Framework gives null.
    core: bool,
}

const PROPERTIES: &[&str] = &["OriginalFilename", "InternalName", "CompanyName", "FileDescription", "ProductName", "FileName"];

impl FileVersion {
    fn text(&self, field: Option<&str>) -> Value {
        match field {
            Some(s) => Value::string(s.to_string()),
            None if self.core => Value::string(String::new()),
            None => Value::Null,
        }
    }
}

impl NetObject for FileVersion {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Diagnostics.FileVersionInfo".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let v = self.info.as_ref();
        let field = |f: fn(&VersionInfo) -> &str| v.map(f).filter(|s| !s.is_empty());
        Some(Ok(if is(name, "OriginalFilename") {
            self.text(field(|i| &i.original_filename))
        } else if is(name, "InternalName") {
            self.text(field(|i| &i.internal_name))
        } else if is(name, "CompanyName") {
            self.text(field(|i| &i.company_name))
        } else if is(name, "FileDescription") {
            self.text(field(|i| &i.file_description))
        } else if is(name, "ProductName") {
            self.text(field(|i| &i.product_name))
        } else if is(name, "FileName") {
            Value::string(self.file_name.clone())
        } else {
            return None;
        }))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        PROPERTIES.iter().map(|p| Cow::Borrowed(*p)).collect()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        let o = self.info.as_ref().map_or("", |i| &i.original_filename);
        format!("File:             {}\r\nOriginalFilename: {o}\r\n", self.file_name)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct FileVersionType;

impl NetType for FileVersionType {
    fn full_name(&self) -> &str {
        "System.Diagnostics.FileVersionInfo"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "GetVersionInfo") {
            return None;
        }
        if args.len() != 1 {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        Some((|| {
            let given = path_arg(cx, &args[0], "fileName")?;
            let r = follow(cx, &resolve(cx, &given)?)?;
            let not_found = || NetError::exception("System.IO.FileNotFoundException", r.full.clone());
            let e = entry(cx, &r).ok_or_else(not_found)?;
            if e.is_dir() {
                return Err(not_found());
            }
            let info = e.version().cloned();
            Ok(Value::object(FileVersion { file_name: r.full.clone(), info, core: cx.version.dotnet_core() }))
        })())
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(FileVersionType);
}
