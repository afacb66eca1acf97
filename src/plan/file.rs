//! The plan file as read back: strict serde types (unknown keys refused),
//! each operation kept with its place in the file. Only `ops:` is acted
//! on; the other sections are informational but must still have their
//! shape (fields read only by the schema check are allowed to be unused).

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

use super::model::{NotPlanned, ReviewItem, Settings, Unscanned};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RawPlanFile {
    pub cauterize_plan: Spanned<u32>,
    pub plan_id: Spanned<i64>,
    pub settings: Spanned<Settings>,
    pub hosts: Option<BTreeMap<String, Spanned<RawHost>>>,
    pub unscanned: Option<Vec<Unscanned>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RawHost {
    pub snapshot: Spanned<i64>,
    pub collected_at: String,
    /// Read as plain data first, so unknown or missing fields of an
    /// operation are reported at its line rather than dropped.
    pub ops: Option<Vec<Spanned<serde_json::Value>>>,
    pub inactive: Option<Vec<RawInactive>>,
    pub not_planned: Option<Vec<NotPlanned>>,
    pub review: Option<Vec<ReviewItem>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RawInactive {
    pub why: String,
    pub op: serde_json::Value,
}
