//! One host's WinRS shells and the commands running in them: creation under
//! the per-user quota, stdin accumulation, execution through the command
//! emulation, output handed out in chunks by long-polling Receives, signals
//! and deletion. Every operation checks that the shell belongs to the
//! authenticated user.
//!
//! Locks are plain mutexes held for a few instructions, never across an
//! await: the shell table first, then one command's state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::auth::Identity;
use super::envelope::{SIGNAL_CTRL_C, SIGNAL_TERMINATE, new_guid};
use super::fault::Fault;
use super::soap::InputChunk;
use super::stats::Counters;
use crate::lab::emulate::{self, CommandRequest, Target};
use crate::lab::network::HostRef;
use crate::lab::spec::{HostFault, HostSpec};

/// Most stdin one command may be sent before it runs.
pub const MAX_STDIN: usize = 64 << 20;
/// Exit code of a process ended by Ctrl+C (`STATUS_CONTROL_C_EXIT`).
const CTRL_C_EXIT: i32 = 0xC000_013A_u32 as i32;

/// One host's WinRM state: its spec, its shells, and the host in the
/// network whose Windows state commands run on.
pub struct HostState {
    pub spec: Arc<HostSpec>,
    pub world: HostRef,
    pub counters: Arc<Counters>,
    /// Cancelled when the lab stops: long polls end at once.
    pub shutdown: CancellationToken,
    shells: Mutex<HashMap<String, Shell>>,
}

struct Shell {
    owner_key: String,
    codepage: u32,
    commands: HashMap<String, Arc<Command>>,
}

/// One command: its state, and a notification for Receives waiting on it.
struct Command {
    state: Mutex<CommandState>,
    changed: Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waits for stdin to end before it runs.
    AwaitingStdin,
    Running,
    /// Exited; output may remain to be received.
    Exited(i32),
    /// The Receive that reported Done has gone out.
    Delivered,
    /// Ended by a terminate signal or the shell's deletion.
    Terminated,
}

struct CommandState {
    phase: Phase,
    command: String,
    args: Vec<String>,
    stdin: Vec<u8>,
    stdout: Vec<u8>,
    stdout_at: usize,
    stderr: Vec<u8>,
    stderr_at: usize,
}

/// What one Receive hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub command_id: String,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `Some` when this response reports the command Done.
    pub exit_code: Option<i32>,
}

impl HostState {
    /// A host alone in a network of its own (unit tests).
    pub fn new(spec: Arc<HostSpec>, counters: Arc<Counters>, shutdown: CancellationToken) -> Self {
        let world = HostRef::standalone(&spec);
        HostState::attached(spec, world, counters, shutdown)
    }

    /// The WinRM face of host `world` of a shared network.
    pub fn attached(
        spec: Arc<HostSpec>,
        world: HostRef,
        counters: Arc<Counters>,
        shutdown: CancellationToken,
    ) -> Self {
        HostState {
            spec,
            world,
            counters,
            shutdown,
            shells: Mutex::new(HashMap::new()),
        }
    }

    /// Shells open on this host now.
    pub fn open_shells(&self) -> usize {
        self.table().len()
    }

    /// The console code page a shell was created with (`WINRS_CODEPAGE`,
    /// 437 when absent), if the shell exists.
    pub fn shell_codepage(&self, shell_id: &str) -> Option<u32> {
        self.table()
            .get(&shell_id.to_ascii_uppercase())
            .map(|s| s.codepage)
    }

    /// Create a shell for `who`, unless the user's quota is used up.
    pub fn create(&self, who: &Identity, codepage: u32) -> Result<String, Fault> {
        let mut shells = self.table();
        let max = self.spec.max_shells_per_user;
        let owned = shells.values().filter(|s| s.owner_key == who.key).count();
        if owned >= max as usize {
            return Err(Fault::ShellQuota { max });
        }
        let id = new_guid();
        shells.insert(
            id.clone(),
            Shell {
                owner_key: who.key.clone(),
                codepage,
                commands: HashMap::new(),
            },
        );
        Counters::bump(&self.counters.shells_created);
        Ok(id)
    }

    /// The host went down: every shell and its commands are gone (their
    /// Receives end), as a machine that shuts down loses them.
    pub fn drop_all_shells(&self) {
        let shells = std::mem::take(&mut *self.table());
        for command in shells.values().flat_map(|s| s.commands.values()) {
            command.finish(Phase::Terminated);
        }
    }

