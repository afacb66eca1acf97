//! Runs one async job per host, at most `forks` at a time, on tokio tasks
//! (no thread per host: hundreds at once are cheap), and handles Ctrl-C:
//! once the cancel token fires no new host starts, jobs in flight get a
//! bounded grace period to stop their command and close their shell, and
//! every host not finished is reported through `missing`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long jobs in flight may take to wind down after Ctrl-C (a terminate
/// and a shell delete, each bounded by the session's clean-up budget).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(15);

/// Why a host has no result of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Ctrl-C came before its turn.
    NotStarted,
    /// Still running when the grace period ended; its task was dropped.
    Aborted,
    /// The job panicked (a bug); the message says where.
    Panicked(String),
}

/// All results, in the order of the items.
#[derive(Debug)]
pub struct RunReport<R> {
    pub results: Vec<R>,
    /// The cancel token fired during the run.
    pub interrupted: bool,
}

/// Run `job` on every item, at most `forks` at once. `on_done` sees each
/// result exactly once, as it arrives (to move a progress bar, to stream
/// JSON lines), the made-up results of unfinished hosts last; `missing` makes the
/// result of a host that could not finish.
pub async fn run_all<I, R, F, Fut>(
    items: Vec<I>,
    forks: usize,
    cancel: CancellationToken,
    grace: Duration,
    job: F,
    missing: impl Fn(&I, Missing) -> R,
    mut on_done: impl FnMut(&R),
) -> RunReport<R>
where
    F: Fn(I, CancellationToken) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    I: Clone,
{
    let forks = forks.max(1);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut set: JoinSet<(usize, R)> = JoinSet::new();
    let mut task_index: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut next = 0;
    let mut grace_end: Option<Instant> = None;

    loop {
        // Fill the free slots, unless interrupted.
        while !cancel.is_cancelled() && set.len() < forks && next < items.len() {
            let index = next;
            let fut = job(items[index].clone(), cancel.clone());
            let handle = set.spawn(async move { (index, fut.await) });
            task_index.insert(handle.id(), index);
            next += 1;
        }
        if set.is_empty() {
            break;
        }
        if cancel.is_cancelled() && grace_end.is_none() {
            grace_end = Some(Instant::now() + grace);
        }
        let wait_grace = async {
            match grace_end {
                Some(end) => tokio::time::sleep_until(end).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = set.join_next_with_id() => match joined {
                Some(Ok((_, (index, result)))) => {
                    on_done(&result);
                    results[index] = Some(result);
                }
                Some(Err(err)) => {
                    if let Some(&index) = task_index.get(&err.id()) {
                        let why = if err.is_panic() { Missing::Panicked(panic_text(err)) } else { Missing::Aborted };
                        let result = missing(&items[index], why);
                        on_done(&result);
                        results[index] = Some(result);
                    }
                }
                None => break,
            },
            () = cancel.cancelled(), if grace_end.is_none() => {
                // Loop again: the grace deadline is set at the top.
            }
            () = wait_grace => {
                set.abort_all();
                while set.join_next().await.is_some() {}
                break;
            }
        }
    }

    let interrupted = cancel.is_cancelled();
    let results = results
        .into_iter()
        .enumerate()
        .map(|(index, result)| match result {
            Some(r) => r,
            None => {
                // Every host is reported once, the unfinished ones too.
                let why = if index < next {
                    Missing::Aborted
                } else {
                    Missing::NotStarted
                };
                let r = missing(&items[index], why);
                on_done(&r);
                r
            }
        })
        .collect();
    RunReport {
        results,
        interrupted,
    }
}

/// The error that stands for a host without a result of its own.
pub fn missing_error(why: Missing) -> super::TransportError {
    use super::{Phase, TransportError};
    match why {
        Missing::NotStarted => TransportError::Interrupted {
            phase: Phase::Queued,
        },
        Missing::Aborted => TransportError::Interrupted {
            phase: Phase::Closing,
        },
        Missing::Panicked(msg) => TransportError::Protocol {
            phase: Phase::Running,
            detail: format!("internal error (please report): {msg}"),
        },
    }
}

/// The message of a panicked task.
fn panic_text(err: tokio::task::JoinError) -> String {
    match err.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string()),
        Err(_) => "task failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn at_most_forks_at_once_and_results_in_order() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let items: Vec<u64> = (0..40).collect();
        let mut seen = 0;
        let report = run_all(
            items,
            4,
            CancellationToken::new(),
            DEFAULT_GRACE,
            |i, _| {
                let (running, peak) = (running.clone(), peak.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5 + (i * 7) % 11)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i * 10
                }
            },
            |_, _| u64::MAX,
            |_| seen += 1,
        )
        .await;
        assert_eq!(report.results, (0..40).map(|i| i * 10).collect::<Vec<_>>());
        assert!(!report.interrupted);
        assert_eq!(seen, 40);
        assert_eq!(peak.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn cancel_stops_new_hosts_and_lets_in_flight_finish() {
        let mut reported = 0;
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let report = run_all(
            (0..10).collect::<Vec<u32>>(),
            2,
            cancel,
            Duration::from_secs(5),
            move |i, token| {
                let trigger = trigger.clone();
                async move {
                    if i == 1 {
                        trigger.cancel();
                    }
                    // A job that honours the token winds down at once.
                    token.cancelled().await;
                    format!("closed {i}")
                }
            },
            |i, why| format!("{i} {why:?}"),
            |_| reported += 1,
        )
        .await;
        assert_eq!(
            reported, 10,
            "every host reported once, unfinished ones too"
        );
        assert!(report.interrupted);
        assert_eq!(report.results[0], "closed 0");
        assert_eq!(report.results[1], "closed 1");
        assert_eq!(report.results[2], "2 NotStarted");
        assert_eq!(report.results[9], "9 NotStarted");
    }

    #[tokio::test]
    async fn stuck_jobs_are_aborted_after_the_grace_period() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        // Cancelled before start: nothing runs at all.
        let report = run_all(
            vec![1, 2],
            2,
            cancel,
            Duration::from_millis(10),
            |i, _| async move { i },
            |_, _| 0,
            |_| {},
        )
        .await;
        assert_eq!(report.results, vec![0, 0]);

        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let started = Instant::now();
        let report = run_all(
            vec![1u32, 2],
            2,
            cancel,
            Duration::from_millis(50),
            move |i, _| {
                let trigger = trigger.clone();
                async move {
                    trigger.cancel();
                    // Ignores the token: must be aborted.
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    format!("done {i}")
                }
            },
            |i, why| format!("{i} {why:?}"),
            |_| {},
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            report.results,
            vec!["1 Aborted".to_string(), "2 Aborted".to_string()]
        );
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_not_fatal() {
        let report = run_all(
            vec![1u32, 2],
            2,
            CancellationToken::new(),
            DEFAULT_GRACE,
            |i, _| async move {
                if i == 2 {
                    panic!("boom {i}");
                }
                "ok".to_string()
            },
            |_, why| format!("{why:?}"),
            |_| {},
        )
        .await;
        assert_eq!(report.results[0], "ok");
        assert!(
            report.results[1].contains("boom 2"),
            "{}",
            report.results[1]
        );
    }
}
