//! What a host or group name may contain, so that every name can be
//! written in a `--limit` pattern unambiguously. Pure.

/// Names that mean something in `--limit` and cannot be used.
pub const RESERVED: &[&str] = &["all"];

/// `None` if `name` is a usable host or group name, else why not.
pub fn problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if RESERVED.contains(&name.to_lowercase().as_str()) {
        return Some(format!("`{name}` is reserved (it means every host in `--limit`)"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Some(format!("`{name}` contains `{c}`; names may contain letters, digits, `-`, `_` and `.`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(problem("ws-001.corp.example"), None);
        assert_eq!(problem("10.0.0.5"), None);
        assert_eq!(problem("FINANCE_ws"), None);
        assert!(problem("fe80::1").is_some_and(|m| m.contains("contains `:`")));
        assert!(problem("a b").is_some());
        assert!(problem("a,b").is_some());
        assert!(problem("ws*").is_some());
        assert!(problem("All").is_some_and(|m| m.contains("reserved")));
        assert!(problem("").is_some());
    }
}
