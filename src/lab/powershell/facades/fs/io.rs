//! The static `System.IO.File` and `System.IO.Directory` (and
//! `System.IO.Path`) over the host's files. `Exists` never throws (a bad
//! path is simply absent); listings return the folder as the caller wrote
//! it joined with each name as stored, in the file system's order; a
//! missing folder is DirectoryNotFoundException.

use super::{Resolved, attributes, denied, dir_not_found, entry, fs_error, local, not_found, path, path_arg, resolve, utc};
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::Value;
use crate::lab::world::files::Entry;

/// Whether `name` matches a .NET search pattern (`*`, `?`; `*` and `*.*`
/// match every name), case ignored.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == "*.*" {
        return true;
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) => a.to_lowercase().eq(b.to_lowercase()) && go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Which entries a listing wants.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Files,
    Dirs,
    All,
}

/// The entries of a folder: (name as stored, entry), in the file system's
/// order, filtered by `pattern` and kind.
pub fn list(cx: &Ctx<'_>, r: &Resolved, pattern: &str, want: Want) -> NetResult<Vec<(String, Entry)>> {
    // A junction or a link to a folder lists its target.
    let r = &super::follow(cx, r)?;
    match entry(cx, r) {
        Some(e) if e.is_dir() => {}
        Some(_) => return Err(NetError::exception("System.IO.IOException", "The directory name is invalid.\r\n")),
        None => return Err(dir_not_found(&r.full)),
    }
    let items = cx.host.files.list(&r.world).map_err(|e| fs_error(&e, &r.full))?;
    Ok(items
        .into_iter()
        .map(|(p, e)| (crate::lab::world::files::file_name(p).to_string(), e.clone()))
        .filter(|(_, e)| match want {
            Want::Files => !e.is_dir(),
            Want::Dirs => e.is_dir(),
            Want::All => true,
        })
        .filter(|(n, _)| wildcard(pattern, n))
        .collect())
}

/// A listing as full paths: the folder as given joined with each name.
fn listing(cx: &mut Ctx<'_>, args: &[Value], want: Want) -> NetResult<Value> {
    let a = Args::new(args);
    a.count(&[1, 2, 3])?;
    let given = path_arg(cx, a.value(0), "path")?;
    let pattern = if args.len() >= 2 { path_arg(cx, a.value(1), "searchPattern")? } else { "*".into() };
    if args.len() == 3 && !matches!(a.value(2), Value::Enum(_, 0) | Value::Int(0)) {
        return Err(NetError::exception("System.NotSupportedException", "The cauterize lab's System.IO does not list folders recursively (SearchOption.AllDirectories)."));
    }
    let r = resolve(cx, &given)?;
    let items = list(cx, &r, &pattern, want)?;
    Ok(Value::string_array(items.into_iter().map(|(n, _)| path::combine(&given, &n)).collect()))
}

/// `File.Exists` / `Directory.Exists`: never throws; `$null` or a bad
/// path is simply absent.
fn exists(cx: &mut Ctx<'_>, v: &Value, dir: bool) -> Value {
    if v.is_null() {
        return Value::Bool(false);
    }
    let p = crate::lab::powershell::convert::to_string(v, cx);
    Value::Bool(resolve(cx, &p).ok().and_then(|r| entry(cx, &r).map(|e| e.is_dir() == dir)).unwrap_or(false))
}

/// `GetCreationTime[Utc]`, `GetLastWriteTime[Utc]`, `GetLastAccessTime[Utc]`.
fn is_time_getter(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let n = n.strip_suffix("utc").unwrap_or(&n);
    matches!(n, "getcreationtime" | "getlastwritetime" | "getlastaccesstime")
}

/// A time property of an existing entry.
fn time_of(cx: &mut Ctx<'_>, args: &[Value], which: &str) -> NetResult<Value> {
    let given = path_arg(cx, Args::new(args).value(0), "path")?;
    let r = resolve(cx, &given)?;
    let Some(e) = entry(cx, &r) else {
        // Windows answers 1601-01-01 (FILETIME zero) for a missing path.
        return Ok(utc(cx, crate::lab::world::LabTime(0)));
    };
    let t = e.times;
    let lower = which.to_ascii_lowercase();
    let at = if lower.contains("creation") {
        t.created
    } else if lower.contains("access") {
        t.accessed
    } else {
        t.modified
    };
    Ok(if lower.ends_with("utc") { utc(cx, at) } else { local(cx, at) })
}

