//! Folder access control over the host's file system (`files` ACEs, see
//! `world::acl`): `DirectoryInfo.GetAccessControl/SetAccessControl` on
//! .NET Framework, the static `System.IO.FileSystemAclExtensions` on .NET
//! (PowerShell 7, where those are extension methods PowerShell does not
//! bind on the object), `DirectorySecurity` (`AddAccessRule`,
//! `RemoveAccessRuleSpecific`, `GetAccessRules`, `Access`),
//! `FileSystemAccessRule` and the enums they take (`SecurityIdentifier`
//! and `NTAccount` are `dotnet::principal`'s).
//!
//! .NET's behaviour kept: a Deny rule loses Synchronize (0x100000) unless
//! it is FullControl, an Allow rule gains it; `AddAccessRule` merges the
//! rights into an explicit rule of the same SID, type and flags; denies
//! are kept before allows (canonical order); `RemoveAccessRuleSpecific`
//! removes only a rule equal in SID, rights, flags and type. Only the
//! explicit ACEs are written back; inherited ones are read from the
//! folders above.

use std::borrow::Cow;
use std::cell::RefCell;

use super::fs::info::FsInfo;
use crate::lab::powershell::dotnet::principal::{self, NtAccount, SecurityIdentifier};
use crate::lab::powershell::dotnet::args::Args;
use crate::lab::powershell::object::{Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is, void};
use crate::lab::powershell::types::TypeRef;
use crate::lab::powershell::value::{Array, ElemType, Value};
use crate::lab::world::acl::Ace;
use crate::lab::world::files;

const SYNCHRONIZE: u32 = 0x100000;
const FULL_CONTROL: u32 = 0x1F01FF;

pub static FILE_SYSTEM_RIGHTS: EnumDef = EnumDef {
    full_name: "System.Security.AccessControl.FileSystemRights",
    members: &[
        ("ReadData", 1),
        ("ListDirectory", 1),
        ("CreateFiles", 2),
        ("WriteData", 2),
        ("AppendData", 4),
        ("CreateDirectories", 4),
        ("ReadExtendedAttributes", 8),
        ("WriteExtendedAttributes", 16),
        ("ExecuteFile", 32),
        ("Traverse", 32),
        ("DeleteSubdirectoriesAndFiles", 64),
        ("ReadAttributes", 128),
        ("WriteAttributes", 256),
        ("Write", 278),
        ("Delete", 65536),
        ("ReadPermissions", 131072),
        ("Read", 131209),
        ("ReadAndExecute", 131241),
        ("Modify", 197055),
        ("ChangePermissions", 262144),
        ("TakeOwnership", 524288),
        ("Synchronize", 1048576),
        ("FullControl", 2032127),
    ],
    flags: true,
};

pub static INHERITANCE_FLAGS: EnumDef = EnumDef {
    full_name: "System.Security.AccessControl.InheritanceFlags",
    members: &[("None", 0), ("ContainerInherit", 1), ("ObjectInherit", 2)],
    flags: true,
};

pub static PROPAGATION_FLAGS: EnumDef = EnumDef {
    full_name: "System.Security.AccessControl.PropagationFlags",
    members: &[("None", 0), ("NoPropagateInherit", 1), ("InheritOnly", 2)],
    flags: true,
};

pub static ACCESS_CONTROL_TYPE: EnumDef = EnumDef {
    full_name: "System.Security.AccessControl.AccessControlType",
    members: &[("Allow", 0), ("Deny", 1)],
    flags: false,
};

pub static ACCESS_CONTROL_SECTIONS: EnumDef = EnumDef {
    full_name: "System.Security.AccessControl.AccessControlSections",
    members: &[("None", 0), ("Audit", 1), ("Access", 2), ("Owner", 4), ("Group", 8), ("All", 15)],
    flags: true,
};

const SID_TYPE: &str = "System.Security.Principal.SecurityIdentifier";
const ACCOUNT_TYPE: &str = "System.Security.Principal.NTAccount";

