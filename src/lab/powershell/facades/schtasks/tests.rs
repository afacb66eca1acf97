//! `schtasks.exe` run through the engine on a lab host: listings in each
//! format, and the task store changed by /change, /delete and /run, with
//! schtasks' exit codes and texts.

use crate::lab::powershell::tests::{host, run_as, run_with};
use crate::lab::world::tasks::{ExecAction, Principal, Task, Trigger};
use crate::lab::world::{HostState, LabTime};

/// Two tasks of the lab's own: `\CzOnce` (SYSTEM, one run at 13:00 UTC
/// on the lab's first day) and `\Cz\Logon` (a user's, at logon).
fn plant(h: &mut HostState) {
    let once = Task::new("\\", "CzOnce", Principal::system())
        .with_action(ExecAction::new(r"C:\Windows\System32\cmd.exe", "/c echo"))
        .with_trigger(Trigger::Time { start: LabTime::EPOCH.plus_secs(4 * 3600), end: None, repetition: None })
        .with_author("LAB\\admin");
    h.tasks.register(once, false).unwrap();
    let logon = Task::new(r"\Cz", "Logon", Principal::user(r"LAB\dave"))
        .with_action(ExecAction::new("notepad.exe", ""))
        .with_trigger(Trigger::Logon { user: None, repetition: None });
    h.tasks.register(logon, false).unwrap();
}

/// `/query /fo csv` gives the full path, next run and status, its header
/// once per folder; `/nh` drops the headers; `/fo list` and the table
/// name the folder; `/tn` picks one task; `/v` adds the verbose columns.
#[test]
fn query_lists_tasks_in_each_format() {
    let script = r#"
$v = schtasks /query /fo list /v /tn CzOnce
$d = @($v | Where-Object { $_ -like 'Start Date:*' })[0] -replace '^Start Date:\s+', ''
$t = @($v | Where-Object { $_ -like 'Start Time:*' })[0] -replace '^Start Time:\s+', ''
$d + ' ' + $t
$o = schtasks /query /fo csv; $LASTEXITCODE
$o | Where-Object { $_ -like '*Cz*' }
@($o | Where-Object { $_ -eq '"TaskName","Next Run Time","Status"' }).Count -ge 2
$o = schtasks /query /fo csv /nh; @($o | Where-Object { $_ -like '"TaskName"*' }).Count
$o = schtasks /query /tn CzOnce; $o[1]; $o[2].TrimEnd(); $o[3].Split(' ')[0].Length; $o[4].TrimEnd()
$o = schtasks /query /fo LIST /tn '\Cz\Logon'; ($o | Where-Object { $_ }) -replace '\s+', ' '
$o = schtasks /query /fo csv /v /tn CzOnce; $o[0].Split(',').Count; $o[1].Split(',')[5,6,7,8,15,19] -join '|'
"#;
    let (r, _) = run_with("5.1.19041.1", plant, script);
    assert!(r.err.is_empty(), "{}", r.err);
    let name = &host().0.name;
    // The one run (4 lab hours after the lab's start) as the trigger's
    // own start date and time show it on the host's clock: not `Get-Date`
    // plus 4 hours, because the host's clock runs on while the test sets
    // up (seconds under load, which made this test flaky).
    let lines = r.lines();
    let at = lines.first().copied().unwrap_or_default();
    assert_eq!(
        lines[1..],
        [
            "0".to_string(),
            format!("\"\\CzOnce\",\"{at}\",\"Ready\""),
            "\"\\Cz\\Logon\",\"N/A\",\"Ready\"".into(),
            "True".into(),
            "0".into(),
            "Folder: \\".into(),
            "TaskName                                 Next Run Time          Status".into(),
            "40".into(),
            format!("{:<40} {at:<22} Ready", "CzOnce"),
            "Folder: \\Cz".into(),
            format!("HostName: {name}"),
            "TaskName: \\Cz\\Logon".into(),
            "Next Run Time: N/A".into(),
            "Status: Ready".into(),
            "Logon Mode: Interactive/Background".into(),
            "28".into(),
            "\"11/30/1999 12:00:00 AM\"|\"267011\"|\"LAB\\admin\"|\"C:\\Windows\\System32\\cmd.exe /c echo\"|\"SYSTEM\"|\"One Time Only\"".into(),
        ]
    );
}

