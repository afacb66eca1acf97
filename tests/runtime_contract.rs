//! The host-runtime contract, through the real transport (WinRM, NTLM,
//! sealing, the stdin bootstrap): against the lab always, and against a
//! real Windows host when `CAUTERIZE_LIVE_HOST`, `CAUTERIZE_LIVE_USER`
//! (`DOMAIN\user` or `user`) and `CAUTERIZE_LIVE_PASSWORD` name one
//! (skipped otherwise, saying why). The live host also needs
//! `CAUTERIZE_LIVE_OFFLINE_USER`: a local profile that is not logged on
//! (ideally with a non-ASCII name, like the lab's `Пётр`).
//!
//! The same checks run on both; only the arranging differs: the lab plants
//! `lab::contract_host` through its library API, a live host gets
//! the same through a setup script (and a clean-up script afterwards).
//! Loopback range: 127.80.0.0/16, one /24 per test.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use cauterize::lab::contract_host::{
    self as fixture, CLASS_COMMAND_KEY, CONSUMER, EXCLUDED_DIR, FILTER, HOSTILE, LONG_EXE, SERVICE, SHORT_EXE,
    STRAY_DLL, SVC_DLL, SYSTEM_EXE, TASK_PATH, UAC_EXE,
};
use cauterize::lab::world::{LabTime, UserSpec};
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use cauterize::runtime::ops::{self, Bounds, Op, OpOutcome, TaskAction};
use cauterize::runtime::snapshot::{AutorunLocation, Snapshot};
use cauterize::runtime::{apply_ops, collect, read_file};
use cauterize::transport::{HostTarget, run_script};
use tokio_util::sync::CancellationToken;

/// What the checks need to know about the arranged host.
#[derive(Debug, Clone)]
struct Arranged {
    /// SID of the logged-on user whose hive holds `CzAlice`.
    online_sid: String,
    offline_sid: String,
    offline_name: String,
    machine_exe: String,
    petr_dll: String,
    task_exe: String,
    svc_exe: String,
    wmi_exe: String,
    lnk_path: String,
    lnk_target: String,
    locked_exe: String,
    locked_pid: u32,
    hostile_exe: String,
    wmi_query: String,
    /// `LONG_EXE` by its 8.3 short name as the host spells it (on a volume
    /// without short names, the long path itself).
    short_exe: String,
    /// The folder a Defender path exclusion names, when the host let one
    /// be added and read back (tamper protection may refuse).
    excluded: Option<String>,
}

enum Side {
    Lab(Box<Lab>),
    Live,
}

struct Host {
    target: HostTarget,
    side: Side,
    arranged: Arranged,
}

/// The target at `address`, logging on as `user` (`DOMAIN\\name` or a
/// local name), with room for a slow host's collection.
fn target(address: &str, user: &str, password: &str) -> HostTarget {
    let (domain, name) = user.split_once('\\').unwrap_or(("", user));
    let mut host = common::targets::resolved("target", address);
    host.settings.connect_timeout = Duration::from_secs(10);
    host.settings.command_timeout = Duration::from_secs(600);
    common::targets::prepared(host, (domain, name), password)
}

/// A lab host at 127.80.<net>.1 with `alice` logged on and `Пётр` not, and
/// the fixture planted.
async fn lab_host(net: u8) -> Host {
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 80, net, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    world.hosts[0].users = vec![
        UserSpec::domain("alice", true),
        UserSpec::domain("Пётр", false),
    ];
    let name = spec.hosts[0].name.clone();
    let address = spec.hosts[0].address.to_string();
    let lab = Lab::start_world(spec, world).await.expect("lab starts");
    let p = lab.with_host(&name, |h| {
        let query = String::new();
        let p = fixture::plant(h, LabTime::EPOCH);
        let q = h
            .wmi
            .filters
            .iter()
            .find(|f| f.name == FILTER)
            .map(|f| f.query.clone())
            .unwrap_or(query);
        (p, q)
    });
    let (p, wmi_query) = p;
    let user = format!("{}\\{}", lab::scenario::LAB_DOMAIN, lab::scenario::LAB_USER);
    Host {
        target: target(&address, &user, lab::scenario::LAB_PASSWORD),
        side: Side::Lab(Box::new(lab)),
        arranged: Arranged {
            online_sid: p.alice_sid,
            offline_sid: p.petr_sid,
            offline_name: "Пётр".into(),
            machine_exe: p.machine_exe,
            petr_dll: p.petr_dll,
            task_exe: p.task_exe,
            svc_exe: p.svc_exe,
            wmi_exe: p.wmi_exe,
            lnk_path: p.lnk_path,
            lnk_target: p.lnk_target,
            locked_exe: p.locked_exe,
            locked_pid: p.locked_pid,
            hostile_exe: p.hostile_exe,
            wmi_query,
            short_exe: SHORT_EXE.into(),
            excluded: Some(EXCLUDED_DIR.into()),
        },
    }
}

