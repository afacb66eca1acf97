//! Win32 file functions of kernel32 over the host's files, for P/Invoke
//! (`Add-Type` with `[DllImport("kernel32.dll")]`), with Win32's rules
//! and error codes:
//!
//! - `CreateFileW` (OPEN_EXISTING): a missing file is 2, a missing folder
//!   3; a folder needs FILE_FLAG_BACKUP_SEMANTICS (else 5); a file another
//!   process holds open without FILE_SHARE_DELETE refuses DELETE access
//!   (32); a running image refuses write access (32); a read-only file
//!   refuses write access (5); a symbolic link or junction is opened
//!   itself with FILE_FLAG_OPEN_REPARSE_POINT, else its target (links
//!   before the last component are always followed). The handle is a
//!   `SafeFileHandle`.
//! - `GetFileInformationByHandle`: BY_HANDLE_FILE_INFORMATION.
//! - `SetFileInformationByHandle`: FileBasicInfo (attributes) and
//!   FileDispositionInfo (delete when the handle closes; a running image
//!   or a read-only file cannot be marked: 5).
//! - `MoveFileExW` with MOVEFILE_DELAY_UNTIL_REBOOT: administrators only
//!   (5); a NULL new name queues a delete, an empty string fails as
//!   kernel32 fails to convert it (3, as ReactOS's kernel32 does; Windows'
//!   own answer is not documented); the pair is appended to
//!   PendingFileRenameOperations2 when that value exists, else to
//!   PendingFileRenameOperations, as Windows appends.
//! - `GetLongPathNameW`: every component as stored, 8.3 names expanded,
//!   a junction or link on the way named as itself; the required size (with the NUL) when the buffer is too small.
//!
//! Also `Marshal.GetLastWin32Error` and `Win32Exception`.

use std::borrow::Cow;
use std::cell::Cell;

