//! The lab clock: lab time runs from a start at `speed` lab seconds per
//! wall second, so a test can watch an outbreak spread over hours of lab
//! time in seconds of wall time.

use std::time::{Duration, Instant};

use crate::lab::world::LabTime;
use crate::lab::world::time::TICKS_PER_SEC;

/// Lab time = start + wall time elapsed since the lab started × speed.
#[derive(Debug, Clone)]
pub struct LabClock {
    start: LabTime,
    speed: f64,
    wall_start: Instant,
}

impl LabClock {
    /// A clock reading `start` now and running `speed` times faster than
    /// wall time (speeds below 0.001 are taken as 0.001).
    pub fn new(start: LabTime, speed: f64) -> LabClock {
        let speed = if speed.is_finite() {
            speed.max(0.001)
        } else {
            1.0
        };
        LabClock {
            start,
            speed,
            wall_start: Instant::now(),
        }
    }

    /// Lab time now.
    pub fn now(&self) -> LabTime {
        self.at(self.wall_start.elapsed())
    }

    /// Lab time `wall` after the lab started.
    pub fn at(&self, wall: Duration) -> LabTime {
        let ticks = wall.as_secs_f64() * self.speed * TICKS_PER_SEC as f64;
        LabTime(self.start.0.saturating_add(ticks as u64))
    }

    /// Lab time when the lab started.
    pub fn start(&self) -> LabTime {
        self.start
    }

    /// Lab seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Lab seconds since the start.
    pub fn elapsed_secs(&self) -> i64 {
        self.now().secs_since(self.start)
    }

    /// Wall time that `lab_secs` of lab time take.
    pub fn wall_for(&self, lab_secs: u64) -> Duration {
        Duration::from_secs_f64(lab_secs as f64 / self.speed)
    }

    /// Wall time from now until lab time reaches `at` (zero when it has).
    pub fn wall_until(&self, at: LabTime) -> Duration {
        let ticks = at.0.saturating_sub(self.now().0);
        Duration::from_secs_f64(ticks as f64 / TICKS_PER_SEC as f64 / self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_time_runs_at_its_speed() {
        let c = LabClock::new(LabTime::EPOCH, 60.0);
        assert_eq!(
            c.at(Duration::from_secs(60)),
            LabTime::EPOCH.plus_secs(3600)
        );
        assert_eq!(c.wall_for(3600), Duration::from_secs(60));
        assert!(c.now() >= LabTime::EPOCH);
        assert!(c.wall_until(LabTime::EPOCH.plus_secs(3600)) <= Duration::from_secs(60));
        assert_eq!(c.wall_until(LabTime::EPOCH), Duration::ZERO);
        assert_eq!(LabClock::new(LabTime::EPOCH, f64::NAN).speed(), 1.0);
    }
}
