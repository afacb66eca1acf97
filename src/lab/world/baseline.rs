//! A clean Windows install: `HostState::baseline(&BaselineSpec)` builds
//! system folders, signed system binaries (System32 and, on x64, their
//! SysWOW64 twins), HKLM with its stock autostart locations (Winlogon,
//! AppInit, IFEO, Defender exclusions, Run keys), user profiles and hives,
//! a handful of real services and tasks, firewall profiles with the stock
//! WinRM rule, then boots it (core processes, auto services) and logs on
//! the users the spec says are logged on (explorer.exe each).
//!
//! Memory: the parts identical on every host of an OS build (system
//! folders and binaries, HKLM, the empty user hive) are built once per
//! (build, arch) and cloned; names are `Arc<str>` so a clone shares them.
//! `benches/lab_world_memory.rs` (`bench/lab-world-memory.sh`) measures
//! the real heap cost.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, OnceLock};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ci::upper;
use super::files::{Attrs, Content, Entry, EntryKind, FileData, FileSystem, Signer, Times, VersionInfo};
use super::firewall::{Direction, Firewall, FirewallRule, ProfileKind, Protocol, Verdict};
use super::host::HostState;
use super::netaddr::PortList;
use super::os::{Arch, Os, Role};
use super::paths;
use super::registry::{RegData, RegKey};
use super::services::{self, Service, ServiceKind, StartType};
use super::tasks::{ExecAction, Principal, Task, Trigger};
use super::time::LabTime;
use super::users::{self, Profile};

/// One user of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub name: String,
    /// A domain account (same SID on every host of the domain) rather
    /// than a local one.
    pub domain_account: bool,
    pub logged_on: bool,
}

impl UserSpec {
    pub fn domain(name: &str, logged_on: bool) -> UserSpec {
        UserSpec {
            name: name.into(),
            domain_account: true,
            logged_on,
        }
    }
    pub fn local(name: &str, logged_on: bool) -> UserSpec {
        UserSpec {
            name: name.into(),
            domain_account: false,
            logged_on,
        }
    }
}

/// What a clean host is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSpec {
    pub name: String,
    /// NetBIOS domain; `WORKGROUP` for a stand-alone host.
    pub domain: String,
    pub address: Ipv4Addr,
    pub role: Role,
    pub os: Os,
    pub users: Vec<UserSpec>,
    pub local_admin_password: String,
    pub ms17_010_patched: bool,
    pub seed: u64,
    /// Lab time at which the host is observed (it booted a while before).
    pub now: LabTime,
}

impl BaselineSpec {
    pub fn new(name: &str, os: Os, role: Role, users: Vec<UserSpec>) -> BaselineSpec {
        BaselineSpec {
            name: name.into(),
            domain: "CORP".into(),
            address: Ipv4Addr::new(127, 0, 1, 1),
            role,
            os,
            users,
            local_admin_password: "Passw0rd!".into(),
            ms17_010_patched: true,
            seed: 1,
            now: LabTime::EPOCH,
        }
    }
}

/// Where Windows was installed, relative to lab time: a year before.
fn install_time(now: LabTime) -> LabTime {
    now.plus_days(-365)
}

const MS_SIGNER: &str = "Microsoft Windows";

/// Signed binaries in System32 (and SysWOW64 on x64 where `twin`).
const SYSTEM_BINARIES: &[(&str, u64, bool)] = &[
    ("smss.exe", 152_000, false),
    ("csrss.exe", 17_000, false),
    ("wininit.exe", 460_000, false),
    ("winlogon.exe", 900_000, false),
    ("services.exe", 700_000, false),
    ("lsass.exe", 60_000, false),
    ("svchost.exe", 55_000, true),
    ("userinit.exe", 30_000, true),
    ("rundll32.exe", 71_000, true),
    ("regsvr32.exe", 25_000, true),
    ("wermgr.exe", 210_000, true),
    ("msra.exe", 590_000, true),
    ("mobsync.exe", 100_000, true),
    ("schtasks.exe", 230_000, true),
    ("cmd.exe", 290_000, true),
    ("sc.exe", 70_000, true),
    ("reg.exe", 80_000, true),
    ("netsh.exe", 95_000, true),
    ("shutdown.exe", 30_000, true),
    ("defrag.exe", 110_000, false),
    ("spoolsv.exe", 930_000, false),
    ("advpack.dll", 150_000, true),
    ("schedsvc.dll", 800_000, false),
    ("WsmSvc.dll", 3_000_000, false),
    ("srvsvc.dll", 160_000, false),
    ("wevtsvc.dll", 1_800_000, false),
    (r"wbem\WMIsvc.dll", 200_000, false),
    (r"wbem\WmiPrvSE.exe", 500_000, true),
    (r"WindowsPowerShell\v1.0\powershell.exe", 450_000, true),
];

