//! What an operation is told beyond the plan: how hosts are grouped for
//! the reboot, the wave sizes, the failure budget, how long each step may
//! take and how often it is retried, the re-purge rounds, the release
//! policy. Every default is the one the playbook documents; the playbook's
//! later-phase sections fill these in when they are given.

use std::time::Duration;

/// What a host is, for the order of the reboot waves and the purge: an
/// infected server or domain controller can reach other hosts over SMB
/// even when contained (it is exempt), so it is purged first; its reboot
/// comes in group order (workstations, servers, domain controllers last,
/// one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Workstation,
    Server,
    DomainController,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Workstation => "workstation",
            Role::Server => "server",
            Role::DomainController => "domain_controller",
        }
    }

    /// Servers and domain controllers keep SMB for their role: they are
    /// exempt from containment by default.
    pub fn exempt_by_default(self) -> bool {
        self != Role::Workstation
    }
}

/// When the operation halts: more hosts set aside than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FailureBudget {
    /// More than this many hosts.
    Count(u32),
    /// More than this percentage of the hosts counted against.
    Percent(u8),
}

impl FailureBudget {
    /// Is the budget spent when `failed` of `base` hosts were set aside?
    pub fn exceeded(self, failed: usize, base: usize) -> bool {
        match self {
            FailureBudget::Count(n) => failed > n as usize,
            FailureBudget::Percent(p) => failed * 100 > usize::from(p) * base,
        }
    }

    /// `10%` or `3 hosts`, for messages.
    pub fn describe(self) -> String {
        match self {
            FailureBudget::Count(n) => format!("{n} host{}", if n == 1 { "" } else { "s" }),
            FailureBudget::Percent(p) => format!("{p}%"),
        }
    }
}

/// When containment is lifted: the playbook's `release:`.
pub use crate::playbook::ReleasePolicy;

/// Retries of a step that failed in a way that may pass (the host did not
/// answer, the network dropped): `tries` in all, the pause doubling from
/// `first_delay` up to `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryPolicy {
    pub tries: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The pause before try number `next` (2 = the first retry), or `None`
    /// when the tries are used up.
    pub fn delay_before(&self, next: u32) -> Option<Duration> {
        if next < 2 || next > self.tries {
            return None;
        }
        let doubled = self
            .first_delay
            .checked_mul(1u32 << (next - 2).min(20))
            .unwrap_or(self.max_delay);
        Some(doubled.min(self.max_delay))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            tries: 3,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The containment phase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainSettings {
    /// The purge may start while some reachable hosts could not be
    /// contained (they hold the release). When false, the operation halts
    /// before the purge instead.
    pub purge_without_containment: bool,
    /// The dead-man: the rules remove themselves this long after they were
    /// made, unless the running operation extends them.
    pub deadman: Duration,
    /// How often the running operation pushes the dead-man's deadline out.
    pub extend_every: Duration,
}

/// How the reboot waves run. Which hosts are in which wave is the
/// reviewed plan's (`crate::plan::waves`, from the playbook's `reboot:`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RebootSettings {
    /// Wait for the operator's go-ahead after the first wave (the canary).
    pub canary_go_ahead: bool,
    pub pause_between_waves: Duration,
    /// Most hosts down (asked to reboot and not back yet) at once.
    pub max_down: usize,
    /// Countdown shown to logged-on users before the reboot.
    pub countdown: Duration,
    pub message: String,
    /// How long a host may take to come back (after its countdown) before
    /// it is set aside.
    pub back_within: Duration,
    /// How often a rebooting host's boot time is read (and, under
    /// `logged_on: wait`, its logged-on users).
    pub poll_every: Duration,
    /// What happens where users are logged on when a host's reboot comes
    /// (an operation journaled before this setting existed: `reboot`).
    #[serde(default = "reboot_whoever")]
    pub logged_on: LoggedOn,
    /// With `logged_on: wait`: how long to wait for them to log off.
    #[serde(default)]
    pub logoff_wait: Duration,
}

/// What the playbook's `reboot.logged_on` says.
pub use crate::playbook::LoggedOn;

fn reboot_whoever() -> LoggedOn {
    LoggedOn::Reboot
}

