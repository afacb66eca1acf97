//! Restarts asked for over WinRM as cauterize asks (cmd.exe lines and its
//! bootstrap), end to end through the lab's command
//! emulation: `shutdown.exe` from cmd and from PowerShell (the bootstrap's
//! way in), `Restart-Computer`, and what each answers.

use crate::lab::emulate::power::{PowerAction, Shutdown};
use crate::lab::emulate::tests::{decoded_stderr, exec_scheduling, host, stdout};
use crate::lab::emulate::{CommandRequest, CommandResult};
use crate::lab::spec::LabSettings;
use crate::runtime::bootstrap;

/// Run a cmd.exe line (as pywinrm's `run_cmd` sends it) on a host with
/// `pending` scheduled.
fn cmd(line: &str, pending: &mut Option<Shutdown>) -> CommandResult {
    exec_scheduling(
        &host(),
        &CommandRequest {
            command: line,
            args: &[],
            user: "LAB\\cauterize",
            stdin: b"",
        },
        pending,
    )
}

/// Run a PowerShell script as cauterize's bootstrap delivers it.
fn ps(script: &str, pending: &mut Option<Shutdown>) -> CommandResult {
    let args = bootstrap::bootstrap_args();
    let stdin = bootstrap::encode_payload(script);
    let request = CommandRequest {
        command: bootstrap::POWERSHELL_EXE,
        args: &args,
        user: "LAB\\cauterize",
        stdin: &stdin,
    };
    exec_scheduling(&host(), &request, pending)
}

/// Stderr as read, with PowerShell's wrapping at the host width undone.
fn unwrapped(r: &CommandResult) -> String {
    decoded_stderr(r).replace(['\r', '\n'], "")
}

fn start() -> crate::lab::world::LabTime {
    LabSettings::default().start
}

#[test]
fn shutdown_from_cmd_schedules_a_restart_after_its_time_out() {
    let mut pending = None;
    let r = cmd("shutdown /r /t 5 /c \"Removing Emotet\"", &mut pending);
    assert_eq!(
        (r.exit_code, r.stdout.is_empty(), r.stderr.is_empty()),
        (0, true, true)
    );
    assert_eq!(
        pending,
        Some(Shutdown {
            at: start().plus_secs(5),
            action: PowerAction::Restart,
            comment: "Removing Emotet".into()
        })
    );
    // Through `cmd /c` too, and the abort within the countdown.
    let again = cmd("cmd /c shutdown.exe -r -t 60", &mut pending);
    assert_eq!(again.exit_code, 1190);
    assert_eq!(
        cmd("C:\\Windows\\System32\\shutdown.exe /a", &mut pending).exit_code,
        0
    );
    assert_eq!(pending, None);
}

#[test]
fn shutdown_from_powershell_runs_as_a_native_command() {
    let mut pending = None;
    let r = ps("shutdown /r /t 5 /f; $LASTEXITCODE", &mut pending);
    assert_eq!(r.exit_code, 0, "{}", decoded_stderr(&r));
    assert_eq!(stdout(&r), "0\r\n");
    assert_eq!(pending.as_ref().map(|s| s.at), Some(start().plus_secs(5)));
    // Nothing to abort: shutdown.exe's message as a NativeCommandError, and
    // the bootstrap exits with the program's exit code ($LASTEXITCODE).
    let mut none = None;
    let r = ps("shutdown /a", &mut none);
    assert_eq!(r.exit_code, 1116);
    let text = decoded_stderr(&r);
    assert!(
        text.contains("shutdown : Unable to abort the system shutdown because no shutdown was in progress.(1116)"),
        "{text}"
    );
    assert!(text.contains("NativeCommandError"), "{text}");
    // Out of range: the usage text on stdout, exit code 1 in $LASTEXITCODE.
    let r = ps("shutdown /r /t 999999999; $LASTEXITCODE", &mut none);
    assert!(stdout(&r).starts_with("Usage: shutdown"), "{}", stdout(&r));
    assert!(stdout(&r).ends_with("\r\n1\r\n"), "{}", stdout(&r));
    assert_eq!(none, None);
}

#[test]
fn restart_computer_needs_force_while_someone_is_logged_on() {
    // The lab's workstation has its console user logged on.
    let mut pending = None;
    let r = ps("Restart-Computer", &mut pending);
    assert_eq!(r.exit_code, 1);
    let text = unwrapped(&r);
    assert!(
        text.contains(
            "Restart-Computer : Failed to restart the computer WS-001 with the following error message: The system \
             shutdown cannot be initiated because there are other users logged on to the computer."
        ),
        "{text}"
    );
    assert_eq!(pending, None);
    let r = ps(
        "Restart-Computer -Force -ComputerName localhost -Confirm:$false",
        &mut pending,
    );
    assert_eq!(r.exit_code, 0, "{}", decoded_stderr(&r));
    assert_eq!(
        pending.as_ref().map(|s| (s.at, s.action)),
        Some((start(), PowerAction::Restart))
    );
    let r = ps("Restart-Computer -f", &mut pending);
    assert!(
        unwrapped(&r).contains("error message: A system shutdown is in progress."),
        "{}",
        unwrapped(&r)
    );
}

#[test]
fn restart_computer_elsewhere_or_waiting_is_not_pretended() {
    for script in [
        "Restart-Computer -ComputerName DC01 -Force",
        "Restart-Computer -Force -Wait",
        "Restart-Computer -WhatIf",
    ] {
        let mut pending = None;
        let r = ps(script, &mut pending);
        assert_eq!(r.exit_code, 1, "{script}");
        assert!(
            decoded_stderr(&r).contains("does not support"),
            "{script}: {}",
            decoded_stderr(&r)
        );
        assert_eq!(pending, None, "{script}");
    }
}
