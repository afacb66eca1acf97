//! Reports: the progress bar while hosts are worked on, then grouped output
//! (dshbak style), tables, summaries and JSON lines for runbooks.
//!
//! Everything but [`progress`] is pure: it builds strings from outcomes, so
//! it is unit-tested. Text from hosts is made terminal-safe ([`sanitize`])
//! before it is shown.

pub mod check_view;
pub mod clock;
pub mod emit;
pub mod exec_view;
pub mod group;
pub mod hostlist;
pub mod plan_view;
pub mod progress;
pub mod sanitize;
pub mod scan_view;
pub mod stack_view;
pub mod summary;
pub mod table;
