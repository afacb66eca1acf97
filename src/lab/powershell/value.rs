//! Values: what PowerShell's variables and pipelines hold. Primitives are
//! unboxed; strings are shared (`Rc<str>`, in the lab's UTF-16 mapping,
//! see `world::utf16`); arrays, hashtables and .NET objects are reference
//! types, shared and mutable as in .NET (`$a = $b` aliases one array).
//! `[byte[]]` has its own compact form.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;

use super::ast::ScriptBlockAst;
use super::object::{Ctx, EnumDef, NetObject};
use super::types::TypeRef;
use crate::lab::world::ci::fold;

pub type Str = Rc<str>;

#[derive(Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Byte(u8),
    UInt32(u32),
    UInt64(u64),
    /// A UTF-16 unit, as .NET's `char`.
    Char(u16),
    Str(Str),
    Array(Rc<Array>),
    Bytes(Rc<RefCell<Vec<u8>>>),
    Hashtable(Rc<RefCell<Hashtable>>),
    ScriptBlock(Rc<ScriptBlock>),
    DateTime(DateTime),
    /// `TimeSpan`, in ticks.
    TimeSpan(i64),
    Enum(&'static EnumDef, i64),
    Type(TypeRef),
    Object(Rc<dyn NetObject>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "$null"),
            Value::Bool(b) => write!(f, "${b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Long(n) => write!(f, "{n}L"),
            Value::Double(d) => write!(f, "{d}d"),
            Value::Byte(b) => write!(f, "[byte]{b}"),
            Value::UInt32(n) => write!(f, "[uint32]{n}"),
            Value::UInt64(n) => write!(f, "[uint64]{n}"),
            Value::Char(c) => write!(f, "[char]{c}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Array(a) => write!(f, "@{:?}", a.items.borrow()),
            Value::Bytes(b) => write!(f, "[byte[]]({} bytes)", b.borrow().len()),
            Value::Hashtable(h) => write!(f, "@{{{} entries}}", h.borrow().len()),
            Value::ScriptBlock(s) => write!(f, "{{{}}}", s.ast.text()),
            Value::DateTime(d) => write!(f, "[datetime]{}", d.ticks),
            Value::TimeSpan(t) => write!(f, "[timespan]{t}"),
            Value::Enum(d, v) => write!(f, "[{}]{v}", d.full_name),
            Value::Type(t) => write!(f, "[{}]", t.full_name()),
            Value::Object(o) => write!(f, "<{}>", o.type_name()),
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
    /// A new `object[]`.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(Array::new(ElemType::Object, items)))
    }
    /// A new `string[]`.
    pub fn string_array(items: Vec<String>) -> Value {
        Value::Array(Rc::new(Array::new(ElemType::String, items.into_iter().map(Value::string).collect())))
    }
    pub fn bytes(b: Vec<u8>) -> Value {
        Value::Bytes(Rc::new(RefCell::new(b)))
    }
    pub fn object(o: impl NetObject) -> Value {
        Value::Object(Rc::new(o))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Truth without a context (objects are true), as
    /// LanguagePrimitives.IsTrue.
    pub fn is_true_lossy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Long(n) => *n != 0,
            Value::Double(d) => *d != 0.0,
            Value::Byte(n) => *n != 0,
            Value::UInt32(n) => *n != 0,
            Value::UInt64(n) => *n != 0,
            Value::Char(c) => *c != 0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(a) => {
                let items = a.items.borrow();
                match items.len() {
                    0 => false,
                    1 => items[0].is_true_lossy(),
                    _ => true,
                }
            }
            Value::Bytes(b) => {
                let b = b.borrow();
                match b.len() {
                    0 => false,
                    1 => b[0] != 0,
                    _ => true,
                }
            }
            Value::Enum(_, v) => *v != 0,
            Value::TimeSpan(_) | Value::DateTime(_) => true,
            _ => true,
        }
    }

    /// The items PowerShell enumerates in a pipeline, `foreach` and `@()`:
    /// arrays and collections; `None` for a scalar (strings and
    /// hashtables are scalars).
    /// The object, when the value is one.
    pub fn as_object(&self) -> Option<&Rc<dyn crate::lab::powershell::object::NetObject>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn enumerate(&self, cx: &mut Ctx<'_>) -> Option<Vec<Value>> {
        match self {
            Value::Array(a) => Some(a.items.borrow().clone()),
            Value::Bytes(b) => Some(b.borrow().iter().map(|&x| Value::Byte(x)).collect()),
            Value::Object(o) => o.enumerate(cx),
            _ => None,
        }
    }

    /// Whether this is a collection PowerShell enumerates.
    pub fn is_collection(&self) -> bool {
        match self {
            Value::Array(_) | Value::Bytes(_) => true,
            Value::Object(o) => super::dotnet::collections::is_enumerable(o.as_ref()),
            _ => false,
        }
    }

    /// The .NET type name, as `GetType().FullName` gives it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(_) => "System.Boolean".into(),
            Value::Int(_) => "System.Int32".into(),
            Value::Long(_) => "System.Int64".into(),
            Value::Double(_) => "System.Double".into(),
            Value::Byte(_) => "System.Byte".into(),
            Value::UInt32(_) => "System.UInt32".into(),
            Value::UInt64(_) => "System.UInt64".into(),
            Value::Char(_) => "System.Char".into(),
            Value::Str(_) => "System.String".into(),
            Value::Array(a) => format!("{}[]", a.elem.full_name()),
            Value::Bytes(_) => "System.Byte[]".into(),
            Value::Hashtable(_) => "System.Collections.Hashtable".into(),
            Value::ScriptBlock(_) => "System.Management.Automation.ScriptBlock".into(),
            Value::DateTime(_) => "System.DateTime".into(),
            Value::TimeSpan(_) => "System.TimeSpan".into(),
            Value::Enum(d, _) => d.full_name.into(),
            Value::Type(_) => "System.RuntimeType".into(),
            Value::Object(o) => o.type_name().into_owned(),
        }
    }

    /// Whether the value is a number (for arithmetic).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Byte(_) | Value::UInt32(_) | Value::UInt64(_)
        )
    }
}

