//! Case-insensitive names, compared the way Windows compares registry key
//! names, value names, file paths, service and task names: by a simple
//! one-to-one upper-case mapping of each character (so `Пётр` equals
//! `ПЁТР`), while the original spelling is kept for display.
//!
//! `CiKey` is an owned, cheaply clonable (`Arc<str>`) name used as a map
//! key; `CiStr` is its borrowed form, so maps keyed by `CiKey` can be
//! searched with a plain `&str` without allocating.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Windows' upper-case folding of one character: one character to one
/// character (`ß` stays `ß`, unlike `str::to_uppercase`).
pub fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Case-insensitive order of two strings: the order of their [`fold`]ed
/// characters. ASCII bytes fold alone; at the first non-ASCII byte on
/// either side (a character boundary on both, as everything before it was
/// equal ASCII) the rest is compared character by character. Every
/// lookup in the host model's name maps comes here.
pub fn cmp_ci(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    // Paths in one map share long beginnings spelled alike: skip eight
    // identical ASCII bytes at a time (equal bytes fold equally).
    while i + 8 <= x.len() && i + 8 <= y.len() {
        let p = u64::from_ne_bytes(x[i..i + 8].try_into().expect("eight bytes"));
        let q = u64::from_ne_bytes(y[i..i + 8].try_into().expect("eight bytes"));
        if p != q || p & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    while i < x.len() && i < y.len() {
        let (p, q) = (x[i], y[i]);
        if !p.is_ascii() || !q.is_ascii() {
            return a[i..].chars().map(fold).cmp(b[i..].chars().map(fold));
        }
        match p.to_ascii_uppercase().cmp(&q.to_ascii_uppercase()) {
            Ordering::Equal => i += 1,
            other => return other,
        }
    }
    x.len().cmp(&y.len())
}

/// Case-insensitive equality of two strings.
pub fn eq_ci(a: &str, b: &str) -> bool {
    CiStr::new(a) == CiStr::new(b)
}

/// Case-insensitive `starts_with`.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    let mut it = s.chars();
    for p in prefix.chars() {
        match it.next() {
            Some(c) if fold(c) == fold(p) => {}
            _ => return false,
        }
    }
    true
}

/// Upper-cased copy (for display in a canonical form, e.g. `HKLM`).
pub fn upper(s: &str) -> String {
    s.chars().map(fold).collect()
}

/// A borrowed case-insensitive string.
#[repr(transparent)]
pub struct CiStr(str);

impl CiStr {
    pub fn new(s: &str) -> &CiStr {
        // SAFETY: CiStr is repr(transparent) over str.
        unsafe { &*(s as *const str as *const CiStr) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn folded(&self) -> impl Iterator<Item = char> + '_ {
        self.0.chars().map(fold)
    }
}

impl PartialEq for CiStr {
    fn eq(&self, other: &Self) -> bool {
        cmp_ci(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for CiStr {}
impl PartialOrd for CiStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CiStr {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_ci(&self.0, &other.0)
    }
}
impl Hash for CiStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for c in self.folded() {
            state.write_u32(c as u32);
        }
    }
}
impl fmt::Debug for CiStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An owned case-insensitive name that keeps its original spelling.
#[derive(Clone)]
pub struct CiKey(Arc<str>);

impl CiKey {
    pub fn new(s: &str) -> CiKey {
        CiKey(Arc::from(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn as_ci(&self) -> &CiStr {
        CiStr::new(&self.0)
    }
}

impl From<&str> for CiKey {
    fn from(s: &str) -> Self {
        CiKey::new(s)
    }
}
impl From<String> for CiKey {
    fn from(s: String) -> Self {
        CiKey(Arc::from(s))
    }
}
impl Borrow<CiStr> for CiKey {
    fn borrow(&self) -> &CiStr {
        self.as_ci()
    }
}
impl PartialEq for CiKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_ci() == other.as_ci()
    }
}
impl Eq for CiKey {}
impl PartialOrd for CiKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CiKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_ci().cmp(other.as_ci())
    }
}
impl Hash for CiKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ci().hash(state)
    }
}
impl fmt::Debug for CiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}
impl fmt::Display for CiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn folding_is_case_insensitive_and_keeps_spelling() {
        assert!(eq_ci("Software\\Microsoft", "SOFTWARE\\microsoft"));
        assert!(eq_ci("Пётр", "ПЁТР"));
        assert!(!eq_ci("Run", "RunOnce"));
        let mut m = BTreeMap::new();
        m.insert(CiKey::new("OneDrive"), 1);
        assert_eq!(m.get(CiStr::new("ONEDRIVE")), Some(&1));
        assert_eq!(m.keys().next().unwrap().as_str(), "OneDrive");
        assert!(starts_with_ci("C:\\Users\\Bob", "c:\\users\\"));
        assert!(!starts_with_ci("C:\\Use", "c:\\users"));
    }
}
