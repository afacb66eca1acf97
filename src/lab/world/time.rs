//! Lab time: Windows FILETIME ticks (100 ns since 1601-01-01 UTC), the unit
//! Windows itself uses for file times, boot time and task boundaries, so
//! values can be reported exactly as `ToFileTime()` would.

use std::fmt;

/// A point in lab time, in FILETIME ticks.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LabTime(pub u64);

/// Ticks per second.
pub const TICKS_PER_SEC: u64 = 10_000_000;
/// FILETIME of the Unix epoch.
const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;

impl LabTime {
    /// The default start of lab time: 2024-03-04 09:00:00 UTC (a Monday).
    pub const EPOCH: LabTime = LabTime(UNIX_EPOCH_TICKS + 1_709_542_800 * TICKS_PER_SEC);

    pub fn from_unix_secs(secs: u64) -> LabTime {
        LabTime(UNIX_EPOCH_TICKS + secs * TICKS_PER_SEC)
    }
    pub fn unix_secs(self) -> u64 {
        self.0.saturating_sub(UNIX_EPOCH_TICKS) / TICKS_PER_SEC
    }
    /// FILETIME value (what `[DateTime]::ToFileTimeUtc()` returns).
    pub fn filetime(self) -> u64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> LabTime {
        let d = secs.unsigned_abs() * TICKS_PER_SEC;
        LabTime(if secs >= 0 {
            self.0 + d
        } else {
            self.0.saturating_sub(d)
        })
    }
    pub fn plus_days(self, days: i64) -> LabTime {
        self.plus_secs(days * 86_400)
    }
    /// Signed difference `self - other` in seconds.
    pub fn secs_since(self, other: LabTime) -> i64 {
        (self.0 as i128 - other.0 as i128).div_euclid(TICKS_PER_SEC as i128) as i64
    }
}

impl fmt::Debug for LabTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LabTime(unix {})", self.unix_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_arithmetic() {
        let t = LabTime::from_unix_secs(0);
        assert_eq!(t.filetime(), 116_444_736_000_000_000);
        let a = LabTime::EPOCH;
        assert_eq!(a.plus_days(-7).secs_since(a), -7 * 86_400);
        assert_eq!(a.plus_secs(90).unix_secs(), a.unix_secs() + 90);
    }
}
