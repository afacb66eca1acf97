//! Counting outcomes and the one-line summary
//! `N ok, M failed (x unreachable, y auth, z timeout, w non-zero exit)`.
//! Pure.

use crate::transport::ErrorKind;
use std::collections::BTreeMap;

/// Why a host counts as failed. The order is the order in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Unreachable,
    Auth,
    Timeout,
    /// A step did not finish within a short preflight time-out (`check`).
    Hung,
    NonZeroExit,
    NotAdmin,
    Quota,
    Refused,
    Protocol,
    OutputTooLarge,
    Interrupted,
    Tls,
}

impl Category {
    /// The category of a transport failure.
    pub fn of_kind(kind: ErrorKind) -> Category {
        match kind {
            ErrorKind::Unreachable => Category::Unreachable,
            ErrorKind::AuthFailed => Category::Auth,
            ErrorKind::TimedOut => Category::Timeout,
            ErrorKind::QuotaExceeded => Category::Quota,
            ErrorKind::Refused => Category::Refused,
            ErrorKind::Protocol => Category::Protocol,
            ErrorKind::OutputTooLarge => Category::OutputTooLarge,
            ErrorKind::Interrupted => Category::Interrupted,
            ErrorKind::Tls => Category::Tls,
        }
    }

    /// How the summary names it.
    pub fn label(self) -> &'static str {
        match self {
            Category::Unreachable => "unreachable",
            Category::Auth => "auth",
            Category::Timeout => "timeout",
            Category::Hung => "hung",
            Category::NonZeroExit => "non-zero exit",
            Category::NotAdmin => "not admin",
            Category::Quota => "shell quota",
            Category::Refused => "refused",
            Category::Protocol => "protocol error",
            Category::OutputTooLarge => "output too large",
            Category::Interrupted => "interrupted",
            Category::Tls => "tls",
        }
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub failed: usize,
    pub by_category: BTreeMap<Category, usize>,
}

impl Summary {
    /// Count one host: `None` for success.
    pub fn add(&mut self, failure: Option<Category>) {
        match failure {
            None => self.ok += 1,
            Some(c) => {
                self.failed += 1;
                *self.by_category.entry(c).or_default() += 1;
            }
        }
    }

    pub fn total(&self) -> usize {
        self.ok + self.failed
    }

    /// `38 ok, 3 failed (2 unreachable, 1 non-zero exit)`; the parenthesis
    /// lists only the categories that occurred.
    pub fn line(&self) -> String {
        let mut text = format!("{} ok, {} failed", self.ok, self.failed);
        if self.failed > 0 {
            let parts: Vec<String> = self
                .by_category
                .iter()
                .map(|(c, n)| format!("{n} {}", c.label()))
                .collect();
            text.push_str(&format!(" ({})", parts.join(", ")));
        }
        text
    }

    /// The process exit code for this run (see [`crate::exit`]).
    pub fn exit_code(&self, interrupted: bool) -> i32 {
        if interrupted {
            crate::exit::INTERRUPTED
        } else {
            crate::exit::for_outcome(self.total(), self.failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lists_categories_in_order() {
        let mut s = Summary::default();
        for f in [
            None,
            Some(Category::NonZeroExit),
            Some(Category::Unreachable),
            None,
            Some(Category::Unreachable),
            Some(Category::Timeout),
            Some(Category::Auth),
        ] {
            s.add(f);
        }
        assert_eq!(
            s.line(),
            "2 ok, 5 failed (2 unreachable, 1 auth, 1 timeout, 1 non-zero exit)"
        );
        assert_eq!(s.exit_code(false), crate::exit::PARTIAL);
        assert_eq!(s.exit_code(true), crate::exit::INTERRUPTED);
    }

    #[test]
    fn all_ok_and_all_failed() {
        let mut s = Summary::default();
        s.add(None);
        assert_eq!(s.line(), "1 ok, 0 failed");
        assert_eq!(s.exit_code(false), crate::exit::OK);
        let mut f = Summary::default();
        f.add(Some(Category::of_kind(ErrorKind::QuotaExceeded)));
        assert_eq!(f.line(), "0 ok, 1 failed (1 shell quota)");
        assert_eq!(f.exit_code(false), crate::exit::ALL_FAILED);
    }
}
