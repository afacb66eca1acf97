//! The `credentials:` section: each entry checked for a user and exactly
//! one password source, relative paths taken from the inventory's
//! directory, and inline passwords refused unless the inventory opts in.
//! Inline passwords go to a side table that never prints them. Pure.

use super::error::{list, suggest, ErrorKind, InventoryError, Position};
use super::layer::pos_of;
use super::model::{CredentialSpec, InlinePasswords, SecretSource};
use super::raw::{ArgvValue, OrderedMap, RawCredential, SOURCE_KEYS};
use serde_saphyr::Spanned;
use std::path::Path;

/// Validate every credential. `allow_plaintext` is the value of
/// `allow_plaintext_passwords`.
pub fn build(
    raw: Option<OrderedMap<Option<Spanned<RawCredential>>>>,
    allow_plaintext: bool,
    base_dir: &Path,
) -> Result<(Vec<CredentialSpec>, InlinePasswords), InventoryError> {
    let mut specs = Vec::new();
    let mut inline = InlinePasswords::default();
    for (name, entry) in raw.map(|m| m.0).unwrap_or_default() {
        let name_pos = pos_of(&name);
        let name = name.value;
        let Some(entry) = entry else {
            return Err(InventoryError::at(
                ErrorKind::MissingKey,
                name_pos,
                format!("credential `{name}` is empty: expected `user:` and one password source"),
                format!("add `user:` and one of: {}", list(SOURCE_KEYS)),
            ));
        };
        let at = pos_of(&entry);
        let raw = entry.value;
        let user = match &raw.user {
            Some(u) if !u.value.trim().is_empty() => u.value.trim().to_string(),
            _ => {
                return Err(InventoryError::at(
                    ErrorKind::MissingKey,
                    raw.user.as_ref().map_or(at, pos_of),
                    format!("credential `{name}` has no `user`"),
                    "add `user: NAME` (and `domain: DOMAIN` for a domain account)",
                ));
            }
        };
        let domain = raw.domain.as_ref().map(|d| d.value.trim().to_string()).unwrap_or_default();
        let source = source(&name, raw, at, allow_plaintext, base_dir, &mut inline)?;
        specs.push(CredentialSpec { name, user, domain, source });
    }
    Ok((specs, inline))
}

/// The one password source of a credential.
fn source(
    name: &str,
    raw: RawCredential,
    at: Position,
    allow_plaintext: bool,
    base_dir: &Path,
    inline: &mut InlinePasswords,
) -> Result<SecretSource, InventoryError> {
    let mut found: Vec<(&str, Position)> = Vec::new();
    let mut note = |key: &'static str, p: Option<Position>| {
        if let Some(p) = p {
            found.push((key, p));
        }
    };
    note("password_env", raw.password_env.as_ref().map(pos_of));
    note("password_file", raw.password_file.as_ref().map(pos_of));
    note("password_command", raw.password_command.as_ref().map(pos_of));
    note("password_prompt", raw.password_prompt.as_ref().filter(|p| p.value).map(pos_of));
    note("laps_csv", raw.laps_csv.as_ref().map(pos_of));
    note("password", raw.password.as_ref().map(pos_of));
    match found.as_slice() {
        [] => {
            return Err(InventoryError::at(
                ErrorKind::CredentialSource,
                at,
                format!("credential `{name}` has no password source: expected exactly one of {}", list(SOURCE_KEYS)),
                "for example `password_env: CAUTERIZE_PASSWORD`, or `password_prompt: true` to be asked once per run",
            ));
        }
        [_] => {}
        [(k1, p1), (k2, p2), ..] => {
            return Err(InventoryError::at(
                ErrorKind::CredentialSource,
                *p2,
                format!(
                    "credential `{name}` has {} password sources (`{k1}` at line {} and `{k2}` at line {}): expected exactly one",
                    found.len(),
                    p1.line,
                    p2.line
                ),
                "keep one source; define a second credential if you need both",
            ));
        }
    }
    let nonempty = |s: &Spanned<String>, what: &str| -> Result<String, InventoryError> {
        let v = s.value.trim();
        if v.is_empty() {
            Err(InventoryError::at(
                ErrorKind::BadValue,
                pos_of(s),
                format!("credential `{name}`: empty {what}"),
                format!("write the {what}"),
            ))
        } else {
            Ok(v.to_string())
        }
    };
    if let Some(s) = &raw.password_env {
        let var = nonempty(s, "environment variable name")?;
        if var.contains(['=', '\0']) {
            return Err(InventoryError::at(
                ErrorKind::BadValue,
                pos_of(s),
                format!("credential `{name}`: `{var}` is not an environment variable name"),
                "write only the name of the variable, e.g. `password_env: CAUTERIZE_PASSWORD`",
            ));
        }
        return Ok(SecretSource::Env { var });
    }
    if let Some(s) = &raw.password_file {
        return Ok(SecretSource::File { path: base_dir.join(nonempty(s, "file path")?) });
    }
    if let Some(s) = &raw.laps_csv {
        return Ok(SecretSource::Laps { csv: base_dir.join(nonempty(s, "CSV path")?) });
    }
    if let Some(s) = &raw.password_command {
        return match &s.value {
            ArgvValue::List(argv) if argv.first().is_some_and(|p| !p.trim().is_empty()) => {
                Ok(SecretSource::Command { argv: argv.clone() })
            }
            ArgvValue::List(_) => Err(InventoryError::at(
                ErrorKind::BadValue,
                pos_of(s),
                format!("credential `{name}`: `password_command` is empty: expected [program, argument, ...]"),
                "for example `password_command: [op, read, \"op://IR/ir-admin/password\"]`",
            )),
            ArgvValue::Str(_) => Err(InventoryError::at(
                ErrorKind::WrongType,
                pos_of(s),
                format!(
                    "credential `{name}`: `password_command` must be a list [program, argument, ...], not a string; it is run without a shell"
                ),
                "split the command into its words, e.g. `password_command: [pass, show, corp/ir-admin]`",
            )),
        };
    }
    if raw.password_prompt.is_some() {
        return Ok(SecretSource::Prompt);
    }
    if let Some(s) = raw.password {
        if !allow_plaintext {
            return Err(InventoryError::at(
                ErrorKind::PlaintextRefused,
                pos_of(&s),
                format!(
                    "credential `{name}` has its password written in the inventory; this is refused because inventories are copied, \
                     committed and attached to tickets, and the password would travel with them"
                ),
                "use `password_env`, `password_file`, `password_command` or `password_prompt: true`; \
                 if you accept the risk (a lab), set `allow_plaintext_passwords: true` at the top of the inventory",
            ));
        }
        inline.insert(name, s.value.0);
        return Ok(SecretSource::Inline);
    }
    Err(InventoryError::at(ErrorKind::CredentialSource, at, format!("credential `{name}` has no usable password source"), ""))
}

/// Refuse a `credential:` that names no credential.
pub fn check_reference(name: &str, at: Position, specs: &[CredentialSpec]) -> Result<(), InventoryError> {
    if specs.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let names: Vec<&str> = specs.iter().map(|c| c.name.as_str()).collect();
    let help = match suggest(name, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if names.is_empty() => "define it under `credentials:`".to_string(),
        None => format!("use one of {}, or define `{name}` under `credentials:`", list(&names)),
    };
    Err(InventoryError::at(
        ErrorKind::UnknownCredential,
        at,
        format!("credential `{name}` is not defined: expected a name from `credentials:`"),
        help,
    ))
}
