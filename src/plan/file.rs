//! The plan file as read back: strict serde types (unknown keys refused),
//! each step and each host kept with its place in the file. Only the steps
//! under `ops:` and the hosts of `contain_only:` are acted on; the other
//! sections are informational but must still have their shape (fields read
//! only by the schema check are allowed to be unused).

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

use super::contain::ContainmentPlan;
use super::model::{Settings, Unscanned};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RawPlanFile {
    pub cauterize_plan: Spanned<u32>,
    pub plan_id: Spanned<i64>,
    pub settings: Spanned<Settings>,
    pub containment: Spanned<ContainmentPlan>,
    pub hosts: Option<BTreeMap<String, Spanned<RawHost>>>,
    pub contain_only: Option<Vec<Spanned<String>>>,
    pub unscanned: Option<Vec<Unscanned>>,
}

/// Only the format version, read first so that a plan of another format
/// is refused as such rather than for its shape.
#[derive(Debug, Deserialize)]
pub struct RawFormat {
    pub cauterize_plan: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RawHost {
    pub snapshot: Spanned<i64>,
    /// Read as plain data first, so unknown or missing fields of a step
    /// are reported at its line rather than dropped.
    pub ops: Option<Vec<Spanned<serde_json::Value>>>,
    pub inactive: Option<Vec<serde_json::Value>>,
    pub not_planned: Option<Vec<String>>,
    pub review: Option<Vec<String>>,
}