/// The live host named by the environment, arranged by the setup script;
/// `None` (with the reason printed) when not configured.
async fn live_host(test: &str) -> Option<Host> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let (Some(host), Some(user), Some(password), Some(offline)) = (
        var("CAUTERIZE_LIVE_HOST"),
        var("CAUTERIZE_LIVE_USER"),
        var("CAUTERIZE_LIVE_PASSWORD"),
        var("CAUTERIZE_LIVE_OFFLINE_USER"),
    ) else {
        eprintln!(
            "SKIPPED {test} on a live host: set CAUTERIZE_LIVE_HOST, CAUTERIZE_LIVE_USER, CAUTERIZE_LIVE_PASSWORD and \
             CAUTERIZE_LIVE_OFFLINE_USER to run the runtime contract on a real Windows host"
        );
        return None;
    };
    let t = target(&host, &user, &password);
    let out = run_script(&t, &live::setup(&offline), &CancellationToken::new())
        .await
        .expect("live setup runs");
    let arranged = live::arranged(&out.stdout)
        .unwrap_or_else(|| panic!("live setup failed:\n{}\n{}", out.stdout, out.stderr));
    Some(Host {
        target: t,
        side: Side::Live,
        arranged,
    })
}

impl Host {
    async fn finish(self) {
        match self.side {
            Side::Lab(lab) => lab.stop().await,
            Side::Live => {
                let _ = run_script(&self.target, live::CLEANUP, &CancellationToken::new()).await;
            }
        }
    }
}

fn value<'a>(
    s: &'a Snapshot,
    hive: &str,
    name: &str,
) -> Option<&'a cauterize::runtime::snapshot::Autorun> {
    s.autoruns.iter().find(|a| {
        matches!(&a.location, AutorunLocation::RegistryValue { hive: h, value: v, .. } if h.eq_ignore_ascii_case(hive) && v == name)
    })
}

// ---- the checks, the same on both sides ----

