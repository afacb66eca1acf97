//! Progress as plain lines on stderr, for when stderr is not a terminal (a
//! CI log, a runbook's file): at a steady pace (every 10 s by default) one
//! line per phase at work with done, failed and still running, and the
//! slowest hosts; never a line per host. Phase starts and ends, decisions,
//! warnings and halts are written when they happen (they are few).

use std::io::Write;
use std::time::{Duration, Instant};

use super::sanitize::one_line;
use super::tally::Tally;
use crate::engine::event::{Event, Level, Sink};

/// Default pace of the progress lines.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(10);

/// How many of the slowest hosts a line names.
const SLOWEST: usize = 3;

pub struct Plain {
    out: Box<dyn Write + Send>,
    every: Duration,
    tally: Tally,
    last: Option<Instant>,
    started: Option<Instant>,
}

impl Plain {
    /// Lines to `out`, a progress line every `every`.
    pub fn new(out: Box<dyn Write + Send>, every: Duration) -> Plain {
        Plain {
            out,
            every: every.max(Duration::from_millis(100)),
            tally: Tally::default(),
            last: None,
            started: None,
        }
    }

    /// Lines to stderr.
    pub fn stderr(every: Duration) -> Plain {
        Plain::new(Box::new(std::io::stderr()), every)
    }

    fn line(&mut self, text: &str) {
        // Stderr gone: nothing to report to; the run goes on.
        let _ = writeln!(self.out, "{}", one_line(text));
        let _ = self.out.flush();
    }

    /// [`Sink::event`] at `now`.
    pub fn event_at(&mut self, event: &Event, now: Instant) {
        self.started.get_or_insert(now);
        self.last.get_or_insert(now);
        self.tally.see(event, now);
        let text = match event {
            Event::PhaseStarted { phase, hosts } => Some(format!("{}: {hosts} host(s)", phase.as_str())),
            Event::PhaseFinished {
                phase,
                done,
                set_aside,
                not_available,
            } => Some(match not_available {
                Some(why) => format!("{}: not available: {why}", phase.as_str()),
                None => format!("{}: finished, {done} done, {set_aside} set aside", phase.as_str()),
            }),
            Event::WaveStarted { wave, waves, role, hosts } => Some(format!(
                "reboot: wave {wave} of {waves} ({} {}): {}",
                hosts.len(),
                role.as_str(),
                super::hostlist::compact(hosts)
            )),
            Event::WaveFinished { wave, done, set_aside } => {
                Some(format!("reboot: wave {wave} finished, {done} done, {set_aside} set aside"))
            }
            Event::Decision { phase, what } => Some(format!("{}: {what}", phase.as_str())),
            Event::Message { level, text, .. } => Some(match level {
                Level::Info => text.clone(),
                Level::Warning => format!("warning: {text}"),
                Level::Error => format!("error: {text}"),
            }),
            Event::Halted { why, next, .. } => Some(format!("halted: {why}; next: {next}")),
            _ => None,
        };
        if let Some(t) = text {
            self.line(&t);
        }
    }

    /// [`Sink::tick`] at `now`: the progress line, when one is due.
    pub fn tick_at(&mut self, now: Instant) {
        let Some(last) = self.last else { return };
        if now.saturating_duration_since(last) < self.every {
            return;
        }
        self.last = Some(now);
        let Some((phase, t)) = self.tally.current() else { return };
        if t.finished {
            return;
        }
        let elapsed = now.saturating_duration_since(self.started.unwrap_or(now));
        let mut text = format!(
            "{}: {}/{} done, {} failed, {} running ({})",
            phase.as_str(),
            t.done,
            t.total,
            t.failed,
            t.running.len(),
            human(elapsed)
        );
        let slow = t.slowest(now, SLOWEST);
        if !slow.is_empty() {
            text.push_str("; slowest: ");
            text.push_str(
                &slow
                    .iter()
                    .map(|(h, d, step)| format!("{h} {} ({step})", human(*d)))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        self.line(&text);
    }
}

impl Sink for Plain {
    fn event(&mut self, event: &Event) {
        self.event_at(event, Instant::now());
    }

    fn tick(&mut self) {
        self.tick_at(Instant::now());
    }
}

/// `2m05s`, `45s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::Phase;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(String::from).collect()
        }
    }

    #[test]
    fn a_line_every_ten_seconds_never_one_per_host() {
        let buf = Buf::default();
        let mut p = Plain::new(Box::new(buf.clone()), DEFAULT_EVERY);
        let t0 = Instant::now();
        p.event_at(&Event::PhaseStarted { phase: Phase::Scan, hosts: 500 }, t0);
        // 500 hosts start and 400 finish over 60 s, ticks every second.
        for i in 0..500u64 {
            let at = t0 + Duration::from_millis(i * 100);
            p.event_at(
                &Event::HostStarted {
                    host: format!("WS-{i:03}"),
                    phase: Phase::Scan,
                    step: "scan".into(),
                },
                at,
            );
            if i >= 100 {
                p.event_at(
                    &Event::HostFinished {
                        host: format!("WS-{:03}", i - 100),
                        phase: Phase::Scan,
                        ok: i % 50 != 0,
                        detail: None,
                    },
                    at,
                );
            }
        }
        for s in 1..=60 {
            p.tick_at(t0 + Duration::from_secs(s));
        }
        let lines = buf.lines();
        assert_eq!(lines[0], "scan: 500 host(s)");
        let progress: Vec<&String> = lines.iter().filter(|l| l.contains("running")).collect();
        // One line each 10 s: at 10, 20, ... 60.
        assert_eq!(progress.len(), 6, "{lines:#?}");
        let last = progress.last().unwrap();
        assert!(last.starts_with("scan: 392/500 done, 8 failed, 100 running (1m00s); slowest: WS-400 "), "{last}");
    }

    #[test]
    fn phases_decisions_and_halts_are_written_when_they_happen() {
        let buf = Buf::default();
        let mut p = Plain::new(Box::new(buf.clone()), DEFAULT_EVERY);
        let t0 = Instant::now();
        p.event_at(
            &Event::PhaseFinished {
                phase: Phase::Contain,
                done: 0,
                set_aside: 0,
                not_available: Some("no firewall operation yet".into()),
            },
            t0,
        );
        p.event_at(
            &Event::Halted {
                phase: Phase::Reboot,
                why: "budget\nspent".into(),
                next: "cauterize apply --resume".into(),
            },
            t0,
        );
        assert_eq!(
            buf.lines(),
            vec![
                "contain: not available: no firewall operation yet",
                "halted: budget spent; next: cauterize apply --resume"
            ]
        );
    }
}
