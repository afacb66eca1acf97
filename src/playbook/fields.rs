//! Checking one field of a playbook: every error names the file, the line
//! and column, the field (`reboot.countdown`) and what is allowed. Shared by
//! the sections' modules; also the text form of durations in settings.

use serde_saphyr::{Location, Spanned};
use std::path::Path;
use std::time::Duration;

use super::located::LocatedError;
use super::raw::{List, Scalar};

/// The file being checked, for errors.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    pub file: &'a Path,
}

/// What durations look like, for help texts.
pub const DURATION_FORMS: &str =
    "a duration such as 90s, 30m or 4h (units ms, s, m, h; a bare number is seconds)";

impl<'a> Fields<'a> {
    /// `FILE:LINE:COL: FIELD: MESSAGE` with `help: allowed: ALLOWED`.
    pub fn error(
        &self,
        at: &Location,
        field: &str,
        message: impl std::fmt::Display,
        allowed: impl std::fmt::Display,
    ) -> LocatedError {
        LocatedError::at(
            self.file,
            at,
            format!("{field}: {message}"),
            format!("allowed: {allowed}"),
        )
    }

    /// A duration within `[min, max]`, or `default` when absent.
    pub fn duration(
        &self,
        v: &Option<Spanned<Scalar>>,
        field: &str,
        default: Duration,
        (min, max): (Duration, Duration),
    ) -> Result<Duration, LocatedError> {
        let Some(v) = v else { return Ok(default) };
        let text = v.value.text();
        let range = format!(
            "{DURATION_FORMS}, from {} to {}",
            crate::inventory::format_duration(min),
            crate::inventory::format_duration(max)
        );
        let d = crate::inventory::parse_duration(&text).map_err(|why| {
            self.error(
                &v.referenced,
                field,
                format!("`{text}` is not a duration ({why})"),
                &range,
            )
        })?;
        if d < min || d > max {
            return Err(self.error(&v.referenced, field, format!("{text} is out of range"), &range));
        }
        Ok(d)
    }

    /// One of `choices` (case-insensitive), or `default` when absent.
    pub fn word<T: Copy>(
        &self,
        v: &Option<Spanned<String>>,
        field: &str,
        choices: &[(&str, T)],
        default: T,
    ) -> Result<T, LocatedError> {
        let Some(v) = v else { return Ok(default) };
        self.one_of(v, field, choices)
    }

    /// One of `choices` (case-insensitive).
    pub fn one_of<T: Copy>(
        &self,
        v: &Spanned<String>,
        field: &str,
        choices: &[(&str, T)],
    ) -> Result<T, LocatedError> {
        let w = v.value.trim().to_ascii_lowercase();
        choices
            .iter()
            .find(|(k, _)| *k == w)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                self.error(
                    &v.referenced,
                    field,
                    format!("unknown value `{}`", v.value),
                    words(choices.iter().map(|(k, _)| *k)),
                )
            })
    }

    /// Words of `choices`, each once (case-insensitive); `None` when the
    /// key is absent. `allowed` is the help for a repeat.
    pub fn word_list<T: Copy + PartialEq>(
        &self,
        v: &Option<List>,
        field: &str,
        choices: &[(&str, T)],
        allowed: &str,
    ) -> Result<Option<Vec<T>>, LocatedError> {
        let Some(list) = v else { return Ok(None) };
        let mut out = Vec::new();
        for w in &list.value {
            let t = self.one_of(w, field, choices)?;
            if out.contains(&t) {
                return Err(self.error(&w.referenced, field, format!("`{}` is listed twice", w.value), allowed));
            }
            out.push(t);
        }
        Ok(Some(out))
    }

    /// Inventory group or host names: not empty, no spaces or commas, no
    /// repeats (case-insensitive).
    pub fn names(&self, v: &Option<List>, field: &str) -> Result<Vec<String>, LocatedError> {
        let mut out: Vec<String> = Vec::new();
        for n in v.iter().flat_map(|l| &l.value) {
            let t = n.value.trim();
            if t.is_empty() || t.contains(|c: char| c.is_whitespace() || c == ',') {
                return Err(self.error(
                    &n.referenced,
                    field,
                    format!("`{}` is not a group or host name", n.value),
                    "names as the inventory writes them (letters, digits, `-`, `_`, `.`)",
                ));
            }
            if out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
                return Err(self.error(
                    &n.referenced,
                    field,
                    format!("`{t}` is listed twice"),
                    "each name once (names are not case-sensitive)",
                ));
            }
            out.push(t.to_string());
        }
        Ok(out)
    }

    /// Globs (`*`, `?`, `**`) that must not be empty nor match everything.
    pub fn globs(&self, v: &Option<List>, field: &str, what: &str) -> Result<Vec<String>, LocatedError> {
        let mut out = Vec::new();
        for g in v.iter().flat_map(|l| &l.value) {
            let t = g.value.trim();
            if t.is_empty() {
                return Err(self.error(&g.referenced, field, format!("an empty {what} pattern"), "a name or a glob; remove the empty entry"));
            }
            if t == "*" || t == "**" {
                return Err(self.error(
                    &g.referenced,
                    field,
                    format!("the {what} pattern `{t}` matches everything"),
                    format!("globs that name what to spare (`dc*`, `C:\\Tools\\**`); to do nothing, do not run this phase"),
                ));
            }
            out.push(t.to_string());
        }
        Ok(out)
    }
}

/// `a, b or c`.
pub fn words<'s>(it: impl Iterator<Item = &'s str>) -> String {
    let v: Vec<&str> = it.collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].to_string(),
        n => format!("{} or {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

/// Durations in settings as the inventory writes them (`4h`, `30m`).
pub mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::inventory::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let t = String::deserialize(d)?;
        crate::inventory::parse_duration(&t).map_err(serde::de::Error::custom)
    }
}