    /// Delete a shell; its commands end.
    pub fn delete(&self, who: &Identity, shell_id: &str) -> Result<(), Fault> {
        let mut shells = self.table();
        owned_shell(&mut shells, who, shell_id)?;
        let shell = shells
            .remove(&shell_id.to_ascii_uppercase())
            .ok_or(Fault::UnknownShell)?;
        drop(shells);
        for command in shell.commands.values() {
            command.finish(Phase::Terminated);
        }
        Counters::bump(&self.counters.shells_deleted);
        Ok(())
    }

    /// Start a command; it runs now, or, when it `reads_stdin` (see
    /// [`emulate::wants_stdin`]), once its stdin ends.
    pub fn start_command(
        &self,
        who: &Identity,
        shell_id: &str,
        requested_id: Option<&str>,
        command: String,
        args: Vec<String>,
        reads_stdin: bool,
    ) -> Result<String, Fault> {
        let mut shells = self.table();
        let shell = owned_shell(&mut shells, who, shell_id)?;
        // A client may choose the CommandId (MS-WSMV 3.1.4.11); it must be a
        // GUID not in use.
        let id = match requested_id {
            Some(id) => {
                let id = uuid::Uuid::parse_str(id).map_err(|_| Fault::InvalidParameter)?;
                id.to_string().to_ascii_uppercase()
            }
            None => new_guid(),
        };
        if shell.commands.contains_key(&id) {
            return Err(Fault::InvalidParameter);
        }
        let waits = reads_stdin;
        let cmd = Arc::new(Command {
            state: Mutex::new(CommandState {
                phase: if waits {
                    Phase::AwaitingStdin
                } else {
                    Phase::Running
                },
                command,
                args,
                stdin: Vec::new(),
                stdout: Vec::new(),
                stdout_at: 0,
                stderr: Vec::new(),
                stderr_at: 0,
            }),
            changed: Notify::new(),
        });
        shell.commands.insert(id.clone(), Arc::clone(&cmd));
        drop(shells);
        if !waits {
            self.run(cmd, who);
        }
        Ok(id)
    }

    /// Feed stdin; the chunk marked End starts a command that waits for it.
    pub fn send(
        &self,
        who: &Identity,
        shell_id: &str,
        chunks: Vec<InputChunk>,
    ) -> Result<(), Fault> {
        for chunk in chunks {
            if !chunk.name.eq_ignore_ascii_case("stdin") {
                return Err(Fault::InvalidParameter);
            }
            let command_id = chunk.command_id.as_deref().ok_or(Fault::InvalidParameter)?;
            let cmd = self.command(who, shell_id, command_id)?;
            let start = {
                let mut st = cmd.lock();
                if st.phase != Phase::AwaitingStdin {
                    // A running process reads it, or it is gone: either way
                    // nothing the emulation sees.
                    continue;
                }
                if st.stdin.len() + chunk.data.len() > MAX_STDIN {
                    drop(st);
                    cmd.finish(Phase::Terminated);
                    self.forget(shell_id, command_id);
                    return Err(Fault::OutOfMemory);
                }
                st.stdin.extend_from_slice(&chunk.data);
                if chunk.end {
                    st.phase = Phase::Running;
                }
                chunk.end
            };
            if start {
                self.run(cmd, who);
            }
        }
        Ok(())
    }

