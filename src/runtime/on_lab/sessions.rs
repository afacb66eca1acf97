//! cauterize's host-side runtime reading who is logged on before a
//! reboot (`LoggedOnUsers`), on the engine against a lab host: the real
//! script text, the job from the Rust encoder, the answer read by the Rust
//! parser, checked against the host's sessions (the lab's ground truth).

use crate::lab::contract_host as fixture;
use crate::lab::powershell::tests::run_on;
use crate::lab::world::{HostState, Process};
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::Power;
use crate::runtime::power::{LoggedOnUser, logged_on_users};
use crate::runtime::results::{Frames, Limits, parse};

fn answer(h: &mut HostState, version: &str) -> Frames {
    let items = [JobItem::Power(Power::LoggedOnUsers)];
    let r = run_on(h, version, &job::payload(&items));
    assert!(r.err.is_empty(), "{version}: stderr: {}\nstdout: {}", r.err, r.out);
    parse(&r.out, 1, &Limits::default()).unwrap_or_else(|e| panic!("{version}: {e}: {}", r.out))
}

fn users_on(h: &mut HostState, version: &str) -> Vec<LoggedOnUser> {
    logged_on_users(&answer(h, version), 0).unwrap_or_else(|e| panic!("{version}: {e}"))
}

fn sid_of(h: &HostState, name: &str) -> String {
    h.profile_by_name(name).map(|p| p.sid.clone()).expect("profile")
}

/// The console user is read from the owners of its session's processes;
/// what runs in that session as SYSTEM or as Window Manager's DWM-1
/// (csrss, winlogon, dwm) is no user, nor is a process of a user who is
/// not logged on (a task started it in session 0). Logged off, the user is
/// gone from the answer; another user's logon shows in their own session.
/// On Windows PowerShell 2.0 and 5.1 (the bootstrap starts
/// powershell.exe, which is Windows PowerShell).
#[test]
fn logged_on_users_are_the_owners_of_interactive_sessions() {
    for version in ["2.0", "5.1.19041.1"] {
        let mut h = fixture::host();
        let (alice, petr) = (sid_of(&h, "alice"), sid_of(&h, "Пётр"));
        let now = h.boot_time;
        let dwm = Process::new(r"C:\Windows\System32\dwm.exe", r#""dwm.exe""#, r"Window Manager\DWM-1", "S-1-5-90-0-1").with_session(1);
        h.processes.spawn(dwm, now);
        let session = h.session_of(&petr);
        assert_eq!(session, 0, "Пётр is not logged on");
        let task = Process::new(r"C:\Tools\sync.exe", "sync.exe", r"CORP\Пётр", &petr).with_session(session);
        h.processes.spawn(task, now);

        let users = users_on(&mut h, version);
        assert_eq!(users.len(), 1, "{version}: {users:?}");
        assert_eq!((users[0].sid.as_str(), users[0].session), (alice.as_str(), 1), "{version}");
        assert!(users[0].name.ends_with(r"\alice"), "{version}: {users:?}");

        h.logoff(&alice);
        assert_eq!(users_on(&mut h, version), vec![], "{version}: alice logged off");

        h.logon(&petr, now).expect("logon");
        let users = users_on(&mut h, version);
        assert_eq!(users.len(), 1, "{version}: {users:?}");
        assert_eq!(users[0].sid, petr, "{version}");
        assert!(users[0].name.ends_with(r"\Пётр"), "{version}: {users:?}");
        assert_ne!(users[0].session, 0, "{version}");
    }
}

/// PowerShell 7 has no Get-WmiObject: the answer is the item's error,
/// which the Rust side reads as "cannot tell", never as "nobody is logged
/// on" (the engine then sets the host aside under `skip` and `wait`).
#[test]
fn without_get_wmiobject_the_answer_is_an_error_never_nobody() {
    let mut h = fixture::host();
    let frames = answer(&mut h, "7.4.1");
    let why = crate::runtime::assemble::item_error(&frames, 0).expect("an error");
    assert!(why.contains("Get-WmiObject"), "{why}");
    assert!(logged_on_users(&frames, 0).is_err());
}