/// An array's element type (what `-is [string[]]` and casts see).
#[derive(Debug, Clone)]
pub enum ElemType {
    Object,
    String,
    Int,
    Long,
    Char,
    Double,
    Bool,
    Other(TypeRef),
}

impl ElemType {
    pub fn full_name(&self) -> String {
        match self {
            ElemType::Object => "System.Object".into(),
            ElemType::String => "System.String".into(),
            ElemType::Int => "System.Int32".into(),
            ElemType::Long => "System.Int64".into(),
            ElemType::Char => "System.Char".into(),
            ElemType::Double => "System.Double".into(),
            ElemType::Bool => "System.Boolean".into(),
            ElemType::Other(t) => t.full_name(),
        }
    }
}

/// A .NET array (fixed length; elements settable).
#[derive(Debug)]
pub struct Array {
    pub elem: ElemType,
    pub items: RefCell<Vec<Value>>,
}

impl Array {
    pub fn new(elem: ElemType, items: Vec<Value>) -> Array {
        Array { elem, items: RefCell::new(items) }
    }
}

/// A script block value.
#[derive(Debug)]
pub struct ScriptBlock {
    pub ast: std::sync::Arc<ScriptBlockAst>,
}

/// `DateTime`: ticks since 0001-01-01 and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub ticks: i64,
    pub kind: DateKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Unspecified,
    Utc,
    /// The host's local time (lab hosts run in UTC).
    Local,
}

/// A hashtable key: strings compare case-insensitively (as
/// `@{}` does), numbers by type and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HKey {
    Str(String),
    Int(i64),
    Long(i64),
    Bool(bool),
    Double(u64),
    Char(u16),
    /// Reference identity for other objects.
    Ref(usize),
    Null,
}

impl HKey {
    pub fn of(v: &Value) -> HKey {
        match v {
            Value::Str(s) => HKey::Str(fold_key(s)),
            Value::Int(n) => HKey::Int(i64::from(*n)),
            Value::Byte(n) => HKey::Int(i64::from(*n)),
            Value::UInt32(n) => HKey::Long(i64::from(*n)),
            Value::Long(n) => HKey::Long(*n),
            Value::UInt64(n) => HKey::Long(*n as i64),
            Value::Bool(b) => HKey::Bool(*b),
            Value::Double(d) => HKey::Double(d.to_bits()),
            Value::Char(c) => HKey::Char(*c),
            Value::Enum(_, n) => HKey::Long(*n),
            Value::Null => HKey::Null,
            Value::Array(a) => HKey::Ref(Rc::as_ptr(a) as *const u8 as usize),
            Value::Hashtable(h) => HKey::Ref(Rc::as_ptr(h) as *const u8 as usize),
            Value::Object(o) => HKey::Ref(Rc::as_ptr(o) as *const u8 as usize),
            other => HKey::Str(format!("{other:?}")),
        }
    }
}

/// A string key folded as [`fold`] folds each character (ASCII alone
/// without walking characters).
fn fold_key(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_uppercase() } else { s.chars().map(fold).collect() }
}

/// `System.Collections.Hashtable` with PowerShell's case-insensitive
/// string keys. Enumerates in insertion order (.NET's order is by hash
/// bucket, which no script can rely on).
#[derive(Debug, Default, Clone)]
pub struct Hashtable {
    map: IndexMap<HKey, (Value, Value), rustc_hash::FxBuildHasher>,
}

impl Hashtable {
    pub fn new() -> Hashtable {
        Hashtable::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.map.get(&HKey::of(key)).map(|(_, v)| v)
    }
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.map.get(&HKey::Str(fold_key(key))).map(|(_, v)| v)
    }
    pub fn contains(&self, key: &Value) -> bool {
        self.map.contains_key(&HKey::of(key))
    }
    /// `$h[k] = v`: add or replace.
    pub fn insert(&mut self, key: Value, value: Value) {
        let k = HKey::of(&key);
        match self.map.get_mut(&k) {
            Some(slot) => slot.1 = value,
            None => {
                self.map.insert(k, (key, value));
            }
        }
    }
    /// `.Add(k, v)`: fails when the key is there.
    pub fn add(&mut self, key: Value, value: Value) -> bool {
        let k = HKey::of(&key);
        if self.map.contains_key(&k) {
            return false;
        }
        self.map.insert(k, (key, value));
        true
    }
    pub fn remove(&mut self, key: &Value) {
        self.map.shift_remove(&HKey::of(key));
    }
    pub fn clear(&mut self) {
        self.map.clear();
    }
    pub fn entries(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.map.values().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> Vec<Value> {
        self.map.values().map(|(k, _)| k.clone()).collect()
    }
    pub fn values(&self) -> Vec<Value> {
        self.map.values().map(|(_, v)| v.clone()).collect()
    }
}
