//! Windows event logs of one host, as Windows keeps them: each log a
//! bounded ring (when it is full the oldest records are overwritten, the
//! default retention "overwrite events as needed"), records numbered by
//! an `EventRecordID` that only grows, each with its provider, event ID,
//! time created and the named properties Windows puts in its `EventData`.
//!
//! Three logs are modelled, the ones lateral movement leaves records in:
//! `System` (Service Control Manager 7045, "A service was installed in the
//! system"), `Security` (Microsoft-Windows-Security-Auditing 4624, "An
//! account was successfully logged on"; logon success is audited by
//! default) and `Microsoft-Windows-TaskScheduler/Operational` (106, "Task
//! registered"), which is disabled by default on client Windows (Task
//! Scheduler's "Enable All Tasks History"): a disabled log takes no
//! records. Security 4698 ("A scheduled task was created") is written only
//! where object-access auditing is on (`EventLogs::audit_tasks`).
//!
//! Windows bounds a log by size (`MaxSize`: 20 MB for System and Security
//! on current Windows, 10 MB for the Task Scheduler log); the lab bounds
//! it by records, its defaults standing for those sizes at about 1 KB a
//! record. The records' text is what the writer put in; nothing here is
//! sanitized, because on a real host nothing is.

use std::collections::VecDeque;

use super::time::LabTime;

/// The logs the lab keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogName {
    System,
    Security,
    TaskSchedulerOperational,
}

impl LogName {
    pub const ALL: [LogName; 3] = [
        LogName::System,
        LogName::Security,
        LogName::TaskSchedulerOperational,
    ];

    /// The name `Get-WinEvent -LogName` takes.
    pub fn name(self) -> &'static str {
        match self {
            LogName::System => "System",
            LogName::Security => "Security",
            LogName::TaskSchedulerOperational => "Microsoft-Windows-TaskScheduler/Operational",
        }
    }

    /// The log named `name` (case-insensitive, as Windows matches it).
    pub fn parse(name: &str) -> Option<LogName> {
        LogName::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }

    /// Records kept by default (see the module doc).
    pub fn default_capacity(self) -> usize {
        match self {
            LogName::System | LogName::Security => 20_000,
            LogName::TaskSchedulerOperational => 10_000,
        }
    }

    /// On at install (the Task Scheduler log is off on client Windows).
    pub fn enabled_by_default(self) -> bool {
        self != LogName::TaskSchedulerOperational
    }
}

/// Provider names as records carry them.
pub const SCM_PROVIDER: &str = "Service Control Manager";
pub const SECURITY_PROVIDER: &str = "Microsoft-Windows-Security-Auditing";
pub const TASK_PROVIDER: &str = "Microsoft-Windows-TaskScheduler";

/// One event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub log: LogName,
    /// `EventRecordID`: 1 for the first record the log ever took.
    pub record_id: u64,
    pub provider: String,
    pub event_id: u32,
    pub time_created: LabTime,
    /// `EventData`'s `<Data Name=...>` values in Windows' order.
    pub properties: Vec<(String, String)>,
}

impl EventRecord {
    /// A property by name (exact, as Windows names them).
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One log: on or off, and its ring.
#[derive(Debug, Clone)]
pub struct EventLog {
    pub enabled: bool,
    capacity: usize,
    records: VecDeque<EventRecord>,
    next_id: u64,
}

impl EventLog {
    pub fn new(enabled: bool, capacity: usize) -> EventLog {
        EventLog {
            enabled,
            capacity: capacity.max(1),
            records: VecDeque::new(),
            next_id: 1,
        }
    }

    /// Records kept now, oldest first.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = &EventRecord> + ExactSizeIterator {
        self.records.iter()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Change the bound; the oldest records beyond it go at once.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.records.len() > self.capacity {
            self.records.pop_front();
        }
    }

    /// Take a record (none when the log is disabled). Returns its
    /// `EventRecordID`.
    fn write(
        &mut self,
        log: LogName,
        provider: &str,
        event_id: u32,
        at: LabTime,
        properties: Vec<(String, String)>,
    ) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        let record_id = self.next_id;
        self.next_id += 1;
        self.records.push_back(EventRecord {
            log,
            record_id,
            provider: provider.into(),
            event_id,
            time_created: at,
            properties,
        });
        Some(record_id)
    }
}

/// The host's logs.
#[derive(Debug, Clone)]
pub struct EventLogs {
    logs: [EventLog; 3],
    /// "Audit Other Object Access Events" is on: task creation is
    /// recorded in the Security log (4698). Off by default.
    pub audit_tasks: bool,
}

impl Default for EventLogs {
    fn default() -> Self {
        EventLogs {
            logs: LogName::ALL.map(|l| EventLog::new(l.enabled_by_default(), l.default_capacity())),
            audit_tasks: false,
        }
    }
}

fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
        .collect()
}

/// A 4624 network logon (type 3) as the Security log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkLogon<'a> {
    pub target_user_sid: &'a str,
    pub target_user_name: &'a str,
    pub target_domain_name: &'a str,
    /// The client's NetBIOS name as NTLM sent it.
    pub workstation_name: &'a str,
    pub ip_address: &'a str,
    pub ip_port: u16,
}

impl EventLogs {
    pub fn log(&self, name: LogName) -> &EventLog {
        &self.logs[name as usize]
    }

    pub fn log_mut(&mut self, name: LogName) -> &mut EventLog {
        &mut self.logs[name as usize]
    }

    /// Every record of every log, each log oldest first.
    pub fn all(&self) -> impl Iterator<Item = &EventRecord> {
        self.logs.iter().flat_map(|l| l.records())
    }

    /// System 7045 for a service just installed. Windows puts the
    /// service's display name in `ServiceName` and the type and start type
    /// as text.
    pub fn service_installed(
        &mut self,
        at: LabTime,
        display_name: &str,
        image_path: &str,
        service_type: &str,
        start_type: &str,
        account: &str,
    ) -> Option<u64> {
        let p = props(&[
            ("ServiceName", display_name),
            ("ImagePath", image_path),
            ("ServiceType", service_type),
            ("StartType", start_type),
            ("AccountName", account),
        ]);
        self.log_mut(LogName::System)
            .write(LogName::System, SCM_PROVIDER, 7045, at, p)
    }

    /// Security 4624, logon type 3, authenticated by NTLM (what an SMB
    /// session or a WinRM shell with a password or its hash gives). Every
    /// field of the event's template, in its order (version 2, Windows 10
    /// and Server 2016 on; earlier versions stop after `IpPort` or
    /// `ImpersonationLevel`): readers that take data by position see what
    /// they would on Windows.
    pub fn network_logon(&mut self, at: LabTime, l: &NetworkLogon<'_>) -> Option<u64> {
        let port = l.ip_port.to_string();
        let logon_id = format!("0x{:x}", 0x3e7_0000u64 + self.log(LogName::Security).next_id);
        let p = props(&[
            ("SubjectUserSid", "S-1-0-0"),
            ("SubjectUserName", "-"),
            ("SubjectDomainName", "-"),
            ("SubjectLogonId", "0x0"),
            ("TargetUserSid", l.target_user_sid),
            ("TargetUserName", l.target_user_name),
            ("TargetDomainName", l.target_domain_name),
            ("TargetLogonId", &logon_id),
            ("LogonType", "3"),
            ("LogonProcessName", "NtLmSsp "),
            ("AuthenticationPackageName", "NTLM"),
            ("WorkstationName", l.workstation_name),
            ("LogonGuid", "{00000000-0000-0000-0000-000000000000}"),
            ("TransmittedServices", "-"),
            ("LmPackageName", "NTLM V2"),
            ("KeyLength", "128"),
            ("ProcessId", "0x0"),
            ("ProcessName", "-"),
            ("IpAddress", l.ip_address),
            ("IpPort", &port),
            ("ImpersonationLevel", "%%1833"),
            ("RestrictedAdminMode", "-"),
            ("TargetOutboundUserName", "-"),
            ("TargetOutboundDomainName", "-"),
            ("VirtualAccount", "%%1843"),
            ("TargetLinkedLogonId", "0x0"),
            ("ElevatedToken", "%%1842"),
        ]);
        self.log_mut(LogName::Security)
            .write(LogName::Security, SECURITY_PROVIDER, 4624, at, p)
    }

    /// Security 4698 "A scheduled task was created", written only where
    /// object-access auditing of other objects is on (`audit_tasks`; off
    /// by default): the subject who registered it and the task's path.
    pub fn task_created(&mut self, at: LabTime, subject_sid: &str, subject_user: &str, subject_domain: &str, task_path: &str) -> Option<u64> {
        if !self.audit_tasks {
            return None;
        }
        let p = props(&[
            ("SubjectUserSid", subject_sid),
            ("SubjectUserName", subject_user),
            ("SubjectDomainName", subject_domain),
            ("SubjectLogonId", "0x3e7"),
            ("TaskName", task_path),
            ("TaskContent", ""),
        ]);
        self.log_mut(LogName::Security)
            .write(LogName::Security, SECURITY_PROVIDER, 4698, at, p)
    }

