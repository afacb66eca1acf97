//! runtime.ps1's event-log read (`Query::Events`) on the engine: what a
//! host's logs recorded of lateral movement (7045, 4624 network logons,
//! 4698, Task Scheduler 106), decoded on the Rust side, with the Security
//! log unreadable to a non-administrator, a log that is off, and every
//! bound (newest N, the days, the text length) reported when hit. No
//! addresses are bound here (the engine runs in-process).

use crate::detect::facts::parse_time;
use crate::lab::contract_host as fixture;
use crate::lab::spec::LabSettings;
use crate::lab::world::HostState;
use crate::lab::world::LabTime;
use crate::lab::world::eventlog::{LogName, NetworkLogon};
use crate::runtime::assemble;
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::{Bounds, EventBounds, Query};
use crate::runtime::results::{Limits, parse};
use crate::runtime::snapshot::{EventKind, EventLogRead, LoggedEvent, Truncation};

const TASK_LOG: &str = "Microsoft-Windows-TaskScheduler/Operational";

fn logon(h: &mut HostState, at: LabTime, from: &str, user: &str) {
    h.event_logs.network_logon(
        at,
        &NetworkLogon {
            target_user_sid: "S-1-5-21-1-2-3-500",
            target_user_name: user,
            target_domain_name: "WS-002",
            workstation_name: "WS-001",
            ip_address: from,
            ip_port: 49_700,
        },
    );
}

/// The logs of a host that was reached: old records beyond the window,
/// five network logons (hostile user name on the newest), a service with
/// an over-long image path, a task in both task logs.
fn reached_host(now: LabTime) -> HostState {
    let mut h = fixture::host();
    h.event_logs.log_mut(LogName::TaskSchedulerOperational).enabled = true;
    h.event_logs.audit_tasks = true;
    h.event_logs.service_installed(now.plus_days(-31), "old", r"C:\old.exe", "user mode service", "demand start", "LocalSystem");
    for i in 0..4 {
        logon(&mut h, now.plus_secs(-600 + i * 60), &format!("10.0.0.{}", i + 1), "Administrator");
    }
    logon(&mut h, now.plus_secs(-300), "::ffff:10.9.9.9", "Пётр\r\nCZR 0 event x=y");
    let long = format!(r#"regsvr32.exe /s "C:\Windows\{}.dll""#, "a".repeat(2000));
    h.event_logs.service_installed(now.plus_secs(-295), "abcdefg", &long, "user mode service", "demand start", "LocalSystem");
    let task = h.event_logs.task_registered(now.plus_secs(-200), r"\{8D3E1A2B-0000}", r"WS-002\Administrator");
    assert!(task.is_some());
    h.event_logs.task_created(now.plus_secs(-200), "S-1-5-21-1-2-3-500", "Administrator", "WS-002", r"\{8D3E1A2B-0000}");
    h
}

fn read(h: &mut HostState, version: &str, admin: bool, bounds: EventBounds) -> (Vec<LoggedEvent>, Vec<EventLogRead>, Vec<Truncation>) {
    let items = [JobItem::Query(Query::Events { bounds })];
    let r = crate::lab::powershell::tests::run_as(h, version, admin, &job::payload(&items));
    assert!(r.err.is_empty(), "{version}: {}", r.err);
    let frames = parse(&r.out, 1, &Limits::from_bounds(&Bounds::default())).unwrap_or_else(|e| panic!("{version}: {e}: {}", r.out));
    assert!(assemble::item_error(&frames, 0).is_none(), "{version}: {:?}", assemble::item_error(&frames, 0));
    assemble::events(&frames, 0)
}

fn state<'a>(logs: &'a [EventLogRead], log: &str, id: u32) -> &'a EventLogRead {
    logs.iter().find(|l| l.log == log && l.event_id == id).unwrap_or_else(|| panic!("no evlog {log} {id}: {logs:?}"))
}

const VERSIONS: [&str; 3] = ["2.0", "5.1.19041.1", "7.4.1"];

