//! What the progress views count, from the engine's events (pure): per
//! phase, hosts in it, done, failed, and the hosts running now with when
//! they started and what they are doing (for "slowest").

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::engine::event::{Event, Phase};

/// One phase's counts.
#[derive(Debug, Clone, Default)]
pub struct PhaseTally {
    /// Hosts the phase works on (0 when unknown).
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    /// Running hosts: when they started, and their step.
    pub running: BTreeMap<String, (Instant, String)>,
    pub finished: bool,
}

impl PhaseTally {
    /// The `n` hosts running longest, with for how long, at `now`.
    pub fn slowest(&self, now: Instant, n: usize) -> Vec<(String, Duration, String)> {
        let mut v: Vec<(String, Duration, String)> = self
            .running
            .iter()
            .map(|(h, (t, step))| (h.clone(), now.saturating_duration_since(*t), step.clone()))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// Counts of every phase seen, in the order phases started.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub phases: Vec<(Phase, PhaseTally)>,
}

impl Tally {
    fn phase(&mut self, phase: Phase) -> &mut PhaseTally {
        if let Some(i) = self.phases.iter().position(|(p, _)| *p == phase) {
            return &mut self.phases[i].1;
        }
        self.phases.push((phase, PhaseTally::default()));
        &mut self.phases.last_mut().expect("just pushed").1
    }

    /// The phase that started last.
    pub fn current(&self) -> Option<&(Phase, PhaseTally)> {
        self.phases.iter().rev().find(|(_, t)| !t.finished).or(self.phases.last())
    }

    /// Count `event`, seen at `now`.
    pub fn see(&mut self, event: &Event, now: Instant) {
        match event {
            Event::PhaseStarted { phase, hosts } => {
                let t = self.phase(*phase);
                t.total = *hosts;
                t.finished = false;
            }
            Event::HostStarted { host, phase, step } => {
                self.phase(*phase).running.insert(host.clone(), (now, step.clone()));
            }
            Event::HostFinished { host, phase, ok, .. } => {
                let t = self.phase(*phase);
                if t.running.remove(host).is_some() || t.done + t.failed < t.total || t.total == 0 {
                    if *ok {
                        t.done += 1;
                    } else {
                        t.failed += 1;
                    }
                }
            }
            Event::PhaseFinished { phase, .. } => {
                let t = self.phase(*phase);
                t.finished = true;
                t.running.clear();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_the_slowest_hosts() {
        let t0 = Instant::now();
        let mut t = Tally::default();
        t.see(&Event::PhaseStarted { phase: Phase::Scan, hosts: 3 }, t0);
        for (i, h) in ["A", "B", "C"].iter().enumerate() {
            t.see(
                &Event::HostStarted {
                    host: h.to_string(),
                    phase: Phase::Scan,
                    step: "scan".into(),
                },
                t0 + Duration::from_secs(i as u64),
            );
        }
        t.see(
            &Event::HostFinished {
                host: "B".into(),
                phase: Phase::Scan,
                ok: false,
                detail: None,
            },
            t0,
        );
        let (phase, s) = t.current().unwrap();
        assert_eq!(*phase, Phase::Scan);
        assert_eq!((s.total, s.done, s.failed, s.running.len()), (3, 0, 1, 2));
        let slow = s.slowest(t0 + Duration::from_secs(10), 5);
        assert_eq!(slow.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), vec!["A", "C"]);
        assert_eq!(slow[0].1, Duration::from_secs(10));
    }
}
