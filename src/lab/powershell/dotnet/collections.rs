//! Collections: `System.Collections.ArrayList` and `Queue`, the members of
//! `Hashtable` and of arrays, `[Array]`'s static methods, and
//! `StringComparer` (ordinal comparisons by UTF-16 unit, as .NET does).

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use super::args::Args;
use super::misc::PsObject;
use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, downcast, is, void};
use crate::lab::powershell::ops;
use crate::lab::powershell::value::{Array, ElemType, Hashtable, Value};
use crate::lab::world::ci::fold;
use crate::lab::world::utf16;

/// Whether an object is a collection PowerShell enumerates.
pub fn is_enumerable(o: &dyn NetObject) -> bool {
    o.as_any().is::<ArrayList>() || o.base_types().contains(&"System.Collections.IEnumerable")
}

/// What a collection's constructor starts with: nothing for `()` or a
/// capacity, else the items of the collection given.
fn initial_items(cx: &mut Ctx<'_>, args: &[Value]) -> Vec<Value> {
    match args.first() {
        None | Some(Value::Int(_)) => Vec::new(),
        Some(v) => v.enumerate(cx).unwrap_or_default(),
    }
}

// ---- ArrayList ----

/// `System.Collections.ArrayList`.
#[derive(Debug, Default)]
pub struct ArrayList {
    pub items: RefCell<Vec<Value>>,
}

struct ArrayListType;

impl NetType for ArrayListType {
    fn full_name(&self) -> &str {
        "System.Collections.ArrayList"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        Some(Ok(Value::object(ArrayList { items: RefCell::new(initial_items(cx, args)) })))
    }
}

fn index_error() -> NetError {
    NetError::exception(
        "System.ArgumentOutOfRangeException",
        "Index was out of range. Must be non-negative and less than the size of the collection.\r\nParameter name: index",
    )
}

