//! `System.IO.FileStream` over a host file, opened as CreateFile opens
//! it: a missing file or folder, a folder, a read-only file or a running
//! image opened for writing fail with Windows' errors. Reading works on
//! files the lab holds as bytes; a file held only as size and SHA-256
//! still has its `Length`, and `SHA256.ComputeHash(stream)` from its start
//! answers its hash, but reading its bytes says the lab does not hold
//! them. Writing through a FileStream is not part of the lab yet and says
//! so.

use std::borrow::Cow;

use super::io::opaque;
use crate::lab::powershell::facades::kernel32::{FileHandle, handle_of};
use super::{denied, entry, fs_error, not_found, path_arg, resolve};
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::dotnet::buffers::StreamCore;
use crate::lab::powershell::object::{ByteStream, Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is};
use crate::lab::powershell::value::Value;
use crate::lab::world::files::{FileLocks, FsError, LockKind};

pub static FILE_MODE: EnumDef = EnumDef {
    full_name: "System.IO.FileMode",
    members: &[("CreateNew", 1), ("Create", 2), ("Open", 3), ("OpenOrCreate", 4), ("Truncate", 5), ("Append", 6)],
    flags: false,
};

pub static FILE_ACCESS: EnumDef = EnumDef { full_name: "System.IO.FileAccess", members: &[("Read", 1), ("Write", 2), ("ReadWrite", 3)], flags: true };

pub static FILE_SHARE: EnumDef = EnumDef {
    full_name: "System.IO.FileShare",
    members: &[("None", 0), ("Read", 1), ("Write", 2), ("ReadWrite", 3), ("Delete", 4), ("Inheritable", 16)],
    flags: true,
};

/// An open file.
pub struct FileStream {
    name: String,
    /// The bytes, when the lab holds them.
    data: Option<Vec<u8>>,
    size: u64,
    sha256: [u8; 32],
    can_write: bool,
    core: StreamCore,
}

fn enum_arg(cx: &mut Ctx<'_>, v: &Value, def: &'static EnumDef) -> NetResult<i64> {
    match v {
        Value::Enum(_, n) => Ok(*n),
        Value::Int(n) => Ok(i64::from(*n)),
        other => {
            let t = crate::lab::powershell::convert::to_string(other, cx);
            def.value_of(&t).ok_or_else(|| NetError::argument(format!("Requested value '{t}' was not found.")))
        }
    }
}

impl FileStream {
    /// `new FileStream(handle, access[, bufferSize[, isAsync]])`: the file
    /// an open SafeFileHandle holds.
    fn from_handle(cx: &mut Ctx<'_>, h: &FileHandle, args: &[Value]) -> NetResult<FileStream> {
        let r = h.open().map_err(|_| NetError::argument("Invalid handle.\r\nParameter name: handle"))?.clone();
        let access = enum_arg(cx, Args::new(args).value(1), &FILE_ACCESS)?;
        let Some(e) = entry(cx, &r) else { return Err(not_found(cx, &r)) };
        let content = &e.file().ok_or_else(|| denied(&r.full))?.content;
        Ok(FileStream {
            name: r.full.clone(),
            data: content.as_bytes().map(<[u8]>::to_vec),
            size: content.size(),
            sha256: content.sha256(),
            can_write: access & 2 != 0,
            core: StreamCore::default(),
        })
    }

    /// `new FileStream(path, mode[, access[, share[, bufferSize]]])`.
    pub fn open(cx: &mut Ctx<'_>, args: &[Value]) -> NetResult<FileStream> {
        let a = Args::new(args);
        if !(2..=6).contains(&args.len()) {
            return Err(NetError::NoOverload { argc: args.len() });
        }
        if let Some(h) = handle_of(a.value(0)) {
            return Self::from_handle(cx, h, args);
        }
        let given = path_arg(cx, a.value(0), "path")?;
        let mode = enum_arg(cx, a.value(1), &FILE_MODE)?;
        // .NET's default access: Write for Append, ReadWrite otherwise.
        let access = if args.len() >= 3 { enum_arg(cx, a.value(2), &FILE_ACCESS)? } else if mode == 6 { 2 } else { 3 };
        let r = super::follow(cx, &resolve(cx, &given)?)?;
        if mode != 3 {
            return Err(NetError::exception("System.NotSupportedException", "The cauterize lab's FileStream opens existing files only (FileMode.Open)."));
        }
        let Some(e) = entry(cx, &r) else { return Err(not_found(cx, &r)) };
        if e.is_dir() {
            return Err(denied(&r.full));
        }
        let can_write = access & 2 != 0;
        if can_write {
            if e.attrs.readonly {
                return Err(denied(&r.full));
            }
            if let Some((LockKind::Mapped, pid)) = cx.host.processes.lock_on(&r.world) {
                return Err(fs_error(&FsError::SharingViolation(r.world.clone(), pid), &r.full));
            }
        }
        let content = &e.file().expect("a file").content;
        Ok(FileStream {
            name: r.full.clone(),
            data: content.as_bytes().map(<[u8]>::to_vec),
            size: content.size(),
            sha256: content.sha256(),
            can_write,
            core: StreamCore::default(),
        })
    }

    fn bytes(&self) -> NetResult<&[u8]> {
        self.data.as_deref().ok_or_else(|| opaque(&self.name))
    }
}

impl NetObject for FileStream {
    fn type_name(&self) -> Cow<'static, str> {
        "System.IO.FileStream".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.Stream", "System.IDisposable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Name") {
            return Some(Ok(Value::string(self.name.clone())));
        }
        self.core.get(name, self.size, self.can_write)
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Write") || is(name, "WriteByte") || is(name, "SetLength") {
            return Some(self.core.check().and_then(|()| {
                Err(NetError::exception(
                    "System.NotSupportedException",
                    if self.can_write { "The cauterize lab's FileStream does not write files." } else { "Stream does not support writing." },
                ))
            }));
        }
        self.core.call(cx, name, args, self.size, &|| self.bytes().map(<[u8]>::to_vec))
    }
    fn as_stream(&self) -> Option<&dyn ByteStream> {
        Some(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl ByteStream for FileStream {
    fn read_to_end(&self, _: &mut Ctx<'_>) -> NetResult<Vec<u8>> {
        let data = self.bytes()?;
        self.core.rest(data)
    }
    fn sha256_to_end(&self, cx: &mut Ctx<'_>) -> NetResult<[u8; 32]> {
        self.core.check()?;
        if self.data.is_none() && self.core.position.get() == 0 {
            self.core.position.set(self.size);
            return Ok(self.sha256);
        }
        use sha2::Digest;
        Ok(sha2::Sha256::digest(self.read_to_end(cx)?).into())
    }
}

struct FileStreamType;

impl NetType for FileStreamType {
    fn full_name(&self) -> &str {
        "System.IO.FileStream"
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.Stream"]
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        Some(FileStream::open(cx, args).map(Value::object))
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(FileStreamType);
    r.add_enum(&FILE_MODE);
    r.add_enum(&FILE_ACCESS);
    r.add_enum(&FILE_SHARE);
}