/// Things identical on every host of one (build, arch).
struct Template {
    files: FileSystem,
    hklm: RegKey,
    user_hive: RegKey,
}

fn template(os: &Os) -> Arc<Template> {
    type Cache = Mutex<Vec<((u32, Arch), Arc<Template>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, t)) = c.iter().find(|(k, _)| *k == (os.build, os.arch)) {
        return t.clone();
    }
    let t = Arc::new(build_template(os));
    c.push(((os.build, os.arch), t.clone()));
    t
}

/// `OriginalFilename` and `InternalName` of the Windows programs whose
/// version resource does not simply repeat the file's name (as their
/// images carry them; the names Sigma's rename rules key on).
const WINDOWS_VERSION_NAMES: &[(&str, &str, &str)] = &[
    ("rundll32.exe", "RUNDLL32.EXE", "rundll"),
    ("regsvr32.exe", "REGSVR32.EXE", "REGSVR32"),
    ("cmd.exe", "Cmd.Exe", "cmd"),
    ("powershell.exe", "PowerShell.EXE", "POWERSHELL"),
    ("explorer.exe", "EXPLORER.EXE", "explorer"),
    ("winlogon.exe", "WINLOGON.EXE", "winlogon"),
    ("userinit.exe", "USERINIT.EXE", "userinit"),
];

/// The version resource of a program Windows ships, named `file`.
fn windows_version(file: &str) -> Arc<VersionInfo> {
    let name = file.rsplit('\\').next().unwrap_or(file);
    let lower = name.to_ascii_lowercase();
    let (original, internal) = match WINDOWS_VERSION_NAMES.iter().find(|(n, ..)| *n == lower) {
        Some((_, o, i)) => (o.to_string(), i.to_string()),
        None => (name.to_string(), name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string()),
    };
    Arc::new(VersionInfo {
        original_filename: original.into(),
        internal_name: internal.into(),
        company_name: "Microsoft Corporation".into(),
        file_description: name.into(),
        product_name: "Microsoft\u{ae} Windows\u{ae} Operating System".into(),
    })
}

/// A program Windows ships, named `file`: signed, with its version resource.
fn signed(seed: &str, file: &str, size: u64, signer: &Signer, t: LabTime) -> Entry {
    Entry {
        times: Times::all(t),
        attrs: Attrs::default(),
        kind: EntryKind::File(FileData {
            content: Content::synthetic(seed, size),
            signer: Some(signer.clone()),
            version: Some(windows_version(file)),
        }),
    }
}

