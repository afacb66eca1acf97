//! A WinRM shell on one host, running scripts strictly in order and always
//! closed: after success, on error, on time-out and on Ctrl-C (Windows 7
//! allows only 5 shells per user, so a leaked shell locks the next run out).
//!
//! A script runs as `powershell.exe` with the short `-EncodedCommand`
//! bootstrap ([`crate::runtime::bootstrap`]); the script itself goes on
//! stdin in chunks, then the output is polled until the command is done,
//! bounded by the host's command time-out and [`MAX_OUTPUT_BYTES`].

use super::classify::{ErrorContext, classify, is_transient, login_worked, nothing_was_sent, session_lost};
use super::error::{ErrorKind, Phase, TransportError};
use super::gate::Ticket;
use super::output::{MAX_OUTPUT_BYTES, OutputBuffer, PollPacer, ScriptOutput};
use super::pool::HostTarget;
use super::retry::{NextTry, OpenFailureKind, OpenTries, delay_before};
use super::tcp::{PortState, probe_port};
use crate::runtime::bootstrap::{
    POWERSHELL_EXE, PayloadChunks, bootstrap_args,
};
use std::time::Duration;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;
use winrm_rs::{Shell, WinrmError};

/// Logons tried per shell. winrm-rs 2.0.1 can send the NTLM AUTHENTICATE
/// on a second TCP connection: it answers the CHALLENGE's empty-bodied 401,
/// and `hyper` races the return of that connection to the pool against a
/// new connect, which on a busy machine the connect can win. NTLM over HTTP
/// is bound to its connection, so Windows refuses that AUTHENTICATE with
/// the 401 of a wrong password, and nothing on the client tells the two
/// apart. So a rejected logon is tried once more; both count toward the
/// lock-out gate ([`super::gate`]), so a domain account still sees at most
/// its few refused logons.
pub const LOGON_TRIES: u32 = 2;

/// Receives re-sent in one run after a 401 on a connection that lost its
/// NTLM session (see [`HostSession::run_script`]).
const MAX_RECEIVE_RESENDS: u32 = 2;

/// Longest wait for a clean-up request (terminate, delete shell).
pub const CLEANUP_BUDGET: Duration = Duration::from_secs(5);

/// An open shell on one host. Call [`HostSession::close`] when done; the
/// free function [`run_script`] does open, run and close in one call.
pub struct HostSession<'c> {
    target: &'c HostTarget,
    shell: Shell<'c>,
    cancel: CancellationToken,
}

/// Builds the error context of a phase.
fn ctx<'a>(target: &'a HostTarget, phase: Phase, since: Instant) -> ErrorContext<'a> {
    ErrorContext {
        address: &target.host.address,
        port: target.host.settings.port,
        credential: &target.host.settings.credential,
        phase,
        elapsed: since.elapsed(),
    }
}

/// Open a shell, run `script`, close the shell (whatever happened).
pub async fn run_script(
    target: &HostTarget,
    script: &str,
    cancel: &CancellationToken,
) -> Result<ScriptOutput, TransportError> {
    let mut session = HostSession::open(target, cancel).await?;
    let result = session.run_script(script).await;
    session.close().await;
    result
}

