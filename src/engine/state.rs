//! Each host's place in the operation (pure): the states a host moves
//! through (contained, purged, rebooted, verified clean, released, or set
//! aside with a reason) and which moves are legal. A move the table does
//! not allow is a bug in the engine or a journal that does not belong to
//! this operation; it is refused, never applied.

use serde::{Deserialize, Serialize};

use super::event::Phase;

/// Where a host is in the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    /// In scope, not reached yet.
    Pending,
    /// Its plan is stale (scanned again after the plan was made): not acted
    /// on in this operation.
    Refused,
    /// Could not be reached (down, wrong password, WinRM off): set aside.
    Unreached,
    /// Containment rules in place and read back in effect.
    Contained,
    /// Reached, but containment could not be made or is not in effect.
    NotContained,
    /// The purge ran: every operation has an outcome.
    Purged,
    /// The purge could not be carried out: set aside.
    PurgeFailed,
    /// Asked to reboot; not back yet.
    RebootAsked,
    /// Back: its boot time changed and WinRM answers.
    Rebooted,
    /// Did not come back in time, or never started the reboot: set aside.
    RebootFailed,
    /// A scan after the purge (after boot, when it rebooted) found nothing
    /// to act on.
    Clean,
    /// A scan after the purge found something again: purged again within
    /// the re-purge budget.
    Dirty,
    /// Still dirty after the re-purge rounds: set aside for a person.
    NeedsPerson,
    /// Containment removed and read back gone.
    Released,
}

impl HostState {
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Pending => "pending",
            HostState::Refused => "refused",
            HostState::Unreached => "unreached",
            HostState::Contained => "contained",
            HostState::NotContained => "not_contained",
            HostState::Purged => "purged",
            HostState::PurgeFailed => "purge_failed",
            HostState::RebootAsked => "reboot_asked",
            HostState::Rebooted => "rebooted",
            HostState::RebootFailed => "reboot_failed",
            HostState::Clean => "clean",
            HostState::Dirty => "dirty",
            HostState::NeedsPerson => "needs_person",
            HostState::Released => "released",
        }
    }

    /// Parse [`HostState::as_str`] (journal rows).
    pub fn parse(text: &str) -> Option<HostState> {
        ALL.iter().copied().find(|s| s.as_str() == text)
    }

    /// Set aside: the operation goes on without the host, and it holds the
    /// release until handled or accepted by name.
    pub fn set_aside(self) -> bool {
        matches!(
            self,
            HostState::Refused
                | HostState::Unreached
                | HostState::PurgeFailed
                | HostState::RebootFailed
                | HostState::NeedsPerson
        )
    }

    /// Counted against the failure budget (from the purge on): a step the
    /// operation carried out on the host failed (its purge; its reboot
    /// never started or it did not come back). A host left for a person
    /// after its reboot worked is not: the reboot wave did its job, and
    /// what is left there is named for a person and holds the release, so
    /// one such canary does not stop every other host's reboot.
    pub fn is_failure(self) -> bool {
        matches!(self, HostState::PurgeFailed | HostState::RebootFailed)
    }

    /// The phase a host in this state last worked in.
    pub fn phase(self) -> Phase {
        match self {
            HostState::Pending
            | HostState::Refused
            | HostState::Unreached
            | HostState::Contained
            | HostState::NotContained => Phase::Contain,
            HostState::Purged | HostState::PurgeFailed => Phase::Purge,
            HostState::RebootAsked | HostState::Rebooted | HostState::RebootFailed => {
                Phase::Reboot
            }
            HostState::Clean | HostState::Dirty | HostState::NeedsPerson => Phase::Verify,
            HostState::Released => Phase::Release,
        }
    }
}

const ALL: [HostState; 14] = [
    HostState::Pending,
    HostState::Refused,
    HostState::Unreached,
    HostState::Contained,
    HostState::NotContained,
    HostState::Purged,
    HostState::PurgeFailed,
    HostState::RebootAsked,
    HostState::Rebooted,
    HostState::RebootFailed,
    HostState::Clean,
    HostState::Dirty,
    HostState::NeedsPerson,
    HostState::Released,
];

/// Is the move `from` → `to` legal?
pub fn allowed(from: HostState, to: HostState) -> bool {
    use HostState::*;
    if from == to {
        // Re-stating a state (a resumed run confirming it) changes nothing.
        return true;
    }
    if to == Released {
        // The operator may release any host of the operation (`release
        // --host`); a refused host was never part of it.
        return from != Refused;
    }
    match from {
        // A host that is reached is contained or not; one that is not is
        // unreached; a stale plan refuses it before anything.
        Pending => matches!(to, Contained | NotContained | Unreached | Refused),
        // Unreached: reached later (a resume, a late host).
        Unreached => matches!(to, Contained | NotContained | Pending),
        // Containment may be made later (a `contain` run).
        Contained | NotContained => matches!(to, Contained | NotContained | Purged | PurgeFailed | Unreached),
        // A failed purge is tried again by a resumed run.
        PurgeFailed => matches!(to, Purged | Unreached),
        // After the purge: reboot, or (no reboot needed) the verifying
        // scan; a re-check before the reboot can find something again. A
        // resumed run can find it back from a reboot an earlier run asked
        // for just before it ended (before the state was written).
        Purged => matches!(
            to,
            RebootAsked | Rebooted | Clean | Dirty | NeedsPerson | PurgeFailed | Unreached | RebootFailed
        ),
        // A halt aborts the countdown: the host is purged, not rebooting.
        // A resumed run asking again can find users logged on (`logged_on`).
        RebootAsked => matches!(to, Rebooted | RebootFailed | Purged | Unreached | NeedsPerson),
        // A resumed run reads the boot time again.
        RebootFailed => matches!(to, RebootAsked | Rebooted | Unreached | NeedsPerson),
        Rebooted => matches!(to, Clean | Dirty | NeedsPerson | Unreached),
        Dirty => matches!(to, Purged | PurgeFailed | NeedsPerson | Unreached),
        // A person handled it: a later scan decides. One set aside for its
        // logged-on users is taken up again at its reboot by a resumed run.
        NeedsPerson => matches!(to, Clean | Dirty | Purged),
        Clean => matches!(to, Dirty),
        Released => false,
        // A host that had no scan when the plan was made (down then) is
        // taken into the operation when it answers `watch`: contained,
        // then scanned and planned as a verifying scan is.
        Refused => to == Pending,
    }
}

