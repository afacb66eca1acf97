//! `Microsoft.Win32.Registry` and `RegistryKey` over the host's registry
//! (`HostState.registry`), with .NET's behaviour: `OpenSubKey` of a
//! missing key is `$null`; `GetValue` of a missing value is its default;
//! REG_DWORD is an `Int32` (signed), REG_QWORD an `Int64`, REG_MULTI_SZ a
//! `string[]`, REG_BINARY a `byte[]`, REG_EXPAND_SZ expanded unless
//! `DoNotExpandEnvironmentNames`; writes need a key opened writable (and,
//! under HKLM, an administrator); a closed key throws
//! ObjectDisposedException. `HKEY_USERS` lists the mounted hives.
//!
//! This facade is the worked example of the object model: a handle object
//! holds only a path and flags and resolves the path on every call.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::session;
use crate::lab::powershell::value::{Array, ElemType, Value};
use crate::lab::world::registry::RegError;
use crate::lab::world::{RegData, RegType};

pub static VALUE_KIND: EnumDef = EnumDef {
    full_name: "Microsoft.Win32.RegistryValueKind",
    members: &[("None", -1), ("Unknown", 0), ("String", 1), ("ExpandString", 2), ("Binary", 3), ("DWord", 4), ("MultiString", 7), ("QWord", 11)],
    flags: false,
};

pub static VALUE_OPTIONS: EnumDef =
    EnumDef { full_name: "Microsoft.Win32.RegistryValueOptions", members: &[("None", 0), ("DoNotExpandEnvironmentNames", 1)], flags: true };

pub static HIVE: EnumDef = EnumDef {
    full_name: "Microsoft.Win32.RegistryHive",
    members: &[("ClassesRoot", 0x8000_0000), ("CurrentUser", 0x8000_0001), ("LocalMachine", 0x8000_0002), ("Users", 0x8000_0003), ("CurrentConfig", 0x8000_0005)],
    flags: false,
};

pub static VIEW: EnumDef = EnumDef { full_name: "Microsoft.Win32.RegistryView", members: &[("Default", 0), ("Registry64", 256), ("Registry32", 512)], flags: false };

/// An open registry key.
#[derive(Debug)]
pub struct RegistryKey {
    /// As .NET names it: `HKEY_LOCAL_MACHINE\SOFTWARE\...`.
    name: String,
    /// As the host model addresses it: `HKLM\SOFTWARE\...`, `HKU\<mount>\...`.
    path: String,
    writable: bool,
    closed: Cell<bool>,
}

fn disposed() -> NetError {
    NetError::exception("System.ObjectDisposedException", "Cannot access a closed registry key.\r\nObject name: 'HKEY_LOCAL_MACHINE'.")
}

fn cannot_write() -> NetError {
    NetError::exception("System.UnauthorizedAccessException", "Cannot write to the registry key.")
}

fn world_error(e: RegError, key: &str) -> NetError {
    match e {
        RegError::AccessDenied(_) => NetError::exception("System.UnauthorizedAccessException", format!("Access to the registry key '{key}' is denied.")),
        RegError::KeyNotFound(_) | RegError::ValueNotFound(_) => NetError::exception("System.IO.IOException", "The system cannot find the file specified.\r\n"),
        RegError::BadPath(_) => NetError::argument("Registry key name must start with a valid base key name.\r\nParameter name: keyName"),
        RegError::HiveInUse(_) => NetError::exception("System.IO.IOException", "The process cannot access the file because it is being used by another process.\r\n"),
    }
}

impl RegistryKey {
    fn root(name: &str, path: String) -> RegistryKey {
        RegistryKey { name: name.to_string(), path, writable: false, closed: Cell::new(false) }
    }

    fn open(&self) -> NetResult<()> {
        if self.closed.get() { Err(disposed()) } else { Ok(()) }
    }

    fn child(&self, rel: &str) -> (String, String) {
        let rel = rel.trim_matches('\\');
        if rel.is_empty() {
            return (self.name.clone(), self.path.clone());
        }
        (format!("{}\\{rel}", self.name), format!("{}\\{rel}", self.path))
    }

