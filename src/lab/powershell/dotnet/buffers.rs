//! Bytes in memory: `[Buffer]::BlockCopy` (byte-level copies between
//! primitive arrays, as the runtime copies a string's UTF-16 units into a
//! `byte[]` and back), `System.IO.MemoryStream`, and the stream state
//! every stream shares ([`StreamCore`], also used by the file facades'
//! FileStream), with .NET's argument checks and messages.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::args::Args;
use crate::lab::powershell::object::{ByteStream, Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::{ElemType, Value};

pub static SEEK_ORIGIN: EnumDef = EnumDef { full_name: "System.IO.SeekOrigin", members: &[("Begin", 0), ("Current", 1), ("End", 2)], flags: false };

fn out_of_bounds() -> NetError {
    NetError::argument("Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.")
}

fn non_negative(param: &str) -> NetError {
    NetError::exception("System.ArgumentOutOfRangeException", format!("Non-negative number required.\r\nParameter name: {param}"))
}

// ---- Buffer.BlockCopy ----

/// A primitive array as its bytes (little-endian, as in memory).
fn array_bytes(v: &Value, param: &str) -> NetResult<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b.borrow().clone()),
        Value::Array(a) => {
            let items = a.items.borrow();
            let mut out = Vec::with_capacity(items.len() * 2);
            match a.elem {
                ElemType::Char => items.iter().for_each(|x| out.extend_from_slice(&(if let Value::Char(c) = x { *c } else { 0 }).to_le_bytes())),
                ElemType::Int => items.iter().for_each(|x| out.extend_from_slice(&(if let Value::Int(n) = x { *n } else { 0 }).to_le_bytes())),
                ElemType::Long => items.iter().for_each(|x| out.extend_from_slice(&(if let Value::Long(n) = x { *n } else { 0 }).to_le_bytes())),
                _ => return Err(not_primitive(param)),
            }
            Ok(out)
        }
        Value::Null => Err(NetError::exception("System.ArgumentNullException", format!("Value cannot be null.\r\nParameter name: {param}"))),
        _ => Err(not_primitive(param)),
    }
}

fn not_primitive(param: &str) -> NetError {
    NetError::argument(format!("Object must be an array of primitives.\r\nParameter name: {param}"))
}

