//! The host firewall rules containment makes, as pure data: which remote
//! addresses keep SMB (the exempt set) and which are blocked (its
//! complement), written as the `remoteip` tokens Windows Firewall takes
//! (netsh `remoteip=` and the COM `RemoteAddresses` property), split across
//! rules where one rule would hold too many; and the names of the rules
//! and of the dead-man task, made so that they are found and removed
//! exactly and never confused with the customer's own.
//!
//! - [`addrs`]: address sets (IPv4 and IPv6, single addresses, ranges,
//!   CIDR), merged, complemented, written as tokens.
//! - [`naming`]: the engagement id, rule names and the dead-man task name,
//!   and the parser that recognises them.
//! - [`rules`]: the block rules of one host from the blocked ports and the
//!   exempt set (the operator's address as that host sees it included).
//!
//! Nothing here talks to a host: the contain phase of the engine sends
//! these rules and reads them back.

pub mod addrs;
pub mod naming;
pub mod rules;

pub use addrs::{AddrError, AddrSet, Family, Span};
pub use naming::{EngagementId, RuleName};
pub use rules::{Direction, PortSpec, Protocol, RuleSpec, RulesError, host_rules};