struct FileType;

impl NetType for FileType {
    fn full_name(&self) -> &str {
        "System.IO.File"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Exists") {
                exists(cx, a.value(0), false)
            } else if is(name, "GetAttributes") {
                let p = path_arg(cx, a.value(0), "path")?;
                let r = resolve(cx, &p)?;
                match entry(cx, &r) {
                    Some(e) => Value::Enum(&super::FILE_ATTRIBUTES, attributes(e)),
                    None => return Err(not_found(cx, &r)),
                }
            } else if is(name, "ReadAllBytes") {
                let p = path_arg(cx, a.value(0), "path")?;
                let r = resolve(cx, &p)?;
                Value::bytes(read_all(cx, &r)?)
            } else if is(name, "ReadAllText") {
                let p = path_arg(cx, a.value(0), "path")?;
                let r = resolve(cx, &p)?;
                let bytes = read_all(cx, &r)?;
                Value::string(decode_text(&bytes))
            } else if is_time_getter(name) {
                time_of(cx, args, name)?
            } else if is(name, "Delete") {
                let p = path_arg(cx, a.value(0), "path")?;
                let r = resolve(cx, &p)?;
                delete(cx, &r)?;
                void()
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
}

/// The bytes of a file the lab holds as bytes (a file held only as size
/// and hash says so).
pub fn read_all(cx: &Ctx<'_>, r: &Resolved) -> NetResult<Vec<u8>> {
    let r = &super::follow(cx, r)?;
    match entry(cx, r) {
        None => Err(not_found(cx, r)),
        Some(e) if e.is_dir() => Err(denied(&r.full)),
        Some(e) => match e.file().and_then(|f| f.content.as_bytes()) {
            Some(b) => Ok(b.to_vec()),
            None => Err(opaque(&r.full)),
        },
    }
}

/// What reading a file's bytes answers when the lab holds only its size
/// and SHA-256 (large binaries): an I/O error naming the limit.
pub fn opaque(shown: &str) -> NetError {
    NetError::exception("System.IO.IOException", format!("The cauterize lab holds only the size and SHA-256 of '{shown}', not its bytes."))
}

/// Text as `File.ReadAllText` decodes it: a BOM picks UTF-8 / UTF-16,
/// else UTF-8.
fn decode_text(b: &[u8]) -> String {
    use crate::lab::powershell::dotnet::text::Codec;
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Codec::Utf8 { bom: false, strict: false }.decode(rest);
    }
    if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE]) {
        return Codec::Utf16 { big_endian: false, bom: false }.decode(rest);
    }
    Codec::Utf8 { bom: false, strict: false }.decode(b)
}

/// `Directory.Delete`: RemoveDirectory, which refuses a folder that holds
/// anything ("The directory is not empty."), a file ("The directory name
/// is invalid.") and a missing folder; `recursive` deletes what it holds
/// first, and the first failure is thrown.
fn delete_dir(cx: &mut Ctx<'_>, r: &Resolved, recursive: bool) -> NetResult<()> {
    match entry(cx, r) {
        None => return Err(dir_not_found(&r.full)),
        Some(e) if !e.is_dir() => return Err(NetError::exception("System.IO.IOException", "The directory name is invalid.\r\n")),
        Some(_) => {}
    }
    let now = cx.now();
    if recursive {
        return match cx.host.remove_tree(&r.world, now).first() {
            None => Ok(()),
            Some(e) => Err(fs_error(e, &r.full)),
        };
    }
    cx.host.files.remove_dir(&r.world, now).map_err(|e| fs_error(&e, &r.full))
}

/// `File.Delete`: a missing file is no error (its folder must exist).
fn delete(cx: &mut Ctx<'_>, r: &Resolved) -> NetResult<()> {
    match entry(cx, r) {
        None if super::parent_exists(cx, r) => Ok(()),
        None => Err(dir_not_found(&r.full)),
        Some(e) if e.is_dir() => Err(denied(&r.full)),
        Some(_) => {
            let now = cx.now();
            cx.host.delete_file(&r.world, now).map(|_| ()).map_err(|e| fs_error(&e, &r.full))
        }
    }
}

