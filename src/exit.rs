//! Process exit codes, defined once and documented in `cauterize --help`.

/// Every host succeeded.
pub const OK: i32 = 0;
/// Bad usage or bad input (inventory, script file); nothing was run.
pub const USAGE: i32 = 1;
/// Some hosts failed, others succeeded.
pub const PARTIAL: i32 = 2;
/// Every host failed.
pub const ALL_FAILED: i32 = 3;
/// Interrupted by Ctrl-C (shells were closed first).
pub const INTERRUPTED: i32 = 130;

/// The code for a run over `total` hosts of which `failed` failed.
pub fn for_outcome(total: usize, failed: usize) -> i32 {
    if failed == 0 {
        OK
    } else if failed < total {
        PARTIAL
    } else {
        ALL_FAILED
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn outcome_codes() {
        assert_eq!(super::for_outcome(3, 0), super::OK);
        assert_eq!(super::for_outcome(3, 1), super::PARTIAL);
        assert_eq!(super::for_outcome(3, 3), super::ALL_FAILED);
        assert_eq!(super::for_outcome(0, 0), super::OK);
    }
}
