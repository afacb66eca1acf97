//! `System.Security.Principal`: the current identity (the WinRM account),
//! whether it is an administrator, and SIDs translated to account names
//! from the host's profiles and Windows' well-known SIDs.

use std::borrow::Cow;

use super::args::Args;
use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Ctx, EnumDef, NetError, NetObject, NetResult, NetType, Registry, is};
use crate::lab::powershell::types::TypeRef;
use crate::lab::powershell::value::Value;

pub static BUILT_IN_ROLE: EnumDef = EnumDef {
    full_name: "System.Security.Principal.WindowsBuiltInRole",
    members: &[
        ("Administrator", 544),
        ("User", 545),
        ("Guest", 546),
        ("PowerUser", 547),
        ("AccountOperator", 548),
        ("SystemOperator", 549),
        ("PrintOperator", 550),
        ("BackupOperator", 551),
        ("Replicator", 552),
    ],
    flags: false,
};

/// Windows' well-known SIDs and their names.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("S-1-5-18", r"NT AUTHORITY\SYSTEM"),
    ("S-1-5-19", r"NT AUTHORITY\LOCAL SERVICE"),
    ("S-1-5-20", r"NT AUTHORITY\NETWORK SERVICE"),
    ("S-1-5-32-544", r"BUILTIN\Administrators"),
    ("S-1-5-32-545", r"BUILTIN\Users"),
    ("S-1-1-0", "Everyone"),
];

/// The account name of a SID on this host, if Windows can translate it.
pub(crate) fn account_of(cx: &Ctx<'_>, sid: &str) -> Option<String> {
    if let Some((_, n)) = WELL_KNOWN.iter().find(|(s, _)| s.eq_ignore_ascii_case(sid)) {
        return Some((*n).to_string());
    }
    cx.host.profiles.iter().find(|p| p.sid.eq_ignore_ascii_case(sid)).map(|p| p.qualified())
}

/// The SID of an account name on this host, if Windows can translate it.
pub(crate) fn sid_of(cx: &Ctx<'_>, account: &str) -> Option<String> {
    if let Some((s, _)) = WELL_KNOWN.iter().find(|(_, n)| n.eq_ignore_ascii_case(account)) {
        return Some((*s).to_string());
    }
    let (_, name) = crate::lab::emulate::identity::split_user(account);
    cx.host.profiles.iter().find(|p| p.qualified().eq_ignore_ascii_case(account) || p.name.eq_ignore_ascii_case(name)).map(|p| p.sid.clone())
}

pub(crate) fn not_mapped() -> NetError {
    NetError::exception("System.Security.Principal.IdentityNotMappedException", "Some or all identity references could not be translated.")
}

#[derive(Debug)]
struct WindowsIdentity;

impl NetObject for WindowsIdentity {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.Principal.WindowsIdentity".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Name") {
            Value::string(cx.user.clone())
        } else if is(name, "User") {
            match sid_of(cx, &cx.user.clone()) {
                Some(s) => Value::object(SecurityIdentifier(s)),
                None => Value::Null,
            }
        } else if is(name, "IsSystem") {
            Value::Bool(false)
        } else if is(name, "IsAuthenticated") {
            Value::Bool(true)
        } else if is(name, "AuthenticationType") {
            Value::str("NTLM")
        } else {
            return None;
        }))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        "System.Security.Principal.WindowsIdentity".into()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct WindowsIdentityType;

impl NetType for WindowsIdentityType {
    fn full_name(&self) -> &str {
        "System.Security.Principal.WindowsIdentity"
    }
    fn call_static(&self, _: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        is(name, "GetCurrent").then(|| Ok(Value::object(WindowsIdentity)))
    }
}

#[derive(Debug)]
struct WindowsPrincipal;

impl NetObject for WindowsPrincipal {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.Principal.WindowsPrincipal".into()
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "IsInRole") {
            return None;
        }
        let role = match args.first() {
            Some(Value::Enum(_, n)) => *n,
            Some(Value::Int(n)) => i64::from(*n),
            Some(v) => {
                let t = convert::to_string(v, cx);
                if t.eq_ignore_ascii_case(r"BUILTIN\Administrators") || t.eq_ignore_ascii_case("Administrators") || t == "S-1-5-32-544" {
                    544
                } else {
                    BUILT_IN_ROLE.value_of(&t).unwrap_or(0)
                }
            }
            None => return Some(Err(NetError::NoOverload { argc: 0 })),
        };
        Some(Ok(Value::Bool(match role {
            544 => cx.admin,
            545 => true,
            _ => false,
        })))
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Identity").then(|| Ok(Value::object(WindowsIdentity)))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct WindowsPrincipalType;

impl NetType for WindowsPrincipalType {
    fn full_name(&self) -> &str {
        "System.Security.Principal.WindowsPrincipal"
    }
    fn construct(&self, _: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        match args {
            [Value::Object(o)] if o.as_any().is::<WindowsIdentity>() => Some(Ok(Value::object(WindowsPrincipal))),
            [_] => Some(Err(NetError::argument("Cannot convert argument to type System.Security.Principal.WindowsIdentity."))),
            _ => None,
        }
    }
}

/// A SID.
#[derive(Debug, Clone)]
pub struct SecurityIdentifier(pub String);

impl NetObject for SecurityIdentifier {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.Principal.SecurityIdentifier".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.Principal.IdentityReference"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Value").then(|| Ok(Value::string(self.0.clone())))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Translate") {
            let wants_account = matches!(args.first(), Some(Value::Type(TypeRef::Net(t))) if t.full_name().ends_with("NTAccount"));
            if !wants_account {
                return Some(Ok(Value::object(self.clone())));
            }
            return Some(account_of(cx, &self.0).map(|a| Value::object(NtAccount(a))).ok_or_else(not_mapped));
        }
        if is(name, "ToString") {
            return Some(Ok(Value::string(self.0.clone())));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.0.clone()
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["BinaryLength".into(), "AccountDomainSid".into(), "Value".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct SecurityIdentifierType;

impl NetType for SecurityIdentifierType {
    fn full_name(&self) -> &str {
        "System.Security.Principal.SecurityIdentifier"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let s = match a.string(0, cx) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let valid = s.starts_with("S-1-") && s[4..].split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        Some(if valid { Ok(Value::object(SecurityIdentifier(s))) } else { Err(NetError::argument("Value was invalid.\r\nParameter name: sddlForm")) })
    }
}

/// An account name.
#[derive(Debug, Clone)]
pub struct NtAccount(pub String);

impl NetObject for NtAccount {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.Principal.NTAccount".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.Principal.IdentityReference"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "Value").then(|| Ok(Value::string(self.0.clone())))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, _: &[Value]) -> Option<NetResult<Value>> {
        if is(name, "Translate") {
            return Some(sid_of(cx, &self.0).map(|s| Value::object(SecurityIdentifier(s))).ok_or_else(not_mapped));
        }
        None
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.0.clone()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct NtAccountType;

impl NetType for NtAccountType {
    fn full_name(&self) -> &str {
        "System.Security.Principal.NTAccount"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let parts: Vec<String> = (0..args.len()).filter_map(|i| a.string(i, cx).ok()).collect();
        Some(Ok(Value::object(NtAccount(parts.join("\\")))))
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(WindowsIdentityType);
    r.add_type(WindowsPrincipalType);
    r.add_enum(&BUILT_IN_ROLE);
    r.add_type(SecurityIdentifierType);
    r.add_type(NtAccountType);
}
