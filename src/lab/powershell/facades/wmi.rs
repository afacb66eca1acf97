//! `Get-WmiObject` (Windows PowerShell only: PowerShell 6 and later removed
//! it) over the host model, and the WMI object it returns
//! (`ManagementObject`: properties by name, case-insensitively, and the
//! class's methods). Served: `Win32_OperatingSystem` and
//! `Win32_ComputerSystem` here,
//! `Win32_Process` and `Win32_Service` ([`super::wmi_cimv2`]),
//! `Win32_LogicalDisk` ([`super::wmi_disk`]), the
//! permanent event subscription classes ([`super::wmi_subscription`]);
//! `-Filter` takes WQL's WHERE subset ([`super::wql`]). A class Windows has
//! but the lab does not serve is refused with a record saying so, and a
//! class Windows does not have is "Invalid class", as WMI answers.

use std::borrow::Cow;

use crate::lab::powershell::convert;
use crate::lab::powershell::object::{
    Bound, Cmdlet, CmdletError, CmdletOutput, CmdletSpec, Ctx, Exception, NetError, NetObject, NetResult, ParamKind as K, ParamSpec as P, Registry, is,
};
use crate::lab::powershell::session;
use crate::lab::powershell::value::Value;
use crate::lab::powershell::version::PsVersion;
use crate::lab::world::Arch;

static SPEC: CmdletSpec = CmdletSpec {
    name: "Get-WmiObject",
    class: "Microsoft.PowerShell.Commands.GetWmiObjectCommand",
    params: &[
        P { name: "Class", kind: K::Value("System.String"), position: Some(0), pipeline: false, aliases: &["ClassName"] },
        P::at("Property", K::Value("System.String[]"), 1),
        P { name: "Namespace", kind: K::Value("System.String"), position: None, pipeline: false, aliases: &["NS"] },
        P { name: "ComputerName", kind: K::Value("System.String[]"), position: None, pipeline: false, aliases: &["Cn"] },
        P::named("Filter", K::Value("System.String")),
        P::named("Query", K::Value("System.String")),
        P::named("List", K::Switch),
        P::named("Recurse", K::Switch),
        P::named("Credential", K::Value("System.Management.Automation.PSCredential")),
        P::named("Amended", K::Switch),
        P::named("DirectRead", K::Switch),
        P::named("EnableAllPrivileges", K::Switch),
        P::named("AsJob", K::Switch),
    ],
    remaining: None,
};

/// Classes Windows has that the lab does not serve yet.
const NOT_YET: &[&str] = &[
    "win32_bios",
    "win32_quickfixengineering",
    "win32_networkadapterconfiguration",
    "win32_userprofile",
    "win32_product",
    "win32_startupcommand",
    "win32_share",
];

/// What a WMI object's methods act on: the key Windows would resolve on
/// each call (the instance may be gone by then).
#[derive(Debug, Clone, PartialEq)]
pub enum Handle {
    /// No methods (`Win32_OperatingSystem`, out-parameter objects).
    None,
    Process(crate::lab::world::files::Pid),
    Service(String),
    Filter(String),
    Consumer { class: &'static str, name: String },
    Binding { filter: String, consumer: String },
}

/// A WMI object: its class and properties.
#[derive(Debug)]
pub struct WmiObject {
    pub class: String,
    pub namespace: String,
    pub computer: String,
    pub relpath: String,
    pub props: Vec<(String, Value)>,
    /// The properties the default view shows.
    pub view: &'static [&'static str],
    pub handle: Handle,
}