fn build_template(os: &Os) -> Template {
    let t = install_time(LabTime::EPOCH);
    let x64 = os.arch == Arch::X64;
    let mut fs = FileSystem::new(t);
    let mut dirs = vec![
        paths::SYSTEM32.to_string(),
        format!(r"{}\config\systemprofile\AppData\Roaming", paths::SYSTEM32),
        format!(r"{}\config\systemprofile\AppData\Local", paths::SYSTEM32),
        paths::TASKS_DIR.into(),
        paths::WINDOWS_TEMP.into(),
        paths::COMMON_STARTUP.into(),
        format!(r"{}\Common Files", paths::PROGRAM_FILES),
        format!(r"{}\Windows Defender", paths::PROGRAM_FILES),
        format!(r"{}\Desktop", paths::PUBLIC),
        format!(r"{}\Default", paths::USERS),
    ];
    if x64 {
        dirs.push(paths::SYSWOW64.into());
        dirs.push(format!(r"{}\Common Files", paths::PROGRAM_FILES_X86));
    }
    for d in &dirs {
        fs.create_dir_all(d, t).expect("static path");
    }
    let ms = Signer::valid(MS_SIGNER);
    let tag = format!("{}:{:?}", os.build, os.arch);
    for &(name, size, twin) in SYSTEM_BINARIES {
        let p = format!(r"{}\{name}", paths::SYSTEM32);
        fs.plant(&p, signed(&format!("{tag}:{p}"), name, size, &ms, t), t)
            .expect("static path");
        if twin && x64 {
            let p = format!(r"{}\{name}", paths::SYSWOW64);
            fs.plant(&p, signed(&format!("{tag}:{p}"), name, size * 4 / 5, &ms, t), t)
                .expect("static path");
        }
    }
    fs.plant(
        r"C:\Windows\explorer.exe",
        signed(&format!("{tag}:explorer"), "explorer.exe", 4_400_000, &ms, t),
        t,
    )
    .expect("static");
    if x64 {
        fs.plant(
            r"C:\Windows\SysWOW64\explorer.exe",
            signed(&format!("{tag}:explorer32"), "explorer.exe", 3_900_000, &ms, t),
            t,
        )
        .expect("static");
    }
    fs.plant(
        r"C:\Program Files\Windows Defender\MsMpEng.exe",
        signed(&format!("{tag}:msmpeng"), "MsMpEng.exe", 130_000, &ms, t),
        t,
    )
    .expect("static");
    if os.build >= 10240 {
        let p = format!(r"{}\SecurityHealthSystray.exe", paths::SYSTEM32);
        fs.plant(&p, signed(&format!("{tag}:{p}"), "SecurityHealthSystray.exe", 90_000, &ms, t), t)
            .expect("static");
    }

    let mut hklm = RegKey::default();
    let run = hklm.create(paths::RUN);
    if os.build >= 10240 {
        run.set(
            "SecurityHealth",
            RegData::expand_sz(r"%windir%\system32\SecurityHealthSystray.exe"),
        );
    }
    hklm.create(paths::RUN_ONCE);
    if x64 {
        hklm.create(paths::RUN_WOW64);
        hklm.create(paths::RUN_ONCE_WOW64);
    }
    let wl = hklm.create(paths::WINLOGON);
    wl.set("Shell", RegData::sz("explorer.exe"));
    wl.set(
        "Userinit",
        RegData::sz(r"C:\Windows\system32\userinit.exe,"),
    );
    hklm.create(paths::IFEO);
    for p in if x64 {
        vec![paths::APPINIT, paths::APPINIT_WOW64]
    } else {
        vec![paths::APPINIT]
    } {
        let k = hklm.create(p);
        k.set("AppInit_DLLs", RegData::sz(""));
        k.set("LoadAppInit_DLLs", RegData::Dword(0));
    }
    hklm.create(paths::DEFENDER_EXCLUSION_PATHS);
    hklm.create(paths::DEFENDER_EXCLUSION_PROCESSES);
    hklm.create(paths::SESSION_MANAGER).set(
        "BootExecute",
        RegData::MultiSz(vec!["autocheck autochk *".into()]),
    );
    let cv = hklm.create(paths::CURRENT_VERSION);
    cv.set(
        "ProductName",
        RegData::sz(os.caption.trim_start_matches("Microsoft ")),
    );
    cv.set("CurrentBuild", RegData::sz(os.build.to_string()));
    cv.set("CurrentBuildNumber", RegData::sz(os.build.to_string()));
    hklm.create(paths::SERVICES);
    hklm.create(paths::TASK_CACHE_TREE);

    let mut user_hive = RegKey::default();
    user_hive.create(paths::RUN);
    user_hive.create(paths::RUN_ONCE);
    user_hive.create(paths::EXPLORER_USER);
    let env = user_hive.create("Environment");
    env.set(
        "TEMP",
        RegData::expand_sz(r"%USERPROFILE%\AppData\Local\Temp"),
    );
    env.set(
        "TMP",
        RegData::expand_sz(r"%USERPROFILE%\AppData\Local\Temp"),
    );

    fs.freeze();
    Template {
        files: fs,
        hklm,
        user_hive,
    }
}

