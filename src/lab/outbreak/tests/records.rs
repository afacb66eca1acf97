//! What a spread leaves on the peer as Windows would keep it: the
//! Security log's network logon (4624, type 3, from the source's name and
//! address), the System log's service install (7045) or the Task
//! Scheduler log's task registration (106, only where that log is on), and
//! the bytes the copy carries (the source's own for the families that copy
//! themselves).

use super::*;
use crate::lab::world::eventlog::{EventRecord, LogName, SCM_PROVIDER, SECURITY_PROVIDER, TASK_PROVIDER};

fn pair() -> Vec<NetHost> {
    vec![
        ws(0, "Shared1!", true, true, Role::Workstation),
        ws(1, "Shared1!", true, true, Role::Workstation),
    ]
}

fn sha(h: &NetHost, path: &str) -> [u8; 32] {
    h.state.files.get(path).and_then(|e| e.sha256()).unwrap_or_else(|| panic!("{path} is not a file"))
}

fn records(h: &NetHost, log: LogName, id: u32) -> Vec<&EventRecord> {
    h.state.event_logs.log(log).records().filter(|r| r.event_id == id).collect()
}

fn prop<'a>(r: &'a EventRecord, name: &str) -> &'a str {
    r.property(name).unwrap_or_else(|| panic!("{} {} has no {name}", r.log.name(), r.event_id))
}

/// The peer's one 4624 is a network logon from `hosts[0]`.
fn assert_logon_from_source(hosts: &[NetHost], at: LabTime) {
    let logons = records(&hosts[1], LogName::Security, 4624);
    assert_eq!(logons.len(), 1, "{logons:?}");
    let l = logons[0];
    assert_eq!((l.provider.as_str(), l.time_created), (SECURITY_PROVIDER, at));
    assert_eq!(prop(l, "LogonType"), "3");
    assert_eq!(prop(l, "IpAddress"), addr(0).to_string());
    assert_eq!(prop(l, "WorkstationName"), "WS-00000");
    assert_eq!(prop(l, "TargetUserName"), "Administrator");
    assert_eq!(prop(l, "TargetDomainName"), "WS-00001");
    let sid = prop(l, "TargetUserSid");
    assert!(sid.ends_with("-500") && sid == hosts[1].state.local_admin_sid(), "{sid}");
    assert_ne!(sid, hosts[0].state.local_admin_sid(), "a local account is the peer's own");
}

#[test]
fn an_admin_share_spread_leaves_a_network_logon_and_a_service_install_and_carries_the_sources_bytes() {
    for family in [Family::Emotet, Family::TrickBot] {
        let mut hosts = pair();
        let mut e = Engine::new(8, OutbreakConfig::default());
        e.seed_infection(&mut hosts, 0, &FamilyProfile::documented(family), T0);
        assert!(records(&hosts[1], LogName::Security, 4624).is_empty());
        let at = T0.plus_secs(120);
        kind(e.attempt_spread(&mut hosts, 0, 1, at));
        let inf = &hosts[1].infections[0];
        let Origin::Spread {
            delivery: Delivery::AdminShareService { copy, service, image_path, .. },
            ..
        } = &inf.origin
        else {
            panic!("{family}: {:?}", inf.origin)
        };
        assert_logon_from_source(&hosts, at);
        let installs = records(&hosts[1], LogName::System, 7045);
        let temp = installs
            .iter()
            .find(|r| r.property("ImagePath") == Some(image_path.as_str()))
            .unwrap_or_else(|| panic!("{family}: no 7045 for {image_path}: {installs:?}"));
        assert_eq!((temp.provider.as_str(), temp.time_created), (SCM_PROVIDER, at));
        assert_eq!(prop(temp, "ServiceName"), service);
        assert_eq!(prop(temp, "ServiceType"), "user mode service");
        assert_eq!(prop(temp, "StartType"), "demand start");
        assert_eq!(prop(temp, "AccountName"), "LocalSystem");
        assert!(hosts[1].state.event_logs.log(LogName::TaskSchedulerOperational).is_empty());
        // the same file travelled: the source's payload, the copy and what it installed
        let source = &hosts[0].infections[0];
        let installed = &inf.payloads[0];
        assert_ne!(installed, copy);
        let bytes = sha(&hosts[0], &source.payloads[0]);
        assert_eq!(sha(&hosts[1], copy), bytes, "{family}: the copy is the source's file");
        assert_eq!(sha(&hosts[1], installed), bytes, "{family}: it installs itself");
        assert_eq!(inf.samples[0].1, source.samples[0].1, "{family}: an IOC feed knows both as one sample");
    }
}