async fn check_collection(h: &Host) {
    let a = &h.arranged;
    let s = collect(&h.target, &Bounds::default(), &CancellationToken::new())
        .await
        .expect("collects");
    // What the host serves is read (a domain member reports its domain
    // role; the administrative shares are never listed).
    let serves = s.serves.as_ref().expect("what the host serves is read");
    assert!(serves.domain_role.is_some_and(|r| r <= 5), "{serves:?}");
    assert!(!serves.shares.iter().any(|x| ["C$", "ADMIN$", "IPC$"].iter().any(|a| a.eq_ignore_ascii_case(x))), "{serves:?}");
    assert!(value(&s, "HKLM", "CzMachine").is_some_and(|v| v.command == a.machine_exe));
    assert!(
        value(&s, &a.online_sid, "CzAlice").is_some(),
        "Run value in the logged-on user's hive"
    );
    let off = s
        .users
        .iter()
        .find(|u| u.sid == a.offline_sid)
        .expect("offline user listed");
    assert_eq!(off.name, a.offline_name);
    assert!(!off.logged_on);
    let petr = value(&s, &a.offline_sid, "CzPetr").expect("Run value in the offline user's hive");
    assert_eq!(
        petr.command,
        r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#
    );
    let hv = value(&s, "HKLM", HOSTILE).expect("hostile value name");
    assert_eq!(hv.command, format!("\"{}\" {HOSTILE}", a.hostile_exe));
    let t = s
        .tasks
        .iter()
        .find(|t| t.path == TASK_PATH)
        .expect("hidden task");
    assert!(t.hidden);
    assert_eq!(
        (t.actions[0].path.as_str(), t.actions[0].arguments.as_str()),
        (a.task_exe.as_str(), "/x")
    );
    assert!(
        s.services
            .iter()
            .any(|x| x.name == SERVICE && x.image_path == a.svc_exe)
    );
    assert!(
        s.wmi.iter().any(|w| w.filter_name == FILTER
            && w.consumer_name == CONSUMER
            && w.action == a.wmi_exe)
    );
    let lnk = s
        .autoruns
        .iter()
        .find(|x| matches!(&x.location, AutorunLocation::StartupFolder { path } if path.eq_ignore_ascii_case(&a.lnk_path)))
        .expect("startup .lnk");
    assert!(
        lnk.command.starts_with(&format!("\"{}\"", a.lnk_target)),
        "{}",
        lnk.command
    );
    let p = s
        .processes
        .iter()
        .find(|p| p.pid == a.locked_pid)
        .expect("the running process");
    assert!(p.image.eq_ignore_ascii_case(&a.locked_exe));
    assert!(!p.started.is_empty());
    // File facts (pass two), %LOCALAPPDATA% expanded for the offline user.
    let f = s
        .files
        .iter()
        .find(|f| f.path.eq_ignore_ascii_case(&a.petr_dll))
        .expect("facts of the offline user's DLL");
    assert!(f.exists && f.sha256.len() == 64 && !f.modified.is_empty());
    assert!(
        s.files
            .iter()
            .any(|f| f.is_dir && f.listing.iter().any(|n| n.eq_ignore_ascii_case("petr.dll")))
    );
    assert!(
        s.truncated.iter().all(|t| !t.what.contains(&a.offline_sid)),
        "{:?}",
        s.truncated
    );
    // Collected again: the offline hive was unloaded (it loads again).
    let again = collect(&h.target, &Bounds::default(), &CancellationToken::new())
        .await
        .expect("collects again");
    assert!(value(&again, &a.offline_sid, "CzPetr").is_some());
}

/// The facts added for issue 4: the drop-folder sweep, 8.3 long paths,
/// ServiceDll, class-key commands, the SYSTEM hive's Run keys, Defender
/// exclusion paths.
async fn check_sweep_and_hidden_places(h: &Host) {
    let a = &h.arranged;
    let s = collect(&h.target, &Bounds::default(), &CancellationToken::new())
        .await
        .expect("collects");
    let file = |path: &str| s.files.iter().find(|f| f.path.eq_ignore_ascii_case(path));
    let stray = file(STRAY_DLL).expect("the sweep reports a DLL nothing names");
    assert!(
        stray.swept && stray.exists && stray.sha256.len() == 64,
        "{stray:?}"
    );
    let named = file(&a.task_exe).expect("named file");
    assert!(!named.swept);
    assert_eq!(
        s.files
            .iter()
            .filter(|f| f.path.eq_ignore_ascii_case(&a.task_exe))
            .count(),
        1,
        "a named file is not reported again by the sweep"
    );
    let short = file(&a.short_exe).expect("asked for by its short name");
    assert!(short.exists);
    if a.short_exe.contains('~') {
        assert!(short.long_path.eq_ignore_ascii_case(LONG_EXE), "{short:?}");
    }
    let svc = s.services.iter().find(|x| x.name == SERVICE).expect("svc");
    assert!(svc.service_dll.eq_ignore_ascii_case(SVC_DLL), "{svc:?}");
    assert!(file(SVC_DLL).is_some_and(|f| f.exists && !f.swept));
    let class = s
        .registry
        .iter()
        .find(|r| r.hive == a.online_sid && r.key.eq_ignore_ascii_case(CLASS_COMMAND_KEY))
        .expect("the class-key command is collected");
    assert_eq!((class.value.as_str(), class.data.as_str()), ("", UAC_EXE));
    assert!(file(UAC_EXE).is_some_and(|f| f.exists && !f.swept));
    let sys = value(&s, "S-1-5-18", "CzSystem").expect("the SYSTEM hive's Run value");
    assert_eq!(sys.command, SYSTEM_EXE);
    assert!(file(SYSTEM_EXE).is_some_and(|f| f.exists && !f.swept));
    if let Some(ex) = &a.excluded {
        let d = file(ex).expect("the excluded folder is asked about");
        assert!(
            d.is_dir && d.listing.iter().any(|n| n == "inside.txt"),
            "{d:?}"
        );
    }
    assert!(s.truncated.is_empty(), "{:?}", s.truncated);
}

