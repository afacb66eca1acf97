//! The simulated Windows host state: pure data and Windows semantics, no
//! I/O. This is what the lab's host-side runtime reads and changes and
//! what simulated malware plants.
//!
//! One file per part: `registry` (HKLM and user hives), `users` (profiles,
//! per-user `%VAR%` expansion), `files` (case-insensitive NTFS-like tree,
//! locks, WOW64 twins), `acl` (folder ACEs and the write check), `processes`, `services`, `tasks`, `startup`
//! (Startup folders and .lnk targets), `wmi` (permanent event
//! subscriptions), `eventlog` (System, Security and Task Scheduler
//! records), `firewall` and `netaddr` (rules, decisions, address
//! complement), `pending` (PendingFileRenameOperations), `launch` (command
//! line to process), `shortname` (8.3 names), `utf16` (how names with
//! unpaired surrogates are held), `host` (`HostState`), `baseline` (a clean install)
//! and `benign` (real software that looks like loaders). Well-known
//! locations are in `paths`.
//!
//! Determinism: all maps are ordered (`BTreeMap`, `Vec`), and every random
//! choice comes from a seeded `StdRng`.

pub mod acl;
pub mod baseline;
pub mod benign;
pub mod ci;
pub mod eventlog;
pub mod files;
pub mod firewall;
pub mod host;
pub mod launch;
pub mod layered;
pub mod netaddr;
pub mod os;
pub mod paths;
pub mod pending;
pub mod processes;
pub mod registry;
pub mod services;
pub mod shortname;
pub mod startup;
pub mod tasks;
pub mod time;
pub mod users;
pub mod utf16;
pub mod wmi;

pub use baseline::{BaselineSpec, UserSpec};
pub use benign::BenignProduct;
pub use files::{Content, Entry, FileSystem, FsError, Pid, Signer, resolve_wow64};
pub use firewall::{Direction, Firewall, FirewallRule, Protocol, Verdict};
pub use host::HostState;
pub use netaddr::{Ipv4Range, complement};
pub use os::{Arch, Os, Role};
pub use processes::{InjectedCode, Process, ProcessTable};
pub use registry::{RegData, RegType, Registry};
pub use services::{Service, Services, StartType};
pub use startup::LnkTarget;
pub use tasks::{ExecAction, Task, TaskScheduler, Trigger};
pub use time::LabTime;
pub use users::{Profile, expand};
pub use wmi::WmiSubscriptions;
