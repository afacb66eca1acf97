//! Real software whose autostarts look like loaders, placed where and how
//! the real product puts them, so false positives can be measured. Each
//! product's files are signed by its real publisher. Shapes come from
//! `research/persistence-summary.md` and `cases/persistence-artifacts.yaml`
//! (BEN-*); where a source gives no value name (Zoom, Slack, the Lenovo
//! entry) the name here is a plausible one and says so.
//!
//! `place(host, product, user, now)` writes the Run values (into the
//! user's hive whether it is loaded or not), tasks, services and files,
//! and starts the per-user program when that user is logged on.

use super::ci::upper;
use super::files::{Content, Signer};
use super::host::HostState;
use super::os::Arch;
use super::paths;
use super::registry::{RegData, hklm};
use super::services::{Service, ServiceState, StartType};
use super::tasks::{ExecAction, Principal, Repetition, Task, Trigger};
use super::time::LabTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BenignProduct {
    OneDrive,
    Teams,
    Slack,
    Zoom,
    Spotify,
    GoogleUpdate,
    EdgeUpdate,
    AdobeAcrobatUpdate,
    LogitechDownloadAssistant,
    LenovoSpectrum,
    WindowsUpdateRunOnce,
    FirefoxDefaultBrowserAgent,
}

impl BenignProduct {
    pub const ALL: [BenignProduct; 12] = [
        BenignProduct::OneDrive,
        BenignProduct::Teams,
        BenignProduct::Slack,
        BenignProduct::Zoom,
        BenignProduct::Spotify,
        BenignProduct::GoogleUpdate,
        BenignProduct::EdgeUpdate,
        BenignProduct::AdobeAcrobatUpdate,
        BenignProduct::LogitechDownloadAssistant,
        BenignProduct::LenovoSpectrum,
        BenignProduct::WindowsUpdateRunOnce,
        BenignProduct::FirefoxDefaultBrowserAgent,
    ];

    /// Needs a user (per-user install, or a task that runs as the user).
    pub fn per_user(self) -> bool {
        matches!(
            self,
            BenignProduct::OneDrive
                | BenignProduct::Teams
                | BenignProduct::Slack
                | BenignProduct::Zoom
                | BenignProduct::Spotify
                | BenignProduct::FirefoxDefaultBrowserAgent
        )
    }

    /// Authenticode subject of its binaries.
    pub fn publisher(self) -> &'static str {
        match self {
            BenignProduct::OneDrive | BenignProduct::Teams | BenignProduct::EdgeUpdate => {
                "Microsoft Corporation"
            }
            BenignProduct::WindowsUpdateRunOnce => "Microsoft Windows",
            BenignProduct::Slack => "Slack Technologies, LLC",
            BenignProduct::Zoom => "Zoom Video Communications, Inc.",
            BenignProduct::Spotify => "Spotify AB",
            BenignProduct::GoogleUpdate => "Google LLC",
            BenignProduct::AdobeAcrobatUpdate => "Adobe Inc.",
            BenignProduct::LogitechDownloadAssistant => "Logitech Inc",
            BenignProduct::LenovoSpectrum => "Lenovo",
            BenignProduct::FirefoxDefaultBrowserAgent => "Mozilla Corporation",
        }
    }
}

/// What `place` wrote (full paths), for assertions and ground truth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placed {
    /// (key path `HKLM\...` or `HKU\<SID>\...`, value name, data)
    pub run_values: Vec<(String, String, String)>,
    pub tasks: Vec<String>,
    pub services: Vec<String>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("{0:?} is installed per user: give a user")]
    NeedsUser(BenignProduct),
    #[error("no profile with SID {0}")]
    NoSuchUser(String),
    #[error("{0}")]
    Failed(String),
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A GUID-looking string derived from `seed` (deterministic).
fn guid(seed: &str) -> String {
    let a = fnv(seed);
    let b = fnv(&format!("{seed}#"));
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:04X}-{:012X}}}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

struct Placer<'a> {
    h: &'a mut HostState,
    now: LabTime,
    signer: Signer,
    out: Placed,
}