impl WmiObject {
    /// A property by name, case-insensitively (`$null` when absent).
    pub fn prop(&self, name: &str) -> Value {
        self.props.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or(Value::Null)
    }
    fn has_prop(&self, name: &str) -> bool {
        ["__CLASS", "__NAMESPACE", "__SERVER", "__RELPATH", "__PATH"].iter().any(|n| n.eq_ignore_ascii_case(name)) || self.props.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// The `__PARAMETERS` object a WMI method returns (its out parameters,
/// `ReturnValue` first).
pub fn out_params(cx: &Ctx<'_>, props: Vec<(&str, Value)>) -> Value {
    Value::object(WmiObject {
        class: "__PARAMETERS".into(),
        namespace: String::new(),
        computer: cx.spec.name.clone(),
        relpath: String::new(),
        props: props.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        view: &["ReturnValue"],
        handle: Handle::None,
    })
}

/// WMI's "Not found" (the instance a method names is gone).
pub fn not_found() -> NetError {
    NetError::exception("System.Management.ManagementException", "Not found ")
}

/// WMI's escaping of a key value inside a relative path: `\` and `\"`.
pub fn escape_key(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

impl NetObject for WmiObject {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Management.ManagementObject".into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Management.ManagementBaseObject"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let v = if is(name, "__CLASS") {
            Value::string(self.class.clone())
        } else if is(name, "__NAMESPACE") {
            Value::string(self.namespace.clone())
        } else if is(name, "__SERVER") {
            Value::string(self.computer.clone())
        } else if is(name, "__RELPATH") {
            Value::string(self.relpath.clone())
        } else if is(name, "__PATH") {
            Value::string(format!(r"\\{}\{}:{}", self.computer, self.namespace, self.relpath))
        } else {
            return self.props.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| Ok(v.clone()));
        };
        Some(Ok(v))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        match &self.handle {
            Handle::None => None,
            Handle::Process(pid) => super::wmi_cimv2::process_method(cx, *pid, name, args),
            Handle::Service(svc) => super::wmi_cimv2::service_method(cx, svc, name, args),
            h => super::wmi_subscription::method(cx, h, name, args),
        }
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        format!(r"\\{}\{}:{}", self.computer, self.namespace, self.relpath)
    }
    fn property_names(&self) -> Vec<Cow<'static, str>> {
        self.view.iter().map(|n| Cow::Borrowed(*n)).collect()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// WMI's CIM datetime text for lab time.
pub fn cim_datetime(cx: &Ctx<'_>, t: crate::lab::world::LabTime) -> String {
    let ticks = cx.host_ticks(t);
    let p = crate::lab::powershell::dates::parts(ticks);
    format!("{:04}{:02}{:02}{:02}{:02}{:02}.{:06}+000", p.y, p.mo, p.d, p.h, p.mi, p.s, p.frac / 10)
}

fn operating_system(cx: &Ctx<'_>) -> WmiObject {
    let os = &cx.host.os;
    let version = format!("{}.{}", session::nt_version(os.build), os.build);
    let props = vec![
        ("Caption".to_string(), Value::string(os.caption.clone())),
        ("BuildNumber".to_string(), Value::string(os.build.to_string())),
        ("Version".to_string(), Value::string(version)),
        ("OSArchitecture".to_string(), Value::str(if matches!(os.arch, Arch::X64) { "64-bit" } else { "32-bit" })),
        ("CSName".to_string(), Value::string(cx.spec.name.clone())),
        ("SystemDirectory".to_string(), Value::str(r"C:\Windows\system32")),
        ("WindowsDirectory".to_string(), Value::str(r"C:\Windows")),
        ("Organization".to_string(), Value::str("")),
        ("RegisteredUser".to_string(), Value::str("Windows User")),
        ("SerialNumber".to_string(), Value::str("00330-80000-00000-AA000")),
        ("LastBootUpTime".to_string(), Value::string(cim_datetime(cx, cx.host.boot_time))),
        ("OSType".to_string(), Value::Int(18)),
        ("ServicePackMajorVersion".to_string(), Value::Int(if os.build == 7601 { 1 } else { 0 })),
    ];
    WmiObject {
        class: "Win32_OperatingSystem".into(),
        namespace: r"root\cimv2".into(),
        computer: cx.spec.name.clone(),
        relpath: "Win32_OperatingSystem=@".into(),
        props,
        view: &["SystemDirectory", "Organization", "BuildNumber", "RegisteredUser", "SerialNumber", "Version"],
        handle: Handle::None,
    }
}

/// `Win32_ComputerSystem`: the machine's name, domain and domain role
/// (`DomainRole`: 0 standalone workstation, 1 member workstation, 2
/// standalone server, 3 member server, 4 backup domain controller, 5
/// primary domain controller). The lab does not model which domain
/// controller holds the PDC emulator role: each reports 4.
fn computer_system(cx: &Ctx<'_>) -> WmiObject {
    use crate::lab::world::Role;
    let joined = !cx.host.domain.eq_ignore_ascii_case("WORKGROUP");
    let role = match cx.host.role {
        Role::DomainController => 4,
        r if r.is_server() => if joined { 3 } else { 2 },
        _ => if joined { 1 } else { 0 },
    };
    let props = vec![
        ("Name".to_string(), Value::string(cx.spec.name.to_ascii_uppercase())),
        ("Domain".to_string(), Value::string(if joined { cx.host.domain.to_ascii_lowercase() } else { "WORKGROUP".to_string() })),
        ("PartOfDomain".to_string(), Value::Bool(joined)),
        ("DomainRole".to_string(), Value::Int(role)),
        ("Manufacturer".to_string(), Value::str("VMware, Inc.")),
        ("Model".to_string(), Value::str("VMware Virtual Platform")),
    ];
    WmiObject {
        class: "Win32_ComputerSystem".into(),
        namespace: r"root\cimv2".into(),
        computer: cx.spec.name.clone(),
        relpath: format!("Win32_ComputerSystem.Name=\"{}\"", cx.spec.name.to_ascii_uppercase()),
        props,
        view: &["Domain", "Manufacturer", "Model", "Name"],
        handle: Handle::None,
    }
}

struct GetWmiObject;

fn error(message: String, category: &'static str, id: &str, target: Option<String>) -> CmdletError {
    let ex_type = if id == "GetWMIManagementException" { "System.Management.ManagementException" } else { "System.NotSupportedException" };
    CmdletError { exception: Exception::new(ex_type, message), category, error_id: id.to_string(), target }
}

impl Cmdlet for GetWmiObject {
    fn name(&self) -> &'static str {
        "Get-WmiObject"
    }
    fn spec(&self, _: &PsVersion) -> &'static CmdletSpec {
        &SPEC
    }
    fn available(&self, version: &PsVersion) -> bool {
        version.major < 6
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, _: Option<&Value>, out: &mut CmdletOutput) -> Result<(), CmdletError> {
        let class = match args.get("Class") {
            Some(c) => convert::to_string(c, cx),
            None => return Err(error("Get-WmiObject in the lab needs -Class (-Query and -List are not served yet).".into(), "NotImplemented", "LabEngineUnsupported", None)),
        };
        let ns = match args.get("Namespace") {
            Some(ns) => convert::to_string(ns, cx).trim_start_matches('\\').replace('/', "\\").to_ascii_lowercase(),
            None => r"root\cimv2".to_string(),
        };
        let lower = class.to_ascii_lowercase();
        let objects = match (ns.as_str(), lower.as_str()) {
            (r"root\cimv2", "win32_operatingsystem") => vec![operating_system(cx)],
            (r"root\cimv2", "win32_computersystem") => vec![computer_system(cx)],
            (r"root\cimv2", "win32_process") => super::wmi_cimv2::processes(cx),
            (r"root\cimv2", "win32_service") => super::wmi_cimv2::services(cx),
            (r"root\cimv2", "win32_systemdriver") => super::wmi_cimv2::drivers(cx),
            (r"root\cimv2", "win32_logicaldisk") => super::wmi_disk::logical_disks(cx),
            (r"root\cimv2" | r"root\subscription", c) if super::wmi_subscription::serves(c) => super::wmi_subscription::instances(cx, &ns, c),
            (r"root\cimv2", c) if NOT_YET.contains(&c) => {
                return Err(error(format!("The cauterize lab's PowerShell engine does not serve the WMI class {class} yet."), "NotImplemented", "LabEngineUnsupported", Some(class.clone())));
            }
            (r"root\cimv2" | r"root\subscription" | r"root\default" | r"root\securitycenter2" | r"root\standardcimv2", _) => {
                return Err(error("Invalid class ".to_string() + &format!("\"{class}\""), "InvalidType", "GetWMIManagementException", None));
            }
            _ => return Err(error("Invalid namespace ".to_string() + &format!("\"{ns}\""), "InvalidArgument", "GetWMIManagementException", None)),
        };
        let filter = match args.get("Filter") {
            None => None,
            Some(f) => {
                let text = convert::to_string(f, cx);
                let invalid = || error(format!("Invalid query \"select * from {class} where {text}\""), "InvalidArgument", "GetWMIManagementException", None);
                let parsed = super::wql::parse(&text).ok_or_else(invalid)?;
                // WMI checks the properties against the class, even with no instances.
                if let Some(first) = objects.first()
                    && parsed.properties().iter().any(|p| !first.has_prop(p))
                {
                    return Err(invalid());
                }
                Some(parsed)
            }
        };
        for o in objects {
            if filter.as_ref().is_none_or(|f| f.matches(&|p| o.prop(p))) {
                out.objects.push(Value::object(o));
            }
        }
        Ok(())
    }
}

pub fn register(r: &mut Registry) {
    r.add_cmdlet(GetWmiObject);
    r.add_alias("gwmi", "Get-WmiObject");
}
