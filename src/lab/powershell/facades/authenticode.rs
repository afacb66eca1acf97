//! `Get-AuthenticodeSignature` over the host's files (each file may carry
//! a `Signer`: subject and whether the signature verifies). As Windows
//! answers: a signed file is Valid (or HashMismatch when it was changed
//! after signing) with its SignerCertificate; an unsigned file of a
//! signable format (PE images, scripts, installers) is NotSigned; another
//! format is UnknownError ("The form specified for the subject is not one
//! supported or known by the specified trust provider"); a missing path
//! is an ObjectNotFound error. PowerShell 2.0 has only `-FilePath`, which
//! takes wildcards; 3.0 added `-LiteralPath`.

use std::borrow::Cow;

use super::fs::{self, path};
use crate::lab::powershell::convert;
use crate::lab::powershell::object::{
    Bound, Cmdlet, CmdletError, CmdletOutput, CmdletSpec, Ctx, EnumDef, Exception, NetError, NetObject, NetResult, ParamKind as K, ParamSpec as P, Registry, is,
};
use crate::lab::powershell::value::Value;
use crate::lab::powershell::version::PsVersion;
use crate::lab::world::files::Signer;

pub static SIGNATURE_STATUS: EnumDef = EnumDef {
    full_name: "System.Management.Automation.SignatureStatus",
    members: &[("Valid", 0), ("UnknownError", 1), ("NotSigned", 2), ("HashMismatch", 3), ("NotTrusted", 4), ("NotSupportedFileFormat", 5), ("Incompatible", 6)],
    flags: false,
};

pub static X509_NAME_TYPE: EnumDef = EnumDef {
    full_name: "System.Security.Cryptography.X509Certificates.X509NameType",
    members: &[("SimpleName", 0), ("EmailName", 1), ("UpnName", 2), ("DnsName", 3), ("DnsFromAlternativeName", 4), ("UrlName", 5)],
    flags: false,
};

static SPEC_V2: CmdletSpec = CmdletSpec {
    name: "Get-AuthenticodeSignature",
    class: "Microsoft.PowerShell.Commands.GetAuthenticodeSignatureCommand",
    params: &[P { name: "FilePath", kind: K::Value("System.String[]"), position: Some(0), pipeline: true, aliases: &[] }],
    remaining: None,
};

static SPEC: CmdletSpec = CmdletSpec {
    name: "Get-AuthenticodeSignature",
    class: "Microsoft.PowerShell.Commands.GetAuthenticodeSignatureCommand",
    params: &[
        P { name: "FilePath", kind: K::Value("System.String[]"), position: Some(0), pipeline: true, aliases: &[] },
        P { name: "LiteralPath", kind: K::Value("System.String[]"), position: None, pipeline: false, aliases: &["PSPath"] },
        P::named("SourcePathOrExtension", K::Value("System.String[]")),
        P::named("Content", K::Value("System.Byte[]")),
    ],
    remaining: None,
};

/// Extensions a subject interface package handles (Authenticode can sign
/// them): PE images, scripts, installers, catalogs.
const SIGNABLE: &[&str] = &[
    "exe", "dll", "sys", "ocx", "cpl", "scr", "drv", "efi", "mui", "com", "ps1", "psm1", "psd1", "ps1xml", "psc1", "cdxml", "vbs", "js", "wsf", "msi", "msp", "mst", "cab", "cat", "appx", "msix",
];

/// An X509Certificate2 as far as the lab knows a signer: its subject.
#[derive(Debug)]
struct Certificate {
    cn: String,
}

