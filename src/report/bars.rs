//! Progress bars on a terminal (indicatif): one bar per phase (and per
//! reboot wave) counting its hosts, ok and failed in its message; phase
//! results, decisions, warnings and halts printed above the bars.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sanitize::one_line;
use crate::engine::event::{Event, Level, Phase, Sink};

pub struct Bars {
    multi: MultiProgress,
    /// One bar per phase or wave, by its label.
    bars: Vec<(String, ProgressBar, usize, usize)>,
    /// The bar host results count on, per phase.
    current: Vec<(Phase, String)>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Vec::new(),
            current: Vec::new(),
        }
    }

    fn start(&mut self, phase: Phase, label: String, total: usize) {
        let bar = self.multi.add(ProgressBar::new(total as u64));
        let style = ProgressStyle::with_template(&format!("{label:<14} {{bar:30}} {{pos}}/{{len}} hosts  {{msg}}  {{elapsed}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        self.current.retain(|(p, _)| *p != phase);
        self.current.push((phase, label.clone()));
        self.bars.push((label, bar, 0, 0));
    }

    fn bar_of(&mut self, phase: Phase) -> Option<&mut (String, ProgressBar, usize, usize)> {
        let label = self.current.iter().find(|(p, _)| *p == phase)?.1.clone();
        self.bars.iter_mut().rev().find(|(l, ..)| *l == label)
    }

    fn print(&self, text: &str) {
        let _ = self.multi.println(one_line(text));
    }
}

impl Sink for Bars {
    fn event(&mut self, event: &Event) {
        match event {
            Event::PhaseStarted { phase, hosts } => self.start(*phase, phase.as_str().to_string(), *hosts),
            Event::WaveStarted { wave, waves, hosts, .. } => {
                self.start(Phase::Reboot, format!("wave {wave}/{waves}"), hosts.len());
            }
            Event::HostFinished { phase, ok, .. } => {
                if let Some((_, bar, good, bad)) = self.bar_of(*phase) {
                    if *ok {
                        *good += 1;
                    } else {
                        *bad += 1;
                    }
                    bar.set_message(format!("{good} ok, {bad} failed"));
                    bar.inc(1);
                }
            }
            Event::PhaseFinished {
                phase,
                done,
                set_aside,
                not_available,
            } => {
                if let Some((_, bar, ..)) = self.bar_of(*phase) {
                    bar.finish();
                }
                self.print(&match not_available {
                    Some(why) => format!("{}: not available: {why}", phase.as_str()),
                    None => format!("{}: {done} done, {set_aside} set aside", phase.as_str()),
                });
            }
            Event::WaveFinished { .. } => {
                if let Some((_, bar, ..)) = self.bar_of(Phase::Reboot) {
                    bar.finish();
                }
            }
            Event::Decision { phase, what } => self.print(&format!("{}: {what}", phase.as_str())),
            Event::Message { level, text, .. } => self.print(&match level {
                Level::Info => text.clone(),
                Level::Warning => format!("warning: {text}"),
                Level::Error => format!("error: {text}"),
            }),
            Event::Halted { why, next, .. } => self.print(&format!("halted: {why}; next: {next}")),
            _ => {}
        }
    }

    fn finish(&mut self) {
        for (_, bar, ..) in &self.bars {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