impl<'c> HostSession<'c> {
    /// Connect, authenticate and create a shell. Transient network errors
    /// are retried with back-off. A rejected logon gets one second chance
    /// ([`LOGON_TRIES`]), counted by the lock-out gate like the first.
    pub async fn open(
        target: &'c HostTarget,
        cancel: &CancellationToken,
    ) -> Result<Self, TransportError> {
        let started = Instant::now();
        let settings = &target.host.settings;
        let mut ticket = admit(target, cancel).await?;
        // One Create: connect, NTLM handshake, the request itself.
        let per_try =
            settings.connect_timeout + settings.operation_timeout + Duration::from_secs(10);
        let mut tries = OpenTries::new(LOGON_TRIES);
        loop {
            if cancel.is_cancelled() {
                return Err(TransportError::Interrupted {
                    phase: Phase::OpeningShell,
                });
            }
            let e = match open_once(target, per_try, cancel).await {
                Ok(shell) => {
                    if let Some(t) = ticket.take() {
                        t.accepted();
                    }
                    return Ok(HostSession {
                        target,
                        shell,
                        cancel: cancel.clone(),
                    });
                }
                Err(OpenFailure::Transport(e)) => return Err(e),
                Err(OpenFailure::Winrm(e)) => e,
            };
            let error = classify(&e, &ctx(target, Phase::OpeningShell, started));
            let failure = if is_transient(&e, false) {
                OpenFailureKind::Transient
            } else if !login_worked(&e) && error.kind() == ErrorKind::AuthFailed {
                OpenFailureKind::Rejected
            } else {
                OpenFailureKind::Final
            };
            // A transient failure reached no verdict on the logon: the
            // gate's ticket stays open for the same logon re-sent.
            if failure != OpenFailureKind::Transient {
                if let Some(t) = ticket.take() {
                    if login_worked(&e) {
                        t.accepted();
                    } else if failure == OpenFailureKind::Rejected {
                        t.rejected();
                    }
                }
            }
            match tries.after(failure) {
                NextTry::After(pause) => {
                    tracing::debug!(host = %target.host.name, error = %e, ?pause, "retrying shell creation");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = cancel.cancelled() => {}
                    }
                }
                NextTry::LogonAgain => {
                    tracing::debug!(host = %target.host.name, error = %e, "logon rejected; one second chance");
                    // The gate may give the credential up in between: then
                    // the first rejection is the answer.
                    ticket = match admit(target, cancel).await {
                        Ok(t) => t,
                        Err(_) => return Err(error),
                    };
                }
                NextTry::GiveUp => return Err(error),
            }
        }
    }

    /// Run one script to its end and return its output. A non-zero exit code
    /// is not an error here: it is in the output.
    pub async fn run_script(&mut self, script: &str) -> Result<ScriptOutput, TransportError> {
        self.run_parts(&[script]).await
    }

    /// Run the script whose text is `parts` one after the other (the
    /// runtime's fixed text, then a job's own: never joined into one copy
    /// per host).
    pub async fn run_parts(&mut self, parts: &[&str]) -> Result<ScriptOutput, TransportError> {
        let started = Instant::now();
        let started_at = std::time::SystemTime::now();
        let limit = self.target.host.settings.command_timeout;
        let deadline = started + limit;
        let command_id = self.start(deadline, started).await?;
        let result = self
            .feed_and_collect(&command_id, parts, deadline, started, started_at)
            .await;
        // Terminate the command in every case: on success it releases the
        // operation on the host (WinRM counts them per user), otherwise it
        // stops what is still running.
        self.terminate(&command_id).await;
        result
    }

    /// Start the bootstrap. Re-sent only when nothing reached the host.
    async fn start(&self, deadline: Instant, started: Instant) -> Result<String, TransportError> {
        let args = bootstrap_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut tries = 0;
        loop {
            tries += 1;
            let attempt = self
                .bounded(
                    Phase::Starting,
                    deadline,
                    started,
                    self.shell.start_command(POWERSHELL_EXE, &args),
                )
                .await?;
            match attempt {
                Ok(id) => return Ok(id),
                Err(e) if nothing_was_sent(&e) && delay_before(tries).is_some() => {
                    let pause = delay_before(tries).unwrap_or_default();
                    tokio::time::sleep(pause).await;
                }
                Err(e) => return Err(classify(&e, &ctx(self.target, Phase::Starting, started))),
            }
        }
    }

    /// Send the script on stdin, then poll output until the command is done.
    async fn feed_and_collect(
        &self,
        command_id: &str,
        parts: &[&str],
        deadline: Instant,
        started: Instant,
        started_at: std::time::SystemTime,
    ) -> Result<ScriptOutput, TransportError> {
        // Encoded a chunk at a time: the whole payload encoded is never held.
        let chunks = PayloadChunks::new(parts);
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.enumerate() {
            let sent = self
                .bounded(
                    Phase::SendingInput,
                    deadline,
                    started,
                    self.shell.send_input(command_id, &chunk, i == last),
                )
                .await?;
            sent.map_err(|e| classify(&e, &ctx(self.target, Phase::SendingInput, started)))?;
        }

        let mut buffer = OutputBuffer::new(MAX_OUTPUT_BYTES);
        let mut pacer = PollPacer::default();
        let mut exit_code = None;
        let mut resent = 0;
        loop {
            let polled_at = Instant::now();
            let poll = match self
                .bounded(
                    Phase::Running,
                    deadline,
                    started,
                    self.shell.receive_next(command_id),
                )
                .await?
            {
                Ok(poll) => poll,
                // A Receive only reads output that waits on the host; the
                // host answered 401 because the connection had lost its
                // session, so it read nothing and the poll is asked again
                // on a new connection. (A command start or a stdin chunk is
                // never re-sent: either one may not run twice.)
                Err(e) if session_lost(&e) && resent < MAX_RECEIVE_RESENDS => {
                    resent += 1;
                    tracing::debug!(host = %self.target.host.name, error = %e, "receive refused on a lost session; polling again");
                    continue;
                }
                Err(e) => return Err(classify(&e, &ctx(self.target, Phase::Running, started))),
            };
            let progressed = !poll.stdout.is_empty() || !poll.stderr.is_empty() || poll.done;
            buffer
                .push(&poll.stdout, &poll.stderr)
                .map_err(|over| TransportError::OutputTooLarge { limit: over.0 })?;
            exit_code = poll.exit_code.or(exit_code);
            if poll.done {
                // A finished command without an exit code is reported as -1.
                return Ok(buffer.finish(exit_code.unwrap_or(-1), started_at, started.elapsed()));
            }
            if let Some(pause) = pacer.delay_after(polled_at.elapsed(), progressed) {
                self.bounded(Phase::Running, deadline, started, tokio::time::sleep(pause))
                    .await?;
            }
        }
    }

    /// Run `fut` unless the deadline passes or Ctrl-C comes first.
    async fn bounded<T>(
        &self,
        phase: Phase,
        deadline: Instant,
        started: Instant,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, TransportError> {
        tokio::select! {
            out = fut => Ok(out),
            () = tokio::time::sleep_until(deadline) => {
                Err(TransportError::TimedOut { phase, after: started.elapsed() })
            }
            () = self.cancel.cancelled() => Err(TransportError::Interrupted { phase }),
        }
    }

    /// Best effort, bounded: tell the command to terminate.
    async fn terminate(&self, command_id: &str) {
        let signal = self.target.client.signal_terminate(
            &self.target.host.address,
            self.shell.shell_id(),
            command_id,
        );
        match timeout(CLEANUP_BUDGET, signal).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(host = %self.target.host.name, error = %e, "terminate failed")
            }
            Err(_) => tracing::debug!(host = %self.target.host.name, "terminate timed out"),
        }
    }

    /// Delete the shell: best effort, bounded, never fails the run.
    pub async fn close(self) {
        let name = self.target.host.name.clone();
        match timeout(CLEANUP_BUDGET, self.shell.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(host = %name, error = %e, "could not delete the WinRM shell; the host reaps it when idle")
            }
            Err(_) => {
                tracing::warn!(host = %name, "deleting the WinRM shell timed out; the host reaps it when idle")
            }
        }
    }
}

