//! YAML text to the raw types, under budgets that bound hostile input, with
//! the parser's errors translated into [`InventoryError`]s that say what was
//! expected and how to fix it. Pure: no file system.

use super::error::{list, suggest, ErrorKind, InventoryError, Position};
use super::raw::RawInventory;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error as YamlError, Location};

/// Largest inventory file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Parse the text of an inventory into its raw form.
pub fn parse_yaml(text: &str) -> Result<RawInventory, InventoryError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(InventoryError::whole(
            ErrorKind::TooLarge,
            format!("the inventory is {} bytes; at most {MAX_FILE_BYTES} bytes are accepted", text.len()),
            "split it into several inventories, or use host ranges (`ws-[001:250]`) instead of listing every host",
        ));
    }
    if is_blank(text) {
        return Err(InventoryError::whole(
            ErrorKind::EmptyFile,
            "the inventory is empty: expected a mapping with `hosts:` and/or `groups:`",
            "see examples/inventory.yml for a complete inventory",
        ));
    }
    serde_saphyr::from_str_with_options::<RawInventory>(text, options()).map_err(|e| translate(&e))
}

/// Parser options: one document, strict booleans, no snippets (they would
/// quote source lines, which may hold a password), and tight budgets.
fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 32,
            max_nodes: 1_000_000,
            max_events: 3_000_000,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_merge_keys: 1_000,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
    };
    o.alias_limits.max_total_replayed_events = 200_000;
    o.alias_limits.max_replay_stack_depth = 16;
    o
}

/// Empty, whitespace only, or comments only.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

fn pos(l: &Location) -> Position {
    Position::new(l.line().max(1), l.column().max(1))
}

/// The parser's wording of "expected X", made readable.
fn expected_words(e: &str) -> String {
    match e {
        "mapping start" => "a mapping (`key: value` lines, or `{key: value}`)".into(),
        "sequence start" => "a list (`[a, b]`, or `- item` lines)".into(),
        "string scalar" => "a single value (text)".into(),
        other => other.to_string(),
    }
}

/// Translate a parser error into an inventory error.
fn translate(err: &YamlError) -> InventoryError {
    let err = err.without_snippet();
    let at = err.location().filter(|l| l.line() > 0).map(|l| pos(&l));
    let mk = |kind, message: String, help: String| match at {
        Some(p) => InventoryError::at(kind, p, message, help),
        None => InventoryError::whole(kind, message, help),
    };
    match err {
        YamlError::AliasError { error, .. } => translate(error),
        YamlError::SerdeUnknownField { field, expected, .. } => {
            let help = match suggest(field, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? (keys are case-sensitive)"),
                None => "remove it, or check its indentation (it may belong one level up or down)".into(),
            };
            mk(
                ErrorKind::UnknownKey,
                format!("unknown key `{field}`; expected one of: {}", list(expected)),
                help,
            )
        }
        YamlError::SerdeMissingField { field, .. } => mk(
            ErrorKind::MissingKey,
            format!("missing key `{field}`"),
            format!("add `{field}:` here"),
        ),
        YamlError::SerdeInvalidType { unexpected, expected, .. }
        | YamlError::SerdeInvalidValue { unexpected, expected, .. } => mk(
            ErrorKind::WrongType,
            format!("wrong type: found {unexpected}, expected {}", expected_words(expected)),
            "check the value and its indentation against examples/inventory.yml".into(),
        ),
        YamlError::Unexpected { expected, .. } => mk(
            ErrorKind::WrongType,
            format!("wrong type: expected {}", expected_words(expected)),
            "check the value and its indentation against examples/inventory.yml".into(),
        ),
        YamlError::InvalidScalar { ty, .. } => mk(
            ErrorKind::WrongType,
            format!("wrong type: expected {}", expected_words(ty)),
            "check the value against examples/inventory.yml".into(),
        ),
        YamlError::InvalidBooleanStrict { .. } => mk(
            ErrorKind::WrongType,
            "wrong type: expected `true` or `false`".into(),
            "write `true` or `false` (yes/no/on/off are not accepted)".into(),
        ),
        YamlError::NullIntoString { .. } => mk(
            ErrorKind::WrongType,
            "a value is missing here: expected text, found nothing".into(),
            "write the value after the colon, or remove the key".into(),
        ),
        YamlError::DuplicateMappingKey { key, .. } => mk(
            ErrorKind::DuplicateKey,
            match key {
                Some(k) => format!("`{k}` appears twice in the same mapping"),
                None => "a key appears twice in the same mapping".into(),
            },
            "keep one of the two entries (merge their contents)".into(),
        ),
        YamlError::MultipleDocuments { .. } => mk(
            ErrorKind::Syntax,
            "more than one YAML document (`---`) in the inventory; expected exactly one".into(),
            "remove the `---` separator and merge the documents".into(),
        ),
        YamlError::Budget { breach: BudgetBreach::Documents { .. }, .. } => mk(
            ErrorKind::Syntax,
            "more than one YAML document (`---`) in the inventory; expected exactly one".into(),
            "remove the `---` separator and merge the documents".into(),
        ),
        YamlError::Budget { breach, .. } => mk(
            ErrorKind::TooLarge,
            format!("the inventory exceeds a safety limit of the YAML parser ({breach:?})"),
            "split it into several inventories, use host ranges, or use fewer anchors and aliases".into(),
        ),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. } => mk(
            ErrorKind::TooLarge,
            "aliases (`*name`) expand to too much data; the inventory is refused".into(),
            "write the settings once under `defaults:` or a group's `settings:` instead of repeating aliases".into(),
        ),
        YamlError::UnknownAnchor { .. } => mk(
            ErrorKind::Syntax,
            "alias refers to an anchor that is not defined before it".into(),
            "define `&name` before using `*name`".into(),
        ),
        other => mk(
            ErrorKind::Syntax,
            format!("invalid YAML: {}", strip_location(&other.to_string())),
            "fix the YAML syntax here (indentation, quotes, brackets)".into(),
        ),
    }
}

