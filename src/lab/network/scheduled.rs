//! The Task Scheduler's PowerShell actions: when lab time reaches a
//! task's time trigger (or, with StartWhenAvailable, at the host's next
//! chance after it was off), the scheduler (`malware::autostart`) starts
//! the action; one whose program is powershell.exe (any path or case
//! Windows accepts) leaves its command line here, and the network runs it
//! right after the step that started it: decoded as powershell.exe reads
//! its `-EncodedCommand` or `-Command` (`emulate::launch`), through the
//! lab's PowerShell engine, as the task's principal (SYSTEM: an
//! administrator), on the host's own PowerShell version. The exit code
//! becomes the task's last result, and the Task Scheduler log (where it is
//! on) gets the run's 100, 200, 201 and 102, as Windows writes them.

use crate::lab::emulate::{self, Target};
use crate::lab::emulate::power::Shutdown;
use crate::lab::spec::HostSpec;
use crate::lab::world::HostState;
use crate::lab::world::tasks::StartedScript;

/// How Windows names the SYSTEM account in a process's token.
const SYSTEM: &str = r"NT AUTHORITY\SYSTEM";

/// Run the PowerShell actions host `state` has started, in order; each
/// may schedule or abort a shutdown (`shutdown`). Returns how many ran.
pub fn run_started(spec: &HostSpec, state: &mut HostState, shutdown: &mut Option<Shutdown>) -> usize {
    let started = state.tasks.take_started();
    for run in &started {
        run_one(spec, state, shutdown, run);
    }
    started.len()
}