struct DirectoryType;

impl NetType for DirectoryType {
    fn full_name(&self) -> &str {
        "System.IO.Directory"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Exists") {
                exists(cx, a.value(0), true)
            } else if is(name, "GetFileSystemEntries") {
                listing(cx, args, Want::All)?
            } else if is(name, "GetFiles") {
                listing(cx, args, Want::Files)?
            } else if is(name, "GetDirectories") {
                listing(cx, args, Want::Dirs)?
            } else if is(name, "Delete") {
                a.count(&[1, 2])?;
                let p = path_arg(cx, a.value(0), "path")?;
                let r = resolve(cx, &p)?;
                delete_dir(cx, &r, args.len() == 2 && a.bool(1))?;
                void()
            } else if is_time_getter(name) {
                time_of(cx, args, name)?
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
}

/// `System.IO.Path`.
struct PathType;

impl NetType for PathType {
    fn full_name(&self) -> &str {
        "System.IO.Path"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "DirectorySeparatorChar") {
            Value::Char(u16::from(b'\\'))
        } else if is(name, "AltDirectorySeparatorChar") {
            Value::Char(u16::from(b'/'))
        } else if is(name, "PathSeparator") {
            Value::Char(u16::from(b';'))
        } else if is(name, "VolumeSeparatorChar") {
            Value::Char(u16::from(b':'))
        } else {
            return None;
        }))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let text = |cx: &mut Ctx<'_>, i: usize| -> NetResult<Option<String>> {
            match a.value(i) {
                Value::Null => Ok(None),
                v => {
                    let s = crate::lab::powershell::convert::to_string(v, cx);
                    if s.chars().any(|c| (c as u32) < 32 || matches!(c, '"' | '<' | '>' | '|')) {
                        return Err(path::illegal());
                    }
                    Ok(Some(s))
                }
            }
        };
        let r = (|| -> NetResult<Option<Value>> {
            let n = name.to_ascii_lowercase();
            Ok(Some(match n.as_str() {
                "getfilename" => text(cx, 0)?.map_or(Value::Null, |s| Value::string(path::file_name(&s).to_string())),
                "getextension" => text(cx, 0)?.map_or(Value::Null, |s| Value::string(path::extension(&s).to_string())),
                "getfilenamewithoutextension" => text(cx, 0)?.map_or(Value::Null, |s| Value::string(path::stem(&s).to_string())),
                "hasextension" => Value::Bool(text(cx, 0)?.is_some_and(|s| !path::extension(&s).is_empty())),
                "ispathrooted" => Value::Bool(text(cx, 0)?.is_some_and(|s| path::is_rooted(&s))),
                "getpathroot" => text(cx, 0)?.map_or(Value::Null, |s| Value::string(path::root(&s).to_string())),
                "getdirectoryname" => match text(cx, 0)? {
                    None => Value::Null,
                    Some(s) if s.trim().is_empty() => return Err(NetError::argument("The path is not of a legal form.")),
                    Some(s) => path::directory_name(&s).map_or(Value::Null, Value::string),
                },
                "getfullpath" => {
                    let s = text(cx, 0)?.ok_or_else(|| NetError::exception("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: path"))?;
                    Value::string(path::full_path(&s, &super::cwd(cx), &cx.version)?)
                }
                "combine" => {
                    if args.len() < 2 {
                        return Err(NetError::NoOverload { argc: args.len() });
                    }
                    let mut out = String::new();
                    for i in 0..args.len() {
                        let s = text(cx, i)?.ok_or_else(|| NetError::exception("System.ArgumentNullException", format!("Value cannot be null.\r\nParameter name: path{}", i + 1)))?;
                        out = path::combine(&out, &s);
                    }
                    Value::string(out)
                }
                "gettemppath" => Value::string(format!(r"{}\AppData\Local\Temp\", super::cwd(cx))),
                _ => return Ok(None),
            }))
        })();
        r.transpose()
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(FileType);
    r.add_type(DirectoryType);
    r.add_type(PathType);
}