use super::fs::{self, Resolved};
use crate::lab::powershell::convert;
use crate::lab::powershell::errors::ExceptionObj;
use crate::lab::powershell::object::{Ctx, Exception, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::Value;
use crate::lab::world::files::{FileLocks, LockKind};
use crate::lab::world::pending::{self, PendingOp};

pub const ERROR_FILE_NOT_FOUND: u32 = 2;
pub const ERROR_PATH_NOT_FOUND: u32 = 3;
pub const ERROR_ACCESS_DENIED: u32 = 5;
pub const ERROR_INVALID_HANDLE: u32 = 6;
pub const ERROR_NOT_SUPPORTED: u32 = 50;
pub const ERROR_SHARING_VIOLATION: u32 = 32;
pub const ERROR_INVALID_PARAMETER: u32 = 87;

const DELETE: u32 = 0x1_0000;
const GENERIC_WRITE: u32 = 0x4000_0000;
const GENERIC_ALL: u32 = 0x1000_0000;
const FILE_WRITE_DATA: u32 = 2;
const FILE_APPEND_DATA: u32 = 4;
const FILE_SHARE_READ: u32 = 1;
const OPEN_EXISTING: u32 = 3;
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// Win32's message for an error code, as `Win32Exception.Message` gives it.
pub fn message(code: u32) -> String {
    match code {
        0 => "The operation completed successfully",
        2 => "The system cannot find the file specified",
        3 => "The system cannot find the path specified",
        5 => "Access is denied",
        6 => "The handle is invalid",
        32 => "The process cannot access the file because it is being used by another process",
        33 => "The process cannot access the file because another process has locked a portion of the file",
        50 => "The request is not supported",
        87 => "The parameter is incorrect",
        123 => "The filename, directory name, or volume label syntax is incorrect",
        145 => "The directory is not empty",
        183 => "Cannot create a file when that file already exists",
        1314 => "A required privilege is not held by the client",
        _ => return format!("Unknown error (0x{code:x})"),
    }
    .to_string()
}

/// A `SafeFileHandle` from CreateFileW.
#[derive(Debug)]
pub struct FileHandle {
    /// `None`: INVALID_HANDLE_VALUE.
    pub target: Option<Resolved>,
    pub access: u32,
    delete_on_close: Cell<bool>,
    closed: Cell<bool>,
}

impl FileHandle {
    fn invalid() -> FileHandle {
        FileHandle { target: None, access: 0, delete_on_close: Cell::new(false), closed: Cell::new(false) }
    }
    /// The open file, or ERROR_INVALID_HANDLE.
    pub fn open(&self) -> Result<&Resolved, u32> {
        match &self.target {
            Some(r) if !self.closed.get() => Ok(r),
            _ => Err(ERROR_INVALID_HANDLE),
        }
    }
    fn close(&self, cx: &mut Ctx<'_>) {
        if self.closed.replace(true) {
            return;
        }
        if self.delete_on_close.get()
            && let Some(r) = &self.target
        {
            let now = cx.now();
            let _ = cx.host.delete_file(&r.world, now);
        }
    }
}

impl NetObject for FileHandle {
    fn type_name(&self) -> Cow<'static, str> {
        "Microsoft.Win32.SafeHandles.SafeFileHandle".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Runtime.InteropServices.SafeHandle", "System.IDisposable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "IsInvalid") {
            Value::Bool(self.target.is_none())
        } else if is(name, "IsClosed") {
            Value::Bool(self.closed.get())
        } else {
            return None;
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Close") || is(name, "Dispose") {
            self.close(cx);
            return Some(Ok(void()));
        }
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The handle an argument holds.
pub fn handle_of(v: &Value) -> Option<&FileHandle> {
    v.as_object().and_then(|o| o.as_any().downcast_ref::<FileHandle>())
}

/// Resolve a Win32 path argument (NULL is ERROR_INVALID_PARAMETER).
fn resolve(cx: &Ctx<'_>, p: Option<&str>) -> Result<Resolved, u32> {
    let p = p.ok_or(ERROR_INVALID_PARAMETER)?;
    if p.is_empty() {
        return Err(ERROR_PATH_NOT_FOUND);
    }
    fs::resolve(cx, p).map_err(|_| 123)
}

fn missing(cx: &Ctx<'_>, r: &Resolved) -> u32 {
    if fs::parent_exists(cx, r) { ERROR_FILE_NOT_FOUND } else { ERROR_PATH_NOT_FOUND }
}

/// `CreateFileW(name, access, share, NULL, disposition, flags, NULL)`.
pub fn create_file(cx: &mut Ctx<'_>, name: Option<&str>, access: u32, share: u32, disposition: u32, flags: u32) -> (FileHandle, u32) {
    let r = (|| -> Result<FileHandle, u32> {
        let r = resolve(cx, name)?;
        if disposition != OPEN_EXISTING {
            return Err(ERROR_NOT_SUPPORTED);
        }
        // Without FILE_FLAG_OPEN_REPARSE_POINT a link opens its target.
        let r = if flags & FILE_FLAG_OPEN_REPARSE_POINT == 0 { fs::follow(cx, &r).map_err(|_| 1921u32)? } else { r };
        let e = fs::entry(cx, &r).ok_or_else(|| missing(cx, &r))?;
        if e.is_dir() && flags & FILE_FLAG_BACKUP_SEMANTICS == 0 {
            return Err(ERROR_ACCESS_DENIED);
        }
        let writes = access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA | FILE_APPEND_DATA) != 0;
        if writes && e.attrs.readonly {
            return Err(ERROR_ACCESS_DENIED);
        }
        match cx.host.processes.lock_on(&r.world) {
            // Held open without FILE_SHARE_DELETE: no DELETE access.
            Some((LockKind::Open, _)) if access & (DELETE | GENERIC_ALL) != 0 => return Err(ERROR_SHARING_VIOLATION),
            // A mapped image: readable and deletable-by-rename, never
            // writable, and its reader must share reading.
            Some((LockKind::Mapped, _)) if writes || share & FILE_SHARE_READ == 0 => return Err(ERROR_SHARING_VIOLATION),
            _ => {}
        }
        Ok(FileHandle { target: Some(r), access, delete_on_close: Cell::new(false), closed: Cell::new(false) })
    })();
    match r {
        Ok(h) => (h, 0),
        Err(code) => (FileHandle::invalid(), code),
    }
}

/// BY_HANDLE_FILE_INFORMATION's thirteen DWORDs, in order.
pub fn file_information(cx: &Ctx<'_>, h: &FileHandle) -> Result<[u32; 13], u32> {
    let r = h.open()?;
    let e = fs::entry(cx, r).ok_or(ERROR_FILE_NOT_FOUND)?;
    // FILETIMEs on the host's clock.
    let split = |t: crate::lab::world::LabTime| {
        let ft = (cx.host_ticks(t) - crate::lab::powershell::dotnet::time::FILETIME_EPOCH) as u64;
        [ft as u32, (ft >> 32) as u32]
    };
    let [cl, ch] = split(e.times.created);
    let [al, ah] = split(e.times.accessed);
    let [wl, wh] = split(e.times.modified);
    let size = e.size();
    use sha2::Digest;
    let id = sha2::Sha256::digest(r.world.to_lowercase().as_bytes());
    let index = u64::from_le_bytes([id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]]);
    Ok([fs::attributes(e) as u32, cl, ch, al, ah, wl, wh, cx.host.volume_serial, (size >> 32) as u32, size as u32, 1, (index >> 32) as u32, index as u32])
}

/// FileBasicInfo: set the attributes (times are left as they are).
pub fn set_attributes(cx: &mut Ctx<'_>, h: &FileHandle, attributes: u32) -> Result<(), u32> {
    let r = h.open()?.clone();
    let mut attrs = fs::entry(cx, &r).ok_or(ERROR_FILE_NOT_FOUND)?.attrs;
    if attributes != 0 {
        attrs.readonly = attributes & 1 != 0;
        attrs.hidden = attributes & 2 != 0;
        attrs.system = attributes & 4 != 0;
    }
    cx.host.files.set_attrs(&r.world, attrs).map_err(|e| e.win32_code())
}

