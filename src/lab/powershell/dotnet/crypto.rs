//! `System.Security.Cryptography.SHA256`: `[SHA256]::Create()` and
//! `New-Object System.Security.Cryptography.SHA256Managed`, with
//! `ComputeHash(byte[])`, `ComputeHash(byte[], offset, count)` and
//! `ComputeHash(Stream)` for any object that is a stream
//! ([`NetObject::as_stream`]).
//!
//! On .NET Framework (Windows PowerShell) `SHA256.Create()` returns a
//! `SHA256Managed`; on .NET (PowerShell 7) an internal
//! `SHA256+Implementation`. A disposed object throws
//! ObjectDisposedException ("Cannot access a disposed object.").

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use sha2::{Digest, Sha256};

use super::args::Args;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::value::Value;

/// A SHA-256 hash algorithm object.
pub struct Sha256Object {
    type_name: &'static str,
    hash: RefCell<Option<Vec<u8>>>,
    disposed: Cell<bool>,
}

impl Sha256Object {
    fn new(cx: &Ctx<'_>) -> Sha256Object {
        let type_name = if cx.version.dotnet_core() {
            "System.Security.Cryptography.SHA256+Implementation"
        } else {
            "System.Security.Cryptography.SHA256Managed"
        };
        Sha256Object { type_name, hash: RefCell::new(None), disposed: Cell::new(false) }
    }

    fn compute(&self, cx: &mut Ctx<'_>, args: &[Value]) -> NetResult<Value> {
        if self.disposed.get() {
            return Err(NetError::exception("System.ObjectDisposedException", "Cannot access a disposed object."));
        }
        let a = Args::new(args);
        if let [Value::Object(o)] = args
            && let Some(stream) = o.as_stream()
        {
            let digest = stream.sha256_to_end(cx)?.to_vec();
            *self.hash.borrow_mut() = Some(digest.clone());
            return Ok(Value::bytes(digest));
        }
        let data = match args {
            [_] => a.bytes(0, cx)?,
            [_, _, _] => {
                let all = a.bytes(0, cx)?;
                let (offset, count) = (a.int(1, cx)?, a.int(2, cx)?);
                if offset < 0 || count < 0 {
                    let p = if offset < 0 { "offset" } else { "count" };
                    return Err(NetError::exception("System.ArgumentOutOfRangeException", format!("Non-negative number required.\r\nParameter name: {p}")));
                }
                let (o, n) = (offset as usize, count as usize);
                if o + n > all.len() {
                    return Err(NetError::argument("Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection."));
                }
                all[o..o + n].to_vec()
            }
            _ => return Err(NetError::NoOverload { argc: args.len() }),
        };
        let digest = Sha256::digest(&data).to_vec();
        *self.hash.borrow_mut() = Some(digest.clone());
        Ok(Value::bytes(digest))
    }
}

impl NetObject for Sha256Object {
    fn type_name(&self) -> Cow<'static, str> {
        self.type_name.into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.Cryptography.SHA256", "System.Security.Cryptography.HashAlgorithm", "System.IDisposable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "HashSize") {
            return Some(Ok(Value::Int(256)));
        }
        if is(name, "Hash") {
            return Some(match &*self.hash.borrow() {
                Some(h) => Ok(Value::bytes(h.clone())),
                None => Err(NetError::exception("System.Security.Cryptography.CryptographicUnexpectedOperationException", "Hash must be finalized before the hash value is retrieved.")),
            });
        }
        if is(name, "CanReuseTransform") || is(name, "CanTransformMultipleBlocks") {
            return Some(Ok(Value::Bool(true)));
        }
        if is(name, "InputBlockSize") || is(name, "OutputBlockSize") {
            return Some(Ok(Value::Int(1)));
        }
        None
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "ComputeHash") {
            return Some(self.compute(cx, args));
        }
        if is(name, "Dispose") || is(name, "Clear") {
            self.disposed.set(true);
            return Some(Ok(void()));
        }
        if is(name, "Initialize") {
            return Some(Ok(void()));
        }
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `[System.Security.Cryptography.SHA256]` (abstract: `Create()` only),
/// and the constructible `SHA256Managed` / `SHA256CryptoServiceProvider`.
struct Sha256Type(&'static str);

impl NetType for Sha256Type {
    fn full_name(&self) -> &str {
        self.0
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.Cryptography.HashAlgorithm"]
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "Create") {
            return None;
        }
        if !args.is_empty() {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        Some(Ok(Value::object(Sha256Object::new(cx))))
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        if self.0 == "System.Security.Cryptography.SHA256" {
            return None;
        }
        if !args.is_empty() {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        let mut o = Sha256Object::new(cx);
        o.type_name = if self.0.ends_with("Managed") { "System.Security.Cryptography.SHA256Managed" } else { "System.Security.Cryptography.SHA256CryptoServiceProvider" };
        Some(Ok(Value::object(o)))
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(Sha256Type("System.Security.Cryptography.SHA256"));
    r.add_type(Sha256Type("System.Security.Cryptography.SHA256Managed"));
    r.add_type(Sha256Type("System.Security.Cryptography.SHA256CryptoServiceProvider"));
}
