//! Per-family rules. Each family looks at every launch (autostart or
//! running process) and at host-wide facts (files, registry residue).

mod dridex;
mod emotet;
mod icedid;
mod qakbot;
mod trickbot;

use super::Finding;
use super::facts::{Facts, Launch};
pub(crate) use emotet::name_exists_elsewhere;
pub(crate) use qakbot::{first_stage_name, qakbot_folder};

pub(crate) fn check_launch(f: &Facts, l: &Launch, out: &mut Vec<Finding>) {
    emotet::launch(f, l, out);
    qakbot::launch(f, l, out);
    trickbot::launch(f, l, out);
    dridex::launch(f, l, out);
    icedid::launch(f, l, out);
}

pub(crate) fn check_host(f: &Facts, out: &mut Vec<Finding>) {
    emotet::host(f, out);
    qakbot::host(f, out);
    trickbot::host(f, out);
    icedid::host(f, out);
}

/// Words for how the payload is started, for reasons.
pub(crate) fn runs_words(l: &Launch, p: &super::command_line::Payload) -> String {
    use super::command_line::Launcher;
    let how = match p.via {
        Launcher::Direct => "runs".to_string(),
        v => format!("runs {} on", v.name()),
    };
    let export = p
        .export
        .as_ref()
        .map(|e| format!(" (entry point {e})"))
        .unwrap_or_default();
    format!("{} {how} {}{export}", l.what(), p.path)
}