    /// Wait up to `timeout` for output of a command, then hand out at most
    /// `budget` bytes of it (stdout first). Done is reported with the last of
    /// the output.
    pub async fn receive(
        &self,
        who: &Identity,
        shell_id: &str,
        command_id: Option<&str>,
        timeout: Duration,
        budget: usize,
    ) -> Result<Output, Fault> {
        let (cmd, command_id) = match command_id {
            Some(id) => (self.command(who, shell_id, id)?, id.to_ascii_uppercase()),
            None => self.latest_command(who, shell_id)?,
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register for a wake-up before looking, so a change made between
            // the look and the wait is not missed.
            let changed = cmd.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(out) = cmd.take_output(&command_id, budget)? {
                return Ok(out);
            }
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(deadline) => return Err(Fault::TimedOut),
                _ = self.shutdown.cancelled() => return Err(Fault::TimedOut),
            }
        }
    }

    /// Deliver a signal: `terminate` ends and forgets the command, `ctrl_c`
    /// ends a running one.
    pub fn signal(
        &self,
        who: &Identity,
        shell_id: &str,
        command_id: &str,
        code: &str,
    ) -> Result<(), Fault> {
        let cmd = self.command(who, shell_id, command_id)?;
        match code {
            SIGNAL_TERMINATE => {
                cmd.finish(Phase::Terminated);
                self.forget(shell_id, command_id);
            }
            SIGNAL_CTRL_C => {
                let running = matches!(cmd.lock().phase, Phase::AwaitingStdin | Phase::Running);
                if running {
                    cmd.finish(Phase::Exited(CTRL_C_EXIT));
                }
            }
            _ => return Err(Fault::InvalidParameter),
        }
        Ok(())
    }

    /// Run a command on the emulation and the host's Windows state (under
    /// the network lock, for the time it runs), off the async threads; a
    /// host with `HangReceive` never finishes one.
    fn run(&self, cmd: Arc<Command>, who: &Identity) {
        if self.spec.fault == HostFault::HangReceive {
            return;
        }
        let spec = Arc::clone(&self.spec);
        let world = self.world.clone();
        let user = who.qualified.clone();
        tokio::task::spawn_blocking(move || {
            let (command, args, stdin) = {
                let mut st = cmd.lock();
                if st.phase != Phase::Running {
                    return; // terminated before it could start
                }
                (
                    st.command.clone(),
                    st.args.clone(),
                    std::mem::take(&mut st.stdin),
                )
            };
            let request = CommandRequest {
                command: &command,
                args: &args,
                user: &user,
                stdin: &stdin,
            };
            let result = world.with_power(|state, shutdown, now| {
                emulate::execute(
                    &mut Target {
                        host: &spec,
                        world: state,
                        shutdown,
                        now,
                    },
                    &request,
                )
            });
            let mut st = cmd.lock();
            if st.phase == Phase::Running {
                // The pipe carries the bytes the process wrote: WinRS does
                // not transcode. The shell's code page is the console code
                // page the process sees, for the emulation to honour.
                st.stdout = result.stdout;
                st.stderr = result.stderr;
                st.phase = Phase::Exited(result.exit_code);
                drop(st);
                cmd.changed.notify_waiters();
            }
        });
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Shell>> {
        self.shells.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A command of `who`'s shell.
    fn command(
        &self,
        who: &Identity,
        shell_id: &str,
        command_id: &str,
    ) -> Result<Arc<Command>, Fault> {
        let mut shells = self.table();
        let shell = owned_shell(&mut shells, who, shell_id)?;
        let cmd = shell
            .commands
            .get(&command_id.to_ascii_uppercase())
            .ok_or(Fault::UnknownCommand)?;
        Ok(Arc::clone(cmd))
    }

    /// A command of the shell not yet reported Done (for a Receive without
    /// CommandId, which WinRS clients do not send).
    fn latest_command(
        &self,
        who: &Identity,
        shell_id: &str,
    ) -> Result<(Arc<Command>, String), Fault> {
        let mut shells = self.table();
        let shell = owned_shell(&mut shells, who, shell_id)?;
        shell
            .commands
            .iter()
            .find(|(_, c)| c.lock().phase != Phase::Delivered)
            .map(|(id, c)| (Arc::clone(c), id.clone()))
            .ok_or(Fault::UnknownCommand)
    }

    fn forget(&self, shell_id: &str, command_id: &str) {
        if let Some(shell) = self.table().get_mut(&shell_id.to_ascii_uppercase()) {
            shell.commands.remove(&command_id.to_ascii_uppercase());
        }
    }
}

/// `who`'s shell `shell_id`: unknown is InvalidSelectors, someone else's is
/// AccessDenied.
fn owned_shell<'a>(
    shells: &'a mut HashMap<String, Shell>,
    who: &Identity,
    shell_id: &str,
) -> Result<&'a mut Shell, Fault> {
    let shell = shells
        .get_mut(&shell_id.to_ascii_uppercase())
        .ok_or(Fault::UnknownShell)?;
    if shell.owner_key != who.key {
        return Err(Fault::AccessDenied);
    }
    Ok(shell)
}

impl Command {
    fn lock(&self) -> MutexGuard<'_, CommandState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// End the command (unless it already ended) and wake its Receives.
    fn finish(&self, phase: Phase) {
        let mut st = self.lock();
        let ended = matches!(
            st.phase,
            Phase::Exited(_) | Phase::Delivered | Phase::Terminated
        );
        if phase == Phase::Terminated || !ended {
            st.phase = phase;
        }
        drop(st);
        self.changed.notify_waiters();
    }

