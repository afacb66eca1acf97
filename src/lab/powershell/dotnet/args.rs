//! Method arguments as PowerShell's method binder converts them for a .NET
//! method's parameter types. The rule facades most need: a `string`
//! parameter given `$null` receives `""` (PowerShell converts with
//! LanguagePrimitives, as for `[string]$null`); only `[NullString]::Value`
//! (3.0+) passes a real null. Conversion failures are binder errors
//! (`Cannot convert argument ...`), not exceptions of the method.

use std::borrow::Cow;

use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult};
use crate::lab::powershell::value::Value;

/// `[NullString]::Value`: the one value that passes null to a .NET string
/// parameter.
#[derive(Debug)]
pub struct NullString;

impl NetObject for NullString {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.Language.NullString".into()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        String::new()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The arguments of one method call.
pub struct Args<'v> {
    values: &'v [Value],
}

const NULL: Value = Value::Null;

impl<'v> Args<'v> {
    pub fn new(values: &'v [Value]) -> Args<'v> {
        Args { values }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Refuse a call whose argument count no overload takes.
    pub fn count(&self, allowed: &[usize]) -> NetResult<()> {
        if allowed.contains(&self.values.len()) { Ok(()) } else { Err(NetError::NoOverload { argc: self.values.len() }) }
    }

    pub fn value(&self, i: usize) -> &'v Value {
        self.values.get(i).unwrap_or(&NULL)
    }

    fn conv_err(&self, i: usize, target: &str, e: crate::lab::powershell::errors::ErrorRecord, cx: &mut Ctx<'_>) -> NetError {
        NetError::Argument { index: i, value: convert::to_string(self.value(i), cx), target: target.to_string(), reason: e.exception.message }
    }

    /// A `string` parameter: `$null` is `""`.
    pub fn string(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<String> {
        Ok(convert::method_string(self.value(i), cx))
    }

    /// A `string` parameter where null matters (Win32 calls): `None` only
    /// for `[NullString]::Value`.
    pub fn nullable_string(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<Option<String>> {
        match self.value(i) {
            Value::Object(o) if o.as_any().is::<NullString>() => Ok(None),
            v => Ok(Some(convert::method_string(v, cx))),
        }
    }

    pub fn int(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<i32> {
        convert::to_i32(self.value(i), cx).map_err(|e| self.conv_err(i, "System.Int32", e, cx))
    }

    pub fn long(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<i64> {
        convert::to_i64(self.value(i), cx).map_err(|e| self.conv_err(i, "System.Int64", e, cx))
    }

    pub fn uint(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<u32> {
        convert::to_u32(self.value(i), cx).map_err(|e| self.conv_err(i, "System.UInt32", e, cx))
    }

    pub fn double(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<f64> {
        convert::to_f64(self.value(i), cx).map_err(|e| self.conv_err(i, "System.Double", e, cx))
    }

    pub fn bool(&self, i: usize) -> bool {
        self.value(i).is_true_lossy()
    }

    /// A `byte[]` parameter.
    pub fn bytes(&self, i: usize, cx: &mut Ctx<'_>) -> NetResult<Vec<u8>> {
        match self.value(i) {
            Value::Bytes(b) => Ok(b.borrow().clone()),
            Value::Null => Err(NetError::exception("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: bytes")),
            v => {
                let items = if v.is_collection() { v.enumerate(cx).unwrap_or_default() } else { vec![v.clone()] };
                let mut out = Vec::with_capacity(items.len());
                for x in &items {
                    out.push(convert::to_u8(x, cx).map_err(|e| self.conv_err(i, "System.Byte[]", e, cx))?);
                }
                Ok(out)
            }
        }
    }
}