/// Write `bytes` into a primitive array (whole elements rebuilt).
fn store_bytes(v: &Value, bytes: &[u8]) {
    match v {
        Value::Bytes(b) => b.borrow_mut().copy_from_slice(bytes),
        Value::Array(a) => {
            let mut items = a.items.borrow_mut();
            match a.elem {
                ElemType::Char => {
                    for (x, c) in items.iter_mut().zip(bytes.chunks_exact(2)) {
                        *x = Value::Char(u16::from_le_bytes([c[0], c[1]]));
                    }
                }
                ElemType::Int => {
                    for (x, c) in items.iter_mut().zip(bytes.chunks_exact(4)) {
                        *x = Value::Int(i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                    }
                }
                ElemType::Long => {
                    for (x, c) in items.iter_mut().zip(bytes.chunks_exact(8)) {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        *x = Value::Long(i64::from_le_bytes(b));
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// `[Buffer]::BlockCopy(src, srcOffset, dst, dstOffset, count)`: offsets
/// and count in bytes, whatever the element types.
fn block_copy(cx: &mut Ctx<'_>, args: &[Value]) -> NetResult<Value> {
    let a = Args::new(args);
    a.count(&[5])?;
    let src = array_bytes(a.value(0), "src")?;
    let mut dst = array_bytes(a.value(2), "dst")?;
    let (so, dof, n) = (a.int(1, cx)?, a.int(3, cx)?, a.int(4, cx)?);
    for (v, p) in [(so, "srcOffset"), (dof, "dstOffset"), (n, "count")] {
        if v < 0 {
            return Err(non_negative(p));
        }
    }
    let (so, dof, n) = (so as usize, dof as usize, n as usize);
    if so + n > src.len() || dof + n > dst.len() {
        return Err(out_of_bounds());
    }
    dst[dof..dof + n].copy_from_slice(&src[so..so + n]);
    store_bytes(a.value(2), &dst);
    Ok(void())
}

struct BufferType;

impl NetType for BufferType {
    fn full_name(&self) -> &str {
        "System.Buffer"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "BlockCopy") {
            return Some(block_copy(cx, args));
        }
        if is(name, "ByteLength") {
            return Some(array_bytes(args.first().unwrap_or(&Value::Null), "array").map(|b| Value::Int(b.len() as i32)));
        }
        None
    }
}

// ---- streams ----

/// Position, length and closed state of a stream, and the members every
/// stream has (`Length`, `Position`, `Seek`, `Read`, `Close`).
#[derive(Debug, Default)]
pub struct StreamCore {
    pub position: Cell<u64>,
    pub closed: Cell<bool>,
}

pub fn closed_stream() -> NetError {
    NetError::exception("System.ObjectDisposedException", "Cannot access a closed Stream.")
}

impl StreamCore {
    pub fn check(&self) -> NetResult<()> {
        if self.closed.get() { Err(closed_stream()) } else { Ok(()) }
    }

    /// `Seek(offset, origin)` over a stream of `len` bytes.
    pub fn seek(&self, cx: &mut Ctx<'_>, args: &[Value], len: u64) -> NetResult<Value> {
        self.check()?;
        let a = Args::new(args);
        a.count(&[2])?;
        let offset = a.long(0, cx)?;
        let origin = match a.value(1) {
            Value::Enum(_, n) => *n,
            v => SEEK_ORIGIN.value_of(&crate::lab::powershell::convert::to_string(v, cx)).unwrap_or(0),
        };
        let base = match origin {
            0 => 0,
            1 => self.position.get() as i64,
            2 => len as i64,
            _ => return Err(NetError::argument("Invalid seek origin.")),
        };
        let at = base + offset;
        if at < 0 {
            return Err(NetError::exception("System.IO.IOException", "An attempt was made to move the position before the beginning of the stream."));
        }
        self.position.set(at as u64);
        Ok(Value::Long(at))
    }

    /// `Read(buffer, offset, count)` from `data` (the stream's bytes).
    pub fn read(&self, cx: &mut Ctx<'_>, args: &[Value], data: &[u8]) -> NetResult<Value> {
        self.check()?;
        let a = Args::new(args);
        a.count(&[3])?;
        let Value::Bytes(buf) = a.value(0) else {
            return Err(NetError::exception("System.ArgumentNullException", "Buffer cannot be null.\r\nParameter name: buffer"));
        };
        let (off, n) = (a.int(1, cx)?, a.int(2, cx)?);
        if off < 0 {
            return Err(non_negative("offset"));
        }
        if n < 0 {
            return Err(non_negative("count"));
        }
        let (off, n) = (off as usize, n as usize);
        let mut b = buf.borrow_mut();
        if off + n > b.len() {
            return Err(out_of_bounds());
        }
        let pos = (self.position.get() as usize).min(data.len());
        let got = n.min(data.len() - pos);
        b[off..off + got].copy_from_slice(&data[pos..pos + got]);
        self.position.set((pos + got) as u64);
        Ok(Value::Int(got as i32))
    }

    /// The properties every stream has, for a stream of `len` bytes.
    pub fn get(&self, name: &str, len: u64, writable: bool) -> Option<NetResult<Value>> {
        let open = !self.closed.get();
        Some(if is(name, "Length") {
            self.check().map(|()| Value::Long(len as i64))
        } else if is(name, "Position") {
            self.check().map(|()| Value::Long(self.position.get() as i64))
        } else if is(name, "CanRead") || is(name, "CanSeek") {
            Ok(Value::Bool(open))
        } else if is(name, "CanWrite") {
            Ok(Value::Bool(open && writable))
        } else {
            return None;
        })
    }

    /// The methods every stream has that only read: `Read`, `ReadByte`,
    /// `Seek`, `Flush`, `Close`. `data` gives the stream's bytes (or why it
    /// cannot); `len` is its length.
    pub fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value], len: u64, data: &dyn Fn() -> NetResult<Vec<u8>>) -> Option<NetResult<Value>> {
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Read") {
                self.check()?;
                self.read(cx, args, &data()?)?
            } else if is(name, "ReadByte") {
                self.check()?;
                let d = data()?;
                let pos = self.position.get() as usize;
                match d.get(pos) {
                    Some(b) => {
                        self.position.set(pos as u64 + 1);
                        Value::Int(i32::from(*b))
                    }
                    None => Value::Int(-1),
                }
            } else if is(name, "Seek") {
                self.seek(cx, args, len)?
            } else if is(name, "Flush") {
                void()
            } else if is(name, "Close") || is(name, "Dispose") {
                self.closed.set(true);
                void()
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }

    /// The bytes from the position to the end (the position moves there).
    pub fn rest(&self, data: &[u8]) -> NetResult<Vec<u8>> {
        self.check()?;
        let pos = (self.position.get() as usize).min(data.len());
        self.position.set(data.len() as u64);
        Ok(data[pos..].to_vec())
    }
}

/// `System.IO.MemoryStream`.
#[derive(Debug, Default)]
pub struct MemoryStream {
    data: RefCell<Vec<u8>>,
    core: StreamCore,
}

impl MemoryStream {
    fn write(&self, bytes: &[u8]) {
        let mut d = self.data.borrow_mut();
        let pos = self.core.position.get() as usize;
        if d.len() < pos + bytes.len() {
            d.resize(pos + bytes.len(), 0);
        }
        d[pos..pos + bytes.len()].copy_from_slice(bytes);
        self.core.position.set((pos + bytes.len()) as u64);
    }
}

impl NetObject for MemoryStream {
    fn type_name(&self) -> Cow<'static, str> {
        "System.IO.MemoryStream".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.Stream", "System.IDisposable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        self.core.get(name, self.data.borrow().len() as u64, true)
    }
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        if !is(name, "Position") {
            return None;
        }
        Some(self.core.check().and_then(|()| {
            let n = crate::lab::powershell::convert::to_i64(&value, cx).map_err(|e| NetError::argument(e.exception.message))?;
            if n < 0 {
                return Err(NetError::exception("System.ArgumentOutOfRangeException", "Non-negative number required.\r\nParameter name: value"));
            }
            self.core.position.set(n as u64);
            Ok(())
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Write") {
                self.core.check()?;
                a.count(&[3])?;
                let bytes = a.bytes(0, cx)?;
                let (off, n) = (a.int(1, cx)?, a.int(2, cx)?);
                if off < 0 || n < 0 {
                    return Err(non_negative(if off < 0 { "offset" } else { "count" }));
                }
                let (off, n) = (off as usize, n as usize);
                if off + n > bytes.len() {
                    return Err(out_of_bounds());
                }
                self.write(&bytes[off..off + n]);
                void()
            } else if is(name, "WriteByte") {
                self.core.check()?;
                let b = crate::lab::powershell::convert::to_u8(a.value(0), cx).map_err(|e| NetError::argument(e.exception.message))?;
                self.write(&[b]);
                void()
            } else if is(name, "ToArray") {
                Value::bytes(self.data.borrow().clone())
            } else if is(name, "SetLength") {
                self.core.check()?;
                let n = a.long(0, cx)?.max(0) as usize;
                self.data.borrow_mut().resize(n, 0);
                if self.core.position.get() as usize > n {
                    self.core.position.set(n as u64);
                }
                void()
            } else {
                return Ok(None);
            }))
        })();
        match r.transpose() {
            Some(x) => Some(x),
            None => {
                let len = self.data.borrow().len() as u64;
                self.core.call(cx, name, args, len, &|| Ok(self.data.borrow().clone()))
            }
        }
    }
    fn as_stream(&self) -> Option<&dyn ByteStream> {
        Some(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl ByteStream for MemoryStream {
    fn read_to_end(&self, _: &mut Ctx<'_>) -> NetResult<Vec<u8>> {
        let data = self.data.borrow().clone();
        self.core.rest(&data)
    }
}

struct MemoryStreamType;

impl NetType for MemoryStreamType {
    fn full_name(&self) -> &str {
        "System.IO.MemoryStream"
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.IO.Stream"]
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        Some(match args {
            [] | [Value::Int(_)] => Ok(Value::object(MemoryStream::default())),
            [Value::Bytes(_)] => a.bytes(0, cx).map(|b| Value::object(MemoryStream { data: RefCell::new(b), core: StreamCore::default() })),
            _ => Err(NetError::NoOverload { argc: args.len() }),
        })
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(BufferType);
    r.add_type(MemoryStreamType);
    r.add_enum(&SEEK_ORIGIN);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::{prints, v2, v5};

    /// A string's UTF-16 units copied into bytes and back with
    /// BlockCopy, an unpaired surrogate included (what the runtime's
    /// ConvertTo-CzUnits / ConvertFrom-CzToken do); on Windows
    /// `[Buffer]::BlockCopy([char[]]'aé', 0, $b, 0, 4)` gives 61 00 E9 00.
    #[test]
    fn block_copy_moves_utf16_units_both_ways() {
        let script = "$s = 'a' + [char]0xD800 + 'é'; $chars = $s.ToCharArray(); $b = New-Object byte[] 6; [Buffer]::BlockCopy($chars, 0, $b, 0, 6); ($b | ForEach-Object { $_.ToString('x2') }) -join ' '; $c = New-Object char[] 3; [Buffer]::BlockCopy($b, 0, $c, 0, 6); $t = New-Object System.String (,$c); $t -ceq $s; $t.Length";
        let want = ["61 00 00 d8 e9 00", "True", "3"];
        prints(&v5(script), &want);
        prints(&v2(script), &want);
        let r = v5("$b = New-Object byte[] 2; [Buffer]::BlockCopy($b, 0, $b, 1, 2)");
        assert!(r.flat().contains("Offset and length were out of bounds"), "{}", r.err);
    }

    /// MemoryStream: writes grow it, ToArray gives all, Read/Seek move the
    /// position; a closed stream throws "Cannot access a closed Stream.".
    #[test]
    fn memory_stream_reads_and_writes() {
        prints(
            &v5("$ms = New-Object System.IO.MemoryStream; $ms.Write([byte[]](1,2,3), 1, 2); $ms.WriteByte(9); $ms.ToArray() -join ','; $ms.Length; [void]$ms.Seek(1, [System.IO.SeekOrigin]::Begin); $buf = New-Object byte[] 4; $ms.Read($buf, 0, 4); $buf -join ','"),
            &["2,3,9", "3", "2", "3,9,0,0"],
        );
        let r = v5("$ms = New-Object System.IO.MemoryStream; $ms.Close(); $ms.WriteByte(1)");
        assert!(r.flat().contains("Cannot access a closed Stream."), "{}", r.err);
    }
}
