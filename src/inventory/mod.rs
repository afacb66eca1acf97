//! The inventory: hosts, groups, settings and credentials, from YAML.
//!
//! [`load`] reads a file; [`parse_str`] does the same from text (no I/O
//! except what the caller did). Both validate everything, expand host
//! ranges, merge settings (defaults < parent group < child group < host),
//! and apply a `--limit` pattern. The format is documented in
//! `examples/inventory.yml`. Passwords are resolved later, on demand, by
//! [`secrets::SecretResolver`].

mod credentials;
pub mod error;
mod groups;
mod hosts;
mod layer;
pub mod limit;
mod merge;
pub mod model;
mod names;
mod parse;
mod range;
mod raw;
mod resolve;
pub mod secrets;
mod values;

#[cfg(test)]
mod tests;

pub use error::{ErrorKind, InventoryError, Position};
pub use hosts::MAX_HOSTS;
pub use model::*;
pub use parse::MAX_FILE_BYTES;
pub use values::{format_duration, parse_duration};

use std::io::Read;
use std::path::Path;

/// Read, validate and limit the inventory at `path`.
pub fn load(path: &Path, limit: Option<&str>) -> Result<Inventory, InventoryError> {
    let text = read(path).map_err(|e| e.in_file(path))?;
    parse_str(&text, path, limit)
}

/// Validate and limit inventory `text`. `path` is used in messages and to
/// resolve relative file paths (`ca_file`, `password_file`, `laps_csv`)
/// against its directory; it is not read.
pub fn parse_str(text: &str, path: &Path, limit: Option<&str>) -> Result<Inventory, InventoryError> {
    let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
    let raw = parse::parse_yaml(text).map_err(|e| e.in_file(path))?;
    let resolved = resolve::resolve(raw, base_dir).map_err(|e| e.in_file(path))?;
    let total_hosts = resolved.hosts.len();
    let hosts = match limit {
        None => resolved.hosts,
        Some(pattern) => {
            let keep = limit::select(pattern, &resolved.hosts).map_err(|e| limit_error(&e).in_file(path))?;
            let mut all: Vec<Option<ResolvedHost>> = resolved.hosts.into_iter().map(Some).collect();
            keep.into_iter().filter_map(|i| all.get_mut(i).and_then(Option::take)).collect()
        }
    };
    Ok(Inventory {
        path: path.to_path_buf(),
        hosts,
        credentials: resolved.credentials,
        total_hosts,
        inline_passwords: resolved.inline_passwords,
    })
}

fn limit_error(e: &limit::LimitError) -> InventoryError {
    let (kind, help) = match e {
        limit::LimitError::Syntax { .. } => (
            ErrorKind::LimitSyntax,
            "terms are host names, group names, `all` or globs (`ws-0*`), separated by `,` or `:`; `!x` excludes, `&x` intersects",
        ),
        limit::LimitError::NoMatch { .. } => (
            ErrorKind::LimitNoMatch,
            "check the spelling; `cauterize inventory -i FILE` lists every host and its groups",
        ),
        limit::LimitError::Empty { .. } => {
            (ErrorKind::LimitNoMatch, "the exclusions (`!`) or intersections (`&`) remove every host")
        }
    };
    InventoryError::whole(kind, e.to_string(), help)
}

/// The file's text, refusing what is too large or not UTF-8.
fn read(path: &Path) -> Result<String, InventoryError> {
    let cannot = |e: std::io::Error| {
        InventoryError::whole(
            ErrorKind::Read,
            format!("cannot read the inventory: {e}"),
            "check the path given to `-i` and its permissions",
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(InventoryError::whole(
            ErrorKind::TooLarge,
            format!("the inventory is larger than {MAX_FILE_BYTES} bytes"),
            "split it into several inventories, or use host ranges (`ws-[001:250]`) instead of listing every host",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|e| {
        InventoryError::whole(
            ErrorKind::Read,
            format!("the inventory is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
            "save the file as UTF-8 (PowerShell: `Set-Content -Encoding utf8`)",
        )
    })
}
