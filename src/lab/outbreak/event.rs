//! What happened in the network, in lab-time order. Hosts are named by
//! their index in the slice the engine steps.

use crate::lab::malware::{Family, MalwareEvent, Vector};
use crate::lab::world::files::FsError;
use crate::lab::world::pending::PendingOp;
use crate::lab::world::time::LabTime;

/// Which firewall stopped a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The infected host's outbound rules.
    Source,
    /// The target's inbound rules.
    Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A loader moved to another host.
    Spread {
        from: usize,
        to: usize,
        family: Family,
        vector: Vector,
    },
    /// A firewall stopped TCP 445; `rule` is the block rule, None when the
    /// default policy did.
    SpreadBlocked {
        from: usize,
        to: usize,
        family: Family,
        by: Side,
        rule: Option<String>,
    },
    /// SMB reached the target but there was no way in (different local
    /// admin password, no domain credential, MS17-010 patched).
    SpreadDenied {
        from: usize,
        to: usize,
        family: Family,
    },
    /// The target was off.
    SpreadUnreachable {
        from: usize,
        to: usize,
        family: Family,
    },
    /// Something a loader did on a host (watchdog re-creation, shutdown
    /// write, start, Qakbot's start-up clean-up).
    Malware { host: usize, event: MalwareEvent },
    /// A reboot began (loaders had their shutdown hook).
    ShuttingDown { host: usize },
    /// The host booted: the pending-rename queue ran with these results.
    Booted {
        host: usize,
        renames: Vec<(PendingOp, Result<(), FsError>)>,
        boot_count: u32,
    },
    /// WinRM answers again.
    WinRmUp { host: usize },
    /// The reboot hung.
    Hung { host: usize },
    /// A reboot was asked for and did not happen: the host stays up with
    /// everything running, its boot time and rename queue untouched.
    RebootFailed { host: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: LabTime,
    pub kind: EventKind,
}
