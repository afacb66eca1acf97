//! The progress view a command gets, chosen once: bars on a terminal,
//! plain lines at a steady pace when stderr is not one (a log, a file),
//! nothing with `--no-progress`. `--json` keeps stdout for its objects and
//! hides the bars (the plain lines go to stderr and stay).

use std::io::IsTerminal;
use std::time::Duration;

use super::bars::Bars;
use super::plain::Plain;
use crate::engine::event::Sink;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Bars,
    Plain(Duration),
    Hidden,
}

/// The view for these flags and this stderr.
pub fn choose(no_progress: bool, json: bool, every: Duration) -> View {
    choose_for(no_progress, json, every, std::io::stderr().is_terminal())
}

/// [`choose`] with the terminal question answered (tests).
pub fn choose_for(no_progress: bool, json: bool, every: Duration, terminal: bool) -> View {
    match (no_progress, terminal, json) {
        (true, _, _) => View::Hidden,
        (false, true, false) => View::Bars,
        (false, true, true) => View::Hidden,
        (false, false, _) => View::Plain(every),
    }
}

/// The sink of a view (none when hidden).
pub fn sinks(view: View) -> Vec<Box<dyn Sink>> {
    match view {
        View::Bars => vec![Box::new(Bars::new())],
        View::Plain(every) => vec![Box::new(Plain::stderr(every))],
        View::Hidden => vec![],
    }
}

/// Writes every event as one JSON object per line on stdout (`--json` of
/// the operation's commands).
pub struct JsonLines;

impl Sink for JsonLines {
    fn event(&mut self, event: &crate::engine::event::Event) {
        super::emit::stdout_line(&event.to_json());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_follows_the_terminal_and_the_flags() {
        let s = Duration::from_secs(10);
        assert_eq!(choose_for(false, false, s, true), View::Bars);
        assert_eq!(choose_for(false, false, s, false), View::Plain(s));
        assert_eq!(choose_for(false, true, s, false), View::Plain(s));
        assert_eq!(choose_for(false, true, s, true), View::Hidden);
        assert_eq!(choose_for(true, false, s, false), View::Hidden);
    }
}