/// A move the table does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host}: the operation cannot go from {} to {} (journal and engine disagree; report this)", from.as_str(), to.as_str())]
pub struct IllegalMove {
    pub host: String,
    pub from: HostState,
    pub to: HostState,
}

/// One host's state with what the phases need to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub name: String,
    pub state: HostState,
    /// Why it is in this state (set aside, not contained, ...).
    pub reason: Option<String>,
    /// Re-purge round: 0 for the plan's purge, 1.. for each re-purge.
    pub round: u32,
    /// Containment rules are on the host (made, not yet released).
    pub contained: bool,
}

impl HostRecord {
    pub fn new(name: &str) -> HostRecord {
        HostRecord {
            name: name.to_string(),
            state: HostState::Pending,
            reason: None,
            round: 0,
            contained: false,
        }
    }

    /// Move to `to` (with why), or refuse an illegal move.
    pub fn advance(&mut self, to: HostState, reason: Option<String>) -> Result<(), IllegalMove> {
        if !allowed(self.state, to) {
            return Err(IllegalMove {
                host: self.name.clone(),
                from: self.state,
                to,
            });
        }
        match to {
            HostState::Contained => self.contained = true,
            HostState::Released => self.contained = false,
            _ => {}
        }
        self.state = to;
        self.reason = reason;
        Ok(())
    }
}

/// After a verifying scan in round `round` (0 for the plan's purge): clean,
/// dirty again (another round allowed), or for a person.
pub fn after_verify(found_something: bool, round: u32, repurge_rounds: u32) -> HostState {
    if !found_something {
        HostState::Clean
    } else if round < repurge_rounds {
        HostState::Dirty
    } else {
        HostState::NeedsPerson
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HostState::*;

    #[test]
    fn the_whole_path_of_a_host_is_legal() {
        let mut h = HostRecord::new("WS-001");
        for to in [Contained, Purged, RebootAsked, Rebooted, Dirty, Purged, RebootAsked, Rebooted, Clean, Released] {
            h.advance(to, None).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(!h.contained, "released hosts hold no rules");
    }

    #[test]
    fn skipping_a_step_is_refused_and_leaves_the_state() {
        let mut h = HostRecord::new("WS-001");
        let e = h.advance(Purged, None).unwrap_err();
        assert_eq!((e.from, e.to), (Pending, Purged));
        assert_eq!(h.state, Pending);
        h.advance(Contained, None).unwrap();
        assert!(h.contained);
        // Cannot be verified clean without the purge, cannot be released
        // again once released, and a refused host stays refused.
        assert!(!allowed(Contained, Clean));
        assert!(!allowed(Released, Contained));
        assert!(!allowed(Refused, Contained));
        assert!(!allowed(Refused, Clean), "a refused host is never verified without being taken in");
        assert!(allowed(Refused, Pending), "watch takes a late host into the operation");
        assert!(!allowed(Rebooted, RebootAsked));
        assert!(h.advance(Clean, None).is_err());
    }

    #[test]
    fn set_aside_hosts_and_the_budget() {
        for s in ALL {
            // Every state round-trips through its journal text.
            assert_eq!(HostState::parse(s.as_str()), Some(s));
            // Every failure is set aside.
            assert!(!s.is_failure() || s.set_aside(), "{s:?}");
        }
        assert!(Unreached.set_aside() && !Unreached.is_failure());
        assert!(NeedsPerson.set_aside() && !NeedsPerson.is_failure());
        assert!(PurgeFailed.is_failure() && RebootFailed.is_failure());
        assert!(!Clean.set_aside());
        assert_eq!(HostState::parse("nonsense"), None);
    }

    #[test]
    fn re_purge_rounds_before_a_person() {
        assert_eq!(after_verify(false, 0, 2), Clean);
        assert_eq!(after_verify(true, 0, 2), Dirty);
        assert_eq!(after_verify(true, 1, 2), Dirty);
        assert_eq!(after_verify(true, 2, 2), NeedsPerson);
        assert_eq!(after_verify(true, 0, 0), NeedsPerson);
        assert_eq!(after_verify(false, 2, 2), Clean);
    }
}
