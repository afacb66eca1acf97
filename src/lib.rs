//! cauterize: remove worming loaders from a whole Windows network at once,
//! agentless, over WinRM and SMB.
//!
//! Data flows one way: inventory and playbook in ([`inventory`],
//! [`playbook`]); commands reach hosts ([`transport`]) through the
//! host-side runtime ([`runtime`]); facts come back, are judged per host
//! ([`detect`]: each finding with typed evidence, its confidence computed
//! from it by one written standard, `detect::evidence`), then across the
//! network ([`fleet`]: hash propagation, cluster lift, stacking, lateral
//! movement from the hosts' event logs, under the same standard), and kept ([`journal`], [`evidence`]); the plan turns
//! findings, the inventory and the playbook into every step the operation
//! would take ([`plan`], with the containment rules of [`firewall`], which
//! `runtime::contain` makes on the hosts with their dead-man task, and the
//! deny-write and Defender steps `runtime::purge_steps` carries out);
//! reports go out ([`report`]: live progress, tables, and the
//! engagement's status and HTML report read back from the journal).
//! [`commands`] are thin; [`lab`] is the simulated network everything is
//! tested against (it implements Windows, never cauterize, and shares no
//! code with the rest). [`memory`] keeps the process's resident memory
//! near what it uses (glibc's malloc tuned and trimmed).

pub mod cli;
pub mod exit;
pub mod inventory;
pub mod lab;
pub mod runtime;
pub mod transport;
pub mod commands;
pub mod detect;
pub mod fleet;
pub mod report;
pub mod evidence;
pub mod journal;
pub mod playbook;
pub mod plan;
pub mod firewall;
pub mod engine;
pub mod memory;