    fn is_hku_root(&self) -> bool {
        self.path.eq_ignore_ascii_case("HKU")
    }

    fn under_hklm(&self) -> bool {
        self.path.len() >= 4 && self.path[..4].eq_ignore_ascii_case("HKLM")
    }

    fn exists(cx: &Ctx<'_>, path: &str) -> bool {
        if path.eq_ignore_ascii_case("HKU") || path.eq_ignore_ascii_case("HKLM") {
            return true;
        }
        cx.host.registry.key_exists(path)
    }

    /// .NET's value for registry data.
    fn value_of(cx: &Ctx<'_>, data: &RegData, expand: bool) -> Value {
        match data {
            RegData::Sz(s) => Value::str(s),
            RegData::ExpandSz(s) => Value::string(if expand { session::expand_env(cx, s) } else { s.clone() }),
            RegData::MultiSz(v) => Value::Array(Rc::new(Array::new(ElemType::String, v.iter().map(|s| Value::str(s)).collect()))),
            RegData::Dword(d) => Value::Int(*d as i32),
            RegData::Qword(q) => Value::Long(*q as i64),
            RegData::Binary(b) => Value::bytes(b.clone()),
        }
    }

    fn kind_value(t: RegType) -> Value {
        Value::Enum(&VALUE_KIND, t as i64)
    }

    /// Data to store for `SetValue(name, value[, kind])`.
    fn data_for(cx: &mut Ctx<'_>, v: &Value, kind: Option<i64>) -> NetResult<RegData> {
        let kind = kind.unwrap_or(match v {
            Value::Int(_) | Value::Byte(_) => 4,
            Value::Bytes(_) => 3,
            Value::Array(a) if matches!(a.elem, ElemType::String) => 7,
            _ => 1,
        });
        let bad = || NetError::argument("The type of the value object did not match the specified RegistryValueKind or the object could not be properly converted.");
        Ok(match kind {
            1 => RegData::Sz(convert::to_string(v, cx)),
            2 => RegData::ExpandSz(convert::to_string(v, cx)),
            3 => match v {
                Value::Bytes(b) => RegData::Binary(b.borrow().clone()),
                _ => return Err(bad()),
            },
            4 => RegData::Dword(convert::to_i64(v, cx).map_err(|_| bad())? as u32),
            11 => RegData::Qword(convert::to_i64(v, cx).map_err(|_| bad())? as u64),
            7 => {
                let items = v.enumerate(cx).unwrap_or_else(|| vec![v.clone()]);
                RegData::MultiSz(items.iter().map(|x| convert::to_string(x, cx)).collect())
            }
            _ => return Err(bad()),
        })
    }
}

