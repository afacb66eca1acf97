//! Why a password could not be obtained. Every message names the
//! credential and the source (variable, file, program, CSV) and says what
//! to do; none ever contains a password.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("credential `{credential}`: environment variable {var} is not set; export it before running cauterize")]
    EnvNotSet { credential: String, var: String },

    #[error("credential `{credential}`: environment variable {var} is set but empty")]
    EnvEmpty { credential: String, var: String },

    #[error("credential `{credential}`: environment variable {var} is not valid Unicode")]
    EnvNotUnicode { credential: String, var: String },

    #[error("credential `{credential}`: cannot read password file {}: {reason}", path.display())]
    FileRead { credential: String, path: PathBuf, reason: String },

    #[error("credential `{credential}`: the first line of password file {} is empty; the password must be on the first line", path.display())]
    FileEmpty { credential: String, path: PathBuf },

    #[error("credential `{credential}`: password file {} is not UTF-8 text", path.display())]
    FileNotUtf8 { credential: String, path: PathBuf },

    #[error("credential `{credential}`: cannot run password command `{program}`: {reason} (it is run directly, without a shell)")]
    CommandSpawn { credential: String, program: String, reason: String },

    #[error("credential `{credential}`: password command `{program}` {status}{detail}")]
    CommandFailed { credential: String, program: String, status: String, detail: String },

    #[error("credential `{credential}`: password command `{program}` did not finish within {seconds}s and was stopped; unlock the password manager first, or run it once by hand")]
    CommandTimeout { credential: String, program: String, seconds: u64 },

    #[error("credential `{credential}`: password command `{program}` printed no password (its first line of output is empty)")]
    CommandEmpty { credential: String, program: String },

    #[error("credential `{credential}`: password command `{program}` printed something that is not UTF-8 text")]
    CommandNotUtf8 { credential: String, program: String },

    #[error("credential `{credential}`: `password_prompt: true` needs a terminal, and stdin is not one; use password_env, password_file or password_command when running unattended")]
    NoTerminal { credential: String },

    #[error("credential `{credential}`: could not read the password from the terminal: {reason}")]
    PromptFailed { credential: String, reason: String },

    #[error("credential `{credential}`: an empty password was typed")]
    PromptEmpty { credential: String },

    #[error("credential `{credential}`: cannot read LAPS export {}: {reason}", path.display())]
    LapsRead { credential: String, path: PathBuf, reason: String },

    #[error("credential `{credential}`: LAPS export {} has no {what} column (its columns: {found}); expected one of: {expected}", path.display())]
    LapsColumns { credential: String, path: PathBuf, what: String, found: String, expected: String },

    #[error("credential `{credential}`: host {host} is not in LAPS export {} (looked for its name, its short name and its address); export it again or check the host's name", path.display())]
    LapsHostMissing { credential: String, host: String, path: PathBuf },

    #[error("credential `{credential}`: host {host} is in LAPS export {} more than once, with different passwords; remove the stale rows", path.display())]
    LapsAmbiguous { credential: String, host: String, path: PathBuf },

    #[error("credential `{credential}`: LAPS export {} has an empty password for host {host} (LAPS may not manage it yet)", path.display())]
    LapsEmpty { credential: String, host: String, path: PathBuf },

    #[error("credential `{credential}`: the inline password was not loaded with the inventory")]
    InlineMissing { credential: String },
}
