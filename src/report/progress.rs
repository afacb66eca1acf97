//! The progress bar on stderr while hosts are worked on (indicatif). Hidden
//! with `--no-progress`, with `--json`, and when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Should a bar be drawn?
pub fn wanted(no_progress: bool, json: bool) -> bool {
    !no_progress && !json && std::io::stderr().is_terminal()
}

/// A bar counting finished hosts, with ok/failed counts in its message.
pub struct Progress {
    bar: ProgressBar,
    ok: usize,
    failed: usize,
}

impl Progress {
    /// A bar over `total` hosts; drawn only when `visible`.
    pub fn new(total: usize, visible: bool, verb: &str) -> Progress {
        let bar = if visible {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(&format!(
                "{verb} {{bar:30}} {{pos}}/{{len}} hosts  {{msg}}  {{elapsed}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            ok: 0,
            failed: 0,
        }
    }

    /// One more host finished.
    pub fn record(&mut self, ok: bool) {
        if ok {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        self.bar
            .set_message(format!("{} ok, {} failed", self.ok, self.failed));
        self.bar.inc(1);
    }

    /// Print a line above the bar (warnings) without garbling it.
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Remove the bar before the report is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