impl NetObject for RegistryKey {
    fn type_name(&self) -> Cow<'static, str> {
        "Microsoft.Win32.RegistryKey".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Name") {
            return Some(Ok(Value::string(self.name.clone())));
        }
        if is(name, "View") {
            return Some(Ok(Value::Enum(&VIEW, 0)));
        }
        let r = (|| -> NetResult<Option<Value>> {
            self.open()?;
            Ok(Some(if is(name, "SubKeyCount") {
                Value::Int(cx.host.registry.subkeys(&self.path).map_or(0, |s| s.len()) as i32)
            } else if is(name, "ValueCount") {
                Value::Int(if self.is_hku_root() { 0 } else { cx.host.registry.values(&self.path).map_or(0, |v| v.len()) as i32 })
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let m = name.to_ascii_lowercase();
        let r = (|| -> NetResult<Option<Value>> {
            if m == "close" || m == "dispose" {
                self.closed.set(true);
                return Ok(Some(void()));
            }
            if m == "tostring" {
                return Ok(Some(Value::string(self.name.clone())));
            }
            self.open()?;
            Ok(Some(match m.as_str() {
                "opensubkey" => {
                    a.count(&[1, 2])?;
                    let rel = a.string(0, cx)?;
                    let writable = args.len() == 2 && a.bool(1);
                    let (n, p) = self.child(&rel);
                    if !Self::exists(cx, &p) {
                        return Ok(Some(Value::Null));
                    }
                    if writable && ((!cx.admin && p.len() >= 4 && p[..4].eq_ignore_ascii_case("HKLM")) || super::defender::write_refused(cx, &p)) {
                        return Err(NetError::exception("System.Security.SecurityException", "Requested registry access is not allowed."));
                    }
                    Value::object(RegistryKey { name: n, path: p, writable, closed: Cell::new(false) })
                }
                "getvalue" => {
                    a.count(&[1, 2, 3])?;
                    let value = a.string(0, cx)?;
                    let default = a.value(1).clone();
                    let expand = !(args.len() == 3 && matches!(a.value(2), Value::Enum(_, 1) | Value::Int(1)))
                        && !(args.len() == 3 && convert::to_string(a.value(2), cx).eq_ignore_ascii_case("DoNotExpandEnvironmentNames"));
                    if self.is_hku_root() {
                        return Ok(Some(default));
                    }
                    match cx.host.registry.get_value(&self.path, &value) {
                        Ok(d) => {
                            let d = d.clone();
                            Self::value_of(cx, &d, expand)
                        }
                        Err(_) => default,
                    }
                }
                "getvaluekind" => {
                    let value = a.string(0, cx)?;
                    match cx.host.registry.get_value(&self.path, &value) {
                        Ok(d) => Self::kind_value(d.kind()),
                        Err(e) => return Err(world_error(e, &self.name)),
                    }
                }
                "getvaluenames" => {
                    let names: Vec<String> = if self.is_hku_root() {
                        Vec::new()
                    } else {
                        cx.host.registry.values(&self.path).map(|v| v.iter().map(|x| x.name.as_str().to_string()).collect()).unwrap_or_default()
                    };
                    Value::string_array(names)
                }
                "getsubkeynames" => Value::string_array(cx.host.registry.subkeys(&self.path).unwrap_or_default()),
                "setvalue" => {
                    a.count(&[2, 3])?;
                    if !self.writable {
                        return Err(cannot_write());
                    }
                    let value = a.string(0, cx)?;
                    let kind = if args.len() == 3 {
                        Some(match a.value(2) {
                            Value::Enum(_, n) => *n,
                            other => VALUE_KIND.value_of(&convert::to_string(other, cx)).unwrap_or(1),
                        })
                    } else {
                        None
                    };
                    let data = Self::data_for(cx, a.value(1), kind)?;
                    cx.host.registry.set_value(&self.path, &value, data).map_err(|e| world_error(e, &self.name))?;
                    void()
                }
                "deletevalue" => {
                    if !self.writable {
                        return Err(cannot_write());
                    }
                    let value = a.string(0, cx)?;
                    let throw = args.len() < 2 || a.bool(1);
                    match cx.host.registry.delete_value(&self.path, &value) {
                        Ok(_) => {}
                        Err(RegError::ValueNotFound(_)) if !throw => {}
                        Err(RegError::ValueNotFound(_)) => return Err(NetError::argument("No value exists with that name.")),
                        Err(e) => return Err(world_error(e, &self.name)),
                    }
                    void()
                }
                "createsubkey" => {
                    if !self.writable {
                        return Err(cannot_write());
                    }
                    if !cx.admin && self.under_hklm() {
                        return Err(NetError::exception("System.UnauthorizedAccessException", format!("Access to the registry key '{}' is denied.", self.name)));
                    }
                    let rel = a.string(0, cx)?;
                    let (n, p) = self.child(&rel);
                    cx.host.registry.create_key(&p).map_err(|e| world_error(e, &n))?;
                    Value::object(RegistryKey { name: n, path: p, writable: true, closed: Cell::new(false) })
                }
                "deletesubkey" | "deletesubkeytree" => {
                    if !self.writable {
                        return Err(cannot_write());
                    }
                    let rel = a.string(0, cx)?;
                    let (n, p) = self.child(&rel);
                    let r = if m == "deletesubkey" { cx.host.registry.delete_key(&p) } else { cx.host.registry.delete_tree(&p) };
                    match r {
                        Ok(()) => {}
                        Err(RegError::KeyNotFound(_)) if args.len() == 2 && !a.bool(1) => {}
                        Err(RegError::KeyNotFound(_)) => return Err(NetError::argument("Cannot delete a subkey tree because the subkey does not exist.")),
                        Err(RegError::AccessDenied(_)) if m == "deletesubkey" => {
                            return Err(NetError::exception("System.InvalidOperationException", format!("Registry key has subkeys and recursive removes are not supported by this method. {n}")));
                        }
                        Err(e) => return Err(world_error(e, &n)),
                    }
                    void()
                }
                "flush" => void(),
                _ => return Ok(None),
            }))
        })();
        r.transpose()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.name.clone()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["SubKeyCount".into(), "View".into(), "Name".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The current user's HKCU: their hive at `HKU\<SID>` when it is loaded.
fn current_user(cx: &Ctx<'_>) -> RegistryKey {
    let (_, name) = crate::lab::emulate::identity::split_user(&cx.user);
    let sid = cx.host.profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.sid.clone()).unwrap_or_default();
    RegistryKey::root("HKEY_CURRENT_USER", format!("HKU\\{sid}"))
}

fn base_key(cx: &Ctx<'_>, name: &str) -> Option<RegistryKey> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "localmachine" | "hkey_local_machine" => RegistryKey::root("HKEY_LOCAL_MACHINE", "HKLM".into()),
        "users" | "hkey_users" => RegistryKey::root("HKEY_USERS", "HKU".into()),
        "currentuser" | "hkey_current_user" => current_user(cx),
        "classesroot" | "hkey_classes_root" => RegistryKey::root("HKEY_CLASSES_ROOT", r"HKLM\SOFTWARE\Classes".into()),
        _ => return None,
    })
}

struct RegistryType;

impl NetType for RegistryType {
    fn full_name(&self) -> &str {
        "Microsoft.Win32.Registry"
    }
    fn get_static(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        base_key(cx, name).map(|k| Ok(Value::object(k)))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "GetValue") {
            return None;
        }
        let a = Args::new(args);
        let r = (|| -> NetResult<Value> {
            a.count(&[3])?;
            let key = a.string(0, cx)?;
            let (root, rel) = key.split_once('\\').unwrap_or((key.as_str(), ""));
            let base = base_key(cx, root).ok_or_else(|| NetError::argument("Registry key name must start with a valid base key name.\r\nParameter name: keyName"))?;
            let (_, path) = base.child(rel);
            if !RegistryKey::exists(cx, &path) {
                return Ok(Value::Null);
            }
            let value = a.string(1, cx)?;
            Ok(match cx.host.registry.get_value(&path, &value) {
                Ok(d) => {
                    let d = d.clone();
                    RegistryKey::value_of(cx, &d, true)
                }
                Err(_) => a.value(2).clone(),
            })
        })();
        Some(r)
    }
}

struct RegistryKeyType;

impl NetType for RegistryKeyType {
    fn full_name(&self) -> &str {
        "Microsoft.Win32.RegistryKey"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        // RegistryKey.OpenBaseKey is .NET 4.0: PowerShell 3.0 and later.
        if !is(name, "OpenBaseKey") || !cx.version.v3() {
            return None;
        }
        let hive = match args.first() {
            Some(Value::Enum(_, n)) => HIVE.name_of(*n),
            Some(v) => convert::to_string(v, cx),
            None => return Some(Err(NetError::NoOverload { argc: 0 })),
        };
        Some(base_key(cx, &hive).map(Value::object).ok_or_else(|| NetError::argument("The specified RegistryHive value is invalid.")))
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(RegistryType);
    r.add_type(RegistryKeyType);
    r.add_enum(&VALUE_KIND);
    r.add_enum(&VALUE_OPTIONS);
    r.add_enum(&HIVE);
    r.add_enum(&VIEW);
}