#[test]
fn events_are_read_newest_first_within_every_bound_and_decoded_exactly() {
    let now = LabSettings::default().start;
    for version in VERSIONS {
        let mut h = reached_host(now);
        let bounds = EventBounds { max_per_kind: 3, days: 30, max_text_chars: 1024 };
        let (events, logs, cuts) = read(&mut h, version, true, bounds);

        // 4624: the three newest of five, the bound reported as a cut.
        let logons: Vec<(&str, &str, u32)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::NetworkLogon { source_address, account, logon_type } => Some((source_address.as_str(), account.as_str(), *logon_type)),
                _ => None,
            })
            .collect();
        assert_eq!(
            logons,
            [
                ("::ffff:10.9.9.9", "WS-002\\Пётр\r\nCZR 0 event x=y", 3),
                ("10.0.0.4", r"WS-002\Administrator", 3),
                ("10.0.0.3", r"WS-002\Administrator", 3),
            ],
            "{version}"
        );
        let sec = state(&logs, "Security", 4624);
        assert_eq!((sec.state.as_str(), sec.read, sec.cut), ("read", 3, true), "{version}");
        // Times are the host's clock (the engine's runs an offset from lab
        // time): the oldest read is three minutes before the newest.
        let newest = events.iter().find(|e| e.event_id == 4624).unwrap();
        let gap = parse_time(&sec.oldest).unwrap() - parse_time(&newest.at).unwrap();
        assert!((gap + 180.0).abs() < 0.001, "{version}: {gap} {sec:?} {newest:?}");
        assert!(newest.record_id >= 5, "{version}: {newest:?}");

        // 7045: only the one in the window; its image path cut and said so.
        let services: Vec<_> = events.iter().filter(|e| e.event_id == 7045).collect();
        assert_eq!(services.len(), 1, "{version}: the 31-day-old install is outside the window: {services:?}");
        let EventKind::ServiceInstalled { service, image_path, account } = &services[0].kind else { panic!() };
        assert_eq!((service.as_str(), account.as_str(), image_path.chars().count()), ("abcdefg", "LocalSystem", 1024), "{version}");
        assert!(image_path.starts_with(r#"regsvr32.exe /s "C:\Windows\aaa"#), "{version}");
        assert!(cuts.iter().any(|c| c.what.contains("System 7045 ImagePath") && c.limit == "1024 characters"), "{version}: {cuts:?}");
        let sys = state(&logs, "System", 7045);
        assert_eq!((sys.state.as_str(), sys.read, sys.cut), ("read", 1, false), "{version}");

        // The task, from both logs.
        let tasks: Vec<(u32, &str, &str)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::TaskRegistered { task, user } => Some((e.event_id, task.as_str(), user.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            tasks,
            [(4698, r"\{8D3E1A2B-0000}", r"WS-002\Administrator"), (106, r"\{8D3E1A2B-0000}", r"WS-002\Administrator")],
            "{version}"
        );
        assert_eq!(state(&logs, TASK_LOG, 106).state, "read", "{version}");
    }
}

#[test]
fn a_security_log_the_account_may_not_read_is_reported_as_denied_and_the_others_are_read() {
    let now = LabSettings::default().start;
    for version in VERSIONS {
        let mut h = reached_host(now);
        let (events, logs, _) = read(&mut h, version, false, EventBounds::default());
        for id in [4624, 4698] {
            let s = state(&logs, "Security", id);
            assert_eq!((s.state.as_str(), s.read), ("denied", 0), "{version}: {s:?}");
            assert!(s.detail.contains("unauthorized operation"), "{version}: {s:?}");
        }
        assert!(events.iter().all(|e| e.log != "Security"), "{version}");
        assert_eq!(state(&logs, "System", 7045).state, "read", "{version}");
        assert_eq!(events.iter().filter(|e| e.event_id == 7045 || e.event_id == 106).count(), 2, "{version}: {events:?}");
    }
}

#[test]
fn a_log_that_is_off_is_reported_disabled_never_as_quiet() {
    let now = LabSettings::default().start;
    for version in VERSIONS {
        let mut h = fixture::host();
        assert!(!h.event_logs.log(LogName::TaskSchedulerOperational).enabled, "off by default on a client");
        let (events, logs, cuts) = read(&mut h, version, true, EventBounds::default());
        assert!(events.is_empty(), "{version}: {events:?}");
        let t = state(&logs, TASK_LOG, 106);
        assert_eq!((t.state.as_str(), t.read), ("disabled", 0), "{version}: {t:?}");
        // An empty log that is on is read, with nothing in it.
        let s = state(&logs, "System", 7045);
        assert_eq!((s.state.as_str(), s.read, s.cut, s.oldest.as_str()), ("read", 0, false, ""), "{version}");
        assert!(cuts.is_empty(), "{version}: {cuts:?}");
        let _ = now;
    }
}
