//! Playbooks the lab's operation tests run with: the built-in rules, with
//! reboots that fit a lab whose hosts reboot in seconds.
#![allow(dead_code)] // each test crate uses part of the harness

/// Reboot waves `waves` (a YAML list, e.g. `[1, 5, "100%"]`), no pause
/// between them, at most `max_down` hosts down at once, a 5-second
/// countdown, back within the shortest time-out allowed, failed reboots
/// within `failure_budget`, no settle before the verifying scan (the lab's
/// users log on again as soon as a host is back); `contain` is the text of
/// a `contain:` section (its keys indented two spaces), or empty for the
/// built-in one.
pub fn fast_reboots(waves: &str, max_down: &str, failure_budget: &str, contain: &str) -> String {
    let contain = if contain.is_empty() { String::new() } else { format!("contain:\n{contain}") };
    format!(
        "playbook: 1
{contain}reboot:
  waves: {waves}
  pause: 0s
  max_down: {max_down}
  countdown: 5s
  return_timeout: 2m
  failure_budget: {failure_budget}
verify:
  settle: 0s
"
    )
}
