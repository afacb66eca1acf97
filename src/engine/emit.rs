//! [`Emitter`]: where the engine's events go. The journal first, awaited:
//! an action's row is committed before the host is touched, so a run
//! killed at any point leaves a journal that says what may have happened.
//! Then every sink (progress view, JSON lines), in order. A ticker calls
//! the sinks about once a second so a view can print at its own pace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::event::{Event, Sink};
use super::record::Recorder;
use crate::journal::JournalError;

/// Fans events out: the journal (awaited), then the sinks.
pub struct Emitter {
    recorder: Option<Recorder>,
    sinks: Mutex<Vec<Box<dyn Sink>>>,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter").field("journal", &self.recorder.is_some()).finish_non_exhaustive()
    }
}

impl Emitter {
    /// Events to `sinks` only.
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Emitter {
        Emitter {
            recorder: None,
            sinks: Mutex::new(sinks),
        }
    }

    /// Events to the journal too (first, awaited).
    pub fn with_journal(mut self, recorder: Recorder) -> Emitter {
        self.recorder = Some(recorder);
        self
    }

    /// Record `event` in the journal (when there is one), then show it.
    /// An error means the journal could not keep it: the caller must not
    /// carry out the action it announces.
    pub async fn emit(&self, event: Event) -> Result<(), JournalError> {
        if let Some(r) = &self.recorder {
            r.record(&event).await?;
        }
        self.show(&event);
        Ok(())
    }

    /// Show `event` to the sinks only (progress that the journal does not
    /// keep: a host started, a host finished).
    pub fn show(&self, event: &Event) {
        for s in self.lock().iter_mut() {
            s.event(event);
        }
    }

    /// Let the sinks print what is due.
    pub fn tick(&self) {
        for s in self.lock().iter_mut() {
            s.tick();
        }
    }

    /// The command is done.
    pub fn finish(&self) {
        for s in self.lock().iter_mut() {
            s.finish();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Sink>>> {
        // A sink that panicked mid-event leaves the others usable.
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Call [`Emitter::tick`] about once a second until the returned guard
    /// is dropped.
    pub fn start_ticker(self: &Arc<Self>) -> Ticker {
        let stop = CancellationToken::new();
        let (me, token) = (Arc::clone(self), stop.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = every.tick() => me.tick(),
                    () = token.cancelled() => break,
                }
            }
        });
        Ticker { stop }
    }
}

/// Stops the ticker when dropped.
pub struct Ticker {
    stop: CancellationToken,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A sink that keeps every event (tests).
    #[derive(Clone, Default)]
    pub struct Collect(pub Arc<Mutex<Vec<Event>>>);

    impl Sink for Collect {
        fn event(&mut self, event: &Event) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    impl Collect {
        pub fn events(&self) -> Vec<Event> {
            self.0.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn every_sink_sees_every_event_in_order() {
        let (a, b) = (Collect::default(), Collect::default());
        let e = Emitter::new(vec![Box::new(a.clone()), Box::new(b.clone())]);
        for i in 0..3 {
            e.emit(Event::Finished { exit_code: i }).await.unwrap();
        }
        let want: Vec<Event> = (0..3).map(|i| Event::Finished { exit_code: i }).collect();
        assert_eq!(a.events(), want);
        assert_eq!(b.events(), want);
    }
}