async fn sha_of(h: &Host, path: &str) -> String {
    let (files, _) = cauterize::runtime::file_facts(
        &h.target,
        &[path.to_string()],
        &[],
        &Bounds::default(),
        &CancellationToken::new(),
    )
    .await
    .expect("file facts");
    files.first().map(|f| f.sha256.clone()).unwrap_or_default()
}

async fn check_ops(h: &Host) {
    use OpOutcome::*;
    let a = &h.arranged;
    let c = CancellationToken::new();
    let ops = vec![
        Op::DeleteRegistryValue {
            hive: a.offline_sid.clone(),
            key: fixture::RUN.into(),
            value: "CzPetr".into(),
            expected_type: "REG_EXPAND_SZ".into(),
            expected_data_sha256: ops::reg_string_sha256("REG_EXPAND_SZ", &r#"rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL"#),
            data: Default::default(),
            data_cut: false,
        },
        Op::DeleteRegistryValue {
            hive: "HKLM".into(),
            key: fixture::RUN.into(),
            value: HOSTILE.into(),
            expected_type: "REG_SZ".into(),
            expected_data_sha256: ops::reg_string_sha256("REG_SZ", &format!("\"{}\" {HOSTILE}", a.hostile_exe)),
            data: Default::default(),
            data_cut: false,
        },
        Op::DeleteTask {
            path: TASK_PATH.into(),
            expected_actions: vec![TaskAction {
                path: a.task_exe.clone().into(),
                arguments: "/x".into(),
                working_directory: String::new().into(),
            }],
        },
        Op::DeleteService {
            name: SERVICE.into(),
            expected_image_path: a.svc_exe.clone().into(),
            expected_service_dll: SVC_DLL.into(),
        },
        Op::DeleteWmiSubscription {
            filter: FILTER.into(),
            consumer: CONSUMER.into(),
            consumer_type: "CommandLineEventConsumer".into(),
            expected_query: a.wmi_query.clone().into(),
            expected_action: a.wmi_exe.clone().into(),
        },
        Op::DeleteFile {
            path: a.machine_exe.clone().into(),
            expected_sha256: sha_of(h, &a.machine_exe).await,
            queue_if_locked: false,
            lateral_service: Default::default(),
        },
    ];
    let first = apply_ops(&h.target, &ops, &c).await.expect("ops run");
    assert_eq!(first, vec![Done, Done, Done, Done, Done, Done]);
    let second = apply_ops(&h.target, &ops, &c).await.expect("ops run again");
    assert!(second.iter().all(|o| *o == AlreadyAbsent), "{second:?}");
    // Drift: the plan saw other data / another hash / another image.
    let drift = apply_ops(
        &h.target,
        &[
            Op::DeleteRegistryValue {
                hive: a.online_sid.clone(),
                key: fixture::RUN.into(),
                value: "CzAlice".into(),
                expected_type: "REG_EXPAND_SZ".into(),
                expected_data_sha256: ops::reg_string_sha256("REG_EXPAND_SZ", &"something else"),
                data: Default::default(),
                data_cut: false,
            },
            Op::DeleteFile {
                path: a.task_exe.clone().into(),
                expected_sha256: "00".repeat(32),
                queue_if_locked: true,
                lateral_service: Default::default(),
            },
            Op::KillProcess {
                pid: a.locked_pid,
                expected_image: "notepad.exe".into(),
                expected_started: String::new(),
            },
        ],
        &c,
    )
    .await
    .expect("ops run");
    assert!(drift.iter().all(|o| matches!(o, Drift { .. })), "{drift:?}");
    // Locked: refused without the queue, queued with it (once).
    let sha = sha_of(h, &a.locked_exe).await;
    let locked = Op::DeleteFile {
        path: a.locked_exe.clone().into(),
        expected_sha256: sha.clone(),
        queue_if_locked: true,
        lateral_service: Default::default(),
    };
    let no_queue = Op::DeleteFile {
        path: a.locked_exe.clone().into(),
        expected_sha256: sha,
        queue_if_locked: false,
        lateral_service: Default::default(),
    };
    let r = apply_ops(&h.target, &[no_queue.clone(), locked.clone(), locked], &c)
        .await
        .expect("ops run");
    assert!(
        matches!(&r[0], Failed { reason } if reason.starts_with("locked")),
        "{r:?}"
    );
    assert_eq!(&r[1..], &[QueuedForReboot, QueuedForReboot]);
    // Kill with the right image; then the file deletes.
    let kill = Op::KillProcess {
        pid: a.locked_pid,
        expected_image: a.locked_exe.clone().into(),
        expected_started: String::new(),
    };
    let r = apply_ops(&h.target, &[kill.clone(), kill, no_queue], &c)
        .await
        .expect("ops run");
    assert_eq!(r, vec![Done, AlreadyAbsent, Done]);
}

async fn check_bounds(h: &Host) {
    let b = Bounds {
        max_values_per_key: 1,
        ..Bounds::default()
    };
    let s = collect(&h.target, &b, &CancellationToken::new())
        .await
        .expect("collects");
    let run_values = s
        .autoruns
        .iter()
        .filter(|x| matches!(&x.location, AutorunLocation::RegistryValue { hive, key, .. } if hive == "HKLM" && key == fixture::RUN))
        .count();
    assert_eq!(run_values, 1);
    assert!(
        s.truncated
            .iter()
            .any(|t| t.what.contains(fixture::RUN) && t.limit == "1 values"),
        "{:?}",
        s.truncated
    );
    let chunk = read_file(
        &h.target,
        &h.arranged.petr_dll,
        1,
        2,
        &CancellationToken::new(),
    )
    .await
    .expect("reads");
    assert_eq!(chunk.data.len(), 2);
    assert!(!chunk.eof);
}

// ---- the tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_finds_every_kind_including_an_offline_non_ascii_user() {
    let h = lab_host(1).await;
    check_collection(&h).await;
    h.finish().await;
    if let Some(h) = live_host("collection").await {
        check_collection(&h).await;
        h.finish().await;
    }
}

