//! The subcommands of cauterize, one file each.

pub mod check;
pub mod exec;
pub mod inventory;
pub mod demo;
pub mod lab;
pub mod plan;
pub mod scan;
pub mod stack;