/// FNV-1a, for SIDs that must be the same on every host of a domain.
fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The domain's SID authority (same on every host of the domain).
pub fn domain_authority(domain: &str) -> [u32; 3] {
    let d = upper(domain);
    [
        fnv(&format!("{d}/a")),
        fnv(&format!("{d}/b")),
        fnv(&format!("{d}/c")),
    ]
}

/// A domain account's SID (same on every host).
pub fn domain_user_sid(domain: &str, user: &str) -> String {
    users::sid(domain_authority(domain), 1100 + fnv(&upper(user)) % 100_000)
}

fn ms17_010_kb(os: &Os) -> &'static str {
    match os.build {
        7601 => "KB4012212",
        9200 => "KB4012214",
        9600 => "KB4012213",
        14393 => "KB4013429",
        _ => "KB4012606",
    }
}

/// The stock services with the ServiceDll of those svchost hosts.
fn services_for(os: &Os, role: Role) -> Vec<(Service, Option<&'static str>)> {
    let p = if os.build >= 14393 { " -p" } else { "" };
    let shared = |name: &str, display: &str, group: &str, dll: &'static str, account: &str| {
        let mut s = Service::new(
            name,
            display,
            &format!(r"%SystemRoot%\system32\svchost.exe -k {group}{p}"),
            StartType::Auto,
        );
        s.kind = ServiceKind::ShareProcess;
        s.account = account.into();
        (s, Some(dll))
    };
    let own = |s: Service| (s, None);
    let mut v = vec![
        shared(
            "Schedule",
            "Task Scheduler",
            "netsvcs",
            r"%systemroot%\system32\schedsvc.dll",
            "LocalSystem",
        ),
        shared(
            "Winmgmt",
            "Windows Management Instrumentation",
            "netsvcs",
            r"%SystemRoot%\system32\wbem\WMIsvc.dll",
            "LocalSystem",
        ),
        shared(
            "LanmanServer",
            "Server",
            "netsvcs",
            r"%SystemRoot%\System32\srvsvc.dll",
            "LocalSystem",
        ),
        shared(
            "WinRM",
            "Windows Remote Management (WS-Management)",
            "NetworkService",
            r"%SystemRoot%\system32\WsmSvc.dll",
            r"NT AUTHORITY\NetworkService",
        ),
        shared(
            "EventLog",
            "Windows Event Log",
            "LocalServiceNetworkRestricted",
            r"%SystemRoot%\System32\wevtsvc.dll",
            r"NT AUTHORITY\LocalService",
        ),
        own(Service::new(
            "Spooler",
            "Print Spooler",
            r"%SystemRoot%\System32\spoolsv.exe",
            StartType::Auto,
        )),
        own(Service::new(
            "WinDefend",
            "Windows Defender Antivirus Service",
            r#""C:\Program Files\Windows Defender\MsMpEng.exe""#,
            StartType::Auto,
        )),
    ];
    if role == Role::DomainController {
        // dns.exe is not in the shared template: a DC's DNS service is
        // registered but its binary is placed per host below.
        v.push(own(Service::new(
            "DNS",
            "DNS Server",
            r"%systemroot%\system32\dns.exe",
            StartType::Auto,
        )));
    }
    v
}

