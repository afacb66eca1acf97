//! The operation end to end, through the real binary against lab networks:
//! one test program for every test that runs `apply`, `run`, `contain`,
//! `release`, `watch` or `demo` on a lab.
//!
//! Why one program: these tests spend most of their time waiting on lab
//! hosts (reboot countdowns, a host's return time-out, watch's polls, a
//! dead-man's deadline), not on the CPU. `cargo test` runs test programs
//! one after another, so as separate programs their waits added up; here
//! they overlap (the runner, `scripts/one-lab-run-at-a-time`, lets this
//! program run several tests at a time), and the program is linked once.
//!
//! Each module owns its own loopback range, named in its doc, so tests of
//! different modules running at the same time never meet:
//!
//! | module | range |
//! |---|---|
//! | `operation_lab` | 127.110.0.0/16 |
//! | `operation_deny_lab` | 127.121.0.0/16 |
//! | `lateral_lab` | 127.122.0.0/16 |
//! | `demo_operation` | 127.138.0.0/16 |
//! | `operation_logon_lab` | 127.141.0.0/16 |
//! | `operation_outbreak` | 127.152.0.0/16 |
//! | `deadman_lab` | 127.143.0.0/16 |
//! | `watch_lab` | 127.144.0.0/16 |

#[path = "../common/mod.rs"]
mod common;

mod deadman_lab;
mod demo_operation;
mod lateral_lab;
mod operation_deny_lab;
mod operation_lab;
mod operation_logon_lab;
mod operation_outbreak;
mod watch_lab;
