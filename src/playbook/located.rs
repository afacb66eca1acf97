//! Errors in a YAML file the operator wrote or edited (playbook, plan):
//! which file, which line and column, what is wrong, how to fix it.
//! Shared by [`crate::playbook`] and [`crate::plan`].

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error as YamlError, Location};
use std::fmt;
use std::path::PathBuf;

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedError {
    pub file: PathBuf,
    /// 1-based line and column; `None` for the whole file.
    pub at: Option<(u64, u64)>,
    pub message: String,
    pub help: String,
}

impl LocatedError {
    pub fn at(
        file: &std::path::Path,
        loc: &Location,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        LocatedError {
            file: file.to_path_buf(),
            at: position(loc),
            message: message.into(),
            help: help.into(),
        }
    }

    pub fn whole(
        file: &std::path::Path,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        LocatedError {
            file: file.to_path_buf(),
            at: None,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The line, when the error has a place.
    pub fn line(&self) -> Option<u64> {
        self.at.map(|(l, _)| l)
    }
}

impl fmt::Display for LocatedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)?
            }
            None => write!(f, "{}: {}", self.file.display(), self.message)?,
        }
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

impl std::error::Error for LocatedError {}

fn position(l: &Location) -> Option<(u64, u64)> {
    (l.line() > 0).then(|| (l.line(), l.column().max(1)))
}

/// Parser options for operator-written files: one document, strict
/// booleans, no source snippets, bounded.
pub fn options(max_bytes: usize) -> serde_saphyr::Options {
    let mut o = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 32,
            max_nodes: 2_000_000,
            max_events: 6_000_000,
            max_aliases: 0,
            max_anchors: 0,
            max_merge_keys: 0,
            max_total_scalar_bytes: max_bytes,
        },
    };
    o.alias_limits.max_total_replayed_events = 0;
    o
}

fn expected_words(e: &str) -> String {
    match e {
        "mapping start" => "a mapping (`key: value` lines, or `{key: value}`)".into(),
        "sequence start" => "a list (`[a, b]`, or `- item` lines)".into(),
        "string scalar" => "a single value (text)".into(),
        other => other.to_string(),
    }
}

/// Translate a parser error. `unknown_key_help` may give a specific fix for
/// an unknown key (such as a later-phase setting this version lacks).
pub fn from_yaml(
    err: &YamlError,
    file: &std::path::Path,
    example: &str,
    unknown_key_help: impl Fn(&str) -> Option<String>,
) -> LocatedError {
    let err = err.without_snippet();
    let at = err.location().and_then(|l| position(&l));
    let mk = |message: String, help: String| LocatedError {
        file: file.to_path_buf(),
        at,
        message,
        help,
    };
    match err {
        YamlError::AliasError { error, .. } => from_yaml(error, file, example, unknown_key_help),
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            let help = unknown_key_help(field).unwrap_or_else(|| {
                "remove it, or check its spelling and indentation (keys are case-sensitive)".into()
            });
            mk(
                format!(
                    "unknown key `{field}`; expected one of: {}",
                    expected.join(", ")
                ),
                help,
            )
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => mk(
            format!(
                "unknown value `{variant}`; expected one of: {}",
                expected.join(", ")
            ),
            format!("see {example}"),
        ),
        YamlError::SerdeMissingField { field, .. } => mk(
            format!("missing key `{field}`"),
            format!("add `{field}:` here (see {example})"),
        ),
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | YamlError::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => mk(
            format!(
                "wrong type: found {unexpected}, expected {}",
                expected_words(expected)
            ),
            format!("check the value and its indentation against {example}"),
        ),
        YamlError::Unexpected { expected, .. } => mk(
            format!("wrong type: expected {}", expected_words(expected)),
            format!("check the value and its indentation against {example}"),
        ),
        YamlError::InvalidScalar { ty, .. } => mk(
            format!("wrong type: expected {}", expected_words(ty)),
            format!("check the value against {example}"),
        ),
        YamlError::InvalidBooleanStrict { .. } => mk(
            "wrong type: expected `true` or `false`".into(),
            "write `true` or `false` (yes/no/on/off are not accepted)".into(),
        ),
        YamlError::NullIntoString { .. } => mk(
            "a value is missing here".into(),
            "write the value after the colon, or remove the key".into(),
        ),
        YamlError::DuplicateMappingKey { key, .. } => mk(
            match key {
                Some(k) => format!("`{k}` appears twice in the same mapping"),
                None => "a key appears twice in the same mapping".into(),
            },
            "keep one of the two entries".into(),
        ),
        YamlError::MultipleDocuments { .. }
        | YamlError::Budget {
            breach: BudgetBreach::Documents { .. },
            ..
        } => mk(
            "more than one YAML document (`---`); expected exactly one".into(),
            "remove the `---` separator".into(),
        ),
        YamlError::Budget {
            breach: BudgetBreach::Anchors { .. } | BudgetBreach::Aliases { .. },
            ..
        } => mk(
            "anchors and aliases (`&name`, `*name`) are not accepted here".into(),
            "write each value out in full".into(),
        ),
        YamlError::Budget { breach, .. } => mk(
            format!("the file exceeds a safety limit of the YAML parser ({breach:?})"),
            "this file is larger or deeper than any file cauterize writes; check it".into(),
        ),
        other => {
            let msg = other.to_string();
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            mk(
                format!("invalid YAML: {msg}"),
                "fix the YAML syntax here (indentation, quotes, brackets)".into(),
            )
        }
    }
}