/// What the Server service and the spooler keep in the registry for the
/// host's role: a domain controller's `NETLOGON` and `SYSVOL`, a file
/// server's folders, a print server's `print$` and shared queue; every
/// host's local XPS writer, not shared. `LanmanServer\Shares` holds one
/// REG_MULTI_SZ per share made by a person or a role (the administrative
/// `C$`, `ADMIN$` and `IPC$` are made at each start and are not there);
/// a printer is shared when its `Attributes` carry
/// PRINTER_ATTRIBUTE_SHARED (0x8).
fn shares_and_printers(h: &mut HostState, domain: &str) {
    let share = |name: &str, path: &str, remark: &str| {
        RegData::MultiSz(vec![
            "CSCFlags=0".to_string(),
            "MaxUses=4294967295".to_string(),
            format!("Path={path}"),
            "Permissions=0".to_string(),
            format!("Remark={remark}"),
            format!("ShareName={name}"),
            "Type=0".to_string(),
        ])
    };
    let shares: Vec<(&str, String, &str)> = match h.role {
        Role::DomainController => {
            let root = format!(r"C:\Windows\SYSVOL\sysvol\{}", domain.to_ascii_lowercase());
            vec![("NETLOGON", format!(r"{root}\SCRIPTS"), "Logon server share"), ("SYSVOL", r"C:\Windows\SYSVOL\sysvol".to_string(), "Logon server share")]
        }
        Role::FileServer => vec![("Shared", r"D:\Shares\Shared".to_string(), ""), ("Finance$", r"D:\Shares\Finance".to_string(), "")],
        Role::PrintServer => vec![("print$", r"C:\Windows\system32\spool\drivers".to_string(), "Printer Drivers")],
        _ => vec![],
    };
    let hklm = h.registry.hklm_mut();
    let key = hklm.create(paths::LANMAN_SHARES);
    for (name, path, remark) in shares {
        key.set(name, share(name, &path, remark));
    }
    let mut printers = vec![("Microsoft XPS Document Writer", 0x240_u32, "")];
    if h.role == Role::PrintServer {
        printers.push(("HP LaserJet Floor 2", 0x248, "HP-Floor2"));
    }
    for (name, attributes, share_name) in printers {
        let key = hklm.create(&format!(r"{}\{name}", paths::PRINTERS));
        key.set("Name", RegData::sz(name));
        key.set("Attributes", RegData::Dword(attributes));
        key.set("Share Name", RegData::sz(share_name));
    }
}

fn tasks_for(os: &Os, install: LabTime) -> Vec<Task> {
    let ms = "Microsoft Corporation";
    let weekly = |h: i64| Trigger::Daily {
        start: install.plus_secs(h * 3600),
        days_interval: 7,
        end: None,
        repetition: None,
    };
    let mut defrag = Task::new(
        r"\Microsoft\Windows\Defrag",
        "ScheduledDefrag",
        Principal::system(),
    )
    .with_author(ms)
    .with_action(ExecAction::new(
        r"%windir%\system32\defrag.exe",
        if os.build >= 9200 {
            "-c -h -o -$"
        } else {
            "-c"
        },
    ))
    .with_trigger(weekly(1));
    defrag.description = "This task optimizes local storage drives.".into();
    let wer = Task::new(
        r"\Microsoft\Windows\Windows Error Reporting",
        "QueueReporting",
        Principal::system(),
    )
    .with_author(ms)
    .with_action(ExecAction::new(r"%windir%\system32\wermgr.exe", "-upload"))
    .with_trigger(Trigger::Logon {
        user: None,
        repetition: None,
    });
    let time = Task::new(
        r"\Microsoft\Windows\Time Synchronization",
        "SynchronizeTime",
        Principal::user(r"NT AUTHORITY\LOCAL SERVICE"),
    )
    .with_author(ms)
    .with_action(ExecAction::new(
        r"%windir%\system32\sc.exe",
        "start w32time task_started",
    ))
    .with_trigger(weekly(2));
    let mut v = vec![defrag, wer, time];
    for t in &mut v {
        t.registered = install;
    }
    v
}