    /// Task Scheduler 106 "Task registered": the task's path and the
    /// account that registered it (`DOMAIN\user`). Nothing when the log is
    /// disabled, as on a default client.
    pub fn task_registered(&mut self, at: LabTime, task_path: &str, user_context: &str) -> Option<u64> {
        let p = props(&[("TaskName", task_path), ("UserContext", user_context)]);
        self.log_mut(LogName::TaskSchedulerOperational).write(
            LogName::TaskSchedulerOperational,
            TASK_PROVIDER,
            106,
            at,
            p,
        )
    }

    /// A task's run in the Task Scheduler log, where that log is on: 100
    /// "Task started" and 200 "Action started" at `started`, 201 "Action
    /// completed" with the action's result code (its exit code) and 102
    /// "Task completed" at `ended`, all with one instance id.
    pub fn task_ran(&mut self, started: LabTime, ended: LabTime, task_path: &str, user_context: &str, action: &str, result: u32) {
        let instance = format!("{{{:08x}-0000-0000-0000-000000000000}}", self.log(LogName::TaskSchedulerOperational).next_id);
        let result = result.to_string();
        let records: [(u32, LabTime, Vec<(&str, &str)>); 4] = [
            (100, started, vec![("TaskName", task_path), ("UserContext", user_context), ("InstanceId", instance.as_str())]),
            (200, started, vec![("TaskName", task_path), ("ActionName", action), ("TaskInstanceId", instance.as_str())]),
            (201, ended, vec![("TaskName", task_path), ("TaskInstanceId", instance.as_str()), ("ActionName", action), ("ResultCode", result.as_str())]),
            (102, ended, vec![("TaskName", task_path), ("UserContext", user_context), ("InstanceId", instance.as_str())]),
        ];
        for (id, at, fields) in records {
            self.log_mut(LogName::TaskSchedulerOperational).write(LogName::TaskSchedulerOperational, TASK_PROVIDER, id, at, props(&fields));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: LabTime = LabTime::EPOCH;

    #[test]
    fn a_full_log_overwrites_its_oldest_records_and_ids_keep_growing() {
        let mut logs = EventLogs::default();
        logs.log_mut(LogName::System).set_capacity(3);
        for i in 0..5 {
            let id = logs.service_installed(
                T0.plus_secs(i),
                &format!("svc{i}"),
                r"C:\Windows\x.exe",
                "user mode service",
                "demand start",
                "LocalSystem",
            );
            assert_eq!(id, Some(i as u64 + 1));
        }
        let sys = logs.log(LogName::System);
        let kept: Vec<_> = sys.records().map(|r| (r.record_id, r.property("ServiceName").unwrap().to_string())).collect();
        assert_eq!(kept, [(3, "svc2".into()), (4, "svc3".into()), (5, "svc4".into())]);
        assert!(logs.log(LogName::Security).is_empty());
    }

    #[test]
    fn the_task_scheduler_log_is_off_by_default_and_takes_nothing_until_enabled() {
        let mut logs = EventLogs::default();
        assert!(!logs.log(LogName::TaskSchedulerOperational).enabled);
        assert_eq!(logs.task_registered(T0, r"\abc", r"CORP\admin"), None);
        assert!(logs.log(LogName::TaskSchedulerOperational).is_empty());
        logs.log_mut(LogName::TaskSchedulerOperational).enabled = true;
        assert_eq!(logs.task_registered(T0, r"\abc", r"CORP\admin"), Some(1));
        let r = logs.log(LogName::TaskSchedulerOperational).records().next().unwrap();
        assert_eq!(
            (r.provider.as_str(), r.event_id, r.property("TaskName"), r.property("UserContext")),
            (TASK_PROVIDER, 106, Some(r"\abc"), Some(r"CORP\admin"))
        );
    }

    #[test]
    fn a_network_logon_carries_what_4624_carries() {
        let mut logs = EventLogs::default();
        logs.network_logon(
            T0,
            &NetworkLogon {
                target_user_sid: "S-1-5-21-1-2-3-500",
                target_user_name: "Administrator",
                target_domain_name: "WS-002",
                workstation_name: "WS-001",
                ip_address: "10.0.0.1",
                ip_port: 49_700,
            },
        );
        let r = logs.log(LogName::Security).records().next().unwrap();
        assert_eq!((r.provider.as_str(), r.event_id, r.time_created), (SECURITY_PROVIDER, 4624, T0));
        for (k, v) in [
            ("LogonType", "3"),
            ("TargetUserName", "Administrator"),
            ("WorkstationName", "WS-001"),
            ("IpAddress", "10.0.0.1"),
            ("IpPort", "49700"),
            ("AuthenticationPackageName", "NTLM"),
        ] {
            assert_eq!(r.property(k), Some(v), "{k}");
        }
        assert_eq!(LogName::parse("microsoft-windows-taskscheduler/operational"), Some(LogName::TaskSchedulerOperational));
    }
}