/// Everything an operation runs with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperationSettings {
    /// Hosts worked on at the same time.
    pub forks: usize,
    /// Longest one host step may take (a purge, a scan) before it is
    /// counted as failed.
    pub step_timeout: Duration,
    pub retry: RetryPolicy,
    pub contain: ContainSettings,
    pub reboot: RebootSettings,
    /// Hosts set aside from the purge on: more than this halts the
    /// operation.
    pub budget: FailureBudget,
    /// Re-purge rounds after a post-boot scan finds something, before the
    /// host is marked as needing a person.
    pub repurge_rounds: u32,
    /// Wait this long after a host is back from its reboot before its
    /// verifying scan, so that what starts at boot and at logon has
    /// started (the playbook's `verify.settle`; an operation journaled
    /// before this setting existed: none).
    #[serde(default)]
    pub settle: Duration,
    pub release: ReleasePolicy,
    /// Copy each file out as evidence before it is deleted (the playbook's
    /// `quarantine`).
    pub quarantine: bool,
}

impl OperationSettings {
    /// The settings a plan was made with (the playbook's sections, as the
    /// plan recorded them) for an operation over `hosts` hosts, worked on
    /// `forks` at a time; what the playbook does not say (time-outs,
    /// retries, how often a rebooting host is polled) keeps its default.
    pub fn from_playbook(p: &crate::playbook::Sections, forks: usize, hosts: usize) -> OperationSettings {
        let d = OperationSettings::default();
        let budget = match p.reboot.failure_budget {
            crate::playbook::Share::Count(n) => FailureBudget::Count(n),
            crate::playbook::Share::Percent(n) => FailureBudget::Percent(n.min(100) as u8),
        };
        OperationSettings {
            forks,
            contain: ContainSettings {
                purge_without_containment: p.contain.purge_if_uncontained,
                deadman: p.contain.dead_man,
                extend_every: p.contain.extend_every,
            },
            reboot: RebootSettings {
                canary_go_ahead: p.reboot.confirm_after_canary,
                pause_between_waves: p.reboot.pause,
                max_down: p.reboot.max_down.of_up(hosts).max(1),
                countdown: p.reboot.countdown,
                message: p.reboot.message.clone(),
                back_within: p.reboot.return_timeout,
                logged_on: p.reboot.logged_on,
                logoff_wait: p.reboot.logoff_wait,
                ..d.reboot
            },
            budget,
            repurge_rounds: p.verify.repurge_rounds,
            settle: p.verify.settle,
            release: p.release,
            quarantine: p.purge.quarantine,
            ..d
        }
    }
}

impl Default for OperationSettings {
    fn default() -> Self {
        OperationSettings {
            forks: 64,
            step_timeout: Duration::from_secs(900),
            retry: RetryPolicy::default(),
            contain: ContainSettings {
                purge_without_containment: true,
                deadman: Duration::from_secs(4 * 3600),
                extend_every: Duration::from_secs(15 * 60),
            },
            reboot: RebootSettings {
                canary_go_ahead: false,
                pause_between_waves: Duration::from_secs(60),
                max_down: 50,
                countdown: Duration::from_secs(300),
                message: "Security maintenance: this computer restarts in 5 minutes. Save your work.".into(),
                back_within: Duration::from_secs(20 * 60),
                poll_every: Duration::from_secs(10),
                logged_on: LoggedOn::Reboot,
                logoff_wait: Duration::from_secs(1800),
            },
            budget: FailureBudget::Percent(10),
            repurge_rounds: 2,
            settle: Duration::from_secs(120),
            release: ReleasePolicy::AllClean,
            quarantine: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_and_percentages() {
        assert!(!FailureBudget::Count(2).exceeded(2, 10));
        assert!(FailureBudget::Count(2).exceeded(3, 10));
        assert!(FailureBudget::Count(0).exceeded(1, 1000));
        // 10% of 50 is 5: five is within, six is over.
        assert!(!FailureBudget::Percent(10).exceeded(5, 50));
        assert!(FailureBudget::Percent(10).exceeded(6, 50));
        // A failed canary is 100% of the hosts tried so far.
        assert!(FailureBudget::Percent(10).exceeded(1, 1));
        assert!(!FailureBudget::Percent(10).exceeded(0, 0));
    }

    #[test]
    fn retries_back_off_doubling_up_to_the_cap() {
        let r = RetryPolicy {
            tries: 5,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(5),
        };
        assert_eq!(r.delay_before(1), None);
        assert_eq!(r.delay_before(2), Some(Duration::from_secs(2)));
        assert_eq!(r.delay_before(3), Some(Duration::from_secs(4)));
        assert_eq!(r.delay_before(4), Some(Duration::from_secs(5)));
        assert_eq!(r.delay_before(5), Some(Duration::from_secs(5)));
        assert_eq!(r.delay_before(6), None);
    }
}
