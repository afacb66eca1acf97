//! The inventory: hosts, groups, settings and credentials, from YAML.

pub mod model;

pub use model::*;