/// FileDispositionInfo: delete when the handle closes.
pub fn set_delete(cx: &mut Ctx<'_>, h: &FileHandle, delete: bool) -> Result<(), u32> {
    let r = h.open()?;
    if h.access & (DELETE | GENERIC_ALL) == 0 {
        return Err(ERROR_ACCESS_DENIED);
    }
    let e = fs::entry(cx, r).ok_or(ERROR_FILE_NOT_FOUND)?;
    if delete && (e.attrs.readonly || matches!(cx.host.processes.lock_on(&r.world), Some((LockKind::Mapped, _)))) {
        return Err(ERROR_ACCESS_DENIED);
    }
    h.delete_on_close.set(delete);
    Ok(())
}

/// `MoveFileExW(existing, new, flags)`; `new` is `None` for NULL.
pub fn move_file_ex(cx: &mut Ctx<'_>, existing: Option<&str>, new: Option<&str>, flags: u32) -> Result<(), u32> {
    const REPLACE_EXISTING: u32 = 1;
    const COPY_ALLOWED: u32 = 2;
    const DELAY_UNTIL_REBOOT: u32 = 4;
    let src = resolve(cx, existing)?;
    let dst = match new {
        None => None,
        Some(n) => Some(resolve(cx, Some(n))?),
    };
    if flags & DELAY_UNTIL_REBOOT == 0 {
        let Some(dst) = dst else { return Err(ERROR_INVALID_PARAMETER) };
        let now = cx.now();
        return cx.host.rename(&src.world, &dst.world, flags & REPLACE_EXISTING != 0, now).map_err(|e| e.win32_code());
    }
    if flags & COPY_ALLOWED != 0 {
        return Err(ERROR_INVALID_PARAMETER);
    }
    if !cx.admin {
        return Err(ERROR_ACCESS_DENIED);
    }
    let bare = |r: &Resolved| r.full.strip_prefix(r"\\?\").unwrap_or(&r.full).to_string();
    let op = match &dst {
        None => PendingOp::delete(&bare(&src)),
        Some(d) => PendingOp::rename(&bare(&src), &bare(d), flags & REPLACE_EXISTING != 0),
    };
    pending::append(&mut cx.host.registry, &op).map_err(|e| e.win32_code())
}

/// `GetLongPathNameW(path, buffer, size)`: the long path, or the error.
/// Each component is spelled as stored where the path reaches it, and a
/// junction or link on the way keeps its own name (Windows lists each
/// folder of the path as given; it never rewrites it to a link's target).
pub fn long_path_name(cx: &Ctx<'_>, path: Option<&str>) -> Result<String, u32> {
    let p = path.ok_or(ERROR_INVALID_PARAMETER)?;
    let r = resolve(cx, Some(p))?;
    if fs::entry(cx, &r).is_none() {
        return Err(missing(cx, &r));
    }
    let (prefix, bare) = match r.full.strip_prefix(r"\\?\") {
        Some(b) => (r"\\?\", b),
        None => ("", r.full.as_str()),
    };
    let mut comps = bare.split('\\');
    let mut long = format!("{prefix}{}", comps.next().unwrap_or_default());
    let mut given = long.clone();
    for comp in comps {
        if comp.is_empty() {
            long.push('\\'); // a root's trailing separator
            continue;
        }
        given = format!(r"{given}\{comp}");
        let at = resolve(cx, Some(&given))?;
        let stored = cx.host.files.get_with_name(&at.world).map(|(k, _)| k.rsplit('\\').next().unwrap_or(k).to_string());
        long = format!(r"{long}\{}", stored.ok_or_else(|| missing(cx, &at))?);
    }
    Ok(long)
}

/// `[System.Runtime.InteropServices.Marshal]`.
struct MarshalType;

impl NetType for MarshalType {
    fn full_name(&self) -> &str {
        "System.Runtime.InteropServices.Marshal"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "GetLastWin32Error") {
            return Some(Ok(Value::Int(cx.last_error as i32)));
        }
        None
    }
}

/// `New-Object System.ComponentModel.Win32Exception code`.
struct Win32ExceptionType;

impl NetType for Win32ExceptionType {
    fn full_name(&self) -> &str {
        "System.ComponentModel.Win32Exception"
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Runtime.InteropServices.ExternalException", "System.Exception"]
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let code = match args.first() {
            Some(v) => convert::to_i64(v, cx).unwrap_or(0) as u32,
            None => cx.last_error,
        };
        let message = match args.get(1) {
            Some(m) => convert::to_string(m, cx),
            None => message(code),
        };
        Some(Ok(Value::object(ExceptionObj { exception: Exception::new("System.ComponentModel.Win32Exception", message), record: None })))
    }
}

struct SafeFileHandleType;

impl NetType for SafeFileHandleType {
    fn full_name(&self) -> &str {
        "Microsoft.Win32.SafeHandles.SafeFileHandle"
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(MarshalType);
    r.add_type(Win32ExceptionType);
    r.add_type(SafeFileHandleType);
}
