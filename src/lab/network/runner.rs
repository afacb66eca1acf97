//! The outbreak as lab time passes: a task steps the engine to the lab
//! clock every second of wall time (`lab: {step}`), and earlier when a
//! shutdown a command scheduled falls due, and keeps running totals of
//! what happened (spreads, blocked attempts, reboots) for summaries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Network;
use crate::lab::outbreak::{Event, EventKind};

/// What the outbreak did since the lab started.
#[derive(Debug, Default)]
pub struct OutbreakTotals {
    pub steps: AtomicU64,
    pub spreads: AtomicU64,
    /// Attempts a firewall stopped.
    pub blocked: AtomicU64,
    /// Attempts that reached SMB but found no way in.
    pub denied: AtomicU64,
    pub boots: AtomicU64,
    /// Wall time the last step took, in microseconds.
    pub last_step_micros: AtomicU64,
}

impl OutbreakTotals {
    /// Count these events.
    pub fn count(&self, events: &[Event]) {
        self.steps.fetch_add(1, Ordering::Relaxed);
        for e in events {
            let counter = match e.kind {
                EventKind::Spread { .. } => &self.spreads,
                EventKind::SpreadBlocked { .. } => &self.blocked,
                EventKind::SpreadDenied { .. } => &self.denied,
                EventKind::Booted { .. } => &self.boots,
                _ => continue,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Display for OutbreakTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        write!(
            f,
            "{} spreads, {} stopped by a firewall, {} denied, {} boots over {} steps (the last took {} ms)",
            g(&self.spreads),
            g(&self.blocked),
            g(&self.denied),
            g(&self.boots),
            g(&self.steps),
            g(&self.last_step_micros) / 1000
        )
    }
}

/// Step `network` every `every` of wall time, and when a scheduled
/// shutdown falls due, until `stop` is cancelled. Steps run off the async
/// threads and hold the network lock, so commands wait for them: when
/// steps grow slow (thousands of live loaders), the pause after one is at
/// least [`PAUSE_PER_STEP`] times its length, which keeps the lock free
/// most of the time.
pub fn spawn(
    network: Arc<Network>,
    every: Duration,
    totals: Arc<OutbreakTotals>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let every = every.max(Duration::from_millis(10));
    tokio::spawn(async move {
        let mut pause = every;
        loop {
            let wait = match network.next_shutdown() {
                Some(at) => pause.min(network.clock().wall_until(at)),
                None => pause,
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                // An earlier shutdown: wait for that one instead.
                _ = network.shutdown_scheduled() => continue,
            }
            let (n, t) = (Arc::clone(&network), Arc::clone(&totals));
            let stepped = tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                t.count(&n.step());
                started.elapsed()
            })
            .await;
            match stepped {
                Ok(took) => {
                    totals
                        .last_step_micros
                        .store(took.as_micros() as u64, Ordering::Relaxed);
                    pause = every.saturating_sub(took).max(took * PAUSE_PER_STEP);
                }
                Err(e) => {
                    tracing::error!(error = %e, "the outbreak step failed; the outbreak stops");
                    break;
                }
            }
        }
    })
}

/// Pause after a step, in multiples of the step's own length, at least.
pub const PAUSE_PER_STEP: u32 = 4;
