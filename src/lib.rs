//! cauterize: remove worming loaders from a whole Windows network at once,
//! agentless, over WinRM and SMB.
//!
//! Data flows one way: inventory in; facts from hosts; findings per host
//! (`detect`), then the network's (`fleet`); a plan; reports out. See
//! DESIGN.md for the whole picture.

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