/// The parser appends " at line L, column C"; we print the place ourselves.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> InventoryError {
        match parse_yaml(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn empty_file_is_refused() {
        for text in ["", "   \n", "# only a comment\n", "---\n"] {
            let e = err(text);
            assert_eq!(e.kind, ErrorKind::EmptyFile, "{text:?}");
            assert!(e.message.contains("the inventory is empty"));
        }
    }

    #[test]
    fn unknown_top_key_lists_valid_keys() {
        let e = err("hosts:\n  a: {}\nhsts: {}\n");
        assert_eq!(e.kind, ErrorKind::UnknownKey);
        assert_eq!((e.line(), e.column()), (3, 1));
        assert!(e.message.contains("unknown key `hsts`"), "{}", e.message);
        assert!(e.message.contains("`hosts`, `groups`"), "{}", e.message);
        assert!(e.help.contains("did you mean `hosts`?"), "{}", e.help);
    }

    #[test]
    fn unknown_host_key_lists_setting_keys() {
        let e = err("hosts:\n  dc01: { adress: 10.0.0.5 }\n");
        assert_eq!(e.kind, ErrorKind::UnknownKey);
        assert_eq!((e.line(), e.column()), (2, 11));
        assert!(e.message.contains("`address`, `port`, `transport`"), "{}", e.message);
        assert!(e.help.contains("did you mean `address`?"));
    }

    #[test]
    fn wrong_type_says_what_was_expected() {
        let e = err("hosts: [a, b]\n");
        assert_eq!(e.kind, ErrorKind::WrongType);
        assert_eq!((e.line(), e.column()), (1, 8));
        assert!(e.message.contains("expected a mapping"), "{}", e.message);

        let e = err("hosts:\n  a: {}\nallow_plaintext_passwords: yes\n");
        assert_eq!(e.kind, ErrorKind::WrongType);
        assert_eq!((e.line(), e.column()), (3, 28));
        assert!(e.message.contains("expected `true` or `false`"));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let e = err("hosts:\n  a: {}\n  a: {}\n");
        assert_eq!(e.kind, ErrorKind::DuplicateKey);
        assert_eq!((e.line(), e.column()), (3, 3));
    }

    #[test]
    fn one_document_only() {
        let e = err("hosts:\n  a: {}\n---\nhosts:\n  b: {}\n");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.line(), 3);
        assert!(e.message.starts_with("more than one YAML document"), "{}", e.message);
    }

    #[test]
    fn syntax_error_has_a_place() {
        let e = err("hosts: {\n");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.line(), 1);
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }

    #[test]
    fn alias_bombs_are_bounded() {
        // "Billion laughs": each level refers ten times to the previous one.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let r = serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(&text, options());
        let e = match r {
            Ok(_) => panic!("the alias bomb was accepted"),
            Err(e) => translate(&e),
        };
        assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    }

    #[test]
    fn oversized_text_is_refused() {
        let text = "#".repeat(MAX_FILE_BYTES + 1);
        assert_eq!(err(&text).kind, ErrorKind::TooLarge);
    }
}