/// /change disables and enables a task; /run starts its action as SYSTEM
/// and records the run (a disabled task is refused); /delete without /f
/// deletes nothing and fails, with /f deletes; an unknown task and an
/// unknown option fail as schtasks fails.
#[test]
fn change_run_and_delete_change_the_store() {
    let script = r#"
$o = schtasks /change /tn CzOnce /disable; "$LASTEXITCODE $o"
$e = schtasks /run /tn CzOnce 2>&1; "$LASTEXITCODE $e"
schtasks /change /tn CzOnce /ENABLE | Out-Null; $LASTEXITCODE
$o = schtasks /run /tn CzOnce; "$LASTEXITCODE $o"
$o = schtasks /query /fo csv /v /tn CzOnce; $o[1].Split(',')[6]
$e = schtasks /delete /tn '\Cz\Logon' 2>&1; $LASTEXITCODE
$o = schtasks /delete /tn '\Cz\Logon' /f; "$LASTEXITCODE $o"
$e = schtasks /delete /tn '\Cz\Logon' /f 2>&1; "$LASTEXITCODE $e"
$e = schtasks /query /x 2>&1; "$LASTEXITCODE $($e -join '|')"
$e = schtasks /change /tn CzOnce /st 10:00 2>&1; "$LASTEXITCODE $e"
$e = schtasks /end /tn CzOnce 2>&1; "$LASTEXITCODE $e"
"#;
    let (r, world) = run_with("5.1.19041.1", plant, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            "0 SUCCESS: The parameters of scheduled task \"CzOnce\" have been changed.",
            "1 ERROR: The task is disabled.",
            "0",
            "0 SUCCESS: Attempted to run the scheduled task \"CzOnce\".",
            "\"0\"",
            "1",
            "0 SUCCESS: The scheduled task \"\\Cz\\Logon\" was successfully deleted.",
            "1 ERROR: The system cannot find the file specified.",
            "1 ERROR: Invalid argument/option - '/x'.|Type \"SCHTASKS /QUERY /?\" for usage.",
            "1 The cauterize lab's schtasks.exe does not support '/change /st'.",
            "1 The cauterize lab's schtasks.exe does not support '/end'.",
        ]
    );
    assert!(world.tasks.get(r"\Cz\Logon").is_none());
    let once = world.tasks.get("CzOnce").unwrap();
    assert!(once.enabled && once.last_run.is_some());
    let cmd = world.processes.iter().filter(|p| p.image.to_lowercase().ends_with(r"\cmd.exe") && p.command_line.contains("/c echo")).count();
    assert_eq!(cmd, 1);
}

/// Without /f the task stays; a non-administrator may not disable a
/// SYSTEM task.
#[test]
fn unanswered_prompt_and_access_denied_leave_tasks_alone() {
    let mut w = host().1.clone();
    plant(&mut w);
    let r = run_as(&mut w, "5.1.19041.1", false, "$e = schtasks /change /tn CzOnce /disable 2>&1; \"$LASTEXITCODE $e\"\n$o = schtasks /delete /tn CzOnce; $LASTEXITCODE");
    assert_eq!(r.lines(), ["1 ERROR: Access is denied.", "1"], "{}", r.err);
    assert!(w.tasks.get("CzOnce").is_some_and(|t| t.enabled));
    let r = run_as(&mut w, "5.1.19041.1", true, "$o = schtasks /delete /tn CzOnce 2>$null; $LASTEXITCODE; $o");
    assert_eq!(r.lines(), ["1", "WARNING: Are you sure you want to remove the task \"CzOnce\" (Y/N)? "], "{}", r.err);
    assert!(w.tasks.get("CzOnce").is_some());
}