/// Pass the lock-out gate of the host's credential, if it has one. While
/// the credential is unproven, a host whose port does not even accept a TCP
/// connection is reported unreachable without using up a logon attempt
/// (and without holding a place while its connect times out).
async fn admit(
    target: &HostTarget,
    cancel: &CancellationToken,
) -> Result<Option<Ticket>, TransportError> {
    let Some(gate) = &target.gate else {
        return Ok(None);
    };
    let host = &target.host;
    if !gate.proven() && host.settings.proxy.is_none() {
        let state = probe_port(
            &host.address,
            host.settings.port,
            host.settings.connect_timeout,
        )
        .await;
        let detail = match state {
            PortState::Open => None,
            PortState::Closed => Some("connection refused".to_string()),
            PortState::Filtered => Some("no answer within the connect time-out".to_string()),
            PortState::Error(e) => Some(e),
        };
        if let Some(detail) = detail {
            return Err(TransportError::Unreachable {
                address: host.address.clone(),
                port: host.settings.port,
                detail,
            });
        }
    }
    match gate.admit(cancel).await {
        None => Err(TransportError::Interrupted {
            phase: Phase::Queued,
        }),
        Some(Err(e)) => Err(e),
        Some(Ok(t)) => Ok(Some(t)),
    }
}

/// Why one Create attempt failed.
enum OpenFailure {
    Winrm(WinrmError),
    Transport(TransportError),
}

/// One attempt to create a shell, bounded, and Ctrl-C aware: on Ctrl-C a
/// Create already on its way is given [`CLEANUP_BUDGET`] to finish, so the
/// shell it made can be deleted rather than leaked.
async fn open_once<'c>(
    target: &'c HostTarget,
    per_try: Duration,
    cancel: &CancellationToken,
) -> Result<Shell<'c>, OpenFailure> {
    let started = Instant::now();
    let open = timeout(per_try, target.client.open_shell(&target.host.address));
    tokio::pin!(open);
    let outcome = tokio::select! {
        out = &mut open => out,
        () = cancel.cancelled() => {
            if let Ok(Ok(Ok(shell))) = timeout(CLEANUP_BUDGET, &mut open).await {
                let _ = timeout(CLEANUP_BUDGET, shell.close()).await;
            }
            return Err(OpenFailure::Transport(TransportError::Interrupted { phase: Phase::OpeningShell }));
        }
    };
    match outcome {
        Ok(Ok(shell)) => Ok(shell),
        Ok(Err(e)) => Err(OpenFailure::Winrm(e)),
        Err(_) => Err(OpenFailure::Transport(TransportError::TimedOut {
            phase: Phase::OpeningShell,
            after: started.elapsed(),
        })),
    }
}