/// The SID an identity argument names (a SecurityIdentifier, an NTAccount
/// or an account name, translated as Windows translates it).
fn identity_sid(cx: &mut Ctx<'_>, v: &Value) -> NetResult<String> {
    if let Value::Object(o) = v {
        if let Some(s) = o.as_any().downcast_ref::<SecurityIdentifier>() {
            return Ok(s.0.clone());
        }
        if let Some(a) = o.as_any().downcast_ref::<NtAccount>() {
            return principal::sid_of(cx, &a.0).ok_or_else(principal::not_mapped);
        }
    }
    let text = Args::new(std::slice::from_ref(v)).string(0, cx)?;
    principal::sid_of(cx, &text).ok_or_else(principal::not_mapped)
}

/// `FileSystemAccessRule`.
#[derive(Debug, Clone)]
struct Rule {
    ace: Ace,
    inherited: bool,
    /// The identity as asked for (`GetAccessRules`' target type).
    as_sid: bool,
}

impl NetObject for Rule {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.AccessControl.FileSystemAccessRule".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.AccessControl.AccessRule", "System.Security.AccessControl.AuthorizationRule"]
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let a = &self.ace;
        Some(Ok(if is(name, "IdentityReference") {
            // A SID Windows cannot translate stays a SID.
            match principal::account_of(cx, &a.sid) {
                Some(account) if !self.as_sid => Value::object(NtAccount(account)),
                _ => Value::object(SecurityIdentifier(a.sid.clone())),
            }
        } else if is(name, "FileSystemRights") {
            Value::Enum(&FILE_SYSTEM_RIGHTS, i64::from(a.rights))
        } else if is(name, "InheritanceFlags") {
            Value::Enum(&INHERITANCE_FLAGS, i64::from(a.inheritance))
        } else if is(name, "PropagationFlags") {
            Value::Enum(&PROPAGATION_FLAGS, i64::from(a.propagation))
        } else if is(name, "AccessControlType") {
            Value::Enum(&ACCESS_CONTROL_TYPE, i64::from(a.deny))
        } else if is(name, "IsInherited") {
            Value::Bool(self.inherited)
        } else {
            return None;
        }))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        ["FileSystemRights", "AccessControlType", "IdentityReference", "IsInherited", "InheritanceFlags", "PropagationFlags"]
            .into_iter()
            .map(Cow::Borrowed)
            .collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn rule_arg(v: &Value) -> NetResult<Ace> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<Rule>().map(|r| r.ace.clone()),
        _ => None,
    }
    .ok_or_else(|| NetError::argument("The rule must be a FileSystemAccessRule."))
}

/// `DirectorySecurity`: a copy of a folder's explicit ACEs (and the
/// inherited ones, read at the time), changed in memory until written.
#[derive(Debug)]
struct Security {
    explicit: RefCell<Vec<Ace>>,
    inherited: Vec<Ace>,
}

impl Security {
    fn rules(&self, explicit: bool, inherited: bool, as_sid: bool) -> Value {
        let mut out = Vec::new();
        if explicit {
            out.extend(self.explicit.borrow().iter().map(|a| Rule { ace: a.clone(), inherited: false, as_sid }));
        }
        if inherited {
            out.extend(self.inherited.iter().map(|a| Rule { ace: a.clone(), inherited: true, as_sid }));
        }
        let values = out.into_iter().map(Value::object).collect();
        Value::Array(std::rc::Rc::new(Array::new(ElemType::Object, values)))
    }

    fn add(&self, ace: Ace) {
        let mut list = self.explicit.borrow_mut();
        let same = |a: &Ace| a.sid == ace.sid && a.deny == ace.deny && a.inheritance == ace.inheritance && a.propagation == ace.propagation;
        if let Some(a) = list.iter_mut().find(|a| same(a)) {
            a.rights |= ace.rights;
        } else if ace.deny {
            let at = list.iter().position(|a| !a.deny).unwrap_or(list.len());
            list.insert(at, ace);
        } else {
            list.push(ace);
        }
    }
}

