//! runtime.ps1 executed for real: the script text cauterize sends, run by
//! the lab's PowerShell engine against a lab host (the test oracle, which
//! implements Windows and knows nothing of cauterize), its jobs written by
//! the Rust encoder and its output read by the Rust parser, and the host's
//! state checked afterwards.
//!
//! Parts: [`bootstrap`] (the bootstrap and the probe), [`power`]
//! (restarts asked for as cauterize asks), [`scripts`] (every script
//! parses; runtime.ps1's native helper), [`jobs`] (the job reader, collection, file facts and sweeps,
//! registry and file operations, containment), [`ops`] (services,
//! processes, tasks and WMI subscriptions), [`purge`] (registry keys and
//! loader folders), [`events`] (the event-log read of lateral movement), [`lateral_copy`] (the one file directly in C:\Windows deleted: a copy a recorded lateral install ran), [`purge_steps`] (writes denied to a shutdown-writer's
//! folder and lifted, Defender exclusions reverted), [`sessions`] (the
//! users logged on, read before a reboot), [`issue7`] (regressions of issue 7's PowerShell
//! items 4, 6 and 14).

mod bootstrap;
mod events;
mod issue11;
mod issue7;
mod jobs;
mod lateral_copy;
mod ops;
mod power;
mod purge;
mod purge_steps;
mod scripts;
mod sessions;
