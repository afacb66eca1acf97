//! Asking for a password on the terminal (no echo), only when there is a
//! terminal. One prompt at a time, process-wide, so two credentials never
//! ask at once. Behind a trait so tests (and a future GUI) can answer.

use std::io::IsTerminal;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Why no password was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptError {
    /// stdin is not a terminal (cron, CI, a pipe).
    NoTerminal,
    /// Reading failed (terminal closed, Ctrl-D...).
    Failed(String),
}

/// Something that can ask the operator for a password.
pub trait Prompter: Send + Sync {
    fn prompt(&self, message: &str) -> Result<Zeroizing<String>, PromptError>;
}

/// Asks on the controlling terminal through `rpassword`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

static ONE_PROMPT_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Prompter for TerminalPrompter {
    fn prompt(&self, message: &str) -> Result<Zeroizing<String>, PromptError> {
        if !std::io::stdin().is_terminal() {
            return Err(PromptError::NoTerminal);
        }
        let _one = ONE_PROMPT_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        rpassword::prompt_password(message).map(Zeroizing::new).map_err(|e| PromptError::Failed(e.to_string()))
    }
}
