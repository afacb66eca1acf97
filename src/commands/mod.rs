//! The subcommands of cauterize: each parses its flags, calls the library
//! (the engine for everything that works on many hosts) and picks the
//! views. One file each; the operation's commands share [`operate`].

pub mod check;
pub mod exec;
pub mod inventory;
pub mod demo;
pub mod lab;
pub mod operate;
pub mod plan;
pub mod report;
pub mod scan;
pub mod status;
pub mod stack;
