//! `Get-Acl` and `Set-Acl` (Microsoft.PowerShell.Security) over folder
//! ACLs: `Get-Acl PATH` gives the `DirectorySecurity` that [`super::acl`]
//! implements (its `Access` lists the explicit rules, then the inherited
//! ones); `Set-Acl -Path PATH -AclObject $acl` writes its explicit rules
//! back, as `SetAccessControl` does. PowerShell's behaviour kept (the
//! cmdlets' reference pages): `-Path` is position 0 and takes pipeline
//! input, `-AclObject` is position 1 and takes pipeline input, `-LiteralPath`
//! exists from 3.0, `-Passthru` emits the object written, no path means
//! the current location, and a missing path is the non-terminating error
//! `Cannot find path 'X' because it does not exist.`.
//!
//! The lab's file system keeps no owners, groups, audit entries or file
//! ACLs: `Owner` is absent from the object (`$null` when read), and a
//! file, `-Audit`, wildcards and the filtering parameters fail saying the
//! lab does not support them. Windows' trap where `Set-Acl` rewrites the
//! owner read by `Get-Acl` ("The security identifier is not allowed to be
//! the owner of this object.") is therefore not reproduced.

use super::acl::{security_of, write_security};
use super::fs;
use crate::lab::powershell::convert;
use crate::lab::powershell::object::{
    Bound, Cmdlet, CmdletError, CmdletOutput, CmdletSpec, Ctx, Exception, NetError, ParamKind as K, ParamSpec as P, Registry,
};
use crate::lab::powershell::value::Value;
use crate::lab::powershell::version::PsVersion;

fn unsupported(what: &str) -> CmdletError {
    CmdletError {
        exception: Exception::new("System.NotSupportedException", format!("The cauterize lab does not support {what}.")),
        category: "NotImplemented",
        error_id: "LabEngineUnsupported".into(),
        target: None,
    }
}

fn not_found(shown: &str, id: &str) -> CmdletError {
    CmdletError {
        exception: Exception::new("System.Management.Automation.ItemNotFoundException", format!("Cannot find path '{shown}' because it does not exist.")),
        category: "ObjectNotFound",
        error_id: id.into(),
        target: Some(shown.to_string()),
    }
}

fn net_error(e: NetError, shown: &str) -> CmdletError {
    let exception = match e {
        NetError::Exception(x) => x,
        other => Exception::new("System.ArgumentException", format!("{other:?}")),
    };
    CmdletError { exception, category: "InvalidArgument", error_id: "SetAcl_OperationNotPermitted".into(), target: Some(shown.to_string()) }
}

/// The paths bound to `-Path` or `-LiteralPath` (the current location
/// when neither is), each with whether wildcards apply.
fn paths(cx: &mut Ctx<'_>, args: &Bound, input: Option<&Value>, pipeline_path: bool) -> Vec<(String, bool)> {
    let list = |cx: &mut Ctx<'_>, v: &Value| -> Vec<String> { v.enumerate(cx).unwrap_or_else(|| vec![v.clone()]).iter().map(|x| convert::to_string(x, cx)).collect() };
    if let Some(v) = args.get("LiteralPath") {
        return list(cx, v).into_iter().map(|p| (p, false)).collect();
    }
    match args.get("Path").or(if pipeline_path { input } else { None }) {
        Some(v) => list(cx, v).into_iter().map(|p| (p, true)).collect(),
        None => vec![(".".to_string(), false)],
    }
}

/// The folder a path names: (stored path, full path), or the error.
fn folder(cx: &Ctx<'_>, given: &str, wildcards: bool, missing_id: &str) -> Result<(String, String), CmdletError> {
    if wildcards && given.contains(['*', '?', '[']) {
        return Err(unsupported("wildcards in -Path of Get-Acl and Set-Acl (use a full path or -LiteralPath)"));
    }
    let r = fs::resolve(cx, given).map_err(|e| net_error(e, given))?;
    if cx.host.files.is_file(&r.world) {
        return Err(unsupported("file ACLs (the lab keeps ACLs on folders)"));
    }
    if !cx.host.files.is_dir(&r.world) {
        return Err(not_found(&r.full, missing_id));
    }
    Ok((r.world, r.full))
}

