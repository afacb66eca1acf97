//! Reports: the sinks of the engine's events while hosts are worked on
//! (bars on a terminal, [`plain`] lines at a steady pace off one, JSON
//! lines; [`live`] chooses), then grouped output (dshbak style), tables,
//! summaries and JSON lines for runbooks ([`lateral_view`]: the lateral
//! movement the event logs show); [`status_view`] is the
//! engagement at a glance from the journal, and [`engagement_report`]
//! what an operation did, drawn as one HTML page by [`report_html`] with
//! its [`timeline`] (and `watch`'s polls on it, [`poll_marks`]).
//!
//! Everything but [`bars`] is pure or writes to a given writer: it builds
//! strings from outcomes, so it is unit-tested. Text from hosts is made
//! terminal-safe ([`sanitize`]) before it is shown.

pub mod bars;
pub mod check_view;
pub mod clock;
pub mod emit;
pub mod engagement_report;
pub mod exec_view;
pub mod group;
pub mod hostlist;
pub mod lateral_view;
pub mod live;
pub mod operation_view;
pub mod plain;
pub mod plan_view;
pub mod poll_marks;
pub mod report_html;
pub mod sanitize;
pub mod scan_view;
pub mod status_view;
pub mod stack_view;
pub mod summary;
pub mod table;
pub mod tally;
pub mod timeline;
