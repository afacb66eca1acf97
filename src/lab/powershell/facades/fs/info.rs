//! `System.IO.FileInfo` and `System.IO.DirectoryInfo`, as .NET keeps
//! them: the state is read once (on first use, or from the listing that
//! made the object) and kept until `Refresh()`; a missing entry has
//! `Exists` false, `Attributes` -1 and 1601-01-01 times, and `Length` of a
//! missing file throws FileNotFoundException. Objects from a listing print
//! (`ToString()`) as their name on .NET Framework and as their full path
//! on .NET (PowerShell 7).

use std::borrow::Cow;
use std::cell::RefCell;

use super::io::{Want, list};
use super::{FILE_ATTRIBUTES, Resolved, attributes, entry, local, path, path_arg, resolve, utc};
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::{Array, ElemType, Value};
use crate::lab::world::LabTime;
use crate::lab::world::files::{Entry, Times};

/// What the object read of its entry.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    exists: bool,
    is_dir: bool,
    attrs: i64,
    times: Times,
    size: u64,
}

impl Snapshot {
    fn of(e: Option<&Entry>) -> Snapshot {
        match e {
            Some(e) => Snapshot { exists: true, is_dir: e.is_dir(), attrs: attributes(e), times: e.times, size: e.size() },
            None => Snapshot { exists: false, is_dir: false, attrs: -1, times: Times::all(LabTime(0)), size: 0 },
        }
    }
}

/// A FileInfo (`dir` false) or DirectoryInfo.
#[derive(Debug)]
pub struct FsInfo {
    dir: bool,
    /// What `ToString()` gives.
    original: String,
    r: Resolved,
    name: String,
    snap: RefCell<Option<Snapshot>>,
}

impl FsInfo {
    /// For `New-Object System.IO.FileInfo $path`.
    pub fn open(cx: &mut Ctx<'_>, given: &str, dir: bool) -> NetResult<FsInfo> {
        let r = resolve(cx, given)?;
        let name = path::file_name(r.full.trim_end_matches('\\')).to_string();
        let name = if name.is_empty() { r.full.clone() } else { name };
        Ok(FsInfo { dir, original: given.to_string(), r, name, snap: RefCell::new(None) })
    }

    /// An entry of a listing of `parent` (state read with the listing).
    fn listed(cx: &Ctx<'_>, parent: &Resolved, name: &str, e: &Entry) -> FsInfo {
        let full = path::combine(&parent.full, name);
        let world = path::combine(&parent.world, name);
        let original = if cx.version.dotnet_core() { full.clone() } else { name.to_string() };
        FsInfo { dir: e.is_dir(), original, r: Resolved { full, world }, name: name.to_string(), snap: RefCell::new(Some(Snapshot::of(Some(e)))) }
    }

    fn snap(&self, cx: &Ctx<'_>) -> Snapshot {
        if let Some(s) = *self.snap.borrow() {
            return s;
        }
        let s = Snapshot::of(entry(cx, &self.r));
        *self.snap.borrow_mut() = Some(s);
        s
    }

    /// The path the host model stores and the full path .NET shows.
    pub(crate) fn paths(&self) -> (&str, &str) {
        (&self.r.world, &self.r.full)
    }

    /// A DirectoryInfo (not a FileInfo).
    pub(crate) fn is_dir(&self) -> bool {
        self.dir
    }

    fn exists(&self, s: &Snapshot) -> bool {
        s.exists && s.is_dir == self.dir
    }

    fn time(&self, cx: &Ctx<'_>, name: &str) -> Option<Value> {
        let n = name.to_ascii_lowercase();
        let which = n.strip_suffix("utc").unwrap_or(&n);
        let t = self.snap(cx).times;
        let at = match which {
            "creationtime" => t.created,
            "lastwritetime" => t.modified,
            "lastaccesstime" => t.accessed,
            _ => return None,
        };
        Some(if n.ends_with("utc") { utc(cx, at) } else { local(cx, at) })
    }

