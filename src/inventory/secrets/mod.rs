//! Passwords, on demand: [`SecretResolver`] turns a [`CredentialSpec`]
//! and a host into a password, from the credential's one source
//! (environment variable, first line of a file, first line of a program's
//! output, a terminal prompt, a LAPS export, or the inventory itself).
//!
//! Each source is read once per run and cached (a LAPS export is parsed
//! once, then looked up per host); failures are cached too, so a locked
//! password manager is not asked 250 times. The resolver is `Send + Sync`
//! and may be shared (`Arc`) by many tokio tasks; its calls block (a
//! program or a prompt may take seconds), so call it from
//! `spawn_blocking`, or call [`SecretResolver::preload`] once before the
//! run starts (this is also where prompts should happen, before any
//! progress bar is drawn).
//!
//! Passwords are returned as `Zeroizing<String>` and never appear in
//! Debug output, errors or logs.

mod command;
mod error;
mod laps;
mod prompt;

#[cfg(test)]
mod tests;

pub use error::SecretError;
pub use prompt::{PromptError, Prompter, TerminalPrompter};

use super::model::{CredentialSpec, InlinePasswords, Inventory, ResolvedHost, SecretSource};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a password command may run by default.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest password file or LAPS export read, in bytes.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What one credential's source yielded.
enum Loaded {
    One(Zeroizing<String>),
    Laps(laps::Table),
}

type Slot = Arc<Mutex<Option<Result<Arc<Loaded>, SecretError>>>>;

/// Resolves and caches passwords for one run. See the module docs.
pub struct SecretResolver {
    inline: InlinePasswords,
    command_timeout: Duration,
    prompter: Arc<dyn Prompter>,
    slots: Mutex<HashMap<String, Slot>>,
}

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretResolver").field("command_timeout", &self.command_timeout).finish_non_exhaustive()
    }
}