fn refuse(args: &Bound, names: &[&str]) -> Result<(), CmdletError> {
    match names.iter().find(|n| args.get(n).is_some()) {
        Some(n) => Err(unsupported(&format!("-{n}"))),
        None => Ok(()),
    }
}

static GET_ACL_V2: CmdletSpec = CmdletSpec {
    name: "Get-Acl",
    class: "Microsoft.PowerShell.Commands.GetAclCommand",
    params: &[
        P { name: "Path", kind: K::Value("System.String[]"), position: Some(0), pipeline: true, aliases: &[] },
        P::named("Audit", K::Switch),
        P::named("Filter", K::Value("System.String")),
        P::named("Include", K::Value("System.String[]")),
        P::named("Exclude", K::Value("System.String[]")),
    ],
    remaining: None,
};

static GET_ACL: CmdletSpec = CmdletSpec {
    name: "Get-Acl",
    class: "Microsoft.PowerShell.Commands.GetAclCommand",
    params: &[
        P { name: "Path", kind: K::Value("System.String[]"), position: Some(0), pipeline: true, aliases: &[] },
        P { name: "LiteralPath", kind: K::Value("System.String[]"), position: None, pipeline: false, aliases: &["PSPath"] },
        P::named("Audit", K::Switch),
        P::named("Filter", K::Value("System.String")),
        P::named("Include", K::Value("System.String[]")),
        P::named("Exclude", K::Value("System.String[]")),
    ],
    remaining: None,
};

struct GetAcl;

impl Cmdlet for GetAcl {
    fn name(&self) -> &'static str {
        "Get-Acl"
    }
    fn spec(&self, version: &PsVersion) -> &'static CmdletSpec {
        if version.v3() { &GET_ACL } else { &GET_ACL_V2 }
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, input: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError> {
        refuse(args, &["Audit", "Filter", "Include", "Exclude"])?;
        for (given, wild) in paths(cx, args, input, true) {
            match folder(cx, &given, wild, "GetAcl_PathNotFound_Exception").and_then(|(w, f)| security_of(cx, &w, &f).map_err(|e| net_error(e, &f))) {
                Ok(v) => out.objects.push(v),
                Err(e) => out.errors.push(e),
            }
        }
        Ok(())
    }
}

static SET_ACL_V2: CmdletSpec = CmdletSpec {
    name: "Set-Acl",
    class: "Microsoft.PowerShell.Commands.SetAclCommand",
    params: &[
        P { name: "Path", kind: K::Value("System.String[]"), position: Some(0), pipeline: false, aliases: &[] },
        P { name: "AclObject", kind: K::Value("System.Object"), position: Some(1), pipeline: true, aliases: &[] },
        P::named("Passthru", K::Switch),
        P::named("Filter", K::Value("System.String")),
        P::named("Include", K::Value("System.String[]")),
        P::named("Exclude", K::Value("System.String[]")),
    ],
    remaining: None,
};

static SET_ACL: CmdletSpec = CmdletSpec {
    name: "Set-Acl",
    class: "Microsoft.PowerShell.Commands.SetAclCommand",
    params: &[
        P { name: "Path", kind: K::Value("System.String[]"), position: Some(0), pipeline: false, aliases: &[] },
        P { name: "LiteralPath", kind: K::Value("System.String[]"), position: None, pipeline: false, aliases: &["PSPath"] },
        P { name: "AclObject", kind: K::Value("System.Object"), position: Some(1), pipeline: true, aliases: &[] },
        P::named("Passthru", K::Switch),
        P::named("Filter", K::Value("System.String")),
        P::named("Include", K::Value("System.String[]")),
        P::named("Exclude", K::Value("System.String[]")),
        P::named("ClearCentralAccessPolicy", K::Switch),
    ],
    remaining: None,
};

struct SetAcl;