impl Placer<'_> {
    fn file(&mut self, path: &str, size: u64) -> Result<(), PlaceError> {
        let p = self
            .h
            .files
            .plant_file(
                path,
                Content::synthetic(&format!("{}:{path}", self.signer.subject), size),
                Some(self.signer.clone()),
                self.now,
            )
            .map_err(|e| PlaceError::Failed(e.to_string()))?;
        self.out.files.push(p);
        Ok(())
    }
    fn value(&mut self, key: String, name: &str, data: RegData) -> Result<(), PlaceError> {
        let text = data.as_str().unwrap_or_default().to_string();
        // user keys are written into the hive itself, loaded or not
        if let Some(rest) = key.strip_prefix(r"HKU\") {
            let (sid, rel) = rest.split_once('\\').unwrap_or((rest, ""));
            let hive = self
                .h
                .registry
                .user_hive_mut(sid)
                .ok_or_else(|| PlaceError::NoSuchUser(sid.into()))?;
            hive.root.create(rel).set(name, data);
        } else {
            self.h
                .registry
                .put(&key, name, data)
                .map_err(|e| PlaceError::Failed(e.to_string()))?;
        }
        self.out.run_values.push((key, name.into(), text));
        Ok(())
    }
    fn task(&mut self, t: Task) -> Result<(), PlaceError> {
        let p = t.path();
        // registered by the installer, as the account the task runs as
        let by = t.principal.user_id.clone();
        self.h
            .register_task(t, true, &by, self.now)
            .map_err(|e| PlaceError::Failed(e.to_string()))?;
        self.out.tasks.push(p);
        Ok(())
    }
    fn service(&mut self, s: Service) -> Result<(), PlaceError> {
        let n = s.name.clone();
        if self.h.services.get(&n).is_none() {
            // installed through the SCM: the System log has its 7045
            self.h
                .install_service(s, self.now)
                .map_err(|e| PlaceError::Failed(e.to_string()))?;
        }
        self.out.services.push(n);
        Ok(())
    }
}

