//! Shutdowns that commands scheduled on hosts (`shutdown /r /t N`,
//! `Restart-Computer`): kept per host ([`Schedule`], under the network
//! lock) until lab time reaches them, then carried out by the network's
//! step in time order, never by the command that asked (it holds the
//! network lock while it runs). An [`Alarm`] tells the outbreak runner
//! when the next one is due, so it steps then rather than at its next
//! regular step, and wakes it when one is scheduled.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::lab::emulate::power::Shutdown;
use crate::lab::world::LabTime;

/// The shutdowns scheduled now, by host index (few at a time).
#[derive(Debug, Default)]
pub struct Schedule {
    by_host: HashMap<usize, Shutdown>,
}

impl Schedule {
    /// Host `index`'s shutdown, taken out for a command to see and change;
    /// give it back with [`put`](Self::put).
    pub fn take(&mut self, index: usize) -> Option<Shutdown> {
        self.by_host.remove(&index)
    }

    /// Set (or, with `None`, clear) host `index`'s shutdown.
    pub fn put(&mut self, index: usize, shutdown: Option<Shutdown>) {
        match shutdown {
            Some(s) => {
                self.by_host.insert(index, s);
            }
            None => {
                self.by_host.remove(&index);
            }
        }
    }

    /// Host `index`'s shutdown, if one is scheduled.
    pub fn get(&self, index: usize) -> Option<&Shutdown> {
        self.by_host.get(&index)
    }

    /// Remove and return the shutdowns due at `now`, earliest first (ties
    /// by host index, so the order is deterministic).
    pub fn take_due(&mut self, now: LabTime) -> Vec<(usize, Shutdown)> {
        let mut due: Vec<usize> = self
            .by_host
            .iter()
            .filter(|(_, s)| s.at <= now)
            .map(|(i, _)| *i)
            .collect();
        due.sort_by_key(|i| (self.by_host[i].at, *i));
        due.into_iter()
            .filter_map(|i| self.by_host.remove(&i).map(|s| (i, s)))
            .collect()
    }

    /// When the next one is due.
    pub fn next(&self) -> Option<LabTime> {
        self.by_host.values().map(|s| s.at).min()
    }
}

/// When the next scheduled shutdown is due, readable without the network
/// lock, and a wake-up for the runner when an earlier one is scheduled.
#[derive(Debug)]
pub struct Alarm {
    /// Lab ticks of the next one (`u64::MAX`: none). May be early (an
    /// aborted shutdown): the runner then steps once for nothing.
    next: AtomicU64,
    wake: Notify,
}

impl Default for Alarm {
    fn default() -> Self {
        Alarm {
            next: AtomicU64::new(u64::MAX),
            wake: Notify::new(),
        }
    }
}

impl Alarm {
    /// A shutdown is scheduled at `at`: wake the runner if it is the
    /// earliest.
    pub fn set(&self, at: LabTime) {
        if at.0 < self.next.fetch_min(at.0, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// The next one is at `next` (after a step took the due ones).
    pub fn reset(&self, next: Option<LabTime>) {
        self.next
            .store(next.map_or(u64::MAX, |t| t.0), Ordering::Release);
    }

    /// When the next one is due.
    pub fn next(&self) -> Option<LabTime> {
        let ticks = self.next.load(Ordering::Acquire);
        (ticks != u64::MAX).then_some(LabTime(ticks))
    }

    /// Resolves when an earlier shutdown was scheduled since the last call
    /// (at once if one was scheduled while nobody waited).
    pub async fn rung(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::emulate::power::PowerAction;

    fn at(secs: i64) -> Shutdown {
        Shutdown {
            at: LabTime::EPOCH.plus_secs(secs),
            action: PowerAction::Restart,
            comment: String::new(),
        }
    }

    #[test]
    fn due_shutdowns_come_out_in_time_order_and_the_rest_stay() {
        let mut s = Schedule::default();
        s.put(3, Some(at(20)));
        s.put(1, Some(at(20)));
        s.put(2, Some(at(10)));
        s.put(4, Some(at(99)));
        let due: Vec<usize> = s
            .take_due(LabTime::EPOCH.plus_secs(20))
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(due, vec![2, 1, 3]);
        assert_eq!(s.next(), Some(LabTime::EPOCH.plus_secs(99)));
        s.put(4, None);
        assert_eq!(s.next(), None);
    }

    #[tokio::test]
    async fn the_alarm_rings_for_an_earlier_shutdown_only() {
        let alarm = Alarm::default();
        assert_eq!(alarm.next(), None);
        alarm.set(LabTime::EPOCH.plus_secs(10));
        // The permit waits for the runner.
        tokio::time::timeout(std::time::Duration::from_secs(5), alarm.rung())
            .await
            .expect("rung");
        alarm.set(LabTime::EPOCH.plus_secs(50));
        assert_eq!(alarm.next(), Some(LabTime::EPOCH.plus_secs(10)));
        let later = tokio::time::timeout(std::time::Duration::from_millis(20), alarm.rung()).await;
        assert!(later.is_err(), "a later shutdown does not wake the runner");
        alarm.reset(None);
        assert_eq!(alarm.next(), None);
    }
}
