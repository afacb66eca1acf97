//! Bounded exponential back-off for the requests that may be re-sent
//! (opening a shell; starting a command when nothing was sent), and the
//! budget of a shell opening's tries. Pure.

use std::time::Duration;

/// Tries in all (the first one included).
pub const MAX_TRIES: u32 = 3;

/// First back-off; each later one doubles it.
pub const BASE_DELAY: Duration = Duration::from_millis(500);

/// The pause before try number `next_try` (1 = the first retry), or `None`
/// when the tries are used up.
pub fn delay_before(next_try: u32) -> Option<Duration> {
    if next_try == 0 || next_try >= MAX_TRIES {
        return None;
    }
    Some(BASE_DELAY * 2u32.pow(next_try - 1))
}

/// How a try to open a shell failed, as far as retrying goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFailureKind {
    /// Network trouble or a connection that lost its NTLM session: the
    /// host reached no verdict on the logon, so the same logon is re-sent.
    Transient,
    /// The host refused the logon (counted by the lock-out gate).
    Rejected,
    /// Anything else: the answer.
    Final,
}

/// What follows a failed try to open a shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextTry {
    /// Pause, then send the same logon again.
    After(Duration),
    /// A rejected logon's one second chance.
    LogonAgain,
    /// The failure is the answer.
    GiveUp,
}

/// The tries of one shell opening. Transient failures and rejected logons
/// have separate budgets: [`MAX_TRIES`] for the first, `logon_tries` for
/// the second. A shared budget let a connection that lost its session
/// after a second-chance logon use up the tries and fail a logon that the
/// host would have accepted.
#[derive(Clone, Copy, Debug)]
pub struct OpenTries {
    transient: u32,
    logons: u32,
    logon_tries: u32,
}

impl OpenTries {
    /// A fresh opening that allows `logon_tries` logons in all.
    pub fn new(logon_tries: u32) -> Self {
        OpenTries {
            transient: 0,
            logons: 1,
            logon_tries,
        }
    }

    /// Record a failed try and say what follows.
    pub fn after(&mut self, failure: OpenFailureKind) -> NextTry {
        match failure {
            OpenFailureKind::Transient => {
                self.transient += 1;
                delay_before(self.transient).map_or(NextTry::GiveUp, NextTry::After)
            }
            OpenFailureKind::Rejected if self.logons < self.logon_tries => {
                self.logons += 1;
                NextTry::LogonAgain
            }
            OpenFailureKind::Rejected | OpenFailureKind::Final => NextTry::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lost_after_a_second_logon_is_still_retried() {
        // What CI saw: lost session, stranded logon, lost session again.
        let mut tries = OpenTries::new(2);
        assert_eq!(tries.after(OpenFailureKind::Transient), NextTry::After(BASE_DELAY));
        assert_eq!(tries.after(OpenFailureKind::Rejected), NextTry::LogonAgain);
        assert_eq!(
            tries.after(OpenFailureKind::Transient),
            NextTry::After(BASE_DELAY * 2)
        );
    }

    #[test]
    fn each_budget_ends_on_its_own() {
        let mut tries = OpenTries::new(2);
        assert_eq!(tries.after(OpenFailureKind::Rejected), NextTry::LogonAgain);
        assert_eq!(tries.after(OpenFailureKind::Rejected), NextTry::GiveUp, "no third logon");
        let mut tries = OpenTries::new(2);
        assert!(matches!(tries.after(OpenFailureKind::Transient), NextTry::After(_)));
        assert!(matches!(tries.after(OpenFailureKind::Transient), NextTry::After(_)));
        assert_eq!(tries.after(OpenFailureKind::Transient), NextTry::GiveUp);
        assert_eq!(OpenTries::new(2).after(OpenFailureKind::Final), NextTry::GiveUp);
    }

    #[test]
    fn backoff_doubles_and_stops() {
        assert_eq!(delay_before(1), Some(Duration::from_millis(500)));
        assert_eq!(delay_before(2), Some(Duration::from_secs(1)));
        assert_eq!(delay_before(3), None);
        assert_eq!(delay_before(0), None);
    }
}