fn run_one(spec: &HostSpec, state: &mut HostState, shutdown: &mut Option<Shutdown>, run: &StartedScript) {
    let (user, admin) = if run.principal.is_system() {
        (SYSTEM.to_string(), true)
    } else {
        (run.principal.user_id.clone(), run.principal.highest)
    };
    let mut target = Target { host: spec, world: &mut *state, shutdown, now: run.at };
    let result = emulate::run_command_line(&mut target, &user, admin, &run.command_line);
    // powershell.exe's exit code, as the 32 bits Windows keeps.
    let code = result.exit_code as u32;
    if let Some(t) = state.tasks.get_mut(&run.task) {
        t.last_result = Some(code);
    }
    let action = run.command_line.split('"').nth(1).unwrap_or(&run.command_line).to_string();
    state.event_logs.task_ran(run.at, run.at, &run.task, &user, &action, code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::malware::{self, Infection};
    use crate::lab::world::LabTime;
    use crate::lab::world::eventlog::LogName;
    use crate::lab::world::tasks::{ExecAction, Principal, Task, Trigger};

    fn host() -> (HostSpec, HostState) {
        crate::lab::powershell::tests::host().clone()
    }

    /// `-EncodedCommand` of `script` (base64 of UTF-16LE).
    fn encoded(script: &str) -> String {
        use base64::Engine;
        let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn task(name: &str, path: &str, args: &str, at: LabTime) -> Task {
        let mut t = Task::new(r"\Cz", name, Principal::system())
            .with_action(ExecAction::new(path, args))
            .with_trigger(Trigger::Time { start: at, end: None, repetition: None });
        t.registered = LabTime::EPOCH;
        t
    }

    /// Step the scheduler to `now` and run what it started.
    fn step(spec: &HostSpec, state: &mut HostState, now: LabTime) -> usize {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let mut infections: Vec<Infection> = Vec::new();
        malware::tick(state, &mut infections, now, &mut rng);
        run_started(spec, state, &mut None)
    }

    /// A SYSTEM task whose action is powershell.exe, named every way
    /// Windows takes it, runs its script through the PowerShell engine at
    /// its time trigger, not before; its exit code is the last result.
    #[test]
    fn a_powershell_action_runs_its_script_at_the_trigger() {
        let (spec, mut state) = host();
        state.event_logs.log_mut(LogName::TaskSchedulerOperational).enabled = true;
        let at = LabTime::EPOCH.plus_secs(600);
        let script = "$fw = New-Object -ComObject HNetCfg.FwPolicy2; $r = New-Object -ComObject HNetCfg.FWRule; $r.Name = 'ran-' + $env:USERNAME; $r.Direction = 1; $r.Action = 0; $fw.Rules.Add($r); exit 3";
        let forms = [
            ("A", r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe".to_string(), format!("-NoProfile -NonInteractive -WindowStyle Hidden -EncodedCommand {}", encoded(script))),
            ("B", "POWERSHELL.EXE".to_string(), format!("-enc {}", encoded(&script.replace("ran-", "ranB-")))),
            ("C", r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe""#.to_string(), format!("-NoProfile -Command {}", script.replace("ran-", "ranC-"))),
        ];
        for (name, path, args) in &forms {
            state.tasks.register(task(name, path, args, at), false).unwrap();
        }
        assert_eq!(step(&spec, &mut state, at.plus_secs(-1)), 0, "nothing before the trigger");
        let rule = |s: &HostState, name: &str| s.firewall.rules().iter().any(|r| r.name == name);
        assert!(!rule(&state, "ran-SYSTEM"));
        assert_eq!(step(&spec, &mut state, at.plus_secs(30)), 3);
        for name in ["ran-SYSTEM", "ranB-SYSTEM", "ranC-SYSTEM"] {
            assert!(rule(&state, name), "{name}: the script ran as SYSTEM");
        }
        for (name, ..) in &forms {
            let t = state.tasks.get(&format!(r"\Cz\{name}")).unwrap();
            assert_eq!((t.last_run, t.last_result), (Some(at.plus_secs(30)), Some(3)), "{name}");
        }
        // Once: a one-time trigger does not fire again.
        assert_eq!(step(&spec, &mut state, at.plus_secs(3600)), 0);
        let ids: Vec<u32> = state.event_logs.log(LogName::TaskSchedulerOperational).records().map(|e| e.event_id).collect();
        assert_eq!(ids.iter().filter(|i| **i == 201).count(), 3, "{ids:?}");
    }

    /// A deadline passed while the host was off: with StartWhenAvailable
    /// the action runs at the first step after the boot; without, never.
    #[test]
    fn a_missed_trigger_runs_after_boot_only_with_start_when_available() {
        let (spec, mut state) = host();
        let at = LabTime::EPOCH.plus_secs(600);
        let mk = |name: &str, when_available: bool| {
            let mut t = task(name, "powershell.exe", &format!("-EncodedCommand {}", encoded(&format!("$r = New-Object -ComObject HNetCfg.FWRule; $r.Name = '{name}'; $r.Action = 0; (New-Object -ComObject HNetCfg.FwPolicy2).Rules.Add($r)"))), at);
            t.start_when_available = when_available;
            t
        };
        state.tasks.register(mk("Missed", false), false).unwrap();
        state.tasks.register(mk("Late", true), false).unwrap();
        state.shutdown();
        state.boot(at.plus_secs(300));
        assert_eq!(step(&spec, &mut state, at.plus_secs(310)), 1);
        let rule = |name: &str| state.firewall.rules().iter().any(|r| r.name == name);
        assert!(rule("Late"));
        assert!(!rule("Missed"));
        assert_eq!(state.tasks.get(r"\Cz\Missed").unwrap().last_run, None);
    }

    /// An action whose program does not exist runs nothing and records
    /// 0x80070002; a script not properly encoded fails with exit code 1
    /// (powershell.exe refuses it) and changes nothing.
    #[test]
    fn a_missing_program_and_a_bad_encoding_are_recorded_as_failures() {
        let (spec, mut state) = host();
        let at = LabTime::EPOCH.plus_secs(60);
        state.tasks.register(task("Gone", r"C:\Nope\powershell.exe", "-EncodedCommand eA==", at), false).unwrap();
        state.tasks.register(task("Bad", "powershell.exe", "-EncodedCommand YQ==", at), false).unwrap();
        assert_eq!(step(&spec, &mut state, at.plus_secs(1)), 1);
        assert_eq!(state.tasks.get(r"\Cz\Gone").unwrap().last_result, Some(malware::autostart::FILE_NOT_FOUND));
        assert_eq!(state.tasks.get(r"\Cz\Bad").unwrap().last_result, Some(1));
    }
}