fn firewall_for(domain_joined: bool, role: Role) -> Firewall {
    let mut fw = Firewall::new(if domain_joined {
        ProfileKind::Domain
    } else {
        ProfileKind::Private
    });
    let add =
        |fw: &mut Firewall, name: &str, group: &str, port: u16, proto: Protocol, enabled: bool| {
            let mut r = FirewallRule::new(name, Direction::In, Verdict::Allow, proto);
            r.local_ports = PortList::ports(&[port]);
            r.group = group.into();
            r.enabled = enabled;
            fw.add_rule(r).expect("valid stock rule");
        };
    fw.add_rule(Firewall::winrm_default_rule())
        .expect("valid stock rule");
    let sharing = role.is_server();
    add(
        &mut fw,
        "File and Printer Sharing (SMB-In)",
        "File and Printer Sharing",
        445,
        Protocol::Tcp,
        sharing,
    );
    add(
        &mut fw,
        "File and Printer Sharing (NB-Session-In)",
        "File and Printer Sharing",
        139,
        Protocol::Tcp,
        sharing,
    );
    add(
        &mut fw,
        "Remote Desktop - User Mode (TCP-In)",
        "Remote Desktop",
        3389,
        Protocol::Tcp,
        false,
    );
    fw
}

/// The folders of a fresh profile.
const PROFILE_DIRS: &[&str] = &[
    r"AppData\Local\Temp",
    r"AppData\Local\Microsoft\Windows",
    r"AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
    "Desktop",
    "Documents",
    "Downloads",
];