    /// Output to hand out now, or `None` to keep waiting.
    fn take_output(&self, command_id: &str, budget: usize) -> Result<Option<Output>, Fault> {
        let mut st = self.lock();
        let exit = match st.phase {
            Phase::Terminated | Phase::Delivered => return Err(Fault::UnknownCommand),
            Phase::Exited(code) => Some(code),
            Phase::AwaitingStdin | Phase::Running => None,
        };
        let pending = st.stdout.len() - st.stdout_at + st.stderr.len() - st.stderr_at;
        if exit.is_none() && pending == 0 {
            return Ok(None);
        }
        let budget = budget.max(1);
        let n = (st.stdout.len() - st.stdout_at).min(budget);
        let stdout = st.stdout[st.stdout_at..st.stdout_at + n].to_vec();
        st.stdout_at += n;
        let m = (st.stderr.len() - st.stderr_at).min(budget - n);
        let stderr = st.stderr[st.stderr_at..st.stderr_at + m].to_vec();
        st.stderr_at += m;
        let all_out = st.stdout_at == st.stdout.len() && st.stderr_at == st.stderr.len();
        let exit_code = if all_out { exit } else { None };
        if exit_code.is_some() {
            st.phase = Phase::Delivered;
            st.stdout = Vec::new();
            st.stderr = Vec::new();
        }
        Ok(Some(Output {
            command_id: command_id.to_string(),
            stdout,
            stderr,
            exit_code,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenario;
    use std::net::Ipv4Addr;

    /// WS-001 of a plain lab, with this fault and shell quota.
    fn state(fault: HostFault, max: u32) -> HostState {
        let mut spec = scenario::simple(1, Ipv4Addr::LOCALHOST, 5985)
            .hosts
            .remove(0);
        spec.fault = fault;
        spec.max_shells_per_user = max;
        HostState::new(
            Arc::new(spec),
            Arc::new(Counters::default()),
            CancellationToken::new(),
        )
    }

    fn who(name: &str) -> Identity {
        Identity {
            qualified: format!("WS-001\\{name}"),
            user: name.into(),
            key: format!("ws-001\\{name}"),
        }
    }

    /// A host with `fault`, admin's shell on it, and `hostname` started
    /// there (waiting for stdin when `reads_stdin`).
    struct Started {
        h: HostState,
        me: Identity,
        shell: String,
        cmd: String,
    }

    fn started(fault: HostFault, reads_stdin: bool) -> Started {
        let h = state(fault, 5);
        let me = who("admin");
        let shell = h.create(&me, 65001).unwrap();
        let cmd = h
            .start_command(&me, &shell, None, "hostname".into(), vec![], reads_stdin)
            .unwrap();
        Started { h, me, shell, cmd }
    }

    impl Started {
        /// One Receive for the command, waiting up to `wait_ms`.
        async fn receive(&self, wait_ms: u64, budget: usize) -> Result<Output, Fault> {
            let wait = Duration::from_millis(wait_ms);
            self.h
                .receive(&self.me, &self.shell, Some(&self.cmd), wait, budget)
                .await
        }

        fn signal(&self, code: &str) -> Result<(), Fault> {
            self.h.signal(&self.me, &self.shell, &self.cmd, code)
        }

        /// A stdin chunk for the command.
        fn stdin(&self, data: &[u8], end: bool) -> InputChunk {
            InputChunk {
                name: "stdin".into(),
                command_id: Some(self.cmd.clone()),
                end,
                data: data.to_vec(),
            }
        }

        fn send(&self, chunk: InputChunk) -> Result<(), Fault> {
            self.h.send(&self.me, &self.shell, vec![chunk])
        }
    }

    #[tokio::test]
    async fn hostname_runs_and_reports_done_with_its_output() {
        let s = started(HostFault::None, false);
        let out = s.receive(5000, 1000).await.unwrap();
        assert_eq!(out.stdout, b"WS-001\r\n");
        assert_eq!(out.exit_code, Some(0));
        // After Done the command is gone for Receive, but terminate works.
        assert_eq!(s.receive(1000, 1000).await, Err(Fault::UnknownCommand));
        s.signal(SIGNAL_TERMINATE).unwrap();
        s.h.delete(&s.me, &s.shell).unwrap();
        assert_eq!(s.h.open_shells(), 0);
    }

    #[tokio::test]
    async fn output_is_chunked_by_the_budget() {
        let s = started(HostFault::None, false);
        let mut got = Vec::new();
        loop {
            let out = s.receive(5000, 3).await.unwrap();
            assert!(out.stdout.len() + out.stderr.len() <= 3);
            got.extend(out.stdout);
            if out.exit_code.is_some() {
                break;
            }
        }
        assert_eq!(got, b"WS-001\r\n");
    }

    #[tokio::test]
    async fn a_hung_command_times_out_and_can_be_terminated() {
        let s = started(HostFault::HangReceive, false);
        assert_eq!(s.receive(50, 1000).await, Err(Fault::TimedOut));
        s.signal(SIGNAL_CTRL_C).unwrap();
        let out = s.receive(50, 1000).await.unwrap();
        assert_eq!(out.exit_code, Some(CTRL_C_EXIT));
        s.signal(SIGNAL_TERMINATE).unwrap();
        assert_eq!(s.signal(SIGNAL_TERMINATE), Err(Fault::UnknownCommand));
    }

    #[tokio::test]
    async fn a_command_that_reads_stdin_runs_when_stdin_ends() {
        let s = started(HostFault::None, true);
        // Nothing runs before End: the Receive times out.
        s.send(s.stdin(b"part one ", false)).unwrap();
        assert_eq!(s.receive(50, 1000).await, Err(Fault::TimedOut));
        s.send(s.stdin(b"part two", true)).unwrap();
        let out = s.receive(5000, 1000).await.unwrap();
        assert_eq!(out.exit_code, Some(0));
        assert_eq!(out.stdout, b"WS-001\r\n");
        // Unknown commands and streams are refused.
        let mut other = s.stdin(b"x", true);
        other.command_id = Some("00000000-0000-0000-0000-000000000000".into());
        assert_eq!(s.send(other), Err(Fault::UnknownCommand));
        let mut stdout = s.stdin(b"x", true);
        stdout.name = "stdout".into();
        assert_eq!(s.send(stdout), Err(Fault::InvalidParameter));
    }

    #[test]
    fn stdin_is_capped() {
        let s = started(HostFault::None, true);
        s.send(InputChunk {
            data: vec![0; MAX_STDIN],
            ..s.stdin(b"", false)
        })
        .unwrap();
        assert_eq!(s.send(s.stdin(&[0], true)), Err(Fault::OutOfMemory));
        // The command is gone.
        assert_eq!(s.signal(SIGNAL_TERMINATE), Err(Fault::UnknownCommand));
    }

    #[tokio::test]
    async fn a_host_going_down_ends_every_shell_and_its_commands() {
        let s = started(HostFault::HangReceive, false);
        s.h.create(&who("other"), 437).unwrap();
        assert_eq!(s.h.open_shells(), 2);
        s.h.drop_all_shells();
        assert_eq!(s.h.open_shells(), 0);
        assert_eq!(s.receive(50, 1000).await, Err(Fault::UnknownShell));
    }

    #[test]
    fn client_chosen_command_ids_must_be_new_guids() {
        let h = state(HostFault::HangReceive, 5);
        let me = who("admin");
        let shell = h.create(&me, 65001).unwrap();
        let start = |id: &str| h.start_command(&me, &shell, Some(id), "x".into(), vec![], false);
        let id = "1b8c3a8e-5d0c-4a4e-9e43-2c6f0f6f2a11";
        assert_eq!(start(id).unwrap(), id.to_ascii_uppercase());
        assert_eq!(start(id), Err(Fault::InvalidParameter));
        assert_eq!(start("nope"), Err(Fault::InvalidParameter));
    }

    #[test]
    fn quota_is_per_user_and_shells_belong_to_their_owner() {
        let h = state(HostFault::None, 2);
        let (a, b) = (who("admin"), who("other"));
        let s1 = h.create(&a, 437).unwrap();
        h.create(&a, 437).unwrap();
        assert_eq!(h.create(&a, 437), Err(Fault::ShellQuota { max: 2 }));
        h.create(&b, 437).unwrap();
        assert_eq!(h.delete(&b, &s1), Err(Fault::AccessDenied));
        assert_eq!(
            h.delete(&a, "00000000-0000-0000-0000-000000000000"),
            Err(Fault::UnknownShell)
        );
        h.delete(&a, &s1.to_ascii_lowercase()).unwrap();
        h.create(&a, 437).unwrap();
        assert_eq!(h.open_shells(), 3);
    }

    #[test]
    fn the_shell_keeps_its_code_page() {
        let h = state(HostFault::None, 5);
        let me = who("admin");
        let shell = h.create(&me, 437).unwrap();
        assert_eq!(h.shell_codepage(&shell.to_ascii_lowercase()), Some(437));
        assert_eq!(h.shell_codepage("nope"), None);
    }
}
