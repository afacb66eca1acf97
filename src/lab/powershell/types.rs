//! Types as scripts name them: `[int]`, `[string[]]`, `[IO.File]`,
//! `[System.Security.Principal.WindowsIdentity]`. The language's own types
//! are built in ([`Prim`]); every other type comes from the object-model
//! registry (`object::registry`) or from the run's `Add-Type` definitions.
//! PowerShell's type accelerators and its rule that `System.` may be left
//! out are applied here.

use std::fmt;
use std::sync::Arc;

use super::object::{NetType, registry};
use super::value::{ElemType, Value};

/// A resolved type.
#[derive(Clone)]
pub enum TypeRef {
    Prim(Prim),
    Array(Arc<TypeRef>),
    Net(Arc<dyn NetType>),
}

impl fmt::Debug for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.full_name())
    }
}

/// The language's built-in types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Object,
    Bool,
    Int32,
    Int64,
    Int16,
    UInt16,
    Double,
    Single,
    Decimal,
    Byte,
    SByte,
    UInt32,
    UInt64,
    Char,
    String,
    Void,
    Hashtable,
    ScriptBlock,
    DateTime,
    TimeSpan,
    Type,
    Switch,
    PSObject,
    Array,
    Enum,
    ValueType,
    IntPtr,
    NullString,
    Exception,
}

impl Prim {
    pub fn full_name(self) -> &'static str {
        match self {
            Prim::Object => "System.Object",
            Prim::Bool => "System.Boolean",
            Prim::Int32 => "System.Int32",
            Prim::Int64 => "System.Int64",
            Prim::Int16 => "System.Int16",
            Prim::UInt16 => "System.UInt16",
            Prim::Double => "System.Double",
            Prim::Single => "System.Single",
            Prim::Decimal => "System.Decimal",
            Prim::Byte => "System.Byte",
            Prim::SByte => "System.SByte",
            Prim::UInt32 => "System.UInt32",
            Prim::UInt64 => "System.UInt64",
            Prim::Char => "System.Char",
            Prim::String => "System.String",
            Prim::Void => "System.Void",
            Prim::Hashtable => "System.Collections.Hashtable",
            Prim::ScriptBlock => "System.Management.Automation.ScriptBlock",
            Prim::DateTime => "System.DateTime",
            Prim::TimeSpan => "System.TimeSpan",
            Prim::Type => "System.Type",
            Prim::Switch => "System.Management.Automation.SwitchParameter",
            Prim::PSObject => "System.Management.Automation.PSObject",
            Prim::Array => "System.Array",
            Prim::Enum => "System.Enum",
            Prim::ValueType => "System.ValueType",
            Prim::IntPtr => "System.IntPtr",
            Prim::NullString => "System.Management.Automation.Language.NullString",
            Prim::Exception => "System.Exception",
        }
    }
}

impl TypeRef {
    pub fn full_name(&self) -> String {
        match self {
            TypeRef::Prim(p) => p.full_name().to_string(),
            TypeRef::Array(t) => format!("{}[]", t.full_name()),
            TypeRef::Net(t) => t.full_name().to_string(),
        }
    }

    /// The name PowerShell shows for the type in messages (`int`,
    /// `string[]` for accelerators; the full name otherwise).
    pub fn display(&self) -> String {
        self.full_name()
    }

    /// The element type of an array type.
    pub fn elem(&self) -> Option<&TypeRef> {
        match self {
            TypeRef::Array(t) => Some(t),
            _ => None,
        }
    }

    /// The array element kind for a new array of this element type.
    pub fn as_elem(&self) -> ElemType {
        match self {
            TypeRef::Prim(Prim::Object) | TypeRef::Prim(Prim::PSObject) => ElemType::Object,
            TypeRef::Prim(Prim::String) => ElemType::String,
            TypeRef::Prim(Prim::Int32) => ElemType::Int,
            TypeRef::Prim(Prim::Int64) => ElemType::Long,
            TypeRef::Prim(Prim::Char) => ElemType::Char,
            TypeRef::Prim(Prim::Double) => ElemType::Double,
            TypeRef::Prim(Prim::Bool) => ElemType::Bool,
            other => ElemType::Other(other.clone()),
        }
    }

    pub fn is_prim(&self, p: Prim) -> bool {
        matches!(self, TypeRef::Prim(q) if *q == p)
    }
}

/// Resolve a type name as written between brackets. `dynamic` holds the
/// run's `Add-Type` types.
pub fn resolve(name: &str, dynamic: &[Arc<dyn NetType>]) -> Option<TypeRef> {
    let name = name.trim();
    if let Some(inner) = name.strip_suffix("[]") {
        return resolve(inner, dynamic).map(|t| TypeRef::Array(Arc::new(t)));
    }
    if let Some(p) = prim(name) {
        return Some(TypeRef::Prim(p));
    }
    for t in dynamic {
        if t.full_name().eq_ignore_ascii_case(name) {
            return Some(TypeRef::Net(t.clone()));
        }
    }
    registry().find_type(name).map(TypeRef::Net)
}

