//! The one error type of the inventory: which file, where in it (line and
//! column), what is wrong and what was expected, and how to fix it.
//!
//! Messages never contain a secret: they name the key or the source, never a
//! password.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in the inventory file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    pub fn new(line: u64, column: u64) -> Self {
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What kind of problem an [`InventoryError`] reports, for callers and tests
/// that need to tell them apart without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Read,
    /// The file, or its structure, exceeds a safety limit.
    TooLarge,
    /// The file has no content (or only comments).
    EmptyFile,
    /// Not valid YAML.
    Syntax,
    /// A key that this place does not accept.
    UnknownKey,
    /// A value of the wrong shape (a list where a mapping was expected...).
    WrongType,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// A required key is missing.
    MissingKey,
    /// A group with no hosts and no children.
    EmptyGroup,
    /// A host range (`ws-[001:250]`) that is malformed or expands to nothing.
    BadRange,
    /// More hosts than one inventory may hold.
    TooManyHosts,
    /// A host or group name with characters that cannot be used.
    BadName,
    /// `children` that lead back to the group itself.
    ChildCycle,
    /// `children` naming a group that is not defined.
    UnknownGroup,
    /// `credential:` naming a credential that is not defined.
    UnknownCredential,
    /// A credential with no password source, or more than one.
    CredentialSource,
    /// An inline `password:` without `allow_plaintext_passwords: true`.
    PlaintextRefused,
    /// One host given two different values for one setting.
    Conflict,
    /// A host with no credential at any level.
    NoCredential,
    /// A duration that cannot be read.
    BadDuration,
    /// A port that is not 1-65535.
    BadPort,
    /// A value outside its allowed set (transport, auth, cert_validation,
    /// proxy, address).
    BadValue,
    /// Basic authentication over plain HTTP without the explicit opt-in.
    InsecureBasic,
    /// A `--limit` pattern (or one of its terms) that matches no host.
    LimitNoMatch,
    /// A `--limit` pattern that cannot be read.
    LimitSyntax,
}

/// An inventory that cannot be used, with everything needed to fix it.
///
/// Displayed as `FILE:LINE:COLUMN: MESSAGE` followed by `  help: FIX`
/// (without `LINE:COLUMN` when the problem has no place in the file, such
/// as an unreadable file or a `--limit` that matches nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InventoryError {
    pub kind: ErrorKind,
    /// The inventory file.
    pub path: PathBuf,
    /// Where in the file, when the problem has a place.
    pub position: Option<Position>,
    /// What is wrong, and what was expected.
    pub message: String,
    /// How to fix it (may be empty).
    pub help: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

impl InventoryError {
    /// An error at a place in the file. The path is filled in by
    /// [`InventoryError::in_file`] at the top of the parse.
    pub(crate) fn at(
        kind: ErrorKind,
        position: Position,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        InventoryError {
            kind,
            path: PathBuf::new(),
            position: Some(position),
            message: message.into(),
            help: help.into(),
        }
    }

    /// An error about the file as a whole (or the `--limit`).
    pub(crate) fn whole(kind: ErrorKind, message: impl Into<String>, help: impl Into<String>) -> Self {
        InventoryError {
            kind,
            path: PathBuf::new(),
            position: None,
            message: message.into(),
            help: help.into(),
        }
    }

    /// Set the file this error is about.
    pub(crate) fn in_file(mut self, path: &Path) -> Self {
        self.path = path.to_path_buf();
        self
    }

    /// Line of the error (0 when it has no place), for tests and tools.
    pub fn line(&self) -> u64 {
        self.position.map_or(0, |p| p.line)
    }

    /// Column of the error (0 when it has no place).
    pub fn column(&self) -> u64 {
        self.position.map_or(0, |p| p.column)
    }
}

/// The candidate closest to `word` if it is close enough to be a likely typo
/// (for "did you mean" hints).
pub(crate) fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over chars where swapping two neighbours counts as one
/// edit (optimal string alignment), so `prot` is one edit from `port`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `a, b, c` with each item in backticks.
pub(crate) fn list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_position() {
        let e = InventoryError::at(ErrorKind::BadPort, Position::new(3, 9), "bad port", "use 5985")
            .in_file(Path::new("inv.yml"));
        assert_eq!(e.to_string(), "inv.yml:3:9: bad port\n  help: use 5985");
        let e = InventoryError::whole(ErrorKind::Read, "cannot read", "").in_file(Path::new("x.yml"));
        assert_eq!(e.to_string(), "x.yml: cannot read");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("prot", ["port", "proxy", "auth"]), Some("port"));
        assert_eq!(suggest("transprot", ["transport", "auth"]), Some("transport"));
        assert_eq!(suggest("zzzz", ["port", "auth"]), None);
    }
}