impl NetObject for Certificate {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Security.Cryptography.X509Certificates.X509Certificate2".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Security.Cryptography.X509Certificates.X509Certificate"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Subject") || is(name, "SubjectName") {
            return Some(Ok(Value::string(format!("CN={}", self.cn))));
        }
        if is(name, "Thumbprint") {
            use sha2::Digest;
            let d = sha2::Sha256::digest(self.cn.as_bytes());
            return Some(Ok(Value::string(d[..20].iter().map(|b| format!("{b:02X}")).collect::<String>())));
        }
        None
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "GetNameInfo") {
            return None;
        }
        if args.len() != 2 {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        let kind = match &args[0] {
            Value::Enum(_, n) => *n,
            v => X509_NAME_TYPE.value_of(&convert::to_string(v, cx)).unwrap_or(-1),
        };
        // SimpleName is the subject's CN; the lab's signers carry no
        // e-mail, UPN, DNS or URL names.
        Some(Ok(Value::string(if kind == 0 { self.cn.clone() } else { String::new() })))
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        format!("[Subject]\r\n  CN={}\r\n", self.cn)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `System.Management.Automation.Signature`.
#[derive(Debug)]
struct Signature {
    path: String,
    status: i64,
    message: String,
    signer: Option<String>,
}

impl Signature {
    fn of(full: &str, signer: Option<&Signer>) -> Signature {
        let ext = path::extension(full).trim_start_matches('.').to_ascii_lowercase();
        let (status, message) = match signer {
            Some(s) if s.valid => (0, "Signature verified.".to_string()),
            Some(_) => (3, format!("The contents of file {full} might have been changed by an unauthorized user or process, because the hash of the file does not match the hash stored in the digital signature.")),
            None if SIGNABLE.contains(&ext.as_str()) => (2, format!("The file {full} is not digitally signed.")),
            None => (1, "The form specified for the subject is not one supported or known by the specified trust provider".to_string()),
        };
        Signature { path: full.to_string(), status, message, signer: signer.map(|s| s.subject.to_string()) }
    }
}

impl NetObject for Signature {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.Automation.Signature".into()
    }
    fn get(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        Some(Ok(if is(name, "Status") {
            Value::Enum(&SIGNATURE_STATUS, self.status)
        } else if is(name, "StatusMessage") {
            Value::string(self.message.clone())
        } else if is(name, "Path") {
            Value::string(self.path.clone())
        } else if is(name, "SignerCertificate") {
            self.signer.as_ref().map_or(Value::Null, |cn| Value::object(Certificate { cn: cn.clone() }))
        } else if is(name, "TimeStamperCertificate") {
            Value::Null
        } else if cx.version.major >= 5 && is(name, "SignatureType") {
            Value::str(if self.signer.is_some() { "Authenticode" } else { "None" })
        } else if cx.version.major >= 5 && is(name, "IsOSBinary") {
            Value::Bool(self.signer.as_deref() == Some("Microsoft Windows"))
        } else {
            return None;
        }))
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        vec!["SignerCertificate".into(), "Status".into(), "StatusMessage".into(), "Path".into()]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn not_found(shown: &str) -> CmdletError {
    CmdletError {
        exception: Exception::new("System.Management.Automation.ItemNotFoundException", format!("Cannot find path '{shown}' because it does not exist.")),
        category: "ObjectNotFound",
        error_id: "FileNotFound".into(),
        target: Some(shown.to_string()),
    }
}

fn net_error(e: NetError, shown: &str) -> CmdletError {
    let exception = match e {
        NetError::Exception(x) => x,
        other => Exception::new("System.ArgumentException", format!("{other:?}")),
    };
    CmdletError { exception, category: "InvalidArgument", error_id: "InvalidPath".into(), target: Some(shown.to_string()) }
}

/// Whether a PowerShell path has wildcard characters (unescaped).
fn has_wildcards(p: &str) -> bool {
    let mut escaped = false;
    for c in p.chars() {
        match c {
            '`' if !escaped => escaped = true,
            '*' | '?' | '[' if !escaped => return true,
            _ => escaped = false,
        }
    }
    false
}

/// A PowerShell wildcard (`*`, `?`, `[abc]`, backtick escapes) against a
/// name, case ignored.
fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => match p.iter().position(|c| *c == ']') {
                Some(end) if !n.is_empty() => {
                    let set = &p[1..end];
                    let c = n[0].to_lowercase().next().unwrap_or(n[0]);
                    set.iter().any(|s| s.to_lowercase().next() == Some(c)) && go(&p[end + 1..], &n[1..])
                }
                _ => false,
            },
            Some('`') if p.len() > 1 => !n.is_empty() && p[1].to_lowercase().eq(n[0].to_lowercase()) && go(&p[2..], &n[1..]),
            Some(c) => !n.is_empty() && c.to_lowercase().eq(n[0].to_lowercase()) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Remove PowerShell's backtick escapes.
fn unescape(p: &str) -> String {
    let mut out = String::new();
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c == '`' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct GetAuthenticodeSignature;

impl GetAuthenticodeSignature {
    fn one(cx: &mut Ctx<'_>, given: &str, out: &mut CmdletOutput) {
        let r = match fs::resolve(cx, given).and_then(|r| fs::follow(cx, &r)) {
            Ok(r) => r,
            Err(e) => return out.errors.push(net_error(e, given)),
        };
        match fs::entry(cx, &r) {
            Some(e) if !e.is_dir() => {
                let sig = Signature::of(&r.full, e.signer());
                out.objects.push(Value::object(sig));
            }
            _ => out.errors.push(not_found(&r.full)),
        }
    }

    /// `-FilePath` with wildcards: the files of the folder that match.
    fn wildcard(cx: &mut Ctx<'_>, given: &str, out: &mut CmdletOutput) {
        let (dir, pattern) = match given.rfind('\\') {
            Some(i) => (&given[..i], &given[i + 1..]),
            None => (".", given),
        };
        let found = fs::resolve(cx, &unescape(dir)).ok().and_then(|r| fs::io::list(cx, &r, "*", fs::io::Want::Files).ok().map(|l| (r, l)));
        let Some((r, items)) = found else { return out.errors.push(not_found(given)) };
        let hits: Vec<_> = items.into_iter().filter(|(n, _)| matches(pattern, n)).collect();
        if hits.is_empty() {
            return out.errors.push(not_found(given));
        }
        for (n, e) in hits {
            out.objects.push(Value::object(Signature::of(&path::combine(&r.full, &n), e.signer())));
        }
    }
}

impl Cmdlet for GetAuthenticodeSignature {
    fn name(&self) -> &'static str {
        "Get-AuthenticodeSignature"
    }
    fn spec(&self, version: &PsVersion) -> &'static CmdletSpec {
        if version.v3() { &SPEC } else { &SPEC_V2 }
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, input: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError> {
        let list = |cx: &mut Ctx<'_>, v: &Value| -> Vec<String> { v.enumerate(cx).unwrap_or_else(|| vec![v.clone()]).iter().map(|x| convert::to_string(x, cx)).collect() };
        if let Some(v) = args.get("LiteralPath") {
            for p in list(cx, v) {
                Self::one(cx, &p, out);
            }
            return Ok(());
        }
        let Some(v) = args.get("FilePath").or(input) else {
            return Err(CmdletError {
                exception: Exception::new("System.Management.Automation.ParameterBindingException", "The cauterize lab's Get-AuthenticodeSignature needs -FilePath or -LiteralPath (-Content is not served)."),
                category: "InvalidArgument",
                error_id: "LabEngineUnsupported".into(),
                target: None,
            });
        };
        for p in list(cx, v) {
            if has_wildcards(&p) {
                Self::wildcard(cx, &p, out);
            } else {
                Self::one(cx, &unescape(&p), out);
            }
        }
        Ok(())
    }
}

pub fn register(r: &mut Registry) {
    r.add_cmdlet(GetAuthenticodeSignature);
    r.add_enum(&SIGNATURE_STATUS);
    r.add_enum(&X509_NAME_TYPE);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::run_with;
    use crate::lab::world::files::{Content, Signer};
    use crate::lab::world::{HostState, LabTime};

    fn plant(h: &mut HostState) {
        let t = LabTime(0);
        h.files.create_dir_all(r"C:\Sig", t).expect("dir");
        h.files.plant_file(r"C:\Sig\ok[1].exe", Content::text("a"), Some(Signer::valid("Contoso Ltd")), t).expect("f");
        h.files.plant_file(r"C:\Sig\bad.dll", Content::text("b"), Some(Signer { subject: "Contoso Ltd".into(), valid: false }), t).expect("f");
        h.files.plant_file(r"C:\Sig\none.exe", Content::text("c"), None, t).expect("f");
        h.files.plant_file(r"C:\Sig\notes.txt", Content::text("d"), None, t).expect("f");
    }

    /// Status and signer as Windows reports them; 2.0's -FilePath takes
    /// wildcards (the runtime escapes `[`), 5.1 has -LiteralPath; a missing
    /// file is "Cannot find path".
    #[test]
    fn statuses_signers_and_paths() {
        let script = concat!(
            "$a = Get-AuthenticodeSignature -FilePath 'C:\\Sig\\ok`[1`].exe'; [string]$a.Status; $a.SignerCertificate.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false)\n",
            "[string](Get-AuthenticodeSignature -FilePath C:\\Sig\\bad.dll).Status\n",
            "[string](Get-AuthenticodeSignature C:\\Sig\\none.exe).Status; $null -eq (Get-AuthenticodeSignature C:\\Sig\\none.exe).SignerCertificate\n",
            "[string](Get-AuthenticodeSignature C:\\Sig\\notes.txt).Status\n",
            "@(Get-AuthenticodeSignature 'C:\\Sig\\*.exe').Count\n",
            "(Get-Command Get-AuthenticodeSignature).Parameters.ContainsKey('LiteralPath')\n",
            "try { Get-AuthenticodeSignature C:\\Sig\\gone.exe -ErrorAction Stop } catch { $_.Exception.Message; $_.FullyQualifiedErrorId }\n",
        );
        let (r, _) = run_with("2.0", plant, script);
        assert!(r.err.is_empty(), "{}", r.err);
        assert_eq!(
            r.lines(),
            [
                "Valid",
                "Contoso Ltd",
                "HashMismatch",
                "NotSigned",
                "True",
                "UnknownError",
                "2",
                "False",
                // PowerShell 2.0 wraps a stopped non-terminating error.
                r#"Command execution stopped because the preference variable "ErrorActionPreference" or common parameter is set to Stop: Cannot find path 'C:\Sig\gone.exe' because it does not exist."#,
                "FileNotFound,Microsoft.PowerShell.Commands.GetAuthenticodeSignatureCommand",
            ]
        );
        let (r, _) = run_with("5.1.19041.1", plant, "[string](Get-AuthenticodeSignature -LiteralPath 'C:\\Sig\\ok[1].exe').Status; (Get-Command Get-AuthenticodeSignature).Parameters.ContainsKey('LiteralPath')");
        assert_eq!(r.lines(), ["Valid", "True"], "{}", r.err);
    }
}