impl Cmdlet for SetAcl {
    fn name(&self) -> &'static str {
        "Set-Acl"
    }
    fn spec(&self, version: &PsVersion) -> &'static CmdletSpec {
        if version.v3() { &SET_ACL } else { &SET_ACL_V2 }
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, input: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError> {
        refuse(args, &["Filter", "Include", "Exclude", "ClearCentralAccessPolicy"])?;
        let Some(acl) = args.get("AclObject").or(input).cloned() else {
            return Err(CmdletError {
                exception: Exception::new("System.Management.Automation.ParameterBindingException", "Cannot bind argument to parameter 'AclObject' because it is null."),
                category: "InvalidData",
                error_id: "ParameterArgumentValidationErrorNullNotAllowed".into(),
                target: None,
            });
        };
        if args.get("Path").is_none() && args.get("LiteralPath").is_none() {
            return Err(unsupported("Set-Acl without -Path or -LiteralPath"));
        }
        for (given, wild) in paths(cx, args, None, false) {
            let r = folder(cx, &given, wild, "SetAcl_PathNotFound_Exception").and_then(|(w, f)| write_security(cx, &w, &f, &acl).map_err(|e| net_error(e, &f)));
            match r {
                Ok(()) if args.switch("Passthru") => out.objects.push(acl.clone()),
                Ok(()) => {}
                Err(e) => out.errors.push(e),
            }
        }
        Ok(())
    }
}

pub fn register(r: &mut Registry) {
    r.add_cmdlet(GetAcl);
    r.add_cmdlet(SetAcl);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::run_with;
    use crate::lab::world::acl::Ace;
    use crate::lab::world::{HostState, LabTime};

    fn plant(h: &mut HostState) {
        h.files.create_dir_all(r"C:\CzAcl\Sub", LabTime(0)).unwrap();
        let allow = Ace { sid: "S-1-5-32-545".into(), deny: false, rights: 0x1301BF, inheritance: 3, propagation: 0 };
        h.files.set_acl(r"C:\CzAcl", vec![allow]).unwrap();
    }

    /// `Get-Acl` reads a folder's rules (explicit, then inherited in a
    /// subfolder); a deny added to the object and written with `Set-Acl`
    /// lands in the model before the allow, and reads back; a missing path
    /// is a non-terminating "Cannot find path" error.
    #[test]
    fn get_acl_reads_and_set_acl_writes_the_folder() {
        let script = r#"
$a = Get-Acl C:\CzAcl
$a.GetType().FullName
$a.Access | ForEach-Object { "$($_.IdentityReference) $($_.AccessControlType) $($_.FileSystemRights) $($_.IsInherited)" }
(Get-Acl -Path C:\CzAcl\Sub).Access | ForEach-Object { "$($_.IdentityReference) $($_.IsInherited)" }
$r = New-Object System.Security.AccessControl.FileSystemAccessRule('Everyone', 'CreateFiles, AppendData', 'ContainerInherit, ObjectInherit', 'None', 'Deny')
$a.AddAccessRule($r)
Set-Acl -Path C:\CzAcl -AclObject $a
@((Get-Acl C:\CzAcl).Access).Count
$null -eq $a.Owner
Get-Acl C:\Nope -ErrorAction SilentlyContinue; $Error[0].Exception.Message
"#;
        let (r, world) = run_with("5.1.19041.1", plant, script);
        assert!(r.err.is_empty(), "{}", r.err);
        assert_eq!(
            r.lines(),
            [
                "System.Security.AccessControl.DirectorySecurity",
                r"BUILTIN\Users Allow Modify, Synchronize False",
                r"BUILTIN\Users True",
                "2",
                "True",
                r"Cannot find path 'C:\Nope' because it does not exist.",
            ]
        );
        let acl = world.files.acl(r"C:\CzAcl").unwrap();
        assert_eq!(acl.len(), 2);
        assert_eq!(acl[0], Ace { sid: "S-1-1-0".into(), deny: true, rights: 0x6, inheritance: 3, propagation: 0 });
    }

    /// PowerShell 2.0 has no -LiteralPath; a file's ACL is not kept by the
    /// lab and says so.
    #[test]
    fn version_and_unsupported() {
        let script = r#"
try { Get-Acl -LiteralPath C:\CzAcl } catch { $_.FullyQualifiedErrorId }
Get-Acl C:\Windows\System32\cmd.exe -ErrorAction SilentlyContinue; $Error[0].Exception.Message
"#;
        let (r, _) = run_with("2.0", plant, script);
        assert!(r.err.is_empty(), "{}", r.err);
        assert_eq!(r.lines(), ["NamedParameterNotFound,Microsoft.PowerShell.Commands.GetAclCommand", "The cauterize lab does not support file ACLs (the lab keeps ACLs on folders)."]);
    }
}