    /// The listing of this folder, as FileInfo/DirectoryInfo objects.
    fn children(&self, cx: &mut Ctx<'_>, args: &[Value], want: Want) -> NetResult<Value> {
        let a = Args::new(args);
        let pattern = if args.is_empty() { "*".to_string() } else { path_arg(cx, a.value(0), "searchPattern")? };
        let items = list(cx, &self.r, &pattern, want)?;
        let elem = match want {
            Want::Files => "System.IO.FileInfo",
            Want::Dirs => "System.IO.DirectoryInfo",
            Want::All => "System.IO.FileSystemInfo",
        };
        let values = items.iter().map(|(n, e)| Value::object(FsInfo::listed(cx, &self.r, n, e))).collect();
        let t = crate::lab::powershell::types::resolve(elem, &[]).map_or(ElemType::Object, |t| ElemType::Other(t));
        Ok(Value::Array(std::rc::Rc::new(Array::new(t, values))))
    }
}

impl NetObject for FsInfo {
    fn type_name(&self) -> Cow<'static, str> {
        if self.dir { "System.IO.DirectoryInfo".into() } else { "System.IO.FileInfo".into() }
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.FileSystemInfo", "System.MarshalByRefObject"]
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if let Some(t) = self.time(cx, name) {
            return Some(Ok(t));
        }
        let s = self.snap(cx);
        Some(Ok(if is(name, "Name") {
            Value::string(self.name.clone())
        } else if is(name, "FullName") {
            Value::string(self.r.full.clone())
        } else if is(name, "Exists") {
            Value::Bool(self.exists(&s))
        } else if is(name, "Extension") {
            Value::string(path::extension(&self.r.full).to_string())
        } else if is(name, "Attributes") {
            Value::Enum(&FILE_ATTRIBUTES, s.attrs)
        } else if !self.dir && is(name, "Length") {
            if !self.exists(&s) {
                return Some(Err(NetError::exception("System.IO.FileNotFoundException", format!("Could not find file '{}'.", self.r.full))));
            }
            Value::Long(s.size as i64)
        } else if !self.dir && is(name, "IsReadOnly") {
            Value::Bool(s.attrs != -1 && s.attrs & 1 != 0)
        } else if !self.dir && is(name, "DirectoryName") {
            path::directory_name(&self.r.full).map_or(Value::Null, Value::string)
        } else if (!self.dir && is(name, "Directory")) || (self.dir && is(name, "Parent")) {
            match path::directory_name(self.r.full.trim_end_matches('\\')) {
                Some(d) => match FsInfo::open(cx, &d, true) {
                    Ok(i) => Value::object(i),
                    Err(e) => return Some(Err(e)),
                },
                None => Value::Null,
            }
        } else {
            return None;
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Refresh") {
            *self.snap.borrow_mut() = None;
            return Some(Ok(void()));
        }
        if is(name, "ToString") {
            return Some(Ok(Value::string(self.original.clone())));
        }
        if let Some(r) = super::super::acl::info_call(cx, self, name, args) {
            return Some(r);
        }
        if self.dir {
            let want = if is(name, "GetFileSystemInfos") {
                Want::All
            } else if is(name, "GetFiles") {
                Want::Files
            } else if is(name, "GetDirectories") {
                Want::Dirs
            } else {
                return None;
            };
            return Some(self.children(cx, args, want));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.original.clone()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["Name".into(), "Length".into(), "LastWriteTime".into(), "FullName".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `New-Object System.IO.FileInfo path` / `DirectoryInfo path`.
struct InfoType {
    dir: bool,
}

impl NetType for InfoType {
    fn full_name(&self) -> &str {
        if self.dir { "System.IO.DirectoryInfo" } else { "System.IO.FileInfo" }
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.FileSystemInfo"]
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        if args.len() != 1 {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        let param = if self.dir { "path" } else { "fileName" };
        Some(path_arg(cx, &args[0], param).and_then(|p| FsInfo::open(cx, &p, self.dir)).map(Value::object))
    }
}

/// `[System.IO.FileSystemInfo]`, for `-is` and casts.
struct FileSystemInfoType;

impl NetType for FileSystemInfoType {
    fn full_name(&self) -> &str {
        "System.IO.FileSystemInfo"
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(InfoType { dir: false });
    r.add_type(InfoType { dir: true });
    r.add_type(FileSystemInfoType);
}