impl SecretResolver {
    /// A resolver for `inventory`'s credentials, prompting on the terminal.
    pub fn new(inventory: &Inventory) -> Self {
        SecretResolver {
            inline: inventory.inline_passwords.clone(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            prompter: Arc::new(TerminalPrompter),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// How long a `password_command` may run before it is stopped.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Ask for `password_prompt` credentials through `prompter`.
    pub fn with_prompter(mut self, prompter: Arc<dyn Prompter>) -> Self {
        self.prompter = prompter;
        self
    }

    /// The password of `spec` for `host` (the host matters only for LAPS).
    /// Blocks while a source is read for the first time.
    pub fn password(&self, spec: &CredentialSpec, host: &ResolvedHost) -> Result<Zeroizing<String>, SecretError> {
        match &*self.loaded(spec)? {
            Loaded::One(p) => Ok(p.clone()),
            Loaded::Laps(table) => {
                let path = match &spec.source {
                    SecretSource::Laps { csv } => csv.clone(),
                    _ => Default::default(),
                };
                let (credential, host_name) = (spec.name.clone(), host.name.clone());
                match table.lookup(&host.name, &host.address) {
                    laps::Lookup::Found(p) => Ok(p),
                    laps::Lookup::Missing => Err(SecretError::LapsHostMissing { credential, host: host_name, path }),
                    laps::Lookup::Ambiguous => Err(SecretError::LapsAmbiguous { credential, host: host_name, path }),
                    laps::Lookup::Empty => Err(SecretError::LapsEmpty { credential, host: host_name, path }),
                }
            }
        }
    }

    /// Read the source of every credential the inventory's hosts use, once,
    /// in order of first use; stops at the first failure. Prompts happen
    /// here. LAPS exports are read and parsed, but a host missing from one
    /// is reported by [`SecretResolver::password`] for that host only.
    pub fn preload(&self, inventory: &Inventory) -> Result<(), SecretError> {
        let mut done: Vec<&str> = Vec::new();
        for h in &inventory.hosts {
            let name = h.settings.credential.as_str();
            if done.contains(&name) {
                continue;
            }
            done.push(name);
            if let Some(spec) = inventory.credential(name) {
                self.loaded(spec)?;
            }
        }
        Ok(())
    }

    /// The cached result of reading `spec`'s source, reading it if needed.
    fn loaded(&self, spec: &CredentialSpec) -> Result<Arc<Loaded>, SecretError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(spec.name.clone()).or_default().clone()
        };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = &*slot {
            return r.clone();
        }
        let r = self.read_source(spec).map(Arc::new);
        *slot = Some(r.clone());
        r
    }

    fn read_source(&self, spec: &CredentialSpec) -> Result<Loaded, SecretError> {
        let credential = spec.name.clone();
        match &spec.source {
            SecretSource::Env { var } => read_env(&credential, var).map(Loaded::One),
            SecretSource::File { path } => {
                let bytes = read_capped(path)
                    .map_err(|reason| SecretError::FileRead { credential: credential.clone(), path: path.clone(), reason })?;
                match first_line(&bytes) {
                    Some(Ok(p)) => Ok(Loaded::One(p)),
                    Some(Err(())) => Err(SecretError::FileNotUtf8 { credential, path: path.clone() }),
                    None => Err(SecretError::FileEmpty { credential, path: path.clone() }),
                }
            }
            SecretSource::Command { argv } => self.read_command(&credential, argv).map(Loaded::One),
            SecretSource::Prompt => {
                let who = if spec.domain.is_empty() { spec.user.clone() } else { format!("{}\\{}", spec.domain, spec.user) };
                match self.prompter.prompt(&format!("Password for {who} (credential `{credential}`): ")) {
                    Ok(p) if p.is_empty() => Err(SecretError::PromptEmpty { credential }),
                    Ok(p) => Ok(Loaded::One(p)),
                    Err(PromptError::NoTerminal) => Err(SecretError::NoTerminal { credential }),
                    Err(PromptError::Failed(reason)) => Err(SecretError::PromptFailed { credential, reason }),
                }
            }
            SecretSource::Laps { csv } => {
                let read = |reason| SecretError::LapsRead { credential: credential.clone(), path: csv.clone(), reason };
                let bytes = read_capped(csv).map_err(read)?;
                laps::Table::parse(&bytes).map(Loaded::Laps).map_err(|e| match e {
                    laps::ParseError::Malformed { line } => read(format!("malformed CSV at line {line}")),
                    laps::ParseError::Column { what, found } => SecretError::LapsColumns {
                        credential: credential.clone(),
                        path: csv.clone(),
                        what: what.to_string(),
                        found: found.join(", "),
                        expected: if what == "host" { laps::HOST_COLUMNS } else { laps::PASSWORD_COLUMNS }.join(", "),
                    },
                })
            }
            SecretSource::Inline => {
                self.inline.get(&credential).map(Loaded::One).ok_or(SecretError::InlineMissing { credential })
            }
        }
    }

    fn read_command(&self, credential: &str, argv: &[String]) -> Result<Zeroizing<String>, SecretError> {
        let credential = credential.to_string();
        let program = argv.first().cloned().unwrap_or_default();
        let out = command::run(argv, self.command_timeout).map_err(|e| match e {
            command::RunError::Spawn(err) => {
                SecretError::CommandSpawn { credential: credential.clone(), program: program.clone(), reason: err.to_string() }
            }
            command::RunError::Timeout => SecretError::CommandTimeout {
                credential: credential.clone(),
                program: program.clone(),
                seconds: self.command_timeout.as_secs(),
            },
            command::RunError::Failed { status, stderr_tail } => SecretError::CommandFailed {
                credential: credential.clone(),
                program: program.clone(),
                status: match status.code() {
                    Some(c) => format!("exited with status {c}"),
                    None => "was killed by a signal".to_string(),
                },
                detail: if stderr_tail.is_empty() { String::new() } else { format!(": {stderr_tail}") },
            },
        })?;
        match first_line(&out) {
            Some(Ok(p)) => Ok(p),
            Some(Err(())) => Err(SecretError::CommandNotUtf8 { credential, program }),
            None => Err(SecretError::CommandEmpty { credential, program }),
        }
    }
}

fn read_env(credential: &str, var: &str) -> Result<Zeroizing<String>, SecretError> {
    let (credential, var) = (credential.to_string(), var.to_string());
    match std::env::var_os(&var) {
        None => Err(SecretError::EnvNotSet { credential, var }),
        Some(v) if v.is_empty() => Err(SecretError::EnvEmpty { credential, var }),
        Some(v) => v.into_string().map(Zeroizing::new).map_err(|_| SecretError::EnvNotUnicode { credential, var }),
    }
}

/// A file's bytes (at most [`MAX_FILE_BYTES`]), in memory wiped on drop.
fn read_capped(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf).map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("it is larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(buf)
}

/// The first line (without `\r\n`/`\n` and a UTF-8 BOM); `None` when it is
/// empty, `Err` when it is not UTF-8.
fn first_line(bytes: &[u8]) -> Option<Result<Zeroizing<String>, ()>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return None;
    }
    Some(std::str::from_utf8(line).map(|s| Zeroizing::new(s.to_string())).map_err(|_| ()))
}