impl NetObject for ArrayList {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Collections.ArrayList".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Collections.IList", "System.Collections.ICollection", "System.Collections.IEnumerable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let n = self.items.borrow().len() as i32;
        if is(name, "Count") {
            Some(Ok(Value::Int(n)))
        } else if is(name, "Capacity") {
            Some(Ok(Value::Int(n.max(4))))
        } else if is(name, "IsFixedSize") || is(name, "IsReadOnly") || is(name, "IsSynchronized") {
            Some(Ok(Value::Bool(false)))
        } else {
            None
        }
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Add") {
                a.count(&[1])?;
                let mut items = self.items.borrow_mut();
                items.push(a.value(0).clone());
                Value::Int(items.len() as i32 - 1)
            } else if is(name, "AddRange") {
                a.count(&[1])?;
                let v = a.value(0);
                let more = match v {
                    Value::Null => return Err(NetError::exception("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: c")),
                    Value::Str(_) => vec![v.clone()],
                    other => other.enumerate(cx).unwrap_or_else(|| vec![other.clone()]),
                };
                self.items.borrow_mut().extend(more);
                void()
            } else if is(name, "Insert") {
                a.count(&[2])?;
                let i = a.int(0, cx)?;
                let mut items = self.items.borrow_mut();
                if i < 0 || i as usize > items.len() {
                    return Err(index_error());
                }
                items.insert(i as usize, a.value(1).clone());
                void()
            } else if is(name, "Remove") {
                a.count(&[1])?;
                let target = a.value(0).clone();
                let pos = { self.items.borrow().iter().position(|x| ops::equals(x, &target, false, cx)) };
                if let Some(p) = pos {
                    self.items.borrow_mut().remove(p);
                }
                void()
            } else if is(name, "RemoveAt") {
                let i = a.int(0, cx)?;
                let mut items = self.items.borrow_mut();
                if i < 0 || i as usize >= items.len() {
                    return Err(index_error());
                }
                items.remove(i as usize);
                void()
            } else if is(name, "RemoveRange") {
                let i = a.int(0, cx)?.max(0) as usize;
                let n = a.int(1, cx)?.max(0) as usize;
                let mut items = self.items.borrow_mut();
                if i + n > items.len() {
                    return Err(NetError::argument("Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection."));
                }
                items.drain(i..i + n);
                void()
            } else if is(name, "Clear") {
                self.items.borrow_mut().clear();
                void()
            } else if is(name, "Contains") {
                let target = a.value(0).clone();
                let items = self.items.borrow().clone();
                Value::Bool(items.iter().any(|x| ops::equals(x, &target, false, cx)))
            } else if is(name, "IndexOf") {
                let target = a.value(0).clone();
                let items = self.items.borrow().clone();
                Value::Int(items.iter().position(|x| ops::equals(x, &target, false, cx)).map_or(-1, |p| p as i32))
            } else if is(name, "Sort") {
                let comparer = comparer_of(a.value(0));
                let mut items = self.items.borrow_mut();
                sort_values(&mut items, comparer, cx);
                void()
            } else if is(name, "Reverse") {
                self.items.borrow_mut().reverse();
                void()
            } else if is(name, "ToArray") {
                let items = self.items.borrow().clone();
                match a.value(0) {
                    Value::Type(t) => {
                        let target = crate::lab::powershell::types::TypeRef::Array(std::sync::Arc::new(t.clone()));
                        convert::convert(&Value::array(items), &target, cx).map_err(|e| NetError::exception("System.InvalidCastException", e.exception.message))?
                    }
                    _ => Value::array(items),
                }
            } else if is(name, "GetRange") {
                let i = a.int(0, cx)?.max(0) as usize;
                let n = a.int(1, cx)?.max(0) as usize;
                let items = self.items.borrow();
                if i + n > items.len() {
                    return Err(NetError::argument("Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection."));
                }
                Value::object(ArrayList { items: RefCell::new(items[i..i + n].to_vec()) })
            } else if is(name, "Clone") {
                Value::object(ArrayList { items: RefCell::new(self.items.borrow().clone()) })
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        "System.Collections.ArrayList".into()
    }
    fn enumerate(&self, _: &mut Ctx<'_>) -> Option<Vec<Value>> {
        Some(self.items.borrow().clone())
    }
    fn index(&self, cx: &mut Ctx<'_>, index: &Value) -> Option<NetResult<Value>> {
        let i = match convert::to_i32(index, cx) {
            Ok(i) => i,
            Err(_) => return Some(Err(index_error())),
        };
        let items = self.items.borrow();
        Some(if i < 0 || i as usize >= items.len() { Err(index_error()) } else { Ok(items[i as usize].clone()) })
    }
    fn set_index(&self, cx: &mut Ctx<'_>, index: &Value, value: Value) -> Option<NetResult<()>> {
        let i = match convert::to_i32(index, cx) {
            Ok(i) => i,
            Err(_) => return Some(Err(index_error())),
        };
        let mut items = self.items.borrow_mut();
        Some(if i < 0 || i as usize >= items.len() {
            Err(index_error())
        } else {
            items[i as usize] = value;
            Ok(())
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---- comparers and sorting ----

/// `StringComparer.Ordinal`, `.OrdinalIgnoreCase`, and the culture ones.
#[derive(Debug, Clone, Copy)]
pub struct StringComparer {
    pub ignore_case: bool,
    pub ordinal: bool,
}

impl NetObject for StringComparer {
    fn type_name(&self) -> Cow<'static, str> {
        if self.ordinal { "System.OrdinalComparer".into() } else { "System.CultureAwareComparer".into() }
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.StringComparer", "System.Collections.IComparer"]
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        if is(name, "Compare") {
            let (x, y) = (convert::to_string(a.value(0), cx), convert::to_string(a.value(1), cx));
            return Some(Ok(Value::Int(compare_strings(&x, &y, *self) as i32)));
        }
        if is(name, "Equals") && args.len() == 2 {
            let (x, y) = (convert::to_string(a.value(0), cx), convert::to_string(a.value(1), cx));
            return Some(Ok(Value::Bool(compare_strings(&x, &y, *self) == Ordering::Equal)));
        }
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct StringComparerType;

impl NetType for StringComparerType {
    fn full_name(&self) -> &str {
        "System.StringComparer"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let c = |ignore_case, ordinal| Some(Ok(Value::object(StringComparer { ignore_case, ordinal })));
        if is(name, "Ordinal") {
            c(false, true)
        } else if is(name, "OrdinalIgnoreCase") {
            c(true, true)
        } else if is(name, "InvariantCulture") || is(name, "CurrentCulture") {
            c(false, false)
        } else if is(name, "InvariantCultureIgnoreCase") || is(name, "CurrentCultureIgnoreCase") {
            c(true, false)
        } else {
            None
        }
    }
}

/// Compare as a StringComparer does: ordinal by UTF-16 unit (case folded
/// for IgnoreCase); culture comparisons approximated as case-insensitive
/// first, then ordinal.
pub fn compare_strings(a: &str, b: &str, c: StringComparer) -> Ordering {
    let units = |s: &str, ci: bool| -> Vec<u16> {
        if ci { utf16::units(&s.chars().map(fold).collect::<String>()) } else { utf16::units(s) }
    };
    if c.ordinal {
        return units(a, c.ignore_case).cmp(&units(b, c.ignore_case));
    }
    let first = units(a, true).cmp(&units(b, true));
    if first != Ordering::Equal || c.ignore_case {
        return first;
    }
    // Culture order puts lower case before upper case.
    units(b, false).cmp(&units(a, false))
}

fn comparer_of(v: &Value) -> Option<StringComparer> {
    match v {
        Value::Object(o) => downcast::<StringComparer>(o.as_ref()).copied(),
        _ => None,
    }
}

/// Sort values: with a comparer, as strings; else by PowerShell's
/// comparison (numbers as numbers, strings case-insensitively).
fn sort_values(items: &mut [Value], comparer: Option<StringComparer>, cx: &mut Ctx<'_>) {
    match comparer {
        Some(c) => {
            let mut keyed: Vec<(String, Value)> = items.iter().map(|v| (convert::to_string(v, cx), v.clone())).collect();
            keyed.sort_by(|x, y| compare_strings(&x.0, &y.0, c));
            for (slot, (_, v)) in items.iter_mut().zip(keyed) {
                *slot = v;
            }
        }
        None => {
            let default = StringComparer { ignore_case: false, ordinal: false };
            items.sort_by(|x, y| match (x, y) {
                (Value::Str(a), Value::Str(b)) => compare_strings(a, b, default),
                _ => ops::order(x, y, true, cx).unwrap_or(Ordering::Equal),
            });
        }
    }
}

/// The items of an array value (or bytes), for in-place operations.
fn with_items<T>(v: &Value, f: impl FnOnce(&mut Vec<Value>) -> T) -> Option<T> {
    match v {
        Value::Array(a) => Some(f(&mut a.items.borrow_mut())),
        Value::Bytes(b) => {
            let mut items: Vec<Value> = b.borrow().iter().map(|&x| Value::Byte(x)).collect();
            let r = f(&mut items);
            *b.borrow_mut() = items.iter().map(|x| if let Value::Byte(y) = x { *y } else { 0 }).collect();
            Some(r)
        }
        _ => None,
    }
}

/// `[Array]::Name(args)`.
pub fn array_static(name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let r = (|| -> NetResult<Option<Value>> {
        Ok(Some(if is(name, "Sort") {
            match args.len() {
                1 => {
                    with_items(a.value(0), |items| sort_values(items, None, cx));
                }
                2 => {
                    if let Some(c) = comparer_of(a.value(1)) {
                        with_items(a.value(0), |items| sort_values(items, Some(c), cx));
                    } else {
                        sort_pair(a.value(0), a.value(1), None, cx);
                    }
                }
                3 => sort_pair(a.value(0), a.value(1), comparer_of(a.value(2)), cx),
                n => return Err(NetError::NoOverload { argc: n }),
            }
            void()
        } else if is(name, "Reverse") {
            with_items(a.value(0), |items| items.reverse());
            void()
        } else if is(name, "IndexOf") {
            let target = a.value(1).clone();
            let items = a.value(0).enumerate(cx).unwrap_or_default();
            Value::Int(items.iter().position(|x| ops::equals(x, &target, false, cx)).map_or(-1, |p| p as i32))
        } else if is(name, "Copy") {
            let (src, dst, si, di, n) = match args.len() {
                3 => (a.value(0), a.value(1), 0, 0, a.int(2, cx)?),
                5 => (a.value(0), a.value(2), a.int(1, cx)?, a.int(3, cx)?, a.int(4, cx)?),
                n => return Err(NetError::NoOverload { argc: n }),
            };
            let source = src.enumerate(cx).unwrap_or_default();
            let (si, di, n) = (si.max(0) as usize, di.max(0) as usize, n.max(0) as usize);
            if si + n > source.len() {
                return Err(NetError::argument("Source array was not long enough. Check srcIndex and length, and the array's lower bounds."));
            }
            let ok = with_items(dst, |items| {
                if di + n > items.len() {
                    return false;
                }
                items[di..di + n].clone_from_slice(&source[si..si + n]);
                true
            });
            if ok != Some(true) {
                return Err(NetError::argument("Destination array was not long enough. Check destIndex and length, and the array's lower bounds."));
            }
            void()
        } else if is(name, "Clear") {
            let i = a.int(1, cx)?.max(0) as usize;
            let n = a.int(2, cx)?.max(0) as usize;
            with_items(a.value(0), |items| {
                for x in items.iter_mut().skip(i).take(n) {
                    *x = match x {
                        Value::Byte(_) => Value::Byte(0),
                        Value::Int(_) => Value::Int(0),
                        _ => Value::Null,
                    };
                }
            });
            void()
        } else {
            return Ok(None);
        }))
    })();
    r.transpose()
}

/// `[Array]::Sort(keys, items[, comparer])`: sort both by the keys.
fn sort_pair(keys: &Value, items: &Value, comparer: Option<StringComparer>, cx: &mut Ctx<'_>) {
    let k = keys.enumerate(cx).unwrap_or_default();
    let v = items.enumerate(cx).unwrap_or_default();
    let mut pairs: Vec<(Value, Value)> = k.into_iter().zip(v).collect();
    let c = comparer.unwrap_or(StringComparer { ignore_case: false, ordinal: false });
    let mut keyed: Vec<(String, (Value, Value))> = pairs.drain(..).map(|p| (convert::to_string(&p.0, cx), p)).collect();
    keyed.sort_by(|x, y| compare_strings(&x.0, &y.0, c));
    let (ks, vs): (Vec<Value>, Vec<Value>) = keyed.into_iter().map(|(_, p)| p).unzip();
    with_items(keys, |items| {
        let n = items.len().min(ks.len());
        items[..n].clone_from_slice(&ks[..n]);
    });
    with_items(items, |it| {
        let n = it.len().min(vs.len());
        it[..n].clone_from_slice(&vs[..n]);
    });
}

// ---- arrays ----

/// An array's method (IList and System.Array members).
pub fn array_method(v: &Value, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let items = v.enumerate(cx).unwrap_or_default();
    Some(Ok(if is(name, "Contains") && args.len() == 1 {
        Value::Bool(items.iter().any(|x| ops::equals(x, a.value(0), false, cx)))
    } else if is(name, "IndexOf") && args.len() == 1 {
        Value::Int(items.iter().position(|x| ops::equals(x, a.value(0), false, cx)).map_or(-1, |p| p as i32))
    } else if is(name, "Clone") && args.is_empty() {
        match v {
            Value::Array(arr) => Value::Array(Rc::new(Array::new(arr.elem.clone(), items))),
            Value::Bytes(b) => Value::bytes(b.borrow().clone()),
            _ => return None,
        }
    } else if is(name, "GetValue") && args.len() == 1 {
        let i = match a.int(0, cx) {
            Ok(i) => i,
            Err(e) => return Some(Err(e)),
        };
        match items.get(i.max(0) as usize) {
            Some(x) if i >= 0 => x.clone(),
            _ => return Some(Err(NetError::exception("System.IndexOutOfRangeException", "Index was outside the bounds of the array."))),
        }
    } else if is(name, "GetLength") || is(name, "GetUpperBound") {
        let n = items.len() as i32;
        Value::Int(if is(name, "GetLength") { n } else { n - 1 })
    } else if is(name, "Add") || is(name, "Remove") || is(name, "Insert") || is(name, "RemoveAt") || is(name, "Clear") {
        return Some(Err(NetError::exception("System.NotSupportedException", "Collection was of a fixed size.")));
    } else {
        return None;
    }))
}

// ---- hashtables ----

pub fn hashtable_property(h: &Hashtable, name: &str) -> Option<NetResult<Value>> {
    Some(Ok(if is(name, "Count") {
        Value::Int(h.len() as i32)
    } else if is(name, "Keys") {
        Value::array(h.keys())
    } else if is(name, "Values") {
        Value::array(h.values())
    } else if is(name, "IsReadOnly") || is(name, "IsFixedSize") || is(name, "IsSynchronized") {
        Value::Bool(false)
    } else {
        return None;
    }))
}

pub fn hashtable_method(h: &Rc<RefCell<Hashtable>>, name: &str, args: &[Value], cx: &mut Ctx<'_>) -> Option<NetResult<Value>> {
    let a = Args::new(args);
    let key = a.value(0).clone();
    Some(Ok(if is(name, "ContainsKey") || is(name, "Contains") {
        Value::Bool(h.borrow().contains(&key))
    } else if is(name, "ContainsValue") {
        let vals = h.borrow().values();
        Value::Bool(vals.iter().any(|v| ops::equals(v, &key, false, cx)))
    } else if is(name, "Add") {
        if args.len() != 2 {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        if key.is_null() {
            return Some(Err(NetError::exception("System.ArgumentNullException", "Key cannot be null.\r\nParameter name: key")));
        }
        if !h.borrow_mut().add(key.clone(), a.value(1).clone()) {
            let existing = h.borrow().keys().into_iter().find(|k| crate::lab::powershell::value::HKey::of(k) == crate::lab::powershell::value::HKey::of(&key)).unwrap_or(Value::Null);
            let (old, new) = (convert::to_string(&existing, cx), convert::to_string(&key, cx));
            return Some(Err(NetError::argument(format!("Item has already been added. Key in dictionary: '{old}'  Key being added: '{new}'"))));
        }
        void()
    } else if is(name, "Remove") {
        h.borrow_mut().remove(&key);
        void()
    } else if is(name, "Clear") {
        h.borrow_mut().clear();
        void()
    } else if is(name, "Clone") {
        Value::Hashtable(Rc::new(RefCell::new(h.borrow().clone())))
    } else if is(name, "GetEnumerator") {
        let entries: Vec<Value> = h
            .borrow()
            .entries()
            .map(|(k, v)| Value::object(PsObject::new("System.Collections.DictionaryEntry", vec![("Key".into(), k.clone()), ("Value".into(), v.clone())])))
            .collect();
        Value::array(entries)
    } else if is(name, "get_Item") {
        h.borrow().get(&key).cloned().unwrap_or(Value::Null)
    } else if is(name, "set_Item") {
        h.borrow_mut().insert(key, a.value(1).clone());
        void()
    } else {
        return None;
    }))
}

// ---- Queue ----

/// `System.Collections.Queue`: first in, first out.
#[derive(Debug, Default)]
pub struct Queue {
    items: RefCell<std::collections::VecDeque<Value>>,
}

struct QueueType;

impl NetType for QueueType {
    fn full_name(&self) -> &str {
        "System.Collections.Queue"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        Some(Ok(Value::object(Queue { items: RefCell::new(initial_items(cx, args).into()) })))
    }
}

fn queue_empty() -> NetError {
    NetError::exception("System.InvalidOperationException", "Queue empty.")
}

impl NetObject for Queue {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Collections.Queue".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Collections.ICollection", "System.Collections.IEnumerable"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Count") {
            Some(Ok(Value::Int(self.items.borrow().len() as i32)))
        } else if is(name, "IsSynchronized") {
            Some(Ok(Value::Bool(false)))
        } else {
            None
        }
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "Enqueue") {
                a.count(&[1])?;
                self.items.borrow_mut().push_back(a.value(0).clone());
                void()
            } else if is(name, "Dequeue") {
                a.count(&[0])?;
                self.items.borrow_mut().pop_front().ok_or_else(queue_empty)?
            } else if is(name, "Peek") {
                a.count(&[0])?;
                self.items.borrow().front().cloned().ok_or_else(queue_empty)?
            } else if is(name, "Clear") {
                self.items.borrow_mut().clear();
                void()
            } else if is(name, "Contains") {
                let target = a.value(0).clone();
                let items: Vec<Value> = self.items.borrow().iter().cloned().collect();
                Value::Bool(items.iter().any(|x| ops::equals(x, &target, false, cx)))
            } else if is(name, "ToArray") {
                Value::array(self.items.borrow().iter().cloned().collect())
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        "System.Collections.Queue".into()
    }
    fn enumerate(&self, _: &mut Ctx<'_>) -> Option<Vec<Value>> {
        Some(self.items.borrow().iter().cloned().collect())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `new string[n]`-like arrays for facades.
pub fn typed_array(elem: ElemType, items: Vec<Value>) -> Value {
    Value::Array(Rc::new(Array::new(elem, items)))
}

pub fn register(r: &mut Registry) {
    r.add_type(ArrayListType);
    r.add_type(QueueType);
    r.add_type(StringComparerType);
}