/// Install `product` on `host` (for `user_sid` when it is per-user).
pub fn place(
    host: &mut HostState,
    product: BenignProduct,
    user_sid: Option<&str>,
    now: LabTime,
) -> Result<Placed, PlaceError> {
    let user = match user_sid {
        Some(s) => Some(
            host.profile(s)
                .ok_or_else(|| PlaceError::NoSuchUser(s.into()))?,
        ),
        None if product.per_user() => return Err(PlaceError::NeedsUser(product)),
        None => None,
    };
    let x64 = host.os.arch == Arch::X64;
    let pf86 = if x64 {
        paths::PROGRAM_FILES_X86
    } else {
        paths::PROGRAM_FILES
    };
    let host_name = upper(&host.name);
    let mut pl = Placer {
        h: host,
        now,
        signer: Signer::valid(product.publisher()),
        out: Placed::default(),
    };
    let user_run = |sid: &str| format!(r"HKU\{sid}\{}", paths::RUN);
    let mut start_as_user: Option<String> = None;
    let daily = |h: i64| Trigger::Daily {
        start: now.plus_secs(h * 3600),
        days_interval: 1,
        end: None,
        repetition: None,
    };

    match product {
        BenignProduct::OneDrive => {
            let u = user.as_ref().expect("per-user");
            let dir = format!(r"{}\Microsoft\OneDrive", u.local_appdata());
            pl.file(&format!(r"{dir}\OneDrive.exe"), 3_000_000)?;
            pl.file(&format!(r"{dir}\OneDriveStandaloneUpdater.exe"), 2_600_000)?;
            // two spaces before /background, as OneDrive writes it
            let data = format!("\"{dir}\\OneDrive.exe\"  /background");
            pl.value(user_run(&u.sid), "OneDrive", RegData::sz(data.clone()))?;
            let mut t = Task::new(
                "\\",
                &format!("OneDrive Standalone Update Task-{}", u.sid),
                Principal::user(&u.qualified()),
            )
            .with_author("Microsoft Corporation")
            .with_action(ExecAction::new(
                &format!(r"{dir}\OneDriveStandaloneUpdater.exe"),
                "",
            ))
            .with_trigger(Trigger::Daily {
                start: now.plus_secs(3600),
                days_interval: 1,
                end: None,
                repetition: Some(Repetition {
                    interval_secs: 86_400,
                    duration_secs: None,
                }),
            });
            t.registered = now;
            pl.task(t)?;
            start_as_user = Some(data);
        }
        BenignProduct::Teams => {
            let u = user.as_ref().expect("per-user");
            let dir = format!(r"{}\Microsoft\Teams", u.local_appdata());
            pl.file(&format!(r"{dir}\Update.exe"), 1_900_000)?;
            pl.file(&format!(r"{dir}\current\Teams.exe"), 120_000_000)?;
            let data = format!(
                r#"{dir}\Update.exe --processStart "Teams.exe" --process-start-args "--system-initiated""#
            );
            pl.value(
                user_run(&u.sid),
                "com.squirrel.Teams.Teams",
                RegData::sz(data.clone()),
            )?;
            start_as_user = Some(data);
        }
        BenignProduct::Slack => {
            let u = user.as_ref().expect("per-user");
            let dir = format!(r"{}\slack", u.local_appdata());
            pl.file(&format!(r"{dir}\slack.exe"), 300_000)?;
            pl.file(&format!(r"{dir}\Update.exe"), 1_900_000)?;
            pl.file(&format!(r"{dir}\app-4.36.140\slack.exe"), 160_000_000)?;
            // value name: Squirrel's convention (not given by the sources)
            let data = format!(r"{dir}\slack.exe --process-start-args --startup");
            pl.value(
                user_run(&u.sid),
                "com.squirrel.slack.slack",
                RegData::sz(data.clone()),
            )?;
            start_as_user = Some(data);
        }
        BenignProduct::Zoom => {
            let u = user.as_ref().expect("per-user");
            let exe = format!(r"{}\Zoom\bin\Zoom.exe", u.appdata());
            pl.file(&exe, 400_000)?;
            // value name not given by the sources
            let data = format!("\"{exe}\"");
            pl.value(user_run(&u.sid), "Zoom", RegData::sz(data.clone()))?;
            start_as_user = Some(data);
        }
        BenignProduct::Spotify => {
            let u = user.as_ref().expect("per-user");
            let exe = format!(r"{}\Spotify\Spotify.exe", u.appdata());
            pl.file(&exe, 22_000_000)?;
            let data = format!("\"{exe}\" --autostart --minimized");
            pl.value(user_run(&u.sid), "Spotify", RegData::sz(data.clone()))?;
            start_as_user = Some(data);
        }
        BenignProduct::GoogleUpdate => {
            let exe = format!(r"{pf86}\Google\Update\GoogleUpdate.exe");
            pl.file(&exe, 160_000)?;
            let suffix = format!("{:015x}", fnv(&format!("{host_name}/GoogleUpdate")) >> 4);
            for (name, args, trig) in [
                (
                    format!("GoogleUpdateTaskMachineCore{suffix}"),
                    "/c",
                    Trigger::Logon {
                        user: None,
                        repetition: None,
                    },
                ),
                (
                    "GoogleUpdateTaskMachineUA".to_string(),
                    "/ua /installsource scheduler",
                    Trigger::Daily {
                        start: now,
                        days_interval: 1,
                        end: None,
                        repetition: Some(Repetition {
                            interval_secs: 3600,
                            duration_secs: Some(86_400),
                        }),
                    },
                ),
            ] {
                let t = Task::new("\\", &name, Principal::system())
                    .with_author("Google LLC")
                    .with_action(ExecAction::new(&exe, args))
                    .with_trigger(trig);
                let t = if args == "/c" {
                    t.with_trigger(daily(1))
                } else {
                    t
                };
                pl.task(t)?;
            }
            let mut s = Service::new(
                "gupdate",
                "Google Update Service (gupdate)",
                &format!("\"{exe}\" /svc"),
                StartType::Auto,
            );
            s.description = "Keeps your Google software up to date.".into();
            pl.service(s)?;
            let m = Service::new(
                "gupdatem",
                "Google Update Service (gupdatem)",
                &format!("\"{exe}\" /medsvc"),
                StartType::Demand,
            );
            pl.service(m)?;
        }
        BenignProduct::EdgeUpdate => {
            let exe = format!(r"{pf86}\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe");
            pl.file(&exe, 200_000)?;
            for (name, args) in [
                (
                    format!(
                        "MicrosoftEdgeUpdateTaskMachineCore{}",
                        guid(&format!("{host_name}/edge/core"))
                    ),
                    "/c",
                ),
                (
                    format!(
                        "MicrosoftEdgeUpdateTaskMachineUA{}",
                        guid(&format!("{host_name}/edge/ua"))
                    ),
                    "/ua /installsource scheduler",
                ),
            ] {
                let t = Task::new("\\", &name, Principal::system())
                    .with_author("Microsoft Corporation")
                    .with_action(ExecAction::new(&exe, args))
                    .with_trigger(daily(2));
                pl.task(t)?;
            }
            pl.service(Service::new(
                "edgeupdate",
                "Microsoft Edge Update Service (edgeupdate)",
                &format!("\"{exe}\" /svc"),
                StartType::Auto,
            ))?;
            pl.service(Service::new(
                "edgeupdatem",
                "Microsoft Edge Update Service (edgeupdatem)",
                &format!("\"{exe}\" /medsvc"),
                StartType::Demand,
            ))?;
        }
        BenignProduct::AdobeAcrobatUpdate => {
            let dir = format!(r"{pf86}\Common Files\Adobe\ARM\1.0");
            pl.file(&format!(r"{dir}\AdobeARM.exe"), 1_200_000)?;
            pl.file(&format!(r"{dir}\armsvc.exe"), 190_000)?;
            let t = Task::new(
                "\\",
                "Adobe Acrobat Update Task",
                Principal::user("INTERACTIVE"),
            )
            .with_author("Adobe Systems Incorporated")
            .with_action(ExecAction::new(&format!(r"{dir}\AdobeARM.exe"), ""))
            .with_trigger(Trigger::Logon {
                user: None,
                repetition: None,
            })
            .with_trigger(daily(3));
            pl.task(t)?;
            let s = Service::new(
                "AdobeARMservice",
                "Adobe Acrobat Update Service",
                &format!("\"{dir}\\armsvc.exe\""),
                StartType::Auto,
            );
            pl.service(s)?;
            if pl
                .h
                .services
                .get("AdobeARMservice")
                .is_some_and(|s| s.state == ServiceState::Stopped)
            {
                let parent =
                    pl.h.processes
                        .by_image_name("services.exe")
                        .map(|p| p.pid)
                        .next()
                        .unwrap_or(0);
                let _ = pl.h.start_service("AdobeARMservice", parent, now);
            }
        }
        BenignProduct::LogitechDownloadAssistant => {
            pl.file(r"C:\Windows\System32\LogiLDA.dll", 2_200_000)?;
            pl.value(
                hklm(paths::RUN),
                "Logitech Download Assistant",
                RegData::sz(
                    r"C:\Windows\system32\rundll32.exe C:\Windows\System32\LogiLDA.dll,LogiFetch",
                ),
            )?;
        }
        BenignProduct::LenovoSpectrum => {
            // path and value name are plausible, not sourced; the shape
            // (rundll32 <dll>,RunDLL - Emotet's export name) is.
            let dll = r"C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll";
            pl.file(dll, 700_000)?;
            pl.value(
                hklm(paths::RUN),
                "LenovoSpectrum",
                RegData::sz(format!(r"C:\Windows\system32\rundll32.exe {dll},RunDLL")),
            )?;
        }
        BenignProduct::WindowsUpdateRunOnce => {
            let tmp = r"C:\Windows\Temp\IXP000.TMP";
            pl.h.files
                .create_dir_all(tmp, now)
                .map_err(|e| PlaceError::Failed(e.to_string()))?;
            pl.out.files.push(tmp.into());
            pl.value(
                hklm(paths::RUN_ONCE),
                "wextract_cleanup0",
                RegData::sz(format!(
                    r#"rundll32.exe C:\WINDOWS\system32\advpack.dll,DelNodeRunDLL32 "{tmp}\""#
                )),
            )?;
        }
        BenignProduct::FirefoxDefaultBrowserAgent => {
            let u = user.as_ref().expect("per-user");
            let dir = format!(r"{}\Mozilla Firefox", paths::PROGRAM_FILES);
            pl.file(&format!(r"{dir}\firefox.exe"), 650_000)?;
            pl.file(&format!(r"{dir}\default-browser-agent.exe"), 900_000)?;
            let id = "308046B0AF4A39CB";
            let mut t = Task::new(
                r"\Mozilla",
                &format!("Firefox Default Browser Agent {id}"),
                Principal::user(&u.qualified()),
            )
            .with_author("Mozilla")
            .with_action(ExecAction::new(
                &format!(r"{dir}\default-browser-agent.exe"),
                &format!("do-task \"{id}\""),
            ))
            .with_trigger(daily(12));
            t.description = "The Default Browser Agent task checks when the default changes from Firefox to another browser.".into();
            pl.task(t)?;
        }
    }

    if let (Some(cmd), Some(u)) = (start_as_user, user.as_ref())
        && u.logged_on
    {
        let explorer =
            pl.h.processes
                .by_image_name("explorer.exe")
                .find(|p| p.user_sid == u.sid)
                .map(|p| p.pid)
                .unwrap_or(0);
        let _ = pl.h.start_command(&cmd, &u.sid, explorer, now);
    }
    Ok(pl.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::baseline::{BaselineSpec, UserSpec};
    use crate::lab::world::os::{Os, Role};
    use crate::lab::world::registry::hkcu;

    fn host() -> HostState {
        HostState::baseline(&BaselineSpec::new(
            "WS-7",
            Os::win10_22h2(),
            Role::Workstation,
            vec![
                UserSpec::domain("bob", true),
                UserSpec::domain("Пётр", false),
            ],
        ))
    }

    #[test]
    fn per_user_run_values_have_the_documented_shapes() {
        let mut h = host();
        let bob = h.profile_by_name("bob").unwrap().clone();
        let petr = h.profile_by_name("Пётр").unwrap().clone();
        let t = h.boot_time.plus_secs(3600);
        for p in [
            BenignProduct::OneDrive,
            BenignProduct::Teams,
            BenignProduct::Slack,
            BenignProduct::Zoom,
            BenignProduct::Spotify,
        ] {
            place(&mut h, p, Some(&bob.sid), t).unwrap();
        }
        let run = hkcu(&bob.sid, paths::RUN);
        let v = |n: &str| {
            h.registry
                .get_value(&run, n)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            v("OneDrive"),
            r#""C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe"  /background"#
        );
        assert_eq!(
            v("com.squirrel.Teams.Teams"),
            r#"C:\Users\bob\AppData\Local\Microsoft\Teams\Update.exe --processStart "Teams.exe" --process-start-args "--system-initiated""#
        );
        assert_eq!(
            v("com.squirrel.slack.slack"),
            r"C:\Users\bob\AppData\Local\slack\slack.exe --process-start-args --startup"
        );
        assert_eq!(
            v("Zoom"),
            r#""C:\Users\bob\AppData\Roaming\Zoom\bin\Zoom.exe""#
        );
        assert_eq!(
            v("Spotify"),
            r#""C:\Users\bob\AppData\Roaming\Spotify\Spotify.exe" --autostart --minimized"#
        );
        let task = h
            .tasks
            .get(&format!(r"\OneDrive Standalone Update Task-{}", bob.sid))
            .unwrap();
        assert_eq!(
            task.actions[0].path,
            r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDriveStandaloneUpdater.exe"
        );
        let exe = h
            .files
            .get(r"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe")
            .unwrap();
        assert_eq!(
            exe.signer().unwrap().subject.as_ref(),
            "Microsoft Corporation"
        );
        assert_eq!(
            h.files
                .get(r"C:\Users\bob\AppData\Roaming\Spotify\Spotify.exe")
                .unwrap()
                .signer()
                .unwrap()
                .subject
                .as_ref(),
            "Spotify AB"
        );
        // bob is logged on: his programs run (and lock their images)
        assert!(
            h.processes
                .by_image_name("OneDrive.exe")
                .any(|p| p.user_sid == bob.sid)
        );
        assert!(h.processes.by_image_name("Spotify.exe").next().is_some());
        // a logged-off user's hive gets the value offline
        place(&mut h, BenignProduct::Teams, Some(&petr.sid), t).unwrap();
        assert!(
            h.registry
                .get_value(&hkcu(&petr.sid, paths::RUN), "com.squirrel.Teams.Teams")
                .is_err()
        ); // not mounted
        let hive = h.registry.user_hive(&petr.sid).unwrap();
        let data = hive
            .root
            .descend(paths::RUN)
            .unwrap()
            .value("com.squirrel.Teams.Teams")
            .unwrap()
            .data
            .as_str()
            .unwrap();
        assert!(
            data.starts_with(
                r"C:\Users\Пётр\AppData\Local\Microsoft\Teams\Update.exe --processStart"
            )
        );
        assert!(
            h.processes
                .by_image_name("Update.exe")
                .all(|p| p.user_sid != petr.sid)
        );
        assert_eq!(
            place(&mut h, BenignProduct::Slack, None, t).unwrap_err(),
            PlaceError::NeedsUser(BenignProduct::Slack)
        );
    }

    #[test]
    fn machine_products_tasks_services_and_rundll32_entries() {
        let mut h = host();
        let bob = h.profile_by_name("bob").unwrap().sid.clone();
        let t = h.boot_time.plus_secs(3600);
        for p in BenignProduct::ALL {
            let user = if p.per_user() {
                Some(bob.as_str())
            } else {
                None
            };
            let placed = place(&mut h, p, user, t).unwrap();
            for f in &placed.files {
                assert!(h.files.exists(f), "{p:?} {f}");
            }
        }
        let core: Vec<_> = h
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("GoogleUpdateTaskMachineCore"))
            .collect();
        assert_eq!(core.len(), 1);
        let suffix = &core[0].name["GoogleUpdateTaskMachineCore".len()..];
        assert_eq!(suffix.len(), 15);
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            core[0].actions[0].command_line(),
            r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe /c"
        );
        assert_eq!(
            h.tasks.get("GoogleUpdateTaskMachineUA").unwrap().actions[0].arguments,
            "/ua /installsource scheduler"
        );
        assert_eq!(
            h.services.get("gupdate").unwrap().image_path,
            r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#
        );
        assert_eq!(
            h.services.get("gupdatem").unwrap().image_path,
            r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /medsvc"#
        );
        // a product's service install is in the System log like any other
        let installs: Vec<_> = h
            .event_logs
            .log(super::super::eventlog::LogName::System)
            .records()
            .filter(|r| r.event_id == 7045)
            .collect();
        let gupdate = installs
            .iter()
            .find(|r| r.property("ImagePath").is_some_and(|i| i.ends_with("/svc")))
            .expect("gupdate's 7045");
        assert_eq!(gupdate.time_created, t);
        assert_eq!(gupdate.property("StartType"), Some("auto start"));
        assert!(
            h.tasks
                .iter()
                .any(|t| t.name.starts_with("MicrosoftEdgeUpdateTaskMachineCore{"))
        );
        assert_eq!(
            h.tasks.get(r"\Adobe Acrobat Update Task").unwrap().actions[0].path,
            r"C:\Program Files (x86)\Common Files\Adobe\ARM\1.0\AdobeARM.exe"
        );
        assert_eq!(
            h.services.get("AdobeARMservice").unwrap().state,
            ServiceState::Running
        );
        let run = hklm(paths::RUN);
        assert_eq!(
            h.registry
                .get_value(&run, "Logitech Download Assistant")
                .unwrap()
                .as_str(),
            Some(r"C:\Windows\system32\rundll32.exe C:\Windows\System32\LogiLDA.dll,LogiFetch")
        );
        assert!(
            h.registry
                .get_value(&run, "LenovoSpectrum")
                .unwrap()
                .as_str()
                .unwrap()
                .ends_with("Spectrum_Core.dll,RunDLL")
        );
        assert!(
            h.registry
                .get_value(&hklm(paths::RUN_ONCE), "wextract_cleanup0")
                .unwrap()
                .as_str()
                .unwrap()
                .starts_with(r"rundll32.exe C:\WINDOWS\system32\advpack.dll,DelNodeRunDLL32 ")
        );
        let ff = h
            .tasks
            .get(r"\Mozilla\Firefox Default Browser Agent 308046B0AF4A39CB")
            .unwrap();
        assert_eq!(ff.actions[0].arguments, "do-task \"308046B0AF4A39CB\"");
        assert_eq!(
            h.files
                .get(r"C:\Windows\System32\LogiLDA.dll")
                .unwrap()
                .signer()
                .unwrap()
                .subject
                .as_ref(),
            "Logitech Inc"
        );
        // deterministic per host
        let mut h2 = host();
        let p2 = place(&mut h2, BenignProduct::GoogleUpdate, None, t).unwrap();
        assert!(p2.tasks.contains(&core[0].path()));
    }
}