impl NetObject for Security {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.AccessControl.DirectorySecurity".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.AccessControl.FileSystemSecurity", "System.Security.AccessControl.ObjectSecurity"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Access").then(|| Ok(self.rules(true, true, false)))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        Some(if is(name, "AddAccessRule") {
            a.count(&[1]).and_then(|_| rule_arg(a.value(0))).map(|ace| {
                self.add(ace);
                void()
            })
        } else if is(name, "RemoveAccessRuleSpecific") {
            a.count(&[1]).and_then(|_| rule_arg(a.value(0))).map(|ace| {
                self.explicit.borrow_mut().retain(|x| *x != ace);
                void()
            })
        } else if is(name, "GetAccessRules") {
            a.count(&[3]).and_then(|_| {
                let as_sid = match a.value(2) {
                    Value::Type(t) => match t {
                        TypeRef::Net(n) if n.full_name().eq_ignore_ascii_case(SID_TYPE) => true,
                        TypeRef::Net(n) if n.full_name().eq_ignore_ascii_case(ACCOUNT_TYPE) => false,
                        _ => return Err(NetError::argument("targetType must be SecurityIdentifier or NTAccount.")),
                    },
                    _ => return Err(NetError::argument("targetType must be a type.")),
                };
                Ok(self.rules(a.bool(0), a.bool(1), as_sid))
            })
        } else {
            let _ = cx;
            return None;
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The ACEs of the folders above `dir` that reach it (inherited).
fn inherited(cx: &Ctx<'_>, dir: &str) -> Vec<Ace> {
    let mut out = Vec::new();
    let mut depth = 1;
    let mut cur = files::parent(dir);
    while let Some(p) = cur {
        for a in cx.host.files.acl(p).unwrap_or(&[]) {
            if a.inheritance & 1 != 0 && (depth == 1 || a.propagation & 1 == 0) {
                out.push(Ace { propagation: 0, ..a.clone() });
            }
        }
        depth += 1;
        cur = files::parent(p);
    }
    out
}

fn not_found(full: &str) -> NetError {
    NetError::exception("System.IO.DirectoryNotFoundException", format!("Could not find a part of the path '{full}'."))
}

/// `GetAccessControl([sections])` of a DirectoryInfo.
fn get_access_control(cx: &mut Ctx<'_>, info: &FsInfo) -> NetResult<Value> {
    let (world, full) = info.paths();
    match cx.host.files.acl(world) {
        Some(aces) => Ok(Value::object(Security { explicit: RefCell::new(aces.to_vec()), inherited: inherited(cx, world) })),
        None => Err(not_found(full)),
    }
}

/// `SetAccessControl(security)`: the folder's explicit ACEs become the
/// object's.
fn set_access_control(cx: &mut Ctx<'_>, info: &FsInfo, sec: &Value) -> NetResult<Value> {
    let Value::Object(o) = sec else { return Err(NetError::argument("Value cannot be null.\r\nParameter name: directorySecurity")) };
    let Some(sec) = o.as_any().downcast_ref::<Security>() else { return Err(NetError::argument("directorySecurity must be a DirectorySecurity.")) };
    let (world, full) = info.paths();
    let aces = sec.explicit.borrow().clone();
    cx.host.files.set_acl(world, aces).map_err(|_| not_found(full))?;
    Ok(void())
}

/// What `DirectoryInfo` answers to on .NET Framework (`None`: not these
/// methods, or .NET, where they are extension methods).
pub fn info_call(cx: &mut Ctx<'_>, info: &FsInfo, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
    if cx.version.dotnet_core() || !info.is_dir() {
        return None;
    }
    if is(name, "GetAccessControl") {
        return Some(Args::new(args).count(&[0, 1]).and_then(|_| get_access_control(cx, info)));
    }
    if is(name, "SetAccessControl") {
        return Some(Args::new(args).count(&[1]).and_then(|_| set_access_control(cx, info, &args[0])));
    }
    None
}

fn info_arg(v: &Value) -> NetResult<&FsInfo> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<FsInfo>().filter(|i| i.is_dir()),
        _ => None,
    }
    .ok_or_else(|| NetError::argument("directoryInfo must be a DirectoryInfo."))
}