/// Whether a type name resolves without the run's dynamic types (so the
/// parse-time cache may keep it).
pub fn is_static_name(name: &str) -> bool {
    resolve(name, &[]).is_some()
}

/// Built-in types by accelerator or full name.
fn prim(name: &str) -> Option<Prim> {
    let lower = name.to_ascii_lowercase();
    let short = lower.strip_prefix("system.").unwrap_or(&lower);
    Some(match short {
        "object" => Prim::Object,
        "bool" | "boolean" => Prim::Bool,
        "int" | "int32" => Prim::Int32,
        "long" | "int64" => Prim::Int64,
        "int16" | "short" => Prim::Int16,
        "uint16" | "ushort" => Prim::UInt16,
        "double" => Prim::Double,
        "float" | "single" => Prim::Single,
        "decimal" => Prim::Decimal,
        "byte" => Prim::Byte,
        "sbyte" => Prim::SByte,
        "uint32" | "uint" => Prim::UInt32,
        "uint64" | "ulong" => Prim::UInt64,
        "char" => Prim::Char,
        "string" => Prim::String,
        "void" => Prim::Void,
        "hashtable" | "collections.hashtable" => Prim::Hashtable,
        "scriptblock" | "management.automation.scriptblock" => Prim::ScriptBlock,
        "datetime" => Prim::DateTime,
        "timespan" => Prim::TimeSpan,
        "type" | "runtimetype" => Prim::Type,
        "switch" | "management.automation.switchparameter" => Prim::Switch,
        "psobject" | "pscustomobject" | "management.automation.psobject" => Prim::PSObject,
        "array" => Prim::Array,
        "enum" => Prim::Enum,
        "valuetype" => Prim::ValueType,
        "intptr" => Prim::IntPtr,
        "nullstring" | "management.automation.language.nullstring" => Prim::NullString,
        "exception" => Prim::Exception,
        _ => return None,
    })
}

/// `$v -is [t]`.
pub fn is_instance(v: &Value, t: &TypeRef) -> bool {
    match t {
        TypeRef::Prim(p) => match (p, v) {
            (_, Value::Null) => false,
            (Prim::Object | Prim::PSObject, _) => true,
            (Prim::Bool, Value::Bool(_)) => true,
            (Prim::Int32, Value::Int(_)) => true,
            (Prim::Int64, Value::Long(_)) => true,
            (Prim::Double, Value::Double(_)) => true,
            (Prim::Byte, Value::Byte(_)) => true,
            (Prim::UInt32, Value::UInt32(_)) => true,
            (Prim::UInt64, Value::UInt64(_)) => true,
            (Prim::Char, Value::Char(_)) => true,
            (Prim::String, Value::Str(_)) => true,
            (Prim::Hashtable, Value::Hashtable(_)) => true,
            (Prim::ScriptBlock, Value::ScriptBlock(_)) => true,
            (Prim::DateTime, Value::DateTime(_)) => true,
            (Prim::TimeSpan, Value::TimeSpan(_)) => true,
            (Prim::Type, Value::Type(_)) => true,
            (Prim::Array, Value::Array(_) | Value::Bytes(_)) => true,
            (Prim::Enum, Value::Enum(..)) => true,
            (
                Prim::ValueType,
                Value::Bool(_)
                | Value::Int(_)
                | Value::Long(_)
                | Value::Double(_)
                | Value::Byte(_)
                | Value::UInt32(_)
                | Value::UInt64(_)
                | Value::Char(_)
                | Value::DateTime(_)
                | Value::TimeSpan(_)
                | Value::Enum(..),
            ) => true,
            (_, Value::Object(o)) => {
                let want = p.full_name();
                o.type_name().eq_ignore_ascii_case(want) || o.base_types().iter().any(|b| b.eq_ignore_ascii_case(want))
            }
            _ => false,
        },
        TypeRef::Array(elem) => match v {
            Value::Bytes(_) => elem.is_prim(Prim::Byte),
            Value::Array(a) => {
                let have = a.elem.full_name();
                let want = elem.full_name();
                have.eq_ignore_ascii_case(&want)
                    || (elem.is_prim(Prim::Object) && !matches!(a.elem, ElemType::Int | ElemType::Long | ElemType::Char | ElemType::Double | ElemType::Bool))
            }
            _ => false,
        },
        TypeRef::Net(t) => match v {
            Value::Object(o) => {
                let want = t.full_name();
                o.type_name().eq_ignore_ascii_case(want) || o.base_types().iter().any(|b| b.eq_ignore_ascii_case(want))
            }
            Value::Enum(d, _) => d.full_name.eq_ignore_ascii_case(t.full_name()),
            Value::Hashtable(_) => ["System.Collections.IDictionary", "System.Collections.ICollection", "System.Collections.IEnumerable"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(t.full_name())),
            Value::Array(_) | Value::Bytes(_) => ["System.Collections.IList", "System.Collections.ICollection", "System.Collections.IEnumerable"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(t.full_name())),
            _ => false,
        },
    }
}
