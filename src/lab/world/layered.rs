//! A copy-on-write ordered map: an immutable base shared between hosts
//! (`Arc`) under a small per-host overlay of changes (new or changed
//! entries, and removals of base entries). Ten thousand clean hosts share
//! one copy of the stock Windows files; each host pays only for what
//! differs. Iteration merges both layers in key order, so it behaves
//! exactly like one `BTreeMap`.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

use super::ci::{CiKey, CiStr};

#[derive(Debug, Clone)]
pub struct Layered<V: Clone> {
    base: Arc<BTreeMap<CiKey, V>>,
    /// `None`: removed from the base.
    over: BTreeMap<CiKey, Option<V>>,
    len: usize,
}

impl<V: Clone> Default for Layered<V> {
    fn default() -> Self {
        Layered {
            base: Arc::new(BTreeMap::new()),
            over: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<V: Clone> Layered<V> {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Entries held by this map alone (not shared).
    pub fn overlay_len(&self) -> usize {
        self.over.len()
    }
    /// Move every change into a new shared base (used to build templates).
    pub fn freeze(&mut self) {
        let merged: BTreeMap<CiKey, V> = self.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.base = Arc::new(merged);
        self.over.clear();
    }

    pub fn get_key_value(&self, k: &CiStr) -> Option<(&CiKey, &V)> {
        match self.over.get_key_value(k) {
            Some((key, Some(v))) => Some((key, v)),
            Some((_, None)) => None,
            None => self.base.get_key_value(k),
        }
    }
    pub fn get(&self, k: &CiStr) -> Option<&V> {
        self.get_key_value(k).map(|(_, v)| v)
    }
    pub fn contains_key(&self, k: &CiStr) -> bool {
        self.get(k).is_some()
    }
    /// Mutable access; a base entry is copied into the overlay first.
    pub fn get_mut(&mut self, k: &CiStr) -> Option<&mut V> {
        if !self.over.contains_key(k) {
            let (bk, bv) = self.base.get_key_value(k)?;
            self.over.insert(bk.clone(), Some(bv.clone()));
        }
        self.over.get_mut(k)?.as_mut()
    }
    /// Insert or replace; an existing entry keeps its key spelling.
    pub fn insert(&mut self, k: CiKey, v: V) -> Option<V> {
        let key = match self.over.get_key_value(k.as_ci()) {
            Some((ok, _)) => ok.clone(),
            None => self
                .base
                .get_key_value(k.as_ci())
                .map_or(k, |(bk, _)| bk.clone()),
        };
        let old = self.get(key.as_ci()).cloned();
        self.over.insert(key, Some(v));
        if old.is_none() {
            self.len += 1;
        }
        old
    }
    pub fn remove(&mut self, k: &CiStr) -> Option<V> {
        let old = self.get(k).cloned()?;
        match self.base.get_key_value(k) {
            Some((bk, _)) => {
                let bk = bk.clone();
                self.over.insert(bk, None);
            }
            None => {
                self.over.remove(k);
            }
        }
        self.len -= 1;
        Some(old)
    }

    /// Entries with keys after `start`, in order.
    pub fn range_from<'a>(
        &'a self,
        start: Bound<&CiStr>,
    ) -> impl Iterator<Item = (&'a CiKey, &'a V)> + use<'a, V> {
        Merge {
            a: self
                .base
                .range::<CiStr, _>((start, Bound::Unbounded))
                .peekable(),
            b: self
                .over
                .range::<CiStr, _>((start, Bound::Unbounded))
                .peekable(),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (&CiKey, &V)> {
        self.range_from(Bound::Unbounded)
    }
}

struct Merge<'a, V, A, B>
where
    A: Iterator<Item = (&'a CiKey, &'a V)>,
    B: Iterator<Item = (&'a CiKey, &'a Option<V>)>,
    V: 'a,
{
    a: Peekable<A>,
    b: Peekable<B>,
}

impl<'a, V, A, B> Iterator for Merge<'a, V, A, B>
where
    A: Iterator<Item = (&'a CiKey, &'a V)>,
    B: Iterator<Item = (&'a CiKey, &'a Option<V>)>,
{
    type Item = (&'a CiKey, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_b = match (self.a.peek(), self.b.peek()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((ka, _)), Some((kb, _))) => match ka.cmp(kb) {
                    std::cmp::Ordering::Less => false,
                    std::cmp::Ordering::Greater => true,
                    std::cmp::Ordering::Equal => {
                        self.a.next(); // overridden by the overlay
                        true
                    }
                },
            };
            if take_b {
                let (k, v) = self.b.next().expect("peeked");
                if let Some(v) = v {
                    return Some((k, v));
                }
            } else {
                return self.a.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_behaves_like_one_map() {
        let mut m: Layered<u32> = Layered::default();
        for (i, k) in ["a", "c", "e", "g"].iter().enumerate() {
            m.insert(CiKey::new(k), i as u32);
        }
        m.freeze();
        assert_eq!(m.overlay_len(), 0);
        let shared = m.clone();
        m.insert(CiKey::new("B"), 10);
        *m.get_mut(CiStr::new("C")).unwrap() = 11;
        assert_eq!(m.remove(CiStr::new("e")), Some(2));
        assert_eq!(m.remove(CiStr::new("e")), None);
        m.insert(CiKey::new("G"), 13); // keeps spelling "g"
        let all: Vec<(String, u32)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(
            all,
            [
                ("a".into(), 0),
                ("B".into(), 10),
                ("c".into(), 11),
                ("g".into(), 13)
            ]
        );
        assert_eq!(m.len(), 4);
        let from_c: Vec<u32> = m
            .range_from(Bound::Excluded(CiStr::new("b")))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(from_c, [11, 13]);
        // the other host is untouched
        let other: Vec<u32> = shared.iter().map(|(_, v)| *v).collect();
        assert_eq!(other, [0, 1, 2, 3]);
        m.insert(CiKey::new("e"), 20);
        assert_eq!(m.get(CiStr::new("E")), Some(&20));
        assert_eq!(m.len(), 5);
    }
}