#[test]
fn a_qakbot_spread_runs_its_copy_by_service_or_remote_task_and_the_task_log_records_it_only_when_on() {
    let (mut by_task_on, mut by_task_off, mut by_service) = (0, 0, 0);
    for seed in 0..24 {
        for log_on in [false, true] {
            let mut hosts = pair();
            hosts[1].state.event_logs.log_mut(LogName::TaskSchedulerOperational).enabled = log_on;
            let mut e = Engine::new(seed, OutbreakConfig::default());
            e.seed_infection(&mut hosts, 0, &FamilyProfile::documented(Family::Qakbot), T0);
            let at = T0.plus_secs(300);
            kind(e.attempt_spread(&mut hosts, 0, 1, at));
            let inf = &hosts[1].infections[0];
            assert_logon_from_source(&hosts, at);
            let Origin::Spread { delivery, .. } = &inf.origin else { panic!("{:?}", inf.origin) };
            let task_records = records(&hosts[1], LogName::TaskSchedulerOperational, 106);
            let copy = match delivery {
                Delivery::AdminShareTask { task, command, copy, .. } => {
                    assert!(task.starts_with(r"\{") && task.ends_with('}'), "{task}");
                    let ours: Vec<_> = task_records.iter().filter(|r| r.property("TaskName") == Some(task.as_str())).collect();
                    if log_on {
                        assert_eq!(ours.len(), 1, "{task_records:?}");
                        assert_eq!((ours[0].provider.as_str(), ours[0].time_created), (TASK_PROVIDER, at));
                        assert_eq!(prop(ours[0], "UserContext"), r"WS-00001\Administrator");
                        by_task_on += 1;
                    } else {
                        assert!(task_records.is_empty(), "the log is off: {task_records:?}");
                        by_task_off += 1;
                    }
                    assert!(
                        !records(&hosts[1], LogName::System, 7045).iter().any(|r| r.property("ImagePath") == Some(command.as_str())),
                        "a task is no service"
                    );
                    copy
                }
                Delivery::AdminShareService { image_path, copy, .. } => {
                    assert!(records(&hosts[1], LogName::System, 7045).iter().any(|r| r.property("ImagePath") == Some(image_path.as_str())));
                    by_service += 1;
                    copy
                }
                d => panic!("{d:?}"),
            };
            // Qakbot's bytes differ from host to host
            let theirs: Vec<[u8; 32]> = hosts[0].infections[0]
                .payloads
                .iter()
                .filter_map(|p| hosts[0].state.files.get(p).and_then(|e| e.sha256()))
                .collect();
            assert!(!theirs.contains(&sha(&hosts[1], copy)));
        }
    }
    assert!(by_task_on > 0 && by_task_off > 0 && by_service > 0, "{by_task_on} {by_task_off} {by_service}");
}

#[test]
fn eternalblue_logs_no_logon_and_no_install_yet_the_loader_is_the_sources() {
    let mut hosts = vec![
        ws(0, "Alpha1!", true, true, Role::Workstation),
        ws(1, "Bravo2!", true, false, Role::Workstation),
    ];
    let mut e = Engine::new(9, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &FamilyProfile::documented(Family::TrickBot), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(5)));
    assert!(matches!(k, EventKind::Spread { vector: Vector::Ms17010, .. }), "{k:?}");
    assert!(hosts[1].state.event_logs.log(LogName::Security).is_empty());
    assert!(records(&hosts[1], LogName::System, 7045).is_empty());
    let (src, dst) = (&hosts[0].infections[0], &hosts[1].infections[0]);
    assert_eq!(sha(&hosts[1], &dst.payloads[0]), sha(&hosts[0], &src.payloads[0]));
}

#[test]
fn a_harvested_domain_credential_logs_on_as_the_domains_administrator() {
    let mut hosts = vec![
        ws(0, "Alpha1!", true, true, Role::Workstation),
        ws(1, "Bravo2!", true, true, Role::Workstation),
    ];
    hosts[0].harvested_domain_creds = true;
    let mut e = Engine::new(3, OutbreakConfig::default());
    e.seed_infection(&mut hosts, 0, &FamilyProfile::documented(Family::Emotet), T0);
    let k = kind(e.attempt_spread(&mut hosts, 0, 1, T0.plus_secs(5)));
    assert!(matches!(k, EventKind::Spread { vector: Vector::HarvestedDomainCred, .. }), "{k:?}");
    let l = records(&hosts[1], LogName::Security, 4624);
    assert_eq!(l.len(), 1);
    let domain = hosts[1].state.domain.to_ascii_uppercase();
    assert_eq!(prop(l[0], "TargetDomainName"), domain);
    assert_eq!(prop(l[0], "TargetUserName"), "Administrator");
    assert_ne!(prop(l[0], "TargetUserSid"), hosts[1].state.local_admin_sid());
    assert_eq!(prop(l[0], "IpAddress"), addr(0).to_string());
}