/// `[System.IO.FileSystemAclExtensions]` (.NET only).
struct AclExtensions;

impl NetType for AclExtensions {
    fn full_name(&self) -> &str {
        "System.IO.FileSystemAclExtensions"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !cx.version.dotnet_core() {
            return None;
        }
        let a = Args::new(args);
        if is(name, "GetAccessControl") {
            return Some(a.count(&[1, 2]).and_then(|_| info_arg(a.value(0))).and_then(|i| get_access_control(cx, i)));
        }
        if is(name, "SetAccessControl") {
            return Some(a.count(&[2]).and_then(|_| info_arg(a.value(0))).and_then(|i| set_access_control(cx, i, &args[1])));
        }
        None
    }
}

/// An enum argument as PowerShell converts it: a value of the enum, a
/// number, or member names separated by commas (`'Write, Synchronize'`).
fn enum_arg(cx: &mut Ctx<'_>, a: &Args<'_>, i: usize, def: &'static EnumDef) -> NetResult<i64> {
    if let Value::Str(_) = a.value(i) {
        let text = a.string(i, cx)?;
        if !text.trim().starts_with(|c: char| c.is_ascii_digit()) {
            let mut v = 0;
            for name in text.split(',') {
                v |= def.value_of(name.trim()).ok_or_else(|| {
                    NetError::argument(format!("Cannot convert value \"{text}\" to type \"{}\".", def.full_name))
                })?;
            }
            return Ok(v);
        }
    }
    a.long(i, cx)
}

/// `New-Object FileSystemAccessRule(identity, rights, [inheritance,
/// propagation,] type)`.
struct RuleType;

impl NetType for RuleType {
    fn full_name(&self) -> &str {
        "System.Security.AccessControl.FileSystemAccessRule"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        Some(a.count(&[3, 5]).and_then(|_| {
            let sid = identity_sid(cx, a.value(0))?;
            let mut rights = enum_arg(cx, &a, 1, &FILE_SYSTEM_RIGHTS)? as u32;
            let (inheritance, propagation, kind) = if args.len() == 5 {
                (
                    enum_arg(cx, &a, 2, &INHERITANCE_FLAGS)? as u32,
                    enum_arg(cx, &a, 3, &PROPAGATION_FLAGS)? as u32,
                    enum_arg(cx, &a, 4, &ACCESS_CONTROL_TYPE)?,
                )
            } else {
                (0, 0, enum_arg(cx, &a, 2, &ACCESS_CONTROL_TYPE)?)
            };
            if inheritance > 3 || propagation > 3 || !(0..=1).contains(&kind) {
                return Err(NetError::argument("The value of an argument is outside the enumeration."));
            }
            let deny = kind == 1;
            if deny && rights != FULL_CONTROL {
                rights &= !SYNCHRONIZE;
            } else if !deny {
                rights |= SYNCHRONIZE;
            }
            Ok(Value::object(Rule { ace: Ace { sid, deny, rights, inheritance, propagation }, inherited: false, as_sid: true }))
        }))
    }
}

pub fn register(r: &mut Registry) {
    for e in [&FILE_SYSTEM_RIGHTS, &INHERITANCE_FLAGS, &PROPAGATION_FLAGS, &ACCESS_CONTROL_TYPE, &ACCESS_CONTROL_SECTIONS] {
        r.add_enum(e);
    }
    r.add_type(AclExtensions);
    r.add_type(RuleType);
}