impl HostState {
    /// A clean, booted install as `spec` describes; deterministic in
    /// `spec.seed`.
    pub fn baseline(spec: &BaselineSpec) -> HostState {
        let mut rng = StdRng::seed_from_u64(spec.seed ^ u64::from(fnv(&upper(&spec.name))));
        let tpl = template(&spec.os);
        let install = install_time(LabTime::EPOCH);
        let uptime_secs = rng.gen_range(600..14 * 86_400);
        let boot = spec.now.plus_secs(-(uptime_secs as i64));

        let mut h = HostState::empty(
            &spec.name,
            &spec.domain,
            spec.address,
            spec.role,
            spec.os.clone(),
            boot,
        );
        h.files = tpl.files.clone();
        *h.registry.hklm_mut() = tpl.hklm.clone();
        h.local_admin_password = spec.local_admin_password.clone();
        h.volume_serial = rng.r#gen();
        h.ms17_010_patched = spec.ms17_010_patched;
        if spec.os.build == 7601 {
            h.patches.push("KB976902".into());
        }
        if spec.ms17_010_patched {
            h.patches.push(ms17_010_kb(&spec.os).into());
        }

        let cn = h.registry.hklm_mut().create(paths::COMPUTER_NAME);
        cn.set("ComputerName", RegData::sz(upper(&spec.name)));

        // users
        let machine_auth = [rng.r#gen(), rng.r#gen(), rng.r#gen()];
        h.machine_authority = machine_auth;
        let mut next_local_rid = 1001;
        for u in &spec.users {
            let (domain, sid) = if u.domain_account {
                (spec.domain.clone(), domain_user_sid(&spec.domain, &u.name))
            } else {
                let s = users::sid(machine_auth, next_local_rid);
                next_local_rid += 1;
                (upper(&spec.name), s)
            };
            let mut p = Profile::new(&u.name, &domain, &sid);
            if h.files.exists(&p.profile_path) {
                p.profile_path = format!("{}.{}", p.profile_path, spec.domain);
            }
            h.add_profile(p, &tpl.user_hive, install);
        }
        h.registry.add_user_hive(
            users::SYSTEM_SID,
            r"C:\Windows\System32\config\DEFAULT",
            tpl.user_hive.clone(),
        );

        for (s, dll) in services_for(&spec.os, spec.role) {
            let name = s.name.clone();
            h.services.create(s, &mut h.registry).expect("stock services are distinct");
            if let Some(dll) = dll {
                services::set_service_dll(&mut h.registry, &name, dll);
            }
        }
        if spec.role == Role::DomainController {
            let p = format!(r"{}\dns.exe", paths::SYSTEM32);
            h.files
                .plant(
                    &p,
                    signed(
                        &format!("{}:dns", spec.os.build),
                        "dns.exe",
                        1_200_000,
                        &Signer::valid(MS_SIGNER),
                        install,
                    ),
                    install,
                )
                .expect("static");
        }
        for t in tasks_for(&spec.os, install) {
            h.tasks
                .register(t, false)
                .expect("stock tasks are distinct");
        }
        h.firewall = firewall_for(!spec.domain.eq_ignore_ascii_case("WORKGROUP"), spec.role);
        shares_and_printers(&mut h, &spec.domain);

        // boot, then log the users on a little later
        h.boot_count = 0;
        let _ = h.boot(boot);
        let sids: Vec<(String, bool)> = spec
            .users
            .iter()
            .zip(h.profiles.iter())
            .map(|(u, p)| (p.sid.clone(), u.logged_on))
            .collect();
        for (i, (sid, on)) in sids.into_iter().enumerate() {
            if on {
                let _ = h.logon(&sid, boot.plus_secs(60 + 30 * i as i64));
            }
        }
        h.registry.shrink_to_fit();
        h
    }

    /// Create a profile: its folders, NTUSER.DAT, its (unloaded) hive and
    /// its ProfileList entry.
    pub fn add_profile(&mut self, p: Profile, hive: &RegKey, now: LabTime) {
        for d in PROFILE_DIRS {
            let _ = self
                .files
                .create_dir_all(&format!(r"{}\{d}", p.profile_path), now);
        }
        // The hive files: NTUSER.DAT and the classes' UsrClass.dat.
        let classes = crate::lab::world::registry::classes_file(&p.ntuser_dat());
        if let Some(dir) = super::files::parent(&classes) {
            let _ = self.files.create_dir_all(dir, now);
        }
        for (file, seed, size) in [(p.ntuser_dat(), p.sid.clone(), 786_432), (classes, format!("{}:UsrClass", p.sid), 262_144)] {
            let _ = self.files.plant(
                &file,
                Entry {
                    times: Times::all(now),
                    attrs: Attrs {
                        hidden: true,
                        system: true,
                        readonly: false,
                    },
                    kind: EntryKind::File(FileData {
                        content: Content::synthetic(&seed, size),
                        signer: None,
                        version: None,
                    }),
                },
                now,
            );
        }
        let pl = self
            .registry
            .hklm_mut()
            .create(&format!(r"{}\{}", paths::PROFILE_LIST, p.sid));
        pl.set(
            "ProfileImagePath",
            RegData::expand_sz(p.profile_path.clone()),
        );
        self.registry
            .add_user_hive(&p.sid, &p.ntuser_dat(), hive.clone());
        self.profiles.push(p);
    }
}

/// Workstation number `i` of a measurement or a test: Windows 7 for every
/// third, Windows 10 otherwise, a logged-on and a logged-off domain user
/// (one with a Cyrillic name), its own seed and a loopback address.
pub fn sample(i: u32) -> BaselineSpec {
    let mut s = BaselineSpec::new(
        &format!("WS-{i:05}"),
        if i.is_multiple_of(3) {
            Os::win7_sp1_x64()
        } else {
            Os::win10_22h2()
        },
        Role::Workstation,
        vec![
            UserSpec::domain("alice", true),
            UserSpec::domain("Пётр", false),
        ],
    );
    s.seed = u64::from(i);
    s.address = Ipv4Addr::from(0x7f00_0100 + i);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::registry::hkcu;

    fn spec(i: u32) -> BaselineSpec {
        sample(i)
    }

    #[test]
    fn baseline_is_a_plausible_clean_install() {
        let h = HostState::baseline(&spec(1));
        for b in [
            "rundll32.exe",
            "regsvr32.exe",
            "svchost.exe",
            "wermgr.exe",
            "msra.exe",
            "mobsync.exe",
            "schtasks.exe",
            "cmd.exe",
        ] {
            for dir in [paths::SYSTEM32, paths::SYSWOW64] {
                let e = h
                    .files
                    .get(&format!(r"{dir}\{b}"))
                    .unwrap_or_else(|| panic!("{dir}\\{b}"));
                assert_eq!(e.signer().unwrap().subject.as_ref(), "Microsoft Windows");
            }
        }
        assert!(
            h.files
                .is_file(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
        );
        assert!(h.files.is_file(r"C:\Windows\explorer.exe"));
        for core in [
            "System",
            "smss.exe",
            "csrss.exe",
            "wininit.exe",
            "services.exe",
            "lsass.exe",
        ] {
            assert!(h.processes.by_image_name(core).next().is_some(), "{core}");
        }
        assert!(h.processes.by_image_name("svchost.exe").count() >= 3);
        // explorer for the logged-on user only
        let alice = h.profile_by_name("alice").unwrap().clone();
        let ex: Vec<_> = h.processes.by_image_name("explorer.exe").collect();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].user_sid, alice.sid);
        assert!(h.registry.is_loaded(&alice.sid));
        let petr = h.profile_by_name("Пётр").unwrap();
        assert!(!h.registry.is_loaded(&petr.sid));
        assert!(
            h.registry
                .user_hive(&petr.sid)
                .unwrap()
                .root
                .descend(paths::RUN)
                .is_some()
        );
        assert!(h.files.is_dir(&petr.startup_dir()));
        assert_eq!(alice.sid, domain_user_sid("corp", "ALICE"));
        // services running, a task, defender key, winlogon, firewall
        assert_eq!(
            h.services.get("Schedule").unwrap().state,
            super::super::services::ServiceState::Running
        );
        assert!(h.services.get("WinRM").unwrap().pid.is_some());
        assert!(
            h.tasks
                .get(r"\Microsoft\Windows\Defrag\ScheduledDefrag")
                .is_some()
        );
        assert!(
            h.registry
                .key_exists(r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths")
        );
        assert_eq!(
            h.registry
                .get_value(&format!(r"HKLM\{}", paths::WINLOGON), "Shell")
                .unwrap()
                .as_str(),
            Some("explorer.exe")
        );
        assert!(
            h.registry
                .get_value(&hkcu(&alice.sid, paths::RUN), "x")
                .is_err()
        );
        let peer = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(
            h.firewall
                .decide(Direction::In, Protocol::Tcp, 5985, peer, 50000),
            Verdict::Allow
        );
        assert_eq!(
            h.firewall
                .decide(Direction::In, Protocol::Tcp, 445, peer, 50000),
            Verdict::Block
        );
        assert!(h.pending_renames().is_empty());
        assert_eq!(h.boot_count, 1);
        assert!(h.ms17_010_patched && h.patches.iter().any(|k| k.starts_with("KB")));
    }

    #[test]
    fn baseline_is_deterministic_and_win7_has_ps2() {
        let a = HostState::baseline(&spec(3));
        let b = HostState::baseline(&spec(3));
        assert_eq!(a.volume_serial, b.volume_serial);
        assert_eq!(a.boot_time, b.boot_time);
        assert_eq!(a.profiles, b.profiles);
        let pa: Vec<_> = a
            .processes
            .iter()
            .map(|p| (p.pid, p.image.clone()))
            .collect();
        let pb: Vec<_> = b
            .processes
            .iter()
            .map(|p| (p.pid, p.image.clone()))
            .collect();
        assert_eq!(pa, pb);
        assert_eq!(a.os.ps_version, "2.0");
        assert!(a.patches.contains(&"KB4012212".to_string()));
        assert_ne!(HostState::baseline(&spec(4)).volume_serial, a.volume_serial);
        // x86 has no SysWOW64
        let mut s = spec(5);
        s.os = Os::win7_sp1_x86();
        let h = HostState::baseline(&s);
        assert!(!h.files.exists(paths::SYSWOW64));
        assert_eq!(h.expand("%ProgramFiles(x86)%", None), "%ProgramFiles(x86)%");
        // a DC shares SMB
        let mut s = spec(6);
        s.role = Role::DomainController;
        let dc = HostState::baseline(&s);
        assert_eq!(
            dc.firewall.decide(
                Direction::In,
                Protocol::Tcp,
                445,
                Ipv4Addr::new(10, 0, 0, 9),
                1
            ),
            Verdict::Allow
        );
        assert!(dc.services.get("DNS").unwrap().pid.is_some());
    }
}