/// A domain controller, a file server, a print server and a workstation
/// report what they serve through the runtime (WMI's DomainRole, the
/// Server service's Shares key, the spooler's shared queues), as the lab's
/// Windows keeps them for each role; the plan's roles follow from that
/// alone, without inventory groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_role_shares_and_shared_printers_are_read_per_role() {
    use cauterize::lab::world::Role;
    use cauterize::plan::roles::{RoleFacts, classify};
    use cauterize::playbook::{Role as Kind, RoleGroups};
    let spec = lab::scenario::simple(4, Ipv4Addr::new(127, 80, 9, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    let roles = [Role::DomainController, Role::FileServer, Role::PrintServer, Role::Workstation];
    for (h, r) in world.hosts.iter_mut().zip(roles) {
        h.role = r;
    }
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let user = format!("{}\\{}", lab::scenario::LAB_DOMAIN, lab::scenario::LAB_USER);
    let mut seen = Vec::new();
    for h in &spec.hosts {
        let t = target(&h.address.to_string(), &user, lab::scenario::LAB_PASSWORD);
        let s = collect(&t, &Bounds::default(), &CancellationToken::new()).await.expect("collects");
        seen.push(s);
    }
    let serves: Vec<_> = seen
        .iter()
        .map(|s| {
            let mut v = s.serves.clone().expect("read");
            v.shares.sort();
            v
        })
        .collect();
    assert_eq!(serves.iter().map(|s| s.domain_role).collect::<Vec<_>>(), [Some(4), Some(3), Some(3), Some(1)]);
    assert_eq!(serves[0].shares, ["NETLOGON", "SYSVOL"]);
    assert_eq!(serves[1].shares, ["Finance$", "Shared"]);
    assert_eq!((serves[2].shares.as_slice(), serves[2].printers.as_slice()), (&["print$".to_string()][..], &["HP-Floor2".to_string()][..]));
    assert!(serves[3].shares.is_empty() && serves[3].printers.is_empty(), "the local XPS writer is not shared: {:?}", serves[3]);
    let kinds: Vec<_> = seen.iter().map(|s| classify(&[], &RoleGroups::default(), Some(&RoleFacts::from_snapshot(s)))).collect();
    assert_eq!(kinds[0].has(Kind::DomainController), Some("DomainRole 4"));
    assert!(kinds[0].has(Kind::FileServer).is_none(), "NETLOGON and SYSVOL are Windows' own");
    assert!(kinds[1].has(Kind::FileServer).is_some_and(|w| w.starts_with("shares: ") && w.contains("Finance$") && w.contains("Shared")), "{:?}", kinds[1]);
    assert_eq!(kinds[2].has(Kind::PrintServer), Some("shared printer: HP-Floor2"));
    assert!(kinds[2].has(Kind::FileServer).is_none(), "print$ is the driver share");
    assert_eq!(kinds[3].class, Kind::Workstation);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_short_names_service_dll_class_commands_system_hive_exclusions() {
    let h = lab_host(4).await;
    check_sweep_and_hidden_places(&h).await;
    h.finish().await;
    if let Some(h) = live_host("sweep and hidden places").await {
        check_sweep_and_hidden_places(&h).await;
        h.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_ops_done_absent_drift_and_locked_queued() {
    let h = lab_host(2).await;
    check_ops(&h).await;
    if let Side::Lab(lab) = &h.side {
        let name = lab.spec().hosts[0].name.clone();
        let (hostile_left, queued) = lab.with_host(&name, |s| {
            let left = s
                .registry
                .get_value(&format!(r"HKLM\{}", fixture::RUN), HOSTILE)
                .is_ok();
            (left, s.pending_renames().len())
        });
        assert!(!hostile_left, "ground truth: the hostile value is gone");
        assert_eq!(queued, 1, "ground truth: queued once");
    }
    h.finish().await;
    if let Some(h) = live_host("ops").await {
        check_ops(&h).await;
        h.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounds_cut_and_are_reported() {
    let h = lab_host(3).await;
    check_bounds(&h).await;
    h.finish().await;
    if let Some(h) = live_host("bounds").await {
        check_bounds(&h).await;
        h.finish().await;
    }
}

/// Arranging a real Windows host (PowerShell 2.0-compatible; the hostile
/// string travels base64-encoded).
mod live {
    use super::{Arranged, CLASS_COMMAND_KEY, CONSUMER, FILTER, HOSTILE, SERVICE};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub const CLEANUP: &str = r#"
$ErrorActionPreference = 'SilentlyContinue'
Get-WmiObject -Class Win32_Process | Where-Object { $_.ExecutablePath -like 'C:\ProgramData\CzTest\*' } | ForEach-Object { [void]$_.Terminate() }
& sc.exe delete CzTestSvc | Out-Null
$s = New-Object -ComObject Schedule.Service; $s.Connect()
try { $s.GetFolder('\CzTest').DeleteTask('Hidden', 0) } catch { }
try { $s.GetFolder('\').DeleteFolder('CzTest', 0) } catch { }
Get-WmiObject -Namespace root\subscription -Class __FilterToConsumerBinding | Where-Object { $_.Filter -like '*CzFilter*' } | ForEach-Object { $_.Delete() }
Get-WmiObject -Namespace root\subscription -Class CommandLineEventConsumer | Where-Object { $_.Name -eq 'CzConsumer' } | ForEach-Object { $_.Delete() }
Get-WmiObject -Namespace root\subscription -Class __EventFilter | Where-Object { $_.Name -eq 'CzFilter' } | ForEach-Object { $_.Delete() }
Remove-ItemProperty -Path 'HKLM:\Software\Microsoft\Windows\CurrentVersion\Run' -Name 'CzMachine'
Remove-ItemProperty -Path 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Run' -Name 'CzAlice'
Remove-ItemProperty -Path 'HKLM:\Software\Microsoft\Windows\CurrentVersion\Run' -Name 'CzShort'
Remove-Item -Recurse -Force 'HKCU:\Software\Classes\ms-settings'
$k = [Microsoft.Win32.Registry]::Users.OpenSubKey('S-1-5-18\Software\Microsoft\Windows\CurrentVersion\Run', $true); if ($null -ne $k) { $k.DeleteValue('CzSystem', $false); $k.Close() }
if ($null -ne (Get-Command Remove-MpPreference -ErrorAction SilentlyContinue)) { Remove-MpPreference -ExclusionPath 'C:\ProgramData\CzTest\Excluded' }
Remove-Item -Recurse -Force 'C:\ProgramData\CzTest'
"#;

    /// The setup script: plants what `fixture::plant` plants, using the
    /// connecting user as the logged-on user and `offline` as the user who
    /// is not logged on; prints `CZA <name> <base64>` facts.
    pub fn setup(offline: &str) -> String {
        let b = |s: &str| STANDARD.encode(s.as_bytes());
        format!(
            r#"$ErrorActionPreference = 'Stop'
$enc = New-Object System.Text.UTF8Encoding $false
function D([string]$x) {{ $enc.GetString([Convert]::FromBase64String($x)) }}
function Out-Fact([string]$n, [string]$v) {{ [Console]::Out.WriteLine('CZA ' + $n + ' ' + [Convert]::ToBase64String($enc.GetBytes($v))) }}
$hostile = D '{hostile}'
$offline = D '{offline}'
$dir = 'C:\ProgramData\CzTest'
[void](New-Item -ItemType Directory -Force -Path $dir)
foreach ($n in @('machine.exe', 'task.exe', 'svc.exe', 'wmi.exe', 'lnk target.exe', 'hostile.exe')) {{ [IO.File]::WriteAllText((Join-Path $dir $n), $n) }}
Copy-Item (Join-Path ([Environment]::GetFolderPath('System')) 'PING.EXE') (Join-Path $dir 'locked.exe')
$run = 'Software\Microsoft\Windows\CurrentVersion\Run'
$k = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($run)
$k.SetValue('CzMachine', (Join-Path $dir 'machine.exe'), 'String')
$k.SetValue($hostile, ('"' + (Join-Path $dir 'hostile.exe') + '" ' + $hostile), 'String'); $k.Close()
$k = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey($run)
$k.SetValue('CzAlice', '%APPDATA%\CzTest\alice.exe', 'ExpandString'); $k.Close()
$me = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
$pl = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
$off = $null
foreach ($s in (Get-ChildItem $pl)) {{ $p = [string](Get-ItemProperty $s.PSPath).ProfileImagePath; if ((Split-Path -Leaf $p) -eq $offline) {{ $off = @($s.PSChildName, [Environment]::ExpandEnvironmentVariables($p)) }} }}
if ($null -eq $off) {{ throw ('no profile named ' + $offline) }}
$local = Join-Path $off[1] 'AppData\Local\CzTest'
[void](New-Item -ItemType Directory -Force -Path $local)
[IO.File]::WriteAllText((Join-Path $local 'petr.dll'), 'petr')
& reg.exe load HKU\cz_setup (Join-Path $off[1] 'NTUSER.DAT') | Out-Null
$k = [Microsoft.Win32.Registry]::Users.CreateSubKey('cz_setup\' + $run)
$k.SetValue('CzPetr', 'rundll32.exe "%LOCALAPPDATA%\CzTest\petr.dll",RunDLL', 'ExpandString'); $k.Close(); $k = $null
[GC]::Collect(); [GC]::WaitForPendingFinalizers()
& reg.exe unload HKU\cz_setup | Out-Null
$startup = Join-Path $off[1] 'AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'
[void](New-Item -ItemType Directory -Force -Path $startup)
$lnk = (New-Object -ComObject WScript.Shell).CreateShortcut((Join-Path $startup 'CzStartup.lnk'))
$lnk.TargetPath = (Join-Path $dir 'lnk target.exe'); $lnk.Arguments = '--hostile "a b"'; $lnk.Save()
$svc = New-Object -ComObject Schedule.Service; $svc.Connect()
try {{ $folder = $svc.GetFolder('\CzTest') }} catch {{ $folder = $svc.GetFolder('\').CreateFolder('CzTest') }}
$def = $svc.NewTask(0); $def.Settings.Hidden = $true; $def.RegistrationInfo.Author = 'CzTest'
[void]$def.Triggers.Create(8)
$a = $def.Actions.Create(0); $a.Path = (Join-Path $dir 'task.exe'); $a.Arguments = '/x'
[void]$folder.RegisterTaskDefinition('Hidden', $def, 6, 'SYSTEM', $null, 5)
& sc.exe create {service} binPath= (Join-Path $dir 'svc.exe') start= auto | Out-Null
$query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'"
$f = Set-WmiInstance -Namespace root\subscription -Class __EventFilter -Arguments @{{ Name = '{filter}'; EventNamespace = 'root\cimv2'; QueryLanguage = 'WQL'; Query = $query }}
$c = Set-WmiInstance -Namespace root\subscription -Class CommandLineEventConsumer -Arguments @{{ Name = '{consumer}'; CommandLineTemplate = (Join-Path $dir 'wmi.exe') }}
[void](Set-WmiInstance -Namespace root\subscription -Class __FilterToConsumerBinding -Arguments @{{ Filter = $f; Consumer = $c }})
$proc = Start-Process -FilePath (Join-Path $dir 'locked.exe') -ArgumentList '-n', '3600', '127.0.0.1' -WindowStyle Hidden -PassThru
foreach ($n in @('stray.dll', 'svc.dll', 'uac.exe', 'system.exe')) {{ [IO.File]::WriteAllText((Join-Path $dir $n), $n) }}
$longDir = Join-Path $dir 'Long Folder Name'
[void](New-Item -ItemType Directory -Force -Path $longDir)
[IO.File]::WriteAllText((Join-Path $longDir 'long.exe'), 'long')
$short = (New-Object -ComObject Scripting.FileSystemObject).GetFolder($longDir).ShortPath + '\long.exe'
$k = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($run); $k.SetValue('CzShort', $short, 'String'); $k.Close()
$k = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey('SYSTEM\CurrentControlSet\Services\{service}\Parameters'); $k.SetValue('ServiceDll', (Join-Path $dir 'svc.dll'), 'ExpandString'); $k.Close()
$k = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey('{class_key}'); $k.SetValue('', (Join-Path $dir 'uac.exe'), 'String'); $k.Close()
$k = [Microsoft.Win32.Registry]::Users.CreateSubKey('S-1-5-18\' + $run); $k.SetValue('CzSystem', (Join-Path $dir 'system.exe'), 'String'); $k.Close()
$ex = Join-Path $dir 'Excluded'
[void](New-Item -ItemType Directory -Force -Path $ex)
[IO.File]::WriteAllText((Join-Path $ex 'inside.txt'), 'inside')
$excluded = ''
if ($null -ne (Get-Command Add-MpPreference -ErrorAction SilentlyContinue)) {{
    try {{ Add-MpPreference -ExclusionPath $ex -ErrorAction Stop }} catch {{ }}
    $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths')
    if ($null -ne $k) {{ try {{ if ($k.GetValueNames() -contains $ex) {{ $excluded = $ex }} }} catch {{ }}; $k.Close() }}
}}
Out-Fact short_exe $short
Out-Fact excluded $excluded
Out-Fact online_sid $me
Out-Fact offline_sid $off[0]
Out-Fact offline_name $offline
Out-Fact petr_dll (Join-Path $local 'petr.dll')
Out-Fact lnk_path (Join-Path $startup 'CzStartup.lnk')
Out-Fact locked_pid ([string]$proc.Id)
Out-Fact wmi_query $query
"#,
            hostile = b(HOSTILE),
            offline = b(offline),
            service = SERVICE,
            filter = FILTER,
            consumer = CONSUMER,
            class_key = CLASS_COMMAND_KEY,
        )
    }

    pub fn arranged(stdout: &str) -> Option<Arranged> {
        let fact = |n: &str| -> Option<String> {
            stdout.lines().find_map(|l| {
                let mut p = l.trim().splitn(3, ' ');
                (p.next() == Some("CZA") && p.next() == Some(n))
                    .then(|| {
                        STANDARD
                            .decode(p.next().unwrap_or(""))
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                    })
                    .flatten()
            })
        };
        let dir = r"C:\ProgramData\CzTest";
        Some(Arranged {
            online_sid: fact("online_sid")?,
            offline_sid: fact("offline_sid")?,
            offline_name: fact("offline_name")?,
            machine_exe: format!(r"{dir}\machine.exe"),
            petr_dll: fact("petr_dll")?,
            task_exe: format!(r"{dir}\task.exe"),
            svc_exe: format!(r"{dir}\svc.exe"),
            wmi_exe: format!(r"{dir}\wmi.exe"),
            lnk_path: fact("lnk_path")?,
            lnk_target: format!(r"{dir}\lnk target.exe"),
            locked_exe: format!(r"{dir}\locked.exe"),
            locked_pid: fact("locked_pid")?.parse().ok()?,
            hostile_exe: format!(r"{dir}\hostile.exe"),
            wmi_query: fact("wmi_query")?,
            short_exe: fact("short_exe")?,
            excluded: fact("excluded").filter(|e| !e.is_empty()),
        })
    }
}
